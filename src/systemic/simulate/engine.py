"""The vectorised engine: people as NumPy arrays, one loop over time steps.

Each step applies the model's rules (docs/model.md) in a fixed order to whole
arrays of people, never looping over people:

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
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from systemic.simulate.compiled import CompiledScenario, S, compile_scenario
from systemic.simulate.events import EventLog
from systemic.simulate.records import Records, locality_sums
from systemic.simulate.result import SimulationResult
from systemic.simulate.scenario import Scenario, load_scenario

# Status codes: every person is in exactly one.
NO_CASE, WAITING, IN_SERVICE, RESIDENTIAL = 0, 1, 2, 3
STATUSES = ("no_open_case", "waiting", "in_service", "residential_care")

# Why a person's next contact will be failure demand (0: it will be value demand).
NEW_NEED, LOST_HAND_OFF, PREMATURE_CLOSURE, REFUSED, CHASE, CRISIS = 0, 1, 2, 3, 4, 5
DEMAND_TYPES = (
    "new need",
    "re-presentation after lost hand-off",
    "re-referral after closure",
    "re-presentation after refusal",
    "progress chase",
    "crisis",
)

# Pseudo-services for crisis care (after the case-holding services in event logs).
A_AND_E = S
HOSPITAL = S + 1


class _People:
    """The population's state, one array per attribute (structure of arrays)."""

    def __init__(self, c: CompiledScenario, rng: np.random.Generator) -> None:
        n = c.n_people
        pop = c.scenario.population
        n_loc = len(c.locality_names)
        self.loc = np.repeat(np.arange(n_loc, dtype=np.int8), c.locality_size)
        strength = c.community_strength[self.loc]
        conc = 8.0  # Beta concentration: spread of connection within a locality
        a = np.clip(strength * conc, 1e-3, None)
        b = np.clip((1 - strength) * conc, 1e-3, None)
        self.connection = rng.beta(a, b).astype(np.float32)
        w = rng.normal(pop.initial_wellbeing, pop.initial_spread, n)
        self.wellbeing = np.clip(w, 0.0, 1.0).astype(np.float32)
        self.status = np.zeros(n, np.int8)
        self.service = np.full(n, -1, np.int8)
        self.since = np.zeros(n, np.int32)
        self.domain = np.zeros(n, np.int8)
        self.second = np.full(n, -1, np.int8)
        self.reason = np.zeros(n, np.int8)
        self.case_class = np.zeros(n, np.int8)  # 0 value, 1 failure: the open case's demand
        self.case_no = np.zeros(n, np.int32)
        # Scratch buffers reused every step (no per-step allocation of big arrays).
        self.tmp = np.empty(n, np.float32)
        self.mask = np.empty(n, bool)
        self.mask2 = np.empty(n, bool)


class Engine:
    """Runs one compiled scenario with one seed. Use :func:`run`."""

    def __init__(
        self, compiled: CompiledScenario, seed: int, *, record_events: bool = False
    ) -> None:
        self.c = compiled
        self.seed = seed
        streams = np.random.SeedSequence(seed).spawn(8)
        (
            self.rng_init,
            self.rng_events,
            self.rng_crisis,
            self.rng_seek,
            self.rng_refer,
            self.rng_service,
            self.rng_chase,
            self.rng_shock,
        ) = (np.random.default_rng(s) for s in streams)
        self.p = _People(compiled, self.rng_init)
        self.rec = Records(compiled)
        self.log = EventLog() if record_events else None
        pop = compiled.scenario.population
        self.need = np.float32(pop.need_threshold)
        self.crisis_line = np.float32(pop.crisis_threshold)
        self.resolved_line = np.float32(pop.need_threshold + pop.resolve_margin)
        self.baseline = np.float32(pop.baseline)
        self.connection_weight = np.float32(pop.connection_weight)
        self.t = 0

    # -- helpers -------------------------------------------------------------
    def _event(
        self,
        who: np.ndarray,
        activity: int,
        service: np.ndarray | int,
        cost: np.ndarray | float,
        demand_type: np.ndarray | int | None = None,
    ) -> None:
        if self.log is None or who.size == 0:
            return
        p = self.p
        dtype = p.reason[who] if demand_type is None else demand_type
        self.log.add(self.t, who, activity, service, p.case_class[who], dtype, cost, p.case_no[who])

    def _open_case(self, who: np.ndarray, failure: np.ndarray | bool) -> None:
        p = self.p
        p.case_no[who] += 1
        p.case_class[who] = failure
        self.rec.count_l("cases_opened", p.loc[who])

    def _refer(self, who: np.ndarray, origin: np.ndarray, force: bool = False) -> None:
        """Route ``who`` (status NO_CASE) from ``origin`` to the service holding their need.

        A referral to another service is a hand-off that may be lost; the
        receiving service assesses eligibility unless ``force`` (crisis).
        """
        if who.size == 0:
            return
        c, p, d, rec = self.c, self.p, self.c.design, self.rec
        loc = p.loc[who]
        target = d.route[loc, p.domain[who]]
        hand_off = target != origin
        lost = hand_off & (
            self.rng_refer.random(who.size, dtype=np.float32) < d.hand_off_loss[loc, target]
        )
        rec.count_ls("hand_offs", loc[hand_off], target[hand_off])
        rec.count_ls("hand_offs_lost", loc[lost], target[lost])
        if self.log is not None:
            ho = who[hand_off]
            self._event(ho, ACT_REFERRAL, origin[hand_off] if np.ndim(origin) else origin, 0.0, 0)
        p.reason[who[lost]] = LOST_HAND_OFF
        keep = ~lost
        who, loc, target = who[keep], loc[keep], target[keep]
        cost = c.unit_assessment[target]
        rec.add_cost_ls("cost_assessment", loc, target, cost)
        eligible = (
            np.ones(who.size, bool) if force else p.wellbeing[who] < d.eligibility[loc, target]
        )
        refused = ~eligible
        rec.count_ls("refused", loc[refused], target[refused])
        self._event(who[refused], ACT_REFUSED, target[refused], cost[refused], 0)
        p.reason[who[refused]] = REFUSED
        acc = who[eligible]
        self._event(acc, ACT_ASSESSMENT, target[eligible], cost[eligible], 0)
        p.status[acc] = WAITING
        p.service[acc] = target[eligible]
        p.since[acc] = self.t
        p.reason[acc] = NEW_NEED
        rec.count_ls("queue_joins", loc[eligible], target[eligible])

    # -- the step ------------------------------------------------------------
    def step(self) -> None:
        c, p, d, rec, t = self.c, self.p, self.c.design, self.rec, self.t
        while c.switches and c.switches[0][0] <= t:
            _, row, design = c.switches.pop(0)
            d.set_locality(row, design, int(c.locality_size[row]), c.scenario)
            self._transfer_waiting(row)
        starts = c.locality_start
        n_loc = len(c.locality_names)

        # 2. Recovery toward baseline + weight * connection; prevention raises connection.
        w, conn, tmp = p.wellbeing, p.connection, p.tmp
        for row in range(n_loc):
            a, b = starts[row], starts[row + 1]
            if d.prevention[row] > 0:
                gain = np.float32(d.prevention[row] * c.prevention_connection)
                np.subtract(np.float32(1.0), conn[a:b], out=tmp[a:b])
                tmp[a:b] *= gain
                conn[a:b] += tmp[a:b]
        np.multiply(conn, self.connection_weight, out=tmp)
        tmp += self.baseline
        tmp -= w
        tmp *= np.float32(c.recovery)
        w += tmp
        in_idx = np.flatnonzero(p.status == IN_SERVICE)
        if in_idx.size:
            lsv = p.loc[in_idx].astype(np.intp) * S + p.service[in_idx]
            w[in_idx] = np.minimum(w[in_idx] + d.effect.ravel()[lsv], np.float32(1.0))
            g = d.connection_gain.ravel()[lsv]
            conn[in_idx] += g * (np.float32(1.0) - conn[in_idx])

        # 3. Life events.
        self._life_events()

        # 4. Residential care step-downs, then crises.
        self._residential_exits()
        self._crises()

        # 5. Help seeking, hand-offs, eligibility; chasing while waiting.
        # Wellbeing does not change after this point of the step, so the
        # need mask also gives the step's count of people below the need line.
        np.less(w, self.need, out=p.mask)
        rec.l["below_need"][rec.t] = locality_sums(p.mask, starts)
        np.equal(p.status, NO_CASE, out=p.mask2)
        p.mask &= p.mask2
        cand = np.flatnonzero(p.mask)
        if cand.size:
            again = p.reason[cand] > 0
            prob = np.where(again, np.float32(c.re_present), np.float32(c.seek))
            seekers = cand[self.rng_seek.random(cand.size, dtype=np.float32) < prob]
            again = p.reason[seekers] > 0
            loc = p.loc[seekers]
            entry = d.entry[loc, p.domain[seekers]]
            rec.count_contacts(loc, entry, p.reason[seekers])
            cost = c.unit_contact[entry]
            rec.add_cost_ls("cost_contact", loc, entry, cost)
            self._open_case(seekers, again)
            self._event(seekers, ACT_CONTACT, entry, cost)
            p.reason[seekers] = NEW_NEED
            self._refer(seekers, entry)
        waiting = np.flatnonzero(p.status == WAITING)
        if waiting.size and c.chase > 0:
            long = waiting[(t - p.since[waiting]) > c.chase_after_steps]
            chasers = long[self.rng_chase.random(long.size, dtype=np.float32) < c.chase]
            loc = p.loc[chasers]
            entry = d.entry[loc, p.domain[chasers]]
            rec.count_contacts(loc, entry, np.full(chasers.size, CHASE, np.int8))
            cost = c.unit_contact[entry]
            rec.add_cost_ls("cost_contact", loc, entry, cost)
            self._event(chasers, ACT_CHASE, entry, cost, CHASE)

        # 6. Interventions end.
        self._closures()

        # 7. Waiting lists served first come, first served.
        self._admissions()

        # Costs of those in service, in residential care, and of prevention.
        rec.end_step(rec.t, p, c)
        self.t += 1
        rec.t += 1

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
        for _ in range(steps):
            self.step()
        self.log, self.rec = log, main
        self.rec.t = 0

    def _life_events(self) -> None:
        c, p, d = self.c, self.p, self.c.design
        rng = self.rng_events
        counts = rng.binomial(c.locality_size[None, :], c.event_p)  # [n_kinds, n_loc]
        total = int(counts.sum())
        if total == 0:
            return
        n_kinds, n_loc = counts.shape
        flat = counts.ravel()
        kind = np.repeat(np.repeat(np.arange(n_kinds), n_loc), flat)
        loc = np.repeat(np.tile(np.arange(n_loc), n_kinds), flat)
        u = rng.random(total)
        who = c.locality_start[loc] + (u * c.locality_size[loc]).astype(np.int64)
        size = self.rng_shock.random(total, dtype=np.float32) + np.float32(0.5)
        shock = c.event_shock[kind] * size
        shock *= (
            np.float32(1.0) - np.float32(c.scenario.prevention.shock_reduction) * d.prevention[loc]
        )
        before = p.wellbeing[who]
        p.wellbeing[who] = np.maximum(before - shock, np.float32(0.0))
        dom = c.event_domain[kind]
        # Someone well with no open case starts a new need: earlier failures
        # they recovered from no longer make their next contact failure demand.
        fresh = (p.status[who] == NO_CASE) & (before >= self.need)
        p.domain[who[fresh]] = dom[fresh]
        p.reason[who[fresh]] = NEW_NEED
        p.second[who[fresh]] = -1
        other = ~fresh & (dom != p.domain[who])
        p.second[who[other]] = dom[other]
        self.rec.count_l("life_events", loc)

    def _crises(self) -> None:
        p, rec = self.p, self.rec
        cand = np.flatnonzero(p.wellbeing < self.crisis_line)
        self._crisis_episodes(cand)
        # Wellbeing changes no more this step, so this is the step's count.
        still = cand[p.wellbeing[cand] < self.crisis_line]
        rec.count_l("below_crisis", p.loc[still])

    def _crisis_episodes(self, cand: np.ndarray) -> None:
        c, p, rec = self.c, self.p, self.rec
        if cand.size == 0:
            return
        st = p.status[cand]
        cand, st = cand[st != RESIDENTIAL], st[st != RESIDENTIAL]
        prob = np.where(
            st == IN_SERVICE,
            np.float32(c.crisis * c.scenario.crisis.in_service_factor),
            np.float32(c.crisis),
        )
        rng = self.rng_crisis
        hit = rng.random(cand.size, dtype=np.float32) < prob
        who, st = cand[hit], st[hit]
        if who.size == 0:
            return
        cr = c.scenario.crisis
        costs = c.scenario.costs
        loc = p.loc[who]
        rec.count_l("crises", loc)
        rec.add_cost_l("cost_crisis", loc, costs.a_and_e)
        opening = st == NO_CASE
        self._open_case(who[opening], True)
        self._event(who, ACT_A_AND_E, A_AND_E, costs.a_and_e, CRISIS)
        admitted = rng.random(who.size) < cr.admission_probability
        rec.count_l("emergency_admissions", loc[admitted])
        rec.add_cost_l("cost_crisis", loc[admitted], costs.emergency_admission)
        self._event(who[admitted], ACT_ADMISSION, HOSPITAL, costs.emergency_admission, CRISIS)
        care = p.domain[who] == DOMAIN_CARE
        residential = care & (rng.random(who.size) < cr.residential_probability)
        res = who[residential]
        if res.size:
            rs = p.status[res]
            rec.count_ls("left_waiting", p.loc[res[rs == WAITING]], p.service[res[rs == WAITING]])
            rec.count_ls(
                "left_service", p.loc[res[rs == IN_SERVICE]], p.service[res[rs == IN_SERVICE]]
            )
            rec.count_l("residential_admissions", p.loc[res])
            self._event(res, ACT_RESIDENTIAL, DOMAIN_CARE_SERVICE, 0.0, CRISIS)
            p.status[res] = RESIDENTIAL
            p.service[res] = -1
            p.second[res] = -1
        rest = who[~residential]
        p.wellbeing[rest] = np.minimum(p.wellbeing[rest] + np.float32(cr.stabilise), np.float32(1))
        refer = rest[p.status[rest] == NO_CASE]
        p.reason[refer] = NEW_NEED
        self._refer(refer, np.full(refer.size, A_AND_E, np.int8), force=True)

    def _residential_exits(self) -> None:
        c, p = self.c, self.p
        if c.residential_exit <= 0:
            return
        res = np.flatnonzero(p.status == RESIDENTIAL)
        out = res[self.rng_crisis.random(res.size) < c.residential_exit]
        if out.size:
            self.rec.count_l("residential_exits", p.loc[out])
            p.status[out] = NO_CASE
            p.reason[out] = NEW_NEED
            p.wellbeing[out] = self.resolved_line

    def _closures(self) -> None:
        _c, p, d, rec, t = self.c, self.p, self.c.design, self.rec, self.t
        in_idx = np.flatnonzero(p.status == IN_SERVICE)
        if in_idx.size == 0:
            return
        loc = p.loc[in_idx]
        svc = p.service[in_idx]
        lsv = loc.astype(np.intp) * S + svc
        wb = p.wellbeing[in_idx]
        done = wb >= self.resolved_line
        done |= (t - p.since[in_idx]) >= d.max_steps.ravel()[lsv]
        comp = d.completion.ravel()[lsv]
        if comp.any():
            done |= self.rng_service.random(in_idx.size, dtype=np.float32) < comp
        who, loc, svc, wb = in_idx[done], loc[done], svc[done], wb[done]
        if who.size == 0:
            return
        premature = wb < self.need
        rec.count_ls("closures", loc, svc)
        rec.count_ls("premature_closures", loc[premature], svc[premature])
        if self.log is not None:
            self._event(who[~premature], ACT_CLOSED_MET, svc[~premature], 0.0, 0)
            self._event(who[premature], ACT_CLOSED_UNMET, svc[premature], 0.0, 0)
        p.status[who] = NO_CASE
        p.service[who] = -1
        p.reason[who] = np.where(premature, PREMATURE_CLOSURE, NEW_NEED).astype(np.int8)
        # A second need goes to its own service (a hand-off) unless this one holds it.
        sec = p.second[who]
        has = sec >= 0
        who2, svc2, sec2 = who[has], svc[has], sec[has]
        p.second[who2] = -1
        onward = d.route[p.loc[who2], sec2] != svc2
        moving = who2[onward]
        p.domain[moving] = sec2[onward]
        p.reason[moving] = NEW_NEED
        self._refer(moving, svc2[onward])

    def _admissions(self) -> None:
        c, p, d, rec, t = self.c, self.p, self.c.design, self.rec, self.t
        waiting = np.flatnonzero(p.status == WAITING)
        if waiting.size == 0:
            return
        n_loc = len(c.locality_names)
        in_idx = np.flatnonzero(p.status == IN_SERVICE)
        occupied = np.bincount(
            p.loc[in_idx].astype(np.intp) * S + p.service[in_idx], minlength=n_loc * S
        )
        free = np.maximum(d.capacity.ravel() - occupied, 0)
        q = p.loc[waiting].astype(np.intp) * S + p.service[waiting]
        order = np.lexsort((waiting, p.since[waiting], q))
        qs = q[order]
        first = np.searchsorted(qs, qs, side="left")
        rank = np.arange(qs.size) - first
        take = order[rank < free[qs]]
        who = waiting[take]
        if who.size == 0:
            return
        loc, svc = p.loc[who], p.service[who]
        rec.count_ls("admissions", loc, svc)
        rec.add_ls("wait_steps", loc, svc, (t - p.since[who]).astype(np.float64))
        self._event(who, ACT_START, svc, 0.0, 0)
        p.status[who] = IN_SERVICE
        p.since[who] = t


# Event activities (codes into events.ACTIVITIES).
ACT_CONTACT, ACT_CHASE, ACT_REFERRAL, ACT_ASSESSMENT, ACT_REFUSED = 0, 1, 2, 3, 4
ACT_START, ACT_CLOSED_MET, ACT_CLOSED_UNMET, ACT_A_AND_E, ACT_ADMISSION = 5, 6, 7, 8, 9
ACT_RESIDENTIAL = 10
DOMAIN_CARE = 3  # DOMAINS.index("care")
DOMAIN_CARE_SERVICE = 6  # SERVICES.index("adult_social_care")


def run(
    scenario: Scenario | dict | str,
    seed: int = 0,
    *,
    events: bool = False,
    on_step: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Simulate ``scenario`` once with ``seed``; the same seed gives the same result.

    ``events=True`` also keeps every simulated event (for :func:`write_events`).
    ``on_step(done, total)`` is called after each step (progress bars).

    >>> from systemic.simulate import load_scenario, run
    >>> r = run(load_scenario({"population": {"people": 500}, "years": 0.5}), seed=1)
    >>> r.steps.height == 26 * 1 and r.steps["people"].unique().to_list()
    [500]
    """
    sc = load_scenario(scenario) if not isinstance(scenario, Scenario) else scenario
    compiled = compile_scenario(sc)
    engine = Engine(compiled, seed, record_events=events)
    engine.warm_up(compiled.burn_in_steps)
    total = compiled.steps
    for i in range(total):
        engine.step()
        if on_step is not None:
            on_step(i + 1, total)
    return SimulationResult(
        scenario=sc,
        seed=seed,
        steps=engine.rec.steps_frame(),
        services=engine.rec.services_frame(),
        wellbeing=engine.rec.wellbeing_frame(),
        event_log=engine.log.frame() if engine.log is not None else None,
    )
