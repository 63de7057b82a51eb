"""The app's markets and the server they share (issue 17, items 5 and 6), without a browser.

- The settings file the Explore page downloads reproduces the page's run with the command line:
  ``loyalty-sim run FILE.toml`` gives, week by week, the numbers the page showed.
- A market whose page is gone stops playing within the grace period (:func:`state.play_loop`'s
  ``alive``), and a kept market is dropped after its keeping time (:class:`sim.ui.keep.Keeper`).
- The server's limit on a market's size (``LSIM_MAX_CUSTOMERS``): an edit or a file over it is
  refused with a message naming the field, in English and Chinese, and changes nothing.

The real-browser side (a killed browser, a reload) is in ``tests/test_browser_sessions.py``.
"""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest
from click.testing import CliRunner

from sim.cli import cli
from sim.inputs.scenario import parse_scenario
from sim.params import ParamError
from sim.runs import read_results
from sim.ui import keep, state
from sim.ui.files import handle_upload, toml_text
from sim.ui.pace import Gate


def test_the_downloaded_settings_reproduce_the_app_run_with_the_cli(tmp_path):
    sess = state.ExploreSession("baseline")
    sess.reset(seed=12345)
    sess.step(12)
    sess.set_policy("B", "quality", 0.71)  # a change made while it runs: an event at week 12
    sess.step(18)
    assert sess.steps == 30
    path = tmp_path / "from_the_app.toml"
    path.write_text(toml_text(sess), encoding="utf-8")
    out = tmp_path / "cli"
    res = CliRunner().invoke(cli, ["run", str(path), "--steps", "30", "--workers", "1", "--no-figures",
                                   "--out", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    market = read_results(out).market
    assert len(market) == 31
    app = sess.model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    for col in ("active", "loyal_share", "churn_rate", "satisfaction", "trust"):
        assert list(market[col]) == pytest.approx(list(app[col]), abs=1e-12), col
    assert int(market["active"].iloc[30]) == int(sess.model.metrics["active"])
    # every output names its seed: the CLI's run seed is the app's run_seed, shown in its CSV
    assert set(market["seed"]) == {sess.run_seed}
    csv = pd.read_csv(pd.io.common.BytesIO(sess.market_csv()))
    assert set(csv["seed"]) == {12345} and set(csv["run_seed"]) == {sess.run_seed}
    assert parse_scenario(path.read_text(encoding="utf-8"), source="x.toml").seed == 12345


# ---- a page that is gone -------------------------------------------------------------------------
def test_the_play_loop_pauses_when_nobody_watches():
    sess = state.ExploreSession(None)
    sess.set_param("n_customers", 200)
    sess.reset()
    watched = threading.Event()
    watched.set()
    cancel = threading.Event()
    done: list[int] = []
    th = threading.Thread(target=lambda: done.append(state.play_loop(
        sess, cancel, speed=lambda: 50, every=lambda: 5, draw=lambda: None, gate=Gate(1),
        alive=watched.is_set, grace=0.5)))
    th.start()
    time.sleep(0.6)
    assert th.is_alive() and sess.steps > 5  # playing while watched
    watched.clear()  # the page is gone
    th.join(timeout=5)
    try:
        assert not th.is_alive(), "the market kept playing without a page"
        stopped = sess.steps
        time.sleep(0.3)
        assert sess.steps == stopped
        assert stopped < 10 + 50 * (0.6 + 0.5 + 0.5)  # it stopped within the grace, not later
    finally:
        cancel.set()
        th.join(timeout=5)


def test_a_page_that_comes_back_within_the_grace_keeps_playing():
    sess = state.ExploreSession(None)
    sess.set_param("n_customers", 200)
    sess.reset()
    flags = iter([True] * 5 + [False] * 3 + [True] * 1000)
    n = state.play_loop(sess, threading.Event(), speed=lambda: 0, every=lambda: 5, draw=lambda: None,
                        gate=Gate(1), alive=lambda: next(flags), grace=10.0, max_steps=40)
    assert n == 40


def test_the_play_loop_stops_when_a_reload_took_the_market_over():
    from solara.server import kernel, kernel_context

    ctx = kernel_context.VirtualKernelContext(id="old-page", kernel=kernel.Kernel(), session_id="s")
    sess = state.ExploreSession(None)
    alive = state.page_alive(ctx, sess)
    assert alive()
    sess.owner = "new-page"
    assert not alive()
    sess.owner = "old-page"
    ctx.page_status["p1"] = kernel_context.PageStatus.DISCONNECTED
    assert not alive()
    ctx.page_status["p1"] = kernel_context.PageStatus.CONNECTED
    assert alive()
    ctx.closed_event.set()  # what close() ends with
    assert not alive()


# ---- keeping markets for a while -----------------------------------------------------------------
class _Market:
    def __init__(self, size=1000):
        self.size, self.owner = size, None


def _keeper(now, **kw):
    return keep.Keeper(seconds=lambda: 600, most=lambda: 3, clock=lambda: now[0], sweep_every=3600, **kw)


def test_a_released_market_is_taken_back_then_dropped_after_its_time():
    now = [0.0]
    k = _keeper(now)
    m = _Market()
    token = k.add(m, "page-1", lambda: True)
    assert m.owner == "page-1"
    # held by a page that stays connected: another page does not get it
    assert k.claim(token, "page-2", lambda: True, wait=0.2, poll=0.05) is None
    k.release(token, "page-1")  # the browser session closed
    now[0] = 300
    assert k.claim(token, "page-3", lambda: True) is m and m.owner == "page-3"  # a reload
    k.release(token, "page-3")
    now[0] = 300 + 601
    k.sweep()
    assert len(k) == 0 and k.claim(token, "page-4", lambda: True) is None


def test_a_disconnected_holder_gives_the_market_to_the_reloaded_page():
    k = _keeper([0.0])
    m = _Market()
    token = k.add(m, "old", lambda: False)  # the old page lost its connection; its session lingers
    assert k.claim(token, "new", lambda: True, wait=0) is m and m.owner == "new"
    k.release(token, "old")  # the old session closes later: the new page keeps the market
    assert k.released() == 0


def test_kept_markets_are_bounded_in_count_and_customers():
    now = [0.0]
    k = _keeper(now, budget=lambda: 5000)
    tokens = []
    for i in range(5):
        tokens.append(k.add(_Market(1000), f"p{i}", lambda: True))
    for i, t in enumerate(tokens):
        now[0] = i
        k.release(t, f"p{i}")
    assert k.released() == 3  # at most three released, the newest
    assert k.claim(tokens[0], "x", lambda: True, wait=0) is None
    assert k.claim(tokens[4], "x", lambda: True, wait=0) is not None
    k2 = _keeper(now, budget=lambda: 2500)
    ts = [k2.add(_Market(1000), f"q{i}", lambda: True) for i in range(3)]
    for i, t in enumerate(ts):
        k2.release(t, f"q{i}")
    assert k2.released() == 2  # 2,000 customers within 2,500


# ---- the server's size limit ---------------------------------------------------------------------
def test_a_market_larger_than_the_server_allows_is_refused(monkeypatch):
    monkeypatch.setenv("LSIM_MAX_CUSTOMERS", "5000")
    sess = state.ExploreSession(None)
    before = sess.params
    with pytest.raises(ParamError) as e:
        sess.set_param("n_customers", 5001)
    assert e.value.key == "n_customers"
    assert "5,001" in e.value.text("en") and "at most 5,000" in e.value.text("en") and "LSIM_MAX_CUSTOMERS" in e.value.text("en")
    assert "最多 5,000" in e.value.text("zh") and "未应用" in e.value.text("zh")
    assert sess.params == before and sess.pending() == {}
    assert sess.set_param("n_customers", 5000) == "pending"
    # the history a market records scales its memory too
    with pytest.raises(ParamError) as e:
        sess.set_param("history_depth", 1000)  # 5,000 customers × 1,000 weeks > 5,000 × 52
    assert e.value.key == "history_depth" and "customer-weeks" in e.value.text("en")
    # a file over the limit: the message names the field; the settings stay
    big = b"[params]\nn_customers = 20000\n"
    err, ok = handle_upload({"name": "big.toml", "size": len(big), "file_obj": __import__("io").BytesIO(big),
                             "data": None}, sess.load, "zh")
    assert "n_customers" in err and "最多 5,000" in err and not ok
    assert sess.params.n_customers == 5000


def test_the_default_limit_and_cull(monkeypatch):
    monkeypatch.delenv("LSIM_MAX_CUSTOMERS", raising=False)
    assert keep.max_customers() == keep.DEFAULT_MAX_CUSTOMERS == 100_000
    import solara.server.settings as settings

    monkeypatch.delenv("SOLARA_KERNEL_CULL_TIMEOUT", raising=False)
    monkeypatch.setattr(settings.kernel, "cull_timeout", "24h")
    keep.serve_defaults()
    assert settings.kernel.cull_timeout == keep.DEFAULT_CULL
    monkeypatch.setenv("SOLARA_KERNEL_CULL_TIMEOUT", "30s")
    monkeypatch.setattr(settings.kernel, "cull_timeout", "30s")
    keep.serve_defaults()
    assert settings.kernel.cull_timeout == "30s"


def test_a_market_stops_at_the_servers_longest_run(monkeypatch):
    monkeypatch.setenv("LSIM_MAX_WEEKS", "7")
    sess = state.ExploreSession(None)
    sess.set_param("n_customers", 200)
    sess.reset()
    n = state.play_loop(sess, threading.Event(), speed=lambda: 0, every=lambda: 5, draw=lambda: None,
                        gate=Gate(1), stop_at=lambda: 0)
    assert sess.steps == 7 and n == 7  # "Pause at week" 0 (never) still ends at the server's limit
    sess.step(3)
    assert sess.steps == 7
    assert "LSIM_MAX_WEEKS" in keep.weeks_text(7, "en") and "已暂停" in keep.weeks_text(7, "zh")


# ------------------------------------------------------------------------------------------------
# A page that stops answering (sim.ui.heartbeat): the beats sent, answered, and waited for
# ------------------------------------------------------------------------------------------------
class _Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_beats_are_sent_at_most_every_gap_and_answers_clear_them():
    from sim.ui.heartbeat import Watch

    clock, sent = _Clock(), []
    w = Watch(clock=clock, gap=1.0, wait=8.0)
    w.beat()
    assert sent == [] and not w.silent()  # no page yet: nothing sent, nothing waited for
    w.attach(sent.append)
    for _ in range(50):  # many checks within one gap: one beat
        w.beat()
        clock.t += 0.01
    assert sent == [1]
    clock.t += 1.0
    w.beat()
    assert sent == [1, 2]
    w.answered(2)  # an answer to a beat answers those before it too
    clock.t += 100.0
    assert w.silent_for() == 0.0 and not w.silent()
    w.answered("not a number")  # what a page sends is not trusted
    w.answered(None)
    assert not w.silent()


def test_a_page_that_leaves_a_beat_unanswered_goes_silent_after_the_wait():
    from sim.ui.heartbeat import Watch

    clock, sent = _Clock(), []
    w = Watch(clock=clock, gap=1.0, wait=8.0)
    w.attach(sent.append)
    answered_until = 3
    for _ in range(120):  # 12 s of checks, every 0.1 s; the page answers the first 3 beats only
        w.beat()
        if sent and sent[-1] <= answered_until:
            w.answered(sent[-1])
        clock.t += 0.1
    assert len(sent) in (11, 12)  # one a second (the fake clock's sums are not exact)
    # beat 4 was sent at about 3 s and never answered: 9 s ago
    assert 8.5 < w.silent_for() < 9.5 and w.silent()
    w.answered(sent[-1])  # the page wakes up and answers the newest beat
    assert not w.silent()
    clock.t += 1.0
    w.beat()
    assert len(sent) in (12, 13)
    clock.t += 7.9
    assert not w.silent()
    clock.t += 0.2
    assert w.silent()
    w.rest()  # the market paused: nothing is waited for any more
    assert not w.silent()


def test_the_play_loop_pauses_a_market_whose_page_went_silent():
    from sim.ui.heartbeat import Watch

    w = Watch(gap=0.02, wait=0.3)
    answers = threading.Event()
    answers.set()

    def send(n):  # the page: answers while `answers` is set
        if answers.is_set():
            w.answered(n)
    w.attach(send)

    def alive():
        w.beat()
        return not w.silent()

    sess = state.ExploreSession(None)
    sess.set_param("n_customers", 200)
    sess.reset()
    cancel = threading.Event()
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("n", state.play_loop(
        sess, cancel, speed=lambda: 50, every=lambda: 5, draw=lambda: None, gate=Gate(1), alive=alive,
        grace=0.2)))
    t.start()
    time.sleep(0.5)
    assert t.is_alive(), "the loop stopped although the page answered"
    answers.clear()  # the laptop sleeps
    t0 = time.monotonic()
    t.join(timeout=10)
    took = time.monotonic() - t0
    cancel.set()
    assert not t.is_alive() and w.silent()
    assert 0.3 <= took < 3.0, f"paused {took:.2f} s after the page went silent (wait 0.3 s + grace 0.2 s)"


def test_the_beat_widget_hands_answers_to_its_sessions_watch():
    from sim.ui import heartbeat

    w = heartbeat.watch_of("kernel-under-test")
    try:
        sent = []
        w.attach(sent.append)
        w.beat()
        assert w._waiting
        widget = heartbeat.BeatWidget(page="kernel-under-test")
        widget.vue_answer(sent[-1])  # what the page's answer calls
        assert not w._waiting
        heartbeat.BeatWidget(page="another-kernel").vue_answer(99)  # another session: ignored
    finally:
        heartbeat.forget("kernel-under-test")
    assert heartbeat.watch_of("kernel-under-test") is not w  # forgotten with its session
    heartbeat.forget("kernel-under-test")


def test_speed_and_redraw_are_kept_with_the_market():
    sess = state.session.value
    before = (state.speed.value, state.redraw_every.value, dict(sess.pace))
    try:
        state.set_pace(steps_per_s=50, redraw=10)
        assert (state.speed.value, state.redraw_every.value) == (50, 10)
        assert sess.pace == {"speed": 50, "redraw": 10}  # what a reload gives back with the market
        state.set_pace(steps_per_s=7, redraw=-1)  # not among the choices: ignored
        assert (state.speed.value, state.redraw_every.value) == (50, 10)
        assert sess.pace == {"speed": 50, "redraw": 10}
        state.set_pace(steps_per_s=0)  # as fast as possible
        assert state.speed.value == 0 and sess.pace["speed"] == 0
    finally:
        state.speed.value, state.redraw_every.value = before[:2]
        sess.pace = before[2]
