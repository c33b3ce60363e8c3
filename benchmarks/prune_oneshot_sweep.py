"""One-shot pruning with no retraining on the bundled MNIST: magnitude (per layer and
global), OBD and SparseGPT on the baseline LeNet300_100, 1,000 calibration digits from the
training split, every layer pruned to the same sparsity; plus the 2:4 pattern.  Prints one
accuracy table per seed and the mean over seeds.  (An experiment, not a timed test.)

    python benchmarks/prune_oneshot_sweep.py                 # seed 0 (the tutorial's baseline)
    python benchmarks/prune_oneshot_sweep.py --seeds 3       # baselines of seeds 0, 1, 2
    python benchmarks/prune_oneshot_sweep.py --damp 0.1      # SparseGPT's damping (default 0.01)
    python benchmarks/prune_oneshot_sweep.py --calibration-draws 5   # also: 5 random 1,000-digit
                                                             # calibration sets, SparseGPT 50/70%
    python benchmarks/prune_oneshot_sweep.py --diagnose      # also: per-layer output errors at
                                                             # 90/95%, and fc3 left dense
    python benchmarks/prune_oneshot_sweep.py --methods sparsegpt --mask-blocksize 32 --seeds 3

BLAS threads (default 1, set before numpy loads).
"""

from __future__ import annotations

import argparse
import time

from _setup import pin_threads  # before numpy: pins BLAS threads

SPARSITIES = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
METHODS = ("magnitude", "magnitude-global", "obd", "sparsegpt")


def table(rows, dense) -> str:
    """Markdown table: accuracy (%) by method (rows) and sparsity / pattern (columns)."""
    cols = sorted({(r["pattern"] or "", r["sparsity"]) for r in rows}, key=lambda c: (c[0] != "", c[1]))
    head = [p if p else f"{100 * s:g}%" for p, s in cols]
    lines = [f"| method (dense {100 * dense:.1f}%) | " + " | ".join(head) + " |",
             "|---|" + "---:|" * len(cols)]
    for method in dict.fromkeys(r["method"] for r in rows):
        cells = {(r["pattern"] or "", r["sparsity"]): r["accuracy"] for r in rows if r["method"] == method}
        lines.append(f"| {method} | " + " | ".join(f"{100 * cells[c]:.1f}" if c in cells else "-"
                                                   for c in cols) + " |")
    return "\n".join(lines)


def main(args) -> None:
    import numpy as np

    from minicompress import evaluate, load_mnist5k
    from minicompress.baselines import baseline
    from minicompress.prune import accuracy_without_retraining, sparsegpt

    X, y, Xt, yt = load_mnist5k()
    calibration = (X[: args.calibration], y[: args.calibration])
    all_rows = []
    t0 = time.perf_counter()
    for seed in range(args.seeds):
        model = baseline("lenet300", seed=seed)
        rows = accuracy_without_retraining(model, calibration, (Xt, yt), sparsities=SPARSITIES,
                                           patterns=("2:4",), methods=args.methods, damp=args.damp,
                                           mask_blocksize=args.mask_blocksize)
        rest = (X[args.calibration :], y[args.calibration :])
        held_out = []
        if "sparsegpt" in args.methods:
            held_out.append(evaluate(_pruned(model, 0.7, calibration, args), *rest)[0])
        print(f"\nLeNet300_100 baseline seed {seed}, calibration {args.calibration} training digits, "
              f"SparseGPT damp {args.damp}, mask block {args.mask_blocksize or 'default'}, "
              f"no retraining (test accuracy, %):\n")
        print(table(rows, rows[0]["dense"]))
        if held_out:
            print(f"SparseGPT 70%: mean cross-entropy on the {len(X) - args.calibration} training digits "
                  f"not used for calibration {held_out[0]:.4f}")
        all_rows.append(rows)
    if args.seeds > 1:
        mean = [dict(r, accuracy=float(np.mean([rs[i]["accuracy"] for rs in all_rows])))
                for i, r in enumerate(all_rows[0])]
        dense = float(np.mean([rs[0]["dense"] for rs in all_rows]))
        print(f"\nmean over seeds 0-{args.seeds - 1}:\n")
        print(table(mean, dense))
    if args.calibration_draws:
        model = baseline("lenet300", seed=0)
        dense = evaluate(model, Xt, yt)[1]
        print(f"\nseed 0, SparseGPT on {args.calibration_draws} random draws of {args.calibration} "
              f"training digits (accuracy loss in points):")
        for s in (0.5, 0.7):
            losses = []
            for draw in range(args.calibration_draws):
                idx = np.random.default_rng(draw).choice(len(X), args.calibration, replace=False)
                pruned = baseline("lenet300", seed=0)
                sparsegpt(pruned, X[idx], s, damp=args.damp)
                losses.append(100 * (dense - evaluate(pruned, Xt, yt)[1]))
            values = ", ".join(f"{v:.1f}" for v in losses)
            print(f"  {100 * s:g}%: {values}  (mean {np.mean(losses):.2f})")
    if args.diagnose:
        diagnose(X, y, Xt, yt, calibration, args)
    print(f"\nwall time {time.perf_counter() - t0:.0f} s")


def _pruned(model, sparsity, calibration, args):
    import copy

    from minicompress.prune import sparsegpt

    pruned = copy.deepcopy(model)
    sparsegpt(pruned, calibration[0], sparsity, damp=args.damp, mask_blocksize=args.mask_blocksize)
    return pruned


def diagnose(X, y, Xt, yt, calibration, args) -> None:
    """Seed 0 at 90% and 95%: each layer's own output error (relative to its output's energy,
    on 1,000 training digits not used for calibration, each layer fed the dense network's
    input), SparseGPT against magnitude; and SparseGPT with fc3 left dense."""
    import numpy as np

    from minicompress import evaluate
    from minicompress.baselines import baseline
    from minicompress.prune import layer_inputs, prune_model, sparsegpt

    dense = baseline("lenet300", seed=0)
    held = X[2000:3000]
    inputs = layer_inputs(dense, held, ["fc1", "fc2", "fc3"])
    print("\nseed 0: relative output error of each layer, ||out' - out||^2 / ||out||^2, on training "
          "digits 2000-2999:")
    for s in (0.9, 0.95):
        for label in ("magnitude", "sparsegpt", "sparsegpt, fc3 dense"):
            model = baseline("lenet300", seed=0)
            if label == "magnitude":
                prune_model(model, s)
            else:
                layers = ["fc1", "fc2"] if "fc3" in label else None
                sparsegpt(model, calibration[0], s, damp=args.damp, layers=layers)
            errs = []
            for name, x in inputs.items():
                a, b = dense.get_submodule(name)(x), model.get_submodule(name)(x)
                errs.append(f"{name} {np.sum((a - b) ** 2) / np.sum(a ** 2):.3f}")
            print(f"  {100 * s:g}% {label:21s}: {', '.join(errs)}; test accuracy "
                  f"{100 * evaluate(model, Xt, yt)[1]:.1f}%")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=1, help="baselines of seeds 0..n-1 (default 1)")
    parser.add_argument("--calibration", type=int, default=1000, help="calibration digits (default 1000)")
    parser.add_argument("--damp", type=float, default=0.01, help="SparseGPT damping (default 0.01)")
    parser.add_argument("--calibration-draws", type=int, default=0, help="random calibration sets")
    parser.add_argument("--mask-blocksize", type=int, default=None, help="SparseGPT mask block (default 128)")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS, help="default all")
    parser.add_argument("--diagnose", action="store_true", help="per-layer errors at 90/95%%, fc3 dense")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    args = parser.parse_args()
    pin_threads(args.threads)
    main(args)
