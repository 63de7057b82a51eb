"""The documentation agrees with the code.

(a) ``docs/parameters.md`` is exactly what ``tools/gen_docs.py`` generates from the declarations;
(b) every name ``docs/ODD.md`` writes in backticks is something the code defines;
(c) the schedule in ``docs/ODD.md`` (the numbered list between ``<!-- schedule -->`` and
    ``<!-- /schedule -->``) lists the phases of ``sim.model.SCHEDULE``, the list ``LoyaltyModel.step``
    runs, in order; each entry names its phase's function, the functions that phase calls, and
    every mechanism function it calls;
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
from pathlib import Path

import pytest

import sim
import sim.mechanism
from sim import kernels
from sim.kernels import FUSES
import sim.history
import sim.merchants
import sim.metrics
import sim.model
import sim.network
import sim.params
import sim.simulate
from sim.history import History
from sim.merchants import Merchant
from sim.model import SCHEDULE, LoyaltyModel

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "ODD.md"
PARAMETERS_MD = ROOT / "docs" / "parameters.md"
GENERATOR = ROOT / "tools" / "gen_docs.py"
REGENERATE = "uv run python tools/gen_docs.py"

#: classes whose methods the schedule may name as ``Class.method``
CLASSES = {"LoyaltyModel": LoyaltyModel, "Merchant": Merchant, "History": History}
#: modules whose functions the schedule may name by their bare name
MODULES = (sim.mechanism, sim.metrics, sim.merchants, sim.model)


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


def schedule_entries() -> list[tuple[str, str]]:
    """(phase name, the entry's text) for each item of the schedule list in docs/ODD.md, in order."""
    text = _odd_text()
    m = re.search(r"<!-- schedule -->(.*?)<!-- /schedule -->", text, flags=re.S)
    assert m, "docs/ODD.md must keep its schedule between <!-- schedule --> and <!-- /schedule -->"
    items = re.split(r"\n(?=\s*\d+\.\s)", m.group(1).strip())
    out = []
    for item in items:
        head = re.match(r"\s*\d+\.\s+`([A-Za-z_][\w.]*)`", item)
        if head:
            out.append((head.group(1), item[head.end():]))
    assert out, "the schedule in docs/ODD.md lists no phases"
    return out


def schedule() -> list[str]:
    """The phase names of the schedule list in docs/ODD.md, in order."""
    return [name for name, _ in schedule_entries()]


def resolve_process(name: str):
    """The function or method a schedule entry names, or ``None``."""
    if "." in name:
        cls, _, attr = name.partition(".")
        obj = getattr(CLASSES.get(cls), attr, None) if cls in CLASSES else None
    else:
        obj = next((getattr(m, name) for m in MODULES if inspect.isfunction(getattr(m, name, None))), None)
    return obj if callable(obj) else None


def calls(func, deep: bool, seen: set | None = None) -> set[str]:
    """Names of the ``sim`` functions (bare) and ``Merchant``/``History`` methods (``Class.method``)
    that ``func`` calls; with ``deep``, also those they call, and so on."""
    seen = set() if seen is None else seen
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    out = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if (isinstance(f, ast.Call) and isinstance(f.func, ast.Name) and func.__globals__.get(f.func.id) is kernels.sized
                and f.args and isinstance(f.args[0], ast.Name)):
            f = f.args[0]  # sized(kernel, n)(…) calls that compiled pass (or its twin on every core)
        if isinstance(f, ast.Name):
            obj = func.__globals__.get(f.id)
            fused = FUSES.get(f.id) if obj is not None and obj is getattr(kernels, f.id, None) else None
            for name in fused or ():  # a compiled pass (sim.kernels) carries these out
                out.add(name)
                inner = getattr(sim.mechanism, name)
                if deep and inner not in seen:
                    seen.add(inner)
                    out |= calls(inner, deep, seen)
            if inspect.isfunction(obj) and obj.__module__.startswith("sim."):
                out.add(obj.__name__)
                if deep and obj not in seen:
                    seen.add(obj)
                    out |= calls(obj, deep, seen)
        elif isinstance(f, ast.Attribute):
            for cls in (Merchant, History):
                if inspect.isfunction(cls.__dict__.get(f.attr)):
                    out.add(f"{cls.__name__}.{f.attr}")
    return out


def mechanism() -> set[str]:
    """The mechanism functions as ``sim/mechanism/__init__.py`` declares them in its module docstring,
    plus the merchants' processes."""
    names = set(re.findall(r":func:`(\w+)`", sim.mechanism.__doc__ or ""))
    assert names, "sim/mechanism/__init__.py's docstring no longer lists the mechanism functions (:func:`name`)"
    return names | {f"Merchant.{n}" for n in ("book", "adapt")}


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
    if name in words or name in {p.name for p in SCHEDULE}:
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


def test_odd_state_table_is_generated_and_current():
    text = _odd_text()
    if _generator().render_odd(text) != text:
        pytest.fail(f"docs/ODD.md's table of state variables is out of date with sim/mechanism/state.py.\n"
                    f"Regenerate it with:  {REGENERATE}", pytrace=False)


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
def test_every_backticked_name_in_odd_is_defined():
    tokens = set(re.findall(r"`([A-Za-z_][\w.]*(?:\(\))?)`", _prose(_odd_text())))
    unknown = sorted(t for t in tokens if not known_name(t))
    assert not unknown, (
        f"docs/ODD.md writes these names in backticks but the code defines none of them: {unknown}. "
        "Update docs/ODD.md to the current names (parameters, observables, functions, state variables)."
    )


# ---- (c) the schedule is sim.model.SCHEDULE ------------------------------------------------------
def test_schedule_is_the_phases_of_SCHEDULE():
    documented, run = schedule(), [p.name for p in SCHEDULE]
    if documented != run:
        width = max(len(x) for x in documented + run) + 2
        rows = [f"{i + 1:>3}. {a:<{width}}{b}" for i, (a, b) in enumerate(
            zip(documented + [""] * (len(run) - len(documented)), run + [""] * (len(documented) - len(run))))]
        pytest.fail("the schedule in docs/ODD.md is not sim.model.SCHEDULE:\n"
                    f"     {'docs/ODD.md':<{width}}SCHEDULE\n" + "\n".join(rows), pytrace=False)


def test_step_runs_the_schedule():
    """LoyaltyModel.step runs SCHEDULE's phases, in order, and writes nothing of the mechanism itself."""
    assert calls(LoyaltyModel.step, deep=False) <= {"step_context"}, calls(LoyaltyModel.step, deep=False)
    seen = []
    model = LoyaltyModel(sim.Params(n_customers=60, network_degree=4), seed=1)
    import sim.model as sm
    original = sm.SCHEDULE
    try:
        sm.SCHEDULE = tuple(type(p)(p.name, p.step, (lambda ctx, p=p: (seen.append(p.name), p.run(ctx)))) for p in original)
        model.step()
    finally:
        sm.SCHEDULE = original
    assert seen == [p.name for p in original]


def test_each_entry_names_its_phase_function_and_what_it_calls():
    phases = {p.name: p for p in SCHEDULE}
    problems = []
    for name, text in schedule_entries():
        phase = phases.get(name)
        if phase is None:
            continue  # reported by test_schedule_is_the_phases_of_SCHEDULE
        fn = phase.run.__name__
        if f"`{fn}`" not in text:
            problems.append(f"{name}: the entry does not name its function `{fn}`")
        deep = calls(phase.run, deep=True)
        for token in re.findall(r"`([A-Za-z_][\w.]*)`", text):
            if token != fn and resolve_process(token) is not None and token not in deep:
                problems.append(f"{name}: the entry names `{token}`, which {fn} does not call")
        missing = sorted((calls(phase.run, deep=False) & mechanism()) - set(re.findall(r"`([\w.]+)`", text)))
        if missing:
            problems.append(f"{name}: {fn} calls {missing}, which the entry does not name")
    assert not problems, "docs/ODD.md's schedule and the phases' code differ:\n" + "\n".join(problems)


def test_phase_table_is_SCHEDULE():
    m = re.search(r"<!-- phases -->(.*?)<!-- /phases -->", _odd_text(), flags=re.S)
    assert m, "docs/ODD.md must keep the table of phases between <!-- phases --> and <!-- /phases -->"
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \| `([\w/.]+)` \| `(\w+)` \|$", m.group(1), flags=re.M)
    expected = [(p.name, p.step or "·", p.run.__module__.replace(".", "/") + ".py", p.run.__name__) for p in SCHEDULE]
    assert [(a, b.strip(), c, d) for a, b, c, d in rows] == expected


def test_phases_declare_a_theory_step():
    assert {p.step for p in SCHEDULE} >= {"A", "B", "C/D", "E", "F", "G", "H"}
    assert len({p.name for p in SCHEDULE}) == len(SCHEDULE)


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


# ---- docs/architecture.md: the map names files and functions that exist ----------------------------
ARCH = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def test_architecture_map_names_real_files_functions_and_every_phase():
    import ast
    import re

    from sim.model import SCHEDULE

    text = ARCH.read_text(encoding="utf-8")
    root = ARCH.parents[1]
    # every path it names exists
    for path in set(re.findall(r"`((?:sim|tests|docs|scenarios|tools)/[A-Za-z0-9_./]+?\.(?:py|md|json))`", text)):
        if "NN" not in path:  # (a pattern such as facts/fNN_<name>.py is not a file)
            assert (root / path).exists(), f"docs/architecture.md names {path}, which does not exist"
    # every phase of the schedule is in the map
    for phase in SCHEDULE:
        assert f"`{phase.name}`" in text, f"phase {phase.name} missing from docs/architecture.md"
    # the step table: each rule and twin is defined in the file of its row
    rows = [r for r in text.splitlines() if r.startswith("| ") and "sim/mechanism/" in r and r.count("|") == 6]
    assert len(rows) >= 15
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        path = re.search(r"`(sim/mechanism/[a-z_]+\.py)`", cells[2])
        if not path:
            continue
        tree = ast.parse((root / path.group(1)).read_text(encoding="utf-8"))
        defined = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        defined |= {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets
                    if isinstance(t, ast.Name)}
        defined |= {n.target.id for n in ast.walk(tree) if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
        for name in re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", cells[3] + " " + cells[4]):
            assert name in defined, f"docs/architecture.md: {name} is not defined in {path.group(1)}"


def test_every_app_command_in_the_docs_keeps_the_server_offline():
    """README.md, docs/app.md and app.py give the same advice: every ``solara run app.py`` command
    has ``--no-check-version`` (without it Solara asks PyPI for its latest version at start-up)."""
    root = Path(__file__).resolve().parents[1]
    found = 0
    for name in ("README.md", "docs/app.md", "app.py"):
        text = (root / name).read_text(encoding="utf-8")
        # a command runs to the end of its code span / line (a span may wrap onto the next line)
        for m in re.finditer(r"solara run app\.py((?:[^`\n]|\n(?=\s*--))*)", text):
            found += 1
            assert "--no-check-version" in m.group(1), f"{name}: 'solara run app.py{m.group(1)}'"
    assert found >= 4


def test_every_picture_and_local_link_in_the_docs_exists():
    """A picture or a link to a file of the project in README.md or docs/*.md points at a file that
    exists (the workshop guide's screenshots, the validation figures, other guides)."""
    root = Path(__file__).resolve().parents[1]
    missing = []
    for doc in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        text = doc.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if "://" in target or target.startswith(("#", "mailto:")):
                continue
            path = (doc.parent / target.split("#", 1)[0]).resolve()
            if not path.exists():
                missing.append(f"{doc.relative_to(root)}: {target}")
    assert missing == []
    guide = (root / "docs" / "workshop.md").read_text(encoding="utf-8")
    assert guide.count("](img/workshop-") >= 4
