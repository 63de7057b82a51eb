"""B — perception and evaluation: perceived value against the expectation and its zone of
tolerance (loss aversion, diminishing sensitivity); how the encounter felt (with the relationship's
fit); cumulative satisfaction; the ACSI-style index components of this step's buyers.

Phase ``evaluate`` of :data:`sim.model.SCHEDULE`; readable twins :func:`evaluate_one`,
:func:`perceive_one`, :func:`felt_one`, :func:`remember_one`."""

from __future__ import annotations

import numpy as np

from ..kernels import evaluate_buyers, sized, zone_evaluate
from .common import clip, price_term, price_term_one
from .state import EV, F32, LOYAL, Population

__all__ = ["perceive", "evaluate", "felt", "category_value", "judge_value", "encounter_weight", "update_satisfaction",
           "acsi",
           "evaluate_phase", "evaluate_one", "perceive_one", "felt_one", "judge_value_one", "remember_one",
           "acsi_readable"]


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
    d = np.asarray(value - expectation, dtype=F32)  # disconfirmation (float32 throughout)
    if tolerance is None:
        keep = _NO_KEEP
    else:
        keep = np.broadcast_to(1 - tolerance, d.shape).reshape(-1)
    g = F32(P.diminishing_sensitivity)
    s, shortfall, surplus, up, down = zone_evaluate(
        d.reshape(-1), keep, F32(P.zone_of_tolerance / 2), F32(P.zone_slope), F32(P.gain_sensitivity),
        -F32(P.gain_sensitivity) * F32(P.loss_aversion), g)
    s, shortfall, surplus = s.reshape(d.shape), shortfall.reshape(d.shape), surplus.reshape(d.shape)
    if positions:
        return s, shortfall, surplus, up, down
    return s, shortfall, surplus


_NO_KEEP = np.zeros(0, dtype=F32)


def felt(pop: Population, idx, s, T, P) -> np.ndarray:
    """How an encounter felt: its transaction satisfaction ``s`` (the disconfirmation of the
    expectation, neutral once the expectation has adapted), plus the relationship's ``fit``, the
    lasting match between this merchant's offer and the customer's own needs
    (:func:`start_relationship`), plus the direct effect of the value for money the customer judges
    its merchant to give, against what the category gives (:func:`category_value`):
    ``clip(s + fit + value_weight · (value_belief − category), 0, 1)``. Adapting expectations wear
    away neither ``fit`` nor the direct effect, so a better merchant keeps more satisfied customers
    (the direct path from perceived quality and value to satisfaction of the ACSI model). Overall
    satisfaction (:func:`update_satisfaction`) and positive reinforcement (:func:`reinforce`) follow
    it; complaints and delight follow ``s`` alone."""
    x = pop.fit[idx]
    x += s
    if P.value_weight:
        b = pop.value_belief[idx]
        b -= category_value(T, pop.expected_price[idx], pop.price_sens[idx])
        b *= F32(P.value_weight)
        x += b
    return x.clip(0, 1, out=x)


def category_value(T, expected_price, sens) -> np.ndarray:
    """What the category gives for the money, as each customer (its expected price and price
    sensitivity) sees it: the merchants' mean reputation less the price term of their mean price
    (the price term is linear in the price, so this is the mean over the merchants)."""
    return F32(T.reputation.mean()) - price_term(F32(T.price_paid.mean()), expected_price, sens)


def judge_value(pop: Population, idx, value, P) -> None:
    """Each buyer's judgement of the value its merchant gives moves toward the value just received
    (``value_learning``): ``belief += value_learning · (value − belief)``."""
    if P.value_learning:
        b = pop.value_belief[idx]
        pop.value_belief[idx] = b + F32(P.value_learning) * (value - b)


def encounter_weight(tenure, P):
    """Weight of the latest encounter in overall satisfaction after ``tenure`` steps with the
    merchant: ``max(1 − satisfaction_memory, 1 / (1 + tenure / satisfaction_settling))``. A new
    relationship's first encounters weigh more — overall satisfaction starts as a running mean of
    the few experiences so far and settles into the fading memory once they are enough (customers
    with a longer relationship weigh what they already think more, new experiences less)."""
    w = F32(1 - P.satisfaction_memory)
    if P.satisfaction_settling <= 0:
        return w
    with np.errstate(over="ignore", divide="ignore"):  # a settling near 0: every encounter weighs 1 − memory
        early = 1 / (1 + tenure / P.satisfaction_settling)
    return np.maximum(w, early.astype(F32))


def update_satisfaction(pop: Population, idx, f, P):
    """Cumulative (overall) satisfaction: a memory of how each encounter felt (:func:`felt`),
    ``S ← S + w · (f − S)``, with ``w`` the encounter's weight (:func:`encounter_weight`: ``1 −
    satisfaction_memory`` once the relationship has settled, more in its first weeks). Returns the
    new values."""
    w = F32(1 - P.satisfaction_memory)
    if P.satisfaction_settling > 0:
        # only the first weeks of a relationship weigh more than the settled share: those tenures alone
        ten = pop.tenure[idx]
        new = np.flatnonzero(ten < P.satisfaction_settling * P.satisfaction_memory / max(float(w), 1e-9))
        if len(new):
            w = np.full(len(idx), w, dtype=F32)
            w[new] = encounter_weight(ten[new], P)
    S = pop.satisfaction[idx]
    S += w * (f - S)
    pop.satisfaction[idx] = S
    return S


def acsi(stats, S, E, v, quality, P, disconfirmation=None) -> None:
    """Components of the ACSI-style index for this step's buyers, while their values are at hand
    (S: cumulative satisfaction, E: expectation, v: perceived value, quality: perceived quality,
    disconfirmation: v − E), into ``stats``."""
    st = stats
    k = len(S)
    st.acsi_n = k
    if k == 0:
        return
    desired = E + F32(P.zone_of_tolerance / 2)
    conf = (v - E) if disconfirmation is None else disconfirmation.copy()
    conf += F32(0.5)
    conf.clip(0, 1, out=conf)
    np.maximum(desired, F32(1e-6), out=desired)
    ideal = np.divide(v, desired, out=desired)
    ideal.clip(0, 1, out=ideal)
    # (float32 pairwise sums: relative error about 1e-7 · log2 k)
    st.acsi_sum = float(S.sum()) + float(conf.sum()) + float(ideal.sum())
    st.acsi_expectation = float(E.sum()) / k
    st.acsi_quality = float(quality.sum()) / k
    st.acsi_value = float(v.sum()) / k


def evaluate_phase(ctx) -> None:
    """B for this step's buyers at their own merchant: a noticed price rise (:func:`~sim.mechanism.price_rise.notice_price_rise`),
    perceived value (:func:`perceive`), transaction satisfaction (:func:`evaluate`), the judged
    value (:func:`judge_value`), how it felt (:func:`felt`), cumulative satisfaction
    (:func:`update_satisfaction`) and each buyer's outcome (satisfied, delighted or dissatisfied),
    in one compiled pass (:func:`sim.kernels.evaluate_buyers`, the same arithmetic as those
    functions; ``tests/test_kernels.py`` holds them equal), then the index components
    (:func:`acsi`). Sets ``ctx.ep``, ``ctx.sens``, ``ctx.price``, ``ctx.rise``, ``ctx.v``,
    ``ctx.E``, ``ctx.short``, ``ctx.del_pos``, ``ctx.dis_pos``, ``ctx.f``, ``ctx.S`` and ``ctx.sat``."""
    P, pop, T, stats = ctx.P, ctx.pop, ctx.T, ctx.stats
    idx, w, quality = ctx.idx, ctx.w, ctx.quality
    keep = _NO_KEEP if ctx.tolerance is None else 1 - ctx.tolerance
    settled = F32(1 - P.satisfaction_memory)
    ep, sens, price, rise, v, E, short, del_pos, dis_pos, f, S = sized(evaluate_buyers, len(idx))(
        idx, w, quality, ctx.st, ctx.loyal, keep,
        np.zeros(len(idx), dtype=bool) if ctx.failed is None else ctx.failed, T.price_paid,
        pop.expected_price, pop.price_sens, pop.last_paid, pop.expectation, pop.perceived, pop.value,
        pop.disconfirmation, pop.txn_sat, pop.value_belief, pop.fit, pop.tenure, pop.satisfaction, pop.flags,
        F32(1 + P.price_notice), float(P.price_reconsider), F32(1 - P.loyal_price_tolerance),
        P.loyal_price_tolerance > 0, F32(P.zone_of_tolerance / 2), F32(P.zone_slope), F32(P.gain_sensitivity),
        -F32(P.gain_sensitivity) * F32(P.loss_aversion), F32(P.diminishing_sensitivity), F32(P.value_learning),
        F32(P.value_weight), F32(T.reputation.mean()), F32(T.price_paid.mean()), settled,
        float(P.satisfaction_settling),
        P.satisfaction_settling * P.satisfaction_memory / max(float(settled), 1e-9),
        np.uint32(EV.PURCHASE | EV.SATISFIED), np.uint32(EV.PURCHASE | EV.DISSATISFIED), np.uint32(EV.DELIGHTED),
        np.uint32(EV.FAILED))
    if 0 < P.price_reconsider < 1:  # each who noticed compares with chance price_reconsider
        rise = rise[ctx.rng.random(len(rise), dtype=F32) < P.price_reconsider]
    stats.price_prompted = len(rise)
    acsi(stats, S, E, v, quality, P)
    sat = np.ones(len(idx), dtype=bool)
    sat[dis_pos] = False  # (short <= 0)
    stats.satisfied, stats.delighted, stats.dissatisfied = len(idx) - len(dis_pos), len(del_pos), len(dis_pos)
    stats.add_at("cycle_a", w[sat])  # per merchant: satisfied purchases are its Cycle A passes
    stats.add_at("dissatisfied", w[dis_pos])
    pop.flags[ctx.trial] = EV.PURCHASE | EV.TRIED_OTHER
    ctx.ep, ctx.sens, ctx.price, ctx.rise, ctx.v, ctx.E = ep, sens, price, rise, v, E
    ctx.short, ctx.del_pos, ctx.dis_pos, ctx.f, ctx.S, ctx.sat = short, del_pos, dis_pos, f, S, sat


# ---- readable twins (one customer, plain Python) ----------------------------------------------
def evaluate_one(value: float, expectation: float, P, tolerance: float = 0.0) -> tuple[float, float, float]:
    """B — compare a perceived value with the expectation and its zone of tolerance.

    The zone runs from the adequate level ``E − z/2`` to the desired level ``E + z/2``; inside it
    satisfaction moves little (``zone_slope``). Above it satisfaction rises with the surplus, below
    it falls with the shortfall ``loss_aversion`` times as steeply, both with diminishing
    sensitivity (``x ** diminishing_sensitivity``). A loyal customer's ``tolerance`` discounts
    shortfalls. Returns ``(satisfaction in [0, 1], shortfall, surplus)``; 0.5 = as expected.
    """
    adequate = expectation - P.zone_of_tolerance / 2
    desired = expectation + P.zone_of_tolerance / 2
    shortfall = max(adequate - value, 0.0) * (1 - tolerance)
    surplus = max(value - desired, 0.0)
    inside = clip(value, adequate, desired) - expectation
    g = P.diminishing_sensitivity
    s = 0.5 + P.zone_slope * inside + P.gain_sensitivity * (surplus**g - P.loss_aversion * shortfall**g)
    return clip(s, 0.0, 1.0), shortfall, surplus


def perceive_one(c, j: int, quality: float) -> float:
    """B — perceived value: quality less the price against the expected price (a loyal
    customer discounts a price above what it expects)."""
    P, T = c.model.params, c.model.policies
    sens = c.price_sens
    if c.stage == LOYAL and T.price_paid[j] > c.expected_price:
        sens *= 1 - P.loyal_price_tolerance
    return quality - price_term_one(T.price_paid[j], c.expected_price, sens)


def felt_one(c, s: float) -> float:
    """How an encounter felt: transaction satisfaction ``s`` plus the relationship's lasting
    ``fit`` plus the direct effect of the value for money the customer judges its merchant to give,
    against what the category gives (the merchants' mean reputation less the price term of their
    mean price), kept between 0 and 1 (overall satisfaction and reinforcement follow it)."""
    P, T = c.model.params, c.model.policies
    m = len(T.reputation)
    category = sum(T.reputation) / m - price_term_one(sum(T.price_paid) / m, c.expected_price, c.price_sens)
    return clip(s + c.fit + P.value_weight * (c.value_belief - category), 0.0, 1.0)


def judge_value_one(c, value: float) -> None:
    """The judgement of the value the merchant gives moves toward the value just received."""
    c.value_belief += c.model.params.value_learning * (value - c.value_belief)


def remember_one(c, f: float) -> None:
    """Overall satisfaction: a memory of how each encounter felt (``f``), the first encounters of a
    relationship weighing more (``1 / (1 + tenure / satisfaction_settling)``) until the fading
    memory's share (``1 − satisfaction_memory``) is larger."""
    P = c.model.params
    w = 1 - P.satisfaction_memory
    if P.satisfaction_settling > 0:
        w = max(w, 1 / (1 + c.tenure / P.satisfaction_settling))
    c.satisfaction += w * (f - c.satisfaction)


def acsi_readable(stats, rows, P) -> None:
    """The ACSI-style index components of this step's buyers (``rows``: satisfaction, expectation,
    value, quality of each), into ``stats``: satisfaction, confirmation of expectations, closeness
    to the desired level."""
    stats.acsi_n = len(rows)
    if rows:
        half = P.zone_of_tolerance / 2  # desired level = E + half
        stats.acsi_sum = sum(sat + clip(0.5 + (v - E), 0, 1) + clip(v / max(E + half, 1e-6), 0, 1)
                             for sat, E, v, _ in rows)
        stats.acsi_expectation, stats.acsi_value, stats.acsi_quality = (
            float(np.mean([row[i] for row in rows])) for i in (1, 2, 3))
