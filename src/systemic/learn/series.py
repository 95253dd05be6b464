"""Weekly and monthly series of learn's headline figures, per locality and overall.

What ``systemic spc --from`` and ``systemic experiment --from`` read. One row
per locality (and one for all localities together) and period, with every
period from the first record to the last (a period with no contacts is a
zero, not a missing row):

- ``contacts``, ``classified_contacts`` (contacts the services classed as
  value or failure), ``failure_contacts`` (classified failure) and
  ``failure_demand_share`` (failure contacts over classified contacts, as in
  ``summary.json``; the denominator is published beside it). Inferred
  failure is never counted here;
- ``needs_ended``: episodes of need whose last event falls in the period and
  that are known to have ended (no record within one episode gap after it);
- ``end_to_end_days_per_need``: the median end-to-end time of the needs
  ended in the period that are known to be whole (``needs_timed`` of them);
- ``cases_ended``, ``cases_timed`` and ``end_to_end_days_per_case``: the same
  for cases (a source system's own case ids).

**The record's edges.** A need that began before the first record looks
shorter than it was, and one still open at the last record has not ended. So
only needs that started at least one episode gap after the first record and
ended at least one gap before the last are timed; and a period is marked in
``edge`` when its durations cannot be complete:

- ``record start``: a need ending in the period and lasting longer than the
  99th percentile of timed needs would have begun before the record (or in
  its first gap), so long needs are missing and the median reads too short;
- ``record end``: the period ends less than one episode gap before the last
  record, so needs ending then may still be open.

``partial`` marks the first and last period when the record covers only part
of it: its counts (contacts, needs ended) are not comparable with whole
periods. Measures drop the marked periods from the series they affect
(``edge`` from durations and needs ended, ``partial`` from counts) and say so
on the chart. The published tables (:func:`published_series`) suppress small counts
like every other table; the row-level ones (:func:`learn_series`) stay with
the team.

>>> import datetime as dt, polars as pl
>>> from systemic.learn import learn_events
>>> t = lambda d: dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=d)
>>> ev = pl.DataFrame({"person_id": [f"p{i}" for i in range(30)],
...     "service": ["Housing"] * 30, "activity": ["call"] * 30, "kind": ["contact"] * 30,
...     "locality": ["North", "South"] * 15, "timestamp": [t(2 * i) for i in range(30)]})
>>> weekly = learn_series(learn_events(ev))["week"]
>>> weekly.filter(pl.col("locality") == ALL_LOCALITIES)["contacts"].sum()
30
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import polars as pl

from systemic.learn.result import LearnResult

Period = Literal["week", "month"]

#: The periods series are written for, with the Polars truncation of each.
PERIODS: dict[str, str] = {"week": "1w", "month": "1mo"}

#: The locality label of the rows that add up every locality.
ALL_LOCALITIES = "all localities"

#: The locality of contacts and needs recorded without one.
UNKNOWN_LOCALITY = "unknown"

#: The ``edge`` marks.
RECORD_START, RECORD_END = "record start", "record end"

#: Share of timed needs whose length sets how far the record's start reaches.
EDGE_QUANTILE = 0.99

#: Count columns of a series table (suppressed when published).
COUNTS: tuple[str, ...] = (
    "contacts",
    "classified_contacts",
    "failure_contacts",
    "needs_ended",
    "needs_timed",
    "cases_ended",
    "cases_timed",
)

#: Figures computed from counts, hidden with the counts they rest on.
LINKED: dict[str, list[str]] = {
    "failure_demand_share": ["classified_contacts", "failure_contacts"],
    "end_to_end_days_per_need": ["needs_timed"],
    "end_to_end_days_per_case": ["cases_timed"],
}


@dataclass(frozen=True)
class SeriesDefinition:
    """A series measures can read by name: which columns, which chart, which way is better."""

    name: str
    title: str
    value: str
    denominator: str | None
    chart: Literal["xmr", "p", "c"]
    improvement: Literal["increase", "decrease", "neutral"]
    unit: str
    #: The ``edge`` marks whose periods this figure cannot be read in (they are dropped).
    edges: tuple[str, ...] = ()
    #: True for counts: a period the record covers only in part is dropped.
    whole_periods: bool = False


#: Every series by name (the names ``--series`` takes).
SERIES: dict[str, SeriesDefinition] = {
    d.name: d
    for d in (
        SeriesDefinition(
            "failure_demand_share", "Failure-demand share of classified contacts",
            "failure_contacts", "classified_contacts", "p", "decrease",
            "share of classified contacts",
        ),
        SeriesDefinition(
            "contacts", "Contacts", "contacts", None, "xmr", "neutral", "contacts",
            whole_periods=True,
        ),
        SeriesDefinition(
            "failure_contacts", "Failure-demand contacts", "failure_contacts", None, "xmr",
            "decrease", "contacts", whole_periods=True,
        ),
        SeriesDefinition(
            "needs_ended", "Needs ended", "needs_ended", None, "xmr", "neutral", "needs",
            edges=(RECORD_END,), whole_periods=True,
        ),
        SeriesDefinition(
            "end_to_end_days_per_need", "Median end-to-end time of needs ended",
            "end_to_end_days_per_need", None, "xmr", "decrease", "days",
            edges=(RECORD_START, RECORD_END),
        ),
        SeriesDefinition(
            "end_to_end_days_per_case", "Median end-to-end time of cases ended",
            "end_to_end_days_per_case", None, "xmr", "decrease", "days",
            edges=(RECORD_START, RECORD_END),
        ),
    )
}  # fmt: skip


def table_name(period: str) -> str:
    """The file stem of a period's series table (``series_weekly``, ``series_monthly``).

    >>> table_name("week"), table_name("month")
    ('series_weekly', 'series_monthly')
    """
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}; choose one of {', '.join(PERIODS)}")
    return f"series_{period}ly"


def _timed(first: dt.datetime, last: dt.datetime, gap: dt.timedelta) -> pl.Expr:
    # Whole needs: nothing within one gap before their start or after their end is unseen.
    return (pl.col("start") >= first + gap) & (pl.col("end") <= last - gap)


def _case_localities(result: LearnResult) -> pl.DataFrame:
    cases = result.cases
    if "locality" in cases.columns:
        return cases
    if not cases.height or not result.episodes.height:
        return cases.with_columns(pl.lit(None, pl.String).alias("locality"))
    # A case belongs to the locality of the need it started in.
    needs = result.episodes.select("person_id", pl.col("start").alias("_need"), "locality").sort(
        "_need"
    )
    return (
        cases.sort("start")
        .join_asof(
            needs,
            left_on="start",
            right_on="_need",
            by="person_id",
            strategy="backward",
            check_sortedness=False,  # sorted by start; polars cannot check within groups
        )
        .drop("_need")
    )


def _durations(
    frame: pl.DataFrame,
    every: str,
    first: dt.datetime,
    last: dt.datetime,
    gap: dt.timedelta,
    prefix: str,
) -> pl.DataFrame:
    known_ended = pl.col("end") <= last - gap
    timed = _timed(first, last, gap)
    days = pl.col("duration").dt.total_microseconds() / 86_400e6
    rows = frame.select(
        pl.col("locality").cast(pl.String).fill_null(UNKNOWN_LOCALITY),
        pl.col("end").dt.truncate(every).dt.date().alias("period"),
        known_ended.alias("_ended"),
        timed.alias("_timed"),
        days.alias("_days"),
    )
    both = pl.concat([rows, rows.with_columns(pl.lit(ALL_LOCALITIES).alias("locality"))])
    return both.group_by("locality", "period").agg(
        pl.col("_ended").sum().cast(pl.Int64).alias(f"{prefix}s_ended"),
        pl.col("_timed").sum().cast(pl.Int64).alias(f"{prefix}s_timed"),
        pl.col("_days").filter(pl.col("_timed")).median().alias(f"end_to_end_days_per_{prefix}"),
    )


def learn_series(result: LearnResult) -> dict[str, pl.DataFrame]:
    """The weekly and monthly series of ``result`` (row-level: unsuppressed, for the team).

    Returns ``{"week": frame, "month": frame}``; each frame has locality,
    period, the columns of :data:`COUNTS`, the figures of :data:`LINKED`,
    ``edge`` and ``partial``. Reads from ``result``: ``demand.by_locality_week`` (contacts
    and failure per locality and week), ``episodes`` and ``cases`` (start,
    end, duration, locality) and ``config.episode_gap``.
    """
    demand = result.demand.by_locality_week
    episodes = result.episodes
    gap = result.config.episode_gap
    if not episodes.height:
        return {period: _empty() for period in PERIODS}
    first, last = episodes["start"].min(), episodes["end"].max()
    assert isinstance(first, dt.datetime) and isinstance(last, dt.datetime)
    timed_days = (
        episodes.filter(_timed(first, last, gap))["end_to_end_days"]
        if episodes.height
        else pl.Series([], dtype=pl.Float64)
    )
    reach = timed_days.quantile(EDGE_QUANTILE) if timed_days.len() else None
    # Edges compare dates: a period is marked when any part of it is in reach.
    start_reach = (first + gap + dt.timedelta(days=float(reach or 0.0))).date()
    end_reach = (last - gap).date()
    cases = _case_localities(result)
    # Contacts and needs with no locality are the unknown locality's, so that the
    # localities of a period add up to its all-localities row.
    localities = sorted(
        {str(x) if x is not None else UNKNOWN_LOCALITY for x in demand["locality"].to_list()}
        | {str(x) if x is not None else UNKNOWN_LOCALITY for x in episodes["locality"].to_list()}
    )
    out = {}
    for period, every in PERIODS.items():
        periods = pl.date_range(
            _truncate(first, every), _truncate(last, every), interval=every, eager=True
        ).alias("period")
        grid = pl.DataFrame({"locality": [*localities, ALL_LOCALITIES]}).join(
            periods.to_frame(), how="cross"
        )
        counts = demand.select(
            pl.col("locality").cast(pl.String).fill_null(UNKNOWN_LOCALITY),
            pl.col("week").cast(pl.Datetime("us")).dt.truncate(every).dt.date().alias("period"),
            "contacts",
            pl.col("classified").alias("classified_contacts"),
            pl.col("failure").alias("failure_contacts"),
        )
        counts = (
            pl.concat([counts, counts.with_columns(pl.lit(ALL_LOCALITIES).alias("locality"))])
            .group_by("locality", "period")
            .agg(pl.col("contacts", "classified_contacts", "failure_contacts").sum())
        )
        needs = _durations(episodes, every, first, last, gap, "need")
        by_case = (
            _durations(cases, every, first, last, gap, "case")
            if cases.height
            else needs.select("locality", "period").with_columns(
                cases_ended=pl.lit(0, pl.Int64),
                cases_timed=pl.lit(0, pl.Int64),
                end_to_end_days_per_case=pl.lit(None, pl.Float64),
            )
        )
        period_end = pl.col("period").dt.offset_by(every)
        frame = (
            grid.join(counts, on=["locality", "period"], how="left")
            .join(needs, on=["locality", "period"], how="left")
            .join(by_case, on=["locality", "period"], how="left")
            .with_columns(pl.col(list(COUNTS)).fill_null(0).cast(pl.Int64))
            .with_columns(
                pl.when(pl.col("classified_contacts") > 0)
                .then(pl.col("failure_contacts") / pl.col("classified_contacts"))
                .alias("failure_demand_share"),
                pl.when(period_end > end_reach)
                .then(pl.lit(RECORD_END))
                .when(pl.col("period") < start_reach)
                .then(pl.lit(RECORD_START))
                .otherwise(None)
                .alias("edge"),
                (
                    (pl.col("period") < first.date())
                    | (period_end > last.date() + dt.timedelta(days=1))
                ).alias("partial"),
            )
            .select("locality", "period", *COUNTS, *LINKED, "edge", "partial")
            .sort(pl.col("locality") == ALL_LOCALITIES, "locality", "period")
        )
        out[period] = frame
    return out


def _truncate(moment: dt.datetime, every: str) -> dt.date:
    return pl.select(pl.lit(moment).dt.truncate(every).dt.date()).item()


def _empty() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "locality": pl.String,
            "period": pl.Date,
            **{c: pl.Int64 for c in COUNTS},
            **{c: pl.Float64 for c in LINKED},
            "edge": pl.String,
            "partial": pl.Boolean,
        }
    )


def published_series(result: LearnResult, threshold: int | None = None) -> dict[str, pl.DataFrame]:
    """The series fit to leave the team: counts under ``threshold`` hidden, figures with them.

    Suppressed together with ``demand_by_week`` and ``demand_by_locality``,
    whose counts they share (:mod:`systemic.learn.shared_cells`): no hidden
    count can be read in another table or worked out by subtraction.
    Returns ``{"series_weekly": ..., "series_monthly": ...}``.
    """
    from systemic.learn.shared_cells import published_shared_tables  # it reads this module

    t = threshold or result.config.suppression_threshold
    tables = published_shared_tables(result, t)
    return {table_name(period): tables[table_name(period)] for period in PERIODS}


__all__ = [
    "ALL_LOCALITIES",
    "COUNTS",
    "LINKED",
    "PERIODS",
    "RECORD_END",
    "RECORD_START",
    "SERIES",
    "UNKNOWN_LOCALITY",
    "SeriesDefinition",
    "learn_series",
    "published_series",
    "table_name",
]
