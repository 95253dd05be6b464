"""Tables that publish the same counts, suppressed together in one place.

``demand_by_week``, ``demand_by_locality``, ``series_weekly`` and
``series_monthly`` all publish contacts counted by locality and time: a week
of all localities is a row of ``demand_by_week`` and of ``series_weekly``; a
locality's weeks add up to its months and to its row of
``demand_by_locality``; the localities of a week add up to the week's
all-localities row; and every week, month or locality adds up to the
summary's total. Suppressed one table at a time, a count hidden in one could
be read in another, or worked out from the others by subtraction.

So the counts are suppressed once, as one table of *cells*: each locality
(and all localities together) by week, by month and over the whole record,
with every sum above declared to :func:`systemic.data.disclosure.suppress_counts`,
and each published table takes its counts, hidden or not, from these cells.
The series' counts of needs and cases ended are suppressed the same way
(weeks and months together: the localities of a period add up to the
all-localities row, and a locality's weeks and months both add up to all its
needs ended).

>>> import datetime as dt, polars as pl
>>> from systemic.learn import learn_events
>>> t = lambda d: dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=d)
>>> ev = pl.DataFrame({"person_id": [f"p{i}" for i in range(40)],
...     "service": ["Housing"] * 40, "activity": ["call"] * 40, "kind": ["contact"] * 40,
...     "locality": ["North"] * 37 + ["South"] * 3, "timestamp": [t(i % 14) for i in range(40)]})
>>> tables = published_shared_tables(learn_events(ev), 5)
>>> tables["demand_by_locality"].select("locality", "contacts").rows()  # North = 40 - South
[('North', '*'), ('South', '<5')]
>>> week = tables["series_weekly"].filter(pl.col("period") == dt.date(2024, 1, 8))
>>> week.select("locality", "contacts").rows()
[('North', '*'), ('South', '<5'), ('all localities', '19')]
>>> tables["demand_by_week"]["contacts"].to_list()  # the same all-localities weeks
['21', '19']
"""

from __future__ import annotations

import polars as pl

from systemic.data.disclosure import SECONDARY_MARK, RowTotal, primary_mark, suppress_counts
from systemic.learn.result import LearnResult
from systemic.learn.series import (
    ALL_LOCALITIES,
    COUNTS,
    LINKED,
    UNKNOWN_LOCALITY,
    learn_series,
    table_name,
)

#: The contact counts of the wide demand tables (``systemic.learn.demand``).
CONTACT_COUNTS: tuple[str, ...] = (
    "contacts",
    "classified",
    "value",
    "failure",
    "inferred_failure",
    "inferred_value",
    "unknown",
)

#: Within a row, these parts add up to these totals.
CONTACT_ROW_TOTALS: tuple[RowTotal, ...] = (
    RowTotal("contacts", ("value", "failure", "inferred_failure", "inferred_value", "unknown")),
    RowTotal("classified", ("value", "failure")),
)

#: Shares of the wide demand tables, hidden with the counts they are built on.
CONTACT_LINKED: dict[str, list[str]] = {
    "failure_share": ["failure", "classified"],
    "inferred_failure_share": ["inferred_failure", "contacts", "classified"],
}

#: The series' names of the contact counts it shares with the demand tables.
SERIES_CONTACTS: dict[str, str] = {
    "contacts": "contacts",
    "classified_contacts": "classified",
    "failure_contacts": "failure",
}

#: Counts the series do not publish (only the demand tables do).
_BY_CLASS_ONLY = tuple(c for c in CONTACT_COUNTS if c not in SERIES_CONTACTS.values())

_WEEK, _MONTH, _WHOLE = "week", "month", "whole record"


def contact_cells(result: LearnResult) -> pl.DataFrame:
    """Contacts by locality (and all localities) by week, month and whole record; unsuppressed.

    Columns: ``level`` (week, month or whole record), ``locality``,
    ``period`` (the week's or month's first day; null for the whole record),
    ``month`` (the month a week's first day falls in, as the monthly series
    counts it; null for the whole record) and :data:`CONTACT_COUNTS`. A
    contact with no locality is in the ``unknown`` locality.
    """
    weeks = result.demand.by_locality_week.select(
        pl.col("locality").cast(pl.String).fill_null(UNKNOWN_LOCALITY),
        pl.col("week").cast(pl.Date).alias("period"),
        *CONTACT_COUNTS,
    )
    weeks = pl.concat([weeks, weeks.with_columns(pl.lit(ALL_LOCALITIES).alias("locality"))])
    weeks = (
        weeks.group_by("locality", "period")
        .agg(pl.col(CONTACT_COUNTS).sum())
        .with_columns(pl.col("period").dt.truncate("1mo").alias("month"))
    )
    months = (
        weeks.group_by("locality", "month")
        .agg(pl.col(CONTACT_COUNTS).sum())
        .with_columns(pl.col("month").alias("period"))
    )
    whole = weeks.group_by("locality").agg(pl.col(CONTACT_COUNTS).sum())
    columns = ["level", "locality", "period", "month", *CONTACT_COUNTS]
    return pl.concat(
        [
            weeks.with_columns(level=pl.lit(_WEEK)).select(columns),
            months.with_columns(level=pl.lit(_MONTH)).select(columns),
            whole.with_columns(
                level=pl.lit(_WHOLE), period=pl.lit(None, pl.Date), month=pl.lit(None, pl.Date)
            ).select(columns),
        ]
    ).sort("level", "locality", "period")


def suppressed_contact_cells(result: LearnResult, threshold: int) -> pl.DataFrame:
    """:func:`contact_cells` with every sum between them protected; counts as text.

    The sums: the localities of a week, a month or the whole record add up
    to its all-localities row; a locality's weeks add up to its whole record
    and to each of its months; its months add up to its whole record; and
    within a row the classes add up to contacts and to classified contacts.
    Counts by class that no table publishes (a locality's week or month,
    a month of all localities) are null: unseen, they protect the sums they
    are in (and a small one is itself protected).
    """
    cells = contact_cells(result)
    level, loc = pl.col("level"), pl.col("locality")
    # Only the whole record and the all-localities weeks are published by class.
    by_class = (level == _WHOLE) | ((level == _WEEK) & (loc == ALL_LOCALITIES))
    keyed = cells.with_columns(
        (~by_class).alias("_unpublished"),
        pl.when(level != _MONTH).then(loc).alias("_weeks_of"),
        pl.when(level != _WEEK).then(loc).alias("_months_of"),
        pl.when(level != _WHOLE).then(loc).alias("_month_of"),
    )
    return suppress_counts(
        keyed,
        list(CONTACT_COUNTS),
        threshold=threshold,
        by=["level", "period"],
        groups=[["_weeks_of"], ["_months_of"], ["_month_of", "month"]],
        row_totals=CONTACT_ROW_TOTALS,
        unpublished=dict.fromkeys(_BY_CLASS_ONLY, "_unpublished"),
    ).drop("_weeks_of", "_months_of", "_month_of", "_unpublished")


def _with_cells(
    frame: pl.DataFrame,
    cells: pl.DataFrame,
    on: dict[str, str],
    counts: dict[str, str],
    linked: dict[str, list[str]],
    threshold: int,
) -> pl.DataFrame:
    """``frame`` with its ``counts`` (frame column: cell column) read from ``cells``.

    A row with no cell counted nothing (``"0"``). ``linked`` columns are
    hidden (null) where a count they rest on is hidden.
    """
    right = cells.select(
        *[pl.col(c).alias(f) for f, c in on.items()],
        *[pl.col(c).alias("_cell_" + f) for f, c in counts.items()],
    )
    keys = list(on)
    joined = frame.with_columns(pl.col(keys[0]).fill_null(UNKNOWN_LOCALITY).alias("_key0")).join(
        right.rename({keys[0]: "_key0"}),
        on=["_key0", *keys[1:]],
        how="left",
        maintain_order="left",
    )
    marks = [primary_mark(threshold), SECONDARY_MARK]
    hidden = {f: pl.col("_cell_" + f).is_in(marks) for f in counts}
    return joined.with_columns(
        *[pl.col("_cell_" + f).fill_null("0").alias(f) for f in counts],
        *[
            pl.when(pl.any_horizontal([hidden[s].fill_null(False) for s in sources]))
            .then(pl.lit(None, pl.String))
            .otherwise(pl.col(d).cast(pl.String))
            .alias(d)
            for d, sources in linked.items()
        ],
    ).select(frame.columns)


def published_shared_tables(result: LearnResult, threshold: int) -> dict[str, pl.DataFrame]:
    """``demand_by_week``, ``demand_by_locality``, ``preventable_by_locality`` and the series.

    Suppressed together (see the module's docstring), ready to leave the team.
    """
    cells = suppressed_contact_cells(result, threshold)
    level = pl.col("level")
    whole_areas = cells.filter((level == _WEEK) & (pl.col("locality") == ALL_LOCALITIES))
    demand = result.demand
    out = {
        "demand_by_week": _with_cells(
            demand.by_week.with_columns(pl.lit(ALL_LOCALITIES).alias("_all")).select(
                "_all", *demand.by_week.columns
            ),
            whole_areas,
            {"_all": "locality", "week": "period"},
            {c: c for c in CONTACT_COUNTS},
            CONTACT_LINKED,
            threshold,
        ).drop("_all"),
        "demand_by_locality": _with_cells(
            demand.by_locality,
            cells.filter(level == _WHOLE),
            {"locality": "locality"},
            {c: c for c in CONTACT_COUNTS},
            CONTACT_LINKED,
            threshold,
        ),
        # Its contacts are demand_by_locality's; preventable contacts only add up down the column.
        "preventable_by_locality": _with_cells(
            suppress_counts(
                demand.preventable_by_locality,
                ["preventable"],
                threshold=threshold,
                linked={"preventable_share": ["preventable"]},
            ),
            cells.filter(level == _WHOLE),
            {"locality": "locality"},
            {"contacts": "contacts"},
            {"preventable_share": ["contacts"]},
            threshold,
        ),
    }
    series = learn_series(result)
    others = [c for c in COUNTS if c not in SERIES_CONTACTS]
    ended = suppress_counts(
        pl.concat(
            [frame.select("locality", "period", *others).with_columns(level=pl.lit(p))
             for p, frame in series.items()]
        ),
        others,
        threshold=threshold,
        by=["level", "period"],
        groups=[["locality"]],
    )  # fmt: skip
    for period, frame in series.items():
        lvl = _WEEK if period == "week" else _MONTH
        with_contacts = _with_cells(
            frame,
            cells.filter(level == lvl),
            {"locality": "locality", "period": "period"},
            SERIES_CONTACTS,
            {"failure_demand_share": LINKED["failure_demand_share"]},
            threshold,
        )
        hidden_ended = ended.filter(pl.col("level") == period).drop("level")
        other_linked = {d: s for d, s in LINKED.items() if d != "failure_demand_share"}
        out[table_name(period)] = _with_cells(
            with_contacts,
            hidden_ended,
            {"locality": "locality", "period": "period"},
            {c: c for c in others},
            other_linked,
            threshold,
        )
    return out


__all__ = [
    "CONTACT_COUNTS",
    "CONTACT_LINKED",
    "CONTACT_ROW_TOTALS",
    "SERIES_CONTACTS",
    "contact_cells",
    "published_shared_tables",
    "suppressed_contact_cells",
]
