"""Sweep throughput: runs per minute with 1 worker, 2 workers (process pool) and a Dask LocalCluster.

    uv run python benchmarks/sweep.py                     # 40 runs of 2,000 customers × 52 steps
    uv run python benchmarks/sweep.py --runs 20 --customers 1000 --steps 26
    uv run python benchmarks/sweep.py --json

Every executor runs the same experiment (the baseline scenario, a factorial over ``trust_gain``
with replicates) through :func:`sim.runs.run_experiment` into a fresh folder, so the figure
includes writing the Parquet parts and the manifest. Each executor is started and warmed up
(every worker — or this process, for one worker — has imported the simulator and loaded its
compiled passes by stepping a tiny market) before the clock starts; the start-up time is printed
separately. (Without that, each new worker's first run would load the compiled passes, about 0.2 s,
inside the timed runs, while one worker in this process would have loaded them once for all
repeats: the comparison would not be like with like.) Each executor is measured ``--repeat``
times, alternating, and the median is reported. The results of all executors are checked to be
identical.

Targets: 2 workers ≥ 1.8× one worker; Dask ≥ 0.9 of the process pool. Absolute speeds drift
on shared machines; quote the ratios.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import statistics
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402

from sim.inputs.experiment import parse_experiment  # noqa: E402
from sim.runs import InlineExecutor, local_cluster, read_results, run_experiment  # noqa: E402


def _warm(_: int) -> int:
    """Bring a worker (or this process) to where a sweep's later runs find it: the simulator imported
    and its compiled passes loaded from the cache, by stepping a tiny market once (about 0.2 s the
    first time in a process, counted in the start-up)."""
    import sim.runs  # noqa: F401  (import the simulator in the worker)
    from sim import LoyaltyModel, Params

    LoyaltyModel(Params(n_customers=60), seed=0).step()
    return 0


def experiment(runs: int, customers: int, steps: int):
    points = 4
    reps = max(1, runs // points)
    text = f"""
[experiment]
scenario = "baseline"
replicates = {reps}
steps = {steps}
seed = 1
measure = "every"
[set]
n_customers = {customers}
[vary]
trust_gain = [0.04, 0.08, 0.12, 0.16]
"""
    return parse_experiment(text, "benchmark")


def timed(exp, make, workdir: Path, name: str) -> dict:
    t0 = time.perf_counter()
    ex, close = make()
    startup = time.perf_counter() - t0
    t1 = time.perf_counter()
    summ = run_experiment(exp, workdir / name, executor=ex)
    elapsed = time.perf_counter() - t1
    close()
    assert summ.failed == 0, summ.failures
    return {"executor": name, "runs": summ.total, "seconds": elapsed, "startup_s": startup,
            "runs_per_min": 60.0 * summ.total / elapsed}


def inline():
    _warm(0)  # this process, as the pool's workers are warmed below
    return InlineExecutor(), (lambda: None)


def pool(n: int):
    def make():
        ex = cf.ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn"))
        list(ex.map(_warm, range(4 * n)))
        return ex, ex.shutdown
    return make


def dask(n: int):
    """The LocalCluster ``loyalty-sim sweep --cluster local`` makes (:func:`sim.runs.local_cluster`)."""
    def make():
        cm = local_cluster(n)
        ex, _ = cm.__enter__()
        list(ex.map(_warm, range(4 * n)))
        return ex, (lambda: cm.__exit__(None, None, None))
    return make


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=40, help="runs per executor (default 40)")
    ap.add_argument("--customers", type=int, default=2000, help="customers per market (default 2000)")
    ap.add_argument("--steps", type=int, default=52, help="steps per run (default 52)")
    ap.add_argument("--workers", type=int, default=2, help="workers for the pool and Dask (default 2)")
    ap.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster")
    ap.add_argument("--repeat", type=int, default=3, help="measure each executor this many times, alternating; "
                    "medians are reported (default 3)")
    ap.add_argument("--json", action="store_true", help="print one JSON object per executor")
    a = ap.parse_args(argv)
    for flag, value in (("--repeat", a.repeat), ("--runs", a.runs), ("--customers", a.customers),
                        ("--steps", a.steps), ("--workers", a.workers)):
        if value < 1:
            ap.error(f"{flag} must be at least 1 (got {value})")
    exp = experiment(a.runs, a.customers, a.steps)
    makers = [("1 worker", inline), (f"{a.workers} workers (process pool)", pool(a.workers))]
    if not a.no_dask:
        makers.append((f"Dask LocalCluster ({a.workers} workers)", dask(a.workers)))
    trials: dict[str, list[dict]] = {name: [] for name, _ in makers}
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        for rep in range(a.repeat):  # alternate the executors so drift on a shared machine hits all alike
            for name, make in makers:
                trials[name].append(timed(exp, make, work, f"{name} #{rep}"))
        ref = read_results(work / f"{makers[0][0]} #0")
        for name, _ in makers:
            for rep in range(a.repeat):
                if (name, rep) != (makers[0][0], 0):
                    pd.testing.assert_frame_equal(ref.market, read_results(work / f"{name} #{rep}").market)
    rows = []
    for name, _ in makers:
        ts = trials[name]
        rows.append({"executor": name, "runs": ts[0]["runs"], "repeats": len(ts), "identical": True,
                     "runs_per_min": statistics.median(t["runs_per_min"] for t in ts),
                     "runs_per_min_all": [round(t["runs_per_min"], 1) for t in ts],
                     "startup_s": statistics.median(t["startup_s"] for t in ts)})
    base = rows[0]["runs_per_min"]
    for r in rows:
        r["vs_one_worker"] = r["runs_per_min"] / base
    if len(rows) > 2:
        rows[2]["vs_process_pool"] = rows[2]["runs_per_min"] / rows[1]["runs_per_min"]
    if a.json:
        for r in rows:
            print(json.dumps(r))
        return 0
    print(f"{exp.n_runs} runs × {a.customers} customers × {a.steps} steps; median of {a.repeat} alternating "
          f"measurements per executor; results identical across executors")
    print(f"{'executor':<34} {'runs/min':>9} {'× 1 worker':>11} {'start-up s':>11}")
    for r in rows:
        print(f"{r['executor']:<34} {r['runs_per_min']:>9.1f} {r['vs_one_worker']:>10.2f}× {r['startup_s']:>11.1f}")
    if len(rows) > 2:
        print(f"Dask ÷ process pool: {rows[2]['vs_process_pool']:.2f} (target ≥ 0.9); "
              f"2 workers ÷ 1: {rows[1]['vs_one_worker']:.2f} (target ≥ 1.8)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
