"""Demand analysis: what people contact services about, and how much is failure demand.

*Value demand* is what a service exists to meet; *failure demand* is a
contact from a person caused by a failure to do something, or do something
right, for them. *Failure work* is rework inside the service (reopen,
correct, redo): a piece of work that is not a contact, classed failure.

The user's own classes (``demand_class`` value or failure, on any event)
are *classified* and always win. Where a contact is not classified, the
rules switched on in :class:`~systemic.learn.config.LearnConfig` may infer
failure demand, each inferred contact naming the rule that fired (the first,
in this order), never for planned work:

- ``repeat_contact``: the same demand type (or activity) within
  ``repeat_window_days`` of an earlier contact by the same person;
- ``recontact_after_closure``: a contact within ``recontact_window_days``
  after a closure by any service;
- ``contact_after_hand_off``: the contact is itself the first event in a new
  service after a hand-off (off by default).

With ``infer_value_demand``, the first contact of a need that no rule flags
is inferred value demand. Inferred classes are kept apart from classified
ones in every table.

Per partition, contacts are counted in a *cube* over every dimension;
:func:`finish_demand` sums cubes from any number of partitions and derives
the tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from systemic.learn.config import LearnConfig
from systemic.learn.engine import ENGINE
from systemic.learn.journeys import CLASSIFIED, INFERRED, demand_key

#: Dimensions of the demand cube.
CUBE_KEYS: tuple[str, ...] = (
    "demand_class",
    "class_source",
    "failure_signal",
    "demand_type",
    "service",
    "channel",
    "locality",
    "week",
    "preventable",
)

#: What each inferred signal means, for tables and docs.
SIGNAL_RULES: dict[str, str] = {
    "repeat_contact": "same demand type within the repeat window of an earlier contact",
    "recontact_after_closure": "contact within the re-contact window after a closure",
    "contact_after_hand_off": "contact that is the first event in a new service after a hand-off",
}


@dataclass
class DemandAnalysis:
    """Contacts by class (classified and inferred kept apart), failure work, by dimension.

    Counts: ``contacts`` (pieces of work that are contacts);
    ``classified_contacts`` (the user gave value or failure), of which
    ``failure_contacts`` and ``value_contacts``; ``inferred_failure_contacts``
    and ``inferred_value_contacts``; ``unknown_contacts`` (neither);
    ``work_pieces`` (pieces of work that are not contacts), of which
    ``failure_work_events`` classed failure, costing ``failure_work_cost``.

    Wide tables (``by_type``, ``by_service``, ``by_channel``, ``by_locality``,
    ``by_week``, and ``by_locality_week``) have: the dimension(s), contacts,
    classified, value, failure (classified), inferred_failure,
    inferred_value, unknown, failure_share (failure / classified) and
    inferred_failure_share (inferred_failure / contacts not classified).
    ``by_class``: class_source, demand_class, contacts, share (of all contacts).
    ``preventable_by_locality``: locality, contacts, preventable,
    preventable_share. ``pareto``: classified failure demand by type with
    contacts, cost (of the contacts themselves), share and cumulative_share;
    ``inferred_pareto`` the same for inferred failure demand;
    ``failure_work_pareto``: failure work by type with events (pieces), cost,
    share and cumulative_share. ``signals``: each rule, whether it was on, and
    the contacts it flagged.
    """

    contacts: int
    classified_contacts: int
    failure_contacts: int
    value_contacts: int
    inferred_failure_contacts: int
    inferred_value_contacts: int
    unknown_contacts: int
    work_pieces: int
    failure_work_events: int
    failure_work_cost: float
    by_class: pl.DataFrame
    by_type: pl.DataFrame
    by_service: pl.DataFrame
    by_channel: pl.DataFrame
    by_locality: pl.DataFrame
    by_week: pl.DataFrame
    by_locality_week: pl.DataFrame
    preventable_by_locality: pl.DataFrame
    pareto: pl.DataFrame
    inferred_pareto: pl.DataFrame
    failure_work_pareto: pl.DataFrame
    signals: pl.DataFrame

    @property
    def failure_demand_share(self) -> float | None:
        """Classified failure contacts over classified contacts; None when none are classified."""
        return _ratio(self.failure_contacts, self.classified_contacts)

    @property
    def inferred_failure_share(self) -> float | None:
        """Inferred failure contacts over the contacts not classified; None when all are."""
        return _ratio(self.inferred_failure_contacts, self.contacts - self.classified_contacts)

    @property
    def unknown_share(self) -> float | None:
        """Contacts neither classified nor inferred, over all contacts."""
        return _ratio(self.unknown_contacts, self.contacts)

    @property
    def failure_work_share(self) -> float | None:
        """Failure work over all pieces of work that are not contacts."""
        return _ratio(self.failure_work_events, self.work_pieces)


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def demand_cube(annotated: pl.DataFrame) -> pl.DataFrame:
    """Contacts and their cost counted over every demand dimension (one partition)."""
    return (
        annotated.lazy()
        .filter(pl.col("is_contact"))
        .with_columns(
            demand_key().alias("demand_type"),
            pl.col("service").cast(pl.String),
            pl.col("timestamp").dt.truncate("1w").dt.date().alias("week"),
        )
        .group_by(list(CUBE_KEYS))
        .agg(pl.len().cast(pl.Int64).alias("contacts"), pl.col("cost").sum().alias("cost"))
        .collect(engine=ENGINE)
    )


def work_cube(annotated: pl.DataFrame) -> pl.DataFrame:
    """Pieces of work that are not contacts: failure (bool), demand_type, events, cost."""
    # grouped on the activity's categorical codes; text only for the few groups
    return (
        annotated.lazy()
        .filter(pl.col("piece_end") & ~pl.col("is_contact"))
        .group_by(pl.col("failure_work").alias("failure"), "demand_type", "activity")
        .agg(pl.len().cast(pl.Int64).alias("events"), pl.col("cost").sum().alias("cost"))
        .select("failure", demand_key().alias("demand_type"), "events", "cost")
        .collect(engine=ENGINE)
    )


def _wide(cube: pl.DataFrame, dim: str | list[str]) -> pl.DataFrame:
    dims = [dim] if isinstance(dim, str) else dim
    c = pl.col("contacts")
    cls, src = pl.col("demand_class"), pl.col("class_source")
    return (
        cube.group_by(dim)
        .agg(
            c.sum().alias("contacts"),
            c.filter(src == CLASSIFIED).sum().alias("classified"),
            c.filter((src == CLASSIFIED) & (cls == "value")).sum().alias("value"),
            c.filter((src == CLASSIFIED) & (cls == "failure")).sum().alias("failure"),
            c.filter((src == INFERRED) & (cls == "failure")).sum().alias("inferred_failure"),
            c.filter((src == INFERRED) & (cls == "value")).sum().alias("inferred_value"),
            c.filter(cls == "unknown").sum().alias("unknown"),
        )
        .with_columns(
            (pl.col("failure") / pl.col("classified")).alias("failure_share"),
            (pl.col("inferred_failure") / (pl.col("contacts") - pl.col("classified"))).alias(
                "inferred_failure_share"
            ),
        )
        .sort(["contacts", *dims], descending=[True] + [False] * len(dims))
    )


def _pareto(frame: pl.DataFrame, count: str) -> pl.DataFrame:
    n = int(frame[count].sum())
    return (
        frame.group_by("demand_type")
        .agg(pl.col(count).sum(), pl.col("cost").sum())
        .sort([count, "demand_type"], descending=[True, False])
        .with_columns((pl.col(count) / n).alias("share"))
        .with_columns(pl.col("share").cum_sum().alias("cumulative_share"))
    )


def finish_demand(
    cubes: list[pl.DataFrame],
    work: list[pl.DataFrame] | None = None,
    config: LearnConfig | None = None,
) -> DemandAnalysis:
    """Sum demand (and work) cubes from every partition and derive the demand tables."""
    config = config or LearnConfig()
    cube = (
        pl.concat(cubes)
        .group_by(list(CUBE_KEYS))
        .agg(pl.col("contacts").sum(), pl.col("cost").sum())
    )
    works = (
        pl.concat(work)
        if work
        else pl.DataFrame(
            schema={
                "failure": pl.Boolean,
                "demand_type": pl.String,
                "events": pl.Int64,
                "cost": pl.Float64,
            }
        )
    )
    total = int(cube["contacts"].sum())

    def n(expr: pl.Expr) -> int:
        return int(cube.filter(expr)["contacts"].sum())

    src, cls = pl.col("class_source"), pl.col("demand_class")
    by_class = (
        pl.DataFrame(
            {
                "class_source": [CLASSIFIED, CLASSIFIED, INFERRED, INFERRED, None],
                "demand_class": ["value", "failure", "value", "failure", "unknown"],
            },
            schema={"class_source": pl.String, "demand_class": pl.String},
        )
        .join(
            cube.group_by("class_source", "demand_class").agg(pl.col("contacts").sum()),
            on=["class_source", "demand_class"],
            how="left",
            maintain_order="left",
            nulls_equal=True,
        )
        .with_columns(pl.col("contacts").fill_null(0))
        .with_columns(
            (pl.col("contacts") / total if total else pl.lit(None, pl.Float64)).alias("share")
        )
    )
    classified_failure = cube.filter((src == CLASSIFIED) & (cls == "failure"))
    inferred_failure = cube.filter((src == INFERRED) & (cls == "failure"))
    failure_work = works.filter(pl.col("failure"))
    preventable = (
        cube.group_by("locality")
        .agg(
            pl.col("contacts").sum(),
            pl.col("contacts").filter(pl.col("preventable") == "yes").sum().alias("preventable"),
        )
        .with_columns((pl.col("preventable") / pl.col("contacts")).alias("preventable_share"))
        .sort(["contacts", "locality"], descending=[True, False])
    )
    signals = (
        pl.DataFrame(
            {
                "failure_signal": list(SIGNAL_RULES),
                "rule": list(SIGNAL_RULES.values()),
                "on": [name in config.rules for name in SIGNAL_RULES],
            }
        )
        .join(
            cube.filter(src == INFERRED).group_by("failure_signal").agg(pl.col("contacts").sum()),
            on="failure_signal",
            how="left",
            maintain_order="left",
        )
        .with_columns(pl.col("contacts").fill_null(0))
    )
    return DemandAnalysis(
        contacts=total,
        classified_contacts=n(src == CLASSIFIED),
        failure_contacts=int(classified_failure["contacts"].sum()),
        value_contacts=n((src == CLASSIFIED) & (cls == "value")),
        inferred_failure_contacts=int(inferred_failure["contacts"].sum()),
        inferred_value_contacts=n((src == INFERRED) & (cls == "value")),
        unknown_contacts=n(cls == "unknown"),
        work_pieces=int(works["events"].sum()),
        failure_work_events=int(failure_work["events"].sum()),
        failure_work_cost=float(failure_work["cost"].sum()),
        by_class=by_class,
        by_type=_wide(cube, "demand_type"),
        by_service=_wide(cube, "service"),
        by_channel=_wide(cube, "channel"),
        by_locality=_wide(cube, "locality"),
        by_week=_wide(cube, "week").sort("week"),
        by_locality_week=_wide(cube, ["locality", "week"]).sort("locality", "week"),
        preventable_by_locality=preventable,
        pareto=_pareto(classified_failure, "contacts"),
        inferred_pareto=_pareto(inferred_failure, "contacts"),
        failure_work_pareto=_pareto(failure_work, "events"),
        signals=signals,
    )
