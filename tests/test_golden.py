"""Same seed ⇒ bit-identical results, across code changes: every named scenario, every validation
market, the readable reference and every validation fact's measurement give exactly the
fingerprints recorded in ``tests/golden/golden.json`` (built by ``tests/golden/build.py`` from the
code before it was restructured). A change meant to alter behaviour rebuilds the file and says so."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

HERE = Path(__file__).with_name("golden")
_spec = importlib.util.spec_from_file_location("golden_build", HERE / "build.py")
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)

EXPECTED = json.loads((HERE / "golden.json").read_text())


def _diff(expected, got, path=""):
    if isinstance(expected, dict) and isinstance(got, dict):
        out = [f"{path}/{k}: missing" for k in expected if k not in got]
        out += [f"{path}/{k}: unexpected" for k in got if k not in expected]
        for k in expected:
            if k in got:
                out += _diff(expected[k], got[k], f"{path}/{k}")
        return out
    return [] if expected == got else [f"{path}: {expected} → {got}"]


@pytest.mark.parametrize("label,sc", golden.markets(), ids=lambda x: x if isinstance(x, str) else "")
def test_market_is_bit_identical(label, sc):
    assert label in EXPECTED["markets"], f"{label}: no golden fingerprint (new scenario? rebuild golden.json)"
    diff = _diff(EXPECTED["markets"][label], golden.market_fingerprint(sc))
    assert not diff, "\n".join(diff[:20])


def test_reference_model_is_bit_identical():
    diff = _diff(EXPECTED["reference"], golden.reference_fingerprints())
    assert not diff, "\n".join(diff[:20])


def test_validation_measurements_are_bit_identical():
    diff = _diff(EXPECTED["facts"], golden.fact_fingerprints())
    assert not diff, "\n".join(diff[:20])


def test_the_fingerprint_sees_a_one_bit_change():
    """The check can fail: a market run with one parameter nudged by 0.1% changes its print."""
    from sim.inputs.scenario import load_scenario

    sc = load_scenario("baseline")
    nudged = sc.__class__(sc.name, sc.source, sc.params.replace(trust_gain=sc.params.trust_gain * 1.001),
                          sc.events, sc.info, sc.steps, sc.seed)
    assert _diff(golden.market_fingerprint(sc), golden.market_fingerprint(nudged))


def test_vector_code_is_pinned(capsys):
    """The fingerprints were recorded with numpy's and OpenBLAS's AVX2 code (tests/conftest.py pins
    it, so that they hold on AVX-512 processors too): numpy reports no vector extension above AVX2
    in use, and OpenBLAS is told to use its Haswell kernels."""
    import os
    import re

    import numpy as np

    np.show_runtime()
    out = capsys.readouterr().out
    found = re.search(r"'found': \[([^\]]*)\]", out)
    assert found is not None, out
    assert not re.search(r"X86_V4|AVX512", found.group(1)), f"numpy uses {found.group(1)}"
    assert os.environ.get("OPENBLAS_CORETYPE") == "Haswell"


def test_integers_are_fingerprinted_by_value_whatever_their_width():
    """Narrowing a count's type (int32 → uint16) keeps its print; a changed value does not."""
    import numpy as np

    a = np.array([0, 3, 65535], dtype=np.int32)
    assert golden.digest(a) == golden.digest(a.astype(np.uint16)) == golden.digest(a.astype(np.int64))
    assert golden.digest(a) != golden.digest(np.array([0, 4, 65535], dtype=np.int32))
    assert golden.digest(a) != golden.digest(a.astype(np.float32))
