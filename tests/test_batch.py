"""Experiments and runs (sim.inputs.experiment, sim.runs): designs, seeds, executors, the results folder,
resume, failures."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim.runs as batch
import sim.runs.execution
from sim.inputs.experiment import load_experiment, parse_experiment
from sim.runs import (BatchError, count_runs, read_results, replicate_seeds, run_experiment,
                      single_experiment)
from sim.inputs.overrides import apply_overrides
from sim.inputs.scenario import load_scenario
from sim.metrics import METRICS

SMALL = """
[experiment]
scenario = "baseline"
design = "factorial"
replicates = 2
steps = 12
seed = 42
metrics = ["loyal_share", "churn_rate", "profit"]
[set]
n_customers = 300
network_degree = 4
[vary]
trust_gain = [0.05, 0.2]
"A.price" = { min = 1.0, max = 1.2, step = 0.2 }
"""


def small_exp(text=SMALL):
    return parse_experiment(text, "small.toml")


def test_replicate_seeds_are_spawned_and_reproducible():
    s = replicate_seeds(123, 5)
    assert s == replicate_seeds(123, 5)
    assert len(set(s)) == 5 and all(0 <= x < 2**63 for x in s)
    child = np.random.SeedSequence(123).spawn(5)[2]
    assert s[2] == int(child.generate_state(1, np.uint64)[0] >> np.uint64(1))
    assert replicate_seeds(124, 5) != s


def test_factorial_points_labels_and_common_seeds():
    exp = small_exp()
    assert [p.values for p in exp.points] == [
        {"trust_gain": 0.05, "A.price": 1.0}, {"trust_gain": 0.05, "A.price": 1.2},
        {"trust_gain": 0.2, "A.price": 1.0}, {"trust_gain": 0.2, "A.price": 1.2}]
    assert exp.points[3].params.trust_gain == 0.2 and exp.points[3].params.merchant("A").price == 1.2
    assert exp.points[3].params.n_customers == 300
    tasks = exp.tasks()
    assert len(tasks) == exp.n_runs == 8
    assert [t.run_id for t in tasks] == list(range(8))
    # replicate r has the same seed at every point (common random numbers)
    assert {t.seed for t in tasks if t.replicate == 0} == {replicate_seeds(42, 2)[0]}


@pytest.mark.parametrize("design,extra,d,expected", [
    ("lhs", "samples = 7", 3, 7),
    ("sobol", "samples = 16", 3, 16 * (3 + 2)),
    ("sobol", "samples = 8\nsecond_order = true", 3, 8 * (2 * 3 + 2)),
    ("morris", "samples = 5\nnum_levels = 4", 3, 5 * (3 + 1)),
])
def test_salib_designs_make_the_documented_number_of_runs(design, extra, d, expected):
    text = f"""
[experiment]
scenario = "baseline"
design = "{design}"
replicates = 2
{extra}
[vary]
trust_gain = {{ min = 0.02, max = 0.2 }}
trust_loss = {{ min = 0.1, max = 0.6 }}
network_degree = {{ min = 2, max = 12 }}
"""
    exp = parse_experiment(text, "d.toml")
    assert len(exp.points) == expected
    assert exp.n_runs == 2 * expected == count_runs(design, d, exp.options["samples"], 2,
                                                    exp.options.get("calc_second_order", False))
    for p in exp.points:
        assert 0.02 <= p.values["trust_gain"] <= 0.2 and 0.1 <= p.values["trust_loss"] <= 0.6
        assert p.values["network_degree"] % 2 == 0 and isinstance(p.values["network_degree"], int)
    assert exp.problem["names"] == ["trust_gain", "trust_loss", "network_degree"]


def test_run_experiment_writes_tidy_parts_and_a_complete_manifest(tmp_path):
    exp = small_exp()
    out = tmp_path / "res"
    summ = run_experiment(exp, out, workers=1)
    assert (summ.done, summ.failed, summ.total) == (8, 0, 8)
    rs = read_results(out)
    mk, mc = rs.market, rs.merchants
    assert len(mk) == 8 * 13  # steps 0..12 per run
    assert list(mk.columns[:8]) == ["run_id", "point", "label", "replicate", "seed", "trust_gain", "A.price", "step"]
    assert {"loyal_share", "churn_rate", "profit"} <= set(mk.columns) and "nps" not in mk.columns
    assert len(mc) == 8 * 13 * 3 and set(mc["merchant"]) == {"A", "B", "C"}
    m = rs.manifest
    assert m["format"] == batch.FORMAT and m["kind"] == "sweep" and m["design"] == "factorial"
    assert m["seeds"] == replicate_seeds(42, 2) and m["master_seed"] == 42
    assert [r["status"] for r in m["runs"]] == ["done"] * 8
    assert all(r["seed"] == m["seeds"][r["replicate"]] for r in m["runs"])
    assert m["versions"]["numpy"] == np.__version__ and m["versions"]["python"]
    assert "revision" in m["git"] and m["params"]["n_customers"] == 300
    assert m["points"][1]["values"] == {"trust_gain": 0.05, "A.price": 1.2}
    # every row records its seed, and the seed alone reproduces the run
    from sim import simulate
    row = mk[mk.run_id == 5]
    again = simulate(exp.points[row.point.iloc[0]].params, seed=int(row.seed.iloc[0]), steps=12).metrics
    np.testing.assert_array_equal(row["loyal_share"].to_numpy(), again["loyal_share"].to_numpy())


def test_an_existing_results_folder_is_never_overwritten(tmp_path):
    exp = small_exp()
    out = tmp_path / "res"
    run_experiment(exp, out, workers=1)
    before = {p.relative_to(out): p.read_bytes() for p in (out / "parts").rglob("*") if p.is_file()}
    with pytest.raises(BatchError, match="already holds results"):
        run_experiment(exp, out, workers=1)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(BatchError, match="not empty"):
        run_experiment(exp, other, workers=1)
    assert (other / "notes.txt").read_text() == "mine"
    different = small_exp(SMALL.replace("seed = 42", "seed = 43"))
    with pytest.raises(BatchError, match="different experiment"):
        run_experiment(different, out, workers=1, resume=True)
    assert {p.relative_to(out): p.read_bytes() for p in (out / "parts").rglob("*") if p.is_file()} == before


def test_resume_redoes_only_missing_runs(tmp_path):
    exp = small_exp()
    full, part = tmp_path / "full", tmp_path / "part"
    run_experiment(exp, full, workers=1)
    run_experiment(exp, part, workers=1)
    for rid in (2, 5):
        (part / "parts" / "market" / f"run-{rid:06d}.parquet").unlink()
    kept = (part / "parts" / "market" / "run-000001.parquet").stat().st_mtime_ns
    summ = run_experiment(exp, part, workers=1, resume=True)
    assert (summ.skipped, summ.done) == (6, 8)
    assert (part / "parts" / "market" / "run-000001.parquet").stat().st_mtime_ns == kept
    a, b = read_results(full), read_results(part)
    pd.testing.assert_frame_equal(a.market, b.market)
    pd.testing.assert_frame_equal(a.merchants, b.merchants)


def test_a_failing_run_is_recorded_and_the_others_go_on(tmp_path, monkeypatch):
    exp = small_exp()
    bad_seed = exp.tasks()[3].seed
    real = sim.runs.execution.simulate

    def flaky(params, seed, **kw):
        if seed == bad_seed and params.trust_gain == 0.05 and params.merchant("A").price == 1.2:
            raise RuntimeError("simulated crash")
        return real(params, seed=seed, **kw)

    monkeypatch.setattr(sim.runs.execution, "simulate", flaky)
    out = tmp_path / "res"
    summ = run_experiment(exp, out, workers=1)
    assert summ.failed == 1 and summ.done == 7 and "simulated crash" in summ.failures[3]
    m = json.loads((out / "manifest.json").read_text())
    assert m["runs"][3]["status"] == "failed" and "simulated crash" in m["runs"][3]["error"]
    assert json.loads((out / "parts" / "failed" / "run-000003.json").read_text())["error"].startswith("RuntimeError")
    # resume retries it
    monkeypatch.setattr(sim.runs.execution, "simulate", real)
    summ = run_experiment(exp, out, workers=1, resume=True)
    assert summ.failed == 0 and summ.done == 8 and not (out / "parts" / "failed" / "run-000003.json").exists()


def test_stop_condition_and_measure_end(tmp_path):
    text = SMALL.replace('metrics = ["loyal_share", "churn_rate", "profit"]',
                         'metrics = ["loyal_share", "active"]\nmeasure = "end"\nstop = { metric = "step_never", above = 1 }')
    with pytest.raises(BatchError, match="unknown observable 'step_never'"):
        parse_experiment(text, "x.toml")
    text = text.replace("step_never", "trusting_share").replace("above = 1", "above = 0.0")
    exp = parse_experiment(text, "x.toml")
    run_experiment(exp, tmp_path / "r", workers=1)
    rs = read_results(tmp_path / "r")
    assert len(rs.market) == exp.n_runs  # one row per run
    fast = rs.market[rs.market.trust_gain == 0.2]
    assert (fast["step"] < 12).all()  # quick trust: every run stopped early
    assert (rs.market[rs.market.trust_gain == 0.05]["step"] == 12).all()  # slow trust: ran to the end
    assert all(r["steps_run"] == s for r, s in zip(rs.manifest["runs"], rs.market["step"]))


def test_identical_results_in_process_process_pool_and_dask(tmp_path):
    exp = small_exp(SMALL.replace("replicates = 2", "replicates = 1"))
    run_experiment(exp, tmp_path / "one", workers=1)
    run_experiment(exp, tmp_path / "two", workers=2)
    run_experiment(exp, tmp_path / "dask", workers=2, cluster="local")
    ref = read_results(tmp_path / "one")
    for name in ("two", "dask"):
        other = read_results(tmp_path / name)
        pd.testing.assert_frame_equal(ref.market, other.market)
        pd.testing.assert_frame_equal(ref.merchants, other.merchants)
    assert "process pool" in read_results(tmp_path / "two").manifest["executor"]
    assert "Dask" in read_results(tmp_path / "dask").manifest["executor"]


def test_single_and_compare_experiments(tmp_path):
    base = apply_overrides(load_scenario("baseline"), {"n_customers": 300})
    exp = single_experiment(base, replicates=2, steps=5, seed=3)
    assert exp.kind == "run" and exp.n_runs == 2 and exp.points[0].label == "baseline"
    cmp = batch.compare_experiment([base, base], replicates=2, steps=5, seed=3)
    assert [p.label for p in cmp.points] == ["baseline", "baseline (2)"]
    run_experiment(cmp, tmp_path / "c", workers=1)
    rs = read_results(tmp_path / "c")
    a = rs.market[rs.market.label == "baseline"].drop(columns=["run_id", "point", "label"]).reset_index(drop=True)
    b = rs.market[rs.market.label == "baseline (2)"].drop(columns=["run_id", "point", "label"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)  # same scenario, same seeds ⇒ same runs


def test_csv_export(tmp_path):
    exp = small_exp(SMALL.replace("replicates = 2", "replicates = 1"))
    run_experiment(exp, tmp_path / "r", workers=1, csv=True)
    df = pd.read_csv(tmp_path / "r" / "market.csv")
    assert len(df) == 4 * 13 and "seed" in df.columns


def test_read_results_rejects_a_folder_without_manifest(tmp_path):
    with pytest.raises(BatchError, match="no manifest.json"):
        read_results(tmp_path)


def test_shipped_experiments_load():
    d = Path(__file__).resolve().parent.parent / "scenarios" / "experiments"
    files = sorted(d.glob("*.toml"))
    assert len(files) >= 4
    designs = set()
    for f in files:
        exp = load_experiment(f)
        designs.add(exp.design)
        assert exp.n_runs >= 1 and all(m in METRICS for m in exp.metrics)
    assert designs == {"factorial", "lhs", "sobol", "morris"}


# ---- hypothesis: malformed experiment input never escapes as anything but a clear error ----------
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from sim.params import PARAMS, ParamError  # noqa: E402

_junk_values = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                         st.text(max_size=8), st.lists(st.integers(-3, 3), max_size=3))


def _toml_value(v):
    import tomli_w
    return tomli_w.dumps({"v": v}).split("=", 1)[1].strip() if v is not None else '"none"'


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(["replicates", "steps", "seed", "design", "measure", "samples", "num_levels",
                            "second_order", "metrics", "stop", "nonsense"]), value=_junk_values)
def test_random_experiment_values_give_a_clear_error_or_load(key, value):
    if isinstance(value, float) and value != value:
        value = "nan"
    text = f'[experiment]\nscenario = "baseline"\n{key} = {_toml_value(value)}\n[vary]\ntrust_gain = [0.1, 0.2]\n'
    try:
        exp = parse_experiment(text, "fuzz.toml")
    except ParamError as e:
        assert "fuzz.toml" in str(e) and e.text("zh")
    else:
        assert exp.n_runs >= 1


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(PARAMS)), value=_junk_values)
def test_random_varied_values_give_a_clear_error_or_load(name, value):
    if name in ("n_customers", "history_limit"):
        return  # valid values would make big markets; covered by the declared ranges elsewhere
    text = f'[experiment]\nscenario = "baseline"\n[vary]\n{name} = [{_toml_value(value)}]\n'
    try:
        parse_experiment(text, "fuzz.toml")
    except ParamError as e:
        assert "fuzz.toml" in str(e) and name in str(e)


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_give_a_clear_error(data):
    try:
        parse_experiment(data, "junk.toml")
    except ParamError as e:
        assert "junk.toml" in str(e)


def test_per_customer_tables_only_when_asked(tmp_path):
    base = apply_overrides(load_scenario("baseline"), {"n_customers": 300})
    run_experiment(single_experiment(base, replicates=1, steps=6, seed=2), tmp_path / "a", workers=1)
    assert read_results(tmp_path / "a").customers is None
    run_experiment(single_experiment(base, replicates=2, steps=6, seed=2, customers=True), tmp_path / "b", workers=1)
    cu = read_results(tmp_path / "b").customers
    assert set(cu["run_id"]) == {0, 1} and (cu["step"] == 6).all()
    assert {"customer", "merchant", "stage", "trust", "satisfaction", "seed"} <= set(cu.columns)
    assert cu[cu.run_id == 0]["customer"].is_unique
    assert set(cu["stage"]) <= {"prospect", "ordinary", "trusting", "loyal"}


# ---- audit of the research workflow: sampled whole numbers, stop conditions, events, run seeds ---------
def _sampled(design: str, bounds: str, extra: str) -> list:
    text = f"""
[experiment]
scenario = "baseline"
design = "{design}"
{extra}
[vary]
trust_gain = {{ min = 0.02, max = 0.2 }}
network_degree = {bounds}
"""
    return [p.values["network_degree"] for p in parse_experiment(text, "int.toml").points]


@pytest.mark.parametrize("design,extra", [("sobol", "samples = 256"), ("lhs", "samples = 600")])
def test_a_sampled_whole_number_takes_each_allowed_value_equally_often(design, extra):
    # rounding to the nearest even value gave 2 and 12 half the chance of 4 … 10 (Sobol N=1024:
    # 512 against 1024 each) and 12 never in a Sobol sample of N = 8
    vals = _sampled(design, "{ min = 2, max = 12 }", extra)
    counts = pd.Series(vals).value_counts().sort_index()
    assert list(counts.index) == [2, 4, 6, 8, 10, 12]
    assert counts.max() - counts.min() <= 0.02 * len(vals)


def test_a_sampled_whole_number_stays_between_its_bounds():
    # min = 1 for an even parameter: rounding 1 gave 0 (word of mouth off), outside the bounds
    for design, extra in [("sobol", "samples = 64"), ("morris", "samples = 20\nnum_levels = 4"), ("lhs", "samples = 50")]:
        vals = _sampled(design, "{ min = 1, max = 9 }", extra)
        assert set(vals) <= {2, 4, 6, 8} and all(isinstance(v, int) for v in vals), design


def test_morris_levels_of_a_whole_number_go_to_the_nearest_allowed_value():
    vals = _sampled("morris", "{ min = 2, max = 12 }", "samples = 20\nnum_levels = 4")
    assert set(vals) == {2, 6, 8, 12}  # levels 2, 5.33, 8.67, 12


def test_a_sampled_whole_number_with_one_allowed_value_is_refused():
    with pytest.raises(BatchError) as ei:
        _sampled("lhs", "{ min = 4, max = 5 }", "samples = 4")
    e = ei.value
    assert e.key == "vary.network_degree" and "int.toml" in str(e) and "even values" in str(e)
    assert e.line == 8 and "偶数" in e.text("zh")


@pytest.mark.parametrize("stop", ['{ metric = "loyal_share", above = 1 }', '{ metric = "loyal_share", above = 2.0 }',
                                  '{ metric = "churn_rate", below = 0 }', '{ metric = "active", below = 0 }',
                                  '{ metric = "nps", above = 100 }'])
def test_a_stop_condition_that_can_never_trigger_is_refused(stop):
    text = SMALL.replace("seed = 42", f"seed = 42\nstop = {stop}")
    with pytest.raises(BatchError) as ei:
        parse_experiment(text, "stop.toml")
    e = ei.value
    assert e.key == "experiment.stop" and "stop.toml" in str(e) and "never stops a run" in str(e)
    assert "allowed" in str(e) and "永远不会" in e.text("zh")


def test_a_stop_condition_inside_the_observables_range_is_kept():
    text = SMALL.replace("seed = 42", 'seed = 42\nstop = { metric = "loyal_share", above = 0.99 }')
    assert parse_experiment(text, "stop.toml").stop == ("loyal_share", "above", 0.99)


PRICE_WAR = """
[experiment]
scenario = "price_war"
replicates = 1
steps = {steps}
[set]
n_customers = 100
[vary]
{key} = [0.9, 1.1]
"""


@pytest.mark.parametrize("key", ['"C.price"', '"merchants[2].price"'])
def test_varying_a_parameter_a_scheduled_event_sets_during_the_runs_is_refused(key):
    with pytest.raises(BatchError) as ei:
        parse_experiment(PRICE_WAR.format(steps=30, key=key), "pw.toml")
    e = ei.value
    assert e.key == f"vary.{key.strip(chr(34))}" and "pw.toml" in str(e) and e.line == 9
    assert "step 20" in str(e) and "steps ≤ 20" in str(e) and "第 20 步" in e.text("zh")
    # runs that end before the event (C's price at step 20, A's at step 44) are fine
    assert len(parse_experiment(PRICE_WAR.format(steps=20, key=key), "pw.toml").points) == 2
    assert len(parse_experiment(PRICE_WAR.format(steps=30, key='"A.price"'), "pw.toml").points) == 2


def test_one_row_is_reproduced_alone_from_its_recorded_seed(tmp_path):
    from click.testing import CliRunner

    from sim.cli import cli

    exp = small_exp()
    run_experiment(exp, tmp_path / "sweep", workers=1)
    rs = read_results(tmp_path / "sweep")
    row = rs.market[(rs.market.run_id == 7)].sort_values("step").reset_index(drop=True)
    seed = int(row["seed"].iloc[0])
    assert seed == replicate_seeds(42, 2)[1]
    out = tmp_path / "again"
    r = CliRunner().invoke(cli, ["run", "baseline", "--set", "n_customers=300", "--set", "network_degree=4",
                                 "--set", "trust_gain=0.2", "--set", "A.price=1.2", "--steps", "12",
                                 "--run-seed", str(seed), "--no-figures", "--out", str(out)])
    assert r.exit_code == 0, r.output
    again = read_results(out)
    assert again.manifest["seeds"] == [seed] and set(again.market["seed"]) == {seed}
    one = again.market.sort_values("step").reset_index(drop=True)
    for m in ("loyal_share", "churn_rate", "profit"):
        assert one[m].tolist() == row[m].tolist()
    # --seed is the master seed the replicate seeds are spawned from, so it does not give that run
    assert single_experiment(load_scenario("baseline"), seed=seed).seeds() != [seed]


@pytest.mark.parametrize("args", [["--seed", "3"], ["--replicates", "2"], ["--set", "run.seed=4"]])
def test_run_seed_with_another_seed_or_replicates_is_refused(tmp_path, args):
    from click.testing import CliRunner

    from sim.cli import cli

    for lang, text in (("en", "--run-seed"), ("zh", "种子")):
        r = CliRunner().invoke(cli, ["--lang", lang, "run", "baseline", "--run-seed", "5", *args,
                                     "--out", str(tmp_path / "x")])
        assert r.exit_code == 2 and text in r.output, r.output
    assert not (tmp_path / "x").exists()
