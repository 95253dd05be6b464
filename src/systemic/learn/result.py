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
    """The headline numbers of a learn run (what ``summary.json`` holds).

    Every field is defined, with its formula and a worked example, in the
    table in ``docs/learn.md``.
    """

    people: int
    events: int
    pieces: int
    case_ids_mapped: bool
    cases: int | None
    cases_spanning_people: int | None
    median_case_days: float | None
    p90_case_days: float | None
    needs: int
    median_need_days: float | None
    p90_need_days: float | None
    median_hand_offs: float | None
    timed_pieces: int
    case_flow_efficiency: float | None
    need_flow_efficiency: float | None
    contacts: int
    classified_contacts: int
    failure_contacts: int
    value_contacts: int
    failure_demand_share: float | None
    inferred_failure_contacts: int
    inferred_value_contacts: int
    inferred_failure_share: float | None
    unknown_contacts: int
    unknown_share: float | None
    work_pieces: int
    failure_work_events: int
    failure_work_share: float | None
    total_cost: float | None
    cost_of_failure_demand: float | None
    inferred_cost_of_failure_demand: float | None
    cost_of_failure_work: float | None
    cost_of_hand_offs: float | None
    costed_events: int
    uncosted_events: int
    currency: str | None
    price_year: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CostOfFailure:
    """Cost per service and per locality, of failure demand, failure work and hand-offs.

    Tables have: the dimension, events, pieces, costed_events,
    uncosted_events, hand_offs, cost, failure_cost (failure demand and the
    work after it in the need), failure_work_cost, hand_off_cost (the
    table's ``hand_off_cost`` per hand-off; null without one). Costs are in
    ``currency`` at ``price_year``.
    """

    currency: str | None
    price_year: int | None
    by_service: pl.DataFrame
    by_locality: pl.DataFrame


@dataclass
class LearnResult:
    """Everything learnt from a dataset. Row-level tables stay with the team.

    ``episodes`` holds one row per need (person-episode), ``cases`` one row
    per case (``case_id``; where no case id was mapped, each person's events
    are their case and ``case_ids_mapped`` is false).
    """

    config: LearnConfig
    unit_costs: UnitCostTable | None
    events: int
    people: int
    episodes: pl.DataFrame
    cases: pl.DataFrame
    case_ids_mapped: bool
    service_map: FlowMap
    activity_map: FlowMap
    service_variants: pl.DataFrame
    activity_variants: pl.DataFrame
    demand: DemandAnalysis
    localities: pl.DataFrame
    costs: CostOfFailure

    def summary(self) -> Summary:
        """The headline numbers (unsuppressed)."""
        e, c, d = self.episodes, self.cases, self.demand
        by_service = self.costs.by_service
        costed = int(by_service["costed_events"].sum())
        per_hand_off = self.unit_costs.hand_off_cost if self.unit_costs else None
        has_cost = costed > 0 or per_hand_off is not None

        def stat(frame: pl.DataFrame, col: str, q: float | None = None) -> float | None:
            if not frame.height:
                return None
            value = frame[col].median() if q is None else frame[col].quantile(q, "linear")
            return float(value) if value is not None else None  # type: ignore[arg-type]

        def total(frame: pl.DataFrame, col: str) -> float | None:
            return float(frame[col].sum()) if has_cost else None

        def efficiency(frame: pl.DataFrame, days: str) -> float | None:
            timed = frame.filter(pl.col("working_days").is_not_null())
            total = float(timed[days].sum()) if timed.height else 0.0
            return float(timed["working_days"].sum()) / total if total > 0 else None

        mapped = self.case_ids_mapped
        cases = c if mapped else c.clear()
        return Summary(
            people=self.people,
            events=self.events,
            pieces=int(e["pieces"].sum()),
            case_ids_mapped=mapped,
            cases=c.height if mapped else None,
            cases_spanning_people=int((c["people"] > 1).sum()) if mapped else None,
            median_case_days=stat(cases, "case_days"),
            p90_case_days=stat(cases, "case_days", 0.9),
            needs=e.height,
            median_need_days=stat(e, "end_to_end_days"),
            p90_need_days=stat(e, "end_to_end_days", 0.9),
            median_hand_offs=stat(e, "hand_offs"),
            timed_pieces=int(e["timed_pieces"].sum()),
            case_flow_efficiency=efficiency(cases, "case_days") if mapped else None,
            need_flow_efficiency=efficiency(e, "end_to_end_days"),
            contacts=d.contacts,
            classified_contacts=d.classified_contacts,
            failure_contacts=d.failure_contacts,
            value_contacts=d.value_contacts,
            failure_demand_share=d.failure_demand_share,
            inferred_failure_contacts=d.inferred_failure_contacts,
            inferred_value_contacts=d.inferred_value_contacts,
            inferred_failure_share=d.inferred_failure_share,
            unknown_contacts=d.unknown_contacts,
            unknown_share=d.unknown_share,
            work_pieces=d.work_pieces,
            failure_work_events=d.failure_work_events,
            failure_work_share=d.failure_work_share,
            total_cost=total(by_service, "cost"),
            cost_of_failure_demand=total(e, "failure_cost"),
            inferred_cost_of_failure_demand=total(e, "inferred_failure_cost"),
            cost_of_failure_work=total(e, "failure_work_cost"),
            cost_of_hand_offs=(
                float(e["hand_offs"].sum()) * per_hand_off if per_hand_off is not None else None
            ),
            costed_events=costed,
            uncosted_events=int(by_service["uncosted_events"].sum()),
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
            "inferred_failure_pareto": d.inferred_pareto,
            "failure_work_pareto": d.failure_work_pareto,
            "failure_signals": d.signals,
            "cost_by_service": self.costs.by_service,
            "cost_by_locality": self.costs.by_locality,
            "localities": self.localities,
        }
