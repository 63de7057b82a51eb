"""The customers' state: stages, event flags, reasons for leaving, the :class:`Population` arrays
and the step's counts (:class:`StepStats`).

Every mechanism module of :mod:`sim.mechanism` reads and writes these arrays; history
(:mod:`sim.history`) and the observables (:mod:`sim.metrics`) read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "F32", "CHURNED", "PROSPECT", "ORDINARY", "TRUSTING", "LOYAL", "STAGES", "STAGE_LABELS", "EV", "REASONS",
    "REASON_LABELS", "R_NONE", "R_INVOLUNTARY", "R_FAILURE", "R_RECOVERY", "R_PRICE", "R_COMPETITOR", "R_OTHER",
    "Population", "StepStats", "Variable", "VARIABLES", "VARIABLE", "KEPT", "resets", "COUNT", "COUNT_MAX",
    "count_up", "nonzero",
]

F32 = np.float32

# ---- loyalty stages ---------------------------------------------------------------------------
CHURNED, PROSPECT, ORDINARY, TRUSTING, LOYAL = 0, 1, 2, 3, 4
STAGES = ("churned", "prospect", "ordinary", "trusting", "loyal")
STAGE_LABELS = {
    "churned": ("churned (left)", "已流失"),
    "prospect": ("prospect", "潜在客户"),
    "ordinary": ("ordinary", "普通客户"),
    "trusting": ("trusting", "信任客户"),
    "loyal": ("loyal", "忠诚客户"),
}


class EV:
    """Bit flags of what happened to a customer in a step (kept in ``Population.flags``)."""

    PURCHASE = 1
    SATISFIED = 2
    DELIGHTED = 4
    DISSATISFIED = 8
    COMPLAINED = 16
    RECOVERED = 32  # recovery evaluated and put things right (back to Cycle A)
    BOTCHED = 64  # recovery refused or not good enough
    SWITCHED = 128
    LEFT = 256
    ARRIVED = 512
    TRUSTING = 1024  # passed the bottleneck this step
    LOYAL = 2048  # became loyal this step
    BETRAYED = 4096  # lost loyalty this step
    TRIED_OTHER = 8192  # bought once from another merchant (variety seeking)
    HEARD_BAD = 16384
    HEARD_GOOD = 32768
    FAILED = 65536  # something went wrong in the encounter at its own merchant (a service failure)


# ---- why customers leave (a merchant or the market) ---------------------------------------------
REASONS = ("none", "involuntary", "service_failure", "poor_recovery", "price", "competitor", "other")
REASON_LABELS = {
    "none": ("", ""),
    "involuntary": ("left for reasons no merchant controls (moving, life events)", "因商家无法控制的原因离开（搬家、生活变化）"),
    "service_failure": ("a service failure that was never put right", "服务失误始终未得到弥补"),
    "poor_recovery": ("a complaint that was handled badly", "投诉处理不当"),
    "price": ("a cheaper offer, or a price rise it would not pay", "更便宜的报价，或不愿接受的涨价"),
    "competitor": ("a competitor's better offer", "竞争对手更好的报价"),
    "other": ("no longer saw enough value in the category", "不再觉得这类服务值得购买"),
}
R_NONE, R_INVOLUNTARY, R_FAILURE, R_RECOVERY, R_PRICE, R_COMPETITOR, R_OTHER = range(7)


@dataclass(frozen=True)
class Variable:
    """A customer state variable, declared once: its name (the :class:`Population` array and the
    reference customer's attribute), its type, its value in an empty place, what happens to it when
    a newcomer arrives (:func:`sim.mechanism.arrival.arrive`) and when a relationship with a merchant
    starts (:func:`sim.mechanism.relationship.start_relationship`), its labels and meaning.

    ``on_arrival`` and ``on_relationship`` are a number (the variable is reset to it), :data:`KEPT`
    (left as it is) or a few words saying what the rule does (``drawn``, ...), written by the
    mechanism itself. ``history`` marks the variables recorded in every step of a customer's history
    (:mod:`sim.history`)."""

    name: str
    dtype: type
    empty: float
    on_arrival: object
    on_relationship: object
    label_en: str
    label_zh: str
    help_en: str
    help_zh: str
    history: bool = False
    per_merchant: bool = False  # one value per merchant (an n × m array)

    def label(self, lang: str = "en") -> str:
        return self.label_zh if lang == "zh" else self.label_en

    def help(self, lang: str = "en") -> str:
        return self.help_zh if lang == "zh" else self.help_en

    @property
    def resets(self) -> tuple:
        """(reset on arrival, reset on a new relationship): the number, or ``None`` when the rule is not a
        plain reset."""
        return tuple(x if isinstance(x, (int, float)) and not isinstance(x, bool) else None
                     for x in (self.on_arrival, self.on_relationship))


#: ``on_arrival`` / ``on_relationship`` of a variable that is left as it is
KEPT = "kept"
_I8, _I16, _I32, _I64, _U16, _U32 = np.int8, np.int16, np.int32, np.int64, np.uint16, np.uint32
#: counts (steps, passes, complaints, ...) are 16-bit: they stop at COUNT_MAX (65,535) instead of
#: wrapping round (a run that long is 1,260 years of weeks)
COUNT = _U16
COUNT_MAX = int(np.iinfo(COUNT).max)


def nonzero(mask: np.ndarray) -> np.ndarray:
    """Positions where the one-dimensional ``mask`` is true (or non-zero), ascending: what
    ``np.flatnonzero`` gives for it, without that function's flattening wrapper (a third of the
    call's cost, which a step pays some twenty times)."""
    return mask.nonzero()[0]


def count_up(counts: np.ndarray, idx, by=None) -> None:
    """One more in ``counts[idx]`` (or one more where the mask ``by`` is true), stopping at
    :data:`COUNT_MAX`."""
    v = counts[idx]
    more = v < COUNT_MAX
    counts[idx] = v + (more if by is None else more & by)


def _v(name, dtype, empty, on_arrival, on_relationship, label_en, label_zh, help_en, help_zh, **kw) -> Variable:
    return Variable(name, dtype, empty, on_arrival, on_relationship, label_en, label_zh, help_en, help_zh, **kw)


#: every customer state variable (the order is the population's: floats, counts, then the rest)
VARIABLES: tuple[Variable, ...] = (
    _v("expectation", F32, 0, "drawn", "halfway to what it anticipates of the merchant", "expectation", "预期",
       "expected value of a purchase, E (the predicted level; the zone of tolerance is built around it)",
       "对一次购买价值的预期 E（预测水平；容忍区间围绕它建立）", history=True),
    _v("excite_expect", F32, 0, 0, KEPT, "expected excitement", "对惊喜属性的预期",
       "how much of the merchant's excitement attribute the customer has come to expect", "顾客已习以为常的惊喜属性的大小"),
    _v("expected_price", F32, 0, "drawn", KEPT, "expected price", "预期价格",
       "the price the customer expects to pay (money); adapts to prices paid", "顾客预期支付的价格（货币）；随所付价格调整"),
    _v("price_sens", F32, 0, "drawn", KEPT, "price sensitivity", "价格敏感度",
       "weight the customer puts on price (drawn at arrival)", "顾客对价格的重视程度（到达时抽取）"),
    _v("last_paid", F32, 0, KEPT, "the merchant's price", "last price paid", "上次支付价格",
       "the price (per product) the customer paid its merchant last time, or the merchant's price when the "
       "relationship began: the reference against which a price rise is noticed",
       "顾客上次向其商家支付的（单件）价格，或关系开始时商家的价格：察觉涨价的参照"),
    _v("complaint_prop", F32, 0, "drawn", KEPT, "complaint propensity", "投诉倾向",
       "personal propensity to complain (drawn at arrival, mean 1)", "个人投诉倾向（到达时抽取，均值为1）"),
    _v("procedural", F32, 0, "drawn", KEPT, "procedural factor", "程序性转换成本系数",
       "the customer's own factor on the market's procedural switching cost (drawn at arrival)",
       "顾客自身对市场程序性转换成本的系数（到达时抽取）"),
    _v("financial", F32, 0, KEPT, 0, "programme points", "积分（财务性转换成本）",
       "programme points banked with the current merchant, lost on leaving", "在当前商家积累、离开即失去的会员积分"),
    _v("relational", F32, 0, KEPT, 0, "relational switching cost", "关系性转换成本",
       "switching cost built by repeat purchase with the current merchant", "与当前商家重复购买积累的转换成本"),
    _v("perceived", F32, 0, 0, KEPT, "perceived quality", "感知质量", "quality received in the last purchase",
       "上次购买得到的质量", history=True),
    _v("value", F32, 0, 0, KEPT, "perceived value", "感知价值",
       "perceived value (quality less the price term) in the last purchase", "上次购买的感知价值（质量减去价格项）", history=True),
    _v("disconfirmation", F32, 0, 0, KEPT, "disconfirmation", "预期差异", "value − expectation in the last purchase",
       "上次购买的价值减预期"),
    _v("txn_sat", F32, 0, 0, KEPT, "transaction satisfaction", "交易满意度",
       "transaction satisfaction of the last purchase or recovery (0.5 = exactly as expected)",
       "上次购买或补救的交易满意度（0.5 = 恰如预期）", history=True),
    _v("satisfaction", F32, 0, KEPT, 0.5, "satisfaction", "累积满意度",
       "cumulative (overall) satisfaction, S (an exponentially weighted memory of how each encounter felt: "
       "`txn_sat` plus `fit`)", "累积（总体）满意度 S（对每次接触感受的指数加权记忆：交易满意度加契合度）", history=True),
    _v("trust", F32, 0, KEPT, "`trust_init`", "trust", "信任", "trust in the current merchant", "对当前商家的信任",
       history=True),
    _v("affective", F32, 0, 0, "halved", "affective loyalty", "情感忠诚", "the affective facet of loyalty",
       "忠诚的情感维度"),
    _v("behavioural", F32, 0, KEPT, 0, "behavioural loyalty", "行为忠诚",
       "the behavioural facet of loyalty (share of wallet damped by a short tenure)", "忠诚的行为维度（按在网时间折减的客户份额）"),
    _v("intentional", F32, 0, 0.5, KEPT, "intentional loyalty", "意识忠诚",
       "the intentional facet of loyalty (the chance it would pick its merchant again)", "忠诚的意识维度（再次选择其商家的概率）"),
    _v("wallet", F32, 0, KEPT, 0.5, "share of wallet", "客户份额",
       "share of recent purchases made at the own merchant", "近期购买中在自己商家处的比例"),
    _v("spend", F32, 0, 0, KEPT, "recent spend", "近期消费", "recent spend (an exponentially weighted average)",
       "近期消费（指数加权平均）"),
    _v("value_realised", F32, 0, KEPT, 0, "value realised", "已实现价值", "money paid to the current merchant",
       "支付给当前商家的金额"),
    _v("acq_cost", F32, 0, KEPT, "the merchant's acquisition cost", "acquisition cost", "获客成本",
       "what the merchant paid to acquire the customer", "商家为获得该客户支付的成本"),
    _v("recovery_value", F32, 0, KEPT, KEPT, "failed value", "失误时的价值",
       "the value of the failed encounter a pending recovery answers", "待处理补救所针对的失败接触的价值"),
    _v("nps_bias", F32, 0, "drawn", KEPT, "response style", "回答风格",
       "personal response style in the recommend question (drawn at arrival)", "推荐意愿问题中的个人回答风格（到达时抽取）"),
    _v("switch_cost", F32, 0, KEPT, "computed", "switching cost", "转换成本",
       "total switching cost without points (procedural, relational, structural, products)",
       "不含积分的总转换成本（程序性、关系性、结构性、产品数）"),
    _v("fit", F32, 0, KEPT, "drawn", "fit", "契合度",
       "how well the current merchant's offer suits this customer's own needs, drawn when the relationship starts; a "
       "lasting part of overall satisfaction that expectations do not wear away",
       "当前商家的产品与顾客自身需求的契合程度，关系开始时抽取；总体满意度中不随预期调整而消失的持久部分"),
    _v("value_belief", F32, 0, KEPT, "its reputation for its price", "judged value", "性价比判断",
       "the customer's judgement of the value for money its merchant gives: starts at the merchant's reputation less "
       "its price term, and moves toward the value of each purchase (`value_learning`); against what the category "
       "gives, it adds to how every encounter feels (`value_weight`)",
       "顾客对其商家性价比的判断：从商家声誉减去价格项开始，随每次购买得到的价值调整（`value_learning`）；与品类相比，它影响每次接触的感受"
       "（`value_weight`）", history=True),
    _v("grievance", F32, 0, 0, 0, "grievance", "怨气",
       "what is left of the problems the current merchant has not put right (0–1): a problem adds severity ** "
       "`grievance_curvature`, later purchases fade it, a resolved complaint removes it (less when slow), a refused one "
       "a little; it lowers the utility of staying (`grievance_weight`)",
       "当前商家尚未弥补的问题留下的怨气（0–1）：一次问题增加 严重度 ** `grievance_curvature`，此后的购买使之淡化，投诉得到解决则消除"
       "（越慢消除越少），投诉被拒只消除一点；它降低留下的效用（`grievance_weight`）", history=True),
    _v("tenure", COUNT, 0, KEPT, 0, "tenure", "在网时长", "steps with the current merchant", "与当前商家的期数"),
    _v("age", COUNT, 0, 0, KEPT, "age", "市场年龄", "steps in the market", "在市场中的期数"),
    _v("cycle_a", COUNT, 0, KEPT, 0, "Cycle A passes", "甲循环次数", "passes of Cycle A with the current merchant",
       "与当前商家的甲循环次数"),
    _v("cycle_b", COUNT, 0, KEPT, 0, "Cycle B passes", "乙循环次数", "passes of Cycle B with the current merchant",
       "与当前商家的乙循环次数"),
    _v("complaints", COUNT, 0, 0, KEPT, "complaints", "投诉次数", "complaints made in the market", "在市场中的投诉次数"),
    _v("recoveries", COUNT, 0, 0, KEPT, "recoveries", "补救次数", "recoveries evaluated", "被评价的补救次数"),
    _v("recoveries_ok", COUNT, 0, 0, KEPT, "successful recoveries", "成功补救", "successful recoveries",
       "成功的补救次数"),
    _v("failures", COUNT, 0, 0, KEPT, "failures", "不满次数", "dissatisfying purchases", "不满意的购买次数"),
    _v("switches", COUNT, 0, 0, KEPT, "switches", "转换次数", "switches of merchant", "转换商家的次数"),
    _v("id", _I32, -1, "a new number", KEPT, "id", "编号", "the customer's number (never reused; 32 bits, "
       "widened to 64 by the arrival that would pass 2³¹ − 1)",
       "顾客编号（不重复使用；32 位，将超过 2³¹ − 1 的那次到达会先把它扩展为 64 位）"),
    _v("stage", _I8, 0, 1, "ordinary, or still prospect", "stage", "阶段",
       "`prospect`, `ordinary`, `trusting` (past the bottleneck G), `loyal` (H), or `churned` (empty place)",
       "潜在客户、普通客户、信任客户（越过瓶颈G）、忠诚客户（H），或已流失（空位）", history=True),
    _v("merchant", _I16, 0, "chosen", "the new merchant", "merchant", "商家",
       "the merchant the customer currently buys from", "顾客当前购买的商家", history=True),
    _v("products", _I8, 0, KEPT, 1, "products", "产品数", "products held with the current merchant", "在当前商家持有的产品数"),
    _v("recovery_due", _I32, -1, KEPT, -1, "recovery due", "补救到期", "the step a pending recovery lands (−1: none)",
       "待处理补救到达的期（−1：无）"),
    _v("recovery_merchant", _I16, -1, KEPT, KEPT, "recovery merchant", "补救商家",
       "the merchant a pending recovery comes from", "待处理补救来自的商家"),
    _v("recovery_ok", bool, False, KEPT, KEPT, "complaint resolved", "投诉已解决",
       "whether the pending recovery resolves the complaint", "待处理补救是否解决投诉"),
    _v("churn_reason", _I8, 0, 0, KEPT, "churn reason", "流失原因",
       "why the customer left (see Reasons for leaving)", "顾客离开的原因（见流失原因）"),
    _v("flags", _U32, 0, "arrived", KEPT, "events", "事件",
       "what happened to the customer in the current step (purchase, delighted, complained, recovered, …)",
       "本期发生在顾客身上的事（购买、惊喜、投诉、补救……）", history=True),
    _v("heard", F32, 0, 0, KEPT, "word of mouth heard", "听到的口碑",
       "for every merchant, the net word of mouth the customer remembers about it (−1 … 1)",
       "对每个商家，顾客记得的净口碑（−1 … 1）", per_merchant=True),
)
VARIABLE: dict[str, Variable] = {v.name: v for v in VARIABLES}


def resets(when: str) -> tuple[tuple[str, float], ...]:
    """(name, value) of the variables reset to a number on ``"arrival"`` or on a new ``"relationship"``
    (the value typed as the reference customer keeps it: float, int or bool)."""
    k = 0 if when == "arrival" else 1
    out = []
    for v in VARIABLES:
        x = v.resets[k]
        if x is not None:
            out.append((v.name, float(x) if v.dtype is F32 else bool(x) if v.dtype is bool else int(x)))
    return tuple(out)


class Population:
    """All customers as arrays, one per :data:`VARIABLES` entry (``heard``: one row per customer, one
    column per merchant). Slot ``i`` holds one customer (``id[i]``) or is empty (stage 0).

    The arrays are the model's state; history and metrics read them, the mechanism functions
    write them.
    """

    #: the float32 values, one per customer
    FLOATS = tuple(v.name for v in VARIABLES if v.dtype is F32 and not v.per_merchant)
    #: the counts (:data:`COUNT`, 0 in an empty place)
    INTS = tuple(v.name for v in VARIABLES if v.dtype is COUNT and v.empty == 0)
    #: the other per-customer values (types of their own), ``id`` aside
    SCALARS = tuple(v.name for v in VARIABLES if v.dtype not in (F32, COUNT) or v.empty != 0
                    if v.name != "id" and not v.per_merchant)

    def __init__(self, n: int, m: int):
        self.n, self.m = n, m
        for v in VARIABLES:
            setattr(self, v.name, np.full((n, m) if v.per_merchant else n, v.empty, dtype=v.dtype))
        self.next_id = 0
        self.any_points = False  # has any customer ever banked programme points?
        self.multi_products = False  # has any customer ever held more than one product?

    @property
    def active(self) -> np.ndarray:
        return self.stage > CHURNED

    def nbytes(self) -> int:
        return sum(v.nbytes for v in vars(self).values() if isinstance(v, np.ndarray))


@dataclass
class StepStats:
    """Counts of what happened in one step (read by :mod:`sim.metrics`).

    The fields below are the counts the engine has always kept. A new count needs no field here: the
    mechanism module that sees the event calls ``ctx.stats.add("name", n)``, and the observable that
    reports it is declared in :mod:`sim.metrics` with ``stat="name"`` (a count never added reads 0)."""

    def add(self, name: str, n: int = 1) -> None:
        """Count ``n`` more events ``name`` this step (a field, or a count of its own)."""
        setattr(self, name, getattr(self, name, 0) + int(n))

    def count(self, name: str) -> int:
        """This step's count ``name`` (0 if nothing was counted)."""
        return int(getattr(self, name, 0))

    def add_at(self, name: str, merchants) -> None:
        """Count events ``name`` this step at the merchants numbered ``merchants`` (an array of
        merchant numbers, one per event, or one number) — the per-merchant twin of :meth:`add`."""
        self.at.setdefault(name, []).append(np.asarray(merchants, dtype=np.intp).reshape(-1))

    def count_at(self, name: str, m: int) -> np.ndarray:
        """This step's count ``name`` per merchant (``m`` numbers; zeros if nothing was counted)."""
        parts = self.at.get(name)
        if not parts:
            return np.zeros(m, dtype=np.int64)
        return np.bincount(parts[0] if len(parts) == 1 else np.concatenate(parts), minlength=m)[:m]

    purchases: int = 0
    cycle_a: int = 0
    cycle_b: int = 0
    satisfied: int = 0
    delighted: int = 0
    dissatisfied: int = 0
    complaints: int = 0
    recoveries: int = 0
    recoveries_ok: int = 0
    became_trusting: int = 0
    became_loyal: int = 0
    lost_loyalty: int = 0
    price_prompted: int = 0  # buyers who noticed a price rise and will compare on value for money
    switched: int = 0
    left: int = 0
    arrived: int = 0
    wom_positive: int = 0  # messages received
    wom_negative: int = 0
    wom_positive_speakers: int = 0
    wom_negative_speakers: int = 0
    left_by_reason: np.ndarray = field(default_factory=lambda: np.zeros(len(REASONS), dtype=np.int64))
    # per merchant (filled by the model)
    # ACSI-style index components of this step's buyers
    acsi_n: int = 0
    acsi_sum: float = 0.0
    acsi_expectation: float = 0.0
    acsi_quality: float = 0.0
    acsi_value: float = 0.0
    # per-merchant totals of this step's purchases for the merchants' books (own and trial purchases;
    # "own_" only purchases at the buyer's own merchant, whose quality builds its reputation)
    visit_count: np.ndarray | None = None
    visit_units: np.ndarray | None = None
    visit_revenue: np.ndarray | None = None
    own_count: np.ndarray | None = None
    own_perceived: np.ndarray | None = None
    recovered_merchant: np.ndarray | None = None
    lost_merchant: list = field(default_factory=list)  # merchant numbers of customers lost
    lost_value: list = field(default_factory=list)  # their recent spend at the start of the step
    #: every place's recent spend at the start of the step, the moment the merchants' start value is
    #: read (a customer lost after buying this step is valued as it stood then, not with this purchase)
    start_spend: np.ndarray | None = None
    acquired_merchant: list = field(default_factory=list)
    lost_reason: list = field(default_factory=list)  # why each customer in ``lost_merchant`` was lost (REASONS)
    #: per-merchant counts (:meth:`add_at`): name → arrays of merchant numbers, one entry per event
    at: dict = field(default_factory=dict)
