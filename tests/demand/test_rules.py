"""Learn's inferred-failure rules against labels: a hand-worked log."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from systemic.demand.rules import ANY_RULE, rule_agreement


def _t(day: int) -> dt.datetime:
    return dt.datetime(2025, 3, day, 9, tzinfo=dt.UTC)


def _log() -> pl.DataFrame:
    # a: two repair contacts 3 days apart (the second is a repeat contact);
    # b: one contact; c: contact, closure, contact 2 days later (re-contact after closure);
    # d: two benefits contacts (the second a repeat).
    rows = [
        ("e1", "a", "Housing", "report repair", "contact", "repair", _t(1)),
        ("e2", "a", "Housing", "report repair", "contact", "repair", _t(4)),
        ("e3", "b", "Housing", "report repair", "contact", "repair", _t(2)),
        ("e4", "c", "Waste", "missed bin", "contact", "bin", _t(1)),
        ("e5", "c", "Waste", "closed", "closure", None, _t(2)),
        ("e6", "c", "Waste", "missed bin", "contact", "other", _t(4)),
        ("e7", "d", "Benefits", "claim", "contact", "claim", _t(1)),
        ("e8", "d", "Benefits", "claim", "contact", "claim", _t(10)),
    ]
    cols = ["event_id", "person_id", "service", "activity", "kind", "demand_type", "timestamp"]
    return pl.DataFrame(rows, schema=cols, orient="row").with_columns(
        pl.lit("value").alias("demand_class")  # recorded classes are set aside
    )


def test_precision_and_recall_by_hand() -> None:
    labels = pl.DataFrame(
        {
            "id": ["e1", "e2", "e3", "e4", "e6", "e7", "e8"],
            "demand_class": ["value", "failure", "failure", "value", "failure", "value", "value"],
        }
    )
    t = {r["rule"]: r for r in rule_agreement(_log(), labels).iter_rows(named=True)}
    # repeat_contact fires on e2 (failure) and e8 (value): precision 1/2; recall 1/3
    assert t["repeat_contact"]["fired"] == 2
    assert t["repeat_contact"]["true_positive"] == 1
    assert t["repeat_contact"]["precision"] == pytest.approx(0.5)
    assert t["repeat_contact"]["recall"] == pytest.approx(1 / 3)
    # re-contact after closure fires on e6 only (failure)
    assert t["recontact_after_closure"]["fired"] == 1
    assert t["recontact_after_closure"]["precision"] == pytest.approx(1.0)
    # any rule: e2, e6, e8 fired; e2 and e6 are failure; e3 (failure) is missed
    assert t[ANY_RULE]["fired"] == 3
    assert t[ANY_RULE]["precision"] == pytest.approx(2 / 3)
    assert t[ANY_RULE]["recall"] == pytest.approx(2 / 3)
    assert t[ANY_RULE]["labelled"] == 7
    assert t[ANY_RULE]["precision_low"] < 2 / 3 < t[ANY_RULE]["precision_high"]


def test_needs_the_id_column() -> None:
    with pytest.raises(ValueError, match="no 'ref' column"):
        rule_agreement(
            _log(), pl.DataFrame({"id": ["e1"], "demand_class": ["value"]}), id_column="ref"
        )
