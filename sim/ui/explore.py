"""The Explore page: one market, live (the app's default page).

Left: the scenario (with its notes), play / pause / step / reset, speed, seed; the market's
parameters by group and each merchant's policy, generated from ``sim/params.py``; downloads and
upload. Right: the week's key numbers, the mechanism A–H with this week's flows, and tabs of live
plots, the network and a customer's story.

Each browser tab has its own market (see :mod:`sim.ui.state`); the model plays in a thread
(:func:`solara.use_thread`), so the page stays responsive, and the plots are redrawn every N steps.
The charts over time are SVG written by the server in a millisecond or two (:func:`sim.ui.plots.chart_svg`)
and drawn by the browser, so a playing market can redraw them at every step; their PNG download,
and the snapshots of the customers now, are matplotlib figures.

Stable CSS classes (for browser tests and the load script)
------------------------------------------------------------
=====================================  ==========================================================
``lsim-explore``                       the page
``lsim-play`` / ``lsim-pause``         the play button (its class says what it will do)
``lsim-step``                          one step
``lsim-reset``                         reset, same seed (keeps the edited settings)
``lsim-seed``                          reset with a new seed
``lsim-seed-input``                    the seed (type one and press Enter: reset with it; a bad one
                                       turns the box red and the notice says the allowed range)
``lsim-seed-value``                    the seed shown as text
``lsim-speed`` / ``lsim-redraw``       steps per second / redraw every N steps (selects)
``lsim-stop-at``                       pause at this step (0 = never; checked as the seed is)
``lsim-step-counter``                  "Week N" (text)
``lsim-scenario``                      the scenario picker (select); ``lsim-scenario-info`` its notes
``lsim-pending``                       structural edits waiting for a reset
``lsim-notice``                        the last change made (text)
``lsim-params``                        the parameter panels; groups ``lsim-group-GROUP``; each
                                       control ``lsim-param lsim-param-NAME`` with ``lsim-slider``,
                                       ``lsim-input``, ``lsim-select``; errors ``lsim-error``
``lsim-merchants``                     merchant panels ``lsim-merchant-NAME``; controls
                                       ``lsim-param-NAME-FIELD`` (e.g. ``lsim-param-A-price``)
``lsim-kpi`` / ``lsim-kpi-NAME``       key numbers (loyal_share, churn_rate, …)
``lsim-diagram``                       the A–H diagram (SVG inside)
``lsim-tabs``, ``lsim-tab-KEY``        plot tabs (time, cycles, now, network)
``lsim-figure-KEY``                    a figure; ``lsim-download-png`` its PNG button. The time
                                       charts (``lsim-chart``: loyal_churn, stages, cycles, profit)
                                       are SVG drawn in the page (``lsim-svg-line`` /
                                       ``lsim-svg-area`` series, ``lsim-svg-mark`` changes), the
                                       others a PNG ``img``
``lsim-interventions``                 the list of changes made during the run
``lsim-network``                       the network (SVG; circles ``lsim-node-ID`` are clickable)
``lsim-inspector``                     the customer story; ``lsim-customer-id`` the id box,
                                       ``lsim-pick-KIND`` (loyal, hostage, recovered, left, …),
                                       ``lsim-story`` the sentences
``lsim-download-csv``                  market data (CSV); ``lsim-download-merchants-csv``
``lsim-download-toml``                 the settings as a scenario TOML
``lsim-upload``                        the scenario upload: ``lsim-upload-pick`` its "Choose a file"
                                       button, ``lsim-upload-input`` the file input, the drop zone
                                       around them; ``lsim-upload-error`` its error
``lsim-part-KEY``                      each part of the page (run, diagram, kpis, scenario, tabs,
                                       settings, files): their order in one column (below 1264 px)
``lsim-node-hit``                      the network's clickable band around each customer
``lsim-cli``                           the command-line form under a line of scenario notes
``lsim-lang`` (app bar, app.py)        the EN / 中文 toggle; ``lsim-nav`` the page links
=====================================  ==========================================================
"""

from __future__ import annotations

import reacton.core
import reacton.ipyvuetify as rv
import solara

from ..model import STRUCTURAL
from ..params import PARAMS, ParamError
from ..analysis.formatting import percent_text
from ..analysis.labels import metric_label
from ..inputs.scenario import INFO_LABELS, load_scenario, scenario_names
from . import keep, plots, state
from .controls import CommitBox, MerchantPanels, ParameterPanels, parse_value
from .diagram import mechanism_svg, title_text
from .files import ChartView, Downloads, FigureView, Upload
from .pages_common import Md
from .i18n import both, lang, shown, tr
from .inspector import Inspector
from .notes import app_markdown
from .network_view import NetworkView
from .pace import GATE

__all__ = ["Explore", "TABS"]

#: the plot tabs: key → (English, Chinese, figures shown)
TABS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "time": ("Loyalty over time", "忠诚的形成", ("loyal_churn", "stages")),
    "cycles": ("Cycles & profit", "循环与利润", ("cycles", "profit")),
    "now": ("Customers now", "当前客户", ("distributions", "types")),
    "network": ("Network & stories", "网络与客户故事", ()),
}

CSS = """
.lsim-kpi { min-width: 96px; padding: 4px 8px !important; }
.lsim-kpis { row-gap: 6px; margin-top: 6px !important; }
.lsim-scenario { margin-top: 16px !important; }  /* its label floats above the box: clear of what is above */
.lsim-kpi .lsim-kpi-value { font-size: 1.35em; font-weight: 600; line-height: 1.2; }
.lsim-kpi .lsim-kpi-label { font-size: 0.8em; color: #546e7a; }
.lsim-sidebar .v-expansion-panel-content__wrap { padding: 4px 12px 8px; }
.lsim-sidebar .v-expansion-panel-header { min-height: 40px !important; padding: 8px 14px; }
.lsim-figure img { width: 100%; max-width: 900px; height: auto; }
.lsim-scenario-info { font-size: 0.92em; }
.lsim-scenario-info p, .lsim-scenario-info li { margin-bottom: 2px; }
"""


def _scenario_titles(lng: str) -> dict[str, str]:
    out = {}
    for name in scenario_names():
        try:
            out[name] = load_scenario(name).text("title", lng)
        except Exception:  # a broken file in the folder: leave it out of the list
            continue
    return out


def restart(sess, seed: int | None = None) -> None:
    """Reset the market (Reset, a new seed, "Reset now" for settings waiting for it): paused at week
    0, with a note that says so (it replaces a note about the settings that waited)."""
    state.playing.value = False
    sess.reset(seed)
    state.notice.value = ("info", both(f"Reset: week 0, seed {sess.seed}.", f"已重置：第 0 周，随机种子 {sess.seed}。"))
    state.edited()


def loaded_notice(sc) -> None:
    """The note after a scenario was loaded (from the list or a file)."""
    state.notice.value = ("info", both(f"Scenario loaded: {sc.text('title', 'en')}", f"已载入情景：{sc.text('title', 'zh')}"))


@solara.component
def Player():
    """Runs the model in a thread while ``playing`` is on (renders nothing)."""
    sess = state.session.value
    on = state.playing.value
    rc = reacton.core.get_render_context()
    # pause when the page is gone or has stopped answering (see sim/ui/keep.py, sim/ui/heartbeat.py)
    alive, watch = state.page_watching(sess)

    def run(cancel):
        if not on:
            return 0
        n = state.play_loop(sess, cancel, speed=lambda: state.speed.value, every=lambda: state.redraw_every.value,
                            draw=state.rendered(state.moved, rc, cancel), stop_at=lambda: sess.stop_at,
                            tick=state.rendered(state.ticked, rc, cancel), alive=alive)
        if watch is not None:
            if watch.silent():
                state.notice.value = ("warning", state.silent_text(watch.silent_for()))
            watch.rest()
        if not cancel.is_set():
            if sess.steps >= keep.max_weeks():
                state.notice.value = ("info", both(keep.weeks_text(sess.steps, "en"), keep.weeks_text(sess.steps, "zh")))
            state.playing.value = False  # reached the stop step
        return n

    solara.use_thread(run, dependencies=[on, id(sess)], intrusive_cancel=False)


@solara.component
def StepCounter():
    sess = state.session.value
    state.version.value  # redraw with the model
    state.week.value  # and after every step while playing
    solara.Text(tr(f"Week {sess.steps}", f"第 {sess.steps} 周"), classes=["lsim-step-counter"],
                style={"font-size": "1.25em", "font-weight": "600", "min-width": "90px"})


@solara.component
def RunControls():
    sess = state.session.value
    state.settings_version.value
    on = state.playing.value

    # a click is served ahead of every playing market's next step or redraw (see sim/ui/pace.py)
    def toggle():
        with GATE.priority():
            if not state.playing.value and state.notice.value and state.notice.value[0] == "info":
                state.notice.value = ("", "")  # (an earlier note, "Playing pauses at week 6" …, would be stale)
            state.playing.value = not state.playing.value

    def step():
        with GATE.priority():
            sess.step()
            state.moved()

    def reset(seed=None):
        with GATE.priority():
            restart(sess, seed)  # (a bad seed raises before anything changes)

    def typed(param, text):
        """``text`` as ``param``'s value, or None with the reason in the notice (field and range)."""
        try:
            return param.validate(parse_value(param, text), key=param.label(lang.value))
        except ParamError as e:
            state.notice.value = ("error", both(e.text("en"), e.text("zh")))
            return None

    def typed_seed(text):
        seed = typed(state.SEED, text)
        if seed is None:
            return "bad"
        if seed != sess.seed:  # (Enter, then leaving the box, commits twice: one reset)
            reset(seed)
        return None

    def typed_stop(text):
        week = typed(state.STOP_AT, text)
        if week is None:
            return "bad"
        if week != sess.stop_at:
            sess.stop_at = week
            state.notice.value = ("info", both(f"Playing pauses at week {week}." if week else "Playing does not pause.",
                                               f"播放到第 {week} 周时暂停。" if week else "播放不会自动暂停。"))
        return None

    with solara.Card(margin=0, classes=["lsim-run"], style={"padding": "10px"}):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="6px", classes=["lsim-run-buttons"]):
            solara.Button(tr("Pause", "暂停") if on else tr("Play", "播放"),
                          icon_name="mdi-pause" if on else "mdi-play", on_click=toggle, color="primary",
                          classes=["lsim-pause" if on else "lsim-play"])
            solara.Button(tr("Step", "单步"), icon_name="mdi-step-forward", on_click=step, disabled=on, outlined=True,
                          classes=["lsim-step"])
            solara.Button(tr("Reset", "重置"), icon_name="mdi-restore", on_click=lambda: reset(), outlined=True,
                          classes=["lsim-reset"])
            solara.Button(tr("New seed", "新种子"), icon_name="mdi-dice-multiple",
                          on_click=lambda: reset(state.new_seed()), outlined=True, classes=["lsim-seed"])
            StepCounter()
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="8px", classes=["lsim-run-fields"]):
            speeds = [{"text": (tr("max", "最快") if s == 0 else tr(f"{s} step/s" if s == 1 else f"{s} steps/s", f"每秒 {s} 步")), "value": s}
                      for s in state.SPEEDS]
            rv.Select(label=tr("Speed", "速度"), items=speeds, v_model=state.speed.value,
                      on_v_model=lambda v: state.set_pace(steps_per_s=int(v)), dense=True, hide_details=True,
                      class_="lsim-speed", style_="max-width: 130px")
            redraws = [{"text": tr(f"every {n} step{'s' if n > 1 else ''}", f"每 {n} 步"), "value": n}
                       for n in state.REDRAWS]
            rv.Select(label=tr("Redraw", "重绘"), items=redraws, v_model=state.redraw_every.value,
                      on_v_model=lambda v: state.set_pace(redraw=int(v)), dense=True, hide_details=True,
                      class_="lsim-redraw", style_="max-width: 150px")
            CommitBox(state.STOP_AT.label(lang.value), str(sess.stop_at), typed_stop, classes=["lsim-stop-at"],
                      style="max-width: 120px", reset_key=state.settings_version.value)
            CommitBox(state.SEED.label(lang.value), str(sess.seed), typed_seed, classes=["lsim-seed-input"],
                      style="max-width: 110px", reset_key=state.settings_version.value)
            solara.Text(tr(f"seed {sess.seed}", f"种子 {sess.seed}"), classes=["lsim-seed-value"],
                        style={"color": "#546e7a", "font-size": "0.85em"})
        kind, text = state.notice.value
        text = shown(text)  # kept in both languages: shown in the current one
        if text:
            solara.Text(text, classes=["lsim-notice"],
                        style={"color": "#c62828" if kind == "error" else "#37474f", "font-size": "0.88em"})


@solara.component
def ScenarioPicker():
    sess = state.session.value
    state.settings_version.value
    lng = lang.value
    titles = solara.use_memo(lambda: _scenario_titles(lng), [lng])
    current = sess.scenario.name if sess.scenario else None
    items = [{"text": t, "value": n} for n, t in titles.items()]
    if current is not None and current not in titles:
        items.append({"text": tr("(uploaded) ", "（上传）") + sess.title(lng), "value": current})

    def choose(name):
        if not name or name == current or name not in titles:
            return
        state.playing.value = False
        try:
            sess.load(load_scenario(name))
        except ParamError as e:  # larger than this server allows (LSIM_MAX_CUSTOMERS)
            state.notice.value = ("error", both(e.text("en"), e.text("zh")))
            return
        state.selected.value = -1
        loaded_notice(sess.scenario)
        state.edited()

    rv.Select(label=tr("Scenario", "情景"), items=items, v_model=current, on_v_model=choose, dense=True,
              hide_details=True, class_="lsim-scenario", prepend_icon="mdi-map-outline")
    sc = sess.scenario
    if sc is None:
        return
    with solara.Details(tr("About this scenario", "关于此情景"), expand=False):
        with solara.Column(classes=["lsim-scenario-info"], gap="2px"):
            summary = sc.text("summary", lng)
            if summary:
                Md(f"*{app_markdown(summary, lng)}*")
            for sec in ("what", "how", "notice", "try"):
                text = sc.text(sec, lng)
                if text:  # settings and code names as the app's controls and labels (sim/ui/notes.py)
                    Md(f"**{INFO_LABELS[sec][1 if lng == 'zh' else 0]}**\n\n{app_markdown(text, lng)}")


@solara.component
def Settings():
    """The parameter and merchant panels (redrawn only when the settings change)."""
    sess = state.session.value
    state.settings_version.value
    lng = lang.value

    def on_param(name, value):
        how = sess.set_param(name, value)  # ParamError → shown under the control
        if how == "same":
            return
        p = PARAMS[name]
        what = {lg: f"{p.label(lg)} = {value:g}" if isinstance(value, (int, float)) else f"{p.label(lg)} = {value}"
                for lg in ("en", "zh")}
        en, zh = what["en"], what["zh"]
        msg = {"pending": both(f"{en}: applies on Reset (it shapes the market).", f"{zh}：重置后生效（决定市场结构）。"),
               "start": both(f"{en}: set from week 0.", f"{zh}：从第 0 周起生效。"),
               "live": both(f"Week {sess.steps}: {en} (marked on the plots).", f"第 {sess.steps} 周：{zh}（已在图上标出）。")}
        state.notice.value = ("info", msg[how])
        state.edited()

    def on_policy(merchant, field, value):
        how = sess.set_policy(merchant, field, value)
        if how == "same":
            return
        en, zh = (plots.intervention_text(merchant, {field: value}, lg) for lg in ("en", "zh"))
        msg = {"start": both(f"{en}: set from week 0.", f"{zh}：从第 0 周起生效。"),
               "live": both(f"Week {sess.steps}: {en} (marked on the plots).", f"第 {sess.steps} 周：{zh}（已在图上标出）。")}
        state.notice.value = ("info", msg[how])
        state.edited()

    pending = sess.pending()
    notes = {k: tr("applies on Reset", "重置后生效") for k in STRUCTURAL}
    # always there, empty or not: the panels after it keep their place, so the one open stays open
    # when a value typed in it starts waiting for Reset
    with solara.Column(gap="0px"):
        if pending:
            with solara.Row(classes=["lsim-pending"], style={"align-items": "center", "flex-wrap": "wrap"}, gap="6px"):
                solara.Warning(tr("Waiting for Reset: ", "等待重置：") + ", ".join(
                    f"{PARAMS[k].label(lng)} = {v}" for k, v in pending.items()), dense=True)
                solara.Button(tr("Reset now", "立即重置"), on_click=lambda: restart(sess),
                              small=True, color="warning", classes=["lsim-apply-pending"])
    solara.Text(tr("Market", "市场"), style={"font-weight": "600", "margin-top": "6px"})
    with solara.Column(classes=["lsim-params"], gap="0px"):
        ParameterPanels(sess.params, on_param, notes=notes)
    solara.Text(tr("Merchants (change them while it runs)", "商家（运行中也可修改）"),
                style={"font-weight": "600", "margin-top": "8px"})
    with solara.Column(classes=["lsim-merchants"], gap="0px"):
        MerchantPanels(sess.params.merchants, on_policy)


@solara.component
def Files():
    sess = state.session.value
    ver = state.version.value

    def uploaded(sc):
        state.playing.value = False
        sess.load(sc)
        state.selected.value = -1
        loaded_notice(sc)
        state.edited()

    solara.Text(tr("Files", "文件"), style={"font-weight": "600", "margin-top": "8px"})
    Downloads(sess, ver)
    Upload(uploaded)


def _pct(x: float) -> str:
    return percent_text(x, 1)


@solara.component
def KPIs():
    sess = state.session.value
    state.version.value
    lng = lang.value
    m = sess.model.metrics
    churn = sess.series("churn_rate")[-4:].mean() if sess.steps else 0.0
    items = [
        ("active", metric_label("active", lng), f"{int(m['active']):,}"),
        ("loyal_share", metric_label("loyal_share", lng), _pct(m["loyal_share"])),
        ("trusting_share", metric_label("trusting_share", lng), _pct(m["trusting_share"])),
        ("churn_rate", metric_label("churn_rate", lng) + tr(" (4 wk)", "（4 周）"), _pct(churn)),
        ("satisfaction", metric_label("satisfaction", lng), f"{m['satisfaction']:.3f}"),
        ("trust", metric_label("trust", lng), f"{m['trust']:.2f}"),
        ("nps", metric_label("nps", lng), f"{m['nps']:.0f}"),
    ]
    with solara.Row(style={"flex-wrap": "wrap"}, gap="6px", classes=["lsim-kpis"]):
        for key, label, value in items:
            with solara.Card(margin=0, classes=["lsim-kpi", f"lsim-kpi-{key}"], elevation=1):
                solara.Text(value, classes=["lsim-kpi-value"])
                solara.HTML(tag="div", unsafe_innerHTML=label, classes=["lsim-kpi-label"])


@solara.component
def Diagram():
    sess = state.session.value
    ver = state.version.value
    lng = lang.value
    on = state.playing.value
    svg = solara.use_memo(lambda: mechanism_svg(sess.model.metrics, lng, playing=on, step=sess.steps),
                          [id(sess), ver, lng, on])
    # a region of its own, reached with the Tab key: on a narrow screen it scrolls sideways, and
    # the keyboard's arrow keys scroll it once it has the focus
    with rv.Card(elevation=2, class_="ma-0 lsim-diagram", style_="padding: 6px;",
                 attributes={"tabindex": "0", "role": "region", "aria-label": title_text(lng)}):
        solara.HTML(tag="div", unsafe_innerHTML=svg)


@solara.component
def Interventions():
    sess = state.session.value
    state.version.value
    lng = lang.value
    items = [iv for iv in sess.model.interventions if iv.source != "strategy"]
    n_strategy = sum(iv.source == "strategy" for iv in sess.model.interventions)
    if not items and not n_strategy:
        return
    src = {"user": tr("you", "你"), "scenario": tr("scenario", "情景"), "strategy": tr("strategy", "策略")}
    lines = [f"- {tr('Week', '第')} {iv.step}{'' if lng != 'zh' else ' 周'} ({src.get(iv.source, iv.source)}): "
             f"{plots.intervention_text(iv.target, iv.changes, lng)}" for iv in items[-12:]]
    if n_strategy:
        lines.append(tr(f"- and {n_strategy} policy moves by the merchants' own strategies (dotted lines)",
                        f"- 以及商家自身策略做出的 {n_strategy} 次调整（虚点线）"))
    with solara.Column(classes=["lsim-interventions"], gap="0px"):
        Md(f"**{tr('Changes during this run', '本次运行中的变更')}**\n\n" + "\n".join(lines))


@solara.component
def Figures(keys: tuple):
    sess = state.session.value
    ver = state.version.value
    lng = lang.value
    with solara.Row(style={"flex-wrap": "wrap"}, gap="8px"):
        for key in keys:
            build, _, _ = plots.FIGURES[key]
            chart = plots.CHARTS.get(key)
            name = f"{key}_week{sess.steps}_{lng}.png"
            with solara.Column(style={"flex": "1 1 480px", "min-width": "320px"}, gap="0px"):
                if chart is not None:  # a time chart: SVG on the page, matplotlib for its PNG
                    ChartView(key, lambda chart=chart: chart(sess, lng), [id(sess), ver, lng, key], lng, filename=name)
                else:
                    FigureView(key, lambda build=build: build(sess, lng), [id(sess), ver, lng, key], filename=name)


@solara.component
def NetworkAndStory():
    sess = state.session.value
    ver = state.version.value
    lng = lang.value
    sel = state.selected.value
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}, gap="12px"):
        with solara.Column(style={"flex": "1 1 360px", "max-width": "540px"}):
            NetworkView(sess, ver, lng, sel, on_pick=state.selected.set)
        with solara.Column(style={"flex": "2 1 420px"}):
            Inspector(sess, ver, lng, sel, on_select=state.selected.set)


@solara.component
def Tabs():
    lng = lang.value
    tab, set_tab = solara.use_state(0)
    keys = list(TABS)
    with rv.Tabs(v_model=tab, on_v_model=set_tab, class_="lsim-tabs", show_arrows=True):
        for k in keys:
            rv.Tab(children=[TABS[k][1 if lng == "zh" else 0]], class_=f"lsim-tab-{k}")
    key = keys[tab or 0]
    if key == "network":
        NetworkAndStory()
    else:
        Figures(TABS[key][2])
        if key in ("time", "cycles"):
            Interventions()


@solara.component
def Explore():
    lng = lang.value
    solara.Title(tr("Explore — loyalty-sim", "探索 — loyalty-sim"))
    solara.Style(CSS)
    state.use_market()  # first: this page's market (the one its address names, after a reload)
    Player()
    # each part in its own box (lsim-part-…): in one column (below 1264 px) the page's CSS lays the
    # parts of both columns out in one list, run controls and diagram first (sim/ui/offline.py)
    with solara.ColumnsResponsive(12, large=[4, 8], classes=["lsim-explore"]):
        with solara.Column(classes=["lsim-sidebar"], gap="8px"):
            for part, component in (("scenario", ScenarioPicker), ("run", RunControls), ("settings", Settings),
                                    ("files", Files)):
                with solara.Column(classes=["lsim-part", f"lsim-part-{part}"], gap="8px"):
                    component()
        with solara.Column(classes=["lsim-main"], gap="8px"):
            for part, component in (("kpis", KPIs), ("diagram", Diagram), ("tabs", Tabs)):
                with solara.Column(classes=["lsim-part", f"lsim-part-{part}"], gap="8px"):
                    component()
    del lng
