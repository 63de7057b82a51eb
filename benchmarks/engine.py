"""Speed and memory of the fast engine against the readable reference, in the same run.

    uv run python benchmarks/engine.py                      # 1e3, 1e4, 1e5, 1e6 customers
    uv run python benchmarks/engine.py --sizes 10000,1000000 --steps 5
    uv run python benchmarks/engine.py --json               # one JSON object per size

For each market size ``n`` (default parameters: three merchants, word of mouth on), both models are
built, stepped ``--warmup`` times, then timed over ``--repeat`` blocks of ``--steps`` steps: the
figure is nanoseconds per customer-step (``elapsed / (steps · n)``) of the fastest block, data
collection included. The reference
(:class:`sim.reference.ReferenceModel`, one ``mesa.Agent`` per customer) is timed only up to
``--reference-max`` customers. Memory: the engine's state in bytes per customer (customer arrays
+ network + history), and the peak of memory allocated while building a model and running one
step, per customer (``tracemalloc``, measured in a separate pass so it does not slow the timing).

The **floor**, measured in the same run at each size: one read-and-write pass over the engine's own
state (every customer array, the network's arrays and the history's buffers: the bytes counted in
``bytes_per_customer``), each array read and written in place once, in nanoseconds per customer
(fastest of ``--repeat`` passes). ``floor_multiple`` = engine / floor says how many such passes a
step costs; a step cannot cost less than about one. ``step_ms`` is the time of one step (fastest
block); with two or more sizes the fixed cost per step — the time a step takes whatever the
market's size — is estimated from the two smallest sizes (``t = fixed + per_customer · n``) and
printed after the table. ``build_s`` and ``first_step_s``: building the market and its first step
(start-up), timed once.

Absolute times drift on shared machines; quote the ratios. ``--json`` prints one object per size
with the keys ``n``, ``engine_ns``, ``reference_ns``, ``ratio`` (reference / engine; ``null`` when
the reference was not timed), ``bytes_per_customer``, ``floor_ns``, ``floor_multiple``,
``step_ms``, ``build_s`` and ``first_step_s``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mesa  # noqa: E402
import numpy as np  # noqa: E402

from sim import LoyaltyModel, Params  # noqa: E402
from sim.reference import ReferenceModel  # noqa: E402

SEED = 1


def sizes_arg(text: str) -> list[int]:
    try:
        sizes = [int(float(s)) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sizes must be numbers separated by commas, got {text!r}") from None
    if not sizes or min(sizes) < 10:
        raise argparse.ArgumentTypeError(f"--sizes must list market sizes of at least 10 customers, got {text!r}")
    return sizes


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, got {text!r}")
    return value


def start_up(n: int) -> tuple[float, float]:
    """Seconds to build an engine market of ``n`` customers, and to run its first step."""
    gc.collect()
    start = time.perf_counter()
    model = LoyaltyModel(Params(n_customers=n), seed=SEED)
    built = time.perf_counter()
    model.step()
    return built - start, time.perf_counter() - built


def state_arrays(model: LoyaltyModel) -> list[np.ndarray]:
    """Every array of the engine's own state: the customers' arrays, the network's, the history's
    buffers (the bytes of :func:`state_bytes`)."""
    pop, net, hist = model.pop, model.network, model.history
    arrays = [a for a in vars(pop).values() if isinstance(a, np.ndarray)]
    arrays += [*net.arrays(), hist.ids, hist.places, *hist.rows.values()]
    return arrays


def floor_ns(model: LoyaltyModel, repeat: int) -> float:
    """One read-and-write pass over the engine's state, in place, per customer (fastest of
    ``repeat`` passes): each array read once and written once, the least a step that touched all
    of it could cost. The arrays are given back unchanged (each element ``x`` is written ``x``)."""
    best = float("inf")
    arrays = state_arrays(model)
    for _ in range(max(repeat, 3)):
        start = time.perf_counter()
        for a in arrays:
            if a.dtype == bool:
                np.logical_or(a, False, out=a)
            else:
                np.add(a, a.dtype.type(0), out=a)
        best = min(best, time.perf_counter() - start)
    return best / model.pop.n * 1e9


def time_model(cls, n: int, warmup: int, steps: int, repeat: int):
    """Build a model of ``n`` customers, step it ``warmup`` times, then time ``repeat`` blocks of
    ``steps`` steps and keep the fastest block (as ``timeit`` does).

    Returns ``(ns per customer-step, share of that time spent observing, model)``; the share is
    measured for the reference only (packing its agents for the shared metrics), else ``None``."""
    model = cls(Params(n_customers=n), seed=SEED)
    for _ in range(warmup):
        model.step()
    observing = [0.0]
    if cls is ReferenceModel:
        observe = model.observe

        def timed_observe():
            start = time.perf_counter()
            observe()
            observing[0] += time.perf_counter() - start

        model.observe = timed_observe
    best, share = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        observing[0] = 0.0
        start = time.perf_counter()
        for _ in range(steps):
            model.step()
        elapsed = time.perf_counter() - start
        if elapsed < best:
            best = elapsed
            share = observing[0] / elapsed if cls is ReferenceModel else None
    return best / (steps * n) * 1e9, share, model


def peak_bytes(cls, n: int) -> float:
    """Peak bytes allocated (tracemalloc) while building a model and running one step, per customer."""
    gc.collect()
    tracemalloc.start()
    model = cls(Params(n_customers=n), seed=SEED)
    model.step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del model
    return peak / n


def state_bytes(model: LoyaltyModel) -> float:
    """Bytes the engine keeps per customer: customer arrays, social network and history."""
    return sum(a.nbytes for a in state_arrays(model)) / model.pop.n


def measure(n: int, args) -> dict:
    build_s, first_step_s = start_up(n)
    engine_ns, _, model = time_model(LoyaltyModel, n, args.warmup, args.steps, args.repeat)
    row = {"n": n, "engine_ns": engine_ns, "reference_ns": None, "ratio": None,
           "bytes_per_customer": state_bytes(model)}
    floor = floor_ns(model, args.repeat)
    del model
    extra = {}
    if not args.no_peak:
        extra["engine_peak"] = peak_bytes(LoyaltyModel, n)
    if n <= args.reference_max:
        row["reference_ns"], extra["reference_observing"], _ = time_model(ReferenceModel, n, args.warmup, args.steps,
                                                                          args.repeat)
        row["ratio"] = row["reference_ns"] / row["engine_ns"]
        if not args.no_peak:
            extra["reference_peak"] = peak_bytes(ReferenceModel, n)
    row.update(floor_ns=floor, floor_multiple=engine_ns / floor, step_ms=engine_ns * n / 1e6, build_s=build_s,
               first_step_s=first_step_s)
    return row, extra


def fixed_cost(rows: list[dict]) -> tuple[float, float, int, int] | None:
    """The fixed cost of a step (ms) and the cost per customer (ns), from the two smallest sizes
    measured: ``step_ms = fixed + per_customer · n``; ``None`` with fewer than two sizes."""
    small = sorted(rows, key=lambda r: r["n"])[:2]
    if len(small) < 2 or small[0]["n"] == small[1]["n"]:
        return None
    (n1, t1), (n2, t2) = ((r["n"], r["step_ms"]) for r in small)
    per = (t2 - t1) / (n2 - n1)
    return t1 - per * n1, per * 1e6, n1, n2


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=sizes_arg, default=[1_000, 10_000, 100_000, 1_000_000],
                    help="market sizes, comma separated (default 1000,10000,100000,1000000)")
    ap.add_argument("--steps", type=positive, default=10, help="timed steps per size (default 10)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps before timing (default 3)")
    ap.add_argument("--repeat", type=positive, default=3,
                    help="timed blocks of --steps steps per model; the fastest counts (default 3)")
    ap.add_argument("--reference-max", type=int, default=10_000,
                    help="time the reference only up to this many customers (default 10000)")
    ap.add_argument("--no-peak", action="store_true", help="skip the tracemalloc peak-memory pass")
    ap.add_argument("--json", action="store_true", help="print one JSON object per size, nothing else")
    args = ap.parse_args(argv)

    if not args.json:
        print(f"loyalty-sim engine benchmark — Python {platform.python_version()}, numpy {np.__version__}, "
              f"mesa {mesa.__version__}, {os.cpu_count()} CPUs; default parameters, word of mouth on; "
              f"{args.warmup} warm-up steps, best of {args.repeat} × {args.steps} timed steps\n")
        print(f"{'customers':>10} {'engine ns':>10} {'reference ns':>13} {'ref observing':>14} {'ref/engine':>11} "
              f"{'engine B/cust':>14} {'engine peak':>12} {'ref peak':>10} {'floor ns':>9} {'×floor':>7} "
              f"{'step ms':>8} {'build s':>8} {'1st step s':>10}")
    rows = []
    for n in args.sizes:
        row, extra = measure(n, args)
        rows.append(row)
        if args.json:
            print(json.dumps(row), flush=True)
            continue
        ref = f"{row['reference_ns']:13,.0f}" if row["reference_ns"] is not None else f"{'—':>13}"
        obs = f"{extra['reference_observing']:14.0%}" if "reference_observing" in extra else f"{'—':>14}"
        ratio = f"{row['ratio']:10.0f}×" if row["ratio"] is not None else f"{'—':>11}"
        peak = lambda k, w: f"{extra[k]:{w},.0f}" if k in extra else f"{'—':>{w}}"  # noqa: E731
        print(f"{n:10,d} {row['engine_ns']:10,.0f} {ref} {obs} {ratio} {row['bytes_per_customer']:14,.0f} "
              f"{peak('engine_peak', 12)} {peak('reference_peak', 10)} {row['floor_ns']:9,.1f} "
              f"{row['floor_multiple']:6.1f}× {row['step_ms']:8,.2f} {row['build_s']:8.2f} {row['first_step_s']:10.3f}",
              flush=True)
    if not args.json:
        fixed = fixed_cost(rows)
        if fixed is not None:
            f_ms, per_ns, n1, n2 = fixed
            print(f"\nfixed cost per step (from {n1:,} and {n2:,} customers): {f_ms:.2f} ms, then {per_ns:.0f} ns per "
                  f"customer; at {n1:,} customers the fixed cost is {f_ms / (f_ms + per_ns * n1 / 1e6):.0%} of a step, "
                  f"at {n2:,} {f_ms / (f_ms + per_ns * n2 / 1e6):.0%}")
        print("\nns = nanoseconds per customer-step, data collection included (fastest of the timed blocks); "
              "ref observing = share of the reference's time spent packing its agents for the shared metrics;\n"
              "B/cust = bytes per customer (engine state: arrays + network + history); "
              "peak = tracemalloc peak while building and stepping once, per customer;\n"
              "floor = one in-place read-and-write pass over that state, per customer; ×floor = engine / floor "
              "(how many such passes a step costs); build / 1st step = start-up, timed once.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
