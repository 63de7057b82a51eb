"""What the workshop's pages share: the server's registry, keeping a page up to date with its
workshop, the round clock, and the figures of rounds.

- :func:`use_changes` re-renders a component when its workshop changes (another participant decided,
  the facilitator advanced …): a thread of the page waits on :meth:`Workshop.wait_change`.
- :func:`use_clock` re-renders once a second while a round's clock runs.
- :func:`clock_text` the time left of the open round, for everyone (``4:59``; "no deadline"; "locked").
- :func:`query` the page address's query (``code``, ``key``, ``seat``) as a dict.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import parse_qs

import solara

from ..workshop.registry import registry
from ..workshop.room import Workshop
from .i18n import tr

__all__ = ["registry", "use_changes", "use_clock", "clock_text", "query"]


def query(search: str | None) -> dict[str, str]:
    """The page address's query (``code=…&key=…``, with or without its ``?``) as a dict of each
    key's first value, stripped."""
    return {k: v[0].strip() for k, v in parse_qs((search or "").lstrip("?")).items() if v}


def use_changes(ws: Workshop | None) -> int:
    """The workshop's version, re-rendering the calling component whenever it moves."""
    version, set_version = solara.use_state(ws.version if ws is not None else 0)

    def watch(cancel: threading.Event):
        if ws is None:
            return
        seen = ws.version
        set_version(seen)
        while not cancel.is_set():
            v = ws.wait_change(seen, timeout=1.0)
            if v != seen and not cancel.is_set():
                seen = v
                set_version(v)

    solara.use_thread(watch, dependencies=[id(ws)], intrusive_cancel=False)
    return version


def use_clock(ws: Workshop | None) -> float | None:
    """Seconds left of the open round's clock, re-rendering every second while it runs."""
    now, set_now = solara.use_state(time.time())
    running = ws is not None and ws.deadline is not None and not ws.locked

    def tick(cancel: threading.Event):
        while running and not cancel.is_set():
            if cancel.wait(1.0):
                break
            set_now(time.time())

    solara.use_thread(tick, dependencies=[running, id(ws)], intrusive_cancel=False)
    return None if ws is None else ws.seconds_left(now)


def clock_text(ws: Workshop, left: Any = "now") -> str:
    """The open round's clock as everyone sees it."""
    left = ws.seconds_left() if left == "now" else left
    if ws.closed:
        return tr("The workshop has ended", "工作坊已结束")
    if ws.locked:
        return tr("Paused: decisions are locked", "已暂停：决策已锁定")
    if left is None:
        return tr("No deadline", "没有截止时间")
    if left <= 0:
        return tr("Time is up: decisions are locked", "时间到：决策已锁定")
    m, s = divmod(int(round(left)), 60)
    return tr(f"{m}:{s:02d} left", f"剩余 {m}:{s:02d}")
