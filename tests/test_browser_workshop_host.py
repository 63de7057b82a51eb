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

pytestmark = pytest.mark.skipif(chromium_missing() is not None, reason=chromium_missing() or "")

VIEWPORT = {"width": 1400, "height": 1000}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("workshops") / "workshops.sqlite"
    with AppServer(cull="60s", env={"LSIM_WORKSHOP_DB": str(db)},
                   log=output_dir("logs") / "test_browser_workshop_host-server.log") as srv:
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
            # the join link is built from the address the page was opened at; its QR code is an <svg>
            wait_text(host, ".lsim-ws-join-link", re.escape(f"{server.url}/join?code={code}"))
            assert host.locator(".lsim-ws-join-link").get_attribute("href") == f"{server.url}/join?code={code}"
            assert host.locator(".lsim-ws-qr svg").count() == 1
            assert host.locator(".lsim-ws-screen-link").inner_text().strip() == f"{server.url}/screen?code={code}"
            assert host.locator(".lsim-ws-seat").count() == 3
            screenshot(host, "workshop-host-created")

            screen = open_page(context(), server.url, f"/screen?code={code}", ready=".lsim-ws-round")
            wait_text(screen, ".lsim-ws-round", r"Round 1")
            assert screen.locator(".lsim-ws-qr svg").count() == 1  # seats are free: the room code and QR show
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
            assert len(rounds) == 1 + 3  # a header and round 1 of the three merchants

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
