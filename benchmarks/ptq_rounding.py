"""Which rounding?  Post-training weight quantization without retraining: round to nearest
(RTN), GPTQ (also with act-order) and AdaRound, at 2, 3 and 4 bits per weight, per-channel
scales, on a baseline of the project's recipe, calibrated on the first 1,000 training digits.

    python benchmarks/ptq_rounding.py                         # LeNet300_100, seed 0
    python benchmarks/ptq_rounding.py --seed 1 --adaround-iters 1000
    python benchmarks/ptq_rounding.py --figure figures/quantization_rounding.png

The experiment is :func:`minicompress.experiments.quantization_beyond.rounding_sweep` (the
same one ``python -m minicompress figures`` draws); accuracy is on the 1,000 test digits.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _setup import pin_threads  # before numpy: pins BLAS threads


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="lenet300", choices=["lenet300", "convnet", "lenet5"])
    p.add_argument("--seed", type=int, default=0, help="baseline training seed (default 0)")
    p.add_argument("--bits", type=int, nargs="+", default=[2, 3, 4])
    p.add_argument("--adaround-iters", type=int, default=1000)
    p.add_argument("--figure", type=Path, default=None, help="also draw the table to this PNG")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    args = p.parse_args(argv)
    pin_threads(args.threads)
    import numpy as np

    from minicompress.experiments.quantization_beyond import rounding_sweep
    from minicompress.experiments.scaffold import TourContext, accuracy
    from minicompress.plots.rounding import plot_rounding_accuracy

    ctx = TourContext(seed=args.seed)
    base = 100 * accuracy(ctx.baseline(args.model), ctx)
    acc = rounding_sweep(ctx, args.model, tuple(args.bits), adaround_iters=args.adaround_iters)
    print(f"\n{args.model} seed {args.seed}, no retraining (float32 {base:.1f}%)")
    print("| method | " + " | ".join(f"{b} bits" for b in args.bits) + " |")
    print("|---|" + "---:|" * len(args.bits))
    for name, row in acc.items():
        print(f"| {name} | " + " | ".join(f"{a:.1f}" for a in row) + " |")
    if args.figure is not None:
        names = {"lenet300": "LeNet300_100", "convnet": "ConvNet", "lenet5": "LeNet5"}
        plot_rounding_accuracy(np.array(args.bits), acc, base, args.figure,
                               title=f"Which rounding? {names[args.model]}, no retraining")
        print(f"wrote {args.figure}")
    return {"float": base, **acc}


if __name__ == "__main__":
    main()
