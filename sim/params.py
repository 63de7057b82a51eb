"""Every parameter of the model, declared once.

Each :class:`Param` carries its default, allowed range, unit, English and Chinese label, a one-line
help text in both languages and its group. The :class:`Params` and :class:`MerchantParams`
classes are *generated* from these declarations, and so are (in later layers) the CLI options,
the app's sliders, scenario validation and the parameter table in ``docs/ODD.md``. Nothing else
in the code base restates a default or a bound.

Validation raises :class:`ParamError`, whose message names the parameter, the value given and
the allowed range, e.g.::

    parameter 'trust_gain' = 2.0 is out of range: allowed 0 … 1 (trust gained per satisfying encounter)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

__all__ = [
    "Param",
    "ParamError",
    "PARAMS",
    "MERCHANT_PARAMS",
    "GROUPS",
    "PROGRAMME_TIERS",
    "STRATEGIES",
    "Params",
    "MerchantParams",
    "default_merchants",
]


class ParamError(ValueError):
    """A parameter value that the declaration does not allow.

    ``key`` is the parameter's name (for merchants ``merchants[i].name``), ``source`` the file the
    value came from, if any. ``str()`` gives a complete, readable message.
    """

    def __init__(self, key: str, message: str, source: str | None = None):
        self.key = key
        self.source = source
        self.message = message
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{message}")


GROUPS: dict[str, tuple[str, str]] = {
    "customers": ("Customers", "客户"),
    "merchants": ("Merchants", "商家"),
    "market": ("Market", "市场"),
    "word_of_mouth": ("Word of mouth", "口碑"),
}

#: loyalty programme tiers, in order; each tier includes the ones below it
PROGRAMME_TIERS: tuple[str, ...] = ("none", "financial", "social", "customised", "structural")
PROGRAMME_LABELS: dict[str, tuple[str, str]] = {
    "none": ("no programme", "无忠诚计划"),
    "financial": ("financial (points, discounts)", "财务层（积分、折扣）"),
    "social": ("social (clubs, personal contact)", "社交层（俱乐部、个人联系）"),
    "customised": ("customised (one-to-one service)", "定制层（一对一服务）"),
    "structural": ("structural (shared systems)", "结构层（系统对接）"),
}
#: what each tier adds (tiers are cumulative). Structure of the model, not a tuning knob; documented in docs/ODD.md.
#: relational_x multiplies the growth of relational switching cost; affective is added to the
#: affective target of each encounter; tailoring is added to perceived quality; structural is added to
#: the procedural switching cost; points: members bank programme_benefit × price per purchase,
#: lost on leaving, up to points_cap purchases' worth.
TIER_EFFECTS: dict[str, dict[str, float]] = {
    "none": dict(points=0.0, relational_x=1.0, affective=0.0, tailoring=0.0, structural=0.0),
    "financial": dict(points=1.0, relational_x=1.0, affective=0.0, tailoring=0.0, structural=0.0),
    "social": dict(points=1.0, relational_x=2.0, affective=0.15, tailoring=0.0, structural=0.0),
    "customised": dict(points=1.0, relational_x=3.0, affective=0.2, tailoring=0.05, structural=0.0),
    "structural": dict(points=1.0, relational_x=3.0, affective=0.2, tailoring=0.05, structural=0.4),
}
POINTS_CAP = 20.0  # purchases' worth of points a member can hold

#: merchant strategies
STRATEGIES: tuple[str, ...] = ("fixed", "rule", "learner")
STRATEGY_LABELS: dict[str, tuple[str, str]] = {
    "fixed": ("fixed policy", "固定策略"),
    "rule": ("rule: raise quality when churn rises", "规则：流失上升时提高质量"),
    "learner": ("learner: hill-climb on profit", "学习：按利润爬山调整"),
}


@dataclass(frozen=True)
class Param:
    """One parameter's declaration."""

    name: str
    default: Any
    lo: float | None
    hi: float | None
    unit: str
    label_en: str
    label_zh: str
    help_en: str
    help_zh: str
    group: str
    kind: str = "float"  # float | int | choice | str
    choices: tuple[str, ...] = ()
    step: float | None = None  # a sensible slider step

    def label(self, lang: str = "en") -> str:
        return self.label_zh if lang == "zh" else self.label_en

    def help(self, lang: str = "en") -> str:
        return self.help_zh if lang == "zh" else self.help_en

    def range_text(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "str":
            return "a non-empty text"
        return f"{_fmt(self.lo)} … {_fmt(self.hi)}"

    def validate(self, value: Any, key: str | None = None, source: str | None = None) -> Any:
        """Return ``value`` converted to this parameter's type, or raise :class:`ParamError`."""
        key = key or self.name
        what = f"({self.help_en})"
        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise ParamError(
                    key,
                    f"parameter '{key}' = {value!r} is not allowed: {self.range_text()} {what}",
                    source,
                )
            return value
        if self.kind == "str":
            if not isinstance(value, str) or not value.strip():
                raise ParamError(key, f"parameter '{key}' = {value!r} must be a non-empty text {what}", source)
            return value.strip()
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            try:  # numpy scalars
                import numpy as np

                if isinstance(value, np.generic) and not isinstance(value, np.bool_):
                    value = value.item()
                else:
                    raise TypeError
            except TypeError:
                kind = "a whole number" if self.kind == "int" else "a number"
                raise ParamError(
                    key,
                    f"parameter '{key}' = {value!r} must be {kind} in {self.range_text()} {what}",
                    source,
                ) from None
        if self.kind == "int":
            if isinstance(value, float):
                if not math.isfinite(value) or value != int(value):
                    raise ParamError(
                        key,
                        f"parameter '{key}' = {value!r} must be a whole number in {self.range_text()} {what}",
                        source,
                    )
            value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise ParamError(
                    key, f"parameter '{key}' = {value!r} must be a finite number in {self.range_text()} {what}", source
                )
        if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            raise ParamError(
                key,
                f"parameter '{key}' = {_fmt(value)} is out of range: allowed {self.range_text()} {what}",
                source,
            )
        return value


def _fmt(x: Any) -> str:
    if x is None:
        return "∞"
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:g}" if isinstance(x, float) else str(x)


def _p(name, default, lo, hi, unit, label_en, label_zh, help_en, help_zh, group, kind="float", choices=(), step=None):
    return Param(name, default, lo, hi, unit, label_en, label_zh, help_en, help_zh, group, kind, tuple(choices), step)


# --------------------------------------------------------------------------------------------
# Market-wide parameters (customers, market, word of mouth)
# --------------------------------------------------------------------------------------------
_MARKET: list[Param] = [
    # ---- customers --------------------------------------------------------------------------
    _p("n_customers", 1000, 2, 5_000_000, "customers", "Customers", "客户数",
       "number of customer slots in the market (active customers plus empty places for newcomers)",
       "市场中的客户名额（在网客户加上留给新客户的空位）", "customers", "int", step=100),
    _p("purchase_prob", 0.5, 0.01, 1.0, "1/step", "Purchase frequency", "购买频率",
       "chance that an active customer needs the service in a step",
       "在网客户每期产生需求并购买的概率", "customers", step=0.01),
    _p("expectation_init", 0.6, 0.0, 1.0, "quality", "Prior expectation", "先验预期",
       "what a newcomer expects before hearing anything about a merchant",
       "新客户在未了解商家之前的预期水平", "customers", step=0.01),
    _p("expectation_spread", 0.05, 0.0, 0.3, "quality", "Expectation spread", "预期差异",
       "standard deviation of newcomers' expectations around the mean",
       "新客户预期围绕均值的标准差", "customers", step=0.01),
    _p("promise_weight", 0.5, 0.0, 1.0, "share", "Weight of promises", "承诺权重",
       "how much a newcomer's expectation follows the merchant's promise rather than its reputation",
       "新客户预期受商家承诺（而非口碑声誉）影响的程度", "customers", step=0.05),
    _p("expectation_adapt", 0.15, 0.0, 1.0, "1/encounter", "Expectation adaptation", "预期调整速度",
       "how far an expectation moves toward what was just perceived, per encounter",
       "每次消费后预期向刚感受到的水平移动的比例", "customers", step=0.01),
    _p("zone_of_tolerance", 0.2, 0.0, 0.6, "quality", "Zone of tolerance", "容忍区间",
       "width of the band between the adequate and the desired level around the expectation",
       "预期周围从“适当水平”到“理想水平”的区间宽度", "customers", step=0.01),
    _p("zone_slope", 0.2, 0.0, 1.0, "satisfaction/quality", "Sensitivity inside the zone", "区间内敏感度",
       "how much satisfaction moves with performance inside the zone of tolerance",
       "在容忍区间内，满意度随表现变化的幅度", "customers", step=0.05),
    _p("gain_sensitivity", 1.0, 0.0, 3.0, "satisfaction/quality", "Sensitivity to surpluses", "超出预期的敏感度",
       "how strongly a performance above the desired level raises satisfaction",
       "表现超过理想水平时满意度上升的强度", "customers", step=0.05),
    _p("loss_aversion", 2.0, 1.0, 5.0, "ratio", "Weight of shortfalls", "不足的权重",
       "how many times more a shortfall below the adequate level weighs than a surplus of the same size",
       "低于适当水平的不足比同等幅度的超出分量重几倍", "customers", step=0.1),
    _p("diminishing_sensitivity", 0.7, 0.2, 1.0, "exponent", "Diminishing sensitivity", "敏感度递减",
       "exponent applied to surpluses and shortfalls (1 = linear, lower = more concave)",
       "作用于超出和不足的指数（1为线性，越小越凹）", "customers", step=0.05),
    _p("price_sensitivity", 0.5, 0.0, 3.0, "value/price", "Price sensitivity", "价格敏感度",
       "mean weight a customer puts on price relative to the price it expects",
       "客户对价格（相对于预期价格）的平均重视程度", "customers", step=0.05),
    _p("expected_price", 1.0, 0.1, 10.0, "money", "Expected price", "预期价格",
       "mean price customers expect to pay for one purchase",
       "客户对单次购买的平均预期价格", "customers", step=0.05),
    _p("price_doubt", 0.3, 0.0, 1.0, "share", "Price doubt threshold", "低价怀疑阈值",
       "a price this far below the expected price makes customers doubt the quality",
       "价格低于预期价格超过这一比例时，客户会怀疑质量", "customers", step=0.05),
    _p("satisfaction_memory", 0.8, 0.0, 0.99, "share", "Satisfaction memory", "满意度记忆",
       "weight of past satisfaction in cumulative satisfaction (the rest is the latest encounter)",
       "累积满意度中过去满意度的权重（其余为最近一次消费）", "customers", step=0.01),
    _p("severity_scale", 0.4, 0.05, 1.0, "quality", "Shortfall of a major problem", "重大问题的落差",
       "shortfall below the adequate level that counts as a problem of full severity",
       "低于适当水平多少即视为最严重的问题", "customers", step=0.05),
    _p("complaint_minor", 0.04, 0.0, 1.0, "probability", "Complaints, minor problems", "小问题投诉率",
       "chance that a customer with a minor problem complains (about 1 in 25)",
       "遇到小问题的客户投诉的概率（约二十五分之一）", "customers", step=0.01),
    _p("complaint_major", 0.69, 0.0, 1.0, "probability", "Complaints, major problems", "大问题投诉率",
       "chance that a customer with a problem of full severity complains",
       "遇到最严重问题的客户投诉的概率", "customers", step=0.01),
    _p("complaint_curvature", 2.0, 0.5, 5.0, "exponent", "Steepness of complaining", "投诉陡度",
       "how steeply complaining rises with severity (higher = only severe problems are voiced)",
       "投诉随严重程度上升的陡峭程度（越高越只投诉严重问题）", "customers", step=0.1),
    _p("trust_init", 0.2, 0.0, 1.0, "trust", "Initial trust", "初始信任",
       "trust a customer starts with toward a merchant it has just chosen",
       "客户刚选择某商家时对其的初始信任", "customers", step=0.01),
    _p("trust_gain", 0.08, 0.0, 1.0, "share", "Trust gain", "信任增长",
       "trust gained per satisfying encounter, as a share of the trust still missing",
       "每次满意的消费所增加的信任（按尚缺信任的比例）", "customers", step=0.01),
    _p("trust_loss", 0.35, 0.0, 1.0, "share", "Trust loss", "信任损失",
       "trust lost per dissatisfying encounter of full severity, as a share of current trust",
       "每次最严重的不满消费所损失的信任（按现有信任的比例）", "customers", step=0.01),
    _p("trust_threshold", 0.5, 0.0, 1.0, "trust", "Trust bottleneck (G)", "信任瓶颈（G）",
       "trust at which an ordinary customer passes the bottleneck and becomes trusting",
       "普通客户越过瓶颈、进入信任阶段所需的信任水平", "customers", step=0.01),
    _p("loyalty_threshold", 0.8, 0.0, 1.0, "trust", "Loyalty threshold (H)", "忠诚阈值（H）",
       "trust at which a trusting customer becomes loyal",
       "信任客户转为忠诚客户所需的信任水平", "customers", step=0.01),
    _p("loyalty_min_passes", 8, 0, 200, "passes", "Cycle A passes to loyalty", "成为忠诚所需甲循环次数",
       "satisfying repeat purchases needed before trust can turn into loyalty (quantity into quality)",
       "信任转化为忠诚之前所需的满意重复购买次数（量变到质变）", "customers", "int", step=1),
    _p("loyalty_exit", 0.55, 0.0, 1.0, "trust", "Betrayal threshold", "背叛阈值",
       "a loyal customer whose trust falls below this is loyal no more",
       "忠诚客户的信任跌破此值即不再忠诚", "customers", step=0.01),
    _p("loyal_failure_tolerance", 0.5, 0.0, 1.0, "share", "Loyal tolerance of failures", "忠诚客户对失误的容忍",
       "share by which a loyal customer discounts shortfalls",
       "忠诚客户对不足打折的比例", "customers", step=0.05),
    _p("loyal_price_tolerance", 0.5, 0.0, 1.0, "share", "Loyal tolerance of price", "忠诚客户对价格的容忍",
       "share by which a loyal customer discounts price above its expected price",
       "忠诚客户对高于预期价格部分打折的比例", "customers", step=0.05),
    _p("loyal_extra_purchases", 0.3, 0.0, 2.0, "share", "Trust makes customers buy more", "信任带来更多购买",
       "extra purchase frequency at full trust (a customer who trusts buys again and buys more)",
       "完全信任时额外增加的购买频率（信任的客户会再次购买、购买更多）", "customers", step=0.05),
    _p("recovery_decay", 0.05, 0.0, 0.5, "quality/step", "Cost of a slow recovery", "补救迟缓的代价",
       "how much a recovery loses in the customer's eyes for each step it is late",
       "补救每晚一期，在客户眼中损失的价值", "customers", step=0.01),
    _p("promise_pull", 0.1, 0.0, 1.0, "share", "Pull of ongoing promises", "持续承诺的牵引",
       "weight of the merchant's ongoing advertising when a customer's expectation is updated",
       "更新预期时商家持续广告承诺所占的权重", "customers", step=0.01),
    _p("variety_seeking", 0.03, 0.0, 0.5, "1/purchase", "Variety seeking", "尝新倾向",
       "chance that a customer who is not loyal tries another merchant for one purchase",
       "非忠诚客户某次购买改去其他商家尝试的概率", "customers", step=0.01),
    _p("procedural_cost", 0.1, 0.0, 2.0, "utility", "Procedural switching cost", "程序性转换成本",
       "cost of evaluating, setting up and learning a new merchant",
       "评估、设立和学习新商家的成本", "customers", step=0.01),
    _p("relational_growth", 0.004, 0.0, 0.1, "utility/step", "Growth of relational cost", "关系成本增长",
       "relational switching cost added per step of tenure with a merchant",
       "与商家关系每持续一期所增加的关系性转换成本", "customers", step=0.001),
    _p("relational_max", 0.3, 0.0, 2.0, "utility", "Maximum relational cost", "关系成本上限",
       "ceiling of the relational switching cost built by tenure alone",
       "仅靠关系时长形成的关系性转换成本上限", "customers", step=0.01),
    # ---- market -----------------------------------------------------------------------------
    _p("natural_churn", 0.002, 0.0, 0.2, "1/step", "Involuntary churn", "自然流失",
       "chance per step that a customer leaves for reasons no merchant controls (moving, life events)",
       "客户每期因商家无法控制的原因（搬家、生活变化）离开的概率", "market", step=0.001),
    _p("arrival_rate", 0.2, 0.0, 1.0, "1/step", "Arrival of newcomers", "新客户到达",
       "chance per step that an empty place in the market is taken by a newcomer",
       "市场中每个空位每期被新客户填补的概率", "market", step=0.01),
    _p("initial_share_active", 0.9, 0.0, 1.0, "share", "Initially active", "初始在网比例",
       "share of customer slots filled with active customers at the start",
       "开始时有在网客户的名额比例", "market", step=0.05),
    _p("reconsider_prob", 0.02, 0.0, 1.0, "1/step", "Looking around", "货比三家",
       "chance per step that a satisfied, non-loyal customer compares merchants anyway",
       "满意但不忠诚的客户每期仍会比较商家的概率", "market", step=0.01),
    _p("reconsider_dissatisfied", 0.3, 0.0, 1.0, "probability", "Reconsider after a problem", "问题后重新考虑",
       "chance that a dissatisfied customer whose problem was not put right compares merchants",
       "问题未获解决的不满客户重新比较商家的概率", "market", step=0.05),
    _p("choice_noise", 0.1, 0.01, 2.0, "utility", "Choice noise", "选择随机性",
       "spread of unobserved tastes in merchant choice (logit scale)",
       "选择商家时未观测偏好的离散程度（logit 尺度）", "market", step=0.01),
    _p("outside_option", -0.25, -3.0, 3.0, "utility", "Leaving the category", "退出品类的吸引力",
       "attractiveness of buying from no merchant at all (leaving the market)",
       "完全不再购买（退出市场）的吸引力", "market", step=0.05),
    _p("satisfaction_weight", 1.0, 0.0, 5.0, "utility", "Weight of satisfaction in choice", "选择中满意度的权重",
       "weight of cumulative satisfaction (own merchant) or reputation (others) in choice",
       "选择时累积满意度（现有商家）或声誉（其他商家）的权重", "market", step=0.05),
    _p("trust_weight", 0.5, 0.0, 5.0, "utility", "Weight of trust in choice", "选择中信任的权重",
       "weight of trust in the current merchant when deciding to stay",
       "决定是否留下时对现有商家信任的权重", "market", step=0.05),
    _p("discount_rate", 0.002, 0.0, 0.1, "1/step", "Discount rate", "折现率",
       "discount rate per step used for customer lifetime value",
       "计算客户终身价值所用的每期折现率", "market", step=0.001),
    _p("max_products", 1, 1, 5, "products", "Products a customer can hold", "可持有产品数",
       "products or accounts a customer can hold with its merchant (1 = a single service)",
       "客户可在同一商家持有的产品或账户数（1 表示单一服务）", "market", "int", step=1),
    _p("cross_sell_prob", 0.0, 0.0, 1.0, "1/step", "Cross-selling", "交叉销售",
       "chance per step that a trusting or loyal customer takes one more product",
       "信任或忠诚客户每期多持有一种产品的概率", "market", step=0.01),
    _p("product_switch_cost", 0.15, 0.0, 2.0, "utility/product", "Switching cost per extra product",
       "每多一种产品的转换成本",
       "structural switching cost added by each product held beyond the first",
       "持有的第一种以外每种产品所增加的结构性转换成本", "market", step=0.01),
    _p("history_limit", 20_000, 0, 5_000_000, "customers", "Customers with full history", "记录完整历史的客户数",
       "markets up to this size keep every customer's recent history; larger ones keep a sample",
       "不超过此规模的市场记录每位客户的近期历史；更大的市场只记录样本", "market", "int", step=1000),
    _p("history_depth", 52, 1, 1000, "steps", "History depth", "历史长度",
       "how many recent steps each recorded customer's history keeps",
       "每位被记录客户保留的近期步数", "market", "int", step=1),
    # ---- word of mouth ----------------------------------------------------------------------
    _p("network_degree", 8, 0, 60, "contacts", "Contacts per customer", "每位客户的联系人数",
       "average number of acquaintances a customer talks to (even; 0 switches word of mouth off)",
       "客户平均会交谈的熟人数（偶数；0 表示关闭口碑）", "word_of_mouth", "int", step=2),
    _p("network_rewire", 0.1, 0.0, 1.0, "probability", "Network rewiring", "网络重连概率",
       "chance that a tie links to a random customer instead of a neighbour (small-world network)",
       "一条关系连向随机客户而非邻居的概率（小世界网络）", "word_of_mouth", step=0.01),
    _p("wom_positive", 0.1, 0.0, 1.0, "probability", "Positive word of mouth", "正面口碑",
       "chance that a delighted customer tells each acquaintance",
       "惊喜的客户告诉每位熟人的概率", "word_of_mouth", step=0.01),
    _p("wom_negative", 0.2, 0.0, 1.0, "probability", "Negative word of mouth", "负面口碑",
       "chance that a dissatisfied customer whose problem was not put right tells each acquaintance",
       "问题未获解决的不满客户告诉每位熟人的概率", "word_of_mouth", step=0.01),
    _p("wom_loyal_boost", 2.0, 1.0, 5.0, "ratio", "Loyal customers recommend", "忠诚客户推荐倍数",
       "how many times more often a loyal customer recommends than a merely delighted one",
       "忠诚客户推荐的频率是一般惊喜客户的几倍", "word_of_mouth", step=0.1),
    _p("wom_botched_boost", 2.0, 1.0, 5.0, "ratio", "Anger after a botched recovery", "补救失败后的愤怒",
       "how many times more often a customer whose complaint was botched tells others",
       "投诉处理失败的客户向他人诉说的频率倍数", "word_of_mouth", step=0.1),
    _p("wom_impact", 0.1, 0.0, 1.0, "utility", "Impact of a message", "单条口碑的影响",
       "how much one message moves the listener's view of the merchant it is about",
       "一条口碑对听者看法的影响幅度", "word_of_mouth", step=0.01),
    _p("wom_memory", 0.9, 0.0, 0.99, "share", "Memory of word of mouth", "口碑记忆",
       "share of what was heard that is still remembered one step later",
       "听到的口碑在下一期仍被记住的比例", "word_of_mouth", step=0.01),
]

# --------------------------------------------------------------------------------------------
# Per-merchant parameters (one value per merchant)
# --------------------------------------------------------------------------------------------
_MERCHANT: list[Param] = [
    _p("name", "A", None, None, "", "Name", "名称", "the merchant's name", "商家名称", "merchants", "str"),
    _p("quality", 0.65, 0.0, 1.0, "quality", "Service quality", "服务质量",
       "mean core quality of an encounter", "单次服务的平均核心质量", "merchants", step=0.01),
    _p("consistency", 0.85, 0.0, 1.0, "share", "Consistency", "稳定性",
       "how little quality varies from one encounter to the next (1 = always the same)",
       "服务质量每次之间的稳定程度（1 表示每次相同）", "merchants", step=0.01),
    _p("failure_prob", 0.05, 0.0, 1.0, "probability", "Service failure chance", "服务失误概率",
       "chance that an encounter suffers a service failure", "单次服务发生失误的概率", "merchants", step=0.01),
    _p("failure_severity", 0.3, 0.0, 1.0, "quality", "Failure severity", "失误严重度",
       "mean quality lost in a service failure", "一次服务失误平均损失的质量", "merchants", step=0.01),
    _p("basic_quality", 0.98, 0.0, 1.0, "probability", "Basics met (Kano)", "基本质量达标（卡诺）",
       "chance that the must-be attribute is delivered; missing it causes dissatisfaction, having it adds nothing",
       "必备属性达标的概率；缺失会引起不满，具备也不增加满意", "merchants", step=0.01),
    _p("excitement", 0.0, 0.0, 0.5, "quality", "Excitement attribute (Kano)", "魅力属性（卡诺）",
       "size of an unexpected extra; delights while new, then becomes expected",
       "意外惊喜的大小；新鲜时令人惊喜，之后变成预期", "merchants", step=0.01),
    _p("price", 1.0, 0.0, 10.0, "money", "Price", "价格", "price of one purchase", "单次购买的价格",
       "merchants", step=0.01),
    _p("promise", 0.65, 0.0, 1.0, "quality", "Promise / advertising", "承诺/广告",
       "quality level the merchant advertises and promises", "商家宣传和承诺的质量水平", "merchants", step=0.01),
    _p("complaint_ease", 0.0, 0.0, 1.0, "share", "Ease of complaining", "投诉便利度",
       "how easy the complaint channel is (0 = hard, 1 = effortless); raises the complaint rate",
       "投诉渠道的便利程度（0 为困难，1 为毫不费力）；提高投诉率", "merchants", step=0.05),
    _p("recovery_prob", 0.6, 0.0, 1.0, "probability", "Recovery: chance of resolving", "补救：解决概率",
       "chance that a complaint is resolved", "投诉得到解决的概率", "merchants", step=0.01),
    _p("recovery_delay", 1, 0, 26, "steps", "Recovery: delay", "补救：延迟",
       "steps until a resolved complaint is put right", "已受理投诉得到补救所需的期数", "merchants", "int", step=1),
    _p("compensation", 0.3, 0.0, 1.0, "quality", "Recovery: compensation", "补救：补偿",
       "what the recovery gives beyond fixing the problem", "补救中除解决问题之外给予的补偿",
       "merchants", step=0.01),
    _p("programme", "none", None, None, "", "Loyalty programme", "忠诚计划",
       "loyalty programme tier; each tier includes the ones below it",
       "忠诚计划层级；每一层都包含其下各层", "merchants", "choice", PROGRAMME_TIERS),
    _p("programme_benefit", 0.05, 0.0, 0.5, "share of price", "Programme benefit", "计划优惠",
       "discount or reward members receive, as a share of the price", "会员获得的折扣或回馈（占价格的比例）",
       "merchants", step=0.01),
    _p("programme_fee", 0.0, 0.0, 5.0, "money/purchase", "Membership fee", "会员费",
       "membership fee spread over a member's purchases (money per purchase)",
       "分摊到每次购买的会员费（每次购买的金额）", "merchants", step=0.01),
    _p("programme_cost", 0.02, 0.0, 5.0, "money/step", "Programme cost", "计划成本",
       "what running the programme costs the merchant per member per step",
       "商家为每位会员每期运营计划的成本", "merchants", step=0.01),
    _p("unit_cost", 0.3, 0.0, 10.0, "money", "Unit cost", "单位成本",
       "cost of serving one purchase at zero quality", "以零质量提供一次服务的成本", "merchants", step=0.01),
    _p("quality_cost", 0.5, 0.0, 10.0, "money/quality", "Cost of quality", "质量成本",
       "extra cost per purchase for each unit of quality", "每单位质量增加的单次服务成本",
       "merchants", step=0.01),
    _p("acquisition_cost", 0.5, 0.0, 20.0, "money", "Acquisition cost", "获客成本",
       "cost of winning one new customer", "赢得一位新客户的成本", "merchants", step=0.05),
    _p("strategy", "fixed", None, None, "", "Strategy", "策略",
       "how the merchant adapts its policy over time", "商家随时间调整策略的方式", "merchants", "choice",
       STRATEGIES),
    _p("target_churn", 0.02, 0.0, 1.0, "1/step", "Tolerated churn (rule)", "可容忍流失率（规则）",
       "the rule strategy raises quality when churn exceeds this", "规则策略在流失率超过此值时提高质量",
       "merchants", step=0.005),
    _p("adapt_step", 0.02, 0.0, 0.5, "quality or money", "Adaptation step", "调整步长",
       "size of one policy change made by an adaptive strategy", "自适应策略每次调整的幅度",
       "merchants", step=0.005),
    _p("adapt_every", 4, 1, 104, "steps", "Adaptation interval", "调整间隔",
       "steps between policy reviews of an adaptive strategy", "自适应策略两次审视之间的期数",
       "merchants", "int", step=1),
]

PARAMS: dict[str, Param] = {p.name: p for p in _MARKET}
MERCHANT_PARAMS: dict[str, Param] = {p.name: p for p in _MERCHANT}

#: merchant fields that may be changed while a model runs (interventions)
POLICY_FIELDS: tuple[str, ...] = tuple(n for n in MERCHANT_PARAMS if n != "name")


def _annotation(p: Param) -> type:
    return {"float": float, "int": int, "choice": str, "str": str}[p.kind]


class _Declared:
    """Shared behaviour of the generated parameter classes."""

    _decl: dict[str, Param] = {}

    def __post_init__(self):
        for name, p in self._decl.items():
            object.__setattr__(self, name, p.validate(getattr(self, name), key=self._key(name)))

    def _key(self, name: str) -> str:  # overridden by MerchantParams for "merchants[i].x" keys
        return name

    def replace(self, **changes: Any):
        """A copy with ``changes`` applied (validated)."""
        unknown = [k for k in changes if k not in self._field_names()]
        if unknown:
            raise ParamError(unknown[0], _unknown_message(unknown[0], self._field_names()))
        return dataclasses.replace(self, **changes)

    @classmethod
    def _field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]


def _unknown_message(key: str, allowed: Iterable[str]) -> str:
    import difflib

    allowed = list(allowed)
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown parameter '{key}'{hint} (known: {', '.join(allowed)})"


def _make(cls_name: str, decl: dict[str, Param], extra: list | None = None, bases=(_Declared,)):
    fields = [(p.name, _annotation(p), field(default=p.default)) for p in decl.values()]
    cls = dataclasses.make_dataclass(cls_name, fields + (extra or []), bases=bases, frozen=True)
    cls._decl = decl
    cls.__module__ = __name__
    return cls


MerchantParams = _make("MerchantParams", MERCHANT_PARAMS)
MerchantParams.__doc__ = (
    "One merchant's policy: every field is declared in ``MERCHANT_PARAMS`` (default, range, help)."
)


def default_merchants() -> tuple:
    """The default market: three merchants of different quality and price."""
    return (
        MerchantParams(name="A", quality=0.72, price=1.15, promise=0.72, recovery_prob=0.8),
        MerchantParams(name="B", quality=0.65, price=1.0, promise=0.68),
        MerchantParams(name="C", quality=0.55, price=0.85, promise=0.62, recovery_prob=0.4),
    )


class _MarketBase(_Declared):
    def __post_init__(self):
        super().__post_init__()
        merchants = self.merchants
        if isinstance(merchants, Mapping) or not isinstance(merchants, (list, tuple)):
            raise ParamError("merchants", "parameter 'merchants' must be a list of merchants (at least one)")
        if len(merchants) < 1:
            raise ParamError("merchants", "parameter 'merchants' must list at least one merchant (allowed 1 … 50)")
        if len(merchants) > 50:
            raise ParamError("merchants", f"parameter 'merchants' lists {len(merchants)} merchants: allowed 1 … 50")
        ms = []
        for i, m in enumerate(merchants):
            if isinstance(m, Mapping):
                m = merchant_from_dict(m, index=i)
            elif not isinstance(m, MerchantParams):
                raise ParamError(f"merchants[{i}]", f"merchants[{i}] must be a table of merchant parameters")
            ms.append(m)
        names = [m.name for m in ms]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ParamError("merchants", f"merchant names must be unique; repeated: {', '.join(sorted(dup))}")
        object.__setattr__(self, "merchants", tuple(ms))
        if self.network_degree % 2:
            raise ParamError(
                "network_degree",
                f"parameter 'network_degree' = {self.network_degree} must be even: allowed 0, 2, 4, … 60 "
                f"({PARAMS['network_degree'].help_en})",
            )
        if self.network_degree >= self.n_customers:
            raise ParamError(
                "network_degree",
                f"parameter 'network_degree' = {self.network_degree} must be below n_customers "
                f"= {self.n_customers}",
            )
        if self.loyalty_threshold < self.trust_threshold:
            raise ParamError(
                "loyalty_threshold",
                f"parameter 'loyalty_threshold' = {self.loyalty_threshold:g} must be at least "
                f"trust_threshold = {self.trust_threshold:g} (loyalty lies beyond the bottleneck)",
            )
        if self.loyalty_exit > self.loyalty_threshold:
            raise ParamError(
                "loyalty_exit",
                f"parameter 'loyalty_exit' = {self.loyalty_exit:g} must not exceed "
                f"loyalty_threshold = {self.loyalty_threshold:g}",
            )

    def merchant(self, name: str):
        for m in self.merchants:
            if m.name == name:
                return m
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """Plain values (TOML/JSON friendly): market parameters plus a list of merchant tables."""
        d = {n: getattr(self, n) for n in PARAMS}
        d["merchants"] = [dataclasses.asdict(m) for m in self.merchants]
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str | None = None):
        """Build from plain values; unknown keys and bad values raise :class:`ParamError`."""
        return params_from_dict(data, source=source)


Params = _make(
    "Params",
    PARAMS,
    extra=[("merchants", tuple, field(default_factory=default_merchants))],
    bases=(_MarketBase,),
)
Params.__doc__ = (
    "All parameters of one market: the fields of ``PARAMS`` plus ``merchants``, a tuple of "
    ":class:`MerchantParams`. Frozen; use ``replace(**changes)`` for a changed copy."
)


def merchant_from_dict(data: Mapping[str, Any], index: int = 0, source: str | None = None):
    """Build a :class:`MerchantParams` from a mapping, naming ``merchants[index].key`` in errors."""
    if not isinstance(data, Mapping):
        raise ParamError(f"merchants[{index}]", f"merchants[{index}] must be a table of merchant parameters", source)
    values = {}
    for k, v in data.items():
        key = f"merchants[{index}].{k}"
        if k not in MERCHANT_PARAMS:
            raise ParamError(key, _unknown_message(str(k), MERCHANT_PARAMS).replace(f"'{k}'", f"'{key}'", 1), source)
        values[k] = MERCHANT_PARAMS[k].validate(v, key=key, source=source)
    values.setdefault("name", chr(ord("A") + index) if index < 26 else f"M{index + 1}")
    return MerchantParams(**values)


def params_from_dict(data: Mapping[str, Any], source: str | None = None):
    """Build :class:`Params` from plain values (e.g. a parsed TOML table) with clear errors."""
    if not isinstance(data, Mapping):
        raise ParamError("", "parameters must be a table of name = value", source)
    values: dict[str, Any] = {}
    for k, v in data.items():
        if k == "merchants":
            if not isinstance(v, (list, tuple)):
                raise ParamError("merchants", "parameter 'merchants' must be a list of merchant tables", source)
            values["merchants"] = tuple(merchant_from_dict(m, i, source) for i, m in enumerate(v))
            continue
        if k not in PARAMS:
            raise ParamError(str(k), _unknown_message(str(k), list(PARAMS) + ["merchants"]), source)
        values[k] = PARAMS[k].validate(v, source=source)
    try:
        return Params(**values)
    except ParamError as e:
        if source and not e.source:
            raise ParamError(e.key, e.message, source) from None
        raise
