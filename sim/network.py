"""The social network customers talk over, and word-of-mouth delivery.

The network links customer *places* (slots): a newcomer who takes the place of a departed customer
moves into that neighbourhood. It is a Watts–Strogatz small world (Watts & Strogatz 1998): a ring
where each place knows ``degree/2`` neighbours on each side, and each tie is rewired to a random
place with probability ``rewire``. It is stored as that ring and the ties rewired away from it
(:class:`Network`), so a million customers with eight contacts each take about 9 MB and build in
well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import math

import numpy as np

from . import kernels

__all__ = ["Network", "small_world", "network_bytes", "deliver", "bernoulli_positions"]


BLOCK = kernels.BLOCK  # places per block of the offset tables


@dataclass
class Network:
    """Undirected small world over ``n`` places, stored as its ring lattice and the ties rewired
    away from it (about 9 bytes a place with the defaults, where a list of every tie in both
    directions takes 36).

    Place ``i`` owns ``half`` ties, its ``j``-th (``j`` = 1 … ``half``) to ``i + j`` (mod ``n``) unless
    bit ``j − 1`` of ``rewired[i]`` says it was rewired to a random place. A place's contacts, in the
    order :meth:`neighbours` gives and word of mouth walks them: first the targets of its own ties
    (``j`` = 1 … ``half``), then the places whose ties reach it, by their place and tie number. The
    targets of rewired ties are kept in ``out_to`` (in place and tie order; ``out_block`` counts
    those of the places before each block of :data:`BLOCK` places), and again by target in
    ``in_to`` / ``in_from`` / ``in_j`` (``in_block``: the first of them at or past each block)."""

    n: int
    half: int
    rewired: np.ndarray  # per place: bit j − 1 set when its j-th tie was rewired (uint8/16/32)
    degree: np.ndarray  # per place: its number of contacts (uint16, uint32 past 65,535)
    out_block: np.ndarray  # int64: rewired ties of the places before each block
    out_to: np.ndarray  # int32: where rewired ties lead, in (place, tie) order
    in_block: np.ndarray  # int64: first entry of in_to at or past each block's first place
    in_to: np.ndarray  # int32: where rewired ties lead, sorted
    in_from: np.ndarray  # int32: … the place owning each
    in_j: np.ndarray  # uint8: … and its tie number

    def arrays(self) -> list[np.ndarray]:
        """Every array the network keeps."""
        return [self.rewired, self.degree, self.out_block, self.out_to, self.in_block, self.in_to, self.in_from,
                self.in_j]

    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.arrays())

    def parts(self) -> tuple:
        """The arguments the compiled walks over contacts take (:mod:`sim.kernels`)."""
        return (self.n, self.half, self.rewired, self.out_block, self.out_to, self.in_block, self.in_to,
                self.in_from, self.in_j)

    def neighbours(self, i: int) -> np.ndarray:
        """Place ``i``'s contacts (places), in the network's order."""
        i = int(i)
        return kernels.pair_listeners(self.degree, np.array([i]), np.zeros(1, dtype=np.int64),
                                      np.arange(int(self.degree[i])), *self.parts())[1]

    @property
    def n_ties(self) -> int:
        return self.n * self.half

    def csr(self) -> tuple[np.ndarray, np.ndarray]:
        """Every place's contacts laid end to end (``indices``, int64) with where each place's start
        (``indptr``, length ``n + 1``): for looking at the whole graph in tests and views."""
        indptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(self.degree, out=indptr[1:])
        indices = np.empty(int(indptr[-1]), dtype=np.int64)
        for i in range(self.n):
            indices[indptr[i]:indptr[i + 1]] = self.neighbours(i)
        return indptr, indices


def network_bytes(n: int, degree: int, rewire: float) -> int:
    """Bytes the network of ``n`` places with ``degree`` contacts each and rewiring chance ``rewire``
    takes (the expected number of rewired ties, with room for chance)."""
    half = degree // 2 if n >= 2 else 0
    mask = 1 if half <= 8 else 2 if half <= 16 else 4
    moved = n * half * rewire
    moved += 6 * math.sqrt(moved) + 1
    return int(n * (mask + 2) + 2 * (n // BLOCK + 1) * 8 + moved * (4 + 4 + 4 + 1))


def small_world(n: int, degree: int, rewire: float, rng: np.random.Generator) -> Network:
    """A Watts–Strogatz graph on ``n`` places with even ``degree`` and rewiring chance ``rewire``."""
    half = degree // 2 if n >= 2 else 0
    blocks = np.arange(0, max(n, 1), BLOCK)
    if half <= 0:
        z32, z64 = np.zeros(0, dtype=np.int32), np.zeros(len(blocks), dtype=np.int64)
        return Network(n, 0, np.zeros(n, dtype=np.uint8), np.zeros(n, dtype=np.uint16), z64, z32, z64.copy(), z32,
                       z32, np.zeros(0, dtype=np.uint8))
    width = 1 if half <= 8 else 2 if half <= 16 else 4
    if rewire > 0:
        move = rng.random(n * half) < rewire  # tie (i, j) is entry i·half + j − 1
        k = int(move.sum())
        new = rng.integers(0, n - 1, size=k)
        at = np.flatnonzero(move)
        src = at // half
        new = np.where(new >= src, new + 1, new)  # never a self-loop
        j = (at - src * half + 1).astype(np.uint8)
        bits = np.packbits(move.reshape(n, half), axis=1, bitorder="little")
        del move
    else:
        new = src = np.zeros(0, dtype=np.int64)
        j = np.zeros(0, dtype=np.uint8)
        bits = np.zeros((n, 1), dtype=np.uint8)
    padded = np.zeros((n, width), dtype=np.uint8)
    padded[:, :bits.shape[1]] = bits
    rewired = padded.view(f"<u{width}").reshape(n).astype(np.dtype(f"u{width}"))
    # contacts: the own ties, and ties reaching the place (lattice ties not rewired away, rewired ties)
    lost = np.bincount((src + j) % n, minlength=n) if len(src) else np.zeros(n, dtype=np.int64)
    deg = 2 * half - lost + np.bincount(new, minlength=n)
    degree = deg.astype(np.uint16 if deg.max() < 2**16 else np.uint32)
    per_place = np.bincount(src, minlength=n) if len(src) else np.zeros(n, dtype=np.int64)
    before = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(per_place, out=before[1:])
    order = np.argsort(new, kind="stable")  # by target, then (place, tie) as drawn
    in_to = new[order].astype(np.int32)
    return Network(n, half, rewired, degree, before[blocks], new.astype(np.int32), np.searchsorted(in_to, blocks),
                   in_to, src[order].astype(np.int32), j[order])


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
    if len(speakers) == 0 or net.n_ties == 0:
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
    total = kernels.pair_count(net.degree, speakers)
    if total == 0:
        return e, e
    told = bernoulli_positions(total, p, rng)
    return kernels.pair_listeners(net.degree, speakers, positions, told, *net.parts())


def bernoulli_positions(total: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Sorted positions of the successes in ``total`` independent Bernoulli(``p``) trials, found by
    geometric skipping: the gaps between successes are Geometric(p), drawn by inversion
    (``1 + floor(log(1 − u) / log(1 − p))`` with ``u`` uniform on [0, 1), in
    :func:`sim.kernels.geometric_chunk`), so the cost grows with the number of successes, not with
    ``total``. Uniforms are drawn in chunks sized to cover the rest with room to spare, so one chunk
    nearly always does (:func:`sim.kernels.chunk_size`; :func:`sim.kernels.bernoulli_draw` is the same
    skipping inside compiled code)."""
    if total <= 0 or p <= 0:
        return np.zeros(0, dtype=np.int64)
    if p >= 1:
        return np.arange(total, dtype=np.int64)
    total, p = int(total), float(p)
    lq = math.log1p(-p)
    chunks, last = [], -1
    while last < total - 1:
        left = total - 1 - last
        pos, last = kernels.geometric_chunk(rng.random(kernels.chunk_size(left, p)), lq, last, total)
        chunks.append(pos)
    return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
