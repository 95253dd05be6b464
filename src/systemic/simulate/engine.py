"""The engine: people as NumPy arrays (one per attribute), one loop over time steps.

Each step applies the model's rules (docs/model.md) in a fixed order to the
whole population; there is no Python loop over people:

1. design switches of experiments starting this step (waiting lists of
   services the new design closes move to the service now holding the need);
2. recovery toward each person's baseline, plus the effect of any service
   they are in, plus prevention's slow rise in community connection;
3. life events (drawn sparsely per locality) push wellbeing down;
4. residential care step-downs; then crises: people below the crisis
   threshold may attend A&E, be admitted, or enter residential care; others
   are referred on from A&E;
5. help seeking: people in need with no open case contact an entry service,
   are routed (a hand-off when the entry service does not hold that need),
   and are accepted onto a waiting list or refused by eligibility;
   people waiting too long chase progress;
6. interventions end (need met, time limit, or at random);
7. waiting lists are served first come, first served up to capacity.

Person arrays are sorted by locality (contiguous blocks) so per-locality
work is slicing. Random draws come from one ``numpy.random.Generator`` per
mechanism, so two designs run with the same seed share their life events
(common random numbers).

Rules 2-7 and the end-of-step stocks run in compiled code (``kernel.steps``,
Numba), one call per block of steps: loops over the people arrays in machine
code, so the cost of a step is the work on the people, not hundreds of array
calls. Design switches are applied here, between blocks.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from systemic.simulate import kernel
from systemic.simulate.compiled import CompiledScenario, compile_scenario
from systemic.simulate.events import EventLog
from systemic.simulate.records import Records
from systemic.simulate.result import SimulationResult
from systemic.simulate.scenario import Scenario, load_scenario

STATUSES = ("no_open_case", "waiting", "in_service", "residential_care")
# The codes (statuses, why a next contact is failure demand, activities) are kernel's.
WAITING = kernel.WAITING


def _population(c: CompiledScenario, rng: np.random.Generator) -> kernel.People:
    """The starting population: connection and wellbeing drawn, no open cases."""
    n = c.n_people
    pop = c.scenario.population
    n_loc = len(c.locality_names)
    loc = np.repeat(np.arange(n_loc, dtype=np.int8), c.locality_size)
    strength = c.community_strength[loc]
    conc = 8.0  # Beta concentration: spread of connection within a locality
    a = np.clip(strength * conc, 1e-3, None)
    b = np.clip((1 - strength) * conc, 1e-3, None)
    connection = rng.beta(a, b).astype(np.float32)
    w = rng.normal(pop.initial_wellbeing, pop.initial_spread, n)
    return kernel.People(
        loc=loc,
        wellbeing=np.clip(w, 0.0, 1.0).astype(np.float32),
        connection=connection,
        status=np.zeros(n, np.int8),
        service=np.full(n, -1, np.int8),
        since=np.zeros(n, np.int32),
        domain=np.zeros(n, np.int8),
        second=np.full(n, -1, np.int8),
        reason=np.zeros(n, np.int8),
        case_class=np.zeros(n, np.int8),
        case_no=np.zeros(n, np.int32),
    )


class Engine:
    """Runs one compiled scenario with one seed. Use :func:`run`."""

    def __init__(
        self, compiled: CompiledScenario, seed: int, *, record_events: bool = False
    ) -> None:
        self.c = compiled
        self.seed = seed
        init, *streams = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8))
        self.rng = kernel.Streams(*streams)
        self.p = _population(compiled, init)
        c = compiled
        self.town = kernel.Town(
            c.locality_start, c.locality_size, c.event_p, c.event_shock, c.event_domain,
            c.unit_contact, c.unit_assessment, c.unit_intervention, *_parameters(c),
        )  # fmt: skip
        self.rec = Records(compiled)
        self.log = EventLog() if record_events else None
        self._no_log = EventLog(capacity=0)
        self.t = 0

    def advance(self, count: int) -> int:
        """Run up to ``count`` steps in one compiled call; returns how many ran.

        Design switches due by now are applied first, and the block stops
        before the next one (it is applied on the next call).
        """
        c, p, d, rec = self.c, self.p, self.c.design, self.rec
        while c.switches and c.switches[0][0] <= self.t:
            _, row, design = c.switches.pop(0)
            d.set_locality(row, design, int(c.locality_size[row]), c.scenario)
            self._transfer_waiting(row)
        if c.switches:
            count = min(count, c.switches[0][0] - self.t)
        log = self.log if self.log is not None else self._no_log
        tables = kernel.Tables(rec.ls_all, rec.l_all, rec.causes, rec.bands)
        log.codes, log.cost = kernel.steps(
            self.t,
            rec.t,
            count,
            self.log is not None,
            p,
            d,
            self.town,
            self.rng,
            tables,
            log.codes,
            log.cost,
            log.counter,
        )
        self.t += count
        rec.t += count
        return count

    def _transfer_waiting(self, row: int) -> None:
        """After locality ``row`` changes design, move its waiting lists to where needs now go.

        People waiting for a service that has no capacity under the new design
        would otherwise wait for ever (and chase): they join the queue of the
        service that now holds their need, keeping their place (the date they
        started waiting). People already in service finish where they are.
        """
        c, p, d = self.c, self.p, self.c.design
        a, b = c.locality_start[row], c.locality_start[row + 1]
        waiting = a + np.flatnonzero(p.status[a:b] == WAITING)
        if waiting.size == 0:
            return
        stranded = waiting[d.capacity[row, p.service[waiting]] == 0]
        if stranded.size == 0:
            return
        loc = p.loc[stranded]
        # Recorded as leaving one queue and joining another, so stocks still
        # change only by their recorded flows.
        self.rec.count_ls("left_waiting", loc, p.service[stranded])
        p.service[stranded] = d.route[row, p.domain[stranded]]
        self.rec.count_ls("queue_joins", loc, p.service[stranded])

    def warm_up(self, steps: int) -> None:
        """Run ``steps`` steps before the start (model time -steps..-1), unrecorded.

        Lets waiting lists, wellbeing and connection settle from the initial
        state, so recorded years start near the design's own dynamics.
        Experiments do not apply (they start at or after step 0).
        """
        if steps <= 0:
            return
        log, main = self.log, self.rec
        self.log = None
        self.rec = Records(self.c, steps=steps)
        self.t = -steps
        done = 0
        while done < steps:
            done += self.advance(steps - done)
        self.log, self.rec = log, main
        self.rec.t = 0


def _parameters(c: CompiledScenario) -> tuple[np.ndarray, np.ndarray]:
    """The scalars the compiled step needs, as float32 and float64 vectors (kernel order).

    Thresholds and per-step chances compared with ``float32`` draws or
    wellbeing are rounded to ``float32`` once, here.
    """
    sc, pop, cr = c.scenario, c.scenario.population, c.scenario.crisis
    f32 = {
        "need": pop.need_threshold,
        "crisis_line": pop.crisis_threshold,
        "resolved_line": pop.need_threshold + pop.resolve_margin,
        "baseline": pop.baseline,
        "connection_weight": pop.connection_weight,
        "recovery": c.recovery,
        "re_present": c.re_present,
        "seek": c.seek,
        "prevention_connection": c.prevention_connection,
        "chase": c.chase,
        "crisis": c.crisis,
        "crisis_in_service": c.crisis * cr.in_service_factor,
        "stabilise": cr.stabilise,
        "shock_reduction": sc.prevention.shock_reduction,
    }
    f64 = {
        "chase": c.chase,
        "residential_exit": c.residential_exit,
        "admission_probability": cr.admission_probability,
        "residential_probability": cr.residential_probability,
        "a_and_e": sc.costs.a_and_e,
        "emergency_admission": sc.costs.emergency_admission,
        "residential_care_per_week": sc.costs.residential_care_per_week,
        "weeks_per_step": sc.weeks_per_step,
        "prevention_cost_per_step": c.prevention_cost_per_step,
        "chase_after_steps": c.chase_after_steps,
    }
    return (
        np.array([f32[k] for k in kernel.F32_PARAMS], np.float32),
        np.array([f64[k] for k in kernel.F64_PARAMS], np.float64),
    )


def prepare() -> float:
    """Make the compiled step ready in this process; returns the seconds it took.

    A load from Numba's disk cache (about a second), or, the first time on a
    machine or after an upgrade, a compile (about half a minute). :func:`run`
    does this itself; call it first to show a user what the wait is for.

    >>> prepare() >= 0.0
    True
    """
    t0 = time.perf_counter()
    run(load_scenario({"population": {"people": 10}, "years": 0.05}), seed=0, events=True)
    return time.perf_counter() - t0


def run(
    scenario: Scenario | dict | str,
    seed: int = 0,
    *,
    events: bool = False,
    on_step: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Simulate ``scenario`` once with ``seed``; the same seed gives the same result.

    ``events=True`` also keeps every simulated event (for :func:`write_events`).
    ``on_step(done, total)`` is called after each block of steps (progress bars).

    >>> from systemic.simulate import load_scenario, run
    >>> r = run(load_scenario({"population": {"people": 500}, "years": 0.5}), seed=1)
    >>> r.steps.height == 26 * 1 and r.steps["people"].unique().to_list()
    [500]
    """
    sc = load_scenario(scenario) if not isinstance(scenario, Scenario) else scenario
    compiled = compile_scenario(sc)
    engine = Engine(compiled, seed, record_events=events)
    engine.warm_up(compiled.burn_in_steps)
    total, done = compiled.steps, 0
    # Blocks of steps per compiled call: long enough to make the call's own
    # cost negligible, short enough for a lively progress bar.
    block = int(np.clip(4_000_000 // max(compiled.n_people, 1), 1, 52))
    while done < total:
        done += engine.advance(min(block, total - done))
        if on_step is not None:
            on_step(done, total)
    return SimulationResult(
        scenario=sc,
        seed=seed,
        steps=engine.rec.steps_frame(),
        services=engine.rec.services_frame(),
        wellbeing=engine.rec.wellbeing_frame(),
        event_log=engine.log.frame() if engine.log is not None else None,
    )
