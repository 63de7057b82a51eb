"""sim/analysis/: summaries, differences, sensitivity indices, figures and written reports.

Small realistic tables come from real runs (300 customers, 20 steps) arranged the way a results
folder holds them; sensitivity indices are checked on a synthetic output of a known function.
"""

from __future__ import annotations

import io
import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib import font_manager as fm
from matplotlib.figure import Figure
from scipy import stats

from sim import Params, simulate
from sim import analysis
from sim.analysis import fonts
from sim.words import WORDS
from sim.metrics import MERCHANT_METRICS, METRICS
from sim.params import MERCHANT_PARAMS, PARAMS

STEPS = 20
HEAD = ["loyal_share", "churn_rate", "satisfaction", "trust", "profit"]
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


# ------------------------------------------------------------------ fixtures: results-folder tables

def _params(values: dict, n_customers: int = 300) -> Params:
    p = Params(n_customers=n_customers, network_degree=4, trust_gain=0.3, loyalty_min_passes=2)
    market = {k: v for k, v in values.items() if "." not in k}
    merch = {}
    for k, v in values.items():
        if "." in k:
            who, field = k.split(".", 1)
            merch.setdefault(who, {})[field] = v
    ms = tuple(m.replace(**merch.get(m.name, {})) for m in p.merchants)
    return p.replace(merchants=ms, **market)


def results_tables(configs, replicates=3, steps=STEPS, measure="every"):
    """Run each (label, values) configuration ``replicates`` times and arrange market and merchant
    tables as a results folder holds them (id columns, varied params, step, observables)."""
    varied = list(dict.fromkeys(k for _, values in configs for k in values))
    markets, merchants, points = [], [], []
    run_id = 0
    for point, (label, values) in enumerate(configs):
        points.append({"point": point, "label": label, "values": dict(values)})
        for rep in range(replicates):
            seed = 101 * point + rep
            r = simulate(_params(values), seed=seed, steps=steps)
            ids = {"run_id": run_id, "point": point, "label": label, "replicate": rep, "seed": seed,
                   **{k: values.get(k, np.nan) for k in varied}}
            m = r.metrics.reset_index()
            m = m.assign(**ids)[[*ids, "step", *[c for c in m.columns if c in METRICS]]]
            mm = r.merchants.assign(**ids)
            mm = mm[[*ids, "step", "merchant", *[c for c in mm.columns if c in MERCHANT_METRICS]]]
            if measure == "end":
                m, mm = m[m.step == m.step.max()], mm[mm.step == mm.step.max()]
            markets.append(m)
            merchants.append(mm)
            run_id += 1
    manifest = {"kind": "sweep" if varied else "run", "design": "factorial" if varied else "single",
                "varied": [{"name": v} for v in varied], "points": points, "replicates": replicates,
                "steps": steps, "metrics": [c for c in markets[0].columns if c in METRICS], "measure": measure}
    return manifest, pd.concat(markets, ignore_index=True), pd.concat(merchants, ignore_index=True)


@pytest.fixture(scope="module")
def two_labels():
    manifest, market, merchants = results_tables([("baseline", {}), ("dear A", {"A.price": 1.6})])
    manifest.update(kind="compare", design="single", varied=[])
    return manifest, market.drop(columns=["A.price"]), merchants.drop(columns=["A.price"])


@pytest.fixture(scope="module")
def one_param():
    return results_tables([(f"price_sensitivity={v}", {"price_sensitivity": v}) for v in (0.2, 0.6, 1.0)],
                          replicates=2)


@pytest.fixture(scope="module")
def two_params():
    return results_tables([(f"A.price={a}, trust_gain={t}", {"A.price": a, "trust_gain": t})
                           for a in (0.9, 1.4) for t in (0.1, 0.4)], replicates=2)


@pytest.fixture(scope="module")
def single_run():
    return results_tables([("baseline", {})], replicates=2)


def synthetic_sa(design: str):
    """A SALib sample over x1 = price_sensitivity, x2 = trust_gain, Y = 3·x1 + 0.1·x2 as 'loyal_share'."""
    problem = {"num_vars": 2, "names": ["price_sensitivity", "A.price"], "bounds": [[0.0, 1.0], [0.0, 1.0]]}
    if design == "sobol":
        from SALib.sample import sobol

        x = sobol.sample(problem, 64, calc_second_order=False, seed=3)
        extra = {"sobol": {"calc_second_order": False}}
    else:
        from SALib.sample import morris

        x = morris.sample(problem, 12, num_levels=4, seed=3)
        extra = {"morris": {"num_levels": 4}}
    points = [{"point": i, "label": f"point {i}", "values": dict(zip(problem["names"], map(float, row)))}
              for i, row in enumerate(x)]
    rows = []
    for i, row in enumerate(x):
        for rep in range(2):  # replicates agree: Y is deterministic
            rows.append({"run_id": 2 * i + rep, "point": i, "label": f"point {i}", "replicate": rep, "seed": rep,
                         "price_sensitivity": row[0], "A.price": row[1], "step": 10,
                         "loyal_share": 3 * row[0] + 0.1 * row[1], "trust": 0.5})
    manifest = {"kind": "sweep", "design": design, "varied": [{"name": n} for n in problem["names"]],
                "problem": problem, "points": points, "replicates": 2, "steps": 10,
                "metrics": ["loyal_share", "trust"], "measure": "end", **extra}
    return manifest, pd.DataFrame(rows)


# ------------------------------------------------------------------ statistics

def test_ci95_matches_scipy_t_interval():
    x = [0.2, 0.35, 0.31, np.nan, 0.28]
    mean, lo, hi = analysis.ci95(x)
    clean = [v for v in x if not np.isnan(v)]
    slo, shi = stats.t.interval(0.95, len(clean) - 1, loc=np.mean(clean), scale=stats.sem(clean))
    assert mean == pytest.approx(np.mean(clean))
    assert (lo, hi) == pytest.approx((slo, shi))
    m, lo, hi = analysis.ci95([0.4])  # one replicate: a mean, no interval
    assert m == 0.4 and np.isnan(lo) and np.isnan(hi)
    assert all(np.isnan(analysis.ci95([np.nan])))


def test_final_rows_and_summarize(two_labels):
    _, market, _ = two_labels
    fin = analysis.final_rows(market)
    assert len(fin) == 6 and (fin["step"] == STEPS).all() and list(fin["run_id"]) == list(range(6))
    s = analysis.summarize(market, ["trust", "loyal_share"])
    assert list(s.columns[:6]) == ["label", "metric", "n", "mean", "ci_low", "ci_high"]
    assert list(zip(s["label"], s["metric"])) == [("baseline", "trust"), ("baseline", "loyal_share"),
                                                  ("dear A", "trust"), ("dear A", "loyal_share")]
    assert (s["n"] == 3).all()
    base_trust = fin.loc[fin.label == "baseline", "trust"]
    assert tuple(s.iloc[0][["mean", "ci_low", "ci_high"]]) == pytest.approx(analysis.ci95(base_trust))
    # window: each run's mean over its last k steps
    w = analysis.summarize(market, ["churn_rate"], window=5)
    last5 = market[market.step > STEPS - 5].groupby("run_id")["churn_rate"].mean()
    assert w.iloc[0]["mean"] == pytest.approx(last5.iloc[:3].mean())
    with pytest.raises(ValueError, match="no column 'nope'"):
        analysis.summarize(market, ["nope"])


def test_summarize_mixed_levels_at_the_end_flows_over_the_last_steps(two_labels):
    """The one mixed summary of the reports, the app's pages and the CLI: levels at each run's final
    step, flows (declared by sim.metrics) each run's mean over its last FLOW_WINDOW steps."""
    from sim.analysis.stats import FLOW_WINDOW, flow_metrics, summarize_mixed, window_for

    _, market, merchants = two_labels
    assert flow_metrics(["loyal_share", "churn_rate", "profit", "trust"]) == ["churn_rate", "profit"]
    assert window_for("churn_rate") == FLOW_WINDOW and window_for("churn_rate", every=False) is None
    assert window_for("trust") is None
    s = analysis.summarize_mixed(market, ["churn_rate", "trust"], ["label"])
    assert list(zip(s["label"], s["metric"])) == [("baseline", "churn_rate"), ("baseline", "trust"),
                                                  ("dear A", "churn_rate"), ("dear A", "trust")]
    level = analysis.summarize(market, ["trust"])
    flow = analysis.summarize(market, ["churn_rate"], window=FLOW_WINDOW)
    assert s.set_index(["label", "metric"]).loc[("dear A", "trust"), "mean"] == level.iloc[1]["mean"]
    assert s.set_index(["label", "metric"]).loc[("dear A", "churn_rate"), "mean"] == flow.iloc[1]["mean"]
    at_end = summarize_mixed(market, ["churn_rate"], ["label"], every=False)  # measured at the end only
    assert at_end["mean"].tolist() == analysis.summarize(market, ["churn_rate"])["mean"].tolist()
    m = summarize_mixed(merchants, ["profit", "market_share"], ["label"], merchant=True)
    assert m.iloc[0]["mean"] == analysis.summarize_merchants(merchants, ["profit"], window=FLOW_WINDOW).iloc[0]["mean"]


def test_summarize_merchants(two_labels):
    _, _, merchants = two_labels
    s = analysis.summarize_merchants(merchants, ["loyal_share", "market_share"])
    assert list(s.columns[:4]) == ["label", "merchant", "metric", "n"]
    assert len(s) == 2 * 3 * 2 and (s["n"] == 3).all()
    shares = s[(s.metric == "market_share")].groupby("label")["mean"].sum()
    assert shares.to_numpy() == pytest.approx([1.0, 1.0], abs=1e-6)


def test_differences_sign_and_interval(two_labels):
    _, market, _ = two_labels
    s = analysis.summarize(market, ["trust"])
    d = analysis.differences(s, "baseline")
    assert list(d["label"]) == ["dear A"]
    row = d.iloc[0]
    assert row["diff"] == pytest.approx(row["mean"] - row["baseline_mean"])
    assert row["ci_low"] <= row["diff"] <= row["ci_high"]
    h = stats.t.ppf(0.975, 4) * 0.1 / np.sqrt(5)
    fake = pd.DataFrame({"label": ["a", "b"], "metric": ["m", "m"], "n": [5, 5], "mean": [1.0, 3.0],
                         "ci_low": [1.0 - h, 3.0 - h], "ci_high": [1.0 + h, 3.0 + h], "sd": [0.1, 0.1]})
    d = analysis.differences(fake, "a")
    assert d.iloc[0]["diff"] == pytest.approx(2.0) and d.iloc[0]["ci_low"] > 0 and d.iloc[0]["significant"]
    d = analysis.differences(fake, "b")
    assert d.iloc[0]["diff"] == pytest.approx(-2.0) and d.iloc[0]["ci_high"] < 0
    # without the sd column the same interval is recovered from the CI
    d2 = analysis.differences(fake.drop(columns="sd"), "b")
    assert d2.iloc[0]["ci_low"] == pytest.approx(d.iloc[0]["ci_low"], rel=1e-6)
    with pytest.raises(ValueError, match="not among"):
        analysis.differences(fake, "zzz")


@pytest.mark.parametrize("design", ["sobol", "morris"])
def test_sensitivity_ranks_the_influential_parameter_first(design):
    manifest, market = synthetic_sa(design)
    t = analysis.sensitivity(manifest, market, ["loyal_share", "trust"])
    ls = t[t.metric == "loyal_share"].set_index("parameter")
    if design == "sobol":
        assert list(t.columns) == ["metric", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
        assert ls.loc["price_sensitivity", "S1"] > 0.9 and ls.loc["A.price", "S1"] < 0.05
        assert ls.loc["price_sensitivity", "ST"] > 20 * ls.loc["A.price", "ST"]
    else:
        assert {"mu_star", "mu_star_conf", "sigma"} <= set(t.columns)
        assert ls.loc["price_sensitivity", "mu_star"] == pytest.approx(3.0)
        assert ls.loc["A.price", "mu_star"] == pytest.approx(0.1)
    # an output that does not vary has undefined indices, not an error
    assert t[t.metric == "trust"].iloc[:, 2:].isna().all().all()


@pytest.mark.parametrize("design", ["sobol", "morris"])
def test_sensitivity_intervals_are_reproducible(design):
    """The bootstrap intervals come from a fixed seed: the same results give the same table, whatever
    numpy's global random state (SALib's Sobol analysis ignores a seed of 0)."""
    manifest, market = synthetic_sa(design)
    np.random.seed(1)
    a = analysis.sensitivity(manifest, market, ["loyal_share"])
    np.random.seed(2)
    b = analysis.sensitivity(manifest, market, ["loyal_share"])
    pd.testing.assert_frame_equal(a, b)


def test_sensitivity_refuses_other_designs_and_incomplete_samples(one_param):
    manifest, market, _ = one_param
    with pytest.raises(ValueError, match="Sobol or Morris design.*'factorial'"):
        analysis.sensitivity(manifest, market, ["trust"])
    manifest, market = synthetic_sa("sobol")
    with pytest.raises(ValueError, match="design points have no value"):
        analysis.sensitivity(manifest, market[market.point != 5], ["loyal_share"])


# ------------------------------------------------------------------ figures

def _texts(fig: Figure):
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_text()]


def assert_renders_cjk(fig: Figure):
    """Every Chinese character in the figure resolves to a font that has its glyph, and rendering
    warns about no missing glyph."""
    cjk_texts = [t for t in _texts(fig) if CJK.search(t.get_text())]
    assert cjk_texts, "no Chinese text in the figure"
    for t in cjk_texts:
        paths = fm.fontManager._find_fonts_by_props(t.get_fontproperties())
        fonts = [fm.get_font(p) for p in paths]
        for ch in set(CJK.findall(t.get_text())):
            assert any(f.get_char_index(ord(ch)) for f in fonts), (ch, t.get_text(), [f.family_name for f in fonts])
        assert any(f.family_name == analysis.use_cjk_font() for f in fonts)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*[Gg]lyph.*missing.*")
        fig.savefig(io.BytesIO(), format="png", dpi=50)


def test_cjk_font_is_shipped_in_a_package_and_registered():
    family = analysis.use_cjk_font()
    assert family  # the project's dependency ships one
    path = fm.findfont(fm.FontProperties(family=family), fallback_to_default=False)
    assert "site-packages" in path and fm.get_font(path).get_char_index(ord("忠"))
    assert analysis.use_cjk_font() == family  # idempotent


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_plot_timeseries_labels(two_labels, lang):
    _, market, _ = two_labels
    fig = analysis.plot_timeseries(market, "loyal_share", lang=lang, interventions=[(10, "price ↑")])
    ax = fig.axes[0]
    assert isinstance(fig, Figure)
    assert ax.get_xlabel() == WORDS["step"][lang == "zh"]
    assert ax.get_ylabel() == METRICS["loyal_share"].label(lang)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["baseline", "dear A"]
    assert len(ax.collections) >= 2  # one band per label
    assert any(line.get_linestyle() == "--" for line in ax.lines)  # the intervention
    if lang == "zh":
        assert_renders_cjk(fig)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_plot_vs_param_and_heatmap_labels(one_param, two_params, lang):
    _, market, _ = one_param
    fig = analysis.plot_vs_param(market, "trust", "price_sensitivity", lang=lang)
    ax = fig.axes[0]
    assert ax.get_xlabel() == PARAMS["price_sensitivity"].label(lang)
    assert ax.get_ylabel() == METRICS["trust"].label(lang)
    _, market2, _ = two_params
    fig2 = analysis.plot_heatmap(market2, "trust", "A.price", "trust_gain", lang=lang)
    ax2 = fig2.axes[0]
    sep = "：" if lang == "zh" else ": "
    assert ax2.get_xlabel() == "A" + sep + MERCHANT_PARAMS["price"].label(lang)
    assert ax2.get_ylabel() == PARAMS["trust_gain"].label(lang)
    assert fig2.axes[1].get_ylabel() == METRICS["trust"].label(lang)  # colour bar
    assert len(ax2.texts) == 4  # 2 × 2 cells annotated
    assert not any(t.get_text().endswith("%") for t in ax2.texts)  # trust is not a share
    # a share: its colour bar and cells in percent, as the tables and the Explore page show shares
    fig3 = analysis.plot_heatmap(market2, "loyal_share", "A.price", "trust_gain", lang=lang)
    fig3.canvas.draw()
    assert all(t.get_text().endswith("%") for t in fig3.axes[0].texts)
    ticks = [t.get_text() for t in fig3.axes[1].get_yticklabels() if t.get_text()]
    assert ticks and all(t.endswith("%") for t in ticks), ticks
    # a narrow range of shares (0.2%–0.4% churn): the ticks differ, none of them a bare "0%"
    narrow = market2.assign(churn_rate=0.002 + 0.002 * (market2["run_id"] % 3) / 2)
    fig4 = analysis.plot_heatmap(narrow, "churn_rate", "A.price", "trust_gain", lang=lang)
    fig4.canvas.draw()
    ticks = [t.get_text() for t in fig4.axes[1].get_yticklabels() if t.get_text()]
    assert len(ticks) >= 2 and len(set(ticks)) == len(ticks) and "0%" not in ticks, ticks
    if lang == "zh":
        assert_renders_cjk(fig)
        assert_renders_cjk(fig2)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_plot_merchants_and_sensitivity_labels(two_labels, lang):
    _, _, merchants = two_labels
    fig = analysis.plot_merchants(merchants, "loyal_share", lang=lang)
    assert len(fig.axes) == 2  # one panel per label
    assert fig.axes[0].get_ylabel() == MERCHANT_METRICS["loyal_share"].label(lang)
    assert fig.axes[0].get_xlabel() == WORDS["step"][lang == "zh"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["A", "B", "C"]
    fig_m = analysis.plot_merchants(merchants, "loyal_share", lang=lang, by="merchant")
    assert len(fig_m.axes) == 3  # one panel per merchant
    manifest, market = synthetic_sa("sobol")
    t = analysis.sensitivity(manifest, market, ["loyal_share"])
    fig2 = analysis.plot_sensitivity(t, "loyal_share", lang=lang)
    ax = fig2.axes[0]
    assert ax.get_ylabel() == WORDS["parameter"][lang == "zh"]
    assert ax.get_xlabel() == WORDS["sobol_axis"][lang == "zh"]
    ticks = [x.get_text() for x in ax.get_yticklabels()]
    assert ticks[-1] == PARAMS["price_sensitivity"].label(lang)  # most important on top
    if lang == "zh":
        assert_renders_cjk(fig)
        assert_renders_cjk(fig2)


def test_save_figure_writes_png_and_svg(tmp_path, two_labels):
    _, market, _ = two_labels
    fig = analysis.plot_timeseries(market, "trust", lang="zh")
    paths = analysis.save_figure(fig, tmp_path / "figs", "trust")
    assert [p.name for p in paths] == ["trust.png", "trust.svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths[0].stat().st_size > 5000
    assert b"<svg" in paths[1].read_bytes()[:500] and paths[1].stat().st_size > 5000


# ------------------------------------------------------------------ written reports

def _assert_written(a, out):
    assert (out / "summary.csv").exists() and (out / "summary.md").exists()
    assert a.figures and all(p.exists() and p.stat().st_size > 0 for p in a.figures)
    for p in a.figures:
        if p.suffix == ".png":
            assert f"]({p.relative_to(out).as_posix()})" in a.markdown
    assert (out / "summary.md").read_text(encoding="utf-8") == a.markdown


def test_analyze_one_parameter_sweep(tmp_path, one_param):
    manifest, market, merchants = one_param
    a = analysis.analyze(manifest, market, merchants, tmp_path, metrics=["loyal_share", "churn_rate"])
    _assert_written(a, tmp_path)
    names = {p.name for p in a.figures}
    assert {"loyal_share_vs_price_sensitivity.png", "timeseries_churn_rate.png"} <= names
    csv = pd.read_csv(tmp_path / "summary.csv")
    assert {"Observable", "Name", "Mean", "95% low", "95% high", "Price sensitivity"} <= set(csv.columns)
    assert len(csv) == 3 * 2
    assert "Price sensitivity" in a.markdown and "last 13 steps" in a.markdown


def test_analyze_two_parameter_sweep_draws_heatmaps_in_chinese(tmp_path, two_params):
    manifest, market, merchants = two_params
    a = analysis.analyze(manifest, market, merchants, tmp_path, metrics=["trust", "profit"], lang="zh")
    _assert_written(a, tmp_path)
    names = {p.name for p in a.figures}
    assert {"heatmap_trust.png", "heatmap_trust.svg", "heatmap_profit.png"} <= names
    csv = pd.read_csv(tmp_path / "summary.csv")
    assert {"指标", "均值", "95% 下限", "95% 上限", "A：价格", "信任增长"} <= set(csv.columns)
    assert "平均信任" in a.markdown and "## 汇总" in a.markdown


def test_analyze_a_single_run_with_default_metrics(tmp_path, single_run):
    manifest, market, merchants = single_run
    a = analysis.analyze(manifest, market, merchants, tmp_path)
    _assert_written(a, tmp_path)
    assert list(dict.fromkeys(a.tables["summary"]["metric"])) == [
        "loyal_share", "churn_rate", "value_churn_rate", "satisfaction", "trust", "nps", "profit"]
    names = {p.name for p in a.figures}
    assert {"timeseries_loyal_share.png", "timeseries_nps.png", "merchants_loyal_share.png"} <= names
    assert (tmp_path / "merchants_summary.csv").exists()
    assert not (tmp_path / "sensitivity.csv").exists()


def test_analyze_sobol_writes_sensitivity(tmp_path):
    manifest, market = synthetic_sa("sobol")
    a = analysis.analyze(manifest, market, None, tmp_path)
    assert (tmp_path / "sensitivity.csv").exists()
    assert {p.name for p in a.figures} >= {"sensitivity_loyal_share.png", "scatter_loyal_share.png"}
    assert "sensitivity_trust.png" not in {p.name for p in a.figures}  # constant output: no bars
    assert len(a.tables["sensitivity"]) == 4
    json.dumps(manifest)  # the synthetic manifest is what a manifest.json holds


def test_compare_writes_overlays_and_differences(tmp_path, two_labels):
    manifest, market, merchants = two_labels
    a = analysis.compare(manifest, market, merchants, tmp_path, metrics=["loyal_share", "trust", "churn_rate"])
    _assert_written(a, tmp_path)
    names = {p.name for p in a.figures}
    assert {"timeseries_loyal_share.png", "timeseries_trust.png", "timeseries_churn_rate.png",
            "merchants_loyal_share.png", "merchants_loyal_share.svg"} <= names
    d = pd.read_csv(tmp_path / "differences.csv")
    assert len(d) == 3 and set(d["Configuration"]) == {"dear A"}
    assert set(a.tables["differences"]["baseline"]) == {"baseline"}
    side = a.tables["side_by_side"]
    assert list(side.columns[:4]) == ["metric", "baseline: Mean", "baseline: 95% low", "baseline: 95% high"]
    assert "Differences from the baseline “baseline”" in a.markdown
    # analyze hands a comparison to compare; another baseline flips the differences' sign
    b = analysis.analyze(manifest, market, merchants, tmp_path / "zh", metrics=["trust"], lang="zh")
    assert "与基线" in b.markdown
    c = analysis.compare(manifest, market, merchants, tmp_path / "b", metrics=["trust"], baseline="dear A")
    assert c.tables["differences"].iloc[0]["diff"] == pytest.approx(-a.tables["differences"].query(
        "metric == 'trust'").iloc[0]["diff"])


def test_use_cjk_font_without_a_font_package_falls_back_quietly(monkeypatch):
    import matplotlib as mpl

    monkeypatch.setitem(mpl.rcParams, "font.family", list(mpl.rcParams["font.family"]))
    monkeypatch.setattr(fonts, "FONT_PACKAGES", ())
    fonts.forget_cjk_font()
    monkeypatch.setattr(fm.fontManager, "ttflist", [f for f in fm.fontManager.ttflist
                                                    if f.name not in fonts.SYSTEM_CJK_FAMILIES])
    assert fonts.use_cjk_font() is None  # no system CJK font here: English still works
    monkeypatch.setattr(fm.fontManager, "ttflist", fm.fontManager.ttflist + [
        fm.FontEntry(fname="/nonexistent/NotoSansCJK.ttc", name="Noto Sans CJK SC")])
    fonts.forget_cjk_font()
    assert fonts.use_cjk_font() == "Noto Sans CJK SC"  # a system font is used when present
    fonts.forget_cjk_font()  # the next figure looks for the shipped font again


# ------------------------------------------------------------------ numbers, tables and languages

def test_one_number_formatter():
    from sim.analysis.formatting import interval_text, number_text, percent_text, setting_text, value_text

    assert interval_text(0.41234, 0.40112, 0.42351) == "0.4123 [0.4011, 0.4235]"
    assert interval_text(0.0, -0.012, 0.013) == "0.00000 [-0.01200, 0.01300]"  # decimals from the interval
    assert interval_text(0.02, 0.02, 0.02, sign=True) == "+0.02000"  # one run: no interval
    assert interval_text(float("nan"), 0, 1) == "–"
    assert number_text(12345.6) == "12,346" and number_text(0.000012345) == "1.23e-05"
    assert number_text(float("nan")) == "–" and number_text(10000) == "10,000" and number_text(999) == "999"
    assert value_text(2.0) == "2" and value_text(0.125) == "0.125" and value_text("financial") == "financial"
    assert percent_text(0.4249) == "42%" and percent_text(None) == "–"
    # a setting reads back as the same value: no thousands separators, six significant digits
    assert setting_text(12345.0) == "12345" and setting_text(True) == "true" and setting_text(3.0, "int") == "3"
    assert float(setting_text(0.1 + 0.2)) == pytest.approx(0.3) and setting_text(1 / 3) == "0.333333"


def test_one_markdown_table_writer():
    from sim.analysis.tables import markdown_rows, markdown_table

    t = markdown_rows(["a|b", "n"], [["x\ny", 1], ["–", 2]], ["left", "right"], bold=lambda i, j: j == 0)
    assert t.splitlines() == ["| a\\|b | n |", "|:---|---:|", "| **x y** | 1 |", "| – | 2 |"]
    df = pd.DataFrame({"name": ["p", "q"], "n": [3, 4], "mean": [0.41234, 12.5], "big": [12345.6, float("nan")]})
    assert markdown_table(df).splitlines() == [
        "| name | n | mean | big |", "|---|---:|---:|---:|", "| p | 3 | 0.41 | 12,346 |", "| q | 4 | 12.50 | – |"]


def test_the_languages_are_declared_once():
    from sim import cli, words
    from sim.inputs import scenario
    from sim.ui import i18n

    assert words.LANGS == ("en", "zh") and words.DEFAULT_LANG in words.LANGS
    assert cli.LANGS is words.LANGS and i18n.LANGS is words.LANGS and scenario.LANGS is words.LANGS
    assert words.pick("yes", "是", "zh") == "是" and words.pick("yes", "是", "en") == "yes"
    assert words.normalize_lang("fr") == "en" and words.join(["a", "b"], "zh") == "a、b"
    with pytest.raises(ValueError, match="简体中文"):
        words.word("mean", "fr")
    assert all(len(pair) == 2 and all(pair) for pair in words.WORDS.values())  # every word in both languages


def test_intervals_and_axes_stay_inside_what_an_observable_can_take():
    """Three runs of a rare churn (0%, 0%, 0.6%): the t-interval of the mean reaches below 0%, which
    no share can; the summary, the bands and the axes stop at 0 (and an NPS at −100), while a
    difference between configurations keeps its negative side."""
    from sim.analysis.stats import ci95, summarize
    from sim.metrics import bounds

    assert bounds("churn_rate") == (0.0, 1.0) and bounds("nps") == (-100.0, 100.0)
    assert bounds("profit") == (-np.inf, np.inf) and bounds("A.price") == (-np.inf, np.inf)
    raw = ci95([0.0, 0.0, 0.006])
    assert raw[1] < 0
    m, lo, hi = ci95([0.0, 0.0, 0.006], bounds("churn_rate"))
    assert m == raw[0] and lo == 0.0 and hi == raw[2]
    market = pd.DataFrame({"run_id": [0, 1, 2], "step": 5, "label": "a", "churn_rate": [0.0, 0.0, 0.006],
                           "nps": [-99.0, -70.0, -98.0], "profit": [-5.0, 0.0, 1.0]})
    s = summarize(market, ["churn_rate", "nps", "profit"]).set_index("metric")
    assert s.loc["churn_rate", "ci_low"] == 0.0 and s.loc["nps", "ci_low"] == -100.0
    assert s.loc["profit", "ci_low"] < -5.0  # unbounded: the plain interval
    steps = pd.DataFrame({"run_id": np.repeat([0, 1, 2], 4), "step": np.tile(range(4), 3), "label": "a",
                          "loyal_share": 0.0})
    fig = analysis.plot_timeseries(steps, "loyal_share")
    assert fig.axes[0].get_ylim()[0] == 0.0  # a flat 0% does not get an axis down to −4%


def test_a_value_that_rounds_to_zero_has_no_minus_sign():
    from sim.analysis.formatting import fixed_text, interval_text

    assert fixed_text(-0.0001, 1) == "0.0" and fixed_text(-0.0, 2) == "0.00" and fixed_text(-0.06, 1) == "-0.1"
    assert interval_text(-0.00001, -0.002, 0.003, sign=True, percent=True) == "0.0% [-0.2%, 0.3%]"


# ---- a merchant without customers has no mean satisfaction, trust or loyal share -------------------
def test_a_merchant_without_customers_has_no_value_not_a_placeholder(tmp_path):
    # C at price 10 loses every customer: the model writes satisfaction 0.5, trust 0 and loyal share
    # 0 for it, which the summaries used to average in as if measured
    manifest, market, merchants = results_tables([("C dear", {"C.price": 10.0})], replicates=3, steps=10)
    last = merchants[merchants.step == merchants.step.max()]
    c = last[last.merchant == "C"]
    assert (c["customers"] == 0).all() and (c["satisfaction"] == 0.5).all()  # the model's placeholder
    # one run where C still has customers at the end, with values of its own
    i = c.index[0]
    merchants = merchants.copy()
    merchants.loc[i, ["customers", "satisfaction", "trust", "loyal_share"]] = [7, 0.61, 0.42, 0.25]
    s = analysis.summarize_merchants(merchants, ["satisfaction", "trust", "loyal_share", "market_share"], by=["label"])
    sc = s[s.merchant == "C"].set_index("metric")
    assert sc.loc["satisfaction", "n"] == 1 and sc.loc["satisfaction", "missing"] == 2
    assert sc.loc["satisfaction", "mean"] == pytest.approx(0.61) and sc.loc["trust", "mean"] == pytest.approx(0.42)
    assert sc.loc["loyal_share", "mean"] == pytest.approx(0.25)
    assert sc.loc["market_share", "n"] == 3 and sc.loc["market_share", "missing"] == 0  # 0 is a real share
    assert (s[s.merchant != "C"]["missing"] == 0).all()
    # none at all: no value, not 0.5
    man0, mk0, mc0 = results_tables([("C dear", {"C.price": 10.0})], replicates=2, steps=10)
    s0 = analysis.summarize_merchants(mc0, ["satisfaction"], by=["label"])
    r0 = s0[s0.merchant == "C"].iloc[0]
    assert r0["n"] == 0 and r0["missing"] == 2 and np.isnan(r0["mean"])

    for lang, partial, none, col in (("en", "(1 of 3 runs)", "no value in 2 runs", "Runs without a value"),
                                     ("zh", "3 次运行中 1 次有值", "2 次运行均无取值", "无取值的运行")):
        res = analysis.analyze(manifest, market, merchants, tmp_path / lang, lang=lang)
        row = next(line for line in res.markdown.splitlines() if line.startswith("| C dear") and "| C |" in line)
        assert partial in row and "0.6100" in row
        csv = pd.read_csv(tmp_path / lang / "merchants_summary.csv")
        assert col in csv.columns and sorted(csv[col].unique()) == [0, 2]
        md0 = analysis.analyze(man0, mk0, mc0, tmp_path / f"{lang}0", lang=lang).markdown
        row0 = next(line for line in md0.splitlines() if line.startswith("| C dear") and "| C |" in line)
        assert none in row0 and "0.5000" not in row0
