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

from pins import PINNED, pin  # noqa: F401  (tests/pins.py: also used by tests/golden/build.py)

pin("tests/conftest.py")
