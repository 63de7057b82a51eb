"""Names of observables, parameters and groups as people read them, in English or Chinese.

Labels come from the declarations (:data:`sim.metrics.METRICS`, :data:`sim.params.PARAMS` …), so a
new observable or parameter is labelled everywhere once it is declared.
"""

from __future__ import annotations

from ..metrics import MERCHANT_METRICS, METRICS
from ..params import MERCHANT_PARAMS, PARAMS, PROGRAMME_LABELS
from ..words import check_lang, colon, pick, word
from .formatting import value_text

__all__ = ["metric_label", "merchant_metric_label", "param_label", "choice_text", "group_title"]


def metric_label(name: str, lang: str = "en") -> str:
    """Label of a market observable (falls back to a merchant observable, then to the name)."""
    if name in METRICS:
        return METRICS[name].label(lang)
    if name in MERCHANT_METRICS:
        return MERCHANT_METRICS[name].label(lang)
    return name


def merchant_metric_label(name: str, lang: str = "en") -> str:
    """Label of a per-merchant observable (falls back to a market observable, then to the name)."""
    if name in MERCHANT_METRICS:
        return MERCHANT_METRICS[name].label(lang)
    return metric_label(name, lang)


def param_label(name: str, lang: str = "en") -> str:
    """Label of a varied parameter: ``price_sensitivity`` → "Price sensitivity"; ``A.price`` → "A: Price"
    (``"A：价格"`` in Chinese). Unknown names are returned as they are."""
    check_lang(lang)
    if name in PARAMS:
        return PARAMS[name].label(lang)
    if "." in name:
        who, field_ = name.rsplit(".", 1)
        if field_ in MERCHANT_PARAMS:
            return f"{who}{colon(lang)}{MERCHANT_PARAMS[field_].label(lang)}"
    if name in MERCHANT_PARAMS:
        return MERCHANT_PARAMS[name].label(lang)
    return name


def choice_text(param: str, value, lang: str) -> str:
    """A parameter's value as people read it (loyalty programme tiers have labels)."""
    if param.rsplit(".", 1)[-1] == "programme" and value in PROGRAMME_LABELS:
        return pick(*PROGRAMME_LABELS[value], lang)
    return value_text(value)


def group_title(group: str | None, lang: str) -> str:
    """The heading of a grouping column: configuration, design point, merchant or a parameter."""
    if group in (None, "label"):
        return word("label", lang)
    if group in ("point", "merchant"):
        return word(group, lang)
    return param_label(group, lang)
