"""The workshop's append-only log: every decision, event and round advance, on disk before it counts.

One SQLite file (Python's standard ``sqlite3``) holds the log of every workshop of a server. A
record is written and committed (``synchronous=FULL``: on disk, not only in the operating system's
cache) *before* the workshop acts on it, so a server killed at any moment loses at most an action
it had not yet confirmed to anybody. Records are never changed or deleted: an undone round is a
record of its own. Reading a workshop's records in order and applying them again
(:meth:`sim.workshop.room.Workshop.resume`) rebuilds it exactly: same seed + same log ⇒ same market.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

__all__ = ["EventLog", "Record"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    room  TEXT NOT NULL,
    at    REAL NOT NULL,
    kind  TEXT NOT NULL,
    actor TEXT NOT NULL,
    data  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_room ON records (room, seq);
"""


@dataclass(frozen=True)
class Record:
    """One line of the log: what happened (``kind``), in which workshop (``room``), done by whom
    (``actor``: ``"facilitator"``, a seat such as ``"1:A"``, or ``"server"``), with its data."""

    seq: int
    room: str
    at: float
    kind: str
    actor: str
    data: dict


class EventLog:
    """The log file at ``path`` (created with its folder if missing). Safe to share between threads."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def append(self, room: str, kind: str, actor: str, data: dict[str, Any]) -> Record:
        """Write one record and commit it; returns it with its sequence number."""
        text = json.dumps(data, sort_keys=True, ensure_ascii=False)
        now = time.time()
        with self._lock:
            cur = self._db.execute("INSERT INTO records (room, at, kind, actor, data) VALUES (?, ?, ?, ?, ?)",
                                   (room, now, kind, actor, text))
            seq = int(cur.lastrowid)
        return Record(seq, room, now, kind, actor, json.loads(text))

    def records(self, room: str) -> list[Record]:
        """Every record of workshop ``room``, in the order written."""
        with self._lock:
            rows = self._db.execute("SELECT seq, room, at, kind, actor, data FROM records WHERE room = ? ORDER BY seq",
                                    (room,)).fetchall()
        return [Record(int(s), r, float(a), k, ac, json.loads(d)) for s, r, a, k, ac, d in rows]

    def rooms(self) -> list[str]:
        """The workshops in the log that were not closed, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT room FROM records GROUP BY room HAVING SUM(kind = 'close') = 0 ORDER BY MIN(seq)").fetchall()
        return [r for (r,) in rows]

    def __iter__(self) -> Iterator[Record]:
        with self._lock:
            rows = self._db.execute("SELECT seq, room, at, kind, actor, data FROM records ORDER BY seq").fetchall()
        for s, r, a, k, ac, d in rows:
            yield Record(int(s), r, float(a), k, ac, json.loads(d))

    def close(self) -> None:
        with self._lock:
            self._db.close()
