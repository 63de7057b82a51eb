"""A calibration's outputs: ``best.toml`` and ``report.md`` (with ``figures/objective_history``), and
:func:`calibrate`, which runs the study (:func:`~sim.calibration.study.run_study`), re-runs the best
set on fresh seeds (:func:`~sim.calibration.study.check_best`) and writes them.

``best.toml`` is a scenario file (``loyalty-sim run DIR/best.toml``): the base scenario with the
file's ``[set]`` values and the best trial's values (:func:`sim.inputs.overrides.apply_overrides`,
:func:`sim.inputs.scenario.scenario_to_toml`). ``report.md`` is written in the language asked for
(``--lang``), as the other reports: numbers by :mod:`sim.analysis.formatting`, tables by
:mod:`sim.analysis.tables`, 95% intervals by :func:`sim.analysis.stats.ci95`.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

from ..analysis.figures import plot_objective_history, save_figure
from ..analysis.formatting import interval_text, number_text
from ..analysis.tables import markdown_rows
from ..inputs.overrides import apply_overrides
from ..inputs.scenario import scenario_to_toml
from ..runs.executors import WorkerLost, make_executor, worker_lost
from ..runs.store import atomic_write
from ..words import check_lang, pick, word
from .spec import Calibration, Target, misfit
from .study import SHOWN_FAILURES, StudyOutcome, check_best, run_study

__all__ = ["REPORT_WORDS", "CalibrationResult", "best_scenario", "write_outputs", "calibrate"]

#: the report's words, English and Chinese
REPORT_WORDS = {
    "title": ("Calibration: {name}", "校准：{name}"),
    "what": ("What was fitted", "拟合内容"),
    "base": ("Base scenario", "基础情景"),
    "trials": ("Trials", "试验次数"),
    "replicates": ("Runs per trial", "每次试验的运行次数"),
    "steps": ("Steps per run", "每次运行的步数"),
    "seed": ("Master seed", "主种子"),
    "best": ("Best parameter set (trial {n}, objective {obj})", "最佳参数组合（第 {n} 次试验，目标函数 {obj}）"),
    "param": ("Parameter", "参数"),
    "bounds": ("Bounds", "范围"),
    "value": ("Best value", "最佳取值"),
    "fit": ("Targets and achieved values", "目标值与实际达到的值"),
    "fit_note": ("Achieved: the best set re-run on {n} fresh seeds never used in fitting; mean and 95% interval "
                 "(t; for a check of a validation fact, `F6:calib_minor_silent`, its measured value and interval "
                 "as `loyalty-sim validate` gives them over those seeds). “Fitting” is the value over the {r} "
                 "seeds every trial used. Misfit = (achieved − target) / tolerance; for a bound (≥, ≤) 0 on "
                 "the side that meets it.",
                 "实际值：最佳参数组合在 {n} 个未用于拟合的新种子上重新运行，取均值与 95% 区间（t 分布；验证事实的检验，"
                 "如 `F6:calib_minor_silent`，取 `loyalty-sim validate` 在这些种子上给出的测量值与区间）。"
                 "“拟合时”为每次试验所用 {r} 个种子上的值。误差 = (实际值 − 目标值) / 容差；对于界限（≥、≤），"
                 "满足界限的一侧误差为 0。"),
    "target": ("Target", "目标"),
    "goal": ("Target value", "目标值"),
    "tolerance": ("Tolerance", "容差"),
    "weight": ("Weight", "权重"),
    "fitting": ("Fitting", "拟合时"),
    "fresh": ("Fresh seeds", "新种子"),
    "misfit": ("Misfit", "误差"),
    "importance": ("Parameter importances", "参数重要性"),
    "importance_note": ("How much each parameter decides whether a trial is among the best ones (PED-ANOVA, "
                        "optuna.importance.get_param_importances; the shares sum to 1).",
                        "各参数在多大程度上决定一次试验能否跻身最佳之列（PED-ANOVA，"
                        "optuna.importance.get_param_importances；各占比之和为 1）。"),
    "share": ("Share", "占比"),
    "no_importance": ("Not estimated: {why}.", "未估计：{why}。"),
    "failed": ("Failed trials", "失败的试验"),
    "failed_note": ("{n} of {total} trials failed: the best set and the importances come from the {done} that "
                    "finished. The first errors (every one is in `trials.parquet`, column `error`):",
                    "{total} 次试验中有 {n} 次失败：最佳参数组合与参数重要性只来自完成的 {done} 次。前几个错误"
                    "（全部错误见 `trials.parquet` 的 `error` 列）："),
    "failed_more": ("… and {n} more.", "……另有 {n} 次。"),
    "trial": ("Trial", "试验"),
    "error": ("Error", "错误"),
    "files": ("Files", "文件"),
    "files_list": ("`best.toml` (a scenario: `loyalty-sim run best.toml --out DIR`), `trials.parquet` (every "
                   "trial), `study.db` (the Optuna study; `--resume` continues it), `manifest.json` (provenance).",
                   "`best.toml`（情景文件：`loyalty-sim run best.toml --out 文件夹`）、`trials.parquet`（全部试验）、"
                   "`study.db`（Optuna 研究；`--resume` 可继续）、`manifest.json`（来源信息）。"),
}


def _w(key: str, lang: str, **fmt) -> str:
    text = pick(*REPORT_WORDS[key], lang)
    return text.format(**fmt) if fmt else text


@dataclass
class CalibrationResult:
    """What :func:`calibrate` did: the study's outcome, the fresh-seed values, the files written."""

    outcome: StudyOutcome
    fresh: dict[str, tuple[float, float, float]]  # target label -> mean, 95% interval on the fresh seeds
    files: list[Path]
    markdown: str


def best_scenario(cal: Calibration, values: dict):
    """The base scenario with the file's ``[set]`` values and ``values`` (the best trial's)."""
    sc = apply_overrides(cal.scenario, {**cal.fixed, **values}, source=str(cal.source or "calibration"))
    info = {"title": {"en": f"Best fit of the calibration '{cal.name}'", "zh": f"校准“{cal.name}”的最佳拟合"},
            "summary": {"en": f"The scenario '{cal.base}' with the values fitted by the calibration '{cal.name}' "
                              "(see report.md beside this file).",
                        "zh": f"情景“{cal.base}”，其中的取值由校准“{cal.name}”拟合得到（见同一文件夹中的 report.md）。"}}
    return dataclasses.replace(sc, name=f"{cal.name}_best", info=info, steps=cal.steps)


def _goal(t: Target) -> str:
    """A target's value as the report writes it: ``0.37``; a bound ``≥ 3`` or ``≤ 0.2``."""
    return {"both": "", "at_least": "≥ ", "at_most": "≤ "}[t.side] + number_text(t.target)


def _report(cal: Calibration, o: StudyOutcome, fresh: dict, lang: str, figure: Path | None) -> str:
    md = [f"# {_w('title', lang, name=cal.name)}", "", f"## {_w('what', lang)}", ""]
    md.append(markdown_rows(["", ""], [[_w("base", lang), cal.base], [_w("trials", lang), o.done],
                                       [_w("replicates", lang), cal.replicates],
                                       *([[_w("steps", lang), cal.steps]] if cal.observables else []),
                                       [_w("seed", lang), cal.seed]]))
    md += ["", f"## {_w('best', lang, n=o.best_trial, obj=number_text(o.best_objective))}", ""]
    md.append(markdown_rows([_w("param", lang), _w("bounds", lang), _w("value", lang)],
                            [[f"`{f.key}`", f"{number_text(f.lo)} … {number_text(f.hi)}" + (" (log)" if f.log else ""),
                              number_text(o.best_values[f.key])] for f in cal.free]))
    best_row = o.trials.loc[o.trials["trial"] == o.best_trial].iloc[0]
    rows = []
    for t in cal.targets:
        m, lo, hi = fresh[t.label]
        rows.append([f"`{t.label}`", _goal(t), number_text(t.tolerance), number_text(t.weight),
                     number_text(best_row[t.label]), interval_text(m, lo, hi), number_text(misfit(t, m))])
    md += ["", f"## {_w('fit', lang)}", "", _w("fit_note", lang, n=cal.check, r=cal.replicates), ""]
    md.append(markdown_rows([_w(k, lang) for k in ("target", "goal", "tolerance", "weight", "fitting", "fresh",
                                                   "misfit")], rows))
    if o.failures:
        n_done = int((o.trials["state"] == "COMPLETE").sum())
        md += ["", f"## {_w('failed', lang)}", "", _w("failed_note", lang, n=o.failed, total=o.done, done=n_done), ""]
        md.append(markdown_rows([_w("trial", lang), _w("error", lang)],
                                [[n, pick(en, zh, lang)] for n, en, zh in o.failures[:SHOWN_FAILURES]]))
        if o.failed > SHOWN_FAILURES:
            md += ["", _w("failed_more", lang, n=o.failed - SHOWN_FAILURES)]
    md += ["", f"## {_w('importance', lang)}", ""]
    if o.importances:
        md += [_w("importance_note", lang), ""]
        md.append(markdown_rows([_w("param", lang), _w("share", lang)],
                                [[f"`{k}`", number_text(v, 3)] for k, v in o.importances.items()]))
    else:
        md.append(_w("no_importance", lang, why=pick(*o.importance_note, lang)))
    if figure is not None:
        caption = word("objective_title", lang)
        md += ["", f"## {word('figures', lang)}", "", f"![{caption}]({figure.as_posix()})", ""]
    md += ["", f"## {_w('files', lang)}", "", _w("files_list", lang)]
    return "\n".join(md).rstrip() + "\n"


def write_outputs(cal: Calibration, o: StudyOutcome, fresh: dict, lang: str = "en") -> list[Path]:
    """Write ``best.toml``, ``figures/objective_history.png|svg`` and ``report.md`` into ``o.out``,
    each atomically. Returns the paths."""
    check_lang(lang)
    out = o.out
    best = out / "best.toml"
    text = scenario_to_toml(best_scenario(cal, o.best_values))
    atomic_write(best, lambda p: p.write_text(text, encoding="utf-8"))
    tmp = out / ".tmp-figures"
    figs = save_figure(plot_objective_history(o.trials, lang), tmp, "objective_history")
    (out / "figures").mkdir(exist_ok=True)
    paths = []
    for f in figs:
        os.replace(f, out / "figures" / f.name)
        paths.append(out / "figures" / f.name)
    tmp.rmdir()
    md = _report(cal, o, fresh, lang, paths[0].relative_to(out))
    atomic_write(out / "report.md", lambda p: p.write_text(md, encoding="utf-8"))
    return [best, out / "trials.parquet", out / "report.md", *paths, out / "manifest.json", out / "study.db"]


def calibrate(cal: Calibration, out: str | os.PathLike, *, trials: int | None = None, workers: int | None = None,
              resume: bool = False, lang: str = "en", progress=None) -> CalibrationResult:
    """Run ``cal`` into ``out`` (see :func:`~sim.calibration.study.run_study`), re-run the best set
    on fresh seeds and write ``best.toml`` and ``report.md``. Trials that failed are in
    ``result.outcome.failures`` and in the report (the CLI then exits 1); when none finished,
    :func:`~sim.calibration.study.run_study` raises a :class:`~sim.runs.design.BatchError`."""
    with make_executor(workers) as executor:  # one pool for the study and the check
        o = run_study(cal, out, trials=trials, workers=workers, resume=resume, progress=progress, executor=executor)
        try:
            fresh = check_best(cal, o.best_values, executor=executor)
        except Exception as e:
            if not worker_lost(e):
                raise
            raise WorkerLost(f"the {o.done} trials are kept in {o.out}, but the best set's check on fresh seeds did "
                             "not finish (no report written): continue with --resume",
                             f"{o.done} 次试验保存在 {o.out}，但最佳参数在新种子上的检验未完成（未写报告）：用 --resume 继续") from None
    files = write_outputs(cal, o, fresh, lang)
    return CalibrationResult(o, fresh, files, (o.out / "report.md").read_text(encoding="utf-8"))
