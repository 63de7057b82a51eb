"""The social network customers talk over, and word-of-mouth delivery.

The network links customer *places* (slots): a newcomer who takes the place of a departed customer
moves into that neighbourhood. It is a Watts–Strogatz small world (Watts & Strogatz 1998): a ring
where each place knows ``degree/2`` neighbours on each side, and each tie is rewired to a random
place with probability ``rewire``. It is stored as compressed sparse rows (``indptr``, ``indices``)
so a million customers with eight contacts each take about 40 MB and build in well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import math

import numpy as np

from . import kernels

__all__ = ["Network", "small_world", "deliver", "bernoulli_positions"]


@dataclass
class Network:
    """Undirected graph over ``n`` places in CSR form (each tie stored in both directions)."""

    n: int
    indptr: np.ndarray  # int32 (int64 past 2**31 - 1 entries), length n + 1
    indices: np.ndarray  # int32, length 2 * ties

    def neighbours(self, i: int) -> np.ndarray:
        return self.indices[self.indptr[i] : self.indptr[i + 1]]

    @property
    def degree(self) -> np.ndarray:
        return np.diff(self.indptr)

    @property
    def n_ties(self) -> int:
        return len(self.indices) // 2


def small_world(n: int, degree: int, rewire: float, rng: np.random.Generator) -> Network:
    """A Watts–Strogatz graph on ``n`` places with even ``degree`` and rewiring chance ``rewire``."""
    if degree <= 0 or n < 2:
        return Network(n, np.zeros(n + 1, dtype=np.int32), np.zeros(0, dtype=np.int32))
    half = degree // 2
    src = np.repeat(np.arange(n, dtype=np.int64), half)
    dst = (src + np.tile(np.arange(1, half + 1, dtype=np.int64), n)) % n
    if rewire > 0:
        move = rng.random(len(dst)) < rewire
        k = int(move.sum())
        new = rng.integers(0, n - 1, size=k)
        s = src[move]
        new = np.where(new >= s, new + 1, new)  # never a self-loop
        dst[move] = new
    a = np.concatenate([src, dst])
    b = np.concatenate([dst, src])
    order = np.argsort(a, kind="stable")
    indices = b[order].astype(np.int32)
    counts = np.bincount(a, minlength=n)
    indptr = np.zeros(n + 1, dtype=np.int32 if len(indices) < 2**31 else np.int64)
    np.cumsum(counts, out=indptr[1:])
    return Network(n, indptr, indices)


def deliver(
    net: Network, speakers: np.ndarray, prob, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Each speaker tells each of its contacts, independently, with probability ``prob`` (a scalar
    or one value per speaker).

    Returns ``(speaker_position, listener)``: for every message, the position of its speaker in
    ``speakers`` and the listener's place. For each distinct probability, the (speaker, contact)
    pairs are laid end to end and the told ones are found by geometric skipping
    (:func:`bernoulli_positions`), so the cost grows with the number of messages, not with the
    number of contacts.
    """
    e = np.zeros(0, dtype=np.int64)
    if len(speakers) == 0 or len(net.indices) == 0:
        return e, e
    prob = np.asarray(prob, dtype=np.float64)
    if prob.ndim == 0 or len(speakers) == 1:
        return _deliver_at(net, speakers, np.arange(len(speakers)), float(prob.reshape(-1)[0]), rng)
    lo, hi = prob.min(), prob.max()
    if lo == hi:
        return _deliver_at(net, speakers, np.arange(len(speakers)), float(lo), rng)
    groups = [np.flatnonzero(prob == lo), np.flatnonzero(prob == hi)]
    if len(groups[0]) + len(groups[1]) != len(prob):  # more than two distinct probabilities
        groups = [np.flatnonzero(prob == p) for p in np.unique(prob)]
    parts = [_deliver_at(net, speakers[g], g, float(prob[g[0]]), rng) for g in groups]
    return np.concatenate([a for a, _ in parts]), np.concatenate([b for _, b in parts])


def _deliver_at(net: Network, speakers, positions, p: float, rng) -> tuple[np.ndarray, np.ndarray]:
    e = np.zeros(0, dtype=np.int64)
    if p <= 0 or len(speakers) == 0:
        return e, e
    total = kernels.pair_count(net.indptr, speakers)
    if total == 0:
        return e, e
    told = bernoulli_positions(total, p, rng)
    return kernels.pair_listeners(net.indptr, net.indices, speakers, positions, told)


def bernoulli_positions(total: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Sorted positions of the successes in ``total`` independent Bernoulli(``p``) trials, found by
    geometric skipping: the gaps between successes are Geometric(p), drawn by inversion
    (``1 + floor(log(1 − u) / log(1 − p))`` with ``u`` uniform on [0, 1), in
    :func:`sim.kernels.geometric_chunk`), so the cost grows with the number of successes, not with
    ``total``. Uniforms are drawn in chunks sized to cover the rest with room to spare, so one chunk
    nearly always does."""
    if total <= 0 or p <= 0:
        return np.zeros(0, dtype=np.int64)
    if p >= 1:
        return np.arange(total, dtype=np.int64)
    total, p = int(total), float(p)
    lq = math.log1p(-p)
    chunks, last = [], -1
    while last < total - 1:
        left = total - 1 - last
        size = int(max(64, left * p * 1.1 + 4 * math.sqrt(left * p)))
        pos, last = kernels.geometric_chunk(rng.random(size), lq, last, total)
        chunks.append(pos)
    return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
