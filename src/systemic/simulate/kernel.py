"""The engine's step as compiled loops over the people arrays (Numba).

The model's rules are the engine's (``engine.py`` and docs/model.md); this
module applies them to the whole population in one compiled call per block of
steps, so a step over a small town costs its loop work (about 12 ns a person)
instead of hundreds of separate NumPy calls. People are still NumPy arrays
(structure of arrays) and there is no Python loop over people.

Random draws come from the engine's ``numpy.random.Generator`` objects, in the
same order and of the same types as whole-array NumPy draws would take them,
and arithmetic is done in the arrays' own types (``float32`` wellbeing and
thresholds), so a run is reproducible from its seed and two designs run with
the same seed share their life events.

Records are ``float64`` arrays: ``ls[metric, step, locality, service]`` and
``lm[metric, step, locality]``; counts are whole numbers, costs are summed per
rule and step before being added (as a per-rule table would be).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from systemic.simulate.compiled import S
from systemic.simulate.records import LOCALITY_METRICS, SERVICE_METRICS, WELLBEING_BANDS

# Status codes, why a next contact is failure demand, and event activities
# (codes into events.ACTIVITIES).
NO_CASE, WAITING, IN_SERVICE, RESIDENTIAL = 0, 1, 2, 3
NEW_NEED, LOST_HAND_OFF, PREMATURE_CLOSURE, REFUSED, CHASE, CRISIS = 0, 1, 2, 3, 4, 5
ACT_CONTACT, ACT_CHASE, ACT_REFERRAL, ACT_ASSESSMENT, ACT_REFUSED = 0, 1, 2, 3, 4
ACT_START, ACT_CLOSED_MET, ACT_CLOSED_UNMET, ACT_A_AND_E, ACT_ADMISSION = 5, 6, 7, 8, 9
ACT_RESIDENTIAL = 10
DOMAIN_CARE = 3  # DOMAINS.index("care")
DOMAIN_CARE_SERVICE = 6  # SERVICES.index("adult_social_care")
A_AND_E, HOSPITAL = S, S + 1  # crisis care, after the case-holding services

_LS = {m: i for i, m in enumerate(SERVICE_METRICS)}
_L = {m: i for i, m in enumerate(LOCALITY_METRICS)}
CONTACTS_VALUE, CONTACTS_FAILURE = _LS["contacts_value"], _LS["contacts_failure"]
HAND_OFFS, HAND_OFFS_LOST, REFUSED_M = _LS["hand_offs"], _LS["hand_offs_lost"], _LS["refused"]
QUEUE_JOINS, ADMISSIONS, WAIT_STEPS = _LS["queue_joins"], _LS["admissions"], _LS["wait_steps"]
CLOSURES, PREMATURE_CLOSURES = _LS["closures"], _LS["premature_closures"]
LEFT_WAITING, LEFT_SERVICE = _LS["left_waiting"], _LS["left_service"]
WAITING_M, IN_SERVICE_M, CAPACITY_M = _LS["waiting"], _LS["in_service"], _LS["capacity"]
COST_CONTACT, COST_ASSESSMENT = _LS["cost_contact"], _LS["cost_assessment"]
COST_INTERVENTION = _LS["cost_intervention"]
LIFE_EVENTS, CASES_OPENED, CRISES = _L["life_events"], _L["cases_opened"], _L["crises"]
EMERGENCY_ADMISSIONS = _L["emergency_admissions"]
RESIDENTIAL_ADMISSIONS = _L["residential_admissions"]
RESIDENTIAL_EXITS, COST_CRISIS = _L["residential_exits"], _L["cost_crisis"]
COST_RESIDENTIAL, COST_PREVENTION = _L["cost_residential"], _L["cost_prevention"]
NO_OPEN_CASE, RESIDENTIAL_CARE = _L["no_open_case"], _L["residential_care"]
BELOW_NEED, BELOW_CRISIS = _L["below_need"], _L["below_crisis"]
WELLBEING_MEAN, CONNECTION_MEAN = _L["wellbeing_mean"], _L["connection_mean"]
BANDS = WELLBEING_BANDS

# Positions in the parameter vectors built by ``engine.Engine``.
F32_PARAMS = (
    "need",
    "crisis_line",
    "resolved_line",
    "baseline",
    "connection_weight",
    "recovery",
    "re_present",
    "seek",
    "prevention_connection",
    "chase",
    "crisis",
    "crisis_in_service",
    "stabilise",
    "shock_reduction",
)
F64_PARAMS = (
    "chase",
    "residential_exit",
    "admission_probability",
    "residential_probability",
    "a_and_e",
    "emergency_admission",
    "residential_care_per_week",
    "weeks_per_step",
    "prevention_cost_per_step",
    "chase_after_steps",
)
(
    F_NEED,
    F_CRISIS_LINE,
    F_RESOLVED,
    F_BASELINE,
    F_CONN_WEIGHT,
    F_RECOVERY,
    F_RE_PRESENT,
    F_SEEK,
    F_PREV_CONN,
    F_CHASE,
    F_CRISIS,
    F_CRISIS_IN_SERVICE,
    F_STABILISE,
    F_SHOCK_REDUCTION,
) = range(len(F32_PARAMS))
(
    D_CHASE,
    D_RES_EXIT,
    D_ADMISSION,
    D_RES_PROB,
    D_A_AND_E,
    D_EMERGENCY,
    D_RES_WEEK,
    D_WEEKS,
    D_PREV_COST,
    D_CHASE_AFTER,
) = range(len(F64_PARAMS))


class People(NamedTuple):
    """The population's state, one array per attribute; people are sorted by locality."""

    loc: np.ndarray  # int8 locality
    wellbeing: np.ndarray  # float32 0..1
    connection: np.ndarray  # float32 0..1 community connection
    status: np.ndarray  # int8 NO_CASE, WAITING, IN_SERVICE or RESIDENTIAL
    service: np.ndarray  # int8 service waited for or in (-1: none)
    since: np.ndarray  # int32 step the status began
    domain: np.ndarray  # int8 domain of the current need
    second: np.ndarray  # int8 domain of a second need (-1: none)
    reason: np.ndarray  # int8 why the next contact is failure demand (NEW_NEED: it is not)
    case_class: np.ndarray  # int8 the open case's demand: 0 value, 1 failure
    case_no: np.ndarray  # int32 cases opened so far


class Town(NamedTuple):
    """What a run holds fixed: localities, life events, unit costs and scalar parameters."""

    locality_start: np.ndarray  # [n_loc + 1] first person of each locality
    locality_size: np.ndarray  # [n_loc]
    event_p: np.ndarray  # [n_kinds, n_loc] chance per person per step
    event_shock: np.ndarray  # [n_kinds] float32
    event_domain: np.ndarray  # [n_kinds] int8
    unit_contact: np.ndarray  # [S]
    unit_assessment: np.ndarray  # [S]
    unit_intervention: np.ndarray  # [S] per step
    f32p: np.ndarray  # F32_PARAMS
    f64p: np.ndarray  # F64_PARAMS


class Streams(NamedTuple):
    """One random stream per mechanism, so designs run on common random numbers."""

    events: np.random.Generator
    crisis: np.random.Generator
    seek: np.random.Generator
    refer: np.random.Generator
    service: np.random.Generator
    chase: np.random.Generator
    shock: np.random.Generator


class Tables(NamedTuple):
    """The records the step writes (``records.Records``)."""

    ls: np.ndarray  # [metric, step, locality, service]
    lm: np.ndarray  # [metric, step, locality]
    causes: np.ndarray  # [step, locality, failure cause]
    bands: np.ndarray  # [step, locality, wellbeing band]


#: Columns of the event buffer (int32); the cost is kept in a float64 buffer beside it.
EV_STEP, EV_SEQ, EV_PERSON, EV_ACTIVITY, EV_SERVICE, EV_CLASS, EV_TYPE, EV_CASE = range(8)
EV_COLUMNS = 8


@njit(cache=True)
def _reserve(evi, evf, n, k):
    """Buffers with room for ``k`` more events after the first ``n``."""
    if n + k <= evi.shape[0]:
        return evi, evf
    cap = max(2 * evi.shape[0], n + k, 1024)
    new_i = np.empty((cap, EV_COLUMNS), np.int32)
    new_i[:n] = evi[:n]
    new_f = np.empty(cap, np.float64)
    new_f[:n] = evf[:n]
    return new_i, new_f


@njit(cache=True)
def _emit(evi, evf, cnt, t, who, activity, service, demand_type, cost, case_class, case_no):
    """Append one rule's events (one ``seq`` per rule and step); ``cnt`` is [n, seq]."""
    k = who.size
    if k == 0:
        return evi, evf
    n = cnt[0]
    evi, evf = _reserve(evi, evf, n, k)
    cnt[1] += 1
    seq = cnt[1]
    for j in range(k):
        i = who[j]
        row = n + j
        evi[row, EV_STEP] = t
        evi[row, EV_SEQ] = seq
        evi[row, EV_PERSON] = i
        evi[row, EV_ACTIVITY] = activity
        evi[row, EV_SERVICE] = service[j]
        evi[row, EV_CLASS] = case_class[i]
        evi[row, EV_TYPE] = demand_type[j]
        evi[row, EV_CASE] = case_no[i]
        evf[row] = cost[j]
    cnt[0] = n + k
    return evi, evf


@njit(cache=True)
def _add_costs(target, loc, svc, cost, scratch):
    """``target[loc, svc] += cost``, summed per cell first (one rule's total per cell)."""
    if loc.size == 0:
        return
    n_loc, n_svc = scratch.shape
    for a in range(n_loc):
        for b in range(n_svc):
            scratch[a, b] = 0.0
    for j in range(loc.size):
        scratch[loc[j], svc[j]] += cost[j]
    for a in range(n_loc):
        for b in range(n_svc):
            target[a, b] += scratch[a, b]


# Selections are written as loops (not NumPy's boolean indexing): the same
# work, and far less for Numba to compile.
@njit(cache=True)
def _take(values, mask):
    """``values[mask]``."""
    k = 0
    for j in range(mask.size):
        if mask[j]:
            k += 1
    out = np.empty(k, values.dtype)
    k = 0
    for j in range(mask.size):
        if mask[j]:
            out[k] = values[j]
            k += 1
    return out


@njit(cache=True)
def _not(mask):
    """``~mask``."""
    out = np.empty(mask.size, np.bool_)
    for j in range(mask.size):
        out[j] = not mask[j]
    return out


@njit(cache=True)
def _count(mask):
    """``mask.sum()``."""
    k = 0
    for j in range(mask.size):
        if mask[j]:
            k += 1
    return k


@njit(cache=True)
def _refer(t, rt, log_on, who, origin, force, p, d, town, rng, tab, scratch, evi, evf, cnt):
    """Route ``who`` (no open case) from ``origin`` to the service holding their need.

    A referral to another service is a hand-off that may be lost; the
    receiving p.service assesses d.eligibility unless ``force`` (crisis).
    """
    m = who.size
    if m == 0:
        return evi, evf
    loc = np.empty(m, np.int64)
    target = np.empty(m, np.int64)
    hand = np.empty(m, np.bool_)
    lost = np.empty(m, np.bool_)
    for j in range(m):
        i = who[j]
        lc = p.loc[i]
        tg = d.route[lc, p.domain[i]]
        loc[j] = lc
        target[j] = tg
        hand[j] = tg != origin[j]
    for j in range(m):
        r = rng.refer.random(dtype=np.float32)
        lost[j] = hand[j] and r < d.hand_off_loss[loc[j], target[j]]
    for j in range(m):
        if hand[j]:
            tab.ls[HAND_OFFS, rt, loc[j], target[j]] += 1.0
        if lost[j]:
            tab.ls[HAND_OFFS_LOST, rt, loc[j], target[j]] += 1.0
    if log_on:
        ho = _take(who, hand)
        zeros = np.zeros(ho.size, np.int8)
        evi, evf = _emit(
            evi, evf, cnt, t, ho, np.int64(ACT_REFERRAL), _take(origin, hand), zeros,
            np.zeros(ho.size), p.case_class, p.case_no,
        )  # fmt: skip
    for j in range(m):
        if lost[j]:
            p.reason[who[j]] = LOST_HAND_OFF
    keep = _not(lost)
    who, loc, target = _take(who, keep), _take(loc, keep), _take(target, keep)
    k = who.size
    cost = np.empty(k)
    eligible = np.empty(k, np.bool_)
    for j in range(k):
        cost[j] = town.unit_assessment[target[j]]
        eligible[j] = force or p.wellbeing[who[j]] < d.eligibility[loc[j], target[j]]
    _add_costs(tab.ls[COST_ASSESSMENT, rt], loc, target, cost, scratch)
    refused = _not(eligible)
    for j in range(k):
        if refused[j]:
            tab.ls[REFUSED_M, rt, loc[j], target[j]] += 1.0
    rw = _take(who, refused)
    if log_on:
        evi, evf = _emit(
            evi, evf, cnt, t, rw, np.int64(ACT_REFUSED), _take(target, refused),
            np.zeros(rw.size, np.int8), _take(cost, refused), p.case_class, p.case_no,
        )  # fmt: skip
    for i in rw:
        p.reason[i] = REFUSED
    acc = _take(who, eligible)
    if log_on:
        evi, evf = _emit(
            evi, evf, cnt, t, acc, np.int64(ACT_ASSESSMENT), _take(target, eligible),
            np.zeros(acc.size, np.int8), _take(cost, eligible), p.case_class, p.case_no,
        )  # fmt: skip
    for j in range(k):
        if eligible[j]:
            i = who[j]
            p.status[i] = WAITING
            p.service[i] = target[j]
            p.since[i] = t
            p.reason[i] = NEW_NEED
            tab.ls[QUEUE_JOINS, rt, loc[j], target[j]] += 1.0
    return evi, evf


@njit(cache=True, nogil=True)
def steps(t0, rt0, count, log_on, p, d, town, rng, tab, evi, evf, cnt):
    """``count`` steps of the model for everyone, from model step ``t0`` (records row ``rt0``).

    ``p`` is the :class:`People`, ``d`` the design (``compiled.DesignArrays``),
    ``town`` the :class:`Town`, ``rng`` the :class:`Streams`, ``tab`` the
    :class:`Tables`; ``evi``, ``evf`` and ``cnt`` are the event log's buffers
    and counter ([events, seq]). Returns the (possibly grown) event buffers.
    """
    # People selected by a rule (three sets are alive at once in a step).
    work = np.empty((3, p.wellbeing.size), np.int64)
    for k in range(count):
        evi, evf = _step(t0 + k, rt0 + k, log_on, work, p, d, town, rng, tab, evi, evf, cnt)
    return evi, evf


@njit(cache=True)
def _step(t, rt, log_on, work, p, d, town, rng, tab, evi, evf, cnt):
    """One step of the model for everyone: rules 2-7 of ``engine.py`` and the stocks.

    ``t`` is the model step (dates, waiting times), ``rt`` the row of the
    records; returns the (possibly grown) event buffers, ``cnt`` = [events, seq].
    """
    n = p.wellbeing.size
    n_loc = town.locality_size.size
    n_svc = d.capacity.shape[1]
    cnt[1] = 0
    scratch = np.zeros((n_loc, n_svc))
    one = np.float32(1.0)
    zero = np.float32(0.0)
    need = town.f32p[F_NEED]
    crisis_line = town.f32p[F_CRISIS_LINE]
    resolved = town.f32p[F_RESOLVED]

    # 2. Recovery toward baseline + weight * connection; prevention raises
    # connection; then the effect of any service a person is in.
    weight, base, rec = town.f32p[F_CONN_WEIGHT], town.f32p[F_BASELINE], town.f32p[F_RECOVERY]
    for row in range(n_loc):
        a, b = town.locality_start[row], town.locality_start[row + 1]
        if d.prevention[row] > 0:
            gain = np.float32(d.prevention[row] * town.f32p[F_PREV_CONN])
            for i in range(a, b):
                p.connection[i] += (one - p.connection[i]) * gain
        for i in range(a, b):
            w = p.wellbeing[i]
            p.wellbeing[i] = w + (p.connection[i] * weight + base - w) * rec
            if p.status[i] == IN_SERVICE:
                s = p.service[i]
                p.wellbeing[i] = min(p.wellbeing[i] + d.effect[row, s], one)
                p.connection[i] += d.connection_gain[row, s] * (one - p.connection[i])

    # 3. Life events, drawn per locality and kind.
    n_kinds = town.event_p.shape[0]
    counts = np.empty((n_kinds, n_loc), np.int64)
    for k in range(n_kinds):
        for row in range(n_loc):
            counts[k, row] = rng.events.binomial(town.locality_size[row], town.event_p[k, row])
    total = 0
    for k in range(n_kinds):
        for row in range(n_loc):
            total += counts[k, row]
    if total > 0:
        who = np.empty(total, np.int64)
        kind = np.empty(total, np.int64)
        eloc = np.empty(total, np.int64)
        j = 0
        for k in range(n_kinds):
            for row in range(n_loc):
                for _ in range(counts[k, row]):
                    kind[j] = k
                    eloc[j] = row
                    j += 1
        for j in range(total):
            row = eloc[j]
            u = rng.events.random()
            who[j] = town.locality_start[row] + np.int64(u * town.locality_size[row])
        # Every shock applies to wellbeing as it was before this step's life
        # events: someone hit twice in a step keeps the later one (the order
        # of the draws), not both.
        before = np.empty(total, np.float32)
        for j in range(total):
            before[j] = p.wellbeing[who[j]]
        reduction = town.f32p[F_SHOCK_REDUCTION]
        for j in range(total):
            size = rng.shock.random(dtype=np.float32) + np.float32(0.5)
            shock = town.event_shock[kind[j]] * size
            shock *= one - reduction * d.prevention[eloc[j]]
            p.wellbeing[who[j]] = max(before[j] - shock, zero)
        fresh = np.empty(total, np.bool_)
        for j in range(total):
            i = who[j]
            fresh[j] = p.status[i] == NO_CASE and before[j] >= need
        for j in range(total):
            if fresh[j]:
                i = who[j]
                p.domain[i] = town.event_domain[kind[j]]
                p.reason[i] = NEW_NEED
                p.second[i] = -1
        other = np.empty(total, np.bool_)
        for j in range(total):
            other[j] = (not fresh[j]) and town.event_domain[kind[j]] != p.domain[who[j]]
        for j in range(total):
            if other[j]:
                p.second[who[j]] = town.event_domain[kind[j]]
        for j in range(total):
            tab.lm[LIFE_EVENTS, rt, eloc[j]] += 1.0

    # 4. Residential care step-downs.
    # ... then crises. One pass: a person's step-down is settled before they
    # are checked against the crisis line (crisis draws come after all of it).
    res_exit = town.f64p[D_RES_EXIT]
    exits = res_exit > 0
    n_low = 0
    for i in range(n):
        if exits and p.status[i] == RESIDENTIAL and rng.crisis.random() < res_exit:
            tab.lm[RESIDENTIAL_EXITS, rt, p.loc[i]] += 1.0
            p.status[i] = NO_CASE
            p.reason[i] = NEW_NEED
            p.wellbeing[i] = resolved
        if p.wellbeing[i] < crisis_line:
            work[0, n_low] = i
            n_low += 1
    cand_all = work[0, :n_low]
    if cand_all.size:
        evi, evf = _crisis_episodes(
            t, rt, log_on, cand_all, p, d, town, rng, tab, scratch, evi, evf, cnt
        )
    for i in cand_all:
        if p.wellbeing[i] < crisis_line:
            tab.lm[BELOW_CRISIS, rt, p.loc[i]] += 1.0

    # 5. Help seeking, hand-offs, eligibility; chasing while waiting; and (6)
    # who is in service. One pass over everyone: wellbeing changes no more this
    # step, so the need line also gives the step's count below it; seeking
    # changes only people with no open case (and new waiters cannot chase yet),
    # so the waiters who chase and the people in service are as they would be
    # after it. Chase draws are taken for each long waiter in person order.
    chase_on = town.f64p[D_CHASE] > 0
    chase_after = np.int64(town.f64p[D_CHASE_AFTER])
    p_chase = town.f32p[F_CHASE]
    m = 0
    n_chase = 0
    n_in = 0
    for row in range(n_loc):
        below = 0
        for i in range(town.locality_start[row], town.locality_start[row + 1]):
            st = p.status[i]
            if p.wellbeing[i] < need:
                below += 1
                if st == NO_CASE:
                    work[0, m] = i
                    m += 1
            if st == WAITING:
                if (
                    chase_on
                    and (t - p.since[i]) > chase_after
                    and rng.chase.random(dtype=np.float32) < p_chase
                ):
                    work[1, n_chase] = i
                    n_chase += 1
            elif st == IN_SERVICE:
                work[2, n_in] = i
                n_in += 1
        tab.lm[BELOW_NEED, rt, row] += below
    if m:
        cand = work[0, :m]
        p_again, p_first = town.f32p[F_RE_PRESENT], town.f32p[F_SEEK]
        seeking = np.empty(m, np.bool_)
        for j in range(m):
            prob = p_again if p.reason[cand[j]] > 0 else p_first
            seeking[j] = rng.seek.random(dtype=np.float32) < prob
        seekers = _take(cand, seeking)
        k = seekers.size
        sloc = np.empty(k, np.int64)
        sentry = np.empty(k, np.int64)
        cost = np.empty(k)
        why = np.empty(k, np.int8)
        for j in range(k):
            i = seekers[j]
            lc = p.loc[i]
            sloc[j] = lc
            sentry[j] = d.entry[lc, p.domain[i]]
            cost[j] = town.unit_contact[sentry[j]]
            why[j] = p.reason[i]
        _count_contacts(tab.ls, tab.causes, rt, sloc, sentry, why)
        _add_costs(tab.ls[COST_CONTACT, rt], sloc, sentry, cost, scratch)
        for j in range(k):
            i = seekers[j]
            p.case_no[i] += 1
            p.case_class[i] = 1 if why[j] > 0 else 0
            tab.lm[CASES_OPENED, rt, sloc[j]] += 1.0
        if log_on:
            evi, evf = _emit(
                evi, evf, cnt, t, seekers, np.int64(ACT_CONTACT), sentry, why, cost,
                p.case_class, p.case_no,
            )  # fmt: skip
        for i in seekers:
            p.reason[i] = NEW_NEED
        evi, evf = _refer(
            t, rt, log_on, seekers, sentry, np.bool_(False), p, d, town, rng, tab, scratch,
            evi, evf, cnt,
        )  # fmt: skip

    # ... chasing while waiting.
    k = n_chase
    if k:
        chasers = work[1, :k]
        cloc = np.empty(k, np.int64)
        centry = np.empty(k, np.int64)
        cost = np.empty(k)
        for j in range(k):
            i = chasers[j]
            cloc[j] = p.loc[i]
            centry[j] = d.entry[cloc[j], p.domain[i]]
            cost[j] = town.unit_contact[centry[j]]
        why = np.full(k, CHASE, np.int8)
        _count_contacts(tab.ls, tab.causes, rt, cloc, centry, why)
        _add_costs(tab.ls[COST_CONTACT, rt], cloc, centry, cost, scratch)
        if log_on:
            evi, evf = _emit(
                evi, evf, cnt, t, chasers, np.int64(ACT_CHASE), centry, why, cost,
                p.case_class, p.case_no,
            )  # fmt: skip

    # 6. Interventions end (``occupied``: places still taken after them).
    occupied = np.zeros((n_loc, n_svc), np.int64)
    evi, evf = _closures(
        t, rt, log_on, work[2, :n_in], occupied, p, d, town, rng, tab, scratch, evi, evf, cnt
    )

    # 7. Waiting lists served first come, first served.
    evi, evf = _admissions(t, rt, log_on, work[0], occupied, p, d, tab, evi, evf, cnt)

    _end_step(rt, p, d, town, tab)
    return evi, evf


@njit(cache=True)
def _count_contacts(ls, causes, rt, loc, svc, why):
    for j in range(loc.size):
        if why[j] == 0:
            ls[CONTACTS_VALUE, rt, loc[j], svc[j]] += 1.0
        else:
            ls[CONTACTS_FAILURE, rt, loc[j], svc[j]] += 1.0
            causes[rt, loc[j], why[j] - 1] += 1.0


@njit(cache=True)
def _crisis_episodes(t, rt, log_on, cand, p, d, town, rng, tab, scratch, evi, evf, cnt):
    """Crises among ``cand`` (below the crisis line): A&E, admission, residential care."""
    p_in, p_out = town.f32p[F_CRISIS_IN_SERVICE], town.f32p[F_CRISIS]
    hit = np.zeros(cand.size, np.bool_)
    for j in range(cand.size):
        st = p.status[cand[j]]
        if st != RESIDENTIAL:
            prob = p_in if st == IN_SERVICE else p_out
            hit[j] = rng.crisis.random(dtype=np.float32) < prob
    who = _take(cand, hit)
    k = who.size
    if k == 0:
        return evi, evf
    a_and_e, emergency = town.f64p[D_A_AND_E], town.f64p[D_EMERGENCY]
    loc = np.empty(k, np.int64)
    opening = np.empty(k, np.bool_)
    for j in range(k):
        i = who[j]
        loc[j] = p.loc[i]
        opening[j] = p.status[i] == NO_CASE
    crises = np.zeros(tab.lm.shape[2])
    for j in range(k):
        tab.lm[CRISES, rt, loc[j]] += 1.0
        crises[loc[j]] += 1.0
    for row in range(crises.size):
        tab.lm[COST_CRISIS, rt, row] += a_and_e * crises[row]
    for j in range(k):
        if opening[j]:
            i = who[j]
            p.case_no[i] += 1
            p.case_class[i] = 1
            tab.lm[CASES_OPENED, rt, loc[j]] += 1.0
    if log_on:
        evi, evf = _emit(
            evi, evf, cnt, t, who, np.int64(ACT_A_AND_E), np.full(k, A_AND_E, np.int64),
            np.full(k, CRISIS, np.int8), np.full(k, a_and_e), p.case_class, p.case_no,
        )  # fmt: skip
    p_admit = town.f64p[D_ADMISSION]
    admitted = np.empty(k, np.bool_)
    for j in range(k):
        admitted[j] = rng.crisis.random() < p_admit
    admissions = np.zeros(tab.lm.shape[2])
    for j in range(k):
        if admitted[j]:
            tab.lm[EMERGENCY_ADMISSIONS, rt, loc[j]] += 1.0
            admissions[loc[j]] += 1.0
    ka = _count(admitted)
    if ka:
        for row in range(admissions.size):
            tab.lm[COST_CRISIS, rt, row] += emergency * admissions[row]
    if log_on:
        evi, evf = _emit(
            evi, evf, cnt, t, _take(who, admitted), np.int64(ACT_ADMISSION),
            np.full(ka, HOSPITAL, np.int64), np.full(ka, CRISIS, np.int8),
            np.full(ka, emergency), p.case_class, p.case_no,
        )  # fmt: skip
    p_res = town.f64p[D_RES_PROB]
    residential = np.empty(k, np.bool_)
    for j in range(k):
        care = p.domain[who[j]] == DOMAIN_CARE
        residential[j] = rng.crisis.random() < p_res and care
    res = _take(who, residential)
    if res.size:
        for i in res:
            if p.status[i] == WAITING:
                tab.ls[LEFT_WAITING, rt, p.loc[i], p.service[i]] += 1.0
        for i in res:
            if p.status[i] == IN_SERVICE:
                tab.ls[LEFT_SERVICE, rt, p.loc[i], p.service[i]] += 1.0
        for i in res:
            tab.lm[RESIDENTIAL_ADMISSIONS, rt, p.loc[i]] += 1.0
        if log_on:
            kr = res.size
            evi, evf = _emit(
                evi, evf, cnt, t, res, np.int64(ACT_RESIDENTIAL),
                np.full(kr, DOMAIN_CARE_SERVICE, np.int64), np.full(kr, CRISIS, np.int8),
                np.zeros(kr), p.case_class, p.case_no,
            )  # fmt: skip
        for i in res:
            p.status[i] = RESIDENTIAL
            p.service[i] = -1
            p.second[i] = -1
    rest = _take(who, _not(residential))
    stabilise = town.f32p[F_STABILISE]
    for i in rest:
        p.wellbeing[i] = min(p.wellbeing[i] + stabilise, np.float32(1.0))
    no_case = np.empty(rest.size, np.bool_)
    for j in range(rest.size):
        no_case[j] = p.status[rest[j]] == NO_CASE
    refer = _take(rest, no_case)
    for i in refer:
        p.reason[i] = NEW_NEED
    return _refer(
        t, rt, log_on, refer, np.full(refer.size, A_AND_E, np.int64), np.bool_(True),
        p, d, town, rng, tab, scratch, evi, evf, cnt,
    )  # fmt: skip


@njit(cache=True)
def _closures(t, rt, log_on, in_idx, occupied, p, d, town, rng, tab, scratch, evi, evf, cnt):
    """Interventions end: need met, time limit, or at random; second needs move on."""
    m = in_idx.size
    if m == 0:
        return evi, evf
    resolved, need = town.f32p[F_RESOLVED], town.f32p[F_NEED]
    done = np.empty(m, np.bool_)
    any_comp = False
    for j in range(m):
        i = in_idx[j]
        lc, s = p.loc[i], p.service[i]
        done[j] = p.wellbeing[i] >= resolved or (t - p.since[i]) >= d.max_steps[lc, s]
        if d.completion[lc, s] != 0:
            any_comp = True
    if any_comp:
        for j in range(m):
            i = in_idx[j]
            r = rng.service.random(dtype=np.float32)
            if r < d.completion[p.loc[i], p.service[i]]:
                done[j] = True
    for j in range(m):
        if not done[j]:
            i = in_idx[j]
            occupied[p.loc[i], p.service[i]] += 1
    who = _take(in_idx, done)
    k = who.size
    if k == 0:
        return evi, evf
    loc = np.empty(k, np.int64)
    svc = np.empty(k, np.int64)
    premature = np.empty(k, np.bool_)
    for j in range(k):
        i = who[j]
        loc[j] = p.loc[i]
        svc[j] = p.service[i]
        premature[j] = p.wellbeing[i] < need
        tab.ls[CLOSURES, rt, loc[j], svc[j]] += 1.0
        if premature[j]:
            tab.ls[PREMATURE_CLOSURES, rt, loc[j], svc[j]] += 1.0
    if log_on:
        met = _not(premature)
        km, kp = k - _count(premature), _count(premature)
        evi, evf = _emit(
            evi, evf, cnt, t, _take(who, met), np.int64(ACT_CLOSED_MET), _take(svc, met),
            np.zeros(km, np.int8), np.zeros(km), p.case_class, p.case_no,
        )  # fmt: skip
        evi, evf = _emit(
            evi, evf, cnt, t, _take(who, premature), np.int64(ACT_CLOSED_UNMET),
            _take(svc, premature), np.zeros(kp, np.int8), np.zeros(kp), p.case_class, p.case_no,
        )  # fmt: skip
    onward = np.zeros(k, np.bool_)
    for j in range(k):
        i = who[j]
        p.status[i] = NO_CASE
        p.service[i] = -1
        p.reason[i] = PREMATURE_CLOSURE if premature[j] else NEW_NEED
        sec = p.second[i]
        if sec >= 0:
            # A second need goes to its own service (a hand-off) unless this one holds it.
            p.second[i] = -1
            if d.route[loc[j], sec] != svc[j]:
                onward[j] = True
                p.domain[i] = sec
                p.reason[i] = NEW_NEED
    moving = _take(who, onward)
    return _refer(
        t, rt, log_on, moving, _take(svc, onward), np.bool_(False),
        p, d, town, rng, tab, scratch, evi, evf, cnt,
    )  # fmt: skip


@njit(cache=True)
def _admissions(t, rt, log_on, work, occupied, p, d, tab, evi, evf, cnt):
    """Each service's free places go to its longest waiters (then by person order).

    ``occupied``: places taken by people in service after this step's closures.
    """
    n_loc, n_svc = d.capacity.shape
    n = p.status.size
    free = np.zeros((n_loc, n_svc), np.int64)
    for a in range(n_loc):
        for b in range(n_svc):
            free[a, b] = max(d.capacity[a, b] - occupied[a, b], 0)
    # Only queues with a free place matter: sort their waiters by (queue, since, person).
    m = 0
    lo = t
    for i in range(n):
        if p.status[i] == WAITING and free[p.loc[i], p.service[i]] > 0:
            work[m] = i
            lo = min(lo, p.since[i])
            m += 1
    if m == 0:
        return evi, evf
    who = work[:m]
    key = np.empty(m, np.int64)
    span = np.int64(t - lo + 1)
    for j in range(m):
        i = who[j]
        q = np.int64(p.loc[i]) * n_svc + p.service[i]
        key[j] = (q * span + (p.since[i] - lo)) * n + i
    # Keys are distinct (they end in the person), so sorting them is the order.
    key.sort()
    take = np.empty(m, np.int64)
    k = 0
    prev_q = -1
    rank = 0
    for kk in key:
        i = kk % n
        q = np.int64(p.loc[i]) * n_svc + p.service[i]
        rank = rank + 1 if q == prev_q else 0
        prev_q = q
        if rank < free[p.loc[i], p.service[i]]:
            take[k] = i
            k += 1
    adm = take[:k]
    if k == 0:
        return evi, evf
    svc = np.empty(k, np.int64)
    wait = np.zeros((n_loc, n_svc))
    for j in range(k):
        i = adm[j]
        svc[j] = p.service[i]
        tab.ls[ADMISSIONS, rt, p.loc[i], p.service[i]] += 1.0
        wait[p.loc[i], p.service[i]] += np.float64(t - p.since[i])
    for a in range(n_loc):
        for b in range(n_svc):
            tab.ls[WAIT_STEPS, rt, a, b] += wait[a, b]
    if log_on:
        evi, evf = _emit(
            evi, evf, cnt, t, adm, np.int64(ACT_START), svc, np.zeros(k, np.int8), np.zeros(k),
            p.case_class, p.case_no,
        )  # fmt: skip
    for i in adm:
        p.status[i] = IN_SERVICE
        p.since[i] = t
    return evi, evf


@njit(cache=True)
def _end_step(rt, p, d, town, tab):
    """Stocks at the end of the step: people by status and service, costs, wellbeing
    (mean, summed in float64, and bands), mean connection."""
    n_loc, n_svc = d.capacity.shape
    waiting = np.zeros((n_loc, n_svc), np.int64)
    in_service = np.zeros((n_loc, n_svc), np.int64)
    residential = np.zeros(n_loc, np.int64)
    band = np.zeros((n_loc, BANDS + 1), np.int64)
    ten = np.float32(BANDS)
    for row in range(n_loc):
        a, b = town.locality_start[row], town.locality_start[row + 1]
        sw = 0.0
        sc = 0.0
        for i in range(a, b):
            st = p.status[i]
            if st == WAITING:
                waiting[row, p.service[i]] += 1
            elif st == IN_SERVICE:
                in_service[row, p.service[i]] += 1
            elif st == RESIDENTIAL:
                residential[row] += 1
            w = p.wellbeing[i]
            band[row, np.int64(w * ten)] += 1
            sw += w
            sc += p.connection[i]
        size = max(b - a, 1)
        tab.lm[WELLBEING_MEAN, rt, row] = sw / size
        tab.lm[CONNECTION_MEAN, rt, row] = sc / size
    res_week, weeks, prev_cost = town.f64p[D_RES_WEEK], town.f64p[D_WEEKS], town.f64p[D_PREV_COST]
    for row in range(n_loc):
        open_cases = 0
        for s in range(n_svc):
            tab.ls[WAITING_M, rt, row, s] = waiting[row, s]
            tab.ls[IN_SERVICE_M, rt, row, s] = in_service[row, s]
            tab.ls[CAPACITY_M, rt, row, s] = d.capacity[row, s]
            tab.ls[COST_INTERVENTION, rt, row, s] = in_service[row, s] * town.unit_intervention[s]
            open_cases += waiting[row, s] + in_service[row, s]
        tab.lm[RESIDENTIAL_CARE, rt, row] = residential[row]
        tab.lm[NO_OPEN_CASE, rt, row] = town.locality_size[row] - open_cases - residential[row]
        tab.lm[COST_RESIDENTIAL, rt, row] = residential[row] * res_week * weeks
        tab.lm[COST_PREVENTION, rt, row] = (
            np.float64(d.prevention[row]) * np.float64(town.locality_size[row]) * prev_cost
        )
        # Band 10 is reached only at wellbeing exactly 1: it belongs to the top band.
        band[row, BANDS - 1] += band[row, BANDS]
        for b in range(BANDS):
            tab.bands[rt, row, b] = band[row, b]
