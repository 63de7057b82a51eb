"""The step context: what one step's phases share (:class:`StepContext`), and a phase of the
schedule (:class:`Phase`).

:meth:`sim.model.LoyaltyModel.step` builds a context and runs :data:`sim.model.SCHEDULE`, one
phase after another, each a function of the context. The context carries the market's parts (the
population, the merchants' policies, the random generator, the parameters, the step's counts) and
*the buyers of this step with their current values*: each phase reads what earlier phases set and
sets what later ones read (every phase's docstring says which). A buyer's values are read from the
population once where first needed and carried along; a later process that changes some of them
(a recovery landing for a buyer, :func:`sim.mechanism.recovery.cycle_b_phase`) patches the carried
values, so every phase sees the same state as if it had read the population again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .state import Population, StepStats

__all__ = ["StepContext", "Phase"]


@dataclass(eq=False, slots=True)
class StepContext:
    """One step's shared values. The first block is set when the step starts; the rest is set by the
    phases (``None`` until then)."""

    model: Any  # the market: merchants, books, the mean expectation (public attributes only)
    P: Any  # the parameters (sim.Params)
    pop: Population
    rng: np.random.Generator
    T: Any  # the merchants' policies (sim.merchants.PolicyTable)
    stats: StepStats
    network: Any  # the social network (sim.network.Network)
    t: int  # the step number
    excitement: bool  # is any excitement attribute offered, or has one ever been?
    multi: bool  # has any customer ever held more than one product?
    # need: the buyers at their own merchant (places, sorted), those trying another, where
    idx: np.ndarray | None = None
    trial: np.ndarray | None = None
    trial_at: np.ndarray | None = None
    st: np.ndarray | None = None  # the buyers' stages (kept current through the step)
    w16: np.ndarray | None = None  # their merchants (as stored) …
    w: np.ndarray | None = None  # … and as indices
    loyal: np.ndarray | None = None
    tolerance: np.ndarray | None = None  # loyal buyers' discount on shortfalls (None: no loyal buyer)
    # A, B
    quality: np.ndarray | None = None
    failed: np.ndarray | None = None  # something went wrong in the encounter (a service failure)
    ep: np.ndarray | None = None  # expected price
    sens: np.ndarray | None = None  # price sensitivity
    price: np.ndarray | None = None  # price paid per product
    rise: np.ndarray | None = None  # places that noticed a price rise and will compare on value
    v: np.ndarray | None = None  # perceived value
    E: np.ndarray | None = None  # expectation before this purchase
    short: np.ndarray | None = None  # shortfall below the adequate level
    del_pos: np.ndarray | None = None  # positions (among idx) of the delighted …
    dis_pos: np.ndarray | None = None  # … and of the dissatisfied
    f: np.ndarray | None = None  # how the encounter felt
    S: np.ndarray | None = None  # cumulative satisfaction (kept current)
    sat: np.ndarray | None = None  # mask: satisfied
    units: np.ndarray | None = None  # products served (None while nobody holds more than one)
    # C/D, E, F, G, switching costs
    gain: np.ndarray | None = None
    severity: np.ndarray | None = None
    d_idx: np.ndarray | None = None
    d_w: np.ndarray | None = None
    voiced: np.ndarray | None = None
    silent_pos: np.ndarray | None = None
    tr: np.ndarray | None = None  # trust (kept current)
    sc: np.ndarray | None = None  # kept switching costs (None: read afresh)
    # trials, Cycle B
    trial_bad: np.ndarray | None = None
    tunits: np.ndarray | None = None
    botched: np.ndarray | None = None
    botched_refused: np.ndarray | None = None
    recovered_m: np.ndarray | None = None
    others: np.ndarray | None = None  # the inclusive value of a customer's other options, per merchant


@dataclass(frozen=True)
class Phase:
    """One phase of the schedule: its name, the step of the theory it runs (A–H, ``""`` for the
    processes around them) and the function of a :class:`StepContext` that runs it."""

    name: str
    step: str
    run: Callable[[StepContext], None]
