"""benchmarks/engine.py runs and prints what it promises (--json: one object per size, fixed keys)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "engine.py"
KEYS = ["n", "engine_ns", "reference_ns", "ratio", "bytes_per_customer", "floor_ns", "floor_multiple", "step_ms",
        "build_s", "first_step_s"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


def test_json_lines_have_the_promised_keys_and_types():
    out = run("--sizes", "300", "--steps", "2", "--json")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1
    row = json.loads(lines[0])
    assert list(row) == KEYS
    assert row["n"] == 300 and isinstance(row["n"], int)
    for key in ("engine_ns", "reference_ns", "ratio", "bytes_per_customer"):
        assert isinstance(row[key], float) and row[key] > 0, key
    assert row["ratio"] == row["reference_ns"] / row["engine_ns"]
    # the engine keeps at least its customer arrays: dozens of 4-byte fields per customer
    assert row["bytes_per_customer"] > 100
    # the floor: one pass over that state, in the same run; a step costs more than one such pass
    for key in ("floor_ns", "floor_multiple", "step_ms", "build_s", "first_step_s"):
        assert isinstance(row[key], float) and row[key] > 0, key
    assert row["floor_multiple"] == row["engine_ns"] / row["floor_ns"] and row["floor_multiple"] > 1
    assert abs(row["step_ms"] - row["engine_ns"] * 300 / 1e6) < 1e-9


def test_reference_is_skipped_above_reference_max_and_the_table_is_printed():
    out = run("--sizes", "200,400", "--steps", "1", "--warmup", "1", "--reference-max", "300", "--no-peak", "--json")
    assert out.returncode == 0, out.stderr
    small, large = (json.loads(line) for line in out.stdout.strip().splitlines())
    assert (small["n"], large["n"]) == (200, 400)
    assert small["reference_ns"] is not None and small["ratio"] is not None
    assert large["reference_ns"] is None and large["ratio"] is None and large["engine_ns"] > 0
    table = run("--sizes", "200", "--steps", "1", "--warmup", "1", "--no-peak")
    assert table.returncode == 0, table.stderr
    assert "ref/engine" in table.stdout and "200" in table.stdout and "×floor" in table.stdout
    two = run("--sizes", "200,400", "--steps", "1", "--warmup", "1", "--reference-max", "0", "--no-peak")
    assert two.returncode == 0, two.stderr
    assert "fixed cost per step (from 200 and 400 customers)" in two.stdout


def test_the_floor_pass_leaves_the_state_as_it_was():
    """The floor is measured on the model just timed: its pass must change nothing."""
    import importlib.util

    import numpy as np
    from sim import LoyaltyModel, Params

    spec = importlib.util.spec_from_file_location("engine_bench", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    model = LoyaltyModel(Params(n_customers=500), seed=2)
    for _ in range(3):
        model.step()
    before = [a.copy() for a in bench.state_arrays(model)]
    assert bench.floor_ns(model, 2) > 0
    assert all(np.array_equal(a, b, equal_nan=a.dtype.kind == "f") for a, b in zip(bench.state_arrays(model), before))
    assert sum(a.nbytes for a in before) / 500 == bench.state_bytes(model)


def test_bad_sizes_get_a_clear_message_not_a_traceback():
    out = run("--sizes", "lots")
    assert out.returncode == 2
    assert "--sizes" in out.stderr and "Traceback" not in out.stderr


def test_sweep_benchmark_prints_runs_per_minute_and_checks_equal_results():
    out = subprocess.run([sys.executable, str(SCRIPT.parent / "sweep.py"), "--runs", "4", "--customers", "200",
                          "--steps", "4", "--no-dask", "--repeat", "2", "--json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["executor"] for r in rows] == ["1 worker", "2 workers (process pool)"]
    assert all(r["runs"] == 4 and r["runs_per_min"] > 0 for r in rows)
    assert rows[1]["identical"] is True and rows[0]["vs_one_worker"] == 1.0
    assert all(r["repeats"] == 2 and len(r["runs_per_min_all"]) == 2 for r in rows)


def test_sweep_benchmark_rejects_a_repeat_below_one_with_a_message():
    out = subprocess.run([sys.executable, str(SCRIPT.parent / "sweep.py"), "--repeat", "0"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "--repeat must be at least 1" in out.stderr and "Traceback" not in out.stderr
