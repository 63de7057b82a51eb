"""need — who buys this step, and where: its own merchant, or (variety seeking) another one for once.

Phases ``age`` and ``need`` of :data:`sim.model.SCHEDULE`; the readable twins are :func:`need_one`,
:func:`visit_one` and :func:`get_older_one`."""

from __future__ import annotations

import numpy as np

from ..kernels import buyers_by_chance, get_older, need_visit, sized, split_trials, two_groups
from ..network import bernoulli_positions
from .state import COUNT_MAX, F32, LOYAL, ORDINARY, TRUSTING, Population

__all__ = ["need", "visit", "age_phase", "need_phase", "get_older_one", "need_one", "visit_one"]


def need(pop: Population, P, rng) -> np.ndarray:
    """Which active customers buy this step: each with chance
    ``purchase_prob · (1 + loyal_extra_purchases · trust)`` — trust makes customers buy more often.
    Returns their places in ascending order."""
    u = rng.random(pop.n, dtype=F32)
    return sized(buyers_by_chance, pop.n)(u, pop.trust, pop.stage, F32(P.purchase_prob),  # (compiled: one pass)
                            F32(P.purchase_prob * P.loyal_extra_purchases))


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
        ordinary, trusting = two_groups(st, ORDINARY, TRUSTING)  # (compiled: one pass)
        by_ordinary = bernoulli_positions(len(ordinary), float(F32(P.variety_seeking)), rng)
        by_trusting = bernoulli_positions(len(trusting), float(F32(P.variety_seeking / 2)), rng)
        own, pos = split_trials(len(buyers), ordinary, by_ordinary, trusting, by_trusting)  # (compiled: one pass)
        if len(pos):
            trial = buyers[pos]
            other = rng.integers(0, pop.m - 1, size=len(pos))
            cur = pop.merchant[trial]
            other += other >= cur
            if positions:
                return own, pos, other.astype(np.intp)
            return buyers[own], trial, other.astype(np.intp)
    if positions:
        return np.arange(len(buyers)), none, none
    return buyers, none, none


def age_phase(ctx) -> None:
    """Every active customer ages by one step (``age``, ``tenure``); recent spend fades
    (``spend ← 0.9 · spend``)."""
    pop = ctx.pop
    get_older(pop.stage, pop.age, pop.tenure, pop.spend, F32(0.9), COUNT_MAX)  # (compiled: one pass)


def need_phase(ctx) -> None:
    """Who buys (:func:`need`) and where (:func:`visit`): sets ``ctx.idx`` (buyers at their own
    merchant), ``ctx.trial``/``ctx.trial_at`` (buyers trying another, and where), ``ctx.st``,
    ``ctx.w``, ``ctx.loyal`` and the loyal buyers' ``ctx.tolerance``."""
    P, pop, rng = ctx.P, ctx.pop, ctx.rng
    if sized(buyers_by_chance, pop.n) is buyers_by_chance:
        # one compiled call, drawing what need and visit draw, in their order (sim.kernels.need_visit)
        buyers, st, own, trial_pos, trial_at = need_visit(
            rng, pop.trust, pop.stage, pop.merchant, F32(P.purchase_prob),
            F32(P.purchase_prob * P.loyal_extra_purchases), pop.m, float(F32(P.variety_seeking)),
            float(F32(P.variety_seeking / 2)), ORDINARY, TRUSTING)
    else:  # a large market: who buys is found on every core
        buyers = need(pop, P, rng)
        st = pop.stage[buyers]
        own, trial_pos, trial_at = visit(pop, buyers, P, rng, stage=st, positions=True)
    if len(trial_pos):
        idx, trial, st = buyers[own], buyers[trial_pos], st[own]
    else:
        idx, trial = buyers, trial_pos
    ctx.stats.purchases = len(buyers)
    w16 = pop.merchant[idx]
    loyal = st == LOYAL
    ctx.idx, ctx.trial, ctx.trial_at, ctx.st, ctx.w16, ctx.w = idx, trial, trial_at, st, w16, w16.astype(np.intp)
    ctx.loyal = loyal
    ctx.tolerance = loyal * F32(P.loyal_failure_tolerance) if loyal.any() else None


# ---- readable twins (one customer, plain Python) ----------------------------------------------
def get_older_one(c) -> None:
    """One step older: ``age`` and ``tenure`` grow, recent spend fades."""
    c.age += 1
    c.tenure += 1
    c.spend *= 0.9


def need_one(c) -> bool:
    """need — does this customer buy this period? Trust makes customers buy more often."""
    P = c.model.params
    return c.model.rng.random() < P.purchase_prob * (1 + P.loyal_extra_purchases * c.trust)


def visit_one(c) -> tuple[int, bool]:
    """Where it buys: its own merchant or — variety seeking — another one for once (ordinary
    customers with chance ``variety_seeking``, trusting ones half as often, loyal ones never)."""
    P, m, r = c.model.params, len(c.heard), c.model.rng
    if m > 1 and P.variety_seeking > 0:
        chance = {ORDINARY: P.variety_seeking, TRUSTING: P.variety_seeking / 2}.get(c.stage, 0.0)
        if r.random() < chance:
            other = int(r.integers(m - 1))
            return other + (other >= c.merchant), True
    return c.merchant, False
