"""Every observable of the model, named once.

:data:`METRICS` (market level) and :data:`MERCHANT_METRICS` (one value per merchant) declare each
observable's name, labels in English and Chinese, unit (which says whether it is a per-step flow,
:attr:`Metric.flow`) and a one-line meaning. :func:`compute` computes them all from the model's
public state (``model.pop``, ``model.sums``, ``model.start_active``, ``model.start_value``,
``model.mean_expectation``, the merchants) and the step's counts in one pass; the model's
``DataCollector`` stores them, and plots, CLI, reports and docs refer to them by these names.

To add an observable: declare it here. If it reports a count of the step, give it ``stat="name"``
and count the event in the mechanism module that sees it (``ctx.stats.add("name", n)``):
:func:`compute` needs nothing more, two files in all. Otherwise add its line to :func:`compute`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kernels import population_pass, sized

from .mechanism.state import F32, LOYAL, ORDINARY, PROSPECT, REASONS, TRUSTING
from .mechanism.switching_costs import held_by_points, points_cost

__all__ = ["Metric", "METRICS", "MERCHANT_METRICS", "metric", "bounds", "is_share", "is_flow", "compute", "customer_types", "retention_reasons",
           "recommend_score", "FACET_THRESHOLD", "INTENTION_HIGH", "SATISFIED_MIN"]

#: a facet of loyalty counts as present from this value on
FACET_THRESHOLD = 0.7
#: intention to buy again that counts as "high loyalty" in the four customer types
INTENTION_HIGH = 0.6
#: cumulative satisfaction that counts as "satisfied" in the four customer types: on balance no
#: more than a slight shortfall (0.5 means exactly as expected)
SATISFIED_MIN = 0.45


@dataclass(frozen=True)
class Metric:
    name: str
    label_en: str
    label_zh: str
    unit: str
    help_en: str
    help_zh: str
    #: the count of the step (a field of :class:`sim.mechanism.state.StepStats`; for a merchant
    #: observable the count kept per merchant with ``StepStats.add_at``) this observable reports, if
    #: it is one: :func:`compute` then needs no code of its own for it
    stat: str | None = None
    #: a merchant's mean or share over its own customers (satisfaction, loyal share, …): a merchant
    #: with no customers has no value of it (the model writes a placeholder, 0 or 0.5, which the
    #: summaries leave out: :func:`sim.analysis.stats.without_empty_merchants`)
    per_customer: bool = False

    def label(self, lang: str = "en") -> str:
        return self.label_zh if lang == "zh" else self.label_en

    @property
    def share(self) -> bool:
        """A share (0–1) of customers, purchases or money, or a share per step (churn): the app
        shows it as a percentage."""
        return self.unit in ("share", "1/step")

    @property
    def bounds(self) -> tuple[float, float]:
        """The values this observable can take (``(-inf, inf)`` when unbounded): shares and
        per-step shares 0–1, satisfaction and trust 0–1, the NPS −100…100, the ACSI 0–100, counts
        of customers, places, events and messages from 0. Summaries keep their intervals inside."""
        inf = float("inf")
        return {"share": (0.0, 1.0), "1/step": (0.0, 1.0), "0–1": (0.0, 1.0), "−100…100": (-100.0, 100.0),
                "0–100": (0.0, 100.0), "customers": (0.0, inf), "places": (0.0, inf), "count": (0.0, inf),
                "messages": (0.0, inf), "listeners": (0.0, inf)}.get(self.unit, (-inf, inf))

    @property
    def flow(self) -> bool:
        """A per-step flow (churn, profit, counts of events) rather than a level: noisy from one
        step to the next, so summaries average it over each run's last steps."""
        return self.unit.endswith("/step") or self.unit in ("count", "messages")


def _m(*a, **kw) -> Metric:
    return Metric(*a, **kw)


#: each reason for losing a customer (REASONS but "none") with its short Chinese name
_REASON_WORDS = tuple(zip(REASONS[1:], ("自然原因", "服务失误", "补救不当", "价格", "竞争对手", "其他")))

_MARKET = [
    _m("loyal_share", "Loyal share", "忠诚客户占比", "share", "loyal customers among active customers", "忠诚客户占在网客户的比例"),
    _m("churn_rate", "Churn rate", "流失率", "1/step", "customers who left the market this step / active customers at its start", "本期离开市场的客户 / 期初在网客户"),
    _m("value_churn_rate", "Value-weighted churn", "价值加权流失率", "1/step", "recent spend of customers lost by their merchant / recent spend of all customers", "被商家失去客户的近期消费 / 全部客户的近期消费"),
    _m("satisfaction", "Mean satisfaction", "平均满意度", "0–1", "cumulative satisfaction of customers who have bought (0.5 = as expected)", "已购买客户的累积满意度（0.5 = 符合预期）"),
    _m("trust", "Mean trust", "平均信任", "0–1", "trust of customers who have bought, in their merchant", "已购买客户对其商家的信任"),
    _m("nps", "Net Promoter Score", "净推荐值", "−100…100", "% promoters (9–10) − % detractors (0–6) on a simulated 0–10 recommend answer", "模拟0–10推荐意愿中推荐者（9–10）百分比减贬损者（0–6）百分比"),
    _m("active", "Active customers", "在网客户", "customers", "customers in the market (prospects included)", "市场中的客户（含潜在客户）"),
    _m("prospects", "Prospects", "潜在客户", "customers", "newcomers who have not bought yet", "尚未购买的新客户"),
    _m("ordinary", "Ordinary customers", "普通客户", "customers", "customers who have bought but not passed the trust bottleneck", "已购买但未越过信任瓶颈的客户"),
    _m("trusting", "Trusting customers", "信任客户", "customers", "customers past the trust bottleneck (G), not yet loyal", "越过信任瓶颈（G）但尚未忠诚的客户"),
    _m("loyal", "Loyal customers", "忠诚客户", "customers", "customers at the peak (H): exclusive and tolerant", "处于顶峰（H）的客户：专一且宽容"),
    _m("empty", "Empty places", "空位", "places", "places left by departed customers, not yet taken", "流失客户留下、尚未被填补的名额"),
    _m("trusting_share", "Trusting share", "信任客户占比", "share", "trusting customers among active customers", "信任客户占在网客户的比例"),
    _m("affective_share", "Affective loyalty", "情感忠诚", "share", "customers whose affective facet is at least 0.7", "情感忠诚维度不低于0.7的客户比例"),
    _m("behavioural_share", "Behavioural loyalty", "行为忠诚", "share", "customers whose behavioural facet (repeat purchase) is at least 0.7", "行为忠诚维度（重复购买）不低于0.7的客户比例"),
    _m("intentional_share", "Intentional loyalty", "意识忠诚", "share", "customers whose intention to buy again is at least 0.7", "再次购买意愿不低于0.7的客户比例"),
    _m("merchant_churn_rate", "Churn rate (merchants)", "商家流失率", "1/step", "customers lost by their merchant (left or switched) / customers at the start", "被商家失去的客户（离开或转换）/ 期初客户"),
    _m("switch_rate", "Switching rate", "转换率", "1/step", "customers who moved to another merchant / active customers", "转向其他商家的客户 / 在网客户"),
    _m("expectation", "Mean expectation", "平均预期", "value", "expected value of a purchase", "对一次购买价值的预期"),
    _m("purchases", "Purchases", "购买次数", "count", "purchases this step", "本期购买次数", stat="purchases"),
    _m("cycle_a", "Cycle A passes", "甲循环次数", "count", "satisfied purchases this step: consume → evaluate → satisfied → consume again", "本期满意的购买：消费→评价→满意→再消费", stat="cycle_a"),
    _m("cycle_b", "Cycle B passes", "乙循环次数", "count", "recoveries evaluated this step: dissatisfied → complain → recovery → re-evaluate", "本期被重新评价的补救：不满→投诉→补救→再评价", stat="cycle_b"),
    _m("delighted", "Delighted", "惊喜", "count", "purchases above the desired level this step", "本期高于理想水平的购买", stat="delighted"),
    _m("dissatisfied", "Dissatisfied", "不满", "count", "purchases below the adequate level this step", "本期低于适当水平的购买", stat="dissatisfied"),
    _m("complaints", "Complaints", "投诉", "count", "complaints made this step", "本期投诉数", stat="complaints"),
    _m("complaint_rate", "Complaint rate", "投诉率", "share", "complaints / dissatisfied purchases this step", "本期投诉 / 不满的购买"),
    _m("recoveries", "Recoveries", "补救", "count", "recoveries evaluated this step", "本期被评价的补救", stat="recoveries"),
    _m("recoveries_ok", "Successful recoveries", "成功补救", "count", "recoveries that brought the customer back to Cycle A", "让客户回到甲循环的补救", stat="recoveries_ok"),
    _m("became_trusting", "Passed the bottleneck", "越过瓶颈", "count", "customers who became trusting this step (G)", "本期成为信任客户的人数（G）", stat="became_trusting"),
    _m("became_loyal", "Became loyal", "成为忠诚", "count", "customers who became loyal this step (H)", "本期成为忠诚客户的人数（H）", stat="became_loyal"),
    _m("lost_loyalty", "Lost loyalty", "失去忠诚", "count", "loyal customers whose trust broke this step", "本期信任破裂的忠诚客户", stat="lost_loyalty"),
    _m("price_prompted", "Compared after a price rise", "涨价后比较", "count", "ordinary and trusting buyers who noticed a price rise at their merchant this step and compared merchants on value for money", "本期察觉到所在商家涨价、并按性价比比较商家的普通客户和信任客户", stat="price_prompted"),
    _m("switched", "Switched", "转换", "count", "customers who moved to another merchant this step", "本期转向其他商家的客户", stat="switched"),
    _m("left", "Left", "离开", "count", "customers who left the market this step", "本期离开市场的客户", stat="left"),
    _m("arrived", "Arrived", "新到", "count", "newcomers this step", "本期新客户", stat="arrived"),
    _m("loyalists", "Loyalists (apostles)", "传道者", "share", "satisfied and loyal", "满意且忠诚"),
    _m("mercenaries", "Mercenaries", "图利型", "share", "satisfied but not loyal", "满意但不忠诚"),
    _m("hostages", "Hostages", "人质型", "share", "intend to stay but are not satisfied: held by switching costs or lack of choice", "打算留下但不满意：被转换成本或缺乏选择所困"),
    _m("defectors", "Defectors", "流失型", "share", "neither satisfied nor loyal", "既不满意也不忠诚"),
    _m("stay_trust", "Stay for trust", "因信任留下", "share", "retained customers held mainly by trust", "主要因信任而留下的客户"),
    _m("stay_inertia", "Stay by inertia", "因惯性留下", "share", "retained customers held mainly by habit and switching effort", "主要因习惯和转换麻烦而留下的客户"),
    _m("stay_incentive", "Stay for incentives", "因激励留下", "share", "retained customers held mainly by programme rewards", "主要因计划奖励而留下的客户"),
    _m("stay_monopoly", "Stay for lack of choice", "因别无选择留下", "share", "retained customers with no alternative merchant", "没有其他商家可选而留下的客户"),
    _m("share_of_wallet", "Share of wallet", "客户份额", "share", "share of a customer's purchases made at its own merchant", "客户在其商家处的购买占其全部购买的比例"),
    _m("acsi", "Satisfaction index (ACSI-style)", "满意度指数（ACSI式）", "0–100", "mean of overall satisfaction, confirmation of expectations and closeness to the ideal, for this step's buyers", "本期购买者的总体满意、预期确认与接近理想程度的平均"),
    _m("acsi_expectation", "Index: expectations", "指数：顾客预期", "value", "mean expectation of this step's buyers", "本期购买者的平均预期"),
    _m("acsi_quality", "Index: perceived quality", "指数：感知质量", "quality", "mean perceived quality of this step's purchases", "本期购买的平均感知质量"),
    _m("acsi_value", "Index: perceived value", "指数：感知价值", "value", "mean perceived value (quality for the price) of this step's purchases", "本期购买的平均感知价值（性价比）"),
    _m("wom_positive", "Positive word of mouth", "正面口碑", "messages", "recommendations heard this step", "本期听到的推荐"),
    _m("wom_negative", "Negative word of mouth", "负面口碑", "messages", "warnings heard this step", "本期听到的负面评价"),
    _m("wom_per_positive_speaker", "Listeners per recommender", "每位推荐者的听众", "listeners", "listeners reached per customer who recommended", "每位推荐者触达的听众数"),
    _m("wom_per_negative_speaker", "Listeners per complainer", "每位抱怨者的听众", "listeners", "listeners reached per customer who warned others", "每位负面传播者触达的听众数"),
    _m("revenue", "Revenue", "收入", "money/step", "revenue of all merchants this step", "所有商家本期收入"),
    _m("cost", "Cost", "成本", "money/step", "cost of all merchants this step", "所有商家本期成本"),
    _m("profit", "Profit", "利润", "money/step", "profit of all merchants this step", "所有商家本期利润"),
    _m("clv", "Customer lifetime value", "客户终身价值", "money", "expected discounted margin of a customer, averaged over merchants by customers", "客户预期折现利润，按客户数对商家加权平均"),
] + [
    _m(f"left_{r}", f"Lost: {r.replace('_', ' ')}", f"失去：{z}", "count", f"customers lost by their merchant this step (left the market or switched) because of: {r.replace('_', ' ')}", f"本期因此原因被商家失去（离开市场或转换）的客户：{z}")
    for r, z in _REASON_WORDS
]
METRICS: dict[str, Metric] = {m.name: m for m in _MARKET}
_COUNTS = tuple(m for m in _MARKET if m.stat)

_MERCH = [
    _m("customers", "Customers", "客户数", "customers", "active customers of this merchant", "该商家的在网客户"),
    _m("market_share", "Market share", "市场份额", "share", "share of active customers", "占在网客户的份额"),
    _m("loyal_share", "Loyal share", "忠诚客户占比", "share", "loyal customers among its customers", "其客户中忠诚客户的比例", per_customer=True),
    _m("churn_rate", "Churn rate", "流失率", "1/step", "customers lost (left or switched) / customers at the start of the step", "失去的客户（离开或转换）/ 期初客户"),
    _m("value_churn_rate", "Value-weighted churn", "价值加权流失率", "1/step", "recent spend of customers lost / recent spend of its customers", "失去客户的近期消费 / 其客户的近期消费"),
    _m("satisfaction", "Mean satisfaction", "平均满意度", "0–1", "cumulative satisfaction of its customers", "其客户的累积满意度", per_customer=True),
    _m("trust", "Mean trust", "平均信任", "0–1", "trust of its customers", "其客户的信任", per_customer=True),
    _m("revenue", "Revenue", "收入", "money/step", "revenue this step", "本期收入"),
    _m("cost", "Cost", "成本", "money/step", "cost this step", "本期成本"),
    _m("profit", "Profit", "利润", "money/step", "profit this step", "本期利润"),
    _m("cumulative_profit", "Cumulative profit", "累计利润", "money", "profit since the start", "自开始以来的利润"),
    _m("clv", "Customer lifetime value", "客户终身价值", "money", "margin per customer × retention / (1 + discount − retention)", "每位客户利润 × 保留率 /（1 + 折现率 − 保留率）", per_customer=True),
    _m("acquired", "Acquired", "获得", "customers", "customers won this step (newcomers and switchers)", "本期赢得的客户（新客户与转入者）"),
    _m("lost", "Lost", "失去", "customers", "customers lost this step", "本期失去的客户"),
    _m("quality", "Quality", "质量", "quality", "current service quality", "当前服务质量"),
    _m("price", "Price", "价格", "money", "current price", "当前价格"),
    _m("reputation", "Reputation", "声誉", "quality", "quality the market believes it delivers", "市场认为其提供的质量"),
    _m("nps", "Net Promoter Score", "净推荐值", "−100…100", "% promoters − % detractors among its customers who have bought (simulated 0–10 recommend answer)", "其已购买客户中推荐者百分比减贬损者百分比（模拟0–10推荐意愿）", per_customer=True),
    _m("cycle_a", "Cycle A passes", "甲循环次数", "count", "its customers' satisfied purchases this step", "本期其客户满意的购买", stat="cycle_a"),
    _m("dissatisfied", "Dissatisfied", "不满", "count", "its customers' purchases below the adequate level this step", "本期其客户低于适当水平的购买", stat="dissatisfied"),
    _m("complaints", "Complaints", "投诉", "count", "complaints made to it this step", "本期向其提出的投诉", stat="complaints"),
    _m("recoveries", "Recoveries (Cycle B)", "补救（乙循环）", "count", "its answers to complaints evaluated this step", "本期被评价的其对投诉的答复", stat="recoveries"),
    _m("recoveries_ok", "Successful recoveries", "成功补救", "count", "recoveries that brought its customer back to Cycle A", "让其客户回到甲循环的补救", stat="recoveries_ok"),
] + [
    _m(f"lost_{r}", f"Lost: {r.replace('_', ' ')}", f"失去：{z}", "count", f"its customers lost this step (left the market or switched) because of: {r.replace('_', ' ')}", f"本期因此原因失去（离开市场或转换）的其客户：{z}")
    for r, z in _REASON_WORDS
]
MERCHANT_METRICS: dict[str, Metric] = {m.name: m for m in _MERCH}
_MERCH_COUNTS = tuple(m for m in _MERCH if m.stat)  # counted per merchant (StepStats.add_at)


def metric(name: str, merchant: bool = False) -> Metric | None:
    """The declaration of observable ``name`` (a merchant observable first if ``merchant``), or ``None``."""
    first, second = (MERCHANT_METRICS, METRICS) if merchant else (METRICS, MERCHANT_METRICS)
    return first.get(name) or second.get(name)


def is_share(name: str, merchant: bool = False) -> bool:
    """Whether observable ``name`` is a share (:attr:`Metric.share`): shown as a percentage in the
    app's tables and the reports (:func:`sim.analysis.tables.mean_texts`)."""
    m = metric(name, merchant)
    return bool(m is not None and m.share)


def bounds(name: str) -> tuple[float, float]:
    """The values observable ``name`` (of the market, or else of a merchant) can take
    (:attr:`Metric.bounds`; unbounded for a name that is not an observable)."""
    m = metric(name) or metric(name, True)
    return m.bounds if m is not None else (-float("inf"), float("inf"))


def is_flow(name: str, merchant: bool = False) -> bool:
    """Whether observable ``name`` is a per-step flow (see :attr:`Metric.flow`); unknown names are not."""
    m = metric(name, merchant)
    return m is not None and m.flow


def customer_types(pop, P):
    """Masks (loyalist, mercenary, hostage, defector) over all places.

    Satisfied means cumulative satisfaction of at least :data:`SATISFIED_MIN`; loyal means an intention to buy again of at least :data:`INTENTION_HIGH`, or the loyal stage.
    Prospects (who have not bought) and empty places are in none.
    """
    bought = pop.stage >= ORDINARY
    sat = pop.satisfaction >= F32(SATISFIED_MIN)
    loy = (pop.intentional >= INTENTION_HIGH) | (pop.stage == LOYAL)
    sat_b = bought & sat
    unsat_b = bought & ~sat
    return sat_b & loy, sat_b & ~loy, unsat_b & loy, unsat_b & ~loy


def retention_reasons(pop, T, P):
    """Masks (trust, inertia, incentive, monopoly) over all places: why a retained customer stays.

    Trusting and loyal customers stay for trust. Of the others, with a single merchant they stay
    for lack of choice; customers whose programme points outweigh their procedural and relational
    switching costs stay for the incentive; the rest stay by inertia.
    """
    bought = pop.stage >= ORDINARY
    trust = bought & (pop.stage >= TRUSTING)
    rest = bought & ~trust
    z = np.zeros_like(bought)
    if T.m == 1:
        return trust, z, z, rest
    if not pop.financial.any():
        return trust, rest, z, z
    fin = points_cost(pop.financial, pop.price_sens, pop.expected_price, where=bought)
    incentive = rest & held_by_points(fin, pop.procedural, pop.relational, P)
    return trust, rest & ~incentive, incentive, z


def recommend_score(pop):
    """Simulated answer to "how likely are you to recommend …?" (0–10) for every place:
    ``round(10 · (0.3 + 0.45·trust + 0.25·affective + 1.5·(satisfaction − 0.5) + 0.1·[loyal] + ε))``,
    clipped to 0–10, with a personal response style ε ~ N(0, 0.1) drawn at arrival."""
    return np.clip(np.rint(10 * _recommend_latent(pop)), 0, 10)


def _recommend_latent(pop):
    return _recommend_latent_parts(pop.trust, pop.affective, pop.satisfaction, pop.nps_bias, pop.stage == LOYAL)


#: the recommend answer's latent (before rounding to 0–10), one coefficient each for trust, the
#: affective facet and satisfaction, a constant, and one for the loyal stage; ``nps_bias`` is added
#: as it is (a customer's response style)
LATENT = np.array([0.45, 0.25, 1.5, 0.3 - 0.75, 0.1], dtype=F32)
#: the latent at and above which the answer rounds to 9–10 (a promoter), below which to 0–6 (a detractor)
PROMOTER_MIN, DETRACTOR_BELOW = F32(0.85), F32(0.65)


def _recommend_latent_parts(trust, affective, satisfaction, nps_bias, loyal):
    x = LATENT[0] * trust
    x += LATENT[1] * affective
    x += LATENT[2] * satisfaction
    x += nps_bias
    x += LATENT[3]
    x += LATENT[4] * loyal
    return x


@dataclass
class PopulationSums:
    """Everything the merchants' books and the observables need from the whole population, gathered
    in one pass by :func:`population_sums`."""

    by_stage: np.ndarray  # (m, 5) customers per merchant and stage
    spend: np.ndarray  # (m,) recent spend of each merchant's active customers
    satisfaction: np.ndarray  # (m,) cumulative satisfaction summed over each merchant's customers who bought
    trust: np.ndarray  # (m,) trust, likewise
    expectation: float  # expectation summed over active customers
    wallet: float  # share of wallet summed over customers who bought
    affective: int  # customers who bought with each facet ≥ FACET_THRESHOLD
    behavioural: int
    intentional: int
    satisfied: int  # customers who bought with satisfaction ≥ SATISFIED_MIN
    loyal_minded: int  # … with intention ≥ INTENTION_HIGH or in the loyal stage
    satisfied_loyal: int  # … both
    promoters: int  # … whose recommend answer rounds to 9–10
    detractors: int  # … to 0–6
    promoters_m: np.ndarray  # (m,) promoters among each merchant's customers who bought
    detractors_m: np.ndarray  # (m,) detractors, likewise


def population_sums(pop, m: int) -> PopulationSums:
    """One pass over the population for the counts and sums behind the books and the observables
    (the same masks as :func:`customer_types` and :func:`recommend_score`), compiled
    (:func:`sim.kernels.population_pass`): per merchant, customers by stage and the sums of spend,
    expectation, satisfaction, trust and wallet over its active customers and over those who bought
    (in float64, place by place), its promoters and detractors; over the market, the counts behind
    the customer types."""
    counts, sums, cnt, votes = sized(population_pass, pop.n)(
        pop.merchant, pop.stage, pop.spend, pop.expectation, pop.satisfaction, pop.trust, pop.wallet, pop.affective,
        pop.behavioural, pop.intentional, pop.nps_bias, m, F32(SATISFIED_MIN), F32(INTENTION_HIGH),
        F32(FACET_THRESHOLD), LATENT, PROMOTER_MIN, DETRACTOR_BELOW)
    act, bgt = sums[:, 0::2], sums[:, 1::2]
    return PopulationSums(counts.reshape(m, 5), act[0], bgt[2], bgt[3], float(act[1].sum()), float(bgt[4].sum()),
                          *(int(c) for c in cnt[:6]), int(votes[0].sum()), int(votes[1].sum()), votes[0], votes[1])


def _share(x, d):
    return float(x) / d if d else 0.0


def compute(model, stats) -> dict:
    """All market-level metrics for the step just run (also fills each merchant's metrics).

    The population's counts and sums come from ``model.sums`` (:func:`population_sums`, taken by
    the merchants' books after the step's last change to the customers) or are gathered here."""
    pop, P, T = model.pop, model.params, model.table
    m = T.m
    sums = getattr(model, "sums", None) or population_sums(pop, m)
    by_stage = sums.by_stage  # customers per (merchant, stage)
    counts = by_stage.sum(axis=0)
    active = int(counts[1:].sum())
    bought_n = int(counts[ORDINARY:].sum())
    out: dict[str, float] = {
        "active": active, "prospects": int(counts[PROSPECT]), "ordinary": int(counts[ORDINARY]),
        "trusting": int(counts[TRUSTING]), "loyal": int(counts[LOYAL]), "empty": pop.n - active,
        "loyal_share": _share(counts[LOYAL], active), "trusting_share": _share(counts[TRUSTING], active),
    }
    out["affective_share"] = _share(sums.affective, active)
    out["behavioural_share"] = _share(sums.behavioural, active)
    out["intentional_share"] = _share(sums.intentional, active)
    start_active = model.start_active
    out["churn_rate"] = _share(stats.left, start_active)
    lost_n = sum(len(x) for x in stats.lost_merchant)
    lost_v = sum(float(x.sum(dtype=np.float64)) for x in stats.lost_value)
    out["merchant_churn_rate"] = _share(lost_n, start_active)
    out["value_churn_rate"] = _share(lost_v, float(model.start_value.sum()))
    out["switch_rate"] = _share(stats.switched, start_active)
    sat_ms, trust_ms = sums.satisfaction, sums.trust
    out["satisfaction"] = float(sat_ms.sum() / bought_n) if bought_n else 0.5
    out["trust"] = float(trust_ms.sum() / bought_n) if bought_n else 0.0
    out["expectation"] = model.mean_expectation if active else 0.0
    for mt in _COUNTS:  # the observables that report a count of the step (declared with stat=)
        out[mt.name] = stats.count(mt.stat)
    out["complaint_rate"] = _share(stats.complaints, stats.dissatisfied)
    # the four customer types (see customer_types)
    both = sums.satisfied_loyal
    types = (both, sums.satisfied - both, sums.loyal_minded - both,
             bought_n - sums.satisfied - sums.loyal_minded + both)
    for name, c in zip(("loyalists", "mercenaries", "hostages", "defectors"), types):
        out[name] = _share(c, bought_n)
    # why retained customers stay (see retention_reasons)
    trusting = int(counts[TRUSTING:].sum())
    rest = int(counts[ORDINARY])
    if m == 1:
        reasons = (trusting, 0, 0, rest)
    elif not pop.any_points or not pop.financial.any():
        reasons = (trusting, rest, 0, 0)
    else:
        reasons = tuple(np.count_nonzero(mask) for mask in retention_reasons(pop, T, P))
    for name, c in zip(("stay_trust", "stay_inertia", "stay_incentive", "stay_monopoly"), reasons):
        out[name] = _share(c, bought_n)
    out["share_of_wallet"] = sums.wallet / bought_n if bought_n else 0.0
    out["nps"] = 100.0 * (sums.promoters - sums.detractors) / bought_n if bought_n else 0.0
    if stats.acsi_n:
        out["acsi"] = 100 * stats.acsi_sum / (3 * stats.acsi_n)
        out["acsi_expectation"] = stats.acsi_expectation
        out["acsi_quality"] = stats.acsi_quality
        out["acsi_value"] = stats.acsi_value
    else:
        out["acsi"] = out["acsi_expectation"] = out["acsi_quality"] = out["acsi_value"] = 0.0
    out["wom_positive"] = stats.wom_positive
    out["wom_negative"] = stats.wom_negative
    out["wom_per_positive_speaker"] = _share(stats.wom_positive, stats.wom_positive_speakers)
    out["wom_per_negative_speaker"] = _share(stats.wom_negative, stats.wom_negative_speakers)
    for r, c in zip(REASONS[1:], stats.left_by_reason[1:]):
        out[f"left_{r}"] = int(c)
    # ---- per merchant (plain Python numbers: a few merchants, many fields) -------------------
    stage_rows = by_stage.tolist()
    zeros = [0] * m
    counted = [(mt.name, stats.count_at(mt.stat, m).tolist() if mt.stat in stats.at else zeros)
               for mt in _MERCH_COUNTS]
    lost_m = np.concatenate(stats.lost_merchant) if stats.lost_merchant else np.zeros(0, np.intp)
    lost_r = np.concatenate(stats.lost_reason) if stats.lost_reason else np.zeros(0, np.intp)
    by_reason = np.bincount(lost_m * len(REASONS) + lost_r, minlength=m * len(REASONS)).reshape(m, len(REASONS))
    lost_names = [f"lost_{reason}" for reason in REASONS[1:]]
    reason_rows = by_reason[:, 1:].tolist()
    prom, detr = sums.promoters_m.tolist(), sums.detractors_m.tolist()
    sat_l, trust_l = sat_ms.tolist(), trust_ms.tolist()
    clv_w = 0.0
    for j, merchant in enumerate(model.merchant_list):
        row = stage_rows[j]
        cust, bought_j = sum(row[1:]), sum(row[ORDINARY:])
        for name, c in counted:
            setattr(merchant, name, c[j])
        for name, c in zip(lost_names, reason_rows[j]):
            setattr(merchant, name, c)
        merchant.nps = 100.0 * (prom[j] - detr[j]) / bought_j if bought_j else 0.0
        merchant.market_share = _share(cust, active)
        merchant.loyal_share = _share(row[LOYAL], cust)
        merchant.satisfaction = sat_l[j] / bought_j if bought_j else 0.5
        merchant.trust = trust_l[j] / bought_j if bought_j else 0.0
        merchant.quality = merchant.policy.quality
        merchant.price = merchant.policy.price
        merchant.clv = _clv(merchant, P.discount_rate)
        clv_w += merchant.clv * cust
    out["revenue"] = float(sum(mm.revenue for mm in model.merchant_list))
    out["cost"] = float(sum(mm.cost for mm in model.merchant_list))
    out["profit"] = out["revenue"] - out["cost"]
    out["clv"] = clv_w / active if active else 0.0
    return out


def _clv(merchant, discount: float) -> float:
    """Customer lifetime value: margin per customer per step × r / (1 + d − r), with retention r
    from the merchant's churn over the last 26 steps (Gupta, Lehmann & Stuart 2004)."""
    if merchant.customers == 0:
        return 0.0
    margin = (merchant.revenue - merchant.cost + merchant.acquired * merchant.policy.acquisition_cost) / merchant.customers
    r = 1.0 - merchant.recent_churn(26)
    return float(margin * r / (1 + discount - r)) if (1 + discount - r) > 0 else 0.0
