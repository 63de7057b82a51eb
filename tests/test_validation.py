"""``loyalty-sim validate``: the stylized-facts validation through the command line.

A few cheap facts run with few seeds through a real subprocess; the exit code must be 0 exactly when
every printed check passes; ``--only`` parsing and its bad input (exit 2); the report files; and
every file in scenarios/validation/ loads."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import cli
from sim.params import ParamError
from sim.validation import FACT_IDS, FACTS, VALIDATION_DIR, load_markets, parse_only

ROOT = Path(__file__).resolve().parent.parent
EXE = [sys.executable, "-m", "sim.cli"]
CJK = re.compile(r"[\u4e00-\u9fff]")


def sh(*args, timeout=300):
    return subprocess.run([*EXE, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env={**os.environ, "COLUMNS": "160"})


def _rows(stdout: str) -> list[list[str]]:
    """The check rows of the console table: [fact, …, result]."""
    rows = []
    for line in stdout.splitlines():
        m = re.match(r"^(F\d+)\s{2,}", line)
        if m:
            rows.append([m.group(1), line.rstrip().rsplit(None, 1)[-1]])
    return rows


def test_every_validation_file_loads_and_every_fact_has_one():
    files = sorted(p.name for p in VALIDATION_DIR.glob("*.toml"))
    assert files, "no files in scenarios/validation/"
    assert sorted(f.file for f in FACTS) == files  # one file per fact, no stray files
    assert [f.id for f in FACTS] == [f"F{i}" for i in range(1, 15)]
    for f in FACTS:
        markets = load_markets(f)
        assert markets and all(m.params.n_customers > 0 for m in markets), f.id
        text = f.path.read_text(encoding="utf-8")
        assert f"--only {f.id}" in text  # says how to run it
        assert CJK.search(text), f"{f.file} has no Chinese [info]"
        assert f.title_zh and CJK.search(f.title_zh)


def test_only_parsing():
    assert parse_only(None) == list(FACT_IDS)
    assert parse_only("F7,f5") == ["F5", "F7"]
    assert parse_only("F05 13") == ["F5", "F13"]
    for bad in ("F99", "F0", "X", "F5,G2", ",", ""):
        with pytest.raises(ParamError) as e:
            parse_only(bad)
        assert "--only" in str(e.value)


def test_bad_input_exits_2_with_a_message(tmp_path):
    p = sh("validate", "--only", "F99", "--out", tmp_path / "a")
    assert p.returncode == 2, p.stderr
    assert "F99" in p.stderr and "F13" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "a").exists()
    r = CliRunner().invoke(cli, ["--lang", "zh", "validate", "--only", "F99", "--out", str(tmp_path / "b")])
    assert r.exit_code == 2 and CJK.search(r.output)
    r = CliRunner().invoke(cli, ["validate", "--fast"])  # no --out and no --doc
    assert r.exit_code == 2 and "--out" in r.output
    r = CliRunner().invoke(cli, ["validate", "--doc", "--fast"])  # --doc needs the full run
    assert r.exit_code == 2 and "--doc" in r.output
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("keep me")
    r = CliRunner().invoke(cli, ["validate", "--only", "F5", "--out", str(tmp_path / "full")])
    assert r.exit_code == 2 and "not empty" in r.output
    assert (tmp_path / "full" / "x.txt").read_text() == "keep me"


def test_an_unwritable_out_is_refused_before_any_fact_runs(tmp_path, monkeypatch):
    """--out is tried before the facts run (a full validation is minutes of work): a path under a
    file, or a place where no folder can be made even by root (/proc), exits 2 at once."""
    import sim.validation as val

    def never(*a, **k):
        raise AssertionError("the facts ran before --out was checked")

    monkeypatch.setattr(val, "run_validation", never)
    (tmp_path / "afile").write_text("x")
    for out in (tmp_path / "afile" / "sub", Path("/proc/loyalty-sim-test")):
        for lang in ("en", "zh"):
            r = CliRunner().invoke(cli, ["--lang", lang, "validate", "--only", "F1", "--seeds", "2", "--out", str(out)])
            assert r.exit_code == 2, r.output
            assert ("Nothing was written" if lang == "en" else "未写入任何内容") in r.output, r.output
            assert "already finished are kept" not in r.output and "Traceback" not in r.output
    assert (tmp_path / "afile").read_text() == "x"


def test_fast_run_of_cheap_facts(tmp_path):
    out = tmp_path / "report"
    p = sh("validate", "--fast", "--only", "F1,F5,F8", "--seeds", "3", "--workers", "1", "--out", out, "-q")
    assert p.returncode in (0, 1), p.stderr
    rows = _rows(p.stdout)
    assert {r[0] for r in rows} == {"F1", "F5", "F8"}
    results = [r[1] for r in rows]
    assert set(results) <= {"PASS", "FAIL"}
    # exit code 0 exactly when every row passes
    assert (p.returncode == 0) == all(x == "PASS" for x in results)
    # the report
    md = (out / "validation.md").read_text(encoding="utf-8")
    for fid in ("F1", "F5", "F8"):
        assert f"## {fid} —" in md
        assert (out / "figures" / f"{fid.lower()}.png").stat().st_size > 1000
        assert f"figures/{fid.lower()}.png" in md
    assert "中文摘要" in md
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert len(data["seeds"]) == 3 and [f["id"] for f in data["facts"]] == ["F1", "F5", "F8"]
    assert all(len(f["per_seed"]) == 3 for f in data["facts"])
    # every check carries its kind of evidence, in the table and in results.json
    kinds = {f["id"]: {c["kind"] for c in f["checks"]} for f in data["facts"]}
    assert kinds["F1"] == {"verification"} and kinds["F5"] == {"verification"}
    assert kinds["F8"] == {"verification", "held_out"}
    assert data["by_kind"]["held_out"]["facts"] == 1  # only F8 has held-out checks among these three
    assert re.search(r"^held-out: [01] of 1 facts pass", p.stdout, re.M)
    for s in data["seeds"]:
        assert str(s) in md  # the seeds are recorded in the report
    # the printed pass/fail agrees with the report's
    passed = {f["id"]: f["passed"] for f in data["facts"]}
    for fid in passed:
        assert passed[fid] == all(r[1] == "PASS" for r in rows if r[0] == fid)
    assert (p.returncode == 0) == all(passed.values())


def test_a_variant_of_the_model_runs_every_fact_with_its_values(tmp_path):
    """validate --set: the facts run on the model with a market-wide parameter changed — F5's rate of
    minor complaints follows complaint_minor — and a key a fact's own file sets (F5's n_customers)
    keeps the file's value; the report, results.json and the console name the values and what was
    kept. The same seeds without --set measure the model as declared."""
    def run(out, *sets):
        r = CliRunner().invoke(cli, ["validate", "--only", "F5", "--seeds", "3", "--workers", "1", "-q",
                                     "--out", str(out), *[x for s in sets for x in ("--set", s)]])
        assert r.exit_code in (0, 1), r.output
        return r, json.loads((out / "results.json").read_text(encoding="utf-8"))

    r0, plain = run(tmp_path / "plain")
    r1, variant = run(tmp_path / "variant", "complaint_minor=0.09", "n_customers=300")
    minor = {d["values"] and "variant" or "plain": next(c["value"] for c in d["facts"][0]["checks"]
                                                        if c["key"] == "minor") for d in (plain, variant)}
    assert minor["variant"] > minor["plain"] + 0.02, minor
    assert plain["values"] == {} and plain["kept"] == {}
    assert variant["values"] == {"complaint_minor": 0.09, "n_customers": 300}
    assert variant["kept"] == {"F5": ["n_customers"]}
    assert "A variant of the model" not in r0.output
    assert "complaint_minor = 0.09" in r1.output and "F5 (n_customers)" in r1.output
    md = (tmp_path / "variant" / "validation.md").read_text(encoding="utf-8")
    assert "A variant of the model" in md and "模型的变体" in md and "complaint_minor = 0.09" in md
    from sim.validation.variant import fact_markets
    assert fact_markets("F5", {"n_customers": 300, "complaint_minor": 0.09})[0].params.n_customers == 2000


@pytest.mark.parametrize("args,says", [
    (["--set", "complaint_minr=0.1"], "did you mean 'complaint_minor'"),
    (["--set", "voice_fit=99"], "out of range"),
    (["--set", "A.price=1.1"], "A.price: a merchant's parameter"),
    (["--set", "merchants[0].price=1.1"], "merchants[0].price"),
    (["--set", "run.steps=3"], "run.steps: a run setting"),
    (["--set", "voice_fit"], "malformed"),
    (["--set", "voice_fit=1", "--set", "voice_fit=2"], "given twice"),
    (["--set", "voice_fit=1", "--set", "params.voice_fit=2"], "given twice"),
])
def test_a_variant_with_bad_values_is_refused_before_any_fact_runs(tmp_path, monkeypatch, args, says):
    """validate --set: an unknown key, a value out of its range, a merchant's key or a run setting
    (each fact's own design) and a malformed item exit 2 with a message naming the item, in English
    and Chinese, before any fact runs and without making --out."""
    import sim.validation as val

    def never(*a, **k):
        raise AssertionError("the facts ran before --set was checked")

    monkeypatch.setattr(val, "run_validation", never)
    for lang in ("en", "zh"):
        out = tmp_path / lang
        r = CliRunner().invoke(cli, ["--lang", lang, "validate", "--only", "F5", "--out", str(out), *args])
        assert r.exit_code == 2, r.output
        assert "Traceback" not in r.output and not out.exists()
        if lang == "en":
            assert says in r.output, r.output
        else:
            assert CJK.search(r.output), r.output
    r = CliRunner().invoke(cli, ["validate", "--doc", "--set", "voice_fit=10"])
    assert r.exit_code == 2 and "drop --set" in r.output


def test_f7_remedy_read_again_with_a_remedy_counted_on_gives_back_the_measurement(monkeypatch):
    """With recovery_expected, F7's information rows read each remedy against what the customer counted
    on, as the model does: at the worth it had they give back exactly what was measured."""
    import sim.validation.facts.f07_recovery_paradox as f07
    from sim.validation.variant import fact_markets
    monkeypatch.setattr(f07, "F7_WORTH", (("same", None, 1.0),))
    r = f07.measure(fact_markets("F7", {"recovery_expected": 0.5}), 7)
    assert r["n_rec"] > 50
    assert r["same_above"] == pytest.approx(r["above_pre"], abs=1e-9)
    assert r["same_sat"] == pytest.approx(r["S_rec"] - r["S_ctrl"], abs=1e-6)


#: the facts the model reproduces today (docs/validation.md); a change that loses one must say why.
#: F13 holds again: the value churn observable values a lost customer at its spend when the step
#: opened, and a new relationship's first encounters weigh more (satisfaction_settling); see
#: docs/validation/facts/F13.md
HOLDING = {"F1", "F3", "F4", "F5", "F8", "F9", "F10", "F11", "F12", "F13", "F14"}


def test_the_whole_fast_validation_runs_and_no_holding_fact_is_lost(tmp_path):
    """The CI budget run: every fact with the --fast seeds (deterministic: the same seeds each time).
    The facts that hold today must keep holding; the exit code says whether all hold."""
    out = tmp_path / "fast"
    p = sh("validate", "--fast", "--workers", "2", "--out", out, "-q", timeout=900)
    assert p.returncode in (0, 1), p.stderr
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    passed = {f["id"]: f["passed"] for f in data["facts"]}
    assert set(passed) == set(FACT_IDS)
    lost = sorted(HOLDING - {k for k, v in passed.items() if v}, key=lambda k: int(k[1:]))
    assert not lost, f"facts that held and no longer do: {lost} (see {out / 'validation.md'})"
    assert (p.returncode == 0) == all(passed.values())
    # F6's reference rows: buyers without a problem would buy again more readily than those with a major,
    # unvoiced one
    f6 = {c["key"]: c["value"] for c in next(f for f in data["facts"] if f["id"] == "F6")["checks"]}
    assert 0 < f6["calib_major_silent"] < f6["no_problem_intention"] < 1 and 0 < f6["no_problem"] < 1


def test_chinese_console_table(tmp_path):
    r = CliRunner().invoke(cli, ["--lang", "zh", "validate", "--only", "F5", "--seeds", "2", "--workers", "1",
                                 "--out", str(tmp_path / "zh"), "-q"])
    assert r.exit_code in (0, 1), r.output
    assert "事实" in r.output and ("通过" in r.output or "未通过" in r.output)
    assert "投诉率" in r.output


def test_f10_customer_value_is_the_clv_formula_and_grows_with_a_rising_margin():
    """F10's lifetime value: with a constant margin it is the model's clv formula m·r/(1 + d − r) less
    the acquisition cost; a margin that rises with tenure makes a fall in defection worth more, and a
    dearer acquisition makes the same fall worth more of the (smaller) net value."""
    from sim.validation.facts.f10_retention_value import lifetime_value
    m, r, d, acq = 0.3, 0.995, 0.002, 2.0
    assert lifetime_value([m] * 4, r, d, acq) == pytest.approx(m * r / (1 + d - r) - acq, rel=1e-9)
    r5 = 0.997

    def gain(profile, a):
        return lifetime_value(profile, r5, d, a) / lifetime_value(profile, r, d, a) - 1

    flat, rising = [m] * 4, [m, m * 1.2, m * 1.5, m * 2.0]
    assert gain(rising, 0.0) > gain(flat, 0.0) > 0
    assert gain(flat, 10.0) > gain(flat, 0.5) > 0


def test_f7_remedy_read_again_at_its_own_worth_gives_back_the_measurement(monkeypatch):
    """F7's information rows re-evaluate each recovered customer's remedy at another worth: at the
    worth it had (scale 1 for all) they must give back exactly what was measured, and a remedy worth
    half as much must leave fewer customers above where they were, and the recovered less satisfied."""
    import sim.validation.facts.f07_recovery_paradox as f07
    monkeypatch.setattr(f07, "F7_WORTH", (("same", None, 1.0), ("half", None, 0.5)))
    f7 = next(f for f in FACTS if f.id == "F7")
    r = f07.measure(load_markets(f7), 7)
    assert r["n_rec"] > 50
    assert r["same_above"] == pytest.approx(r["above_pre"], abs=1e-9)
    assert r["same_sat"] == pytest.approx(r["S_rec"] - r["S_ctrl"], abs=1e-6)
    assert r["half_above"] < r["above_pre"] and r["half_sat"] < r["same_sat"]


def test_every_fact_has_its_texts_in_markdown():
    """The report's texts of each fact are read from docs/validation/facts/Fn.md: one file per fact and
    no stray files; every section the report prints is there; a diagnosis heading names the start of
    a real check key (the keys of the committed full run, docs/validation/results.json)."""
    from sim.validation.paths import DOC_FIGURE_DIR, FACT_TEXT_DIR

    assert sorted(p.stem for p in FACT_TEXT_DIR.glob("*.md")) == sorted(FACT_IDS)
    keys = {f["id"]: [c["key"] for c in f["checks"]]
            for f in json.loads((DOC_FIGURE_DIR / "results.json").read_text(encoding="utf-8"))["facts"]}
    for f in FACTS:
        t = f.text
        assert t.id == f.id
        for part in (t.title_en, t.title_zh, t.source, t.grade, t.test, t.method):
            assert part and "\n" not in part and "  " not in part, f.id
        assert CJK.search(t.title_zh) and not CJK.search(t.method), f.id
        for k in t.diagnosis:
            assert any(c.startswith(k) for c in keys[f.id]), (f.id, k)
    assert {f.id for f in FACTS if f.calibrated} == {"F6", "F9", "F11", "F13"}
    # every fact says which evidence its checks give and why, in English and Chinese
    for f in FACTS:
        assert f.evidence and "\n" not in f.evidence and not CJK.search(f.evidence), f.id
        assert CJK.search(f.evidence_zh), f.id
    # the calibration checks are those of the facts that document a calibration
    assert {f.id for f in FACTS if any(k == "calibration" for _, k in f.kinds)} == {"F6", "F9", "F11", "F13"}


def test_every_check_declares_its_kind_of_evidence():
    """Each fact declares the kind of evidence of its checks (Fact.kinds); every key of the committed full
    run gets one, the rule checks named in issue 16 are verification, F11's hand-fitted targets and F6's
    calibrated levels are calibration, and the behaviour rows are held out."""
    from sim.validation.core import KINDS, Fact
    from sim.validation.paths import DOC_FIGURE_DIR

    keys = {f["id"]: [c["key"] for c in f["checks"]]
            for f in json.loads((DOC_FIGURE_DIR / "results.json").read_text(encoding="utf-8"))["facts"]}
    kind = {f.id: {k: f.kind_of(k) for k in keys.get(f.id, [])} for f in FACTS}
    assert all(k in KINDS for d in kind.values() for k in d.values())
    assert set(kind["F1"].values()) == {"verification"}
    assert kind["F2"]["ratio_sat_0.1"] == kind["F2"]["concave_sat_loss"] == "verification"
    assert kind["F2"]["ratio_int_0.1"] == kind["F2"]["ratio_ret_0.3"] == "held_out"
    assert set(kind["F11"].values()) == {"calibration"}
    # F6: the fitted levels, and the order of the intentions that follows from fitting ordered levels
    assert {k for k, v in kind["F6"].items() if v == "calibration"} == {
        k for k in keys["F6"] if k.startswith(("calib_", "order_", "major_below_"))}
    assert {k for k, v in kind["F6"].items() if v == "held_out"} >= {"behaviour_less_minor", "behaviour_order_minor_0"}
    assert set(kind["F7"].values()) == {"held_out"}
    # F9: the top-box ratio is a calibration target (a lower bound); its convexity and the boxes stay held out
    assert kind["F9"]["ratio"] == "calibration" and kind["F9"]["convex"] == kind["F9"]["box5"] == "held_out"
    # what the default calibration fits is what the report calls calibration, and nothing it reads is held out
    from sim.calibration import load_calibration

    cal = load_calibration(Path(__file__).parents[1] / "scenarios/experiments/calibration/default.toml")
    fitted = [(t.fact, t.check) for t in cal.targets if t.kind == "validation"]
    assert ("F9", "ratio") in fitted and all(kind[f][c] == "calibration" for f, c in fitted), fitted
    f14 = next(f for f in FACTS if f.id == "F14")
    assert f14.kinds == () and f14.kind_of("heard_cost") == "held_out"
    with pytest.raises(ValueError, match="unknown kind"):
        Fact("F99", "x.toml", lambda m, s: {}, lambda ps: [], kinds=(("", "fitted"),))


def _fake_validation(checks_by_fact: dict):
    """A Validation of made-up checks (no run): {fact id: [(key, passed)]}, kinds from the real facts."""
    from sim.validation.core import Check, FactResult, Validation

    results = []
    for fid, rows in checks_by_fact.items():
        f = next(x for x in FACTS if x.id == fid)
        checks = [Check(k, f"{k} measured", f"{k} 测量", 1.0, 0.5, 1.5, "t", "目标", ok) for k, ok in rows]
        for c in checks:
            c.kind = f.kind_of(c.key)
        results.append(FactResult(f, checks, [], [1]))  # no per-seed numbers: no figure
    return Validation(results, [1], 7, 1.0, "none")


def test_the_headline_counts_held_out_facts_only_and_the_report_keeps_the_kinds_apart(tmp_path):
    """A failing verification-only fact (F1) and a failing calibration-only fact (F11) do not count in the
    headline; a fact with a failing held-out check does; the report has the three sections in English
    and Chinese, and the Chinese summary the app shows first."""
    from sim.validation import console_table, write_report
    from sim.validation.core import ZH_SUMMARY_HEADING

    v = _fake_validation({"F1": [("slope", False)], "F11": [("single", False)],
                          "F8": [("per_person", True), ("total", True)], "F9": [("convex", False)],
                          "F13": [("value", True)]})
    held = v.tally("held_out")
    assert (held["facts"], held["facts_passed"], held["checks"], held["checks_passed"]) == (3, 2, 3, 2)
    assert held["failing"] == ["F9"]
    assert v.tally("verification")["failing"] == ["F1"] and v.tally("calibration")["failing"] == ["F11"]
    lines = console_table(v)
    assert "held-out: 2 of 3 facts pass (2 of 3 checks) — failing: F9" in lines
    assert any(x.startswith("verification: 1 of 2 checks hold") for x in lines)
    assert any(x.startswith("calibration: 0 of 1 fitted targets") for x in lines)
    md = write_report(v, tmp_path / "r")["markdown"].read_text(encoding="utf-8")
    assert "**Held-out: 2 of 3 facts pass (2 of 3 checks) — failing: F9.**" in md
    heads = [x for x in md.splitlines() if x.startswith("## ")]
    order = [next(i for i, h in enumerate(heads) if h.startswith(f"## {w}"))
             for w in ("Verification (", "Calibration (", "Held-out validation (")]
    assert order == sorted(order)
    assert "## Verification (the rules do what they say) · 验证（规则按其所述运作）" in heads
    assert ZH_SUMMARY_HEADING in heads and "留出验证：3 个事实中 2 个通过" in md
    held_part = md.split("## Held-out validation")[1].split("\n## ")[0]
    assert "[F9]" in held_part and "[F1]" not in held_part and "[F11]" not in held_part
    data = json.loads((tmp_path / "r" / "results.json").read_text(encoding="utf-8"))
    assert data["by_kind"]["held_out"]["facts"] == 3
    assert {c["kind"] for f in data["facts"] for c in f["checks"]} == {"verification", "calibration", "held_out"}
    # all held-out checks passing: the headline says so although a verification check fails
    ok = _fake_validation({"F1": [("slope", False)], "F9": [("convex", True)]})
    assert any(x.startswith("held-out: 1 of 1 facts pass") for x in console_table(ok))


def test_fact_text_format_and_its_errors():
    from sim.validation.prose import parse_fact_text

    good = ("<!-- a note -->\n# F9 — A title\n\n## 中文标题\n\n标题\n\n## Source\n\nSomeone\n2020\n\n## 中文来源\n\n某人 2020\n\n## Grade\n\nA\n\n"
            "## Test\n\nthe test\n\n## Measurement\n\nhow it is\nmeasured\n\n## Evidence\n\nheld out\n\n## 证据类型\n\n留出\n\n"
            "## Diagnosis: `ratio`\n\nwhy\n")
    t = parse_fact_text(good)
    assert (t.id, t.title_en, t.title_zh, t.source, t.method) == ("F9", "A title", "标题", "Someone 2020",
                                                                 "how it is measured")
    assert t.calibration == "" and t.diagnosis == {"ratio": "why"} and t.source_zh == "某人 2020"
    for bad, said in ((good.replace("## 中文来源\n\n某人 2020\n\n", ""), "missing 中文来源"),
                      (good.replace("## Grade", "## Grades"), "unknown section 'Grades'"),
                      (good.replace("## Test\n\nthe test\n\n", ""), "missing Test"),
                      (good.replace("## Evidence\n\nheld out\n\n", ""), "missing Evidence"),
                      (good.replace("## Source", "## Test"), "appears twice"),
                      (good.replace("# F9 — A title", "# F9: A title"), "title")):
        with pytest.raises(ValueError, match=said):
            parse_fact_text(bad, "F9.md")


def test_f14_word_of_mouth_cost_splits_the_lost_customers():
    """F14 follows the failing merchant's customers with an unresolved problem and its customers who only
    heard bad word of mouth about it, each against customers of the same weeks who had neither: both
    groups keep worse than their controls, and the customers lost are group size × the gap."""
    from sim.validation.facts.f14_word_of_mouth_cost import measure

    f14 = next(f for f in FACTS if f.id == "F14")
    r = measure(load_markets(f14), 3)
    assert r["n_problem"] > 200 and r["n_heard"] > 100 and r["n_ctrl_all"] > r["n_ctrl_buyers"] > 1000
    assert r["ret_problem"] < r["ret_ctrl_buyers"] and r["ret_heard"] < r["ret_ctrl_all"]
    assert r["lost_heard"] == pytest.approx(r["n_heard"] * (r["ret_ctrl_all"] - r["ret_heard"]))
    assert r["lost_problem"] > 0 and r["lost_heard"] > 0


def test_a_shock_is_read_on_the_buyers_still_with_the_merchant_they_bought_from():
    """F2–F4 read each merchant's buyers of the shock week. A customer who switched right after its
    purchase holds another merchant and a new relationship's trust: read as a buyer of that merchant
    it put a trust *loss* in the control group and in 'Good' (one good encounter seemed to lower
    trust). Only buyers still with their merchant are read: trust rises after an as-expected or a
    good encounter, falls after a bad one, more the larger it is."""
    from sim.inputs.scenario import load_scenario
    from sim.validation.paths import VALIDATION_DIR
    from sim.validation.shocks import measure_shock

    out = measure_shock(load_scenario(VALIDATION_DIR / "f04_trust.toml"), 1, horizon=0, follow=0)
    dtrust = dict(zip(out["names"], out["dtrust"]))
    assert dtrust["Control"] > 0, dtrust
    goods = sorted(k for k in dtrust if k.startswith("Good"))
    bads = sorted(k for k in dtrust if k.startswith("Bad"))
    assert goods and bads
    assert all(dtrust[g] > dtrust["Control"] for g in goods), dtrust
    assert all(dtrust[b] < 0 for b in bads), dtrust
    assert [dtrust[b] for b in bads] == sorted((dtrust[b] for b in bads), reverse=True), dtrust  # Bad10 > Bad20 > Bad30


def test_with_logit_reads_each_group_on_the_latent_scale():
    """The intention's logit scale F2 and F3 report beside their checks: logit of each group's mean,
    clipped away from 0 and 1 (a group whose intention is 1 has a finite logit)."""
    import math

    from sim.validation.shocks import shock_effects, with_logit

    ps = [{"delta": [0.0, 0.2], "int": [0.5, 0.9]}, {"delta": [0.0, 0.2], "int": [0.8, 1.0]}]
    lg = with_logit(ps)
    assert lg[0]["int_logit"] == pytest.approx([0.0, math.log(9)])
    assert lg[1]["int_logit"][0] == pytest.approx(math.log(4)) and math.isfinite(lg[1]["int_logit"][1])
    assert ps[0].keys() == {"delta", "int"}  # the input is left as it was
    assert shock_effects(lg, "int_logit", 0.2) == pytest.approx([math.log(9), lg[1]["int_logit"][1] - math.log(4)])


def test_a_variant_value_that_clashes_with_a_facts_own_market_names_the_fact():
    """A value allowed in the default market may clash with a value a fact's file sets (or keeps):
    the error names the fact and its file, in English and Chinese, before anything runs."""
    from sim.validation.variant import fact_markets
    with pytest.raises(ParamError) as e:
        fact_markets("F1", {"loyalty_exit": 0.95})
    assert "F1 (f01_expectations.toml)" in e.value.text("en") and "loyalty_threshold" in e.value.text("en")
    assert CJK.search(e.value.text("zh"))
