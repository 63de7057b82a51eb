"""A market and its browser, in a real browser (issue 17, item 5).

- A browser that dies (its process killed: no page close, no close beacon — as when a laptop's
  lid closes or its Wi-Fi drops and the connection then breaks) stops its market: the server's CPU
  falls back to idle within seconds, the server log says why, and the browser session is dropped
  after ``SOLARA_KERNEL_CULL_TIMEOUT``.
- A reload gets the market back: the same week, seed and settings, paused, with a message; the page's
  address names the market (``?market=…``). Another browser opening that address while the first
  page is still there gets a market of its own.
- The server's limit on a market's size (``LSIM_MAX_CUSTOMERS``): typing more customers shows the
  reason under the control and the value is not applied.

Screenshots go to test-output/screenshots/sessions-*.png.
"""

from __future__ import annotations

import re
import time

import pytest
from browser_kit import (
    EXPLORE_READY,
    AppServer,
    KillableBrowser,
    choose,
    chromium_missing,
    cores_busy,
    launch_browser,
    open_page,
    open_panel,
    output_dir,
    screenshot,
    settled_week,
    type_value,
    wait_text,
    wait_week,
    week,
)

pytestmark = pytest.mark.skipif(chromium_missing() is not None, reason=chromium_missing() or "")

CULL_S = 15
LIMIT = 50_000


@pytest.fixture(scope="module")
def server():
    log = output_dir("logs") / "test_browser_sessions-server.log"
    with AppServer(cull=f"{CULL_S}s", env={"LSIM_MAX_CUSTOMERS": str(LIMIT)}, log=log) as srv:
        yield srv


@pytest.fixture(scope="module")
def pw():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


def _log_text(srv) -> str:
    return srv.log_path.read_text(encoding="utf-8", errors="replace")


def _playing(kb, url: str, speed: str | None = None):
    """A page of the killable browser ``kb`` (on the app at ``url``) whose market plays (at ``speed``,
    an item of the Speed select, if given), never pausing on its own, at week 5 or later."""
    page = open_page(kb.new_context(viewport={"width": 1280, "height": 900}), url)
    type_value(page, ".lsim-stop-at", 0)  # never pause on its own
    if speed:
        choose(page, ".lsim-speed", speed)
    page.locator(".lsim-play").click()
    page.wait_for_selector(".lsim-pause", timeout=30_000)
    wait_week(page, 5)
    return page


def test_a_dead_browser_stops_its_market(server, pw, tmp_path):
    idle = cores_busy(server.pid, 2.0)
    with KillableBrowser(pw, tmp_path / "profile") as kb:
        # as fast as it goes: at the default 10 weeks per second a 2,000-customer market with its
        # charts drawn by the browser uses only about 0.1 of a core, too little to tell apart
        page = _playing(kb, server.url, speed="max")
        playing = cores_busy(server.pid, 3.0)
        screenshot(page, "sessions-playing-before-the-browser-dies", full=False)
        lost_before = _log_text(server).count("lsim-lost-page")
        kb.kill()  # the browser dies: no close beacon, the connection just breaks
        t_kill = time.monotonic()
    time.sleep(4.0)  # the grace (2 s) and a margin
    after = cores_busy(server.pid, 3.0)
    print(f"server cores: idle {idle:.2f}, playing {playing:.2f}, 4–7 s after the browser died {after:.2f}")
    assert playing > idle + 0.25, f"the market did not load the server ({idle:.2f} → {playing:.2f} cores)"
    assert after < idle + 0.1 and after < 0.25 * playing, (
        f"the market kept using the server's CPU after its browser died: {after:.2f} cores (playing: {playing:.2f})")
    assert _log_text(server).count("lsim-lost-page") == lost_before + 1
    # and the browser session itself is dropped after the cull timeout
    left = server.wait_kernels(0, timeout=CULL_S + 30)
    assert left == 0, f"{left} browser session(s) still held {time.monotonic() - t_kill:.0f} s after the browser died"


def test_a_sleeping_browser_stops_its_market_and_spares_the_others(server, pw, tmp_path):
    """A browser that stops answering while its connection stays open (SIGSTOP: a laptop asleep, a
    network gone without the connection closing) has its market paused within seconds, long before
    the web server's own ping (about 40 s) would close the connection; another participant's market
    plays on meanwhile; and the woken page shows its market paused, with the reason."""
    from sim.ui.heartbeat import ANSWER_WAIT, BEAT_GAP
    from sim.ui.state import DISCONNECT_GRACE

    other_browser = launch_browser(pw)
    try:
        other = open_page(other_browser.new_context(viewport={"width": 1280, "height": 900}), server.url)
        type_value(other, ".lsim-stop-at", 0)
        with KillableBrowser(pw, tmp_path / "profile") as kb:
            page = _playing(kb, server.url)
            lost_before = _log_text(server).count("lsim-lost-page")
            kb.freeze()  # asleep: the connection stays open, nothing answers
            t_freeze = time.monotonic()
            other.locator(".lsim-play").click()
            other.wait_for_selector(".lsim-pause", timeout=30_000)
            start = week(other)
            limit = BEAT_GAP + ANSWER_WAIT + DISCONNECT_GRACE + 4.0
            while _log_text(server).count("lsim-lost-page") == lost_before:
                assert time.monotonic() - t_freeze < limit, (
                    f"the market of a browser that stopped answering still played {limit:.0f} s later")
                time.sleep(0.25)
            paused_after = time.monotonic() - t_freeze
            advanced = week(other) - start
            print(f"paused {paused_after:.1f} s after the browser froze; the other market played {advanced} weeks")
            assert advanced >= 10, f"another participant's market stalled while one browser slept ({advanced} weeks)"
            other.locator(".lsim-pause").click()
            other.wait_for_selector(".lsim-play", timeout=30_000)
            time.sleep(1.0)
            after = cores_busy(server.pid, 2.0)
            assert after < 0.25, f"the server still used {after:.2f} cores with both markets paused"
            kb.thaw()  # the laptop opens again: the page shows why its market stopped
            page.wait_for_selector(".lsim-play", timeout=60_000)
            wait_text(page, ".lsim-notice", r"did not answer", timeout=30_000)
            screenshot(page, "sessions-woken-after-sleep", full=False)
    finally:
        other_browser.close()


def test_a_reload_gets_the_market_back(server, pw):
    browser = launch_browser(pw)
    try:
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        page = open_page(ctx, server.url)
        type_value(page, ".lsim-seed-input", 4242)
        wait_text(page, ".lsim-seed-value", r"\b4242\b")
        choose(page, ".lsim-speed", "50 steps/s")
        choose(page, ".lsim-redraw", "every 10 steps")
        page.locator(".lsim-play").click()
        wait_week(page, 12)
        page.locator(".lsim-pause").click()
        page.wait_for_selector(".lsim-play", timeout=30_000)
        w = settled_week(page)
        assert w >= 12
        page.wait_for_function("() => /[?&]market=/.test(window.location.search)", timeout=10_000)
        address = page.url
        page.reload()
        page.wait_for_selector(EXPLORE_READY, timeout=90_000)
        wait_text(page, ".lsim-step-counter", rf"\b{w}\b", timeout=30_000)
        assert week(page) == w and page.url == address
        assert re.search(r"\b4242\b", page.locator(".lsim-seed-value").inner_text())
        assert page.locator(".lsim-play").count() == 1  # paused
        wait_text(page, ".lsim-notice", rf"back.*\b{w}\b")
        # and it plays as it did: the page's Speed and Redraw came back with it
        wait_text(page, ".lsim-speed", r"50 steps/s")
        wait_text(page, ".lsim-redraw", r"every 10 steps")
        screenshot(page, "sessions-after-a-reload", full=False)
        time.sleep(1.5)
        assert week(page) == w  # and it stays paused
        # the same address in another browser, while this page is open: a market of its own
        other = browser.new_context(viewport={"width": 1280, "height": 900})
        page2 = open_page(other, address)
        page2.wait_for_function("() => /[?&]market=/.test(window.location.search)", timeout=20_000)
        assert week(page2) == 0 and page2.url != address
        assert not re.search(r"\b4242\b", page2.locator(".lsim-seed-value").inner_text())
        assert week(page) == w
        for pg in (page, page2):
            pg.close(run_before_unload=True)
    finally:
        browser.close()


def test_a_market_larger_than_the_server_allows_is_refused(server, pw):
    browser = launch_browser(pw)
    try:
        page = open_page(browser.new_context(viewport={"width": 1280, "height": 900}), server.url)
        open_panel(page, "lsim-group-customers")
        type_value(page, ".lsim-param-n_customers .lsim-input", LIMIT + 1)
        wait_text(page, ".lsim-param-n_customers .lsim-error", "LSIM_MAX_CUSTOMERS")
        msg = page.locator(".lsim-param-n_customers .lsim-error").inner_text()
        assert "50,000" in msg and "not applied" in msg, msg
        assert page.locator(".lsim-pending").count() == 0  # nothing waits for a reset
        page.locator(".lsim-lang-zh").click()
        type_value(page, ".lsim-param-n_customers .lsim-input", LIMIT + 2)
        wait_text(page, ".lsim-param-n_customers .lsim-error", "未应用")
        screenshot(page, "sessions-too-many-customers-zh", full=False)
        page.close(run_before_unload=True)
    finally:
        browser.close()


def test_a_market_size_typed_waits_for_reset_with_its_panel_still_open(server, pw):
    """A structural value typed in its panel waits for Reset: the notice above the panels appears and
    the panel stays open, showing the value (it used to collapse as the notice pushed it down)."""
    browser = launch_browser(pw)
    try:
        page = open_page(browser.new_context(viewport={"width": 1280, "height": 900}), server.url)
        open_panel(page, "lsim-group-customers")
        type_value(page, ".lsim-param-n_customers .lsim-input", 3000)
        wait_text(page, ".lsim-pending", r"3000")
        box = page.locator(".lsim-param-n_customers .lsim-input input")
        assert box.is_visible(), "the panel closed"
        assert re.sub(r"\D", "", box.input_value()) == "3000"
        page.locator(".lsim-apply-pending").click()
        page.wait_for_selector(".lsim-pending", state="detached", timeout=30_000)
        wait_text(page, ".lsim-kpi-active .lsim-kpi-value", r"^\s*2,[0-9]{3}\s*$")  # 90% of 3,000 start active
        assert page.locator(".lsim-param-n_customers .lsim-input input").is_visible()
        page.close(run_before_unload=True)
    finally:
        browser.close()
