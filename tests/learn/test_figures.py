"""Hand-worked tests of learn's headline figures (issue 14).

Each expected number is worked out by hand from the events listed, in the
comments beside it (an event is person ``p``'s unless it names another).
Definitions: the table in docs/learn.md.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from systemic.data import inspect_dataset, open_dataset, write_dataset
from systemic.data.cases import cases_spanning_people
from systemic.learn import LearnConfig, annotate_events, learn, learn_events
from systemic.learn.outputs import write_outputs
from systemic.learn.partition import partition_of
from tests.learn.conftest import events, unit_costs_table

# --- 2. pieces of work (activity instances) ---------------------------------------------


def test_lifecycle_transitions_of_one_piece_count_once() -> None:
    ev = events(
        [
            # one call: SCHEDULE, START, COMPLETE -> one piece, one contact, one cost
            {"activity": "call", "lifecycle": "SCHEDULE", "day": 0},
            {"activity": "call", "lifecycle": "START", "day": 0.1},
            {"activity": "call", "lifecycle": "COMPLETE", "day": 0.2},
            # a second call, START and COMPLETE (no schedule: not planned)
            {"activity": "call", "lifecycle": "start", "day": 3},
            {"activity": "call", "lifecycle": "complete", "day": 3.1},
            # a COMPLETE with no START: a piece of its own, as in pm4py
            {"activity": "assess", "lifecycle": "complete", "day": 4},
        ]
    ).with_columns(
        kind=pl.when(pl.col("activity") == "call")
        .then(pl.lit("contact"))
        .otherwise(pl.lit("assessment")),
        demand_type=pl.lit("repairs"),
    )
    a = annotate_events(ev)
    assert a["piece_end"].to_list() == [False, False, True, False, True, True]
    assert a["is_contact"].to_list() == [False, False, True, False, True, False]
    assert a["planned"].to_list() == [True, True, True, False, False, False]
    # the second call repeats the first (same type, 3 days): one repeat, not four
    assert a["repeat_contact"].to_list() == [False, False, False, False, True, False]
    r = learn_events(ev, unit_costs=unit_costs_table())
    s = r.summary()
    assert (s.events, s.pieces, s.contacts) == (6, 3, 2)
    assert s.total_cost == pytest.approx(10 + 10 + 100)  # not 5 x 10 + 100
    assert (s.costed_events, s.uncosted_events) == (3, 0)
    # the activity map still sees every event, as pm4py does on the raw log
    assert r.activity_map.edges.filter(pl.col("from") == "call")["count"].sum() == 5


def test_working_and_waiting_time_where_start_and_complete_exist() -> None:
    ev = events(
        [
            {"case_id": "c", "activity": "call", "lifecycle": "start", "day": 0},
            {
                "case_id": "c",
                "activity": "call",
                "lifecycle": "complete",
                "day": 1,
            },
            {
                "case_id": "c",
                "activity": "assess",
                "lifecycle": "start",
                "day": 3,
            },
            {
                "case_id": "c",
                "activity": "assess",
                "lifecycle": "complete",
                "day": 5,
            },
            # a piece with no START has no working time
            {
                "case_id": "c",
                "activity": "note",
                "lifecycle": "complete",
                "day": 5,
            },
            # another case of q: no START at all
            {"person_id": "q", "case_id": "d", "activity": "note", "day": 0},
            {"person_id": "q", "case_id": "d", "activity": "note", "day": 4},
        ]
    )
    r = learn_events(ev)
    c = r.cases.filter(pl.col("case_id") == "c").row(0, named=True)
    # working 1 + 2 = 3 of 5 days; waiting 2 days
    assert (c["timed_pieces"], c["working_days"], c["case_days"]) == (2, 3.0, 5.0)
    assert r.cases.filter(pl.col("case_id") == "d")["working_days"].to_list() == [None]
    s = r.summary()
    assert s.timed_pieces == 2
    assert s.case_flow_efficiency == pytest.approx(3 / 5)  # case d has no timed work
    assert s.need_flow_efficiency == pytest.approx(3 / 5)


def test_event_ids_pair_overlapping_instances() -> None:
    ev = events(
        [
            {
                "activity": "visit",
                "event_id": "e1",
                "lifecycle": "start",
                "day": 0,
            },
            {
                "activity": "visit",
                "event_id": "e2",
                "lifecycle": "start",
                "day": 1,
            },
            {
                "activity": "visit",
                "event_id": "e2",
                "lifecycle": "complete",
                "day": 2,
            },
            {
                "activity": "visit",
                "event_id": "e1",
                "lifecycle": "complete",
                "day": 3,
            },
        ]
    )
    a = annotate_events(ev)
    # e1 and e2 are two pieces, each ending on its own COMPLETE
    assert a["piece_end"].to_list() == [False, False, True, True]
    # own costs on a piece's events add up, counted once on its last event
    costed = annotate_events(ev.with_columns(cost=pl.Series([1.0, 2.0, 3.0, None])))
    assert costed["cost"].to_list() == [None, None, 5.0, 1.0]


def test_non_standard_transitions_are_pieces_of_their_own() -> None:
    # BPIC 2013 style statuses: not XES transitions, so nothing is grouped
    ev = events(
        [
            {"activity": "Accepted", "lifecycle": "In Progress", "day": 0},
            {"activity": "Accepted", "lifecycle": "In Progress", "day": 1},
        ]
    )
    assert annotate_events(ev)["piece_end"].to_list() == [True, True]


# --- 3. classes wherever the user puts them ----------------------------------------------


def test_classes_on_non_contact_events_are_failure_work() -> None:
    ev = events(
        [
            {
                "activity": "receipt",
                "kind": "contact",
                "demand_class": "value",
                "day": 0,
            },
            {"activity": "check", "kind": "assessment", "day": 1},
            {
                "activity": "T03 adjust",
                "kind": "other",
                "demand_class": "failure",
                "demand_type": "rework",
                "day": 2,
            },
            {
                "activity": "T03 adjust",
                "kind": "other",
                "demand_class": "failure",
                "demand_type": "rework",
                "day": 3,
            },
            {
                "person_id": "q",
                "activity": "receipt",
                "kind": "contact",
                "demand_class": "failure",
                "day": 0,
            },
        ]
    )
    s = learn_events(ev, unit_costs=unit_costs_table()).summary()
    # contacts: 2 classified (1 value, 1 failure) -> failure demand 1/2
    assert (s.contacts, s.classified_contacts, s.failure_contacts) == (2, 2, 1)
    assert s.failure_demand_share == pytest.approx(0.5)
    # work inside the service: 3 pieces, 2 classed failure -> failure work 2/3
    assert (s.work_pieces, s.failure_work_events) == (3, 2)
    assert s.failure_work_share == pytest.approx(2 / 3)
    assert s.cost_of_failure_work == pytest.approx(2 * 50)
    r = learn_events(ev, unit_costs=unit_costs_table())
    assert r.demand.failure_work_pareto.select("demand_type", "events").rows() == [("rework", 2)]
    assert r.demand.pareto.select("demand_type", "contacts").rows() == [("receipt", 1)]


# --- 5. inference as signals -------------------------------------------------------------


def _signal_log() -> pl.DataFrame:
    return events(
        [
            {
                "service": "Housing",
                "activity": "call",
                "kind": "contact",
                "demand_type": "repair",
                "day": 0,
            },
            {
                "service": "Housing",
                "activity": "close",
                "kind": "closure",
                "day": 1,
            },
            # same type 2 days later: repeat (and after a closure)
            {
                "service": "Housing",
                "activity": "call",
                "kind": "contact",
                "demand_type": "repair",
                "day": 2,
            },
            # new service after a hand-off, other type, 4 days after the closure
            {
                "service": "GP",
                "activity": "consult",
                "kind": "contact",
                "demand_type": "health",
                "day": 5,
            },
            # a booked follow-up of the same type 3 days later: planned, never a repeat
            {
                "service": "GP",
                "activity": "follow-up consult",
                "kind": "contact",
                "demand_type": "health",
                "day": 8,
            },
        ]
    )


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (LearnConfig(), [None, None, "repeat_contact", "recontact_after_closure", None]),
        (
            LearnConfig(repeat_contact=False),
            [None, None, "recontact_after_closure", "recontact_after_closure", None],
        ),
        (LearnConfig(recontact_after_closure=False), [None, None, "repeat_contact", None, None]),
        (
            LearnConfig(recontact_after_closure=False, contact_after_hand_off=True),
            [None, None, "repeat_contact", "contact_after_hand_off", None],
        ),
        (LearnConfig(recontact_window_days=3), [None, None, "repeat_contact", None, None]),
        (LearnConfig(repeat_window_days=1, recontact_after_closure=False), [None] * 5),
        (
            LearnConfig(repeat_contact=False, recontact_after_closure=False),
            [None] * 5,
        ),
    ],
)
def test_each_rule_switches_on_and_off_with_its_window(
    config: LearnConfig, expected: list[str | None]
) -> None:
    assert annotate_events(_signal_log(), config)["failure_signal"].to_list() == expected


def test_planned_follow_ups_are_never_repeats() -> None:
    a = annotate_events(_signal_log())
    assert a["planned"].to_list() == [False, False, False, False, True]
    assert a["repeat_contact"].to_list() == [False, False, True, False, False]
    # without the planned pattern, the follow-up is a repeat of the consult (3 days)
    b = annotate_events(_signal_log(), LearnConfig(planned_pattern=None))
    assert b["failure_signal"].to_list()[-1] == "repeat_contact"


def test_inferred_value_is_labelled_inferred_and_headline_is_classified_only() -> None:
    r = learn_events(_signal_log(), LearnConfig(infer_value_demand=True))
    s = r.summary()
    # 4 contacts, none classified: no classified share; 2 inferred failure,
    # the first contact of the need inferred value, the follow-up unknown
    assert (s.contacts, s.classified_contacts, s.failure_demand_share) == (4, 0, None)
    assert (s.inferred_failure_contacts, s.inferred_value_contacts) == (2, 1)
    assert s.inferred_failure_share == pytest.approx(2 / 4)
    assert (s.unknown_contacts, s.unknown_share) == (1, pytest.approx(1 / 4))
    by_class = {(a, b): n for a, b, n, _ in r.demand.by_class.rows()}
    assert by_class[("inferred", "value")] == 1 and by_class[("classified", "value")] == 0
    off = learn_events(_signal_log()).summary()
    assert (off.inferred_value_contacts, off.unknown_contacts) == (0, 2)


# --- 6. costs ----------------------------------------------------------------------------


def test_cost_of_failure_demand_includes_the_work_it_causes() -> None:
    ev = events(
        [
            # need 1 of p: value contact (10), failure contact (10), assessment (100), other (50)
            {
                "activity": "call",
                "kind": "contact",
                "demand_class": "value",
                "day": 0,
            },
            {
                "activity": "call again",
                "kind": "contact",
                "demand_class": "failure",
                "day": 5,
            },
            {"activity": "assess", "kind": "assessment", "day": 6},
            {"activity": "fix", "kind": "other", "day": 7},
            # need 2 of p (200 days later): not caused by need 1's failure
            {"activity": "assess", "kind": "assessment", "day": 207},
            # q: no failure
            {
                "person_id": "q",
                "activity": "call",
                "kind": "contact",
                "demand_class": "value",
                "day": 0,
            },
        ]
    )
    s = learn_events(ev, unit_costs=unit_costs_table()).summary()
    # failure contact 10 + assessment 100 + fix 50 = 160 (not the value call, not need 2)
    assert s.cost_of_failure_demand == pytest.approx(160)
    assert s.total_cost == pytest.approx(10 + 10 + 100 + 50 + 100 + 10)


def test_hand_off_cost_comes_from_the_table_per_hand_off() -> None:
    ev = events(
        [
            {"service": "A", "activity": "call", "kind": "contact", "day": 0},
            {
                "service": "B",
                "activity": "assess",
                "kind": "assessment",
                "day": 1,
            },
            {"service": "A", "activity": "call", "kind": "contact", "day": 2},
        ]
    )
    # two hand-offs (A>B, B>A) at 7.5 each; never the 100 of the assessment
    s = learn_events(ev, unit_costs=unit_costs_table(hand_off_cost=7.5)).summary()
    assert s.cost_of_hand_offs == pytest.approx(15.0)
    assert s.total_cost == pytest.approx(10 + 100 + 10 + 15)
    # a table without hand_off_cost leaves hand-offs uncosted, not zero
    assert learn_events(ev, unit_costs=unit_costs_table()).summary().cost_of_hand_offs is None


def test_uncosted_events_are_counted_not_costed_at_a_default() -> None:
    ev = events(
        [
            {"activity": "call", "kind": "contact", "day": 0},
            {"activity": "scan", "kind": "intervention", "day": 1},
            {"activity": "scan", "kind": "intervention", "day": 2},
        ]
    )
    s = learn_events(ev, unit_costs=unit_costs_table()).summary()
    assert (s.costed_events, s.uncosted_events) == (1, 2)
    assert s.total_cost == pytest.approx(10)


# --- 1 and 7. cases and needs ------------------------------------------------------------


def test_a_need_never_cuts_through_a_case() -> None:
    ev = events(
        [
            {"case_id": "c1", "activity": "open", "day": 0},
            {"case_id": "c2", "activity": "other", "day": 100},
            {"case_id": "c1", "activity": "close", "day": 200},
            {"case_id": "c3", "activity": "new", "day": 400},
        ]
    )
    r = learn_events(ev)
    # gaps of 100, 100 and 200 days; c1 is open until day 200, so only the last cuts
    assert r.episodes["end_to_end_days"].to_list() == [200.0, 0.0]
    s = r.summary()
    assert (s.cases, s.needs, s.case_ids_mapped) == (3, 2, True)
    assert s.median_case_days == pytest.approx(0.0)  # 200, 0, 0
    # without case ids, each gap over 90 days starts a new need and cases are not given
    r2 = learn_events(ev.with_columns(case_id=pl.lit(None, pl.String)))
    assert r2.episodes.height == 4
    assert (r2.summary().cases, r2.summary().median_case_days) == (None, None)


def _spanning_town(tmp_path: Path) -> Path:
    # case k: person a on day 0, person b on day 10 (one case, two people)
    ev = events(
        [
            {"person_id": "a", "case_id": "k", "activity": "apply", "day": 0},
            {"person_id": "b", "case_id": "k", "activity": "decide", "day": 10},
            {"person_id": "a", "case_id": "m", "activity": "apply", "day": 1},
            {"person_id": "b", "case_id": "n", "activity": "apply", "day": 2},
        ]
    ).drop("source", "source_row")
    return write_dataset(ev, tmp_path / "town", source_name="spanning").path


def test_a_case_spanning_two_people_is_one_case(tmp_path: Path) -> None:
    path = _spanning_town(tmp_path)
    # a and b fall in different partitions of two
    frame = pl.DataFrame({"person_id": ["a", "b"]})
    assert frame.select(partition_of(2))["person_id"].n_unique() == 2
    for parts in (1, 2):
        r = learn(path, partitions=parts)
        k = r.cases.filter(pl.col("case_id") == "k").row(0, named=True)
        assert (k["people"], k["case_days"], k["events"]) == (2, 10.0, 2)
        assert r.summary().cases_spanning_people == 1
        edges = r.activity_map.edges.select("from", "to", "count").rows()
        assert edges == [("apply", "decide", 1)]
    assert cases_spanning_people(open_dataset(path).events()).rows() == [("k", 2)]
    assert inspect_dataset(path).cases_spanning_people == 1


# --- 8. the team's own view --------------------------------------------------------------


def test_row_level_holds_unsuppressed_tables_published_tables_do_not(tmp_path: Path) -> None:
    path = _spanning_town(tmp_path)
    out = tmp_path / "out"
    written = write_outputs(learn(path), out, charts=False)
    team = pl.read_parquet(out / "row_level" / "activity_edges.parquet")
    published = pl.read_parquet(out / "tables" / "activity_edges.parquet")
    assert team.select("from", "to", "count").rows() == [("apply", "decide", 1)]
    assert published["count"].to_list() == ["<5"]
    for name in ("activity_variants", "activity_starts", "activity_ends", "cases"):
        assert (out / "row_level" / f"{name}.parquet").exists()
    body = json.loads((out / "summary.json").read_text())
    assert body == written
    assert body["cases"] == "<5" and body["median_case_days"] is None


def test_inspect_shows_cases_spanning_people(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from systemic.cli import app

    res = CliRunner().invoke(app, ["inspect", str(_spanning_town(tmp_path))])
    assert res.exit_code == 0, res.output
    spanning = re.search(r"cases spanning people\s*│\s*(\d+)", res.output)
    assert spanning and spanning.group(1) == "1", res.output
    cases = re.search(r"│ cases\s*│\s*(\d+)", res.output)
    assert cases and cases.group(1) == "3", res.output
