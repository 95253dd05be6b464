"""Measures read as variation: weekly series per locality and their SPC charts.

From a learn result, two measures derived from purpose are built per
locality and week: the failure-demand share of contacts (a p-chart) and the
median end-to-end time of needs that ended that week (an XmR chart). A
funnel plot compares localities over the whole period.

>>> import polars as pl, datetime as dt
>>> weeks = [dt.date(2025, 1, 6) + dt.timedelta(weeks=i) for i in range(3)]
>>> demand = pl.DataFrame({"locality": ["A"] * 3, "week": weeks,
...     "contacts": [10, 12, 9], "failure": [4, 6, 3]})
>>> episodes = pl.DataFrame({"locality": ["A"] * 3, "end": [dt.datetime(2025, 1, 7)] * 3,
...     "end_to_end_days": [1.0, 3.0, 5.0]})
>>> weekly_series(demand, episodes)["median_end_to_end_days"].to_list()
[3.0, None, None]

Near the edges of the records an episode's end-to-end time is cut short: a
need that began before the first record looks younger than it is, and one
still open at the last record looks shorter. ``settled_days`` (the episode
gap) leaves those episodes out of the end-to-end series, so that the chart
shows no false rise at the start and no false fall at the end.
"""

from __future__ import annotations

import polars as pl

#: Weeks with fewer contacts than this are left out of the p-chart of a
#: locality: their share is too noisy to read and could disclose a person.
MIN_WEEKLY_CONTACTS = 5


def weekly_series(
    demand_by_locality_week: pl.DataFrame,
    episodes: pl.DataFrame,
    settled_days: float | None = None,
) -> pl.DataFrame:
    """One row per locality and week: contacts, failure contacts, share, median end-to-end days.

    ``demand_by_locality_week`` has locality, week, contacts, failure;
    ``episodes`` has locality, start, end and end_to_end_days (an episode
    counts in the week it ended). With ``settled_days``, only episodes known
    to be whole count: those that started at least that long after the first
    record and ended at least that long before the last (a later event within
    the gap would have joined the episode).
    """
    complete = episodes.filter(pl.col("locality").is_not_null())
    if settled_days is not None and complete.height:
        gap = pl.duration(microseconds=round(settled_days * 86_400e6))
        complete = complete.filter(
            (pl.col("start") >= pl.col("start").min() + gap)
            & (pl.col("end") <= pl.col("end").max() - gap)
        )
    e2e = (
        complete.with_columns(pl.col("end").dt.truncate("1w").dt.date().alias("week"))
        .group_by("locality", "week")
        .agg(
            pl.col("end_to_end_days").median().alias("median_end_to_end_days"),
            pl.len().alias("episodes_ended"),
        )
    )
    demand = demand_by_locality_week.filter(pl.col("locality").is_not_null()).select(
        "locality", pl.col("week").cast(pl.Date), "contacts", "failure"
    )
    return (
        demand.join(e2e, on=["locality", "week"], how="left", coalesce=True)
        .with_columns((pl.col("failure") / pl.col("contacts")).alias("failure_share"))
        .sort("locality", "week")
    )
