"""A — the service encounter: the quality each buyer receives (core quality and its spread, service
failures, Kano's must-be and excitement attributes).

Phase ``encounter`` of :data:`sim.model.SCHEDULE`; readable twin :func:`encounter_one`."""

from __future__ import annotations

import numpy as np

from ..kernels import encounter_pass
from ..network import bernoulli_positions
from .common import standard_normal
from .state import F32, Population, nonzero

__all__ = ["encounter", "encounter_phase", "encounter_one"]

_NONE = np.zeros(0, dtype=np.int64)  # no positions
_NO_DRAWS = np.zeros(0, dtype=F32)  # no uniforms


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
    # the draws, in the rule's order; then the arithmetic in one compiled pass (encounter_pass)
    z = standard_normal(rng, k)
    fp = T.failure_prob
    per_buyer = not (len(fp) and (fp == fp[0]).all())
    if per_buyer:
        failures, u = _NONE, rng.random(k, dtype=F32)
    else:
        # the same failure chance everywhere: find the failures by geometric skipping; given a
        # failure, u / failure_prob is uniform on [0, 1)
        failures = bernoulli_positions(k, float(fp[0]), rng)
        u = rng.random(len(failures), dtype=F32) if len(failures) else _NO_DRAWS
    bm = T.basic_missing
    if len(bm) and (bm == bm[0]).all():
        missing = bernoulli_positions(k, float(bm[0]), rng)
    else:
        missing = nonzero(rng.random(k, dtype=F32) < bm[where])
    return encounter_pass(buyers, where, z, T.sd, T.quality + T.tailoring, per_buyer, fp, u, failures,
                          T.failure_severity, missing, bool(excitement), T.excitement, pop.excite_expect)


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
