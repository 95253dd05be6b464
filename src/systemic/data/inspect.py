"""What a dataset holds: counts, services, activities, dates, people, rejects.

:func:`inspect_dataset` computes a :class:`DatasetSummary` (tables and
numbers); the CLI renders it. Work is pushed into Polars' lazy engine so a
large dataset is summarised without loading every column.

>>> import tempfile, datetime as dt, polars as pl
>>> from systemic.data.dataset import write_dataset
>>> events = pl.DataFrame({"person_id": ["a", "a", "b"], "service": ["Housing", "GP", "GP"],
...     "activity": ["call", "visit", "visit"],
...     "timestamp": [dt.datetime(2024, 1, d, tzinfo=dt.UTC) for d in (1, 2, 3)]})
>>> ds = write_dataset(events, tempfile.mkdtemp() + "/town", source_name="example")
>>> s = inspect_dataset(ds)
>>> s.events, s.people, s.services.rows()
(3, 2, [('GP', 2), ('Housing', 1)])
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import polars as pl

from systemic.data.cases import case_people, spanning
from systemic.data.dataset import Dataset, open_dataset


@dataclass(frozen=True)
class DatasetSummary:
    """Counts and tables describing one dataset."""

    path: str
    schema_version: str
    sources: pl.DataFrame  # id, name, format, read, accepted, rejected, filtered
    events: int
    people: int
    first: dt.datetime | None
    last: dt.datetime | None
    services: pl.DataFrame  # service, events (most first)
    activities: pl.DataFrame  # activity, events (most first)
    activity_count: int
    kinds: pl.DataFrame  # kind, events
    reject_reasons: pl.DataFrame  # field, reason, rows (values, shown or withheld, as '…')
    filters: pl.DataFrame  # source, filter, rows: what each mapping filter removed
    cases: int | None = None  # distinct case ids; None when no case_id is mapped
    cases_spanning_people: int | None = None  # cases whose events belong to 2+ people

    @property
    def read(self) -> int:
        return int(self.sources["read"].sum()) if self.sources.height else 0

    @property
    def rejected(self) -> int:
        return int(self.sources["rejected"].sum()) if self.sources.height else 0

    @property
    def filtered(self) -> int:
        return int(self.sources["filtered"].sum()) if self.sources.height else 0


def _counts(lf: pl.LazyFrame, column: str) -> pl.DataFrame:
    return (
        lf.group_by(column)
        .agg(pl.len().alias("events"))
        .sort(["events", column], descending=[True, False])
        .collect()
    )


def inspect_dataset(dataset: Dataset | str | os.PathLike[str], *, top: int = 15) -> DatasetSummary:
    """Summarise a dataset (a :class:`Dataset` or its folder)."""
    ds = dataset if isinstance(dataset, Dataset) else open_dataset(dataset)
    sources = pl.DataFrame(
        [
            {
                "id": s.id,
                "name": s.name,
                "format": s.format,
                "read": s.read,
                "accepted": s.accepted,
                "rejected": s.rejected,
                "filtered": s.filtered,
            }
            for s in ds.manifest.sources
        ],
        schema={
            "id": pl.String,
            "name": pl.String,
            "format": pl.String,
            "read": pl.Int64,
            "accepted": pl.Int64,
            "rejected": pl.Int64,
            "filtered": pl.Int64,
        },
    )
    filters = pl.DataFrame(
        [
            {"source": s.id, "filter": f["filter"], "rows": f["rows"]}
            for s in ds.manifest.sources
            for f in s.filters
        ],
        schema={"source": pl.String, "filter": pl.String, "rows": pl.Int64},
    )
    lf = ds.events(["person_id", "service", "activity", "timestamp", "kind"])
    totals = (
        lf.select(
            pl.len().alias("events"),
            pl.col("person_id").n_unique().alias("people"),
            pl.col("timestamp").min().alias("first"),
            pl.col("timestamp").max().alias("last"),
            pl.col("activity").n_unique().alias("activities"),
        )
        .collect()
        .row(0, named=True)
    )
    activities = _counts(lf, "activity")
    cases: int | None = None
    spanning_cases: int | None = None
    if "case_id" in ds.events().collect_schema().names():
        ids = ds.events(["person_id", "case_id"])
        if ids.select(pl.col("case_id").is_not_null().any()).collect().item():
            per_case = case_people(ids.filter(pl.col("case_id").is_not_null()))
            cases = per_case.height
            spanning_cases = spanning(per_case).height
    reasons = (
        ds.rejects()
        .with_columns(
            pl.col("reason")
            .str.replace_all(r"\(withheld[,:][^()]*\)", "'…'")
            .str.replace_all(r"'[^']*'", "'…'")
        )
        .group_by("field", "reason")
        .agg(pl.len().alias("rows"))
        .sort(["rows", "field"], descending=[True, False])
        .collect()
    )
    return DatasetSummary(
        path=str(ds.path),
        schema_version=ds.manifest.schema_version,
        sources=sources,
        events=int(totals["events"]),
        people=int(totals["people"]),
        first=totals["first"],
        last=totals["last"],
        services=_counts(lf, "service"),
        activities=activities.head(top),
        activity_count=int(totals["activities"]),
        kinds=_counts(lf, "kind"),
        reject_reasons=reasons,
        filters=filters,
        cases=cases,
        cases_spanning_people=spanning_cases,
    )
