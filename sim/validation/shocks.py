"""The shock design shared by F2–F4: a market where every customer's expectation is known and one
encounter is changed on purpose.

Identical, perfectly consistent merchants whose customers all buy every week, so that by the shock
week each customer's expectation equals the value it receives; scheduled events then move one
merchant's quality for one week (or longer). The measurement reads the shock from the scenario's
events — the first event step is the shock, and a merchant's shock is its new quality minus its
quality in the file; merchants without an event are the controls — and compares each merchant's
buyers in the shock week with the control's buyers.
"""

from __future__ import annotations

import math

import numpy as np

from ..mechanism import EV
from .core import Cohort, own_buyers, run_scenario

__all__ = ["ZONE_HALF", "shock_plan", "measure_shock", "shock_effects", "with_logit"]

ZONE_HALF = 0.1  # half the zone of tolerance in these scenarios (zone_of_tolerance = 0.2), checked below


def shock_plan(sc) -> tuple[int, list[str], list[float]]:
    """(shock step T, merchant names, each merchant's quality change at T) from the scenario's events."""
    names = [m.name for m in sc.params.merchants]
    base = {m.name: m.quality for m in sc.params.merchants}
    T = min(e.step for e in sc.events)
    delta = {n: 0.0 for n in names}
    for e in sc.events:
        if e.step == T and "quality" in e.changes:
            delta[e.target] = round(float(e.changes["quality"]) - base[e.target], 6)
    if abs(sc.params.zone_of_tolerance / 2 - ZONE_HALF) > 1e-9:
        raise ValueError("the shock scenarios assume zone_of_tolerance = 0.2")
    return T, names, [delta[n] for n in names]


def measure_shock(sc, seed: int, horizon: int = 26, follow: int = 0) -> dict:
    """Per merchant, the buyers of the shock week T + 1: mean transaction satisfaction, intention,
    trust before (end of week T) and after, share still with the merchant ``horizon`` weeks later,
    and — with ``follow`` — for each customer the number of later purchases until trust is back at
    its level before the shock (``follow + 1`` when it never is within ``follow`` weeks)."""
    T, names, delta = shock_plan(sc)
    m = len(names)
    st: dict = {}

    def on_step(model):
        pop, t = model.pop, model.steps
        if t == T:
            st["trust0"] = pop.trust.copy()
        elif t == T + 1:
            b = own_buyers(pop)
            # the buyers still with the merchant they bought from: a customer who switched after its
            # purchase this week holds the new merchant and a new relationship's trust and intention
            # (those who left the market are not among the buyers either)
            b = b[(pop.flags[b] & (EV.RECOVERED | EV.BOTCHED | EV.SWITCHED)) == 0]
            st["cohort"] = Cohort(pop, b)
            st["sat"] = pop.txn_sat[b].astype(float)
            st["int"] = pop.intentional[b].astype(float)
            st["t0"] = st["trust0"][b].astype(float)
            st["t1"] = pop.trust[b].astype(float)
            st["back"] = np.where(st["t1"] >= st["t0"], 0, follow + 1)  # purchases until trust is back
        elif "cohort" in st and T + 1 < t <= T + 1 + follow:
            c = st["cohort"]
            now = (pop.trust[c.idx] >= st["t0"]) & c.retained(pop)
            st["back"] = np.where((st["back"] == follow + 1) & now, t - T - 1, st["back"])
        if "cohort" in st and t == T + 1 + horizon:
            st["ret"] = st["cohort"].retained(pop).astype(float)
        if "cohort" in st and t == T + 1 + follow and follow:
            st["kept"] = st["cohort"].retained(pop)

    run_scenario(sc, seed, on_step, steps=T + 2 + max(horizon, follow))
    c = st["cohort"]
    out = {"names": names, "delta": delta, "n": [], "sat": [], "int": [], "trust0": [], "dtrust": [], "ret": [],
           "back": [], "back_share1": []}
    for j in range(m):
        mask = c.merchant == j
        out["n"].append(int(mask.sum()))
        for key, arr in (("sat", st["sat"]), ("int", st["int"]), ("trust0", st["t0"]),
                         ("dtrust", st["t1"] - st["t0"]), ("ret", st.get("ret", np.full(len(c), np.nan)))):
            out[key].append(float(arr[mask].mean()) if mask.any() else math.nan)
        if follow:
            k = mask & st["kept"]
            out["back"].append(float(st["back"][k].mean()) if k.any() else math.nan)
            out["back_share1"].append(float((st["back"][k] > 1).mean()) if k.any() else math.nan)
    return out


def shock_effects(ps, key, target_delta, sign=1):
    """Per seed: mean of ``key`` at the merchant with quality change ``target_delta`` minus the
    control's (merchant with no change), times ``sign``."""
    out = []
    for d in ps:
        deltas = d["delta"]
        j = min(range(len(deltas)), key=lambda i: abs(deltas[i] - target_delta))
        c = deltas.index(0.0)
        if abs(deltas[j] - target_delta) > 1e-6:
            raise ValueError(f"no merchant with a quality change of {target_delta:+.2f} in the scenario")
        out.append(sign * (d[key][j] - d[key][c]))
    return out


def with_logit(ps, key="int"):
    """The per-seed results with ``<key>_logit``: the logit of each buyer group's mean of ``key`` (the
    intention's latent scale, on which a rating reads it; F2 and F3 report their ratios on it too)."""
    def lg(p):
        p = min(max(p, 1e-6), 1 - 1e-6)
        return math.log(p / (1 - p))

    return [{**p, f"{key}_logit": [lg(x) for x in p[key]]} for p in ps]
