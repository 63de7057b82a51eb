"""Paying for a purchase: recent spend, value realised, share of wallet and the behavioural facet
of loyalty; and trial purchases at another merchant (variety seeking), which only inform the
customer's view of the merchant tried.

Phases ``pay`` and ``trial`` of :data:`sim.model.SCHEDULE`; readable twins :func:`pay_one`,
:func:`raise_share_of_wallet_one`, :func:`try_other_one`."""

from __future__ import annotations

import numpy as np

from ..kernels import pay_pass, sized, trial_pass
from .common import clip
from .encounter import encounter
from .evaluation import evaluate_one
from .state import EV, F32, LOYAL

__all__ = ["pay_phase", "trial_phase", "pay_one", "raise_share_of_wallet_one", "try_other_one"]


def pay_phase(ctx) -> None:
    """Buyers at their own merchant pay (``spend``, ``value_realised``; ``ctx.units`` products served
    once any customer holds more than one); share of wallet rises for them and falls for those
    trying another merchant; the behavioural facet is the share of wallet damped by a short tenure:
    ``wallet · tenure / (tenure + 10)``."""
    pop, idx, multi = ctx.pop, ctx.idx, ctx.multi
    # (compiled: one pass; the products served at this purchase are read only once someone holds several)
    sized(pay_pass, len(idx))(idx, ctx.price, ctx.trial, pop.products, multi, pop.spend, pop.value_realised,
                              pop.wallet, pop.tenure, pop.behavioural)
    ctx.units = pop.products[idx].astype(F32) if multi else None


def trial_phase(ctx) -> None:
    """Trial purchases (A and B at the merchant tried) only inform the customer's view of that
    merchant (``heard``); a bad one is talked about (``ctx.trial_bad``, read by word of mouth).
    Sets ``ctx.tunits``, the products each trial served."""
    P, pop, rng, T, trial, trial_at = ctx.P, ctx.pop, ctx.rng, ctx.T, ctx.trial, ctx.trial_at
    trial_bad = np.zeros(0, dtype=np.intp)
    tunits = pop.products[trial].astype(F32) if ctx.multi else np.ones(len(trial), dtype=F32)
    if len(trial):
        tq, _ = encounter(pop, trial, trial_at, T, rng, ctx.excitement)
        # (compiled: perceive and evaluate at the merchant tried, what the customer now thinks of it,
        # the spend; one pass)
        trial_bad = trial_pass(trial, trial_at, tq, tunits, pop.expected_price, pop.price_sens, pop.stage, LOYAL,
                               F32(1 - P.loyal_price_tolerance), T.price_paid, pop.expectation,
                               F32(P.zone_of_tolerance / 2), F32(P.zone_slope), F32(P.gain_sensitivity),
                               -F32(P.gain_sensitivity) * F32(P.loss_aversion), F32(P.diminishing_sensitivity),
                               pop.heard, pop.spend)
    ctx.trial_bad, ctx.tunits = trial_bad, tunits


# ---- readable twins (one customer, plain Python) ----------------------------------------------
def pay_one(c, j: int, quality: float | None) -> float:
    """Pay for the purchase; the merchant's books note it (``quality`` feeds its reputation)."""
    paid = c.model.policies.price_paid[j] * c.products
    c.spend += 0.1 * paid
    c.model.visits.append((j, paid, c.products, quality))
    return paid


def raise_share_of_wallet_one(c) -> None:
    """A purchase at its own merchant: share of wallet rises; the behavioural facet is the share of
    wallet damped by a short tenure."""
    c.wallet += 0.1 * (1 - c.wallet)
    c.behavioural = c.wallet * c.tenure / (c.tenure + 10)


def try_other_one(c, j: int) -> None:
    """Variety seeking: a purchase from merchant ``j`` only informs the view of ``j``; a bad one
    is talked about."""
    P = c.model.params
    s, short, _ = evaluate_one(c.perceive(j, c.encounter(j)[0]), c.expectation, P)
    c.pay(j, None)
    c.wallet -= 0.1 * c.wallet  # share of wallet falls
    c.heard[j] = clip(c.heard[j] + clip(s - 0.5, -0.5, 0.5), -1.0, 1.0)
    c.flags |= EV.TRIED_OTHER
    if short > 0:
        c.model.messages.append((c, j, P.wom_negative, -1))
