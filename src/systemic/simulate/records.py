"""What the engine records each step, in preallocated arrays, and as tables.

Flows (contacts, hand-offs, admissions, costs...) are counted as they happen;
stocks (people by status, waiting lists, wellbeing) are taken at the end of
each step. Arrays are shaped ``[step, locality]`` or
``[step, locality, service]`` and become Polars tables at the end of a run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from systemic.simulate.compiled import CompiledScenario, S
from systemic.simulate.presets import SERVICES

if TYPE_CHECKING:  # pragma: no cover
    from systemic.simulate.engine import _People

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


def locality_sums(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sums of ``values`` over each locality's block (people are sorted by locality).

    >>> locality_sums(np.array([1, 2, 3, 4]), np.array([0, 1, 1, 4]))
    array([1., 0., 9.])
    """
    out = np.zeros(starts.size - 1)
    count = values.dtype == np.bool_
    for row in range(out.size):
        block = values[starts[row] : starts[row + 1]]
        # Pairwise summation in the array's own type: fast and accurate enough.
        out[row] = np.count_nonzero(block) if count else float(np.add.reduce(block))
    return out


class Records:
    """Per-step accumulators; the engine sets ``t`` and adds counts."""

    def __init__(self, c: CompiledScenario, steps: int | None = None) -> None:
        n_steps, n_loc = (c.steps if steps is None else steps), len(c.locality_names)
        self.c = c
        self.t = 0
        self.ls = {m: np.zeros((n_steps, n_loc, S)) for m in SERVICE_METRICS}
        self.l = {m: np.zeros((n_steps, n_loc)) for m in LOCALITY_METRICS}
        self.causes = np.zeros((n_steps, n_loc, len(FAILURE_CAUSES) - 1))
        self.bands = np.zeros((n_steps, n_loc, WELLBEING_BANDS), np.int64)
        self._band_buf = np.empty(c.n_people, np.float32)
        self._band_key = np.empty(c.n_people, np.int32)
        locality = np.repeat(np.arange(n_loc, dtype=np.int32), c.locality_size)
        self._band_offset = locality * (WELLBEING_BANDS + 1)

    # -- flows ---------------------------------------------------------------
    def count_ls(self, name: str, loc: np.ndarray, svc: np.ndarray) -> None:
        if loc.size:
            key = loc.astype(np.intp) * S + svc
            self.ls[name][self.t] += np.bincount(key, minlength=self.ls[name].shape[1] * S).reshape(
                -1, S
            )

    def add_ls(self, name: str, loc: np.ndarray, svc: np.ndarray, values: np.ndarray) -> None:
        if loc.size:
            key = loc.astype(np.intp) * S + svc
            n_loc = self.ls[name].shape[1]
            self.ls[name][self.t] += np.bincount(key, weights=values, minlength=n_loc * S).reshape(
                n_loc, S
            )

    add_cost_ls = add_ls

    def count_l(self, name: str, loc: np.ndarray) -> None:
        if loc.size:
            self.l[name][self.t] += np.bincount(loc, minlength=self.l[name].shape[1])

    def add_cost_l(self, name: str, loc: np.ndarray, unit: float) -> None:
        if loc.size:
            self.l[name][self.t] += unit * np.bincount(loc, minlength=self.l[name].shape[1])

    def count_contacts(self, loc: np.ndarray, svc: np.ndarray, reason: np.ndarray) -> None:
        value = reason == 0
        self.count_ls("contacts_value", loc[value], svc[value])
        self.count_ls("contacts_failure", loc[~value], svc[~value])
        fail = ~value
        if fail.any():
            n_loc = self.causes.shape[1]
            n = self.causes.shape[2]
            key = loc[fail].astype(np.intp) * n + (reason[fail] - 1)
            self.causes[self.t] += np.bincount(key, minlength=n_loc * n).reshape(n_loc, -1)

    # -- stocks --------------------------------------------------------------
    def end_step(self, t: int, p: _People, c: CompiledScenario) -> None:
        n_loc = len(c.locality_names)
        d = c.design
        t_l, t_ls = self.l, self.ls
        open_ = np.flatnonzero(p.status != 0)
        st = p.status[open_]
        loc = p.loc[open_].astype(np.intp)
        case = st < 3
        key = loc[case] * (2 * S) + (st[case] - 1) * S + p.service[open_[case]]
        stock = np.bincount(key, minlength=n_loc * 2 * S).reshape(n_loc, 2, S)
        t_ls["waiting"][t] = stock[:, 0, :]
        t_ls["in_service"][t] = stock[:, 1, :]
        t_ls["capacity"][t] = d.capacity
        residential = np.bincount(loc[~case], minlength=n_loc)
        t_l["residential_care"][t] = residential
        t_l["no_open_case"][t] = c.locality_size - stock.sum(axis=(1, 2)) - residential
        t_ls["cost_intervention"][t] = stock[:, 1, :] * c.unit_intervention[None, :]
        t_l["cost_residential"][t] = (
            residential * c.scenario.costs.residential_care_per_week * (c.scenario.weeks_per_step)
        )
        t_l["cost_prevention"][t] = d.prevention * c.locality_size * c.prevention_cost_per_step
        w = p.wellbeing
        sizes = np.maximum(c.locality_size, 1)
        t_l["wellbeing_mean"][t] = locality_sums(w, c.locality_start) / sizes
        t_l["connection_mean"][t] = locality_sums(p.connection, c.locality_start) / sizes
        # Wellbeing bands by locality in one bincount over (locality, band) keys.
        buf, key = self._band_buf, self._band_key
        np.multiply(w, np.float32(WELLBEING_BANDS), out=buf)
        np.copyto(key, buf, casting="unsafe")  # truncation = floor for w >= 0
        key += self._band_offset
        width = WELLBEING_BANDS + 1  # band 10 only at wellbeing exactly 1
        counts = np.bincount(key, minlength=n_loc * width).reshape(n_loc, width)
        counts[:, WELLBEING_BANDS - 1] += counts[:, WELLBEING_BANDS]
        self.bands[t] = counts[:, :WELLBEING_BANDS]

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
