"""The workshop's debrief charts: per round, one line per merchant of a market — market share, loyal
share, churn and profit (English or Chinese; used by the facilitator's page and the projector's view).

:func:`rounds_svg` draws the charts of :data:`CHART_METRICS` (or the ones asked for) from a market's
round table (:meth:`sim.workshop.room.Workshop.round_table`) as SVG panels written directly
(:mod:`sim.ui.svg_charts`): the pages redraw them at every round, and an SVG costs the server a
millisecond where a rendered figure costs a tenth of a second or more.
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from ..analysis.formatting import number_text
from ..words import pick
from .plots import merchant_colors
from .svg_charts import Series, panel, panels

__all__ = ["CHART_METRICS", "METRIC_TITLES", "rounds_svg"]

#: the charts of a market's rounds, in order
CHART_METRICS: tuple[str, ...] = ("market_share", "loyal_share", "churn_rate", "profit")
#: each chart's title: (English, Chinese)
METRIC_TITLES: dict[str, tuple[str, str]] = {
    "market_share": ("Market share", "市场份额"),
    "loyal_share": ("Loyal share", "忠诚客户占比"),
    "churn_rate": ("Churn (weekly, round's mean)", "流失率（每周，本轮平均）"),
    "profit": ("Profit in the round", "本轮利润"),
}
_PERCENT = {"market_share", "loyal_share", "churn_rate"}  # shares: drawn in percent


def _y_text(metric: str):
    if metric in _PERCENT:
        return lambda v: f"{v:.3g}%"
    return lambda v: f"{v / 1000:g}k" if abs(v) >= 10000 else number_text(v, 4)


def rounds_svg(table: pd.DataFrame, lang: str = "en", metrics: Sequence[str] = CHART_METRICS,
               merchants: Sequence[str] | None = None, big: bool = False) -> str:
    """The charts of a market's rounds: one panel per metric of ``metrics``, one line per merchant
    (named in each panel's legend), rounds on the x axis. ``big``: larger type, for a projector."""
    for m in metrics:
        if m not in METRIC_TITLES:
            raise ValueError(f"no chart of {m!r} (charts: {', '.join(METRIC_TITLES)})")
    names = list(merchants) if merchants is not None else (
        sorted(table["merchant"].unique()) if table is not None and not table.empty else [])
    colors = dict(zip(names, merchant_colors(len(names))))
    have = table is not None and not table.empty
    rounds = sorted(int(r) for r in table["round"].unique()) if have else []
    charts = []
    for metric in metrics:
        series = []
        for name in names:
            rows = table[table["merchant"] == name].set_index("round")[metric] if have else pd.Series(dtype=float)
            k = 100.0 if metric in _PERCENT else 1.0
            series.append(Series(str(name), colors[name], [k * float(rows[r]) if r in rows.index else None for r in rounds]))
        charts.append(panel(pick(*METRIC_TITLES[metric], lang), rounds, series, y_text=_y_text(metric),
                            x_label=pick("Round", "轮次", lang), big=big))
    return panels(charts)
