"""中文 everywhere, and the app's own words (component tests, no browser).

- scenario notes: one source (``scenarios/*.toml``, command-line syntax and code names) gives the
  command line's form and the app's form (:mod:`sim.ui.notes`); the app's form names the controls as
  the app labels them, in the current language, and keeps the command line in its own small line;
- the hints under the sliders (range and unit), the loyalty-programme hint: Chinese in 中文;
- notices made before switching language are shown in the new language;
- shares are percentages on Compare and Sweep, as on Explore (one formatter).
"""

from __future__ import annotations

import re

import ipyvuetify as v
import pytest

import solara.server.starlette  # noqa: F401  (reactive values scoped per virtual kernel)
import solara
from solara.server import kernel, kernel_context

from sim.analysis.formatting import interval_text, percent_text
from sim.analysis.tables import difference_texts, mean_texts
from sim.inputs.scenario import INFO_SECTIONS, load_scenario, scenario_names
from sim.params import GROUPS, MERCHANT_PARAMS, PARAMS
from sim.ui import explore, i18n, state
from sim.ui.notes import CODE_NAME, RUN_CONTROLS, app_line, app_markdown, control_path
from ui_kit import virtual_session

#: Latin words a Chinese page may show: names kept on purpose (units, file types, merchant letters)
ALLOWED = {"EN", "NPS", "CSV", "PNG", "TOML", "KB", "loyalty-sim", "toml"}
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]")

@pytest.fixture
def ctx():
    with virtual_session("test-words") as c:
        yield c


def english_words(text: str, allowed: set[str] = frozenset()) -> list[str]:
    return [w for w in LATIN_WORD.findall(text) if w not in ALLOWED and w not in allowed]


# ---- scenario notes -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", scenario_names())
def test_scenario_notes_name_the_apps_controls_beside_the_command_line(name):
    sc = load_scenario(name)
    merchants = {m.name for m in sc.params.merchants}
    n_cli = 0
    for lang in ("en", "zh"):
        for sec in INFO_SECTIONS[1:]:
            source = sc.text(sec, lang)
            for line in source.split("\n"):
                shown, cli = app_line(line, lang)
                where = f"{name} [{sec}] {lang}: {shown!r}"
                # the app's form: no command-line syntax, no code names
                assert "--" not in shown and not re.search(r"\b[\w.]+=\S", shown), where
                left = [c for c in CODE_NAME.findall(shown)]
                assert not left, f"{where}: code names left {left}"
                if lang == "zh":
                    assert not english_words(shown, merchants), f"{where}: {english_words(shown, merchants)}"
                # every setting kept in its command-line form, and named by real controls
                bare = re.findall(r"(?<![\w.-])[A-Z]\w*\.[a-z_]+=", re.sub(r"--set\s+\S+", "", line))
                assert len(cli) == line.count("--set ") + len(bare), where
                for form in cli:
                    key, value = form.removeprefix("--set ").split("=", 1)
                    path = control_path(key, lang)
                    assert path is not None and f"{path} = " in shown, (where, form)
                    parts = path.split(" → ")
                    if key in RUN_CONTROLS:
                        assert parts == [RUN_CONTROLS[key][lang == "zh"]]
                    elif "." in key:
                        merchant, field = key.split(".", 1)
                        assert merchant in merchants, (where, form)
                        assert parts == [i18n.pick(f"Merchant {merchant}", f"商家 {merchant}", lang),
                                         MERCHANT_PARAMS[field].label(lang)]
                    else:
                        p = PARAMS[key]
                        assert parts == [i18n.pick("Market", "市场", lang), GROUPS[p.group][lang == "zh"], p.label(lang)]
                n_cli += len(cli)
            md = app_markdown(source, lang)
            assert md.count('class="lsim-cli"') == sum(bool(app_line(x, lang)[1]) for x in source.split("\n"))
    if name in ("baseline", "price_war"):
        assert n_cli >= 4  # these notes suggest settings to try


def test_a_note_in_both_forms():
    line = "- --set C.quality=0.65 --set trust_loss=0.6: cheaper, and loyal_share falls."
    en, cli = app_line(line, "en")
    trust_loss = PARAMS["trust_loss"]
    assert en == (f"- Merchant C → Service quality = 0.65, Market → {GROUPS[trust_loss.group][0]} → "
                  f"{trust_loss.label('en')} = 0.6: cheaper, and Loyal share falls.")
    assert cli == ["--set C.quality=0.65", "--set trust_loss=0.6"]
    zh, _ = app_line("- --set C.quality=0.65：更便宜，loyal_share 下降。", "zh")
    assert zh == "- 商家 C → 服务质量 = 0.65：更便宜，忠诚客户占比下降。"
    md = app_markdown(line, "zh")
    assert '<small class="lsim-cli">命令行： <code>--set C.quality=0.65</code>' in md


def echoes(text: str) -> list[str]:
    """Terms repeated in brackets right after themselves: ``X（X）``, ``X (X)``."""
    out = []
    for m in re.finditer(r"[（(]([^（）()\n]+)[）)]", text):
        inner = m.group(1).strip()
        if inner and text[:m.start()].rstrip().lower().endswith(inner.lower()):
            out.append(text[max(0, m.start() - len(inner)):m.end()])
    return out


def _notes_files() -> list:
    """Every scenario file with notes: the named ones and the validation markets (anyone may upload one)."""
    from pathlib import Path

    from sim.inputs.scenario import ScenarioError

    root = Path(__file__).resolve().parents[1] / "scenarios"
    out = []
    for f in sorted(root.rglob("*.toml")):
        try:
            out.append(load_scenario(str(f)))
        except ScenarioError:  # an experiment or calibration file: not a scenario
            pass
    return out


def test_no_note_repeats_a_term_in_brackets():
    """The notes write a quantity for both readers, ``忠诚客户占比（loyal_share）`` or
    ``complaints（投诉）``; the app shows the code name as its label, and must not read
    ``忠诚客户占比（忠诚客户占比）``."""
    scenarios = _notes_files()
    assert len(scenarios) > len(scenario_names())
    found = []
    for sc in scenarios:
        for lang in ("en", "zh"):
            for sec in INFO_SECTIONS[1:]:
                found += [(sc.source, lang, sec, e) for e in echoes(app_markdown(sc.text(sec, lang), lang))]
    assert found == []
    notice = app_markdown(load_scenario("baseline").text("notice", "zh"), "zh")
    assert "忠诚客户占比大约半年内" in notice and "信任客户占比先上升" in notice


def test_a_code_name_beside_its_own_label_is_shown_once():
    assert app_line("- 忠诚客户占比（loyal_share）上升。", "zh")[0] == "- 忠诚客户占比上升。"
    assert app_line("比较 dissatisfied（不满购买）与 complaints（投诉）。", "zh")[0] == \
        "比较不满（不满购买）与投诉。"
    assert app_line("Loyal share (loyal_share) rises, trusting_share (Trusting share) too.", "en")[0] == \
        "Loyal share rises, Trusting share too."
    # a name the app does not replace stays as written
    assert app_line("忠诚客户占比（`loyal_share`）", "zh")[0] == "忠诚客户占比（`loyal_share`）"
    assert app_line("利润（profit）", "en")[0] == "利润（profit）"


# ---- the Explore page in 中文 -------------------------------------------------------------------
def _param_hints(rc) -> list[str]:
    """The small grey line under every control: range, unit, notes."""
    from test_ui_explore import all_widgets

    out = []
    for w in all_widgets(rc):
        style = getattr(w, "style_", "") or ""
        if "0.78em" in style and w.children and isinstance(w.children[0], str):
            out.append(w.children[0])
    return out


def test_slider_hints_and_the_programme_hint_are_chinese(ctx):
    from test_ui_explore import open_panels

    box, rc = solara.render(explore.Explore(), handle_error=False)
    i18n.lang.value = "zh"
    hints = []
    for i, group in enumerate([g for g in GROUPS if any(p.group == g for p in PARAMS.values())]):
        open_panels(rc, f"lsim-group-{group}", i)
        hints += _param_hints(rc)
    open_panels(rc, "lsim-merchant-A", 0)
    merchant_hints = _param_hints(rc)
    hints += merchant_hints
    assert len(hints) >= len(PARAMS) // 2
    bad = [h for h in hints if english_words(h)]
    assert not bad, bad
    programme = [h for h in merchant_hints if "无忠诚计划" in h]
    assert programme and "none" not in programme[0]  # the choices as the list shows them
    assert any("（概率）" in h or "（比例）" in h for h in hints)  # units in Chinese


def test_notices_switch_language_with_the_page(ctx):
    from test_ui_explore import control, one, open_panels, texts

    box, rc = solara.render(explore.Explore(), handle_error=False)
    one(rc, "lsim-reset", v.Btn).click()
    assert "Reset: week 0, seed 1." in texts(rc)
    i18n.lang.value = "zh"
    shown = texts(rc)
    assert "已重置：第 0 周，随机种子 1。" in shown and "Reset: week 0" not in shown
    # a change made in Chinese reads in English after switching back
    sess = state.session.value
    for _ in range(2):
        one(rc, "lsim-step", v.Btn).click()
    open_panels(rc, "lsim-merchant-A", 0)
    control(rc, "A-price", v.Slider).fire_event("change", 1.3)
    assert "第 2 周：A：价格 → 1.3" in texts(rc)
    i18n.lang.value = "en"
    assert "Week 2: A: Price → 1.3 (marked on the plots)." in texts(rc)
    assert sess.steps == 2


# ---- shares as percentages -----------------------------------------------------------------------
def test_shares_are_percentages_everywhere():
    import pandas as pd

    assert percent_text(0.4213, 1) == "42.1%"  # the Explore page's key numbers
    assert interval_text(0.4213, 0.403, 0.44, percent=True) == "42.1% [40.3%, 44.0%]"
    assert interval_text(0.012, -0.003, 0.027, sign=True, percent=True) == "+1.2% [-0.3%, 2.7%]"
    summary = pd.DataFrame([{"metric": "loyal_share", "label": "a", "mean": 0.5, "ci_low": 0.45, "ci_high": 0.55},
                            {"metric": "active", "label": "a", "mean": 1800.0, "ci_low": 1790.0, "ci_high": 1810.0}])
    assert mean_texts(summary, "loyal_share", ["a"]) == {"a": "50.0% [45.0%, 55.0%]"}  # Compare's table
    assert "%" not in mean_texts(summary, "active", ["a"])["a"]
    diffs = pd.DataFrame([{"metric": "churn_rate", "label": "b", "diff": -0.004, "ci_low": -0.006, "ci_high": -0.002,
                           "significant": True}])
    assert difference_texts(diffs, "churn_rate", ["b"]) == {"b": ("-0.4% [-0.6%, -0.2%]", True)}


def test_share_axes_are_in_percent_on_the_compare_and_sweep_figures():
    import pandas as pd
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from sim.analysis.figures import plot_timeseries, plot_vs_param

    market = pd.DataFrame([{"label": "a", "run": r, "replicate": r, "step": s, "trust_gain": g,
                            "loyal_share": 0.1 * s + 0.01 * r + g, "active": 100 + s}
                           for r in range(3) for s in range(4) for g in (0.05, 0.1)])
    for fig in (plot_timeseries(market, "loyal_share"), plot_vs_param(market, "loyal_share", "trust_gain")):
        FigureCanvasAgg(fig).draw()
        ticks = [t.get_text() for t in fig.axes[0].get_yticklabels() if t.get_text()]
        assert ticks and all(t.endswith("%") for t in ticks), ticks
    fig = plot_timeseries(market, "active")
    FigureCanvasAgg(fig).draw()
    assert not any(t.get_text().endswith("%") for t in fig.axes[0].get_yticklabels())


def test_an_upload_message_is_kept_in_both_languages():
    import io

    from sim.ui.files import handle_upload

    bad = b"[params]\nn_customers = -5\n"
    err, ok = handle_upload({"name": "bad.toml", "size": len(bad), "file_obj": io.BytesIO(bad), "data": None},
                            lambda sc: None)
    assert ok == "" and isinstance(err, tuple) and "n_customers" in err[0] and re.search(r"[\u4e00-\u9fff]", err[1])
    with kernel_context.VirtualKernelContext(id="test-words-upload", kernel=kernel.Kernel(), session_id="s-upload"):
        i18n.lang.value = "zh"
        assert i18n.shown(err) == err[1]
        i18n.lang.value = "en"
        assert i18n.shown(err) == err[0]
