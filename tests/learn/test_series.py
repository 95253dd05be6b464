"""learn's weekly and monthly series: hand-worked counts, the record's edges, suppression."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from systemic.learn import LearnConfig, learn_events, write_outputs
from systemic.learn.series import (
    ALL_LOCALITIES,
    RECORD_END,
    RECORD_START,
    learn_series,
    published_series,
)

MONDAY = dt.datetime(2025, 1, 6, 9, tzinfo=dt.UTC)


def at(days: float) -> dt.datetime:
    return MONDAY + dt.timedelta(days=days)


def town(rows: list[tuple[str, str, float, str]]) -> pl.DataFrame:
    """(person, locality, day, demand_class) contacts to one service."""
    return pl.DataFrame(
        {
            "person_id": [r[0] for r in rows],
            "locality": [r[1] for r in rows],
            "timestamp": [at(r[2]) for r in rows],
            "demand_class": [r[3] for r in rows],
            "service": ["Housing"] * len(rows),
            "activity": ["call"] * len(rows),
            "kind": ["contact"] * len(rows),
        }
    )


def test_weekly_counts_by_hand_with_empty_weeks_as_zeros() -> None:
    # Week 1 (from 6 Jan): North a,b value; South c failure. Week 2: nothing.
    # Week 3: North a failure, b failure; South c value.
    rows = [
        ("a", "North", 0, "value"),
        ("b", "North", 1, "value"),
        ("c", "South", 2, "failure"),
        ("a", "North", 14, "failure"),
        ("b", "North", 15, "failure"),
        ("c", "South", 16, "value"),
    ]
    weekly = learn_series(learn_events(town(rows)))["week"]
    get = {(r["locality"], r["period"]): r for r in weekly.iter_rows(named=True)}
    weeks = [dt.date(2025, 1, 6), dt.date(2025, 1, 13), dt.date(2025, 1, 20)]
    assert sorted(weekly["period"].unique().to_list()) == weeks
    assert [get[("North", w)]["contacts"] for w in weeks] == [2, 0, 2]
    assert [get[("North", w)]["failure_contacts"] for w in weeks] == [0, 0, 2]
    assert [get[(ALL_LOCALITIES, w)]["contacts"] for w in weeks] == [3, 0, 3]
    assert get[(ALL_LOCALITIES, weeks[0])]["failure_demand_share"] == 1 / 3
    assert get[("South", weeks[1])]["failure_demand_share"] is None  # 0 / 0: no share
    # The all-localities rows add up the localities, column by column.
    counts = ["contacts", "failure_contacts", "needs_ended", "cases_ended"]
    by_loc = (
        weekly.filter(pl.col("locality") != ALL_LOCALITIES)
        .group_by("period")
        .agg(pl.col(counts).sum())
    )
    total = weekly.filter(pl.col("locality") == ALL_LOCALITIES).select("period", *counts)
    assert by_loc.sort("period").equals(total.sort("period"))


def test_needs_timed_only_when_whole_and_edge_periods_marked() -> None:
    # Episode gap 7 days; the record runs from day 0 to day 135.
    # p1: one need days 0-3 (began at the record's start: cannot be timed).
    # p2: needs of 3 days from day 30 and day 60 (whole: timed).
    # p3: a need from day 130 to 135 (may still be open: not timed, not known ended).
    rows = [
        ("p1", "North", 0, "value"), ("p1", "North", 3, "value"),
        ("p2", "North", 30, "value"), ("p2", "North", 33, "value"),
        ("p2", "North", 60, "value"), ("p2", "North", 63, "value"),
        ("p3", "North", 130, "value"), ("p3", "North", 135, "value"),
    ]  # fmt: skip
    result = learn_events(town(rows), LearnConfig(episode_gap_days=7))
    weekly = learn_series(result)["week"].filter(pl.col("locality") == "North")
    timed = weekly.filter(pl.col("needs_timed") > 0)
    assert timed["needs_timed"].sum() == 2
    assert timed["end_to_end_days_per_need"].to_list() == [3.0, 3.0]
    assert weekly["needs_ended"].sum() == 3  # p3's need may still be open
    # The start reaches one gap (7 days) plus the 95th percentile of timed needs (3 days).
    first_whole = MONDAY.date() + dt.timedelta(days=10)
    edge = dict(zip(weekly["period"], weekly["edge"], strict=True))
    assert edge[dt.date(2025, 1, 6)] == RECORD_START
    assert all(e != RECORD_START for p, e in edge.items() if p >= first_whole)
    # The end: any period ending after day 128 (135 less one gap) may hold open needs.
    last_safe = (MONDAY + dt.timedelta(days=128)).date()
    for period, mark in edge.items():
        ends = period + dt.timedelta(days=7)
        assert (mark == RECORD_END) == (ends > last_safe)


def test_published_series_suppress_counts_and_the_figures_built_on_them() -> None:
    rows = [(f"n{i}", "North", i % 5, "failure" if i % 2 else "value") for i in range(20)]
    rows += [("s1", "South", 1, "failure"), ("s2", "South", 2, "value")]
    result = learn_events(town(rows))
    published = published_series(result)["series_weekly"]
    south = published.filter(pl.col("locality") == "South").row(0, named=True)
    assert south["contacts"] == "<5" and south["failure_contacts"] == "<5"
    assert south["failure_demand_share"] is None
    north = published.filter(pl.col("locality") == "North").row(0, named=True)
    # North's count could be worked out as the total less South's: hidden too.
    assert north["contacts"] == "*"
    assert north["failure_demand_share"] is None
    assert published.filter(pl.col("locality") == ALL_LOCALITIES)["contacts"][0] == "22"


def test_write_outputs_writes_published_and_row_level_series(tmp_path: Path) -> None:
    rows = [(f"n{i}", "North", i, "value") for i in range(10)]
    write_outputs(learn_events(town(rows)), tmp_path, charts=False)
    for name in ("series_weekly", "series_monthly"):
        assert (tmp_path / "tables" / f"{name}.csv").exists()
        assert (tmp_path / "row_level" / f"{name}.parquet").exists()
    monthly = pl.read_parquet(tmp_path / "row_level" / "series_monthly.parquet")
    assert monthly.filter(pl.col("locality") == ALL_LOCALITIES)["contacts"].to_list() == [10]


def test_needs_cut_short_by_the_record_edges_are_not_timed() -> None:
    # (Moved from the report's own weekly series, which this module replaces.)
    # Records run from day 0 to day 70; the episode gap is 14 days. Only needs
    # starting on or after day 14 and ending on or before day 56 are whole.
    spans = [(0, 3), (2, 16), (14, 17), (20, 30), (40, 56), (50, 60), (65, 70)]
    rows = []
    for i, (a, b) in enumerate(spans):
        rows += [(f"p{i}", "A", a, "value"), (f"p{i}", "A", b, "failure")]
        if b - a > 14:  # a step inside the gap keeps the need whole
            rows.append((f"p{i}", "A", (a + b) / 2, "value"))
    result = learn_events(town(rows), LearnConfig(episode_gap_days=14))
    weekly = learn_series(result)["week"].filter(pl.col("locality") == "A")
    timed = weekly.filter(pl.col("needs_timed") > 0)
    assert timed["period"].to_list() == [at(14).date(), at(28).date(), at(56).date()]
    assert timed["end_to_end_days_per_need"].to_list() == [3.0, 10.0, 16.0]
    # The demand side is untouched: every contact counts.
    assert weekly["contacts"].sum() == len(rows)
    assert weekly["failure_contacts"].sum() == len(spans)
