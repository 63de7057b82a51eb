"""The numpy formulations the compiled loops of :mod:`sim.kernels` replaced, kept as oracles for
``tests/test_kernels.py``: each compiled loop must give exactly (bit for bit) what its numpy
formulation gives, draw the same random numbers in the same order, and write the same state.

These are the fast path's previous code, written as whole-array numpy passes; the readable
reference (:mod:`sim.reference`) remains the oracle for what the rules mean."""

from __future__ import annotations

import numpy as np

from sim.mechanism.evaluation import acsi, felt, judge_value, perceive, update_satisfaction
from sim.mechanism.price_rise import notice_price_rise
from sim.mechanism.state import CHURNED, EV, F32, LOYAL, ORDINARY, TRUSTING


def bernoulli_positions(total: int, p: float, rng) -> np.ndarray:
    if total <= 0 or p <= 0:
        return np.zeros(0, dtype=np.int64)
    if p >= 1:
        return np.arange(total, dtype=np.int64)
    lq = np.log1p(-p)
    chunks, last = [], -1
    while last < total - 1:
        left = total - 1 - last
        size = int(max(64, left * p * 1.1 + 4 * np.sqrt(left * p)))
        gap = np.log1p(-rng.random(size))
        with np.errstate(over="ignore", divide="ignore"):
            gap /= lq
        np.minimum(gap, total, out=gap)
        pos = gap.astype(np.int64)
        pos += 1
        np.cumsum(pos, out=pos)
        pos += last
        chunks.append(pos)
        last = int(pos[-1])
    told = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
    return told[: np.searchsorted(told, total)]


def small_world_csr(n: int, degree: int, rewire: float, rng):
    """The network as it was stored before: every tie in both directions, sorted by place
    (compressed sparse rows), from the same draws. Returns ``(indptr, indices)``."""
    half = degree // 2
    src = np.repeat(np.arange(n, dtype=np.int64), half)
    dst = (src + np.tile(np.arange(1, half + 1, dtype=np.int64), n)) % n
    if rewire > 0:
        move = rng.random(len(dst)) < rewire
        k = int(move.sum())
        new = rng.integers(0, n - 1, size=k)
        s = src[move]
        new = np.where(new >= s, new + 1, new)
        dst[move] = new
    a = np.concatenate([src, dst])
    b = np.concatenate([dst, src])
    order = np.argsort(a, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(a, minlength=n), out=indptr[1:])
    return indptr, b[order]


def deliver_at(indptr, indices, speakers, positions, p: float, rng):
    e = np.zeros(0, dtype=np.int64)
    if p <= 0 or len(speakers) == 0:
        return e, e
    starts = indptr[speakers]
    counts = indptr[speakers + 1] - starts
    ends = np.cumsum(counts)
    total = int(ends[-1])
    if total == 0:
        return e, e
    told = bernoulli_positions(total, p, rng)
    owner = np.searchsorted(ends, told, side="right")
    edge = (starts - ends + counts)[owner] + told
    return positions[owner], indices[edge].astype(np.int64)


def tell(heard_flat, m, stage, flags, listeners, who, about, delta, flag):
    alive = np.flatnonzero(stage[listeners] > CHURNED)
    who, listeners = who[alive], listeners[alive]
    cell = listeners * m + about[who]
    np.add.at(heard_flat, cell, delta)
    heard = heard_flat[cell]
    over = np.flatnonzero(np.abs(heard) > 1)
    if len(over):
        heard_flat[cell[over]] = np.clip(heard[over], -1, 1)
    flags[listeners] |= flag
    return len(listeners)


def evaluate(value, expectation, P, tolerance=None):
    half = F32(P.zone_of_tolerance / 2)
    d = np.asarray(value - expectation)
    shortfall = np.maximum(-half - d, 0)
    if tolerance is not None:
        shortfall *= 1 - tolerance
    surplus = np.maximum(d - half, 0)
    s = np.clip(d, -half, half) * F32(P.zone_slope) + F32(0.5)
    g = P.diminishing_sensitivity
    flat = s.reshape(-1)
    found = []
    for x, coef in ((surplus, F32(P.gain_sensitivity)), (shortfall, -F32(P.gain_sensitivity) * F32(P.loss_aversion))):
        xf = x.reshape(-1)
        nz = np.flatnonzero(xf > 0)
        if len(nz):
            flat[nz] += coef * (xf[nz] if g == 1 else xf[nz] ** F32(g))
        found.append(nz)
    np.clip(s, 0, 1, out=s)
    return s, shortfall, surplus, found[0], found[1]


def evaluate_phase(ctx) -> None:
    """Phase ``evaluate`` as whole-array passes over the buyers."""
    P, pop, rng, T, stats = ctx.P, ctx.pop, ctx.rng, ctx.T, ctx.stats
    idx, w, quality = ctx.idx, ctx.w, ctx.quality
    ep, sens = pop.expected_price[idx], pop.price_sens[idx]
    price = T.price_paid[w]
    rise = notice_price_rise(pop, idx, price, ctx.st, P, rng)
    stats.price_prompted = len(rise)
    v = perceive(pop, idx, w, quality, T, P, ctx.loyal, expected_price=ep, price_sens=sens, paid=price)
    E = pop.expectation[idx]
    s, short, surplus, del_pos, dis_pos = evaluate(v, E, P, ctx.tolerance)
    pop.perceived[idx] = quality
    pop.value[idx] = v
    disc = v - E
    pop.disconfirmation[idx] = disc
    pop.txn_sat[idx] = s
    judge_value(pop, idx, v, P)
    f = felt(pop, idx, s, T, P)
    S = update_satisfaction(pop, idx, f, P)
    acsi(stats, S, E, v, quality, P, disc)
    sat = np.ones(len(idx), dtype=bool)
    sat[dis_pos] = False
    stats.satisfied, stats.delighted, stats.dissatisfied = len(idx) - len(dis_pos), len(del_pos), len(dis_pos)
    stats.add_at("cycle_a", w[sat])
    stats.add_at("dissatisfied", w[dis_pos])
    fl = np.full(len(idx), EV.PURCHASE | EV.SATISFIED, dtype=np.uint32)
    fl[dis_pos] = EV.PURCHASE | EV.DISSATISFIED
    fl[del_pos] |= EV.DELIGHTED
    if ctx.failed is not None:
        fl[ctx.failed] |= EV.FAILED
    pop.flags[idx] = fl
    pop.flags[ctx.trial] = EV.PURCHASE | EV.TRIED_OTHER
    ctx.ep, ctx.sens, ctx.price, ctx.rise, ctx.v, ctx.E = ep, sens, price, rise, v, E
    ctx.short, ctx.del_pos, ctx.dis_pos, ctx.f, ctx.S, ctx.sat = short, del_pos, dis_pos, f, S, sat


def become_loyal(pop, idx, P, stats, stage, trust):
    st, tr = stage, trust
    loyal_now = st == LOYAL
    betrayed = loyal_now & (tr < F32(P.loyalty_exit))
    high = np.flatnonzero(~loyal_now & (tr >= F32(P.loyalty_threshold)))
    becomes_loyal = np.zeros(len(st), dtype=bool)
    if len(high):
        becomes_loyal[high[pop.cycle_a[idx[high]] >= P.loyalty_min_passes]] = True
    loyal_new = (loyal_now & ~betrayed) | becomes_loyal
    new = np.where(tr >= F32(P.trust_threshold), np.int8(TRUSTING), np.int8(ORDINARY))
    new[loyal_new] = LOYAL
    up_trusting = (new == TRUSTING) & (st < TRUSTING)
    pop.stage[idx] = new
    for mask, bit, name in ((up_trusting, EV.TRUSTING, "became_trusting"), (becomes_loyal, EV.LOYAL, "became_loyal"),
                            (betrayed, EV.BETRAYED, "lost_loyalty")):
        where = np.flatnonzero(mask)
        pop.flags[idx[where]] |= bit
        setattr(stats, name, getattr(stats, name) + len(where))
    return new


def need(pop, P, rng):
    p = pop.trust * F32(P.purchase_prob * P.loyal_extra_purchases)
    p += F32(P.purchase_prob)
    u = rng.random(pop.n, dtype=F32)
    buy = u < p
    buy &= pop.stage > CHURNED
    return np.flatnonzero(buy)


def age(pop):
    act = pop.stage > CHURNED
    pop.age += act
    pop.tenure += act
    pop.spend *= F32(0.9)


def choice_utilities(pop, candidates, T, P, on_value):
    """The utilities of choose_merchant as its numpy passes built them (the ``(k, m + 1)`` matrix
    before the logit draw)."""
    from sim.mechanism.choice import alternative_utility, stay_utility
    from sim.mechanism.switching_costs import switching_cost

    k, m = len(candidates), pop.m
    U = np.empty((k, m + 1), dtype=F32)
    heard = np.take(pop.heard, candidates, axis=0)
    U[:, :m] = alternative_utility(pop, candidates, T, P)
    cur = pop.merchant[candidates].astype(np.intp)
    if on_value is not None and on_value.any():
        v = np.flatnonzero(on_value)
        rest = np.flatnonzero(~on_value)
        U[v, cur[v]] += switching_cost(pop, candidates[v])
        U[rest, cur[rest]] = stay_utility(pop, candidates[rest], T, P, heard=heard[rest, cur[rest]])
    else:
        rows = np.arange(k)
        U[rows, cur] = stay_utility(pop, candidates, T, P, heard=heard[rows, cur])
    U[:, m] = P.outside_option
    return U


def start_relationship(pop, idx, merchant, T, P, stats, rng):
    """A relationship starts (:func:`sim.mechanism.relationship.start_relationship`) as its numpy
    passes did it: the fit drawn, the expectation halfway to the anticipated value, the resets, the
    affective facet halved, acquisition cost, value belief, price when it joined, switching cost,
    stage."""
    from sim.mechanism.common import anticipated_value, price_term
    from sim.mechanism.relationship import RELATIONSHIP
    from sim.mechanism.state import PROSPECT
    from sim.mechanism.switching_costs import switching_cost_base

    merchant = np.asarray(merchant, dtype=np.intp)
    pop.merchant[idx] = merchant
    k = len(idx)
    pop.fit[idx] = (P.fit_spread * rng.standard_normal(k)).astype(F32) if P.fit_spread > 0 else F32(0)
    anticipated = anticipated_value(T, P, pop.expected_price[idx], pop.price_sens[idx])[np.arange(k), merchant]
    anticipated += pop.heard.reshape(-1)[idx * pop.m + merchant]
    pop.expectation[idx] = F32(0.5) * pop.expectation[idx] + F32(0.5) * anticipated
    pop.trust[idx] = P.trust_init
    for name, value in RELATIONSHIP:
        getattr(pop, name)[idx] = value
    pop.affective[idx] *= 0.5
    pop.acq_cost[idx] = T.acquisition_cost[merchant]
    pop.value_belief[idx] = T.reputation[merchant] - price_term(T.price_paid[merchant], pop.expected_price[idx],
                                                                pop.price_sens[idx])
    pop.last_paid[idx] = T.price_paid[merchant]
    pop.switch_cost[idx] = switching_cost_base(pop, idx, T, P)
    pop.stage[idx] = np.where(pop.stage[idx] == PROSPECT, PROSPECT, ORDINARY)
    stats.acquired_merchant.append(merchant)


# ---- the passes after the evaluation: pay, C/D, E's grievance, G, switching costs, expectations ----
def pay_pass(idx, price, trial, products, multi, spend, value_realised, wallet, tenure, behavioural):
    """Paying (:func:`sim.mechanism.purchase.pay_phase`) as its numpy passes did it."""
    units = products[idx].astype(F32) if multi else None
    paid = price * units if multi else price
    x = spend[idx]
    x += F32(0.1) * paid
    spend[idx] = x
    x = value_realised[idx]
    x += paid
    value_realised[idx] = x
    w = wallet[idx]
    w += F32(0.1) * (F32(1) - w)
    wallet[idx] = w
    wallet[trial] -= F32(0.1) * wallet[trial]
    ten = tenure[idx].astype(F32)
    w *= ten
    ten += F32(10)
    w /= ten
    behavioural[idx] = w


def reinforce(pop, idx, s, satisfied, T, where, P):
    """C/D (:func:`sim.mechanism.reinforcement.reinforce`) as its numpy passes did it."""
    from sim.mechanism.common import by_merchant
    from sim.mechanism.state import count_up

    count_up(pop.cycle_a, idx, satisfied)
    d = s - F32(0.5)
    strength = F32(2.5) * d
    strength += F32(0.5)
    strength.clip(F32(0.5), F32(1.0), out=strength)
    strength *= satisfied
    target = d
    target *= F32(2)
    target += F32(0.5)
    target.clip(0, 1, out=target)
    target += by_merchant(T.affective, where)
    np.minimum(target, F32(1), out=target)
    aff = pop.affective[idx]
    target -= aff
    target *= F32(0.1) * satisfied
    target += aff
    pop.affective[idx] = target
    return strength


def accumulate_trust(pop, idx, gain_strength, loss_severity, P):
    """G (:func:`sim.mechanism.trust.accumulate_trust`) as its numpy passes did it."""
    t = pop.trust[idx]
    t = t + P.trust_gain * gain_strength * (1 - t) - P.trust_loss * loss_severity * t
    t.clip(0, 1, out=t)
    pop.trust[idx] = t
    return t


def aggrieve(pop, idx, severity, P):
    """Grievances (:func:`sim.mechanism.complaints.aggrieve`) as their numpy passes kept them."""
    g = pop.grievance[idx]
    g *= np.where(pop.recovery_due[idx] < 0, F32(P.grievance_memory), F32(1))
    hit = np.flatnonzero(severity > 0)
    if len(hit):
        add = severity[hit] ** F32(P.grievance_curvature)
        g[hit] = 1 - (1 - g[hit]) * (1 - add)
    pop.grievance[idx] = g


def grow_switching_costs(pop, idx, where, T, P):
    """Switching costs grow (:func:`sim.mechanism.switching_costs.grow_switching_costs`) as their
    numpy passes grew them."""
    from sim.mechanism.common import by_merchant
    from sim.params import POINTS_CAP

    rx = by_merchant(T.relational_x, where)
    rel = pop.relational[idx]
    new = np.minimum(rel + F32(P.relational_growth) * rx, F32(P.relational_max) * rx)
    pop.relational[idx] = new
    new -= rel
    sc = pop.switch_cost[idx]
    sc += new
    pop.switch_cost[idx] = sc
    if T.points.any():
        pts = T.points[where]
        pop.financial[idx] = np.minimum(pop.financial[idx] + pts, F32(POINTS_CAP) * pts)
        pop.any_points = True
    return sc


def adapt_expectations(pop, idx, value, where, T, P, excitement=True, expectation=None, expected_price=None,
                       price_sens=None, paid=None):
    """Expectations adapt (:func:`sim.mechanism.expectations.adapt_expectations`) as their numpy
    passes adapted them."""
    from sim.mechanism.common import by_merchant, price_term
    from sim.mechanism.expectations import MIN_EXPECTED_PRICE

    a = P.expectation_adapt
    E = pop.expectation[idx] if expectation is None else expectation
    ep = pop.expected_price[idx] if expected_price is None else expected_price
    sens = pop.price_sens[idx] if price_sens is None else price_sens
    paid = T.price_paid[where] if paid is None else paid
    promised = by_merchant(T.promise, where) - price_term(paid, ep, sens)
    pop.expectation[idx] = E + F32(a) * (F32(1 - P.promise_pull) * (value - E) + F32(P.promise_pull) * (promised - E))
    if excitement:
        pop.excite_expect[idx] += F32(a) * (T.excitement[where] - pop.excite_expect[idx])
    w = P.market_price_pull
    target = paid if w == 0 else F32(1 - w) * paid + F32(w * float(T.price_paid.mean()))
    pop.expected_price[idx] = np.maximum(ep + F32(a) * (target - ep), F32(MIN_EXPECTED_PRICE))


def complain(pop, idx, severity, where, T, P, rng):
    """Who complains (:func:`sim.mechanism.complaints.complain`) as its numpy passes decided it."""
    from sim.mechanism.common import by_merchant
    from sim.mechanism.state import count_up

    p = P.complaint_minor + (P.complaint_major - P.complaint_minor) * severity**P.complaint_curvature
    p = np.minimum(p * pop.complaint_prop[idx], 1)
    ease = by_merchant(T.complaint_ease, where)
    p = p + 0.5 * ease * (1 - p)
    if P.voice_fit:  # the well matched speak up more: the log-odds move by voice_fit · fit − centre
        from sim.mechanism.complaints import voice_centre
        one = F32(1)
        inside = (p > 0) & (p < 1)
        p = np.where(inside, one / (one + (one - p) / np.where(inside, p, one)
                                    * np.exp(F32(voice_centre(P)) - F32(P.voice_fit) * pop.fit[idx])), p)
    voiced = rng.random(len(idx), dtype=F32) < p
    voiced &= pop.recovery_due[idx] < 0
    count_up(pop.complaints, idx[voiced])
    pop.flags[idx[voiced]] |= EV.COMPLAINED
    return voiced


def intention(pop, idx, w, T, P, mean_expectation, satisfaction=None, trust=None, switch_cost=None, others=None):
    """The intention to buy again (:func:`sim.mechanism.loyalty.intention`) as its numpy passes
    formed it."""
    from sim.mechanism.choice import stay_utility
    from sim.mechanism.loyalty import others_value

    if len(idx) == 0:
        return
    if others is None:
        others = others_value(T, P, mean_expectation)
    diff = stay_utility(pop, idx, T, P, merchant=w, satisfaction=satisfaction, trust=trust, switch_cost=switch_cost)
    diff -= others[w]
    diff /= F32(P.intention_noise)
    diff.clip(-30, 30, out=diff)
    np.negative(diff, out=diff)
    np.exp(diff, out=diff)
    diff += F32(1)
    pop.intentional[idx] = np.reciprocal(diff, out=diff)


def encounter(pop, buyers, where, T, rng, excitement=True):
    """A (:func:`sim.mechanism.encounter.encounter`) as its numpy passes made it."""
    from sim.mechanism.common import by_merchant, standard_normal
    from sim.network import bernoulli_positions

    k = len(buyers)
    base = T.quality + T.tailoring
    z = standard_normal(rng, k)
    sd = by_merchant(T.sd, where)
    z *= sd
    q = np.add(by_merchant(base, where), z, dtype=F32)
    fp = T.failure_prob
    if len(fp) and (fp == fp[0]).all():
        f = bernoulli_positions(k, float(fp[0]), rng)
        failed = np.zeros(k, dtype=bool)
        if len(f):
            failed[f] = True
            q[f] -= T.failure_severity[where[f]] * (F32(0.5) + rng.random(len(f), dtype=F32))
    else:
        u = rng.random(k, dtype=F32)
        fp = fp[where]
        failed = u < fp
        f = np.flatnonzero(failed)
        if len(f):
            q[f] -= T.failure_severity[where[f]] * (F32(0.5) + u[f] / fp[f])
    bm = T.basic_missing
    if len(bm) and (bm == bm[0]).all():
        missing = bernoulli_positions(k, float(bm[0]), rng)
    else:
        missing = np.flatnonzero(rng.random(k, dtype=F32) < bm[where])
    if len(missing):
        q[missing] -= F32(0.3)
        failed[missing] = True
    if excitement:
        q += by_merchant(T.excitement, where) - pop.excite_expect[buyers]
    return q, failed



def trial_phase(ctx):
    """The trials (:func:`sim.mechanism.purchase.trial_phase`) as their numpy passes made them:
    the encounter, perceive and evaluate at the merchant tried, what the customer now thinks of it,
    the spend."""
    from sim.mechanism.evaluation import evaluate, perceive

    P, pop, rng, T, trial, trial_at = ctx.P, ctx.pop, ctx.rng, ctx.T, ctx.trial, ctx.trial_at
    trial_bad = np.zeros(0, dtype=np.intp)
    tunits = pop.products[trial].astype(F32) if ctx.multi else np.ones(len(trial), dtype=F32)
    if len(trial):
        tq, _ = encounter(pop, trial, trial_at, T, rng, ctx.excitement)
        tv = perceive(pop, trial, trial_at, tq, T, P)
        ts, tshort, _ = evaluate(tv, pop.expectation[trial], P)
        pop.heard[trial, trial_at] = (pop.heard[trial, trial_at] + (ts - F32(0.5)).clip(-0.5, 0.5)).clip(-1, 1)
        trial_bad = np.flatnonzero(tshort > 0)
        pop.spend[trial] += F32(0.1) * T.price_paid[trial_at] * tunits
    ctx.trial_bad, ctx.tunits = trial_bad, tunits


def comparers(looking, rise, silent, botched, reasons, stage, flags, left, ordinary, trusting, loyal, recovery):
    """Who compares (:func:`sim.mechanism.choice.compare_and_churn`) as its numpy passes found them:
    the groups merged by a stable sort, each place once with the last group's reason, filtered by
    stage and by having left; and which of them noticed a price rise."""
    groups = (looking, rise, silent, botched)
    c = np.concatenate(groups)
    reason = np.repeat(reasons, [len(g) for g in groups])
    order = np.argsort(c, kind="stable")
    c, reason = c[order], reason[order]
    last = np.ones(len(c), dtype=bool)
    last[:-1] = c[1:] != c[:-1]
    c, reason = c[last], reason[last]
    st = stage[c]
    keep = np.flatnonzero(((st == ordinary) | (st == trusting) | ((st == loyal) & (reason == recovery)))
                          & ((flags[c] & left) == 0))
    c, reason = c[keep], reason[keep]
    on_value = np.zeros(len(c), dtype=bool)
    if len(rise):
        at = np.searchsorted(c, rise)
        inside = at < len(c)
        at, r = at[inside], rise[inside]
        on_value[at[c[at] == r]] = True
    return c, reason, on_value


def visit(pop, buyers, P, rng, stage=None, positions=False):
    """Where each buyer buys (:func:`sim.mechanism.need.visit`) as its numpy passes decided it."""
    from sim.network import bernoulli_positions

    none = np.zeros(0, dtype=np.intp)
    if pop.m > 1 and P.variety_seeking > 0:
        st = pop.stage[buyers] if stage is None else stage
        tries = np.zeros(len(buyers), dtype=bool)
        for group, chance in ((ORDINARY, P.variety_seeking), (TRUSTING, P.variety_seeking / 2)):
            members = np.flatnonzero(st == group)
            tries[members[bernoulli_positions(len(members), float(F32(chance)), rng)]] = True
        pos = np.flatnonzero(tries)
        if len(pos):
            trial = buyers[pos]
            other = rng.integers(0, pop.m - 1, size=len(pos))
            cur = pop.merchant[trial]
            other += other >= cur
            own = np.flatnonzero(~tries)
            if positions:
                return own, pos, other.astype(np.intp)
            return buyers[own], trial, other.astype(np.intp)
    if positions:
        return np.arange(len(buyers)), none, none
    return buyers, none, none
