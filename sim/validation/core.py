"""Shared pieces of the validation: facts, checks, statistics over seeds, reading customers out of a
run, and the figure helper every fact draws with.

A fact's *measurement* runs its scenario once per seed and returns plain numbers (a dict of floats
and lists, picklable, JSON-friendly). Its *evaluation* turns the per-seed numbers of all seeds into
:class:`Check` rows: what was measured, the mean over seeds with a 95% interval, the target, and
whether it holds. The facts themselves, one module each, are in :mod:`sim.validation.facts`; their
texts in ``docs/validation/facts/`` (:mod:`sim.validation.prose`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..mechanism import CHURNED, EV, LOYAL
from ..analysis.stats import ci95
from ..inputs.scenario import Scenario, load_scenario
from ..simulate import simulate
from .paths import VALIDATION_DIR
from .prose import FactText, read_fact_text

ZH_SUMMARY_HEADING = "## 中文摘要"  # the report's Chinese summary; the app shows it first in Chinese

#: the kinds of evidence a check gives, in the report's order: ``verification`` (holds by construction of a
#: rule: it tests the code), ``calibration`` (a target the parameters were fitted to: the report gives the
#: fit) and ``held_out`` (never used in fitting: only these count in the headline)
KINDS = ("verification", "calibration", "held_out")
KIND_NAMES = {"verification": ("verification", "验证"), "calibration": ("calibration", "校准"),
              "held_out": ("held-out", "留出")}

#: severity bounds of a minor and of a major problem (F5–F7)
MINOR, MAJOR = 1 / 3, 2 / 3

__all__ = ["KINDS", "KIND_NAMES", "Check", "FactResult", "Fact", "Validation", "VALIDATION_DIR", "ZH_SUMMARY_HEADING", "MINOR", "MAJOR",
           "ci", "ratio_ci", "diff_ci", "nanmean", "series", "column", "band_check", "above_check", "below_check",
           "own_buyers", "lost_by_merchant", "shortfall_severity", "Cohort", "run_scenario", "new_figure",
           "interval_means", "interval_errors"]


@dataclass
class Check:
    """One row of the validation table."""

    key: str  # short machine name, e.g. "ratio_sat_0.1"
    measured_en: str
    measured_zh: str
    value: float
    lo: float
    hi: float
    target_en: str
    target_zh: str
    passed: bool
    fmt: str = "{:.3f}"  # how to print value and interval
    info: bool = False  # reported, but not part of pass/fail
    kind: str = "held_out"  # which evidence it gives (KINDS); set from its fact's declaration (Fact.kinds)

    def value_text(self) -> str:
        f = self.fmt
        if not math.isfinite(self.value):
            return "n/a"
        if not (math.isfinite(self.lo) and math.isfinite(self.hi)):
            return f.format(self.value) + " [n/a]"
        if self.lo == self.hi == self.value:
            return f.format(self.value)
        return f"{f.format(self.value)} [{f.format(self.lo)}, {f.format(self.hi)}]"

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("value", "lo", "hi"):
            d[k] = None if not math.isfinite(d[k]) else float(d[k])
        return d


@dataclass
class FactResult:
    fact: "Fact"
    checks: list[Check]
    per_seed: list[dict]
    seeds: list[int]
    seconds: float = 0.0
    error: str | None = None
    figure_data: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.error is None and all(c.passed for c in self.checks if not c.info)

    @property
    def failing(self) -> list[Check]:
        return [c for c in self.checks if not c.info and not c.passed]

    def counted(self, kind: str) -> list[Check]:
        """The checks of ``kind`` that count (not the info rows)."""
        return [c for c in self.checks if not c.info and c.kind == kind]

    @property
    def kinds(self) -> list[str]:
        """The kinds of evidence this fact's counted checks give, in the order of :data:`KINDS`."""
        return [k for k in KINDS if self.counted(k)]

    @property
    def fact_kinds(self) -> set[str]:
        """The kinds its fact declares (held-out unless every key is declared otherwise): what an
        errored measurement leaves untested."""
        k = {kind for _, kind in self.fact.kinds}
        return k if any(p == "" for p, _ in self.fact.kinds) else k | {"held_out"}

    def passed_as(self, kind: str) -> bool | None:
        """Whether every counted check of ``kind`` passes (``None`` when the fact has none; ``False``
        when the measurement failed)."""
        cs = self.counted(kind)
        if self.error is not None:
            return False
        return all(c.passed for c in cs) if cs else None


@dataclass(frozen=True)
class Fact:
    """A stylized fact: its file in ``scenarios/validation/``, how the model is measured on it, the checks
    and the figure. Its texts (title, source, grade, test, measurement, calibration, diagnoses) are read
    from ``docs/validation/facts/<id>.md``."""

    id: str
    file: str  # scenario or experiment file in scenarios/validation/
    measure: Callable[[list[Scenario], int], dict]  # (the file's markets, seed) -> numbers
    evaluate: Callable[[list[dict]], list[Check]]  # per-seed numbers -> checks
    plot: Callable | None = None  # (per_seed, checks) -> matplotlib Figure
    cost: float = 1.0  # relative time of one seed (the slow facts start first, to keep the pool busy)
    #: the kind of evidence of its checks: (check key prefix, kind) pairs, the longest matching prefix wins
    #: ("" matches every key); a check no prefix matches is ``held_out``. The reasons are in the fact's
    #: text, section Evidence.
    kinds: tuple[tuple[str, str], ...] = ()

    def __post_init__(self):
        bad = [k for _, k in self.kinds if k not in KINDS]
        if bad:
            raise ValueError(f"{self.id}: unknown kind(s) of evidence {bad} (known: {', '.join(KINDS)})")

    def kind_of(self, key: str) -> str:
        """The kind of evidence of the check ``key`` (:attr:`kinds`)."""
        hits = [(len(p), k) for p, k in self.kinds if key.startswith(p)]
        return max(hits)[1] if hits else "held_out"

    def checks(self, per_seed: list[dict]) -> list[Check]:
        """:attr:`evaluate` with each check's kind of evidence set from :attr:`kinds`."""
        out = self.evaluate(per_seed)
        for c in out:
            c.kind = self.kind_of(c.key)
        return out

    @property
    def text(self) -> FactText:
        return read_fact_text(self.id)

    @property
    def title_en(self) -> str:
        return self.text.title_en

    @property
    def title_zh(self) -> str:
        return self.text.title_zh

    @property
    def source(self) -> str:
        return self.text.source

    @property
    def source_zh(self) -> str:
        return self.text.source_zh

    @property
    def grade(self) -> str:
        return self.text.grade

    @property
    def test(self) -> str:
        """The test as written in the project's list of facts."""
        return self.text.test

    @property
    def method(self) -> str:
        """How the measurement is set up (Markdown)."""
        return self.text.method

    @property
    def calibration(self) -> str:
        """What was fitted (Markdown; empty when nothing was)."""
        return self.text.calibration

    @property
    def calibrated(self) -> bool:
        return bool(self.text.calibration)

    @property
    def evidence(self) -> str:
        """Why its checks are of the kinds they are (Markdown, English)."""
        return self.text.evidence

    @property
    def evidence_zh(self) -> str:
        """The same in Chinese."""
        return self.text.evidence_zh

    @property
    def diagnosis(self) -> dict:
        """Check key prefix -> diagnosis when it fails (Markdown)."""
        return self.text.diagnosis

    @property
    def path(self) -> Path:
        return VALIDATION_DIR / self.file

    def scenario(self) -> Scenario:
        return load_scenario(self.path)


@dataclass
class Validation:
    """What :func:`sim.validation.run_validation` produced."""

    results: list[FactResult]
    seeds: list[int]
    master: int
    seconds: float
    executor: str
    started: str = ""
    versions: dict = field(default_factory=dict)
    #: market parameters changed for every fact (``validate --set``; empty: the model as declared)
    values: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def tally(self, kind: str) -> dict:
        """Counts for one kind of evidence: facts with counted checks of ``kind`` and how many of them
        pass all of those checks; the checks themselves and how many pass (a failed measurement counts
        as a failing fact)."""
        facts = [r for r in self.results if r.counted(kind) or (r.error and kind in r.fact_kinds)]
        checks = [c for r in self.results for c in r.counted(kind)]
        return {"facts": len(facts), "facts_passed": sum(bool(r.passed_as(kind)) for r in facts),
                "checks": len(checks), "checks_passed": sum(c.passed for c in checks),
                "failing": [r.fact.id for r in facts if not r.passed_as(kind)]}


# ---- statistics over seeds -------------------------------------------------------------------------
def nanmean(x) -> float:
    a = np.asarray(x, dtype=float)
    a = a[np.isfinite(a)]
    return float(a.mean()) if a.size else math.nan


def ci(values) -> tuple[float, float, float]:
    """Mean and 95% t-interval over seeds (NaNs dropped)."""
    return ci95([v for v in values if v is not None and math.isfinite(v)])


def diff_ci(a, b) -> tuple[float, float, float]:
    """Mean and 95% interval of the per-seed difference ``a − b``."""
    return ci([x - y for x, y in zip(a, b) if x is not None and y is not None])


def ratio_ci(num, den, n_boot: int = 4000) -> tuple[float, float, float]:
    """Ratio of the means over seeds, ``mean(num) / mean(den)``, with a 95% percentile bootstrap
    interval (seeds resampled with replacement; a fixed generator, so the report is reproducible)."""
    pairs = np.array([(x, y) for x, y in zip(num, den) if x is not None and y is not None
                      and math.isfinite(x) and math.isfinite(y)], dtype=float)
    if len(pairs) == 0:
        return (math.nan, math.nan, math.nan)
    r = pairs[:, 0].mean() / pairs[:, 1].mean() if pairs[:, 1].mean() != 0 else math.nan
    if len(pairs) < 2:
        return (r, r, r)
    rng = np.random.default_rng(12345)
    idx = rng.integers(0, len(pairs), size=(n_boot, len(pairs)))
    num_b = pairs[idx, 0].mean(axis=1)
    den_b = pairs[idx, 1].mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rb = num_b / den_b
    rb = rb[np.isfinite(rb)]
    if len(rb) < n_boot * 0.9:  # the denominator is often zero: no usable interval
        return (r, -math.inf, math.inf)
    lo, hi = np.percentile(rb, [2.5, 97.5])
    return (float(r), float(lo), float(hi))


# ---- reading a run -----------------------------------------------------------------------------------
def run_scenario(sc: Scenario, seed: int, on_step: Callable | None = None, steps: int | None = None):
    """Run a validation scenario (its parameters and scheduled events) from ``seed``."""
    return simulate(sc.params, seed=seed, steps=sc.steps if steps is None else steps, events=sc.events,
                    on_step=on_step)


def own_buyers(pop) -> np.ndarray:
    """Places of the customers who bought at their own merchant in the step just run (not a trial
    purchase elsewhere)."""
    f = pop.flags
    return np.flatnonzero(((f & EV.PURCHASE) != 0) & ((f & EV.TRIED_OTHER) == 0) & (pop.stage > CHURNED))


def lost_by_merchant(pop, idx) -> np.ndarray:
    """Whether each of ``idx`` was lost by its merchant in the step just run (left or switched)."""
    return (pop.flags[idx] & (EV.LEFT | EV.SWITCHED)) != 0


def shortfall_severity(pop, idx, P) -> np.ndarray:
    """Severity of the problem in each customer's last own purchase, as :func:`sim.mechanism.complain`
    sees it: the shortfall below the adequate level (loyal customers' tolerance applied) relative to
    ``severity_scale``, capped at 1; 0 when the purchase was not below the adequate level."""
    short = np.maximum(-pop.disconfirmation[idx] - P.zone_of_tolerance / 2, 0.0)
    tol = np.where(pop.stage[idx] == LOYAL, P.loyal_failure_tolerance, 0.0)
    return np.minimum(short * (1 - tol) / P.severity_scale, 1.0)


class Cohort:
    """A set of customers (by place and id) picked at one step, followed afterwards.

    ``retained(pop)`` tells, for each, whether it is still in the market, with the same merchant, and
    has not switched in between (its place still holds the same id, and its switch count is
    unchanged)."""

    def __init__(self, pop, idx: np.ndarray):
        self.idx = np.asarray(idx, dtype=np.intp)
        self.id = pop.id[self.idx].copy()
        self.merchant = pop.merchant[self.idx].copy()
        self.switches = pop.switches[self.idx].copy()

    def __len__(self) -> int:
        return len(self.idx)

    def present(self, pop) -> np.ndarray:
        return (pop.id[self.idx] == self.id) & (pop.stage[self.idx] > CHURNED)

    def retained(self, pop) -> np.ndarray:
        return self.present(pop) & (pop.merchant[self.idx] == self.merchant) & (pop.switches[self.idx] == self.switches)


# ---- checks ------------------------------------------------------------------------------------------
def band_check(key, measured_en, measured_zh, stats, lo_t, hi_t, fmt="{:.3f}", unit_en="", unit_zh="",
               info=False) -> Check:
    """A check that the mean lies in ``[lo_t, hi_t]``."""
    m, lo, hi = stats
    ok = math.isfinite(m) and lo_t <= m <= hi_t
    return Check(key, measured_en, measured_zh, m, lo, hi, f"{fmt.format(lo_t)}–{fmt.format(hi_t)}{unit_en}",
                 f"{fmt.format(lo_t)}–{fmt.format(hi_t)}{unit_zh}", ok, fmt, info)


def above_check(key, measured_en, measured_zh, stats, threshold=0.0, fmt="{:.3f}", significant=True,
                info=False, target_en=None, target_zh=None) -> Check:
    """A check that the mean is above ``threshold`` — with ``significant``, that the whole 95%
    interval is."""
    m, lo, hi = stats
    ok = math.isfinite(m) and ((lo > threshold) if significant else (m > threshold))
    te = target_en or (f"> {fmt.format(threshold)}" + (" (95% interval)" if significant else ""))
    tz = target_zh or (f"> {fmt.format(threshold)}" + ("（95% 区间）" if significant else ""))
    return Check(key, measured_en, measured_zh, m, lo, hi, te, tz, ok, fmt, info)


def below_check(key, measured_en, measured_zh, stats, threshold=0.0, fmt="{:.3f}", significant=True,
                info=False, target_en=None, target_zh=None) -> Check:
    """A check that the mean is below ``threshold`` — with ``significant``, that the whole 95%
    interval is."""
    m, lo, hi = stats
    ok = math.isfinite(m) and ((hi < threshold) if significant else (m < threshold))
    te = target_en or (f"< {fmt.format(threshold)}" + (" (95% interval)" if significant else ""))
    tz = target_zh or (f"< {fmt.format(threshold)}" + ("（95% 区间）" if significant else ""))
    return Check(key, measured_en, measured_zh, m, lo, hi, te, tz, ok, fmt, info)


# ---- per-seed numbers ----------------------------------------------------------------------------------
def series(per_seed: Sequence[dict], key: str) -> list:
    """``key`` of each seed's numbers (``None`` where missing)."""
    return [d.get(key) for d in per_seed]


def column(per_seed: Sequence[dict], key: str, i: int) -> list:
    """Item ``i`` of the list ``key`` of each seed's numbers (NaN where missing)."""
    out = []
    for d in per_seed:
        v = d.get(key)
        out.append(v[i] if v is not None and i < len(v) and v[i] is not None else math.nan)
    return out


# ---- figures -----------------------------------------------------------------------------------------
def interval_means(intervals) -> list[float]:
    """The means of ``(mean, low, high)`` intervals (as :func:`ci` gives them), for a bar or line."""
    return [v[0] for v in intervals]


def interval_errors(intervals) -> list[list[float]]:
    """Matplotlib's ``yerr`` (below, above) of ``(mean, low, high)`` intervals."""
    return [[v[0] - v[1] for v in intervals], [v[2] - v[0] for v in intervals]]


def new_figure(n: int):
    """A figure of ``n`` panels side by side, gridded: ``(fig, axes)``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2 * n, 3.6), layout="constrained")
    axes = [fig.add_subplot(1, n, i + 1) for i in range(n)]
    for ax in axes:
        ax.grid(True, alpha=0.3)
    return fig, axes
