"""``simulate(params, seed, steps)``: the one entry point for running a market.

Returns a :class:`Results` holding the market-level observables per step (``metrics``), the
per-merchant observables per step (``merchants``), the interventions made, and the seed and
parameters used, so every output can be traced back and reproduced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from .model import Intervention, LoyaltyModel
from .params import Params

__all__ = ["simulate", "Results", "ScheduledChange"]


@dataclass(frozen=True)
class ScheduledChange:
    """A change planned before the run starts: after ``step`` steps have run, set ``changes`` on
    ``target`` (a merchant's name, or ``"market"`` for market-wide parameters). Scenarios use these
    for events such as deregulation ("switching barriers fall at step 52")."""

    step: int
    target: str
    changes: dict = field(default_factory=dict)
    note_en: str = ""
    note_zh: str = ""

    def apply(self, model: LoyaltyModel) -> Intervention:
        """Apply the change to ``model`` (validated; raises ``ParamError`` on a bad value)."""
        if self.target == "market":
            iv = model.set_params(**self.changes)
        else:
            iv = model.set_policy(self.target, **self.changes)
        iv.source = "scenario"
        return iv


@dataclass
class Results:
    """What one run produced. ``metrics``: one row per step (0 = initial state), one column per
    observable of :data:`sim.metrics.METRICS`. ``merchants``: one row per step × merchant."""

    params: Params
    seed: int | None
    steps: int
    metrics: pd.DataFrame
    merchants: pd.DataFrame
    interventions: list[Intervention] = field(default_factory=list)
    model: LoyaltyModel | None = None

    def final(self) -> pd.Series:
        """The last step's market-level observables."""
        return self.metrics.iloc[-1]


def simulate(
    params: Params | None = None,
    seed: int | np.random.SeedSequence | None = 0,
    steps: int = 104,
    *,
    on_step: Callable[[LoyaltyModel], None] | None = None,
    keep_model: bool = False,
    events: Sequence[ScheduledChange] = (),
    until: Callable[[LoyaltyModel], bool] | None = None,
) -> Results:
    """Run one market for ``steps`` steps from ``seed`` and return its :class:`Results`.

    ``on_step(model)`` is called after every step (e.g. to intervene at a given step:
    ``lambda m: m.steps == 52 and m.set_policy("A", price=1.3)``). ``events`` are
    :class:`ScheduledChange` s applied once the model has run their ``step`` steps (step 0: before
    the first step). ``until(model)``, if given, is asked after every step; the run stops early at
    the first step where it answers true (a stop condition). Same params, events and seed give
    identical results.
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps = {steps!r} must be a whole number ≥ 0")
    params = params if params is not None else Params()
    model = LoyaltyModel(params, seed=seed)
    pending = sorted(events, key=lambda e: e.step)
    for e in pending:
        if isinstance(e.step, bool) or not isinstance(e.step, (int, np.integer)) or e.step < 0:
            raise ValueError(f"event step = {e.step!r} must be a whole number ≥ 0")
    def fire():
        while pending and pending[0].step <= model.steps:
            pending.pop(0).apply(model)
    fire()
    for _ in range(int(steps)):
        model.step()
        if on_step is not None:
            on_step(model)
        fire()
        if until is not None and until(model):
            break
    dc = model.datacollector
    metrics = dc.get_model_vars_dataframe()
    metrics.index.name = "step"
    merchants = dc.get_agenttype_vars_dataframe(type(model.merchant_list[0])).reset_index()
    merchants = merchants.rename(columns={"Step": "step"}).drop(columns=["AgentID"])
    merchants["step"] = merchants["step"] - merchants["step"].min()
    seed_value = int(seed) if isinstance(seed, (int, np.integer)) else (
        int(seed.entropy) if isinstance(seed, np.random.SeedSequence) and isinstance(seed.entropy, int) else None)
    return Results(params, seed_value, int(model.steps), metrics, merchants, list(model.interventions),
                   model if keep_model else None)
