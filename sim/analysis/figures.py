"""Figures of a results folder's tables (matplotlib, English or Chinese): time series with 95%
bands over replicates, an observable against a varied parameter, heatmaps over two parameters,
scatter panels for sampled designs, bars, per-merchant small multiples and sensitivity indices.

Every function returns a new :class:`matplotlib.figure.Figure` built with the object-oriented API
(never pyplot); :func:`save_figure` writes it as PNG and SVG and frees it. Chinese text renders
with the font :func:`sim.analysis.fonts.figure_text` registers, and names are drawn as written.
"""

from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..metrics import bounds, is_share
from ..words import check_lang, word
from .fonts import figure_text
from .formatting import number_text, percent_text, value_text
from .labels import choice_text, group_title, merchant_metric_label, metric_label, param_label
from .stats import ci95, ci_frame, final_rows, per_run_values, require_columns, runs_frame

__all__ = ["MAX_PANELS", "plot_timeseries", "plot_vs_param", "plot_heatmap", "plot_scatter", "plot_bars",
           "plot_merchants", "plot_sensitivity", "plot_objective_history", "save_figure"]

#: at most this many panels in a small-multiples figure of merchants
MAX_PANELS = 9


def _end_values(market: pd.DataFrame, metric: str, window: int | None) -> pd.DataFrame:
    """One row per run: its final value of ``metric``, or its mean over the last ``window`` steps."""
    require_columns(market, [metric], "market table")
    return final_rows(market) if window is None else per_run_values(market, [metric], (), window=window)


def _what(metric: str, window: int | None, lang: str) -> str:
    if window is None:
        return word("end_what", lang, metric=metric_label(metric, lang))
    return word("window_what", lang, metric=metric_label(metric, lang), k=window)


def _figure(w: float = 7.5, h: float = 4.3) -> Figure:
    figure_text()
    return Figure(figsize=(w, h), layout="constrained")


def _colors(n: int) -> list:
    import matplotlib as mpl

    if n <= 10:
        return [mpl.colormaps["tab10"](i) for i in range(n)]
    cmap = mpl.colormaps["viridis"]
    return [cmap(i / max(n - 1, 1)) for i in range(n)]


def _groups(df: pd.DataFrame, group: str | None) -> list[tuple[object, pd.DataFrame]]:
    if group is None or group not in df.columns:
        return [(None, df)]
    return list(df.groupby(group, sort=False, dropna=False))


def _band(df: pd.DataFrame, x: str, y: str, sort: bool = True) -> pd.DataFrame:
    """Mean and 95% interval of ``y`` over runs at each value of ``x`` (sorted by x, or in order of
    first appearance)."""
    out = ci_frame(df.groupby(x, sort=sort)[y], bounds(y))
    return out.reset_index()


def _draw_band(ax, band: pd.DataFrame, x: str, color, label, numeric: bool = True):
    if len(band) <= 2 or not numeric:
        ax.errorbar(band[x], band["mean"], yerr=[band["mean"] - band["ci_low"], band["ci_high"] - band["mean"]],
                    fmt="o-" if numeric and len(band) > 1 else "o", color=color, capsize=4, label=label)
        return
    ax.plot(band[x], band["mean"], color=color, label=label, lw=1.8)
    ax.fill_between(band[x], band["ci_low"], band["ci_high"], color=color, alpha=0.2, linewidth=0)


def _intervention_text(item) -> tuple[int, str]:
    """``(step, text)`` from a pair or from a model ``Intervention`` (step, target, changes)."""
    if isinstance(item, (tuple, list)):
        return item[0], str(item[1]) if len(item) > 1 else ""
    changes = ", ".join(f"{k}={value_text(v)}" for k, v in (getattr(item, "changes", None) or {}).items())
    target = getattr(item, "target", "")
    return getattr(item, "step"), f"{target}: {changes}" if target else changes


def _interventions(ax, interventions) -> None:
    for item in interventions or ():
        step, text = _intervention_text(item)
        ax.axvline(step, ls="--", lw=1, color="0.35")
        if text:
            ax.annotate(str(text), xy=(step, 1), xycoords=("data", "axes fraction"), xytext=(-3, -4),
                        textcoords="offset points", rotation=90, ha="right", va="top", fontsize=8, color="0.25")


def _band_legend(ax, lang: str) -> None:
    from matplotlib.patches import Patch

    handles = [ax.lines[0] if ax.lines else None, Patch(color="C0", alpha=0.2)]
    labels = [word("mean", lang), word("ci95", lang)]
    if handles[0] is not None:
        ax.legend(handles, labels, fontsize=8, loc="best")


def _percent_ticks(axis) -> None:
    """Ticks of a share in percent (``42%``), with as many decimals as the axis' range needs
    (``0.25%`` on an axis from 0.2% to 0.4%, where whole percents would all read ``0%``)."""
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=None))


def _percent_axis(ax, metric: str, merchant: bool = False) -> None:
    """A share's axis in percent, as the app's tables and the Explore page show shares; any
    observable's axis stops at the values it can take (:func:`sim.metrics.bounds`: no share
    axis running down to −4% around a flat 0%). Called once the data are drawn."""
    if is_share(metric, merchant):
        _percent_ticks(ax.yaxis)
    lo, hi = bounds(metric)
    bottom, top = ax.get_ylim()
    if bottom < lo < top:
        ax.set_ylim(bottom=lo)
    if bottom < hi < top:
        ax.set_ylim(top=hi)


def plot_timeseries(market: pd.DataFrame, metric: str, group: str | None = "label", lang: str = "en",
                    interventions: Sequence[tuple[int, str]] | None = None) -> Figure:
    """Mean line per group (``label`` by default; ``None`` for one line over all runs) with its 95%
    band over replicates, against the step. ``interventions``: ``(step, text)`` pairs drawn as
    dashed vertical lines."""
    check_lang(lang)
    df = runs_frame(market)
    require_columns(df, [metric], "market table")
    groups = _groups(df, group)
    fig = _figure()
    ax = fig.add_subplot()
    colors = _colors(len(groups))
    for (g, sub), c in zip(groups, colors):
        _draw_band(ax, _band(sub, "step", metric), "step", c, None if g is None else value_text(g))
    _interventions(ax, interventions)
    ax.set_xlabel(word("step", lang))
    ax.set_ylabel(metric_label(metric, lang))
    _percent_axis(ax, metric)
    ax.set_title(word("band_title", lang, metric=metric_label(metric, lang)), fontsize=11)
    ax.grid(True, alpha=0.3)
    if len(groups) > 1:
        ax.legend(title=group_title(group, lang), fontsize=8, title_fontsize=8,
                  loc="best" if len(groups) <= 6 else "upper left",
                  bbox_to_anchor=None if len(groups) <= 6 else (1.01, 1.0))
    else:
        _band_legend(ax, lang)
    return fig


def plot_vs_param(market: pd.DataFrame, metric: str, param: str, lang: str = "en",
                  window: int | None = None) -> Figure:
    """Each run's final value of ``metric`` (or with ``window=k`` its mean over the last k steps)
    against a varied parameter: mean and 95% interval over the runs at each value (a line with a
    band for numbers, points with error bars for choices)."""
    check_lang(lang)
    fin = _end_values(market, metric, window)
    require_columns(fin, [metric, param], "market table")
    numeric = pd.api.types.is_numeric_dtype(fin[param])
    band = _band(fin, param, metric, sort=numeric)  # choices stay in the design's order
    fig = _figure()
    ax = fig.add_subplot()
    if numeric:
        _draw_band(ax, band, param, "C0", word("mean", lang))
        ax.plot(fin[param], fin[metric], "o", ms=3, color="0.5", alpha=0.5, zorder=0)
    else:
        pos = np.arange(len(band))
        ax.errorbar(pos, band["mean"], yerr=[band["mean"] - band["ci_low"], band["ci_high"] - band["mean"]],
                    fmt="o", color="C0", capsize=4)
        ax.set_xticks(pos, [choice_text(param, v, lang) for v in band[param]])
    ax.set_xlabel(param_label(param, lang))
    ax.set_ylabel(metric_label(metric, lang))
    _percent_axis(ax, metric)
    ax.set_title(word("vs_title", lang, what=_what(metric, window, lang), param=param_label(param, lang)),
                 fontsize=11)
    ax.grid(True, alpha=0.3)
    if numeric and len(band) > 2:
        _band_legend(ax, lang)
    return fig


def plot_heatmap(market: pd.DataFrame, metric: str, p1: str, p2: str, lang: str = "en",
                 window: int | None = None) -> Figure:
    """Mean final value of ``metric`` (``window=k``: of each run's last k steps) over the ``p1`` (x) ×
    ``p2`` (y) grid, with a colour bar; values are written in the cells when there are at most 100."""
    check_lang(lang)
    fin = _end_values(market, metric, window)
    require_columns(fin, [metric, p1, p2], "market table")
    grid = fin.groupby([p2, p1])[metric].mean().unstack(p1).sort_index().sort_index(axis=1)
    z = grid.to_numpy(dtype=float)
    fig = _figure(7.0, 5.0)
    ax = fig.add_subplot()
    im = ax.imshow(np.ma.masked_invalid(z), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(np.arange(z.shape[1]), [value_text(v) for v in grid.columns])
    ax.set_yticks(np.arange(z.shape[0]), [value_text(v) for v in grid.index])
    ax.set_xlabel(param_label(p1, lang))
    ax.set_ylabel(param_label(p2, lang))
    cb = fig.colorbar(im, ax=ax)
    cb.set_label(metric_label(metric, lang))
    share = is_share(metric)
    if share:  # a share's colour bar and cells in percent, as everywhere else
        _percent_ticks(cb.ax.yaxis)
    ax.set_title(word("heat_title", lang, what=_what(metric, window, lang)), fontsize=11)
    if z.size <= 100 and np.isfinite(z).any():
        lo, hi = np.nanmin(z), np.nanmax(z)
        for (i, j), v in np.ndenumerate(z):
            if np.isfinite(v):
                frac = 0.5 if hi == lo else (v - lo) / (hi - lo)
                ax.text(j, i, percent_text(v, 1) if share else number_text(v, 3), ha="center", va="center", fontsize=8,
                        color="white" if frac < 0.55 else "black")
    return fig


def plot_scatter(market: pd.DataFrame, metric: str, params: Sequence[str], lang: str = "en",
                 window: int | None = None) -> Figure:
    """Final value of ``metric`` (``window=k``: mean of the last k steps), averaged over replicates
    per design point, against each varied parameter, one panel per parameter: for sampled designs
    (LHS, Sobol, Morris)."""
    check_lang(lang)
    fin = _end_values(market, metric, window)
    params = list(params)
    require_columns(fin, [metric, *params], "market table")
    key = "point" if "point" in fin.columns else "run_id"
    pts = fin.groupby(key, sort=False).agg({metric: "mean", **{p: "first" for p in params}})
    ncols = min(3, len(params))
    nrows = math.ceil(len(params) / ncols)
    fig = _figure(3.6 * ncols + 0.6, 3.0 * nrows + 0.6)
    axes = fig.subplots(nrows, ncols, sharey=True, squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= len(params):
            ax.remove()
            continue
        p = params[k]
        ax.plot(pts[p], pts[metric], "o", ms=3, alpha=0.6, color="C0")
        ax.set_xlabel(param_label(p, lang))
        if k % ncols == 0:
            ax.set_ylabel(metric_label(metric, lang))
            _percent_axis(ax, metric)
        ax.grid(True, alpha=0.3)
    fig.suptitle(word("scatter_title", lang, what=_what(metric, window, lang)), fontsize=11)
    return fig


def plot_bars(market: pd.DataFrame, metric: str, group: str = "label", lang: str = "en",
              window: int | None = None) -> Figure:
    """Final value of ``metric`` (``window=k``: mean of the last k steps) per group: mean bar with
    its 95% interval (for runs measured only at the end)."""
    check_lang(lang)
    fin = _end_values(market, metric, window)
    require_columns(fin, [metric], "market table")
    groups = _groups(fin, group)
    stats_ = [ci95(sub[metric], bounds(metric)) for _, sub in groups]
    names = ["" if g is None else value_text(g) for g, _ in groups]
    fig = _figure(max(4.5, 1.1 * len(groups) + 2.5), 4.3)
    ax = fig.add_subplot()
    pos = np.arange(len(groups))
    means = np.array([s[0] for s in stats_])
    err = np.array([[s[0] - s[1] for s in stats_], [s[2] - s[0] for s in stats_]])
    ax.bar(pos, means, yerr=err, capsize=4, color=_colors(len(groups)), alpha=0.85)
    ax.set_xticks(pos, names, rotation=0 if len(groups) <= 5 else 30, ha="center" if len(groups) <= 5 else "right")
    ax.set_xlabel(group_title(group, lang))
    ax.set_ylabel(metric_label(metric, lang))
    _percent_axis(ax, metric)
    ax.set_title(word("bars_title", lang, what=_what(metric, window, lang)), fontsize=11)
    ax.grid(True, axis="y", alpha=0.3)
    return fig


def plot_merchants(merchants: pd.DataFrame, metric: str, group: str | None = "label", lang: str = "en",
                   by: str = "group") -> Figure:
    """Per-merchant time series of ``metric`` (mean and 95% band over replicates) as small multiples.

    ``by="group"`` (default): one panel per group (``label``), one line per merchant.
    ``by="merchant"``: one panel per merchant, one line per group — to compare configurations.
    """
    check_lang(lang)
    if by not in ("group", "merchant"):
        raise ValueError(f"by = {by!r}: use 'group' or 'merchant'")
    df = runs_frame(merchants)
    require_columns(df, [metric, "merchant"], "merchants table")
    outer = _groups(df, group) if by == "group" else _groups(df, "merchant")
    inner_key = "merchant" if by == "group" else group
    inner_names = list(dict.fromkeys(df[inner_key])) if inner_key in df.columns else [None]
    colors = dict(zip(inner_names, _colors(len(inner_names))))
    outer = outer[:MAX_PANELS]
    ncols = min(3, len(outer))
    nrows = math.ceil(len(outer) / ncols)
    fig = _figure(4.0 * ncols + 0.8, 3.1 * nrows + 0.9)
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    seen = {}
    for k, ax in enumerate(axes.flat):
        if k >= len(outer):
            ax.remove()
            continue
        name, sub = outer[k]
        for inner, part in _groups(sub, inner_key):
            lab = value_text(inner) if inner is not None else None
            _draw_band(ax, _band(part, "step", metric), "step", colors.get(inner, "C0"), lab)
            if lab is not None and lab not in seen:
                seen[lab] = ax.get_legend_handles_labels()[0][-1]
        if name is not None:
            title = word("merchant_title", lang, m=name) if by == "merchant" else value_text(name)
            ax.set_title(title, fontsize=10)
        if k // ncols == nrows - 1 or k + ncols >= len(outer):
            ax.set_xlabel(word("step", lang))
            ax.xaxis.set_tick_params(labelbottom=True)
        if k % ncols == 0:
            ax.set_ylabel(merchant_metric_label(metric, lang))
            _percent_axis(ax, metric, merchant=True)
        ax.grid(True, alpha=0.3)
    if seen:
        fig.legend(list(seen.values()), list(seen.keys()), loc="outside lower center",
                   ncols=min(len(seen), 5), fontsize=8,
                   title=word("merchant", lang) if by == "group" else group_title(group, lang), title_fontsize=8)
    fig.suptitle(word("band_title", lang, metric=merchant_metric_label(metric, lang)), fontsize=11)
    return fig


def plot_sensitivity(table: pd.DataFrame, metric: str, lang: str = "en") -> Figure:
    """Horizontal bars per parameter for one metric of a :func:`sensitivity` table: S1 and ST with
    their 95% intervals (Sobol), or μ* with its interval and σ (Morris); most important on top."""
    check_lang(lang)
    require_columns(table, ["metric", "parameter"], "sensitivity table")
    t = table[table["metric"] == metric]
    if t.empty:
        raise ValueError(f"the sensitivity table has no rows for metric '{metric}'")
    sobol = "S1" in t.columns
    if sobol:
        bars = [("S1", "S1_conf"), ("ST", "ST_conf")]
        key = "ST"
    elif "mu_star" in t.columns:
        bars = [("mu_star", "mu_star_conf"), ("sigma", None)]
        key = "mu_star"
    else:
        raise ValueError("the table has neither Sobol (S1, ST) nor Morris (mu_star) columns")
    t = t.assign(_k=t[key].fillna(-np.inf)).sort_values("_k", kind="stable")
    fig = _figure(7.0, max(2.6, 0.55 * len(t) + 1.6))
    ax = fig.add_subplot()
    pos = np.arange(len(t))
    height = 0.38
    for i, (col, conf) in enumerate(bars):
        xerr = t[conf].to_numpy(dtype=float) if conf and conf in t.columns else None
        ax.barh(pos + (i - 0.5) * height, t[col].to_numpy(dtype=float), height=height, xerr=xerr, capsize=3,
                color=f"C{i}", label=word(col, lang))
    ax.set_yticks(pos, [param_label(p, lang) for p in t["parameter"]])
    ax.set_ylabel(word("parameter", lang))
    ax.set_xlabel(word("sobol_axis" if sobol else "morris_axis", lang))
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_title(word("sens_title", lang, metric=metric_label(metric, lang)), fontsize=11)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, axis="x", alpha=0.3)
    return fig


def plot_objective_history(trials: pd.DataFrame, lang: str = "en") -> Figure:
    """A calibration's objective per trial (``trial``, ``objective`` columns; failed trials have
    none) and the best so far, on a log scale when it spans more than two orders of magnitude."""
    check_lang(lang)
    require_columns(trials, ["trial", "objective"], "trials table")
    df = trials.dropna(subset=["objective"]).sort_values("trial")
    fig = _figure()
    ax = fig.add_subplot()
    ax.plot(df["trial"], df["objective"], "o", color=_colors(1)[0], alpha=0.6, label=word("objective_trial", lang))
    ax.step(df["trial"], df["objective"].cummin(), where="post", color="black", label=word("objective_best", lang))
    obj = df["objective"].to_numpy(dtype=float)
    pos = obj[np.isfinite(obj) & (obj > 0)]  # an infinite objective would make the ratio nan
    if len(pos) and pos.max() / pos.min() > 100:
        ax.set_yscale("log")
    ax.set_xlabel(word("trial", lang))
    ax.set_ylabel(word("objective", lang))
    ax.set_title(word("objective_title", lang), fontsize=11)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=9)
    return fig


def save_figure(fig: Figure, out_dir, stem: str) -> list[Path]:
    """Write ``stem.png`` (120 dpi) and ``stem.svg`` into ``out_dir`` (created if needed), close the
    figure and return both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    png, svg = out / f"{stem}.png", out / f"{stem}.svg"
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*constrained_layout not applied.*")
        fig.savefig(png, dpi=120, format="png")
        fig.savefig(svg, format="svg", metadata={"Date": None})
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close(fig)
    fig.clear()
    return [png, svg]
