"""Steps per second of the Explore page's play loop, headless (no browser).

The page is rendered with ``solara.render`` inside a virtual kernel (as the server does for one
browser tab), the market is set to 5,000 customers, and the page's own play loop
(:func:`sim.ui.state.play_loop`) runs at full speed, redrawing every N steps: each redraw renders
the key numbers, the A–H diagram and the figures of the open tab (matplotlib → PNG) exactly as the
app does. What the browser does with the PNGs is not measured.

    uv run python benchmarks/app_speed.py                 # N = 1 and the default, first tab
    uv run python benchmarks/app_speed.py --every 1,2,5 --steps 60 --tabs time,now,network
"""

from __future__ import annotations

import argparse
import threading
import time

import solara.server.starlette  # noqa: F401  (reactive values per virtual kernel, as under the server)
import ipyvuetify as v
import solara
from solara.server import kernel, kernel_context

from sim.ui import state
from sim.ui.explore import TABS, Explore


def measure(every: int, steps: int, tab: str, customers: int) -> tuple[float, float, int]:
    ctx = kernel_context.VirtualKernelContext(id=f"bench-{every}-{tab}", kernel=kernel.Kernel(),
                                              session_id=f"bench-{every}-{tab}")
    with ctx:
        box, rc = solara.render(Explore(), handle_error=False)
        sess = state.session.value
        sess.set_param("n_customers", customers)
        sess.reset()
        state.edited()
        tabs = [w for w in rc.find(v.Tabs).widgets if "lsim-tabs" in (w.class_ or "")]
        tabs[0].v_model = list(TABS).index(tab)
        if tab == "network":
            state.selected.value = int(sess.model.customer_ids("ordinary")[0]) if len(
                sess.model.customer_ids("ordinary")) else -1
        draws = [0]

        def draw():
            draws[0] += 1
            state.moved()

        sess.step(3)  # warm up (first figures, fonts)
        state.moved()
        t = time.perf_counter()
        n = state.play_loop(sess, threading.Event(), speed=lambda: 0, every=lambda: every, draw=draw,
                            max_steps=steps)
        dt = time.perf_counter() - t
        rc.close()
    return n / dt, dt / max(1, draws[0]), draws[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=5000)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--every", default=f"1,{state.DEFAULT_REDRAW}")
    ap.add_argument("--tabs", default="time")
    a = ap.parse_args()
    print(f"Explore play loop, {a.customers:,} customers, {a.steps} steps per measurement (model + redraws)")
    print(f"{'tab':<10} {'redraw every':>12} {'steps/s':>9} {'s per redraw':>13} {'redraws':>8}")
    for tab in a.tabs.split(","):
        for every in (int(x) for x in a.every.split(",")):
            sps, per_draw, draws = measure(every, a.steps, tab, a.customers)
            default = "  (default)" if every == state.DEFAULT_REDRAW else ""
            print(f"{tab:<10} {every:>12} {sps:>9.1f} {per_draw:>13.3f} {draws:>8}{default}")


if __name__ == "__main__":
    main()
