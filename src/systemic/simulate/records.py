"""What the engine records each step, in preallocated arrays, and as tables.

Flows (contacts, hand-offs, admissions, costs...) are counted as they happen;
stocks (people by status, waiting lists, wellbeing) are taken at the end of
each step. Arrays are shaped ``[step, locality]`` or
``[step, locality, service]`` and become Polars tables at the end of a run.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from systemic.simulate.compiled import CompiledScenario, S
from systemic.simulate.presets import SERVICES

#: Flows and stocks by locality and service.
SERVICE_METRICS: tuple[str, ...] = (
    "contacts_value",
    "contacts_failure",
    "hand_offs",
    "hand_offs_lost",
    "refused",
    "queue_joins",
    "admissions",
    "wait_steps",
    "closures",
    "premature_closures",
    "left_waiting",
    "left_service",
    "waiting",
    "in_service",
    "capacity",
    "cost_contact",
    "cost_assessment",
    "cost_intervention",
)

#: Flows and stocks by locality.
LOCALITY_METRICS: tuple[str, ...] = (
    "life_events",
    "cases_opened",
    "crises",
    "emergency_admissions",
    "residential_admissions",
    "residential_exits",
    "cost_crisis",
    "cost_residential",
    "cost_prevention",
    "no_open_case",
    "residential_care",
    "below_need",
    "below_crisis",
    "wellbeing_mean",
    "connection_mean",
)

#: Failure demand by its cause (demand types after "new need").
FAILURE_CAUSES: tuple[str, ...] = (
    "failure_lost_hand_off",
    "failure_re_referral",
    "failure_refused",
    "failure_chase",
    "failure_crisis",
)

WELLBEING_BANDS = 10


class Records:
    """Per-step accumulators; the engine sets ``t`` and adds counts."""

    def __init__(self, c: CompiledScenario, steps: int | None = None) -> None:
        n_steps, n_loc = (c.steps if steps is None else steps), len(c.locality_names)
        self.c = c
        self.t = 0
        # One array per shape (the compiled step writes them); ``ls`` and ``l``
        # name each metric's slice.
        self.ls_all = np.zeros((len(SERVICE_METRICS), n_steps, n_loc, S))
        self.l_all = np.zeros((len(LOCALITY_METRICS), n_steps, n_loc))
        self.ls = {m: self.ls_all[i] for i, m in enumerate(SERVICE_METRICS)}
        self.l = {m: self.l_all[i] for i, m in enumerate(LOCALITY_METRICS)}
        self.causes = np.zeros((n_steps, n_loc, len(FAILURE_CAUSES) - 1))
        self.bands = np.zeros((n_steps, n_loc, WELLBEING_BANDS), np.int64)

    # -- flows --------------------------------------------------------------
    def count_ls(self, name: str, loc: np.ndarray, svc: np.ndarray) -> None:
        """Count one flow by locality and service (for rules applied outside the step)."""
        if loc.size:
            key = loc.astype(np.intp) * S + svc
            self.ls[name][self.t] += np.bincount(key, minlength=self.ls[name].shape[1] * S).reshape(
                -1, S
            )

    # -- tables --------------------------------------------------------------
    def _keys(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        n_steps, n_loc = self.c.steps, len(self.c.locality_names)
        step = np.repeat(np.arange(n_steps, dtype=np.int32), n_loc)
        loc = np.tile(np.arange(n_loc), n_steps)
        return step, loc, self.c.locality_names

    def _dates(self, step: np.ndarray) -> pl.Series:
        sc = self.c.scenario
        start = sc.date_of(0)
        micro = (step.astype(np.int64) * round(sc.days_per_step * 86_400_000_000)).astype(np.int64)
        offsets = pl.Series("date", micro).cast(pl.Duration("us"))
        return pl.select((pl.lit(start) + offsets).alias("date")).to_series()

    def steps_frame(self) -> pl.DataFrame:
        """One row per step and locality: flows summed over services, stocks, costs."""
        step, loc, names = self._keys()
        n_steps, _n_loc = self.c.steps, len(names)
        cols: dict[str, np.ndarray] = {}
        cols["people"] = np.tile(self.c.locality_size, n_steps)
        ls = {m: v.sum(axis=2).reshape(-1) for m, v in self.ls.items()}
        # Crisis attendances (A&E) are failure demand too: unmet need escalating.
        crises = self.l["crises"].reshape(-1)
        cols["contacts"] = ls["contacts_value"] + ls["contacts_failure"] + crises
        cols["value_demand"] = ls["contacts_value"]
        cols["failure_demand"] = ls["contacts_failure"] + crises
        for i, cause in enumerate(FAILURE_CAUSES[:-1]):
            cols[cause] = self.causes[:, :, i].reshape(-1)
        cols["failure_crisis"] = crises
        for m in (
            "hand_offs",
            "hand_offs_lost",
            "refused",
            "queue_joins",
            "admissions",
            "wait_steps",
            "closures",
            "premature_closures",
            "left_waiting",
            "left_service",
            "waiting",
            "in_service",
        ):
            cols[m] = ls[m]
        for m in LOCALITY_METRICS:
            cols[m] = self.l[m].reshape(-1)
        cols["cost_contact"] = ls["cost_contact"]
        cols["cost_assessment"] = ls["cost_assessment"]
        cols["cost_intervention"] = ls["cost_intervention"]
        cols["cost"] = (
            cols["cost_contact"]
            + cols["cost_assessment"]
            + cols["cost_intervention"]
            + cols["cost_crisis"]
            + cols["cost_residential"]
            + cols["cost_prevention"]
        )
        frame = pl.DataFrame(
            {
                "step": step,
                "locality": pl.Series([names[i] for i in loc], dtype=pl.String),
                **{k: v for k, v in cols.items()},
            }
        )
        counts = [
            c for c in frame.columns if c not in _FLOAT_COLUMNS and c not in ("step", "locality")
        ]
        frame = frame.with_columns([pl.col(c).cast(pl.Int64) for c in counts])
        return frame.insert_column(1, self._dates(step))

    def services_frame(self) -> pl.DataFrame:
        """One row per step, locality and service."""
        n_steps, n_loc = self.c.steps, len(self.c.locality_names)
        step = np.repeat(np.arange(n_steps, dtype=np.int32), n_loc * S)
        loc = np.tile(np.repeat(np.arange(n_loc), S), n_steps)
        svc = np.tile(np.arange(S), n_steps * n_loc)
        frame = pl.DataFrame(
            {
                "step": step,
                "locality": pl.Series(self.c.locality_names)[loc],
                "service": pl.Series(list(SERVICES))[svc],
                **{m: v.reshape(-1) for m, v in self.ls.items()},
            }
        )
        frame = frame.with_columns(
            (
                pl.col("cost_contact") + pl.col("cost_assessment") + pl.col("cost_intervention")
            ).alias("cost"),
            *[
                pl.col(m).cast(pl.Int64)
                for m in SERVICE_METRICS
                if not m.startswith("cost") and m != "wait_steps"
            ],
        )
        return frame.insert_column(1, self._dates(step))

    def wellbeing_frame(self) -> pl.DataFrame:
        """People per wellbeing band (tenths of the 0-1 scale) by step and locality."""
        n_steps, n_loc = self.c.steps, len(self.c.locality_names)
        n_bands = WELLBEING_BANDS
        step = np.repeat(np.arange(n_steps, dtype=np.int32), n_loc * n_bands)
        loc = np.tile(np.repeat(np.arange(n_loc), n_bands), n_steps)
        band = np.tile(np.arange(n_bands), n_steps * n_loc)
        return pl.DataFrame(
            {
                "step": step,
                "locality": pl.Series(self.c.locality_names)[loc],
                "band_low": (band / n_bands).astype(np.float64),
                "people": self.bands.reshape(-1),
            }
        )


_FLOAT_COLUMNS = {
    "wellbeing_mean",
    "connection_mean",
    "wait_steps",
    "cost",
    "cost_contact",
    "cost_assessment",
    "cost_intervention",
    "cost_crisis",
    "cost_residential",
    "cost_prevention",
}
