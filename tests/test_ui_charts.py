"""The Explore page's charts over time, drawn as SVG (:func:`sim.ui.svg_charts.time_panel`,
:func:`sim.ui.plots.chart_svg`): parsed as XML and read back — the series drawn, where their points
lie, the marks of changes and their labels, the legend, both languages — and held to the matplotlib
figure of the same chart (the PNG download)."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import ipyvuetify as v
import solara

from sim.ui import plots, state
from sim.ui.files import ChartView
from sim.ui.svg_charts import MAX_POINTS, Marker, Series, text_width, time_panel

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def points(el: ET.Element) -> list[tuple[float, float]]:
    return [tuple(float(v) for v in p.split(",")) for p in el.get("points").split()]


def by_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if name in (e.get("class") or "").split()]


def grid(root: ET.Element) -> dict[float, float]:
    """y tick value → its y position (the tick labels beside the grid lines)."""
    out = {}
    for t in root.iter(NS + "text"):
        if t.get("text-anchor") == "end" and t.get("class") is None:
            try:
                out[float(t.text.replace(",", ""))] = float(t.get("y"))
            except ValueError:
                pass
    return out


def value_at(root: ET.Element, y: float, font: float = 11) -> float:
    """The value a y position stands for, read from two tick labels (label y = line y + font / 3)."""
    g = sorted(grid(root).items())
    (v0, y0), (v1, y1) = g[0], g[-1]
    y0, y1 = y0 - font / 3, y1 - font / 3
    return v0 + (y - y0) * (v1 - v0) / (y1 - y0)


# ---- the panel ---------------------------------------------------------------------------------
def test_lines_put_each_value_where_the_axis_says():
    a = [0.0, 5.0, 10.0, 20.0, 15.0]
    b = [30.0, 25.0, 20.0, 10.0, 5.0]
    root = parse(time_panel("Share (%)", [Series("A", "#111111", a), Series("B", "#222222", b)], lo=0.0))
    lines = by_class(root, "lsim-svg-line")
    assert [ln.get("data-label") for ln in lines] == ["A", "B"]
    assert [ln.get("stroke") for ln in lines] == ["#111111", "#222222"]
    for ln, values in zip(lines, (a, b)):
        pts = points(ln)
        assert len(pts) == len(values)
        xs = [x for x, _ in pts]
        assert xs == sorted(xs) and len(set(xs)) == len(xs)  # one point per week, left to right
        for (_, y), v in zip(pts, values):
            assert value_at(root, y) == pytest.approx(v, abs=0.2)
    assert root.find(NS + "title").text == "Share (%)"
    legend = [t.text for t in root.iter(NS + "text") if t.text in ("A", "B")]
    assert legend == ["A", "B"]


@pytest.mark.parametrize("weeks", [3, 12, 13, 37, 105, 521])
def test_weeks_on_the_x_axis_are_whole_numbers(weeks):
    root = parse(time_panel("t", [Series("A", "#111", list(range(weeks)))], x_label="Week"))
    labels = [t.text for t in root.iter(NS + "text") if t.get("text-anchor") == "middle" and t.text != "Week"]
    assert len(labels) >= 3 and all(re.fullmatch(r"\d+", x) for x in labels), labels
    assert int(labels[0]) == 0 and int(labels[-1]) <= max(10, weeks - 1)


def test_stacked_areas_pile_up_from_zero():
    ys = [[10.0, 20.0, 30.0], [5.0, 5.0, 5.0], [1.0, 2.0, 3.0]]
    root = parse(time_panel("Stages", [Series(k, c, y) for k, c, y in zip("xyz", ("#a00", "#0a0", "#00a"), ys)],
                            stacked=True, hi=50.0))
    areas = by_class(root, "lsim-svg-area")
    assert [a.get("data-label") for a in areas] == ["x", "y", "z"]
    top = np.cumsum(ys, axis=0)
    bottom = np.vstack([np.zeros(3), top[:-1]])
    for k, area in enumerate(areas):
        pts = points(area)
        up, down = pts[:3], pts[3:][::-1]  # the upper edge left to right, then the lower one back
        assert [value_at(root, y) for _, y in up] == pytest.approx(top[k], abs=0.1)
        assert [value_at(root, y) for _, y in down] == pytest.approx(bottom[k], abs=0.1)
    assert max(grid(root)) <= 50.0  # the axis stops at the given top


def test_marks_of_changes_are_lines_with_their_text_and_labels_stay_inside():
    marks = [Marker(2, "strategy move", "#9e9e9e", "dotted", label=False)]
    marks += [Marker(w, f"A: Price → 1.{w} and a long description of the change {w}", "#212121", "solid")
              for w in (1, 5, 9, 12, 15, 18, 19)]
    marks += [Marker(40, "after the end", "#212121")]  # beyond the last week: not drawn
    W = 330
    root = parse(time_panel("t", [Series("A", "#111", list(range(20)))], markers=marks, width=W))
    lines = by_class(root, "lsim-svg-mark")
    assert len(lines) == 8
    assert lines[0].get("stroke-dasharray") and lines[1].get("stroke-dasharray") is None
    assert lines[1].find(NS + "title").text.startswith("A: Price → 1.1")
    labels = by_class(root, "lsim-svg-mark-label")
    assert len(labels) == 6  # the last six labelled marks
    assert all(t.text.endswith("…") for t in labels)  # cut to fit
    for t in labels:
        x, width = float(t.get("x")), text_width(t.text, 9)
        if t.get("text-anchor") == "end":
            assert x - width >= 0
        else:
            assert x + width <= W
    # a mark is drawn at its week: the same x as the line's point of that week
    pts = points(by_class(root, "lsim-svg-line")[0])
    assert float(lines[1].get("x1")) == pytest.approx(pts[1][0])


def test_gaps_long_series_empty_and_flat():
    root = parse(time_panel("gap", [Series("A", "#111", [1.0, float("nan"), 3.0, None])]))
    assert len(points(by_class(root, "lsim-svg-line")[0])) == 2
    long = list(np.sin(np.arange(5000) / 50.0))
    pts = points(by_class(parse(time_panel("long", [Series("A", "#111", long)])), "lsim-svg-line")[0])
    assert len(pts) <= MAX_POINTS + 1 and pts[-1][0] > pts[0][0]
    empty = parse(time_panel("empty", [Series("A", "#111", [])]))
    assert by_class(empty, "lsim-svg-line") == []
    flat = parse(time_panel("flat", [Series("A", "#111", [0.0, 0.0])], lo=None))
    assert all(math.isfinite(y) for _, y in points(by_class(flat, "lsim-svg-line")[0]))


def test_zero_line_and_legend_can_be_left_out():
    root = parse(time_panel("p", [Series("A", "#111", [-5.0, 5.0]), Series("B", "#222", [1.0, 2.0])],
                            lo=None, zero_line=True, legend=False))
    zero = [ln for ln in root.iter(NS + "line") if ln.get("stroke") == "#616161"]
    assert len(zero) == 1 and value_at(root, float(zero[0].get("y1"))) == pytest.approx(0.0, abs=0.1)
    assert not [t for t in root.iter(NS + "text") if t.text in ("A", "B")]


# ---- the page's charts -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sess():
    s = state.ExploreSession()
    s.set_param("n_customers", 600)
    s.reset()
    s.step(12)
    s.set_policy("A", "price", 1.3)
    s.step(8)
    return s


@pytest.mark.parametrize("key", list(plots.CHARTS))
@pytest.mark.parametrize("lng", ["en", "zh"])
def test_each_chart_as_svg_shows_what_its_png_shows(sess, key, lng):
    chart = plots.CHARTS[key](sess, lng)
    root = ET.fromstring(plots.chart_svg(chart, lng))
    svgs = list(root.iter(NS + "svg"))
    panels, marks = chart
    assert len(svgs) == len(panels)
    fig = plots.chart_figure(chart, lng)
    try:
        for svg, p, ax in zip(svgs, panels, fig.axes):
            assert svg.find(NS + "title").text == p.title == ax.get_title(loc="left" if len(panels) == 1 else "center")
            drawn = by_class(svg, "lsim-svg-area" if p.stacked else "lsim-svg-line")
            assert [d.get("data-label") for d in drawn] == [s.label for s in p.series]
            if not p.stacked:
                assert [ln.get_label() for ln in ax.get_lines() if not ln.get_label().startswith("_")] == [
                    s.label for s in p.series]
                for d, s in zip(drawn, p.series):  # the last point is the last value
                    assert value_at(svg, points(d)[-1][1]) == pytest.approx(float(s.values[-1]),
                                                                          abs=0.01 * (1 + abs(float(s.values[-1]))))
            assert len(by_class(svg, "lsim-svg-mark")) == len(marks) == 1  # the price change
            assert "1.3" in by_class(svg, "lsim-svg-mark")[0].find(NS + "title").text
    finally:
        fig.clear()
    words = " ".join(t.text or "" for t in root.iter(NS + "text"))
    if lng == "zh":
        assert re.search(r"[\u4e00-\u9fff]", words)
        assert "Week" not in words and "周" in words
    else:
        assert "Week" in words and not re.search(r"[\u4e00-\u9fff]", words.replace("甲循环", "").replace("乙循环", ""))


def test_chart_view_renders_svg_and_keeps_the_png_download(sess, monkeypatch):
    from sim.ui import files

    built = []

    def build(*a, **k):
        built.append(1)
        return plots.chart_figure(*a, **k)

    monkeypatch.setattr(files, "chart_figure", build)
    box, rc = solara.render(ChartView("loyal_churn", lambda: plots.chart_loyal_churn(sess, "en"),
                                      [id(sess), 0, "en", "loyal_churn"], "en"), handle_error=False)
    markup = [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets]
    assert len(markup) == 1 and markup[0].count("class='lsim-svg-line'") == 6  # 3 merchants × 2 panels
    assert built == []  # the matplotlib figure is made only for a download
    rc.find(v.Btn, class_="lsim-download-png").assert_single()  # (the browser test downloads it)
    rc.close()


def test_a_long_legend_wraps_above_the_plot():
    names = [f"Merchant number {k}" for k in range(6)]
    root = parse(time_panel("t", [Series(nm, "#111", [1.0, 2.0]) for nm in names], width=330))
    entries = [t for t in root.iter(NS + "text") if t.text in names]
    rows = sorted({float(t.get("y")) for t in entries})
    assert len(entries) == 6 and len(rows) >= 2  # wrapped onto rows
    assert all(float(t.get("x")) + text_width(t.text, 11) <= 330 for t in entries)
    top_grid = min(grid(root).values()) - 11 / 3  # the highest grid line
    assert max(rows) < top_grid, "the legend runs into the plot"
