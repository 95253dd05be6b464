"""``learn``: from a dataset to journeys, flow, demand and the cost of failure.

People are split into partitions by a hash of their pseudonym (so memory is
bounded on large datasets) and each partition is learnt by the same
function, :func:`systemic.learn.partition.learn_partition`, in this process
or on a Dask cluster. The pieces are merged into exact results: the number
of partitions never changes an answer.

>>> import datetime as dt, tempfile, polars as pl
>>> from systemic.data import write_dataset
>>> t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)
>>> ev = pl.DataFrame({"person_id": ["a", "a", "b"], "service": ["Housing", "Benefits", "Housing"],
...     "activity": ["call", "claim", "call"], "timestamp": [t(1), t(2), t(5)]})
>>> path = write_dataset(ev, tempfile.mkdtemp() + "/town", source_name="example").path
>>> result = learn(path)
>>> result.summary().people, result.summary().median_hand_offs
(2, 0.5)
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import polars as pl

from systemic.data import Dataset, open_dataset
from systemic.learn.config import LearnConfig
from systemic.learn.costs import UnitCostTable
from systemic.learn.demand import finish_demand
from systemic.learn.engine import SCAN_ENGINE
from systemic.learn.flow import ActivityParts, activity_parts, finish_flow, finish_variants
from systemic.learn.locality import by_locality
from systemic.learn.partition import (
    EVENTS_PER_PARTITION,
    PARTITION_SEED,
    JourneyParts,
    dataset_events,
    learn_frame,
    learn_locally,
    learn_partition,
)
from systemic.learn.result import CostOfFailure, LearnResult


def learn(
    dataset: str | os.PathLike[str] | Dataset,
    config: LearnConfig | None = None,
    unit_costs: UnitCostTable | None = None,
    *,
    partitions: int | None = None,
    client: Any = None,
    on_partition: Callable[[int, int], None] | None = None,
) -> LearnResult:
    """Learn journeys, flow maps, variants, demand and costs from a dataset.

    ``partitions`` splits people into that many groups learnt one after
    another (default: one per 1.5 million events). ``client`` is a
    ``dask.distributed.Client``: partitions then run on its workers.
    ``on_partition(done, total)`` is called each time a partition is learnt
    (a progress bar's hook); the results do not depend on the order.
    """
    config = config or LearnConfig()
    ds = dataset if isinstance(dataset, Dataset) else open_dataset(dataset)
    n = count_events(ds)
    parts = partitions or max(1, math.ceil(n / EVENTS_PER_PARTITION))
    path = str(ds.path)
    report = on_partition or (lambda done, total: None)
    if client is not None:
        from dask.distributed import as_completed

        futures = client.map(
            learn_partition,
            [path] * parts,
            range(parts),
            parts=parts,
            config=config,
            unit_costs=unit_costs,
            pure=False,
        )
        index = {f.key: i for i, f in enumerate(futures)}
        learnt: dict[int, JourneyParts] = {}
        for future, piece in as_completed(futures, with_results=True):
            learnt[index[future.key]] = piece
            report(len(learnt), parts)
        pieces: list[JourneyParts] = [learnt[i] for i in range(parts)]  # merge in a fixed order
    else:
        pieces = []
        for done, piece in enumerate(learn_locally(ds, parts, config, unit_costs, events=n), 1):
            if piece is not None:
                pieces.append(piece)
            report(done, parts)
    if not pieces:  # an empty dataset
        pieces = [learn_frame(ds.events(), config, unit_costs)]
    activity = None
    if len(pieces) > 1 and _cases_cross_partitions(pieces):
        # a case whose people fall in different partitions: learn the
        # activity level again, partitioned by case instead of by person
        activity = [
            activity_parts(case_partition(ds, i, parts).collect(engine=SCAN_ENGINE))
            for i in range(parts)
        ]
    return merge_parts(pieces, config, unit_costs, activity)


def learn_events(
    events: pl.DataFrame | pl.LazyFrame,
    config: LearnConfig | None = None,
    unit_costs: UnitCostTable | None = None,
    people: pl.DataFrame | None = None,
) -> LearnResult:
    """Learn from a frame of events in the event schema (no dataset folder needed)."""
    config = config or LearnConfig()
    return merge_parts([learn_frame(events, config, unit_costs, people)], config, unit_costs)


def count_events(ds: Dataset) -> int:
    """How many events the dataset holds (from Parquet metadata)."""
    files = [str(f) for f in ds.event_files()]
    if not files:
        return 0
    return int(pl.scan_parquet(files).select(pl.len()).collect().item())


def _cases_cross_partitions(pieces: list[JourneyParts]) -> bool:
    ids = pl.concat([p.cases.select("case_id") for p in pieces])["case_id"]
    return bool(ids.is_duplicated().any())


def case_partition(ds: Dataset, part: int, parts: int) -> pl.LazyFrame:
    """The events of the cases whose hash falls in partition ``part`` of ``parts``."""
    lf = dataset_events(ds)
    names = lf.collect_schema().names()
    cols = [c for c in ("person_id", "case_id", "activity", "timestamp", "source", "source_row")]
    missing = {
        "case_id": pl.lit(None, pl.String),
        "source": pl.lit(None, pl.String),
        "source_row": pl.lit(None, pl.Int64),
    }
    lf = lf.with_columns([e.alias(c) for c, e in missing.items() if c not in names]).select(cols)
    key = pl.coalesce("case_id", "person_id").hash(seed=PARTITION_SEED)
    return lf.filter(key % parts == part) if parts > 1 else lf


def merge_parts(
    pieces: list[JourneyParts],
    config: LearnConfig,
    unit_costs: UnitCostTable | None,
    activity: list[ActivityParts] | None = None,
) -> LearnResult:
    """Merge the pieces of every partition into one exact :class:`LearnResult`.

    ``activity``, when given, replaces the partitions' activity-level pieces
    (learnt by case partition, for cases whose people fall in different
    partitions).
    """
    episodes = pl.concat([p.episodes for p in pieces]).sort("person_id", "episode")
    if activity is None:
        activity = [
            ActivityParts(cases=p.cases, flow=p.activity_flow, variants=p.activity_variants)
            for p in pieces
        ]
    working = (
        pl.concat([p.case_working for p in pieces])
        .group_by("case_id")
        .agg(pl.col("timed_pieces").sum(), pl.col("working").sum())
    )
    cases = (
        pl.concat([a.cases for a in activity])
        .join(working, on="case_id", how="left")
        .with_columns(
            pl.col("timed_pieces").fill_null(0),
            working_days=pl.col("working").dt.total_microseconds() / 86_400e6,
        )
        .drop("working")
        .sort("case_id")
    )
    service_costs = (
        pl.concat([p.service_costs for p in pieces])
        .group_by("service", "locality")
        .agg(pl.all().sum())
    )

    def cost_table(dim: str) -> pl.DataFrame:
        return (
            service_costs.group_by(dim)
            .agg(pl.all().exclude("service", "locality").sum())
            .sort(["events", dim], descending=[True, False])
        )

    return LearnResult(
        config=config,
        unit_costs=unit_costs,
        events=sum(p.events for p in pieces),
        people=sum(p.people for p in pieces),
        episodes=episodes,
        cases=cases,
        case_ids_mapped=sum(p.case_ids_given for p in pieces) > 0,
        service_map=finish_flow([p.service_flow for p in pieces], "service"),
        activity_map=finish_flow([a.flow for a in activity], "activity"),
        service_variants=finish_variants([p.service_variants for p in pieces]),
        activity_variants=finish_variants([a.variants for a in activity]),
        demand=finish_demand([p.demand for p in pieces], [p.work for p in pieces], config),
        localities=by_locality(episodes),
        costs=CostOfFailure(
            currency=unit_costs.currency if unit_costs else None,
            price_year=unit_costs.year if unit_costs else None,
            by_service=cost_table("service"),
            by_locality=cost_table("locality"),
        ),
    )
