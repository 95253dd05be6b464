"""The result of one run: per-step tables plus the aggregates calibration reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:  # pragma: no cover
    from systemic.simulate.scenario import Scenario

#: Columns of :meth:`SimulationResult.totals` that are averages, not sums.
MEAN_COLUMNS = ("wellbeing_mean", "connection_mean")

#: Series compared between designs and summarised by ensembles.
KEY_METRICS: tuple[str, ...] = (
    "contacts",
    "value_demand",
    "failure_demand",
    "crises",
    "hand_offs",
    "waiting",
    "cost",
    "wellbeing_mean",
    "below_need",
    "residential_care",
)


@dataclass
class SimulationResult:
    """One run of one scenario with one seed.

    - ``steps``: one row per step and locality (demand by class and cause,
      hand-offs, waits, crises, people by status, wellbeing, costs);
    - ``services``: one row per step, locality and service;
    - ``wellbeing``: people per wellbeing band per step and locality;
    - ``event_log``: event codes when run with ``events=True`` (see
      :func:`systemic.simulate.write_events`).
    """

    scenario: Scenario
    seed: int
    steps: pl.DataFrame
    services: pl.DataFrame
    wellbeing: pl.DataFrame
    event_log: pl.DataFrame | None = None

    def totals(self) -> pl.DataFrame:
        """The whole town per step: counts and costs summed, means weighted by people.

        >>> from systemic.simulate import load_scenario, run
        >>> r = run(load_scenario({"population": {"people": 300}, "years": 0.2}), seed=1)
        >>> r.totals().height == r.scenario.steps
        True
        """
        numeric = [
            c
            for c, t in self.steps.schema.items()
            if c not in ("step", "date", "locality") and t.is_numeric()
        ]
        sums = [pl.col(c).sum() for c in numeric if c not in MEAN_COLUMNS]
        means = [
            ((pl.col(c) * pl.col("people")).sum() / pl.col("people").sum()).alias(c)
            for c in MEAN_COLUMNS
        ]
        return (
            self.steps.group_by("step", "date", maintain_order=True).agg(sums + means).sort("step")
        )

    def summary(self, *, from_step: int = 0) -> dict[str, float]:
        """Whole-run aggregates (from ``from_step``), the quantities calibration matches.

        - ``contacts_per_1000``: contacts per 1,000 residents per year;
        - ``value_per_1000`` / ``failure_per_1000``: the same by demand class;
        - ``contacts_per_1000_<service>``: by entry service;
        - ``failure_demand_share``: failure contacts / all contacts;
        - ``hand_offs_per_case``: hand-offs per case opened;
        - ``hand_off_loss_rate``: lost hand-offs / hand-offs;
        - ``re_referral_rate``: re-referral contacts / case closures;
        - ``premature_closure_share``: closures with the need unmet / closures;
        - ``crises_per_1000``: crisis episodes (A&E) per 1,000 residents per year;
        - ``mean_wait_weeks``: mean wait from joining a list to starting;
        - ``cost_per_resident``: cost per resident per year;
        - ``wellbeing_mean``: mean wellbeing over the period.

        >>> from systemic.simulate import load_scenario, run
        >>> r = run(load_scenario({"population": {"people": 2000}, "years": 1}), seed=1)
        >>> 0 <= r.summary()["failure_demand_share"] <= 1
        True
        """
        sc = self.scenario
        s = self.steps.filter(pl.col("step") >= from_step)
        n_steps = s["step"].n_unique()
        years = max(n_steps * sc.days_per_step / 365.25, 1e-12)
        people = sc.population.people
        tot = s.select(pl.exclude("step", "date", "locality").sum()).row(0, named=True)
        per_1000 = 1000.0 / people / years

        def ratio(a: float, b: float) -> float:
            return float(a / b) if b else float("nan")

        out = {
            "contacts_per_1000": tot["contacts"] * per_1000,
            "value_per_1000": tot["value_demand"] * per_1000,
            "failure_per_1000": tot["failure_demand"] * per_1000,
            "failure_demand_share": ratio(tot["failure_demand"], tot["contacts"]),
            "hand_offs_per_case": ratio(tot["hand_offs"], tot["cases_opened"]),
            "hand_off_loss_rate": ratio(tot["hand_offs_lost"], tot["hand_offs"]),
            "re_referral_rate": ratio(tot["failure_re_referral"], tot["closures"]),
            "premature_closure_share": ratio(tot["premature_closures"], tot["closures"]),
            "crises_per_1000": tot["crises"] * per_1000,
            "mean_wait_weeks": ratio(tot["wait_steps"], tot["admissions"]) * sc.weeks_per_step,
            "cost_per_resident": tot["cost"] / people / years,
            "wellbeing_mean": float(s["wellbeing_mean"].cast(pl.Float64).mean() or 0.0),  # type: ignore[arg-type]
        }
        by_service = (
            self.services.filter(pl.col("step") >= from_step)
            .group_by("service")
            .agg((pl.col("contacts_value") + pl.col("contacts_failure")).sum().alias("n"))
        )
        for service, n in by_service.iter_rows():
            out[f"contacts_per_1000_{service}"] = n * per_1000
        out["contacts_per_1000_a_and_e"] = tot["crises"] * per_1000
        return {k: float(v) for k, v in out.items()}
