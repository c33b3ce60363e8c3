"""Pruning at initialisation on the bundled MNIST: SNIP (Lee et al. 2019, |g * w| on one batch
of 100 training digits at initialisation, one global threshold) against random masks with
SNIP's per-layer sparsity and uniformly random masks, then training with the masks held by
the baseline recipe (LeNet300_100, SGD 0.01, momentum 0.9, batch 64, 15 epochs).  Every
method of a seed starts from the same initialisation and sees the same data order.

    python benchmarks/prune_snip.py                         # 90% and 95%, 3 seeds
    python benchmarks/prune_snip.py --sparsities 0.8 0.98

BLAS threads (default 1, set before numpy loads).
"""

from __future__ import annotations

import argparse
import time

from _setup import pin_threads  # before numpy: pins BLAS threads


def main(args) -> None:
    import numpy as np

    from minicompress import load_mnist5k
    from minicompress.baselines import BATCH_SIZE, DEFAULT_EPOCHS, LR, MOMENTUM, build_model
    from minicompress.prune import prune_at_init

    X, y, Xt, yt = load_mnist5k()
    recipe = dict(epochs=DEFAULT_EPOCHS["lenet300"], lr=LR, momentum=MOMENTUM, batch_size=BATCH_SIZE)
    t0 = time.perf_counter()
    print(f"\nLeNet300_100 pruned at initialisation, trained {DEFAULT_EPOCHS['lenet300']} epochs; "
          f"test accuracy %, mean over {args.seeds} seeds (per seed):\n")
    print("| sparsity | method | accuracy | per seed | kept per layer (seed 0) |")
    print("|---:|---|---:|---|---|")
    for s in args.sparsities:
        for method in ("snip", "random", "random-uniform"):
            out = [prune_at_init(lambda rng: build_model("lenet300", rng=rng), X, y, s, method=method,
                                 batch=args.batch, rng=seed, validation=(Xt, yt), **recipe)
                   for seed in range(args.seeds)]
            a = 100 * np.array([o["accuracy"] for o in out])
            layers = ", ".join(f"{n.split('.')[0]} {100 * v:.1f}%" for n, v in out[0]["layers"].items())
            per_seed = ", ".join(f"{v:.1f}" for v in a)
            print(f"| {100 * s:g}% | {method} | {a.mean():.2f} | {per_seed} | {layers} |", flush=True)
    print(f"\nwall time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..n-1 (default 3)")
    parser.add_argument("--sparsities", type=float, nargs="+", default=[0.9, 0.95], help="default 0.9 0.95")
    parser.add_argument("--batch", type=int, default=100, help="SNIP's batch (default 100)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    args = parser.parse_args()
    pin_threads(args.threads)
    main(args)
