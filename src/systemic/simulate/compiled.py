"""A scenario turned into per-step arrays the engine indexes by locality and service.

Rates given per week or per year become probabilities per time step, so the
same scenario runs with daily, weekly or monthly steps. Design parameters are
arrays shaped ``[locality, service]`` (or ``[locality, domain]``): a design is
data, and switching one locality to another design is replacing its rows.

>>> from systemic.simulate.scenario import load_scenario
>>> c = compile_scenario(load_scenario({"population": {"people": 1000}}))
>>> c.capacity.shape, int(c.capacity.sum())
((1, 8), 13)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from systemic.simulate.presets import DOMAINS, SERVICES
from systemic.simulate.scenario import Design, Scenario

S = len(SERVICES)
D = len(DOMAINS)


def per_step(prob_per_week: float, weeks: float) -> float:
    """A per-week probability as a probability per step of ``weeks`` weeks."""
    return 1.0 - (1.0 - prob_per_week) ** weeks


def rate_per_step(rate_per_year: float, days: float) -> float:
    """A yearly (Poisson) rate as the chance of at least one event in a step."""
    return 1.0 - math.exp(-rate_per_year * days / 365.25)


class DesignArrays(NamedTuple):
    """One design's parameters for every locality: rows are localities.

    A named tuple of arrays, so the compiled step takes it as it is; a design
    switch rewrites rows in place.
    """

    entry: np.ndarray  # [n_loc, D] int8 service code where a need is first presented
    route: np.ndarray  # [n_loc, D] int8 service code that holds a need of that domain
    capacity: np.ndarray  # [n_loc, S] int64 case slots
    eligibility: np.ndarray  # [n_loc, S] float32 wellbeing below which a need is accepted
    max_steps: np.ndarray  # [n_loc, S] int32 time limit of an intervention
    effect: np.ndarray  # [n_loc, S] float32 wellbeing gain per step in service
    connection_gain: np.ndarray  # [n_loc, S] float32 share of the connection gap closed per step
    hand_off_loss: np.ndarray  # [n_loc, S] float32 chance a referral into the service is lost
    completion: np.ndarray  # [n_loc, S] float32 chance per step an intervention ends at random
    prevention: np.ndarray  # [n_loc] float32 prevention level 0..1

    def set_locality(self, row: int, design: Design, people: int, scenario: Scenario) -> None:
        """Put ``design`` into row ``row`` (a locality of ``people`` residents)."""
        wps = scenario.weeks_per_step
        code = {s: i for i, s in enumerate(SERVICES)}
        for j, d in enumerate(DOMAINS):
            self.entry[row, j] = code[design.entry[d]]
            self.route[row, j] = code[design.route[d]]
        for i, name in enumerate(SERVICES):
            sv = design.services[name]
            self.capacity[row, i] = round(sv.capacity_per_1000 * people / 1000.0)
            if sv.capacity_per_1000 > 0 and self.capacity[row, i] == 0:
                self.capacity[row, i] = 1
            self.eligibility[row, i] = sv.eligibility
            self.max_steps[row, i] = min(max(1, math.ceil(sv.max_weeks / wps - 1e-9)), 2**31 - 1)
            # Continuity of worker: a share of the effect is lost when workers change.
            kept = 1.0 - scenario.population.continuity_effect * (1.0 - sv.continuity)
            self.effect[row, i] = sv.effect_per_week * wps * kept
            self.connection_gain[row, i] = per_step(sv.connection_gain_per_week, wps)
            self.hand_off_loss[row, i] = sv.hand_off_loss
            self.completion[row, i] = per_step(sv.completion_per_week, wps)
        self.prevention[row] = design.prevention


@dataclass
class CompiledScenario:
    """Everything the engine needs, as numbers and arrays."""

    scenario: Scenario
    steps: int
    burn_in_steps: int
    n_people: int
    locality_names: list[str]
    locality_start: np.ndarray  # [n_loc+1] int64 first person of each locality (people are sorted)
    locality_size: np.ndarray  # [n_loc] int64
    deprivation: np.ndarray  # [n_loc]
    community_strength: np.ndarray  # [n_loc]
    event_names: list[str]
    event_p: np.ndarray  # [n_kinds, n_loc] chance per person per step
    event_shock: np.ndarray  # [n_kinds] float32
    event_domain: np.ndarray  # [n_kinds] int8
    recovery: float
    seek: float
    re_present: float
    chase: float
    chase_after_steps: int
    crisis: float
    residential_exit: float
    prevention_connection: float  # share of connection gap closed per step at prevention 1
    design: DesignArrays
    switches: list[tuple[int, int, Design]] = field(default_factory=list)
    unit_contact: np.ndarray = field(default_factory=lambda: np.zeros(S))
    unit_assessment: np.ndarray = field(default_factory=lambda: np.zeros(S))
    unit_intervention: np.ndarray = field(default_factory=lambda: np.zeros(S))  # per step
    prevention_cost_per_step: float = 0.0  # per resident at prevention level 1

    @property
    def capacity(self) -> np.ndarray:
        return self.design.capacity


def _split(people: int, shares: list[float]) -> np.ndarray:
    """Whole people per locality in proportion to ``shares`` (largest remainders)."""
    w = np.asarray(shares, dtype=float)
    exact = people * w / w.sum()
    size = np.floor(exact).astype(np.int64)
    short = people - int(size.sum())
    if short:
        size[np.argsort(-(exact - size), kind="stable")[:short]] += 1
    return size


def compile_scenario(scenario: Scenario) -> CompiledScenario:
    """Turn a validated scenario into the engine's arrays."""
    sc = scenario
    days = sc.days_per_step
    wps = sc.weeks_per_step
    pop = sc.population
    n_loc = len(sc.localities)
    size = _split(pop.people, [loc.share for loc in sc.localities])
    start = np.concatenate([[0], np.cumsum(size)])
    dep = np.array([loc.deprivation for loc in sc.localities])
    names = list(sc.events)
    event_p = np.array(
        [[rate_per_step(sc.events[k].rate_per_year * d, days) for d in dep] for k in names]
    ).reshape(len(names), n_loc)
    design = DesignArrays(
        entry=np.zeros((n_loc, D), np.int8),
        route=np.zeros((n_loc, D), np.int8),
        capacity=np.zeros((n_loc, S), np.int64),
        eligibility=np.zeros((n_loc, S), np.float32),
        max_steps=np.zeros((n_loc, S), np.int32),
        effect=np.zeros((n_loc, S), np.float32),
        connection_gain=np.zeros((n_loc, S), np.float32),
        hand_off_loss=np.zeros((n_loc, S), np.float32),
        completion=np.zeros((n_loc, S), np.float32),
        prevention=np.zeros(n_loc, np.float32),
    )
    for row in range(n_loc):
        design.set_locality(row, sc.design, int(size[row]), sc)
    index = {loc.name: i for i, loc in enumerate(sc.localities)}
    switches = []
    for exp in sc.experiments:
        assert exp.resolved is not None
        switches.append((sc.step_of(exp.start), index[exp.locality], exp.resolved))
    switches.sort(key=lambda x: (x[0], x[1]))
    costs = sc.costs
    return CompiledScenario(
        scenario=sc,
        steps=sc.steps,
        burn_in_steps=round(sc.burn_in_years * 365.25 / days),
        n_people=pop.people,
        locality_names=[loc.name for loc in sc.localities],
        locality_start=start,
        locality_size=size,
        deprivation=dep,
        community_strength=np.array([loc.community_strength for loc in sc.localities]),
        event_names=names,
        event_p=event_p,
        event_shock=np.array([sc.events[k].shock for k in names], np.float32),
        event_domain=np.array([DOMAINS.index(sc.events[k].domain) for k in names], np.int8),
        recovery=per_step(pop.recovery_per_week, wps),
        seek=per_step(pop.seek_per_week, wps),
        re_present=per_step(pop.re_present_per_week, wps),
        chase=per_step(pop.chase_per_week, wps),
        chase_after_steps=math.ceil(pop.chase_after_weeks / wps - 1e-9),
        crisis=per_step(sc.crisis.rate_per_week, wps),
        residential_exit=rate_per_step(sc.crisis.residential_exit_per_year, days),
        prevention_connection=rate_per_step(sc.prevention.connection_per_year, days),
        design=design,
        switches=switches,
        unit_contact=np.array([costs.contact[s] for s in SERVICES]),
        unit_assessment=np.array([costs.assessment[s] for s in SERVICES]),
        unit_intervention=np.array([costs.intervention_per_week[s] * wps for s in SERVICES]),
        prevention_cost_per_step=costs.prevention_per_resident_year * days / 365.25,
    )
