"""Statistics over replicates: means with 95% t-intervals, per-run values, differences, and the
one summary of levels and flows used by the reports, the app's pages and the command line.

Tables come from a results folder (:mod:`sim.runs`): ``market`` has one row per run × step (or
only each run's last step when measured "at the end") with ``run_id``, ``label``, the varied
parameters, ``step`` and observables; ``merchants`` adds a ``merchant`` column. A raw
:func:`sim.simulate.simulate` table counts as one run.

Levels (loyal share, trust …) are summarised at each run's final step. Per-step flows (churn,
profit, counts; :attr:`sim.metrics.Metric.flow`) are noisy from one step to the next: when runs
were measured every step, :func:`summarize_mixed` takes each run's mean over its last
:data:`FLOW_WINDOW` steps instead (:func:`window_for`, :func:`flow_metrics`).
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ..metrics import MERCHANT_METRICS, bounds, is_flow

__all__ = ["HEADLINE_METRICS", "MERCHANT_HEADLINE_METRICS", "FLOW_WINDOW", "ID_COLUMNS", "PER_CUSTOMER_MERCHANT_METRICS",
           "without_empty_merchants", "t975", "ci95", "ci_frame",
           "runs_frame", "require_columns", "final_rows", "per_run_values", "summarize", "summarize_merchants",
           "differences", "window_for", "flow_metrics", "summarize_mixed", "measured_every_step"]

#: observables summarised and drawn by default (those measured)
HEADLINE_METRICS: tuple[str, ...] = ("loyal_share", "churn_rate", "value_churn_rate", "satisfaction", "trust",
                                     "nps", "profit")
#: per-merchant observables summarised by default (those measured)
MERCHANT_HEADLINE_METRICS: tuple[str, ...] = ("market_share", "loyal_share", "churn_rate", "satisfaction",
                                              "trust", "profit")
#: per-step flows (churn, profit, counts) are noisy from one step to the next: summaries average
#: each run's last FLOW_WINDOW steps (a quarter of weekly steps)
FLOW_WINDOW = 13
#: per-merchant observables that are means or shares over the merchant's own customers (declared with
#: ``per_customer``): a merchant with no customers has none (the model writes a placeholder: 0, or 0.5
#: for satisfaction), so the summaries count such a run as having no value of them (NaN, ``missing``)
#: instead of averaging it in
PER_CUSTOMER_MERCHANT_METRICS: tuple[str, ...] = tuple(m.name for m in MERCHANT_METRICS.values() if m.per_customer)
#: the columns that identify a row rather than measure something
ID_COLUMNS = ("run_id", "point", "label", "replicate", "seed", "step", "merchant")


def t975(df) -> np.ndarray:
    from scipy import stats  # scipy comes with SALib

    return stats.t.ppf(0.975, df)


def ci95(values, within: tuple[float, float] | None = None) -> tuple[float, float, float]:
    """Mean and 95% t-interval ``(mean, low, high)`` of ``values`` (replicates). NaNs are dropped;
    one value has no interval (``low``, ``high`` NaN: one replicate says nothing of the spread);
    no values give NaNs. ``within`` (the observable's :func:`sim.metrics.bounds`) keeps the interval
    inside the values the observable can take: a share's t-interval over a few runs can reach below
    0%, an NPS's below −100."""
    x = np.asarray(pd.Series(values, dtype="float64").dropna(), dtype=float)
    n = x.size
    if n == 0:
        return (math.nan, math.nan, math.nan)
    m = float(x.mean())
    if n == 1:
        return (m, math.nan, math.nan)
    h = float(t975(n - 1) * x.std(ddof=1) / math.sqrt(n))
    lo, hi = within or (-math.inf, math.inf)
    return (m, min(max(m - h, lo), hi), max(min(m + h, hi), lo))


def ci_frame(grouped_values: pd.core.groupby.SeriesGroupBy, within: tuple[float, float] | None = None) -> pd.DataFrame:
    """n, mean, ci_low, ci_high, sd, missing for each group of a grouped Series (vectorised
    :func:`ci95`: a group of one run has no interval; ``within`` as there). ``n`` counts the values
    (NaNs are left out), ``missing`` the NaNs: runs without a value."""
    agg = grouped_values.agg(["count", "mean", "std", "size"])
    n = agg["count"].to_numpy(dtype=float)
    sd = agg["std"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        h = np.where(n > 1, t975(np.maximum(n - 1, 1)) * sd / np.sqrt(np.maximum(n, 1)), np.nan)
    mean = agg["mean"].to_numpy(dtype=float)
    lo, hi = within or (-math.inf, math.inf)
    out = pd.DataFrame({"n": agg["count"].astype(int).to_numpy(), "mean": mean, "ci_low": np.clip(mean - h, lo, hi),
                        "ci_high": np.clip(mean + h, lo, hi), "sd": np.where(n > 1, sd, np.nan),
                        "missing": (agg["size"] - agg["count"]).astype(int).to_numpy()}, index=agg.index)
    return out


def runs_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A flat frame with ``run_id`` and ``step`` columns (a raw ``simulate`` table is one run)."""
    df = frame
    if "step" not in df.columns and df.index.name == "step":
        df = df.reset_index()
    if "run_id" not in df.columns:
        df = df.assign(run_id=0)
    if "step" not in df.columns:
        df = df.assign(step=0)
    return df.reset_index(drop=True)


def require_columns(df: pd.DataFrame, columns: Iterable[str], what: str = "table") -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        known = [c for c in df.columns if c not in ID_COLUMNS]
        raise ValueError(f"the {what} has no column {', '.join(repr(m) for m in missing)} "
                         f"(it has: {', '.join(map(str, known)) or 'none'})")


def final_rows(market: pd.DataFrame) -> pd.DataFrame:
    """Each run's last step: one row per ``run_id``, in the order runs first appear."""
    df = runs_frame(market)
    idx = df.groupby("run_id", sort=False)["step"].idxmax()
    return df.loc[idx.to_numpy()].reset_index(drop=True)


def per_run_values(frame: pd.DataFrame, metrics: Sequence[str], keys: Sequence[str], at="final",
             window: int | None = None) -> pd.DataFrame:
    """One row per run (× ``keys``, e.g. merchant): the value at the final step (or step ``at``),
    or with ``window=k`` each run's mean over its last k steps (step 0, the initial state, only
    when nothing else is there)."""
    df = runs_frame(frame)
    unit = ["run_id", *keys]
    if window is not None:
        k = int(window)
        if k < 1:
            raise ValueError(f"window = {window!r} must be a whole number ≥ 1")
        last = df.groupby(unit, sort=False)["step"].transform("max")
        sel = df[(df["step"] > last - k) & ((df["step"] >= 1) | (last == 0))]
        means = sel.groupby(unit, sort=False)[list(metrics)].mean()
        ids = sel.loc[sel.groupby(unit, sort=False)["step"].idxmax().to_numpy()]
        ids = ids.drop(columns=list(metrics)).set_index(unit)
        return ids.join(means).reset_index()
    if at == "final":
        idx = df.groupby(unit, sort=False)["step"].idxmax()
        return df.loc[idx.to_numpy()].reset_index(drop=True)
    if isinstance(at, (int, np.integer)) and not isinstance(at, bool):
        rows = df[df["step"] == int(at)]
        if rows.empty:
            raise ValueError(f"no rows at step {at} (steps present: {df['step'].min()} … {df['step'].max()})")
        return rows.reset_index(drop=True)
    raise ValueError(f"at = {at!r}: use 'final' or a step number")


def _summary(per_run: pd.DataFrame, metrics: Sequence[str], by: Sequence[str]) -> pd.DataFrame:
    by = list(by)
    frame = per_run if by else per_run.assign(_all=0)
    groups = frame.groupby(by or ["_all"], sort=False, dropna=False)
    stats_ = [ci_frame(groups[m], bounds(m)) for m in metrics]  # same groups, in first-appearance order
    ngroups = len(stats_[0]) if stats_ else 0
    out = pd.concat([s.reset_index().assign(metric=m, _g=np.arange(ngroups), _m=i)
                     for i, (m, s) in enumerate(zip(metrics, stats_))], ignore_index=True)
    # group-major: each group's metrics together, groups in first-appearance order
    out = out.sort_values(["_g", "_m"], kind="stable").reset_index(drop=True)
    out["n"] = out["n"].astype(int)
    out["missing"] = out["missing"].astype(int)
    return out[[*by, "metric", "n", "mean", "ci_low", "ci_high", "sd", "missing"]]


def summarize(market: pd.DataFrame, metrics: Sequence[str], by: Sequence[str] = ("label",), at="final",
              window: int | None = None) -> pd.DataFrame:
    """One row per group × metric: the ``by`` columns, ``metric``, ``n`` (runs with a value), ``mean``,
    ``ci_low``, ``ci_high`` (95% t-interval over runs), ``sd`` and ``missing`` (runs whose value is
    NaN: left out of the mean, never counted as 0).

    Each run contributes one value: its final step (``at="final"``), the given step (``at=52``), or
    with ``window=k`` the mean of its last k steps (steady-state churn and profit are noisy per
    step). Groups come in the order they first appear (runs' order, i.e. design-point order);
    within a group, metrics in the order given.
    """
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    by = [by] if isinstance(by, str) else list(by)
    require_columns(market, [*metrics, *by], "market table")
    return _summary(per_run_values(market, metrics, (), at, window), metrics, by)


def summarize_merchants(merchants: pd.DataFrame, metrics: Sequence[str], by: Sequence[str] = ("label",),
                        window: int | None = None) -> pd.DataFrame:
    """Like :func:`summarize`, per merchant: the ``by`` columns, ``merchant``, ``metric``, ``n``, ``mean``,
    ``ci_low``, ``ci_high``, ``sd``, ``missing``; each run's final step (or the mean of its last
    ``window`` steps). A merchant without customers at a run's final step has no value of the
    observables of :data:`PER_CUSTOMER_MERCHANT_METRICS` in that run (:func:`without_empty_merchants`)."""
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    by = [by] if isinstance(by, str) else list(by)
    require_columns(merchants, [*metrics, *by, "merchant"], "merchants table")
    frame = without_empty_merchants(merchants, metrics)
    return _summary(per_run_values(frame, metrics, ("merchant",), "final", window), metrics, [*by, "merchant"])


def without_empty_merchants(merchants: pd.DataFrame, metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """``merchants`` with the observables of :data:`PER_CUSTOMER_MERCHANT_METRICS` (those of
    ``metrics``) set to NaN in the rows where the merchant has no customers (``customers`` is 0):
    there is no mean satisfaction or loyal share of nobody. A table without a ``customers`` column
    is returned as it is."""
    cols = [m for m in (metrics if metrics is not None else PER_CUSTOMER_MERCHANT_METRICS)
            if m in PER_CUSTOMER_MERCHANT_METRICS and m in merchants.columns]
    if "customers" not in merchants.columns or not cols:
        return merchants
    empty = merchants["customers"].to_numpy() == 0
    if not empty.any():
        return merchants
    out = merchants.copy()
    for c in cols:
        out[c] = out[c].astype("float64")
        out.loc[empty, c] = np.nan
    return out


def differences(summary: pd.DataFrame, baseline_label: str) -> pd.DataFrame:
    """Each label's mean minus the baseline label's, per metric, with a 95% Welch interval.

    ``summary`` is a :func:`summarize` table grouped by ``label``. Returns ``label``, ``metric``,
    ``baseline``, ``mean``, ``baseline_mean``, ``diff``, ``ci_low``, ``ci_high`` and ``significant``
    (the interval excludes 0), for every label but the baseline, in the summary's order. With fewer
    than two runs on either side the interval is NaN.
    """
    require_columns(summary, ["label", "metric", "n", "mean"], "summary")
    if summary.duplicated(["label", "metric"]).any():
        raise ValueError("the summary has several rows per label and metric: summarize by 'label' only")
    labels = list(dict.fromkeys(summary["label"]))
    if baseline_label not in labels:
        raise ValueError(f"baseline {baseline_label!r} is not among the labels: {', '.join(map(str, labels))}")
    s = summary.copy()
    if "sd" not in s.columns:  # recover the SD from the interval (summary read back from elsewhere)
        n = s["n"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            s["sd"] = np.where(n > 1, (s["ci_high"] - s["mean"]) * np.sqrt(n) / t975(np.maximum(n - 1, 1)), np.nan)
    base = s[s["label"] == baseline_label].set_index("metric")
    rows = []
    for lab in labels:
        if lab == baseline_label:
            continue
        for _, r in s[s["label"] == lab].iterrows():
            m = r["metric"]
            if m not in base.index:
                continue
            b = base.loc[m]
            d = float(r["mean"]) - float(b["mean"])
            n1, n2 = float(r["n"]), float(b["n"])
            v1 = float(r["sd"]) ** 2 / n1 if n1 > 1 else math.nan
            v2 = float(b["sd"]) ** 2 / n2 if n2 > 1 else math.nan
            se2 = v1 + v2
            if math.isnan(se2):
                lo = hi = math.nan
            elif se2 == 0:
                lo = hi = d
            else:
                dof = se2 ** 2 / (v1 ** 2 / (n1 - 1) + v2 ** 2 / (n2 - 1))
                h = float(t975(dof)) * math.sqrt(se2)
                lo, hi = d - h, d + h
            sig = bool(not math.isnan(lo) and (lo > 0 or hi < 0))
            rows.append(dict(label=lab, metric=m, baseline=baseline_label, mean=float(r["mean"]),
                             baseline_mean=float(b["mean"]), diff=d, ci_low=lo, ci_high=hi, significant=sig))
    cols = ["label", "metric", "baseline", "mean", "baseline_mean", "diff", "ci_low", "ci_high", "significant"]
    return pd.DataFrame(rows, columns=cols)




# --------------------------------------------------------------------------------------------
# levels at the end, flows over the last steps
# --------------------------------------------------------------------------------------------

def window_for(name: str, every: bool = True, merchant: bool = False) -> int | None:
    """:data:`FLOW_WINDOW` when observable ``name`` is a per-step flow and the runs were measured
    every step (``every``), else ``None`` (the value at the final step)."""
    return FLOW_WINDOW if every and is_flow(name, merchant) else None


def flow_metrics(metrics: Sequence[str], every: bool = True, merchant: bool = False) -> list[str]:
    """Those of ``metrics`` that :func:`summarize_mixed` averages over the last steps."""
    return [m for m in metrics if window_for(m, every, merchant) is not None]


def summarize_mixed(frame: pd.DataFrame, metrics: Sequence[str], by: Sequence[str] = ("label",), every: bool = True,
                    merchant: bool = False) -> pd.DataFrame:
    """:func:`summarize` (or :func:`summarize_merchants`) of levels at the final step and of flows
    over each run's last :data:`FLOW_WINDOW` steps (when measured ``every`` step); rows in the order
    of ``metrics`` within each group, groups in the order they first appear."""
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    by = [by] if isinstance(by, str) else list(by)
    flows = flow_metrics(metrics, every, merchant)
    levels = [m for m in metrics if m not in flows]
    f = summarize_merchants if merchant else summarize
    parts = []
    if levels:
        parts.append(f(frame, levels, by=by))
    if flows:
        parts.append(f(frame, flows, by=by, window=FLOW_WINDOW))
    out = pd.concat(parts, ignore_index=True)
    keys = by + (["merchant"] if merchant else [])
    first: dict = {}
    for i, k in enumerate(out[keys].itertuples(index=False, name=None)):
        first.setdefault(k, i)
    out["_g"] = [first[k] for k in out[keys].itertuples(index=False, name=None)]
    out["_m"] = out["metric"].map({m: i for i, m in enumerate(metrics)})
    return out.sort_values(["_g", "_m"], kind="stable").drop(columns=["_g", "_m"]).reset_index(drop=True)


def measured_every_step(manifest: dict, frame: pd.DataFrame) -> bool:
    """Whether the runs were measured at every step (time series available)."""
    if manifest.get("measure") == "end":
        return False
    df = runs_frame(frame)
    return bool(df.groupby("run_id")["step"].nunique().max() > 1) if len(df) else False
