"""The customer population and the loyalty-formation mechanism, steps A–H.

Customers are a struct of numpy arrays (:class:`Population`), one array per state variable, and
each mechanism step is a function over the whole population (or the subset it concerns), named
after the theory:

======  =====================================  ============================================
step    theory                                 function
======  =====================================  ============================================
need    a customer needs the service           :func:`need`, :func:`visit`
A       service encounter                      :func:`encounter`
B       perception and evaluation              :func:`perceive`, :func:`evaluate`
C, D    satisfied: positive reinforcement       :func:`reinforce` (Cycle A, 甲循环)
E       dissatisfied: complain or stay silent   :func:`complain`
F       service recovery, evaluated again       :func:`recover`, :func:`reevaluate_recoveries`
                                               (Cycle B, 乙循环)
G       trust accumulates slowly, breaks fast   :func:`accumulate_trust`
H       trust turns into loyalty                :func:`become_loyal`
·       expectations adapt                     :func:`adapt_expectations`
·       word of mouth                          :func:`spread_word_of_mouth`
·       choice, switching, churn, arrival      :func:`choose_merchant`, :func:`leave`, :func:`arrive`
======  =====================================  ============================================

The readable, one-object-per-customer version of the same rules is :mod:`sim.reference`.
Satisfaction is on a 0–1 scale where 0.5 means "exactly what I expected". Quality and value are on
a 0–1 scale too. Every random draw comes from the model's one ``numpy.random.Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .network import Network, bernoulli_positions, deliver
from .params import POINTS_CAP

__all__ = [
    "CHURNED", "PROSPECT", "ORDINARY", "TRUSTING", "LOYAL", "STAGES", "STAGE_LABELS",
    "EV", "REASONS", "REASON_LABELS", "Population", "StepStats",
    "need", "visit", "encounter", "perceive", "evaluate", "reinforce", "complain", "recover",
    "reevaluate_recoveries", "accumulate_trust", "become_loyal", "adapt_expectations",
    "spread_word_of_mouth", "choose_merchant", "leave", "arrive", "switching_cost", "update_satisfaction",
    "grow_switching_costs", "start_relationship", "felt", "stay_utility", "alternative_utility",
    "anticipated_value", "switching_cost_base",
]

F32 = np.float32
#: an expected price never falls below this, even at a merchant that gives the service away
MIN_EXPECTED_PRICE = 0.01

# ---- loyalty stages ---------------------------------------------------------------------------
CHURNED, PROSPECT, ORDINARY, TRUSTING, LOYAL = 0, 1, 2, 3, 4
STAGES = ("churned", "prospect", "ordinary", "trusting", "loyal")
STAGE_LABELS = {
    "churned": ("churned (left)", "已流失"),
    "prospect": ("prospect", "潜在客户"),
    "ordinary": ("ordinary", "普通客户"),
    "trusting": ("trusting", "信任客户"),
    "loyal": ("loyal", "忠诚客户"),
}


class EV:
    """Bit flags of what happened to a customer in a step (kept in ``Population.flags``)."""

    PURCHASE = 1
    SATISFIED = 2
    DELIGHTED = 4
    DISSATISFIED = 8
    COMPLAINED = 16
    RECOVERED = 32  # recovery evaluated and put things right (back to Cycle A)
    BOTCHED = 64  # recovery refused or not good enough
    SWITCHED = 128
    LEFT = 256
    ARRIVED = 512
    TRUSTING = 1024  # passed the bottleneck this step
    LOYAL = 2048  # became loyal this step
    BETRAYED = 4096  # lost loyalty this step
    TRIED_OTHER = 8192  # bought once from another merchant (variety seeking)
    HEARD_BAD = 16384
    HEARD_GOOD = 32768


# ---- why customers leave (a merchant or the market) ---------------------------------------------
REASONS = ("none", "involuntary", "service_failure", "poor_recovery", "price", "competitor", "other")
REASON_LABELS = {
    "none": ("", ""),
    "involuntary": ("left for reasons no merchant controls (moving, life events)", "因商家无法控制的原因离开（搬家、生活变化）"),
    "service_failure": ("a service failure that was never put right", "服务失误始终未得到弥补"),
    "poor_recovery": ("a complaint that was handled badly", "投诉处理不当"),
    "price": ("a cheaper offer, or a price rise it would not pay", "更便宜的报价，或不愿接受的涨价"),
    "competitor": ("a competitor's better offer", "竞争对手更好的报价"),
    "other": ("no longer saw enough value in the category", "不再觉得这类服务值得购买"),
}
R_NONE, R_INVOLUNTARY, R_FAILURE, R_RECOVERY, R_PRICE, R_COMPETITOR, R_OTHER = range(7)


class Population:
    """All customers as arrays. Slot ``i`` holds one customer (``id[i]``) or is empty (stage 0).

    The arrays are the model's state; history and metrics read them, the mechanism functions
    write them.
    """

    FLOATS = (
        "expectation", "excite_expect", "expected_price", "price_sens", "last_paid", "complaint_prop", "procedural",
        "financial", "relational", "perceived", "value", "disconfirmation", "txn_sat", "satisfaction", "trust",
        "affective", "behavioural", "intentional", "wallet", "spend", "value_realised", "acq_cost",
        "recovery_value", "nps_bias", "switch_cost", "fit",
    )
    INTS = ("tenure", "age", "cycle_a", "cycle_b", "complaints", "recoveries", "recoveries_ok", "failures",
            "switches")

    def __init__(self, n: int, m: int):
        self.n, self.m = n, m
        for name in self.FLOATS:
            setattr(self, name, np.zeros(n, dtype=F32))
        for name in self.INTS:
            setattr(self, name, np.zeros(n, dtype=np.int32))
        self.id = np.full(n, -1, dtype=np.int64)
        self.stage = np.zeros(n, dtype=np.int8)
        self.merchant = np.zeros(n, dtype=np.int16)  # meaningless while a place is empty
        self.products = np.zeros(n, dtype=np.int8)
        self.recovery_due = np.full(n, -1, dtype=np.int32)
        self.recovery_merchant = np.full(n, -1, dtype=np.int16)
        self.recovery_ok = np.zeros(n, dtype=bool)
        self.churn_reason = np.zeros(n, dtype=np.int8)
        self.flags = np.zeros(n, dtype=np.uint16)
        self.heard = np.zeros((n, m), dtype=F32)  # what each customer heard about each merchant
        self.next_id = 0
        self.any_points = False  # has any customer ever banked programme points?

    @property
    def active(self) -> np.ndarray:
        return self.stage > CHURNED

    def nbytes(self) -> int:
        return sum(v.nbytes for v in vars(self).values() if isinstance(v, np.ndarray))


@dataclass
class StepStats:
    """Counts of what happened in one step (read by :mod:`sim.metrics`)."""

    purchases: int = 0
    cycle_a: int = 0
    cycle_b: int = 0
    satisfied: int = 0
    delighted: int = 0
    dissatisfied: int = 0
    complaints: int = 0
    recoveries: int = 0
    recoveries_ok: int = 0
    became_trusting: int = 0
    became_loyal: int = 0
    lost_loyalty: int = 0
    price_prompted: int = 0  # buyers who noticed a price rise and will compare on value for money
    switched: int = 0
    left: int = 0
    arrived: int = 0
    wom_positive: int = 0  # messages received
    wom_negative: int = 0
    wom_positive_speakers: int = 0
    wom_negative_speakers: int = 0
    left_by_reason: np.ndarray = field(default_factory=lambda: np.zeros(len(REASONS), dtype=np.int64))
    # per merchant (filled by the model)
    # ACSI-style index components of this step's buyers
    acsi_n: int = 0
    acsi_sum: float = 0.0
    acsi_expectation: float = 0.0
    acsi_quality: float = 0.0
    acsi_value: float = 0.0
    # per-merchant totals of this step's purchases for the merchants' books (own and trial purchases;
    # "own_" only purchases at the buyer's own merchant, whose quality builds its reputation)
    visit_count: np.ndarray | None = None
    visit_units: np.ndarray | None = None
    visit_revenue: np.ndarray | None = None
    own_count: np.ndarray | None = None
    own_perceived: np.ndarray | None = None
    recovered_merchant: np.ndarray | None = None
    lost_merchant: list = field(default_factory=list)  # merchant numbers of customers lost
    lost_value: list = field(default_factory=list)  # their recent spend
    acquired_merchant: list = field(default_factory=list)


# =============================================================================================
# Helpers shared by several steps
# =============================================================================================
def by_merchant(values: np.ndarray, where):
    """``values[where]`` for a per-merchant table, or the common value as a scalar when every
    merchant has the same (the usual case for many policy fields; saves gathering it per buyer)."""
    if len(values) and (values == values[0]).all():
        return values[0]
    return values[where]


def price_term(price, expected_price, sens):
    """Value lost (or gained) by paying ``price`` against the expected price, weighted by ``sens``."""
    return sens * (price - expected_price) / expected_price


def anticipated_value(T, P, expected_price, sens):
    """What a customer expects one purchase from each merchant to be worth, before buying there.

    Returns an ``(k, m)`` array: the merchant's promise and its reputation blended by
    ``promise_weight``, less the price against the customer's expected price, less a quality doubt
    when the price is far below the expected price.
    """
    quality = (P.promise_weight * T.promise + (1 - P.promise_weight) * T.reputation).astype(F32)  # (m,)
    ep = expected_price[:, None]
    price = T.price_paid[None, :]
    doubt = np.maximum(ep * F32(1 - P.price_doubt) - price, F32(0))
    doubt /= ep  # share of the expected price below the doubt threshold
    out = price_term(price, ep, sens[:, None])
    np.subtract(quality[None, :], out, out=out)
    out -= doubt
    return out


def standard_normal(rng, k: int) -> np.ndarray:
    """``k`` standard normal float32 draws by the Box–Muller transform of ``k`` uniforms: exactly
    normal, and about three times cheaper than numpy's float32 ziggurat here. (float32 uniforms
    bound the draws to ±5.8, a tail of 1e-8.)"""
    h = (k + 1) // 2
    u = rng.random(2 * h, dtype=F32)
    r, a = u[:h], u[h:]
    np.negative(r, out=r)
    np.log1p(r, out=r)  # log(1 − u), finite: u < 1
    r *= F32(-2)
    np.sqrt(r, out=r)
    a *= F32(2 * np.pi)
    out = np.empty(2 * h, dtype=F32)
    np.cos(a, out=out[:h])
    np.sin(a, out=out[h:])
    out[:h] *= r
    out[h:] *= r
    return out[:k]


def evaluate(value, expectation, P, tolerance=None, positions: bool = False):
    """B — compare a perceived value with the expectation and its zone of tolerance.

    The zone runs from the adequate level ``E − z/2`` to the desired level ``E + z/2``. Inside it,
    satisfaction moves little (``zone_slope``); above the desired level it rises with the surplus,
    below the adequate level it falls with the shortfall, ``loss_aversion`` times as steeply, both
    with diminishing sensitivity (exponent ``diminishing_sensitivity`` < 1)::

        s = 0.5 + zone_slope·(clip(v, A, D) − E) + gain_sensitivity·(surplus^g − loss_aversion·shortfall^g)

    ``tolerance`` (0–1, per customer) discounts shortfalls, as loyal customers do.
    Returns ``(satisfaction, shortfall, surplus)``: satisfaction clipped to [0, 1] (0.5 = as
    expected), the shortfall below the adequate level and the surplus above the desired level; with
    ``positions=True`` also the (flat) positions where the surplus and where the shortfall are
    positive.
    """
    half = F32(P.zone_of_tolerance / 2)
    d = np.asarray(value - expectation)  # disconfirmation; inside the zone while |d| ≤ half
    shortfall = np.subtract(-half, d, out=np.empty_like(d))  # below the adequate level E − half
    np.maximum(shortfall, 0, out=shortfall)
    if tolerance is not None:
        shortfall *= 1 - tolerance
    surplus = np.subtract(d, half, out=np.empty_like(d))  # above the desired level E + half
    np.maximum(surplus, 0, out=surplus)
    s = np.clip(d, -half, half, out=np.empty_like(d))
    s *= F32(P.zone_slope)
    s += F32(0.5)
    # gains and losses beyond the zone, only where there are any (most evaluations have neither)
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
    if positions:
        return s, shortfall, surplus, found[0], found[1]
    return s, shortfall, surplus


def switching_cost_base(pop: Population, idx, T, P):
    """Switching cost of customers ``idx`` without programme points: procedural (set-up, learning,
    plus a structural programme's ties), relational (built by repeat purchase) and a structural cost
    for each product held beyond the first. Kept in ``pop.switch_cost``. ``pop.procedural`` is the
    customer's own factor (drawn at arrival) on the market's ``procedural_cost``, so lowering that
    parameter mid-run (deregulation) lowers every customer's barrier.""" 
    mer = pop.merchant[idx]
    prod = (pop.products[idx].astype(F32) - 1) * F32(P.product_switch_cost)
    return F32(P.procedural_cost) * pop.procedural[idx] + T.structural[mer] + pop.relational[idx] + prod


def switching_cost(pop: Population, idx):
    """Total switching cost of customers ``idx`` toward their current merchant, in utility units:
    the kept base (:func:`switching_cost_base`) plus the financial cost of programme points that
    would be lost, valued by the customer's price sensitivity against its expected price."""
    sc = pop.switch_cost[idx]
    if pop.any_points:
        sc = sc + pop.financial[idx] * pop.price_sens[idx] / pop.expected_price[idx]
    return sc


# =============================================================================================
# need
# =============================================================================================
def need(pop: Population, P, rng) -> np.ndarray:
    """Which active customers buy this step: each with chance
    ``purchase_prob · (1 + loyal_extra_purchases · trust)`` — trust makes customers buy more often.
    Returns their places in ascending order."""
    p = pop.trust * F32(P.purchase_prob * P.loyal_extra_purchases)
    p += F32(P.purchase_prob)
    u = rng.random(pop.n, dtype=F32)
    buy = u < p
    buy &= pop.stage > CHURNED
    return np.flatnonzero(buy)


def visit(pop: Population, buyers: np.ndarray, P, rng, stage=None, positions: bool = False):
    """Where each buyer buys: its own merchant, or — variety seeking — another one for once.
    Ordinary customers try another merchant with chance ``variety_seeking``, trusting ones half as
    often, loyal ones never (they are exclusive).

    Returns ``(own, trial, trial_merchant)``: buyers at their own merchant, buyers trying another,
    and the merchant each of those tries. ``stage`` is the buyers' stages if already at hand; with
    ``positions=True``, ``own`` and ``trial`` are positions in ``buyers`` instead of places.
    """
    none = np.zeros(0, dtype=np.intp)
    if pop.m > 1 and P.variety_seeking > 0:
        st = pop.stage[buyers] if stage is None else stage
        # each ordinary buyer tries with chance variety_seeking, each trusting one with half that:
        # found by geometric skipping within each group
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


# =============================================================================================
# A — the service encounter
# =============================================================================================
def encounter(pop: Population, buyers, where, T, rng, excitement: bool = True):
    """A — the quality each buyer receives.

    Core quality ~ Normal(quality, sd); a service failure (chance ``failure_prob``) removes
    between half and one and a half times ``failure_severity``; a missing must-be attribute (Kano's
    basic quality) removes 0.3; the excitement attribute adds its size *minus what the customer has
    come to expect* of it, so delight fades into expectation, and removing an expected extra hurts.
    ``excitement=False`` skips that term when no merchant offers an extra and nobody expects one.
    Returns ``(quality, failed)``.
    """
    k = len(buyers)
    base = T.quality + T.tailoring
    z = standard_normal(rng, k)
    sd = by_merchant(T.sd, where)
    z *= sd
    q = np.add(by_merchant(base, where), z, dtype=F32)
    fp = T.failure_prob
    if len(fp) and (fp == fp[0]).all():
        # the same failure chance everywhere: find the failures by geometric skipping; given a
        # failure, u / failure_prob is uniform on [0, 1)
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
            wf = where[f]
            q[f] -= T.failure_severity[wf] * (F32(0.5) + u[f] / fp[f])
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


# =============================================================================================
# B — perception and evaluation
# =============================================================================================
def perceive(pop: Population, buyers, where, quality, T, P, loyal=None, expected_price=None, price_sens=None,
             paid=None):
    """B — perceived value: quality less the price paid against the customer's expected price.

    Loyal customers (mask ``loyal``) discount a price above their expected price
    (``loyal_price_tolerance``). ``expected_price``, ``price_sens`` and ``paid`` (the price each pays
    per product) are the buyers' values if already at hand.
    """
    ep = pop.expected_price[buyers] if expected_price is None else expected_price
    paid = T.price_paid[where] if paid is None else paid
    sens = pop.price_sens[buyers] if price_sens is None else price_sens
    if loyal is None:
        loyal = pop.stage[buyers] == LOYAL
    if P.loyal_price_tolerance > 0 and loyal.any():
        sens = sens * np.where(loyal & (paid > ep), F32(1 - P.loyal_price_tolerance), F32(1))
    return quality - price_term(paid, ep, sens)


# =============================================================================================
# C, D — positive reinforcement (Cycle A)
# =============================================================================================
def reinforce(pop: Population, idx, s, satisfied, T, where, P):
    """C/D — satisfied customers (mask ``satisfied`` over ``idx``): one more pass of Cycle A, and
    the affective facet moves toward how good the encounter felt (``s``, :func:`felt`; plus what a
    social or customised programme adds).

    Returns the strength of the positive reinforcement per customer (0 when not satisfied, 0.5 when
    expectations are just met, up to 1 for delight), used by :func:`accumulate_trust`.
    """
    pop.cycle_a[idx] += satisfied
    d = s - F32(0.5)
    strength = F32(2.5) * d
    strength += F32(0.5)
    np.clip(strength, F32(0.5), F32(1.0), out=strength)
    strength *= satisfied
    target = d
    target *= F32(2)
    target += F32(0.5)
    np.clip(target, 0, 1, out=target)
    target += by_merchant(T.affective, where)
    np.minimum(target, F32(1), out=target)
    aff = pop.affective[idx]
    target -= aff
    target *= F32(0.1) * satisfied
    target += aff
    pop.affective[idx] = target
    return strength


# =============================================================================================
# E — dissatisfaction: complain or stay silent
# =============================================================================================
def complain(pop: Population, idx, severity, where, T, P, rng) -> np.ndarray:
    """E — which dissatisfied customers complain (mask over ``idx``).

    The chance rises steeply with severity, from ``complaint_minor`` (about 1 in 25) to
    ``complaint_major``: ``p = minor + (major − minor) · severity^curvature``, times the
    customer's own propensity; an easy channel (``complaint_ease``) removes up to half of the
    remaining reluctance. A customer still waiting for the answer to an earlier complaint does not
    complain again: its new problem stays unvoiced.
    """
    p = P.complaint_minor + (P.complaint_major - P.complaint_minor) * severity**P.complaint_curvature
    p = np.minimum(p * pop.complaint_prop[idx], 1)
    ease = by_merchant(T.complaint_ease, where)
    p = p + 0.5 * ease * (1 - p)
    voiced = rng.random(len(idx), dtype=F32) < p
    voiced &= pop.recovery_due[idx] < 0  # already waiting for an answer: no second complaint
    pop.complaints[idx[voiced]] += 1
    pop.flags[idx[voiced]] |= EV.COMPLAINED
    return voiced


# =============================================================================================
# F — service recovery, evaluated again (Cycle B)
# =============================================================================================
def recover(pop: Population, idx, value, where, T, step: int, rng):
    """F — the merchant answers each complaint: resolved with chance ``recovery_prob``, after
    ``recovery_delay`` steps. The outcome is evaluated when it lands (:func:`reevaluate_recoveries`)."""
    ok = rng.random(len(idx), dtype=F32) < T.recovery_prob[where]
    pop.recovery_ok[idx] = ok
    pop.recovery_due[idx] = step + T.recovery_delay[where]
    pop.recovery_merchant[idx] = where
    pop.recovery_value[idx] = value


def reevaluate_recoveries(pop: Population, step: int, T, P):
    """F → B — Cycle B: customers whose recovery lands now evaluate it against their expectation.

    A resolved complaint restores the expected level plus the compensation, less ``recovery_decay``
    for each step of delay; a refused one leaves the failed encounter as it was. Returns
    ``(idx, satisfaction, shortfall, surplus, success)``, or ``None`` if nobody is due.
    """
    due = np.flatnonzero(pop.recovery_due == step)
    if len(due) == 0:
        return None
    pop.recovery_due[due] = -1
    mer = pop.recovery_merchant[due]
    still = (pop.stage[due] > CHURNED) & (pop.merchant[due] == mer)
    due, mer = due[still], mer[still].astype(np.intp)
    if len(due) == 0:
        return None
    E = pop.expectation[due]
    delay = T.recovery_delay[mer].astype(F32)
    fixed = E + T.compensation[mer] - P.recovery_decay * delay
    value = np.where(pop.recovery_ok[due], np.maximum(fixed, pop.recovery_value[due]), pop.recovery_value[due])
    tol = (pop.stage[due] == LOYAL) * F32(P.loyal_failure_tolerance)
    s, short, surplus = evaluate(value.astype(F32), E, P, tol)
    success = pop.recovery_ok[due] & (short <= 0)
    pop.cycle_b[due] += 1
    pop.recoveries[due] += 1
    pop.recoveries_ok[due[success]] += 1
    pop.flags[due[success]] |= EV.RECOVERED
    pop.flags[due[~success]] |= EV.BOTCHED
    pop.txn_sat[due] = s
    return due, s, short, surplus, success


# =============================================================================================
# G — trust, the bottleneck
# =============================================================================================
def accumulate_trust(pop: Population, idx, gain_strength, loss_severity, P):
    """G — trust grows slowly with positive reinforcement and falls fast with negative.

    ``trust += trust_gain · strength · (1 − trust) − trust_loss · severity · trust``: gains shrink
    as trust nears 1, losses are proportional to what there is to lose, and ``trust_loss`` is
    several times ``trust_gain`` — lost faster than built. Returns the new trust.
    """
    t = pop.trust[idx]
    t = t + P.trust_gain * gain_strength * (1 - t) - P.trust_loss * loss_severity * t
    np.clip(t, 0, 1, out=t)
    pop.trust[idx] = t
    return t


def felt(pop: Population, idx, s) -> np.ndarray:
    """How an encounter felt: its transaction satisfaction ``s`` (the disconfirmation of the
    expectation, neutral once the expectation has adapted) plus the relationship's ``fit``, the
    lasting match between this merchant's offer and the customer's own needs
    (:func:`start_relationship`), which adapting expectations do not wear away;
    ``clip(s + fit, 0, 1)``. Overall satisfaction (:func:`update_satisfaction`) and positive
    reinforcement (:func:`reinforce`) follow it; complaints and delight follow ``s`` alone."""
    x = pop.fit[idx]
    x += s
    return np.clip(x, 0, 1, out=x)


def update_satisfaction(pop: Population, idx, f, P):
    """Cumulative (overall) satisfaction: an exponentially weighted memory of how each encounter
    felt (:func:`felt`), ``S ← satisfaction_memory · S + (1 − satisfaction_memory) · f``. Returns
    the new values."""
    S = F32(P.satisfaction_memory) * pop.satisfaction[idx] + F32(1 - P.satisfaction_memory) * f
    pop.satisfaction[idx] = S
    return S


# =============================================================================================
# H — loyalty
# =============================================================================================
def become_loyal(pop: Population, idx, P, stats: StepStats, stage=None, trust=None):
    """H — stages follow trust: prospect → ordinary at the first purchase; ordinary → trusting past
    the bottleneck ``trust_threshold``; trusting → loyal once trust reaches ``loyalty_threshold``
    *and* the customer has ``loyalty_min_passes`` passes of Cycle A (quantity into quality).
    A loyal customer whose trust falls below ``loyalty_exit`` is loyal no more (betrayal).
    ``stage`` and ``trust`` are the customers' current values if already at hand. Returns the new
    stages."""
    st = pop.stage[idx] if stage is None else stage
    tr = pop.trust[idx] if trust is None else trust
    loyal_now = st == LOYAL  # (a prospect becomes ordinary, never loyal, at its first purchase)
    betrayed = loyal_now & (tr < F32(P.loyalty_exit))
    # trust high enough to become loyal: then the Cycle A passes are read
    high = np.flatnonzero(~loyal_now & (tr >= F32(P.loyalty_threshold)))
    becomes_loyal = np.zeros(len(st), dtype=bool)
    if len(high):
        becomes_loyal[high[pop.cycle_a[idx[high]] >= P.loyalty_min_passes]] = True
    loyal_new = loyal_now & ~betrayed
    loyal_new |= becomes_loyal
    new = np.where(tr >= F32(P.trust_threshold), np.int8(TRUSTING), np.int8(ORDINARY))
    new[loyal_new] = LOYAL
    up_trusting = (new == TRUSTING) & (st < TRUSTING)
    pop.stage[idx] = new
    counts = []
    for mask, bit in ((up_trusting, EV.TRUSTING), (becomes_loyal, EV.LOYAL), (betrayed, EV.BETRAYED)):
        where = np.flatnonzero(mask)
        if len(where):
            pop.flags[idx[where]] |= bit
        counts.append(len(where))
    stats.became_trusting += counts[0]
    stats.became_loyal += counts[1]
    stats.lost_loyalty += counts[2]
    return new


# =============================================================================================
# Expectations
# =============================================================================================
def adapt_expectations(pop: Population, idx, value, where, T, P, excitement: bool = True, expectation=None,
                       expected_price=None, price_sens=None, paid=None):
    """Expectations move toward what was just perceived (``expectation_adapt``) and a little toward
    what the merchant keeps promising (``promise_pull``)::

        E += expectation_adapt · ((1 − promise_pull)·(v − E) + promise_pull·(promise − price term − E))

    (What was heard by word of mouth shapes the expectation when a relationship starts, see
    :func:`start_relationship`.) Expectations of the excitement attribute and of the price move
    toward what was received and toward the price paid blended with the going price in the market
    (the mean of the merchants' prices, weight ``market_price_pull``: customers see what the others
    charge). ``expectation``, ``expected_price`` and ``price_sens`` are the
    customers' current values if already at hand, ``paid`` the price each paid per product."""
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


# =============================================================================================
# Word of mouth
# =============================================================================================
def spread_word_of_mouth(pop: Population, net: Network, pos_speakers, pos_about, pos_prob,
                         neg_speakers, neg_about, neg_prob, P, rng, stats: StepStats):
    """Delighted and loyal customers recommend; dissatisfied customers whose problem was not put
    right warn, more often per person; each message moves the listener's view of that merchant by
    ``wom_impact`` (bounded to ±1). What was heard fades by ``wom_memory`` per step."""
    if P.wom_memory < 1:
        pop.heard *= F32(P.wom_memory)
    flat = pop.heard.reshape(-1)
    m = pop.m
    for speakers, about, prob, sign in ((pos_speakers, pos_about, pos_prob, 1.0),
                                        (neg_speakers, neg_about, neg_prob, -1.0)):
        if len(speakers) == 0:
            continue
        pos, listeners = deliver(net, speakers, prob, rng)
        alive = np.flatnonzero(pop.stage[listeners] > CHURNED)
        pos, listeners = pos[alive], listeners[alive]
        cell = listeners * m + about[pos]
        np.add.at(flat, cell, F32(sign * P.wom_impact))
        heard = flat[cell]
        over = np.flatnonzero(np.abs(heard) > 1)  # bounded to ±1
        if len(over):
            flat[cell[over]] = np.clip(heard[over], -1, 1)
        pop.flags[listeners] |= EV.HEARD_GOOD if sign > 0 else EV.HEARD_BAD
        if sign > 0:
            stats.wom_positive += len(listeners)
            stats.wom_positive_speakers += len(speakers)
        else:
            stats.wom_negative += len(listeners)
            stats.wom_negative_speakers += len(speakers)


# =============================================================================================
# Choice, switching, churn, arrival
# =============================================================================================
def stay_utility(pop: Population, idx, T, P, merchant=None, satisfaction=None, trust=None, heard=None,
                 switch_cost=None):
    """Utility of staying with the current merchant: own satisfaction, trust, what was heard,
    plus everything that would be lost by switching. The keyword arguments are the customers'
    current values if already at hand (``heard``: what they heard about their own merchant;
    ``switch_cost``: the kept base, :func:`switching_cost_base`)."""
    if heard is None:
        mer = pop.merchant[idx] if merchant is None else merchant
        heard = pop.heard.reshape(-1)[idx * pop.m + mer]
    S = pop.satisfaction[idx] if satisfaction is None else satisfaction
    u = F32(P.satisfaction_weight) * (S - F32(0.5))
    u += F32(P.trust_weight) * (pop.trust[idx] if trust is None else trust)
    u += heard
    if switch_cost is None:
        u += switching_cost(pop, idx)
    elif pop.any_points:
        u += switch_cost + pop.financial[idx] * pop.price_sens[idx] / pop.expected_price[idx]
    else:
        u += switch_cost
    return u


def notice_price_rise(pop: Population, idx, price, stage, P, rng) -> np.ndarray:
    """Buyers at their own merchant (places ``idx``, sorted, paying ``price`` per product, at
    ``stage``) who notice a price rise and will compare merchants on value for money this step
    (sorted places): the price is more than ``price_notice`` above what they paid there last time
    (``last_paid``), and an ordinary or trusting buyer then compares with chance
    ``price_reconsider`` (loyal customers are exclusive). Every buyer's reference becomes the
    price it pays now, so a price that has risen is noticed once, and a steady price never."""
    ref = pop.last_paid[idx]
    pop.last_paid[idx] = price
    if P.price_reconsider <= 0:
        return np.zeros(0, dtype=np.intp)
    ref *= F32(1 + P.price_notice)
    pos = np.flatnonzero((price > ref) & ((stage == ORDINARY) | (stage == TRUSTING)))
    if P.price_reconsider < 1:
        pos = pos[rng.random(len(pos), dtype=F32) < P.price_reconsider]
    return idx[pos]


def value_stay_utility(pop: Population, idx, T, P):
    """Utility of staying for customers who noticed a price rise: the own merchant judged on value
    for money exactly like any other offer (:func:`alternative_utility`, at its current price),
    plus everything that would be lost by switching. Satisfaction and trust do not enter: a price
    rise turns the choice into a comparison of offers, and what binds the customer then is what
    leaving would cost. (:func:`choose_merchant` computes the same from the utilities at hand.)"""
    mer = pop.merchant[idx].astype(np.intp)
    return alternative_utility(pop, idx, T, P)[np.arange(len(idx)), mer] + switching_cost(pop, idx)


def alternative_utility(pop: Population, idx, T, P):
    """``(k, m)`` utility of each merchant to customers who do not buy there yet: satisfaction
    predicted from its promise and reputation (through the customer's own evaluation), plus what
    was heard about it."""
    return _alternative_utility(T, P, pop.expected_price[idx], pop.price_sens[idx], pop.expectation[idx],
                                np.take(pop.heard, idx, axis=0))


def _alternative_utility(T, P, expected_price, sens, expectation, heard):
    val = anticipated_value(T, P, expected_price, sens)
    s_hat, _, _ = evaluate(val, expectation[:, None], P)
    s_hat -= F32(0.5)
    s_hat *= F32(P.satisfaction_weight)
    s_hat += heard
    return s_hat


def logit_choice(U, noise: float, rng) -> np.ndarray:
    """Index of the option each row picks under a logit model with scale ``noise``
    (Gumbel-max: ``argmax(U/noise + Gumbel)``)."""
    u = rng.random(U.shape, dtype=F32)
    np.maximum(u, F32(1e-12), out=u)
    g = -np.log(-np.log(u))
    g += U / F32(noise)
    return np.argmax(g, axis=1)


def choose_merchant(pop: Population, candidates, T, P, rng, stats: StepStats, reasons_if_leaving,
                    on_value=None):
    """Customers who compare: stay, switch to another merchant, or leave the market.

    A logit choice (noise ``choice_noise``) among: staying (:func:`stay_utility`), each other
    merchant (:func:`alternative_utility`) and leaving the category (``outside_option``). Loyal
    customers never get here: they are exclusive. ``reasons_if_leaving`` gives, per candidate, the
    reason recorded if it leaves the market. Candidates marked in ``on_value`` (a mask; those who
    noticed a price rise) judge staying on value for money instead (:func:`value_stay_utility`).
    """
    if len(candidates) == 0:
        return
    k, m = len(candidates), pop.m
    U = np.empty((k, m + 1), dtype=F32)
    heard = np.take(pop.heard, candidates, axis=0)
    U[:, :m] = _alternative_utility(T, P, pop.expected_price[candidates], pop.price_sens[candidates],
                                    pop.expectation[candidates], heard)
    cur = pop.merchant[candidates].astype(np.intp)
    if on_value is not None and on_value.any():
        v = np.flatnonzero(on_value)
        rest = np.flatnonzero(~on_value)
        U[v, cur[v]] += switching_cost(pop, candidates[v])  # value_stay_utility: judged like an offer
        U[rest, cur[rest]] = stay_utility(pop, candidates[rest], T, P, heard=heard[rest, cur[rest]])
    else:
        rows = np.arange(k)
        U[rows, cur] = stay_utility(pop, candidates, T, P, heard=heard[rows, cur])
    U[:, m] = P.outside_option
    pick = logit_choice(U, P.choice_noise, rng)
    leaving = pick == m
    switching = (~leaving) & (pick != cur)
    if leaving.any():
        leave(pop, candidates[leaving], reasons_if_leaving[leaving], stats)
    if switching.any():
        sw = candidates[switching]
        new = pick[switching]
        old = cur[switching]
        reason = np.where(T.price_paid[new] < T.price_paid[old], R_PRICE, R_COMPETITOR)
        _record_loss(pop, sw, stats)
        stats.left_by_reason += np.bincount(reason, minlength=len(REASONS))
        pop.churn_reason[sw] = reason
        start_relationship(pop, sw, new, T, P, stats, rng)
        pop.switches[sw] += 1
        pop.flags[sw] |= EV.SWITCHED
        stats.switched += len(sw)


def _record_loss(pop: Population, idx, stats: StepStats):
    stats.lost_merchant.append(pop.merchant[idx].astype(np.intp))
    stats.lost_value.append(pop.spend[idx].copy())


def leave(pop: Population, idx, reasons, stats: StepStats):
    """Customers ``idx`` leave the market; their place is empty until a newcomer takes it."""
    if len(idx) == 0:
        return
    _record_loss(pop, idx, stats)
    pop.stage[idx] = CHURNED
    pop.churn_reason[idx] = reasons
    pop.recovery_due[idx] = -1
    pop.flags[idx] |= EV.LEFT
    stats.left += len(idx)
    stats.left_by_reason += np.bincount(np.asarray(reasons, dtype=np.intp), minlength=len(REASONS))


def start_relationship(pop: Population, idx, merchant, T, P, stats: StepStats, rng):
    """Customers ``idx`` begin with ``merchant``: trust and switching costs start afresh; the
    expectation moves halfway to what the customer anticipates of the merchant — its promise and
    reputation (:func:`anticipated_value`) plus what the customer has heard about it; how well the
    merchant suits the customer (``fit``, normal with sd ``fit_spread``) is drawn, and shows in
    overall satisfaction from the first purchase on (:func:`update_satisfaction`)."""
    merchant = np.asarray(merchant, dtype=np.intp)
    pop.merchant[idx] = merchant
    k = len(idx)
    pop.fit[idx] = (P.fit_spread * rng.standard_normal(k)).astype(F32) if P.fit_spread > 0 else F32(0)
    anticipated = anticipated_value(T, P, pop.expected_price[idx], pop.price_sens[idx])[np.arange(k), merchant]
    anticipated += pop.heard.reshape(-1)[idx * pop.m + merchant]
    pop.expectation[idx] = F32(0.5) * pop.expectation[idx] + F32(0.5) * anticipated
    pop.trust[idx] = P.trust_init
    pop.satisfaction[idx] = 0.5
    pop.tenure[idx] = 0
    pop.financial[idx] = 0
    pop.relational[idx] = 0
    pop.products[idx] = 1
    pop.cycle_a[idx] = 0
    pop.cycle_b[idx] = 0
    pop.behavioural[idx] = 0
    pop.wallet[idx] = 0.5
    pop.affective[idx] *= 0.5
    pop.value_realised[idx] = 0
    pop.recovery_due[idx] = -1
    pop.acq_cost[idx] = T.acquisition_cost[merchant]
    pop.last_paid[idx] = T.price_paid[merchant]  # a rise is noticed against the price when it joined
    pop.switch_cost[idx] = switching_cost_base(pop, idx, T, P)
    pop.stage[idx] = np.where(pop.stage[idx] == PROSPECT, PROSPECT, ORDINARY)
    stats.acquired_merchant.append(merchant)


def arrive(pop: Population, P, T, rng, stats: StepStats, empty=None):
    """Newcomers take empty places (chance ``arrival_rate`` each), with their own expected price,
    price sensitivity, procedural switching cost and complaint propensity, and an expectation set by
    the promises and reputation of the merchant they pick first."""
    if empty is None:
        empty = np.flatnonzero(pop.stage == CHURNED)
        empty = empty[rng.random(len(empty), dtype=F32) < P.arrival_rate]
    k = len(empty)
    if k == 0:
        return empty
    pop.id[empty] = np.arange(pop.next_id, pop.next_id + k)
    pop.next_id += k
    pop.stage[empty] = PROSPECT
    pop.age[empty] = 0
    pop.expected_price[empty] = P.expected_price * np.exp(0.1 * rng.standard_normal(k)).astype(F32)
    pop.price_sens[empty] = rng.gamma(4.0, P.price_sensitivity / 4.0, size=k).astype(F32)
    pop.procedural[empty] = rng.uniform(0.5, 1.5, size=k).astype(F32)  # factor on procedural_cost
    pop.complaint_prop[empty] = np.exp(0.4 * rng.standard_normal(k) - 0.08).astype(F32)
    pop.nps_bias[empty] = (0.1 * rng.standard_normal(k)).astype(F32)
    pop.expectation[empty] = (P.expectation_init + P.expectation_spread * rng.standard_normal(k)).astype(F32)
    pop.excite_expect[empty] = 0
    pop.heard[empty] = 0
    pop.spend[empty] = 0
    pop.affective[empty] = 0
    pop.intentional[empty] = 0.5
    for name in ("perceived", "value", "disconfirmation", "txn_sat"):
        getattr(pop, name)[empty] = 0
    for name in ("complaints", "recoveries", "recoveries_ok", "failures", "switches"):
        getattr(pop, name)[empty] = 0
    pop.churn_reason[empty] = R_NONE
    pop.flags[empty] |= EV.ARRIVED
    # first choice among merchants (no outside option: they came to buy)
    U = alternative_utility(pop, empty, T, P)
    first = logit_choice(U, P.choice_noise, rng)
    start_relationship(pop, empty, first, T, P, stats, rng)
    stats.arrived += k
    return empty


def grow_switching_costs(pop: Population, idx, where, T, P):
    """Repeat purchase builds relational switching cost (``relational_growth`` per purchase, up to
    ``relational_max``; faster with social and customised programmes); programme members bank
    points, lost if they leave. Keeps ``pop.switch_cost`` (:func:`switching_cost_base`) up to date
    by adding what changed, and returns it."""
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
