"""The validation report: Markdown (English, with a Chinese summary table), one PNG figure per fact,
and ``results.json`` with every per-seed number, so that the report can be checked and redrawn.

The report is assembled from the run's numbers (:class:`~sim.validation.core.Validation`) and each
fact's texts in ``docs/validation/facts/Fn.md`` (source, test, measurement, calibration, diagnoses;
read through :attr:`Fact.text <sim.validation.core.Fact.text>`)."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

from ..analysis.tables import md_escape
from .console import console_table, headline, variant_text
from .variant import kept_keys
from .core import KIND_NAMES, KINDS, ZH_SUMMARY_HEADING, FactResult, Validation
from .paths import DOC_FIGURE_DIR, DOC_PATH, FACT_TEXT_DIR, VALIDATION_DIR

__all__ = ["write_report"]

REGENERATE = "uv run loyalty-sim validate --doc --workers 2"

#: the report's three sections, one per kind of evidence: (heading, what it says in English, in Chinese)
SECTIONS = {
    "verification": ("Verification (the rules do what they say) · 验证（规则按其所述运作）",
                     "These checks hold by construction of one of the model's rules (a formula and its parameter "
                     "values decide them, with no interaction between customers or over time): they test the code, "
                     "not the world, and do not count in the headline.",
                     "这些检验由模型某条规则的构造本身决定（由公式及其参数值决定，不涉及客户之间或随时间的相互作用）："
                     "它们检验的是代码，而不是现实世界，不计入总体结果。"),
    "calibration": ("Calibration (fitted targets and how close the fit is) · 校准（拟合的目标及拟合程度）",
                    "The parameters of these facts' markets were set by running the model to hit these very targets "
                    "(each fact's text says what was fitted): the rows report how close the fit is, and do not count "
                    "in the headline.",
                    "这些事实所用市场的参数是通过运行模型、以命中这些目标为目的而设定的（各事实的文字说明拟合了什么）："
                    "各行报告拟合的接近程度，不计入总体结果。"),
    "held_out": ("Held-out validation (facts never used in fitting) · 留出验证（从未用于拟合的事实）",
                 "No parameter was set to reach these targets and no rule states them: they emerge from the "
                 "simulated customers. Only these checks count in the headline; a fact passes when all its "
                 "held-out checks pass.",
                 "没有参数是为达到这些目标而设定的，也没有规则直接规定它们：它们由模拟的客户行为涌现而来。"
                 "只有这些检验计入总体结果；一个事实的全部留出检验都通过时，该事实才算通过。"),
}


def _kind_status(r: FactResult, zh: bool = False) -> str:
    """``held-out PASS · verification PASS`` — the fact's result for each kind of evidence it gives."""
    if r.error:
        return "出错" if zh else "ERROR"
    words = ("通过", "**未通过**") if zh else ("PASS", "**FAIL**")
    return " · ".join(f"{KIND_NAMES[k][1 if zh else 0]} {words[0] if r.passed_as(k) else words[1]}"
                      for k in r.kinds)


def _rel(path: Path, start: Path) -> str:
    import os

    return os.path.relpath(path, start).replace(os.sep, "/")


def _diagnoses(r: FactResult) -> list[tuple[str, str]]:
    """(check keys, diagnosis) for the failing checks, one entry per diagnosis text."""
    out: dict[str, list[str]] = {}
    for c in r.failing:
        text = next((d for k, d in sorted(r.fact.diagnosis.items(), key=lambda kv: -len(kv[0]))
                     if c.key.startswith(k)), None)
        text = text or ("No diagnosis has been written for this check yet: the mechanism responsible still has "
                        "to be found.")
        out.setdefault(text, []).append(c.key)
    return [(", ".join(f"`{k}`" for k in keys), text) for text, keys in out.items()]


def _figure(r: FactResult, fig_dir: Path) -> Path | None:
    if r.fact.plot is None or not r.per_seed or r.error:
        return None
    from ..analysis.fonts import figure_text

    figure_text()
    fig = r.fact.plot(r.per_seed, r.checks)
    fig.suptitle(f"{r.fact.id} — {r.fact.title_zh}", fontsize=10)
    fig_dir.mkdir(parents=True, exist_ok=True)
    path = fig_dir / f"{r.fact.id.lower()}.png"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.savefig(path, dpi=100, format="png", metadata={"Software": None})
    return path


def _check_table(r: FactResult, lang: str = "en") -> list[str]:
    zh = lang == "zh"
    lines = ["| check | evidence | measured | value [95% interval] | target | result |", "|---|---|---|---|---|---|"]
    for c in r.checks:
        res = "info" if c.info else ("**PASS**" if c.passed else "**FAIL**")
        lines.append(f"| `{c.key}` | {KIND_NAMES[c.kind][1 if zh else 0]} | {md_escape(c.measured_zh if zh else c.measured_en)} | {c.value_text()} | "
                     f"{md_escape(c.target_zh if zh else c.target_en)} | {res} |")
    return lines


def _kind_section(v: Validation, kind: str) -> list[str]:
    """The report's section for one kind of evidence: what it means (English, Chinese), its result and
    its checks."""
    head, en, zh = SECTIONS[kind]
    t = v.tally(kind)
    L = [f"## {head}", "", en, "", zh, ""]
    if not t["checks"] and not t["facts"]:
        return L + ["*No check of this kind in this run. · 本次运行没有此类检验。*", ""]
    L.append(f"**{t['facts_passed']} of {t['facts']} facts, {t['checks_passed']} of {t['checks']} checks pass"
             + (f"; failing: {', '.join(t['failing'])}" if t["failing"] else "") + f".** · "
             f"{t['facts']} 个事实中 {t['facts_passed']} 个、{t['checks']} 项检验中 {t['checks_passed']} 项通过。")
    L.append("")
    L.append("| fact | measured | value [95% interval] | target | result |")
    L.append("|---|---|---|---|---|")
    for r in v.results:
        if r.error and kind in r.fact_kinds:
            L.append(f"| [{r.fact.id}](#{r.fact.id.lower()}) | error: {md_escape(r.error)} | | | **ERROR** |")
            continue
        for c in r.counted(kind):
            L.append(f"| [{r.fact.id}](#{r.fact.id.lower()}) | {md_escape(c.measured_en)} | {c.value_text()} | "
                     f"{md_escape(c.target_en)} | {'PASS' if c.passed else '**FAIL**'} |")
    L.append("")
    return L


def write_report(v: Validation, out_dir, *, doc: bool = False, title: str | None = None) -> dict:
    """Write ``validation.md``, ``figures/fNN.png`` and ``results.json`` into ``out_dir``; with
    ``doc=True`` write ``docs/validation.md`` and ``docs/validation/fNN.png`` instead (``out_dir`` is
    then ignored). Returns the paths written."""
    if doc:
        md_path, fig_dir, json_path = DOC_PATH, DOC_FIGURE_DIR, DOC_FIGURE_DIR / "results.json"
    else:
        out = Path(out_dir)
        md_path, fig_dir, json_path = out / "validation.md", out / "figures", out / "results.json"
    md_path.parent.mkdir(parents=True, exist_ok=True)
    fig_dir.mkdir(parents=True, exist_ok=True)
    figs = {r.fact.id: _figure(r, fig_dir) for r in v.results}
    base = md_path.parent
    outside = [r.fact.id for r in v.results if not r.error and not r.counted("held_out")]
    L: list[str] = []
    L.append(f"# {title or 'Validation: the stylized facts of the field literature'}")
    L.append("")
    if doc:
        L.append("<!-- GENERATED by `loyalty-sim validate --doc`: do not edit by hand. -->")
        L.append("")
    L.append(f"*Generated by `loyalty-sim validate`. Regenerate this page and its figures with "
             f"`{REGENERATE}` (a full run: all facts, {len(v.seeds)} seeds each; two to four minutes on two "
             "cores). A quick check, `uv run loyalty-sim validate --fast --out DIR` (8 seeds, under a minute to "
             "two), runs with the test suite (`tests/test_validation.py`), which fails if a fact that holds "
             "today stops holding.*")
    L.append("")
    L.append("The facts, their sources and their tests are those of the project's list of "
             "13 stylized facts from field studies, F1–F13, and F14, a held-out measurement of what bad word of mouth "
             "costs a merchant (THEORY.md §4) (grade A: meta-analysis or large field study, B: single "
             "peer-reviewed study or HBR company data, C: practitioner figures known through secondary "
             "quotes). Each fact is measured on the market of its own file in "
             f"[`scenarios/validation/`]({_rel(VALIDATION_DIR, base)}) — anyone can run, inspect or change "
             "those markets with `loyalty-sim run`, `describe` or `sweep`; the validation code only chooses "
             "which customers to compare and which quantities to read (`sim/validation/facts/`, one module per "
             f"fact; the texts of this page are in [`docs/validation/facts/`]({_rel(FACT_TEXT_DIR, base)})).")
    L.append("")
    first, *rest = headline(v)
    L.append(f"**{first[:1].upper()}{first[1:]}.** " + " ".join(x[:1].upper() + x[1:] + "." for x in rest))
    L.append("")
    if v.values:
        L.extend(_variant_lines(v))
    L.append("## How to read the checks")
    L.append("")
    L.append(f"- Every fact runs its file with the same {len(v.seeds)} seeds, spawned from master seed "
             f"{v.master} by `sim.runs.replicate_seeds` (listed at the end). A value is the mean over seeds "
             "with its 95% interval (t-interval over seeds; for ratios, the ratio of the means with a "
             "percentile bootstrap interval over seeds).")
    L.append("- Bands and thresholds (\"1.5–3\", \"< 0.25\") are tested on the mean; claims that an effect "
             "exists or that one group is above another (\"> 0 (95% interval)\") need the whole interval on "
             "the right side; \"not significantly > 0\" passes when the interval reaches 0 or below.")
    L.append("- Every check declares its kind of evidence (`sim/validation/facts/`, each fact's `kinds`; the "
             "reasons in its section *Evidence*): **verification** holds by construction of a rule and tests the "
             "code; **calibration** is a target the parameters were fitted to, and the report gives the fit; "
             "**held-out** was never used in fitting. The headline counts held-out checks only: a fact passes "
             "the held-out validation when all its held-out checks pass; facts with no held-out check "
             f"({', '.join(outside) or 'none'}) are not in it. Rows marked *info* are reported "
             "to help reading (components, alternative readings) and do not count.")
    L.append("- Where a fact fails, its section gives the diagnosis: which mechanism of the model produces "
             "the failure and what change would fix it. The held-out checks were not tuned to pass; their "
             "scenarios only set up the market the test describes (the calibrated facts document what was "
             "fitted, in their section *Calibration*).")
    L.append("")
    for kind in ("verification", "calibration", "held_out"):
        L.extend(_kind_section(v, kind))
    L.append(ZH_SUMMARY_HEADING)
    L.append("")
    L.append("本页由 `loyalty-sim validate --doc` 生成（英文正文，中文摘要）。每个事实在 `scenarios/validation/` 中有自己的"
             f"情景或实验文件，每个事实使用相同的 {len(v.seeds)} 个随机种子；数值为各种子的均值及 95% 区间。"
             "每项检验都标明其证据类型：验证（规则按构造成立，检验代码）、校准（参数据此拟合，报告拟合程度）、留出（从未用于拟合，"
             "只有它们计入总体结果）。**" + "；".join(headline(v, "zh")) + "。** 控制台表格可用 `loyalty-sim validate --lang zh` 以中文显示。")
    L.append("")
    L.append("| 事实 | 标题 | 来源（等级） | 结果（按证据类型） | 未通过的检验 |")
    L.append("|---|---|---|---|---|")
    for r in v.results:
        fails = "；".join(f"{KIND_NAMES[c.kind][1]}：{c.measured_zh}：{c.value_text()}（目标 {c.target_zh}）"
                         for c in r.failing) or "—"
        res = _kind_status(r, zh=True)
        L.append(f"| [{r.fact.id}](#{r.fact.id.lower()}) | {md_escape(r.fact.title_zh)} | {md_escape(r.fact.source_zh)}（{r.fact.grade}）"
                 f" | {res} | {md_escape(fails)} |")
    L.append("")
    for r in v.results:
        f = r.fact
        L.append(f'<a id="{f.id.lower()}"></a>')
        L.append("")
        L.append(f"## {f.id} — {f.title_en}")
        L.append("")
        L.append(f"*{f.title_zh}* · {_kind_status(r)}")
        L.append("")
        L.append(f"- **Source** ({f.grade}): {f.source}")
        L.append(f"- **Test**: {f.test}")
        L.append(f"- **File**: [`scenarios/validation/{f.file}`]({_rel(f.path, base)})")
        L.append(f"- **Measurement**: {f.method}")
        if f.calibrated:
            L.append(f"- **Calibration**: {f.calibration}")
        if f.evidence:
            L.append(f"- **Evidence**: {f.evidence}")
        if f.evidence_zh:
            L.append(f"- **证据类型**：{f.evidence_zh}")
        L.append(f"- **Time**: {r.seconds:.1f} s of computing for {len(r.per_seed)} seeds")
        L.append("")
        if r.error:
            L.append(f"The measurement failed: `{r.error}`.")
            L.append("")
            continue
        if figs.get(f.id):
            L.append(f"![{f.id}]({_rel(figs[f.id], base)})")
            L.append("")
        L.extend(_check_table(r))
        L.append("")
        if not r.passed:
            L.append("**Diagnosis.**")
            L.append("")
            for keys, text in _diagnoses(r):
                L.append(f"- {keys}: {text}")
            L.append("")
    L.append("## Run")
    L.append("")
    git = v.versions.get("git", {}) if v.versions else {}
    L.append(f"- Started {v.started}; {v.seconds:.0f} s wall time, {v.executor}.")
    L.append(f"- Git revision {git.get('revision')}" + (" (with uncommitted changes)" if git.get("dirty") else "")
             + "; " + ", ".join(f"{k} {val}" for k, val in (v.versions or {}).items() if k != "git" and val))
    L.append(f"- Master seed {v.master}; seeds: " + ", ".join(str(s) for s in v.seeds) + ".")
    L.append("")
    L.append("Console table (`--lang zh` prints it in Chinese):")
    L.append("")
    L.append("```text")
    L.extend(console_table(v, "en", width=140))
    L.append("```")
    L.append("")
    md_path.write_text("\n".join(L), encoding="utf-8")
    data = {
        "master_seed": v.master, "seeds": v.seeds, "seconds": v.seconds, "executor": v.executor,
        "started": v.started, "versions": v.versions, "values": v.values,
        "kept": {r.fact.id: kept_keys(r.fact.id, v.values) for r in v.results} if v.values else {},
        "passed": v.passed,
        "by_kind": {k: v.tally(k) for k in KINDS},
        "facts": [{"id": r.fact.id, "title_en": r.fact.title_en, "title_zh": r.fact.title_zh, "file": r.fact.file,
                   "passed": r.passed, "passed_by_kind": {k: r.passed_as(k) for k in r.kinds}, "error": r.error, "seconds": r.seconds,
                   "checks": [c.to_dict() for c in r.checks], "per_seed": r.per_seed} for r in v.results],
    }
    json_path.write_text(json.dumps(_clean(data), indent=1, ensure_ascii=False, default=_plain), encoding="utf-8")
    return {"markdown": md_path, "figures": [p for p in figs.values() if p], "json": json_path}


def _variant_lines(v: Validation) -> list[str]:
    return [f"**{variant_text(v)}** Its numbers describe that variant, not the model as declared "
            "(`sim/params.py`); the calibration of the declared model (docs/calibration.md) did not see them.",
            "", f"**{variant_text(v, 'zh')}**", ""]


def _clean(x):
    """NaN and infinities as null (JSON has no such numbers)."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _plain(x):
    try:
        import numpy as np

        if isinstance(x, np.generic):
            return x.item()
        if isinstance(x, np.ndarray):
            return x.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return str(x)
