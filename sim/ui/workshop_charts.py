"""The workshop's debrief charts: per round, one line per merchant of a market — market share, loyal
share, churn and profit (matplotlib, English or Chinese; used by the facilitator's page and the
projector's view).

:func:`fig_rounds` draws the figures of :data:`CHART_METRICS` (or the ones asked for) from a market's
round table (:meth:`sim.workshop.room.Workshop.round_table`) as panels of one figure. Figures are built
with the object-oriented API (never pyplot), as :mod:`sim.ui.plots` does, with its CJK font handling.
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..analysis.fonts import use_cjk_font
from ..words import pick
from .plots import merchant_colors

__all__ = ["CHART_METRICS", "METRIC_TITLES", "fig_rounds"]

#: the charts of a market's rounds, in order
CHART_METRICS: tuple[str, ...] = ("market_share", "loyal_share", "churn_rate", "profit")
#: each chart's title: (English, Chinese)
METRIC_TITLES: dict[str, tuple[str, str]] = {
    "market_share": ("Market share", "市场份额"),
    "loyal_share": ("Loyal share", "忠诚客户占比"),
    "churn_rate": ("Churn (weekly, round's mean)", "流失率（每周，本轮平均）"),
    "profit": ("Profit in the round", "本轮利润"),
}
_PERCENT = {"market_share", "loyal_share", "churn_rate"}


def fig_rounds(table: pd.DataFrame, lang: str = "en", metrics: Sequence[str] = CHART_METRICS,
               merchants: Sequence[str] | None = None, title: str = "", big: bool = False) -> Figure:
    """The figure of a market's rounds: one panel per metric of ``metrics`` (two per row), one line
    per merchant, rounds on the x axis. ``big``: larger type, for a projector."""
    use_cjk_font()
    for m in metrics:
        if m not in METRIC_TITLES:
            raise ValueError(f"no chart of {m!r} (charts: {', '.join(METRIC_TITLES)})")
    cols = 1 if len(metrics) == 1 else 2
    rows = (len(metrics) + cols - 1) // cols
    scale = 1.35 if big else 1.0
    fig = Figure(figsize=(4.2 * cols, 2.6 * rows + 0.5), dpi=92 * scale)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    names = list(merchants) if merchants is not None else (
        sorted(table["merchant"].unique()) if table is not None and not table.empty else [])
    colors = dict(zip(names, merchant_colors(len(names))))
    size = 9
    for ax, metric in zip(axes, metrics):
        ax.set_title(pick(*METRIC_TITLES[metric], lang), fontsize=size + 1, loc="left")
        ax.grid(True, alpha=0.3, linewidth=0.6)
        ax.tick_params(labelsize=size - 1)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.xaxis.set_major_locator(MaxNLocator(8, integer=True))
        ax.set_xlabel(pick("Round", "轮次", lang), fontsize=size - 1)
        if metric in _PERCENT:
            digits = 1 if metric == "churn_rate" else 0
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _, d=digits: f"{100 * v:.{d}f}%"))
        if table is None or table.empty:
            ax.text(0.5, 0.5, pick("No round played yet", "还没有进行任何一轮", lang), ha="center", va="center",
                    transform=ax.transAxes, fontsize=size, color="#777")
            ax.set_xlim(0.5, 3.5)
            continue
        for name in names:
            rows_m = table[table["merchant"] == name].sort_values("round")
            if rows_m.empty:
                continue
            ax.plot(rows_m["round"], rows_m[metric], marker="o", markersize=4, linewidth=1.8, color=colors[name],
                    label=name)
        lo, hi = int(table["round"].min()), int(table["round"].max())
        ax.set_xlim(lo - 0.3, hi + 0.3)
        if hi - lo < 12:
            ax.set_xticks(range(lo, hi + 1))
        if metric in _PERCENT:
            ax.set_ylim(bottom=0)
    for ax in axes[len(metrics):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    top = 0.88 if title else 0.9
    if handles:
        fig.legend(handles, labels, loc="upper right", ncol=len(handles), fontsize=size, frameon=False,
                   bbox_to_anchor=(0.99, 1.0))
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontsize=size + 2)
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.1, top=top, hspace=0.55, wspace=0.28)
    return fig
