"""Calibration: fit chosen scenario parameters to aggregates measured on a real dataset.

The targets are the aggregates ``systemic learn`` measures on an event log
(see :data:`AGGREGATES`), given as a plain dictionary, so simulate never
imports learn. The simulated side is measured the same way: each candidate
scenario is run, its events are built with :func:`event_frame` and measured
by :func:`event_aggregates`, which applies learn's definitions (episodes cut
by a gap, a hand-off is a change of service within an episode).

The fit is a bounded Nelder-Mead search in the unit cube of the chosen
parameters, on common random numbers (the same seeds at every candidate, so
that differences come from the parameters, not from chance). Afterwards a
finite-difference Jacobian of the aggregates at the fit, scaled by their
Monte-Carlo noise, says which parameters the data can identify: a parameter
the aggregates barely respond to, or one whose effect another parameter can
mimic (strongly correlated estimates), is reported as not identified.

>>> from systemic.simulate import load_scenario, run
>>> from systemic.simulate.calibrate import calibrate, simulated_aggregates
>>> truth = load_scenario({"population": {"people": 2000}, "years": 1})
>>> targets = simulated_aggregates(truth, seeds=(11,))
>>> fit = calibrate(truth, targets, ["population.seek_per_week"], seeds=(1,), budget=12,
...                 aggregates=["contacts_per_1000"])
>>> fit.parameters.columns[:3]
['parameter', 'low', 'high']
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from systemic.simulate.engine import run
from systemic.simulate.errors import ScenarioError
from systemic.simulate.events import event_frame, people_frame
from systemic.simulate.scenario import Scenario, load_scenario, scenario_to_dict, with_overrides

#: The aggregates calibration matches, with learn's definitions.
AGGREGATES: dict[str, str] = {
    "contacts_per_1000": "contacts (events of kind 'contact') per 1,000 residents per year",
    "failure_demand_share": "contacts classed as failure demand / all contacts",
    "hand_offs_per_episode": (
        "changes of service between consecutive events of a person's episode "
        "(a gap over episode_gap_days starts a new episode) / episodes"
    ),
    "re_referral_rate": (
        "contacts whose demand type is a re-referral after closure / all contacts"
    ),
}

#: Per-service contact aggregates are named ``contacts_per_1000[<service>]``.
BY_SERVICE = "contacts_per_1000[{}]"

#: Demand types that count as re-referral after closure (the simulator's name).
RE_REFERRAL_TYPES: tuple[str, ...] = ("re-referral after closure",)


class CalibrationError(ValueError):
    """A calibration request that cannot run (unknown parameter, no usable target...)."""


# -- measuring ---------------------------------------------------------------------------


def event_aggregates(
    events: pl.DataFrame | pl.LazyFrame,
    *,
    residents: int,
    years: float,
    episode_gap_days: float = 90.0,
    re_referral_types: Iterable[str] = RE_REFERRAL_TYPES,
) -> dict[str, float]:
    """The calibration aggregates of an event frame in the foundation's schema.

    The definitions are those of ``systemic learn`` with its default settings
    (episode gap 90 days; the user's ``demand_class`` decides failure demand).

    >>> import datetime as dt, polars as pl
    >>> t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)
    >>> ev = pl.DataFrame({"person_id": ["a", "a", "a"], "service": ["CC", "Housing", "CC"],
    ...     "kind": ["contact", "assessment", "contact"], "timestamp": [t(1), t(2), t(3)],
    ...     "demand_class": ["value", "value", "failure"],
    ...     "demand_type": ["new need", None, "re-referral after closure"]})
    >>> a = event_aggregates(ev, residents=1000, years=1.0)
    >>> a["contacts_per_1000"], a["failure_demand_share"], a["hand_offs_per_episode"]
    (2.0, 0.5, 2.0)
    """
    lf = events.lazy()
    names = lf.collect_schema().names()
    if "demand_type" not in names:
        lf = lf.with_columns(pl.lit(None, pl.String).alias("demand_type"))
    if "demand_class" not in names:
        lf = lf.with_columns(pl.lit("unknown").alias("demand_class"))
    gap = dt.timedelta(days=episode_gap_days)
    ts = pl.col("timestamp")
    same = pl.col("person_id") == pl.col("person_id").shift(1)
    order = ["person_id", "timestamp"] + [c for c in ("source", "source_row") if c in names]
    df = (
        lf.select("person_id", "service", "kind", "timestamp", "demand_class", "demand_type")
        .sort(order, nulls_last=True, maintain_order=True)
        .with_columns(new_episode=(~same | ((ts - ts.shift(1)) > gap)).fill_null(True))
        .with_columns(
            hand_off=(
                ~pl.col("new_episode") & (pl.col("service") != pl.col("service").shift(1))
            ).fill_null(False),
            is_contact=(pl.col("kind") == "contact").fill_null(False),
        )
        .collect()
    )
    contact = df.filter(pl.col("is_contact"))
    n = contact.height
    episodes = int(df["new_episode"].sum())
    per_1000 = 1000.0 / residents / years

    def share(k: int) -> float:
        return k / n if n else math.nan

    out: dict[str, float] = {
        "contacts_per_1000": n * per_1000,
        "failure_demand_share": share(int((contact["demand_class"] == "failure").sum())),
        "hand_offs_per_episode": int(df["hand_off"].sum()) / episodes if episodes else math.nan,
        "re_referral_rate": share(int(contact["demand_type"].is_in(list(re_referral_types)).sum())),
    }
    for service, k in contact.group_by("service").len().sort("service").iter_rows():
        out[BY_SERVICE.format(service)] = k * per_1000
    return out


def _observed_years(scenario: Scenario, burn_in_years: float) -> tuple[dt.datetime, float]:
    start = scenario.date_of(0)
    burn = scenario.step_of((start + dt.timedelta(days=burn_in_years * 365.25)).date())
    years = (scenario.steps - burn) * scenario.days_per_step / 365.25
    if years <= 0:
        raise CalibrationError(
            f"burn_in_years {burn_in_years} leaves no observed period in a "
            f"{scenario.years}-year scenario: lengthen 'years' or shorten the burn-in"
        )
    return scenario.date_of(burn), years


def simulated_aggregates(
    scenario: Scenario | dict[str, Any] | str,
    *,
    seeds: Sequence[int] = (0,),
    burn_in_years: float = 0.0,
    episode_gap_days: float = 90.0,
) -> dict[str, float]:
    """The calibration aggregates of a scenario, averaged over ``seeds``.

    Events before ``burn_in_years`` are dropped (the model starts with no open
    cases; a real extract is a window on a running system).

    >>> a = simulated_aggregates({"population": {"people": 1000}, "years": 1}, seeds=(1, 2))
    >>> 0 < a["failure_demand_share"] < 1
    True
    """
    table = _aggregate_table(load_scenario(scenario), seeds, burn_in_years, episode_gap_days)
    return {k: float(np.nanmean(v)) for k, v in table.items()}


def _aggregate_table(
    scenario: Scenario, seeds: Sequence[int], burn_in_years: float, episode_gap_days: float
) -> dict[str, np.ndarray]:
    """Aggregates per seed: name -> array over seeds (0 where a service saw no contact)."""
    window_start, years = _observed_years(scenario, burn_in_years)
    rows: list[dict[str, float]] = []
    for seed in seeds:
        frame = event_frame(run(scenario, seed=seed, events=True))
        frame = frame.filter(pl.col("timestamp") >= window_start)
        rows.append(
            event_aggregates(
                frame,
                residents=scenario.population.people,
                years=years,
                episode_gap_days=episode_gap_days,
            )
        )
    keys = sorted({k for r in rows for k in r})
    default = {k: (0.0 if k.startswith("contacts_per_1000[") else math.nan) for k in keys}
    return {k: np.array([r.get(k, default[k]) for r in rows], float) for k in keys}


# -- parameters --------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    """A parameter to fit: a dotted path (``*`` matches every key at that level) and bounds.

    When a ``*`` path matches values that differ (say every life event's
    ``rate_per_year``), the parameter is a common *multiplier* of them
    (``base`` holds the values at 1) so that their proportions are kept.
    """

    name: str
    paths: tuple[str, ...]
    low: float
    high: float
    start: float
    base: tuple[float, ...] | None = None

    def values(self, value: float) -> dict[str, float]:
        """The scenario overrides for this parameter at ``value``."""
        if self.base is None:
            return {path: float(value) for path in self.paths}
        return {path: float(value) * b for path, b in zip(self.paths, self.base, strict=True)}


def _leaf_paths(data: Any, parts: list[str], prefix: str = "") -> list[str]:
    if not parts:
        return [prefix[1:]] if isinstance(data, (int, float)) and not isinstance(data, bool) else []
    head, rest = parts[0], parts[1:]
    if isinstance(data, list):
        items = [(x.get("name"), x) for x in data if isinstance(x, dict)]
    elif isinstance(data, dict):
        items = list(data.items())
    else:
        return []
    out: list[str] = []
    for key, value in items:
        if head in ("*", key):
            out += _leaf_paths(value, rest, f"{prefix}.{key}")
    return out


def _get(data: Any, path: str) -> float:
    node = data
    for part in path.split("."):
        if isinstance(node, list):
            node = next(x for x in node if x.get("name") == part)
        else:
            node = node[part]
    return float(node)


def resolve_parameters(
    scenario: Scenario,
    names: Sequence[str],
    bounds: Mapping[str, tuple[float, float]] | None = None,
) -> list[Parameter]:
    """Parameters from dotted names, with bounds from ``bounds``, the scenario's
    ``[uncertainty]`` table, or else half to one and a half times the current value.

    >>> sc = load_scenario({})
    >>> p = resolve_parameters(sc, ["design.services.*.hand_off_loss"])[0]
    >>> len(p.paths), p.start, p.low, round(p.high, 3)
    (8, 0.15, 0.075, 0.225)
    """
    data = scenario_to_dict(scenario)
    bounds = dict(bounds or {})
    out = []
    for name in names:
        paths = tuple(_leaf_paths(data, name.split(".")))
        if not paths:
            raise CalibrationError(
                f"parameter {name!r} is not a numeric parameter of scenario {scenario.name!r}: "
                "give a dotted path such as population.seek_per_week "
                "(use * to tie a parameter across services)"
            )
        values = [_get(data, p) for p in paths]
        base = tuple(values) if len(set(values)) > 1 else None
        start = 1.0 if base else values[0]
        if name in bounds:
            low, high = bounds[name]
        elif name in scenario.uncertainty:
            low, high = scenario.uncertainty[name]
        else:
            low, high = 0.5 * start, 1.5 * start
            if start <= 1.0 and base is None:
                high = min(high, 1.0)
        if not low < high:
            raise CalibrationError(
                f"parameter {name!r}: bounds ({low}, {high}) are empty: give low < high"
            )
        out.append(
            Parameter(name, paths, float(low), float(high), min(max(start, low), high), base)
        )
    return out


def apply_parameters(
    scenario: Scenario, params: Sequence[Parameter], values: Sequence[float]
) -> Scenario:
    """``scenario`` with each parameter (all its paths) set to its value."""
    over: dict[str, float] = {}
    for p, v in zip(params, values, strict=True):
        over.update(p.values(v))
    try:
        return with_overrides(scenario, over)
    except ScenarioError as err:
        named = {p.name: float(v) for p, v in zip(params, values, strict=True)}
        raise CalibrationError(f"cannot set {named}: {err}") from None


# -- the fit -----------------------------------------------------------------------------


@dataclass
class CalibrationResult:
    """Fitted parameters, fit quality and identifiability.

    - ``parameters``: parameter, low, high, start, fitted, se (approximate
      standard error from the noise-scaled Jacobian), sensitivity (change of
      the aggregates across the parameter's whole range, in Monte-Carlo
      standard errors), identified (bool), note (why not);
    - ``fit``: aggregate, target, start, simulated, relative_error, mc_se
      (Monte-Carlo standard error of the simulated value);
    - ``correlation``: estimated correlation between fitted parameters;
    - ``history``: every evaluation (evaluation, loss, one column per parameter);
    - ``loss``: mean squared weighted error at the fit (``start_loss`` at the
      start), in standard errors (``weighting="noise"``) or relative;
    - ``scenario``: the scenario with fitted values.
    """

    parameters: pl.DataFrame
    fit: pl.DataFrame
    correlation: pl.DataFrame
    history: pl.DataFrame
    loss: float
    start_loss: float
    evaluations: int
    seeds: tuple[int, ...]
    scenario: Scenario
    message: str
    weighting: str = "noise"
    notes: list[str] = field(default_factory=list)

    @property
    def fitted(self) -> dict[str, float]:
        """Fitted value by parameter name."""
        return dict(zip(self.parameters["parameter"], self.parameters["fitted"], strict=True))

    @property
    def not_identified(self) -> list[str]:
        """Parameters the targets cannot identify."""
        return self.parameters.filter(~pl.col("identified"))["parameter"].to_list()


def calibrate(
    scenario: Scenario | dict[str, Any] | str,
    targets: Mapping[str, float],
    parameters: Sequence[str],
    *,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    start: Mapping[str, float] | None = None,
    aggregates: Sequence[str] | None = None,
    target_se: Mapping[str, float] | None = None,
    seeds: Sequence[int] = (1, 2),
    budget: int = 60,
    method: str = "least_squares",
    burn_in_years: float = 0.0,
    episode_gap_days: float = 90.0,
    weighting: str = "noise",
    on_evaluation: Callable[[int, float], None] | None = None,
) -> CalibrationResult:
    """Fit ``parameters`` of ``scenario`` so its aggregates match ``targets``.

    ``targets`` maps aggregate names (:data:`AGGREGATES`, or
    ``contacts_per_1000[<service>]``) to observed values; ``aggregates``
    restricts which are matched (default: every target the simulation also
    produces). ``weighting="noise"`` (the default) measures each error in
    standard errors (the Monte-Carlo error of the simulated aggregate at the
    start, with ``target_se``), so noisy aggregates count for less;
    ``weighting="relative"`` uses relative errors. The loss is the mean
    squared weighted error. ``seeds`` are the
    common random numbers: every candidate runs on the same seeds.
    ``budget`` caps the evaluations of the search (each is ``len(seeds)``
    runs); identifiability costs about ``2 * len(parameters) + 1`` more.
    ``method`` is ``least_squares`` (SciPy's bounded trust-region least
    squares on the weighted errors, with forward differences of 10% of each
    range: on common random numbers a step that size measures a parameter's
    effect rather than the graininess of a finite population) or
    ``simplex`` (a scrambled Sobol design over the whole box for about a
    third of the budget, then SciPy's bounded Nelder-Mead from the best
    point: derivative-free, for starts far from the answer, but slower).
    ``target_se`` gives the sampling standard error of observed targets, if
    known; it widens the reported parameter uncertainty.
    """
    if method not in ("least_squares", "simplex"):
        raise CalibrationError(f"method {method!r}: choose simplex or least_squares")
    if weighting not in ("noise", "relative"):
        raise CalibrationError(f"weighting {weighting!r}: choose noise or relative")
    sc = load_scenario(scenario)
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise CalibrationError("calibrate needs at least one seed")
    params = resolve_parameters(sc, parameters, bounds)
    if start:
        unknown = set(start) - {p.name for p in params}
        if unknown:
            raise CalibrationError(
                f"start values for parameters not being fitted: {sorted(unknown)}"
            )
        params = [
            replace(p, start=min(max(float(start[p.name]), p.low), p.high))
            if p.name in start
            else p
            for p in params
        ]
    low = np.array([p.low for p in params])
    width = np.array([p.high - p.low for p in params])
    u0 = (np.array([p.start for p in params]) - low) / width

    cache: dict[tuple[float, ...], dict[str, np.ndarray]] = {}
    history: list[tuple[float, np.ndarray]] = []
    recorded: set[tuple[float, ...]] = set()

    def measure(u: np.ndarray) -> dict[str, np.ndarray]:
        u = np.clip(u, 0.0, 1.0)
        key = tuple(np.round(u, 10))
        if key not in cache:
            candidate = apply_parameters(sc, params, low + u * width)
            cache[key] = _aggregate_table(candidate, seeds, burn_in_years, episode_gap_days)
        return cache[key]

    first = measure(u0)
    names = _matched(targets, first, aggregates)
    target = np.array([float(targets[k]) for k in names])
    if weighting == "noise":
        start_noise = _noise(
            sc, params, low + u0 * width, names, seeds, burn_in_years, episode_gap_days, target_se
        )
        scale = np.maximum(start_noise["total"], 1e-9)
    elif weighting == "relative":
        scale = np.maximum(np.abs(target), 1e-9)
    else:
        raise CalibrationError(f"weighting {weighting!r}: choose noise or relative")

    def simulated(u: np.ndarray) -> np.ndarray:
        table = measure(u)
        return np.array([_mean(table, k) for k in names])

    def residuals(u: np.ndarray) -> np.ndarray:
        u = np.clip(u, 0.0, 1.0)
        key = tuple(np.round(u, 10))
        fresh = key not in recorded
        if fresh and len(history) >= budget:
            raise _BudgetSpentError
        rel = (simulated(u) - target) / scale
        rel = np.where(np.isnan(rel), 1.0, rel)
        if fresh:
            recorded.add(key)
            value = float(np.mean(rel**2))
            history.append((value, u.copy()))
            if on_evaluation is not None:
                on_evaluation(len(history), value)
        return rel

    k = len(params)
    start_loss = float(np.mean(residuals(u0) ** 2))
    try:
        message = _search(residuals, u0, method, budget)
    except _BudgetSpentError:
        message = f"stopped after the budget of {budget} evaluations"
    best_loss, best_u = min(history, key=lambda h: h[0])

    # Identifiability: noise-scaled Jacobian of the aggregates at the fit.
    noise = _noise(
        sc, params, low + best_u * width, names, seeds, burn_in_years, episode_gap_days, target_se
    )
    jac = np.zeros((len(names), k))
    h = 0.1
    for j in range(k):
        up = best_u.copy()
        down = best_u.copy()
        up[j] = min(best_u[j] + h, 1.0)
        down[j] = max(best_u[j] - h, 0.0)
        jac[:, j] = (simulated(up) - simulated(down)) / (up[j] - down[j])
    jac = np.nan_to_num(jac)
    table = _identifiability(params, jac, noise, width)
    fitted = low + best_u * width
    sim_best = simulated(best_u)
    sim_start = simulated(u0)
    parameter_table = pl.DataFrame(
        {
            "parameter": [p.name for p in params],
            "low": low,
            "high": low + width,
            "start": low + u0 * width,
            "fitted": fitted,
            "se": table["se"],
            "sensitivity": table["sensitivity"],
            "identified": table["identified"],
            "note": table["note"],
        }
    )
    fit = pl.DataFrame(
        {
            "aggregate": names,
            "target": target,
            "start": sim_start,
            "simulated": sim_best,
            "relative_error": (sim_best - target) / np.maximum(np.abs(target), 1e-12),
            "mc_se": noise["mc_se"],
        }
    )
    corr = table["correlation"]
    correlation = pl.DataFrame(
        {
            "parameter": [p.name for p in params],
            **{p.name: corr[:, i] for i, p in enumerate(params)},
        }
    )
    hist = pl.DataFrame(
        {
            "evaluation": np.arange(1, len(history) + 1),
            "loss": [h_[0] for h_ in history],
            **{
                p.name: [low[i] + h_[1][i] * width[i] for h_ in history]
                for i, p in enumerate(params)
            },
        }
    )
    return CalibrationResult(
        parameters=parameter_table,
        fit=fit,
        correlation=correlation,
        history=hist,
        loss=best_loss,
        start_loss=start_loss,
        evaluations=len(history),
        seeds=seeds,
        scenario=apply_parameters(sc, params, fitted),
        message=message,
        weighting="standardised" if weighting == "noise" else "relative",
        notes=table["notes"],
    )


def _mean(table: Mapping[str, np.ndarray], key: str) -> float:
    if key in table:
        return float(np.nanmean(table[key]))
    # A service with no simulated contact has a rate of zero.
    return 0.0 if key.startswith("contacts_per_1000[") else math.nan


def _matched(
    targets: Mapping[str, float], simulated: Mapping[str, np.ndarray], wanted: Sequence[str] | None
) -> list[str]:
    usable = {k for k, v in targets.items() if v is not None and math.isfinite(float(v))}
    if wanted is not None:
        missing = [k for k in wanted if k not in usable]
        if missing:
            raise CalibrationError(f"no usable target for {missing}: targets have {sorted(usable)}")
        names = list(wanted)
    else:
        names = [
            k
            for k in sorted(usable)
            if k in AGGREGATES or (k.startswith("contacts_per_1000[") and k in simulated)
        ]
    if not names:
        raise CalibrationError(
            f"none of the targets {sorted(targets)} is a calibration aggregate: "
            f"use {sorted(AGGREGATES)} or contacts_per_1000[<service>]"
        )
    return names


class _BudgetSpentError(Exception):
    """Raised inside the search when the evaluation budget is used up."""


#: Finite-difference step of the search, as a share of each parameter's range.
FD_STEP = 0.1


def _search(
    residuals: Callable[[np.ndarray], np.ndarray], u0: np.ndarray, method: str, budget: int
) -> str:
    from scipy.optimize import least_squares, minimize
    from scipy.stats import qmc

    k = u0.size

    def loss(u: np.ndarray) -> float:
        return float(np.mean(residuals(u) ** 2))

    if method == "simplex":
        # 1. A space-filling (scrambled Sobol) design over the whole box, a third of
        #    the budget: robust to the graininess of a finite population and to
        #    a start far from the answer.
        n_design = 2 ** max(2, int(math.log2(max(budget // 3, 1))))
        design = qmc.Sobol(k, scramble=True, seed=0).random(n_design)
        scored = [(loss(u0), u0)] + [(loss(u), u) for u in design]
        best = min(scored, key=lambda x: x[0])[1]
        # 2. A bounded Nelder-Mead simplex from the best point for the rest.
        toward_middle = np.where(best <= 0.5, 1.0, -1.0)
        simplex = np.vstack(
            [best] + [best + 0.15 * toward_middle[i] * np.eye(k)[i] for i in range(k)]
        )
        fit = minimize(
            loss,
            best,
            method="Nelder-Mead",
            bounds=[(0.0, 1.0)] * k,
            options={"initial_simplex": simplex, "xatol": 0.005, "fatol": 1e-6},
        )
        return str(fit.message)
    if method == "least_squares":

        def jacobian(u: np.ndarray) -> np.ndarray:
            # Forward differences of a fixed share of each range (backward at the
            # upper bound): large enough to measure the parameter's effect rather
            # than the graininess of a finite population.
            base = residuals(u)
            out = np.empty((base.size, k))
            for j in range(k):
                h = FD_STEP if u[j] + FD_STEP <= 1.0 else -FD_STEP
                moved = u.copy()
                moved[j] += h
                out[:, j] = (residuals(moved) - base) / h
            return out

        # Start off the bounds: TRF needs an interior point.
        x0 = np.clip(u0, 1e-6, 1 - 1e-6)
        fit = least_squares(
            residuals, x0, jac=jacobian, bounds=(0.0, 1.0), x_scale=1.0, xtol=1e-3, ftol=1e-4
        )
        return str(fit.message)
    raise CalibrationError(f"method {method!r}: choose simplex or least_squares")


#: Groups of people per run for the Monte-Carlo error (batch means).
NOISE_GROUPS = 8


def aggregate_errors(
    scenario: Scenario | dict[str, Any] | str,
    *,
    seeds: Sequence[int] = (0,),
    burn_in_years: float = 0.0,
    episode_gap_days: float = 90.0,
    groups: int = NOISE_GROUPS,
) -> dict[str, float]:
    """Monte-Carlo standard error of each aggregate averaged over ``seeds``.

    Each run's residents are split at random into ``groups`` groups and the
    aggregates are measured per group; the spread between groups (people
    are close to independent) gives the error of the whole-run value by
    batch means, far steadier than the spread between a few seeds.

    >>> e = aggregate_errors({"population": {"people": 2000}, "years": 1}, seeds=(1,))
    >>> 0 < e["failure_demand_share"] < 0.1
    True
    """
    sc = load_scenario(scenario)
    window_start, years = _observed_years(sc, burn_in_years)
    per_seed: list[dict[str, np.ndarray]] = []
    for seed in seeds:
        result = run(sc, seed=seed, events=True)
        people = people_frame(result).select(
            "person_id", (pl.col("person_id").hash(seed=17) % groups).alias("_group")
        )
        sizes = dict(people.group_by("_group").len().iter_rows())
        frame = event_frame(result).filter(pl.col("timestamp") >= window_start)
        frame = frame.join(people, on="person_id", how="left")
        rows = []
        for g in range(groups):
            part = frame.filter(pl.col("_group") == g)
            rows.append(
                event_aggregates(
                    part,
                    residents=max(int(sizes.get(g, 0)), 1),
                    years=years,
                    episode_gap_days=episode_gap_days,
                )
            )
        seen = {k for r in rows for k in r}
        per_seed.append(
            {k: np.array([r.get(k, 0.0 if "[" in k else math.nan) for r in rows]) for k in seen}
        )
    out = {}
    for k in sorted({k for d in per_seed for k in d}):
        variances = [np.nanvar(d[k], ddof=1) for d in per_seed if k in d]
        # Var(whole run) ~ Var(group) / groups; the mean over seeds divides by len(seeds).
        out[k] = float(math.sqrt(np.nanmean(variances) / groups / len(seeds)))
    return out


def _noise(
    scenario: Scenario,
    params: Sequence[Parameter],
    values: np.ndarray,
    names: Sequence[str],
    seeds: Sequence[int],
    burn_in_years: float,
    episode_gap_days: float,
    target_se: Mapping[str, float] | None,
) -> dict[str, np.ndarray]:
    """Monte-Carlo standard error of each simulated aggregate at the fit, plus the target's."""
    errors = aggregate_errors(
        apply_parameters(scenario, params, [float(v) for v in values]),
        seeds=seeds,
        burn_in_years=burn_in_years,
        episode_gap_days=episode_gap_days,
    )
    mc_se = np.array([errors.get(k, math.nan) for k in names])
    mc_se = np.where(np.isfinite(mc_se) & (mc_se > 0), mc_se, 1e-9)
    obs = np.array([float((target_se or {}).get(k, 0.0)) for k in names])
    return {"mc_se": mc_se, "total": np.sqrt(mc_se**2 + obs**2)}


#: A parameter whose whole range moves the aggregates by less than this many
#: noise standard errors is not identified.
MIN_SENSITIVITY = 3.0
#: Estimated correlation beyond which two parameters are not separately identified.
MAX_CORRELATION = 0.9


def _identifiability(
    params: Sequence[Parameter], jac: np.ndarray, noise: Mapping[str, np.ndarray], width: np.ndarray
) -> dict[str, Any]:
    k = len(params)
    jw = jac / noise["total"][:, None]  # aggregates in noise units per whole range
    sensitivity = np.linalg.norm(jw, axis=0)
    fisher = jw.T @ jw
    cov = np.linalg.pinv(fisher)
    se_unit = np.sqrt(np.clip(np.diag(cov), 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(se_unit, se_unit)
    corr = np.nan_to_num(corr)
    np.fill_diagonal(corr, 1.0)
    identified = []
    notes_col = []
    notes = []
    for j, p in enumerate(params):
        why = []
        if sensitivity[j] < MIN_SENSITIVITY:
            why.append(
                f"the aggregates move by only {sensitivity[j]:.1f} Monte-Carlo standard errors "
                "across its whole range"
            )
        partners = [
            params[i].name for i in range(k) if i != j and abs(corr[j, i]) > MAX_CORRELATION
        ]
        if partners and sensitivity[j] >= MIN_SENSITIVITY:
            why.append(
                "its effect on the aggregates can be mimicked by "
                + ", ".join(partners)
                + f" (|correlation| > {MAX_CORRELATION})"
            )
        if not why and se_unit[j] > 0.25:
            why.append(
                "the fit constrains it only loosely (standard error over a quarter of its range)"
            )
        identified.append(not why)
        notes_col.append("; ".join(why))
        if why:
            notes.append(f"{p.name}: not identified: " + "; ".join(why))
    eigval, eigvec = np.linalg.eigh(fisher)
    dead = sensitivity < MIN_SENSITIVITY
    top = int(np.argmax(np.abs(eigvec[:, 0]))) if k else 0
    # A direction that is just one insensitive parameter is already reported above.
    if k > 1 and eigval[0] < MIN_SENSITIVITY**2 and not dead[top]:
        direction = ", ".join(
            f"{params[i].name} {eigvec[i, 0]:+.2f}" for i in np.argsort(-np.abs(eigvec[:, 0]))
        )
        notes.append(f"least identified direction (in units of each range): {direction}")
    return {
        "se": se_unit * width,
        "sensitivity": sensitivity,
        "identified": identified,
        "note": notes_col,
        "correlation": corr,
        "notes": notes,
    }


# -- presentation ------------------------------------------------------------------------


def render_calibration(result: CalibrationResult) -> str:
    """The calibration as Markdown: fitted values, fit quality, identifiability.

    >>> from systemic.simulate.calibrate import calibrate
    >>> fit = calibrate({"population": {"people": 1000}, "years": 1},
    ...                 {"contacts_per_1000": 250.0}, ["population.seek_per_week"],
    ...                 budget=6, seeds=(1,))
    >>> render_calibration(fit).splitlines()[0]
    '# Calibration'
    """
    lines = [
        "# Calibration",
        "",
        f"Scenario {result.scenario.name!r}; seeds (common random numbers) {list(result.seeds)}; "
        f"{result.evaluations} evaluations; loss (mean squared {result.weighting} error) "
        f"{result.start_loss:.4g} at the start, {result.loss:.4g} at the fit. {result.message}",
        "",
        "## Fitted parameters",
        "",
        "| parameter | range | start | fitted | ± se | sensitivity | identified |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in result.parameters.iter_rows(named=True):
        lines.append(
            f"| {r['parameter']} | {r['low']:.4g}–{r['high']:.4g} | {r['start']:.4g} | "
            f"{r['fitted']:.4g} | {r['se']:.2g} | {r['sensitivity']:.1f} | "
            f"{'yes' if r['identified'] else 'no'} |"
        )
    lines += [
        "",
        "## Fit",
        "",
        "| aggregate | target | start | simulated | relative error | Monte-Carlo se |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in result.fit.iter_rows(named=True):
        lines.append(
            f"| {r['aggregate']} | {r['target']:.4g} | {r['start']:.4g} | {r['simulated']:.4g} | "
            f"{r['relative_error']:+.1%} | {r['mc_se']:.2g} |"
        )
    lines += ["", "## Identifiability", ""]
    if result.notes:
        lines += [f"- {n}" for n in result.notes]
    else:
        lines.append("- every parameter is identified by these aggregates")
    lines.append(
        "\nSensitivity is how far the aggregates move across a parameter's whole range, "
        "in Monte-Carlo standard errors (a norm over aggregates); standard errors come "
        "from the inverse of the noise-scaled Jacobian's cross-product."
    )
    return "\n".join(lines) + "\n"


# -- targets from files ------------------------------------------------------------------


def _number(value: Any) -> float | None:
    """A published count or share as a number; None when suppressed ("<5", "*") or empty."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _column_sum(frame: pl.DataFrame, column: str) -> float | None:
    values = frame[column].cast(pl.Float64, strict=False)
    return None if values.null_count() else float(values.sum())


def read_targets(
    path: str | Path,
    *,
    residents: int | None = None,
    years: float | None = None,
    re_referral_types: Iterable[str] = RE_REFERRAL_TYPES,
) -> dict[str, float]:
    """Calibration targets from a file or a ``systemic learn`` output folder.

    - a learn output folder (``summary.json`` and ``tables/``): the
      aggregates are rebuilt from its published tables with learn's
      definitions; hand-offs per episode come from ``row_level/episodes``
      when present. Counts suppressed as ``<5`` leave their aggregate out.
      Rates per 1,000 residents need ``residents``; ``years`` defaults to the
      span of ``tables/demand_by_week``;
    - a JSON file of ``{aggregate: value}``;
    - a CSV or Parquet table with columns ``aggregate`` and ``value``.

    >>> import json, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "targets.json"
    >>> _ = p.write_text(json.dumps({"failure_demand_share": 0.4}))
    >>> read_targets(p)
    {'failure_demand_share': 0.4}
    """
    path = Path(path)
    if path.is_dir():
        return _learn_targets(path, residents, years, tuple(re_referral_types))
    if not path.exists():
        raise CalibrationError(f"{path}: no such target file or learn output folder")
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise CalibrationError(f"{path}: not valid JSON: {err}") from None
        if not isinstance(raw, dict):
            raise CalibrationError(f"{path}: expected an object of aggregate: value")
        out = {
            k: _number(v)
            for k, v in raw.items()
            if k in AGGREGATES or k.startswith("contacts_per_1000")
        }
        return {k: v for k, v in out.items() if v is not None}
    if suffix in (".csv", ".parquet"):
        frame = pl.read_csv(path) if suffix == ".csv" else pl.read_parquet(path)
        missing = {"aggregate", "value"} - set(frame.columns)
        if missing:
            raise CalibrationError(
                f"{path}: the target table needs columns 'aggregate' and 'value' "
                f"(lacks {sorted(missing)})"
            )
        pairs = frame.select("aggregate", pl.col("value").cast(pl.Float64, strict=False))
        return {k: float(v) for k, v in pairs.iter_rows() if v is not None}
    raise CalibrationError(
        f"{path}: targets must be a learn output folder, a .json file or a .csv/.parquet table"
    )


def _learn_targets(
    root: Path, residents: int | None, years: float | None, re_referral_types: tuple[str, ...]
) -> dict[str, float]:
    summary_path = root / "summary.json"
    if not summary_path.exists():
        raise CalibrationError(
            f"{root}: not a learn output folder (no summary.json): "
            f"run `systemic learn DATASET --out {root}` first"
        )
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    tables = root / "tables"

    def table(name: str) -> pl.DataFrame | None:
        file = tables / f"{name}.parquet"
        return pl.read_parquet(file) if file.exists() else None

    out: dict[str, float | None] = {}
    contacts = _number(summary.get("contacts"))
    out["failure_demand_share"] = _number(summary.get("failure_demand_share"))
    episodes_file = root / "row_level" / "episodes.parquet"
    localities = table("localities")
    if episodes_file.exists():
        eps = pl.read_parquet(episodes_file, columns=["hand_offs"])
        out["hand_offs_per_episode"] = (
            float(eps["hand_offs"].sum()) / eps.height if eps.height else None
        )
    elif localities is not None:
        hand_offs = _column_sum(localities, "hand_offs")
        episodes = _column_sum(localities, "episodes")
        out["hand_offs_per_episode"] = (
            hand_offs / episodes if hand_offs is not None and episodes else None
        )
    by_type = table("demand_by_type")
    signals = table("failure_signals")
    if contacts and by_type is not None:
        rows = by_type.filter(pl.col("demand_type").is_in(list(re_referral_types)))
        re_ref = _column_sum(rows, "contacts") if rows.height else 0.0
        if signals is not None and re_ref is not None:
            inferred = _column_sum(
                signals.filter(pl.col("failure_signal") == "recontact_after_closure"), "contacts"
            )
            re_ref = None if inferred is None else re_ref + inferred
        out["re_referral_rate"] = re_ref / contacts if re_ref is not None else None
    if years is None:
        weeks = table("demand_by_week")
        if weeks is not None and weeks.height:
            first, last = weeks["week"].cast(pl.Date).min(), weeks["week"].cast(pl.Date).max()
            assert isinstance(first, dt.date) and isinstance(last, dt.date)
            span = (last - first).days + 7
            years = span / 365.25
    if residents and years and contacts is not None:
        per_1000 = 1000.0 / residents / years
        out["contacts_per_1000"] = contacts * per_1000
        by_service = table("demand_by_service")
        if by_service is not None:
            for service, n in by_service.select("service", "contacts").iter_rows():
                value = _number(n)
                out[BY_SERVICE.format(service)] = None if value is None else value * per_1000
    return {k: v for k, v in out.items() if v is not None}
