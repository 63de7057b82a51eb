"""Golden outputs: fingerprints of what the model produces, kept to prove that restructuring the code
changes no behaviour (same seed ⇒ bit-identical observables).

``uv run python tests/golden/build.py`` writes ``tests/golden/golden.json`` from the code as it is
now; ``tests/test_golden.py`` recomputes every fingerprint and compares. Rebuild it only for a
change that is *meant* to change behaviour, and say so in the commit.

What is fingerprinted, each as a SHA-256 of the exact bytes:
- every named scenario and every validation market (``scenarios/**/*.toml``; an experiment file's
  points one by one): each market observable column, each merchant observable column, and every
  customer state array at the end, after ``STEPS`` steps from ``SEED`` with the file's events;
- one customer's story (``model.customer(id)``) per market;
- the readable reference model on the default market and on the market with every mechanism on;
- each validation fact's measurement from one seed (what the on-step hooks read of the model).
"""

from __future__ import annotations

import hashlib
import json
import sys
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: pins, engine_kit
from pins import pin  # noqa: E402

pin("tests/golden/build.py")  # the vector code the tests check with (a rebuild outside it would not match)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).with_name("golden.json")
SEED = 11
STEPS = 60
REF_STEPS = 25
FACT_SEED = 5


def digest(x) -> str:
    h = hashlib.sha256()
    if isinstance(x, pd.Series):
        x = x.to_numpy()
    if isinstance(x, np.ndarray):
        if x.dtype == object:
            h.update(repr(x.tolist()).encode())
        elif x.dtype.kind in "iu":  # integers by value, whatever their width (state is narrowed)
            h.update(b"int")
            h.update(np.ascontiguousarray(x, dtype=np.int64).tobytes())
        else:
            h.update(str(x.dtype).encode())
            h.update(np.ascontiguousarray(x).tobytes())
    else:
        h.update(json.dumps(x, sort_keys=True, default=repr).encode())
    return h.hexdigest()[:16]


def frame_digests(df: pd.DataFrame) -> dict:
    return {str(c): digest(df[c]) for c in df.columns}


def population_digests(pop) -> dict:
    out = {}
    for name, v in sorted(vars(pop).items()):
        if isinstance(v, np.ndarray):
            out[name] = digest(v)
    return out


def markets() -> list[tuple[str, object]]:
    """(label, Scenario) for every named scenario and every validation market."""
    from sim.inputs.experiment import load_experiment
    from sim.inputs.scenario import Scenario, load_scenario

    out = []
    files = sorted((ROOT / "scenarios").glob("*.toml")) + sorted((ROOT / "scenarios" / "validation").glob("*.toml"))
    for path in files:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
        rel = path.relative_to(ROOT).as_posix()
        if "experiment" in doc:
            exp = load_experiment(path)
            for p in exp.points:
                out.append((f"{rel}#{p.label}", Scenario(p.label, str(path), p.params, tuple(p.events), {},
                                                          exp.steps, exp.seed)))
        else:
            out.append((rel, load_scenario(path)))
    return out


def market_fingerprint(sc) -> dict:
    res = sc.run(seed=SEED, steps=min(STEPS, sc.steps), keep_model=True)
    model = res.model
    ids = model.customer_ids()
    story = model.customer(int(ids[len(ids) // 2])) if len(ids) else None
    return {"metrics": frame_digests(res.metrics), "merchants": frame_digests(res.merchants),
            "population": population_digests(model.pop), "story": digest(story),
            "interventions": digest([(iv.step, iv.target, iv.changes, iv.source) for iv in model.interventions])}


def reference_fingerprints() -> dict:
    from engine_kit import rich_market  # (tests/, on the path under pytest and when run as a script)
    from sim import Params
    from sim.reference import ReferenceModel

    rich = rich_market(200)
    out = {}
    for label, P in (("default", Params(n_customers=200, trust_gain=0.1)), ("rich", rich)):
        m = ReferenceModel(P, seed=3)
        for _ in range(REF_STEPS):
            m.step()
        out[label] = frame_digests(m.datacollector.get_model_vars_dataframe())
    return out


def fact_fingerprints() -> dict:
    from sim.validation import FACT_IDS, measure_task

    out = {}
    for fid in FACT_IDS:
        _, _, numbers, _ = measure_task(fid, FACT_SEED)
        out[fid] = digest(numbers)
    return out


def build() -> dict:
    return {"markets": {label: market_fingerprint(sc) for label, sc in markets()},
            "reference": reference_fingerprints(),
            "facts": fact_fingerprints()}


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tests"))
    g = build()
    OUT.write_text(json.dumps(g, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT} ({len(g['markets'])} markets, {len(g['facts'])} facts)")
