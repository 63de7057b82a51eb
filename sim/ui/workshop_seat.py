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
- :func:`own_rounds` / :func:`kpi_rows` / :func:`rivals_table` — the seat's own figures per played
  round (the table's rows start with the market before round 1: the first customers and what
  winning them cost, so that the profits add up to the cumulative profit), and the market research
  about its rivals, one round late (after round k: rivals as of round k − 1).
- :func:`own_svg` — share, loyal share and profit over rounds, an SVG drawn as text (no figure
  to render on the server).
- :func:`flows` / :func:`flows_html` — a round's Cycle A and Cycle B flows of the seat's own
  customers (satisfied purchases; purchases that fell short, complained about or not; answers to
  complaints that put things right or let the customer down) and the customers it lost, by reason,
  drawn as proportional bars in HTML (no figure to render).
- :func:`lost_table` — customers lost per round by reason.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Mapping

import pandas as pd
from ..analysis.formatting import MISSING, number_text, percent_text
from ..mechanism.state import REASON_LABELS, REASONS
from ..words import pick
from .svg_charts import Series, panel, panels

__all__ = ["CostPreview", "cost_preview", "own_rounds", "rivals_table", "own_svg",
           "KPI_COLUMNS", "RIVAL_COLUMNS", "kpi_cells", "kpi_rows", "rival_cells", "Flows", "flows", "flows_html",
           "lost_table"]


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
               ("clv", "Customer value", "客户价值", "money"), ("nps", "NPS", "净推荐值", "int"),
               ("complaints", "Complaints", "投诉", "int"), ("recoveries_ok", "Put right", "成功补救", "of:recoveries"))
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
    """A round's figures as the KPI table shows them ("of:COLUMN": "k of n", n from COLUMN)."""
    out = []
    for k, _, _, how in KPI_COLUMNS:
        if how.startswith("of:"):
            a, b = _cell(row.get(k), "int"), _cell(row.get(how[3:]), "int")
            out.append(MISSING if MISSING in (a, b) else f"{a} / {b}")
        else:
            out.append(_cell(row.get(k), how))
    return out


def kpi_rows(own: pd.DataFrame, start: Mapping[str, Any] | None, lang: str = "en") -> list[list[str]]:
    """The rows of the seat's results table: the market's start first (``start``, the seat's row
    of :meth:`Workshop.opening`: "Before round 1", the first customers and what winning them cost),
    then one per played round (``own``, :func:`own_rounds`). Its profit and the rounds' add up to
    each row's cumulative profit."""
    rows = [[pick("Before round 1", "第 1 轮之前", lang)] + kpi_cells(start)] if start is not None else []
    rows += [[str(int(r["round"]))] + kpi_cells(r) for r in own.to_dict("records")]
    return rows


def rival_cells(row: Mapping[str, Any]) -> list[str]:
    return [_cell(row.get(k), how) for k, _, _, how in RIVAL_COLUMNS]


def own_svg(rows: pd.DataFrame, lang: str = "en") -> str:
    """The seat's share and loyal share (percent) and its profit per round: two SVG charts
    (:mod:`sim.ui.svg_charts`, no figure to render on the server) side by side, one above the other
    on a narrow screen."""
    zh = lang == "zh"
    r = [int(x) for x in rows["round"]] if not rows.empty else []
    share = Series("份额" if zh else "share", "#1f77b4", [100 * float(x) for x in rows["market_share"]] if r else [])
    loyal = Series("忠诚" if zh else "loyal share", "#ff7f0e", [100 * float(x) for x in rows["loyal_share"]] if r else [])
    profit = Series("利润" if zh else "profit", "#2e7d32", [float(x) for x in rows["profit"]] if r else [])
    x_label = "轮次" if zh else "round"
    money = (lambda t: f"{t / 1000:g}k" if abs(t) >= 10000 else f"{t:g}")
    return panels([panel("份额（%）" if zh else "Share (%)", r, [share, loyal], x_label=x_label),
                   panel("每轮利润" if zh else "Profit per round", r, [profit], kind="bar", y_text=money, x_label=x_label)])


# ---- Cycle A / Cycle B flows, reasons for leaving, stories ---------------------------------------
@dataclass(frozen=True)
class Flows:
    """A round's flows of one merchant's own customers (counts summed over the round's weeks)."""

    satisfied: int  # satisfied purchases: passes of Cycle A
    short: int  # purchases that fell short of what the customer expected
    complained: int  # complaints made (a customer waiting for an answer does not complain again)
    answered: int  # answers to complaints that landed this round: passes of Cycle B
    put_right: int  # … that brought the customer back to Cycle A
    lost: dict  # reason (of sim.mechanism.state.REASONS) → customers lost for it, largest first

    @property
    def purchases(self) -> int:
        return self.satisfied + self.short

    @property
    def silent(self) -> int:
        """Purchases that fell short and were not complained about (at least 0: a complaint is
        counted in the week it is made, the purchase it is about may belong to the week before)."""
        return max(self.short - self.complained, 0)

    @property
    def let_down(self) -> int:
        return self.answered - self.put_right


def flows(row: Mapping[str, Any]) -> Flows:
    """The flows of one row of a round table (:meth:`Workshop.round_table`)."""
    def n(k):
        try:
            x = float(row.get(k, 0))
        except (TypeError, ValueError):
            return 0
        return 0 if x != x else int(round(x))
    lost = {r: n(f"lost_{r}") for r in REASONS[1:]}
    lost = dict(sorted(((r, c) for r, c in lost.items() if c > 0), key=lambda rc: -rc[1]))
    return Flows(n("cycle_a"), n("dissatisfied"), n("complaints"), n("recoveries"), n("recoveries_ok"), lost)


#: the flows' rows: (key, English, Chinese, colour)
_FLOW_ROWS = (
    ("satisfied", "Satisfied purchases — Cycle A", "满意的购买——甲循环", "#2e7d32"),
    ("short", "Fell short of expectations", "低于预期", "#ef6c00"),
    ("complained", "… complained", "……投诉", "#f9a825"),
    ("silent", "… said nothing", "……沉默不言", "#8d6e63"),
    ("answered", "Complaints answered — Cycle B", "得到答复的投诉——乙循环", "#1565c0"),
    ("put_right", "… put right: back to Cycle A", "……成功补救：回到甲循环", "#2e7d32"),
    ("let_down", "… let down", "……补救不当", "#c62828"),
)


def _bar(label: str, count: int, whole: int, colour: str, cls: str, pct: bool = True) -> str:
    share = count / whole if whole else 0.0
    width = max(0.0, min(100.0, 100.0 * share))
    pct = f" ({percent_text(share)})" if whole and pct else ""
    return (f"<div class='{cls}' style='display:flex;align-items:center;gap:8px;margin:2px 0'>"
            f"<div style='flex:0 0 46%;font-size:0.86em'>{html.escape(label)}</div>"
            f"<div style='flex:1;background:#eceff1;height:12px;border-radius:3px'>"
            f"<div style='width:{width:.1f}%;background:{colour};height:12px;border-radius:3px'></div></div>"
            f"<div style='flex:0 0 6.5em;text-align:right;font-size:0.86em'>{count:,}{pct}</div></div>")


def flows_html(f: Flows, lang: str = "en") -> str:
    """The flows as proportional bars: each row's share of the row it comes from (purchases for
    the first two, purchases that fell short for complained / silent, answers for put right / let
    down; the answers themselves a full bar); then the customers lost, by reason, as shares of all
    lost."""
    zh = lang == "zh"
    whole = {"satisfied": f.purchases, "short": f.purchases, "complained": f.short, "silent": f.short,
             "answered": f.answered, "put_right": f.answered, "let_down": f.answered}
    parts = []
    for key, en, zh_, colour in _FLOW_ROWS:
        # (answers landing in a round may be to complaints of the round before: no share of those)
        parts.append(_bar(zh_ if zh else en, int(getattr(f, key)), whole[key], colour,
                          f"lsim-ws-flow lsim-ws-flow-{key}", pct=key != "answered"))
    total = sum(f.lost.values())
    head = (f"流失的客户：{total:,} 人" if zh else f"Customers lost: {total:,}")
    parts.append(f"<div style='margin-top:8px;font-weight:600;font-size:0.9em'>{html.escape(head)}</div>")
    for reason, c in f.lost.items():
        en, zh_ = REASON_LABELS[reason]
        parts.append(_bar(zh_ if zh else en, c, total, "#78909c", f"lsim-ws-lost lsim-ws-lost-{reason}"))
    return "".join(parts)


def lost_table(rows: pd.DataFrame, lang: str = "en") -> tuple[list[str], list[list[str]]]:
    """Customers lost per round by reason: ``(head, rows)`` for a table (reasons with none in any
    round left out)."""
    zh = lang == "zh"
    reasons = [r for r in REASONS[1:] if f"lost_{r}" in rows and rows[f"lost_{r}"].fillna(0).sum() > 0]
    head = ["轮次" if zh else "Round"] + [REASON_LABELS[r][1 if zh else 0] for r in reasons]
    body = [[str(int(r["round"]))] + [_cell(r[f"lost_{x}"], "int") for x in reasons] for r in rows.to_dict("records")]
    return head, body
