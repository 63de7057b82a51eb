"""Mesa-native use of the model: keyword parameters, ``mesa.batch_run`` and Mesa's own ``SolaraViz``
work with :class:`sim.LoyaltyModel` as a Mesa user expects, beside the project's faster tools."""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd
import pytest
import solara

from sim import LoyaltyModel, MerchantParams, ParamError, Params


def frames(model):
    return model.datacollector.get_model_vars_dataframe()


def run(model, steps=6):
    for _ in range(steps):
        model.step()
    return frames(model)


def test_keyword_parameters_are_the_same_market_as_params():
    a = run(LoyaltyModel(n_customers=300, trust_gain=0.1, seed=5))
    b = run(LoyaltyModel(Params(n_customers=300, trust_gain=0.1), seed=5))
    pd.testing.assert_frame_equal(a, b)
    assert LoyaltyModel(n_customers=300, seed=5).params == Params(n_customers=300)


def test_merchant_keys_reach_the_merchants():
    m = LoyaltyModel(n_customers=200, seed=1, **{"A.price": 1.4, "merchants[2].quality": 0.55})
    assert m.params.merchants[0].price == 1.4
    assert m.params.merchants[2].quality == 0.55
    assert m.merchant("A").price == 1.4


def test_keywords_on_top_of_params():
    base = Params(n_customers=250, merchants=(MerchantParams(name="X"), MerchantParams(name="Y", price=0.8)))
    m = LoyaltyModel(base, trust_gain=0.2, seed=2, **{"Y.price": 0.9})
    assert (m.params.n_customers, m.params.trust_gain, m.params.merchants[1].price) == (250, 0.2, 0.9)


def test_rng_keyword_like_mesa():
    a = run(LoyaltyModel(n_customers=200, rng=7))
    b = run(LoyaltyModel(n_customers=200, seed=7))
    pd.testing.assert_frame_equal(a, b)
    g = np.random.default_rng(3)
    c = run(LoyaltyModel(n_customers=200, rng=np.random.default_rng(3)))
    d = run(LoyaltyModel(n_customers=200, rng=g))
    pd.testing.assert_frame_equal(c, d)
    with pytest.raises(ValueError):
        LoyaltyModel(n_customers=200, seed=1, rng=1)


@pytest.mark.parametrize("kw", [{"n_customers": -3}, {"trust_gian": 0.1}, {"Z.price": 1.0}, {"A.price": "cheap"}])
def test_bad_keywords_get_a_clear_message(kw):
    with pytest.raises(ParamError) as e:
        LoyaltyModel(seed=1, **kw)
    key = next(iter(kw))
    assert key.split(".")[0] in str(e.value) or key.split(".")[-1] in str(e.value)


def test_mesa_batch_run_sweeps_keywords_and_merchant_keys():
    rows = mesa.batch_run(
        LoyaltyModel,
        parameters={"n_customers": [200, 300], "trust_gain": [0.05, 0.2], "A.price": 1.1, "seed": 4},
        iterations=1, max_steps=8, number_processes=1, display_progress=False,
    )
    df = pd.DataFrame(rows)
    assert len(df.groupby(["n_customers", "trust_gain"])) == 4
    assert {"loyal_share", "churn_rate", "trust"} <= set(df.columns)
    last = df[df.Step == df.Step.max()]
    # same seed, faster trust building: more trust at the end in both market sizes
    for n in (200, 300):
        t = last[last.n_customers == n].groupby("trust_gain")["trust"].mean()
        assert t[0.2] > t[0.05]


def test_mesa_solaraviz_page_with_a_loyal_share_plot():
    """Mesa's own SolaraViz shows the model: a page with a matplotlib plot of loyal_share renders
    (drawn as a PNG image, nothing fetched from outside)."""
    import ipywidgets
    from mesa.visualization import SolaraViz, make_plot_component

    model = solara.reactive(LoyaltyModel(n_customers=200, trust_gain=0.2, seed=1))
    for _ in range(3):
        model.value.step()
    page = SolaraViz(model, components=[make_plot_component("loyal_share")],
                     model_params={"n_customers": 200, "trust_gain": 0.2, "seed": 1}, name="loyalty-sim")
    _, rc = solara.render(page, handle_error=False)
    image = rc.find(ipywidgets.Image).widget
    assert image.value[:8] == b"\x89PNG\r\n\x1a\n" and len(image.value) > 1000


def test_mesa_model_controller_steps_and_rebuilds_from_keyword_parameters():
    """SolaraViz's controls: Step steps the market; Reset builds a new one from the page's keyword
    parameters, merchant keys included (what SolaraViz's sliders set)."""
    import ipyvuetify as v
    from mesa.visualization.solara_viz import ModelController

    model = solara.reactive(LoyaltyModel(n_customers=200, trust_gain=0.2, seed=1))
    params = solara.reactive({"n_customers": 150, "trust_gain": 0.25, "seed": 3, "A.price": 1.3})
    controller = ModelController(model, model_parameters=params, play_interval=solara.reactive(100),
                                 render_interval=solara.reactive(1), use_threads=solara.reactive(False))
    _, rc = solara.render(controller, handle_error=False)
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert model.value.steps == 1
    assert model.value.datacollector.get_model_vars_dataframe()["loyal_share"].shape == (2,)
    rc.find(v.Btn, children=["Reset"]).widget.click()
    fresh = model.value
    assert fresh.steps == 0
    assert (fresh.params.n_customers, fresh.params.trust_gain, fresh.seed) == (150, 0.25, 3)
    assert fresh.merchant("A").price == 1.3
