"""The Explore page's figures (matplotlib), in English or Chinese.

Every function takes an :class:`~sim.ui.state.ExploreSession` and a language and returns a new
:class:`matplotlib.figure.Figure`. Figures are built with the object-oriented API (never pyplot), so
nothing is registered globally: a figure is freed as soon as the page stops showing it, and
:func:`png` closes it explicitly after writing it. Labels of observables come from their
declarations (:func:`sim.analysis.labels.metric_label`), other words are written here in both languages.
"""

from __future__ import annotations

import io
from typing import Callable

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .. import mechanism as mc
from ..metrics import INTENTION_HIGH, SATISFIED_MIN
from ..params import MERCHANT_PARAMS, PARAMS
from ..analysis.fonts import use_cjk_font
from ..analysis.formatting import percent_text, value_text
from ..analysis.labels import metric_label
from ..words import colon, pick

__all__ = ["FIGURES", "STAGE_COLORS", "merchant_colors", "png", "fig_loyal_churn", "fig_stages", "fig_profit",
           "fig_cycles", "fig_distributions", "fig_types", "fig_customer", "intervention_text"]

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
    use_cjk_font()
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


def _mark_interventions(axes, interventions, lang: str, label_ax=None) -> None:
    """Vertical lines at policy changes: the user's (solid) and the scenario's (dashed) labelled;
    merchants' own strategy moves (dotted) unlabelled."""
    items = _grouped_interventions(interventions)
    labelled = [it for it in items if it[2] != "strategy"]
    strategy = [it for it in items if it[2] == "strategy"]
    for ax in axes:
        for step, _, _, _ in strategy[-60:]:
            ax.axvline(step, color="#9e9e9e", lw=0.6, ls=":", zorder=1)
        for step, target, src, _ in labelled:
            ax.axvline(step, color="#6a1b9a" if src == "scenario" else "#212121", lw=1.1,
                       ls="--" if src == "scenario" else "-", zorder=3)
    ax = label_ax if label_ax is not None else axes[0]
    shown = labelled[-6:]
    lo, hi = ax.get_xlim()
    for i, (step, target, src, changes) in enumerate(shown):
        # the label goes on the side of its line with more room, cut to fit inside the axes
        # (it used to run into the next plot and off the figure's right edge)
        right = (step - lo) / max(1e-9, hi - lo)
        room = max(right, 1 - right) * _axes_width_pt(ax) - 6
        text = _fit(intervention_text(target, changes, lang), room, 7)
        before = right > 0.5
        ax.annotate(text, xy=(step, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(-2 if before else 2, -4 - 11 * (i % 3)), textcoords="offset points", fontsize=7,
                    va="top", ha="right" if before else "left", clip_on=True, annotation_clip=True,
                    color="#6a1b9a" if src == "scenario" else "#212121",
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.75))


def _axes_width_pt(ax) -> float:
    """The axes' width in points (the figure's margins are set when it is made, :func:`_margins`)."""
    return ax.get_position().width * ax.figure.get_figwidth() * 72


def _text_width_pt(text: str, size: float) -> float:
    """A generous estimate of a label's width: CJK characters 1 em, others 0.62 em."""
    return size * sum(1.0 if ord(c) >= 0x2E80 else 0.62 for c in text)


def _fit(text: str, room_pt: float, size: float) -> str:
    """``text`` cut (with "…") to fit in ``room_pt`` points at ``size``."""
    if _text_width_pt(text, size) <= room_pt:
        return text
    while text and _text_width_pt(text + "…", size) > room_pt:
        text = text[:-1]
    return text.rstrip(" ,，:：") + "…"


def _locked(fig_fn):
    """Build the figure while holding the session's lock, so the play thread cannot append to the
    series half-way through (series of different lengths for different merchants)."""
    import functools

    @functools.wraps(fig_fn)
    def wrapper(sess, *args, **kwargs):
        with sess.lock:
            return fig_fn(sess, *args, **kwargs)
    return wrapper


# --------------------------------------------------------------------------------------------
# time series
# --------------------------------------------------------------------------------------------
@_locked
def fig_loyal_churn(sess, lang: str = "en") -> Figure:
    """Loyal share and churn over time, one line per merchant."""
    fig, (a1, a2) = _figure(cols=2, sharex=True)
    names = sess.merchant_names()
    colors = merchant_colors(len(names))
    x = np.arange(len(sess.mseries["loyal_share"][0]))
    for j, name in enumerate(names):
        a1.plot(x, 100 * np.asarray(sess.mseries["loyal_share"][j]), color=colors[j], lw=1.6, label=name)
        a2.plot(x, 100 * _smooth(np.asarray(sess.mseries["churn_rate"][j])), color=colors[j], lw=1.6, label=name)
    a1.set_title(metric_label("loyal_share", lang) + " (%)", fontsize=10, y=1.0)
    a2.set_title(metric_label("churn_rate", lang) + _w(lang, f" (%, {SMOOTH}-week average)",
                                                       f"（%，{SMOOTH} 周平均）"), fontsize=10, y=1.0)
    for ax in (a1, a2):
        ax.set_xlabel(_week(lang), fontsize=8)
        ax.set_ylim(bottom=0)
        ax.set_xlim(0, max(10, len(x) - 1))
    _mark_interventions((a1, a2), sess.model.interventions, lang)
    return _finish(fig, a1)


@_locked
def fig_stages(sess, lang: str = "en") -> Figure:
    """Customers by stage (stacked): prospect, ordinary, trusting, loyal."""
    fig, (ax,) = _figure()
    stages = ("prospects", "ordinary", "trusting", "loyal")
    keys = ("prospect", "ordinary", "trusting", "loyal")
    ys = [sess.series(s) for s in stages]
    x = np.arange(len(ys[0]))
    ax.stackplot(x, *ys, colors=[STAGE_COLORS[k] for k in keys],
                 labels=[stage_label(k, lang) for k in keys], alpha=0.95, lw=0)
    ax.set_title(_w(lang, "Customers by stage", "各阶段客户数"), fontsize=10, loc="left", y=1.0)
    ax.set_xlabel(_week(lang), fontsize=8)
    ax.set_xlim(0, max(10, len(x) - 1))
    ax.set_ylim(0, max(1.0, float(sum(y[-1] for y in ys)) * 1.12, sess.model.pop.n * 0.5))
    _mark_interventions((ax,), sess.model.interventions, lang)
    return _finish(fig, ax)


@_locked
def fig_profit(sess, lang: str = "en") -> Figure:
    """Profit per step of each merchant (moving average) and cumulative."""
    fig, (a1, a2) = _figure(cols=2, sharex=True)
    names = sess.merchant_names()
    colors = merchant_colors(len(names))
    x = np.arange(len(sess.mseries["profit"][0]))
    for j, name in enumerate(names):
        y = np.asarray(sess.mseries["profit"][j])
        a1.plot(x, _smooth(y), color=colors[j], lw=1.6, label=name)
        a2.plot(x, np.cumsum(y), color=colors[j], lw=1.6, label=name)
    a1.set_title(metric_label("profit", lang) + _w(lang, f" per week ({SMOOTH}-week average)",
                                                    f"（每周，{SMOOTH} 周平均）"), fontsize=10, y=1.0)
    a2.set_title(metric_label("cumulative_profit", lang), fontsize=10, y=1.0)
    for ax in (a1, a2):
        ax.set_xlabel(_week(lang), fontsize=8)
        ax.axhline(0, color="#616161", lw=0.7)
        ax.set_xlim(0, max(10, len(x) - 1))
    _mark_interventions((a1, a2), sess.model.interventions, lang)
    return _finish(fig, a1)


@_locked
def fig_cycles(sess, lang: str = "en") -> Figure:
    """Cycle A passes; Cycle B passes, complaints and successful recoveries; per step."""
    fig, (a1, a2) = _figure(cols=2, sharex=True)
    x = np.arange(len(sess.series("cycle_a")))
    a1.plot(x, sess.series("cycle_a"), color="#2e7d32", lw=1.4, label=metric_label("cycle_a", lang))
    a1.plot(x, sess.series("dissatisfied"), color="#e53935", lw=1.0, label=metric_label("dissatisfied", lang))
    a2.plot(x, sess.series("complaints"), color="#fb8c00", lw=1.3, label=metric_label("complaints", lang))
    a2.plot(x, sess.series("cycle_b"), color="#6d4c41", lw=1.3, label=metric_label("cycle_b", lang))
    a2.plot(x, sess.series("recoveries_ok"), color="#00897b", lw=1.3, label=metric_label("recoveries_ok", lang))
    a1.set_title(_w(lang, "Cycle A (甲循环) per week", "甲循环（每周）"), fontsize=10, y=1.0)
    a2.set_title(_w(lang, "Cycle B (乙循环) per week", "乙循环（每周）"), fontsize=10, y=1.0)
    for ax in (a1, a2):
        ax.set_xlabel(_week(lang), fontsize=8)
        ax.set_ylim(bottom=0)
        ax.set_xlim(0, max(10, len(x) - 1))
        ax.legend(fontsize=7, frameon=False, loc="upper left")
    _mark_interventions((a1, a2), sess.model.interventions, lang)
    return _finish(fig)


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
