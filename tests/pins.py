"""The vector code numpy and OpenBLAS use, pinned to AVX2 for every process that records or checks
bit-for-bit fingerprints: the tests (tests/conftest.py) and the script that records them
(tests/golden/build.py). Why: see tests/conftest.py. Must run before numpy is imported."""

from __future__ import annotations

import os
import sys

#: numpy's names of the processor features above AVX2 (numpy ≥ 2.4), and OpenBLAS's AVX2 kernels
PINNED = {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR", "OPENBLAS_CORETYPE": "Haswell"}


def pin(who: str) -> None:
    """Set :data:`PINNED` in the environment (a value already set is kept) for this process and the
    ones it starts; ``who`` is named in the error raised when numpy was imported before they were set
    (under pytest, tests/conftest.py has set them before any import of numpy, and test_golden imports
    the build script after it)."""
    missing = [k for k in PINNED if k not in os.environ]
    for k, v in PINNED.items():
        os.environ.setdefault(k, v)
    if missing and "numpy" in sys.modules:  # pragma: no cover - numpy imported before these settings
        raise RuntimeError(f"numpy was imported before {who} pinned its vector code; set NPY_DISABLE_CPU_FEATURES "
                           "and OPENBLAS_CORETYPE in the environment instead: "
                           + ", ".join(f"{k}={v!r}" for k, v in PINNED.items()))
