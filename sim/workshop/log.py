"""The workshop's append-only log: every decision, event and round advance, on disk before it counts.

One SQLite file (Python's standard ``sqlite3``) holds the log of every workshop of a server. A
record is written and committed (``synchronous=FULL``: on disk, not only in the operating system's
cache) *before* the workshop acts on it, so a server killed at any moment loses at most an action
it had not yet confirmed to anybody. Records are never changed or deleted: an undone round is a
record of its own. Reading a workshop's records in order and applying them again
(:meth:`sim.workshop.room.Workshop.resume`) rebuilds it exactly: same seed + same log ⇒ same market.

A log opened ``readonly`` (the command line's ``workshop list|export|replay``) is never written
to: not created when missing, no table added, its journal mode left as it is. A file that is not
such a log (not SQLite, or SQLite without the table of records, or with another table of that name)
is refused with :class:`WorkshopError` naming the file, and so is a record that cannot be read
(naming its workshop and its place in the log); nothing of the file is changed.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..params import ParamError

__all__ = ["EventLog", "Record", "WorkshopError"]

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
#: the columns of the table of records, as :data:`_SCHEMA` makes them
_COLUMNS = ("seq", "room", "at", "kind", "actor", "data")


class WorkshopError(ParamError):
    """An action a workshop refuses (a wrong key or code, a seat held by someone else, a round that
    is not open …), or a log file it cannot use: ``text(lang)`` says why in English or Chinese."""


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
    """The log file at ``path`` (created with its folder if missing). Safe to share between threads.

    ``readonly``: only read it (it must exist and be a workshop log; nothing is ever written).
    Raises :class:`WorkshopError` (key ``log``) for a file that is not a workshop log."""

    def __init__(self, path: str | Path, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        self._lock = threading.Lock()
        if readonly:
            if not self.path.is_file():
                raise self._error(f"no workshop log at {self.path} (the app writes it where it was started, or at "
                                  "LSIM_WORKSHOP_DB)",
                                  f"在 {self.path} 没有工作坊日志（应用会写在它启动的文件夹中，或写到 LSIM_WORKSHOP_DB）")
            # mode=ro: SQLite itself refuses every write (and never creates the file)
            target, uri = self.path.resolve().as_uri() + "?mode=ro", True
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            target, uri = str(self.path), False
        try:
            self._db = sqlite3.connect(target, uri=uri, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as e:
            raise self._unreadable(e) from e
        try:
            self._check()  # before anything is written
            if not readonly:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.executescript(_SCHEMA)
        except BaseException:
            self._db.close()
            raise

    # ---- what the file holds -------------------------------------------------------------------
    def _error(self, en: str, zh: str) -> WorkshopError:
        return WorkshopError("log", en, None, zh)

    def _not_a_log(self, why: str, why_zh: str) -> WorkshopError:
        return self._error(f"{self.path}: not a loyalty-sim workshop log ({why}); nothing in it was changed. Give the "
                           "log the app wrote (LSIM_WORKSHOP_DB, default workshops/workshops.sqlite)",
                           f"{self.path}：不是 loyalty-sim 的工作坊日志（{why_zh}）；文件未作任何改动。请给出应用写下的日志"
                           "（LSIM_WORKSHOP_DB，默认 workshops/workshops.sqlite）")

    def _unreadable(self, e: sqlite3.Error) -> WorkshopError:
        """The message for an error of SQLite reading the file: not SQLite at all, a damaged
        database, or a file it cannot open."""
        name = getattr(e, "sqlite_errorname", "")
        if name == "SQLITE_NOTADB":  # random bytes, text, a TOML file …
            return self._not_a_log("not an SQLite database", "不是 SQLite 数据库")
        if name == "SQLITE_CORRUPT":
            return self._not_a_log(f"a damaged SQLite database: {e}", f"已损坏的 SQLite 数据库：{e}")
        return self._error(f"cannot read the workshop log {self.path}: {e}",
                           f"无法读取工作坊日志 {self.path}：{e}")

    def _check(self) -> None:
        """That the file is SQLite and holds the table of records as this module makes it (or, when
        it is to be written, holds nothing yet: an empty file becomes a log, another application's
        database does not)."""
        try:
            tables = {n for (n,) in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            columns = [r[1] for r in self._db.execute("PRAGMA table_info(records)")]
        except sqlite3.DatabaseError as e:  # random bytes, text, a damaged database
            raise self._unreadable(e) from e
        if "records" not in tables:
            others = sorted(n for n in tables if not n.startswith("sqlite_"))
            if self.readonly:
                raise self._not_a_log("it holds no table of workshop records" + (
                    f", only {', '.join(others)}" if others else ""),
                    "其中没有工作坊记录表" + (f"，只有 {'、'.join(others)}" if others else ""))
            if others:
                raise self._not_a_log(f"it is another application's database, with tables {', '.join(others)}",
                                      f"它是另一个应用的数据库，含有表 {'、'.join(others)}")
            return
        missing = [c for c in _COLUMNS if c not in columns]
        if missing:
            raise self._not_a_log(f"its table 'records' has the columns {', '.join(columns)}, not "
                                  f"{', '.join(_COLUMNS)}",
                                  f"其 'records' 表的列是 {'、'.join(columns)}，而不是 {'、'.join(_COLUMNS)}")

    def _rows(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.DatabaseError as e:  # damaged pages, a file replaced under us
                raise self._unreadable(e) from e

    def _record(self, row: tuple, i: int | None = None, n: int | None = None) -> Record:
        """A row of the table as a :class:`Record`; :class:`WorkshopError` naming the workshop and the
        record (the ``i``-th of its ``n``) when it cannot be read."""
        s, r, a, k, ac, d = row
        try:
            data = json.loads(d)
        except (TypeError, ValueError) as e:  # json.JSONDecodeError is a ValueError
            raise self.damaged(Record(s, r, a, k, ac, {}), i, n, f"its data is not JSON ({e})",
                               f"其数据不是有效的 JSON（{e}）") from e
        if not isinstance(data, dict):
            raise self.damaged(Record(s, r, a, k, ac, {}), i, n, f"its data is {d!r}, not a JSON object",
                               f"其数据是 {d!r}，而不是 JSON 对象")
        try:
            return Record(int(s), str(r), float(a), str(k), str(ac), data)
        except (TypeError, ValueError) as e:
            raise self.damaged(Record(s, r, a, k, ac, {}), i, n, f"its number {s!r} or time {a!r} is not a number",
                               f"其序号 {s!r} 或时间 {a!r} 不是数字") from e

    def damaged(self, rec: Record, i: int | None, n: int | None, why: str,
                why_zh: str | None = None) -> WorkshopError:
        """The message for record ``rec`` of this log (the ``i``-th of the ``n`` of its workshop, if
        known) that cannot be read or applied, and ``why`` (in Chinese ``why_zh``, default ``why``)."""
        if i is not None:
            nth, nth_zh = f"record {i} of {n} of workshop {rec.room}", f"工作坊 {rec.room} 共 {n} 条记录中的第 {i} 条"
        else:
            nth, nth_zh = f"a record of workshop {rec.room}", f"工作坊 {rec.room} 的一条记录"
        return self._error(f"{self.path}: {nth} (record {rec.seq} of the log, kind {rec.kind!r}) is damaged, so the "
                           f"workshop cannot be rebuilt from it: {why}. The log was not changed",
                           f"{self.path}：{nth_zh}（日志第 {rec.seq} 条，类型 {rec.kind!r}）已损坏，无法据此重建工作坊："
                           f"{why if why_zh is None else why_zh}。日志未作改动")

    # ---- reading and writing -------------------------------------------------------------------
    def append(self, room: str, kind: str, actor: str, data: dict[str, Any]) -> Record:
        """Write one record and commit it; returns it with its sequence number."""
        if self.readonly:
            raise self._error(f"{self.path} was opened to be read only: nothing is written to it",
                              f"{self.path} 以只读方式打开：不会写入任何内容")
        text = json.dumps(data, sort_keys=True, ensure_ascii=False)
        now = time.time()
        with self._lock:
            cur = self._db.execute("INSERT INTO records (room, at, kind, actor, data) VALUES (?, ?, ?, ?, ?)",
                                   (room, now, kind, actor, text))
            seq = int(cur.lastrowid)
        return Record(seq, room, now, kind, actor, json.loads(text))

    def records(self, room: str) -> list[Record]:
        """Every record of workshop ``room``, in the order written."""
        rows = self._rows("SELECT seq, room, at, kind, actor, data FROM records WHERE room = ? ORDER BY seq", (room,))
        return [self._record(row, i, len(rows)) for i, row in enumerate(rows, 1)]

    def rooms(self) -> list[str]:
        """The workshops in the log that were not closed, oldest first."""
        rows = self._rows("SELECT room FROM records GROUP BY room HAVING SUM(kind = 'close') = 0 ORDER BY MIN(seq)")
        return [str(r) for (r,) in rows]

    def __iter__(self) -> Iterator[Record]:
        for row in self._rows("SELECT seq, room, at, kind, actor, data FROM records ORDER BY seq"):
            yield self._record(row)

    def close(self) -> None:
        with self._lock:
            self._db.close()
