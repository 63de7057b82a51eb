"""The server's workshops: one log file, the workshops in memory, and who is connected to which seat.

The log file is ``LSIM_WORKSHOP_DB`` (default ``workshops/workshops.sqlite`` in the folder the app
is started from). A workshop is taken from memory, or rebuilt from the log the first time it is
asked for after a restart (:meth:`Registry.get`), so every open workshop survives the server.
Connections are not logged (they are not part of the market): :meth:`Registry.connect` and
:meth:`Registry.disconnect` count the pages showing each seat, for the facilitator's roster.

A server holds at most ``LSIM_MAX_WORKSHOPS`` open workshops (default 8): anyone who can open the
facilitator's page can create one, and each holds its markets in memory until it is closed (a
closed one leaves memory when the next is created); the next one is refused with a message saying
so until one is closed.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from ..inputs.environment import env_number
from .log import EventLog
from .room import Seat, Workshop, WorkshopError

__all__ = ["Registry", "registry", "DEFAULT_DB", "DEFAULT_MAX_WORKSHOPS", "max_workshops", "normal_code"]

#: the log file unless LSIM_WORKSHOP_DB says otherwise
DEFAULT_DB = Path("workshops") / "workshops.sqlite"


#: open workshops a server holds at most unless LSIM_MAX_WORKSHOPS says otherwise
DEFAULT_MAX_WORKSHOPS = 8


def max_workshops() -> int:
    """The most open workshops this server holds (``LSIM_MAX_WORKSHOPS``, at least 1)."""
    return int(env_number("LSIM_MAX_WORKSHOPS", DEFAULT_MAX_WORKSHOPS, 1))


def normal_code(code: Any) -> str:
    """A room code as typed (spaces, lower case) in the form it is kept in."""
    return "".join(str(code or "").split()).upper()


class Registry:
    """The workshops of one log file (``path``); ``readonly``: only read it (see
    :class:`sim.workshop.log.EventLog`), as the command line does."""

    def __init__(self, path: str | Path | None = None, readonly: bool = False):
        self.path = Path(path) if path is not None else Path(os.environ.get("LSIM_WORKSHOP_DB") or DEFAULT_DB)
        self.readonly = readonly
        self._log: EventLog | None = None
        self._rooms: dict[str, Workshop] = {}
        self._lock = threading.Lock()
        self._create_lock = threading.Lock()
        self._pages: dict[tuple[str, int, str], set[str]] = {}

    @property
    def log(self) -> EventLog:
        with self._lock:
            if self._log is None:
                self._log = EventLog(self.path, readonly=self.readonly)
            return self._log

    def create(self, scenario: str, seed: int = 1, **kw) -> tuple[Workshop, str]:
        """A new workshop (see :meth:`Workshop.create`) and its facilitator key; refused
        (:class:`WorkshopError`, key ``workshops``) when :func:`max_workshops` are open already."""
        with self._create_lock:  # (two facilitators at once cannot both take the last place)
            most, open_now = max_workshops(), len(self.codes())
            if open_now >= most:
                raise WorkshopError(
                    "workshops",
                    f"this server already holds {open_now} open workshops, its most (LSIM_MAX_WORKSHOPS = {most}): "
                    "close one on its facilitator's page, or restart the server with a larger LSIM_MAX_WORKSHOPS",
                    None,
                    f"本服务器已有 {open_now} 个未关闭的工作坊，已达上限（LSIM_MAX_WORKSHOPS = {most}）："
                    "请在某个工作坊的主持人页面将其关闭，或用更大的 LSIM_MAX_WORKSHOPS 重新启动服务器")
            ws, key = Workshop.create(self.log, scenario, seed, **kw)
            with self._lock:
                # closed workshops leave memory (pages still showing one keep it until they close;
                # asked for again, it is rebuilt from the log)
                self._rooms = {c: w for c, w in self._rooms.items() if not w.closed}
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
