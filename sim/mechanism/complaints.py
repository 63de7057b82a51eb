"""E — dissatisfied: negative reinforcement; the problem leaves a grievance; the customer complains
(voice) or stays silent.

Phase ``complain`` of :data:`sim.model.SCHEDULE`; readable twin :func:`complain_one`."""

from __future__ import annotations

import numpy as np

from ..kernels import aggrieve_pass, sized, voice_pass
from .state import COUNT_MAX, EV, F32, Population, count_up

__all__ = ["complain", "voice_centre", "voice_shift", "aggrieve", "complain_phase", "complain_one", "aggrieve_one"]


def complain(pop: Population, idx, severity, where, T, P, rng) -> np.ndarray:
    """E — which dissatisfied customers complain (mask over ``idx``).

    The chance rises steeply with severity, from ``complaint_minor`` (about 1 in 25) to
    ``complaint_major``: ``p = minor + (major − minor) · severity^curvature``, times the
    customer's own propensity; an easy channel (``complaint_ease``) removes up to half of the
    remaining reluctance. Customers whose merchant suits them well speak up more (``voice_fit``, see
    :func:`voice_shift`). A customer still waiting for the answer to an earlier complaint does not
    complain again: its new problem stays unvoiced.
    """
    u = rng.random(len(idx), dtype=F32)
    # (compiled: one pass)
    return voice_pass(idx, severity, where, u, pop.complaint_prop, T.complaint_ease, F32(P.complaint_minor),
                      F32(P.complaint_major - P.complaint_minor), F32(P.complaint_curvature), pop.fit,
                      F32(P.voice_fit), F32(voice_centre(P)), pop.recovery_due, pop.complaints, pop.flags,
                      np.uint32(EV.COMPLAINED), COUNT_MAX)


def voice_centre(P) -> float:
    """What :func:`complain` takes off the log-odds of complaining with ``voice_fit``, so that the
    average chance stays what the complaint rates say: fit is normal with sd ``fit_spread``, and
    ``E[exp(k·fit)] = exp(k²·sd²/2)``, so shifting the log-odds by ``k·fit − k²·sd²/2`` keeps the average
    odds — and for a rare complaint (a minor problem) the average chance — as they were."""
    return 0.5 * (P.voice_fit * P.fit_spread) ** 2


def voice_shift(p: float, fit: float, P) -> float:
    """E — the chance ``p`` of complaining of a customer of ``fit``, moved on its log-odds by
    ``voice_fit · fit − voice_centre``: customers who lose more by leaving (their merchant suits them
    well) use voice rather than exit. A chance of 0 or 1 stays as it is."""
    if P.voice_fit == 0 or not 0 < p < 1:
        return p
    return 1 / (1 + (1 - p) / p * np.exp(voice_centre(P) - P.voice_fit * fit))


def aggrieve(pop: Population, idx, severity, P) -> None:
    """Grievances of this step's buyers ``idx`` at their own merchant: every purchase fades the old
    one (``grievance_memory``), unless a complaint is still waiting for its answer (the matter is
    open); a problem — a service failure (something went wrong, :func:`encounter`)
    that left the customer dissatisfied — of ``severity`` > 0 adds ``severity ** grievance_curvature``
    to what is left, ``g ← 1 − (1 − g)·(1 − severity^c)``, so that it stays between 0 and 1. A
    grievance outlasts the moving average of satisfaction: it is what the customer remembers of a
    problem until the merchant puts it right (:func:`sim.mechanism.recovery.settle_grievance`)."""
    # (compiled: one pass)
    sized(aggrieve_pass, len(idx))(idx, severity, pop.recovery_due, pop.grievance, F32(P.grievance_memory),
                                   F32(P.grievance_curvature))


def complain_phase(ctx) -> None:
    """E for the dissatisfied buyers (``ctx.dis_pos``): the severity of each failure
    (``ctx.severity``, shortfall / ``severity_scale``, at most 1), failures counted, and who
    complains (``ctx.voiced``, over ``ctx.d_idx``, the dissatisfied buyers' places; the others stay silent,
    ``ctx.silent_pos``); every buyer's grievance is faded and the problem's added (:func:`aggrieve`)."""
    P, pop, idx, w, dis_pos = ctx.P, ctx.pop, ctx.idx, ctx.w, ctx.dis_pos
    severity = np.zeros(len(idx), dtype=F32)
    severity[dis_pos] = np.minimum(ctx.short[dis_pos] / F32(P.severity_scale), F32(1))
    d_idx, d_w = idx[dis_pos], w[dis_pos]
    count_up(pop.failures, d_idx)
    aggrieve(pop, idx, np.where(ctx.failed, severity, F32(0)), P)  # a failure that hurt leaves a grievance
    voiced = complain(pop, d_idx, severity[dis_pos], d_w, ctx.T, P, ctx.rng)
    ctx.stats.complaints = int(voiced.sum())
    ctx.stats.add_at("complaints", d_w[voiced])
    ctx.severity, ctx.d_idx, ctx.d_w, ctx.voiced = severity, d_idx, d_w, voiced
    ctx.silent_pos = dis_pos[~voiced]  # (positions among the buyers) the dissatisfied who stay silent


# ---- readable twin ------------------------------------------------------------------------------
def complain_one(c, severity: float, j: int) -> bool:
    """E — complaining rises steeply with severity, from about 1 in 25 (minor) to
    ``complaint_major``; an easy channel removes up to half the remaining reluctance. A customer
    still waiting for the answer to an earlier complaint does not complain again. Customers whose
    merchant suits them well speak up more (:func:`voice_shift`)."""
    P = c.model.params
    if c.recovery_due >= 0:
        return False
    p = P.complaint_minor + (P.complaint_major - P.complaint_minor) * severity**P.complaint_curvature
    p = min(p * c.complaint_prop, 1.0)
    p += 0.5 * c.model.policies.complaint_ease[j] * (1 - p)
    p = voice_shift(p, c.fit, P)
    voiced = c.model.rng.random() < p
    if voiced:
        c.complaints += 1
        c.flags |= EV.COMPLAINED
        c.model.stats.complaints += 1
        c.model.stats.add_at("complaints", j)
    return voiced


def aggrieve_one(c, severity: float) -> None:
    """A purchase fades the grievance against the merchant (not while a complaint is waiting for
    its answer); a problem (a failure that left the
    customer dissatisfied; ``severity`` 0 otherwise) adds ``severity ** c`` to what is left (kept
    between 0 and 1)."""
    P = c.model.params
    g = c.grievance * (P.grievance_memory if c.recovery_due < 0 else 1.0)  # an open complaint keeps it
    if severity > 0:
        g = 1 - (1 - g) * (1 - severity**P.grievance_curvature)
    c.grievance = g
