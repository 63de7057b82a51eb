"""A whole workshop in a real browser (issue 19): a facilitator, a projector and three participants,
each in a browser context of their own, play three rounds.

The facilitator creates the workshop on /workshop; the three join from the link with their names
(typed at 60 ms a key) and each sets a different decision each round; the facilitator plays the
rounds; then the server's own log, replayed here (read only), shows that each participant's
decisions reached their merchant and no other, the facilitator's leaderboard and the projector's
name the participants, and the debrief charts and lines are shown. No request leaves this machine.
Screenshots: test-output/screenshots/workshop-e2e-*.png.
"""

from __future__ import annotations

import re

import pytest
from browser_kit import (AppServer, RequestLog, chromium, chromium_missing, close_contexts, open_page, output_dir,
                         screenshot, type_slowly, wait_text)

from sim.inputs.scenario import load_scenario
from sim.workshop.log import EventLog
from sim.workshop.room import Workshop

pytestmark = pytest.mark.skipif(chromium_missing() is not None, reason=chromium_missing() or "")

VIEWPORT = {"width": 1300, "height": 1000}
PEOPLE = ("Ann", "Bo", "Cy")
#: per round, per participant: the decision typed into their page
PLAN = (
    {"Ann": ("price", "1.35"), "Bo": ("quality", "0.8"), "Cy": ("compensation", "0.6")},
    {"Ann": ("quality", "0.9"), "Bo": ("price", "0.95"), "Cy": ("recovery_prob", "0.95")},
    {"Ann": ("price", "1.2"), "Bo": ("promise", "0.5"), "Cy": ("price", "0.9")},
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("workshops") / "workshops.sqlite"
    with AppServer(cull="60s", env={"LSIM_WORKSHOP_DB": str(db)},
                   log=output_dir("logs") / "test_browser_workshop-server.log") as srv:
        srv.db = db
        yield srv



def test_three_participants_play_three_rounds_and_each_decision_reaches_only_its_merchant(server):
    requests = RequestLog()
    with chromium() as browser:
        contexts = []

        def context():
            ctx = browser.new_context(viewport=VIEWPORT, locale="en-US")
            ctx.set_default_timeout(60_000)
            requests.watch(ctx)
            contexts.append(ctx)
            return ctx

        try:
            host = open_page(context(), server.url, "/workshop", ready=".lsim-ws-create-button")
            host.locator(".lsim-ws-weeks input").fill("4")
            host.locator(".lsim-ws-customers input").fill("400")
            host.locator(".lsim-ws-create-button").click()
            host.wait_for_selector(".lsim-ws-code")
            code = host.locator(".lsim-ws-code").inner_text().strip()
            screen = open_page(context(), server.url, f"/screen?code={code}", ready=".lsim-ws-round")

            pages = {}
            for name in PEOPLE:
                page = open_page(context(), server.url, f"/join?code={code}", ready=".lsim-ws-join-btn")
                type_slowly(page, ".lsim-ws-name", name)
                page.locator(".lsim-ws-join-btn").click()
                page.wait_for_selector(".lsim-ws-decisions")
                pages[name] = page
            seat = {}
            for name, page in pages.items():
                seat[name] = re.search(r"\b([A-F])\b", page.locator(".lsim-ws-header").inner_text()).group(1)
            assert sorted(seat.values()) == ["A", "B", "C"]
            # the roster shows who plays which merchant
            for name in PEOPLE:
                wait_text(host, f".lsim-ws-seat-{seat[name]}", rf"{name}")

            for rnd, plan in enumerate(PLAN, start=1):
                for name, (field, value) in plan.items():
                    page = pages[name]
                    type_slowly(page, f".lsim-ws-field-{field} .lsim-input", value)
                    page.locator(".lsim-ws-submit").click()
                    wait_text(page, ".lsim-ws-decided", rf"round {rnd}")
                host.locator(".lsim-ws-advance").click()
                wait_text(host, ".lsim-ws-round", rf"Round {rnd + 1}")
                for name, page in pages.items():  # every page follows without a reload
                    wait_text(page, ".lsim-ws-round", rf"Round {rnd + 1}")
                    page.wait_for_function(f"() => document.querySelectorAll('.lsim-ws-kpis tbody tr').length === {rnd + 1}")
                wait_text(screen, ".lsim-ws-round", rf"Round {rnd + 1}")
                if rnd == 1:
                    screenshot(pages["Ann"], "workshop-e2e-participant-round1", full=True)

            # the leaderboard names the participants; the charts and the lines are shown
            for page in (host, screen):
                page.wait_for_function("() => document.querySelectorAll('.lsim-ws-board-row').length === 3")
                board = page.locator(".lsim-ws-board").inner_text()
                assert all(n in board for n in PEOPLE), board
                page.wait_for_selector(".lsim-ws-chart svg")
                wait_text(page, ".lsim-ws-lines", r"Round 3:")
                # four debrief charts, one line per merchant through the three rounds
                lines = page.locator(".lsim-ws-chart polyline")
                assert lines.count() == 4 * 3
                labels = sorted({lines.nth(i).get_attribute("data-label") for i in range(lines.count())})
                assert labels == sorted(seat.values())
                assert all(len(lines.nth(i).get_attribute("points").split()) == 3 for i in range(lines.count()))
            # the "what happened" lines name each participant's decisions, at their merchant
            lines_text = host.locator(".lsim-ws-lines").inner_text()
            assert f"Round 1: {seat['Ann']} raised its price" in lines_text, lines_text
            assert f"Round 1: {seat['Bo']} raised its service quality" in lines_text, lines_text
            assert f"Round 2: {seat['Cy']} raised its recovery chance of resolving" in lines_text, lines_text
            wait_text(host, ".lsim-ws-decisions", r"Cy|price|0\.9")
            screenshot(host, "workshop-e2e-host", full=True)
            screenshot(screen, "workshop-e2e-screen", full=True)
            # each participant's table shows their own merchant's rounds; rivals arrive a round late
            for name, page in pages.items():
                assert page.locator(".lsim-ws-rivals").count() == 1
            for page in (host, screen, *pages.values()):
                assert not page.lsim_errors, page.lsim_errors
        finally:
            close_contexts(contexts)
    assert requests.foreign() == [], f"requests that left this machine: {requests.foreign()}"

    # what the server did, replayed from its log (read only)
    log = EventLog(server.db)
    try:
        ws = Workshop.resume(log, code)  # rebuilt from the log; nothing is written
    finally:
        log.close()
    assert len(ws.rounds) == 3
    base = {m.name: m for m in load_scenario("baseline").params.merchants}
    for rnd, plan in zip(ws.rounds, PLAN):
        expected = {(0, seat[name]): {field: float(value)} for name, (field, value) in plan.items()}
        assert rnd.decisions == expected, (rnd.number, rnd.decisions)
        assert rnd.seated == frozenset(expected)
    # after round 3 each merchant carries exactly its own participant's choices, the rest as it started
    for name in PEOPLE:
        pol = ws.models[0].merchant(seat[name]).policy
        mine = {}
        for plan in PLAN:
            field, value = plan[name]
            mine[field] = float(value)
        for field in ("price", "quality", "promise", "compensation", "recovery_prob"):
            want = mine.get(field, getattr(base[seat[name]], field))
            assert getattr(pol, field) == pytest.approx(want), (name, field)
