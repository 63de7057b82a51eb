"""Choice and churn: who compares merchants this step (the silent dissatisfied, botched recoveries,
a noticed price rise, and anyone who looks around, the less the more satisfied), the logit choice
to stay, switch or leave the market, and involuntary churn.

Phase ``choice`` of :data:`sim.model.SCHEDULE`; readable twins :func:`stay_utility_one`,
:func:`value_stay_utility_one`, :func:`alternative_utilities_one`, :func:`compare_one`,
:func:`leave_one`, :func:`record_loss_one`."""

from __future__ import annotations

import numpy as np

import math

from ..network import bernoulli_positions
from ..kernels import choice_utilities, comparers, merged
from .common import anticipated_quality, anticipated_value, anticipated_value_one, logit_choice
from .evaluation import evaluate, evaluate_one
from .relationship import start_relationship
from .state import (CHURNED, EV, count_up, F32, LOYAL, ORDINARY, R_COMPETITOR, R_FAILURE, R_INVOLUNTARY, R_OTHER, R_PRICE,
                    R_RECOVERY, REASONS, TRUSTING, Population, StepStats, nonzero)
from .switching_costs import points_cost, switching_cost

__all__ = ["LOOK_CUT", "stay_utility", "value_stay_utility", "alternative_utility", "choose_merchant", "leave",
           "looking_around", "compare_and_churn", "choice_phase", "stay_utility_one", "value_stay_utility_one",
           "alternative_utilities_one", "compare_one", "leave_one", "record_loss_one", "compare_and_churn_readable"]

#: the thinning of :func:`looking_around` draws candidates at the chance of a customer this far below
#: neutral satisfaction (chance reconsider_prob · e^(k·LOOK_CUT)); the less satisfied are drawn one by one
LOOK_CUT = 0.1


def stay_utility(pop: Population, idx, T, P, merchant=None, satisfaction=None, trust=None, heard=None,
                 switch_cost=None):
    """Utility of staying with the current merchant: own satisfaction, trust, what was heard, less
    the grievance of problems not put right (``grievance_weight``), plus everything that would be
    lost by switching. The keyword arguments are the customers'
    current values if already at hand (``heard``: what they heard about their own merchant;
    ``switch_cost``: the kept base, :func:`switching_cost_base`)."""
    if heard is None:
        mer = pop.merchant[idx] if merchant is None else merchant
        heard = pop.heard.reshape(-1)[idx * pop.m + mer]
    S = pop.satisfaction[idx] if satisfaction is None else satisfaction
    u = F32(P.satisfaction_weight) * (S - F32(0.5))
    u += F32(P.trust_weight) * (pop.trust[idx] if trust is None else trust)
    u += heard
    if P.grievance_weight:
        u -= F32(P.grievance_weight) * pop.grievance[idx]
    if switch_cost is None:
        u += switching_cost(pop, idx)
    elif pop.any_points:
        u += switch_cost + points_cost(pop.financial[idx], pop.price_sens[idx], pop.expected_price[idx])
    else:
        u += switch_cost
    return u


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
    val = anticipated_value(T, P, pop.expected_price[idx], pop.price_sens[idx])
    s_hat, _, _ = evaluate(val, pop.expectation[idx][:, None], P)
    s_hat -= F32(0.5)
    s_hat *= F32(P.satisfaction_weight)
    s_hat += np.take(pop.heard, idx, axis=0)
    return s_hat


def choose_merchant(pop: Population, candidates, T, P, rng, stats: StepStats, reasons_if_leaving,
                    on_value=None):
    """Customers who compare: stay, switch to another merchant, or leave the market.

    A logit choice (noise ``choice_noise``) among: staying (:func:`stay_utility`), each other
    merchant (:func:`alternative_utility`) and leaving the category (``outside_option``). Loyal
    customers get here only when a botched complaint betrayed them (they are exclusive otherwise).
    ``reasons_if_leaving`` gives, per candidate, the
    reason recorded if it leaves the market. Candidates marked in ``on_value`` (a mask; those who
    noticed a price rise) judge staying on value for money instead (:func:`value_stay_utility`).
    """
    if len(candidates) == 0:
        return
    m = pop.m
    cur = pop.merchant[candidates].astype(np.intp)
    # the utilities in one compiled pass (the arithmetic of anticipated_value, evaluate, stay_utility,
    # value_stay_utility and switching_cost, in their order)
    U = choice_utilities(
        candidates, cur, on_value if on_value is not None and on_value.any() else _NONE, pop.expected_price,
        pop.price_sens, pop.expectation, pop.heard, pop.satisfaction, pop.trust, pop.grievance, pop.switch_cost,
        pop.financial, bool(pop.any_points), anticipated_quality(T, P), T.price_paid, F32(1 - P.price_doubt),
        F32(P.zone_of_tolerance / 2), F32(P.zone_slope), F32(P.gain_sensitivity),
        -F32(P.gain_sensitivity) * F32(P.loss_aversion), F32(P.diminishing_sensitivity), F32(P.satisfaction_weight),
        F32(P.trust_weight), F32(P.grievance_weight), F32(P.outside_option))
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
        _record_loss(pop, sw, stats, reason)
        stats.left_by_reason += np.bincount(reason, minlength=len(REASONS))
        pop.churn_reason[sw] = reason
        start_relationship(pop, sw, new, T, P, stats, rng)
        count_up(pop.switches, sw)
        pop.flags[sw] |= EV.SWITCHED
        stats.switched += len(sw)


_NONE = np.zeros(0, dtype=bool)


def _record_loss(pop: Population, idx, stats: StepStats, reasons):
    """Customers ``idx`` are lost by their merchant: which merchant, why (``reasons``, one per
    customer or one for all) and their recent spend at the start of the step (``stats.start_spend``;
    the value churn's denominator is read then too)."""
    stats.lost_merchant.append(pop.merchant[idx].astype(np.intp))
    reasons = np.asarray(reasons, dtype=np.intp)
    stats.lost_reason.append(reasons if reasons.ndim else np.full(len(idx), reasons))
    spend = pop.spend if stats.start_spend is None else stats.start_spend
    stats.lost_value.append(spend[idx].astype(np.float32))


def leave(pop: Population, idx, reasons, stats: StepStats):
    """Customers ``idx`` leave the market; their place is empty until a newcomer takes it."""
    if len(idx) == 0:
        return
    _record_loss(pop, idx, stats, reasons)
    pop.stage[idx] = CHURNED
    pop.churn_reason[idx] = reasons
    pop.recovery_due[idx] = -1
    pop.flags[idx] |= EV.LEFT
    stats.left += len(idx)
    stats.left_by_reason += np.bincount(np.asarray(reasons, dtype=np.intp), minlength=len(REASONS))


def looking_around(pop: Population, P, rng) -> np.ndarray:
    """Places (sorted) whose occupant looks around this step without a problem prompting it:
    each with chance ``min(1, reconsider_prob · exp(−reconsider_satisfaction · (S − 0.5)) ·
    exp(−reconsider_trust · trust))``, S its overall satisfaction — the more satisfied compare less,
    the less satisfied more — and a customer who trusts its merchant does not shop around (trust
    shortens the search rather than changing how a comparison comes out).

    Drawn by thinning, so that a step does not draw for every place: candidates at the chance
    of a customer at S = 0.5 − LOOK_CUT, each kept with the ratio of its own chance to that one;
    the few customers below that level are drawn one by one."""
    r, k = P.reconsider_prob, P.reconsider_satisfaction
    if r <= 0 or k <= 0:
        cand = bernoulli_positions(pop.n, r, rng)
        if P.reconsider_trust and len(cand):
            cand = cand[rng.random(len(cand), dtype=F32) < np.exp(F32(-P.reconsider_trust) * pop.trust[cand])]
        return cand
    def chance(x, scale):  # scale · exp(−k · (x − 0.5)), in place on a fresh array
        x -= F32(0.5)
        x *= F32(-k)
        np.exp(x, out=x)
        x *= F32(scale)
        return x

    S = pop.satisfaction
    cut = F32(0.5 - LOOK_CUT)
    q = min(1.0, r * np.exp(k * LOOK_CUT))
    cand = bernoulli_positions(pop.n, q, rng)
    Sc = S[cand]
    keep = Sc >= cut
    c = chance(Sc.copy(), r / q)
    kt = P.reconsider_trust
    if kt:
        c *= np.exp(F32(-kt) * pop.trust[cand])
    keep &= rng.random(len(cand), dtype=F32) < c
    low = nonzero(S < cut)
    if len(low) == 0:
        return cand[keep]
    c = chance(S[low], r)
    if kt:
        c *= np.exp(F32(-kt) * pop.trust[low])
    return merged(cand[keep], low[rng.random(len(low), dtype=F32) < c])  # (both ascending, apart)


#: the reason for leaving of each group prompted to compare (:func:`compare_and_churn`), in its order
_GROUP_REASONS = np.array([R_OTHER, R_PRICE, R_FAILURE, R_RECOVERY], dtype=np.int8)


def compare_and_churn(pop: Population, P, T, stats: StepStats, silent, botched, botched_refused, rise, rng) -> None:
    """Who compares merchants this step, their choice, and involuntary churn.

    Silent dissatisfied customers compare with chance ``reconsider_dissatisfied``, unless they are
    still waiting for the answer to an earlier complaint (voice pending: they wait for it);
    customers whose recovery was botched compare with the same chance, those whose complaint was
    refused (``botched_refused``, a mask over ``botched``) with ``reconsider_dissatisfied · (1 −
    voice_relief)`` (they were heard); buyers who noticed a price rise (``rise``, drawn by
    :func:`sim.mechanism.price_rise.notice_price_rise`) compare on value for money; any other customer
    who is neither a prospect nor loyal looks around with a chance that falls with its overall
    satisfaction (:func:`looking_around`). Loyal customers compare only after a botched recovery
    (betrayed by the merchant they trusted). Then, involuntary churn (``natural_churn``)."""
    n = pop.n
    silent = silent[pop.recovery_due[silent] < 0]  # (recoveries landing this step are done)
    chance = np.where(botched_refused, F32(P.reconsider_dissatisfied * (1 - P.voice_relief)),
                      F32(P.reconsider_dissatisfied))
    # who compares, with the reason recorded if they leave; a customer in several groups keeps
    # the last one's reason (a botched recovery over a silent failure over a price rise over
    # looking around), and one who noticed a price rise judges on value for money whatever else
    # prompted it
    groups = (looking_around(pop, P, rng),
              rise,
              silent[rng.random(len(silent), dtype=F32) < P.reconsider_dissatisfied],
              botched[rng.random(len(botched), dtype=F32) < chance])
    # (compiled: each place once, with its reason; loyal customers are exclusive and do not compare,
    # unless their complaint was botched, betrayed)
    c, reason, on_value = comparers(*groups, _GROUP_REASONS, pop.stage, pop.flags, np.uint32(EV.LEFT), ORDINARY,
                                    TRUSTING, LOYAL, R_RECOVERY)
    choose_merchant(pop, c, T, P, rng, stats, reason, on_value=on_value if len(rise) else None)
    # involuntary churn: each place with chance natural_churn; the active ones leave
    out = bernoulli_positions(n, P.natural_churn, rng)
    out = out[(pop.stage[out] > CHURNED) & ((pop.flags[out] & EV.LEFT) == 0)]
    leave(pop, out, np.full(len(out), R_INVOLUNTARY, np.int8), stats)


def choice_phase(ctx) -> None:
    """Choice and churn (:func:`compare_and_churn`): the silent dissatisfied of this step, the
    botched recoveries, the buyers who noticed a price rise, and whoever looks around."""
    compare_and_churn(ctx.pop, ctx.P, ctx.T, ctx.stats, ctx.idx[ctx.silent_pos], ctx.botched, ctx.botched_refused,
                      ctx.rise, ctx.rng)


# ---- readable twins (one customer, plain Python) ----------------------------------------------
def stay_utility_one(c) -> float:
    """Utility of staying: own satisfaction, trust, what was heard, less the grievance of problems
    not put right, and everything that would be lost by switching (switching costs, and programme
    points valued by price sensitivity)."""
    P = c.model.params
    return (P.satisfaction_weight * (c.satisfaction - 0.5) + P.trust_weight * c.trust
            + c.heard[c.merchant] - P.grievance_weight * c.grievance + c.switch_cost + c.points_cost)


def value_stay_utility_one(c) -> float:
    """Utility of staying after noticing a price rise: the own merchant judged on value for money
    like any other offer (at its current price), plus everything that would be lost by switching.
    Satisfaction and trust do not enter."""
    return c.alternative_utilities()[c.merchant] + c.switch_cost + c.points_cost


def alternative_utilities_one(c) -> list[float]:
    """Utility of each merchant to a customer who does not buy there (yet): the satisfaction it
    predicts from promise and reputation, through its own evaluation, plus word of mouth."""
    P, T = c.model.params, c.model.policies
    return [P.satisfaction_weight * (evaluate_one(anticipated_value_one(T, P, j, c.expected_price, c.price_sens),
                                              c.expectation, P)[0] - 0.5) + c.heard[j]
            for j in range(len(c.heard))]


def compare_one(c, reason: int, on_value: bool = False) -> None:
    """Compare merchants (a logit choice): stay, switch, or leave the category. After a noticed
    price rise (``on_value``) staying is judged on value for money."""
    model, P, T = c.model, c.model.params, c.model.policies
    utilities = c.alternative_utilities()
    utilities[c.merchant] = c.value_stay_utility() if on_value else c.stay_utility()
    pick = model.logit_choice(utilities + [P.outside_option])
    if pick == len(c.heard):
        c.leave(reason)
    elif pick != c.merchant:
        old = c.merchant
        c.churn_reason = R_PRICE if T.price_paid[pick] < T.price_paid[old] else R_COMPETITOR
        model.record_loss(c, c.churn_reason)
        model.stats.left_by_reason[c.churn_reason] += 1  # lost by its merchant, for this reason
        c.start_relationship(pick)
        c.switches += 1
        c.flags |= EV.SWITCHED
        model.stats.switched += 1


def leave_one(c, reason: int) -> None:
    """Leave the market. The place keeps this record until a newcomer takes it (not this step)."""
    c.model.record_loss(c, reason)
    c.stage, c.churn_reason, c.recovery_due = CHURNED, reason, -1
    c.flags |= EV.LEFT
    c.model.stats.left += 1
    c.model.stats.left_by_reason[reason] += 1
    c.remove()  # no longer among model.agents


def record_loss_one(model, customer, reason: int) -> None:
    """The customer is lost by its merchant: which merchant, why (``reason``, one of REASONS) and its
    recent spend at the start of the step (``start_spend``, kept when the step opened)."""
    model.lost.append((customer.merchant, customer.start_spend, reason))


def compare_and_churn_readable(model, customers: list) -> None:
    """Who compares merchants (``customers``: those active at the start of the step), their choice,
    then involuntary churn: the readable twin of :func:`compare_and_churn`."""
    P = model.params
    # anyone ordinary or trusting may look around (the more satisfied less); those who noticed a
    # price rise compare on value for money; the silent dissatisfied and the botched reconsider
    # (the later reason wins); then involuntary churn
    comparing: dict = {}
    for c in customers:
        if model.rng.random() < P.reconsider_prob * math.exp(-P.reconsider_satisfaction * (c.satisfaction - 0.5)
                                                              - P.reconsider_trust * c.trust):
            comparing[c] = R_OTHER
    for c in model.price_rises:
        comparing[c] = R_PRICE
    for c, reason, chance in model.unhappy:
        if model.rng.random() < chance:
            comparing[c] = reason
    on_value = set(model.price_rises)
    model.stats.price_prompted = len(model.price_rises)
    for c, reason in comparing.items():
        # loyal customers are exclusive, unless a botched complaint betrayed them; prospects have not bought
        if c.stage in (ORDINARY, TRUSTING) or (c.stage == LOYAL and reason == R_RECOVERY):
            c.compare(reason, c in on_value)
    for c in model.customers():
        if model.rng.random() < P.natural_churn:
            c.leave(R_INVOLUNTARY)
