"""What happened in a workshop's market, round by round: short lines for the debrief, in English and
Chinese, generated from the rounds' figures and the decisions that preceded them.

For each played round of a market:

- the market events injected into it ("Round 2: market event: a newcomer's price war …");
- what each merchant changed at its start ("Round 3: B raised its price 0.95 → 1.40");
- the merchant that lost the most customers, with its churn before and during the round, the
  decision that preceded the losses, if it made one in that round or the round before, and the
  reason most of them were lost for ("Round 3: B lost the most customers: 31 (churn 1.0% → 2.3%),
  after it raised its price 0.95 → 1.40 (round 3); the main reason: a cheaper offer, or a price rise
  it would not pay (24 of 31)");
- the merchant whose loyal share rose the most (from round 2 on), with its decision likewise;
- the most profitable merchant of the round.

:func:`debrief` is a pure function of plain data (the round table of
:meth:`~sim.workshop.room.Workshop.round_table`, the decisions and events per round, each merchant's
starting decisions), so it is tested without a model; :func:`what_happened` reads those from a
:class:`~sim.workshop.room.Workshop`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import pandas as pd

from ..analysis.formatting import number_text, percent_text, value_text
from ..mechanism.state import REASON_LABELS, REASONS
from ..params import MERCHANT_PARAMS, PROGRAMME_LABELS
from .decisions import DECISIONS, MARKET_EVENTS

__all__ = ["Line", "debrief", "what_happened", "change_text", "LINE_KINDS"]

#: the kinds of line, in the order they come within a round
LINE_KINDS = ("event", "decision", "lost", "loyal", "profit")


@dataclass(frozen=True)
class Line:
    """One "what happened" line: its round, kind (:data:`LINE_KINDS`), the merchant it is about
    (empty for a market event) and its text in both languages."""

    round: int
    kind: str
    merchant: str
    en: str
    zh: str

    def text(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en


def _value(field: str, v: Any, lang: str) -> str:
    if field == "programme":
        return PROGRAMME_LABELS.get(str(v), (str(v), str(v)))[1 if lang == "zh" else 0]
    return value_text(v)


def _label(field: str, lang: str) -> str:
    text = MERCHANT_PARAMS[field].label(lang)
    if lang == "zh":
        return text.replace("：", "")
    text = text.replace(": ", " ")  # "Recovery: delay" → "recovery delay"
    return text[:1].lower() + text[1:]


def change_text(field: str, old: Any, new: Any) -> tuple[str, str]:
    """A changed decision as words, ``(english, chinese)``: "raised its price 0.95 → 1.40"."""
    a_en, b_en, a_zh, b_zh = _value(field, old, "en"), _value(field, new, "en"), _value(field, old, "zh"), _value(field, new, "zh")
    l_en, l_zh = _label(field, "en"), _label(field, "zh")
    if old is None:
        return f"set its {l_en} to {b_en}", f"把{l_zh}设为 {b_zh}"
    if MERCHANT_PARAMS[field].kind == "choice":
        return f"switched its {l_en} {a_en} → {b_en}", f"把{l_zh}从 {a_zh} 改为 {b_zh}"
    if float(new) > float(old):
        return f"raised its {l_en} {a_en} → {b_en}", f"把{l_zh}从 {a_zh} 提高到 {b_zh}"
    return f"lowered its {l_en} {a_en} → {b_en}", f"把{l_zh}从 {a_zh} 降到 {b_zh}"


def _join(parts: Sequence[str], lang: str) -> str:
    if lang == "zh":
        return "，".join(parts)
    if len(parts) <= 2:
        return " and ".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def debrief(table: pd.DataFrame, decisions: Mapping[int, Mapping[str, Mapping[str, Any]]],
            events: Mapping[int, Sequence[str]], start: Mapping[str, Mapping[str, Any]]) -> list[Line]:
    """The lines of one market, round by round (oldest first).

    ``table``: one row per round × merchant with at least ``round``, ``merchant``, ``lost``,
    ``churn_rate``, ``loyal_share``, ``profit`` (and ``price``, ``quality`` as they were in the market);
    ``decisions``: per round, per merchant, the fields set for that round; ``events``: per round, the
    market events' names; ``start``: per merchant, its decisions before the first round."""
    out: list[Line] = []
    if table is None or table.empty:
        return out
    # what each merchant had before each round: its starting decisions, then its last ones
    current = {m: dict(v) for m, v in start.items()}
    changes: dict[tuple[int, str], list[tuple[str, str]]] = {}
    rounds = sorted(int(r) for r in table["round"].unique())
    by_round = {r: table[table["round"] == r].set_index("merchant") for r in rounds}
    for r in rounds:
        prev = by_round.get(r - 1)
        for merchant, fields in sorted((decisions.get(r) or {}).items()):
            was = current.setdefault(merchant, {})
            texts = []
            for k in DECISIONS:
                if k not in fields:
                    continue
                old = was.get(k)
                if k in ("price", "quality") and prev is not None and merchant in prev.index:
                    old = prev.at[merchant, k]  # as the market had it (a bot may have moved it)
                new = fields[k]
                was[k] = new
                if old is not None and (str(old) == str(new) or (k != "programme" and _same(old, new))):
                    continue
                texts.append(change_text(k, old, new))
            if texts:
                changes[(r, merchant)] = texts

    for r in rounds:
        here = by_round[r]
        prev = by_round.get(r - 1)
        for name in events.get(r) or ():
            ev = MARKET_EVENTS.get(name)
            title_en, title_zh = (ev.title("en"), ev.title("zh")) if ev else (name, name)
            out.append(Line(r, "event", "", f"Round {r}: market event: {title_en}", f"第 {r} 轮：市场事件：{title_zh}"))
        for (rr, merchant), texts in sorted(changes.items()):
            if rr == r:
                out.append(Line(r, "decision", merchant, f"Round {r}: {merchant} {_join([t[0] for t in texts], 'en')}",
                                f"第 {r} 轮：{merchant} {_join([t[1] for t in texts], 'zh')}"))

        def after(merchant: str) -> tuple[str, str]:
            for rr in (r, r - 1):
                texts = changes.get((rr, merchant))
                if texts:
                    return (f", after it {_join([t[0] for t in texts], 'en')} (round {rr})",
                            f"，此前它{_join([t[1] for t in texts], 'zh')}（第 {rr} 轮）")
            return "", ""

        lost = here["lost"].astype(float)
        if len(lost) and lost.max() > 0:
            m = str(lost.idxmax())
            churn = percent_text(here.at[m, "churn_rate"], 1)
            if prev is not None and m in prev.index:
                churn_en = f"churn {percent_text(prev.at[m, 'churn_rate'], 1)} → {churn}"
                churn_zh = f"流失率 {percent_text(prev.at[m, 'churn_rate'], 1)} → {churn}"
            else:
                churn_en, churn_zh = f"churn {churn}", f"流失率 {churn}"
            a_en, a_zh = after(m)
            n = int(lost[m])
            why_en, why_zh = _main_reason(here.loc[m], n)
            out.append(Line(r, "lost", m, f"Round {r}: {m} lost the most customers: {n} ({churn_en}){a_en}{why_en}",
                            f"第 {r} 轮：{m} 流失的客户最多：{n} 人（{churn_zh}）{a_zh}{why_zh}"))
        if prev is not None:
            common = [m for m in here.index if m in prev.index]
            rise = {m: float(here.at[m, "loyal_share"]) - float(prev.at[m, "loyal_share"]) for m in common}
            if rise and max(rise.values()) > 0:
                m = max(rise, key=lambda k: rise[k])
                a, b = percent_text(prev.at[m, "loyal_share"], 1), percent_text(here.at[m, "loyal_share"], 1)
                a_en, a_zh = after(m)
                out.append(Line(r, "loyal", m, f"Round {r}: {m}'s loyal share rose the most: {a} → {b}{a_en}",
                                f"第 {r} 轮：{m} 的忠诚客户占比升幅最大：{a} → {b}{a_zh}"))
        profit = here["profit"].astype(float)
        if len(profit):
            m = str(profit.idxmax())
            p = number_text(round(float(profit[m]), 1))
            out.append(Line(r, "profit", m, f"Round {r}: {m} made the most profit: {p}",
                            f"第 {r} 轮：{m} 的利润最高：{p}"))
    return out


def _main_reason(row: pd.Series, n: int) -> tuple[str, str]:
    """"; the main reason: … (k of n)" from a round's ``lost_<reason>`` counts (nothing if the table
    has none)."""
    counts = {r: float(row.get(f"lost_{r}", 0)) for r in REASONS[1:]}
    counts = {r: c for r, c in counts.items() if c > 0}  # (nan: not counted)
    if not n or not counts:
        return "", ""
    reason = max(counts, key=lambda r: counts[r])
    k = int(counts[reason])
    en, zh = REASON_LABELS[reason]
    return f"; the main reason: {en} ({k} of {n})", f"；主要原因：{zh}（{n} 人中 {k} 人）"


def _same(a: Any, b: Any) -> bool:
    try:
        return abs(float(a) - float(b)) < 1e-9
    except (TypeError, ValueError):
        return False


def what_happened(ws, market: int) -> list[Line]:
    """The lines of market ``market`` (0-based) of the workshop ``ws`` (read under its lock)."""
    with ws.lock:
        table = ws.round_table(market)
        decisions = {r.number: {merchant: dict(f) for (m, merchant), f in r.decisions.items() if m == market}
                     for r in ws.rounds}
        events = {r.number: tuple(r.events) for r in ws.rounds}
        start = {m.name: {k: getattr(m, k) for k in DECISIONS if hasattr(m, k)}
                 for m in ws.scenario.params.merchants} if ws.scenario else {}
    return debrief(table, decisions, events, start)
