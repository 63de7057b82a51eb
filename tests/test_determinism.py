"""Reproducibility: one seeded generator per model, nothing global
(simulate, LoyaltyModel)."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from sim import LoyaltyModel, Params, simulate

P = Params(n_customers=400)
STEPS = 25


def run(seed=42, params=P, **kw):
    return simulate(params, seed=seed, steps=STEPS, **kw)


def test_same_seed_gives_identical_metrics_and_merchants():
    a, b = run(), run()
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
    pd.testing.assert_frame_equal(a.merchants, b.merchants)
    assert a.seed == b.seed == 42


def test_same_seed_gives_identical_customers():
    a = LoyaltyModel(P, seed=9)
    b = LoyaltyModel(P, seed=9)
    for _ in range(10):
        a.step()
        b.step()
    for name in ("id", "stage", "merchant", "trust", "satisfaction", "expectation", "cycle_a", "cycle_b"):
        assert np.array_equal(getattr(a.pop, name), getattr(b.pop, name)), name
    cid = int(a.customer_ids()[0])
    assert a.customer(cid) == b.customer(cid)


def test_different_seeds_differ():
    a, b = run(seed=1), run(seed=2)
    assert not a.metrics.equals(b.metrics)
    assert not a.merchants.equals(b.merchants)
    assert (a.metrics["purchases"].iloc[1:] != b.metrics["purchases"].iloc[1:]).any()


def test_seed_sequence_seeds_are_reproducible():
    a = simulate(P, seed=np.random.SeedSequence(123), steps=10)
    b = simulate(P, seed=np.random.SeedSequence(123), steps=10)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)


def test_interventions_are_reproducible():
    hook = lambda m: m.steps == 8 and m.set_policy("A", quality=0.4)  # noqa: E731
    a, b = run(on_step=hook), run(on_step=hook)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
    assert [(iv.step, iv.target, iv.changes) for iv in a.interventions] == \
        [(iv.step, iv.target, iv.changes) for iv in b.interventions]


def test_global_random_state_is_neither_used_nor_disturbing():
    np.random.seed(0)
    random.seed(0)
    a = run()
    np.random.seed(12345)
    random.seed(987)
    np.random.random(1000)
    random.random()
    b = run()
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
    pd.testing.assert_frame_equal(a.merchants, b.merchants)


def test_no_global_generator_is_touched(monkeypatch):
    """Running a market draws nothing from numpy's or Python's global generators."""
    def forbidden(*a, **k):
        raise AssertionError("the global random state was used")

    reference = run()
    for name in ("random", "rand", "randn", "randint", "random_sample", "choice", "normal", "uniform",
                 "binomial", "gamma", "integers", "shuffle", "permutation", "standard_normal", "seed"):
        if hasattr(np.random, name):
            monkeypatch.setattr(np.random, name, forbidden)
    for name in ("random", "randint", "randrange", "choice", "uniform", "gauss", "shuffle", "sample", "seed"):
        monkeypatch.setattr(random, name, forbidden)
    again = run()
    pd.testing.assert_frame_equal(reference.metrics, again.metrics)


def test_strategies_are_reproducible():
    from sim.params import default_merchants

    ms = list(default_merchants())
    ms[0] = ms[0].replace(strategy="learner", adapt_every=2)
    ms[1] = ms[1].replace(strategy="rule", adapt_every=3)
    params = Params(n_customers=300, merchants=tuple(ms))
    a, b = run(params=params), run(params=params)
    pd.testing.assert_frame_equal(a.merchants, b.merchants)
    assert len(a.interventions) == len(b.interventions) > 0


@pytest.mark.parametrize("steps", [0, 1])
def test_very_short_runs(steps):
    r = simulate(P, seed=3, steps=steps)
    assert len(r.metrics) == steps + 1
    assert len(r.merchants) == (steps + 1) * len(P.merchants)
