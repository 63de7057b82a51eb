"""A — the service encounter: the quality each buyer receives (core quality and its spread, service
failures, Kano's must-be and excitement attributes).

Phase ``encounter`` of :data:`sim.model.SCHEDULE`; readable twin :func:`encounter_one`."""

from __future__ import annotations

import numpy as np

from ..network import bernoulli_positions
from .common import by_merchant, standard_normal
from .state import F32, Population, nonzero

__all__ = ["encounter", "encounter_phase", "encounter_one"]


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
        f = nonzero(failed)
        if len(f):
            wf = where[f]
            q[f] -= T.failure_severity[wf] * (F32(0.5) + u[f] / fp[f])
    bm = T.basic_missing
    if len(bm) and (bm == bm[0]).all():
        missing = bernoulli_positions(k, float(bm[0]), rng)
    else:
        missing = nonzero(rng.random(k, dtype=F32) < bm[where])
    if len(missing):
        q[missing] -= F32(0.3)
        failed[missing] = True
    if excitement:
        q += by_merchant(T.excitement, where) - pop.excite_expect[buyers]
    return q, failed


def encounter_phase(ctx) -> None:
    """A for this step's buyers at their own merchant: sets ``ctx.quality`` and ``ctx.failed``
    (something went wrong: a service failure or a missing must-be attribute)."""
    ctx.quality, ctx.failed = encounter(ctx.pop, ctx.idx, ctx.w, ctx.T, ctx.rng, ctx.excitement)


# ---- readable twin ------------------------------------------------------------------------------
def encounter_one(c, j: int) -> tuple[float, bool]:
    """A — the quality received: core quality (plus a customised programme's tailoring), a
    service failure, Kano's must-be attribute, and the excitement attribute *minus what the
    customer has come to expect of it* (delight fades into expectation). Returns ``(quality,
    failed)``: whether something went wrong (a service failure or a missing must-be attribute)."""
    T, r = c.model.policies, c.model.rng
    quality = T.quality[j] + T.tailoring[j] + T.sd[j] * r.standard_normal()
    failed = False
    if r.random() < T.failure_prob[j]:
        quality -= T.failure_severity[j] * float(r.uniform(0.5, 1.5))
        failed = True
    if r.random() < T.basic_missing[j]:
        quality -= 0.3
        failed = True
    return quality + T.excitement[j] - c.excite_expect, failed
