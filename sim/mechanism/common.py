"""Helpers several mechanism steps share: per-merchant lookups, the price term, what a customer
anticipates of a merchant, normal draws and the logit choice, each beside its readable
one-customer twin (``*_one``) used by :mod:`sim.reference`."""

from __future__ import annotations

import math

import numpy as np

from ..network import bernoulli_positions
from .state import F32

__all__ = ["by_merchant", "price_term", "anticipated_quality", "anticipated_value", "standard_normal", "logit_choice", "bernoulli_positions",
           "clip", "price_term_one", "anticipated_value_one", "logit_choice_one"]


def by_merchant(values: np.ndarray, where):
    """``values[where]`` for a per-merchant table, or the common value as a scalar when every
    merchant has the same (the usual case for many policy fields; saves gathering it per buyer)."""
    if len(values) and (values == values[0]).all():
        return values[0]
    return values[where]


def price_term(price, expected_price, sens):
    """Value lost (or gained) by paying ``price`` against the expected price, weighted by ``sens``."""
    return sens * (price - expected_price) / expected_price


def anticipated_quality(T, P) -> np.ndarray:
    """The quality a customer expects of each merchant before buying there: its promise and its
    reputation blended by ``promise_weight`` (float32, one per merchant)."""
    return (P.promise_weight * T.promise + (1 - P.promise_weight) * T.reputation).astype(F32)


def anticipated_value(T, P, expected_price, sens):
    """What a customer expects one purchase from each merchant to be worth, before buying there.

    Returns an ``(k, m)`` array: the merchant's promise and its reputation blended by
    ``promise_weight``, less the price against the customer's expected price, less a quality doubt
    when the price is far below the expected price.
    """
    quality = anticipated_quality(T, P)  # (m,)
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


def logit_choice(U, noise: float, rng) -> np.ndarray:
    """Index of the option each row picks under a logit model with scale ``noise``
    (Gumbel-max: ``argmax(U/noise + Gumbel)``)."""
    u = rng.random(U.shape, dtype=F32)
    np.maximum(u, F32(1e-12), out=u)
    g = -np.log(-np.log(u))
    g += U / F32(noise)
    return np.argmax(g, axis=1)


# ---- readable twins (one customer, plain Python) ----------------------------------------------
def clip(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x


def price_term_one(price: float, expected_price: float, sens: float) -> float:
    """Value lost (or gained) by paying ``price`` against the expected price."""
    return sens * (price - expected_price) / expected_price


def anticipated_value_one(T, P, j: int, expected_price: float, sens: float) -> float:
    """What one purchase from merchant ``j`` should be worth, before buying there: its promise and
    reputation blended, less the price, less a quality doubt when the price is suspiciously low."""
    quality = P.promise_weight * T.promise[j] + (1 - P.promise_weight) * T.reputation[j]
    doubt = max(expected_price * (1 - P.price_doubt) - T.price_paid[j], 0.0) / expected_price
    return quality - price_term_one(T.price_paid[j], expected_price, sens) - doubt


def logit_choice_one(model, utilities: list[float]) -> int:
    """Pick option ``k`` with probability ∝ ``exp(U_k / choice_noise)`` (multinomial logit)."""
    top = max(utilities)
    weights = [math.exp((u - top) / model.params.choice_noise) for u in utilities]
    u = model.rng.random() * sum(weights)
    for k, wk in enumerate(weights):
        u -= wk
        if u < 0:
            return k
    return len(weights) - 1
