"""F — service recovery: each complaint is answered (resolved or not, after a delay), and the
answer is evaluated again when it lands (F → B, Cycle B, 乙循环): a successful recovery brings the
customer back to Cycle A, a botched one breaks trust.

Phases ``recover`` and ``cycle_b`` of :data:`sim.model.SCHEDULE`; readable twins
:func:`recover_one`, :func:`reevaluate_recovery_one`."""

from __future__ import annotations

import numpy as np

from .evaluation import evaluate, evaluate_one, felt, update_satisfaction
from .loyalty import become_loyal, intention, step_others_value
from .reinforcement import reinforce
from .state import CHURNED, EV, F32, LOYAL, R_RECOVERY, Population, count_up, nonzero
from .trust import accumulate_trust

__all__ = ["recover", "reevaluate_recoveries", "remedy_reference", "settle_grievance", "recover_phase", "cycle_b_phase", "recover_one",
           "reevaluate_recovery_one", "settle_grievance_one"]


def recover(pop: Population, idx, value, where, T, step: int, rng):
    """F — the merchant answers each complaint: resolved with chance ``recovery_prob``, after
    ``recovery_delay`` steps. The outcome is evaluated when it lands (:func:`reevaluate_recoveries`)."""
    ok = rng.random(len(idx), dtype=F32) < T.recovery_prob[where]
    pop.recovery_ok[idx] = ok
    pop.recovery_due[idx] = step + T.recovery_delay[where]
    pop.recovery_merchant[idx] = where
    pop.recovery_value[idx] = value


def reevaluate_recoveries(pop: Population, step: int, T, P):
    """F → B — Cycle B: customers whose recovery lands now evaluate it against their expectation.

    A resolved complaint restores the expected level plus the compensation, less ``recovery_decay``
    for each step of delay; a refused one leaves the failed encounter as it was. A remedy is felt
    against the expectation plus the share ``recovery_expected`` of the merchant's compensation (what
    the customer counted on getting, :func:`remedy_reference`); whether it fails the customer again
    (a shortfall) is judged against the expectation alone. Returns ``(idx, satisfaction, shortfall,
    surplus, success)``, or ``None`` if nobody is due.
    """
    due = nonzero(pop.recovery_due == step)
    if len(due) == 0:
        return None
    pop.recovery_due[due] = -1
    mer = pop.recovery_merchant[due]
    still = (pop.stage[due] > CHURNED) & (pop.merchant[due] == mer)
    due, mer = due[still], mer[still].astype(np.intp)
    if len(due) == 0:
        return None
    E = pop.expectation[due]
    delay = T.recovery_delay[mer].astype(F32)
    fixed = E + T.compensation[mer] - P.recovery_decay * delay
    value = np.where(pop.recovery_ok[due], np.maximum(fixed, pop.recovery_value[due]), pop.recovery_value[due])
    tol = (pop.stage[due] == LOYAL) * F32(P.loyal_failure_tolerance)
    s, short, surplus = evaluate(value.astype(F32), E, P, tol)
    if P.recovery_expected:  # felt against what it counted on; a new failure judged as before
        s = evaluate(value.astype(F32), remedy_reference(E, T.compensation[mer], pop.recovery_ok[due], P), P, tol)[0]
    success = pop.recovery_ok[due] & (short <= 0)
    count_up(pop.cycle_b, due)
    count_up(pop.recoveries, due)
    count_up(pop.recoveries_ok, due[success])
    pop.flags[due[success]] |= EV.RECOVERED
    pop.flags[due[~success]] |= EV.BOTCHED
    pop.txn_sat[due] = s
    return due, s, short, surplus, success


def remedy_reference(expectation, compensation, resolved, P):
    """F — what a complaining customer measures a remedy against: its expectation plus the share
    ``recovery_expected`` of the compensation its merchant gives, where the complaint is resolved (a
    refusal is measured against the expectation alone). A merchant that always compensates generously
    is known for it, and what is counted on delights less than what comes as a surprise."""
    return (expectation + F32(P.recovery_expected) * compensation * resolved).astype(F32)


def settle_grievance(pop: Population, idx, resolved, success, severity, delay, P) -> None:
    """What the answer to a complaint does to the grievance (:func:`sim.mechanism.complaints.aggrieve`)
    of customers ``idx``: a complaint resolved to the customer's satisfaction (``success``) removes
    it, all of it when answered within the step and less for each step it took
    (``recovery_residue`` per step); a refused one (not ``resolved``) removes only ``heard_relief``
    of it (the customer was heard); a remedy that still falls short fails the customer again, a
    new problem of ``severity``."""
    g = pop.grievance[idx]
    left = np.minimum(F32(P.recovery_residue) * delay.astype(F32), F32(1))
    g = np.where(success, g * left, g)
    g = np.where(resolved, g, g * F32(1 - P.heard_relief))
    again = resolved & ~success
    if again.any():
        add = severity[again] ** F32(P.grievance_curvature)
        g[again] = 1 - (1 - g[again]) * (1 - add)
    pop.grievance[idx] = g


def recover_phase(ctx) -> None:
    """F: the merchant answers each complaint voiced this step (:func:`recover`)."""
    voiced = ctx.voiced
    recover(ctx.pop, ctx.d_idx[voiced], ctx.v[ctx.dis_pos][voiced], ctx.d_w[voiced], ctx.T, ctx.t, ctx.rng)


def cycle_b_phase(ctx) -> None:
    """F → B — Cycle B: recoveries that land now are evaluated again (:func:`reevaluate_recoveries`),
    with their consequences: satisfaction (a remedy is a new encounter), reinforcement and trust,
    stages. Sets ``ctx.botched`` (places whose recovery was botched), ``ctx.botched_refused`` (a
    mask over them: refused outright) and ``ctx.recovered_m`` (the merchant of each resolved
    complaint, which pays its compensation); a buyer of this step whose recovery landed too has its
    carried values (``ctx.S``, ``ctx.tr``, ``ctx.st``) brought up to date."""
    P, pop, T, stats = ctx.P, ctx.pop, ctx.T, ctx.stats
    idx, S, tr, st = ctx.idx, ctx.S, ctx.tr, ctx.st
    res = reevaluate_recoveries(pop, ctx.t, T, P)
    botched = np.zeros(0, dtype=np.int64)
    botched_refused = np.zeros(0, dtype=bool)
    recovered_m = np.zeros(0, dtype=np.intp)
    if res is not None:
        r_idx, r_s, r_short, _, ok = res
        r_w = pop.merchant[r_idx].astype(np.intp)
        # a refused complaint leaves the failed encounter as it was, already counted: nothing new
        # to evaluate. A remedy is a new encounter: a successful one a positive reinforcement
        # (back to Cycle A); one that still falls short fails the customer a second time, a
        # negative of at least half severity
        refused = ~pop.recovery_ok[r_idx]
        remedied = nonzero(~refused)
        r_f = felt(pop, r_idx, r_s, T, P)
        update_satisfaction(pop, r_idx[remedied], r_f[remedied], P)
        r_gain = reinforce(pop, r_idx, r_f, ok, T, r_w, P)
        np.minimum(r_gain, F32(0.5), out=r_gain)  # back to Cycle A: an ordinary pass for trust
        again = np.maximum(np.minimum(r_short / F32(P.severity_scale), F32(1)), F32(0.5))  # a second failure
        settle_grievance(pop, r_idx, ~refused, ok, again, T.recovery_delay[r_w], P)
        again[ok | refused] = 0
        accumulate_trust(pop, r_idx, r_gain, again, P)
        stats.cycle_b = stats.recoveries = len(r_idx)
        stats.recoveries_ok = int(ok.sum())
        stats.add_at("recoveries", r_w)  # Cycle B passes, at the merchant that answered
        stats.add_at("recoveries_ok", r_w[ok])
        botched = r_idx[~ok]
        botched_refused = refused[~ok]
        recovered_m = r_w[pop.recovery_ok[r_idx]]  # every resolved complaint costs compensation
        become_loyal(pop, r_idx, P, stats)
        # the answer is known: the intention to buy again is formed anew
        intention(pop, r_idx, r_w, T, P, ctx.model.mean_expectation, others=step_others_value(ctx))
        # buyers (at their own merchant) whose recovery landed too: carry their new state
        fl = pop.flags[r_idx] & (EV.PURCHASE | EV.TRIED_OTHER)
        places = r_idx[fl == EV.PURCHASE]
        if len(places):
            at = np.searchsorted(idx, places)
            S[at], tr[at], st[at] = pop.satisfaction[places], pop.trust[places], pop.stage[places]
    ctx.botched, ctx.botched_refused, ctx.recovered_m = botched, botched_refused, recovered_m


# ---- readable twins (one customer, plain Python) ----------------------------------------------
def recover_one(c, j: int, value: float) -> None:
    """F — merchant ``j`` answers the complaint: resolved with chance ``recovery_prob``, landing
    after ``recovery_delay`` steps, when it is evaluated again (:func:`reevaluate_recovery_one`)."""
    T = c.model.policies
    c.recovery_ok = c.model.rng.random() < T.recovery_prob[j]
    c.recovery_due = c.model.steps + T.recovery_delay[j]
    c.recovery_merchant, c.recovery_value = j, value


def reevaluate_recovery_one(c) -> bool:
    """F → B — Cycle B: a resolved complaint restores the expected level plus compensation, less
    ``recovery_decay`` per step of delay; a refused one leaves the failed encounter as it was. The
    remedy is felt against what the customer counted on (:func:`remedy_reference`).
    Success (resolved and no shortfall) is a positive reinforcement, back to Cycle A; otherwise
    the recovery is botched: trust breaks, and an angry customer talks and looks around."""
    model, P, T = c.model, c.model.params, c.model.policies
    c.recovery_due = -1
    j = c.recovery_merchant
    if j != c.merchant:
        return False
    fixed = c.expectation + T.compensation[j] - P.recovery_decay * T.recovery_delay[j]
    value = max(fixed, c.recovery_value) if c.recovery_ok else c.recovery_value
    tolerance = P.loyal_failure_tolerance if c.stage == LOYAL else 0.0
    s, short, _ = evaluate_one(value, c.expectation, P, tolerance)
    if P.recovery_expected:  # felt against what it counted on; a new failure judged as before
        s = evaluate_one(value, remedy_reference(c.expectation, T.compensation[j], c.recovery_ok, P), P, tolerance)[0]
    success = c.recovery_ok and short <= 0
    c.cycle_b += 1
    c.recoveries += 1
    c.txn_sat = s
    if c.recovery_ok:  # a remedy is a new encounter; a refusal leaves the failed one as it was
        c.remember(c.felt(s))
    model.stats.cycle_b += 1
    model.stats.recoveries += 1
    model.stats.add_at("recoveries", j)
    severity = max(min(short / P.severity_scale, 1.0), 0.5)  # of a remedy that still falls short
    c.settle_grievance(c.recovery_ok, success, severity, T.recovery_delay[j])
    if c.recovery_ok:
        model.compensated[j] += 1  # every resolved complaint costs the merchant its compensation
    if success:
        c.recoveries_ok += 1
        c.flags |= EV.RECOVERED
        model.stats.recoveries_ok += 1
        model.stats.add_at("recoveries_ok", j)
        # back to Cycle A: for trust an ordinary pass (0.5), whatever the compensation's delight
        c.accumulate_trust(min(c.reinforce(c.felt(s), j), 0.5), 0.0)
    else:
        # botched: a refused complaint leaves the failed encounter as it was (already counted); a
        # remedy that still falls short fails the customer a second time (at least half severity).
        # A customer who was heard but refused compares less often (voice_relief).
        c.flags |= EV.BOTCHED
        if c.recovery_ok:
            c.accumulate_trust(0.0, max(min(short / P.severity_scale, 1.0), 0.5))
        model.messages.append((c, j, min(1.0, P.wom_negative * P.wom_botched_boost), -1))
        chance = P.reconsider_dissatisfied * ((1 - P.voice_relief) if not c.recovery_ok else 1.0)
        model.unhappy.append((c, R_RECOVERY, chance))
    return True


def settle_grievance_one(c, resolved: bool, success: bool, severity: float, delay: int) -> None:
    """The answer to a complaint and the grievance: a successful remedy removes it (less for each
    step it took), a refusal only a little (the customer was heard), a remedy that still falls
    short adds a new problem of ``severity``."""
    P = c.model.params
    if success:
        c.grievance *= min(P.recovery_residue * delay, 1.0)
    elif not resolved:
        c.grievance *= 1 - P.heard_relief
    else:
        c.grievance = 1 - (1 - c.grievance) * (1 - severity**P.grievance_curvature)
