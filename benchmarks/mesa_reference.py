"""A reference implementation of the simulation model in Mesa: one agent per person.

This re-implements the rules of ``systemic.simulate.engine`` (docs/model.md)
in the agent-based style of Mesa 3.x, so that the vectorised engine can be
checked against an independent implementation (aggregates agree within
Monte-Carlo error) and timed against it. It reads the same
:class:`~systemic.simulate.Scenario`; per-step probabilities come from the
same :func:`~systemic.simulate.compiled.compile_scenario` (unit conversion
only: every rule below is written afresh, person by person). Random draws
use the model's own generators, so runs agree in distribution, not draw for
draw.

Used only by benchmarks and tests (Mesa is a development dependency).

    python -c "from benchmarks.mesa_reference import run_mesa; \\
        print(run_mesa({'population': {'people': 500}, 'years': 0.5}, seed=1))"
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np

from systemic.simulate import Scenario, load_scenario
from systemic.simulate.compiled import CompiledScenario, S, compile_scenario

NO_CASE, WAITING, IN_SERVICE, RESIDENTIAL = 0, 1, 2, 3
NEW_NEED, LOST_HAND_OFF, PREMATURE_CLOSURE, REFUSED, CHASE = 0, 1, 2, 3, 4
A_AND_E = S  # origin code of referrals from crisis care
DOMAIN_CARE = 3  # DOMAINS.index("care")

#: Whole-run counters the model keeps (names as in the engine's records).
COUNTERS = (
    "contacts_value",
    "contacts_failure",
    "failure_re_referral",
    "crises",
    "emergency_admissions",
    "residential_admissions",
    "hand_offs",
    "hand_offs_lost",
    "refused",
    "cases_opened",
    "closures",
    "premature_closures",
    "admissions",
    "wait_steps",
    "cost",
    "below_need",
    "wellbeing_sum",
)


class Person(mesa.Agent):
    """One resident: wellbeing, connection, and where they are with services."""

    def __init__(self, model: TownModel, loc: int, connection: float, wellbeing: float) -> None:
        super().__init__(model)
        self.loc = loc
        self.connection = connection
        self.wellbeing = wellbeing
        self.status = NO_CASE
        self.service = -1
        self.since = 0
        self.domain = 0
        self.second = -1
        self.reason = NEW_NEED
        self.case_class = 0

    # Rule 2: recovery toward baseline; prevention and services help.
    def recover(self) -> None:
        m = self.model
        d = m.c.design
        prevention = d.prevention[self.loc]
        if prevention > 0:
            self.connection += prevention * m.c.prevention_connection * (1.0 - self.connection)
        target = m.baseline + m.connection_weight * self.connection
        self.wellbeing += m.c.recovery * (target - self.wellbeing)
        if self.status == IN_SERVICE:
            self.wellbeing = min(self.wellbeing + d.effect[self.loc, self.service], 1.0)
            gain = d.connection_gain[self.loc, self.service]
            self.connection += gain * (1.0 - self.connection)

    # Rule 4a: step down from residential care.
    def leave_residential(self) -> None:
        m = self.model
        if self.status == RESIDENTIAL and m.random.random() < m.c.residential_exit:
            self.status = NO_CASE
            self.reason = NEW_NEED
            self.wellbeing = m.resolved_line

    # Rule 4b: below the crisis line, a chance of a crisis episode.
    def crisis(self) -> None:
        m = self.model
        if self.wellbeing >= m.crisis_line or self.status == RESIDENTIAL:
            return
        cr = m.c.scenario.crisis
        prob = m.c.crisis * (cr.in_service_factor if self.status == IN_SERVICE else 1.0)
        if m.random.random() >= prob:
            return
        costs = m.c.scenario.costs
        m.count["crises"] += 1
        m.count["cost"] += costs.a_and_e
        if self.status == NO_CASE:
            m.open_case(self, failure=True)
        if m.random.random() < cr.admission_probability:
            m.count["emergency_admissions"] += 1
            m.count["cost"] += costs.emergency_admission
        if self.domain == DOMAIN_CARE and m.random.random() < cr.residential_probability:
            m.count["residential_admissions"] += 1
            self.status = RESIDENTIAL
            self.service = -1
            self.second = -1
            return
        self.wellbeing = min(self.wellbeing + cr.stabilise, 1.0)
        if self.status == NO_CASE:
            self.reason = NEW_NEED
            m.refer(self, A_AND_E, force=True)

    # Rule 5a: in need with no open case, a chance of contacting the entry service.
    def seek_help(self) -> None:
        m = self.model
        if self.wellbeing < m.need:
            m.count["below_need"] += 1
        else:
            return
        if self.status != NO_CASE:
            return
        again = self.reason > 0
        if m.random.random() >= (m.c.re_present if again else m.c.seek):
            return
        entry = int(m.c.design.entry[self.loc, self.domain])
        m.count["contacts_failure" if again else "contacts_value"] += 1
        if self.reason == PREMATURE_CLOSURE:
            m.count["failure_re_referral"] += 1
        m.count["cost"] += m.c.unit_contact[entry]
        m.open_case(self, failure=again)
        self.reason = NEW_NEED
        m.refer(self, entry)

    # Rule 5b: waiting too long, a chance of chasing progress (failure demand).
    def chase(self) -> None:
        m = self.model
        if self.status != WAITING or m.t - self.since <= m.c.chase_after_steps:
            return
        if m.random.random() < m.c.chase:
            entry = int(m.c.design.entry[self.loc, self.domain])
            m.count["contacts_failure"] += 1
            m.count["cost"] += m.c.unit_contact[entry]

    # Rule 6: the intervention ends (need met, time limit, or at random).
    def close(self) -> None:
        m = self.model
        if self.status != IN_SERVICE:
            return
        d = m.c.design
        loc, svc = self.loc, self.service
        done = self.wellbeing >= m.resolved_line or m.t - self.since >= d.max_steps[loc, svc]
        completion = d.completion[loc, svc]
        if completion > 0 and m.random.random() < completion:
            done = True
        if not done:
            return
        premature = self.wellbeing < m.need
        m.count["closures"] += 1
        m.count["premature_closures"] += premature
        self.status = NO_CASE
        self.service = -1
        self.reason = PREMATURE_CLOSURE if premature else NEW_NEED
        if self.second >= 0:
            second, self.second = self.second, -1
            if d.route[loc, second] != svc:
                self.domain = second
                self.reason = NEW_NEED
                m.refer(self, svc)


class TownModel(mesa.Model):
    """The town: residents as agents, services as capacities and waiting lists."""

    def __init__(self, scenario: Scenario | dict[str, Any] | str, seed: int = 0) -> None:
        super().__init__(seed=seed)
        self.c: CompiledScenario = compile_scenario(load_scenario(scenario))
        c = self.c
        pop = c.scenario.population
        self.need = pop.need_threshold
        self.crisis_line = pop.crisis_threshold
        self.resolved_line = pop.need_threshold + pop.resolve_margin
        self.baseline = pop.baseline
        self.connection_weight = pop.connection_weight
        self.t = 0
        self.count: dict[str, float] = dict.fromkeys(COUNTERS, 0.0)
        self.people: list[list[Person]] = []
        for row, size in enumerate(c.locality_size):
            strength = c.community_strength[row]
            a, b = max(strength * 8.0, 1e-3), max((1 - strength) * 8.0, 1e-3)
            residents = []
            for _ in range(int(size)):
                wellbeing = min(
                    max(self.random.gauss(pop.initial_wellbeing, pop.initial_spread), 0), 1
                )
                residents.append(Person(self, row, self.random.betavariate(a, b), wellbeing))
            self.people.append(residents)
        self.everyone = [p for residents in self.people for p in residents]
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "contacts": lambda m: m.count["contacts_value"] + m.count["contacts_failure"]
            }
        )

    def open_case(self, person: Person, failure: bool) -> None:
        person.case_class = int(failure)
        self.count["cases_opened"] += 1

    def refer(self, person: Person, origin: int, force: bool = False) -> None:
        """Route ``person`` to the service that holds their need (a hand-off if elsewhere)."""
        d = self.c.design
        loc = person.loc
        target = int(d.route[loc, person.domain])
        if target != origin:
            self.count["hand_offs"] += 1
            if self.random.random() < d.hand_off_loss[loc, target]:
                self.count["hand_offs_lost"] += 1
                person.reason = LOST_HAND_OFF
                return
        self.count["cost"] += self.c.unit_assessment[target]
        if not force and person.wellbeing >= d.eligibility[loc, target]:
            self.count["refused"] += 1
            person.reason = REFUSED
            return
        person.status = WAITING
        person.service = target
        person.since = self.t
        person.reason = NEW_NEED

    def life_events(self) -> None:
        """Rule 3: per locality and kind, a binomial number of events on random residents."""
        c = self.c
        reduction = c.scenario.prevention.shock_reduction
        hits: list[tuple[Person, int, float]] = []
        for row, residents in enumerate(self.people):
            n = len(residents)
            for kind in range(len(c.event_names)):
                for _ in range(int(self.rng.binomial(n, c.event_p[kind, row]))):
                    who = residents[int(self.random.random() * n)]
                    size = self.random.random() + 0.5
                    shock = c.event_shock[kind] * size * (1 - reduction * c.design.prevention[row])
                    hits.append((who, kind, shock))
        # As the engine: every shock is measured from the wellbeing before this step's events.
        before = {id(p): (p.wellbeing, p.status) for p, _, _ in hits}
        for person, kind, shock in hits:
            w0, status0 = before[id(person)]
            person.wellbeing = max(w0 - shock, 0.0)
            domain = int(c.event_domain[kind])
            if status0 == NO_CASE and w0 >= self.need:
                # A new need: failures they recovered from no longer count.
                person.domain = domain
                person.reason = NEW_NEED
                person.second = -1
            elif domain != person.domain:
                person.second = domain

    def admit(self) -> None:
        """Rule 7: each waiting list is served first come, first served up to capacity."""
        d = self.c.design
        occupied: dict[tuple[int, int], int] = {}
        queues: dict[tuple[int, int], list[tuple[int, int, Person]]] = {}
        for i, p in enumerate(self.everyone):
            if p.status == IN_SERVICE:
                key = (p.loc, p.service)
                occupied[key] = occupied.get(key, 0) + 1
            elif p.status == WAITING:
                queues.setdefault((p.loc, p.service), []).append((p.since, i, p))
        for key, queue in queues.items():
            free = max(int(d.capacity[key]) - occupied.get(key, 0), 0)
            queue.sort(key=lambda x: (x[0], x[1]))
            for since, _, p in queue[:free]:
                self.count["admissions"] += 1
                self.count["wait_steps"] += self.t - since
                p.status = IN_SERVICE
                p.since = self.t

    def transfer_waiting(self, row: int) -> None:
        """After a design switch, people waiting for a service the locality no longer
        staffs join the queue of the service that now holds their need, keeping
        their place (as the engine does)."""
        d = self.c.design
        for p in self.people[row]:
            if p.status == WAITING and d.capacity[row, p.service] == 0:
                p.service = int(d.route[row, p.domain])

    def end_step(self) -> None:
        c = self.c
        costs = c.scenario.costs
        for p in self.everyone:
            if p.status == IN_SERVICE:
                self.count["cost"] += c.unit_intervention[p.service]
            elif p.status == RESIDENTIAL:
                self.count["cost"] += costs.residential_care_per_week * c.scenario.weeks_per_step
            self.count["wellbeing_sum"] += p.wellbeing
        for row, size in enumerate(c.locality_size):
            self.count["cost"] += c.design.prevention[row] * size * c.prevention_cost_per_step

    def step(self) -> None:
        """One time step: the engine's rules in the engine's order."""
        c = self.c
        while c.switches and c.switches[0][0] <= self.t:
            _, row, design = c.switches.pop(0)
            c.design.set_locality(row, design, int(c.locality_size[row]), c.scenario)
            self.transfer_waiting(row)
        self.agents.do("recover")
        self.life_events()
        self.agents.do("leave_residential")
        self.agents.do("crisis")
        self.agents.do("seek_help")
        self.agents.do("chase")
        self.agents.do("close")
        self.admit()
        self.end_step()
        self.datacollector.collect(self)
        self.t += 1


def summary(model: TownModel) -> dict[str, float]:
    """Whole-run aggregates with the definitions of ``SimulationResult.summary``."""
    c = model.c
    k = model.count
    sc = c.scenario
    years = c.steps * sc.days_per_step / 365.25
    people = c.n_people
    per_1000 = 1000.0 / people / years
    contacts = k["contacts_value"] + k["contacts_failure"] + k["crises"]
    failure = k["contacts_failure"] + k["crises"]

    def ratio(a: float, b: float) -> float:
        return a / b if b else float("nan")

    return {
        "contacts_per_1000": contacts * per_1000,
        "failure_demand_share": ratio(failure, contacts),
        "hand_offs_per_case": ratio(k["hand_offs"], k["cases_opened"]),
        "hand_off_loss_rate": ratio(k["hand_offs_lost"], k["hand_offs"]),
        "re_referral_rate": ratio(k["failure_re_referral"], k["closures"]),
        "premature_closure_share": ratio(k["premature_closures"], k["closures"]),
        "crises_per_1000": k["crises"] * per_1000,
        "mean_wait_weeks": ratio(k["wait_steps"], k["admissions"]) * sc.weeks_per_step,
        "cost_per_resident": k["cost"] / people / years,
        "wellbeing_mean": k["wellbeing_sum"] / people / c.steps,
        "below_need_share": k["below_need"] / people / c.steps,
    }


def run_mesa(scenario: Scenario | dict[str, Any] | str, seed: int = 0) -> dict[str, float]:
    """Run the Mesa reference once (after the scenario's unrecorded warm-up); :func:`summary`."""
    model = TownModel(scenario, seed=seed)
    warm_up = int(getattr(model.c, "burn_in_steps", 0))
    if warm_up > 0:
        # As the engine: model time -warm_up..-1, experiments not yet started, nothing kept.
        model.t = -warm_up
        switches, model.c.switches = model.c.switches, []
        for _ in range(warm_up):
            model.step()
        model.c.switches = switches
        model.count = dict.fromkeys(COUNTERS, 0.0)
    for _ in range(model.c.steps):
        model.step()
    return summary(model)


def engine_summary(result: Any) -> dict[str, float]:
    """The same aggregates from the vectorised engine's result."""
    out = dict(result.summary())
    totals = result.steps
    sc = result.scenario
    out["below_need_share"] = float(totals["below_need"].sum()) / sc.population.people / sc.steps
    return {k: out[k] for k in summary_keys()}


def summary_keys() -> tuple[str, ...]:
    return (
        "contacts_per_1000",
        "failure_demand_share",
        "hand_offs_per_case",
        "hand_off_loss_rate",
        "re_referral_rate",
        "premature_closure_share",
        "crises_per_1000",
        "mean_wait_weeks",
        "cost_per_resident",
        "wellbeing_mean",
        "below_need_share",
    )


def compare(
    engine_runs: list[dict[str, float]], mesa_runs: list[dict[str, float]], z: float = 3.5
) -> list[dict[str, Any]]:
    """Per aggregate: both means, the standard error of their difference, and agreement.

    Agreement: the means differ by at most ``z`` standard errors of the
    difference (seeds are independent runs of each implementation); ``None``
    when fewer than two runs of either side define the aggregate.
    """
    rows = []
    for key in summary_keys():
        a = np.array([r[key] for r in engine_runs], float)
        b = np.array([r[key] for r in mesa_runs], float)
        # A ratio with an empty denominator (no hand-offs at all) is undefined: leave it out.
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        if a.size < 2 or b.size < 2:
            rows.append(
                {
                    "aggregate": key,
                    "engine": float(a.mean()) if a.size else float("nan"),
                    "mesa": float(b.mean()) if b.size else float("nan"),
                    "difference": float("nan"),
                    "se": float("nan"),
                    "z": float("nan"),
                    "agree": None,  # too few defined runs to judge
                }
            )
            continue
        se = float(np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size))
        diff = float(a.mean() - b.mean())
        rows.append(
            {
                "aggregate": key,
                "engine": float(a.mean()),
                "mesa": float(b.mean()),
                "difference": diff,
                "se": se,
                "z": diff / se if se > 0 else (0.0 if diff == 0 else float("inf")),
                "agree": abs(diff) <= z * se or abs(diff) <= 1e-9,
            }
        )
    return rows
