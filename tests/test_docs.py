"""The documentation agrees with the code.

(a) ``docs/parameters.md`` is exactly what ``tools/gen_docs.py`` generates from the declarations;
(b) every process ``docs/ODD.md`` names in its schedule exists in the ``sim`` package, and every
    other name it writes in backticks is something the code defines;
(c) the schedule in ``docs/ODD.md`` (the numbered list between ``<!-- schedule -->`` and
    ``<!-- /schedule -->``) is the order in which ``LoyaltyModel.step`` calls those functions;
(d) every default written inline as ``name = value`` in ``docs/ODD.md`` is the declared default.

When one of these fails, the docs are out of step with the code: regenerate the tables with
``uv run python tools/gen_docs.py`` and/or update ``docs/ODD.md``.
"""

from __future__ import annotations

import ast
import difflib
import importlib
import importlib.util
import inspect
import math
import re
import textwrap
import types
from pathlib import Path

import pytest

import sim
import sim.mechanism
import sim.history
import sim.merchants
import sim.metrics
import sim.model
import sim.network
import sim.params
import sim.simulate
from sim.history import History
from sim.merchants import Merchant, PolicyTable
from sim.model import LoyaltyModel

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "ODD.md"
PARAMETERS_MD = ROOT / "docs" / "parameters.md"
GENERATOR = ROOT / "tools" / "gen_docs.py"
REGENERATE = "uv run python tools/gen_docs.py"

#: classes whose methods the schedule may name as ``Class.method``
CLASSES = {"LoyaltyModel": LoyaltyModel, "Merchant": Merchant, "History": History}
#: modules whose functions the schedule may name by their bare name
MODULES = (sim.mechanism, sim.metrics, sim.merchants)


# ---- helpers ------------------------------------------------------------------------------------
def _generator():
    spec = importlib.util.spec_from_file_location("gen_docs", GENERATOR)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _odd_text() -> str:
    assert ODD.exists(), "docs/ODD.md is missing"
    return ODD.read_text(encoding="utf-8")


def _prose(text: str) -> str:
    """ODD.md without its fenced code blocks (formulas there are not backticked names)."""
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def schedule() -> list[str]:
    """The process names of the schedule list in docs/ODD.md, in order."""
    text = _odd_text()
    m = re.search(r"<!-- schedule -->(.*?)<!-- /schedule -->", text, flags=re.S)
    assert m, "docs/ODD.md must keep its schedule between <!-- schedule --> and <!-- /schedule -->"
    names = []
    for line in m.group(1).splitlines():
        item = re.match(r"\s*\d+\.\s+`([A-Za-z_][\w.]*)(?:\(\))?`", line)
        if item:
            names.append(item.group(1))
    assert names, "the schedule in docs/ODD.md lists no processes"
    return names


def resolve_process(name: str):
    """The function or method a schedule entry names, or ``None``."""
    if "." in name:
        cls, _, attr = name.partition(".")
        obj = getattr(CLASSES.get(cls), attr, None) if cls in CLASSES else None
    else:
        obj = next((getattr(m, name) for m in MODULES if inspect.isfunction(getattr(m, name, None))), None)
    return obj if callable(obj) else None


def _call_name(node: ast.Call, module: types.ModuleType) -> str | None:
    """How a call in ``sim.model`` is named in the schedule (``None`` for calls the docs ignore)."""
    f = node.func
    if isinstance(f, ast.Name):  # a function imported into sim.model, e.g. compute(...)
        obj = getattr(module, f.id, None)
        if inspect.isfunction(obj) and obj.__module__.startswith("sim."):
            return obj.__name__
        return None
    if not isinstance(f, ast.Attribute):
        return None
    base = f.value
    if isinstance(base, ast.Name) and base.id == "self":
        return f"LoyaltyModel.{f.attr}"
    if isinstance(base, ast.Name) and isinstance(getattr(module, base.id, None), types.ModuleType):
        mod = getattr(module, base.id)  # e.g. mc.encounter(...)
        return f.attr if mod in MODULES and inspect.isfunction(getattr(mod, f.attr, None)) else None
    for cls_name in ("Merchant", "History"):  # e.g. mm.book(...), self.history.record(...)
        if inspect.isfunction(CLASSES[cls_name].__dict__.get(f.attr)):
            return f"{cls_name}.{f.attr}"
    return None


def step_calls(atomic: set[str]) -> list[str]:
    """Every call made by ``LoyaltyModel.step``, in the order the source makes them.

    A call to another method of ``LoyaltyModel`` is replaced by that method's own calls, unless the
    schedule names the method itself (``atomic``). Nested calls count where they end (arguments are
    evaluated before the call that receives them)."""

    def walk(func, seen: tuple) -> list[str]:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
        calls = [n for n in ast.walk(tree.body[0]) if isinstance(n, ast.Call)]
        calls.sort(key=lambda n: (n.end_lineno, n.end_col_offset))
        out = []
        for node in calls:
            name = _call_name(node, sim.model)
            if name is None:
                continue
            attr = name.partition(".")[2]
            own = name.startswith("LoyaltyModel.") and inspect.isfunction(LoyaltyModel.__dict__.get(attr))
            if own and name not in atomic and name not in seen:
                out += walk(LoyaltyModel.__dict__[attr], seen + (name,))
            elif own or not name.startswith("LoyaltyModel."):
                out.append(name)
        return out

    return walk(LoyaltyModel.step, ("LoyaltyModel.step",))


_MODEL = None


def _model() -> LoyaltyModel:
    global _MODEL
    if _MODEL is None:
        _MODEL = LoyaltyModel(sim.Params(n_customers=60, network_degree=4), seed=1)
        _MODEL.step()
    return _MODEL


def known_name(token: str) -> bool:
    """Whether a name written in backticks in ODD.md is something the code defines."""
    name = token[:-2] if token.endswith("()") else token
    model = _model()
    P = sim.params
    if "." in name:
        parts = name.split(".")
        roots = {
            "model": model, "LoyaltyModel": LoyaltyModel, "Merchant": Merchant, "History": History,
            "PolicyTable": model.table, "Population": model.pop, "Params": sim.Params,
            "MerchantParams": sim.MerchantParams, "StepStats": model.stats, "EV": sim.mechanism.EV,
            "mesa": importlib.import_module("mesa"),
        }
        if parts[0] == "sim":  # the longest importable module, then attributes
            for k in range(len(parts), 0, -1):
                try:
                    obj = importlib.import_module(".".join(parts[:k]))
                    break
                except ImportError:
                    continue
            rest = parts[k:]
        elif parts[0] in roots:
            obj, rest = roots[parts[0]], parts[1:]
        else:
            return False
        for part in rest:
            if not hasattr(obj, part):
                return False
            obj = getattr(obj, part)
        return True
    words = (
        set(P.PARAMS) | set(P.MERCHANT_PARAMS) | set(sim.metrics.METRICS) | set(sim.metrics.MERCHANT_METRICS)
        | set(sim.mechanism.STAGES) | set(sim.mechanism.REASONS) | set(P.PROGRAMME_TIERS) | set(P.STRATEGIES)
        | set(next(iter(P.TIER_EFFECTS.values())))
    )
    if name in words:
        return True
    places = (sim, sim.mechanism, sim.metrics, sim.merchants, sim.params, sim.network, sim.history, sim.model,
              sim.simulate, model, model.params, model.pop, model.table, model.stats, model.merchant_list[0])
    return any(hasattr(obj, name) for obj in places)


# ---- (a) generated tables -----------------------------------------------------------------------
def test_parameters_md_is_generated_and_current():
    expected = _generator().render()
    actual = PARAMETERS_MD.read_text(encoding="utf-8") if PARAMETERS_MD.exists() else ""
    if actual != expected:
        diff = "".join(list(difflib.unified_diff(
            actual.splitlines(keepends=True), expected.splitlines(keepends=True),
            "docs/parameters.md (on disk)", "docs/parameters.md (generated now)"))[:40])
        pytest.fail(f"docs/parameters.md is out of date with sim/params.py and sim/metrics.py.\n"
                    f"Regenerate it with:  {REGENERATE}\n\n{diff}", pytrace=False)


def test_generated_tables_cover_every_declaration():
    text = _generator().render()
    for name in [*sim.params.PARAMS, *sim.params.MERCHANT_PARAMS, *sim.metrics.METRICS,
                 *sim.metrics.MERCHANT_METRICS]:
        assert f"| `{name}` |" in text, f"{name} is missing from the generated docs/parameters.md"


def test_generator_check_mode(tmp_path):
    gen = _generator()
    out = tmp_path / "parameters.md"
    assert gen.main(["--output", str(out)]) == 0
    assert gen.main(["--check", "--output", str(out)]) == 0
    out.write_text("stale\n", encoding="utf-8")
    assert gen.main(["--check", "--output", str(out)]) == 1


# ---- (b) names in ODD.md exist ------------------------------------------------------------------
def test_schedule_processes_exist():
    missing = [n for n in schedule() if resolve_process(n) is None]
    assert not missing, (
        f"docs/ODD.md's schedule names processes that do not exist in sim: {missing}. "
        "Rename them in docs/ODD.md to the functions of sim/customers.py, sim/metrics.py, "
        "sim/merchants.py or methods of LoyaltyModel, Merchant, History."
    )


def test_every_backticked_name_in_odd_is_defined():
    tokens = set(re.findall(r"`([A-Za-z_][\w.]*(?:\(\))?)`", _prose(_odd_text())))
    unknown = sorted(t for t in tokens if not known_name(t))
    assert not unknown, (
        f"docs/ODD.md writes these names in backticks but the code defines none of them: {unknown}. "
        "Update docs/ODD.md to the current names (parameters, observables, functions, state variables)."
    )


# ---- (c) the schedule is the order of LoyaltyModel.step -----------------------------------------
def test_schedule_matches_loyaltymodel_step():
    documented = schedule()
    called = [n for n in step_calls(set(documented)) if n in set(documented)]
    if called != documented:
        width = max(len(x) for x in documented + called) + 2
        rows = [f"{i + 1:>3}. {a:<{width}}{b}" for i, (a, b) in enumerate(
            zip(documented + [""] * (len(called) - len(documented)), called + [""] * (len(documented) - len(called))))]
        pytest.fail("the schedule in docs/ODD.md is not the order of LoyaltyModel.step:\n"
                    f"     {'docs/ODD.md':<{width}}LoyaltyModel.step\n" + "\n".join(rows), pytrace=False)


def mechanism() -> set[str]:
    """The mechanism functions as ``sim/customers.py`` declares them in its module docstring, plus the
    merchants' processes."""
    names = set(re.findall(r":func:`(\w+)`", sim.mechanism.__doc__ or ""))
    assert names, "sim/customers.py's docstring no longer lists the mechanism functions (:func:`name`)"
    return names | {f"Merchant.{n}" for n in ("book", "adapt")}


def test_schedule_leaves_out_no_mechanism():
    """Every step of the mechanism that LoyaltyModel.step runs is in the schedule."""
    documented = set(schedule())
    called = set(step_calls(documented))
    missing = sorted((mechanism() & called) - documented)
    assert not missing, f"LoyaltyModel.step runs {missing}, which docs/ODD.md's schedule does not list"


def test_step_parser_sees_the_mechanism():
    """Guard for the parser itself: the step must visibly call the core of the mechanism."""
    called = step_calls(set())
    for name in ("need", "encounter", "perceive", "evaluate", "accumulate_trust", "become_loyal",
                 "choose_merchant", "arrive", "Merchant.book"):
        assert name in called, f"could not find a call to {name} in LoyaltyModel.step (or its helpers)"


# ---- (d) inline defaults ------------------------------------------------------------------------
def _declared_value(name: str):
    if name in sim.params.PARAMS:
        return sim.params.PARAMS[name].default
    if name in sim.params.MERCHANT_PARAMS:
        return sim.params.MERCHANT_PARAMS[name].default
    for mod in (sim.params, sim.mechanism, sim.merchants, sim.metrics, sim.history):
        if hasattr(mod, name):
            return getattr(mod, name)
    raise KeyError(name)


def test_inline_defaults_match_declarations():
    pairs = re.findall(r"`([A-Za-z_]\w*) = (-?[\d_]+(?:\.\d+)?(?:e-?\d+)?)`", _odd_text())
    assert len(pairs) >= 20, "docs/ODD.md should state the key defaults inline as `name = value`"
    wrong, unknown = [], []
    for name, value in pairs:
        try:
            declared = _declared_value(name)
        except KeyError:
            unknown.append(name)
            continue
        if not math.isclose(float(value.replace("_", "")), float(declared), rel_tol=1e-9, abs_tol=1e-12):
            wrong.append(f"{name}: docs say {value}, code declares {declared}")
    assert not unknown, f"docs/ODD.md states defaults of unknown names: {sorted(set(unknown))}"
    assert not wrong, "docs/ODD.md states defaults that differ from sim/params.py:\n" + "\n".join(sorted(set(wrong)))
