"""Languages, and the words shared by the command line, the web app and the written reports.

Every user-visible text exists in English (``"en"``) and Simplified Chinese (``"zh"``). This module
declares the two languages once (:data:`LANGS`, :data:`DEFAULT_LANG`), the helpers that pick a text
in a language (:func:`pick`, :func:`check_lang`, :func:`normalize_lang`, :func:`join`), and the
words that more than one front end shows (:data:`WORDS`, read with :func:`word`): column headers
and captions of summaries, figure titles and axis labels, the sections of a written report.

Words used in one place only stay at their call site, written in both languages
(``tr("Play", "播放")`` in the app, the ``T`` table of :mod:`sim.cli`). Nothing here imports
another module of the project, so any module may use it.
"""

from __future__ import annotations

from typing import Iterable

__all__ = ["LANGS", "DEFAULT_LANG", "WORDS", "KIND_NAMES", "DESIGN_NAMES", "check_lang", "normalize_lang", "pick",
           "word", "join", "colon"]

#: the languages of every user-visible text: English and Simplified Chinese
LANGS: tuple[str, ...] = ("en", "zh")
#: the language used when none is chosen
DEFAULT_LANG = "en"


def check_lang(lang: str) -> str:
    """``lang`` itself when it is one of :data:`LANGS`; ``ValueError`` otherwise."""
    if lang not in LANGS:
        raise ValueError(f"lang = {lang!r}: use 'en' (English) or 'zh' (简体中文)")
    return lang


def normalize_lang(lang: str | None) -> str:
    """``lang`` when it is one of :data:`LANGS`, else :data:`DEFAULT_LANG` (for values from outside:
    an environment variable, a browser session)."""
    return lang if lang in LANGS else DEFAULT_LANG


def pick(en: str, zh: str, lang: str):
    """The text for ``lang``: ``zh`` in Chinese, ``en`` otherwise (also for a pair of any values)."""
    return zh if lang == "zh" else en


def join(items: Iterable[str], lang: str) -> str:
    """Items of a list joined as the language writes them (``a, b`` or ``a、b``)."""
    return pick(", ", "、", lang).join(items)


def colon(lang: str) -> str:
    """The colon that introduces a value (``": "`` or ``"："``)."""
    return pick(": ", "：", lang)


#: words in English and Simplified Chinese shown by the reports, the app's pages and the CLI
WORDS: dict[str, tuple[str, str]] = {
    "step": ("Step (week)", "步（周）"),
    "mean": ("Mean", "均值"),
    "ci95": ("95% interval", "95% 区间"),
    "ci_low": ("95% low", "95% 下限"),
    "ci_high": ("95% high", "95% 上限"),
    "sd": ("SD", "标准差"),
    "n": ("Runs", "运行次数"),
    "missing": ("Runs without a value", "无取值的运行"),
    "of_runs": ("{text} ({n} of {total} runs)", "{text}（{total} 次运行中 {n} 次有值）"),
    "no_value": ("– (no value in {total} runs)", "–（{total} 次运行均无取值）"),
    "missing_note": ("Some runs have no value of an observable (a merchant's mean or share over its own customers "
                     "when it has none at the end: {names}); they are left out of that mean, never counted "
                     "as 0, and the cell says how many runs have a value (column “Runs without a value” in the CSV).",
                     "部分运行没有某个指标的取值（商家在结束时没有客户，其客户的均值或占比无定义：{names}）；"
                     "这些运行不计入该均值，也绝不按 0 计算，单元格注明有取值的运行数（CSV 中的“无取值的运行”列）。"),
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
    "summary_note_one": ("Each run's final step; one replicate per configuration, so no interval "
                         "(run more replicates for one).",
                         "取每次运行的最后一步；每个配置只有一次重复，因此没有区间（需要区间请增加重复次数）。"),
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
    # calibration
    "trial": ("Trial", "试验"),
    "objective": ("Objective (weighted squared misfit)", "目标函数（加权平方误差）"),
    "objective_trial": ("each trial", "各次试验"),
    "objective_best": ("best so far", "迄今最佳"),
    "objective_title": ("Calibration: objective history", "校准：目标函数的历史"),
}

#: what kind of experiment a results folder holds
KIND_NAMES: dict[str, tuple[str, str]] = {"run": ("run", "单次运行"), "sweep": ("sweep", "参数扫描"),
                                          "compare": ("comparison", "方案比较")}
#: the experiment designs, as people name them
DESIGN_NAMES: dict[str, tuple[str, str]] = {
    "single": ("single configuration", "单一配置"), "factorial": ("factorial grid", "全因子网格"),
    "lhs": ("Latin hypercube", "拉丁超立方抽样"), "sobol": ("Sobol (Saltelli) sample", "Sobol（Saltelli）抽样"),
    "morris": ("Morris trajectories", "Morris 轨迹"), "scenarios": ("scenarios", "情景")}


def word(key: str, lang: str = DEFAULT_LANG, **fmt) -> str:
    """A word or phrase from :data:`WORDS` in ``lang`` (``"en"`` or ``"zh"``; anything else raises
    ``ValueError``), formatted with ``fmt``."""
    en, zh = WORDS[key]
    text = pick(en, zh, check_lang(lang))
    return text.format(**fmt) if fmt else text
