"""Where our concepts coincide with process mining, we agree with pm4py.

pm4py (dev-only reference, pandas path) is run on the same events as
``systemic.learn`` on each of the three real logs: case durations to the
microsecond, activity variants and their counts, the activity-level
directly-follows graph, start and end activities.
"""

from __future__ import annotations

import pandas as pd
import polars as pl
import pytest

from systemic.learn import LearnResult, learn

from .conftest import RealDatasets, pm4py_frame

pm4py = pytest.importorskip("pm4py")

LOG_NAMES = ["sepsis", "hospital", "receipt"]


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


def _case_key(frame: pl.DataFrame) -> pl.Series:
    return frame.select(pl.concat_str("person_id", pl.lit("|"), "case_id"))["person_id"]


@pytest.mark.parametrize("log", LOG_NAMES)
def test_case_durations_agree_to_the_microsecond(log: str, both: Pairs) -> None:
    from pm4py.statistics.traces.generic.pandas import case_statistics

    result, df = both[log]
    theirs = case_statistics.get_cases_description(df)
    ours = dict(
        zip(
            _case_key(result.cases).to_list(),
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


@pytest.mark.parametrize("log", ["sepsis", "receipt"])
def test_activity_dfg_times_agree(log: str, both: Pairs) -> None:
    result, df = both[log]
    perf = pm4py.discover_performance_dfg(df)[0]
    edges = result.activity_map.edges
    for a, b, med, mean in edges.select("from", "to", "median_hours", "mean_hours").rows():
        assert med * 3600 == pytest.approx(perf[(a, b)]["median"], abs=1e-3)
        assert mean * 3600 == pytest.approx(perf[(a, b)]["mean"], rel=1e-9, abs=1e-3)
