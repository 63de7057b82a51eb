"""What a participant decides for their merchant each round, and the market events a facilitator
can inject. Each decision is a merchant parameter of :data:`sim.params.MERCHANT_PARAMS`, validated by
its one declaration (type, range; a bilingual :class:`~sim.params.ParamError` naming the field)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..params import MERCHANT_PARAMS, ParamError

__all__ = ["DECISIONS", "check_decision", "MarketEvent", "MARKET_EVENTS", "check_event"]

#: the merchant parameters a participant sets, in the order the page shows them
DECISIONS: tuple[str, ...] = ("price", "quality", "promise", "failure_prob", "complaint_ease", "recovery_prob",
                              "recovery_delay", "compensation", "programme")


def check_decision(fields: Mapping[str, Any], merchant: str = "") -> dict[str, Any]:
    """``fields`` validated: each a decision of :data:`DECISIONS` with a value its declaration allows.
    Raises :class:`ParamError` (English and Chinese, naming the field and its range) on the first bad
    one; nothing is taken when one is bad."""
    if not isinstance(fields, Mapping) or not fields:
        raise ParamError("decision", "a decision names at least one field and its value", None,
                         "一项决策至少要给出一个字段及其取值")
    out: dict[str, Any] = {}
    for k, v in fields.items():
        if k not in DECISIONS:
            raise ParamError(str(k), f"'{k}' is not a decision of the workshop (decisions: {', '.join(DECISIONS)})",
                             None, f"'{k}' 不是本工作坊的决策（可决策：{'、'.join(DECISIONS)}）")
        key = f"{merchant}.{k}" if merchant else k
        out[k] = MERCHANT_PARAMS[k].validate(v, key=key)
    return out


@dataclass(frozen=True)
class MarketEvent:
    """A shock the facilitator injects into every market of a workshop, for one round or for good.
    ``market`` changes market-wide parameters (as multipliers of their value, or amounts added);
    ``merchants`` changes every merchant's policy the same way."""

    name: str
    title_en: str
    title_zh: str
    lasting: bool
    market_add: tuple[tuple[str, float], ...] = ()
    market_times: tuple[tuple[str, float], ...] = ()
    merchants_add: tuple[tuple[str, float], ...] = ()

    def title(self, lang: str = "en") -> str:
        return self.title_zh if lang == "zh" else self.title_en


#: the events a facilitator can inject (the round they are injected in: from its start)
MARKET_EVENTS: dict[str, MarketEvent] = {e.name: e for e in (
    MarketEvent("price_war", "A newcomer's price war: leaving the category tempts everyone this round",
                "新进入者打价格战：本轮离开这个品类对所有顾客更有吸引力", lasting=False,
                market_add=(("outside_option", 0.6),)),
    MarketEvent("scandal", "A scandal in the trade: every merchant's failures are likelier this round",
                "行业丑闻：本轮每个商家的服务失误都更常见", lasting=False,
                merchants_add=(("failure_prob", 0.10),)),
    MarketEvent("regulation", "New rules halve switching costs from this round on",
                "新规出台：从本轮起转换成本减半", lasting=True,
                market_times=(("procedural_cost", 0.5), ("relational_max", 0.5))),
)}


def check_event(name: Any) -> MarketEvent:
    """The market event named ``name``, or a :class:`ParamError` listing the known ones."""
    if not isinstance(name, str) or name not in MARKET_EVENTS:
        raise ParamError("event", f"unknown market event {name!r} (events: {', '.join(MARKET_EVENTS)})", None,
                         f"未知的市场事件 {name!r}（可用事件：{'、'.join(MARKET_EVENTS)}）")
    return MARKET_EVENTS[name]
