"""The fast engine (LoyaltyModel) and the readable reference (ReferenceModel) follow the same rules.

They draw their random numbers differently (whole arrays vs one customer at a time), so they can
only agree *in distribution*: over many seeds, the mean trajectory of each observable must be the
same within its sampling error. For every observable and every block of 10 steps we compare the
seed-averaged block means and require

    |mean_engine − mean_reference| ≤ Z · SE + slack,   SE = sqrt(var_e / n_e + var_r / n_r),

with Z = 4 (about 6e-5 two-sided per comparison for a correct reference, so a fresh random stream
after an engine optimisation almost never fails by chance) plus a small absolute slack per
observable. The slack absorbs the deliberate difference of float32 (engine) against float64
(reference) arithmetic. It is far below the size of any mechanism's effect: the same comparison
rejects a reference without loss aversion or without Cycle B by a factor of 2–5 in every block.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from sim import LoyaltyModel, Params
from sim.metrics import METRICS
from sim.reference import Customer, ReferenceModel

from engine_kit import rich_market

N_SEEDS = 30
STEPS = 80
BLOCK = 10
Z = 4.0
#: absolute slack per observable (units of the observable)
SLACK = {
    "loyal_share": 0.01,
    "trusting_share": 0.01,
    "churn_rate": 0.0005,
    "cumulative_churn": 0.01,
    "satisfaction": 0.001,
    "trust": 0.003,
    "cycle_a": 2.0,
    "cycle_b": 0.3,
    "switch_rate": 0.001,
}

SCENARIOS = {
    # the default market, with trust built faster so that loyalty forms within 80 steps
    "default": Params(n_customers=300, trust_gain=0.1),
    # every optional mechanism switched on (engine_kit.rich_market), with who voices and what a remedy
    # is felt against (voice_fit, recovery_expected: off by default)
    "rich": rich_market(300).replace(voice_fit=20.0, recovery_expected=0.5, fit_spread=0.08),
    # merchant A raises its price twice (see PRICE_RISES): noticed rises prompt value-for-money comparisons
    # (little inertia, so that the value-for-money comparisons after a rise move enough customers to be seen)
    "price_rise": Params(n_customers=300, trust_gain=0.1, reconsider_prob=0.005, procedural_cost=0.05),
}
#: scheduled prices of the first merchant, by step, per scenario
PRICE_RISES = {"price_rise": {20: 1.25, 45: 1.5}}


def run(cls, params: Params, seed: int, steps: int = STEPS, prices: dict | None = None):
    model = cls(params, seed=seed)
    for t in range(steps):
        if prices and t in prices:
            model.merchant_list[0].set_policy(price=prices[t])
        model.step()
    return model.datacollector.get_model_vars_dataframe()


def summaries(frames) -> dict[str, np.ndarray]:
    """Per observable, a (seeds × blocks) array of block means over steps 1…STEPS (plus cumulative churn)."""
    out = {}
    for name in SLACK:
        if name == "cumulative_churn":
            out[name] = np.array([[f["churn_rate"].to_numpy()[1:].sum()] for f in frames])
            continue
        rows = []
        for f in frames:
            x = f[name].to_numpy(dtype=float)[1:]
            rows.append(x[: len(x) // BLOCK * BLOCK].reshape(-1, BLOCK).mean(axis=1))
        out[name] = np.array(rows)
    return out


def disagreements(a: dict, b: dict) -> list[str]:
    """Observables and blocks where the two sets of runs differ by more than Z·SE + slack."""
    bad = []
    for name, slack in SLACK.items():
        x, y = a[name], b[name]
        diff = x.mean(axis=0) - y.mean(axis=0)
        se = np.sqrt(x.var(axis=0, ddof=1) / len(x) + y.var(axis=0, ddof=1) / len(y))
        for k in np.flatnonzero(np.abs(diff) > Z * se + slack):
            bad.append(f"{name} block {k}: {x[:, k].mean():.4g} vs {y[:, k].mean():.4g} (SE {se[k]:.2g})")
    return bad


@pytest.fixture(scope="module")
def engine_runs():
    return {key: summaries([run(LoyaltyModel, P, seed, prices=PRICE_RISES.get(key)) for seed in range(N_SEEDS)])
            for key, P in SCENARIOS.items()}


@pytest.fixture(scope="module")
def reference_runs():
    return {key: summaries([run(ReferenceModel, P, 1000 + seed, prices=PRICE_RISES.get(key)) for seed in range(N_SEEDS)])
            for key, P in SCENARIOS.items()}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_engine_and_reference_agree_in_distribution(scenario, engine_runs, reference_runs):
    e, r = engine_runs[scenario], reference_runs[scenario]
    # the comparison is not vacuous: loyalty forms, customers churn, recoveries happen
    assert e["loyal_share"][:, -1].mean() > 0.1 and r["loyal_share"][:, -1].mean() > 0.1
    assert e["cumulative_churn"].mean() > 0.05 and r["cumulative_churn"].mean() > 0.05
    assert e["cycle_b"].mean() > 1 and r["cycle_b"].mean() > 1
    assert disagreements(e, r) == []


@pytest.mark.parametrize("change, observable", [
    (dict(loss_aversion=1.0), "satisfaction"),  # B without loss aversion
    (dict(complaint_minor=0.0, complaint_major=0.0), "cycle_b"),  # E/F never happen: no Cycle B
])
def test_the_comparison_rejects_a_reference_missing_a_mechanism(change, observable, engine_runs):
    P = SCENARIOS["default"]
    # 20 seeds: without loss aversion mean satisfaction is about 0.005 lower, near what 10 seeds resolve
    broken = summaries([run(ReferenceModel, P.replace(**change), 2000 + seed) for seed in range(20)])
    found = disagreements(engine_runs["default"], broken)
    assert any(d.startswith(observable) for d in found), found


def test_the_comparison_rejects_a_reference_that_ignores_price_rises(engine_runs):
    """Without the value-for-money comparison after a noticed rise, fewer of merchant A's customers
    switch in the blocks after its price rises: the comparison sees it."""
    P = SCENARIOS["price_rise"]
    deaf = summaries([run(ReferenceModel, P.replace(price_reconsider=0.0), 3000 + seed,
                          prices=PRICE_RISES["price_rise"]) for seed in range(10)])
    found = disagreements(engine_runs["price_rise"], deaf)
    assert any(d.startswith("switch_rate") for d in found), found


def test_without_trust_gain_nobody_passes_the_bottleneck_in_either():
    for cls in (LoyaltyModel, ReferenceModel):
        for seed in range(3):
            stuck = run(cls, Params(n_customers=300, trust_gain=0.0), seed, steps=40)
            assert (stuck["trusting_share"] == 0).all() and (stuck["loyal_share"] == 0).all()
            assert stuck["purchases"].iloc[1:].min() > 0  # customers do buy; they just never come to trust
            moving = run(cls, Params(n_customers=300, trust_gain=0.1), seed, steps=40)
            assert moving["trusting_share"].iloc[-1] > 0.3


def test_reference_collects_the_engines_observables():
    engine, ref = LoyaltyModel(Params(n_customers=200), seed=1), ReferenceModel(Params(n_customers=200), seed=1)
    for _ in range(3):
        engine.step()
        ref.step()
    e, r = engine.datacollector.get_model_vars_dataframe(), ref.datacollector.get_model_vars_dataframe()
    assert list(r.columns) == list(e.columns) == list(METRICS)
    assert len(r) == 4 and r.notna().all().all()
    # the packed population agrees with the agents
    pop = ref.to_population()
    active = [c for c in ref.agents_by_type[Customer]]
    assert int((pop.stage > 0).sum()) == len(active) == r["active"].iloc[-1]
    for c in active[:20]:
        assert pop.trust[c.place] == pytest.approx(c.trust, abs=1e-6)
        assert pop.merchant[c.place] == c.merchant and pop.stage[c.place] == c.stage
        assert np.allclose(pop.heard[c.place], c.heard, atol=1e-6)


def test_reference_is_reproducible_and_uses_only_its_own_generators():
    random.seed(123)
    np.random.seed(123)
    py_state, np_state = random.getstate(), np.random.get_state()[1].copy()
    a, b, c = (run(ReferenceModel, Params(n_customers=200), seed, steps=15) for seed in (7, 7, 8))
    assert a.equals(b)
    assert not a.equals(c)
    assert random.getstate() == py_state and (np.random.get_state()[1] == np_state).all()
