"""H — loyalty: stages follow trust (prospect → ordinary → trusting → loyal, and betrayal), and
the intentional facet of loyalty (would the buyer pick its merchant again?).

Phase ``loyalty`` of :data:`sim.model.SCHEDULE`; readable twins :func:`become_loyal_one`,
:func:`form_intentions_readable`."""

from __future__ import annotations

import math

import numpy as np

from ..kernels import follow_trust, logistic_store, sized, stay_logit
from .common import anticipated_value, anticipated_value_one, clip
from .evaluation import evaluate, evaluate_one
from .state import EV, F32, LOYAL, ORDINARY, TRUSTING, StepStats, Population

__all__ = ["become_loyal", "intention", "others_value", "step_others_value", "alternatives_value", "loyalty_phase",
           "become_loyal_one", "form_intentions_readable"]


def become_loyal(pop: Population, idx, P, stats: StepStats, stage=None, trust=None):
    """H — stages follow trust: prospect → ordinary at the first purchase; ordinary → trusting past
    the bottleneck ``trust_threshold``; trusting → loyal once trust reaches ``loyalty_threshold``
    *and* the customer has ``loyalty_min_passes`` passes of Cycle A (quantity into quality).
    A loyal customer whose trust falls below ``loyalty_exit`` is loyal no more (betrayal).
    ``stage`` and ``trust`` are the customers' current values if already at hand. Returns the new
    stages."""
    st = pop.stage[idx] if stage is None else stage
    tr = pop.trust[idx] if trust is None else trust
    new, up, loyal, betrayed = follow_trust(  # (compiled: one pass)
        idx, st, tr, pop.cycle_a, pop.stage, pop.flags, F32(P.loyalty_exit), F32(P.loyalty_threshold),
        P.loyalty_min_passes, F32(P.trust_threshold), np.uint32(EV.TRUSTING), np.uint32(EV.LOYAL),
        np.uint32(EV.BETRAYED))
    stats.became_trusting += up
    stats.became_loyal += loyal
    stats.lost_loyalty += betrayed
    return new


def others_value(T, P, mean_expectation: float) -> np.ndarray:
    """Per merchant (float32), the inclusive value (:func:`alternatives_value`) of the options its
    customers have besides staying: each other merchant as judged by a customer with the market's
    mean expectation (``mean_expectation``), expected price and price sensitivity, and leaving the
    category. The same for every customer of a step (:func:`step_others_value` keeps it)."""
    E0 = np.array([[mean_expectation]], dtype=F32)
    val = anticipated_value(T, P, np.array([P.expected_price], dtype=F32),
                            np.array([P.price_sensitivity], dtype=F32))
    s_hat, _, _ = evaluate(val, E0, P)
    alt = P.satisfaction_weight * (s_hat[0].astype(np.float64) - 0.5)  # (m,)
    return np.array([alternatives_value([alt[j] for j in range(T.m) if j != i], P) for i in range(T.m)],
                    dtype=F32)


def step_others_value(ctx) -> np.ndarray:
    """:func:`others_value` for this step (the merchants' policies and the mean expectation at its
    start), computed at the step's first use and kept in the context for the rest of it."""
    if ctx.others is None:
        ctx.others = others_value(ctx.T, ctx.P, ctx.model.mean_expectation)
    return ctx.others


def intention(pop: Population, idx, w, T, P, mean_expectation: float, satisfaction=None, trust=None,
              switch_cost=None, others=None) -> None:
    """Intentional facet of the buyers ``idx`` (at merchants ``w``): the chance they would pick their
    merchant again if they compared now — a logit choice, with noise ``intention_noise``, between
    staying (:func:`sim.mechanism.choice.stay_utility`) and every other option: each other merchant
    as judged by a customer with the market's mean expectation (``mean_expectation``, at the start of
    the step), expected price and price sensitivity, and leaving the category (``outside_option``).
    The other options enter through their inclusive value (:func:`others_value`). The keyword
    arguments are the buyers' current values if at hand (``others``: that inclusive value)."""
    if len(idx) == 0:
        return
    if others is None:
        others = others_value(T, P, mean_expectation)
    S = pop.satisfaction[idx] if satisfaction is None else satisfaction
    tr = pop.trust[idx] if trust is None else trust
    sc = pop.switch_cost[idx] if switch_cost is None else switch_cost
    # (compiled: the utility of staying, as stay_utility, less the others' value, scaled and negated;
    # numpy's exp; then 1 / (1 + exp(−x)) written in place)
    x = sized(stay_logit, len(idx))(idx, w, S, tr, sc, pop.heard, pop.grievance, pop.financial, pop.price_sens,
                                    pop.expected_price, bool(pop.any_points), others, F32(P.satisfaction_weight),
                                    F32(P.trust_weight), F32(P.grievance_weight), F32(P.intention_noise))
    np.exp(x, out=x)
    sized(logistic_store, len(idx))(idx, x, pop.intentional)


def loyalty_phase(ctx) -> None:
    """H for this step's buyers (with the values carried through the step), then their intention
    to buy again (:func:`intention`)."""
    ctx.st = become_loyal(ctx.pop, ctx.idx, ctx.P, ctx.stats, stage=ctx.st, trust=ctx.tr)
    intention(ctx.pop, ctx.idx, ctx.w, ctx.T, ctx.P, ctx.model.mean_expectation, satisfaction=ctx.S, trust=ctx.tr,
              switch_cost=ctx.sc, others=step_others_value(ctx))


# ---- readable twins ---------------------------------------------------------------------------
def become_loyal_one(c) -> None:
    """H — stages follow trust. Past ``trust_threshold`` (the bottleneck G) a customer is trusting;
    at ``loyalty_threshold`` with ``loyalty_min_passes`` passes of Cycle A (quantity turns into
    quality) it becomes loyal; a loyal customer whose trust falls below ``loyalty_exit`` is
    betrayed and loyal no more."""
    P, stats, before = c.model.params, c.model.stats, c.stage
    if before == LOYAL and c.trust >= P.loyalty_exit:
        return
    if before != LOYAL and c.trust >= P.loyalty_threshold and c.cycle_a >= P.loyalty_min_passes:
        c.stage = LOYAL
        c.flags |= EV.LOYAL
        stats.became_loyal += 1
        return
    if before == LOYAL:
        c.flags |= EV.BETRAYED
        stats.lost_loyalty += 1
    c.stage = TRUSTING if c.trust >= P.trust_threshold else ORDINARY
    if c.stage == TRUSTING and before < TRUSTING:
        c.flags |= EV.TRUSTING
        stats.became_trusting += 1


def alternatives_value(alternatives, P) -> float:
    """The inclusive value of the options other than staying: ``σ · log(Σ exp(u / σ))`` over the
    other merchants' utilities and the outside option, σ = ``intention_noise``. Staying is chosen
    with chance ``1 / (1 + exp(−(stay − this) / σ))``: the logit choice among all the options."""
    sigma = P.intention_noise
    us = list(alternatives) + [P.outside_option]
    top = max(us)
    return top + sigma * math.log(sum(math.exp((u - top) / sigma) for u in us))


def form_intentions_readable(model) -> None:
    """Intentional facet: the chance a buyer (or a customer whose complaint was just answered) would
    pick its merchant again if it compared now: a logit choice between staying and every other
    option (the other merchants as judged by a customer with the market's mean expectation at the
    end of the last step, expected price and price sensitivity; leaving the category)."""
    P, T, m = model.params, model.policies, len(model.merchant_list)
    alt = [P.satisfaction_weight * (evaluate_one(anticipated_value_one(T, P, j, P.expected_price, P.price_sensitivity),
                                             model.mean_expectation, P)[0] - 0.5) for j in range(m)]
    others = [alternatives_value([alt[k] for k in range(m) if k != j], P) for j in range(m)]
    for c in model.own_buyers + model.reevaluated:
        diff = (c.stay_utility() - others[c.merchant]) / P.intention_noise
        c.intentional = 1 / (1 + math.exp(-clip(diff, -30, 30)))
