"""The weekly series behind the report's SPC charts, checked by hand."""

from __future__ import annotations

import datetime as dt

import polars as pl

from systemic.report.measures_section import weekly_series

MON = dt.datetime(2025, 1, 6, tzinfo=dt.UTC)


def _at(days: float) -> dt.datetime:
    return MON + dt.timedelta(days=days)


def _demand(weeks: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "locality": ["A"] * weeks,
            "week": [(MON + dt.timedelta(weeks=i)).date() for i in range(weeks)],
            "contacts": [10] * weeks,
            "failure": [5] * weeks,
        }
    )


def test_episodes_cut_short_by_the_edges_of_the_records_are_left_out():
    # Records run from day 0 to day 70; the episode gap is 14 days.
    # (start, end): only episodes starting on or after day 14 and ending on or
    # before day 56 are known to be whole.
    spans = [(0, 3), (2, 16), (14, 17), (20, 30), (40, 56), (50, 60), (65, 70)]
    episodes = pl.DataFrame(
        {
            "locality": ["A"] * len(spans),
            "start": [_at(a) for a, _ in spans],
            "end": [_at(b) for _, b in spans],
            "end_to_end_days": [float(b - a) for a, b in spans],
        }
    )
    all_weeks = weekly_series(_demand(11), episodes)
    settled = weekly_series(_demand(11), episodes, settled_days=14)
    # Without the rule every episode counts in the week it ended.
    assert all_weeks["episodes_ended"].sum() == len(spans)
    # With it: (14, 17) ends in week 2, (20, 30) in week 4, (40, 56) in week 8.
    kept = settled.filter(pl.col("episodes_ended").is_not_null())
    assert kept["week"].to_list() == [_at(14).date(), _at(28).date(), _at(56).date()]
    assert kept["median_end_to_end_days"].to_list() == [3.0, 10.0, 16.0]
    # The demand side (failure share) is untouched.
    assert settled["failure_share"].to_list() == [0.5] * 11
