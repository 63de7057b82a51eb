"""Many participants at once: N browser sessions, each playing its own market, on one app server.

    uv run python benchmarks/app_load.py --sessions 30 --customers 2000 --seconds 60
    uv run python benchmarks/app_load.py --sessions 5 --seconds 15 --json
    uv run python benchmarks/app_load.py --url http://127.0.0.1:8765 --pid 12345   # a server already running
    uv run python benchmarks/app_load.py --drop 0                     # no connection dropped

What it does. It starts the app (``solara run app.py --production`` on a free port of 127.0.0.1,
with ``SOLARA_KERNEL_CULL_TIMEOUT`` = ``--cull``) unless ``--url`` is given, and one headless
chromium (Debian's, ``/usr/bin/chromium``). Then, in two phases:

1. one session alone (``--single-seconds``; 0 skips it): the reference;
2. N sessions at once, one browser context each (its own cookies, so its own Solara session).

Each session opens Explore, sets the number of customers (typed, as a user does), types its own
seed (``--seed`` + i) and "Pause at week" 0 (never), then all press Play within a second or two
and play for ``--seconds`` at the page's own speed (``--speed``, default 10 steps/s) and redraw
interval (the default, every 5 steps). Nothing is measured on the server: a script in each page
(a MutationObserver) notes the time of every change of the week counter, as a participant sees it.

Reported, per phase:

- step latency p50 / p95: for each pair of successive counter changes, time between them ÷ weeks
  advanced (weighted by the weeks), pooled over sessions; and the time between two visible updates;
- steps/s per session: weeks advanced in the window ÷ its length (mean and slowest session);
- responsiveness: Pause is clicked in every session at once; the time until the button turns back
  into Play (the server answered), and until the counter stops moving;
- leakage: each session must show its own seed, and its settings file (downloaded from the page)
  must hold its own seed and number of customers;
- server memory (RSS of the server process and its children, psutil): before the N sessions
  (after the single phase closed), the peak while they play, and after they close and the server
  dropped their kernels. Pages are closed the way a browser closes a tab (``beforeunload`` sends
  Solara's close beacon), and a dropped connection is culled after ``--cull``. The server started
  here runs with ``MALLOC_ARENA_MAX=2`` and 64 KiB trim / mmap thresholds so that its RSS follows
  its live heap (glibc's defaults keep freed memory in per-thread arenas); ``--default-malloc``
  turns that off. The first sessions of a server also load what all later ones share (60–90 MB:
  matplotlib, fonts, first renders), so "kept after close" of a first round is not all a leak;
  ``tests/test_load.py`` runs a warm-up round (:func:`warm_up` / a first :func:`run_phase`) first.
- server CPU (cores busy while the sessions play) and chromium's CPU time.
- dropped connections (``--drop K``, default 10): the first K sessions of the N-session phase run in
  a chromium of their own (:class:`browser_kit.KillableBrowser`), which is killed (SIGKILL: no page
  closes, no close beacon) halfway through the window. Reported: how many of their markets the
  server paused because their page was gone (its log's ``lsim-lost-page`` lines), the server's CPU
  before and after the drop, and the steps per second of the surviving sessions before and after
  it: the CPU the dropped markets used goes to the survivors (with more markets than the server
  can run at full speed) or back to idle. Pause, leakage and the per-session figures are over the
  survivors.

The whole machine is shared: chromium renders all N pages on the same cores as the server, and its
CPU time is reported beside the results. ``tests/test_load.py`` runs the same code with 5 sessions.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import signal
import statistics
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from browser_kit import (  # noqa: E402
    AppServer,
    KillableBrowser,
    body_text,
    choose,
    chromium_missing,
    launch_browser,
    open_page,
    open_panel,
    screenshot,
    server_errors,
    tree_rss,
    type_value,
    wait_text,
)
from browser_kit import kernels as server_kernels  # noqa: E402

#: glibc settings for the server started here: freed memory goes back to the system, so that RSS
#: (what is measured) follows the live heap; with the defaults, per-thread arenas keep it
MALLOC_ENV = {"MALLOC_ARENA_MAX": "2", "MALLOC_TRIM_THRESHOLD_": "65536", "MALLOC_MMAP_THRESHOLD_": "65536"}

#: the server started here keeps no market after its page closed (a reload would get it back for
#: LSIM_KEEP_MINUTES, default 10), so that "memory after" measures what closing the sessions freed
KEEP_NONE = {"LSIM_KEEP_MINUTES": "0"}

#: installed in each page: notes every change of the week counter and of the play button
OBSERVER_JS = r"""
() => {
  if (window.__lsim) return true;
  const now = () => performance.timeOrigin + performance.now();
  const rec = {weeks: [], playing: [], pauseAt: null};
  window.__lsim = rec;
  let lastWeek = null, lastPlaying = null;
  const check = () => {
    const c = document.querySelector('.lsim-step-counter');
    if (c) {
      const m = c.textContent.match(/\d+/);
      const w = m ? +m[0] : null;
      if (w !== null && w !== lastWeek) { lastWeek = w; rec.weeks.push([now(), w]); }
    }
    const p = !!document.querySelector('.lsim-pause');
    if (p !== lastPlaying) { lastPlaying = p; rec.playing.push([now(), p]); }
  };
  new MutationObserver(check).observe(document.body,
    {subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['class']});
  check();
  return true;
}
"""

#: added to every page with ``hide_figures``: the figures and the diagram are not drawn
HIDE_FIGURES_JS = r"""
document.addEventListener('DOMContentLoaded', () => {
  const st = document.createElement('style');
  st.textContent = '.lsim-figure img, .lsim-diagram svg { display: none !important; }';
  document.head.appendChild(st);
});
"""

CLICK_JS = r"""
sel => {
  const b = document.querySelector(sel);
  if (!b) return null;
  const t = performance.timeOrigin + performance.now();
  if (sel === '.lsim-pause' && window.__lsim) window.__lsim.pauseAt = t;
  b.click();
  return t;
}
"""


# ------------------------------------------------------------------------------------------------
# results
# ------------------------------------------------------------------------------------------------
@dataclass
class SessionResult:
    index: int
    seed: int
    weeks_start: int
    weeks_end: int
    steps_per_s: float
    latencies: list[tuple[float, int]]  # (seconds per step, weeks advanced) per visible update
    pause_ack_s: float | None  # Pause clicked → the button shows Play
    pause_stop_s: float | None  # Pause clicked → the last change of the counter (0: none after the click)
    steps_after_pause: int | None
    shown_seed: str = ""
    file_seed: int | None = None
    file_customers: int | None = None
    leak: str = ""  # what was wrong, empty when the session showed only its own settings
    problem: str = ""  # the page did not answer Pause: what it showed instead


@dataclass
class PhaseResult:
    sessions: int
    customers: int
    seconds: float
    step_p50_ms: float | None
    step_p95_ms: float | None
    update_p50_ms: float | None
    update_p95_ms: float | None
    steps_per_s_mean: float
    steps_per_s_min: float
    weeks_min: int
    pause_ack_p50_ms: float | None
    pause_ack_max_ms: float | None
    pause_stop_p50_ms: float | None
    pause_stop_max_ms: float | None
    leaks: list[str]
    problems: list[str]  # sessions that did not start or stop playing (what their page showed instead)
    server_errors: list[str]  # errors in the server's log during the phase ("N× message")
    memory_before_mb: float | None
    memory_peak_mb: float | None
    memory_after_mb: float | None
    kernels_after: int | None
    browser_cpu_s: float | None
    server_cpu_cores: float | None  # server CPU seconds ÷ wall seconds while they played
    setup_s: float
    per_session: list[SessionResult] = field(default_factory=list)
    dropped: int = 0  # sessions whose browser was killed halfway
    dropped_paused: int | None = None  # their markets the server paused (log lines "lsim-lost-page")
    server_cpu_before_drop: float | None = None  # cores, from the start of the window to the drop
    server_cpu_after_drop: float | None = None  # cores, from 5 s after the drop to the end of the window
    survivors_steps_per_s_before: float | None = None  # mean over the surviving sessions
    survivors_steps_per_s_after: float | None = None  # from 5 s after the drop to the end of the window


def percentile(values: list[float], q: float, weights: list[int] | None = None) -> float | None:
    """The q-th percentile (0–100) of ``values`` (each counted ``weights[i]`` times)."""
    if not values:
        return None
    if weights is not None:
        values = [v for v, w in zip(values, weights) for _ in range(max(1, int(w)))]
    xs = sorted(values)
    k = (len(xs) - 1) * q / 100.0
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def _week_at(weeks: list[list[float]], t: float) -> int:
    w = weeks[0][1] if weeks else 0
    for tt, ww in weeks:
        if tt > t:
            break
        w = ww
    return int(w)


# ------------------------------------------------------------------------------------------------
# memory sampling
# ------------------------------------------------------------------------------------------------
class MemorySampler:
    """RSS of a process tree, sampled in a thread; ``peak`` since the last ``reset``."""

    def __init__(self, pid: int | None, every: float = 0.25):
        self.pid, self.every = pid, every
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def now(self) -> int | None:
        return tree_rss(self.pid) if self.pid else None

    def start(self) -> None:
        if not self.pid:
            return
        self.peak = self.now() or 0
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, tree_rss(self.pid))

    def stop(self) -> int | None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        return self.peak if self.pid else None


def _server_cpu(pid: int | None) -> float | None:
    """CPU seconds used so far by the server process and its children."""
    if not pid:
        return None
    try:
        import psutil

        root = psutil.Process(pid)
        total = 0.0
        for p in [root, *root.children(recursive=True)]:
            t = p.cpu_times()
            total += t.user + t.system
        return total
    except Exception:  # noqa: BLE001 - informative only
        return None


def _chromium_processes() -> list:
    import psutil

    out = []
    for p in psutil.Process().children(recursive=True):
        try:
            if "chrom" in p.name().lower():
                out.append(p)
        except psutil.Error:
            pass
    return out


def _renice_browser(niceness: int) -> None:
    """Lower the CPU priority of the chromium processes this script started."""
    import psutil

    for p in _chromium_processes():
        try:
            p.nice(max(p.nice(), niceness))
        except psutil.Error:
            pass


def _browser_cpu() -> float | None:
    """CPU seconds used so far by the chromium processes this script started."""
    try:
        import psutil

        total = 0.0
        for p in _chromium_processes():
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
        return total
    except Exception:  # noqa: BLE001 - informative only
        return None


# ------------------------------------------------------------------------------------------------
# one session
# ------------------------------------------------------------------------------------------------
def setup_session(page, customers: int, seed: int, speed: str | None = None) -> None:
    """Set the market size (typed), the seed (typed: resets with it), never pause, the speed."""
    open_panel(page, "lsim-group-customers")
    type_value(page, ".lsim-param-n_customers .lsim-input", customers)
    # the box shows the value (a value equal to the current one records no change, so no notice)
    page.wait_for_function(
        "([sel, v]) => { const e = document.querySelector(sel); return !!e && e.value.replace(/[^0-9]/g, '') === v; }",
        arg=[".lsim-param-n_customers input", str(customers)], timeout=30_000)
    page.locator(".lsim-group-customers .lsim-panel-header").first.click()  # close it again: a lighter page
    type_value(page, ".lsim-seed-input", seed)
    wait_text(page, ".lsim-seed-value", rf"\b{seed}\b")
    page.wait_for_selector(".lsim-pending", state="detached", timeout=30_000)
    type_value(page, ".lsim-stop-at", 0)
    if speed:
        choose(page, ".lsim-speed", speed)
    page.evaluate(OBSERVER_JS)


def check_own_settings(page, seed: int, customers: int, res: SessionResult, files: bool = True) -> None:
    """Leakage check: the page shows its own seed, and its settings file holds its own settings."""
    from sim.inputs.scenario import parse_scenario

    page.wait_for_selector(".lsim-seed-value", timeout=10_000)

    res.shown_seed = page.locator(".lsim-seed-value").inner_text().strip()
    problems = []
    if str(seed) not in res.shown_seed.split():
        problems.append(f"shows {res.shown_seed!r}, not seed {seed}")
    if files:
        with page.expect_download(timeout=60_000) as dl:
            page.locator(".lsim-download-toml").click(timeout=20_000)
        text = Path(dl.value.path()).read_text(encoding="utf-8")
        sc = parse_scenario(text, source=dl.value.suggested_filename)
        res.file_seed, res.file_customers = sc.seed, sc.params.n_customers
        if sc.seed != seed:
            problems.append(f"its settings file has seed {sc.seed}, not {seed}")
        if sc.params.n_customers != customers:
            problems.append(f"its settings file has {sc.params.n_customers} customers, not {customers}")
    res.leak = "; ".join(problems)


def _what_it_shows(page, name: str) -> str:
    """Why a page did not show Play again: still playing, or an error instead of the page."""
    try:
        screenshot(page, name, full=False, folder="load")
    except Exception:  # noqa: BLE001 - the description matters more than the picture
        pass
    try:
        text = body_text(page)
        said = []
        error = re.findall(r"^(\w+(?:Error|Exception): .+)$", text, re.MULTILINE)
        if "Traceback" in text:
            said.append("shows a traceback instead of the page" + (f" ({error[-1][:160]})" if error else ""))
        if "Could not restore session" in text:
            said.append("lost its connection: Solara says 'Could not restore session. Please refresh.'")
        elif "App is disconnected" in text:
            said.append("lost its connection: Solara says 'App is disconnected'")
        if not said and page.locator(".lsim-step-counter").count() == 0:
            said.append(f"shows no Explore page: {' '.join(text.split())[:200]!r}")
        if page.locator(".lsim-pause").count():
            said.append("still shows Pause")
        return "; ".join(said) or "no Play button"
    except Exception as e:  # noqa: BLE001
        return f"the page does not answer ({type(e).__name__})"


def _size(path: Path | None) -> int:
    try:
        return Path(path).stat().st_size if path else 0
    except OSError:
        return 0


def _session_result(i: int, seed: int, rec: dict, t0: float, t1: float) -> SessionResult:
    weeks = rec["weeks"]
    in_window = [(t, w) for t, w in weeks if t0 <= t <= t1]
    lat: list[tuple[float, int]] = []
    for (ta, wa), (tb, wb) in itertools.pairwise(in_window):
        if wb > wa:
            lat.append(((tb - ta) / 1000.0 / (wb - wa), int(wb - wa)))
    w0, w1 = _week_at(weeks, t0), _week_at(weeks, t1)
    sps = (w1 - w0) / max(1e-9, (t1 - t0) / 1000.0)
    ack = stop = after = None
    p = rec.get("pauseAt")
    if p:
        acks = [t for t, playing in rec["playing"] if t >= p and not playing]
        ack = (acks[0] - p) / 1000.0 if acks else None
        later = [(t, w) for t, w in weeks if t >= p]
        stop = (later[-1][0] - p) / 1000.0 if later else 0.0
        after = (later[-1][1] - _week_at(weeks, p)) if later else 0
    return SessionResult(i, seed, w0, w1, sps, lat, ack, stop, after)


# ------------------------------------------------------------------------------------------------
# a phase: N sessions at once
# ------------------------------------------------------------------------------------------------
def run_phase(browser, url: str, n: int, *, customers: int, seconds: float, seed: int = 1000,
              speed: str | None = None, pid: int | None = None, check_files: bool = True,
              settle: float = 3.0, close_timeout: float = 120.0, pause_timeout: float = 120.0,
              viewport=(1100, 800), server_log: Path | None = None, hide_figures: bool = True,
              client_nice: int | None = 10, log=print, drop: int = 0, playwright=None) -> PhaseResult:
    """Open ``n`` sessions, set them up, play them together for ``seconds``, pause, check, close.

    A session whose page does not show Play again within ``pause_timeout`` of the click is reported
    in ``problems`` with what it shows instead (and a screenshot under test-output/load/); the
    errors the server logged meanwhile (``server_log``) are in ``server_errors``.

    The client shares the machine with the server, which N real participants would not: with
    ``hide_figures`` the pages do not draw the figures and the diagram (``display: none``; the
    server still builds and sends every one of them), and ``client_nice`` lowers chromium's CPU
    priority, so that the server is measured rather than one browser drawing N pages.

    ``drop``: the first ``drop`` sessions run in a chromium of their own (``playwright`` is needed
    to start it), killed halfway through the window (see the module's docstring)."""
    import tempfile

    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    drop = max(0, min(int(drop), n - 1))
    mem = MemorySampler(pid)
    before = mem.now()
    log_start = _size(server_log)
    contexts, pages = [], []
    killable = None
    profile = tempfile.TemporaryDirectory(prefix="lsim-drop-") if drop else None
    drop_info: dict[str, Any] = {}
    t_setup = time.monotonic()
    try:
        if drop:
            killable = KillableBrowser(playwright, Path(profile.name))
        for i in range(n):
            where = killable if i < drop else browser
            ctx = where.new_context(viewport={"width": viewport[0], "height": viewport[1]}, accept_downloads=True)
            if hide_figures:
                ctx.add_init_script(HIDE_FIGURES_JS)
            contexts.append(ctx)
            pages.append(open_page(ctx, url))
        if client_nice:
            _renice_browser(client_nice)
        log(f"  {n} session(s) open; setting them up …")
        for i, page in enumerate(pages):
            setup_session(page, customers, seed + i, speed)
        setup_s = time.monotonic() - t_setup
        mem.start()
        cpu0, scpu0, wall0 = _browser_cpu(), _server_cpu(pid), time.monotonic()
        starts = [page.evaluate(CLICK_JS, ".lsim-play") for page in pages]
        if any(s is None for s in starts):
            raise RuntimeError("a session had no Play button")
        broken: dict[int, str] = {}
        deadline = time.monotonic() + pause_timeout
        for i, page in enumerate(pages):
            try:
                page.wait_for_selector(".lsim-pause", timeout=max(1.0, deadline - time.monotonic()) * 1000)
            except PlaywrightTimeout:
                broken[i] = "after Play: " + _what_it_shows(page, f"session-{seed + i}-play")
                log(f"  session {i}: {broken[i]}")
        t0 = max(starts) + 1000.0  # the window starts a second after the last Play
        log(f"  playing for {seconds:g} s …")
        clock = pages[-1]  # a page that stays
        now_ms = "() => performance.timeOrigin + performance.now()"
        if drop:
            clock.wait_for_timeout(1000 + seconds * 500)
            drop_info["cpu_mid"], drop_info["wall_mid"] = _server_cpu(pid), time.monotonic()
            drop_info["t_drop"] = clock.evaluate(now_ms)
            drop_info["log_at"] = _size(server_log)
            log(f"  killing the browser of {drop} session(s) …")
            killable.kill()
            for i in range(drop):
                broken.pop(i, None)
            clock.wait_for_timeout(5000)
            drop_info["cpu_5s"], drop_info["wall_5s"] = _server_cpu(pid), time.monotonic()
            clock.wait_for_timeout(max(1.0, seconds * 500 - 5000))
        else:
            clock.wait_for_timeout(1000 + seconds * 1000)
        t1 = clock.evaluate(now_ms)
        scpu1, wall1 = _server_cpu(pid), time.monotonic()
        for i, page in enumerate(pages):
            if i >= drop and i not in broken:
                page.evaluate(CLICK_JS, ".lsim-pause")
        deadline = time.monotonic() + pause_timeout
        for i, page in enumerate(pages):
            if i in broken or i < drop:
                continue
            try:
                page.wait_for_selector(".lsim-play", timeout=max(1.0, deadline - time.monotonic()) * 1000)
            except PlaywrightTimeout:
                broken[i] = "after Pause: " + _what_it_shows(page, f"session-{seed + i}-pause")
                log(f"  session {i}: {broken[i]}")
        clock.wait_for_timeout(2000)  # a quiet spell: the counters have stopped
        cpu1 = _browser_cpu()
        peak = mem.stop()
        results = []
        for i, page in enumerate(pages):
            if i < drop:
                continue  # its browser is gone
            rec = page.evaluate("() => window.__lsim")
            if drop:
                td = drop_info["t_drop"]
                wa, wb = _week_at(rec["weeks"], t0), _week_at(rec["weeks"], td)
                wc, we = _week_at(rec["weeks"], td + 5000), _week_at(rec["weeks"], t1)
                drop_info.setdefault("before", []).append((wb - wa) / max(1e-9, (td - t0) / 1000))
                drop_info.setdefault("after", []).append((we - wc) / max(1e-9, (t1 - td - 5000) / 1000))
            res = _session_result(i, seed + i, rec, t0, t1)
            if i in broken:
                res.problem = broken[i]
            else:
                try:
                    check_own_settings(page, seed + i, customers, res, files=check_files)
                except Exception as e:  # noqa: BLE001 - e.g. the page lost its connection meanwhile
                    res.problem = "the settings could not be checked: " + _what_it_shows(page, f"session-{seed + i}-check")
                    log(f"  session {i}: {res.problem} ({type(e).__name__})")
            results.append(res)
        errors = server_errors(server_log, log_start)
        if drop and server_log:
            with open(server_log, "rb") as f:
                f.seek(drop_info["log_at"])
                drop_info["paused"] = f.read().decode("utf-8", "replace").count("lsim-lost-page")
    finally:
        mem.stop()
        if killable is not None:
            killable.kill()
        if profile is not None:
            profile.cleanup()
        for page in pages:
            try:
                page.close(run_before_unload=True)  # the browser's close beacon, as a closed tab sends
            except Exception:  # noqa: BLE001
                pass
        for ctx in contexts:
            try:
                ctx.close()
            except Exception:  # noqa: BLE001
                pass
        if killable is not None:
            try:
                killable.browser.close()
            except Exception:  # noqa: BLE001 - it is dead already
                pass
    kernels_after = after = None
    if url:
        deadline = time.monotonic() + close_timeout
        while True:
            try:
                kernels_after = server_kernels(url)
            except OSError:
                kernels_after = None
                break
            if kernels_after == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.25)
    time.sleep(settle)
    after = mem.now()

    ok = [r for r in results if not r.problem] or results  # statistics over the sessions that worked
    lat = [x for r in ok for x in r.latencies]
    per_step = [v for v, _ in lat]
    w = [k for _, k in lat]
    updates = [v * k for v, k in lat]
    acks = [r.pause_ack_s for r in ok if r.pause_ack_s is not None]
    stops = [r.pause_stop_s for r in ok if r.pause_stop_s is not None]
    ms = lambda x: None if x is None else 1000.0 * x  # noqa: E731
    mb = lambda x: None if x is None else x / 1e6  # noqa: E731
    return PhaseResult(
        sessions=n, customers=customers, seconds=(t1 - t0) / 1000.0,
        step_p50_ms=ms(percentile(per_step, 50, w)), step_p95_ms=ms(percentile(per_step, 95, w)),
        update_p50_ms=ms(percentile(updates, 50)), update_p95_ms=ms(percentile(updates, 95)),
        steps_per_s_mean=statistics.fmean(r.steps_per_s for r in ok),
        steps_per_s_min=min(r.steps_per_s for r in ok),
        weeks_min=min(r.weeks_end - r.weeks_start for r in ok),
        pause_ack_p50_ms=ms(percentile(acks, 50)), pause_ack_max_ms=ms(max(acks) if acks else None),
        pause_stop_p50_ms=ms(percentile(stops, 50)), pause_stop_max_ms=ms(max(stops) if stops else None),
        leaks=[f"session {r.index}: {r.leak}" for r in results if r.leak],
        problems=[f"session {r.index}: {r.problem}" for r in results if r.problem],
        server_errors=errors,
        memory_before_mb=mb(before), memory_peak_mb=mb(peak), memory_after_mb=mb(after),
        kernels_after=kernels_after,
        browser_cpu_s=(cpu1 - cpu0) if cpu0 is not None and cpu1 is not None else None,
        server_cpu_cores=(scpu1 - scpu0) / (wall1 - wall0) if scpu0 is not None and scpu1 is not None else None,
        setup_s=setup_s, per_session=results, dropped=drop, dropped_paused=drop_info.get("paused"),
        server_cpu_before_drop=_cores(scpu0, wall0, drop_info.get("cpu_mid"), drop_info.get("wall_mid")),
        server_cpu_after_drop=_cores(drop_info.get("cpu_5s"), drop_info.get("wall_5s"), scpu1, wall1),
        survivors_steps_per_s_before=statistics.fmean(drop_info["before"]) if drop_info.get("before") else None,
        survivors_steps_per_s_after=statistics.fmean(drop_info["after"]) if drop_info.get("after") else None)


def _cores(c0, w0, c1, w1) -> float | None:
    if None in (c0, w0, c1, w1) or w1 <= w0:
        return None
    return (c1 - c0) / (w1 - w0)


def warm_up(browser, url: str, n: int, seconds: float = 3.0, timeout: float = 60.0) -> None:
    """Open ``n`` sessions as they come (no setup), play them for ``seconds``, close them, and wait
    until the server dropped them: the first sessions import and cache what all later ones share,
    which is not a per-session cost."""
    contexts = [browser.new_context(viewport={"width": 1100, "height": 800}) for _ in range(n)]
    try:
        pages = [open_page(ctx, url) for ctx in contexts]
        for page in pages:
            page.evaluate(CLICK_JS, ".lsim-play")
        pages[0].wait_for_timeout(seconds * 1000)
        for page in pages:
            page.evaluate(CLICK_JS, ".lsim-pause")
        for page in pages:
            page.wait_for_selector(".lsim-play", timeout=120_000)
            page.close(run_before_unload=True)
    finally:
        for ctx in contexts:
            ctx.close()
    deadline = time.monotonic() + timeout
    while server_kernels(url) > 0 and time.monotonic() < deadline:
        time.sleep(0.25)


def run_load(url: str, sessions: int, *, customers: int = 2000, seconds: float = 60.0,
             single_seconds: float = 30.0, pid: int | None = None, seed: int = 1000, speed: str | None = None,
             check_files: bool = True, server_log: Path | None = None, hide_figures: bool = True,
             client_nice: int | None = 10, log=print, drop: int = 0) -> dict[str, Any]:
    """The benchmark against a running server: the single-session phase (unless ``single_seconds``
    is 0), then ``sessions`` at once. Returns ``{"single": PhaseResult|None, "multi": PhaseResult}``."""
    from playwright.sync_api import sync_playwright

    out: dict[str, Any] = {"url": url, "single": None, "multi": None}
    with sync_playwright() as p:
        browser = launch_browser(p)
        try:
            if single_seconds > 0:
                log(f"phase 1: one session, {customers:,} customers, {single_seconds:g} s")
                out["single"] = run_phase(browser, url, 1, customers=customers, seconds=single_seconds, seed=seed,
                                          speed=speed, pid=pid, check_files=check_files, server_log=server_log,
                                          hide_figures=hide_figures, client_nice=client_nice, log=log)
            log(f"phase 2: {sessions} sessions at once, {customers:,} customers each, {seconds:g} s"
                + (f"; {drop} of them dropped halfway" if drop else ""))
            out["multi"] = run_phase(browser, url, sessions, customers=customers, seconds=seconds, seed=seed,
                                     speed=speed, pid=pid, check_files=check_files, server_log=server_log,
                                     hide_figures=hide_figures, client_nice=client_nice, log=log, drop=drop,
                                     playwright=p)
        finally:
            browser.close()
    return out


# ------------------------------------------------------------------------------------------------
# command line
# ------------------------------------------------------------------------------------------------
def _f(x: float | None, fmt: str = ".0f") -> str:
    return "—" if x is None else format(x, fmt)


def table(results: dict[str, Any]) -> str:
    rows = [r for r in (results.get("single"), results.get("multi")) if r is not None]
    head = (f"{'sessions':>8} {'step p50':>9} {'step p95':>9} {'update p50':>11} {'update p95':>11} "
            f"{'steps/s':>8} {'slowest':>8} {'pause→Play':>11} {'pause→stop':>11} {'leaks':>6} "
            f"{'mem before':>11} {'peak':>7} {'after':>7} {'kernels':>8} {'browser cpu':>12}")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.sessions:>8} {_f(r.step_p50_ms):>7}ms {_f(r.step_p95_ms):>7}ms {_f(r.update_p50_ms):>9}ms "
            f"{_f(r.update_p95_ms):>9}ms {r.steps_per_s_mean:>8.2f} {r.steps_per_s_min:>8.2f} "
            f"{_f(r.pause_ack_p50_ms):>9}ms {_f(r.pause_stop_p50_ms):>9}ms {len(r.leaks):>6} "
            f"{_f(r.memory_before_mb):>8} MB {_f(r.memory_peak_mb):>4} MB {_f(r.memory_after_mb):>4} MB "
            f"{_f(r.kernels_after, 'd') if r.kernels_after is not None else '—':>8} {_f(r.browser_cpu_s, '.0f'):>10} s")
    notes = [("step p50/p95: seconds between two visible week changes ÷ weeks advanced (pooled over sessions); "
              "update: time between two visible changes; steps/s: mean and slowest session; "
              "pause→Play / pause→stop: p50 over sessions after clicking Pause in all of them at once.")]
    for r in rows:
        if r.pause_ack_max_ms is not None:
            notes.append(f"{r.sessions} session(s): pause→Play max {r.pause_ack_max_ms:.0f} ms, pause→stop max "
                         f"{_f(r.pause_stop_max_ms)} ms; window {r.seconds:.1f} s; setup {r.setup_s:.1f} s; "
                         f"server CPU {_f(r.server_cpu_cores, '.2f')} cores; all sessions together "
                         f"{r.steps_per_s_mean * r.sessions:.1f} steps/s")
        if r.memory_peak_mb is not None and r.memory_before_mb is not None:
            notes.append(f"{r.sessions} session(s): memory {(r.memory_peak_mb - r.memory_before_mb) / r.sessions:.1f} MB "
                         f"per session at the peak; kept after close: "
                         f"{_f(None if r.memory_after_mb is None else r.memory_after_mb - r.memory_before_mb)} MB")
        if r.dropped:
            notes.append(f"{r.sessions} session(s): {r.dropped} connections dropped halfway (browser killed); the "
                         f"server paused {_f(r.dropped_paused, 'd') if r.dropped_paused is not None else '—'} of "
                         f"their markets; server CPU {_f(r.server_cpu_before_drop, '.2f')} cores before the drop, "
                         f"{_f(r.server_cpu_after_drop, '.2f')} after; the {r.sessions - r.dropped} surviving "
                         f"sessions {_f(r.survivors_steps_per_s_before, '.2f')} → "
                         f"{_f(r.survivors_steps_per_s_after, '.2f')} steps/s each")
        for leak in r.leaks:
            notes.append(f"LEAK: {leak}")
        for problem in r.problems:
            notes.append(f"BROKEN SESSION: {problem}")
        for err in r.server_errors[:8]:
            notes.append(f"SERVER ERROR ({r.sessions} session(s)): {err}")
    return "\n".join(lines + notes)


def _jsonable(results: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in results.items():
        out[k] = asdict(v) if isinstance(v, PhaseResult) else v
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=30, help="sessions at once (default 30)")
    ap.add_argument("--customers", type=int, default=2000, help="customers in each session's market (default 2000)")
    ap.add_argument("--seconds", type=float, default=60.0, help="how long the N sessions play (default 60)")
    ap.add_argument("--single-seconds", type=float, default=None,
                    help="how long the single session plays first (default: --seconds, at most 30; 0 skips it)")
    ap.add_argument("--speed", default=None, help="the Speed item to choose, as shown (e.g. '5 steps/s', 'max'); "
                                                  "default: the page's default (10 steps/s)")
    ap.add_argument("--seed", type=int, default=1000, help="session i uses seed SEED+i (default 1000)")
    ap.add_argument("--url", default=None, help="use this running server instead of starting one")
    ap.add_argument("--pid", type=int, default=None, help="with --url: the server's PID, for its memory")
    ap.add_argument("--cull", default="5s", help="SOLARA_KERNEL_CULL_TIMEOUT of the server started here (default 5s)")
    ap.add_argument("--drop", type=int, default=10,
                    help="sessions whose browser is killed halfway through the N-session phase (default 10)")
    ap.add_argument("--no-files", action="store_true", help="skip the settings-file download in the leakage check")
    ap.add_argument("--draw-figures", action="store_true",
                    help="let every page draw its figures and diagram (by default they are hidden: one browser "
                         "drawing N pages on the server's machine is not what N participants' own machines do)")
    ap.add_argument("--client-nice", type=int, default=10,
                    help="CPU niceness of the browser's processes (default 10; 0 leaves them alone)")
    ap.add_argument("--default-malloc", action="store_true",
                    help="run the server with glibc's default malloc settings (by default MALLOC_ARENA_MAX=2 and "
                         "64 KiB trim/mmap thresholds, so that its RSS follows its live heap)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON (progress goes to stderr)")
    a = ap.parse_args(argv)
    if a.sessions < 1 or a.customers < 2 or a.seconds <= 0:
        ap.error("--sessions must be ≥ 1, --customers ≥ 2 and --seconds > 0")
    # a terminated benchmark still stops the server it started (the finally blocks run)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    why = chromium_missing()
    if why:
        print(f"app_load: {why}", file=sys.stderr)
        return 2
    single = min(a.seconds, 30.0) if a.single_seconds is None else a.single_seconds
    log = (lambda *x: print(*x, file=sys.stderr, flush=True)) if a.json else (lambda *x: print(*x, flush=True))
    server = None
    url, pid = a.url, a.pid
    if url is None:
        server = AppServer(cull=a.cull, env={**({} if a.default_malloc else MALLOC_ENV), **KEEP_NONE})
        log(f"starting the app server on {server.url} …")
        server.start()
        url, pid = server.url, server.pid
    try:
        started = server.rss() if server else None
        results = run_load(url, a.sessions, customers=a.customers, seconds=a.seconds, single_seconds=single,
                           pid=pid, seed=a.seed, speed=a.speed, check_files=not a.no_files,
                           server_log=server.log_path if server else None, hide_figures=not a.draw_figures,
                           client_nice=a.client_nice or None, log=log, drop=a.drop)
        results["memory_at_start_mb"] = started / 1e6 if started else None
    finally:
        if server is not None:
            server.stop()
    if a.json:
        print(json.dumps(_jsonable(results), indent=1))
    else:
        print()
        print(f"loyalty-sim app under load: {a.customers:,} customers per session, speed "
              f"{a.speed or 'default (10 steps/s)'}, redraw every 5 steps (default); pages "
              f"{'draw' if a.draw_figures else 'hide'} their figures; browser nice {a.client_nice}")
        print(table(results))
        if results.get("memory_at_start_mb"):
            print(f"server memory at start (no session yet): {results['memory_at_start_mb']:.0f} MB")
    multi = results["multi"]
    lost = multi.dropped and multi.dropped_paused is not None and multi.dropped_paused != multi.dropped
    return 1 if multi.leaks or multi.problems or lost else 0


if __name__ == "__main__":
    sys.exit(main())
