"""Analysis of simulation results, shared by the command line, the web app and validation.

=================  ===========================================================================
module             what it holds
=================  ===========================================================================
``stats``          means and 95% t-intervals over replicates, per-run values, differences
                   (Welch), the one summary of levels at the end and flows over the last steps
``indices``        Sobol and Morris indices (SALib) of a sweep's observables
``formatting``     the one number formatter: values, intervals, percentages, editable text
``labels``         observables' and parameters' names as people read them (en/zh)
``tables``         the one Markdown table writer; tables relabelled for people
``fonts``          the CJK font for Chinese text in matplotlib figures
``figures``        the figures (time series with bands, vs a parameter, heatmaps, bars …)
``writers``        the reports of a results folder: :func:`analyze`, :func:`compare`
=================  ===========================================================================

Words in both languages come from :mod:`sim.words`. Imports point one way: ``formatting`` and
``fonts`` use nothing of the project; ``labels`` → ``stats`` → ``tables`` / ``figures`` →
``writers``. Every public name of the submodules is also reachable here (``from sim.analysis
import summarize``); importing this package is cheap: submodules load when first used.
"""

from __future__ import annotations

import importlib

_MODULES = ("stats", "indices", "formatting", "labels", "tables", "fonts", "figures", "writers")
_WHERE: dict[str, str] = {}


def _index() -> dict[str, str]:
    if not _WHERE:
        for mod in _MODULES:
            for name in importlib.import_module(f"{__name__}.{mod}").__all__:
                _WHERE.setdefault(name, mod)
    return _WHERE


def __getattr__(name: str):
    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    mod = _index().get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{mod}"), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_MODULES, *_index()])
