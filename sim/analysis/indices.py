"""Global sensitivity indices (SALib) of a Sobol or Morris experiment's observables."""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd

from .stats import final_rows, require_columns

__all__ = ["sensitivity", "point_outputs", "BOOTSTRAP_SEED"]

#: the seed of the bootstrap intervals of the indices. Not 0: SALib's Sobol analysis seeds its
#: bootstrap only when the seed is truthy, and would otherwise draw from numpy's global state
BOOTSTRAP_SEED = 1


def point_outputs(manifest: dict, market: pd.DataFrame, metric: str) -> np.ndarray:
    """Y for SALib: each design point's final value averaged over replicates, in sample order."""
    points = manifest.get("points") or []
    order = [int(p["point"]) for p in points]
    fin = final_rows(market)
    y = fin.groupby("point")[metric].mean().reindex(order)
    if y.isna().any():
        missing = [p for p, v in zip(order, y.isna()) if v]
        shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
        raise ValueError(f"{len(missing)} of {len(order)} design points have no value of '{metric}' "
                         f"(points {shown}); the sample is incomplete, so indices cannot be computed")
    return y.to_numpy(dtype=float)


def sensitivity(manifest: dict, market: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """Global sensitivity indices per parameter × metric, for a Sobol or Morris experiment.

    Y is each design point's final value averaged over its replicates, taken in the manifest's
    ``points`` order (= SALib's sample order). Sobol (``SALib.analyze.sobol``) gives ``S1``,
    ``S1_conf``, ``ST``, ``ST_conf``; Morris (``SALib.analyze.morris``, with X rebuilt from the
    points' values) gives ``mu_star``, ``mu_star_conf``, ``sigma``, ``mu``. Columns: ``metric``,
    ``parameter`` (as named in the problem, e.g. ``A.price``), then the indices. A metric that
    does not vary across points gets NaN indices. Bootstrap intervals use a fixed seed.
    Other designs raise ``ValueError``.
    """
    design = manifest.get("design")
    if design not in ("sobol", "morris"):
        raise ValueError(f"sensitivity indices need a Sobol or Morris design; this experiment's design is "
                         f"{design!r} (run a sweep with design 'sobol' or 'morris', or look at the "
                         f"summary and the metric-vs-parameter figures instead)")
    problem = manifest.get("problem")
    if not problem or "names" not in problem or "bounds" not in problem:
        raise ValueError("the manifest has no SALib 'problem' (num_vars, names, bounds): cannot compute indices")
    problem = {**problem, "bounds": [list(map(float, b)) for b in problem["bounds"]]}
    problem.setdefault("num_vars", len(problem["names"]))
    names = list(problem["names"])
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    require_columns(market, [*metrics, "point"], "market table")
    points = manifest.get("points") or []
    if not points:
        raise ValueError("the manifest lists no design points")
    factors = list(dict.fromkeys(problem["groups"])) if problem.get("groups") else names  # SALib reports per group
    d = len(factors)
    rows = []
    if design == "sobol":
        from SALib.analyze import sobol

        second = bool((manifest.get("sobol") or {}).get("calc_second_order", True))
        per = 2 * d + 2 if second else d + 2
        if len(points) % per:
            raise ValueError(f"a Sobol sample with {d} parameters has a multiple of {per} points "
                             f"(calc_second_order={second}); this one has {len(points)}")
        for m in metrics:
            y = point_outputs(manifest, market, m)
            if not np.isfinite(y).all() or np.ptp(y) == 0:
                res = {k: np.full(d, np.nan) for k in ("S1", "S1_conf", "ST", "ST_conf")}
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    res = sobol.analyze(problem, y, calc_second_order=second, print_to_console=False, seed=BOOTSTRAP_SEED)
            for i, name in enumerate(factors):
                rows.append(dict(metric=m, parameter=name, **{k: float(np.asarray(res[k])[i])
                                                               for k in ("S1", "S1_conf", "ST", "ST_conf")}))
        return pd.DataFrame(rows, columns=["metric", "parameter", "S1", "S1_conf", "ST", "ST_conf"])

    from SALib.analyze import morris

    levels = int((manifest.get("morris") or {}).get("num_levels", 4))
    if len(points) % (d + 1):
        raise ValueError(f"Morris trajectories with {d} parameters have a multiple of {d + 1} points; "
                         f"this sample has {len(points)}")
    try:
        x = np.array([[float(p["values"][n]) for n in names] for p in points])
    except KeyError as e:
        raise ValueError(f"a design point has no value for parameter {e}: cannot rebuild the Morris sample") from None
    keys = ("mu_star", "mu_star_conf", "sigma", "mu")
    for m in metrics:
        y = point_outputs(manifest, market, m)
        if not np.isfinite(y).all() or np.ptp(y) == 0:
            res = {k: np.full(d, np.nan) for k in keys}
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                res = morris.analyze(problem, x, y, num_levels=levels, print_to_console=False, seed=BOOTSTRAP_SEED)
        for i, name in enumerate(factors):
            rows.append(dict(metric=m, parameter=name,
                             **{k: float(np.ma.filled(np.ma.asarray(res.get(k, np.full(d, np.nan)), dtype=float),
                                                 np.nan)[i]) for k in keys}))
    return pd.DataFrame(rows, columns=["metric", "parameter", *keys])
