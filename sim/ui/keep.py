"""Markets that outlive a page for a while, and nothing longer; and the size a server allows.

Every Explore market gets a token, written into the page's address (``/?market=TOKEN``). While the
page is open its browser session (Solara's virtual kernel) holds the market. When the page is
reloaded, the new page finds the token in its address and takes the same market back (same week,
seed and settings, paused); when a browser is closed, dies or loses its connection, the market is
*released* and kept here for :func:`keep_seconds` (``LSIM_KEEP_MINUTES``, default 10 minutes),
then dropped, so its memory comes back. At most :func:`keep_most` released markets are kept
(``LSIM_KEEP_MARKETS``, default 40), holding together at most :data:`KEPT_CUSTOMERS_FACTOR` ×
``LSIM_MAX_CUSTOMERS`` customers; beyond either the oldest go first. Nothing here is shared between
participants: a token is a random 128-bit string, and a market held by a page that is still
connected is never handed to another page (that page gets a market of its own).

The market's play loop pauses as soon as its page is gone (see :func:`sim.ui.state.play_loop`);
the browser session itself is closed by Solara after ``SOLARA_KERNEL_CULL_TIMEOUT`` without a
connection. Solara's default is 24 hours; :func:`serve_defaults` (called by ``app.py``) makes it
:data:`DEFAULT_CULL` unless the trainer set that variable.

Limits on a market's size, per session (set by the trainer in the environment of ``solara run``):
``LSIM_MAX_CUSTOMERS`` (default :data:`DEFAULT_MAX_CUSTOMERS`) caps the number of customers, and
the customers' recorded history (recorded customers × weeks kept) may hold at most that many
customers × :data:`HISTORY_WEEKS_PER_CUSTOMER` entries. See :func:`check_size`. A market's
recorded series grow with every week it plays, so it stops at week ``LSIM_MAX_WEEKS`` (default
:data:`DEFAULT_MAX_WEEKS`, a century of weeks): :func:`max_weeks`.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import threading
import time
from typing import Any, Callable

from ..inputs.environment import env_number
from ..params import ParamError

__all__ = ["Keeper", "KEEPER", "keep_seconds", "keep_most", "max_customers", "max_weeks", "weeks_text", "check_size",
           "serve_defaults",
           "DEFAULT_CULL", "DEFAULT_MAX_CUSTOMERS", "TOKEN_KEY"]

#: the query-string key of the token in the page's address
TOKEN_KEY = "market"
#: how long Solara keeps a browser session with no connection, unless SOLARA_KERNEL_CULL_TIMEOUT says
DEFAULT_CULL = "2m"
#: customers per market allowed unless LSIM_MAX_CUSTOMERS says otherwise
DEFAULT_MAX_CUSTOMERS = 100_000
#: weeks a market may run unless LSIM_MAX_WEEKS says otherwise
DEFAULT_MAX_WEEKS = 5200
#: released markets kept hold together at most this many times the customers one market may have
KEPT_CUSTOMERS_FACTOR = 5
#: weeks of recorded history allowed per allowed customer (history_limit × history_depth budget)
HISTORY_WEEKS_PER_CUSTOMER = 52


def keep_seconds() -> float:
    """How long a released market is kept (``LSIM_KEEP_MINUTES``, default 10)."""
    return 60.0 * env_number("LSIM_KEEP_MINUTES", 10.0, 0.0)


def keep_most() -> int:
    """How many released markets are kept at most (``LSIM_KEEP_MARKETS``, default 40)."""
    return int(env_number("LSIM_KEEP_MARKETS", 40, 0))


def max_customers() -> int:
    """The most customers a market may have on this server (``LSIM_MAX_CUSTOMERS``)."""
    return int(env_number("LSIM_MAX_CUSTOMERS", DEFAULT_MAX_CUSTOMERS, 2))


def max_weeks() -> int:
    """The last week a market may reach on this server (``LSIM_MAX_WEEKS``)."""
    return int(env_number("LSIM_MAX_WEEKS", DEFAULT_MAX_WEEKS, 1))


def weeks_text(week: int, lang: str) -> str:
    """The message when a market reached :func:`max_weeks`."""
    if lang == "zh":
        return f"第 {week:,} 周是本服务器允许的最长运行（由培训者通过 LSIM_MAX_WEEKS 设置）；已暂停。"
    return f"Week {week:,} is the longest run this server allows (set by the trainer: LSIM_MAX_WEEKS); paused."


def check_size(params: Any, key: str = "n_customers") -> None:
    """Raise :class:`ParamError` (naming ``key``, in English and Chinese) if ``params`` describe a
    market larger than this server allows per session; nothing otherwise."""
    from ..params import PARAMS

    most = max_customers()
    n = int(params.n_customers)
    how_en = "the limit per market on this server, set by the trainer (LSIM_MAX_CUSTOMERS)"
    how_zh = "本服务器每个市场的上限（由培训者通过 LSIM_MAX_CUSTOMERS 设置）"
    if n > most:
        p = PARAMS["n_customers"]
        raise ParamError(key, f"{p.label('en')} ('{key}') = {n:,}: more than {how_en}, at most {most:,}; "
                              f"not applied", None,
                         f"{p.label('zh')}（'{key}'）= {n:,}：超过了{how_zh}，最多 {most:,}；未应用")
    cells = min(n, int(params.history_limit)) * int(params.history_depth)
    budget = most * HISTORY_WEEKS_PER_CUSTOMER
    if cells > budget:
        lim, dep = PARAMS["history_limit"], PARAMS["history_depth"]
        raise ParamError(key, f"'{key}': the customers' history would keep {cells:,} customer-weeks "
                              f"({lim.label('en')} × {dep.label('en')}, at most the number of customers × "
                              f"{dep.label('en')}), more than {how_en}, at most {budget:,}; not applied", None,
                         f"'{key}'：客户历史将记录 {cells:,} 个“客户·周”（{lim.label('zh')} × {dep.label('zh')}，"
                         f"前者不超过客户数），超过了{how_zh}，最多 {budget:,}；未应用")


def serve_defaults() -> None:
    """Server settings the app needs: a browser session without a connection is closed after
    :data:`DEFAULT_CULL` (not Solara's 24 hours) unless ``SOLARA_KERNEL_CULL_TIMEOUT`` is set."""
    if os.environ.get("SOLARA_KERNEL_CULL_TIMEOUT"):
        return
    try:
        import solara.server.settings as settings
    except ImportError:  # pragma: no cover
        return
    settings.kernel.cull_timeout = DEFAULT_CULL


@dataclasses.dataclass
class _Kept:
    market: Any
    holder: str | None  # the browser session (kernel id) holding it; None once released
    alive: Callable[[], bool]  # whether the holder still has a connected page
    released: float | None = None


class Keeper:
    """Markets by token: held by a browser session, or released and kept for a while."""

    def __init__(self, seconds: Callable[[], float] = keep_seconds, most: Callable[[], int] = keep_most,
                 clock: Callable[[], float] = time.monotonic, sweep_every: float = 20.0,
                 size: Callable[[Any], int] = lambda m: int(getattr(m, "size", 0)),
                 budget: Callable[[], int] = lambda: KEPT_CUSTOMERS_FACTOR * max_customers()):
        self._seconds, self._most, self._clock = seconds, most, clock
        self._size, self._budget = size, budget
        self._lock = threading.Lock()
        self._kept: dict[str, _Kept] = {}
        self._sweep_every = sweep_every
        self._sweeper: threading.Thread | None = None

    def __len__(self) -> int:
        return len(self._kept)

    def released(self) -> int:
        """Markets kept without a holder."""
        with self._lock:
            return sum(k.holder is None for k in self._kept.values())

    def add(self, market: Any, holder: str, alive: Callable[[], bool]) -> str:
        """Keep ``market``, held by ``holder``; returns its new token."""
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._kept[token] = _Kept(market, holder, alive)
        market.owner = holder
        self._start_sweeper()
        self.sweep()
        return token

    def claim(self, token: str | None, holder: str, alive: Callable[[], bool], wait: float = 3.0,
              poll: float = 0.1) -> Any | None:
        """The market of ``token`` for ``holder``, or None (unknown, expired, or still held by a page
        that stays connected for ``wait`` seconds: a reload's old page usually goes within one)."""
        if not token:
            return None
        until = time.monotonic() + wait
        while True:
            with self._lock:
                k = self._kept.get(token)
                if k is None:
                    return None
                if k.holder in (None, holder) or not k.alive():
                    k.holder, k.alive, k.released = holder, alive, None
                    k.market.owner = holder  # a play loop of the previous holder stops at its next step
                    return k.market
            if time.monotonic() >= until:
                return None
            time.sleep(poll)

    def release(self, token: str | None, holder: str) -> None:
        """``holder`` is gone (its browser session closed): keep the market for a while."""
        with self._lock:
            k = self._kept.get(token or "")
            if k is not None and k.holder == holder:
                k.holder, k.released = None, self._clock()
                k.alive = lambda: False
        self.sweep()

    def sweep(self) -> None:
        """Drop released markets older than the keeping time, then the oldest beyond the count or
        the customers' budget."""
        now, keep, most, budget = self._clock(), self._seconds(), self._most(), self._budget()
        with self._lock:
            gone = [t for t, k in self._kept.items() if k.holder is None and now - k.released >= keep]
            for t in gone:
                del self._kept[t]
            free = sorted(((k.released, t) for t, k in self._kept.items() if k.holder is None), reverse=True)
            total = 0
            for i, (_, t) in enumerate(free):  # newest first: keep while within count and budget
                total += self._size(self._kept[t].market)
                if i >= most or total > budget:
                    del self._kept[t]

    def _start_sweeper(self) -> None:
        if self._sweeper is not None and self._sweeper.is_alive():
            return

        def run():
            while True:
                time.sleep(self._sweep_every)
                try:
                    self.sweep()
                except Exception:  # pragma: no cover - never let the sweeper die
                    pass

        self._sweeper = threading.Thread(target=run, name="lsim-market-sweeper", daemon=True)
        self._sweeper.start()


#: the server's markets by token (one process serves every participant)
KEEPER = Keeper()
