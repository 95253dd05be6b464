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
def _refer(
    t, rt, log_on, who, origin, force,
    loc_of, wellbeing, status, service, since, domain, reason, case_class, case_no,
    route, eligibility, hand_off_loss, unit_assessment,
    rng_refer, ls, scratch, evi, evf, cnt,
):  # fmt: skip
    """Route ``who`` (no open case) from ``origin`` to the service holding their need.

    A referral to another service is a hand-off that may be lost; the
    receiving service assesses eligibility unless ``force`` (crisis).
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
        lc = loc_of[i]
        tg = route[lc, domain[i]]
        loc[j] = lc
        target[j] = tg
        hand[j] = tg != origin[j]
    for j in range(m):
        r = rng_refer.random(dtype=np.float32)
        lost[j] = hand[j] and r < hand_off_loss[loc[j], target[j]]
    for j in range(m):
        if hand[j]:
            ls[HAND_OFFS, rt, loc[j], target[j]] += 1.0
        if lost[j]:
            ls[HAND_OFFS_LOST, rt, loc[j], target[j]] += 1.0
    if log_on:
        ho = _take(who, hand)
        zeros = np.zeros(ho.size, np.int8)
        evi, evf = _emit(
            evi, evf, cnt, t, ho, np.int64(ACT_REFERRAL), _take(origin, hand), zeros,
            np.zeros(ho.size), case_class, case_no,
        )  # fmt: skip
    for j in range(m):
        if lost[j]:
            reason[who[j]] = LOST_HAND_OFF
    keep = _not(lost)
    who, loc, target = _take(who, keep), _take(loc, keep), _take(target, keep)
    k = who.size
    cost = np.empty(k)
    eligible = np.empty(k, np.bool_)
    for j in range(k):
        cost[j] = unit_assessment[target[j]]
        eligible[j] = force or wellbeing[who[j]] < eligibility[loc[j], target[j]]
    _add_costs(ls[COST_ASSESSMENT, rt], loc, target, cost, scratch)
    refused = _not(eligible)
    for j in range(k):
        if refused[j]:
            ls[REFUSED_M, rt, loc[j], target[j]] += 1.0
    rw = _take(who, refused)
    if log_on:
        evi, evf = _emit(
            evi, evf, cnt, t, rw, np.int64(ACT_REFUSED), _take(target, refused),
            np.zeros(rw.size, np.int8), _take(cost, refused), case_class, case_no,
        )  # fmt: skip
    for i in rw:
        reason[i] = REFUSED
    acc = _take(who, eligible)
    if log_on:
        evi, evf = _emit(
            evi, evf, cnt, t, acc, np.int64(ACT_ASSESSMENT), _take(target, eligible),
            np.zeros(acc.size, np.int8), _take(cost, eligible), case_class, case_no,
        )  # fmt: skip
    for j in range(k):
        if eligible[j]:
            i = who[j]
            status[i] = WAITING
            service[i] = target[j]
            since[i] = t
            reason[i] = NEW_NEED
            ls[QUEUE_JOINS, rt, loc[j], target[j]] += 1.0
    return evi, evf


@njit(cache=True, nogil=True)
def steps(
    t0, rt0, count, log_on,
    loc_of, wellbeing, connection, status, service, since, domain, second, reason,
    case_class, case_no,
    entry, route, capacity, eligibility, max_steps, effect, connection_gain, hand_off_loss,
    completion, prevention,
    locality_start, locality_size, event_p, event_shock, event_domain,
    unit_contact, unit_assessment, unit_intervention,
    f32p, f64p,
    rng_events, rng_crisis, rng_seek, rng_refer, rng_service, rng_chase, rng_shock,
    ls, lm, causes, bands, evi, evf, cnt,
):  # fmt: skip
    """``count`` steps of the model for everyone, from model step ``t0`` (records row ``rt0``).

    Returns the (possibly grown) event buffers; ``cnt`` = [events, seq].
    """
    # People selected by a rule (three sets are alive at once in a step).
    work = np.empty((3, wellbeing.size), np.int64)
    for k in range(count):
        evi, evf = _step(
            t0 + k, rt0 + k, log_on, work,
            loc_of, wellbeing, connection, status, service, since, domain, second, reason,
            case_class, case_no,
            entry, route, capacity, eligibility, max_steps, effect, connection_gain, hand_off_loss,
            completion, prevention,
            locality_start, locality_size, event_p, event_shock, event_domain,
            unit_contact, unit_assessment, unit_intervention,
            f32p, f64p,
            rng_events, rng_crisis, rng_seek, rng_refer, rng_service, rng_chase, rng_shock,
            ls, lm, causes, bands, evi, evf, cnt,
        )  # fmt: skip
    return evi, evf


@njit(cache=True)
def _step(
    t, rt, log_on, work,
    loc_of, wellbeing, connection, status, service, since, domain, second, reason,
    case_class, case_no,
    entry, route, capacity, eligibility, max_steps, effect, connection_gain, hand_off_loss,
    completion, prevention,
    locality_start, locality_size, event_p, event_shock, event_domain,
    unit_contact, unit_assessment, unit_intervention,
    f32p, f64p,
    rng_events, rng_crisis, rng_seek, rng_refer, rng_service, rng_chase, rng_shock,
    ls, lm, causes, bands, evi, evf, cnt,
):  # fmt: skip
    """One step of the model for everyone: rules 2-7 of ``engine.py`` and the stocks.

    ``t`` is the model step (dates, waiting times), ``rt`` the row of the
    records; returns the (possibly grown) event buffers, ``cnt`` = [events, seq].
    """
    n = wellbeing.size
    n_loc = locality_size.size
    n_svc = capacity.shape[1]
    cnt[1] = 0
    scratch = np.zeros((n_loc, n_svc))
    one = np.float32(1.0)
    zero = np.float32(0.0)
    need = f32p[F_NEED]
    crisis_line = f32p[F_CRISIS_LINE]
    resolved = f32p[F_RESOLVED]

    # 2. Recovery toward baseline + weight * connection; prevention raises
    # connection; then the effect of any service a person is in.
    weight, base, rec = f32p[F_CONN_WEIGHT], f32p[F_BASELINE], f32p[F_RECOVERY]
    for row in range(n_loc):
        a, b = locality_start[row], locality_start[row + 1]
        if prevention[row] > 0:
            gain = np.float32(prevention[row] * f32p[F_PREV_CONN])
            for i in range(a, b):
                connection[i] += (one - connection[i]) * gain
        for i in range(a, b):
            w = wellbeing[i]
            wellbeing[i] = w + (connection[i] * weight + base - w) * rec
            if status[i] == IN_SERVICE:
                s = service[i]
                wellbeing[i] = min(wellbeing[i] + effect[row, s], one)
                connection[i] += connection_gain[row, s] * (one - connection[i])

    # 3. Life events, drawn per locality and kind.
    n_kinds = event_p.shape[0]
    counts = np.empty((n_kinds, n_loc), np.int64)
    for k in range(n_kinds):
        for row in range(n_loc):
            counts[k, row] = rng_events.binomial(locality_size[row], event_p[k, row])
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
            u = rng_events.random()
            who[j] = locality_start[row] + np.int64(u * locality_size[row])
        # Every shock applies to wellbeing as it was before this step's life
        # events: someone hit twice in a step keeps the later one (the order
        # of the draws), not both.
        before = np.empty(total, np.float32)
        for j in range(total):
            before[j] = wellbeing[who[j]]
        reduction = f32p[F_SHOCK_REDUCTION]
        for j in range(total):
            size = rng_shock.random(dtype=np.float32) + np.float32(0.5)
            shock = event_shock[kind[j]] * size
            shock *= one - reduction * prevention[eloc[j]]
            wellbeing[who[j]] = max(before[j] - shock, zero)
        fresh = np.empty(total, np.bool_)
        for j in range(total):
            i = who[j]
            fresh[j] = status[i] == NO_CASE and before[j] >= need
        for j in range(total):
            if fresh[j]:
                i = who[j]
                domain[i] = event_domain[kind[j]]
                reason[i] = NEW_NEED
                second[i] = -1
        other = np.empty(total, np.bool_)
        for j in range(total):
            other[j] = (not fresh[j]) and event_domain[kind[j]] != domain[who[j]]
        for j in range(total):
            if other[j]:
                second[who[j]] = event_domain[kind[j]]
        for j in range(total):
            lm[LIFE_EVENTS, rt, eloc[j]] += 1.0

    # 4. Residential care step-downs.
    # ... then crises. One pass: a person's step-down is settled before they
    # are checked against the crisis line (crisis draws come after all of it).
    res_exit = f64p[D_RES_EXIT]
    exits = res_exit > 0
    n_low = 0
    for i in range(n):
        if exits and status[i] == RESIDENTIAL and rng_crisis.random() < res_exit:
            lm[RESIDENTIAL_EXITS, rt, loc_of[i]] += 1.0
            status[i] = NO_CASE
            reason[i] = NEW_NEED
            wellbeing[i] = resolved
        if wellbeing[i] < crisis_line:
            work[0, n_low] = i
            n_low += 1
    cand_all = work[0, :n_low]
    if cand_all.size:
        evi, evf = _crisis_episodes(
            t, rt, log_on, cand_all,
            loc_of, wellbeing, status, service, since, domain, second, reason, case_class,
            case_no, route, eligibility, hand_off_loss, unit_assessment, f32p, f64p,
            rng_crisis, rng_refer, ls, lm, scratch, evi, evf, cnt,
        )  # fmt: skip
    for i in cand_all:
        if wellbeing[i] < crisis_line:
            lm[BELOW_CRISIS, rt, loc_of[i]] += 1.0

    # 5. Help seeking, hand-offs, eligibility; chasing while waiting; and (6)
    # who is in service. One pass over everyone: wellbeing changes no more this
    # step, so the need line also gives the step's count below it; seeking
    # changes only people with no open case (and new waiters cannot chase yet),
    # so the waiters who chase and the people in service are as they would be
    # after it. Chase draws are taken for each long waiter in person order.
    chase_on = f64p[D_CHASE] > 0
    chase_after = np.int64(f64p[D_CHASE_AFTER])
    p_chase = f32p[F_CHASE]
    m = 0
    n_chase = 0
    n_in = 0
    for row in range(n_loc):
        below = 0
        for i in range(locality_start[row], locality_start[row + 1]):
            st = status[i]
            if wellbeing[i] < need:
                below += 1
                if st == NO_CASE:
                    work[0, m] = i
                    m += 1
            if st == WAITING:
                if (
                    chase_on
                    and (t - since[i]) > chase_after
                    and rng_chase.random(dtype=np.float32) < p_chase
                ):
                    work[1, n_chase] = i
                    n_chase += 1
            elif st == IN_SERVICE:
                work[2, n_in] = i
                n_in += 1
        lm[BELOW_NEED, rt, row] += below
    if m:
        cand = work[0, :m]
        p_again, p_first = f32p[F_RE_PRESENT], f32p[F_SEEK]
        seeking = np.empty(m, np.bool_)
        for j in range(m):
            prob = p_again if reason[cand[j]] > 0 else p_first
            seeking[j] = rng_seek.random(dtype=np.float32) < prob
        seekers = _take(cand, seeking)
        k = seekers.size
        sloc = np.empty(k, np.int64)
        sentry = np.empty(k, np.int64)
        cost = np.empty(k)
        why = np.empty(k, np.int8)
        for j in range(k):
            i = seekers[j]
            lc = loc_of[i]
            sloc[j] = lc
            sentry[j] = entry[lc, domain[i]]
            cost[j] = unit_contact[sentry[j]]
            why[j] = reason[i]
        _count_contacts(ls, causes, rt, sloc, sentry, why)
        _add_costs(ls[COST_CONTACT, rt], sloc, sentry, cost, scratch)
        for j in range(k):
            i = seekers[j]
            case_no[i] += 1
            case_class[i] = 1 if why[j] > 0 else 0
            lm[CASES_OPENED, rt, sloc[j]] += 1.0
        if log_on:
            evi, evf = _emit(
                evi, evf, cnt, t, seekers, np.int64(ACT_CONTACT), sentry, why, cost,
                case_class, case_no,
            )  # fmt: skip
        for i in seekers:
            reason[i] = NEW_NEED
        evi, evf = _refer(
            t, rt, log_on, seekers, sentry, np.bool_(False),
            loc_of, wellbeing, status, service, since, domain, reason, case_class, case_no,
            route, eligibility, hand_off_loss, unit_assessment,
            rng_refer, ls, scratch, evi, evf, cnt,
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
            cloc[j] = loc_of[i]
            centry[j] = entry[cloc[j], domain[i]]
            cost[j] = unit_contact[centry[j]]
        why = np.full(k, CHASE, np.int8)
        _count_contacts(ls, causes, rt, cloc, centry, why)
        _add_costs(ls[COST_CONTACT, rt], cloc, centry, cost, scratch)
        if log_on:
            evi, evf = _emit(
                evi, evf, cnt, t, chasers, np.int64(ACT_CHASE), centry, why, cost,
                case_class, case_no,
            )  # fmt: skip

    # 6. Interventions end (``occupied``: places still taken after them).
    occupied = np.zeros((n_loc, n_svc), np.int64)
    evi, evf = _closures(
        t, rt, log_on, work[2, :n_in], occupied,
        loc_of, wellbeing, status, service, since, domain, second, reason, case_class, case_no,
        route, eligibility, hand_off_loss, unit_assessment, max_steps, completion, f32p,
        rng_service, rng_refer, ls, scratch, evi, evf, cnt,
    )  # fmt: skip

    # 7. Waiting lists served first come, first served.
    evi, evf = _admissions(
        t, rt, log_on, work[0], occupied, loc_of, status, service, since, case_class, case_no,
        capacity, ls, evi, evf, cnt,
    )  # fmt: skip

    _end_step(
        rt, loc_of, wellbeing, connection, status, service, capacity, prevention,
        locality_start, locality_size, unit_intervention, f64p, ls, lm, bands,
    )  # fmt: skip
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
def _crisis_episodes(
    t, rt, log_on, cand,
    loc_of, wellbeing, status, service, since, domain, second, reason, case_class, case_no,
    route, eligibility, hand_off_loss, unit_assessment, f32p, f64p,
    rng_crisis, rng_refer, ls, lm, scratch, evi, evf, cnt,
):  # fmt: skip
    """Crises among ``cand`` (below the crisis line): A&E, admission, residential care."""
    p_in, p_out = f32p[F_CRISIS_IN_SERVICE], f32p[F_CRISIS]
    hit = np.zeros(cand.size, np.bool_)
    for j in range(cand.size):
        st = status[cand[j]]
        if st != RESIDENTIAL:
            prob = p_in if st == IN_SERVICE else p_out
            hit[j] = rng_crisis.random(dtype=np.float32) < prob
    who = _take(cand, hit)
    k = who.size
    if k == 0:
        return evi, evf
    a_and_e, emergency = f64p[D_A_AND_E], f64p[D_EMERGENCY]
    loc = np.empty(k, np.int64)
    opening = np.empty(k, np.bool_)
    for j in range(k):
        i = who[j]
        loc[j] = loc_of[i]
        opening[j] = status[i] == NO_CASE
    crises = np.zeros(lm.shape[2])
    for j in range(k):
        lm[CRISES, rt, loc[j]] += 1.0
        crises[loc[j]] += 1.0
    for row in range(crises.size):
        lm[COST_CRISIS, rt, row] += a_and_e * crises[row]
    for j in range(k):
        if opening[j]:
            i = who[j]
            case_no[i] += 1
            case_class[i] = 1
            lm[CASES_OPENED, rt, loc[j]] += 1.0
    if log_on:
        evi, evf = _emit(
            evi, evf, cnt, t, who, np.int64(ACT_A_AND_E), np.full(k, A_AND_E, np.int64),
            np.full(k, CRISIS, np.int8), np.full(k, a_and_e), case_class, case_no,
        )  # fmt: skip
    p_admit = f64p[D_ADMISSION]
    admitted = np.empty(k, np.bool_)
    for j in range(k):
        admitted[j] = rng_crisis.random() < p_admit
    admissions = np.zeros(lm.shape[2])
    for j in range(k):
        if admitted[j]:
            lm[EMERGENCY_ADMISSIONS, rt, loc[j]] += 1.0
            admissions[loc[j]] += 1.0
    ka = _count(admitted)
    if ka:
        for row in range(admissions.size):
            lm[COST_CRISIS, rt, row] += emergency * admissions[row]
    if log_on:
        evi, evf = _emit(
            evi, evf, cnt, t, _take(who, admitted), np.int64(ACT_ADMISSION),
            np.full(ka, HOSPITAL, np.int64), np.full(ka, CRISIS, np.int8),
            np.full(ka, emergency), case_class, case_no,
        )  # fmt: skip
    p_res = f64p[D_RES_PROB]
    residential = np.empty(k, np.bool_)
    for j in range(k):
        care = domain[who[j]] == DOMAIN_CARE
        residential[j] = rng_crisis.random() < p_res and care
    res = _take(who, residential)
    if res.size:
        for i in res:
            if status[i] == WAITING:
                ls[LEFT_WAITING, rt, loc_of[i], service[i]] += 1.0
        for i in res:
            if status[i] == IN_SERVICE:
                ls[LEFT_SERVICE, rt, loc_of[i], service[i]] += 1.0
        for i in res:
            lm[RESIDENTIAL_ADMISSIONS, rt, loc_of[i]] += 1.0
        if log_on:
            kr = res.size
            evi, evf = _emit(
                evi, evf, cnt, t, res, np.int64(ACT_RESIDENTIAL),
                np.full(kr, DOMAIN_CARE_SERVICE, np.int64), np.full(kr, CRISIS, np.int8),
                np.zeros(kr), case_class, case_no,
            )  # fmt: skip
        for i in res:
            status[i] = RESIDENTIAL
            service[i] = -1
            second[i] = -1
    rest = _take(who, _not(residential))
    stabilise = f32p[F_STABILISE]
    for i in rest:
        wellbeing[i] = min(wellbeing[i] + stabilise, np.float32(1.0))
    no_case = np.empty(rest.size, np.bool_)
    for j in range(rest.size):
        no_case[j] = status[rest[j]] == NO_CASE
    refer = _take(rest, no_case)
    for i in refer:
        reason[i] = NEW_NEED
    return _refer(
        t, rt, log_on, refer, np.full(refer.size, A_AND_E, np.int64), np.bool_(True),
        loc_of, wellbeing, status, service, since, domain, reason, case_class, case_no,
        route, eligibility, hand_off_loss, unit_assessment,
        rng_refer, ls, scratch, evi, evf, cnt,
    )  # fmt: skip


@njit(cache=True)
def _closures(
    t, rt, log_on, in_idx, occupied,
    loc_of, wellbeing, status, service, since, domain, second, reason, case_class, case_no,
    route, eligibility, hand_off_loss, unit_assessment, max_steps, completion, f32p,
    rng_service, rng_refer, ls, scratch, evi, evf, cnt,
):  # fmt: skip
    """Interventions end: need met, time limit, or at random; second needs move on."""
    m = in_idx.size
    if m == 0:
        return evi, evf
    resolved, need = f32p[F_RESOLVED], f32p[F_NEED]
    done = np.empty(m, np.bool_)
    any_comp = False
    for j in range(m):
        i = in_idx[j]
        lc, s = loc_of[i], service[i]
        done[j] = wellbeing[i] >= resolved or (t - since[i]) >= max_steps[lc, s]
        if completion[lc, s] != 0:
            any_comp = True
    if any_comp:
        for j in range(m):
            i = in_idx[j]
            r = rng_service.random(dtype=np.float32)
            if r < completion[loc_of[i], service[i]]:
                done[j] = True
    for j in range(m):
        if not done[j]:
            i = in_idx[j]
            occupied[loc_of[i], service[i]] += 1
    who = _take(in_idx, done)
    k = who.size
    if k == 0:
        return evi, evf
    loc = np.empty(k, np.int64)
    svc = np.empty(k, np.int64)
    premature = np.empty(k, np.bool_)
    for j in range(k):
        i = who[j]
        loc[j] = loc_of[i]
        svc[j] = service[i]
        premature[j] = wellbeing[i] < need
        ls[CLOSURES, rt, loc[j], svc[j]] += 1.0
        if premature[j]:
            ls[PREMATURE_CLOSURES, rt, loc[j], svc[j]] += 1.0
    if log_on:
        met = _not(premature)
        km, kp = k - _count(premature), _count(premature)
        evi, evf = _emit(
            evi, evf, cnt, t, _take(who, met), np.int64(ACT_CLOSED_MET), _take(svc, met),
            np.zeros(km, np.int8), np.zeros(km), case_class, case_no,
        )  # fmt: skip
        evi, evf = _emit(
            evi, evf, cnt, t, _take(who, premature), np.int64(ACT_CLOSED_UNMET),
            _take(svc, premature), np.zeros(kp, np.int8), np.zeros(kp), case_class, case_no,
        )  # fmt: skip
    onward = np.zeros(k, np.bool_)
    for j in range(k):
        i = who[j]
        status[i] = NO_CASE
        service[i] = -1
        reason[i] = PREMATURE_CLOSURE if premature[j] else NEW_NEED
        sec = second[i]
        if sec >= 0:
            # A second need goes to its own service (a hand-off) unless this one holds it.
            second[i] = -1
            if route[loc[j], sec] != svc[j]:
                onward[j] = True
                domain[i] = sec
                reason[i] = NEW_NEED
    moving = _take(who, onward)
    return _refer(
        t, rt, log_on, moving, _take(svc, onward), np.bool_(False),
        loc_of, wellbeing, status, service, since, domain, reason, case_class, case_no,
        route, eligibility, hand_off_loss, unit_assessment,
        rng_refer, ls, scratch, evi, evf, cnt,
    )  # fmt: skip


@njit(cache=True)
def _admissions(
    t, rt, log_on, work, occupied, loc_of, status, service, since, case_class, case_no,
    capacity, ls, evi, evf, cnt,
):  # fmt: skip
    """Each service's free places go to its longest waiters (then by person order).

    ``occupied``: places taken by people in service after this step's closures.
    """
    n_loc, n_svc = capacity.shape
    n = status.size
    free = np.zeros((n_loc, n_svc), np.int64)
    for a in range(n_loc):
        for b in range(n_svc):
            free[a, b] = max(capacity[a, b] - occupied[a, b], 0)
    # Only queues with a free place matter: sort their waiters by (queue, since, person).
    m = 0
    lo = t
    for i in range(n):
        if status[i] == WAITING and free[loc_of[i], service[i]] > 0:
            work[m] = i
            lo = min(lo, since[i])
            m += 1
    if m == 0:
        return evi, evf
    who = work[:m]
    key = np.empty(m, np.int64)
    span = np.int64(t - lo + 1)
    for j in range(m):
        i = who[j]
        q = np.int64(loc_of[i]) * n_svc + service[i]
        key[j] = (q * span + (since[i] - lo)) * n + i
    # Keys are distinct (they end in the person), so sorting them is the order.
    key.sort()
    take = np.empty(m, np.int64)
    k = 0
    prev_q = -1
    rank = 0
    for kk in key:
        i = kk % n
        q = np.int64(loc_of[i]) * n_svc + service[i]
        rank = rank + 1 if q == prev_q else 0
        prev_q = q
        if rank < free[loc_of[i], service[i]]:
            take[k] = i
            k += 1
    adm = take[:k]
    if k == 0:
        return evi, evf
    svc = np.empty(k, np.int64)
    wait = np.zeros((n_loc, n_svc))
    for j in range(k):
        i = adm[j]
        svc[j] = service[i]
        ls[ADMISSIONS, rt, loc_of[i], service[i]] += 1.0
        wait[loc_of[i], service[i]] += np.float64(t - since[i])
    for a in range(n_loc):
        for b in range(n_svc):
            ls[WAIT_STEPS, rt, a, b] += wait[a, b]
    if log_on:
        evi, evf = _emit(
            evi, evf, cnt, t, adm, np.int64(ACT_START), svc, np.zeros(k, np.int8), np.zeros(k),
            case_class, case_no,
        )  # fmt: skip
    for i in adm:
        status[i] = IN_SERVICE
        since[i] = t
    return evi, evf


@njit(cache=True)
def _end_step(
    rt, loc_of, wellbeing, connection, status, service, capacity, prevention,
    locality_start, locality_size, unit_intervention, f64p, ls, lm, bands,
):  # fmt: skip
    """Stocks at the end of the step: people by status and service, costs, wellbeing
    (mean, summed in float64, and bands), mean connection."""
    n_loc, n_svc = capacity.shape
    waiting = np.zeros((n_loc, n_svc), np.int64)
    in_service = np.zeros((n_loc, n_svc), np.int64)
    residential = np.zeros(n_loc, np.int64)
    band = np.zeros((n_loc, BANDS + 1), np.int64)
    ten = np.float32(BANDS)
    for row in range(n_loc):
        a, b = locality_start[row], locality_start[row + 1]
        sw = 0.0
        sc = 0.0
        for i in range(a, b):
            st = status[i]
            if st == WAITING:
                waiting[row, service[i]] += 1
            elif st == IN_SERVICE:
                in_service[row, service[i]] += 1
            elif st == RESIDENTIAL:
                residential[row] += 1
            w = wellbeing[i]
            band[row, np.int64(w * ten)] += 1
            sw += w
            sc += connection[i]
        size = max(b - a, 1)
        lm[WELLBEING_MEAN, rt, row] = sw / size
        lm[CONNECTION_MEAN, rt, row] = sc / size
    res_week, weeks, prev_cost = f64p[D_RES_WEEK], f64p[D_WEEKS], f64p[D_PREV_COST]
    for row in range(n_loc):
        open_cases = 0
        for s in range(n_svc):
            ls[WAITING_M, rt, row, s] = waiting[row, s]
            ls[IN_SERVICE_M, rt, row, s] = in_service[row, s]
            ls[CAPACITY_M, rt, row, s] = capacity[row, s]
            ls[COST_INTERVENTION, rt, row, s] = in_service[row, s] * unit_intervention[s]
            open_cases += waiting[row, s] + in_service[row, s]
        lm[RESIDENTIAL_CARE, rt, row] = residential[row]
        lm[NO_OPEN_CASE, rt, row] = locality_size[row] - open_cases - residential[row]
        lm[COST_RESIDENTIAL, rt, row] = residential[row] * res_week * weeks
        lm[COST_PREVENTION, rt, row] = (
            np.float64(prevention[row]) * np.float64(locality_size[row]) * prev_cost
        )
        # Band 10 is reached only at wellbeing exactly 1: it belongs to the top band.
        band[row, BANDS - 1] += band[row, BANDS]
        for b in range(BANDS):
            bands[rt, row, b] = band[row, b]
