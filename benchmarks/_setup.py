"""What every benchmark script does before it imports numpy: pin the BLAS threads (OpenBLAS
reads the variables when it loads, so they must be set first) and put the checkout on the
path, so ``python benchmarks/<script>.py`` runs this repository's minicompress."""

from __future__ import annotations

import os
import sys
from pathlib import Path

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def pin_threads(threads: int) -> None:
    """Set every BLAS thread variable to ``threads``, add the checkout to ``sys.path``, say so."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise SystemExit(f"--threads must be an integer >= 1; got {threads!r}")
    for var in THREAD_VARS:
        os.environ[var] = str(threads)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    print(f"BLAS threads: {threads}")
