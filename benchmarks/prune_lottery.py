"""Lottery tickets on the bundled MNIST (Frankle & Carbin 2019): LeNet300_100, the baseline
recipe (SGD 0.01, momentum 0.9, batch 64, 15 epochs), iterative magnitude pruning of 20% of
the surviving weights per round, survivors rewound to their initial values (or to step k),
with the two controls trained in the same run every round: the ticket's masks from a fresh
initialisation ("reinit") and random masks of the same per-layer sparsity from the same
rewound weights ("random").  Prints the mean over seeds per round and the gaps at the end.

    python benchmarks/prune_lottery.py                        # 3 seeds, 10 rounds, rewind to 0
    python benchmarks/prune_lottery.py --rewind-to 60         # rewind to step 60 (~1 epoch)
    python benchmarks/prune_lottery.py --scope layer          # 20% of each layer per round

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
    from minicompress.prune import lottery_ticket

    X, y, Xt, yt = load_mnist5k()
    t0 = time.perf_counter()
    runs = []
    recipe = dict(epochs=DEFAULT_EPOCHS["lenet300"], lr=LR, momentum=MOMENTUM, batch_size=BATCH_SIZE)
    for seed in range(args.seeds):
        t = time.perf_counter()
        runs.append(lottery_ticket(lambda rng: build_model("lenet300", rng=rng), X, y, rate=args.rate,
                                   rounds=args.rounds, rewind_to=args.rewind_to, scope=args.scope, rng=seed,
                                   validation=(Xt, yt), **recipe))
        last = runs[-1]["rounds"][-1]
        print(f"seed {seed}: dense {100 * runs[-1]['dense']:.1f}%, "
              f"at {100 * last['remaining']:.1f}% remaining ticket {100 * last['ticket']:.1f}, "
              f"reinit {100 * last['reinit']:.1f}, "
              f"random {100 * last['random']:.1f}  ({time.perf_counter() - t:.0f} s)", flush=True)
    dense = np.array([r["dense"] for r in runs]) * 100
    print(f"\nLeNet300_100, {args.seeds} seeds, rate {args.rate}, rewind to step {args.rewind_to}, "
          f"scope {args.scope}; test accuracy %, mean over seeds (min-max):\n")
    print(f"| remaining | rewound ticket | reinitialised | random mask | (dense {dense.mean():.2f}) |")
    print("|---:|---:|---:|---:|---|")
    for i in range(args.rounds):
        cells = []
        for key in ("ticket", "reinit", "random"):
            a = np.array([r["rounds"][i][key] for r in runs]) * 100
            cells.append(f"{a.mean():.2f} ({a.min():.1f}-{a.max():.1f})")
        remaining = 100 * runs[0]["rounds"][i]["remaining"]
        print(f"| {remaining:.1f}% | " + " | ".join(cells) + " | |")
    final = {k: np.array([r["rounds"][-1][k] for r in runs]) * 100 for k in ("ticket", "reinit", "random")}
    gaps = {k: (final["ticket"] - other).mean()
            for k, other in (("dense", dense), ("reinit", final["reinit"]), ("random", final["random"]))}
    print(f"\nat {100 * runs[0]['rounds'][-1]['remaining']:.1f}% remaining (means of per-seed differences): "
          f"ticket - dense {gaps['dense']:+.2f} points; ticket - reinit {gaps['reinit']:+.2f}; "
          f"ticket - random {gaps['random']:+.2f}")
    layers = runs[0]["rounds"][-1]["layers"]
    print("per-layer kept fraction (seed 0): " + ", ".join(f"{n} {100 * v:.1f}%" for n, v in layers.items()))
    print(f"\nwall time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..n-1 (default 3)")
    parser.add_argument("--rounds", type=int, default=10, help="pruning rounds (default 10)")
    parser.add_argument("--rate", type=float, default=0.2, help="fraction pruned per round (default 0.2)")
    parser.add_argument("--rewind-to", type=int, default=0, help="optimizer step to rewind to (default 0)")
    parser.add_argument("--scope", choices=("global", "layer"), default="global", help="default global")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    args = parser.parse_args()
    pin_threads(args.threads)
    main(args)
