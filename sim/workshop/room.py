"""A live classroom market (a *workshop*): participants run competing merchants, a facilitator
steers rounds.

A workshop is made from a named scenario and a seed. It holds one market or several parallel
markets of the same scenario and seed (one per group of up to six participants, so that groups can
be compared fairly). Each merchant of each market is a *seat*: a participant who joins takes a free
seat; an empty seat, or one whose participant left, is played by the scenario's adaptive strategy
(a *bot*; ``"rule"`` when the scenario's merchant has none) until someone takes it.

Play goes in *rounds* of ``round_weeks`` weeks (default 13, a quarter). While a round is open each
participant sets decisions for their merchant (:data:`sim.workshop.decisions.DECISIONS`); at the
facilitator's *advance* every market applies them and runs the round's weeks. A merchant with no
new decision keeps last round's. The facilitator can undo the last round (its decisions come back
as the open round's), inject a market event (:data:`sim.workshop.decisions.MARKET_EVENTS`) and
broadcast a message.

Everything that changes a workshop is a record of its log (:class:`sim.workshop.log.EventLog`),
written before it takes effect, and every change is made by applying that record
(:meth:`Workshop._apply`): the running workshop and one rebuilt from its log after a restart
(:meth:`Workshop.resume`) go through the same code, so they are the same market.

Who may do what: the facilitator's actions need the facilitator's key (given once, at creation;
the log keeps only its hash); a participant acts through the seat token given when they joined
(also kept only as a hash), on their own seat only. A second browser taking a seat that is held
needs that seat's token.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import math
import secrets
import threading
import time
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..inputs.scenario import RUN_PARAMS, Scenario, load_scenario, scenario_names
from ..mechanism.state import REASONS
from ..merchants import Merchant
from ..model import LoyaltyModel
from ..params import MERCHANT_PARAMS, PARAMS, ParamError
from ..runs.provenance import replicate_seeds
from .decisions import DECISIONS, MARKET_EVENTS, check_decision, check_event
from .log import EventLog, Record, WorkshopError

__all__ = ["Workshop", "WorkshopError", "Seat", "Round", "SCORE_WEIGHTS", "ROUND_KPIS", "STORY_KINDS", "new_code",
           "MAX_MERCHANTS", "DEFAULT_ROUND_WEEKS"]

#: merchants a market may hold (a group of participants)
MAX_MERCHANTS = 6
#: weeks in a round unless the facilitator says otherwise (a quarter)
DEFAULT_ROUND_WEEKS = 13
#: the balanced scorecard's parts and default weights
SCORE_WEIGHTS = {"profit": 1 / 3, "loyalty": 1 / 3, "satisfaction": 1 / 3}
#: a round's figures per merchant: (column, how the round's weeks are summed up)
ROUND_KPIS = (("customers", "last"), ("market_share", "last"), ("loyal_share", "last"), ("churn_rate", "mean"),
              ("satisfaction", "last"), ("trust", "last"), ("revenue", "sum"), ("profit", "sum"),
              ("cumulative_profit", "last"), ("clv", "last"), ("acquired", "sum"), ("lost", "sum"),
              ("price", "last"), ("quality", "last"), ("nps", "last"), ("cycle_a", "sum"),
              ("dissatisfied", "sum"), ("complaints", "sum"), ("recoveries", "sum"), ("recoveries_ok", "sum"),
              *((f"lost_{r}", "sum") for r in REASONS[1:]))
#: the customers whose stories a participant reads after each round: (kind of
#: :meth:`sim.model.LoyaltyModel.pick_customer`, …), the first kind that has a customer in each group
STORY_KINDS = (("loyal", "trusting", "ordinary"), ("botched", "recovered"), ("left",))
_CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def new_code(length: int = 5) -> str:
    """A short room code to read aloud and type (letters and digits that cannot be mistaken)."""
    return "".join(secrets.choice(_CODE_LETTERS) for _ in range(length))


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass
class Seat:
    """A merchant of a market and who plays it (``name`` empty: a bot)."""

    market: int
    merchant: str
    name: str = ""
    token_hash: str = ""

    @property
    def taken(self) -> bool:
        return bool(self.token_hash)

    @property
    def actor(self) -> str:
        return f"{self.market + 1}:{self.merchant}"


@dataclass
class Round:
    """A round as played: its decisions per seat, the seats held by participants at its start, and
    the market events injected into it."""

    number: int
    decisions: dict[tuple[int, str], dict] = field(default_factory=dict)
    seated: frozenset = frozenset()
    events: tuple[str, ...] = ()


class Workshop:
    """One workshop, live. Make one with :meth:`create` or :meth:`resume`; every method that changes
    it writes a record to the log first."""

    def __init__(self, log: EventLog, code: str):
        self.log = log
        self.code = code
        self.lock = threading.RLock()
        self.created = False
        self.closed = False
        self.scenario_name = ""
        self.scenario: Scenario | None = None
        self.seed = 0
        self.run_seed = 0
        self.n_markets = 1
        self.round_weeks = DEFAULT_ROUND_WEEKS
        self.customers: int | None = None
        self.n_merchants: int | None = None  # merchants per market (None: the scenario's)
        self.weights = dict(SCORE_WEIGHTS)
        self.key_hash = ""
        self.seats: dict[tuple[int, str], Seat] = {}
        self.pending: dict[tuple[int, str], dict] = {}
        self.pending_events: list[str] = []
        self.rounds: list[Round] = []
        self.messages: list[str] = []
        self.models: list[LoyaltyModel] = []
        self._tables: dict[tuple[int, int], pd.DataFrame] = {}  # (market, version) → round table
        self._fired: list[int] = []
        self.bot_strategy: dict[str, str] = {}
        #: decisions locked by the facilitator (paused), the open round's deadline (epoch seconds) and
        #: what was left of it when paused
        self.locked = False
        self.deadline: float | None = None
        self.remaining: float | None = None
        #: counts the records applied; :meth:`wait_change` wakes pages when it moves
        self.version = 0
        self.changed = threading.Condition(self.lock)

    # ---- making one ----------------------------------------------------------------------------
    @classmethod
    def create(cls, log: EventLog, scenario: str = "baseline", seed: int = 1, *, markets: int = 1,
               round_weeks: int = DEFAULT_ROUND_WEEKS, customers: int | None = None,
               merchants: int | None = None, code: str | None = None) -> tuple["Workshop", str]:
        """A new workshop of ``markets`` parallel markets of ``scenario`` (a named scenario) from
        ``seed``, each with ``merchants`` merchants (default: the scenario's; 2 … 6, see
        :meth:`_params`). Returns it and the facilitator's key (shown once; the log keeps its hash)."""
        if scenario not in scenario_names():
            raise WorkshopError("scenario", f"no scenario named {scenario!r} (scenarios: {', '.join(scenario_names())})",
                                None, f"没有名为 {scenario!r} 的情景")
        sc = load_scenario(scenario)
        if len(sc.params.merchants) > MAX_MERCHANTS:
            raise WorkshopError("scenario", f"scenario {scenario!r} has {len(sc.params.merchants)} merchants: a workshop "
                                f"market holds at most {MAX_MERCHANTS}", None,
                                f"情景 {scenario!r} 有 {len(sc.params.merchants)} 个商家：工作坊的一个市场最多 {MAX_MERCHANTS} 个")
        seed = RUN_PARAMS["seed"].validate(seed, key="seed")
        markets = _whole(markets, "markets", 1, 10)
        round_weeks = _whole(round_weeks, "round_weeks", 1, 52)
        if customers is not None:
            customers = PARAMS["n_customers"].validate(customers, key="customers")
        if merchants is not None:
            merchants = _whole(merchants, "merchants", 2, MAX_MERCHANTS)
        code = code or new_code()
        if log.records(code):
            raise WorkshopError("code", f"a workshop with code {code} exists already", None, f"代码为 {code} 的工作坊已存在")
        key = secrets.token_urlsafe(16)
        ws = cls(log, code)
        ws._record("create", "facilitator", {"scenario": scenario, "seed": seed, "markets": markets,
                                             "round_weeks": round_weeks, "customers": customers,
                                             "merchants": merchants,
                                             "weights": dict(SCORE_WEIGHTS), "key_hash": _hash(key)})
        return ws, key

    @classmethod
    def resume(cls, log: EventLog, code: str) -> "Workshop":
        """The workshop ``code`` rebuilt from its log: every record applied again, in order."""
        records = log.records(code)
        if not records or records[0].kind != "create":
            raise WorkshopError("code", f"no workshop with code {code!r}", None, f"没有代码为 {code!r} 的工作坊")
        ws = cls(log, code)
        with ws.lock:
            for i, rec in enumerate(records, 1):
                ws._apply_logged(rec, i, len(records))
        return ws

    @classmethod
    def replay(cls, log: EventLog, code: str):
        """The workshop ``code`` step by step, as it happened: yields ``(record, workshop)`` after each
        record of its log is applied (the same workshop object, changed in place)."""
        records = log.records(code)
        if not records or records[0].kind != "create":
            raise WorkshopError("code", f"no workshop with code {code!r}", None, f"没有代码为 {code!r} 的工作坊")
        ws = cls(log, code)
        for i, rec in enumerate(records, 1):
            with ws.lock:
                ws._apply_logged(rec, i, len(records))
            yield rec, ws

    # ---- what the facilitator does -------------------------------------------------------------
    def check_key(self, key: str) -> None:
        """Raise :class:`WorkshopError` unless ``key`` is this workshop's facilitator key."""
        if not isinstance(key, str) or not hmac.compare_digest(_hash(key), self.key_hash):
            raise WorkshopError("key", "only the facilitator may do this (wrong facilitator key)", None,
                                "只有主持人可以执行此操作（主持人密钥不正确）")

    def start_timer(self, key: str, seconds: Any) -> float:
        """Give the open round a deadline ``seconds`` from now (10 … 3600); decisions lock when it
        passes. Returns the deadline (epoch seconds)."""
        with self.lock:
            self.check_key(key)
            self._open()
            secs = _whole(seconds, "seconds", 10, 3600)
            self._record("timer", "facilitator", {"seconds": secs})
            return self.deadline

    def pause(self, key: str) -> None:
        """Lock decisions and stop the round's clock (what is left of it is kept)."""
        with self.lock:
            self.check_key(key)
            self._open()
            if self.locked:
                raise WorkshopError("round", "the round is paused already", None, "本轮已经暂停")
            self._record("pause", "facilitator", {})

    def go_on(self, key: str) -> None:
        """Unlock decisions after a pause; the clock goes on with what was left of it."""
        with self.lock:
            self.check_key(key)
            self._open()
            if not self.locked:
                raise WorkshopError("round", "the round is not paused", None, "本轮没有暂停")
            self._record("resume", "facilitator", {})

    def seconds_left(self, now: float | None = None) -> float | None:
        """Seconds until the open round's decisions lock (None: no deadline; 0: locked)."""
        if self.locked:
            return 0.0 if self.remaining is None else max(0.0, self.remaining)
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - (time.time() if now is None else now))

    def accepting(self, now: float | None = None) -> bool:
        """Whether participants' decisions are taken now."""
        left = self.seconds_left(now)
        return not self.closed and not self.locked and (left is None or left > 0)

    def wait_change(self, seen: int, timeout: float = 30.0) -> int:
        """Wait until the workshop changed after version ``seen`` (at most ``timeout`` seconds);
        returns the current version. For pages that show a workshop to keep up with it."""
        with self.changed:
            self.changed.wait_for(lambda: self.version != seen, timeout=timeout)
            return self.version

    def advance(self, key: str, number: Any = None) -> int:
        """Close the open round and play it in every market; returns the round's number (1, 2, …).

        ``number``: the round the facilitator asked to play (the one their page showed). Asking for a
        round that is not the open one is refused and plays nothing, so that "play round N" plays
        round N once however often it arrives (a double click, two facilitator's pages, a request
        that waited for the round before it)."""
        with self.lock:
            self.check_key(key)
            self._open()
            open_round = len(self.rounds) + 1
            if number is not None:
                asked = _whole(number, "round", 1, 10**6)
                if asked < open_round:
                    raise WorkshopError("round", f"round {asked} has been played already (round {open_round} is "
                                        "open)", None, f"第 {asked} 轮已经进行过了（当前为第 {open_round} 轮）")
                if asked > open_round:
                    raise WorkshopError("round", f"round {asked} is not open yet (round {open_round} is open)",
                                        None, f"第 {asked} 轮尚未开始（当前为第 {open_round} 轮）")
            return self._record("advance", "facilitator", {"round": open_round})

    def undo(self, key: str) -> int:
        """Take the last round back: the markets return to its start and its decisions and events are
        the open round's again. Returns the number of rounds left."""
        with self.lock:
            self.check_key(key)
            self._open()
            if not self.rounds:
                raise WorkshopError("round", "no round has been played yet", None, "还没有进行过任何一轮")
            return self._record("undo", "facilitator", {"round": len(self.rounds)})

    def inject(self, key: str, event: str) -> None:
        """Add a market event to the open round (every market of the workshop)."""
        with self.lock:
            self.check_key(key)
            self._open()
            check_event(event)
            self._record("inject", "facilitator", {"event": event, "round": len(self.rounds) + 1})

    def message(self, key: str, text: str) -> None:
        """Broadcast a message to everyone in the workshop."""
        with self.lock:
            self.check_key(key)
            text = str(text).strip()
            if not text or len(text) > 500:
                raise WorkshopError("message", "a message has 1 … 500 characters", None, "消息须为 1 … 500 个字符")
            self._record("message", "facilitator", {"text": text})

    def set_weights(self, key: str, weights: Mapping[str, Any]) -> None:
        """The balanced scorecard's weights (``profit``, ``loyalty``, ``satisfaction``; each 0 … 1, not all 0)."""
        with self.lock:
            self.check_key(key)
            clean = {}
            for k in SCORE_WEIGHTS:
                v = weights.get(k, self.weights[k]) if isinstance(weights, Mapping) else None
                try:
                    v = float(v)
                except (TypeError, ValueError):
                    v = math.nan
                if not 0 <= v <= 1:
                    raise WorkshopError(f"weights.{k}", f"weight '{k}' must be a number in 0 … 1", None,
                                        f"权重 '{k}' 必须是 0 … 1 之间的数")
                clean[k] = v
            unknown = set(weights) - set(SCORE_WEIGHTS) if isinstance(weights, Mapping) else set()
            if unknown or sum(clean.values()) <= 0:
                raise WorkshopError("weights", "weights are profit, loyalty and satisfaction, not all 0", None,
                                    "权重为利润、忠诚和满意度三项，且不能全为 0")
            self._record("weights", "facilitator", clean)

    def close(self, key: str) -> None:
        with self.lock:
            self.check_key(key)
            self._open()
            self._record("close", "facilitator", {})

    def free_seat(self, key: str, market: Any, merchant: str) -> Seat:
        """Take a seat from whoever holds it (their page then holds none and offers to join again),
        so that someone else — or the same participant on another device — can take it; a bot plays
        it until then. ``market`` counts from 1 as the pages show it."""
        with self.lock:
            self.check_key(key)
            self._open()
            m = _whole(market, "market", 1, self.n_markets) - 1
            seat = self.seats.get((m, str(merchant)))
            if seat is None:
                raise WorkshopError("merchant", f"no merchant {merchant!r} in market {m + 1}", None,
                                    f"市场 {m + 1} 中没有商家 {merchant!r}")
            if not seat.taken:
                raise WorkshopError("seat", f"merchant {seat.merchant} of market {m + 1} has no participant", None,
                                    f"市场 {m + 1} 的商家 {seat.merchant} 没有参与者")
            self._record("leave", "facilitator", {"market": m, "merchant": seat.merchant})
            return seat

    # ---- what a participant does ---------------------------------------------------------------
    def join(self, name: str, market: int | None = None, merchant: str | None = None,
             token: str | None = None) -> tuple[Seat, str]:
        """Take a seat as ``name``: the one asked for, or the first free one (markets in order).
        With the ``token`` of a seat already held, that seat is given back (a reload, a dropped
        connection). Returns the seat and its token."""
        with self.lock:
            self._open()
            if token:
                seat = self.seat_of(token)
                return seat, token
            name = str(name or "").strip()
            if not name or len(name) > 40:
                raise WorkshopError("name", "a display name has 1 … 40 characters", None, "显示名称须为 1 … 40 个字符")
            if market is not None or merchant is not None:
                seat = self.seats.get((_whole(market if market is not None else 1, "market", 1, self.n_markets) - 1,
                                       str(merchant)))
                if seat is None:
                    raise WorkshopError("merchant", f"no merchant {merchant!r} in market {market}", None,
                                        f"市场 {market} 中没有商家 {merchant!r}")
                if seat.taken:
                    raise WorkshopError("merchant", f"merchant {seat.merchant} of market {seat.market + 1} is taken "
                                        f"by {seat.name}", None,
                                        f"市场 {seat.market + 1} 的商家 {seat.merchant} 已由 {seat.name} 担任")
            else:
                free = [s for s in self.seats.values() if not s.taken]
                if not free:
                    raise WorkshopError("seat", "every seat is taken", None, "所有席位都已有人")
                seat = free[0]
            token = secrets.token_urlsafe(16)
            self._record("join", "server", {"market": seat.market, "merchant": seat.merchant, "name": name,
                                            "token_hash": _hash(token)})
            return self.seats[(seat.market, seat.merchant)], token

    def leave(self, token: str) -> None:
        """Give the seat back (a bot plays it from the next round on)."""
        with self.lock:
            seat = self.seat_of(token)
            self._record("leave", seat.actor, {"market": seat.market, "merchant": seat.merchant})

    def seat_of(self, token: str) -> Seat:
        """The seat whose token is ``token``, or :class:`WorkshopError`."""
        if isinstance(token, str) and token:
            h = _hash(token)
            for s in self.seats.values():
                if s.token_hash and hmac.compare_digest(s.token_hash, h):
                    return s
        raise WorkshopError("token", "this browser holds no seat in this workshop (join again)", None,
                            "此浏览器在本工作坊中没有席位（请重新加入）")

    def decide(self, token: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Set decisions of the token's own merchant for the open round (validated; nothing is taken
        when one value is bad). Returns the validated values."""
        with self.lock:
            self._open()
            seat = self.seat_of(token)
            if not self.accepting():
                raise WorkshopError("round", f"decisions for round {self.round_number} are locked (wait for the "
                                    "facilitator)", None, f"第 {self.round_number} 轮的决策已锁定（请等待主持人）")
            clean = check_decision(fields, seat.merchant)
            self._record("decide", seat.actor, {"market": seat.market, "merchant": seat.merchant,
                                                "round": len(self.rounds) + 1, "fields": clean})
            return clean

    # ---- what everyone sees --------------------------------------------------------------------
    @property
    def round_number(self) -> int:
        """The open round (1 before the first advance)."""
        return len(self.rounds) + 1

    @property
    def params(self):
        """The settings every market of the workshop starts from."""
        return self._params()

    @property
    def merchant_names(self) -> list[str]:
        return [m.name for m in self.params.merchants] if self.scenario else []

    def policy(self, market: int, merchant: str) -> dict[str, Any]:
        """The merchant's decisions as they stand in the market now, with the open round's pending ones over them."""
        pol = self.models[market].merchant(merchant).policy
        out = {k: getattr(pol, k) for k in DECISIONS}
        out.update(self.pending.get((market, merchant), {}))
        return out

    def weeks(self, market: int) -> pd.DataFrame:
        """The market's merchants week by week (``step`` 0 = the start), with a ``round`` column."""
        df = self.models[market].datacollector.get_agenttype_vars_dataframe(Merchant).reset_index()
        df = df.rename(columns={"Step": "step"}).drop(columns=["AgentID"])
        df["step"] = df["step"] - df["step"].min()
        df["round"] = np.ceil(df["step"] / self.round_weeks).astype(int)
        df.insert(0, "market", market + 1)
        return df

    def round_table(self, market: int) -> pd.DataFrame:
        """One row per played round × merchant: the round's figures (:data:`ROUND_KPIS`). Made once
        per market between two changes of the workshop (every page of a market reads the same table;
        treat it as read-only)."""
        with self.lock:
            key = (market, self.version)
            table = self._tables.get(key)
            if table is None:
                self._tables = {k: v for k, v in self._tables.items() if k[1] == self.version}
                table = self._tables[key] = self._round_table(market)
            return table

    def _round_table(self, market: int) -> pd.DataFrame:
        df = self.weeks(market)
        return _by_round(df[df["round"] >= 1], market)

    def opening(self, market: int) -> pd.DataFrame:
        """The market before round 1, in the columns of :meth:`round_table` with ``round`` 0: week 0,
        when each merchant wins its first customers. Its ``profit`` is what winning them cost (their
        acquisition cost, paid before any decision), and it counts in every ``cumulative_profit``
        after it: the start's profit plus each round's add up to the cumulative profit."""
        with self.lock:
            df = self.weeks(market)
            return _by_round(df[df["round"] == 0], market)

    def stories(self, market: int, merchant: str) -> list[tuple[str, dict]]:
        """A few of ``merchant``'s customers after the last played round, as ``(kind, story)`` with
        the story of :meth:`sim.model.LoyaltyModel.customer`: one per group of :data:`STORY_KINDS`
        that has such a customer (the most committed one can find: loyal, else trusting, else
        ordinary; one whose complaint went badly, else one whose complaint was put right; one who
        left). The same customers for every page and every reload within a round: they are drawn
        from a generator of their own seeded by the workshop's seed, the round, the market and the
        merchant (never the market's generator)."""
        model = self.models[market]
        j = self.merchant_names.index(merchant)
        rng = np.random.default_rng([int(self.seed), len(self.rounds), market, j])
        out = []
        for kinds in STORY_KINDS:
            for kind in kinds:
                cid = model.pick_customer(kind, rng, merchant=j)
                story = model.customer(cid) if cid is not None else None
                if story is not None:
                    out.append((kind, story))
                    break
        return out

    def scorecard(self, market: int) -> pd.DataFrame:
        """The leaderboard of a market: per merchant its cumulative profit, loyal share and
        satisfaction now, each scaled 0 … 1 between the market's worst and best, and the score (the
        weights' mean of the three), best first. Who plays each merchant is in ``player``."""
        last = self.weeks(market).groupby("merchant").last().reset_index()
        parts = {"profit": "cumulative_profit", "loyalty": "loyal_share", "satisfaction": "satisfaction"}
        total = sum(self.weights.values())
        score = np.zeros(len(last))
        for part, col in parts.items():
            x = last[col].to_numpy(dtype=float)
            span = np.nanmax(x) - np.nanmin(x)
            scaled = np.full(len(x), 0.5) if not span > 0 else (x - np.nanmin(x)) / span
            last[f"{part}_scaled"] = scaled
            score += self.weights[part] * scaled
        last["score"] = score / total
        last["player"] = [self.seats[(market, m)].name for m in last["merchant"]]
        cols = ["merchant", "player", "score", "cumulative_profit", "loyal_share", "satisfaction",
                *[f"{p}_scaled" for p in parts]]
        return last[cols].sort_values("score", ascending=False, kind="stable").reset_index(drop=True)

    def decisions_table(self) -> pd.DataFrame:
        """Every decision of the workshop as played: one row per round × market × merchant × field."""
        rows = []
        for r in self.rounds:
            for (m, merchant), fields in sorted(r.decisions.items()):
                for k, v in fields.items():
                    rows.append({"round": r.number, "market": m + 1, "merchant": merchant, "field": k, "value": v,
                                 "player": "participant" if (m, merchant) in r.seated else "bot"})
        return pd.DataFrame(rows, columns=["round", "market", "merchant", "field", "value", "player"])

    def export(self, folder) -> list:
        """Write the workshop to ``folder``: ``decisions.csv``, ``weeks.csv`` (every market's merchants
        week by week, week 0 in ``round`` 0), ``rounds.csv`` (per market the start, ``round`` 0 of
        :meth:`opening`, then every played round of :meth:`round_table`: its profits add up to the
        cumulative profit) and ``log.csv`` (the log's records). Returns the paths."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        with self.lock:
            tables = {
                "decisions.csv": self.decisions_table(),
                "weeks.csv": pd.concat([self.weeks(m) for m in range(self.n_markets)], ignore_index=True),
                "rounds.csv": pd.concat([t for m in range(self.n_markets)
                                         for t in (self.opening(m), self.round_table(m)) if not t.empty],
                                        ignore_index=True),
                "log.csv": pd.DataFrame([{"seq": r.seq, "at": r.at, "kind": r.kind, "actor": r.actor,
                                          "data": _public(r.data)} for r in self.log.records(self.code)]),
            }
        paths = []
        for name, df in tables.items():
            p = folder / name
            tmp = p.with_name(f".tmp-{name}")
            df.to_csv(tmp, index=False)
            tmp.replace(p)
            paths.append(p)
        return paths

    # ---- the one way anything changes ----------------------------------------------------------
    def _open(self) -> None:
        if self.closed:
            raise WorkshopError("code", f"workshop {self.code} is closed", None, f"工作坊 {self.code} 已结束")

    def _record(self, kind: str, actor: str, data: dict) -> Any:
        rec = self.log.append(self.code, kind, actor, data)  # on disk first
        with self.changed:
            out = self._apply(rec)
            self.changed.notify_all()
        return out

    def _apply_logged(self, rec: Record, i: int, n: int) -> None:
        """Apply ``rec``, the ``i``-th of the ``n`` records read back from the log; a record that
        cannot be applied (edited by hand, or by another program) is a :class:`WorkshopError` naming
        it, not a crash."""
        try:
            self._apply(rec)
        except ParamError as e:  # e.g. a scenario that is not there
            raise self.log.damaged(rec, i, n, e.message, e.message_zh) from e
        except KeyError as e:
            raise self.log.damaged(rec, i, n, f"it has no {e.args[0]!r}", f"缺少 {e.args[0]!r}") from e
        except (TypeError, ValueError, IndexError, AttributeError, OverflowError) as e:
            raise self.log.damaged(rec, i, n, f"{type(e).__name__}: {e}") from e

    def _apply(self, rec: Record) -> Any:
        d = rec.data
        kind = rec.kind
        self.version += 1
        if kind == "create":
            self.created = True
            self.scenario_name = d["scenario"]
            self.scenario = load_scenario(d["scenario"])
            self.seed = int(d["seed"])
            self.run_seed = replicate_seeds(self.seed, 1)[0]
            self.n_markets = int(d["markets"])
            self.round_weeks = int(d["round_weeks"])
            self.customers = d.get("customers")
            self.n_merchants = d.get("merchants")
            self.weights = dict(d["weights"])
            self.key_hash = d["key_hash"]
            self.bot_strategy = {m.name: (m.strategy if m.strategy != "fixed" else "rule")
                                 for m in self.params.merchants}
            self.seats = {(i, m): Seat(i, m) for i in range(self.n_markets) for m in self.merchant_names}
            self._rebuild()
            return None
        if kind == "join":
            s = self.seats[(int(d["market"]), d["merchant"])]
            s.name, s.token_hash = d["name"], d["token_hash"]
        elif kind == "leave":
            s = self.seats[(int(d["market"]), d["merchant"])]
            s.name, s.token_hash = "", ""
        elif kind == "decide":
            self.pending.setdefault((int(d["market"]), d["merchant"]), {}).update(d["fields"])
        elif kind == "inject":
            self.pending_events.append(d["event"])
        elif kind == "message":
            self.messages.append(d["text"])
        elif kind == "weights":
            self.weights = dict(d)
        elif kind == "timer":
            self.locked, self.remaining = False, None
            self.deadline = rec.at + float(d["seconds"])
        elif kind == "pause":
            self.remaining = None if self.deadline is None else max(0.0, self.deadline - rec.at)
            self.locked, self.deadline = True, None
        elif kind == "resume":
            self.locked = False
            self.deadline = None if self.remaining is None else rec.at + self.remaining
            self.remaining = None
        elif kind == "advance":
            rnd = Round(len(self.rounds) + 1, decisions={k: dict(v) for k, v in self.pending.items()},
                        seated=frozenset(k for k, s in self.seats.items() if s.taken),
                        events=tuple(self.pending_events))
            for m, model in enumerate(self.models):
                self._play(m, model, rnd)
            self.rounds.append(rnd)
            self.pending, self.pending_events = {}, []
            self.locked, self.deadline, self.remaining = False, None, None
            return rnd.number
        elif kind == "undo":
            rnd = self.rounds.pop()
            self.pending = {k: dict(v) for k, v in rnd.decisions.items()}
            self.pending_events = list(rnd.events)
            self.locked, self.deadline, self.remaining = False, None, None
            self._rebuild()
            return len(self.rounds)
        elif kind == "close":
            self.closed = True
        return None

    # ---- the markets ---------------------------------------------------------------------------
    def _params(self):
        """The markets' settings: the scenario's, with the workshop's number of customers and of
        merchants (more merchants than the scenario has are copies of its merchants in turn, named
        with the next letters; fewer are its first ones)."""
        p = self.scenario.params
        if self.customers:
            p = p.replace(n_customers=int(self.customers))
        k = self.n_merchants or len(p.merchants)
        if k != len(p.merchants):
            taken = {m.name for m in p.merchants}
            spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in taken]
            ms = list(p.merchants[:k])
            while len(ms) < k:
                ms.append(dataclasses.replace(p.merchants[len(ms) % len(p.merchants)], name=spare.pop(0)))
            p = p.replace(merchants=tuple(ms))
        return p

    def _rebuild(self) -> None:
        """Every market from its start, replaying the rounds played so far."""
        self.models = [LoyaltyModel(self._params(), seed=self.run_seed) for _ in range(self.n_markets)]
        self._fired = [0] * self.n_markets
        for m, model in enumerate(self.models):
            self._fire(m, model)
            for rnd in self.rounds:
                self._play(m, model, rnd)

    def _fire(self, m: int, model: LoyaltyModel) -> None:
        """The scenario's own scheduled changes that are due."""
        events = sorted(self.scenario.events, key=lambda e: e.step)
        while self._fired[m] < len(events) and events[self._fired[m]].step <= model.steps:
            events[self._fired[m]].apply(model)
            self._fired[m] += 1

    def _play(self, m: int, model: LoyaltyModel, rnd: Round) -> None:
        """Play round ``rnd`` in market ``m``: who plays each merchant, the decisions, the round's
        market events; then its weeks."""
        for merchant in self.merchant_names:
            strategy = "fixed" if (m, merchant) in rnd.seated else self.bot_strategy[merchant]
            if model.merchant(merchant).policy.strategy != strategy:
                model.set_policy(merchant, strategy=strategy)
            fields = rnd.decisions.get((m, merchant))
            if fields:
                model.set_policy(merchant, **fields)
        restore_market: dict[str, Any] = {}
        restore_policy: list[tuple[str, dict]] = []
        for name in rnd.events:
            ev = MARKET_EVENTS[name]
            changes = {}
            for k, add in ev.market_add:
                changes[k] = _clip(k, getattr(model.params, k) + add)
            for k, times in ev.market_times:
                changes[k] = _clip(k, getattr(model.params, k) * times)
            if changes:
                if not ev.lasting:
                    restore_market.update({k: getattr(model.params, k) for k in changes if k not in restore_market})
                model.set_params(**changes)
            for merchant in self.merchant_names:
                pol = model.merchant(merchant).policy
                pchanges = {k: _clip(k, getattr(pol, k) + add, merchant=True) for k, add in ev.merchants_add}
                if pchanges:
                    if not ev.lasting:
                        restore_policy.append((merchant, {k: getattr(pol, k) for k in pchanges}))
                    model.set_policy(merchant, **pchanges)
        for _ in range(self.round_weeks):
            model.step()
            self._fire(m, model)
        if restore_market:
            model.set_params(**restore_market)
        for merchant, old in reversed(restore_policy):
            model.set_policy(merchant, **old)


def _by_round(df: pd.DataFrame, market: int) -> pd.DataFrame:
    """Weeks of a market (:meth:`Workshop.weeks`) summed up per round × merchant (:data:`ROUND_KPIS`)."""
    if df.empty:
        return pd.DataFrame(columns=["market", "round", "merchant", *[k for k, _ in ROUND_KPIS]])
    agg = {k: how for k, how in ROUND_KPIS if k in df.columns}
    out = df.groupby(["round", "merchant"], sort=True).agg(agg).reset_index()
    out.insert(0, "market", market + 1)
    return out


def _whole(v: Any, key: str, lo: int, hi: int) -> int:
    try:
        x = int(v) if not isinstance(v, bool) and float(v) == int(float(v)) else None
    except (TypeError, ValueError, OverflowError):
        x = None
    if x is None or not lo <= x <= hi:
        raise WorkshopError(key, f"'{key}' must be a whole number in {lo} … {hi} (got {v!r})", None,
                            f"'{key}' 必须是 {lo} … {hi} 之间的整数（收到 {v!r}）")
    return x


def _clip(k: str, v: float, merchant: bool = False) -> float:
    p = MERCHANT_PARAMS[k] if merchant else PARAMS[k]
    return float(min(max(v, p.lo), p.hi))


def _public(data: dict) -> str:
    """A record's data for an export: without the hashes of keys and tokens."""
    return json.dumps({k: v for k, v in data.items() if not k.endswith("_hash")}, sort_keys=True, ensure_ascii=False)
