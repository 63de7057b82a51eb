"""Compiled loops behind the fast path (Numba).

Where a step's work is many numpy passes over the same few values, each pass costs a call into
numpy and a temporary array; at the sizes most runs use (a few thousand customers) those calls are
most of a step. The loops here do the same arithmetic in one compiled pass, drawing from the
model's own ``numpy.random.Generator`` in the same order and with the same algorithms as the numpy
code they replace (the draws are made by numpy and handed in: handing a ``Generator`` itself to
compiled code costs 7–14 µs a call, measured on two machines), so a seed gives bit-for-bit the
results it gave before (``tests/golden``), and the readable reference (:mod:`sim.reference`)
stays the oracle for what the rules mean.

Compiled code is cached beside this file (``__pycache__``) the first time it runs, so only the
first run on a machine pays for compiling (``benchmarks/engine.py`` reports the start-up).
Set ``NUMBA_DISABLE_JIT=1`` to run these loops as plain Python (slow, for debugging).
"""

from __future__ import annotations

import math
import types

import numba
import numpy as np
from numba import njit, prange

__all__ = ["sized", "CHUNK", "PARALLEL_FROM", "population_pass_chunks", "buyers_by_chance_chunks", "evaluate_buyers_chunks", "geometric_chunk", "chunk_size", "pair_count", "pair_listeners", "tell", "zone_evaluate", "trial_pass", "population_pass", "evaluate_buyers", "choice_utilities", "merged", "comparers", "relationship_start", "follow_trust", "encounter_pass", "pay_pass", "reinforce_pass", "trust_pass", "aggrieve_pass", "voice_pass", "stay_logit", "logistic_store", "grow_pass", "expect_pass", "buyers_by_chance", "two_groups", "split_trials", "get_older", "bernoulli_draw", "need_visit"]

#: the mechanism functions (:mod:`sim.mechanism`) a compiled pass carries out in place of calling
#: them, in order: docs/ODD.md's schedule names them for the phase that runs the pass, and
#: ``tests/test_docs.py`` reads a call to the pass as calls to these
FUSES = {
    "evaluate_buyers": ("notice_price_rise", "perceive", "evaluate", "judge_value", "felt", "update_satisfaction"),
    "choice_utilities": ("anticipated_value", "evaluate", "stay_utility", "value_stay_utility", "switching_cost"),
    "relationship_start": ("anticipated_value", "price_term", "switching_cost_base"),
    "stay_logit": ("stay_utility", "switching_cost", "points_cost"),
    "trial_pass": ("perceive", "evaluate"),
    "need_visit": ("need", "visit"),
}


@njit(cache=True, nogil=True, error_model="numpy")
def geometric_chunk(u, lq, last, total):
    """One chunk of geometric skipping (:func:`sim.network.bernoulli_positions`): from the
    uniforms ``u`` on [0, 1), the gaps ``1 + floor(log(1 − u) / lq)`` (``lq = log(1 − p)``) laid
    end to end after position ``last``. Returns the positions below ``total`` and the last position
    reached (which may lie beyond it)."""
    cap = float(total)
    out = np.empty(len(u), dtype=np.int64)
    k = 0
    pos = last
    for j in range(len(u)):
        gap = math.log1p(-u[j]) / lq
        if gap > cap:  # (a tiny p makes gaps beyond any int64)
            gap = cap
        pos += np.int64(gap) + 1
        if pos < total:
            out[k] = pos
            k += 1
    return out[:k], pos


@njit(cache=True, nogil=True, error_model="numpy")
def chunk_size(left, p):
    """How many uniforms the next chunk of geometric skipping draws for ``left`` trials of chance
    ``p`` (:func:`sim.network.bernoulli_positions`, :func:`bernoulli_draw`): enough to cover them
    with room to spare, so that one chunk nearly always does, and at least 64."""
    return int(max(64.0, left * p * 1.1 + 4 * math.sqrt(left * p)))


@njit(cache=True, nogil=True, error_model="numpy")
def pair_count(degree, speakers):
    """How many (speaker, contact) pairs the speakers (places) have: the sum of their degrees."""
    total = 0
    for i in range(len(speakers)):
        total += degree[speakers[i]]
    return total


#: places per block of the network's offset tables (:class:`sim.network.Network`)
BLOCK = 32

_BITS = np.array([bin(b).count("1") for b in range(256)], dtype=np.int64)  # bits set in each byte


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _bits(x):
    """How many bits of ``x`` (at most 32 of them, x ≥ 0) are set."""
    v = np.int64(x)
    return _BITS[v & 255] + _BITS[(v >> 8) & 255] + _BITS[(v >> 16) & 255] + _BITS[(v >> 24) & 255]


@njit(cache=True, nogil=True, error_model="numpy")
def pair_listeners(degree, speakers, positions, told, n, half, rewired, out_block, out_to, in_block, in_to,
                   in_from, in_j):
    """For the told pairs (sorted positions among the speakers' (speaker, contact) pairs laid end
    to end in speaker order): the ``positions`` entry of each pair's speaker and its contact.

    A speaker ``c``'s contacts, in the network's order (:class:`sim.network.Network`): the targets
    of its own ties first (``k`` < ``half``: ``c + k + 1`` unless rewired), then the ties reaching it
    by (owning place, tie number) — the lattice ties of the places just before it that were not
    rewired away, merged with the rewired ties that landed on it. (Written out in this one loop: a
    call per pair to a function of the network's arrays would cost more than the pair's work.)"""
    who = np.empty(len(told), dtype=np.int64)
    heard_by = np.empty(len(told), dtype=np.int64)
    if len(told) == 0:
        return who, heard_by
    i = 0
    begin = 0  # first pair of speaker i
    c = speakers[0]
    end = np.int64(degree[c])
    first_in = -1  # the speaker's first rewired tie landing on it, once looked up
    for q in range(len(told)):
        t = told[q]
        while t >= end:
            i += 1
            begin = end
            c = speakers[i]
            end = begin + degree[c]
            first_in = -1
        who[q] = positions[i]
        k = t - begin
        out = -1
        if k < half:  # its own k-th tie
            mask = rewired[c]
            if (mask >> k) & 1 == 0:
                out = c + k + 1
                if out >= n:
                    out -= n
            else:  # rewired: count the rewired ties before it
                b = c // BLOCK
                at = out_block[b]
                for p in range(b * BLOCK, c):
                    at += _bits(rewired[p])
                out = out_to[at + _bits(mask & ((1 << k) - 1))]
        else:  # the (k − half)-th tie reaching it
            k -= half
            if first_in < 0:  # the first rewired tie landing on c: binary search within c's block
                b = c // BLOCK
                first_in = in_block[b]
                hi = in_block[b + 1] if b + 1 < len(in_block) else len(in_to)
                while first_in < hi:
                    mid = (first_in + hi) // 2
                    if in_to[mid] < c:
                        first_in = mid + 1
                    else:
                        hi = mid
            r = first_in
            cnt = 0
            lo = min(half, c)
            # lattice ties reaching c by owning place: c − j for j = lo … 1, then (wrapped round the
            # ring) n + c − j for j = half … lo + 1
            for step in range(half):
                if step < lo:
                    j = lo - step
                    s = c - j
                else:
                    j = half - (step - lo)
                    s = n + c - j
                if (rewired[s] >> (j - 1)) & 1:
                    continue  # rewired away
                while r < len(in_to) and in_to[r] == c and (in_from[r] < s or (in_from[r] == s and in_j[r] < j)):
                    if cnt == k:
                        out = in_from[r]
                        break
                    cnt += 1
                    r += 1
                if out >= 0:
                    break
                if cnt == k:
                    out = s
                    break
                cnt += 1
            if out < 0:
                while r < len(in_to) and in_to[r] == c:
                    if cnt == k:
                        out = in_from[r]
                        break
                    cnt += 1
                    r += 1
        heard_by[q] = out
    return who, heard_by


@njit(cache=True, nogil=True, error_model="numpy")
def tell(heard, m, stage, flags, listeners, who, about, delta, flag, churned):
    """Messages arrive: each listener still a customer (``stage > churned``) moves its view of the
    merchant its speaker spoke of (``about[who[j]]``) by ``delta`` (``heard`` is the customers ×
    merchants table, flat) and gets the event ``flag``; afterwards every view a message touched is
    bounded to ±1. Returns how many messages arrived."""
    told = 0
    one = np.float32(1)
    for j in range(len(listeners)):
        c = listeners[j]
        if stage[c] > churned:
            heard[c * m + about[who[j]]] += delta
            flags[c] |= flag
            told += 1
    for j in range(len(listeners)):
        c = listeners[j]
        if stage[c] > churned:
            cell = c * m + about[who[j]]
            if heard[cell] > one:
                heard[cell] = one
            elif heard[cell] < -one:
                heard[cell] = -one
    return told


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _pow(x, e):
    """``x ** e`` in float32 as numpy computes it for an array and a scalar exponent: the exponents
    numpy turns into another operation (1 → ``x``, 2 → ``x·x``, 0.5 → square root, −1 → ``1/x``,
    0 → 1) take that operation, the others ``powf``."""
    if e == np.float32(1):
        return x
    if e == np.float32(2):
        return x * x
    if e == np.float32(0.5):
        return np.float32(math.sqrt(x))
    if e == np.float32(0):
        return np.float32(1)
    if e == np.float32(-1):
        return np.float32(1) / x
    return x ** e


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _zone(x, keep, half, slope, gain, loss, g):
    """The zone of tolerance for one disconfirmation ``x`` (float32): ``(s, shortfall, surplus)``,
    the shortfall scaled by ``keep``."""
    zero = np.float32(0)
    one = np.float32(1)
    sh = -half - x
    if sh < zero:
        sh = zero
    sh *= keep
    su = x - half
    if su < zero:
        su = zero
    v = x
    if v < -half:
        v = -half
    elif v > half:
        v = half
    v *= slope
    v += np.float32(0.5)
    if su > zero:
        v += gain * _pow(su, g)
    if sh > zero:
        v += loss * _pow(sh, g)
    if v < zero:
        v = zero
    elif v > one:
        v = one
    return v, sh, su


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _anticipated(quality, price, ep, sens, below_doubt):
    """What one purchase at ``price`` from a merchant anticipated at ``quality`` is worth to a
    customer with expected price ``ep`` and price sensitivity ``sens``, before buying there
    (:func:`sim.mechanism.common.anticipated_value`: less the price term, less a quality doubt when
    the price is below ``below_doubt`` times the expected price; float32, in that order)."""
    zero = np.float32(0)
    doubt = ep * below_doubt - price
    if doubt < zero:
        doubt = zero
    doubt /= ep
    val = quality - sens * (price - ep) / ep
    val -= doubt
    return val


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _perceived(quality, price, ep, sens, loyal, loyal_keep):
    """Perceived value (:func:`sim.mechanism.evaluation.perceive`): ``quality`` less the price term
    against the expected price ``ep``; a ``loyal`` customer's sensitivity to a price above ``ep``
    times ``loyal_keep`` (float32, in that order)."""
    if loyal and price > ep:
        sens = sens * loyal_keep
    return quality - sens * (price - ep) / ep


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _stay(satisfaction, trust, heard, grievance, switch_cost, sat_w, trust_w, grievance_w):
    """The utility of staying (:func:`sim.mechanism.choice.stay_utility`) for one customer: its
    satisfaction less 0.5 and its trust, weighted, plus what it heard of its merchant, less the
    weighted grievance (when the weight is not 0), plus ``switch_cost`` (points included if any;
    float32, in that order)."""
    u = sat_w * (satisfaction - np.float32(0.5))
    u += trust_w * trust
    u += heard
    if grievance_w != np.float32(0):
        u -= grievance_w * grievance
    u += switch_cost
    return u


@njit(cache=True, nogil=True, error_model="numpy")
def zone_evaluate(d, keep, half, slope, gain, loss, g):
    """The zone of tolerance (:func:`sim.mechanism.evaluation.evaluate`) on the disconfirmations
    ``d`` (flat, float32): satisfaction ``0.5 + slope·clip(d, −half, half)``, plus
    ``gain·surplus^g`` above the desired level and ``loss·shortfall^g`` (``loss`` < 0) below the
    adequate level, clipped to [0, 1]; shortfalls first scaled by ``keep`` (one per value, or none).
    Returns ``(s, shortfall, surplus, surplus_positions, shortfall_positions)``."""
    n = len(d)
    s = np.empty(n, dtype=np.float32)
    short = np.empty(n, dtype=np.float32)
    surplus = np.empty(n, dtype=np.float32)
    up = np.empty(n, dtype=np.int64)
    down = np.empty(n, dtype=np.int64)
    nu = 0
    nd = 0
    one = np.float32(1)
    scaled = len(keep) > 0
    for j in range(n):
        v, sh, su = _zone(d[j], keep[j] if scaled else one, half, slope, gain, loss, g)
        up[nu] = j  # (written always, kept by counting it)
        nu += su > 0
        down[nd] = j
        nd += sh > 0
        s[j] = v
        short[j] = sh
        surplus[j] = su
    return s, short, surplus, up[:nu], down[:nd]


@njit(cache=True, nogil=True, error_model="numpy")
def trial_pass(trial, trial_at, quality, units, expected_price, price_sens, stage, loyal, loyal_keep, price_paid,
               expectation, half, slope, gain, loss, g, heard, spend):
    """The trials of the customers at places ``trial``, each at merchant ``trial_at``, from the
    ``quality`` each received (:func:`sim.mechanism.purchase.trial_phase`): perceived value
    (:func:`sim.mechanism.evaluation.perceive`: quality less the price term; a loyal customer's
    sensitivity to a price above its expected price times ``loyal_keep``, a customer at stage
    ``loyal``), the zone of tolerance
    against the expectation (:func:`sim.mechanism.evaluation.evaluate`), what the customer thinks of
    the merchant tried (``heard``, moved by the satisfaction less 0.5, at most ±0.5, kept within
    ±1) and its recent spend (a tenth of the price times the ``units`` served). Returns the
    positions of the trials that fell short. The same float32 arithmetic in the same order."""
    one = np.float32(1)
    hb = np.float32(0.5)
    n = len(trial)
    bad = np.empty(n, dtype=np.int64)
    nb = 0
    for r in range(n):
        i = trial[r]
        j = trial_at[r]
        ep = expected_price[i]
        paid = price_paid[j]
        v = _perceived(quality[r], paid, ep, price_sens[i], stage[i] == loyal, loyal_keep)
        s, sh, _ = _zone(v - expectation[i], one, half, slope, gain, loss, g)
        bad[nb] = r  # (written always, kept by counting it)
        nb += sh > 0
        x = min(max(s - hb, -hb), hb)
        heard[i, j] = min(max(heard[i, j] + x, -one), one)
        spend[i] += np.float32(0.1) * paid * units[r]
    return bad[:nb].copy()


@njit(cache=True, nogil=True, error_model="numpy")
def population_pass(merchant, stage, spend, expectation, satisfaction, trust, wallet, affective, behavioural,
                    intentional, nps_bias, m, sat_min, int_high, facet, latent, promoter_min, detractor_below):
    """One pass over every place for :func:`sim.metrics.population_sums` (stages: 0 churned,
    1 prospect, 2 ordinary, 3 trusting, 4 loyal). Returns

    - ``counts`` (5·m): places per ``5 · merchant + stage``;
    - ``sums`` (5, 2·m), float64: spend, expectation, satisfaction, trust and wallet summed over
      merchant j's active customers (column 2j) and over those who bought (2j + 1);
    - ``cnt`` (6): customers who bought with affective, behavioural, intentional ≥ ``facet``; with
      satisfaction ≥ ``sat_min``; loyal-minded (intention ≥ ``int_high`` or loyal); both;
    - ``votes`` (2, m): promoters and detractors among each merchant's customers who bought, from
      the recommend latent ``latent[0]·trust + latent[1]·affective + latent[2]·satisfaction +
      nps_bias + latent[3] + latent[4]·loyal`` (float32, in that order)."""
    counts = np.zeros(5 * m, dtype=np.int64)
    sums = np.zeros((5, 2 * m))
    cnt = np.zeros(6, dtype=np.int64)
    votes = np.zeros((2, m), dtype=np.int64)
    zero = np.float32(0)
    n_aff = n_beh = n_int = n_sat = n_loy = n_both = 0
    for i in range(len(stage)):
        st = stage[i]
        j = merchant[i]
        key = 5 * j + st
        if 0 <= key < 5 * m:
            counts[key] += 1
        if st < 2:
            if st == 1 and 0 <= j < m:
                c = 2 * j
                sums[0, c] += spend[i]
                sums[1, c] += expectation[i]
                sums[2, c] += satisfaction[i]
                sums[3, c] += trust[i]
                sums[4, c] += wallet[i]
            continue
        # bought (ordinary, trusting or loyal); the counts are kept in locals and added as 0 or 1,
        # so that a customer's values steer no branch (half of them would be mispredicted)
        sat = satisfaction[i]
        tr = trust[i]
        aff = affective[i]
        intent = intentional[i]
        n_aff += aff >= facet
        n_beh += behavioural[i] >= facet
        n_int += intent >= facet
        s_ok = sat >= sat_min
        loy = (intent >= int_high) | (st == 4)
        n_sat += s_ok
        n_loy += loy
        n_both += s_ok & loy
        if 0 <= j < m:
            for c in (2 * j, 2 * j + 1):
                sums[0, c] += spend[i]
                sums[1, c] += expectation[i]
                sums[2, c] += sat
                sums[3, c] += tr
                sums[4, c] += wallet[i]
            x = latent[0] * tr
            x += latent[1] * aff
            x += latent[2] * sat
            x += nps_bias[i]
            x += latent[3]
            x += latent[4] if st == 4 else zero
            promoter = x >= promoter_min
            votes[0, j] += promoter
            votes[1, j] += (not promoter) & (x < detractor_below)
    cnt[0], cnt[1], cnt[2], cnt[3], cnt[4], cnt[5] = n_aff, n_beh, n_int, n_sat, n_loy, n_both
    return counts, sums, cnt, votes


@njit(cache=True, nogil=True, error_model="numpy")
def _buyer_buffers(n):
    """What :func:`evaluate_buyers` fills for ``n`` buyers: eight float32 values per buyer (expected
    price, sensitivity, price, value, expectation, shortfall, felt, satisfaction) and three lists
    of positions or places (surpluses, shortfalls, noticed price rises)."""
    f32 = [np.empty(n, dtype=np.float32) for _ in range(8)]
    return (f32[0], f32[1], f32[2], f32[3], f32[4], f32[5], f32[6], f32[7], np.empty(n, dtype=np.int64),
            np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64))


@njit(cache=True, nogil=True, error_model="numpy")
def evaluate_buyers(idx, w, quality, stage, loyal, keep, failed, price_paid,
                    expected_price, price_sens, last_paid, expectation, perceived, value, disconfirmation, txn_sat,
                    value_belief, fit, tenure, satisfaction, flags,
                    notice_factor, reconsider, loyal_factor, use_loyal_factor,
                    half, slope, gain, loss, g, value_learning, value_weight, category_rep, category_price,
                    settled_w, settling, young_below, flag_ok, flag_bad, flag_delighted, flag_failed):
    """Phase ``evaluate`` for the buyers ``idx`` (sorted places) at their merchants ``w``, in one
    pass: a noticed price rise (:func:`sim.mechanism.price_rise.notice_price_rise`), perceived value
    (:func:`~sim.mechanism.evaluation.perceive`), the zone of tolerance (:func:`zone_evaluate`),
    the judged value (:func:`~sim.mechanism.evaluation.judge_value`), how it felt
    (:func:`~sim.mechanism.evaluation.felt`), cumulative satisfaction
    (:func:`~sim.mechanism.evaluation.update_satisfaction`) and each buyer's event flags, with the
    same float32 arithmetic in the same order. ``keep`` scales shortfalls (empty: none);
    ``failed`` marks buyers whose encounter went wrong. ``rise`` is every buyer who notices a price
    rise (none when ``reconsider`` ≤ 0); the caller then keeps each with chance ``reconsider``.

    Returns ``(ep, sens, price, rise, v, E, short, surplus_positions, shortfall_positions, f, S)``."""
    n = len(idx)
    ep, sens, price, v, E, short, f, S, up, down, cand = _buyer_buffers(n)
    nu = 0
    nd = 0
    nc = 0
    zero = np.float32(0)
    one = np.float32(1)
    scaled = len(keep) > 0
    for j in range(n):
        i = idx[j]
        e_p = expected_price[i]
        sn = price_sens[i]
        pr = price_paid[w[j]]
        ep[j] = e_p
        sens[j] = sn
        price[j] = pr
        # a noticed price rise (candidates; drawn below, in order)
        ref = last_paid[i]
        last_paid[i] = pr
        if reconsider > 0:
            ref *= notice_factor
            st = stage[j]
            cand[nc] = i  # (written always, kept by counting it: no branch on the data)
            nc += (pr > ref) & ((st == 2) | (st == 3))
        # perceived value
        q = quality[j]
        val = _perceived(q, pr, e_p, sn, use_loyal_factor and loyal[j], loyal_factor)
        v[j] = val
        e = expectation[i]
        E[j] = e
        # the zone of tolerance
        x = val - e
        s, sh, su = _zone(x, keep[j] if scaled else one, half, slope, gain, loss, g)
        up[nu] = j
        nu += su > zero
        down[nd] = j
        nd += sh > zero
        short[j] = sh
        perceived[i] = q
        value[i] = val
        disconfirmation[i] = x
        txn_sat[i] = s
        # the judged value, then how the encounter felt
        b = value_belief[i]
        if value_learning != zero:
            b = b + value_learning * (val - b)
            value_belief[i] = b
        fe = fit[i] + s
        if value_weight != zero:
            c = b - (category_rep - sn * (category_price - e_p) / e_p)
            c *= value_weight
            fe += c
        if fe < zero:
            fe = zero
        elif fe > one:
            fe = one
        f[j] = fe
        # cumulative satisfaction: new relationships weigh an encounter more
        wt = settled_w
        if settling > 0:
            ten = tenure[i]
            if ten < young_below:
                early = np.float32(1 / (1 + ten / settling))
                if early > wt:
                    wt = early
        old = satisfaction[i]
        new = old + wt * (fe - old)
        satisfaction[i] = new
        S[j] = new
        fl = flag_bad if sh > zero else flag_ok
        if su > zero:
            fl |= flag_delighted
        if failed[j]:
            fl |= flag_failed
        flags[i] = fl
    return ep, sens, price, cand[:nc].copy(), v, E, short, up[:nu].copy(), down[:nd].copy(), f, S


@njit(cache=True, nogil=True, error_model="numpy")
def choice_utilities(candidates, cur, on_value, expected_price, price_sens, expectation, heard, satisfaction, trust,
                     grievance, switch_cost, financial, any_points, quality, price_paid, below_doubt, half, slope, gain,
                     loss, g, sat_w, trust_w, grievance_w, outside):
    """The utilities of :func:`sim.mechanism.choice.choose_merchant`, ``(k, m + 1)`` float32, for the
    candidates (places) at their current merchants ``cur``: each other merchant as the customer
    anticipates it (:func:`~sim.mechanism.common.anticipated_value`, judged by
    :func:`~sim.mechanism.evaluation.evaluate` through the zone of tolerance, plus what was heard),
    staying (:func:`~sim.mechanism.choice.stay_utility`; for those marked in ``on_value`` — empty:
    none — the own merchant judged as an offer, :func:`~sim.mechanism.choice.value_stay_utility`),
    each plus the switching cost (:func:`~sim.mechanism.switching_costs.switching_cost`), and
    leaving the market (``outside``); the same float32 arithmetic in the same order."""
    k = len(candidates)
    m = len(quality)
    U = np.empty((k, m + 1), dtype=np.float32)
    half_pt = np.float32(0.5)
    one = np.float32(1)
    by_value = len(on_value) > 0
    for r in range(k):
        i = candidates[r]
        ep = expected_price[i]
        sn = price_sens[i]
        e = expectation[i]
        for j in range(m):
            val = _anticipated(quality[j], price_paid[j], ep, sn, below_doubt)
            s, sh, su = _zone(val - e, one, half, slope, gain, loss, g)
            s -= half_pt
            s *= sat_w
            s += heard[i, j]
            U[r, j] = s
        sc = switch_cost[i]
        if any_points:
            sc = sc + financial[i] * sn / ep
        c = cur[r]
        if by_value and on_value[r]:
            U[r, c] += sc
        else:
            U[r, c] = _stay(satisfaction[i], trust[i], heard[i, c], grievance[i], sc, sat_w, trust_w, grievance_w)
        U[r, m] = outside
    return U


@njit(cache=True, nogil=True, error_model="numpy")
def merged(a, b):
    """The values of ``a`` and ``b``, two ascending arrays, in one ascending array (what sorting
    their concatenation gives)."""
    out = np.empty(len(a) + len(b), dtype=np.int64)
    i = 0
    j = 0
    for t in range(len(out)):
        if j >= len(b) or (i < len(a) and a[i] <= b[j]):
            out[t] = a[i]
            i += 1
        else:
            out[t] = b[j]
            j += 1
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def comparers(looking, rise, silent, botched, reasons, stage, flags, left, ordinary, trusting, loyal, recovery):
    """Who compares merchants this step (:func:`sim.mechanism.choice.compare_and_churn`), from the
    four groups prompted (places: looking around, a noticed price rise, a silent failure, a botched
    recovery; ``reasons``: each group's reason for leaving): every place once, ascending, with the
    reason of the last group it is in; kept only if ``ordinary`` or ``trusting``, or ``loyal`` with
    the ``recovery`` reason, and not flagged ``left`` this step. Returns ``(places, reasons,
    in_rise)`` (``in_rise``: the place noticed a price rise, whatever its reason)."""
    groups = (looking, rise, silent, botched)
    n = len(looking) + len(rise) + len(silent) + len(botched)
    c = np.empty(n, dtype=np.int64)
    grp = np.empty(n, dtype=np.int8)
    ascending = True
    t = 0
    for g in range(4):
        part = groups[g]
        for r in range(len(part)):
            c[t] = part[r]
            grp[t] = g
            ascending &= r == 0 or part[r - 1] <= part[r]
            t += 1
    if ascending:  # each group in order (as the phases give them): merge the four runs
        order = np.empty(n, dtype=np.int64)
        head = np.zeros(4, dtype=np.int64)
        start = np.zeros(4, dtype=np.int64)
        for g in range(1, 4):
            start[g] = start[g - 1] + len(groups[g - 1])
        for t in range(n):
            best = -1
            for g in range(4):  # the smallest head; on a tie the earlier group (stable)
                if head[g] < len(groups[g]) and (best < 0 or groups[g][head[g]] < groups[best][head[best]]):
                    best = g
            order[t] = start[best] + head[best]
            head[best] += 1
    else:
        order = np.argsort(c, kind="mergesort")  # (stable: within a place, the groups in their order)
    out = np.empty(n, dtype=np.int64)
    why = np.empty(n, dtype=np.int8)
    on_value = np.empty(n, dtype=np.bool_)
    k = 0
    t = 0
    while t < n:
        x = c[order[t]]
        in_rise = False
        g = 0
        while t < n and c[order[t]] == x:
            g = grp[order[t]]
            in_rise |= g == 1
            t += 1
        reason = reasons[g]
        s = stage[x]
        if ((s == ordinary) | (s == trusting) | ((s == loyal) & (reason == recovery))) & ((flags[x] & left) == 0):
            out[k] = x
            why[k] = reason
            on_value[k] = in_rise
            k += 1
    return out[:k].copy(), why[:k].copy(), on_value[:k].copy()


@njit(cache=True, nogil=True, error_model="numpy")
def relationship_start(idx, merchant, quality, price_paid, reputation, acquisition_cost, structural, below_doubt,
                       trust_init, procedural_cost, product_cost, heard, expected_price, price_sens, expectation,
                       trust, affective, acq_cost, value_belief, last_paid, switch_cost, procedural, relational,
                       products, stage, prospect, ordinary):
    """The arithmetic of :func:`sim.mechanism.relationship.start_relationship` for the customers at
    places ``idx`` beginning with ``merchant`` (one each), in one pass, after the caller's resets:
    the expectation moves halfway to what the customer anticipates of the merchant
    (:func:`~sim.mechanism.common.anticipated_value`: its ``quality`` as anticipated, less the price
    against the customer's expected price, less a low-price doubt, plus what it heard); trust starts
    at ``trust_init``; the affective facet halves; the merchant's acquisition cost, its value as the
    market tells it (reputation less :func:`~sim.mechanism.common.price_term`) and the price when
    the customer joined are kept; the switching cost starts afresh
    (:func:`~sim.mechanism.switching_costs.switching_cost_base`); a prospect stays one, anyone else
    is ordinary. The same float32 arithmetic in the same order."""
    one = np.float32(1)
    half = np.float32(0.5)
    for r in range(len(idx)):
        i = idx[r]
        j = merchant[r]
        ep = expected_price[i]
        sn = price_sens[i]
        pr = price_paid[j]
        a = _anticipated(quality[j], pr, ep, sn, below_doubt)
        a += heard[i, j]
        expectation[i] = half * expectation[i] + half * a
        trust[i] = trust_init
        affective[i] *= half
        acq_cost[i] = acquisition_cost[j]
        value_belief[i] = reputation[j] - sn * (pr - ep) / ep
        last_paid[i] = pr
        prod = (np.float32(products[i]) - one) * product_cost
        switch_cost[i] = procedural_cost * procedural[i] + structural[j] + relational[i] + prod
        if stage[i] != prospect:
            stage[i] = ordinary


@njit(cache=True, nogil=True, error_model="numpy")
def follow_trust(idx, stage, trust, cycle_a, pop_stage, flags, loyalty_exit, loyalty_threshold, min_passes,
                 trust_threshold, bit_trusting, bit_loyal, bit_betrayed):
    """Stages follow trust (:func:`sim.mechanism.loyalty.become_loyal`) for the customers at
    places ``idx`` with stages ``stage`` and trust ``trust`` (1 ordinary, 3 trusting, 4 loyal):
    loyal and still above ``loyalty_exit`` stays loyal, below it is betrayed; otherwise loyal once
    trust reaches ``loyalty_threshold`` with ``min_passes`` passes of Cycle A, else trusting at
    ``trust_threshold``, else ordinary. Writes the stages and event flags; returns the new stages
    and how many became trusting, became loyal and were betrayed."""
    n = len(idx)
    new = np.empty(n, dtype=np.int8)
    up = 0
    loyal_n = 0
    betrayed_n = 0
    for j in range(n):
        i = idx[j]
        s = stage[j]
        t = trust[j]
        nw = np.int8(3) if t >= trust_threshold else np.int8(2)
        if s == 4:
            if t < loyalty_exit:
                flags[i] |= bit_betrayed
                betrayed_n += 1
            else:
                nw = np.int8(4)
        elif t >= loyalty_threshold and cycle_a[i] >= min_passes:
            nw = np.int8(4)
            flags[i] |= bit_loyal
            loyal_n += 1
        if nw == 3 and s < 3:
            flags[i] |= bit_trusting
            up += 1
        new[j] = nw
        pop_stage[i] = nw
    return new, up, loyal_n, betrayed_n


@njit(cache=True, nogil=True, error_model="numpy")
def encounter_pass(buyers, where, z, sd, base, per_buyer, fp, u, failures, severity, missing, with_excitement,
                   excitement, excite_expect):
    """A for the buyers at places ``buyers`` with merchants ``where``
    (:func:`sim.mechanism.encounter.encounter`), from draws already made in the rule's order:
    quality ``base + sd · z`` (``z`` standard normal); a service failure removes
    ``severity · (0.5 + x)`` — at the positions ``failures`` with ``x = u`` (one uniform each; the
    same chance everywhere), or, ``per_buyer`` (one uniform each in ``u``), where ``u < fp`` with
    ``x = u / fp``; a missing must-be attribute (positions ``missing``)
    removes 0.3; the excitement attribute adds its size less what the customer has come to expect
    (``with_excitement``). Returns ``(quality, failed)``. The same float32 arithmetic in the same
    order."""
    k = len(buyers)
    half = np.float32(0.5)
    q = np.empty(k, dtype=np.float32)
    failed = np.zeros(k, dtype=np.bool_)
    for r in range(k):
        q[r] = base[where[r]] + z[r] * sd[where[r]]
    if per_buyer:
        for r in range(k):
            j = where[r]
            if u[r] < fp[j]:
                failed[r] = True
                q[r] -= severity[j] * (half + u[r] / fp[j])
    else:
        for t in range(len(failures)):
            r = failures[t]
            failed[r] = True
            q[r] -= severity[where[r]] * (half + u[t])
    for t in range(len(missing)):
        r = missing[t]
        q[r] -= np.float32(0.3)
        failed[r] = True
    if with_excitement:
        for r in range(k):
            q[r] += excitement[where[r]] - excite_expect[buyers[r]]
    return q, failed


@njit(cache=True, nogil=True, error_model="numpy")
def pay_pass(idx, price, trial, products, multi, spend, value_realised, wallet, tenure, behavioural):
    """The buyers at places ``idx`` pay ``price`` each per product (:func:`sim.mechanism.purchase.pay_phase`):
    recent spend and value realised grow; share of wallet rises for them and falls for the places
    ``trial`` (trying another merchant); the behavioural facet is the buyer's new share of wallet
    damped by a short tenure, ``wallet · tenure / (tenure + 10)``. ``multi``: read how many
    ``products`` each purchase serves. The same float32 arithmetic in the same order."""
    tenth = np.float32(0.1)
    one = np.float32(1)
    ten = np.float32(10)
    for r in prange(len(idx)):
        i = idx[r]
        paid = price[r] * np.float32(products[i]) if multi else price[r]
        spend[i] += tenth * paid
        value_realised[i] += paid
        w = wallet[i]
        w += tenth * (one - w)
        wallet[i] = w
        t = np.float32(tenure[i])
        behavioural[i] = w * t / (t + ten)
    for r in range(len(trial)):
        i = trial[r]
        wallet[i] -= tenth * wallet[i]


@njit(cache=True, nogil=True, error_model="numpy")
def reinforce_pass(idx, s, satisfied, where, affective_x, cycle_a, affective, top):
    """C/D for the customers at places ``idx`` (:func:`sim.mechanism.reinforcement.reinforce`):
    the ``satisfied`` ones count one more pass of Cycle A (stopping at ``top``) and their affective
    facet moves a tenth of the way toward how good the encounter felt (``s``) plus what their
    merchant's programme adds (``affective_x``, per merchant ``where``). Returns each one's strength
    of positive reinforcement (0 when not satisfied). The same float32 arithmetic in the same order."""
    zero = np.float32(0)
    half = np.float32(0.5)
    one = np.float32(1)
    n = len(idx)
    strength = np.empty(n, dtype=np.float32)
    for r in prange(n):
        i = idx[r]
        sat = satisfied[r]
        c = cycle_a[i]
        if sat and c < top:
            cycle_a[i] = c + 1
        d = s[r] - half
        st = np.float32(2.5) * d + half
        st = min(max(st, half), one)
        strength[r] = st * np.float32(sat)
        target = d * np.float32(2) + half
        target = min(max(target, zero), one)
        target = min(target + affective_x[where[r]], one)
        a = affective[i]
        affective[i] = (target - a) * (np.float32(0.1) * np.float32(sat)) + a
    return strength


@njit(cache=True, nogil=True, error_model="numpy")
def trust_pass(idx, gain, severity, trust, trust_gain, trust_loss):
    """G for the customers at places ``idx`` (:func:`sim.mechanism.trust.accumulate_trust`):
    ``trust + trust_gain · gain · (1 − trust) − trust_loss · severity · trust``, kept within [0, 1].
    Returns the new trust. The same float32 arithmetic in the same order."""
    zero = np.float32(0)
    one = np.float32(1)
    n = len(idx)
    out = np.empty(n, dtype=np.float32)
    for r in prange(n):
        i = idx[r]
        t = trust[i]
        x = t + trust_gain * gain[r] * (one - t) - trust_loss * severity[r] * t
        x = min(max(x, zero), one)
        trust[i] = x
        out[r] = x
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def aggrieve_pass(idx, severity, recovery_due, grievance, memory, curvature):
    """Grievances of the buyers at places ``idx`` (:func:`sim.mechanism.complaints.aggrieve`): each
    fades by ``memory`` unless a complaint is waiting for its answer; a problem of ``severity`` > 0
    adds ``severity ** curvature`` to what is left, ``g ← 1 − (1 − g)·(1 − add)``. The same float32
    arithmetic in the same order."""
    zero = np.float32(0)
    one = np.float32(1)
    for r in prange(len(idx)):
        i = idx[r]
        g = grievance[i] * (memory if recovery_due[i] < 0 else one)
        sv = severity[r]
        if sv > zero:
            g = one - (one - g) * (one - _pow(sv, curvature))
        grievance[i] = g


@njit(cache=True, nogil=True, error_model="numpy")
def voice_pass(idx, severity, where, u, prop, ease, minor, span, curvature, fit, voice_fit, centre, recovery_due,
               complaints, flags, bit, top):
    """Which dissatisfied buyers at places ``idx`` complain (:func:`sim.mechanism.complaints.complain`),
    from one uniform ``u`` each: the chance ``minor + span · severity ** curvature``, times the
    customer's propensity ``prop`` (at most 1), with half the remaining reluctance removed by the
    merchant's ``ease``; with ``voice_fit`` ≠ 0 its log-odds then move by ``voice_fit · fit − centre``
    (a chance of 0 or 1 stays); nobody still waiting for an answer (``recovery_due`` ≥ 0). The voiced
    count one more complaint (stopping at ``top``) and get the event flag ``bit``. Returns the mask.
    The same float32 arithmetic in the same order."""
    zero = np.float32(0)
    one = np.float32(1)
    half = np.float32(0.5)
    n = len(idx)
    voiced = np.empty(n, dtype=np.bool_)
    for r in range(n):
        i = idx[r]
        p = minor + span * _pow(severity[r], curvature)
        p = min(p * prop[i], one)
        p = p + half * ease[where[r]] * (one - p)
        if voice_fit != zero and zero < p < one:
            p = one / (one + (one - p) / p * np.exp(centre - voice_fit * fit[i]))
        v = (u[r] < p) & (recovery_due[i] < 0)
        voiced[r] = v
        if v:
            c = complaints[i]
            if c < top:
                complaints[i] = c + 1
            flags[i] |= bit
    return voiced


@njit(cache=True, nogil=True, error_model="numpy")
def grow_pass(idx, where, relational_x, growth, most, relational, switch_cost, with_points, points, cap, financial):
    """Switching costs of the buyers at places ``idx`` grow
    (:func:`sim.mechanism.switching_costs.grow_switching_costs`): relational cost by ``growth``
    times the merchant's factor ``relational_x``, up to ``most`` times it; the kept switching cost
    by what relational cost gained; ``with_points``: programme points bank ``points`` per purchase,
    up to ``cap`` times them. Returns the buyers' kept switching costs. The same float32 arithmetic
    in the same order."""
    n = len(idx)
    out = np.empty(n, dtype=np.float32)
    for r in prange(n):
        i = idx[r]
        j = where[r]
        rx = relational_x[j]
        rel = relational[i]
        new = min(rel + growth * rx, most * rx)
        relational[i] = new
        sc = switch_cost[i] + (new - rel)
        switch_cost[i] = sc
        out[r] = sc
        if with_points:
            p = points[j]
            financial[i] = min(financial[i] + p, cap * p)
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def expect_pass(idx, value, where, E, ep, sens, paid, promise, a, keep, pull, with_excitement, excitement,
                price_weight, going, with_market, floor, expectation, excite_expect, expected_price):
    """Expectations of the buyers at places ``idx`` adapt
    (:func:`sim.mechanism.expectations.adapt_expectations`), from their expectation ``E``, expected
    price ``ep``, price sensitivity ``sens``, the ``value`` received and the price ``paid``:
    ``E + a·(keep·(value − E) + pull·(promise − price term − E))``; the excitement attribute's
    expectation a share ``a`` of the way toward what the merchant offers (``with_excitement``); the
    expected price toward the price paid (times ``price_weight``, plus ``going``, the market's share,
    when ``with_market``), never below ``floor``. The same float32 arithmetic in the same order."""
    for r in prange(len(idx)):
        i = idx[r]
        j = where[r]
        e = E[r]
        p = ep[r]
        pr = paid[r]
        promised = promise[j] - sens[r] * (pr - p) / p
        expectation[i] = e + a * (keep * (value[r] - e) + pull * (promised - e))
        if with_excitement:
            x = excite_expect[i]
            excite_expect[i] = x + a * (excitement[j] - x)
        target = price_weight * pr + going if with_market else pr
        expected_price[i] = max(p + a * (target - p), floor)


@njit(cache=True, nogil=True, error_model="numpy")
def stay_logit(idx, w, S, tr, sc, heard, grievance, financial, price_sens, expected_price, with_points, others,
               sat_weight, trust_weight, grievance_weight, noise):
    """The intention's logit for the customers at places ``idx`` with merchants ``w``
    (:func:`sim.mechanism.loyalty.intention`): the utility of staying
    (:func:`sim.mechanism.choice.stay_utility`, from satisfaction ``S``, trust ``tr``, the kept
    switching cost ``sc`` plus the points' worth when ``with_points``, what was heard of the
    merchant, less the grievance) less the inclusive value of the others
    (``others``, per merchant), over ``noise``, kept within ±30 and negated: ``exp`` of it (numpy's,
    by the caller) then gives ``1/intention − 1`` (:func:`logistic_store`). The same float32
    arithmetic in the same order."""
    lim = np.float32(30)
    n = len(idx)
    out = np.empty(n, dtype=np.float32)
    for r in prange(n):
        i = idx[r]
        j = w[r]
        c = sc[r] + financial[i] * price_sens[i] / expected_price[i] if with_points else sc[r]
        u = _stay(S[r], tr[r], heard[i, j], grievance[i], c, sat_weight, trust_weight, grievance_weight)
        x = (u - others[j]) / noise
        x = min(max(x, -lim), lim)
        out[r] = -x
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def logistic_store(idx, e, out):
    """``out[idx] = 1 / (1 + e)``: the logistic function from ``e = exp(−x)``, written in place."""
    one = np.float32(1)
    for r in prange(len(idx)):
        out[idx[r]] = one / (e[r] + one)


@njit(cache=True, nogil=True, error_model="numpy")
def buyers_by_chance(u, trust, stage, base, extra):
    """Places (ascending) of the active customers (``stage > 0``) who buy this step: the uniform
    ``u`` below ``base + extra · trust`` (float32), as :func:`sim.mechanism.need.need`."""
    out = np.empty(len(u), dtype=np.int64)
    k = 0
    for i in range(len(u)):
        p = trust[i] * extra
        p += base
        out[k] = i  # (written always, kept by counting it: no branch on the draw)
        k += (u[i] < p) & (stage[i] > 0)
    return out[:k].copy()


@njit(cache=True, nogil=True, error_model="numpy")
def two_groups(stage, first, second):
    """Positions (ascending) of the entries of ``stage`` equal to ``first`` and of those equal to
    ``second``, in one pass."""
    n = len(stage)
    a = np.empty(n, dtype=np.int64)
    b = np.empty(n, dtype=np.int64)
    na = 0
    nb = 0
    for r in range(n):
        s = stage[r]
        a[na] = r  # (written always, kept by counting it)
        na += s == first
        b[nb] = r
        nb += s == second
    return a[:na].copy(), b[:nb].copy()


@njit(cache=True, nogil=True, error_model="numpy")
def split_trials(n, first, chosen_first, second, chosen_second):
    """Of ``n`` buyers, those trying another merchant — the members ``first[chosen_first]`` and
    ``second[chosen_second]`` of two groups (positions) — and the others: ``(others, triers)``,
    positions in ascending order."""
    tries = np.zeros(n, dtype=np.bool_)
    for t in range(len(chosen_first)):
        tries[first[chosen_first[t]]] = True
    for t in range(len(chosen_second)):
        tries[second[chosen_second[t]]] = True
    own = np.empty(n, dtype=np.int64)
    trial = np.empty(n, dtype=np.int64)
    no = 0
    nt = 0
    for r in range(n):
        own[no] = r
        trial[nt] = r
        x = tries[r]
        no += not x
        nt += x
    return own[:no].copy(), trial[:nt].copy()


@njit(cache=True, nogil=True, error_model="numpy")
def get_older(stage, age, tenure, spend, fade, top):
    """Every active customer (``stage > 0``) one step older (``age``, ``tenure``; both stop at
    ``top``, the largest count their type holds); every place's recent spend times ``fade``."""
    for i in range(len(stage)):
        if stage[i] > 0:
            if age[i] < top:
                age[i] += 1
            if tenure[i] < top:
                tenure[i] += 1
        spend[i] *= fade


@njit(cache=True, nogil=True, error_model="numpy")
def bernoulli_draw(total, p, rng):
    """:func:`sim.network.bernoulli_positions` inside compiled code: the same chunks of uniforms drawn
    from the model's generator ``rng`` (numba draws the numbers numpy draws and leaves the generator
    in the same state), the same skipping (:func:`geometric_chunk`)."""
    if total <= 0 or p <= 0:
        return np.zeros(0, dtype=np.int64)
    if p >= 1:
        return np.arange(total)
    lq = math.log1p(-p)
    out = np.zeros(0, dtype=np.int64)
    last = -1
    first = True
    while last < total - 1:
        left = total - 1 - last
        pos, last = geometric_chunk(rng.random(chunk_size(left, p)), lq, last, total)
        out = pos if first else np.concatenate((out, pos))
        first = False
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def need_visit(rng, trust, stage, merchant, base, extra, m, p_first, p_second, first_stage, second_stage):
    """Phase ``need`` in one compiled call, drawing from the model's generator ``rng`` the numbers
    and in the order :func:`sim.mechanism.need.need` and :func:`sim.mechanism.need.visit` draw them
    with numpy: who buys (:func:`buyers_by_chance`: a float32 uniform per place), then which buyers
    of stage ``first_stage`` and of ``second_stage`` try another merchant (chances ``p_first`` and
    ``p_second``, :func:`bernoulli_draw`) and which one (uniform over the ``m − 1`` others).
    Returns ``(buyers, their stages, own, trial, trial_at)``: ``own`` and ``trial`` are positions
    among the buyers. ``p_first = 0`` (or one merchant): nobody tries, nothing more is drawn."""
    u = rng.random(len(stage), dtype=np.float32)
    buyers = buyers_by_chance(u, trust, stage, base, extra)
    n = len(buyers)
    st = np.empty(n, dtype=stage.dtype)
    for r in range(n):
        st[r] = stage[buyers[r]]
    if m > 1 and p_first > 0:
        first, second = two_groups(st, first_stage, second_stage)
        by_first = bernoulli_draw(len(first), p_first, rng)
        by_second = bernoulli_draw(len(second), p_second, rng)
        own, trial = split_trials(n, first, by_first, second, by_second)
        if len(trial):
            at = rng.integers(0, m - 1, size=len(trial))
            for t in range(len(trial)):
                at[t] += at[t] >= merchant[buyers[trial[t]]]
            return buyers, st, own, trial, at
    return buyers, st, np.arange(n), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)


# ---- the same passes on every core, for large markets ------------------------------------------
#: the passes below split their work into chunks of this many items (places or buyers), run the
#: chunks on every core and join the chunks' results in chunk order: the chunks never depend on the
#: number of threads, so a seed gives the same results on one core as on many
CHUNK = 1 << 16
#: below this many items a pass runs as one sequential loop (one chunk would gain nothing, and the
#: small markets of validation runs and sweeps already keep every core busy with one run each)
PARALLEL_FROM = 2 * CHUNK


@njit(cache=True, nogil=True, error_model="numpy", parallel=True)
def population_pass_chunks(merchant, stage, spend, expectation, satisfaction, trust, wallet, affective,
                           behavioural, intentional, nps_bias, m, sat_min, int_high, facet, latent, promoter_min,
                           detractor_below):
    """:func:`population_pass` over chunks of :data:`CHUNK` places on every core; the counts are
    the same, the float64 sums are each chunk's sum added in chunk order."""
    n = len(stage)
    nch = (n + CHUNK - 1) // CHUNK
    C = np.zeros((nch, 5 * m), dtype=np.int64)
    S = np.zeros((nch, 5, 2 * m))
    K = np.zeros((nch, 6), dtype=np.int64)
    V = np.zeros((nch, 2, m), dtype=np.int64)
    for b in prange(nch):
        lo = b * CHUNK
        hi = min(n, lo + CHUNK)
        c, s, k, v = population_pass(
            merchant[lo:hi], stage[lo:hi], spend[lo:hi], expectation[lo:hi], satisfaction[lo:hi], trust[lo:hi],
            wallet[lo:hi], affective[lo:hi], behavioural[lo:hi], intentional[lo:hi], nps_bias[lo:hi], m, sat_min,
            int_high, facet, latent, promoter_min, detractor_below)
        C[b] = c
        S[b] = s
        K[b] = k
        V[b] = v
    counts, sums, cnt, votes = C[0].copy(), S[0].copy(), K[0].copy(), V[0].copy()
    for b in range(1, nch):
        counts += C[b]
        sums += S[b]
        cnt += K[b]
        votes += V[b]
    return counts, sums, cnt, votes


@njit(cache=True, nogil=True, error_model="numpy", parallel=True)
def buyers_by_chance_chunks(u, trust, stage, base, extra):
    """:func:`buyers_by_chance` over chunks of :data:`CHUNK` places on every core: the same buyers,
    in the same (ascending) order."""
    n = len(u)
    nch = (n + CHUNK - 1) // CHUNK
    buf = np.empty(n, dtype=np.int64)
    got = np.zeros(nch, dtype=np.int64)
    for b in prange(nch):
        lo = b * CHUNK
        hi = min(n, lo + CHUNK)
        r = buyers_by_chance(u[lo:hi], trust[lo:hi], stage[lo:hi], base, extra)
        buf[lo:lo + len(r)] = r + lo
        got[b] = len(r)
    return _joined(buf, got)


@njit(cache=True, nogil=True, error_model="numpy")
def _joined(buf, got):
    """The first ``got[b]`` entries of each chunk ``b`` of ``buf``, laid end to end in chunk order."""
    out = np.empty(got.sum(), dtype=buf.dtype)
    k = 0
    for b in range(len(got)):
        out[k:k + got[b]] = buf[b * CHUNK:b * CHUNK + got[b]]
        k += got[b]
    return out


@njit(cache=True, nogil=True, error_model="numpy", parallel=True)
def evaluate_buyers_chunks(idx, w, quality, stage, loyal, keep, failed, price_paid,
                           expected_price, price_sens, last_paid, expectation, perceived, value, disconfirmation,
                           txn_sat, value_belief, fit, tenure, satisfaction, flags,
                           notice_factor, reconsider, loyal_factor, use_loyal_factor,
                           half, slope, gain, loss, g, value_learning, value_weight, category_rep, category_price,
                           settled_w, settling, young_below, flag_ok, flag_bad, flag_delighted, flag_failed):
    """:func:`evaluate_buyers` over chunks of :data:`CHUNK` buyers on every core (each buyer's
    place is its own, so the chunks write different places): the same results, in the same order."""
    n = len(idx)
    nch = (n + CHUNK - 1) // CHUNK
    ep, sens, price, v, E, short, f, S, up, down, rise = _buyer_buffers(n)
    n_rise = np.zeros(nch, dtype=np.int64)
    n_up = np.zeros(nch, dtype=np.int64)
    n_down = np.zeros(nch, dtype=np.int64)
    scaled = len(keep) > 0
    for b in prange(nch):
        lo = b * CHUNK
        hi = min(n, lo + CHUNK)
        kp = keep
        if scaled:
            kp = keep[lo:hi]
        r = evaluate_buyers(idx[lo:hi], w[lo:hi], quality[lo:hi], stage[lo:hi], loyal[lo:hi], kp, failed[lo:hi],
                            price_paid,
                            expected_price, price_sens, last_paid, expectation, perceived, value, disconfirmation,
                            txn_sat, value_belief, fit, tenure, satisfaction, flags,
                            notice_factor, reconsider, loyal_factor, use_loyal_factor,
                            half, slope, gain, loss, g, value_learning, value_weight, category_rep, category_price,
                            settled_w, settling, young_below, flag_ok, flag_bad, flag_delighted, flag_failed)
        ep[lo:hi] = r[0]
        sens[lo:hi] = r[1]
        price[lo:hi] = r[2]
        rise[lo:lo + len(r[3])] = r[3]
        n_rise[b] = len(r[3])
        v[lo:hi] = r[4]
        E[lo:hi] = r[5]
        short[lo:hi] = r[6]
        up[lo:lo + len(r[7])] = r[7] + lo
        n_up[b] = len(r[7])
        down[lo:lo + len(r[8])] = r[8] + lo
        n_down[b] = len(r[8])
        f[lo:hi] = r[9]
        S[lo:hi] = r[10]
    return (ep, sens, price, _joined(rise, n_rise), v, E, short, _joined(up, n_up), _joined(down, n_down), f, S)


#: how many threads this thread's compiled passes may use (``numba.set_num_threads``)
threads = numba.get_num_threads

#: the passes that have a twin on every core (above)
def _on_cores(kernel):
    """``kernel`` compiled once more with its per-buyer loop (a ``prange``, a plain loop in
    ``kernel`` itself) shared by every core: each iteration writes only its own buyer's values, so
    the results are those of the one loop. (A copy of the function under a name of its own, so that
    the two compilations are cached apart.)"""
    f = kernel.py_func
    twin = types.FunctionType(f.__code__, f.__globals__, f.__name__ + "_cores", f.__defaults__, f.__closure__)
    twin.__qualname__ = f.__qualname__ + "_cores"
    twin.__doc__ = f"{f.__name__} on every core (see :func:`_on_cores`)."
    return njit(cache=True, nogil=True, error_model="numpy", parallel=True)(twin)


_ON_CORES = {population_pass: population_pass_chunks, buyers_by_chance: buyers_by_chance_chunks,
             evaluate_buyers: evaluate_buyers_chunks,
             **{k: _on_cores(k) for k in (pay_pass, reinforce_pass, trust_pass, aggrieve_pass, grow_pass, expect_pass,
                                          stay_logit, logistic_store)}}


def sized(kernel, n: int):
    """``kernel`` for ``n`` items: its twin over chunks on every core (:data:`CHUNK`) when ``n`` ≥
    :data:`PARALLEL_FROM` and this thread may use more than one (``numba.set_num_threads``; the
    workers of a process pool or of Dask use one each), else the sequential loop. Both give the
    same results (``tests/test_kernels.py``)."""
    if n >= PARALLEL_FROM and threads() > 1:
        return _ON_CORES.get(kernel, kernel)
    return kernel
