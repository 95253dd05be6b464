"""Event-log output: a simulated town written as a dataset in the foundation schema."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from systemic.data import EVENT_SCHEMA, open_dataset
from systemic.data.schema import DEMAND_CLASSES, KINDS, PREVENTABLE
from systemic.simulate import event_frame, load_scenario, run, write_events
from tests.simulate.scenarios import town


def _result(seed: int = 4):
    data = town(
        people=2000,
        years=1.5,
        experiments=[{"locality": "North", "start": "2025-09-01", "preset": "local"}],
    )
    return run(load_scenario(data), seed=seed, events=True)


def test_dataset_round_trip_in_the_foundation_schema(tmp_path: Path) -> None:
    r = _result()
    ds = write_events(r, tmp_path / "town")
    events = open_dataset(tmp_path / "town").events().collect()
    assert list(events.columns)[: len(EVENT_SCHEMA)] == list(EVENT_SCHEMA)
    assert events.height == ds.manifest.accepted > 0
    assert set(events["kind"].unique()) <= set(KINDS)
    assert set(events["demand_class"].unique()) <= set(DEMAND_CLASSES)
    assert set(events["preventable"].unique()) <= set(PREVENTABLE)
    assert events["locality"].null_count() == 0 and events["cost"].null_count() == 0
    assert set(events["locality"].unique()) == {"North", "South"}
    # Person ids look like pseudonyms: 16 hex digits, one per resident.
    people = ds.people()
    assert people is not None and people.height == 2000
    assert people["person_id"].str.contains(r"^[0-9a-f]{16}$").all()
    assert people["person_id"].n_unique() == 2000
    assert set(events["person_id"].unique()) <= set(people["person_id"])
    assert ds.manifest.sources[0].notes["seed"] == 4


def test_events_agree_with_the_aggregates() -> None:
    r = _result()
    f = event_frame(r)
    totals = r.totals()
    contacts = f.filter(kind="contact")
    assert contacts.height == totals["contacts"].sum()
    failure = contacts.filter(demand_class="failure").height
    assert failure == totals["failure_demand"].sum()
    assert f.filter(kind="referral").height == totals["hand_offs"].sum()
    assert f.filter(activity="A&E attendance").height == totals["crises"].sum()
    assert f.filter(activity="intervention start").height == totals["admissions"].sum()
    assert f.filter(kind="closure").height == totals["closures"].sum()
    assert abs(
        f["cost"].sum()
        - (
            totals["cost_contact"].sum()
            + totals["cost_assessment"].sum()
            + totals["cost_crisis"].sum()
        )
    ) < 1e-6 * max(1.0, f["cost"].sum())
    # The switched locality's contacts go to its locality team after the switch.
    team = f.filter(service="locality team")
    assert set(team["locality"].unique()) == {"North"}


def test_each_case_reads_in_order() -> None:
    f = event_frame(_result())
    # Within a case, the first event is a contact and times never go backwards.
    by_time = f.sort("timestamp", maintain_order=True)
    first = by_time.group_by("case_id", maintain_order=True).first()
    assert set(first["kind"].unique()) == {"contact"}
    # The rules' order holds in every case: assessed before starting, started before closing.
    cases = f.group_by("case_id", maintain_order=True).agg(pl.col("activity"))
    checked = 0
    for acts in cases["activity"].to_list():
        if "intervention start" in acts:
            start = acts.index("intervention start")
            assert "assessment" in acts[:start]
            checked += 1
        for i, act in enumerate(acts):
            if act.startswith("closed"):
                assert "intervention start" in acts[:i]
    assert checked > 50


def test_same_seed_same_events() -> None:
    a, b = event_frame(_result(7)), event_frame(_result(7))
    assert a.equals(b)
