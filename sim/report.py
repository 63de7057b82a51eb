"""Summaries, sensitivity indices and figures from a results folder's tables.

The batch layer (``sim/batch.py``) writes a results folder; the CLI reads its tables into
DataFrames and passes them here. Nothing in this module reads a results folder by itself, runs a
model or prints: functions return tables, figures and Markdown text, and the writers
(:func:`save_figure`, :func:`analyze`, :func:`compare`) write only into the folder they are given.

The tables it receives:

``market``
    one row per run × step (or only each run's last step when measured "at the end"): ``run_id``,
    ``point``, ``label``, ``replicate``, ``seed``, one column per varied parameter (``A.price`` for
    merchant parameters), ``step`` and any observables of :data:`sim.metrics.METRICS`.
``merchants``
    the same id columns, ``step``, ``merchant`` and observables of
    :data:`sim.metrics.MERCHANT_METRICS`.
``manifest``
    the experiment's ``manifest.json`` as a dict (``kind``, ``design``, ``varied``, ``problem``,
    ``points`` in SALib sample order, ``replicates``, ``steps``, ``metrics``, ``measure``, …).

Intervals are 95% t-intervals over replicates. Text in tables and figures comes in English
(``lang="en"``) or Simplified Chinese (``lang="zh"``): observables' and parameters' labels from
their declarations, other words from :data:`WORDS`. Chinese glyphs come from a CJK font shipped
inside a Python package (see :func:`use_cjk_font`), so figures render the same offline on a fresh
machine.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .metrics import MERCHANT_METRICS, METRICS
from .params import MERCHANT_PARAMS, PARAMS

__all__ = [
    "Analysis", "HEADLINE_METRICS", "MERCHANT_HEADLINE_METRICS", "WORDS", "word", "metric_label",
    "merchant_metric_label", "param_label", "ci95", "final_rows", "summarize", "summarize_merchants",
    "differences", "sensitivity", "localize", "markdown_table", "plot_timeseries", "plot_vs_param",
    "plot_heatmap", "plot_scatter", "plot_bars", "plot_merchants", "plot_sensitivity", "save_figure",
    "analyze", "compare", "use_cjk_font",
]

#: observables summarised and drawn by default (those measured)
HEADLINE_METRICS: tuple[str, ...] = ("loyal_share", "churn_rate", "value_churn_rate", "satisfaction", "trust",
                                     "nps", "profit")
#: per-merchant observables summarised by default (those measured)
MERCHANT_HEADLINE_METRICS: tuple[str, ...] = ("market_share", "loyal_share", "churn_rate", "satisfaction",
                                              "trust", "profit")
#: per-step flows (churn, profit, counts) are noisy from one step to the next: the reports average
#: each run's last FLOW_WINDOW steps (a quarter of weekly steps) before summarising them
FLOW_WINDOW = 13
#: at most this many groups (labels or design points) get their own line in a figure
MAX_LINES = 10
#: at most this many panels in a small-multiples figure of merchants
MAX_PANELS = 9
#: at most this many groups are listed row by row in a Markdown summary
MAX_MD_GROUPS = 15

_ID_COLUMNS = ("run_id", "point", "label", "replicate", "seed", "step", "merchant")

# --------------------------------------------------------------------------------------------
# words
# --------------------------------------------------------------------------------------------

#: UI words in English and Simplified Chinese
WORDS: dict[str, tuple[str, str]] = {
    "step": ("Step (week)", "步（周）"),
    "mean": ("Mean", "均值"),
    "ci95": ("95% interval", "95% 区间"),
    "ci_low": ("95% low", "95% 下限"),
    "ci_high": ("95% high", "95% 上限"),
    "sd": ("SD", "标准差"),
    "n": ("Runs", "运行次数"),
    "metric": ("Observable", "指标"),
    "metric_id": ("Name", "名称"),
    "label": ("Configuration", "配置"),
    "point": ("Point", "设计点"),
    "n_points": ("Design points", "设计点数"),
    "merchant": ("Merchant", "商家"),
    "merchant_title": ("Merchant {m}", "商家 {m}"),
    "parameter": ("Parameter", "参数"),
    "parameter_id": ("Name", "名称"),
    "baseline": ("Baseline", "基线"),
    "baseline_mean": ("Baseline mean", "基线均值"),
    "diff": ("Difference", "差值"),
    "significant": ("CI excludes 0", "区间不含 0"),
    "value": ("Value", "取值"),
    "final_value": ("final value", "期末值"),
    "band_title": ("{metric}: mean and 95% interval over replicates",
                   "{metric}：均值与 95% 区间（跨重复运行）"),
    "end_what": ("{metric} at the end", "期末{metric}"),
    "window_what": ("{metric}, mean of the last {k} steps", "最后 {k} 步平均{metric}"),
    "vs_title": ("{what} vs {param}", "{what}与{param}"),
    "heat_title": ("{what}: mean over replicates", "{what}：重复运行的均值"),
    "scatter_title": ("{what}, by design point", "{what}（按设计点）"),
    "bars_title": ("{what}: mean and 95% interval", "{what}：均值与 95% 区间"),
    "sens_title": ("Sensitivity of {metric}", "{metric}的敏感度"),
    "sobol_axis": ("Sobol index", "Sobol 指数"),
    "S1": ("first order (S1)", "一阶效应（S1）"),
    "ST": ("total (ST)", "总效应（ST）"),
    "morris_axis": ("Elementary effect", "基本效应"),
    "mu_star": ("μ* (mean |effect|)", "μ*（效应绝对值均值）"),
    "sigma": ("σ (spread of effects)", "σ（效应离散度）"),
    "mu": ("μ (mean effect)", "μ（效应均值）"),
    "S1_conf": ("S1 ± (95%)", "S1 ±（95%）"),
    "ST_conf": ("ST ± (95%)", "ST ±（95%）"),
    "mu_star_conf": ("μ* ± (95%)", "μ* ±（95%）"),
    # report text
    "analysis": ("Analysis", "分析报告"),
    "comparison": ("Comparison", "方案比较"),
    "what_was_run": ("What was run", "运行内容"),
    "kind": ("Kind", "类型"),
    "design": ("Design", "设计"),
    "varied": ("Varied", "变化的参数"),
    "replicates": ("Replicates", "重复次数"),
    "replicates_per": ("{n} per configuration", "每个配置 {n} 次"),
    "steps": ("Steps", "步数"),
    "runs": ("Runs", "运行次数"),
    "measured": ("Measured", "测量"),
    "measure_every": ("every step", "每一步"),
    "measure_end": ("at the end only", "仅在结束时"),
    "summary": ("Summary", "汇总"),
    "summary_note": ("Each run's final step; mean and 95% interval (t) over replicates.",
                     "取每次运行的最后一步；均值与跨重复运行的 95% 区间（t 分布）。"),
    "flow_note": ("Per-step flows ({names}) are each run's mean over its last {k} steps.",
                  "逐期流量（{names}）取每次运行最后 {k} 步的平均。"),
    "too_many_groups": ("{n} configurations: see {file} for all of them. Across configurations:",
                        "共 {n} 个配置，全部结果见 {file}。各配置之间："),
    "across_min": ("Lowest mean", "最低均值"),
    "across_median": ("Median of means", "均值中位数"),
    "across_max": ("Highest mean", "最高均值"),
    "merchants_section": ("Merchants", "商家"),
    "sensitivity_section": ("Sensitivity", "敏感度分析"),
    "sobol_note": ("Sobol indices: S1 = share of the output's variance due to the parameter alone, "
                   "ST = including its interactions. Outputs are each design point's final value "
                   "averaged over replicates.",
                   "Sobol 指数：S1 = 仅由该参数造成的输出方差比例，ST = 含交互作用。输出为每个设计点"
                   "期末值的重复运行均值。"),
    "morris_note": ("Morris screening: μ* = mean absolute elementary effect (importance), "
                    "σ = their spread (non-linearity or interactions).",
                    "Morris 筛选：μ* = 基本效应绝对值的均值（重要性），σ = 其离散度（非线性或交互作用）。"),
    "constant_note": ("does not vary across design points: indices undefined",
                      "在各设计点之间不变：指数无定义"),
    "differences_section": ("Differences from the baseline “{b}”", "与基线“{b}”的差值"),
    "differences_note": ("Mean minus the baseline's mean, with its 95% interval (Welch); "
                         "bold where the interval excludes 0.",
                         "均值减去基线均值，及其 95% 区间（Welch）；区间不含 0 时加粗。"),
    "figures": ("Figures", "图表"),
    "no_timeseries": ("Too many configurations ({n}) for time-series figures.",
                      "配置过多（{n} 个），未绘制时间序列图。"),
    "fig_timeseries": ("{metric} over time", "{metric}随时间变化"),
    "fig_vs_param": ("{metric} vs {param}", "{metric}与{param}"),
    "fig_heatmap": ("{metric} over {p1} × {p2}", "{metric}：{p1} × {p2}"),
    "fig_scatter": ("{metric} vs the varied parameters", "{metric}与各变化参数"),
    "fig_bars": ("{metric} at the end", "期末{metric}"),
    "fig_merchants": ("{metric} by merchant", "各商家的{metric}"),
    "fig_sensitivity": ("Sensitivity of {metric}", "{metric}的敏感度"),
}

_KIND = {"run": ("run", "单次运行"), "sweep": ("sweep", "参数扫描"), "compare": ("comparison", "方案比较")}
_DESIGN = {"single": ("single configuration", "单一配置"), "factorial": ("factorial grid", "全因子网格"),
           "lhs": ("Latin hypercube", "拉丁超立方抽样"), "sobol": ("Sobol (Saltelli) sample", "Sobol（Saltelli）抽样"),
           "morris": ("Morris trajectories", "Morris 轨迹"), "scenarios": ("scenarios", "情景")}


def _zh(lang: str) -> bool:
    if lang not in ("en", "zh"):
        raise ValueError(f"lang = {lang!r}: use 'en' (English) or 'zh' (简体中文)")
    return lang == "zh"


def word(key: str, lang: str = "en", **fmt) -> str:
    """A UI word or phrase from :data:`WORDS` in ``lang`` (``"en"`` or ``"zh"``), formatted with ``fmt``."""
    en, zh = WORDS[key]
    text = zh if _zh(lang) else en
    return text.format(**fmt) if fmt else text


def metric_label(name: str, lang: str = "en") -> str:
    """Label of a market observable (falls back to a merchant observable, then to the name)."""
    if name in METRICS:
        return METRICS[name].label(lang)
    if name in MERCHANT_METRICS:
        return MERCHANT_METRICS[name].label(lang)
    return name


def merchant_metric_label(name: str, lang: str = "en") -> str:
    """Label of a per-merchant observable (falls back to a market observable, then to the name)."""
    if name in MERCHANT_METRICS:
        return MERCHANT_METRICS[name].label(lang)
    return metric_label(name, lang)


def param_label(name: str, lang: str = "en") -> str:
    """Label of a varied parameter: ``price_sensitivity`` → "Price sensitivity"; ``A.price`` → "A: Price"
    (``"A：价格"`` in Chinese). Unknown names are returned as they are."""
    _zh(lang)
    if name in PARAMS:
        return PARAMS[name].label(lang)
    if "." in name:
        who, field_ = name.rsplit(".", 1)
        if field_ in MERCHANT_PARAMS:
            sep = "：" if lang == "zh" else ": "
            return f"{who}{sep}{MERCHANT_PARAMS[field_].label(lang)}"
    if name in MERCHANT_PARAMS:
        return MERCHANT_PARAMS[name].label(lang)
    return name


def _choice_text(param: str, value, lang: str) -> str:
    """A choice value as people read it (loyalty programme tiers have labels)."""
    from .params import PROGRAMME_LABELS

    if param.rsplit(".", 1)[-1] == "programme" and value in PROGRAMME_LABELS:
        return PROGRAMME_LABELS[value][lang == "zh"]
    return _value_text(value)


def _group_title(group: str | None, lang: str) -> str:
    if group in (None, "label"):
        return word("label", lang)
    if group in ("point", "merchant"):
        return word(group, lang)
    return param_label(group, lang)


def _fmt(x, digits: int = 4) -> str:
    """A number for tables and tick labels: 4 significant digits, thousands separated, '–' for NaN."""
    if x is None:
        return "–"
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}" if abs(int(x)) >= 10000 else str(int(x))
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if math.isnan(x):
            return "–"
        if math.isinf(x):
            return "∞" if x > 0 else "−∞"
        if abs(x) >= 10000:
            return f"{x:,.0f}"
        if x == 0:
            return "0"
        s = f"{x:.{digits}g}"
        if "e" in s:
            return f"{x:.2e}"
        return s
    return str(x)


def _value_text(v) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer() and abs(v) < 1e6:
        return f"{float(v):g}"
    return _fmt(v)


# --------------------------------------------------------------------------------------------
# CJK font
# --------------------------------------------------------------------------------------------

#: Python packages known to ship a CJK font file, and which of their files to prefer; the first one
#: installed is used (``paperang-p2-fonts-cjk`` is the project's dependency: WenQuanYi Micro Hei)
_FONT_PACKAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("paperang_p2_fonts_cjk", ("wqy-microhei.ttc",)),
    ("pylopdf_fonts_zh_cn", ("NotoSansSC-Regular.otf",)),
    ("mplfonts", ("NotoSansCJKsc-Regular.otf", "SourceHanSerifSC-Regular.otf")),
    ("mpl_font", ("NotoSansCJKsc-Regular.otf", "wqy-microhei.ttc")),
)
#: CJK families looked for among the system's fonts when no package ships one
_SYSTEM_CJK = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Micro Hei",
               "WenQuanYi Zen Hei", "Sarasa Gothic SC", "Microsoft YaHei", "SimHei", "PingFang SC",
               "Hiragino Sans GB", "Heiti SC", "STHeiti", "Noto Sans CJK JP", "Noto Sans CJK TC",
               "Droid Sans Fallback", "AR PL UMing CN", "AR PL UKai CN", "Arial Unicode MS")
_UNSET = object()
_cjk_family: object = _UNSET


def _packaged_font_files() -> list[Path]:
    """Font files shipped inside installed Python packages (found without importing them)."""
    found = []
    for module, preferred in _FONT_PACKAGES:
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            continue
        for root in spec.submodule_search_locations:
            files = [p for ext in ("ttf", "otf", "ttc") for p in Path(root).rglob(f"*.{ext}")]
            rank = {name: i for i, name in enumerate(preferred)}
            files.sort(key=lambda p: (rank.get(p.name, len(rank)), p.name))
            found.extend(files[:1])
    return found


def packaged_cjk_fonts() -> list[Path]:
    """The CJK font files installed with the project's dependencies (the web app serves the first
    to browsers without a Chinese font)."""
    return _packaged_font_files()


def use_cjk_font() -> str | None:
    """Make Chinese text render in matplotlib figures; return the CJK font family used (or ``None``).

    On first call it registers the CJK font shipped inside an installed Python package (the
    project depends on ``paperang-p2-fonts-cjk``, which ships WenQuanYi Micro Hei) with
    matplotlib's font manager; if no such package is installed it looks for a CJK font among
    the system's fonts. It then appends that family to ``rcParams["font.family"]`` as a fallback:
    Latin letters and digits keep the default font, and characters it lacks (Chinese) come from
    the CJK font. Nothing is downloaded. Later calls return the same answer at once. Safe to call
    from an app before drawing.
    """
    global _cjk_family
    if _cjk_family is not _UNSET:
        _ensure_fallback(_cjk_family)
        return _cjk_family  # type: ignore[return-value]
    from matplotlib import font_manager as fm

    family = None
    for path in _packaged_font_files():
        try:
            fm.fontManager.addfont(str(path))
            family = fm.get_font(str(path)).family_name
            break
        except Exception:  # a damaged or unreadable file: try the next source
            continue
    if family is None:
        known = {f.name for f in fm.fontManager.ttflist}
        family = next((name for name in _SYSTEM_CJK if name in known), None)
    _cjk_family = family
    _ensure_fallback(family)
    return family


def _ensure_fallback(family) -> None:
    if not family:
        return
    import matplotlib as mpl

    fam = mpl.rcParams["font.family"]
    fam = [fam] if isinstance(fam, str) else list(fam)
    if family not in fam:
        mpl.rcParams["font.family"] = fam + [family]


# --------------------------------------------------------------------------------------------
# statistics
# --------------------------------------------------------------------------------------------

def _t975(df) -> np.ndarray:
    from scipy import stats  # scipy comes with SALib

    return stats.t.ppf(0.975, df)


def ci95(values) -> tuple[float, float, float]:
    """Mean and 95% t-interval ``(mean, low, high)`` of ``values`` (replicates). NaNs are dropped;
    one value gives ``low = high = mean``; no values give NaNs."""
    x = np.asarray(pd.Series(values, dtype="float64").dropna(), dtype=float)
    n = x.size
    if n == 0:
        return (math.nan, math.nan, math.nan)
    m = float(x.mean())
    if n == 1:
        return (m, m, m)
    h = float(_t975(n - 1) * x.std(ddof=1) / math.sqrt(n))
    return (m, m - h, m + h)


def _ci_frame(grouped_values: pd.core.groupby.SeriesGroupBy) -> pd.DataFrame:
    """n, mean, ci_low, ci_high, sd for each group of a grouped Series (vectorised :func:`ci95`)."""
    agg = grouped_values.agg(["count", "mean", "std"])
    n = agg["count"].to_numpy(dtype=float)
    sd = agg["std"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        h = np.where(n > 1, _t975(np.maximum(n - 1, 1)) * sd / np.sqrt(np.maximum(n, 1)), 0.0)
    h = np.where(n == 0, np.nan, h)
    mean = agg["mean"].to_numpy(dtype=float)
    out = pd.DataFrame({"n": agg["count"].astype(int).to_numpy(), "mean": mean, "ci_low": mean - h,
                        "ci_high": mean + h, "sd": np.where(n > 1, sd, np.nan)}, index=agg.index)
    return out


def _prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """A flat frame with ``run_id`` and ``step`` columns (a raw ``simulate`` table is one run)."""
    df = frame
    if "step" not in df.columns and df.index.name == "step":
        df = df.reset_index()
    if "run_id" not in df.columns:
        df = df.assign(run_id=0)
    if "step" not in df.columns:
        df = df.assign(step=0)
    return df.reset_index(drop=True)


def _require(df: pd.DataFrame, columns: Iterable[str], what: str = "table") -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        known = [c for c in df.columns if c not in _ID_COLUMNS]
        raise ValueError(f"the {what} has no column {', '.join(repr(m) for m in missing)} "
                         f"(it has: {', '.join(map(str, known)) or 'none'})")


def final_rows(market: pd.DataFrame) -> pd.DataFrame:
    """Each run's last step: one row per ``run_id``, in the order runs first appear."""
    df = _prepare(market)
    idx = df.groupby("run_id", sort=False)["step"].idxmax()
    return df.loc[idx.to_numpy()].reset_index(drop=True)


def _per_run(frame: pd.DataFrame, metrics: Sequence[str], keys: Sequence[str], at="final",
             window: int | None = None) -> pd.DataFrame:
    """One row per run (× ``keys``, e.g. merchant): the value at the final step (or step ``at``),
    or with ``window=k`` each run's mean over its last k steps (step 0, the initial state, only
    when nothing else is there)."""
    df = _prepare(frame)
    unit = ["run_id", *keys]
    if window is not None:
        k = int(window)
        if k < 1:
            raise ValueError(f"window = {window!r} must be a whole number ≥ 1")
        last = df.groupby(unit, sort=False)["step"].transform("max")
        sel = df[(df["step"] > last - k) & ((df["step"] >= 1) | (last == 0))]
        means = sel.groupby(unit, sort=False)[list(metrics)].mean()
        ids = sel.loc[sel.groupby(unit, sort=False)["step"].idxmax().to_numpy()]
        ids = ids.drop(columns=list(metrics)).set_index(unit)
        return ids.join(means).reset_index()
    if at == "final":
        idx = df.groupby(unit, sort=False)["step"].idxmax()
        return df.loc[idx.to_numpy()].reset_index(drop=True)
    if isinstance(at, (int, np.integer)) and not isinstance(at, bool):
        rows = df[df["step"] == int(at)]
        if rows.empty:
            raise ValueError(f"no rows at step {at} (steps present: {df['step'].min()} … {df['step'].max()})")
        return rows.reset_index(drop=True)
    raise ValueError(f"at = {at!r}: use 'final' or a step number")


def _summary(per_run: pd.DataFrame, metrics: Sequence[str], by: Sequence[str]) -> pd.DataFrame:
    by = list(by)
    frame = per_run if by else per_run.assign(_all=0)
    groups = frame.groupby(by or ["_all"], sort=False, dropna=False)
    stats_ = [_ci_frame(groups[m]) for m in metrics]  # same groups, in first-appearance order
    ngroups = len(stats_[0]) if stats_ else 0
    out = pd.concat([s.reset_index().assign(metric=m, _g=np.arange(ngroups), _m=i)
                     for i, (m, s) in enumerate(zip(metrics, stats_))], ignore_index=True)
    # group-major: each group's metrics together, groups in first-appearance order
    out = out.sort_values(["_g", "_m"], kind="stable").reset_index(drop=True)
    out["n"] = out["n"].astype(int)
    return out[[*by, "metric", "n", "mean", "ci_low", "ci_high", "sd"]]


def summarize(market: pd.DataFrame, metrics: Sequence[str], by: Sequence[str] = ("label",), at="final",
              window: int | None = None) -> pd.DataFrame:
    """One row per group × metric: the ``by`` columns, ``metric``, ``n`` (runs), ``mean``, ``ci_low``,
    ``ci_high`` (95% t-interval over runs) and ``sd``.

    Each run contributes one value: its final step (``at="final"``), the given step (``at=52``), or
    with ``window=k`` the mean of its last k steps (steady-state churn and profit are noisy per
    step). Groups come in the order they first appear (runs' order, i.e. design-point order);
    within a group, metrics in the order given.
    """
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    by = [by] if isinstance(by, str) else list(by)
    _require(market, [*metrics, *by], "market table")
    return _summary(_per_run(market, metrics, (), at, window), metrics, by)


def summarize_merchants(merchants: pd.DataFrame, metrics: Sequence[str], by: Sequence[str] = ("label",),
                        window: int | None = None) -> pd.DataFrame:
    """Like :func:`summarize`, per merchant: the ``by`` columns, ``merchant``, ``metric``, ``n``, ``mean``,
    ``ci_low``, ``ci_high``, ``sd``; each run's final step (or the mean of its last ``window`` steps)."""
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    by = [by] if isinstance(by, str) else list(by)
    _require(merchants, [*metrics, *by, "merchant"], "merchants table")
    return _summary(_per_run(merchants, metrics, ("merchant",), "final", window), metrics, [*by, "merchant"])


def differences(summary: pd.DataFrame, baseline_label: str) -> pd.DataFrame:
    """Each label's mean minus the baseline label's, per metric, with a 95% Welch interval.

    ``summary`` is a :func:`summarize` table grouped by ``label``. Returns ``label``, ``metric``,
    ``baseline``, ``mean``, ``baseline_mean``, ``diff``, ``ci_low``, ``ci_high`` and ``significant``
    (the interval excludes 0), for every label but the baseline, in the summary's order. With fewer
    than two runs on either side the interval is NaN.
    """
    _require(summary, ["label", "metric", "n", "mean"], "summary")
    if summary.duplicated(["label", "metric"]).any():
        raise ValueError("the summary has several rows per label and metric: summarize by 'label' only")
    labels = list(dict.fromkeys(summary["label"]))
    if baseline_label not in labels:
        raise ValueError(f"baseline {baseline_label!r} is not among the labels: {', '.join(map(str, labels))}")
    s = summary.copy()
    if "sd" not in s.columns:  # recover the SD from the interval (summary read back from elsewhere)
        n = s["n"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            s["sd"] = np.where(n > 1, (s["ci_high"] - s["mean"]) * np.sqrt(n) / _t975(np.maximum(n - 1, 1)), np.nan)
    base = s[s["label"] == baseline_label].set_index("metric")
    rows = []
    for lab in labels:
        if lab == baseline_label:
            continue
        for _, r in s[s["label"] == lab].iterrows():
            m = r["metric"]
            if m not in base.index:
                continue
            b = base.loc[m]
            d = float(r["mean"]) - float(b["mean"])
            n1, n2 = float(r["n"]), float(b["n"])
            v1 = float(r["sd"]) ** 2 / n1 if n1 > 1 else math.nan
            v2 = float(b["sd"]) ** 2 / n2 if n2 > 1 else math.nan
            se2 = v1 + v2
            if math.isnan(se2):
                lo = hi = math.nan
            elif se2 == 0:
                lo = hi = d
            else:
                dof = se2 ** 2 / (v1 ** 2 / (n1 - 1) + v2 ** 2 / (n2 - 1))
                h = float(_t975(dof)) * math.sqrt(se2)
                lo, hi = d - h, d + h
            sig = bool(not math.isnan(lo) and (lo > 0 or hi < 0))
            rows.append(dict(label=lab, metric=m, baseline=baseline_label, mean=float(r["mean"]),
                             baseline_mean=float(b["mean"]), diff=d, ci_low=lo, ci_high=hi, significant=sig))
    cols = ["label", "metric", "baseline", "mean", "baseline_mean", "diff", "ci_low", "ci_high", "significant"]
    return pd.DataFrame(rows, columns=cols)


def _point_outputs(manifest: dict, market: pd.DataFrame, metric: str) -> np.ndarray:
    """Y for SALib: each design point's final value averaged over replicates, in sample order."""
    points = manifest.get("points") or []
    order = [int(p["point"]) for p in points]
    fin = final_rows(market)
    y = fin.groupby("point")[metric].mean().reindex(order)
    if y.isna().any():
        missing = [p for p, v in zip(order, y.isna()) if v]
        shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
        raise ValueError(f"{len(missing)} of {len(order)} design points have no value of '{metric}' "
                         f"(points {shown}); the sample is incomplete, so indices cannot be computed")
    return y.to_numpy(dtype=float)


def sensitivity(manifest: dict, market: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """Global sensitivity indices per parameter × metric, for a Sobol or Morris experiment.

    Y is each design point's final value averaged over its replicates, taken in the manifest's
    ``points`` order (= SALib's sample order). Sobol (``SALib.analyze.sobol``) gives ``S1``,
    ``S1_conf``, ``ST``, ``ST_conf``; Morris (``SALib.analyze.morris``, with X rebuilt from the
    points' values) gives ``mu_star``, ``mu_star_conf``, ``sigma``, ``mu``. Columns: ``metric``,
    ``parameter`` (as named in the problem, e.g. ``A.price``), then the indices. A metric that
    does not vary across points gets NaN indices. Bootstrap intervals use a fixed seed.
    Other designs raise ``ValueError``.
    """
    design = manifest.get("design")
    if design not in ("sobol", "morris"):
        raise ValueError(f"sensitivity indices need a Sobol or Morris design; this experiment's design is "
                         f"{design!r} (run a sweep with design 'sobol' or 'morris', or look at the "
                         f"summary and the metric-vs-parameter figures instead)")
    problem = manifest.get("problem")
    if not problem or "names" not in problem or "bounds" not in problem:
        raise ValueError("the manifest has no SALib 'problem' (num_vars, names, bounds): cannot compute indices")
    problem = {**problem, "bounds": [list(map(float, b)) for b in problem["bounds"]]}
    problem.setdefault("num_vars", len(problem["names"]))
    names = list(problem["names"])
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    _require(market, [*metrics, "point"], "market table")
    points = manifest.get("points") or []
    if not points:
        raise ValueError("the manifest lists no design points")
    factors = list(dict.fromkeys(problem["groups"])) if problem.get("groups") else names  # SALib reports per group
    d = len(factors)
    rows = []
    if design == "sobol":
        from SALib.analyze import sobol

        second = bool((manifest.get("sobol") or {}).get("calc_second_order", True))
        per = 2 * d + 2 if second else d + 2
        if len(points) % per:
            raise ValueError(f"a Sobol sample with {d} parameters has a multiple of {per} points "
                             f"(calc_second_order={second}); this one has {len(points)}")
        for m in metrics:
            y = _point_outputs(manifest, market, m)
            if not np.isfinite(y).all() or np.ptp(y) == 0:
                res = {k: np.full(d, np.nan) for k in ("S1", "S1_conf", "ST", "ST_conf")}
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    res = sobol.analyze(problem, y, calc_second_order=second, print_to_console=False, seed=0)
            for i, name in enumerate(factors):
                rows.append(dict(metric=m, parameter=name, **{k: float(np.asarray(res[k])[i])
                                                               for k in ("S1", "S1_conf", "ST", "ST_conf")}))
        return pd.DataFrame(rows, columns=["metric", "parameter", "S1", "S1_conf", "ST", "ST_conf"])

    from SALib.analyze import morris

    levels = int((manifest.get("morris") or {}).get("num_levels", 4))
    if len(points) % (d + 1):
        raise ValueError(f"Morris trajectories with {d} parameters have a multiple of {d + 1} points; "
                         f"this sample has {len(points)}")
    try:
        x = np.array([[float(p["values"][n]) for n in names] for p in points])
    except KeyError as e:
        raise ValueError(f"a design point has no value for parameter {e}: cannot rebuild the Morris sample") from None
    keys = ("mu_star", "mu_star_conf", "sigma", "mu")
    for m in metrics:
        y = _point_outputs(manifest, market, m)
        if not np.isfinite(y).all() or np.ptp(y) == 0:
            res = {k: np.full(d, np.nan) for k in keys}
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                res = morris.analyze(problem, x, y, num_levels=levels, print_to_console=False, seed=0)
        for i, name in enumerate(factors):
            rows.append(dict(metric=m, parameter=name,
                             **{k: float(np.ma.filled(np.ma.asarray(res.get(k, np.full(d, np.nan)), dtype=float),
                                                 np.nan)[i]) for k in keys}))
    return pd.DataFrame(rows, columns=["metric", "parameter", *keys])


# --------------------------------------------------------------------------------------------
# tables for people
# --------------------------------------------------------------------------------------------

def localize(table: pd.DataFrame, lang: str = "en", merchant: bool = False) -> pd.DataFrame:
    """A copy of a summary, differences or sensitivity table for people: observables and parameters
    by their labels in ``lang`` (their names kept in a "Name" column), column headers in ``lang``.
    ``merchant=True`` labels observables as per-merchant ones."""
    _zh(lang)
    df = table.copy()
    lab = merchant_metric_label if merchant else metric_label
    if "metric" in df.columns:
        pos = list(df.columns).index("metric")
        df.insert(pos + 1, "metric_id", df["metric"])
        df["metric"] = [lab(m, lang) for m in df["metric"]]
    if "parameter" in df.columns:
        pos = list(df.columns).index("parameter")
        df.insert(pos + 1, "parameter_id", df["parameter"])
        df["parameter"] = [param_label(p, lang) for p in df["parameter"]]
    names = {}
    for c in df.columns:
        if c in WORDS:
            names[c] = word(c, lang)
        elif c in ("metric_id", "parameter_id"):
            names[c] = word(c, lang)
        else:
            names[c] = param_label(str(c), lang)
    return df.rename(columns=names)


def _md_escape(x) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


def markdown_table(table: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table; each numeric column with the decimals that show about 4
    significant digits of its largest value (no exponents)."""
    cols = [str(c) for c in table.columns]
    kinds = []
    for c in table.columns:
        col = table[c]
        if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
            kinds.append(None)
        elif pd.api.types.is_integer_dtype(col):
            kinds.append(-1)
        else:
            big = np.nanmax(np.abs(col.to_numpy(dtype=float))) if col.notna().any() else 0.0
            kinds.append(_decimals(big) if big >= 1e-9 else 0)
    lines = ["| " + " | ".join(_md_escape(c) for c in cols) + " |",
             "|" + "|".join("---" if k is None else "---:" for k in kinds) + "|"]

    def cell(v, k):
        if k is None or isinstance(v, str):
            return _fmt(v) if not isinstance(v, str) else v
        if k == -1:
            return str(int(v))
        if v is None or not np.isfinite(v):
            return "–"
        return f"{float(v):,.{k}f}" if abs(v) >= 10000 else f"{float(v):.{k}f}"

    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(_md_escape(cell(v, k)) for v, k in zip(row, kinds)) + " |")
    return "\n".join(lines)


def _decimals(*values) -> int:
    """Decimals that show about 4 significant digits of the largest of ``values`` (0 … 6)."""
    finite = [abs(float(v)) for v in values if v is not None and np.isfinite(v) and v != 0]
    if not finite:
        return 0
    return int(min(6, max(0, 3 - math.floor(math.log10(max(finite))))))


def _interval_text(mean, lo, hi, sign: bool = False) -> str:
    """``mean [low, high]`` with the same decimals throughout (no exponents)."""
    if mean is None or not np.isfinite(mean):
        return "–"
    d = _decimals(mean) if mean != 0 else _decimals(lo, hi)

    def f(v, plus=False):
        t = f"{float(v):,.{d}f}" if abs(float(v)) >= 10000 else f"{float(v):.{d}f}"
        return ("+" + t) if plus and float(v) > 0 else t

    if lo is None or not np.isfinite(lo) or lo == hi:
        return f(mean, sign)
    return f"{f(mean, sign)} [{f(lo)}, {f(hi)}]"


# --------------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------------

def _end_values(market: pd.DataFrame, metric: str, window: int | None) -> pd.DataFrame:
    """One row per run: its final value of ``metric``, or its mean over the last ``window`` steps."""
    _require(market, [metric], "market table")
    return final_rows(market) if window is None else _per_run(market, [metric], (), window=window)


def _what(metric: str, window: int | None, lang: str) -> str:
    if window is None:
        return word("end_what", lang, metric=metric_label(metric, lang))
    return word("window_what", lang, metric=metric_label(metric, lang), k=window)


def _figure(w: float = 7.5, h: float = 4.3) -> Figure:
    use_cjk_font()
    return Figure(figsize=(w, h), layout="constrained")


def _colors(n: int) -> list:
    import matplotlib as mpl

    if n <= 10:
        return [mpl.colormaps["tab10"](i) for i in range(n)]
    cmap = mpl.colormaps["viridis"]
    return [cmap(i / max(n - 1, 1)) for i in range(n)]


def _groups(df: pd.DataFrame, group: str | None) -> list[tuple[object, pd.DataFrame]]:
    if group is None or group not in df.columns:
        return [(None, df)]
    return list(df.groupby(group, sort=False, dropna=False))


def _band(df: pd.DataFrame, x: str, y: str, sort: bool = True) -> pd.DataFrame:
    """Mean and 95% interval of ``y`` over runs at each value of ``x`` (sorted by x, or in order of
    first appearance)."""
    out = _ci_frame(df.groupby(x, sort=sort)[y])
    return out.reset_index()


def _draw_band(ax, band: pd.DataFrame, x: str, color, label, numeric: bool = True):
    if len(band) <= 2 or not numeric:
        ax.errorbar(band[x], band["mean"], yerr=[band["mean"] - band["ci_low"], band["ci_high"] - band["mean"]],
                    fmt="o-" if numeric and len(band) > 1 else "o", color=color, capsize=4, label=label)
        return
    ax.plot(band[x], band["mean"], color=color, label=label, lw=1.8)
    ax.fill_between(band[x], band["ci_low"], band["ci_high"], color=color, alpha=0.2, linewidth=0)


def _intervention_text(item) -> tuple[int, str]:
    """``(step, text)`` from a pair or from a model ``Intervention`` (step, target, changes)."""
    if isinstance(item, (tuple, list)):
        return item[0], str(item[1]) if len(item) > 1 else ""
    changes = ", ".join(f"{k}={_value_text(v)}" for k, v in (getattr(item, "changes", None) or {}).items())
    target = getattr(item, "target", "")
    return getattr(item, "step"), f"{target}: {changes}" if target else changes


def _interventions(ax, interventions) -> None:
    for item in interventions or ():
        step, text = _intervention_text(item)
        ax.axvline(step, ls="--", lw=1, color="0.35")
        if text:
            ax.annotate(str(text), xy=(step, 1), xycoords=("data", "axes fraction"), xytext=(-3, -4),
                        textcoords="offset points", rotation=90, ha="right", va="top", fontsize=8, color="0.25")


def _band_legend(ax, lang: str) -> None:
    from matplotlib.patches import Patch

    handles = [ax.lines[0] if ax.lines else None, Patch(color="C0", alpha=0.2)]
    labels = [word("mean", lang), word("ci95", lang)]
    if handles[0] is not None:
        ax.legend(handles, labels, fontsize=8, loc="best")


def plot_timeseries(market: pd.DataFrame, metric: str, group: str | None = "label", lang: str = "en",
                    interventions: Sequence[tuple[int, str]] | None = None) -> Figure:
    """Mean line per group (``label`` by default; ``None`` for one line over all runs) with its 95%
    band over replicates, against the step. ``interventions``: ``(step, text)`` pairs drawn as
    dashed vertical lines."""
    _zh(lang)
    df = _prepare(market)
    _require(df, [metric], "market table")
    groups = _groups(df, group)
    fig = _figure()
    ax = fig.add_subplot()
    colors = _colors(len(groups))
    for (g, sub), c in zip(groups, colors):
        _draw_band(ax, _band(sub, "step", metric), "step", c, None if g is None else _value_text(g))
    _interventions(ax, interventions)
    ax.set_xlabel(word("step", lang))
    ax.set_ylabel(metric_label(metric, lang))
    ax.set_title(word("band_title", lang, metric=metric_label(metric, lang)), fontsize=11)
    ax.grid(True, alpha=0.3)
    if len(groups) > 1:
        ax.legend(title=_group_title(group, lang), fontsize=8, title_fontsize=8,
                  loc="best" if len(groups) <= 6 else "upper left",
                  bbox_to_anchor=None if len(groups) <= 6 else (1.01, 1.0))
    else:
        _band_legend(ax, lang)
    return fig


def plot_vs_param(market: pd.DataFrame, metric: str, param: str, lang: str = "en",
                  window: int | None = None) -> Figure:
    """Each run's final value of ``metric`` (or with ``window=k`` its mean over the last k steps)
    against a varied parameter: mean and 95% interval over the runs at each value (a line with a
    band for numbers, points with error bars for choices)."""
    _zh(lang)
    fin = _end_values(market, metric, window)
    _require(fin, [metric, param], "market table")
    numeric = pd.api.types.is_numeric_dtype(fin[param])
    band = _band(fin, param, metric, sort=numeric)  # choices stay in the design's order
    fig = _figure()
    ax = fig.add_subplot()
    if numeric:
        _draw_band(ax, band, param, "C0", word("mean", lang))
        ax.plot(fin[param], fin[metric], "o", ms=3, color="0.5", alpha=0.5, zorder=0)
    else:
        pos = np.arange(len(band))
        ax.errorbar(pos, band["mean"], yerr=[band["mean"] - band["ci_low"], band["ci_high"] - band["mean"]],
                    fmt="o", color="C0", capsize=4)
        ax.set_xticks(pos, [_choice_text(param, v, lang) for v in band[param]])
    ax.set_xlabel(param_label(param, lang))
    ax.set_ylabel(metric_label(metric, lang))
    ax.set_title(word("vs_title", lang, what=_what(metric, window, lang), param=param_label(param, lang)),
                 fontsize=11)
    ax.grid(True, alpha=0.3)
    if numeric and len(band) > 2:
        _band_legend(ax, lang)
    return fig


def plot_heatmap(market: pd.DataFrame, metric: str, p1: str, p2: str, lang: str = "en",
                 window: int | None = None) -> Figure:
    """Mean final value of ``metric`` (``window=k``: of each run's last k steps) over the ``p1`` (x) ×
    ``p2`` (y) grid, with a colour bar; values are written in the cells when there are at most 100."""
    _zh(lang)
    fin = _end_values(market, metric, window)
    _require(fin, [metric, p1, p2], "market table")
    grid = fin.groupby([p2, p1])[metric].mean().unstack(p1).sort_index().sort_index(axis=1)
    z = grid.to_numpy(dtype=float)
    fig = _figure(7.0, 5.0)
    ax = fig.add_subplot()
    im = ax.imshow(np.ma.masked_invalid(z), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(np.arange(z.shape[1]), [_value_text(v) for v in grid.columns])
    ax.set_yticks(np.arange(z.shape[0]), [_value_text(v) for v in grid.index])
    ax.set_xlabel(param_label(p1, lang))
    ax.set_ylabel(param_label(p2, lang))
    cb = fig.colorbar(im, ax=ax)
    cb.set_label(metric_label(metric, lang))
    ax.set_title(word("heat_title", lang, what=_what(metric, window, lang)), fontsize=11)
    if z.size <= 100 and np.isfinite(z).any():
        lo, hi = np.nanmin(z), np.nanmax(z)
        for (i, j), v in np.ndenumerate(z):
            if np.isfinite(v):
                frac = 0.5 if hi == lo else (v - lo) / (hi - lo)
                ax.text(j, i, _fmt(v, 3), ha="center", va="center", fontsize=8,
                        color="white" if frac < 0.55 else "black")
    return fig


def plot_scatter(market: pd.DataFrame, metric: str, params: Sequence[str], lang: str = "en",
                 window: int | None = None) -> Figure:
    """Final value of ``metric`` (``window=k``: mean of the last k steps), averaged over replicates
    per design point, against each varied parameter, one panel per parameter: for sampled designs
    (LHS, Sobol, Morris)."""
    _zh(lang)
    fin = _end_values(market, metric, window)
    params = list(params)
    _require(fin, [metric, *params], "market table")
    key = "point" if "point" in fin.columns else "run_id"
    pts = fin.groupby(key, sort=False).agg({metric: "mean", **{p: "first" for p in params}})
    ncols = min(3, len(params))
    nrows = math.ceil(len(params) / ncols)
    fig = _figure(3.6 * ncols + 0.6, 3.0 * nrows + 0.6)
    axes = fig.subplots(nrows, ncols, sharey=True, squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= len(params):
            ax.remove()
            continue
        p = params[k]
        ax.plot(pts[p], pts[metric], "o", ms=3, alpha=0.6, color="C0")
        ax.set_xlabel(param_label(p, lang))
        if k % ncols == 0:
            ax.set_ylabel(metric_label(metric, lang))
        ax.grid(True, alpha=0.3)
    fig.suptitle(word("scatter_title", lang, what=_what(metric, window, lang)), fontsize=11)
    return fig


def plot_bars(market: pd.DataFrame, metric: str, group: str = "label", lang: str = "en",
              window: int | None = None) -> Figure:
    """Final value of ``metric`` (``window=k``: mean of the last k steps) per group: mean bar with
    its 95% interval (for runs measured only at the end)."""
    _zh(lang)
    fin = _end_values(market, metric, window)
    _require(fin, [metric], "market table")
    groups = _groups(fin, group)
    stats_ = [ci95(sub[metric]) for _, sub in groups]
    names = ["" if g is None else _value_text(g) for g, _ in groups]
    fig = _figure(max(4.5, 1.1 * len(groups) + 2.5), 4.3)
    ax = fig.add_subplot()
    pos = np.arange(len(groups))
    means = np.array([s[0] for s in stats_])
    err = np.array([[s[0] - s[1] for s in stats_], [s[2] - s[0] for s in stats_]])
    ax.bar(pos, means, yerr=err, capsize=4, color=_colors(len(groups)), alpha=0.85)
    ax.set_xticks(pos, names, rotation=0 if len(groups) <= 5 else 30, ha="center" if len(groups) <= 5 else "right")
    ax.set_xlabel(_group_title(group, lang))
    ax.set_ylabel(metric_label(metric, lang))
    ax.set_title(word("bars_title", lang, what=_what(metric, window, lang)), fontsize=11)
    ax.grid(True, axis="y", alpha=0.3)
    return fig


def plot_merchants(merchants: pd.DataFrame, metric: str, group: str | None = "label", lang: str = "en",
                   by: str = "group") -> Figure:
    """Per-merchant time series of ``metric`` (mean and 95% band over replicates) as small multiples.

    ``by="group"`` (default): one panel per group (``label``), one line per merchant.
    ``by="merchant"``: one panel per merchant, one line per group — to compare configurations.
    """
    _zh(lang)
    if by not in ("group", "merchant"):
        raise ValueError(f"by = {by!r}: use 'group' or 'merchant'")
    df = _prepare(merchants)
    _require(df, [metric, "merchant"], "merchants table")
    outer = _groups(df, group) if by == "group" else _groups(df, "merchant")
    inner_key = "merchant" if by == "group" else group
    inner_names = list(dict.fromkeys(df[inner_key])) if inner_key in df.columns else [None]
    colors = dict(zip(inner_names, _colors(len(inner_names))))
    outer = outer[:MAX_PANELS]
    ncols = min(3, len(outer))
    nrows = math.ceil(len(outer) / ncols)
    fig = _figure(4.0 * ncols + 0.8, 3.1 * nrows + 0.9)
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    seen = {}
    for k, ax in enumerate(axes.flat):
        if k >= len(outer):
            ax.remove()
            continue
        name, sub = outer[k]
        for inner, part in _groups(sub, inner_key):
            lab = _value_text(inner) if inner is not None else None
            _draw_band(ax, _band(part, "step", metric), "step", colors.get(inner, "C0"), lab)
            if lab is not None and lab not in seen:
                seen[lab] = ax.get_legend_handles_labels()[0][-1]
        if name is not None:
            title = word("merchant_title", lang, m=name) if by == "merchant" else _value_text(name)
            ax.set_title(title, fontsize=10)
        if k // ncols == nrows - 1 or k + ncols >= len(outer):
            ax.set_xlabel(word("step", lang))
            ax.xaxis.set_tick_params(labelbottom=True)
        if k % ncols == 0:
            ax.set_ylabel(merchant_metric_label(metric, lang))
        ax.grid(True, alpha=0.3)
    if seen:
        fig.legend(list(seen.values()), list(seen.keys()), loc="outside lower center",
                   ncols=min(len(seen), 5), fontsize=8,
                   title=word("merchant", lang) if by == "group" else _group_title(group, lang), title_fontsize=8)
    fig.suptitle(word("band_title", lang, metric=merchant_metric_label(metric, lang)), fontsize=11)
    return fig


def plot_sensitivity(table: pd.DataFrame, metric: str, lang: str = "en") -> Figure:
    """Horizontal bars per parameter for one metric of a :func:`sensitivity` table: S1 and ST with
    their 95% intervals (Sobol), or μ* with its interval and σ (Morris); most important on top."""
    _zh(lang)
    _require(table, ["metric", "parameter"], "sensitivity table")
    t = table[table["metric"] == metric]
    if t.empty:
        raise ValueError(f"the sensitivity table has no rows for metric '{metric}'")
    sobol = "S1" in t.columns
    if sobol:
        bars = [("S1", "S1_conf"), ("ST", "ST_conf")]
        key = "ST"
    elif "mu_star" in t.columns:
        bars = [("mu_star", "mu_star_conf"), ("sigma", None)]
        key = "mu_star"
    else:
        raise ValueError("the table has neither Sobol (S1, ST) nor Morris (mu_star) columns")
    t = t.assign(_k=t[key].fillna(-np.inf)).sort_values("_k", kind="stable")
    fig = _figure(7.0, max(2.6, 0.55 * len(t) + 1.6))
    ax = fig.add_subplot()
    pos = np.arange(len(t))
    height = 0.38
    for i, (col, conf) in enumerate(bars):
        xerr = t[conf].to_numpy(dtype=float) if conf and conf in t.columns else None
        ax.barh(pos + (i - 0.5) * height, t[col].to_numpy(dtype=float), height=height, xerr=xerr, capsize=3,
                color=f"C{i}", label=word(col, lang))
    ax.set_yticks(pos, [param_label(p, lang) for p in t["parameter"]])
    ax.set_ylabel(word("parameter", lang))
    ax.set_xlabel(word("sobol_axis" if sobol else "morris_axis", lang))
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_title(word("sens_title", lang, metric=metric_label(metric, lang)), fontsize=11)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, axis="x", alpha=0.3)
    return fig


def save_figure(fig: Figure, out_dir, stem: str) -> list[Path]:
    """Write ``stem.png`` (120 dpi) and ``stem.svg`` into ``out_dir`` (created if needed), close the
    figure and return both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    png, svg = out / f"{stem}.png", out / f"{stem}.svg"
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*constrained_layout not applied.*")
        fig.savefig(png, dpi=120, format="png")
        fig.savefig(svg, format="svg", metadata={"Date": None})
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close(fig)
    fig.clear()
    return [png, svg]


# --------------------------------------------------------------------------------------------
# reports
# --------------------------------------------------------------------------------------------

@dataclass
class Analysis:
    """What :func:`analyze` or :func:`compare` produced: tables (machine column names, as returned
    by the functions above), figure files (PNG and SVG), the Markdown report, and every file written."""

    tables: dict[str, pd.DataFrame]
    figures: list[Path]
    markdown: str
    files: list[Path] = field(default_factory=list)


def _is_flow(name: str, merchant: bool = False) -> bool:
    m = (MERCHANT_METRICS if merchant else METRICS).get(name) or METRICS.get(name) or MERCHANT_METRICS.get(name)
    if m is None:
        return False
    return m.unit.endswith("/step") or m.unit in ("count", "messages")


def _headline(manifest: dict, market: pd.DataFrame, metrics) -> list[str]:
    if metrics is not None:
        metrics = [metrics] if isinstance(metrics, str) else list(metrics)
        _require(market, metrics, "market table")
        return metrics
    return [m for m in HEADLINE_METRICS if m in market.columns]  # those measured


def _every(manifest: dict, frame: pd.DataFrame) -> bool:
    """Whether the runs were measured at every step (time series available)."""
    if manifest.get("measure") == "end":
        return False
    df = _prepare(frame)
    return bool(df.groupby("run_id")["step"].nunique().max() > 1) if len(df) else False


def _mixed_summary(frame, metrics, by, every: bool, merchant: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """Levels at the final step, flows averaged over the last FLOW_WINDOW steps (when measured
    every step); rows in the order of ``metrics`` within each group."""
    flows = [m for m in metrics if every and _is_flow(m, merchant)]
    levels = [m for m in metrics if m not in flows]
    f = summarize_merchants if merchant else summarize
    parts = []
    if levels:
        parts.append(f(frame, levels, by=by))
    if flows:
        parts.append(f(frame, flows, by=by, window=FLOW_WINDOW))
    out = pd.concat(parts, ignore_index=True)
    keys = list(by) + (["merchant"] if merchant else [])
    first = {}
    for i, k in enumerate(out[keys].itertuples(index=False, name=None)):
        first.setdefault(k, i)
    out["_g"] = [first[k] for k in out[keys].itertuples(index=False, name=None)]
    out["_m"] = out["metric"].map({m: i for i, m in enumerate(metrics)})
    out = out.sort_values(["_g", "_m"], kind="stable").drop(columns=["_g", "_m"]).reset_index(drop=True)
    return out, flows


def _write_csv(table: pd.DataFrame, path: Path, lang: str, merchant: bool = False) -> Path:
    localize(table, lang, merchant=merchant).to_csv(path, index=False, encoding="utf-8")
    return path


def _varied_names(manifest: dict, market: pd.DataFrame) -> list[str]:
    names = [v["name"] if isinstance(v, dict) else str(v) for v in manifest.get("varied") or []]
    return [n for n in names if n in market.columns]


def _join(items: Sequence[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(items)


def _run_section(manifest: dict, market: pd.DataFrame, lang: str) -> list[str]:
    zh = _zh(lang)
    c = "：" if zh else ": "
    kind = manifest.get("kind", "")
    design = manifest.get("design", "")
    lines = [f"## {word('what_was_run', lang)}", ""]
    lines.append(f"- {word('kind', lang)}{c}{_KIND.get(kind, (kind, kind))[zh]}")
    if design:
        lines.append(f"- {word('design', lang)}{c}{_DESIGN.get(design, (design, design))[zh]}")
    varied = manifest.get("varied") or []
    problem = manifest.get("problem") or {}
    bounds = dict(zip(problem.get("names", []), problem.get("bounds", [])))
    if varied:
        vals = []
        fin = final_rows(market)
        for v in varied:
            name = v["name"] if isinstance(v, dict) else str(v)
            desc = ""
            if isinstance(v, dict) and isinstance(v.get("values"), (list, tuple)):
                desc = _join([_value_text(x) for x in v["values"]], lang)
            elif isinstance(v, dict) and v.get("min") is not None and v.get("max") is not None:
                desc = f"{_value_text(v['min'])} … {_value_text(v['max'])}"
            elif name in bounds:
                lo, hi = bounds[name][:2]
                desc = f"{_value_text(float(lo))} … {_value_text(float(hi))}"
            elif name in fin.columns:
                u = pd.unique(fin[name])
                desc = (_join([_value_text(x) for x in u], lang) if len(u) <= 8 else
                        f"{_value_text(np.min(u))} … {_value_text(np.max(u))} ({len(u)})")
            vals.append(f"{param_label(name, lang)} (`{name}`)" + (f"{c}{desc}" if desc else ""))
        lines.append(f"- {word('varied', lang)}{c}" + ("；" if zh else "; ").join(vals))
    if manifest.get("points"):
        lines.append(f"- {word('n_points', lang)}{c}{len(manifest['points'])}")
    if manifest.get("replicates") is not None:
        lines.append(f"- {word('replicates', lang)}{c}{word('replicates_per', lang, n=manifest['replicates'])}")
    if manifest.get("steps") is not None:
        lines.append(f"- {word('steps', lang)}{c}{manifest['steps']}")
    lines.append(f"- {word('runs', lang)}{c}{_prepare(market)['run_id'].nunique()}")
    meas = manifest.get("measure")
    if meas in ("every", "end"):
        lines.append(f"- {word('measured', lang)}{c}{word('measure_' + meas, lang)}")
    lines.append("")
    return lines


def _summary_markdown(summary: pd.DataFrame, by: Sequence[str], flows: list[str], lang: str, csv_name: str,
                      merchant: bool = False) -> list[str]:
    """The summary as Markdown: one row per group, one column per metric ("mean [low, high]"); for
    many groups, the range of the groups' means instead (per merchant for merchant tables)."""
    lab = merchant_metric_label if merchant else metric_label
    keys = list(by) + (["merchant"] if merchant else [])
    show_keys = [k for k in keys if k != "point"] or keys
    metrics = list(dict.fromkeys(summary["metric"]))
    nconfigs = len(summary.drop_duplicates(list(by))) if by else 1
    lines = [word("summary_note", lang)]
    if flows:
        lines.append(word("flow_note", lang, names=_join([lab(m, lang) for m in flows], lang), k=FLOW_WINDOW))
    lines.append("")
    if nconfigs <= MAX_MD_GROUPS:
        rows = []
        for key, sub in summary.groupby(keys, sort=False, dropna=False):
            key = key if isinstance(key, tuple) else (key,)
            r = {(_group_title(k, lang) if k in ("label", "merchant") else param_label(k, lang)): _value_text(v)
                 for k, v in zip(keys, key) if k in show_keys}
            r[word("n", lang)] = str(int(sub["n"].max()))
            for _, s in sub.iterrows():
                r[lab(s["metric"], lang)] = _interval_text(s["mean"], s["ci_low"], s["ci_high"])
            rows.append(r)
        lines.append(markdown_table(pd.DataFrame(rows)))
    else:
        lines.append(word("too_many_groups", lang, n=nconfigs, file=f"`{csv_name}`"))
        lines.append("")
        rows = []
        parts = summary.groupby("merchant", sort=False) if merchant else [(None, summary)]
        for who, part in parts:
            for m in metrics:
                means = part.loc[part["metric"] == m, "mean"]
                lo, med, hi = means.min(), means.median(), means.max()
                d = _decimals(lo, med, hi)
                r = {word("merchant", lang): who} if merchant else {}
                r[word("metric", lang)] = lab(m, lang)
                r.update({word("across_min", lang): f"{lo:.{d}f}", word("across_median", lang): f"{med:.{d}f}",
                          word("across_max", lang): f"{hi:.{d}f}"})
                rows.append(r)
        lines.append(markdown_table(pd.DataFrame(rows)))
    lines.append("")
    return lines


def _figure_lines(figs: list[tuple[str, list[Path]]], out_dir: Path, lang: str) -> list[str]:
    if not figs:
        return []
    lines = [f"## {word('figures', lang)}", ""]
    for caption, paths in figs:
        rel = paths[0].relative_to(out_dir).as_posix()
        svg = paths[1].relative_to(out_dir).as_posix()
        lines += [f"![{caption}]({rel})", "", f"*{caption}* ([SVG]({svg}))", ""]
    return lines


def analyze(manifest: dict, market: pd.DataFrame, merchants: pd.DataFrame | None, out_dir, metrics=None,
            lang: str = "en") -> Analysis:
    """Analyse one results folder's tables and write the report into ``out_dir``.

    Writes ``summary.csv`` and ``summary.md`` (headline observables: final step, per-step flows
    averaged over the last FLOW_WINDOW steps; mean and 95% interval per configuration),
    ``merchants_summary.csv``, and figures under ``out_dir/figures``: time series with bands when
    measured every step; for a sweep, metric-vs-parameter (one varied parameter), a heatmap (two on a
    grid) or scatter panels (sampled designs); for Sobol/Morris designs ``sensitivity.csv`` and bar
    figures. A ``compare`` experiment is handed to :func:`compare`. Returns an :class:`Analysis`.
    """
    _zh(lang)
    if manifest.get("kind") == "compare":
        return compare(manifest, market, merchants, out_dir, metrics=metrics, lang=lang)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figdir = out / "figures"
    heads = _headline(manifest, market, metrics)
    if not heads:
        raise ValueError("none of the headline observables was measured: pass metrics=[...] "
                         f"(measured: {', '.join(c for c in market.columns if c in METRICS)})")
    every = _every(manifest, market)
    varied = _varied_names(manifest, market)
    design = manifest.get("design", "single")
    df = _prepare(market)
    if "label" not in df.columns:
        df = df.assign(label=manifest.get("kind", "run"))
    by = ["label"]
    if design != "single" and "point" in df.columns and df["point"].nunique() > 1:
        by = ["point", "label", *[v for v in varied if v not in ("point", "label")]]
    tables: dict[str, pd.DataFrame] = {}
    files: list[Path] = []
    figs: list[tuple[str, list[Path]]] = []

    summary, flows = _mixed_summary(df, heads, by, every)
    win = lambda m: FLOW_WINDOW if m in flows else None  # noqa: E731  (figures match the summary)
    tables["summary"] = summary
    files.append(_write_csv(summary, out / "summary.csv", lang))
    mheads = []
    if merchants is not None and len(merchants):
        mdf = _prepare(merchants)
        if "label" not in mdf.columns:
            mdf = mdf.assign(label=df["label"].iloc[0])
        mheads = [m for m in MERCHANT_HEADLINE_METRICS if m in mdf.columns]
        if mheads:
            msum, mflows = _mixed_summary(mdf, mheads, by, _every(manifest, mdf), merchant=True)
            tables["merchants"] = msum
            files.append(_write_csv(msum, out / "merchants_summary.csv", lang, merchant=True))

    ngroups = df.groupby(by, sort=False, dropna=False).ngroups
    md = [f"# {word('analysis', lang)}", ""] + _run_section(manifest, df, lang)
    md += [f"## {word('summary', lang)}", ""] + _summary_markdown(summary, by, flows, lang, "summary.csv")
    if "merchants" in tables:
        md += [f"## {word('merchants_section', lang)}", ""]
        md += _summary_markdown(tables["merchants"], by, mflows, lang, "merchants_summary.csv", merchant=True)

    if design in ("sobol", "morris"):
        sens = sensitivity(manifest, df, heads)
        tables["sensitivity"] = sens
        files.append(_write_csv(sens, out / "sensitivity.csv", lang))
        md += [f"## {word('sensitivity_section', lang)}", "", word(f"{design}_note", lang), ""]
        key = "ST" if design == "sobol" else "mu_star"
        for m in heads:
            t = sens[sens["metric"] == m]
            md += [f"### {metric_label(m, lang)}", ""]
            if t[key].isna().all():
                md += [f"{metric_label(m, lang)} {word('constant_note', lang)}.", ""]
                continue
            md += [markdown_table(localize(t.drop(columns=["metric"]), lang)), ""]
            figs.append((word("fig_sensitivity", lang, metric=metric_label(m, lang)),
                         save_figure(plot_sensitivity(sens, m, lang), figdir, f"sensitivity_{m}")))

    # figures: over time, then against the varied parameters
    if every:
        group = "label" if ngroups > 1 else None
        if ngroups <= MAX_LINES:
            for m in heads:
                figs.append((word("fig_timeseries", lang, metric=metric_label(m, lang)),
                             save_figure(plot_timeseries(df, m, group=group, lang=lang), figdir, f"timeseries_{m}")))
            if "merchants" in tables and ngroups <= 6:
                for m in [x for x in ("loyal_share", "market_share") if x in mheads]:
                    figs.append((word("fig_merchants", lang, metric=merchant_metric_label(m, lang)),
                                 save_figure(plot_merchants(mdf, m, group=group, lang=lang), figdir,
                                             f"merchants_{m}")))
        else:
            md += [word("no_timeseries", lang, n=ngroups), ""]
    if varied and design != "single":
        grid = len(varied) == 2 and _is_grid(df, varied)
        for m in heads:
            if len(varied) == 1:
                figs.append((word("fig_vs_param", lang, metric=metric_label(m, lang), param=param_label(varied[0], lang)),
                             save_figure(plot_vs_param(df, m, varied[0], lang, window=win(m)), figdir,
                                         f"{m}_vs_{_safe(varied[0])}")))
            elif grid:
                p1, p2 = varied
                figs.append((word("fig_heatmap", lang, metric=metric_label(m, lang), p1=param_label(p1, lang),
                                  p2=param_label(p2, lang)),
                             save_figure(plot_heatmap(df, m, p1, p2, lang, window=win(m)), figdir, f"heatmap_{m}")))
            else:
                figs.append((word("fig_scatter", lang, metric=metric_label(m, lang)),
                             save_figure(plot_scatter(df, m, varied, lang, window=win(m)), figdir, f"scatter_{m}")))
    elif not every and ngroups > 1:
        for m in heads:
            figs.append((word("fig_bars", lang, metric=metric_label(m, lang)),
                         save_figure(plot_bars(df, m, "label", lang, window=win(m)), figdir, f"bars_{m}")))

    md += _figure_lines(figs, out, lang)
    text = "\n".join(md).rstrip() + "\n"
    (out / "summary.md").write_text(text, encoding="utf-8")
    files.append(out / "summary.md")
    figures = [p for _, paths in figs for p in paths]
    return Analysis(tables=tables, figures=figures, markdown=text, files=files)


def _is_grid(df: pd.DataFrame, params: Sequence[str], max_levels: int = 15) -> bool:
    fin = final_rows(df)
    levels = [fin[p].nunique() for p in params]
    combos = len(fin.drop_duplicates(list(params)))
    return all(1 < n <= max_levels for n in levels) and combos == int(np.prod(levels))


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def compare(manifest: dict, market: pd.DataFrame, merchants: pd.DataFrame | None, out_dir, metrics=None,
            lang: str = "en", baseline: str | None = None) -> Analysis:
    """Compare configurations (scenarios, policies) side by side and write the report into ``out_dir``.

    Writes ``summary.csv`` (long: label × metric with mean and 95% interval), ``side_by_side.csv``
    (one row per metric, mean/low/high per label), ``differences.csv`` (each label minus the
    baseline — the first label unless ``baseline`` is given — with Welch 95% intervals),
    ``merchants_summary.csv``, ``summary.md``, and figures under ``out_dir/figures``: one overlay
    time series per headline observable (a line and band per label; bars when measured only at the
    end) and the loyal share of each merchant under each label.
    """
    _zh(lang)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figdir = out / "figures"
    df = _prepare(market)
    _require(df, ["label"], "market table")
    heads = _headline(manifest, df, metrics)
    if not heads:
        raise ValueError("none of the headline observables was measured: pass metrics=[...]")
    labels = list(dict.fromkeys(df["label"]))
    baseline = labels[0] if baseline is None else baseline
    if baseline not in labels:
        raise ValueError(f"baseline {baseline!r} is not among the configurations: {', '.join(map(str, labels))}")
    every = _every(manifest, df)
    tables: dict[str, pd.DataFrame] = {}
    files: list[Path] = []
    figs: list[tuple[str, list[Path]]] = []

    summary, flows = _mixed_summary(df, heads, ["label"], every)
    win = lambda m: FLOW_WINDOW if m in flows else None  # noqa: E731
    tables["summary"] = summary
    files.append(_write_csv(summary, out / "summary.csv", lang))
    wide = []
    for m in heads:
        r = {"metric": m}
        for lab in labels:
            s = summary[(summary["metric"] == m) & (summary["label"] == lab)].iloc[0]
            r[f"{lab}: {word('mean', lang)}"] = s["mean"]
            r[f"{lab}: {word('ci_low', lang)}"] = s["ci_low"]
            r[f"{lab}: {word('ci_high', lang)}"] = s["ci_high"]
        wide.append(r)
    side = pd.DataFrame(wide)
    tables["side_by_side"] = side
    files.append(_write_csv(side, out / "side_by_side.csv", lang))
    diffs = differences(summary, baseline)
    tables["differences"] = diffs
    files.append(_write_csv(diffs, out / "differences.csv", lang))

    mdf = None
    mflows: list[str] = []
    if merchants is not None and len(merchants):
        mdf = _prepare(merchants)
        mheads = [m for m in MERCHANT_HEADLINE_METRICS if m in mdf.columns]
        if mheads and "label" in mdf.columns:
            msum, mflows = _mixed_summary(mdf, mheads, ["label"], _every(manifest, mdf), merchant=True)
            tables["merchants"] = msum
            files.append(_write_csv(msum, out / "merchants_summary.csv", lang, merchant=True))

    md = [f"# {word('comparison', lang)}", ""] + _run_section(manifest, df, lang)
    md += [f"## {word('summary', lang)}", "", word("summary_note", lang)]
    if flows:
        md.append(word("flow_note", lang, names=_join([metric_label(m, lang) for m in flows], lang), k=FLOW_WINDOW))
    md.append("")
    rows = []
    for m in heads:
        r = {word("metric", lang): metric_label(m, lang)}
        for lab in labels:
            s = summary[(summary["metric"] == m) & (summary["label"] == lab)].iloc[0]
            r[str(lab)] = _interval_text(s["mean"], s["ci_low"], s["ci_high"])
        rows.append(r)
    md += [markdown_table(pd.DataFrame(rows)), ""]
    others = [lab for lab in labels if lab != baseline]
    if others:
        md += [f"## {word('differences_section', lang, b=baseline)}", "", word("differences_note", lang), ""]
        rows = []
        for m in heads:
            r = {word("metric", lang): metric_label(m, lang)}
            for lab in others:
                d = diffs[(diffs["metric"] == m) & (diffs["label"] == lab)]
                if d.empty:
                    r[str(lab)] = "–"
                    continue
                d = d.iloc[0]
                txt = _interval_text(d["diff"], d["ci_low"], d["ci_high"], sign=True)
                r[str(lab)] = f"**{txt}**" if d["significant"] else txt
            rows.append(r)
        md += [markdown_table(pd.DataFrame(rows)), ""]
    if "merchants" in tables:
        md += [f"## {word('merchants_section', lang)}", ""]
        md += _summary_markdown(tables["merchants"], ["label"], mflows, lang, "merchants_summary.csv", merchant=True)

    for m in heads:
        if every:
            figs.append((word("fig_timeseries", lang, metric=metric_label(m, lang)),
                         save_figure(plot_timeseries(df, m, group="label", lang=lang), figdir, f"timeseries_{m}")))
        else:
            figs.append((word("fig_bars", lang, metric=metric_label(m, lang)),
                         save_figure(plot_bars(df, m, "label", lang, window=win(m)), figdir, f"bars_{m}")))
    if mdf is not None and "loyal_share" in mdf.columns and "label" in mdf.columns:
        figs.append((word("fig_merchants", lang, metric=merchant_metric_label("loyal_share", lang)),
                     save_figure(plot_merchants(mdf, "loyal_share", group="label", lang=lang, by="merchant"),
                                 figdir, "merchants_loyal_share")))
    md += _figure_lines(figs, out, lang)
    text = "\n".join(md).rstrip() + "\n"
    (out / "summary.md").write_text(text, encoding="utf-8")
    files.append(out / "summary.md")
    figures = [p for _, paths in figs for p in paths]
    return Analysis(tables=tables, figures=figures, markdown=text, files=files)
