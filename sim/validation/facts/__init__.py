"""The registry of the facts: the 13 stylized facts of the project's list (F1–F13) and F14, what bad word of
mouth costs a merchant (THEORY.md §4), one module per fact.

Each module ``fNN_<name>.py`` is named after its market, ``scenarios/validation/fNN_<name>.toml``, and
holds the fact's measurement (``measure(markets, seed) -> numbers``), its checks (``evaluate(per_seed)
-> [Check]``), its figure (``plot(per_seed, checks)``) and ``FACT``, the :class:`~sim.validation.core.Fact`
that ties them to the file. The report's texts for each fact are in ``docs/validation/facts/Fn.md``.
"""

from __future__ import annotations

from ..core import Fact
from . import (f01_expectations, f02_asymmetry, f03_zone, f04_trust, f05_complaints, f06_complaint_outcomes,
               f07_recovery_paradox, f08_word_of_mouth, f09_competition, f10_retention_value, f11_bank,
               f12_price_premium, f13_churn, f14_word_of_mouth_cost)

__all__ = ["FACTS", "FACT_IDS", "fact"]

FACTS: tuple[Fact, ...] = tuple(m.FACT for m in (
    f01_expectations, f02_asymmetry, f03_zone, f04_trust, f05_complaints, f06_complaint_outcomes, f07_recovery_paradox,
    f08_word_of_mouth, f09_competition, f10_retention_value, f11_bank, f12_price_premium, f13_churn,
    f14_word_of_mouth_cost))

FACT_IDS: tuple[str, ...] = tuple(f.id for f in FACTS)


def fact(fid: str) -> Fact:
    """The fact with id ``fid`` (``"F7"``); ``KeyError`` when there is none."""
    for f in FACTS:
        if f.id == fid:
            return f
    raise KeyError(fid)
