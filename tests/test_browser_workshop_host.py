"""The facilitator's page and the projector's view in a real browser (Debian's chromium through
Playwright against ``solara run app.py``, with a workshop log of its own: ``LSIM_WORKSHOP_DB``).

A facilitator creates a workshop on /workshop and sees its code, join link and QR code (an <svg>
made by the server); a projector opens /screen?code=… in another browser context and sees the
round move when the facilitator plays one; a reload keeps the facilitator in; a wrong key gets a
message and no controls; no request leaves this machine. Screenshots go to
``test-output/screenshots/workshop-*.png``.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from browser_kit import (
    AppServer,
    RequestLog,
    body_text,
    chromium,
    chromium_missing,
    close_contexts,
    open_page,
    output_dir,
    screenshot,
    wait_text,
)

from sim.ui.workshop_host import lan_address
from sim.workshop.log import EventLog

pytestmark = pytest.mark.skipif(chromium_missing() is not None, reason=chromium_missing() or "")

VIEWPORT = {"width": 1400, "height": 1000}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("workshops") / "workshops.sqlite"
    with AppServer(cull="60s", env={"LSIM_WORKSHOP_DB": str(db)},
                   log=output_dir("logs") / "test_browser_workshop_host-server.log") as srv:
        srv.db = db
        yield srv


def test_facilitator_creates_a_workshop_and_the_projector_follows_the_rounds(server):
    requests = RequestLog()
    with chromium() as browser:
        contexts = []

        def context():
            ctx = browser.new_context(viewport=VIEWPORT, locale="en-US", accept_downloads=True)
            ctx.set_default_timeout(60_000)
            requests.watch(ctx)
            contexts.append(ctx)
            return ctx

        try:
            host = open_page(context(), server.url, "/workshop", ready=".lsim-ws-create-button")
            # a bad value: a message under its field, nothing made
            host.locator(".lsim-ws-markets input").fill("12")
            host.locator(".lsim-ws-create-button").click()
            wait_text(host, ".lsim-ws-error-markets", r"1 … 10")
            assert host.locator(".lsim-ws-code").count() == 0
            host.locator(".lsim-ws-markets input").fill("1")
            host.locator(".lsim-ws-weeks input").fill("2")
            host.locator(".lsim-ws-customers input").fill("300")
            host.locator(".lsim-ws-create-button").click()
            host.wait_for_selector(".lsim-ws-code")
            code = host.locator(".lsim-ws-code").inner_text().strip()
            assert re.fullmatch(r"[A-Z2-9]{5}", code), code
            # the code and the facilitator's key are in the page's address
            host.wait_for_function("c => location.search.includes('code=' + c) && location.search.includes('key=')",
                                   arg=code)
            host_url = host.url
            # this server answers this computer only (--host 127.0.0.1): no join link or QR code that
            # could not work, but what to do (the join address at work: test_..._network_address)
            wait_text(host, ".lsim-ws-address-local_only", r"started without --host 0\.0\.0\.0")
            assert host.locator(".lsim-ws-join-link").count() == 0 and host.locator(".lsim-ws-qr").count() == 0
            assert host.locator(".lsim-ws-screen-link").inner_text().strip() == f"{server.url}/screen?code={code}"
            assert host.locator(".lsim-ws-seat").count() == 3
            screenshot(host, "workshop-host-created")

            screen = open_page(context(), server.url, f"/screen?code={code}", ready=".lsim-ws-round")
            wait_text(screen, ".lsim-ws-round", r"Round 1")
            assert screen.locator(".lsim-ws-address-local_only").count() == 1  # seats are free: the room code shows
            assert screen.locator(".lsim-ws-code").inner_text().strip() == code
            assert screen.locator(".lsim-ws-screen button").count() == 0  # no control at all
            assert screen.locator(".lsim-ws-screen input").count() == 0

            # the facilitator sends a message and plays round 1: the projector follows without a reload
            host.locator(".lsim-ws-message-text input").fill("Decide by 10:30")
            host.locator(".lsim-ws-message-send").click()
            wait_text(screen, ".lsim-ws-messages", r"Decide by 10:30")
            host.locator(".lsim-ws-advance").click()
            wait_text(host, ".lsim-ws-round", r"Round 2")
            wait_text(screen, ".lsim-ws-round", r"Round 2")
            screen.wait_for_function("() => document.querySelectorAll('.lsim-ws-board-row').length === 3")
            screen.wait_for_selector(".lsim-ws-chart svg")
            wait_text(screen, ".lsim-ws-lines", r"Round 1: . made the most profit")
            wait_text(host, ".lsim-ws-lines", r"Round 1:")
            host.wait_for_selector(".lsim-ws-chart svg")
            screenshot(host, "workshop-host-round1")
            screenshot(screen, "workshop-screen-round1")

            # the export: every table of the workshop in one zip
            with host.expect_download() as download:
                host.locator(".lsim-ws-export").click()
            with zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes())) as z:
                names = sorted(n.split("/")[-1] for n in z.namelist())
                rounds = z.read(f"workshop_{code}/rounds.csv").decode("utf-8").splitlines()
            assert names == ["decisions.csv", "log.csv", "rounds.csv", "weeks.csv"]
            assert len(rounds) == 1 + 2 * 3  # a header, the start (round 0) and round 1 of the three merchants

            # a reload keeps the facilitator in, with the controls
            host.goto(host_url)
            host.wait_for_selector(".lsim-ws-advance")
            wait_text(host, ".lsim-ws-round", r"Round 2")
            assert host.locator(".lsim-ws-code").inner_text().strip() == code

            # undo, confirmed: the projector goes back to round 1
            host.locator(".lsim-ws-undo").click()
            host.locator(".lsim-ws-confirm-yes").click()
            wait_text(screen, ".lsim-ws-round", r"Round 1")

            # a wrong key: a clear message and no controls
            intruder = open_page(context(), server.url, f"/workshop?code={code}&key=guessed", ready=".lsim-ws-denied")
            assert "wrong facilitator key" in body_text(intruder, ".lsim-ws-denied")
            assert intruder.locator(".lsim-ws-advance").count() == 0
            assert intruder.locator(".lsim-ws-undo").count() == 0
            # a wrong room code on the projector
            nowhere = open_page(context(), server.url, "/screen?code=QQQQQ", ready=".lsim-ws-denied")
            assert "no workshop" in body_text(nowhere, ".lsim-ws-denied")

            # 中文
            host.locator(".lsim-lang-zh").click()
            wait_text(host, ".lsim-ws-round", r"第 1 轮")
            screenshot(host, "workshop-host-zh")
            for page in (host, screen, intruder, nowhere):
                assert not page.lsim_errors, page.lsim_errors
        finally:
            close_contexts(contexts)
    assert requests.foreign() == [], f"requests that left this machine: {requests.foreign()}"


def _create(page, weeks: str = "2") -> str:
    page.locator(".lsim-ws-weeks input").fill(weeks)
    page.locator(".lsim-ws-customers input").fill("300")
    page.locator(".lsim-ws-create-button").click()
    page.wait_for_selector(".lsim-ws-code")
    return page.locator(".lsim-ws-code").inner_text().strip()


def _advances(server, code: str) -> int:
    """How many rounds the server played (its log, read only)."""
    log = EventLog(server.db, readonly=True)
    try:
        return [r.kind for r in log.records(code)].count("advance")
    finally:
        log.close()


def test_a_double_click_on_play_plays_one_round(server):
    """A double click on "Play round 1", then two clicks 300 ms apart on "Play round 2": one round
    each (the server's log has two rounds, not four); before the first round the charts' note and
    the "What happened" heading are one below the other."""
    with chromium() as browser:
        ctx = browser.new_context(viewport=VIEWPORT, locale="en-US")
        ctx.set_default_timeout(60_000)
        try:
            host = open_page(ctx, server.url, "/workshop", ready=".lsim-ws-create-button")
            code = _create(host)
            host.wait_for_selector(".lsim-ws-lines-title")
            empty = host.locator(".lsim-ws-chart-empty").bounding_box()
            title = host.locator(".lsim-ws-lines-title").bounding_box()
            assert title["y"] >= empty["y"] + empty["height"] - 1, (empty, title)  # not on the same line

            host.locator(".lsim-ws-advance").dblclick()
            wait_text(host, ".lsim-ws-notice", r"Round 1 played")
            host.wait_for_timeout(2500)  # a second round would have been played by now
            assert host.locator(".lsim-ws-round").inner_text().strip() == "Round 2"
            assert _advances(server, code) == 1 and host.locator(".lsim-ws-error").count() == 0

            wait_text(host, ".lsim-ws-advance", r"Play round 2")
            box = host.locator(".lsim-ws-advance").bounding_box()
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            host.mouse.click(x, y)
            host.wait_for_timeout(300)
            host.mouse.click(x, y)
            wait_text(host, ".lsim-ws-notice", r"Round 2 played")
            host.wait_for_timeout(2500)
            assert host.locator(".lsim-ws-round").inner_text().strip() == "Round 3"
            assert _advances(server, code) == 2
            screenshot(host, "workshop-host-after-double-clicks", full=False)
            assert not host.lsim_errors, host.lsim_errors
        finally:
            close_contexts([ctx])


def test_opened_at_localhost_participants_get_the_network_address(tmp_path):
    """A room's server (--host 0.0.0.0) whose facilitator opened /workshop at 127.0.0.1: the join
    link and QR code (and the projector's) use this computer's network address, with a note; a
    participant's browser opens that link and finds the join page. Opened at the network address,
    the page keeps it and has no note."""
    lan = lan_address()
    with AppServer(host="0.0.0.0", cull="60s", env={"LSIM_WORKSHOP_DB": str(tmp_path / "w.sqlite")},
                   log=output_dir("logs") / "test_browser_workshop_host-lan-server.log") as srv, \
            chromium() as browser:
        ctx = browser.new_context(viewport=VIEWPORT, locale="en-US")
        ctx.set_default_timeout(60_000)
        try:
            host = open_page(ctx, srv.url, "/workshop", ready=".lsim-ws-create-button")
            code = _create(host)
            if lan is None:  # a computer without a network: no link, and why
                wait_text(host, ".lsim-ws-address-no_lan", r"No join link")
                assert host.locator(".lsim-ws-join-link").count() == 0
                return
            join = f"http://{lan}:{srv.port}/join?code={code}"
            wait_text(host, ".lsim-ws-join-link", re.escape(join))
            assert host.locator(".lsim-ws-join-link").get_attribute("href") == join
            assert host.locator(".lsim-ws-qr svg").count() == 1
            note = body_text(host, ".lsim-ws-address-lan")
            assert "127.0.0.1" in note and lan in note and "--host 0.0.0.0" in note, note
            assert host.locator(".lsim-ws-screen-link").inner_text().strip() == f"{srv.url}/screen?code={code}"
            screenshot(host, "workshop-host-lan-address", full=False)
            host.locator(".lsim-lang-zh").click()
            wait_text(host, ".lsim-ws-address-lan", r"本机的网络地址")

            screen = open_page(ctx, srv.url, f"/screen?code={code}", ready=".lsim-ws-round")
            wait_text(screen, ".lsim-ws-join-link", re.escape(join))
            assert screen.locator(".lsim-ws-qr svg").count() == 1 and screen.locator(".lsim-ws-address-lan").count() == 1

            phone = open_page(ctx, join, "", ready=".lsim-ws-join-btn")  # the link works from the network
            assert code in phone.url
            at_lan = open_page(ctx, f"http://{lan}:{srv.port}", f"/screen?code={code}", ready=".lsim-ws-round")
            wait_text(at_lan, ".lsim-ws-join-link", re.escape(join))
            assert at_lan.locator(".lsim-ws-address-note").count() == 0
            for page in (host, screen, phone, at_lan):
                assert not page.lsim_errors, page.lsim_errors
        finally:
            close_contexts([ctx])
