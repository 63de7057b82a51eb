"""The Compare page: two or more configurations side by side, run with replicates.

Each configuration is a named scenario plus edits (a market parameter or a merchant's, e.g.
``A · price``, validated against its declaration). All configurations run with the same replicate
seeds (the batch layer's :func:`sim.runs.compare_experiment`), in a background thread with a
progress bar and a cancel button. Results: mean lines with 95% bands for any observable, each
merchant's loyal share, and a table of final values with differences from the first configuration.

CSS classes (stable, for browser tests):

- ``lsim-compare-page``            the page
- ``lsim-compare-config``          one configuration's card
- ``lsim-compare-scenario``        its scenario picker
- ``lsim-compare-label``           its (optional) name field
- ``lsim-param-picker``            the edit editor's parameter picker
- ``lsim-compare-edit-value``      the edit editor's value field (numbers) or select (choices)
- ``lsim-compare-add-edit``        "Add edit"
- ``lsim-compare-edit-error``      the message for a rejected edit
- ``lsim-compare-edit``            one edit in a configuration's list
- ``lsim-compare-remove-edit``     the button removing that edit
- ``lsim-compare-add-config``      "Add configuration"
- ``lsim-compare-remove-config``   "Remove" on a configuration (from the third on)
- ``lsim-compare-replicates``, ``lsim-compare-steps``, ``lsim-compare-customers``, ``lsim-compare-seed``
- ``lsim-compare-run``             "Run (N runs)"; off, with the reason in ``lsim-compare-error``, when the
                                   settings give no run (e.g. 0 replicates)
- ``lsim-compare-cancel``          "Cancel" (while running)
- ``lsim-progress``, ``lsim-progress-text``   progress bar and "runs done / total"
- ``lsim-compare-results``         the results block
- ``lsim-compare-metric``          the observable picker of the time-series figure
- ``lsim-compare-figure``          the time-series figure; ``lsim-compare-merchants-figure`` the per-merchant one
- ``lsim-compare-table``           the table of final values and differences
- ``lsim-compare-download``        CSV of every run (tidy table)
"""

from __future__ import annotations

import solara

from sim.analysis.figures import plot_merchants, plot_timeseries
from sim.analysis.formatting import setting_text
from sim.analysis.stats import FLOW_WINDOW
from sim.params import PROGRAMME_LABELS, STRATEGY_LABELS, ParamError
from sim.words import word

from .i18n import tr
from .pages_common import (BatchSettings, Download, JobProgress, JobState, LabeledSelect, Md, batch_results_head,
                           cancel_job, current_lang, figure_png, range_hint, run_settings_inputs, scenario_cached,
                           scenario_items, shown_metric, start_job)
from .pages_logic import (MAX_RUNS, Config, Runs, check_run_settings, compare_table, current_value, declaration,
                          edit_text, param_choices, parse_edit, run_compare, table_markdown)

MAX_CONFIGS = 6


def _defaults() -> list[Config]:
    return [Config("baseline", uid=1), Config("baseline", (("C.recovery_prob", 0.9),), uid=2)]


# ---- this browser session's state (solara.reactive at module level: one value per virtual kernel) ----
configs = solara.reactive(_defaults())
settings = BatchSettings(replicates=5)
replicates, steps, customers, seed = settings.replicates, settings.steps, settings.customers, settings.seed
metric, job = settings.metric, settings.job


def reset() -> None:
    """Back to the defaults (tests; a fresh session starts there anyway)."""
    settings.reset()
    configs.value = _defaults()


def set_config(i: int, c: Config) -> None:
    cs = list(configs.value)
    cs[i] = c
    configs.value = cs


def add_config() -> None:
    cs = list(configs.value)
    if len(cs) >= MAX_CONFIGS:
        return
    uid = max(c.uid for c in cs) + 1
    last = cs[-1]
    cs.append(Config(last.scenario, last.edits, "", uid))
    configs.value = cs


def remove_config(i: int) -> None:
    cs = list(configs.value)
    if len(cs) > 2:
        del cs[i]
        configs.value = cs


def run_problem(n_configs: int) -> str | None:
    """Why the page's run settings cannot run (field and allowed range, in the page's language), or None."""
    try:
        check_run_settings(replicates.value, steps.value, customers.value, seed.value)
        if n_configs * replicates.value > MAX_RUNS:
            n = n_configs * replicates.value
            raise ParamError("replicates", f"{n} runs: the page runs at most {MAX_RUNS}; use fewer replicates",
                             None, f"共 {n} 次运行：本页面最多运行 {MAX_RUNS} 次；请减少重复次数")
    except ParamError as e:
        return e.text(current_lang())
    return None


def run() -> None:
    """Start the comparison with the page's settings (in a background thread on the server)."""
    if run_problem(len(configs.value)):
        return
    cs = list(configs.value)
    r, s, n, sd = replicates.value, steps.value, customers.value, seed.value
    start_job(job, lambda progress, cancel: run_compare(cs, r, s, n, sd, progress=progress, cancel=cancel))


def cancel() -> None:
    cancel_job(job)


# ---- components ------------------------------------------------------------------------------------
def _choice_items(name: str) -> list[tuple[str, str]]:
    labels = PROGRAMME_LABELS if name == "programme" else STRATEGY_LABELS if name == "strategy" else {}
    lang = current_lang()
    p = declaration(name, scenario_cached("baseline").params) if name in ("programme", "strategy") else None
    choices = p.choices if p is not None else ()
    return [(c, labels.get(c, (c, c))[lang == "zh"]) for c in choices]


@solara.component
def EditEditor(config: Config, on_add):
    """Choose a parameter, type or slide a value, add it (validated by the declaration)."""
    lang = current_lang()
    params = scenario_cached(config.scenario).params
    key = solara.use_reactive(None)
    text = solara.use_reactive("")
    error = solara.use_reactive("")

    def choose(k):
        key.set(k)
        error.set("")
        if k:
            try:
                text.set(setting_text(current_value(k, params)))
            except Exception:  # noqa: BLE001 - a key the scenario does not have
                text.set("")

    def add():
        if not key.value:
            error.set(tr("Choose a parameter first.", "请先选择参数。"))
            return
        try:
            k, v = parse_edit(key.value, text.value, params)
        except ParamError as e:
            error.set(e.text(lang))
            return
        error.set("")
        on_add(k, v)

    with solara.Column(gap="4px"):
        LabeledSelect(tr("Parameter to change", "要修改的参数"), param_choices(params, lang), key.value, choose,
                      classes=["lsim-param-picker"], autocomplete=True)
        if key.value:
            try:
                p = declaration(key.value, params)
            except ParamError:
                p = None
            if p is not None:
                now = setting_text(current_value(key.value, params))
                solara.Text(f"{p.help(lang)} — {range_hint(p, lang)}; " + tr(f"now {now}", f"当前 {now}"),
                            style={"font-size": "0.8em", "color": "#666"})
                with solara.Row(style={"align-items": "center"}):
                    if p.kind == "choice":
                        LabeledSelect(word("value", lang), _choice_items(p.name), text.value or None,
                                      lambda v: text.set(v or ""), classes=["lsim-compare-edit-value"],
                                      style={"max-width": "260px"})
                    else:
                        solara.InputText(word("value", lang), value=text, continuous_update=True,
                                         classes=["lsim-compare-edit-value"], style={"max-width": "120px"})
                        if p.lo is not None and p.hi is not None and p.hi - p.lo <= 1e4:
                            try:
                                cur = float(text.value)
                            except ValueError:
                                cur = float(current_value(key.value, params))
                            cur = min(max(cur, p.lo), p.hi)
                            if p.kind == "int":
                                solara.SliderInt("", value=int(cur), min=int(p.lo), max=int(p.hi),
                                                 step=int(p.step or 1), on_value=lambda v: text.set(str(v)))
                            else:
                                solara.SliderFloat("", value=cur, min=float(p.lo), max=float(p.hi),
                                                   step=float(p.step or 0.01),
                                                   on_value=lambda v: text.set(setting_text(round(v, 6))))
                    solara.Button(tr("Add edit", "添加修改"), on_click=add, icon_name="mdi-plus", outlined=True,
                                  color="primary", classes=["lsim-compare-add-edit"])
        if error.value:
            solara.Error(error.value, dense=True, classes=["lsim-compare-edit-error"])


@solara.component
def ConfigCard(index: int, config: Config, n_configs: int):
    lang = current_lang()
    params = scenario_cached(config.scenario).params
    title = tr(f"Configuration {index + 1}", f"配置 {index + 1}") + (" · " + tr("baseline", "基线") if index == 0 else "")
    with solara.Card(title, margin=0, classes=["lsim-compare-config"], style={"width": "400px", "max-width": "100%"}):
        with solara.Column(gap="8px"):
            solara.InputText(tr("Name (optional)", "名称（可选）"), value=config.label,
                             on_value=lambda v: set_config(index, Config(config.scenario, config.edits, v or "",
                                                                         config.uid)),
                             classes=["lsim-compare-label"], dense=True)
            LabeledSelect(tr("Scenario", "情景"), scenario_items(lang), config.scenario,
                          lambda name: name and set_config(index, config.with_scenario(name)),
                          classes=["lsim-compare-scenario"])
            summary = scenario_cached(config.scenario).text("summary", lang)
            if summary:
                solara.Text(summary, style={"font-size": "0.85em", "color": "#555"})
            solara.Text(tr("Edits over the scenario:", "对情景的修改：") if config.edits else
                        tr("No edits: the scenario as it is.", "无修改：按情景原样运行。"),
                        style={"font-weight": "500"})
            for k, v in config.edits:
                with solara.Row(style={"align-items": "center"}, classes=["lsim-compare-edit"], gap="4px"):
                    solara.Text(edit_text(k, v, lang, params), style={"flex": "1 1 auto"})
                    solara.Button(icon_name="mdi-close", text=True, classes=["lsim-compare-remove-edit"],
                                  on_click=lambda k=k: set_config(index, config.without(k)),
                                  attributes={"aria-label": tr("Remove this edit: ", "删除此修改：")
                                              + edit_text(k, v, lang, params)})
            EditEditor(config, lambda k, v: set_config(index, config.with_edit(k, v))).key(f"editor-{config.uid}")
            if n_configs > 2:
                solara.Button(tr("Remove this configuration", "删除此配置"), text=True, color="red darken-3",
                              icon_name="mdi-delete", on_click=lambda: remove_config(index),
                              classes=["lsim-compare-remove-config"])


@solara.component
def Results(runs: Runs):
    lang = current_lang()
    m = shown_metric(runs, metric.value)
    fig = solara.use_memo(lambda: plot_timeseries(runs.relabelled(runs.market, lang), m, group="label", lang=lang),
                          dependencies=[id(runs), m, lang])
    mfig = solara.use_memo(lambda: plot_merchants(runs.relabelled(runs.merchants, lang), "loyal_share", group="label", lang=lang,
                                                         by="merchant") if len(runs.merchants) else None,
                           dependencies=[id(runs), lang])
    table = solara.use_memo(lambda: compare_table(runs, lang=lang), dependencies=[id(runs), lang])
    # the same callable between renders (FileDownload resets when it gets a new one)
    csv_all = solara.use_memo(lambda: (lambda: runs.market.to_csv(index=False).encode("utf-8")), [id(runs)])
    png = solara.use_memo(lambda: (lambda: figure_png(fig)), [id(fig)])
    mpng = solara.use_memo(lambda: (lambda: figure_png(mfig)) if mfig is not None else None, [id(mfig)])
    labels = runs.labels
    with solara.Column(classes=["lsim-compare-results"]):
        batch_results_head(runs, m, metric.set, "lsim-compare-metric", [
            Download("lsim-compare-download", csv_all, "compare_runs.csv", "text/csv",
                     tr("Download every run (CSV)", "下载全部运行（CSV）")),
            Download("lsim-compare-download-png", png, f"compare_{m}.png", "image/png", tr("Figure (PNG)", "图表（PNG）")),
        ], same_seed_note=True)
        with solara.Div(classes=["lsim-compare-figure"]):
            solara.FigureMatplotlib(fig, dependencies=[id(runs), m, lang])
        with solara.Div(classes=["lsim-compare-table"]):
            Md("### " + tr("Final values and differences", "期末值与差值"))
            cols = ["label", *labels, *[f"Δ {lab}" for lab in labels[1:]]]
            names = [runs.shown(lab, lang) for lab in labels]
            heads = [word("metric", lang), *names, *[tr(f"Δ {lab} vs 1", f"Δ {lab} 相对配置 1") for lab in names[1:]]]
            Md(table_markdown(table, cols, heads,
                                           bold=lambda row, c: c.startswith("Δ ") and c[2:] in row["significant"]))
            Md(tr(
                f"Mean and 95% interval over replicates (t). Each run's final step; rows marked * are per-step flows, "
                f"each run's mean over its last {FLOW_WINDOW} steps. Δ: difference from configuration 1 with a Welch "
                f"95% interval; **✱** where the interval excludes 0.",
                f"均值与跨重复运行的 95% 区间（t 分布）。取每次运行的最后一步；带 * 的行为逐期流量，取每次运行最后 "
                f"{FLOW_WINDOW} 步的平均。Δ：相对配置 1 的差值及其 Welch 95% 区间；区间不含 0 时标 **✱**。"),
                style={"font-size": "0.85em"})
        if mfig is not None:
            with solara.Div(classes=["lsim-compare-merchants-figure"]):
                solara.FigureMatplotlib(mfig, dependencies=[id(runs), lang])
                solara.FileDownload(mpng, filename="compare_loyal_share_by_merchant.png", mime_type="image/png",
                                    label=tr("Figure (PNG)", "图表（PNG）"))


@solara.component
def Compare():
    solara.Title(tr("Compare — loyalty-sim", "比较 — loyalty-sim"))
    cs = configs.value
    st: JobState = job.value
    with solara.Column(classes=["lsim-compare-page"], style={"padding": "12px"}):
        Md("## " + tr("Compare configurations", "比较配置"))
        Md(tr(
            "Each configuration is a scenario plus your edits. All run with the same replicate seeds, so the "
            "differences come from the settings, not from luck. Configuration 1 is the baseline the others are "
            "compared with.",
            "每个配置由一个情景加上你的修改组成。所有配置使用相同的重复种子运行，因此差异来自设置而不是运气。"
            "配置 1 是其他配置比较的基线。"))
        with solara.Div(style={"display": "flex", "flex-wrap": "wrap", "gap": "12px", "align-items": "flex-start"}):
            for i, c in enumerate(cs):
                ConfigCard(i, c, len(cs)).key(f"config-{c.uid}")
            if len(cs) < MAX_CONFIGS:
                solara.Button(tr("Add configuration", "添加配置"), icon_name="mdi-plus", on_click=add_config,
                              outlined=True, classes=["lsim-compare-add-config"], style={"margin-top": "8px"})
        with solara.Card(tr("Run", "运行"), margin=0, style={"margin-top": "12px"}):
            with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}, classes=["lsim-run-settings"]):
                run_settings_inputs(settings, "lsim-compare")
                problem = run_problem(len(cs))
                n_runs = 0 if problem else len(cs) * replicates.value
                solara.Button(tr(f"Run ({n_runs} runs)", f"运行（{n_runs} 次）") if not problem else tr("Run", "运行"),
                              on_click=run, color="primary", icon_name="mdi-play",
                              disabled=st.running or problem is not None, classes=["lsim-compare-run"])
            if problem:
                solara.Error(problem, classes=["lsim-compare-error"], dense=True)
            JobProgress(job, cancel, "lsim-compare-cancel")
        if st.status == "done" and st.result is not None:
            Results(st.result)
        elif st.status == "idle":
            solara.Info(tr("Set up the configurations and press Run. Defaults answer in a few seconds.",
                           "设置好配置后按“运行”。默认设置几秒钟即可得到结果。"), dense=True)
