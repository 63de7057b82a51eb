"""The shape of the code: imports point one way (docs/architecture.md), and no module imports
another module's private names. Read from the source with ``ast``, so a new import that breaks
either rule fails here, naming the file and the import."""

from __future__ import annotations

import ast
from pathlib import Path

SIM = Path(__file__).resolve().parents[1] / "sim"

#: each group of modules and its layer: a group imports only from groups of lower layers (within a
#: group anything goes). Read bottom-up, this is the map of docs/architecture.md.
LAYERS = {
    "sim.words": 0, "sim.inputs.hints": 0, "sim.inputs.toml_lines": 0, "sim.inputs.environment": 0,
    "sim.params": 1, "sim.kernels": 1,
    "sim.inputs.keys": 2, "sim.network": 2,
    "sim.mechanism": 3,
    "sim.metrics": 4, "sim.history": 4,
    "sim.merchants": 5,
    "sim.model": 6,
    "sim.reference": 7, "sim.simulate": 7,
    "sim": 8,
    "sim.inputs.scenario": 9,
    "sim.inputs.overrides": 10, "sim.runs": 10,
    "sim.inputs.experiment": 11, "sim.analysis": 11,
    "sim.validation": 12, "sim.workshop": 12,  # live classroom markets: used by the app and the CLI
    "sim.calibration": 13,  # validation facts can be calibration targets
    "sim.ui": 14, "sim.cli": 14,
}
PACKAGES = ("sim.mechanism", "sim.analysis", "sim.runs", "sim.ui", "sim.validation", "sim.calibration", "sim.workshop")


def _module(path: Path) -> str:
    parts = path.relative_to(SIM.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _group(mod: str) -> str:
    for pkg in PACKAGES:
        if mod == pkg or mod.startswith(pkg + "."):
            return pkg
    return mod


def _imports():
    """(importing module, imported module, names, line) for every import of a sim module."""
    for path in sorted(SIM.rglob("*.py")):
        mod = _module(path)
        pkg = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target == "sim" or target.startswith("sim."):
                    yield mod, target, [a.name for a in node.names], f"{path.relative_to(SIM.parent)}:{node.lineno}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name == "sim" or a.name.startswith("sim."):
                        yield mod, a.name, [], f"{path.relative_to(SIM.parent)}:{node.lineno}"


def test_every_module_has_a_layer():
    missing = {_group(m) for m, *_ in _imports()} - set(LAYERS)
    assert not missing, f"modules without a layer in tests/test_layers.py: {sorted(missing)}"


def test_imports_point_down():
    up = []
    for mod, target, names, where in _imports():
        a, b = _group(mod), _group(target)
        if b == "sim" and names:  # `from sim import x`: x may be a submodule
            subs = [f"sim.{n}" for n in names if (SIM / n).is_dir() or (SIM / f"{n}.py").exists()]
            b = _group(subs[0]) if subs else b
        if a != b and LAYERS.get(b, -1) >= LAYERS.get(a, 99):
            up.append(f"{where}: {a} (layer {LAYERS.get(a)}) imports {b} (layer {LAYERS.get(b)})")
    assert not up, "imports that point up:\n" + "\n".join(up)


def test_no_module_imports_another_modules_private_names():
    bad = [f"{where}: {mod} imports {n} from {target}" for mod, target, names, where in _imports()
           for n in names if n.startswith("_") and not n.startswith("__") and target != mod]
    assert not bad, "\n".join(bad)
