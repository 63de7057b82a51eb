"""The Sweep page: one or two parameters over a range, with replicates.

The page writes the sweep as an experiment file (the same TOML ``loyalty-sim sweep FILE`` reads),
parses it with :func:`sim.inputs.experiment.parse_experiment` and runs it in a background thread with a progress
bar and a cancel button. One parameter: the chosen observable against it (mean line with a 95% band,
:func:`sim.analysis.figures.plot_vs_param`); two: a heatmap of the mean
(:func:`sim.analysis.figures.plot_heatmap`).
Downloads: the tidy table of every run (CSV), a summary (CSV), the figure (PNG) and the experiment
file.

CSS classes (stable, for browser tests):

- ``lsim-sweep-page``              the page
- ``lsim-sweep-scenario``          base scenario picker
- ``lsim-param-picker``            parameter pickers (also ``lsim-sweep-param1`` / ``lsim-sweep-param2``)
- ``lsim-sweep-min1``, ``lsim-sweep-max1``, ``lsim-sweep-n1`` (and ``…2``)   range of each parameter
- ``lsim-sweep-two``               the switch for a second parameter
- ``lsim-sweep-replicates``, ``lsim-sweep-steps``, ``lsim-sweep-customers``, ``lsim-sweep-seed``
- ``lsim-sweep-error``             why the settings cannot run
- ``lsim-sweep-toml``              the experiment file shown; ``lsim-sweep-download-toml`` its download
- ``lsim-sweep-run``               "Run"
- ``lsim-sweep-cancel``            "Cancel" (while running)
- ``lsim-progress``, ``lsim-progress-text``   progress bar and "runs done / total"
- ``lsim-sweep-results``           the results block
- ``lsim-sweep-metric``            the observable picker
- ``lsim-sweep-figure``            the figure (line with band, or heatmap)
- ``lsim-sweep-download``          CSV of every run (tidy table)
- ``lsim-sweep-download-summary``  CSV of means and 95% intervals per configuration
- ``lsim-sweep-download-png``      the figure as PNG
"""

from __future__ import annotations

import dataclasses

import solara

from sim.analysis.figures import plot_heatmap, plot_vs_param
from sim.analysis.formatting import interval_text, value_text
from sim.analysis.labels import metric_label, param_label
from sim.analysis.stats import FLOW_WINDOW, summarize, window_for
from sim.analysis.tables import markdown_rows
from sim.metrics import is_share
from sim.params import ParamError
from sim.words import pick, word

from .i18n import tr
from .pages_common import (BatchSettings, Download, JobProgress, JobState, LabeledSelect, Md, batch_results_head,
                           cancel_job, current_lang, figure_png, range_hint, run_settings_inputs, scenario_cached,
                           scenario_items, shown_metric, start_job)
from .pages_logic import (MAX_VALUES, Axis, Runs, build_sweep, check_run_settings, declaration, default_axis,
                          error_text, param_choices, run_sweep, sweep_summary, sweep_toml)


def _axis(key: str, n: int = 5) -> Axis:
    return default_axis(key, scenario_cached("baseline").params, n)


# ---- this browser session's state (module-level reactives: one value per virtual kernel) -------------
scenario = solara.reactive("baseline")
axis1 = solara.reactive(_axis("trust_gain"))
axis2 = solara.reactive(_axis("trust_loss", 3))
two = solara.reactive(False)
settings = BatchSettings(replicates=3)
replicates, steps, customers, seed = settings.replicates, settings.steps, settings.customers, settings.seed
metric, job = settings.metric, settings.job


def reset() -> None:
    """Back to the defaults (tests; a fresh session starts there anyway)."""
    settings.reset()
    scenario.value = "baseline"
    axis1.value, axis2.value, two.value = _axis("trust_gain"), _axis("trust_loss", 3), False


def experiment_text() -> str:
    """The experiment file for the page's settings; raises ParamError when they cannot run."""
    axes = [axis1.value] + ([axis2.value] if two.value else [])
    check_run_settings(replicates.value, steps.value, customers.value, seed.value, max_replicates=100)
    return sweep_toml(scenario.value, axes, replicates.value, steps.value, customers.value, seed.value)


def run() -> None:
    """Start the sweep with the page's settings (in a background thread on the server)."""
    try:
        text = experiment_text()
    except ParamError as e:
        job.value = JobState("error", error=e, serial=job.value.serial + 1)
        return
    start_job(job, lambda progress, cancel: run_sweep(text, progress=progress, cancel=cancel))


def cancel() -> None:
    cancel_job(job)


def set_scenario(name: str) -> None:
    if not name:
        return
    scenario.value = name
    params = scenario_cached(name).params
    for ax in (axis1, axis2):
        try:
            declaration(ax.value.key, params)
        except ParamError:  # a merchant this scenario does not have
            ax.value = default_axis("trust_loss" if ax is axis2 else "trust_gain", params, ax.value.n)


# ---- components ------------------------------------------------------------------------------------
@solara.component
def AxisEditor(which: int, axis: solara.Reactive):
    lang = current_lang()
    params = scenario_cached(scenario.value).params
    ax: Axis = axis.value
    try:
        p = declaration(ax.key, params)
    except ParamError:
        p = None

    def choose(key):
        if key:
            axis.value = default_axis(key, params, ax.n)

    def set_field(name, v):
        if v is not None:
            axis.value = dataclasses.replace(axis.value, **{name: v})

    with solara.Column(gap="4px"):
        LabeledSelect(tr(f"Parameter {which}", f"参数 {which}"), param_choices(params, lang), ax.key, choose,
                      classes=["lsim-param-picker", f"lsim-sweep-param{which}"], autocomplete=True,
                      style={"min-width": "320px"})
        if p is not None:
            solara.Text(f"{p.help(lang)} — {range_hint(p, lang)}", style={"font-size": "0.8em", "color": "#666"})
            if p.kind == "choice":
                solara.Text(tr("Every choice is tried: ", "尝试全部取值：") + ", ".join(p.choices))
            else:
                with solara.Row():
                    solara.InputFloat(tr("From", "最小值"), value=float(ax.lo), on_value=lambda v: set_field("lo", v),
                                      classes=[f"lsim-sweep-min{which}"], style={"max-width": "110px"}, dense=True)
                    solara.InputFloat(tr("To", "最大值"), value=float(ax.hi), on_value=lambda v: set_field("hi", v),
                                      classes=[f"lsim-sweep-max{which}"], style={"max-width": "110px"}, dense=True)
                    solara.InputInt(tr(f"Values (2–{MAX_VALUES})", f"取值个数（2–{MAX_VALUES}）"), value=int(ax.n),
                                    on_value=lambda v: set_field("n", v), classes=[f"lsim-sweep-n{which}"],
                                    style={"max-width": "130px"}, dense=True)


def _summary_rows(runs: Runs, m: str, lang: str) -> str:
    """A Markdown table: each value of the (single) swept parameter, mean [95% interval]."""
    varied = [f.name for f in runs.exp.factors]
    win = window_for(m)
    summ = summarize(runs.market, [m], by=varied, window=win)
    head = [param_label(v, lang) for v in varied] + [metric_label(m, lang), word("n", lang)]
    pct = is_share(m)  # a share as a percentage, as on the Explore page
    rows = [[value_text(r[v]) for v in varied] + [interval_text(r["mean"], r["ci_low"], r["ci_high"], percent=pct), r["n"]]
            for r in summ.to_dict("records")]
    return markdown_rows(head, rows, ["right"] * len(head))


def sweep_figure(runs: Runs, m: str, lang: str):
    """``m`` against the swept parameter (line with a 95% band), or a heatmap over two parameters."""
    varied = [f.name for f in runs.exp.factors]
    win = window_for(m)
    if len(varied) == 1:
        return plot_vs_param(runs.market, m, varied[0], lang=lang, window=win)
    return plot_heatmap(runs.market, m, varied[0], varied[1], lang=lang, window=win)


@solara.component
def Results(runs: Runs):
    lang = current_lang()
    varied = [f.name for f in runs.exp.factors]
    m = shown_metric(runs, metric.value)

    fig = solara.use_memo(lambda: sweep_figure(runs, m, lang), dependencies=[id(runs), m, lang])
    # the download callbacks must stay the same objects between renders (FileDownload resets on a new one)
    csv_all = solara.use_memo(lambda: (lambda: runs.market.to_csv(index=False).encode("utf-8")), [id(runs)])
    csv_summary = solara.use_memo(lambda: (lambda: sweep_summary(runs).to_csv(index=False).encode("utf-8")),
                                  [id(runs)])
    png = solara.use_memo(lambda: (lambda: figure_png(fig)), [id(fig)])
    stem = "sweep_" + "_x_".join(v.replace(".", "_") for v in varied)
    with solara.Column(classes=["lsim-sweep-results"]):
        batch_results_head(runs, m, metric.set, "lsim-sweep-metric", [
            Download("lsim-sweep-download", csv_all, f"{stem}.csv", "text/csv", tr("Every run (CSV)", "全部运行（CSV）")),
            Download("lsim-sweep-download-summary", csv_summary, f"{stem}_summary.csv", "text/csv",
                     tr("Summary (CSV)", "汇总（CSV）")),
            Download("lsim-sweep-download-png", png, f"{stem}_{m}.png", "image/png", tr("Figure (PNG)", "图表（PNG）")),
        ])
        with solara.Div(classes=["lsim-sweep-figure"]):
            solara.FigureMatplotlib(fig, dependencies=[id(runs), m, lang])
        note = word("summary_note", lang)  # as the written reports say it
        if window_for(m) is not None:
            note += pick(" ", "", lang) + word("flow_note", lang, names=metric_label(m, lang), k=FLOW_WINDOW)
        Md(note, style={"font-size": "0.85em"})
        if len(varied) == 1:
            Md(_summary_rows(runs, m, lang))


@solara.component
def Sweep():
    solara.Title(tr("Sweep — loyalty-sim", "扫描 — loyalty-sim"))
    lang = current_lang()
    st: JobState = job.value
    try:
        text = experiment_text()
        problem = None
        exp = build_sweep(text)
        n_runs = exp.n_runs
    except (ParamError, ValueError) as e:
        text, exp, n_runs = None, None, 0
        problem = error_text(e, lang)
    with solara.Column(classes=["lsim-sweep-page"], style={"padding": "12px"}):
        Md("## " + tr("Sweep parameters", "参数扫描"))
        Md(tr(
            "Pick one or two parameters and their ranges. Every combination of values runs with the same "
            "replicate seeds; the page shows how an observable responds.",
            "选择一个或两个参数及其范围。每一种取值组合都用相同的重复种子运行；页面显示某个指标如何随之变化。"))
        with solara.Card(margin=0):
            with solara.Column():
                with solara.Div(style={"max-width": "480px"}):
                    LabeledSelect(tr("Base scenario", "基础情景"), scenario_items(lang), scenario.value, set_scenario,
                                  classes=["lsim-sweep-scenario"])
                with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start", "gap": "32px"}):
                    AxisEditor(1, axis1)
                    with solara.Column(gap="4px"):
                        solara.Switch(label=tr("Vary a second parameter (heatmap)", "再改变第二个参数（热力图）"),
                                      value=two, classes=["lsim-sweep-two"])
                        if two.value:
                            AxisEditor(2, axis2)
                with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}, classes=["lsim-run-settings"]):
                    run_settings_inputs(settings, "lsim-sweep")
                    solara.Button(tr(f"Run ({n_runs} runs)", f"运行（{n_runs} 次）"), on_click=run, color="primary",
                                  icon_name="mdi-play", disabled=st.running or problem is not None,
                                  classes=["lsim-sweep-run"])
                if problem:
                    solara.Error(problem, classes=["lsim-sweep-error"], dense=True)
                JobProgress(job, cancel, "lsim-sweep-cancel")
                if text:
                    with solara.Details(tr("Experiment file: the same sweep from the command line",
                                           "实验文件：在命令行中运行同一扫描")):
                        with solara.Column(classes=["lsim-sweep-toml"]):
                            Md(tr("Save it as `sweep.toml` and run `uv run loyalty-sim sweep sweep.toml "
                                               "--out results/sweep`, then `uv run loyalty-sim analyze results/sweep`.",
                                               "保存为 `sweep.toml`，运行 `uv run loyalty-sim sweep sweep.toml --out "
                                               "results/sweep`，再运行 `uv run loyalty-sim analyze results/sweep`。"))
                            Md("```toml\n" + text + "```")
                            with solara.Div(classes=["lsim-sweep-download-toml"]):
                                solara.FileDownload(text.encode("utf-8"), filename="sweep.toml",
                                                    label=tr("Download sweep.toml", "下载 sweep.toml"),
                                                    mime_type="application/toml")
        if st.status == "done" and st.result is not None:
            Results(st.result)
        elif st.status == "idle":
            solara.Info(tr("Choose the parameters and press Run. The defaults answer in a few seconds.",
                           "选择参数后按“运行”。默认设置几秒钟即可得到结果。"), dense=True)
