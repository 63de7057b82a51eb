"""What a participant's page (:mod:`sim.ui.workshop_join`) computes from the workshop: plain Python,
no Solara, so each piece is tested on its own.

- :func:`cost_preview` — what a merchant's decisions cost per customer per week and the margin at
  its price, before they are committed. It mirrors the books of a week (:func:`sim.merchants.book`
  with :func:`sim.merchants.policy_table`): a purchase pays ``price × (1 − programme_benefit) +
  programme_fee`` (with a programme), serving it costs ``unit_cost + quality_cost × quality``,
  every customer of a merchant with a programme costs ``programme_cost`` a week, a new customer
  ``acquisition_cost``, and a resolved complaint ``compensation × price``. How many purchases and
  resolved complaints a customer makes in a week the model decides customer by customer; the
  preview takes their expected values (``purchase_prob`` purchases; complaints about failures of
  the merchant's ``failure_severity``, the complaint chance of
  :func:`sim.mechanism.complaints.complain` for a customer of average propensity).
- :func:`own_rounds` / :func:`rivals_table` — the seat's own figures per played round, and the
  market research about its rivals, one round late (after round k: rivals as of round k − 1).
- :func:`own_figure` — share, loyal share and profit over rounds (matplotlib, Chinese-safe).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import pandas as pd
from matplotlib.figure import Figure

from ..analysis.fonts import use_cjk_font
from ..analysis.formatting import MISSING, number_text, percent_text

__all__ = ["CostPreview", "cost_preview", "own_rounds", "rivals_table", "own_figure",
           "KPI_COLUMNS", "RIVAL_COLUMNS", "kpi_cells", "rival_cells"]


@dataclass(frozen=True)
class CostPreview:
    """Money per purchase and per customer per week of one set of decisions (see the module's notes)."""

    #: per purchase: what a customer pays, what serving it costs, the difference
    price_paid: float
    serve_cost: float
    margin: float
    #: expected purchases of a customer in a week
    purchases: float
    #: per customer per week: serving, the programme, expected compensation; their sum
    serve_week: float
    programme_week: float
    compensation_week: float
    cost_week: float
    #: per customer per week: revenue and what is left of it after the costs above
    revenue_week: float
    profit_week: float
    #: one new customer (paid once)
    acquisition: float

    @property
    def margin_share(self) -> float:
        """The margin as a share of what a customer pays (nan when nothing is paid)."""
        return self.margin / self.price_paid if self.price_paid else float("nan")


def cost_preview(decisions: Mapping[str, Any], policy: Any, market: Any) -> CostPreview:
    """The cost preview of ``decisions`` (the fields of :data:`sim.workshop.decisions.DECISIONS`) for
    a merchant whose other policy fields are ``policy`` (a :class:`~sim.params.MerchantParams`) in a
    market of parameters ``market`` (a :class:`~sim.params.Params`)."""
    d = {k: getattr(policy, k) for k in ("price", "quality", "programme", "failure_prob", "complaint_ease",
                                         "recovery_prob", "compensation")}
    d.update(decisions)
    member = d["programme"] != "none"
    price = float(d["price"])
    benefit = float(policy.programme_benefit) if member else 0.0
    fee = float(policy.programme_fee) if member else 0.0
    price_paid = price * (1 - benefit) + fee  # policy_table: price_paid
    serve = float(policy.unit_cost) + float(policy.quality_cost) * float(d["quality"])  # policy_table: unit_cost
    purchases = float(market.purchase_prob)  # a purchase is one unit (one product held)
    programme = float(policy.programme_cost) if member else 0.0  # book: programme_cost × members
    severity = min(float(policy.failure_severity) / float(market.severity_scale), 1.0)
    p = market.complaint_minor + (market.complaint_major - market.complaint_minor) * severity ** market.complaint_curvature
    p = min(p, 1.0)
    p += 0.5 * float(d["complaint_ease"]) * (1 - p)  # complain(): an easy channel
    resolved = purchases * float(d["failure_prob"]) * p * float(d["recovery_prob"])
    compensation = resolved * float(d["compensation"]) * price  # book: recovered × compensation × price
    serve_week = purchases * serve
    cost_week = serve_week + programme + compensation
    revenue_week = purchases * price_paid
    return CostPreview(price_paid=price_paid, serve_cost=serve, margin=price_paid - serve, purchases=purchases,
                       serve_week=serve_week, programme_week=programme, compensation_week=compensation,
                       cost_week=cost_week, revenue_week=revenue_week, profit_week=revenue_week - cost_week,
                       acquisition=float(policy.acquisition_cost))


# ---- rounds ------------------------------------------------------------------------------------------
#: the seat's figures per round: (column of Workshop.round_table, English, Chinese, how shown)
KPI_COLUMNS = (("customers", "Customers", "客户", "int"), ("market_share", "Share", "份额", "pct"),
               ("loyal_share", "Loyal", "忠诚", "pct"), ("churn_rate", "Churn / week", "每周流失", "pct1"),
               ("satisfaction", "Satisfaction", "满意度", "num"), ("trust", "Trust", "信任", "num"),
               ("profit", "Profit", "利润", "money"), ("cumulative_profit", "Cumulative profit", "累计利润", "money"),
               ("clv", "Customer value", "客户价值", "money"))
#: the rivals' figures (market research)
RIVAL_COLUMNS = (("price", "Price", "价格", "num"), ("quality", "Quality", "质量", "num"),
                 ("market_share", "Share", "份额", "pct"), ("loyal_share", "Loyal", "忠诚", "pct"))


def _cell(v: Any, how: str) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return MISSING
    if how == "pct":
        return percent_text(x)
    if how == "pct1":
        return percent_text(x, 1)
    if how == "int":
        return f"{int(round(x)):,}"
    if how == "money":
        return f"{x:,.0f}" if abs(x) >= 100 else number_text(x, 3)
    return f"{x:.2f}"


def own_rounds(table: pd.DataFrame, merchant: str) -> pd.DataFrame:
    """The rows of ``merchant`` in a market's round table (:meth:`Workshop.round_table`), by round."""
    if table.empty:
        return table
    return table[table["merchant"] == merchant].sort_values("round").reset_index(drop=True)


def rivals_table(table: pd.DataFrame, merchant: str) -> tuple[int, pd.DataFrame]:
    """Market research about ``merchant``'s rivals: ``(round, rows)``, the rivals as of the round
    before the last played one (one round late); ``(0, empty)`` before round 2 has been played."""
    if table.empty:
        return 0, table
    played = int(table["round"].max())
    if played < 2:
        return 0, table.iloc[0:0]
    rows = table[(table["round"] == played - 1) & (table["merchant"] != merchant)]
    return played - 1, rows.sort_values("merchant").reset_index(drop=True)


def kpi_cells(row: Mapping[str, Any]) -> list[str]:
    """A round's figures as the KPI table shows them."""
    return [_cell(row.get(k), how) for k, _, _, how in KPI_COLUMNS]


def rival_cells(row: Mapping[str, Any]) -> list[str]:
    return [_cell(row.get(k), how) for k, _, _, how in RIVAL_COLUMNS]


def own_figure(rows: pd.DataFrame, lang: str = "en") -> Figure:
    """The seat's share and loyal share (left) and profit (right) per round."""
    use_cjk_font()
    zh = lang == "zh"
    fig = Figure(figsize=(6.4, 2.6), dpi=92)
    ax1, ax2 = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.2, top=0.86, wspace=0.35)
    r = rows["round"].to_numpy() if not rows.empty else []
    if len(r):
        ax1.plot(r, 100 * rows["market_share"].to_numpy(dtype=float), marker="o", label="份额" if zh else "share")
        ax1.plot(r, 100 * rows["loyal_share"].to_numpy(dtype=float), marker="o", label="忠诚" if zh else "loyal share")
        ax1.legend(fontsize=8, frameon=False)
        ax2.bar(r, rows["profit"].to_numpy(dtype=float), color="#2e7d32")
    ax1.set_title("份额（%）" if zh else "Share (%)", fontsize=10)
    ax2.set_title("每轮利润" if zh else "Profit per round", fontsize=10)
    for ax in (ax1, ax2):
        ax.set_xlabel("轮次" if zh else "round", fontsize=9)
        ax.tick_params(labelsize=8)
        if len(r):  # whole rounds only, with room either side of a single one
            from matplotlib.ticker import MaxNLocator

            ax.xaxis.set_major_locator(MaxNLocator(nbins=min(len(r), 8), integer=True))
            ax.set_xlim(min(r) - 0.6, max(r) + 0.6)
    return fig
