"""C/D — satisfied: positive reinforcement, one more pass of Cycle A (甲循环); the affective facet
moves toward how good the encounter felt.

Phase ``reinforce`` of :data:`sim.model.SCHEDULE`; readable twin :func:`reinforce_one`."""

from __future__ import annotations

from ..kernels import reinforce_pass, sized
from .common import clip
from .state import COUNT_MAX, Population

__all__ = ["reinforce", "reinforce_phase", "reinforce_one"]


def reinforce(pop: Population, idx, s, satisfied, T, where, P):
    """C/D — satisfied customers (mask ``satisfied`` over ``idx``): one more pass of Cycle A, and
    the affective facet moves toward how good the encounter felt (``s``, :func:`felt`; plus what a
    social or customised programme adds).

    Returns the strength of the positive reinforcement per customer (0 when not satisfied, 0.5 when
    expectations are just met, up to 1 for delight), used by :func:`accumulate_trust`.
    """
    # (compiled: one pass)
    return sized(reinforce_pass, len(idx))(idx, s, satisfied, where, T.affective, pop.cycle_a, pop.affective,
                                           COUNT_MAX)


def reinforce_phase(ctx) -> None:
    """C/D for the satisfied buyers (``ctx.sat``): sets ``ctx.gain``, the strength of each one's
    positive reinforcement (0 for the dissatisfied)."""
    ctx.gain = reinforce(ctx.pop, ctx.idx, ctx.f, ctx.sat, ctx.T, ctx.w, ctx.P)
    ctx.stats.cycle_a = ctx.stats.satisfied


# ---- readable twin ------------------------------------------------------------------------------
def reinforce_one(c, s: float, j: int) -> float:
    """C/D — one more pass of Cycle A; the affective facet moves toward how good the encounter
    felt (plus what a social or customised programme adds). Returns the reinforcement's strength
    for G: 0.5 when expectations are just met, up to 1 for delight."""
    c.cycle_a += 1
    target = clip(2 * (s - 0.5) + 0.5, 0.0, 1.0) + c.model.policies.affective[j]
    c.affective += 0.1 * (min(target, 1.0) - c.affective)
    return clip(0.5 + 2.5 * (s - 0.5), 0.5, 1.0)
