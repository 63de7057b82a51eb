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

Absolute times drift on shared machines; quote the ratio. ``--json`` prints one object per size
with the keys ``n``, ``engine_ns``, ``reference_ns``, ``ratio`` (reference / engine; ``null`` when
the reference was not timed) and ``bytes_per_customer``.
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
    net = model.network
    return (model.pop.nbytes() + net.indptr.nbytes + net.indices.nbytes + model.history.nbytes()) / model.pop.n


def measure(n: int, args) -> dict:
    engine_ns, _, model = time_model(LoyaltyModel, n, args.warmup, args.steps, args.repeat)
    row = {"n": n, "engine_ns": engine_ns, "reference_ns": None, "ratio": None,
           "bytes_per_customer": state_bytes(model)}
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
    return row, extra


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
              f"{'engine B/cust':>14} {'engine peak':>12} {'ref peak':>10}")
    for n in args.sizes:
        row, extra = measure(n, args)
        if args.json:
            print(json.dumps(row), flush=True)
            continue
        ref = f"{row['reference_ns']:13,.0f}" if row["reference_ns"] is not None else f"{'—':>13}"
        obs = f"{extra['reference_observing']:14.0%}" if "reference_observing" in extra else f"{'—':>14}"
        ratio = f"{row['ratio']:10.0f}×" if row["ratio"] is not None else f"{'—':>11}"
        peak = lambda k, w: f"{extra[k]:{w},.0f}" if k in extra else f"{'—':>{w}}"  # noqa: E731
        print(f"{n:10,d} {row['engine_ns']:10,.0f} {ref} {obs} {ratio} {row['bytes_per_customer']:14,.0f} "
              f"{peak('engine_peak', 12)} {peak('reference_peak', 10)}", flush=True)
    if not args.json:
        print("\nns = nanoseconds per customer-step, data collection included (fastest of the timed blocks); "
              "ref observing = share of the reference's time spent packing its agents for the shared metrics;\n"
              "B/cust = bytes per customer (engine state: arrays + network + history); "
              "peak = tracemalloc peak while building and stepping once, per customer.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
