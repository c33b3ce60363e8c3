"""Sparse (CSR via scipy.sparse) vs dense (BLAS GEMM) forward time, side by side in one run.

For a Linear 784->300 (LeNet-300-100's fc1) and a Conv2d 16->32 3x3 on 13x13 maps, at
batch sizes 1, 32, 256 and weight sparsities 0-99%, it times the dense masked layer and
its CSR twin alternately (same machine load for both), prints the times and the speedup
(dense / sparse) and the crossover sparsity per batch size; ``--out`` also draws the figure
(``python -m minicompress figures --outdir figures`` draws the committed one, with these
settings and one thread).

    python benchmarks/bench_sparse.py                 # 1 BLAS thread (the default)
    python benchmarks/bench_sparse.py --threads 2     # let the dense GEMM use 2 threads
    python benchmarks/bench_sparse.py --out sparse_speedup.png

The thread count is set in this process with threadpoolctl.  scipy.sparse products run on
one thread, so ``--threads 1`` compares like with like; more BLAS threads make the dense side
faster on an idle machine and move the crossover right (on a machine shared with other jobs,
extra BLAS threads can also make it much slower).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from minicompress.experiments.evaluation import (  # noqa: E402
    FULL_SPARSITIES,
    QUICK_SPARSITIES,
    crossover,
    speedup_figure,
    time_side_by_side,
)
from minicompress.experiments.scaffold import blas_threads  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for the dense GEMM (default 1)")
    parser.add_argument("--repeats", type=int, default=15, help="timed repeats per point (default 15)")
    parser.add_argument("--quick", action="store_true", help="4 sparsities, 3 repeats: a smoke test")
    parser.add_argument("--out", default=None, help="also draw the figure into this PNG")
    args = parser.parse_args(argv)
    sparsities = QUICK_SPARSITIES if args.quick else FULL_SPARSITIES
    repeats = 3 if args.quick else args.repeats
    path, sweeps = speedup_figure(Path(args.out) if args.out else _scratch(), sparsities=sparsities,
                                  repeats=repeats, threads=args.threads)
    for title, sweep in sweeps.items():
        print(f"\n{title}   BLAS threads: {sweep['blas_threads']}")
        print("sparsity | " + " | ".join(f"b={b}: dense ms  sparse ms  speedup" for b in sweep["speedup"]))
        for i, s in enumerate(sparsities):
            cells = [f"{1e3 * sweep['dense_s'][b][i]:9.4f} {1e3 * sweep['sparse_s'][b][i]:9.4f} "
                     f"{sweep['speedup'][b][i]:7.2f}x" for b in sweep["speedup"]]
            print(f"{s:7.0%}  | " + " | ".join(cells))
        for b, v in sweep["speedup"].items():
            c = crossover(sparsities, v)
            print(f"crossover batch {b:3d}: " + ("sparse never faster" if c is None else f"{c:.1%}"))
    if args.out:
        print(f"\nwrote {path}")
    with blas_threads(args.threads):
        whole_model(repeats)
    return 0


def _scratch() -> Path:
    import tempfile

    return Path(tempfile.mkdtemp()) / "sparse_speedup.png"


def whole_model(repeats: int, sparsity: float = 0.95) -> None:
    """A whole LeNet-300-100 with every layer masked to ``sparsity``, dense vs to_sparse:
    the small layers (100 x 300, 10 x 100) add call overhead the big one has to win back."""
    import numpy as np

    from minicompress.formats import to_sparse
    from minicompress.nn import LeNet300_100
    from minicompress.prune import prune_model

    model = LeNet300_100(rng=0)
    prune_model(model, sparsity)  # every layer's weights, by magnitude
    sparse = to_sparse(model)
    rng = np.random.default_rng(0)
    print(f"\nLeNet-300-100, {sparsity:.0%} of every layer masked: whole forward pass")
    for b in (1, 32, 256):
        x = rng.standard_normal((b, 1, 28, 28)).astype(np.float32)
        d, s = time_side_by_side(model, sparse, x, repeats=repeats)
        print(f"batch {b:3d}: dense {1e3 * d:8.4f} ms  sparse {1e3 * s:8.4f} ms  speedup {d / s:5.2f}x")


if __name__ == "__main__":
    raise SystemExit(main())
