"""Take the screenshots of docs/workshop.md: a workshop of one market played for three rounds by three
participants (and bots), seen by the facilitator, on the projector and by a participant, in English
and Chinese.

The workshop is made in a log of its own (a temporary folder), its rounds played through the engine
(the same actions the pages take), then an app server on that log serves the pages to Debian's
chromium (``/usr/bin/chromium``, as the browser tests use it). Nothing else is needed.

Usage::

    uv run python tools/workshop_screenshots.py            # (re)write docs/img/workshop-*.png
    uv run python tools/workshop_screenshots.py --out DIR  # somewhere else
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # browser_kit: the app server and chromium the browser tests use

from browser_kit import AppServer, launch_browser, screenshot, wait_text  # noqa: E402
from sim.ui.workshop_host import lan_address  # noqa: E402

#: (file name, path, what the page waits for, viewport width, language)
SHOTS = (
    ("workshop-facilitator", "/workshop?code={code}&key={key}", ".lsim-ws-chart svg", 1280, "en"),
    ("workshop-projector", "/screen?code={code}", ".lsim-ws-chart svg", 1280, "en"),
    ("workshop-participant", "/join?code={code}&seat={token}", ".lsim-ws-flows", 1100, "en"),
    ("workshop-participant-zh", "/join?code={code}&seat={token}", ".lsim-ws-flows", 420, "zh"),
)


def play(db: str):
    """A workshop of the baseline market: Ann (A) raises quality, Bo (B) cuts price and turns
    complaints down, Chen (C) adds a programme; a scandal in round 2; three rounds played."""
    from sim.workshop.registry import Registry

    reg = Registry(db)
    ws, key = reg.create("baseline", 7, round_weeks=13, customers=1500)
    tokens = {}
    for name in ("Ann", "Bo", "Chen"):
        _, tokens[name] = ws.join(name)
    ws.decide(tokens["Ann"], {"quality": 0.8, "promise": 0.8})
    ws.decide(tokens["Bo"], {"price": 0.9, "recovery_prob": 0.2})
    ws.decide(tokens["Chen"], {"programme": "financial"})
    ws.advance(key)
    ws.inject(key, "scandal")
    ws.message(key, "Round 1 is over: look at who lost customers, and why.")
    ws.decide(tokens["Ann"], {"recovery_prob": 0.9, "recovery_delay": 0})
    ws.advance(key)
    ws.decide(tokens["Bo"], {"price": 1.1})
    ws.advance(key)
    return ws.code, key, tokens["Ann"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    from PIL import Image
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "workshops.sqlite")
        code, key, token = play(db)
        # listening on every address, as a room's server does: the pages show the join link for the network
        with AppServer(env={"LSIM_WORKSHOP_DB": db}, host="0.0.0.0") as server, sync_playwright() as p:
            browser = launch_browser(p)
            # the pages opened at this computer's network address, as the guide tells the facilitator
            lan = lan_address()
            base = f"http://{lan}:{server.port}" if lan else server.url
            for name, path, ready, width, lang in SHOTS:
                ctx = browser.new_context(viewport={"width": width, "height": 900}, locale="en-US")
                page = ctx.new_page()
                page.goto(base + path.format(code=code, key=key, token=token), timeout=90_000)
                page.wait_for_selector(ready, timeout=90_000)
                if lang == "zh":
                    page.click(".lsim-lang-zh")
                    wait_text(page, ".lsim-ws-flows", r"甲循环")
                if name.startswith("workshop-participant"):  # open the first story
                    page.locator(".lsim-ws-stories .v-expansion-panel-header").first.click()
                    page.wait_for_selector(".lsim-ws-story")
                page.wait_for_timeout(1500)
                target = args.out / f"{name}.png"
                shot = screenshot(page, name, folder="workshop-docs")  # the whole page, not the viewport
                img = Image.open(shot).convert("RGB")
                # a few hundred kB, not megabytes; 256 colours keep every merchant's line its own colour
                img.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(target, optimize=True)
                print(f"wrote {target} ({target.stat().st_size // 1024} kB)")
                ctx.close()
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
