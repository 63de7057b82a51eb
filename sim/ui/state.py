"""The Explore page's state: one market per browser session, and the play loop.

:class:`ExploreSession` is plain Python (no Solara): the settings the user has edited
(``params``), the seed, the scenario's scheduled events, the running :class:`~sim.model.LoyaltyModel`
and the per-merchant time series the plots draw. Every change goes through its methods, under its
lock, so the play thread and the buttons never step on each other.

The Solara side is a handful of :func:`solara.reactive` values below. Solara keeps one value per
virtual kernel (one per browser tab), so each participant in a room has their own market: nothing
here is shared between sessions. ``session`` is created lazily, per kernel, by a factory: the market
the page's address names (``?market=TOKEN``) when it is kept for this page (a reload; see
:mod:`sim.ui.keep` and :func:`use_market`), else a new one.

Seeds. The seed a user sees and types is a *master* seed, as ``loyalty-sim run --seed`` takes:
the model runs with the first seed spawned from it (:func:`sim.runs.provenance.replicate_seeds`,
``run_seed``), exactly as ``loyalty-sim run`` runs a scenario file with that seed. So the settings
file the page downloads reproduces the page's run.

``version`` is bumped whenever the model has moved (a step, a reset, a policy change): components
that draw the model read it and redraw. ``settings_version`` is bumped when the settings change
(an edit, a scenario, a reset): the control panels read it. Keeping the two apart means the ~60
parameter controls are not re-rendered while the model plays.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import threading
import time
from typing import Any, Callable

import numpy as np
import solara
import solara.toestand

from ..merchants import Merchant
from ..model import STRUCTURAL, LoyaltyModel
from ..params import MERCHANT_PARAMS, PARAMS, Param, ParamError, Params
from ..inputs.scenario import RUN_PARAMS, Scenario, load_scenario, scenario_names
from ..runs.provenance import replicate_seeds
from ..simulate import ScheduledChange
from . import heartbeat, keep
from .pace import GATE, Gate

__all__ = ["ExploreSession", "play_loop", "session", "version", "settings_version", "playing", "speed",
           "redraw_every", "week", "ticked", "selected", "DEFAULT_SCENARIO", "DEFAULT_REDRAW", "SPEEDS", "REDRAWS",
           "MERCHANT_SERIES", "new_seed", "SEED", "STOP_AT", "rendered", "use_market", "page_alive", "page_watching", "silent_text", "set_pace",
           "DISCONNECT_GRACE"]

_log = logging.getLogger(__name__)

#: the scenario a new session starts with
DEFAULT_SCENARIO = "baseline"
#: steps per second offered (0 = as fast as possible)
SPEEDS = (1, 2, 5, 10, 20, 50, 0)
#: "redraw every N steps" offered
REDRAWS = (1, 2, 5, 10, 20)
#: default redraw interval while playing (see benchmarks/app_speed.py)
DEFAULT_REDRAW = 5
#: per-merchant observables kept as time series for the plots
MERCHANT_SERIES = ("loyal_share", "churn_rate", "profit", "market_share", "customers")
#: the seed typed on the Explore page: the range a scenario file's ``[run] seed`` allows (TOML integers
#: are 64-bit, so every seed of the app can be saved and loaded again)
SEED = dataclasses.replace(RUN_PARAMS["seed"], help_en="the random seed of this market: the same seed and "
                           "settings give the same run", help_zh="本市场的随机种子：相同的种子和设置得到相同的运行")
#: "pause at week" (0: never), up to the longest run a scenario file allows
STOP_AT = Param("stop_at", 0, 0, RUN_PARAMS["steps"].hi, "steps", "Pause at week", "在第几周暂停",
                "playing pauses when the market reaches this week (0: never)",
                "播放到市场的这一周时暂停（0 表示不暂停）", "market", "int")


def new_seed() -> int:
    """A fresh seed that is easy to read out and type back in."""
    return secrets.randbelow(1_000_000)


class ExploreSession:
    """One user's market: settings, seed, scheduled events and the running model."""

    def __init__(self, scenario: Scenario | str | None = DEFAULT_SCENARIO):
        self.lock = threading.RLock()
        if isinstance(scenario, str):
            scenario = load_scenario(scenario) if scenario in _names() else None
        self.scenario: Scenario | None = None
        self.params: Params = Params()
        self.events: tuple[ScheduledChange, ...] = ()
        self.seed: int = 0
        self.stop_at: int = 104
        #: the browser session (kernel id) whose page plays this market (see :mod:`sim.ui.keep`)
        self.owner: str | None = None
        #: how its page played it last (Speed, Redraw: :func:`set_pace`), given back with the market on a reload
        self.pace: dict[str, int] = {}
        #: a fixed random key per place, so the plots' sample of customers stays the same from one
        #: redraw to the next (drawn once by the plots of :mod:`sim.ui.plots`, never from the model)
        self.sample_key: np.ndarray | None = None
        #: the week its page's counter was last rendered with (:func:`moved`, :func:`ticked`)
        self.shown_week = -1
        #: how many times the market was started again (:meth:`reset`, :meth:`load`): a play loop
        #: steps only the market it started with (:meth:`step`'s ``run``)
        self.run_no = 0
        if scenario is not None:
            self._take(scenario)
        self._build()

    # ---- building ---------------------------------------------------------------------------
    def _take(self, sc: Scenario) -> None:
        self.scenario = sc
        self.params = sc.params
        self.events = tuple(sc.events)
        self.seed = int(sc.seed) if sc.seed is not None else 0
        self.stop_at = int(sc.steps)

    def _build(self, params: Params | None = None) -> None:
        """A new model from ``params`` (default: the edited settings) and the current seed."""
        self.base_params = params if params is not None else self.params
        #: the model's own seed: the first spawned from :attr:`seed`, as ``loyalty-sim run`` does
        self.run_seed = run_seed(self.seed)
        self.model = LoyaltyModel(self.base_params, seed=self.run_seed)
        # the page's own draws (which customer to show): a stream of its own from the same seed,
        # so looking at customers never changes the run, and the same seed shows the same picks
        self.page_rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(1,)))
        self.user_events: list[ScheduledChange] = []
        self._pending = sorted(self.events, key=lambda e: e.step)
        self.mseries: dict[str, list[list[float]]] = {k: [[] for _ in self.model.merchant_list]
                                                       for k in MERCHANT_SERIES}
        self._fire()
        self._record()

    def _fire(self) -> None:
        """Apply the scenario's scheduled changes that are due (as :func:`sim.simulate` does)."""
        while self._pending and self._pending[0].step <= self.model.steps:
            self._pending.pop(0).apply(self.model)

    def _record(self) -> None:
        for k, rows in self.mseries.items():
            for j, mm in enumerate(self.model.merchant_list):
                rows[j].append(float(getattr(mm, k)))

    # ---- running ----------------------------------------------------------------------------
    def step(self, n: int = 1, run: int | None = None) -> bool:
        """Run ``n`` weeks, up to this server's longest run (:func:`sim.ui.keep.max_weeks`). With
        ``run`` (a :attr:`run_no`), only if the market was not started again since: a play loop
        that had not seen the Pause of a scenario switch yet must not step the new market. Returns
        whether it stepped."""
        last = keep.max_weeks()
        with self.lock:
            if run is not None and run != self.run_no:
                return False
            for _ in range(n):
                if self.model.steps >= last:
                    break
                self.model.step()
                self._fire()
                self._record()
        return True

    @property
    def steps(self) -> int:
        return int(self.model.steps)

    @property
    def size(self) -> int:
        """Customers in the market (what its memory scales with)."""
        return int(self.base_params.n_customers)

    def reset(self, seed: int | None = None) -> None:
        """Start again from the edited settings (edits are kept), with ``seed`` if given."""
        with self.lock:
            if seed is not None:
                self.seed = SEED.validate(seed)  # ParamError (field and range) for a bad one
            self._build()
            self.run_no += 1

    def load(self, sc: Scenario) -> None:
        """Take a scenario's parameters, events, seed and run length, and start it. A scenario
        larger than this server allows raises :class:`ParamError` and changes nothing."""
        keep.check_size(sc.params, "params.n_customers")
        with self.lock:
            self._take(sc)
            self._build()
            self.run_no += 1

    # ---- editing ----------------------------------------------------------------------------
    def pending(self) -> dict[str, Any]:
        """Structural parameters edited but not applied yet (they apply on reset)."""
        return {k: getattr(self.params, k) for k in STRUCTURAL
                if getattr(self.params, k) != getattr(self.base_params, k)}

    def _fresh(self) -> bool:
        return self.model.steps == 0 and not self.user_events

    def set_param(self, name: str, value: Any) -> str:
        """Change a market-wide parameter; returns ``"pending"`` (structural: applies on reset),
        ``"start"`` (the model had not run yet and was rebuilt with it), ``"live"``, or ``"same"``
        when the value is the one already set (nothing is changed or recorded).
        A bad value raises :class:`ParamError` and changes nothing."""
        p = PARAMS[name]
        v = p.validate(value, key=name)
        with self.lock:
            if getattr(self.params, name) == v and (name in STRUCTURAL or getattr(self.model.params, name) == v):
                return "same"
            new = self.params.replace(**{name: v})  # cross-checks (thresholds, degree) raise here
            if name in ("n_customers", "history_limit", "history_depth"):
                keep.check_size(new, name)  # the server's limit per market (LSIM_MAX_CUSTOMERS)
            if name in STRUCTURAL:
                self.params = new
                return "pending"
            if self._fresh():
                base = self.base_params.replace(**{name: v})
                self.params = new
                self._build(base)
                return "start"
            self.model.set_params(**{name: v})
            self.params = new
            self._remember(ScheduledChange(self.model.steps, "market", {name: v}))
            return "live"

    def set_policy(self, merchant: str, field: str, value: Any) -> str:
        """Change one merchant's policy field (``"start"``, ``"live"`` or ``"same"``, as :meth:`set_param`)."""
        if field == "name" or field not in MERCHANT_PARAMS:
            raise ParamError(field, f"'{field}' cannot be changed during a run", None, f"'{field}' 不能在运行中修改")
        v = MERCHANT_PARAMS[field].validate(value, key=f"{merchant}.{field}")
        with self.lock:
            new = _with_merchant(self.params, merchant, field, v)
            if new == self.params and getattr(self.model.merchant(merchant).policy, field) == v:
                return "same"  # (a merchant's own strategy may have moved the running model's value)
            if self._fresh():
                base = _with_merchant(self.base_params, merchant, field, v)
                self.params = new
                self._build(base)
                return "start"
            self.model.set_policy(merchant, **{field: v})
            self.params = new
            self._remember(ScheduledChange(self.model.steps, merchant, {field: v}))
            return "live"

    def _remember(self, change: ScheduledChange) -> None:
        last = self.user_events[-1] if self.user_events else None
        if last is not None and last.step == change.step and last.target == change.target:
            last.changes.update(change.changes)  # several edits while paused at one step: one event
        else:
            self.user_events.append(change)

    # ---- reading ----------------------------------------------------------------------------
    def series(self, name: str) -> np.ndarray:
        """A market observable over the run (index = step)."""
        return np.asarray(self.model.datacollector.model_vars[name], dtype=float)

    def merchant_names(self) -> list[str]:
        return list(self.model.merchant_names)

    def title(self, lang: str = "en") -> str:
        if self.scenario is None:
            return "Default market" if lang != "zh" else "默认市场"
        return self.scenario.text("title", lang)

    # ---- files ------------------------------------------------------------------------------
    def market_csv(self) -> bytes:
        with self.lock:
            df = self.model.datacollector.get_model_vars_dataframe().copy()
        df.index.name = "step"
        df.insert(0, "seed", self.seed)
        df.insert(1, "run_seed", self.run_seed)
        return df.to_csv().encode("utf-8")

    def merchants_csv(self) -> bytes:
        with self.lock:
            df = self.model.datacollector.get_agenttype_vars_dataframe(Merchant).reset_index()
        df = df.rename(columns={"Step": "step"}).drop(columns=["AgentID"])
        df["step"] = df["step"] - df["step"].min()
        df.insert(0, "seed", self.seed)
        df.insert(1, "run_seed", self.run_seed)
        return df.to_csv(index=False).encode("utf-8")

    def to_scenario(self) -> Scenario:
        """This run as a scenario: the settings it started from, the scenario's scheduled changes
        plus the user's changes during the run (as events at the steps they were made), the seed
        and the run length. ``loyalty-sim run`` on its TOML reproduces the run."""
        with self.lock:
            base = self.base_params
            values: dict[str, Any] = {k: getattr(base, k) for k, p in PARAMS.items()
                                      if getattr(base, k) != p.default}
            values["merchants"] = [_explicit(m) for m in base.merchants]
            events = tuple(self.events) + tuple(dataclasses.replace(e, changes=dict(e.changes))
                                                for e in self.user_events)
            steps = max(1, self.stop_at or 0, self.model.steps)
            info = {k: dict(v) for k, v in (self.scenario.info if self.scenario else {}).items()}
            t_en, t_zh = self.title("en"), self.title("zh")
            info["title"] = {"en": f"{t_en} (saved from the app)", "zh": f"{t_zh}（从应用保存）"}
            info["summary"] = {
                "en": f"Settings of a run saved from the loyalty-sim app: seed {self.seed} (the model's own "
                      f"seed {self.run_seed}), {len(self.user_events)} change(s) made during the run, kept as "
                      f"events. `loyalty-sim run` on this file repeats the run.",
                "zh": f"从 loyalty-sim 应用保存的运行设置：随机种子 {self.seed}（模型自身的种子 {self.run_seed}），"
                      f"运行中做出的 {len(self.user_events)} 项修改以事件形式保留。用 `loyalty-sim run` 运行此文件即可重现这次运行。"}
            name = (self.scenario.name if self.scenario else "default") + "_saved"
            return Scenario(name=name, source="loyalty-sim app", params=base, events=events, info=info,
                            steps=steps, seed=int(self.seed), values=values)


def run_seed(seed: int) -> int:
    """The model's seed for the app's seed ``seed``: the seed ``loyalty-sim run`` gives the single
    run of a scenario file whose seed is ``seed``."""
    return replicate_seeds(int(seed), 1)[0]


def _names() -> list[str]:
    try:
        return scenario_names()
    except OSError:
        return []


def _with_merchant(params: Params, name: str, field: str, value: Any) -> Params:
    ms = tuple(m.replace(**{field: value}) if m.name == name else m for m in params.merchants)
    if all(m.name != name for m in params.merchants):
        raise ParamError(name, f"no merchant named {name!r}", None, f"没有名为 {name!r} 的商家")
    return params.replace(merchants=ms)


def _explicit(m) -> dict[str, Any]:
    d = {"name": m.name}
    for k, p in MERCHANT_PARAMS.items():
        if k != "name" and getattr(m, k) != p.default:
            d[k] = getattr(m, k)
    return d


# =================================================================================================
# The play loop
# =================================================================================================
#: least seconds between two updates of the week counter while playing
TICK_GAP = 0.25
#: seconds a market keeps playing without a connected page before it pauses (a page that only
#: lost its connection for a moment reconnects within this, and the market plays on)
DISCONNECT_GRACE = 2.0
#: the server log's line (a warning) when a market pauses because its page is gone
LOST_PAGE_LOG = "lsim-lost-page"


def play_loop(sess: ExploreSession, cancel: threading.Event, *, speed: Callable[[], float],
              every: Callable[[], int], draw: Callable[[], None], stop_at: Callable[[], int] = lambda: 0,
              max_steps: int | None = None, clock=time.perf_counter, sleep=time.sleep,
              gate: Gate | None = None, tick: Callable[[], None] = lambda: None,
              alive: Callable[[], bool] = lambda: True, grace: float = DISCONNECT_GRACE) -> int:
    """Step ``sess`` until ``cancel`` is set, ``stop_at()`` is reached or ``max_steps`` have run.

    ``speed()`` is the target in steps per second (0 = as fast as possible); ``every()`` how many
    steps between redraws; ``draw()`` redraws (in the app: bumps :data:`version`, which renders the
    plots in this thread). Both are read on every step, so the user can change them while it plays.
    ``tick()`` is called after a step that is not redrawn when :data:`TICK_GAP` seconds have passed
    since the last tick or redraw (in the app: updates the week counter; any render of the page costs
    15–20 ms, so not more often), and not at all while redraws are spaced (more markets play than
    there are slots: the counter then moves with the redraws).
    Returns the number of steps run. The model's lock is held only while stepping, so buttons
    (pause, a policy change) get in between steps.

    Every step and every redraw takes a turn at the server-wide ``gate`` (:data:`sim.ui.pace.GATE`),
    so that many sessions playing at once share the cores in turn instead of fighting over them;
    while more sessions play than there are cores, redraws are spaced by at least
    :meth:`~sim.ui.pace.Gate.min_redraw_gap` seconds. A loop that falls behind its speed (a redraw
    took long) catches up for at most a second, then starts counting again.

    ``alive()`` says whether someone still watches (in the app: :func:`page_alive`, the browser
    session has a connected page and still owns the market). When it has said False for ``grace``
    seconds the loop stops, like a Pause: a market whose browser died, slept or lost its network
    stops using the server's CPU."""
    gate = GATE if gate is None else gate
    n = since = 0
    last_draw = last_tick = clock()
    next_at = last_draw
    goal = stop_at()
    goal = goal if goal and goal > sess.steps else 0
    goal = min(goal, keep.max_weeks()) if goal else keep.max_weeks()  # the server's longest run
    lost_at: float | None = None
    gone = False
    run = sess.run_no  # the market this loop plays (a Reset or another scenario ends it)
    with gate.playing():
        while not cancel.is_set():
            if alive():
                lost_at = None
            elif lost_at is None:
                lost_at = clock()
            elif clock() - lost_at >= grace:
                gone = True
                break  # nobody watches any more: pause
            with gate.turn(cancel) as ok:
                if not ok or not sess.step(run=run):
                    break
            n += 1
            since += 1
            last = (max_steps is not None and n >= max_steps) or (goal and sess.steps >= goal)
            gap = gate.min_redraw_gap()
            if last or (since >= max(1, int(every())) and clock() - last_draw >= gap):
                with gate.turn(cancel) as ok:
                    if ok:
                        t0 = time.thread_time()
                        draw()
                        gate.note_draw(time.thread_time() - t0)
                        last_draw = last_tick = clock()
                        since = 0
            elif gap == 0.0 and clock() - last_tick >= TICK_GAP:
                # the week counter alone, between redraws; not while more markets play than there are
                # slots: a render of the page costs about as much as a redraw, so there the counter
                # moves with the (spaced) redraws only
                tick()
                last_tick = clock()
            if last:
                break
            s = float(speed() or 0)
            if s > 0:
                next_at += 1.0 / s
                wait = next_at - clock()
                if wait > 0:
                    if cancel.wait(wait):
                        break
                elif wait < -1.0:
                    next_at = clock()  # far behind: do not try to catch up more than a second
    if gone or (cancel.is_set() and not alive()):  # paused here, or its browser session was closed
        gone = True
        _log.warning("%s: market stopped at week %d, its page is gone", LOST_PAGE_LOG, sess.steps)
    if since and not gone:  # nobody would see a last redraw
        with gate.turn():
            draw()
    return n


# =================================================================================================
# Per-session reactive values
# =================================================================================================
def _kernel():
    """The current browser session's context (None outside a Solara server or test kernel)."""
    try:
        from solara.server import kernel_context

        return kernel_context.get_current_context()
    except Exception:
        return None


def page_alive(ctx=None, sess: ExploreSession | None = None) -> Callable[[], bool]:
    """A check for the play loop: the browser session ``ctx`` (default: the current one) is open,
    has a connected page (or has never had one: a test kernel), and still owns ``sess``."""
    ctx = _kernel() if ctx is None else ctx
    if ctx is None:
        return lambda: True
    from solara.server.kernel_context import PageStatus

    def alive() -> bool:
        if ctx.closed_event.is_set():
            return False
        if sess is not None and sess.owner not in (None, ctx.id):
            return False  # a reload of the page took the market over
        status = tuple(ctx.page_status.values())
        return not status or PageStatus.CONNECTED in status
    return alive


def page_watching(sess: ExploreSession | None = None, ctx=None) -> tuple[Callable[[], bool], heartbeat.Watch | None]:
    """The play loop's ``alive``: :func:`page_alive`, and the page still answers its beats (see
    :mod:`sim.ui.heartbeat`: a page whose computer slept or whose network dropped without closing the
    connection goes silent). Each call of the check sends a beat when one is due. Returns the check and
    the page's watch (None outside a server)."""
    ctx = _kernel() if ctx is None else ctx
    connected = page_alive(ctx, sess)
    if ctx is None:
        return connected, None
    watch = heartbeat.watch_of(ctx.id)

    def alive() -> bool:
        watch.beat()
        return connected() and not watch.silent()
    return alive, watch


#: kernel id → (token, market waiting for the factory, restored?) — filled by :func:`bind`
_BOUND: dict[str, tuple[str, ExploreSession | None, bool]] = {}
_BOUND_LOCK = threading.Lock()


def bind(search: str | None) -> tuple[str | None, bool]:
    """Once per browser session: find the market named in the page's query string (``search``)
    and make it this session's market, or keep this session's own (new) market under a new token.
    Returns ``(token, restored)``; ``(None, False)`` outside a server."""
    ctx = _kernel()
    if ctx is None:
        return None, False
    with _BOUND_LOCK:
        if ctx.id in _BOUND:
            token, _, restored = _BOUND[ctx.id]
            return token, restored
    from urllib.parse import parse_qs

    wanted = (parse_qs(search or "").get(keep.TOKEN_KEY) or [None])[0]
    claimed = keep.KEEPER.claim(wanted, ctx.id, page_alive(ctx))
    if claimed is not None:
        token, restored = wanted, True
        with _BOUND_LOCK:
            _BOUND[ctx.id] = (token, claimed, True)
        if session.value is not claimed:  # the factory had already run: replace its market
            session.set(claimed)
    else:
        restored = False
        with _BOUND_LOCK:
            _BOUND[ctx.id] = (None, None, False)
        token = keep.KEEPER.add(session.value, ctx.id, page_alive(ctx))
        with _BOUND_LOCK:
            _BOUND[ctx.id] = (token, None, False)

    def closed(kid=ctx.id, token=token):
        keep.KEEPER.release(token, kid)
        heartbeat.forget(kid)
        with _BOUND_LOCK:
            _BOUND.pop(kid, None)
    ctx.on_close(closed)
    return token, restored


def _make_session() -> ExploreSession:
    """The factory of :data:`session`: the market :func:`bind` took back for this browser session,
    or a new one."""
    ctx = _kernel()
    if ctx is not None:
        with _BOUND_LOCK:
            token, sess, restored = _BOUND.get(ctx.id, (None, None, False))
            if sess is not None:
                _BOUND[ctx.id] = (token, None, restored)  # handed over: the kernel's store holds it now
                return sess
    return ExploreSession()


@solara.component_vue("market_url.vue")
def _MarketUrl(token: str, key: str = keep.TOKEN_KEY):
    pass


def use_market() -> None:
    """Call first in the Explore page: ties this browser session to the market its address names
    (a reload gets it back, paused) or to a new one, and writes the market's token into the address."""
    router = solara.use_router()
    token, restored = bind(router.search)

    def welcome():
        if restored:
            s = session.value
            if "speed" in s.pace:
                speed.value = s.pace["speed"]
            if "redraw" in s.pace:
                redraw_every.value = s.pace["redraw"]
            notice.value = ("info", _restored_text(s.steps, s.seed))
    solara.use_effect(welcome, [token])
    if token:
        _MarketUrl(token=token)
    ctx = _kernel()
    if ctx is not None:
        heartbeat.Heartbeat(ctx.id)


def silent_text(seconds: float) -> str:
    """The notice of a market paused because its page stopped answering (see :mod:`sim.ui.heartbeat`)."""
    from .i18n import both

    s = int(round(seconds))
    return both(f"Paused: this page did not answer the server for {s} seconds (the computer may have slept or "
              "the network dropped). Press Play to go on.",
              f"已暂停：本页面有 {s} 秒没有回应服务器（电脑可能进入了睡眠，或网络中断了）。按“播放”继续。")


def _restored_text(week_: int, seed: int) -> str:
    from .i18n import both

    return both(f"Your market is back: week {week_}, seed {seed} (paused).",
              f"你的市场已恢复：第 {week_} 周，随机种子 {seed}（已暂停）。")


session: solara.Reactive[ExploreSession] = solara.Reactive(
    solara.toestand.KernelStoreFactory(_make_session, key="sim.ui.state:session"))
version = solara.reactive(0)
week = solara.reactive(0)  # bumped to render the week counter alone between redraws (:func:`ticked`)
settings_version = solara.reactive(0)
playing = solara.reactive(False)
speed = solara.reactive(10)
redraw_every = solara.reactive(DEFAULT_REDRAW)
selected = solara.reactive(-1)  # the customer in the inspector (-1: none)
notice = solara.reactive(("", ""))  # the last message for the user: (kind, text)


def set_pace(steps_per_s: int | None = None, redraw: int | None = None) -> None:
    """The page's Speed (steps per second, 0 = as fast as possible; one of :data:`SPEEDS`) and Redraw
    (every N steps; one of :data:`REDRAWS`), kept with the market too so that a reload gets them
    back. Values not among the choices are ignored."""
    sess = session.value
    if steps_per_s is not None and int(steps_per_s) in SPEEDS:
        speed.value = sess.pace["speed"] = int(steps_per_s)
    if redraw is not None and int(redraw) in REDRAWS:
        redraw_every.value = sess.pace["redraw"] = int(redraw)


def rendered(change: Callable[[], None], rc: Any, cancel: threading.Event | None = None,
             limit: float = 10.0) -> Callable[[], None]:
    """``change`` (e.g. :func:`moved`) for the play thread: make it, then wait until the page has
    been rendered with it.

    A change made in the play thread is normally rendered right there, before the loop goes on. But
    when the page is already rendering in another thread (the user changed Speed, Redraw, a tab …),
    reacton leaves the change to that render and returns at once; a loop that then went on stepping
    would change the model again before that render pass ended, and again, and each change asks the
    other thread for one more pass: the page stopped answering until reacton gave up ("Too many
    renders triggered"). Waiting for that render (``rc`` is the page's render context; at most
    ``limit`` seconds, or until ``cancel``) means the loop never changes the page faster than it is
    drawn."""
    lock = getattr(rc, "thread_lock", None)

    def run() -> None:
        change()
        if lock is None:
            return
        until = time.monotonic() + limit
        while lock.locked() and time.monotonic() < until:  # a render in another thread
            if cancel is not None and cancel.wait(0.005):
                return
            if cancel is None:
                time.sleep(0.005)

    return run


def moved() -> None:
    """The model changed: redraw what shows it (the week counter with it: one render of the page,
    not a second one for the counter)."""
    sess = session.value
    sess.shown_week = sess.steps
    version.value += 1


def ticked() -> None:
    """A step was made: update the week counter (without redrawing the plots), unless the page was
    already rendered at this week."""
    sess = session.value
    if sess.shown_week != sess.steps:
        sess.shown_week = sess.steps
        week.value += 1


def edited() -> None:
    """The settings changed (and the model with them)."""
    settings_version.value += 1
    version.value += 1
