"""Demand analysis: what people contact services about, and how much is failure demand.

*Value demand* is what a service exists to meet; *failure demand* is caused
by a failure to do something, or do something right, for the person. The
user's own classes (``demand_class`` value or failure) always win. Where a
contact's class is unknown, three signals of failure demand are inferred,
and each inferred contact says which rule fired (the first, in this order):

- ``repeat_contact``: the same demand type (or activity) within
  ``repeat_window_days`` of an earlier contact by the same person;
- ``recontact_after_closure``: a contact within ``recontact_window_days``
  after a closure by any service;
- ``contact_after_hand_off``: the contact is itself the first event in a new
  service after a hand-off (the person had to start again elsewhere).

Per partition, contacts are counted in a *cube* over every dimension;
:func:`finish_demand` sums cubes from any number of partitions and derives
the tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from systemic.learn.engine import ENGINE
from systemic.learn.journeys import demand_key

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
    """Contacts by class and by each dimension, with the failure-demand share.

    Wide tables (``by_type``, ``by_service``, ``by_channel``, ``by_locality``,
    ``by_week``, and ``by_locality_week`` for the weekly measures of each
    locality) have: the dimension(s), contacts, value, failure, unknown,
    failure_share. ``by_class``: demand_class, contacts, share.
    ``preventable_by_locality``: locality, contacts, preventable,
    preventable_share. ``pareto``: failure demand types with contacts,
    share and cumulative_share. ``signals``: each inferred rule with contacts.
    """

    contacts: int
    failure_contacts: int
    value_contacts: int
    by_class: pl.DataFrame
    by_type: pl.DataFrame
    by_service: pl.DataFrame
    by_channel: pl.DataFrame
    by_locality: pl.DataFrame
    by_week: pl.DataFrame
    by_locality_week: pl.DataFrame
    preventable_by_locality: pl.DataFrame
    pareto: pl.DataFrame
    signals: pl.DataFrame

    @property
    def failure_demand_share(self) -> float | None:
        """Failure contacts (user's or inferred) over all contacts; None without contacts."""
        return self.failure_contacts / self.contacts if self.contacts else None


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


def _wide(cube: pl.DataFrame, dim: str | list[str]) -> pl.DataFrame:
    dims = [dim] if isinstance(dim, str) else dim
    c = pl.col("contacts")
    cls = pl.col("demand_class")
    return (
        cube.group_by(dim)
        .agg(
            c.sum().alias("contacts"),
            c.filter(cls == "value").sum().alias("value"),
            c.filter(cls == "failure").sum().alias("failure"),
            c.filter(cls == "unknown").sum().alias("unknown"),
        )
        .with_columns((pl.col("failure") / pl.col("contacts")).alias("failure_share"))
        .sort(["contacts", *dims], descending=[True] + [False] * len(dims))
    )


def finish_demand(cubes: list[pl.DataFrame]) -> DemandAnalysis:
    """Sum demand cubes from every partition and derive the demand tables."""
    cube = (
        pl.concat(cubes)
        .group_by(list(CUBE_KEYS))
        .agg(pl.col("contacts").sum(), pl.col("cost").sum())
    )
    total = int(cube["contacts"].sum())
    by_class = (
        pl.DataFrame({"demand_class": ["value", "failure", "unknown"]})
        .join(
            cube.group_by("demand_class").agg(pl.col("contacts").sum()),
            on="demand_class",
            how="left",
            maintain_order="left",
        )
        .with_columns(pl.col("contacts").fill_null(0))
        .with_columns(
            (pl.col("contacts") / total if total else pl.lit(None, pl.Float64)).alias("share")
        )
    )
    failure = cube.filter(pl.col("demand_class") == "failure")
    n_failure = int(failure["contacts"].sum())
    pareto = (
        failure.group_by("demand_type")
        .agg(pl.col("contacts").sum(), pl.col("cost").sum())
        .sort(["contacts", "demand_type"], descending=[True, False])
        .with_columns((pl.col("contacts") / n_failure).alias("share"))
        .with_columns(pl.col("share").cum_sum().alias("cumulative_share"))
    )
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
        pl.DataFrame({"failure_signal": list(SIGNAL_RULES), "rule": list(SIGNAL_RULES.values())})
        .join(
            cube.filter(pl.col("class_source") == "inferred")
            .group_by("failure_signal")
            .agg(pl.col("contacts").sum()),
            on="failure_signal",
            how="left",
            maintain_order="left",
        )
        .with_columns(pl.col("contacts").fill_null(0))
    )
    return DemandAnalysis(
        contacts=total,
        failure_contacts=n_failure,
        value_contacts=int(cube.filter(pl.col("demand_class") == "value")["contacts"].sum()),
        by_class=by_class,
        by_type=_wide(cube, "demand_type"),
        by_service=_wide(cube, "service"),
        by_channel=_wide(cube, "channel"),
        by_locality=_wide(cube, "locality"),
        by_week=_wide(cube, "week").sort("week"),
        by_locality_week=_wide(cube, ["locality", "week"]).sort("locality", "week"),
        preventable_by_locality=preventable,
        pareto=pareto,
        signals=signals,
    )
