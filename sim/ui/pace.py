"""Sharing one server's CPU between the markets that play at the same time.

Every browser session that presses Play runs its market in a thread of the one server process.
Python runs one thread's bytecode at a time, so twenty threads stepping and drawing at once do not
go faster than two: they only take turns, and the thread that serves the pages (websockets, button
clicks) waits its turn behind all of them. With a room of participants that is what makes a page
stop answering.

So the play loops take turns explicitly. :data:`GATE` lets at most ``slots`` of them step or draw
at a time, in the order they asked (first come, first served), and the thread that serves the pages
always finds the interpreter free often enough to answer. One slot is the default (the environment
variable ``LOYALTY_SIM_PLAY_SLOTS`` sets another number): with markets of a few thousand customers a
step is mostly Python, so a second loop at work would not add speed, only make a click wait longer
(30 sessions on 2 cores: see docs/performance.md).
And since a redraw (matplotlib figures → PNG) costs ten to twenty times a step of a 2,000-customer
market, a loop redraws less often when many play: :meth:`Gate.min_redraw_gap` grows with the number
of players per slot, so that together the redraws keep to about half of the CPU and the markets
keep moving. The budget counts one core, whatever the machine has: the interpreter runs one
thread's Python at a time, and drawing a figure is nearly all Python.
"""

from __future__ import annotations

import collections
import contextlib
import os
import threading
import time
from typing import Iterator

__all__ = ["Gate", "GATE"]


class Gate:
    """A first-come-first-served semaphore with a count of the loops that use it."""

    def __init__(self, slots: int | None = None, redraw_share: float = 0.5):
        self.slots = max(1, int(slots if slots is not None else 1))
        self.redraw_share = float(redraw_share)
        self._lock = threading.Lock()
        self._free = self.slots
        self._queue: collections.deque[threading.Event] = collections.deque()
        self._urgent: collections.deque[threading.Event] = collections.deque()  # clicks, served first
        self._players = 0
        self._draw_cost = 0.25  # CPU seconds per redraw, a running estimate

    # ---- who plays ------------------------------------------------------------------------------
    @property
    def players(self) -> int:
        return self._players

    @contextlib.contextmanager
    def playing(self) -> Iterator[None]:
        """Count a play loop while it runs."""
        with self._lock:
            self._players += 1
        try:
            yield
        finally:
            with self._lock:
                self._players -= 1

    # ---- taking turns ---------------------------------------------------------------------------
    def acquire(self, cancel: threading.Event | None = None, first: bool = False,
                timeout: float | None = None) -> bool:
        """Wait for a slot, in order of arrival. ``first``: for what a user is waiting on, ahead of
        every waiting loop (and in order among themselves). Returns False (and holds nothing) if
        ``cancel`` is set or ``timeout`` seconds pass while waiting."""
        until = None if timeout is None else time.perf_counter() + timeout
        with self._lock:
            if self._free > 0 and not self._queue and not self._urgent:
                self._free -= 1
                return True
            ev = threading.Event()
            line = self._urgent if first else self._queue
            line.append(ev)
        while not ev.wait(0.05):
            if (cancel is not None and cancel.is_set()) or (until is not None and time.perf_counter() > until):
                with self._lock:
                    if ev.is_set():  # handed a slot just now: give it back
                        self._release_locked()
                    else:
                        line.remove(ev)
                return False
        return True

    def _release_locked(self) -> None:
        if self._urgent:
            self._urgent.popleft().set()  # the slot passes straight to the next click waiting
        elif self._queue:
            self._queue.popleft().set()  # or to the next loop in line
        else:
            self._free += 1

    def release(self) -> None:
        with self._lock:
            self._release_locked()

    @contextlib.contextmanager
    def turn(self, cancel: threading.Event | None = None) -> Iterator[bool]:
        """``with GATE.turn(cancel) as ok:`` — ``ok`` is False if cancelled while waiting."""
        ok = self.acquire(cancel)
        try:
            yield ok
        finally:
            if ok:
                self.release()

    @contextlib.contextmanager
    def priority(self) -> Iterator[None]:
        """Run what a user just asked for (a click on Pause, Step, Reset) ahead of the play loops:
        it takes the next free slot before any waiting loop, so its render does not share the
        interpreter with them. It waits at most a second for the slot (then goes ahead anyway),
        so a click can never be kept waiting by a loop that is itself waiting for the page."""
        ok = self.acquire(first=True, timeout=1.0)
        try:
            yield
        finally:
            if ok:
                self.release()

    # ---- how often to redraw ------------------------------------------------------------------
    def note_draw(self, seconds: float) -> None:
        """Tell the gate how much CPU time a redraw took (a running mean)."""
        self._draw_cost += 0.2 * (max(0.0, seconds) - self._draw_cost)

    def min_redraw_gap(self) -> float:
        """Seconds a loop should leave between two redraws so that all players' redraws together
        take about ``redraw_share`` of one core: 0 while there are no more players than slots."""
        if self._players <= self.slots:
            return 0.0
        return self._draw_cost * self._players / self.redraw_share


def _slots_from_env() -> int:
    try:
        return max(1, int(os.environ.get("LOYALTY_SIM_PLAY_SLOTS", "1")))
    except ValueError:
        return 1


#: The server-wide gate used by the Explore page's play loop.
GATE = Gate(_slots_from_env())
