"""Where our concepts coincide with process mining, we agree with pm4py.

pm4py (dev-only reference, pandas path) is run on the same events as
``systemic.learn`` on five real logs (sepsis, hospital, receipt, and the help
desk and BPIC 2013 incident logs): every case duration to the microsecond and
``median_case_days``, activity variants and their counts, the activity-level
directly-follows graph, start and end activities. Cases are ``case_id``
alone: on the help desk log a customer is the person and some tickets hold
several customers' events, and they still agree.

Needs (episodes) have no pm4py counterpart: they are checked against an
independent computation written here, a plain Python walk over each
person's events.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict

import pandas as pd
import polars as pl
import pytest

from systemic.data import open_dataset
from systemic.learn import LearnResult, learn

from .conftest import RealDatasets, pm4py_frame

pm4py = pytest.importorskip("pm4py")

LOG_NAMES = ["sepsis", "hospital", "receipt", "helpdesk", "bpic2013"]


class Pairs:
    """(our result, pm4py's frame) per log, computed on first use."""

    def __init__(self, datasets: RealDatasets) -> None:
        self.datasets = datasets
        self.cache: dict[str, tuple[LearnResult, pd.DataFrame]] = {}

    def __getitem__(self, log: str) -> tuple[LearnResult, pd.DataFrame]:
        if log not in self.cache:
            path = self.datasets[log]
            self.cache[log] = (learn(path), pm4py_frame(path))
        return self.cache[log]


@pytest.fixture(scope="module")
def both(real_datasets: RealDatasets) -> Pairs:
    return Pairs(real_datasets)


@pytest.mark.parametrize("log", LOG_NAMES)
def test_case_durations_and_median_agree_to_the_microsecond(log: str, both: Pairs) -> None:
    from pm4py.statistics.traces.generic.pandas import case_statistics

    result, df = both[log]
    theirs = case_statistics.get_cases_description(df)
    ours = dict(
        zip(
            result.cases["case_id"].to_list(),
            result.cases["duration"].dt.total_microseconds().to_list(),
            strict=True,
        )
    )
    assert set(ours) == set(theirs)
    assert len(ours) > 1000
    mismatched = [k for k, d in theirs.items() if round(d["caseDuration"] * 1_000_000) != ours[k]]
    assert mismatched == []
    # and the durations are not all trivial
    assert sum(1 for v in ours.values() if v > 0) > 0.5 * len(ours)
    s = result.summary()
    assert s.case_ids_mapped and s.cases == len(theirs)
    median_days = statistics.median(d["caseDuration"] for d in theirs.values()) / 86_400
    assert s.median_case_days == pytest.approx(median_days, abs=1e-9)
    durations = sorted(pm4py.get_all_case_durations(df))
    assert s.p90_case_days * 86_400 == pytest.approx(pd.Series(durations).quantile(0.9), rel=1e-9)


def test_help_desk_tickets_spanning_customers_are_one_case(both: Pairs) -> None:
    result, df = both["helpdesk"]
    spanning = result.cases.filter(pl.col("people") > 1)
    assert spanning.height == result.summary().cases_spanning_people > 0
    # each is one pm4py case: its events, first to last, across the customers
    counts = df.groupby("case:concept:name").size()
    for case_id, events in spanning.select("case_id", "events").rows():
        assert counts[case_id] == events


def independent_needs(events: pl.DataFrame, gap_days: float = 90) -> dict[str, list[float]]:
    """Need durations (days) per person, by a plain walk over each person's events.

    A new need starts after a gap of more than ``gap_days``, unless a case
    (with a case id) that began before the gap has an event after it.
    """
    gap = dt.timedelta(days=gap_days)
    by_person: dict[str, list[tuple]] = defaultdict(list)
    case_end: dict[tuple[str, str], dt.datetime] = {}
    for person, case, ts, src, row in events.iter_rows():
        by_person[person].append((ts, src, row, case))
        if case is not None:
            key = (person, case)
            case_end[key] = max(case_end.get(key, ts), ts)
    needs: dict[str, list[float]] = {}
    for person, rows in by_person.items():
        rows.sort(key=lambda r: (r[0], r[1], r[2]))
        out: list[float] = []
        start = prev = rows[0][0]
        open_until = None
        for ts, _, _, case in rows:
            if ts - prev > gap and (open_until is None or open_until < ts):
                out.append((prev - start).total_seconds() / 86_400)
                start = ts
            end = case_end.get((person, case)) if case is not None else None
            if end is not None and (open_until is None or end > open_until):
                open_until = end
            prev = ts
        out.append((prev - start).total_seconds() / 86_400)
        needs[person] = out
    return needs


@pytest.mark.parametrize("log", LOG_NAMES)
def test_needs_agree_with_an_independent_computation(
    log: str, both: Pairs, real_datasets: RealDatasets
) -> None:
    result, _ = both[log]
    events = (
        open_dataset(real_datasets[log])
        .events(["person_id", "case_id", "timestamp", "source", "source_row"])
        .collect()
    )
    theirs = independent_needs(events)
    ours: dict[str, list[float]] = defaultdict(list)
    for person, days in (
        result.episodes.sort("person_id", "episode").select("person_id", "end_to_end_days").rows()
    ):
        ours[person].append(days)
    assert set(ours) == set(theirs)
    for person, days in theirs.items():
        assert ours[person] == pytest.approx(days, abs=1e-6), person
    flat = [d for v in theirs.values() for d in v]
    s = result.summary()
    assert s.needs == len(flat)
    assert s.median_need_days == pytest.approx(statistics.median(flat), abs=1e-6)


def test_needs_without_case_ids_follow_the_gap_alone(real_datasets: RealDatasets) -> None:
    # the hospital log with its case ids removed: patients' records cut at 90-day gaps
    from systemic.learn import learn_events

    events = open_dataset(real_datasets["hospital"]).events().collect()
    bare = events.with_columns(case_id=pl.lit(None, pl.String))
    result = learn_events(bare)
    theirs = independent_needs(
        bare.select("person_id", "case_id", "timestamp", "source", "source_row")
    )
    flat = sorted(d for v in theirs.values() for d in v)
    assert sorted(result.episodes["end_to_end_days"].to_list()) == pytest.approx(flat, abs=1e-6)
    s = result.summary()
    assert len(flat) > s.people  # the gap cuts records into several needs
    assert (s.case_ids_mapped, s.cases, s.median_case_days) == (False, None, None)


@pytest.mark.parametrize("log", LOG_NAMES)
def test_activity_variants_and_counts_agree(log: str, both: Pairs) -> None:
    result, df = both[log]
    theirs = pm4py.get_variants(df)
    theirs = {tuple(k): (v if isinstance(v, int) else len(v)) for k, v in theirs.items()}
    ours = {
        tuple(v): c
        for v, c in zip(
            result.activity_variants["variant"].to_list(),
            result.activity_variants["count"].to_list(),
            strict=True,
        )
    }
    assert ours == theirs
    assert result.activity_variants["count"].sum() == df["case:concept:name"].nunique()


@pytest.mark.parametrize("log", LOG_NAMES)
def test_activity_dfg_agrees(log: str, both: Pairs) -> None:
    result, df = both[log]
    dfg, starts, ends = pm4py.discover_dfg(df)
    edges = result.activity_map.edges
    ours = {
        (a, b): c
        for a, b, c in zip(
            edges["from"].to_list(), edges["to"].to_list(), edges["count"].to_list(), strict=True
        )
    }
    assert ours == dict(dfg)
    assert dict(result.activity_map.starts.rows()) == dict(starts)
    assert dict(result.activity_map.ends.rows()) == dict(ends)


@pytest.mark.parametrize("log", ["sepsis", "receipt", "helpdesk"])
def test_activity_dfg_times_agree(log: str, both: Pairs) -> None:
    result, df = both[log]
    perf = pm4py.discover_performance_dfg(df)[0]
    edges = result.activity_map.edges
    for a, b, med, mean in edges.select("from", "to", "median_hours", "mean_hours").rows():
        assert med * 3600 == pytest.approx(perf[(a, b)]["median"], abs=1e-3)
        assert mean * 3600 == pytest.approx(perf[(a, b)]["mean"], rel=1e-9, abs=1e-3)
