"""The participant's page (``/join``) in a real browser: Debian's chromium driven by Playwright
against ``solara run app.py``.

The workshop is made by the test in the server's own log (``LSIM_WORKSHOP_DB`` on a tmp path)
before any page asks for it: the server rebuilds a code it does not know from that log on first
use. After that only the server writes to the log (the test reads it to see what was taken).

What needs no facilitator is checked here (round results are covered by the component tests in
``tests/test_ui_workshop_join.py``): joining from the link with a name typed at 60 ms a key, the
seat token in the address, decisions refused with their field and range then submitted, a reload
that keeps the seat, a second browser asking for the held seat, the clock's text, and 中文.
Screenshots go to ``test-output/screenshots/workshop-join-*.png``. Skipped only when
``/usr/bin/chromium`` is missing (never ``playwright install``).
"""

from __future__ import annotations

import re


import pytest
from browser_kit import AppServer, RequestLog, chromium, chromium_missing, choose, open_page, output_dir, screenshot, \
    server_errors, type_slowly, wait_text

from sim.workshop.log import EventLog
from sim.workshop.registry import Registry

pytestmark = pytest.mark.skipif(chromium_missing() is not None, reason=chromium_missing() or "")

VIEWPORT = {"width": 1200, "height": 1000}
LOG = output_dir("logs") / "test_browser_workshop_join-server.log"
READY = ".lsim-ws-join-btn, .lsim-ws-header"



def decisions(db, code: str) -> list[dict]:
    """The decisions the server has taken for ``code`` (read from its log)."""
    log = EventLog(db)
    try:
        return [r.data for r in log.records(code) if r.kind == "decide"]
    finally:
        log.close()


@pytest.fixture(scope="module")
def rooms(tmp_path_factory):
    """The server's log with two workshops made before the server starts: a fresh one, and one
    where Ann holds merchant A and two rounds have been played (messages sent, an event waiting)."""
    db = tmp_path_factory.mktemp("workshops") / "workshops.sqlite"
    reg = Registry(db)
    fresh, _ = reg.create("baseline", 3, customers=300)
    played, key = reg.create("baseline", 4, customers=300)
    _, token = played.join("Ann")
    played.decide(token, {"price": 1.3, "quality": 0.75})
    played.advance(key)
    played.message(key, "Round 1 is over: look at your churn")
    played.decide(token, {"programme": "social"})
    played.advance(key)
    played.message(key, "Round 2 is over: the market research is in")
    played.inject(key, "scandal")
    reg.log.close()  # from here on only the server writes to the log
    return {"db": db, "fresh": fresh.code, "played": played.code, "token": token}


@pytest.fixture(scope="module")
def server(rooms):
    with AppServer(cull="60s", log=LOG, env={"LSIM_WORKSHOP_DB": str(rooms["db"])}) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def test_join_decide_reload_second_tab_and_chinese(rooms, server, browser):
    db, code = rooms["db"], rooms["fresh"]
    requests = RequestLog()
    start = LOG.stat().st_size if LOG.exists() else 0
    ctx_b = browser.new_context(viewport=VIEWPORT, locale="en-US")
    requests.watch(ctx_b)
    # a second participant's browser picks merchant C before anyone holds it
    bo = open_page(ctx_b, server.url, f"/join?code={code}", ready=READY)
    bo.wait_for_selector(".lsim-ws-seat")
    choose(bo, ".lsim-ws-seat", "Merchant C")
    type_slowly(bo, ".lsim-ws-name", "Bo", enter=False)

    ctx_a = browser.new_context(viewport=VIEWPORT, locale="en-US")
    ctx_a.set_default_timeout(60_000)
    requests.watch(ctx_a)
    ann = open_page(ctx_a, server.url, f"/join?code={code.lower()}", ready=READY)
    assert ann.locator(".lsim-ws-code input").input_value().upper() == code
    ann.click(".lsim-ws-join-btn")  # no name yet: refused, nothing taken
    wait_text(ann, ".lsim-ws-error", r"display name has 1 … 40 characters")
    type_slowly(ann, ".lsim-ws-name", "Ann")
    choose(ann, ".lsim-ws-seat", "Merchant C")  # Ann takes it first
    ann.click(".lsim-ws-join-btn")
    wait_text(ann, ".lsim-ws-header", r"Ann.*Merchant C.*Round 1")
    wait_text(ann, ".lsim-ws-clock", r"No deadline")
    ann.wait_for_function("() => /[?&]seat=[\\w-]{10,}/.test(location.search)")
    assert f"code={code}" in ann.url
    seat_url = ann.url
    screenshot(ann, "workshop-join-seated")

    # the second browser's Join for the held seat: the engine's message; it stays on the join form
    bo.click(".lsim-ws-join-btn")
    wait_text(bo, ".lsim-ws-error", r"merchant C of market 1 is taken by Ann")
    assert bo.locator(".lsim-ws-header").count() == 0
    screenshot(bo, "workshop-join-seat-taken")

    # decisions: a bad price is refused with its field and range; nothing is taken
    type_slowly(ann, ".lsim-ws-field-price .lsim-input", "12")
    wait_text(ann, ".lsim-ws-field-price .lsim-ws-field-error", r"'price' = 12 is out of range: allowed 0 … 10")
    ann.click(".lsim-ws-submit")
    wait_text(ann, ".lsim-ws-error", r"price.*0 … 10")
    assert decisions(db, code) == []
    margin0 = ann.locator(".lsim-ws-cost-margin").inner_text()
    type_slowly(ann, ".lsim-ws-field-price .lsim-input", "1.45")
    type_slowly(ann, ".lsim-ws-field-quality .lsim-input", "0.8")
    ann.wait_for_function("m => document.querySelector('.lsim-ws-cost-margin').textContent !== m", arg=margin0)
    ann.wait_for_selector(".lsim-ws-field-price .lsim-ws-field-error", state="detached")
    ann.click(".lsim-ws-submit")
    wait_text(ann, ".lsim-ws-decided", r"Decided for round 1 ✓")
    taken = decisions(db, code)
    assert len(taken) == 1 and taken[0]["merchant"] == "C" and taken[0]["market"] == 0
    assert taken[0]["fields"] == {"price": 1.45, "quality": 0.8}
    screenshot(ann, "workshop-join-decided")

    # a reload keeps the seat (the token in the address)
    ann.reload()
    ann.wait_for_selector(".lsim-ws-header")
    wait_text(ann, ".lsim-ws-header", r"Ann.*Merchant C")
    wait_text(ann, ".lsim-ws-decided", r"Decided for round 1 ✓")
    assert ann.url == seat_url
    assert ann.locator(".lsim-ws-join-btn").count() == 0

    # 中文 for this participant only
    ann.click(".lsim-lang-zh")
    wait_text(ann, ".lsim-ws-header", r"商家 C.*第 1 轮")
    wait_text(ann, ".lsim-ws-clock", r"没有截止时间")
    wait_text(ann, ".lsim-ws-submit", r"提交决策")
    wait_text(bo, ".lsim-ws-join-btn", r"Join")
    screenshot(ann, "workshop-join-zh")

    assert not ann.lsim_errors and not bo.lsim_errors
    assert requests.foreign() == []
    assert server_errors(LOG, start) == []
    for c in (ctx_a, ctx_b):
        c.close()


def test_results_messages_and_research_after_two_rounds(rooms, server, browser):
    ctx = browser.new_context(viewport=VIEWPORT, locale="en-US")
    ctx.set_default_timeout(60_000)
    requests = RequestLog()
    requests.watch(ctx)
    page = open_page(ctx, server.url, f"/join?code={rooms['played']}&seat={rooms['token']}", ready=READY)
    wait_text(page, ".lsim-ws-header", r"Ann.*Merchant A.*Round 3")
    rows = page.locator(".lsim-ws-kpis tbody tr")
    assert rows.count() == 3  # before round 1, rounds 1 and 2
    assert rows.nth(0).inner_text().startswith("Before round 1")
    assert re.search(r"\d+%", rows.nth(2).inner_text())
    wait_text(page, ".lsim-ws-rivals", r"B")
    assert page.locator(".lsim-ws-rivals tbody tr").count() == 2  # B and C, not A
    assert "A" not in [page.locator(".lsim-ws-rivals tbody tr").nth(i).locator("td").first.inner_text()
                       for i in range(2)]
    page.get_by_text("As of round 1").wait_for()
    messages = page.locator(".lsim-ws-message")
    assert "Round 2 is over" in messages.nth(0).inner_text() and "Round 1 is over" in messages.nth(1).inner_text()
    wait_text(page, ".lsim-ws-events", r"A scandal in the trade")
    page.wait_for_selector(".lsim-ws-figure svg")
    assert page.locator(".lsim-ws-figure polyline").count() == 2  # share and loyal share
    assert page.locator(".lsim-ws-figure .lsim-svg-bar").count() == 2  # profit of rounds 1 and 2
    # the last round's flows of A's own customers, and stories of its customers
    wait_text(page, ".lsim-ws-flows", r"Satisfied purchases — Cycle A")
    assert re.search(r"\d", page.locator(".lsim-ws-flow-satisfied").inner_text())
    page.locator(".lsim-ws-stories .v-expansion-panel-header").first.click()
    wait_text(page, ".lsim-ws-story", r"Week 0: arrived in the market")
    screenshot(page, "workshop-join-results")
    page.click(".lsim-lang-zh")
    wait_text(page, ".lsim-ws-kpis", r"客户价值")
    wait_text(page, ".lsim-ws-kpis", r"第 1 轮之前")
    wait_text(page, ".lsim-ws-events", r"行业丑闻")
    page.get_by_text("截至第 1 轮").wait_for()
    wait_text(page, ".lsim-ws-flows", r"满意的购买——甲循环")
    wait_text(page, ".lsim-ws-figure", r"每轮利润")
    screenshot(page, "workshop-join-results-zh")
    assert not page.lsim_errors
    assert requests.foreign() == []
    ctx.close()
