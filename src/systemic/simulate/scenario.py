"""Scenarios: a preset plus overrides, read from TOML and validated.

A scenario file names a preset (``silo`` or ``local``) and overrides any
parameter of it; ``[uncertainty]`` gives ranges for ensembles and
``[[experiments]]`` switches one locality to another design from a date.

>>> from systemic.simulate.scenario import load_scenario
>>> s = load_scenario({"preset": "local", "population": {"people": 2000}, "years": 1})
>>> s.population.people, s.design.route["housing"], s.steps
(2000, 'locality_team', 52)
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from systemic.simulate.errors import ScenarioError
from systemic.simulate.presets import (
    DOMAINS,
    SERVICES,
    Domain,
    ServiceName,
    deep_merge,
    preset,
)

#: Length of each named time step, in days.
STEP_DAYS: dict[str, float] = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Population(_Strict):
    """People and how their wellbeing moves (see docs/model.md, "People")."""

    people: int = Field(gt=0)
    initial_wellbeing: float = Field(ge=0, le=1)
    initial_spread: float = Field(ge=0, le=0.5)
    baseline: float = Field(ge=0, le=1)
    connection_weight: float = Field(ge=0, le=1)
    recovery_per_week: float = Field(ge=0, le=1)
    need_threshold: float = Field(ge=0, le=1)
    crisis_threshold: float = Field(ge=-1, le=1)
    resolve_margin: float = Field(ge=0, le=1)
    seek_per_week: float = Field(ge=0, le=1)
    re_present_per_week: float = Field(ge=0, le=1)
    chase_after_weeks: float = Field(ge=0)
    chase_per_week: float = Field(ge=0, le=1)
    continuity_effect: float = Field(ge=0, le=1)


class Locality(_Strict):
    """A neighbourhood: its share of people, deprivation and community strength."""

    name: str = Field(min_length=1)
    share: float = Field(gt=0)
    deprivation: float = Field(ge=0)
    community_strength: float = Field(ge=0, le=1)


class LifeEvent(_Strict):
    """A kind of life event: how often, how hard, and which need it creates."""

    rate_per_year: float = Field(ge=0)
    shock: float = Field(ge=0, le=1)
    domain: Domain


class Crisis(_Strict):
    """Unmet need escalating to crisis care."""

    rate_per_week: float = Field(ge=0, le=1)
    in_service_factor: float = Field(ge=0, le=1)
    admission_probability: float = Field(ge=0, le=1)
    residential_probability: float = Field(ge=0, le=1)
    stabilise: float = Field(ge=0, le=1)
    residential_exit_per_year: float = Field(ge=0)


class Prevention(_Strict):
    """What a full prevention programme (design ``prevention = 1``) does."""

    shock_reduction: float = Field(ge=0, le=1)
    connection_per_year: float = Field(ge=0, le=1)


class ServiceDesign(_Strict):
    """How one service works under a design (all services share these knobs)."""

    capacity_per_1000: float = Field(ge=0)
    eligibility: float = Field(ge=0, le=1)
    max_weeks: float = Field(gt=0)
    effect_per_week: float = Field(ge=0, le=1)
    connection_gain_per_week: float = Field(ge=0, le=1)
    hand_off_loss: float = Field(ge=0, le=1)
    completion_per_week: float = Field(ge=0, le=1)
    continuity: float = Field(ge=0, le=1)


class Design(_Strict):
    """A service design: where people enter, where needs are routed, each service's knobs."""

    prevention: float = Field(ge=0, le=1)
    entry: dict[Domain, ServiceName]
    route: dict[Domain, ServiceName]
    services: dict[ServiceName, ServiceDesign]

    @model_validator(mode="after")
    def _complete(self) -> Design:
        for table in ("entry", "route"):
            missing = [d for d in DOMAINS if d not in getattr(self, table)]
            if missing:
                raise ValueError(f"design.{table} lacks domain(s) {missing}")
        missing_s = [s for s in SERVICES if s not in self.services]
        if missing_s:
            raise ValueError(f"design.services lacks {missing_s}")
        for d, s in self.route.items():
            if self.services[s].capacity_per_1000 <= 0:
                raise ValueError(
                    f"design.route.{d} sends needs to {s!r}, which has capacity_per_1000 = 0: "
                    f"give it capacity or route {d} elsewhere"
                )
        return self


class Costs(_Strict):
    """Unit costs in pounds (replace with local figures; see docs/model.md)."""

    contact: dict[ServiceName, float]
    assessment: dict[ServiceName, float]
    intervention_per_week: dict[ServiceName, float]
    a_and_e: float = Field(ge=0)
    emergency_admission: float = Field(ge=0)
    residential_care_per_week: float = Field(ge=0)
    prevention_per_resident_year: float = Field(ge=0)

    @model_validator(mode="after")
    def _complete(self) -> Costs:
        for table in ("contact", "assessment", "intervention_per_week"):
            missing = [s for s in SERVICES if s not in getattr(self, table)]
            if missing:
                raise ValueError(f"costs.{table} lacks {missing}")
        return self


class Experiment(_Strict):
    """From ``start``, locality ``locality`` runs ``design`` (a preset's, plus overrides)."""

    locality: str
    start: dt.date
    preset: Literal["silo", "local"] | None = None
    design: dict[str, Any] = Field(default_factory=dict)
    # Filled at validation: the complete design in force from ``start``.
    resolved: Design | None = None


class Scenario(_Strict):
    """A complete, validated scenario. Build with :func:`load_scenario`."""

    name: str
    preset: Literal["silo", "local"] = "silo"
    start: dt.date
    time_step: Literal["day", "week", "month"]
    step_days: float | None = Field(default=None, gt=0)
    years: float = Field(gt=0)
    burn_in_years: float = Field(ge=0, le=50)
    population: Population
    localities: list[Locality] = Field(min_length=1, max_length=100)
    events: dict[str, LifeEvent]
    crisis: Crisis
    prevention: Prevention
    design: Design
    costs: Costs
    uncertainty: dict[str, tuple[float, float]] = Field(default_factory=dict)
    experiments: list[Experiment] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        names = [loc.name for loc in self.localities]
        if len(set(names)) != len(names):
            raise ValueError(f"localities: duplicate names in {names}")
        for i, exp in enumerate(self.experiments):
            if exp.locality not in names:
                raise ValueError(
                    f"experiments[{i}].locality {exp.locality!r} is not one of {names}"
                )
            base = preset(exp.preset)["design"] if exp.preset else self.design.model_dump()
            try:
                exp.resolved = Design.model_validate(deep_merge(base, exp.design))
            except ValidationError as err:
                first = err.errors()[0]
                loc = ".".join(str(p) for p in first["loc"])
                raise ValueError(f"experiments[{i}].design.{loc}: {first['msg']}") from None
        for key, (low, high) in self.uncertainty.items():
            if low > high:
                raise ValueError(f"uncertainty.{key}: low {low} is above high {high}")
        return self

    @property
    def days_per_step(self) -> float:
        """Length of one time step in days."""
        return self.step_days or STEP_DAYS[self.time_step]

    @property
    def weeks_per_step(self) -> float:
        return self.days_per_step / 7.0

    @property
    def steps(self) -> int:
        """Number of time steps in the horizon."""
        return max(1, round(self.years * 365.25 / self.days_per_step))

    def step_of(self, date: dt.date) -> int:
        """The first step that starts on or after ``date``."""
        days = (date - self.start).days
        return max(0, math.ceil(days / self.days_per_step - 1e-9))

    def date_of(self, step: int) -> dt.datetime:
        """The start of ``step`` as a UTC datetime."""
        start = dt.datetime.combine(self.start, dt.time(), tzinfo=dt.UTC)
        return start + dt.timedelta(days=step * self.days_per_step)


def _line_of(text: str, key: str) -> int | None:
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith((key + " ", key + "=", f'"{key}"')) or stripped == f"[{key}]":
            return n
    return None


def load_scenario(source: str | os.PathLike[str] | dict[str, Any] | Scenario) -> Scenario:
    """Read and validate a scenario from a TOML file or a dictionary.

    The preset named by ``preset`` (default ``silo``) supplies every value the
    source does not override. Errors raise :class:`ScenarioError` naming the
    file, line (when found) and key.

    >>> load_scenario({"preset": "silo", "years": 2}).steps
    104
    >>> try:
    ...     load_scenario({"population": {"peple": 5}})
    ... except ScenarioError as e:
    ...     print(e)
    scenario: population.peple: Extra inputs are not permitted
    """
    if isinstance(source, Scenario):
        return source
    text = ""
    where = "scenario"
    if isinstance(source, dict):
        raw = source
    else:
        path = Path(source)
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise ScenarioError(f"{path}: cannot read the scenario file ({err.strerror})") from None
        except UnicodeDecodeError as err:
            raise ScenarioError(
                f"{path}: byte {err.start} is not UTF-8: save the scenario file as UTF-8"
            ) from None
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise ScenarioError(f"{path}: not valid TOML: {err}") from None
    raw = _with_unit_costs(raw, where, None if isinstance(source, dict) else Path(source))
    name = raw.get("preset", "silo")
    try:
        merged = deep_merge(preset(name), raw)
    except KeyError as err:
        raise ScenarioError(f"{where}: preset: {err.args[0]}") from None
    merged["preset"] = name
    if "name" not in raw and not isinstance(source, dict):
        merged["name"] = Path(source).stem
    try:
        return Scenario.model_validate(merged)
    except ValidationError as err:
        first = err.errors()[0]
        parts = [str(p) for p in first["loc"]]
        key = ".".join(parts)
        msg = first["msg"].removeprefix("Value error, ")
        line = _line_of(text, parts[-1]) if text and parts else None
        at = f"{where}:{line}" if line else where
        if not parts:
            raise ScenarioError(f"{at}: {msg}") from None
        raise ScenarioError(f"{at}: {key}: {msg}") from None


def _with_unit_costs(raw: dict[str, Any], where: str, path: Path | None) -> dict[str, Any]:
    """Merge the unit-cost table named by ``unit_costs`` (a TOML file) under ``[costs]``.

    The file holds the same keys as ``[costs]``; values in the scenario's own
    ``[costs]`` table win over the file's.
    """
    if "unit_costs" not in raw:
        return raw
    raw = dict(raw)
    ref = raw.pop("unit_costs")
    if not isinstance(ref, str):
        raise ScenarioError(f"{where}: unit_costs: give the path of a unit-cost TOML file")
    file = Path(ref)
    if not file.is_absolute() and path is not None:
        file = path.parent / file
    try:
        table = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as err:
        raise ScenarioError(f"{where}: unit_costs: cannot read {file} ({err.strerror})") from None
    except UnicodeDecodeError as err:
        raise ScenarioError(
            f"{where}: unit_costs: byte {err.start} of {file} is not UTF-8: save it as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{where}: unit_costs: {file} is not valid TOML: {err}") from None
    table = table.get("costs", table)
    raw["costs"] = deep_merge(table, raw.get("costs", {}))
    return raw


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The scenario as plain data (for overrides, ensembles and Dask)."""
    return scenario.model_dump(mode="json", exclude={"experiments": {"__all__": {"resolved"}}})


def with_overrides(scenario: Scenario, values: dict[str, float]) -> Scenario:
    """A copy of ``scenario`` with dotted-path parameters replaced.

    Paths address the scenario's tables (``events.illness.rate_per_year``,
    ``design.services.housing.hand_off_loss``); a path into ``localities``
    uses the locality name (``localities.North.deprivation``).

    >>> s = with_overrides(load_scenario({}), {"population.seek_per_week": 0.5})
    >>> s.population.seek_per_week
    0.5
    """
    data = scenario_to_dict(scenario)
    for path, value in values.items():
        parts = path.split(".")
        node: Any = data
        for i, part in enumerate(parts[:-1]):
            if isinstance(node, list):
                match = [x for x in node if x.get("name") == part]
                if not match:
                    raise ScenarioError(f"uncertainty.{path}: no locality named {part!r}")
                node = match[0]
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                raise ScenarioError(
                    f"uncertainty.{path}: {'.'.join(parts[: i + 1])} is not a parameter"
                )
        if not isinstance(node, dict) or parts[-1] not in node:
            raise ScenarioError(f"uncertainty.{path}: not a parameter of the scenario")
        node[parts[-1]] = value
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ScenarioError(f"scenario: {key}: {first['msg']}") from None
