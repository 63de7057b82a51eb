"""Test-wide settings, read before any test module imports numpy.

Bit-for-bit checks (``tests/test_golden.py``, the twin-model and kernel tests) compare this code's
results with fingerprints recorded once. Same seed ⇒ identical results holds on one machine, but
numpy and OpenBLAS pick vector code by processor at import: numpy's AVX-512 versions of float32
``exp``/``log`` and OpenBLAS's per-processor ``sdot`` kernels round some last bits differently from
their AVX2 versions, so a market's trajectory on an AVX-512 processor drifts from one recorded on
an AVX2 one. The tests therefore pin both to their AVX2 code (any x86-64 processor of the last ten
years has it), for this process and every process it starts (the command-line and app-server
tests); a value already set in the environment is kept.
"""

from __future__ import annotations

import os
import sys

#: numpy's names of the processor features above AVX2 (numpy ≥ 2.4), and OpenBLAS's AVX2 kernels
PINNED = {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR", "OPENBLAS_CORETYPE": "Haswell"}

for _k, _v in PINNED.items():
    os.environ.setdefault(_k, _v)

if "numpy" in sys.modules:  # pragma: no cover - a plugin imported numpy before these settings
    raise RuntimeError("numpy was imported before tests/conftest.py pinned its vector code; "
                       "set NPY_DISABLE_CPU_FEATURES and OPENBLAS_CORETYPE in the environment instead: "
                       + ", ".join(f"{k}={v!r}" for k, v in PINNED.items()))
