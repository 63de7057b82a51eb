"""Whether a page still answers: a market stops when its page has gone quiet.

A browser that is closed or killed closes its connection, and the server knows at once (see
:func:`sim.ui.state.page_alive`). A laptop that goes to sleep, or a Wi-Fi that drops without the
connection being closed, leaves the server with a connection that looks open: nothing arrives and
nothing fails, and the web server's own ping notices only after about 40 seconds. Meanwhile the
market would go on playing for nobody.

So, while a market plays, the server sends its page a *beat* (a number counting up, at most every
:data:`BEAT_GAP` seconds) through a hidden widget (``heartbeat.vue``), and the page answers each
beat as it arrives. A page that has left a beat unanswered for :data:`ANSWER_WAIT` seconds is
*silent*, and the play loop pauses its market as it does for a closed page. The answer is sent by
the message itself, not by a timer in the page, so a page in a background tab (whose timers the
browser slows down) still answers in time. Nothing is sent while the market is paused.

One :class:`Watch` per browser session (Solara's virtual kernel), made by :func:`watch_of`;
:func:`Heartbeat` puts the widget in the page and ties it to its watch.
"""

from __future__ import annotations

import collections
import threading
import time
from typing import Callable

import ipyvue
import solara
import traitlets

__all__ = ["Watch", "watch_of", "forget", "Heartbeat", "BEAT_GAP", "ANSWER_WAIT"]

#: least seconds between two beats sent to one page
BEAT_GAP = 2.0
#: seconds a beat may stay unanswered before the page counts as silent
ANSWER_WAIT = 8.0


class Watch:
    """The beats sent to one page and its answers. ``send(n)`` puts beat ``n`` into the page (the
    widget's trait); :meth:`beat` sends one when due; :meth:`answered` takes the page's answer."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, gap: float = BEAT_GAP,
                 wait: float = ANSWER_WAIT):
        self._clock = clock
        self.gap = gap
        self.wait = wait
        self._lock = threading.Lock()
        self._send: Callable[[int], None] | None = None
        self._count = 0
        self._last_sent = -float("inf")
        self._waiting: collections.deque[tuple[int, float]] = collections.deque(maxlen=256)

    def attach(self, send: Callable[[int], None] | None) -> None:
        """Beats go through ``send`` from now on (None: no page to send to; nothing is waited for)."""
        with self._lock:
            self._send = send
            self._waiting.clear()
            self._last_sent = -float("inf")

    def beat(self) -> None:
        """Send the next beat if :attr:`gap` seconds have passed since the last one."""
        with self._lock:
            now = self._clock()
            if self._send is None or now - self._last_sent < self.gap:
                return
            self._count += 1
            n, send = self._count, self._send
            self._last_sent = now
            self._waiting.append((n, now))
        send(n)

    def answered(self, n) -> None:
        """The page answered beat ``n`` (and so every beat before it)."""
        try:
            n = int(n)
        except (TypeError, ValueError):
            return
        with self._lock:
            while self._waiting and self._waiting[0][0] <= n:
                self._waiting.popleft()

    def silent_for(self) -> float:
        """Seconds the oldest unanswered beat has waited (0 when every beat was answered)."""
        with self._lock:
            return max(0.0, self._clock() - self._waiting[0][1]) if self._waiting else 0.0

    def silent(self) -> bool:
        """Whether the page has left a beat unanswered for longer than :attr:`wait` seconds."""
        return self.silent_for() > self.wait

    def rest(self) -> None:
        """The market paused: forget the beats in flight (a paused market sends none)."""
        with self._lock:
            self._waiting.clear()


_WATCHES: dict[str, Watch] = {}
_LOCK = threading.Lock()


def watch_of(page: str) -> Watch:
    """The watch of the browser session ``page`` (its kernel id), made on first use."""
    with _LOCK:
        w = _WATCHES.get(page)
        if w is None:
            w = _WATCHES[page] = Watch()
        return w


def forget(page: str) -> None:
    """Drop the watch of a browser session that has closed."""
    with _LOCK:
        _WATCHES.pop(page, None)


class BeatWidget(ipyvue.VueTemplate):
    """The hidden widget that carries beats to the page and answers back."""

    template_file = (__file__, "heartbeat.vue")
    beat = traitlets.Int(0).tag(sync=True)
    page = traitlets.Unicode("")  # the browser session's id (not sent to the page)

    def vue_answer(self, data, buffers=None):
        with _LOCK:
            w = _WATCHES.get(self.page)
        if w is not None:
            w.answered(data)


@solara.component
def Heartbeat(page: str):
    """Put the beat widget of browser session ``page`` into the page and tie it to its watch."""
    el = BeatWidget.element(page=page)

    def tie():
        widget = solara.get_widget(el)
        w = watch_of(page)

        def send(n: int) -> None:
            widget.beat = n
        w.attach(send)

        def untie():
            w.attach(None)
        return untie
    solara.use_effect(tie, [page])
    return el
