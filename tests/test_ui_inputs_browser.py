"""What a user types, in a real browser: Debian's chromium driven by Playwright against ``solara run app.py``.

The reproductions of team issue 17, items 1–4 and two of item 9:

1. ``0.71`` typed into Merchant C's service quality at 60 ms a key, then Enter: applied 8 times of 8
   (the panel's title and the list of changes say 0.71); pasted and Enter while the market plays:
   the new value, not the old one;
2. Enter, then a click elsewhere (a tab, the language toggle, Play): one change, not two;
3. any seed typed (huge, negative, text, a fraction) is used or refused with its field and range,
   and "Settings (scenario TOML)" still downloads; never a traceback;
4. Speed and Redraw changed again and again while the market plays: the week counter keeps moving,
   the server logs no error ("Too many renders triggered" before). The race behind it is rare with one
   browser on an idle server; ``tests/test_ui_inputs.py`` reproduces it every time without a browser;
9. a bad "Pause at week" says why, readable in full; a good one is used.

One server for the module; each test opens its own browser context (its own session). Screenshots
go to ``test-output/screenshots/inputs-*.png``. Skipped only when ``/usr/bin/chromium`` is missing
(never ``playwright install``).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from browser_kit import (
    chromium,
    AppServer,
    chromium_missing,
    choose,
    open_page,
    open_panel,
    output_dir,
    screenshot,
    server_errors,
    wait_text,
    wait_week,
    week,
)

from sim.inputs.scenario import parse_scenario

pytestmark = pytest.mark.skipif(chromium_missing() is not None, reason=chromium_missing() or "")

VIEWPORT = {"width": 1400, "height": 1000}
LOG = output_dir("logs") / "test_ui_inputs_browser-server.log"
TRACEBACK = re.compile(r"Traceback|Error:|File \"", re.IGNORECASE)


@pytest.fixture(scope="module")
def server():
    with AppServer(cull="60s", log=LOG) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(server, browser):
    ctx = browser.new_context(viewport=VIEWPORT, accept_downloads=True, locale="en-US")
    ctx.set_default_timeout(60_000)
    pg = open_page(ctx, server.url)
    yield pg
    try:
        pg.close(run_before_unload=True)
    except Exception:  # noqa: BLE001
        pass
    ctx.close()


def log_size() -> int:
    try:
        return LOG.stat().st_size
    except OSError:
        return 0


def title_c(page) -> str:
    return page.locator(".lsim-merchant-C .lsim-panel-header").first.inner_text()


def changes_text(page) -> str:
    loc = page.locator(".lsim-interventions")
    return loc.first.inner_text() if loc.count() else ""


def quality_changes(page, value: str) -> int:
    return len(re.findall(rf"C: Service quality → {re.escape(value)}(?![\d])", changes_text(page)))


def quality_box(page):
    return page.locator(".lsim-param-C-quality .lsim-input input")


def click_away(page) -> None:
    """Leave the box the way a user does: another tab, and back."""
    page.locator(".lsim-tab-cycles").click()
    page.wait_for_timeout(400)
    page.locator(".lsim-tab-time").click()
    page.wait_for_timeout(600)


# ------------------------------------------------------------------------------------------------
def test_a_value_typed_at_a_normal_pace_is_applied_every_time_and_once(page, server):
    start = log_size()
    open_panel(page, "lsim-merchant-C")
    results = []
    for attempt in range(8):
        page.locator(".lsim-reset").click()  # (keeps the edited settings: start each try from 0.5)
        wait_text(page, ".lsim-step-counter", r"Week 0")
        box = quality_box(page)
        box.fill("0.5")
        box.press("Enter")
        wait_text(page, ".lsim-merchant-C .lsim-panel-header", r"Service quality 0\.5,")
        page.locator(".lsim-step").click()
        wait_text(page, ".lsim-step-counter", r"Week 1")
        box.click()
        box.press("Control+a")
        box.press_sequentially("0.71", delay=60)
        box.press("Enter")
        try:
            wait_text(page, ".lsim-merchant-C .lsim-panel-header", r"Service quality 0\.71,", timeout=10_000)
            wait_text(page, ".lsim-interventions", r"C: Service quality → 0\.71", timeout=10_000)
        except Exception:  # noqa: BLE001 - recorded, asserted below with what the page showed
            pass
        # the next click elsewhere must not record it again
        if attempt % 2:
            click_away(page)
        else:
            page.locator(".lsim-step").click()
            wait_text(page, ".lsim-step-counter", r"Week 2")
            page.wait_for_timeout(500)
        results.append((box.input_value(), title_c(page), quality_changes(page, "0.71"), changes_text(page)))
    screenshot(page, "inputs-typed-value")
    bad = [r for r in results if r[0] != "0.71" or "Service quality 0.71," not in r[1] or r[2] != 1]
    assert not bad, f"{8 - len(bad)} of 8 tries applied 0.71 exactly once: {bad}"
    assert not server_errors(LOG, start)


def test_a_value_pasted_while_playing_is_the_one_applied(page):
    open_panel(page, "lsim-merchant-C")
    page.locator(".lsim-step").click()
    wait_text(page, ".lsim-step-counter", r"Week 1")
    quality_box(page).fill("0.5")
    quality_box(page).press("Enter")
    wait_text(page, ".lsim-merchant-C .lsim-panel-header", r"Service quality 0\.5,")
    for value in ("0.71", "0.62"):
        page.locator(".lsim-play").click()
        wait_week(page, week(page) + 3)
        box = quality_box(page)
        box.fill(value)
        box.press("Enter")
        wait_text(page, ".lsim-merchant-C .lsim-panel-header", rf"Service quality {re.escape(value)},", timeout=15_000)
        page.locator(".lsim-pause").click()  # (leaves the box: a second change event)
        page.wait_for_selector(".lsim-play")
        page.wait_for_timeout(800)
        assert box.input_value() == value
        assert quality_changes(page, value) == 1, changes_text(page)
    assert quality_changes(page, "0.5") == 1, changes_text(page)  # the old value was not recorded again


def test_no_seed_typed_breaks_the_page(page, server):
    start = log_size()
    seed_box = page.locator(".lsim-seed-input input")
    for bad in ("99999999999999999999999", "-7", "twelve", "3.5", "1e40", str(2**63)):
        seed_box.fill(bad)
        seed_box.press("Enter")
        wait_text(page, ".lsim-notice", r"Seed.*0 … 2⁶³ − 1")
        page.wait_for_selector(".lsim-seed-input.error--text, .lsim-seed-input .error--text", timeout=10_000)
        seed_box.press("Tab")  # leave the box (see the report: a download clicked from a focused box)
        page.wait_for_timeout(300)
        with page.expect_download() as dl:
            page.locator(".lsim-download-toml").click()
        text = Path(dl.value.path()).read_text(encoding="utf-8")
        assert re.search(r"^seed = \d{1,19}$", text, re.MULTILINE), text[:400]
        assert not TRACEBACK.search(page.locator("body").inner_text())
    screenshot(page, "inputs-bad-seed")
    seed_box.fill(str(2**63 - 1))
    seed_box.press("Enter")
    wait_text(page, ".lsim-seed-value", r"seed 9223372036854775807")
    seed_box.press("Tab")
    page.wait_for_timeout(300)
    with page.expect_download() as dl:
        page.locator(".lsim-download-toml").click()
    assert "seed = 9223372036854775807" in Path(dl.value.path()).read_text(encoding="utf-8")
    assert not TRACEBACK.search(page.locator("body").inner_text())
    assert not server_errors(LOG, start)
    assert not page.lsim_errors


def test_a_settings_file_clicked_from_a_focused_box_is_whole(page):
    """The settings file downloaded straight from a box still being typed in (no Enter, no Tab: the
    click itself leaves the box) is the whole file, with the seed just typed; a bad seed leaves the
    last good one in it."""
    box = page.locator(".lsim-seed-input input")
    good = "777"
    for seed in ("777", "99999999999999999999999", "778", "twelve", "779"):
        box.click()
        box.fill("")
        box.press_sequentially(seed, delay=60)
        with page.expect_download(timeout=20_000) as dl:
            page.locator(".lsim-download-toml").click()
        text = Path(dl.value.path()).read_text(encoding="utf-8")
        good = seed if seed.isdigit() and len(seed) < 19 else good
        assert len(text) > 500, text[:300]  # the whole file, not an empty one
        assert re.search(rf"^seed = {good}$", text, re.MULTILINE), (seed, text[:400])
        assert parse_scenario(text, source="download.toml").seed == int(good)
        page.wait_for_timeout(300)
    assert not TRACEBACK.search(page.locator("body").inner_text())


def test_a_bad_pause_at_week_says_why_in_full(page):
    box = page.locator(".lsim-stop-at input")
    box.fill("-4")
    box.press("Enter")
    wait_text(page, ".lsim-notice", r"Pause at week.*0 … 100000\b")
    notice = page.locator(".lsim-notice")
    assert notice.evaluate("e => e.scrollWidth <= e.clientWidth + 1 && e.getBoundingClientRect().width > 150")
    page.locator(".lsim-lang-zh").click()
    box.fill("x")
    box.press("Enter")
    wait_text(page, ".lsim-notice", r"在第几周暂停.*0 … 100000\b")
    screenshot(page, "inputs-bad-pause-at-week-zh")
    page.locator(".lsim-lang-en").click()
    box.fill("3")
    box.press("Enter")
    wait_text(page, ".lsim-notice", r"pauses at week 3")
    page.locator(".lsim-play").click()
    page.wait_for_selector(".lsim-play", timeout=30_000)  # paused by itself at week 3
    wait_text(page, ".lsim-step-counter", r"Week 3")


def test_speed_and_redraw_changes_while_playing_keep_the_page_alive(page, server):
    start = log_size()
    box = page.locator(".lsim-stop-at input")
    box.fill("0")
    box.press("Enter")
    page.wait_for_timeout(800)
    page.locator(".lsim-play").click()
    wait_week(page, 2)
    speeds = ["max", "50 steps/s", "20 steps/s", "max"]
    redraws = ["every 1 step", "every 2 steps", "every 5 steps", "every 2 steps"]
    stalls = []
    for i in range(12):
        before = week(page)
        t = time.monotonic()
        choose(page, ".lsim-speed", speeds[i % 4])
        choose(page, ".lsim-redraw", redraws[(i + 1) % 4])
        try:
            wait_week(page, before + 1, timeout=8_000)
        except Exception:  # noqa: BLE001
            stalls.append((i, before, week(page), round(time.monotonic() - t, 1)))
    page.locator(".lsim-pause").click()
    page.wait_for_selector(".lsim-play")
    assert not stalls, f"the week counter stopped after a change of Speed or Redraw: {stalls}"
    errors = server_errors(LOG, start)
    assert not errors, errors
