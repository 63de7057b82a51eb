"""Word of mouth: the delighted recommend, and a satisfied buyer recommends with chance
``wom_loyal · trust``; the silent dissatisfied, failed trials and (louder) botched recoveries warn.
Each speaker tells each contact on the social network with its chance; what was heard fades.

Phase ``word_of_mouth`` of :data:`sim.model.SCHEDULE`; readable twin
:func:`spread_word_of_mouth_readable` (and the recommending in :meth:`sim.reference.Customer.step`)."""

from __future__ import annotations

import numpy as np

from ..kernels import tell
from ..network import Network, deliver
from .common import clip
from .state import CHURNED, EV, F32, Population, StepStats, nonzero

__all__ = ["spread_word_of_mouth", "word_of_mouth_phase", "spread_word_of_mouth_readable"]


def spread_word_of_mouth(pop: Population, net: Network, pos_speakers, pos_about, pos_prob,
                         neg_speakers, neg_about, neg_prob, P, rng, stats: StepStats):
    """Delighted and loyal customers recommend; dissatisfied customers whose problem was not put
    right warn, more often per person; each message moves the listener's view of that merchant by
    ``wom_impact`` (bounded to ±1). What was heard fades by ``wom_memory`` per step."""
    if P.wom_memory < 1:
        pop.heard *= F32(P.wom_memory)
    flat = pop.heard.reshape(-1)
    m = pop.m
    for speakers, about, prob, sign in ((pos_speakers, pos_about, pos_prob, 1.0),
                                        (neg_speakers, neg_about, neg_prob, -1.0)):
        if len(speakers) == 0:
            continue
        pos, listeners = deliver(net, speakers, prob, rng)
        told = tell(flat, m, pop.stage, pop.flags, listeners, pos, about, F32(sign * P.wom_impact),
                    np.uint32(EV.HEARD_GOOD if sign > 0 else EV.HEARD_BAD), CHURNED)
        if sign > 0:
            stats.wom_positive += told
            stats.wom_positive_speakers += len(speakers)
        else:
            stats.wom_negative += told
            stats.wom_negative_speakers += len(speakers)


def word_of_mouth_phase(ctx) -> None:
    """Who speaks this step, about which merchant and with what chance per contact, then
    :func:`spread_word_of_mouth`."""
    P, pop, rng, idx, w = ctx.P, ctx.pop, ctx.rng, ctx.idx, ctx.w
    # word of mouth: the delighted recommend, and a satisfied buyer recommends with chance
    # wom_loyal · trust; each recommender tells each contact with chance wom_positive. Warnings
    # from the silent dissatisfied, from failed trials and (louder) from botched recoveries
    if P.wom_loyal > 1e-30:
        u = rng.random(len(idx), dtype=F32)
        u *= F32(1 / P.wom_loyal)  # u / wom_loyal < trust: chance wom_loyal · trust
        speak = u < ctx.tr
        speak &= ctx.sat
    else:
        speak = np.zeros(len(idx), dtype=bool)
    speak[ctx.del_pos] = True
    pos_pos = nonzero(speak)
    pos_prob = F32(P.wom_positive)
    silent_pos, trial, trial_at = ctx.silent_pos, ctx.trial, ctx.trial_at
    trial_bad, botched = ctx.trial_bad, ctx.botched
    neg_speakers = np.concatenate([idx[silent_pos], trial[trial_bad], botched])
    neg_about = np.concatenate([w[silent_pos], trial_at[trial_bad], pop.merchant[botched].astype(np.intp)])
    neg_prob = np.full(len(neg_speakers), P.wom_negative, dtype=F32)
    neg_prob[len(neg_speakers) - len(botched):] = min(1.0, P.wom_negative * P.wom_botched_boost)
    spread_word_of_mouth(pop, ctx.network, idx[pos_pos], w[pos_pos], pos_prob,
                         neg_speakers, neg_about, neg_prob, P, rng, ctx.stats)


# ---- readable twin ------------------------------------------------------------------------------
def spread_word_of_mouth_readable(model, customers: list) -> None:
    """What was heard fades by ``wom_memory``. Then recommendations, then warnings: each speaker
    tells each contact with its chance, moving the listener's view of the merchant by
    ``wom_impact``; after each round a view is bounded to ±1."""
    P, stats = model.params, model.stats
    for c in customers:
        c.heard = [h * P.wom_memory for h in c.heard]
    for sign, kind in ((+1, "positive"), (-1, "negative")):
        speakers = [msg for msg in model.messages if msg[3] == sign]
        touched, told = set(), 0
        for speaker, about, chance, _ in speakers:
            for place in model.contacts[speaker.place]:
                listener = model.places[place]
                if model.rng.random() < chance and listener is not None and listener.stage != CHURNED:
                    listener.heard[about] += sign * P.wom_impact
                    listener.flags |= EV.HEARD_GOOD if sign > 0 else EV.HEARD_BAD
                    touched.add((listener, about))
                    told += 1
        for listener, about in touched:
            listener.heard[about] = clip(listener.heard[about], -1.0, 1.0)
        setattr(stats, f"wom_{kind}", told)
        setattr(stats, f"wom_{kind}_speakers", len(speakers))
