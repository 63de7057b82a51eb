"""A full room on one server: a facilitator, a projector and N participants (browser contexts of
one chromium) play R rounds of a live classroom market.

    uv run python benchmarks/workshop_load.py                       # 30 participants, 4 rounds
    uv run python benchmarks/workshop_load.py --participants 6 --rounds 2 --json

What it does. It starts the app (``solara run app.py --production`` on 127.0.0.1, with a workshop
log of its own: ``LSIM_WORKSHOP_DB`` in a temporary folder) and one headless chromium (Debian's,
``/usr/bin/chromium``). The facilitator creates a workshop on /workshop with enough parallel markets
of ``--merchants`` merchants for everyone (``--customers`` each, ``--weeks`` per round); the
projector opens /screen; each participant opens the join link, types a name and takes a seat. Each
round every participant types one decision (a price, different for each participant and round) and
submits it, then the facilitator presses "Play round N".

Reported:

- round advance: for each page, the time from the facilitator's click to the moment that page shows
  the next round (a MutationObserver in every page notes the time; one clock, the machine's) —
  median and p95 over pages and rounds, and the slowest page per round;
- submit: the time from a participant's click on Submit to "Decided for round N" on their page;
- decisions lost: the decisions the server's log holds for each round (read back at the end by
  replaying the log, read only) against those submitted — must be none;
- connections broken: websockets that closed, page errors, pages left without their header;
- server memory (RSS of the server process and its children): before the room, peak, at the end.

As for ``benchmarks/app_load.py``, the whole machine is shared: chromium renders every page on the
same cores as the server, so the times are those of a 2-core machine doing everything at once.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from browser_kit import AppServer, chromium, open_page, tree_rss, type_slowly, wait_text  # noqa: E402

_OBSERVE = """() => {
  window.__lsimRounds = [];
  const note = () => {
    const el = document.querySelector('.lsim-ws-round');
    const m = el && el.textContent.match(/(\\d+)/);
    if (m) {
      const n = +m[1];
      const last = window.__lsimRounds[window.__lsimRounds.length - 1];
      if (!last || last[0] !== n) window.__lsimRounds.push([n, Date.now()]);
    }
  };
  new MutationObserver(note).observe(document.body, {subtree: true, childList: true, characterData: true});
  note();
}"""


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    xs = sorted(values)
    k = (len(xs) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


class Memory:
    """Samples the server's RSS every 0.5 s."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self._stop.wait(0.5)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join(timeout=5)



def run(participants: int = 30, rounds: int = 4, merchants: int = 6, customers: int = 1000, weeks: int = 13,
        log=print) -> dict:
    markets = math.ceil(participants / merchants)
    folder = Path(tempfile.mkdtemp(prefix="lsim-workshop-load-"))
    db = folder / "workshops.sqlite"
    out: dict = {"participants": participants, "rounds": rounds, "markets": markets, "merchants": merchants,
                 "customers": customers, "weeks": weeks}
    with AppServer(cull="120s", env={"LSIM_WORKSHOP_DB": str(db)}, log=folder / "server.log") as srv, \
            chromium() as browser:
        mem_before = tree_rss(srv.pid)
        closed: list[str] = []
        pages = []

        def new_page(path: str, ready: str):
            ctx = browser.new_context(viewport={"width": 1100, "height": 900})
            ctx.set_default_timeout(180_000)
            page = open_page(ctx, srv.url, path, ready=ready, timeout=180_000)
            page.on("websocket", lambda ws: ws.on("close", lambda _ws: closed.append(path)))
            return page

        with Memory(srv.pid) as mem:
            t0 = time.perf_counter()
            host = new_page("/workshop", ".lsim-ws-create-button")
            host.locator(".lsim-ws-markets input").fill(str(markets))
            host.locator(".lsim-ws-merchants input").fill(str(merchants))
            host.locator(".lsim-ws-weeks input").fill(str(weeks))
            host.locator(".lsim-ws-customers input").fill(str(customers))
            host.locator(".lsim-ws-create-button").click()
            host.wait_for_selector(".lsim-ws-code")
            code = host.locator(".lsim-ws-code").inner_text().strip()
            screen = new_page(f"/screen?code={code}", ".lsim-ws-round")
            people = []
            for i in range(participants):
                page = new_page(f"/join?code={code}", ".lsim-ws-join-btn")
                type_slowly(page, ".lsim-ws-name", f"P{i + 1:02d}")
                page.locator(".lsim-ws-join-btn").click()
                page.wait_for_selector(".lsim-ws-decisions")
                people.append(page)
                log(f"  {i + 1} of {participants} seated")
            out["setup_s"] = round(time.perf_counter() - t0, 1)
            watched = [host, screen, *people]
            for p in watched:
                p.evaluate(_OBSERVE)
            advance_s: list[float] = []
            slowest: list[float] = []
            submit_s: list[float] = []
            submitted: dict[int, dict[str, float]] = {}
            for r in range(1, rounds + 1):
                submitted[r] = {}
                for i, page in enumerate(people):
                    price = round(0.8 + 0.01 * i + 0.05 * r, 2)
                    type_slowly(page, ".lsim-ws-field-price .lsim-input", f"{price}")
                    t = time.perf_counter()
                    page.locator(".lsim-ws-submit").click()
                    wait_text(page, ".lsim-ws-decided", rf"round {r}", timeout=180_000)
                    submit_s.append(time.perf_counter() - t)
                    submitted[r][f"P{i + 1:02d}"] = price
                clicked = host.evaluate("() => Date.now()")
                host.locator(".lsim-ws-advance").click()
                times = []
                for p in watched:
                    p.wait_for_function(f"() => window.__lsimRounds.some(x => x[0] === {r + 1})", timeout=180_000)
                    at = p.evaluate(f"() => window.__lsimRounds.find(x => x[0] === {r + 1})[1]")
                    times.append((at - clicked) / 1000.0)
                advance_s.extend(times)
                slowest.append(max(times))
                log(f"  round {r}: every page showed round {r + 1} within {max(times):.2f} s "
                    f"(median {statistics.median(times):.2f} s)")
            broken = [i for i, p in enumerate(people) if p.locator(".lsim-ws-header").count() != 1]
            errors = sum(len(p.lsim_errors) for p in watched)
            mem_end = tree_rss(srv.pid)
        for p in watched:
            try:
                p.context.close()
            except Exception:  # noqa: BLE001
                pass
    # what the server took, from its log (read only)
    from sim.workshop.log import EventLog
    from sim.workshop.room import Workshop

    elog = EventLog(db)
    try:
        ws = Workshop.resume(elog, code)  # rebuilt from the log; nothing is written
    finally:
        elog.close()
    names = {s.actor: s.name for s in ws.seats.values()}
    lost = 0
    for rnd in ws.rounds:
        got = {names[f"{m + 1}:{merchant}"]: f.get("price") for (m, merchant), f in rnd.decisions.items()}
        want = submitted.get(rnd.number, {})
        lost += sum(1 for who, price in want.items() if got.get(who) is None or abs(got[who] - price) > 1e-9)
    out.update({
        "advance_p50_s": percentile(advance_s, 0.5), "advance_p95_s": percentile(advance_s, 0.95),
        "advance_slowest_page_s": slowest, "submit_p50_s": percentile(submit_s, 0.5),
        "submit_p95_s": percentile(submit_s, 0.95), "decisions_submitted": sum(len(v) for v in submitted.values()),
        "decisions_lost": lost, "rounds_in_log": len(ws.rounds), "websockets_closed": len(closed),
        "page_errors": errors, "pages_broken": len(broken), "memory_before_mb": mem_before / 2**20,
        "memory_peak_mb": mem.peak / 2**20, "memory_end_mb": mem_end / 2**20,
    })
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--participants", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--merchants", type=int, default=6, help="merchants per market (2–6; default 6)")
    ap.add_argument("--customers", type=int, default=1000, help="customers per market (default 1000)")
    ap.add_argument("--weeks", type=int, default=13, help="weeks per round (default 13)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON (progress to stderr)")
    a = ap.parse_args(argv)
    say = (lambda s: print(s, file=sys.stderr)) if a.json else print
    res = run(a.participants, a.rounds, a.merchants, a.customers, a.weeks, log=say)
    if a.json:
        print(json.dumps(res, indent=2))
    else:
        print(f"\n{res['participants']} participants + facilitator + projector, {res['markets']} market(s) of "
              f"{res['merchants']} merchants, {res['customers']:,} customers each, {res['rounds']} rounds of "
              f"{res['weeks']} weeks (setup {res['setup_s']} s)")
        print(f"round advance (click → page shows the next round): median {res['advance_p50_s']:.2f} s, "
              f"p95 {res['advance_p95_s']:.2f} s; slowest page per round: "
              + ", ".join(f"{x:.2f}" for x in res["advance_slowest_page_s"]) + " s")
        print(f"submit → 'Decided' shown: median {res['submit_p50_s']:.2f} s, p95 {res['submit_p95_s']:.2f} s")
        print(f"decisions submitted {res['decisions_submitted']}, lost {res['decisions_lost']}; rounds in the log "
              f"{res['rounds_in_log']}; websockets closed {res['websockets_closed']}; page errors {res['page_errors']}; "
              f"pages broken {res['pages_broken']}")
        print(f"server memory: before {res['memory_before_mb']:.0f} MB, peak {res['memory_peak_mb']:.0f} MB, "
              f"end {res['memory_end_mb']:.0f} MB")
    bad = res["decisions_lost"] or res["pages_broken"] or res["rounds_in_log"] != res["rounds"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
