"""The typed result of learning, and its summary.

A :class:`LearnResult` holds Polars DataFrames: row-level tables (episodes,
cases; pseudonymised, for the team only) and aggregate tables. Aggregate
tables are published, with small numbers suppressed, by
:func:`systemic.learn.publish.published_tables`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

from systemic.learn.config import LearnConfig
from systemic.learn.costs import UnitCostTable
from systemic.learn.demand import DemandAnalysis
from systemic.learn.flow import FlowMap


@dataclass(frozen=True)
class Summary:
    """The headline numbers of a learn run (what ``summary.json`` holds)."""

    people: int
    episodes: int
    events: int
    contacts: int
    failure_contacts: int
    failure_demand_share: float | None
    median_end_to_end_days: float | None
    median_hand_offs: float | None
    total_cost: float | None
    cost_of_failure: float | None
    cost_of_hand_offs: float | None
    costed_events: int
    currency: str | None
    price_year: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CostOfFailure:
    """Cost per service and per locality, and of failure demand and hand-offs.

    Tables have: the dimension, events, costed_events, hand_offs, cost,
    failure_cost, hand_off_cost. Costs are in ``currency`` at ``price_year``.
    """

    currency: str | None
    price_year: int | None
    by_service: pl.DataFrame
    by_locality: pl.DataFrame


@dataclass
class LearnResult:
    """Everything learnt from a dataset. Row-level tables stay with the team."""

    config: LearnConfig
    unit_costs: UnitCostTable | None
    events: int
    people: int
    episodes: pl.DataFrame
    cases: pl.DataFrame
    service_map: FlowMap
    activity_map: FlowMap
    service_variants: pl.DataFrame
    activity_variants: pl.DataFrame
    demand: DemandAnalysis
    localities: pl.DataFrame
    costs: CostOfFailure

    def summary(self) -> Summary:
        """The headline numbers (unsuppressed)."""
        e = self.episodes
        costed = int(self.costs.by_service["costed_events"].sum())
        has_cost = costed > 0 or bool(self.unit_costs and self.unit_costs.hand_off_cost)

        def median(col: str) -> float | None:
            value = e[col].median() if e.height else None
            return float(value) if value is not None else None  # type: ignore[arg-type]

        def total(frame: pl.DataFrame, col: str) -> float | None:
            return float(frame[col].sum()) if has_cost else None

        return Summary(
            people=self.people,
            episodes=e.height,
            events=self.events,
            contacts=self.demand.contacts,
            failure_contacts=self.demand.failure_contacts,
            failure_demand_share=self.demand.failure_demand_share,
            median_end_to_end_days=median("end_to_end_days"),
            median_hand_offs=median("hand_offs"),
            total_cost=total(self.costs.by_service, "cost"),
            cost_of_failure=total(self.costs.by_service, "failure_cost"),
            cost_of_hand_offs=total(self.costs.by_service, "hand_off_cost"),
            costed_events=costed,
            currency=self.unit_costs.currency if self.unit_costs else None,
            price_year=self.unit_costs.year if self.unit_costs else None,
        )

    def tables(self) -> dict[str, pl.DataFrame]:
        """Every aggregate table by name (unsuppressed: for the team, not for release)."""
        d = self.demand
        return {
            "service_edges": self.service_map.edges,
            "service_starts": self.service_map.starts,
            "service_ends": self.service_map.ends,
            "activity_edges": self.activity_map.edges,
            "activity_starts": self.activity_map.starts,
            "activity_ends": self.activity_map.ends,
            "service_variants": self.service_variants,
            "activity_variants": self.activity_variants,
            "demand_by_class": d.by_class,
            "demand_by_type": d.by_type,
            "demand_by_service": d.by_service,
            "demand_by_channel": d.by_channel,
            "demand_by_locality": d.by_locality,
            "demand_by_week": d.by_week,
            "preventable_by_locality": d.preventable_by_locality,
            "failure_demand_pareto": d.pareto,
            "failure_signals": d.signals,
            "cost_by_service": self.costs.by_service,
            "cost_by_locality": self.costs.by_locality,
            "localities": self.localities,
        }
