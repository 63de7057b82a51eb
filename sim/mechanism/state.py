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
    "Population", "StepStats",
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


class Population:
    """All customers as arrays. Slot ``i`` holds one customer (``id[i]``) or is empty (stage 0).

    The arrays are the model's state; history and metrics read them, the mechanism functions
    write them.
    """

    FLOATS = (
        "expectation", "excite_expect", "expected_price", "price_sens", "last_paid", "complaint_prop", "procedural",
        "financial", "relational", "perceived", "value", "disconfirmation", "txn_sat", "satisfaction", "trust",
        "affective", "behavioural", "intentional", "wallet", "spend", "value_realised", "acq_cost",
        "recovery_value", "nps_bias", "switch_cost", "fit",
    )
    INTS = ("tenure", "age", "cycle_a", "cycle_b", "complaints", "recoveries", "recoveries_ok", "failures",
            "switches")

    def __init__(self, n: int, m: int):
        self.n, self.m = n, m
        for name in self.FLOATS:
            setattr(self, name, np.zeros(n, dtype=F32))
        for name in self.INTS:
            setattr(self, name, np.zeros(n, dtype=np.int32))
        self.id = np.full(n, -1, dtype=np.int64)
        self.stage = np.zeros(n, dtype=np.int8)
        self.merchant = np.zeros(n, dtype=np.int16)  # meaningless while a place is empty
        self.products = np.zeros(n, dtype=np.int8)
        self.recovery_due = np.full(n, -1, dtype=np.int32)
        self.recovery_merchant = np.full(n, -1, dtype=np.int16)
        self.recovery_ok = np.zeros(n, dtype=bool)
        self.churn_reason = np.zeros(n, dtype=np.int8)
        self.flags = np.zeros(n, dtype=np.uint16)
        self.heard = np.zeros((n, m), dtype=F32)  # what each customer heard about each merchant
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
    """Counts of what happened in one step (read by :mod:`sim.metrics`)."""

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
    lost_value: list = field(default_factory=list)  # their recent spend
    acquired_merchant: list = field(default_factory=list)
