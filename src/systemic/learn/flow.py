"""Flow maps (directly-follows graphs) and variants, at two levels.

- **Services**, on person-episodes: the journey map across silos. An edge
  A -> B counts hand-offs from service A to service B; its time is from the
  last event in A to the first in B.
- **Activities**, on cases (``case_id``, the process-mining view, whatever
  the person mapping): an edge counts one activity directly followed by
  another in a case.

Both give edge counts with median, mean and 90th-percentile transition times
(hours), start and end counts. Variants are the sequences of services per
episode (consecutive repeats collapsed) and of activities per case.

Work is split in two so that it can run per partition of people: ``*_parts``
functions return mergeable pieces (counts and lists of durations), and
:func:`finish_flow` / :func:`finish_variants` merge pieces from any number of
partitions into the final tables.

>>> import datetime as dt, polars as pl
>>> from systemic.data import conform_events
>>> from systemic.learn.journeys import annotate_events
>>> t = lambda h: dt.datetime(2024, 1, 1, h, tzinfo=dt.UTC)
>>> ev = conform_events(pl.DataFrame({"person_id": ["p"] * 3, "service": ["A", "B", "A"],
...     "activity": ["x", "y", "x"], "timestamp": [t(1), t(3), t(4)]}))
>>> parts = activity_parts(annotate_events(ev))
>>> finish_flow([parts.flow], "activity").edges.select("from", "to", "count").rows()
[('x', 'y', 1), ('y', 'x', 1)]
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from systemic.learn.engine import ENGINE

_US_PER_HOUR = 3_600e6
_US_PER_DAY = 86_400e6


@dataclass
class FlowParts:
    """Mergeable pieces of a flow map: edges with duration lists, start and end counts."""

    edges: pl.DataFrame  # from, to, count, durations (list of microseconds)
    starts: pl.DataFrame  # node, count
    ends: pl.DataFrame  # node, count


@dataclass
class ActivityParts:
    """The activity-level pieces of one partition."""

    cases: pl.DataFrame
    flow: FlowParts
    variants: pl.DataFrame  # variant (list), count, durations (list of microseconds)


@dataclass
class FlowMap:
    """A directly-follows graph.

    ``edges``: from, to, count, median_hours, mean_hours, p90_hours;
    ``starts`` and ``ends``: <level>, count. ``level`` is ``service`` or ``activity``.
    """

    level: str
    edges: pl.DataFrame
    starts: pl.DataFrame
    ends: pl.DataFrame


def _edges(frame: pl.LazyFrame, node: str, same: pl.Expr) -> pl.DataFrame:
    return (
        frame.with_columns(
            pl.col(node).shift(1).alias("from"),
            (pl.col("timestamp") - pl.col("timestamp").shift(1))
            .dt.total_microseconds()
            .alias("_dt"),
        )
        .filter(same)
        .group_by("from", pl.col(node).alias("to"))
        .agg(pl.len().cast(pl.Int64).alias("count"), pl.col("_dt").alias("durations"))
        .with_columns(pl.col("from").cast(pl.String), pl.col("to").cast(pl.String))
        .collect(engine=ENGINE)
    )


def activity_parts(events: pl.DataFrame) -> ActivityParts:
    """Cases, activity flow pieces and activity variant pieces of (annotated) events.

    Cases are grouped on ``case_id`` alone (a null ``case_id`` is the
    person's own case), so a case whose events belong to two people is one
    case with one duration and one path, as in pm4py. ``events`` needs
    ``person_id``, ``case_id``, ``activity``, ``timestamp``, ``source`` and
    ``source_row``; events already in journey order whose cases are their
    people are not sorted again.
    """
    ordered = events.lazy().select(
        "person_id",
        pl.coalesce("case_id", "person_id").alias("case_id"),
        "activity",
        "timestamp",
        "source",
        "source_row",
    )
    cases_are_people = events.select(
        (pl.coalesce("case_id", "person_id") == pl.col("person_id")).all()
    ).item()
    if not cases_are_people:
        # case order: time, ties by source order (pm4py sorts by time, stably)
        ordered = ordered.sort(
            "case_id", "timestamp", "source", "source_row", nulls_last=True, maintain_order=True
        )
    ordered = ordered.with_columns(
        _same_case=(pl.col("case_id") == pl.col("case_id").shift(1)).fill_null(False)
    ).with_columns(_case=(~pl.col("_same_case")).cum_sum())
    edges = _edges(ordered, "activity", pl.col("_same_case"))
    cases = (
        ordered.group_by("_case", maintain_order=True)
        .agg(
            pl.col("case_id").first(),
            # the person of the case's first event: whose need (and locality) it starts in
            pl.col("person_id").first(),
            pl.col("person_id").n_unique().cast(pl.Int64).alias("people"),
            pl.col("timestamp").min().alias("start"),
            pl.col("timestamp").max().alias("end"),
            pl.len().cast(pl.Int64).alias("events"),
            pl.col("activity").alias("variant"),
        )
        .drop("_case")
        .with_columns(duration=pl.col("end") - pl.col("start"))
        .with_columns(case_days=pl.col("duration").dt.total_microseconds() / _US_PER_DAY)
        .collect(engine=ENGINE)
    )
    return ActivityParts(
        cases=cases.drop("variant"),
        flow=FlowParts(
            edges=edges,
            starts=_node_counts(cases, "variant", 0, "activity"),
            ends=_node_counts(cases, "variant", -1, "activity"),
        ),
        variants=_variant_parts(cases, "variant"),
    )


def service_parts(
    annotated: pl.DataFrame, episodes: pl.DataFrame
) -> tuple[FlowParts, pl.DataFrame]:
    """Service flow pieces (hand-offs within episodes) and service variant pieces."""
    edges = (
        annotated.lazy()
        .select(
            pl.col("service").shift(1).alias("from"),
            pl.col("service").alias("to"),
            (pl.col("timestamp") - pl.col("timestamp").shift(1))
            .dt.total_microseconds()
            .alias("_dt"),
            "hand_off",
        )
        .filter(pl.col("hand_off"))
        .group_by("from", "to")
        .agg(pl.len().cast(pl.Int64).alias("count"), pl.col("_dt").alias("durations"))
        .with_columns(pl.col("from").cast(pl.String), pl.col("to").cast(pl.String))
        .collect(engine=ENGINE)
    )
    flow = FlowParts(
        edges=edges,
        starts=_node_counts(episodes, "service_path", 0, "service"),
        ends=_node_counts(episodes, "service_path", -1, "service"),
    )
    return flow, _variant_parts(episodes, "service_path")


def _node_counts(frame: pl.DataFrame, path: str, index: int, node: str) -> pl.DataFrame:
    return (
        frame.lazy()
        .select(pl.col(path).list.get(index).alias(node))
        .group_by(node)
        .agg(pl.len().cast(pl.Int64).alias("count"))
        .with_columns(pl.col(node).cast(pl.String))
        .collect(engine=ENGINE)
    )


def _variant_parts(frame: pl.DataFrame, path: str) -> pl.DataFrame:
    return (
        frame.lazy()
        .group_by(pl.col(path).alias("variant"))
        .agg(
            pl.len().cast(pl.Int64).alias("count"),
            pl.col("duration").dt.total_microseconds().alias("durations"),
        )
        .with_columns(pl.col("variant").cast(pl.List(pl.String)))
        .collect(engine=ENGINE)
    )


def _merge_durations(frames: list[pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    return (
        pl.concat(frames)
        .lazy()
        .group_by(keys)
        .agg(
            pl.col("count").sum(),
            pl.col("durations").list.explode(keep_nulls=False, empty_as_null=False),
        )
        .collect(engine=ENGINE)
    )


def finish_flow(parts: list[FlowParts], level: str) -> FlowMap:
    """Merge flow pieces from every partition into a :class:`FlowMap`."""
    edges = _merge_durations([p.edges for p in parts], ["from", "to"])
    d = pl.col("durations")
    edges = edges.select(
        "from",
        "to",
        "count",
        (d.list.median() / _US_PER_HOUR).alias("median_hours"),
        (d.list.mean() / _US_PER_HOUR).alias("mean_hours"),
        (d.list.eval(pl.element().quantile(0.9, "linear")).list.first() / _US_PER_HOUR).alias(
            "p90_hours"
        ),
    ).sort(["count", "from", "to"], descending=[True, False, False])
    node = "service" if level == "service" else "activity"

    def counts(frames: list[pl.DataFrame]) -> pl.DataFrame:
        return (
            pl.concat(frames)
            .group_by(node)
            .agg(pl.col("count").sum())
            .sort(["count", node], descending=[True, False])
        )

    return FlowMap(
        level=level,
        edges=edges,
        starts=counts([p.starts for p in parts]),
        ends=counts([p.ends for p in parts]),
    )


def finish_variants(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """Merge variant pieces: variant (list), steps, count, share, median_days."""
    merged = _merge_durations(parts, ["variant"])
    total = merged["count"].sum()
    return (
        merged.select(
            "variant",
            pl.col("variant").list.len().alias("steps"),
            "count",
            (pl.col("count") / total).alias("share"),
            (pl.col("durations").list.median() / _US_PER_DAY).alias("median_days"),
        )
        .with_columns(_key=pl.col("variant").list.join(" > "))
        .sort(["count", "_key"], descending=[True, False])
        .drop("_key")
    )
