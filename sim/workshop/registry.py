"""The server's workshops: one log file, the workshops in memory, and who is connected to which seat.

The log file is ``LSIM_WORKSHOP_DB`` (default ``workshops/workshops.sqlite`` in the folder the app
is started from). A workshop is taken from memory, or rebuilt from the log the first time it is
asked for after a restart (:meth:`Registry.get`), so every open workshop survives the server.
Connections are not logged (they are not part of the market): :meth:`Registry.connect` and
:meth:`Registry.disconnect` count the pages showing each seat, for the facilitator's roster.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from .log import EventLog
from .room import Seat, Workshop, WorkshopError

__all__ = ["Registry", "registry", "DEFAULT_DB", "normal_code"]

#: the log file unless LSIM_WORKSHOP_DB says otherwise
DEFAULT_DB = Path("workshops") / "workshops.sqlite"


def normal_code(code: Any) -> str:
    """A room code as typed (spaces, lower case) in the form it is kept in."""
    return "".join(str(code or "").split()).upper()


class Registry:
    """The workshops of one log file (``path``)."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else Path(os.environ.get("LSIM_WORKSHOP_DB") or DEFAULT_DB)
        self._log: EventLog | None = None
        self._rooms: dict[str, Workshop] = {}
        self._lock = threading.Lock()
        self._pages: dict[tuple[str, int, str], set[str]] = {}

    @property
    def log(self) -> EventLog:
        with self._lock:
            if self._log is None:
                self._log = EventLog(self.path)
            return self._log

    def create(self, scenario: str, seed: int = 1, **kw) -> tuple[Workshop, str]:
        """A new workshop (see :meth:`Workshop.create`) and its facilitator key."""
        ws, key = Workshop.create(self.log, scenario, seed, **kw)
        with self._lock:
            self._rooms[ws.code] = ws
        return ws, key

    def get(self, code: Any) -> Workshop:
        """The workshop ``code`` (as typed), from memory or rebuilt from the log; :class:`WorkshopError`
        when there is none."""
        c = normal_code(code)
        if not c or len(c) > 16:
            raise WorkshopError("code", f"no workshop with code {c!r}", None, f"没有代码为 {c!r} 的工作坊")
        with self._lock:
            ws = self._rooms.get(c)
        if ws is not None:
            return ws
        ws = Workshop.resume(self.log, c)
        with self._lock:
            return self._rooms.setdefault(c, ws)

    def codes(self) -> list[str]:
        """The codes of the workshops not closed, oldest first."""
        return self.log.rooms()

    # ---- who is connected ----------------------------------------------------------------------
    def connect(self, code: str, seat: Seat, page: str) -> None:
        with self._lock:
            self._pages.setdefault((code, seat.market, seat.merchant), set()).add(page)

    def disconnect(self, code: str, seat: Seat, page: str) -> None:
        with self._lock:
            self._pages.get((code, seat.market, seat.merchant), set()).discard(page)

    def connected(self, code: str, seat: Seat) -> bool:
        with self._lock:
            return bool(self._pages.get((code, seat.market, seat.merchant)))


_REGISTRY: Registry | None = None
_REG_LOCK = threading.Lock()


def registry() -> Registry:
    """The server's registry (made on first use, from ``LSIM_WORKSHOP_DB``)."""
    global _REGISTRY
    with _REG_LOCK:
        if _REGISTRY is None:
            _REGISTRY = Registry()
        return _REGISTRY
