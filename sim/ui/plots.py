"""The Explore page's figures, in English or Chinese.

The charts over time (:data:`CHARTS`) are declared once each, as :class:`Panel` s and the run's
change marks (:func:`markers`), and drawn two ways from that: as SVG text for the page
(:func:`chart_svg`, a millisecond or two, so a playing market redraws them at every step) and as a
matplotlib figure for their PNG download (:func:`chart_figure`). The snapshots of the customers now
(:func:`fig_distributions`, :func:`fig_types`) and a customer's story are matplotlib figures.

Every ``fig_…`` function takes an :class:`~sim.ui.state.ExploreSession` and a language and returns a new
:class:`matplotlib.figure.Figure`. Figures are built with the object-oriented API (never pyplot), so
nothing is registered globally: a figure is freed as soon as the page stops showing it, and
:func:`png` closes it explicitly after writing it. Labels of observables come from their
declarations (:func:`sim.analysis.labels.metric_label`), other words are written here in both languages.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import Callable

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .. import mechanism as mc
from ..metrics import INTENTION_HIGH, SATISFIED_MIN
from ..params import MERCHANT_PARAMS, PARAMS
from ..analysis.fonts import figure_text
from ..analysis.formatting import percent_text, value_text
from ..analysis.labels import metric_label
from ..words import colon, pick
from .svg_charts import Marker, Series, fit_text, panels, time_panel

__all__ = ["FIGURES", "CHARTS", "STAGE_COLORS", "Panel", "merchant_colors", "markers", "chart_svg", "chart_figure",
           "chart_loyal_churn", "chart_stages", "chart_profit", "chart_cycles", "png", "fig_loyal_churn", "fig_stages",
           "fig_profit", "fig_cycles", "fig_distributions", "fig_types", "fig_customer", "intervention_text"]

#: colour of each stage, shared by the plots, the diagram and the network
STAGE_COLORS = {"churned": "#e0e0e0", "prospect": "#b0bec5", "ordinary": "#42a5f5", "trusting": "#ffa726",
                "loyal": "#2e7d32"}
_MERCHANT_COLORS = ("#1f77b4", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
                    "#ff7f0e", "#2ca02c")
DPI = 92
#: moving-average window for noisy per-step flows (churn, profit)
SMOOTH = 4
#: most points in the customer-types scatter
MAX_POINTS = 2000


def _w(lang: str, en: str, zh: str) -> str:
    return pick(en, zh, lang)


def merchant_colors(n: int) -> list[str]:
    return [_MERCHANT_COLORS[i % len(_MERCHANT_COLORS)] for i in range(n)]


def stage_label(stage: str, lang: str) -> str:
    return mc.STAGE_LABELS[stage][lang == "zh"]


def _figure(w: float = 6.4, h: float = 3.0, cols: int = 1, sharex: bool = False):
    figure_text()
    fig = Figure(figsize=(w, h), dpi=DPI)
    axes = fig.subplots(1, cols, sharex=sharex, squeeze=False)[0]
    _margins(fig)
    for ax in axes:
        # fewer ticks (and titles at a fixed height, y=1.0): both make drawing much cheaper
        ax.xaxis.set_major_locator(MaxNLocator(6, integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(5))
        ax.grid(True, alpha=0.3, linewidth=0.6)
        ax.tick_params(labelsize=8)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    return fig, axes


def _margins(fig: Figure) -> None:
    fig.subplots_adjust(left=0.09 if len(fig.axes) == 1 else 0.08, right=0.98, bottom=0.16, top=0.86,
                        wspace=0.28)


def _finish(fig: Figure, legend_ax=None, ncol: int = 4, markerscale: float = 1.0) -> Figure:
    _margins(fig)
    if legend_ax is not None:
        handles, labels = legend_ax.get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="upper center", ncol=min(ncol, len(handles)), fontsize=8,
                       frameon=False, bbox_to_anchor=(0.5, 1.0), markerscale=markerscale)
    return fig


def _week(lang: str) -> str:
    return _w(lang, "Week", "周")


def _smooth(y: np.ndarray, k: int = SMOOTH) -> np.ndarray:
    if len(y) < 2 or k <= 1:
        return y
    c = np.cumsum(np.insert(y, 0, 0.0))
    out = np.empty_like(y)
    for i in range(min(k, len(y))):
        out[i] = c[i + 1] / (i + 1)
    if len(y) > k:
        out[k:] = (c[k + 1:] - c[1:-k]) / k
    return out


# --------------------------------------------------------------------------------------------
# interventions
# --------------------------------------------------------------------------------------------
def intervention_text(target: str, changes: dict, lang: str) -> str:
    """``A: Price → 1.3`` (``A：价格 → 1.3``), several changes joined."""
    parts = []
    for k, v in changes.items():
        p = MERCHANT_PARAMS.get(k) if target != "market" else PARAMS.get(k)
        label = p.label(lang) if p is not None else k
        parts.append(f"{label} → {value_text(v)}")
    who = _w(lang, "market", "市场") if target == "market" else target
    return f"{who}{colon(lang)}" + pick(", ", "，", lang).join(parts)


def _grouped_interventions(interventions) -> list[tuple[int, str, str, dict]]:
    groups: dict[tuple[int, str, str], dict] = {}
    for iv in interventions:
        groups.setdefault((iv.step, iv.target, iv.source), {}).update(iv.changes)
    return [(s, t, src, ch) for (s, t, src), ch in groups.items()]


def markers(interventions, lang: str) -> list[Marker]:
    """The marks of the changes made during a run, for every time chart: the user's (solid, black) and
    the scenario's (dashed, purple) labelled with what changed; the merchants' own strategy moves
    (dotted, grey; the last 60) unlabelled."""
    items = _grouped_interventions(interventions)
    strategy = [it for it in items if it[2] == "strategy"][-60:]
    out = [Marker(step, intervention_text(target, changes, lang), "#9e9e9e", "dotted", label=False)
           for step, target, _, changes in strategy]
    out += [Marker(step, intervention_text(target, changes, lang),
                   "#6a1b9a" if src == "scenario" else "#212121", "dashed" if src == "scenario" else "solid")
            for step, target, src, changes in items if src != "strategy"]
    return out


_LS = {"solid": "-", "dashed": "--", "dotted": ":"}


def _mark_interventions(axes, marks: list[Marker], label_ax=None) -> None:
    """Draw :func:`markers` on matplotlib axes: vertical lines; the last 6 labelled marks' texts on
    the side of their line with more room, cut to fit inside the axes."""
    for ax in axes:
        for m in marks:
            ax.axvline(m.x, color=m.colour, lw=1.1 if m.label else 0.6, ls=_LS[m.style], zorder=3 if m.label else 1)
    ax = label_ax if label_ax is not None else axes[0]
    lo, hi = ax.get_xlim()
    for i, m in enumerate([m for m in marks if m.label][-6:]):
        # the label goes on the side of its line with more room, cut to fit inside the axes
        # (it used to run into the next plot and off the figure's right edge)
        right = (m.x - lo) / max(1e-9, hi - lo)
        room = max(right, 1 - right) * _axes_width_pt(ax) - 6
        before = right > 0.5
        ax.annotate(fit_text(m.text, room, 7), xy=(m.x, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(-2 if before else 2, -4 - 11 * (i % 3)), textcoords="offset points", fontsize=7,
                    va="top", ha="right" if before else "left", clip_on=True, annotation_clip=True,
                    color=m.colour, bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.75))


def _axes_width_pt(ax) -> float:
    """The axes' width in points (the figure's margins are set when it is made, :func:`_margins`)."""
    return ax.get_position().width * ax.figure.get_figwidth() * 72


# --------------------------------------------------------------------------------------------
# time series: each chart declared once (:class:`Panel`), drawn as SVG on the page and with
# matplotlib for the PNG download
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Panel:
    """One panel of a time chart: its title, its series over weeks 0, 1, … (lines, or areas piled up
    when ``stacked``), the y axis' ends (``None``: from the values), a line at zero, whether the
    panel shows its own legend (else the chart's first panel shows one for all)."""

    title: str
    series: tuple[Series, ...]
    stacked: bool = False
    lo: float | None = 0.0
    hi: float | None = None
    zero_line: bool = False
    own_legend: bool = False


def _charted(chart_fn):
    """A chart's panels and the run's change marks, read while holding the session's lock, so the
    play thread cannot append to the series half-way through (series of different lengths for
    different merchants)."""

    @functools.wraps(chart_fn)
    def wrapper(sess, lang: str = "en") -> tuple[tuple[Panel, ...], list[Marker]]:
        with sess.lock:
            return chart_fn(sess, lang), markers(sess.model.interventions, lang)
    return wrapper


@_charted
def chart_loyal_churn(sess, lang: str = "en") -> tuple[Panel, ...]:
    """Loyal share and churn over time, one line per merchant."""
    names = sess.merchant_names()
    colors = merchant_colors(len(names))
    ms = sess.mseries
    return (Panel(metric_label("loyal_share", lang) + " (%)",
                  tuple(Series(nm, colors[j], 100 * np.asarray(ms["loyal_share"][j])) for j, nm in enumerate(names))),
            Panel(metric_label("churn_rate", lang) + _w(lang, f" (%, {SMOOTH}-week average)", f"（%，{SMOOTH} 周平均）"),
                  tuple(Series(nm, colors[j], 100 * _smooth(np.asarray(ms["churn_rate"][j])))
                        for j, nm in enumerate(names))))


@_charted
def chart_stages(sess, lang: str = "en") -> tuple[Panel, ...]:
    """Customers by stage (stacked): prospect, ordinary, trusting, loyal."""
    keys = ("prospect", "ordinary", "trusting", "loyal")
    ys = [sess.series(s) for s in ("prospects", "ordinary", "trusting", "loyal")]
    top = max(1.0, float(sum(y[-1] for y in ys)) * 1.12 if len(ys[0]) else 1.0, sess.model.pop.n * 0.5)
    return (Panel(_w(lang, "Customers by stage", "各阶段客户数"),
                  tuple(Series(stage_label(k, lang), STAGE_COLORS[k], y) for k, y in zip(keys, ys)),
                  stacked=True, hi=top),)


@_charted
def chart_profit(sess, lang: str = "en") -> tuple[Panel, ...]:
    """Profit per step of each merchant (moving average) and cumulative."""
    names = sess.merchant_names()
    colors = merchant_colors(len(names))
    ys = [np.asarray(sess.mseries["profit"][j]) for j in range(len(names))]
    return (Panel(metric_label("profit", lang) + _w(lang, f" per week ({SMOOTH}-week average)", f"（每周，{SMOOTH} 周平均）"),
                  tuple(Series(nm, colors[j], _smooth(ys[j])) for j, nm in enumerate(names)), lo=None, zero_line=True),
            Panel(metric_label("cumulative_profit", lang),
                  tuple(Series(nm, colors[j], np.cumsum(ys[j])) for j, nm in enumerate(names)), lo=None,
                  zero_line=True))


@_charted
def chart_cycles(sess, lang: str = "en") -> tuple[Panel, ...]:
    """Cycle A passes; Cycle B passes, complaints and successful recoveries; per step."""
    def line(key, colour):
        return Series(metric_label(key, lang), colour, sess.series(key))
    return (Panel(_w(lang, "Cycle A (甲循环) per week", "甲循环（每周）"),
                  (line("cycle_a", "#2e7d32"), line("dissatisfied", "#e53935")), own_legend=True),
            Panel(_w(lang, "Cycle B (乙循环) per week", "乙循环（每周）"),
                  (line("complaints", "#fb8c00"), line("cycle_b", "#6d4c41"), line("recoveries_ok", "#00897b")),
                  own_legend=True))


def _y_text(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 10_000 else f"{v:g}"


def chart_svg(chart: tuple[tuple[Panel, ...], list[Marker]], lang: str = "en") -> str:
    """A chart (its panels and marks, as a ``chart_…`` function returns them) as SVG panels side by
    side: what the page shows (drawn in the browser, a millisecond or two to write)."""
    panels_, marks = chart
    width = 330 if len(panels_) > 1 else 400
    shared = not any(p.own_legend for p in panels_)  # one legend, on the first panel
    return panels([time_panel(p.title, p.series, stacked=p.stacked, lo=p.lo, hi=p.hi, markers=marks,
                              x_label=_week(lang), y_text=_y_text, width=width, zero_line=p.zero_line,
                              legend=p.own_legend or (shared and i == 0))
                   for i, p in enumerate(panels_)], gap="4px 12px")


def chart_figure(chart: tuple[tuple[Panel, ...], list[Marker]], lang: str = "en") -> Figure:
    """The same chart as a matplotlib figure (the PNG download)."""
    panels_, marks = chart
    fig, axes = _figure(cols=len(panels_), sharex=len(panels_) > 1)
    for ax, p in zip(axes, panels_):
        n = max((len(s.values) for s in p.series), default=0)
        x = np.arange(n)
        if p.stacked:
            ax.stackplot(x, *[s.values for s in p.series], colors=[s.colour for s in p.series],
                         labels=[s.label for s in p.series], alpha=0.95, lw=0)
        else:
            for s in p.series:
                ax.plot(np.arange(len(s.values)), s.values, color=s.colour, lw=1.5, label=s.label)
        ax.set_title(p.title, fontsize=10, y=1.0, loc="left" if len(panels_) == 1 else "center")
        ax.set_xlabel(_week(lang), fontsize=8)
        if p.zero_line:
            ax.axhline(0, color="#616161", lw=0.7)
        ax.set_xlim(0, max(10, n - 1))
        if p.lo is not None:
            ax.set_ylim(bottom=p.lo)
        if p.hi is not None:
            ax.set_ylim(top=p.hi)
        if p.own_legend:
            ax.legend(fontsize=7, frameon=False, loc="upper left")
    _mark_interventions(axes, marks)
    return _finish(fig, None if any(p.own_legend for p in panels_) else axes[0])


def fig_loyal_churn(sess, lang: str = "en") -> Figure:
    """Loyal share and churn over time, one line per merchant (matplotlib)."""
    return chart_figure(chart_loyal_churn(sess, lang), lang)


def fig_stages(sess, lang: str = "en") -> Figure:
    """Customers by stage, stacked (matplotlib)."""
    return chart_figure(chart_stages(sess, lang), lang)


def fig_profit(sess, lang: str = "en") -> Figure:
    """Profit per week and cumulative, per merchant (matplotlib)."""
    return chart_figure(chart_profit(sess, lang), lang)


def fig_cycles(sess, lang: str = "en") -> Figure:
    """Cycle A and Cycle B per week (matplotlib)."""
    return chart_figure(chart_cycles(sess, lang), lang)


# --------------------------------------------------------------------------------------------
# the customers now
# --------------------------------------------------------------------------------------------
def _bought(pop) -> np.ndarray:
    return np.flatnonzero(pop.stage >= mc.ORDINARY)


def fig_distributions(sess, lang: str = "en") -> Figure:
    """Histograms of cumulative satisfaction and of trust of the customers who have bought, stacked
    by stage, with the trust bottleneck (G) and the loyalty threshold (H) marked."""
    fig, (a1, a2) = _figure(cols=2)
    with sess.lock:
        pop, P = sess.model.pop, sess.model.params
        idx = _bought(pop)
        stage = pop.stage[idx].copy()
        sat = pop.satisfaction[idx].copy()
        trust = pop.trust[idx].copy()
    keys = ("ordinary", "trusting", "loyal")
    codes = [mc.STAGES.index(k) for k in keys]
    lo = min(0.3, float(np.quantile(sat, 0.005))) if len(sat) else 0.0
    hi = max(0.7, float(np.quantile(sat, 0.995))) if len(sat) else 1.0
    for ax, values, bins in ((a1, sat, np.linspace(lo, hi, 41)), (a2, trust, np.linspace(0, 1, 41))):
        base = np.zeros(len(bins) - 1)
        for k, code in zip(keys, codes):
            counts, _ = np.histogram(values[stage == code], bins=bins)
            ax.stairs(base + counts, bins, baseline=base, fill=True, color=STAGE_COLORS[k],
                      label=stage_label(k, lang))
            base = base + counts
        ax.set_xlim(bins[0], bins[-1])
        ax.set_ylim(0, max(1.0, base.max() * 1.08))
    a1.axvline(0.5, color="#424242", lw=1, ls="--")
    a1.text(0.5, 0.97, _w(lang, " as expected", " 符合预期"), transform=a1.get_xaxis_transform(), fontsize=7,
            va="top")
    for thr, text in ((P.trust_threshold, _w(lang, " G bottleneck", " G 瓶颈")),
                      (P.loyalty_threshold, _w(lang, " H loyalty", " H 忠诚"))):
        a2.axvline(thr, color="#424242", lw=1, ls="--")
        a2.text(thr, 0.97, text, transform=a2.get_xaxis_transform(), fontsize=7, va="top")
    a1.set_title(metric_label("satisfaction", lang).replace(_w(lang, "Mean s", "平均"), _w(lang, "S", "")),
                 fontsize=10, y=1.0)
    a2.set_title(_w(lang, "Trust", "信任"), fontsize=10, y=1.0)
    n = len(idx)
    a1.set_xlabel(_w(lang, f"{n:,} customers who have bought", f"已购买客户 {n:,} 位"), fontsize=8)
    a2.set_xlabel(_w(lang, "0 = none, 1 = complete", "0 = 毫无信任，1 = 完全信任"), fontsize=8)
    return _finish(fig, a1)


def _sample(sess, idx: np.ndarray) -> np.ndarray:
    """A stable sample of at most MAX_POINTS of ``idx`` (the same places from one redraw to the next;
    drawn with its own generator, never the model's)."""
    if len(idx) <= MAX_POINTS:
        return idx
    key = sess.sample_key
    n = sess.model.pop.n
    if key is None or len(key) != n:
        key = np.random.default_rng(12345).random(n)
        sess.sample_key = key
    order = np.argsort(key[idx], kind="stable")[:MAX_POINTS]
    return idx[np.sort(order)]


def fig_types(sess, lang: str = "en") -> Figure:
    """The four customer types: satisfaction × loyalty (intention to buy again), one dot per
    customer (a stable sample of at most 2,000), quadrants labelled."""
    fig, (ax,) = _figure(w=6.4, h=3.4)
    with sess.lock:
        pop = sess.model.pop
        idx = _sample(sess, _bought(pop))
        x = pop.satisfaction[idx].copy()
        y = pop.intentional[idx].copy()
        stage = pop.stage[idx].copy()
        m = dict(sess.model.metrics)
    loyal = stage == mc.LOYAL
    y = np.where(loyal, np.maximum(y, INTENTION_HIGH + 0.01), y)  # loyal customers count as loyal
    for k in ("ordinary", "trusting", "loyal"):
        sel = stage == mc.STAGES.index(k)
        ax.scatter(x[sel], y[sel], s=6, color=STAGE_COLORS[k], alpha=0.6, lw=0, label=stage_label(k, lang))
    ax.axvline(SATISFIED_MIN, color="#424242", lw=1)
    ax.axhline(INTENTION_HIGH, color="#424242", lw=1)
    # zoom on the customers, keeping both dividing lines in view
    if len(x):
        ax.set_xlim(min(SATISFIED_MIN - 0.1, float(np.quantile(x, 0.005)) - 0.02),
                    max(SATISFIED_MIN + 0.1, float(np.quantile(x, 0.995)) + 0.02))
        ax.set_ylim(max(0.0, min(INTENTION_HIGH - 0.2, float(np.quantile(y, 0.005)) - 0.02)), 1.0)
    quad = (("loyalists", 0.98, 0.98, "right", "top"), ("mercenaries", 0.98, 0.02, "right", "bottom"),
            ("hostages", 0.02, 0.98, "left", "top"), ("defectors", 0.02, 0.02, "left", "bottom"))
    for name, qx, qy, ha, va in quad:
        ax.text(qx, qy, f"{metric_label(name, lang)} {percent_text(m.get(name, 0))}", transform=ax.transAxes,
                ha=ha, va=va, fontsize=9, color="#263238",
                bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="#cfd8dc", alpha=0.85))
    ax.set_xlabel(_w(lang, "Satisfaction (cumulative)", "满意度（累积）"), fontsize=8)
    ax.set_ylabel(_w(lang, "Loyalty (intention to buy again)", "忠诚（再次购买意愿）"), fontsize=8)
    ax.set_title(_w(lang, "The four customer types", "四类客户"), fontsize=10, loc="left", y=1.0)
    return _finish(fig, ax, markerscale=3)


def fig_customer(story: dict, lang: str = "en", params=None) -> Figure:
    """One customer's recent history: expectation, perceived value, satisfaction and trust."""
    fig, (a1, a2) = _figure(w=6.4, h=2.6, cols=2, sharex=True)
    rows = story.get("history", []) if story else []
    if rows:
        x = np.array([r["step"] for r in rows])
        a1.plot(x, [r["expectation"] for r in rows], color="#5e35b1", lw=1.5, label=_w(lang, "expectation", "预期"))
        a1.plot(x, [r["value"] for r in rows], color="#00897b", lw=1.2, marker=".", ms=3,
                label=_w(lang, "perceived value", "感知价值"))
        a2.plot(x, [r["satisfaction"] for r in rows], color="#1e88e5", lw=1.5, label=_w(lang, "satisfaction", "满意度"))
        a2.plot(x, [r["trust"] for r in rows], color="#fb8c00", lw=1.8, label=_w(lang, "trust", "信任"))
        for r in rows:
            ev = r["events"]
            if "complained" in ev:
                a2.axvline(r["step"], color="#e53935", lw=0.8, alpha=0.6)
            if "recovered" in ev or "botched" in ev:
                a2.axvline(r["step"], color="#00897b" if "recovered" in ev else "#6d4c41", lw=0.8, ls="--")
        if params is not None:
            a2.axhline(params.trust_threshold, color="#9e9e9e", lw=0.8, ls=":")
            a2.axhline(params.loyalty_threshold, color="#9e9e9e", lw=0.8, ls=":")
    a1.set_title(_w(lang, "Expectation vs perception", "预期与感受"), fontsize=9, y=1.0)
    a2.set_title(_w(lang, "Satisfaction and trust", "满意度与信任"), fontsize=9, y=1.0)
    for ax in (a1, a2):
        ax.set_ylim(0, 1)
        ax.set_xlabel(_week(lang), fontsize=8)
        ax.legend(fontsize=7, frameon=False, loc="lower left")
    return _finish(fig)


#: the time charts: key → the function giving its panels and marks (shown as SVG by the page,
#: :func:`chart_svg`; its PNG download is :data:`FIGURES`' builder of the same key)
CHARTS: dict[str, Callable] = {"loyal_churn": chart_loyal_churn, "stages": chart_stages, "profit": chart_profit,
                               "cycles": chart_cycles}

#: the figures of the page: key → (builder, English title, Chinese title)
FIGURES: dict[str, tuple[Callable, str, str]] = {
    "loyal_churn": (fig_loyal_churn, "Loyal share and churn", "忠诚客户占比与流失率"),
    "stages": (fig_stages, "Customers by stage", "各阶段客户"),
    "profit": (fig_profit, "Profit", "利润"),
    "cycles": (fig_cycles, "Cycle A and Cycle B", "甲循环与乙循环"),
    "distributions": (fig_distributions, "Satisfaction and trust", "满意度与信任"),
    "types": (fig_types, "Customer types", "四类客户"),
}


def png(fig: Figure, dpi: int | None = None) -> bytes:
    """The figure as PNG bytes; the figure is closed (cleared) afterwards."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi or fig.dpi)
    finally:
        fig.clear()
    return buf.getvalue()
