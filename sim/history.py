"""Customers' recent histories, so any customer can be looked up and its story read.

Markets up to ``history_limit`` places record every customer; larger ones record a random sample
of that many places (chosen with the model's generator). Each recorded place keeps its last
``history_depth`` steps in ring buffers, tagged with the occupant's id, so a newcomer who takes a
departed customer's place never inherits its history. Departed customers' final states are kept
in a bounded archive.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .mechanism.state import CHURNED, EV, REASONS, STAGES, VARIABLES, Population, nonzero

__all__ = ["History", "EVENT_NAMES", "history_bytes"]

#: event flag → name, in the order a story tells them
EVENT_NAMES = {
    EV.ARRIVED: "arrived", EV.PURCHASE: "purchase", EV.TRIED_OTHER: "tried_other",
    EV.FAILED: "failed", EV.DELIGHTED: "delighted", EV.SATISFIED: "satisfied", EV.DISSATISFIED: "dissatisfied",
    EV.COMPLAINED: "complained", EV.RECOVERED: "recovered", EV.BOTCHED: "botched",
    EV.TRUSTING: "became_trusting", EV.LOYAL: "became_loyal", EV.BETRAYED: "lost_loyalty",
    EV.HEARD_GOOD: "heard_good", EV.HEARD_BAD: "heard_bad", EV.SWITCHED: "switched", EV.LEFT: "left",
}

#: the state variables recorded in every step of a history (declared with ``history=True``)
_FIELDS = {v.name: v.dtype for v in VARIABLES if v.history}
_ID = next(v.dtype for v in VARIABLES if v.name == "id")  # the customers' numbers, as stored
ARCHIVE_SIZE = 20_000


def history_bytes(n: int, limit: int, depth: int) -> int:
    """Bytes the histories of a market of ``n`` places take at most: the ring buffers of the
    ``min(n, limit)`` recorded places and a full archive of departed customers (each keeps its
    ``depth`` steps)."""
    row = np.dtype(_ID).itemsize + sum(np.dtype(dt).itemsize for dt in _FIELDS.values())  # an id, the values
    k = min(n, limit)
    return k * depth * row + k * 8 + min(ARCHIVE_SIZE, n) * depth * row if k else 0


class History:
    def __init__(self, n: int, limit: int, depth: int, rng: np.random.Generator):
        k = min(n, limit)
        # the recorded places, sorted: place places[c] is recorded in column c (columns())
        self.places = np.arange(n) if k == n else np.sort(rng.choice(n, size=k, replace=False))
        self.n = n
        self.depth = depth
        self.step = np.full(depth, -1, dtype=np.int64)
        self.ids = np.full((depth, k), -1, dtype=_ID)
        self.rows = {f: np.zeros((depth, k), dtype=dt) for f, dt in _FIELDS.items()}
        self.pos = 0
        self.archive: OrderedDict[int, dict] = OrderedDict()

    @property
    def complete(self) -> bool:
        return len(self.places) == self.n

    def nbytes(self) -> int:
        return self.ids.nbytes + sum(a.nbytes for a in self.rows.values()) + self.places.nbytes

    def columns(self, slots) -> np.ndarray:
        """Each place's column in the ring buffers, −1 where the place is not recorded."""
        slots = np.asarray(slots, dtype=np.int64)
        if self.complete:
            return slots.copy()
        if len(self.places) == 0:
            return np.full(len(slots), -1, dtype=np.int64)
        at = np.searchsorted(self.places, slots)
        found = self.places[np.minimum(at, len(self.places) - 1)] == slots
        return np.where(found, at, -1)

    def recorded(self) -> np.ndarray:
        """Mask over the places: which are recorded."""
        mask = np.zeros(self.n, dtype=bool)
        mask[self.places] = True
        return mask

    def record(self, pop, step: int, merchant_names: list[str]) -> None:
        if len(self.places) == 0:
            return
        pl = self.places
        every = len(pl) == pop.n  # every place recorded: plain copies, no gathering
        r = self.pos
        if self.ids.dtype != pop.id.dtype:  # the customers' numbers were widened (sim.mechanism.arrival)
            self.ids = self.ids.astype(pop.id.dtype)
        self.step[r] = step
        if every:
            left = nonzero(pop.flags & EV.LEFT)
            self.ids[r] = pop.id
            for f in _FIELDS:
                self.rows[f][r] = getattr(pop, f)
        else:
            left = pl[(pop.flags[pl] & EV.LEFT) > 0]
            self.ids[r] = pop.id[pl]
            for f in _FIELDS:
                self.rows[f][r] = getattr(pop, f)[pl]
        self.pos = (r + 1) % self.depth
        if len(left):
            self._archive(pop, left)

    def _archive(self, pop, slots: np.ndarray) -> None:
        """Keep departed customers' final state and history (raw arrays, made readable on lookup)."""
        cols = self.columns(slots)
        # (indexing with an array of places or columns already copies)
        chunk = {
            "state": {name: getattr(pop, name)[slots] for name in _STATE_ARRAYS},
            "heard": pop.heard[slots],
            "step": self.step.copy(),
            "ids": self.ids[:, cols],
            "rows": {f: a[:, cols] for f, a in self.rows.items()},
        }
        for j, cid in enumerate(pop.id[slots].tolist()):
            self.archive[cid] = (chunk, j)
        while len(self.archive) > ARCHIVE_SIZE:
            self.archive.popitem(last=False)

    def departed(self, merchant: int | None = None, last: int = 300) -> list[int]:
        """Ids of the customers who left the market most recently (at most ``last``, oldest first),
        of those whose last merchant was ``merchant`` if given."""
        out = []
        for cid in reversed(self.archive):
            if merchant is None:
                out.append(cid)
            else:
                chunk, j = self.archive[cid]
                if int(chunk["state"]["merchant"][j]) == merchant:
                    out.append(cid)
            if len(out) >= last:
                break
        return out[::-1]

    @staticmethod
    def _rows(step, ids, rows, col, cid: int, merchant_names: list[str]) -> list[dict]:
        order = np.argsort(step)
        order = order[(step[order] >= 0) & (ids[order, col] == cid)]
        out = []
        for r in order:
            row = {"step": int(step[r])}
            for f in _FIELDS:
                v = rows[f][r, col]
                row[f] = float(v) if f not in ("stage", "merchant", "flags") else int(v)
            row["stage"] = STAGES[row["stage"]]
            row["merchant"] = merchant_names[row["merchant"]] if row["merchant"] >= 0 else None
            row["events"] = [name for bit, name in EVENT_NAMES.items() if row["flags"] & bit]
            del row["flags"]
            out.append(row)
        return out

    def lookup(self, pop, cid: int, merchant_names: list[str]) -> dict | None:
        """State and recent history of customer ``cid``, or ``None`` if it is unknown."""
        where = np.flatnonzero(pop.id == cid)
        live = len(where) > 0 and pop.stage[where[0]] != CHURNED
        if not live and cid in self.archive:
            chunk, j = self.archive[cid]
            state = _state_dict({k: v[j] for k, v in chunk["state"].items()}, chunk["heard"][j], merchant_names)
            hist = self._rows(chunk["step"], chunk["ids"], chunk["rows"], j, cid, merchant_names)
            return {"id": cid, "state": state, "history": hist, "recorded": True}
        if len(where) == 0:
            return None
        slot = int(where[0])
        col = int(self.columns([slot])[0])
        hist = self._rows(self.step, self.ids, self.rows, col, cid, merchant_names) if col >= 0 else []
        return {"id": cid, "state": snapshot(pop, slot, merchant_names), "history": hist, "recorded": col >= 0}


#: every per-customer array a snapshot reads
_STATE_ARRAYS = Population.FLOATS + Population.INTS + (
    "id", "stage", "merchant", "products", "recovery_due", "churn_reason")


def _state_dict(values: dict, heard, merchant_names: list[str]) -> dict:
    d = {"id": int(values["id"]), "place": int(values.get("place", -1)), "stage": STAGES[int(values["stage"])]}
    m = int(values["merchant"])
    d["merchant"] = merchant_names[m] if m >= 0 else None
    for name in Population.FLOATS:
        d[name] = float(values[name])
    for name in Population.INTS:
        d[name] = int(values[name])
    d["products"] = int(values["products"])
    d["pending_recovery"] = bool(values["recovery_due"] >= 0)
    d["churn_reason"] = REASONS[int(values["churn_reason"])]
    d["heard"] = {merchant_names[j]: float(heard[j]) for j in range(len(merchant_names))}
    return d


def snapshot(pop, slot: int, merchant_names: list[str]) -> dict:
    """Every state variable of the customer in ``slot`` as plain Python values."""
    values = {name: getattr(pop, name)[slot] for name in _STATE_ARRAYS}
    values["place"] = slot
    return _state_dict(values, pop.heard[slot], merchant_names)
