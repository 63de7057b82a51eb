"""A finished model is freed: nothing global (such as Mesa's agent id counters) keeps it alive."""

import gc
import weakref

from sim import LoyaltyModel, Params, simulate


def test_a_model_nobody_holds_is_freed():
    m = LoyaltyModel(Params(n_customers=60, network_degree=4), seed=1)
    m.step()
    ref = weakref.ref(m)
    del m
    gc.collect()
    assert ref() is None


def test_agent_ids_still_count_per_model():
    a = LoyaltyModel(Params(n_customers=60, network_degree=4), seed=1)
    b = LoyaltyModel(Params(n_customers=60, network_degree=4), seed=2)
    assert [x.unique_id for x in a.merchant_list] == [1, 2, 3] == [x.unique_id for x in b.merchant_list]
    assert simulate(Params(n_customers=60, network_degree=4), seed=3, steps=2).model is None
