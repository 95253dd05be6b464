"""Unit costs: matching order, validation errors, cost of failure and hand-offs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from systemic.learn import UnitCostError, UnitCostTable, learn_events, load_unit_costs

ROOT = Path(__file__).resolve().parents[2]

TABLE = {
    "currency": "GBP",
    "year": 2023,
    "hand_off_cost": 5.0,
    "cost": [
        {"kind": "contact", "cost": 3.0, "source": "s", "year": 2023},
        {"service": "Housing", "kind": "contact", "cost": 4.0, "source": "s", "year": 2023},
        {"activity": "assess", "cost": 100.0, "source": "s", "year": 2023},
        {"service": "GP", "activity": "assess", "cost": 40.0, "source": "s", "year": 2023},
        {"service": "GP", "cost": 30.0, "source": "s", "year": 2023},
    ],
}


def t(day: int) -> dt.datetime:
    return dt.datetime(2024, 1, day, tzinfo=dt.UTC)


def test_most_specific_row_wins_and_own_cost_wins_over_all() -> None:
    ev = pl.DataFrame(
        {
            "person_id": ["p"] * 6,
            "service": ["Benefits", "Housing", "Adult care", "GP", "GP", "GP"],
            "activity": ["call", "call", "assess", "assess", "visit", "visit"],
            "timestamp": [t(d) for d in range(1, 7)],
            "kind": ["contact", "contact", "other", "other", "other", "other"],
            "demand_class": ["failure", "value", "unknown", "unknown", "unknown", "unknown"],
            "cost": [None, None, None, None, None, 7.5],
        }
    )
    table = UnitCostTable.model_validate(TABLE)
    r = learn_events(ev, unit_costs=table)
    # by hand: 3 (kind) + 4 (service+kind) + 100 (activity) + 40 (service+activity)
    # + 30 (service) + 7.5 (own) = 184.5; hand-offs: Benefits>Housing>Adult care>GP = 3 x 5
    s = r.summary()
    assert s.total_cost == pytest.approx(184.5 + 15)
    # the failure contact is the need's first event: it and all work after it
    assert s.cost_of_failure_demand == pytest.approx(184.5)
    # hand-offs cost the table's hand_off_cost each, never the next event
    assert s.cost_of_hand_offs == pytest.approx(3 * 5.0)
    assert (s.costed_events, s.uncosted_events) == (6, 0)
    assert (s.currency, s.price_year) == ("GBP", 2023)
    by_service = dict(r.costs.by_service.select("service", "cost").rows())
    assert by_service["GP"] == pytest.approx(40 + 30 + 7.5 + 5)


def test_without_a_table_costs_are_unknown_not_zero() -> None:
    ev = pl.DataFrame(
        {"person_id": ["p"], "service": ["S"], "activity": ["a"], "timestamp": [t(1)]}
    )
    s = learn_events(ev).summary()
    assert s.total_cost is None and s.cost_of_failure_demand is None and s.costed_events == 0
    assert s.cost_of_hand_offs is None and s.uncosted_events == 1


def test_errors_name_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "costs.toml"
    bad.write_text('currency = "GBP"\nyear = 2023\n[[cost]]\nkind = "contact"\ncost = -1\n')
    with pytest.raises(UnitCostError, match=r"cost\[0\]\.cost") as exc:
        load_unit_costs(bad)
    assert "cost[0].source" in str(exc.value)
    assert str(bad) in str(exc.value)
    nothing = tmp_path / "none.toml"
    nothing.write_text('currency = "GBP"\nyear = 2023\n[[cost]]\ncost = 1\nsource="x"\nyear=2023\n')
    with pytest.raises(UnitCostError, match="at least one of service, kind or activity"):
        load_unit_costs(nothing)
    with pytest.raises(UnitCostError, match="not found"):
        load_unit_costs(tmp_path / "missing.toml")


def test_shipped_example_table_cites_a_source_and_year_on_every_row() -> None:
    table = load_unit_costs(ROOT / "examples" / "unit_costs" / "uk_health_social_care.toml")
    assert table.currency == "GBP"
    assert len(table.cost) >= 8
    for row in table.cost:
        assert row.source and 2000 <= row.year <= 2030
    sources = " ".join(r.source for r in table.cost)
    assert "PSSRU" in sources and "National Cost Collection" in sources
