"""The Learn page: the model's Info (NetLogo style), each scenario's notes, a glossary of the theory's
terms and the validation report — every text in English and 简体中文.

The texts live in ``docs/`` so that the documentation and the page say the same thing:
``docs/info.md`` (the Info sections), ``docs/glossary.md`` (the glossary table) and
``docs/validation.md`` (written by ``loyalty-sim validate``; its figures are embedded as data URIs so
they show offline). See :mod:`sim.ui.learn_docs`.

CSS classes (stable, for browser tests):

- ``lsim-learn-page``              the page
- ``lsim-learn-tabs``              the tab bar; the tabs ``lsim-learn-tab-info``, ``lsim-learn-tab-scenarios``,
                                   ``lsim-learn-tab-glossary``, ``lsim-learn-tab-validation``
- ``lsim-learn-info``              the Info text; each section ``lsim-learn-info-<key>`` (keys: what, how, use,
                                   notice, try, extending, credits)
- ``lsim-learn-scenario``          the scenario picker
- ``lsim-learn-scenario-info``     the chosen scenario's notes
- ``lsim-learn-glossary-search``   the glossary's filter box
- ``lsim-learn-glossary``          the glossary table
- ``lsim-learn-validation``        the validation report (or the note that it has not been written yet)
"""

from __future__ import annotations

import solara
import solara.lab

from sim.analysis.formatting import setting_text
from sim.analysis.tables import markdown_rows
from sim.params import MERCHANT_PARAMS, PARAMS
from sim.inputs.scenario import INFO_LABELS, INFO_SECTIONS

from .i18n import tr
from .learn_docs import glossary_terms, info_sections, name_kind, name_label, split_summary, validation_report
from .notes import app_markdown
from .pages_common import LabeledSelect, Md, current_lang, scenario_cached, scenario_items

# ---- this browser session's state ------------------------------------------------------------------
tab = solara.reactive(0)
scenario = solara.reactive("baseline")
query = solara.reactive("")


def reset() -> None:
    tab.value, scenario.value, query.value = 0, "baseline", ""


@solara.component
def InfoTab():
    lang = current_lang()
    try:
        sections = info_sections()
    except (OSError, ValueError) as e:
        solara.Error(tr(f"docs/info.md cannot be read: {e}", f"无法读取 docs/info.md：{e}"))
        return
    with solara.Column(classes=["lsim-learn-info"], style={"max-width": "900px"}):
        for s in sections:
            with solara.Div(classes=[f"lsim-learn-info-{s.key}"]):
                Md(f"## {s.title(lang)}\n\n{s.text(lang)}")


def _values_markdown(sc, lang: str) -> str:
    """The scenario's settings over the defaults, and its scheduled changes."""
    zh = lang == "zh"
    lines = []
    market = {k: v for k, v in sc.values.items() if k != "merchants"}
    for k, v in market.items():
        label = PARAMS[k].label(lang) if k in PARAMS else k
        lines.append(f"- {label} (`{k}`) = {setting_text(v)}")
    if "merchants" in sc.values:
        lines.append("- " + ("商家：" if zh else "Merchants:"))
        for m in sc.values["merchants"]:
            vals = ", ".join(f"{MERCHANT_PARAMS[k].label(lang) if k in MERCHANT_PARAMS else k} = {setting_text(v)}"
                             for k, v in m.items() if k != "name")
            lines.append(f"    - **{m.get('name', '?')}**" + (f": {vals}" if vals else ""))
    if not lines:
        lines.append("- " + ("与默认市场相同。" if zh else "The default market, unchanged."))
    if sc.events:
        lines.append("")
        lines.append(f"**{'计划中的变化' if zh else 'Scheduled changes'}**")
        lines.append("")
        for e in sc.events:
            note = (e.note_zh if zh else e.note_en) or ""
            who = ("市场" if zh else "market") if e.target == "market" else e.target
            ch = ", ".join(f"{k} = {setting_text(v)}" for k, v in e.changes.items())
            step = f"第 {e.step} 步" if zh else f"step {e.step}"
            lines.append(f"- {step} — {who}: {ch}" + (f" ({note})" if note else ""))
    return "\n".join(lines)


@solara.component
def ScenariosTab():
    lang = current_lang()
    name = scenario.value
    with solara.Column(style={"max-width": "900px"}):
        with solara.Div(style={"max-width": "520px"}):
            LabeledSelect(tr("Scenario", "情景"), scenario_items(lang), name, lambda v: v and scenario.set(v),
                          classes=["lsim-learn-scenario"])
        try:
            sc = scenario_cached(name)
        except Exception as e:  # noqa: BLE001 - a broken file is reported, the page goes on
            solara.Error(str(e))
            return
        with solara.Column(classes=["lsim-learn-scenario-info"]):
            md = [f"## {sc.text('title', lang)}", "", f"*{app_markdown(sc.text('summary', lang), lang)}*", ""]
            for sec in INFO_SECTIONS[2:]:
                text = sc.text(sec, lang)
                if text:  # settings and code names as the app's controls and labels (sim/ui/notes.py)
                    md += [f"### {INFO_LABELS[sec][lang == 'zh']}", "", app_markdown(text.strip(), lang), ""]
            md += [f"### {tr('Settings over the defaults', '相对默认值的设置')}", "", _values_markdown(sc, lang), ""]
            md += [tr(f"Default run: {sc.steps} steps, seed {sc.seed if sc.seed is not None else 0}. "
                      f"Command line: `uv run loyalty-sim run {name} --out results/{name}`.",
                      f"默认运行：{sc.steps} 步，随机种子 {sc.seed if sc.seed is not None else 0}。"
                      f"命令行：`uv run loyalty-sim run {name} --out results/{name}`。")]
            Md("\n".join(md))


def _names_cell(names, lang: str) -> str:
    parts = []
    for n in names:
        label = name_label(n, lang)
        kind = name_kind(n, lang)
        parts.append(f"`{n}`" + (f" {label}" if label else "") + (f" ({kind})" if kind else ""))
    return "<br>".join(parts)


def glossary_markdown(lang: str, q: str = "") -> tuple[str, int]:
    """The glossary as a Markdown table in ``lang`` (rows matching ``q`` in either language), and its row count."""
    terms = glossary_terms()
    q = q.strip().lower()
    if q:
        terms = [t for t in terms if q in " ".join([t.en, t.zh, t.definition_en, t.definition_zh, *t.names]).lower()]
    zh = lang == "zh"
    head = ["术语", "English", "定义", "模型中的名称"] if zh else ["Term", "中文", "Definition", "In the model"]
    rows = [[f"**{t.term(lang)}**", t.other(lang), t.definition(lang), _names_cell(t.names, lang)] for t in terms]
    return markdown_rows(head, rows, ["left"] * len(head)), len(terms)


@solara.component
def GlossaryTab():
    lang = current_lang()
    try:
        md, n = glossary_markdown(lang, query.value)
        total = len(glossary_terms())
    except (OSError, ValueError) as e:
        solara.Error(tr(f"docs/glossary.md cannot be read: {e}", f"无法读取 docs/glossary.md：{e}"))
        return
    with solara.Column(style={"max-width": "1100px"}):
        with solara.Row(style={"align-items": "center"}):
            solara.InputText(tr("Filter", "筛选"), value=query, continuous_update=True,
                             classes=["lsim-learn-glossary-search"], style={"max-width": "320px"})
            solara.Text(tr(f"{n} of {total} terms", f"共 {total} 个术语，显示 {n} 个"))
        with solara.Div(classes=["lsim-learn-glossary"]):
            Md(md)


@solara.component
def ValidationTab():
    lang = current_lang()
    report = solara.use_memo(lambda: validation_report(lang="en"), dependencies=[])
    with solara.Column(classes=["lsim-learn-validation"], style={"max-width": "1000px"}):
        if report is None:
            solara.Info(tr("The validation report will appear here once “loyalty-sim validate” has been run "
                           "(it writes docs/validation.md and its figures).",
                           "运行“loyalty-sim validate”之后（它会写出 docs/validation.md 及其图表），验证报告将显示在这里。"))
        elif lang == "zh":
            # the report's body is in English: a Chinese reader opens on its Chinese summary, and the
            # English text stays folded until asked for
            summary, body = split_summary(report)
            Md("## 验证：实地文献中的典型事实\n\n" + (summary or "本报告只有英文版。"))
            with solara.Details("完整报告（英文）", expand=False):
                Md(body)
        else:
            Md(report)


@solara.component
def Learn():
    solara.Title(tr("Learn — loyalty-sim", "学习 — loyalty-sim"))
    with solara.Column(classes=["lsim-learn-page"], style={"padding": "12px"}):
        Md("## " + tr("Learn: how the model works", "学习：模型如何运作"))
        with solara.Div(classes=["lsim-learn-tabs"]), solara.lab.Tabs(value=tab, lazy=True):
            with solara.lab.Tab(tr("About the model", "模型说明"), classes=["lsim-learn-tab-info"]):
                InfoTab()
            with solara.lab.Tab(tr("Scenarios", "情景"), classes=["lsim-learn-tab-scenarios"]):
                ScenariosTab()
            with solara.lab.Tab(tr("Glossary", "术语表"), classes=["lsim-learn-tab-glossary"]):
                GlossaryTab()
            with solara.lab.Tab(tr("Validation", "验证"), classes=["lsim-learn-tab-validation"]):
                ValidationTab()
