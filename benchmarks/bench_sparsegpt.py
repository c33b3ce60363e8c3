"""SparseGPT's lazy batch updates, timed side by side in one run: the same layer (LeNet300_100's
fc1 shape, 300 x 784, a Hessian from 1,000 correlated random inputs) pruned to 50% with
blocksize B in 1, 8, 32, 128, 784, all with the same mask (SparseGPT's own at B = 128), so
every run computes the same numbers (printed: the largest difference from B = 1).  Reports the median of
--repeats runs and the ratio to B = 1.  The arithmetic is the same for every B (see the
docstring of sparsegpt_prune); what changes is d_col rank-1 updates of all of W (B = 1)
against d_col / B matrix products.

    python benchmarks/bench_sparsegpt.py [--repeats 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import time

from _setup import pin_threads  # before numpy: pins BLAS threads


def main(args) -> None:
    import numpy as np

    from minicompress.prune import sparsegpt_prune

    rng = np.random.default_rng(0)
    W = rng.standard_normal((300, 784)) / 28
    X = rng.standard_normal((1000, 64)) @ rng.standard_normal((64, 784))  # correlated inputs
    H = 2 * X.T @ X / len(X)
    H += 0.01 * np.mean(np.diag(H)) * np.eye(784)
    mask = sparsegpt_prune(W, H, 0.5)[1]
    ref, times = None, {}
    for B in (1, 8, 32, 128, 784):
        runs = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            new, keep, _ = sparsegpt_prune(W, H, None, blocksize=B, mask=mask)
            runs.append(time.perf_counter() - t)
        ref = new if ref is None else ref
        times[B] = float(np.median(runs))
        print(f"blocksize {B:4d}: {1e3 * times[B]:8.1f} ms  ({times[B] / times[1]:.2f} x B=1)  "
              f"max |W - W(B=1)| {np.abs(new - ref).max():.1e}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="runs per blocksize (default 5)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    args = parser.parse_args()
    pin_threads(args.threads)
    main(args)
