"""G — trust, the bottleneck: it grows slowly with positive reinforcement and falls fast with
negative.

Phase ``trust`` of :data:`sim.model.SCHEDULE`; readable twin :func:`accumulate_trust_one`."""

from __future__ import annotations

from ..kernels import sized, trust_pass
from .common import clip
from .state import F32, Population

__all__ = ["accumulate_trust", "trust_phase", "accumulate_trust_one"]


def accumulate_trust(pop: Population, idx, gain_strength, loss_severity, P):
    """G — trust grows slowly with positive reinforcement and falls fast with negative.

    ``trust += trust_gain · strength · (1 − trust) − trust_loss · severity · trust``: gains shrink
    as trust nears 1, losses are proportional to what there is to lose, and ``trust_loss`` is
    several times ``trust_gain`` — lost faster than built. Returns the new trust.
    """
    # (compiled: one pass)
    return sized(trust_pass, len(idx))(idx, gain_strength, loss_severity, pop.trust, F32(P.trust_gain),
                                       F32(P.trust_loss))


def trust_phase(ctx) -> None:
    """G for this step's buyers: the positive reinforcement (``ctx.gain``) and the severity of the
    negative one (``ctx.severity``) move trust; sets ``ctx.tr``."""
    ctx.tr = accumulate_trust(ctx.pop, ctx.idx, ctx.gain, ctx.severity, ctx.P)


# ---- readable twin ------------------------------------------------------------------------------
def accumulate_trust_one(c, strength: float, severity: float) -> None:
    """G — the bottleneck: trust grows slowly with positive reinforcement (a share of what is
    still missing) and falls fast with negative (a share of what there is to lose)."""
    P, t = c.model.params, c.trust
    c.trust = clip(t + P.trust_gain * strength * (1 - t) - P.trust_loss * severity * t, 0.0, 1.0)
