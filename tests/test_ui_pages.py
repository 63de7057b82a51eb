"""The Compare, Sweep and Learn pages, rendered without a browser (``solara.render``).

Batches are small (a few runs of 10 steps × 200 customers) so the module runs in well under a
minute. The pages normally run batches in a background thread; most tests switch that off
(``pages_common.BACKGROUND = False``) so a click runs the batch before it returns, and one test
checks the thread, its progress and its cancel button.
"""

from __future__ import annotations

import re
import time

import ipyvuetify as v
import pytest
import solara

from sim.inputs.experiment import parse_experiment
from sim.metrics import MERCHANT_METRICS, METRICS
from sim.params import MERCHANT_PARAMS, PARAMS
from sim.inputs.scenario import load_scenario, scenario_names
from sim.ui import compare, i18n, learn, pages_common, sweep
from sim.ui.learn_docs import glossary_terms, info_sections, parse_info
from sim.ui.pages_logic import Axis, Config, compare_table, parse_edit, run_compare, sweep_toml

SMALL = dict(replicates=2, steps=10, customers=200)


_contexts: list = []


def render(element):
    """``solara.render`` whose render context is closed after the test (a live one would keep
    re-rendering when later tests change the pages' state)."""
    box, rc = solara.render(element, handle_error=False)
    _contexts.append(rc)
    return box, rc


@pytest.fixture(autouse=True)
def _fresh_state():
    pages_common.BACKGROUND = False
    i18n.lang.value = "en"
    compare.reset()
    sweep.reset()
    learn.reset()
    yield
    pages_common.cancel_job(compare.job)
    pages_common.cancel_job(sweep.job)
    while _contexts:
        _contexts.pop().close()
    pages_common.BACKGROUND = True
    i18n.lang.value = "en"


def _wait(cond, timeout=20.0):
    deadline = time.time() + timeout
    while not cond():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def _all(root, cls) -> list:
    """Every widget under ``root`` whose CSS classes include ``cls`` (solara adds its own classes)."""
    found, seen, queue = [], set(), [root]
    while queue:
        w = queue.pop(0)
        if id(w) in seen:
            continue
        seen.add(id(w))
        if cls in (getattr(w, "class_", None) or "").split():
            found.append(w)
        slots = [s_["children"] for s_ in getattr(w, "v_slots", None) or []]
        for c in list(getattr(w, "children", None) or []) + slots:
            for x in (c if isinstance(c, list) else [c]):
                if hasattr(x, "keys"):
                    queue.append(x)
    return found


def _one(rc, widget, cls):
    found = [w for w in _all(rc.container if rc.container is not None else rc.last_root_widget, cls)
             if isinstance(w, widget)]
    assert len(found) == 1, (cls, len(found))
    return found[0]


def _text(widget) -> str:
    """All text inside a widget tree (strings and Markdown templates)."""
    out = []

    def walk(w):
        if isinstance(w, str):
            out.append(w)
            return
        for attr in ("children", "v_slots"):
            for c in getattr(w, attr, None) or []:
                walk(c["children"] if isinstance(c, dict) else c)
        for attr in ("template", "label", "value", "v_model", "unsafe_innerHTML"):
            x = getattr(w, attr, None)
            if isinstance(x, str):
                out.append(x)
            elif x is not None and hasattr(x, "template"):
                out.append(x.template)

    walk(widget)
    return "\n".join(out)


# ---- Compare -------------------------------------------------------------------------------------
def test_compare_edit_is_validated_before_it_is_added():
    box, rc = render(compare.Compare())
    picker = rc.find(v.Autocomplete, class_="lsim-param-picker").widgets[0]  # configuration 1
    picker.v_model = "A.price"
    value = rc.find(v.TextField, class_="lsim-compare-edit-value").widgets[0]
    assert value.v_model == "1.15"  # the scenario's current value is offered
    value.v_model = "99"
    before = compare.configs.value[0]
    rc.find(v.Btn, class_="lsim-compare-add-edit").widgets[0].click()
    msg = _text(_one(rc, v.Alert, "lsim-compare-edit-error"))
    assert "out of range" in msg and "0 … 10" in msg
    assert compare.configs.value[0] == before  # nothing added

    value.v_model = "1.3"
    rc.find(v.Btn, class_="lsim-compare-add-edit").widgets[0].click()
    assert compare.configs.value[0].edits == (("A.price", 1.3),)
    assert not rc.find(v.Alert, class_="lsim-compare-edit-error").widgets
    rc.find(v.Btn, class_="lsim-compare-remove-edit").widgets[0].click()
    assert compare.configs.value[0].edits == ()


def test_compare_error_message_follows_the_language():
    i18n.lang.value = "zh"
    box, rc = render(compare.Compare())
    rc.find(v.Autocomplete, class_="lsim-param-picker").widgets[0].v_model = "trust_gain"
    rc.find(v.TextField, class_="lsim-compare-edit-value").widgets[0].v_model = "abc"
    rc.find(v.Btn, class_="lsim-compare-add-edit").widgets[0].click()
    assert "必须是" in _text(_one(rc, v.Alert, "lsim-compare-edit-error"))
    assert rc.find(v.Btn, class_="lsim-compare-run").widget.children[-1].startswith("运行")


def test_compare_add_and_remove_configurations():
    box, rc = render(compare.Compare())
    rc.find(v.Btn, class_="lsim-compare-add-config").widget.click()
    assert len(compare.configs.value) == 3
    rc.find(v.Btn, class_="lsim-compare-remove-config").widgets[2].click()
    assert len(compare.configs.value) == 2


def test_compare_run_gives_difference_table_and_figures():
    compare.replicates.value, compare.steps.value, compare.customers.value = 2, 10, 200
    box, rc = render(compare.Compare())
    rc.find(v.Btn, class_="lsim-compare-run").widget.click()
    st = compare.job.value
    assert st.status == "done", st.error
    runs = st.result
    assert runs.market["run_id"].nunique() == 4
    # same replicate seeds for every configuration
    seeds = runs.market.groupby("label")["seed"].unique()
    assert len({tuple(sorted(s)) for s in seeds}) == 1
    table_md = _text(_one(rc, v.Html, "lsim-compare-table"))
    # the results keep the command line's labels; the page names configurations as its controls do
    assert "2. baseline (C.recovery_prob=0.9)" in set(runs.market["label"])
    assert "Δ 2. Baseline: a competitive market (C · Recovery: chance of resolving = 0.9) vs 1" in table_md
    assert "C.recovery_prob" not in table_md and "Loyal share" in table_md
    for cls in ("lsim-compare-figure", "lsim-compare-merchants-figure"):
        assert _one(rc, v.Html, cls).children, cls  # a figure is shown
    # each figure downloads as a PNG
    pngs = [_one(rc, v.Html, "lsim-compare-download-png").children[0],
            _one(rc, v.Html, "lsim-compare-merchants-figure").children[-1]]
    for png in pngs:
        png.request_download = True  # what the browser's click does; the data is made in a thread
        _wait(lambda png=png: png.bytes is not None)
        assert bytes(png.bytes).startswith(b"\x89PNG")
    # switching the language redraws the table in Chinese
    i18n.lang.value = "zh"
    zh_md = _text(_one(rc, v.Html, "lsim-compare-table"))
    assert "忠诚客户占比" in zh_md and "Δ 2. 基准：竞争市场（C · 补救：解决概率 = 0.9） 相对配置 1" in zh_md
    assert "baseline" not in zh_md


def test_compare_table_marks_differences_whose_interval_excludes_zero():
    params = load_scenario("baseline").params
    cfgs = [Config("baseline"), Config("baseline", (parse_edit("A.quality", "0.95", params),))]
    # long enough for customers to learn what a much better merchant gives (judged value)
    runs = run_compare(cfgs, replicates=3, steps=30, customers=300, seed=3)
    t = compare_table(runs)
    assert list(t["metric"])[:2] == ["loyal_share", "churn_rate"]
    col = "Δ 2. baseline (A.quality=0.95)"
    assert col in t.columns
    for _, row in t.iterrows():
        assert row[col].endswith("✱") == ("2. baseline (A.quality=0.95)" in row["significant"])
    assert t["significant"].map(len).sum() >= 1  # a much better merchant A shows somewhere


def test_the_app_and_the_cli_report_show_the_same_numbers_the_same_way(tmp_path):
    """The Compare page's table and the report ``loyalty-sim compare`` prints (summary.md) come from
    the same summary and the same formatter: every cell of the page is in the report as it is."""
    from sim.analysis import writers
    from sim.analysis.formatting import interval_text
    from sim.analysis.labels import metric_label

    params = load_scenario("baseline").params
    cfgs = [Config("baseline"), Config("baseline", (parse_edit("A.quality", "0.95", params),))]
    runs = run_compare(cfgs, **SMALL, seed=3)
    labels = runs.labels
    app = compare_table(runs)
    manifest = {"kind": "compare", "design": "scenarios", "measure": "every", "replicates": SMALL["replicates"],
                "steps": SMALL["steps"]}
    md = writers.compare(manifest, runs.market, runs.merchants, tmp_path, metrics=list(app["metric"])).markdown
    for _, row in app.iterrows():
        cells = [metric_label(row["metric"]), *(row[lab] for lab in labels)]
        assert "| " + " | ".join(cells) + " |" in md  # the summary row, cell for cell
        diff = row[f"Δ {labels[1]}"].removesuffix(" ✱")
        assert f"| {diff} |" in md or f"| **{diff}** |" in md  # the difference from the baseline
    # one formatter: a mean with its interval, a difference with its sign
    assert interval_text(0.41234, 0.40112, 0.42351) == "0.4123 [0.4011, 0.4235]"
    assert interval_text(-0.0123, -0.02, -0.004, sign=True) == "-0.01230 [-0.02000, -0.00400]"
    assert interval_text(12345.6, 12000.0, 12700.0, sign=True) == "+12,346 [12,000, 12,700]"


def test_compare_runs_in_a_background_thread_with_progress_and_cancel():
    pages_common.BACKGROUND = True
    compare.replicates.value, compare.steps.value, compare.customers.value = 2, 10, 200
    box, rc = render(compare.Compare())
    rc.find(v.Btn, class_="lsim-compare-run").widget.click()
    deadline = time.time() + 60
    while compare.job.value.running and time.time() < deadline:
        time.sleep(0.05)
    st = compare.job.value
    assert st.status == "done" and (st.done, st.total) == (4, 4)
    _wait(lambda: rc.find(v.Html, class_="lsim-compare-table").widgets)  # the thread re-renders the page

    compare.replicates.value, compare.steps.value = 40, 30  # long enough to cancel
    rc.find(v.Btn, class_="lsim-compare-run").widget.click()
    _wait(lambda: compare.job.value.done >= 1)
    assert compare.job.value.running
    _wait(lambda: "runs done" in _text(box))
    rc.find(v.Btn, class_="lsim-compare-cancel").widget.click()
    assert compare.job.value.status == "cancelled"
    assert compare.job.value.done < 80


# ---- Sweep ---------------------------------------------------------------------------------------
def test_sweep_experiment_file_parses_to_the_same_sweep():
    params = load_scenario("baseline").params
    text = sweep_toml("baseline", [Axis("A.price", 1.0, 1.4, 3), Axis("A.programme")], 2, 10, 200, 7)
    exp = parse_experiment(text)
    assert [f.name for f in exp.factors] == ["A.price", "A.programme"]
    assert exp.factors[0].values == (1.0, 1.2, 1.4)
    assert exp.factors[1].values == tuple(MERCHANT_PARAMS["programme"].choices)
    assert (exp.replicates, exp.steps, exp.seed, exp.n_runs) == (2, 10, 7, 30)
    assert exp.points[0].params.n_customers == 200
    assert params.merchant("A").price == 1.15  # the base scenario itself is untouched
    # the page shows exactly this text for its own settings
    sweep.axis1.value = Axis("A.price", 1.0, 1.4, 3)
    box, rc = render(sweep.Sweep())
    shown = _text(_one(rc, v.Sheet, "lsim-sweep-toml"))
    assert "A.price" in shown and "1.4" in shown and "n_customers" in shown
    parse_experiment(sweep.experiment_text())


def test_sweep_bad_range_is_reported_and_run_disabled():
    sweep.axis1.value = Axis("A.price", 2.0, 1.0, 3)
    box, rc = render(sweep.Sweep())
    assert "must be below" in _text(_one(rc, v.Alert, "lsim-sweep-error"))
    assert rc.find(v.Btn, class_="lsim-sweep-run").widget.disabled


def test_sweep_one_parameter_gives_figure_and_csv():
    sweep.axis1.value = Axis("A.price", 1.0, 1.4, 3)
    sweep.replicates.value, sweep.steps.value, sweep.customers.value = 1, 10, 200
    box, rc = render(sweep.Sweep())
    rc.find(v.Btn, class_="lsim-sweep-run").widget.click()
    st = sweep.job.value
    assert st.status == "done", st.error
    assert st.result.market["A.price"].nunique() == 3
    assert _one(rc, v.Html, "lsim-sweep-figure").children
    fig = sweep.sweep_figure(st.result, "loyal_share", "en")
    assert fig.axes[0].get_xlabel() == "A: Price"
    dl = _one(rc, v.Html, "lsim-sweep-download").children[0]
    dl.request_download = True  # what the browser's click does; the data is made in a thread
    _wait(lambda: dl.bytes is not None)
    csv = bytes(dl.bytes).decode("utf-8")
    assert csv.splitlines()[0].startswith("run_id,point,label,replicate,seed,A.price,step,loyal_share")
    assert len(csv.splitlines()) == 1 + 3 * 11
    png = _one(rc, v.Html, "lsim-sweep-download-png").children[0]
    png.request_download = True
    _wait(lambda: png.bytes is not None)
    assert bytes(png.bytes).startswith(b"\x89PNG")
    # another observable, in Chinese
    sweep.metric.value = "satisfaction"
    i18n.lang.value = "zh"
    assert sweep.sweep_figure(st.result, "satisfaction", "zh").axes[0].get_ylabel() == "平均满意度"


def test_sweep_two_parameters_gives_heatmap():
    sweep.axis1.value = Axis("A.price", 1.0, 1.4, 2)
    sweep.two.value = True
    sweep.axis2.value = Axis("trust_gain", 0.04, 0.12, 2)
    sweep.replicates.value, sweep.steps.value, sweep.customers.value = 1, 10, 200
    box, rc = render(sweep.Sweep())
    rc.find(v.Btn, class_="lsim-sweep-run").widget.click()
    st = sweep.job.value
    assert st.status == "done", st.error
    assert st.result.market.groupby(["A.price", "trust_gain"]).ngroups == 4
    fig = sweep.sweep_figure(st.result, "loyal_share", "en")
    assert fig.axes[0].images  # a heatmap
    assert _one(rc, v.Html, "lsim-sweep-figure").children


# ---- Learn ---------------------------------------------------------------------------------------
def test_learn_info_sections_in_both_languages():
    sections = info_sections()
    assert [s.key for s in sections][:6] == ["what", "how", "use", "notice", "try", "extending"]
    for s in sections:
        assert s.en and s.zh and s.title_en and s.title_zh
    how = next(s for s in sections if s.key == "how")
    for word in ("Cycle A", "Cycle B", "bottleneck", "switching costs", "programme", "word of mouth", "churn"):
        assert word.lower() in how.en.lower(), word
    for word in ("甲循环", "乙循环", "瓶颈", "转换成本", "忠诚计划", "口碑", "流失"):
        assert word in how.zh, word
    box, rc = render(learn.Learn())
    en = _text(_one(rc, v.Html, "lsim-learn-info-what"))
    assert "WHAT IS IT?" in en
    i18n.lang.value = "zh"
    zh = _text(_one(rc, v.Html, "lsim-learn-info-what"))
    assert "这是什么" in zh and zh != en


def test_info_parser_rejects_a_section_without_chinese():
    with pytest.raises(ValueError, match="zh"):
        parse_info("<!-- section: x -->\n## X · 甲\n\n<!-- en -->\ntext\n")


def test_glossary_has_30_terms_in_both_languages_and_real_model_names():
    terms = glossary_terms()
    assert len(terms) >= 30
    known = set(PARAMS) | set(MERCHANT_PARAMS) | set(METRICS) | set(MERCHANT_METRICS)
    for t in terms:
        assert t.en and t.zh and t.definition_en and t.definition_zh, t
        for n in t.names:
            assert n in known, (t.en, n)
    zh_terms = {t.zh for t in terms}
    for must in ("预期", "感知质量", "感知价值", "甲循环", "乙循环", "信任", "口碑", "客户份额", "容忍区间"):
        assert any(must in z for z in zh_terms), must
    learn.tab.value = 2
    box, rc = render(learn.Learn())
    table = _text(_one(rc, v.Html, "lsim-learn-glossary"))
    assert "Zone of tolerance" in table and "zone_of_tolerance</code> Zone of tolerance" in table
    learn.query.value = "hostage"
    table = _text(_one(rc, v.Html, "lsim-learn-glossary"))
    assert "Hostage" in table and "Zone of tolerance" not in table
    i18n.lang.value = "zh"
    assert "人质型客户" in _text(_one(rc, v.Html, "lsim-learn-glossary"))


def test_every_scenario_can_be_selected_on_learn():
    learn.tab.value = 1
    box, rc = render(learn.Learn())
    picker = _one(rc, v.Select, "lsim-learn-scenario")
    names = [i["value"] for i in picker.items]
    assert names == scenario_names() and len(names) >= 10
    for name in names:
        picker.v_model = name
        sc = load_scenario(name)
        shown = _text(_one(rc, v.Sheet, "lsim-learn-scenario-info"))
        assert sc.text("title", "en") in shown and sc.text("what", "en").strip()[:40] in shown, name
    i18n.lang.value = "zh"
    shown = _text(_one(rc, v.Sheet, "lsim-learn-scenario-info"))
    assert load_scenario(names[-1]).text("title", "zh") in shown


def test_validation_report_placeholder_or_embedded(tmp_path, monkeypatch):
    from sim.ui import learn_docs

    learn.tab.value = 3
    monkeypatch.setattr(learn_docs, "VALIDATION_MD", tmp_path / "validation.md")
    box, rc = render(learn.Learn())
    assert "loyalty-sim validate" in _text(_one(rc, v.Sheet, "lsim-learn-validation"))
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "f1.png").write_bytes(b"\x89PNG\r\n\x1a\nxx")
    (tmp_path / "validation.md").write_text("# Validation\n\n![F1](figures/f1.png)\n\n![remote](https://x.org/a.png) "
                                            "![gone](nope.png) ![outside](../secret.png)\n", encoding="utf-8")
    box, rc = render(learn.Learn())
    shown = _text(_one(rc, v.Sheet, "lsim-learn-validation"))
    assert "data:image/png;base64," in shown
    # a remote image would break the offline promise, a missing or outside one is not served:
    # embed_images leaves them alone, and the page shows their text instead
    text = (tmp_path / "validation.md").read_text(encoding="utf-8")
    assert "https://x.org/a.png" in learn_docs.embed_images(text, tmp_path)
    assert "https://x.org/a.png" not in shown and "nope.png" not in shown and "secret.png" not in shown
    assert all(w in shown for w in ("remote", "gone", "outside"))


_REPORT = ("# Validation\n\nintro\n\n## How to read\n\nrules\n\n## Summary\n\n| a |\n\n"
           "## 中文摘要\n\n中文表格\n\n## F1 — first\n\nbody\n")


def test_summary_first_moves_only_the_chinese_summary():
    from sim.ui.learn_docs import summary_first

    out = summary_first(_REPORT)
    heads = [line for line in out.split("\n") if line.startswith("## ")]
    assert heads == ["## 中文摘要", "## How to read", "## Summary", "## F1 — first"]
    assert out.startswith("# Validation\n\nintro\n\n## 中文摘要\n\n中文表格\n")
    assert sorted(filter(None, out.split("\n"))) == sorted(filter(None, _REPORT.split("\n")))  # nothing lost
    assert summary_first(out) == out  # already first
    no_zh = _REPORT.replace("## 中文摘要", "## Other")
    assert summary_first(no_zh) == no_zh


def test_validation_report_in_chinese_shows_the_chinese_summary_first(tmp_path, monkeypatch):
    from sim.ui import learn_docs

    learn.tab.value = 3
    (tmp_path / "validation.md").write_text(_REPORT, encoding="utf-8")
    monkeypatch.setattr(learn_docs, "VALIDATION_MD", tmp_path / "validation.md")
    box, rc = render(learn.Learn())
    shown = _text(_one(rc, v.Sheet, "lsim-learn-validation"))
    assert shown.index("How to read") < shown.index("中文摘要")
    i18n.lang.value = "zh"
    shown = _text(_one(rc, v.Sheet, "lsim-learn-validation"))
    # the tab opens on the Chinese summary; the English body is folded under a Chinese title
    opening = shown.split("完整报告（英文）")[0]
    assert "中文表格" in opening and "验证" in opening
    assert not any(w in opening for w in ("Validation", "intro", "How to read", "F1 — first"))


def _markdown_html(rc) -> str:
    """The HTML of every Markdown text rendered under ``rc``."""
    from ui_kit import all_widgets

    return "\n".join(w.unsafe_innerHTML for w in all_widgets(rc)
                     if "solara-markdown" in (getattr(w, "attributes", None) or {}).get("class", "").split())


def _dead_links(markup: str) -> list[str]:
    """Links of ``markup`` that go nowhere the app serves: a place on the page (``#id``) must exist in
    it; nothing else is served (web links are allowed, opened in a new tab; the Learn texts have none)."""
    ids = set(re.findall(r"""\bid=["']([^"']+)["']""", markup))
    dead = []
    for href in re.findall(r"""<a\b[^>]*\bhref=["']([^"']*)["']""", markup):
        if href.startswith("#") and href[1:] in ids:
            continue
        if re.match(r"https?://", href):
            continue
        dead.append(href)
    return dead


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_link_on_the_learn_tabs_goes_somewhere_the_app_serves(lang):
    """docs/ link to files of the repository (``../scenarios/validation/f11_bank.toml``), which the app
    does not serve: shown in the app they are text naming the path, not links to an error page."""
    from sim.ui import learn_docs

    assert learn_docs.VALIDATION_MD.is_file()
    source = learn_docs.VALIDATION_MD.read_text(encoding="utf-8")
    relative = re.findall(r"\]\((\.\./[^)]+|validation/facts)\)", source)
    assert relative  # the report links to the repository's files …
    i18n.lang.value = lang
    seen = 0
    for t in range(4):
        learn.tab.value = t
        box, rc = render(learn.Learn())
        if t == 1:  # every scenario's notes
            picker = _one(rc, v.Select, "lsim-learn-scenario")
            pages = []
            for name in [i["value"] for i in picker.items]:
                picker.v_model = name
                pages.append(_markdown_html(rc))
        else:
            pages = [_markdown_html(rc)]
        for markup in pages:
            assert _dead_links(markup) == [], (t, _dead_links(markup))
            seen += len(markup)
        if t == 3 and lang == "en":  # … and the page names those files as text
            markup = pages[0]
            assert "<code>scenarios/validation/f11_bank.toml</code>" in markup
            assert "<code>scenarios/validation/</code>" in markup
            assert '<a href="#f6">' in markup and 'id="f6"' in markup  # places on the page stay links
    assert seen > 10_000
