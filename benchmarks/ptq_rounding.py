"""Which rounding?  Post-training weight quantization without retraining: round to nearest
(RTN), GPTQ and AdaRound, at 2, 3 and 4 bits per weight, per-channel scales.

    python benchmarks/ptq_rounding.py                         # LeNet300_100, seed 0
    python benchmarks/ptq_rounding.py --seed 1 --adaround-iters 1000
    python benchmarks/ptq_rounding.py --figure figures/quantization_rounding.png

The baseline recipe (``baselines.baseline``) trains the model; the first ``--calib``
digits of the training split (1,000 by default) are the calibration data; accuracy is
on the 1,000 test digits.  Prints one table and (with --figure) draws it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy loads BLAS: the numbers do not depend on the machine
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from minicompress.baselines import baseline  # noqa: E402
from minicompress.data import load_mnist5k  # noqa: E402
from minicompress.plots.rounding import plot_rounding_accuracy  # noqa: E402
from minicompress.quantize import adaround, gptq, quantize_weights  # noqa: E402


def accuracy(model, X, y) -> float:
    return 100 * float((model(X).argmax(1) == y).mean())


def sweep(model, X_calib, Xt, yt, bits, *, adaround_iters: int, log=print) -> dict:
    """accuracies[method] = list over ``bits``."""
    methods = {
        "round to nearest": lambda b: quantize_weights(model, "int", bits=b),
        "GPTQ": lambda b: gptq(model, X_calib, b),
        "GPTQ act-order": lambda b: gptq(model, X_calib, b, act_order=True),
        "AdaRound": lambda b: adaround(model, X_calib, b, iters=adaround_iters),
    }
    out = {}
    for name, make in methods.items():
        out[name] = []
        for b in bits:
            t0 = time.perf_counter()
            out[name].append(accuracy(make(b), Xt, yt))
            log(f"  {name:<18s} {b} bits: {out[name][-1]:5.1f}%  ({time.perf_counter() - t0:.1f} s)")
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="lenet300", choices=["lenet300", "convnet", "lenet5"])
    p.add_argument("--seed", type=int, default=0, help="baseline training seed")
    p.add_argument("--calib", type=int, default=1000, help="calibration digits from the training split")
    p.add_argument("--bits", type=int, nargs="+", default=[2, 3, 4])
    p.add_argument("--adaround-iters", type=int, default=1000)
    p.add_argument("--figure", type=Path, default=None)
    args = p.parse_args(argv)
    X, _, Xt, yt = load_mnist5k()
    model = baseline(args.model, seed=args.seed)
    base = accuracy(model, Xt, yt)
    print(f"{args.model} seed {args.seed}: float32 {base:.1f}%, {args.calib} calibration digits")
    acc = sweep(model, X[: args.calib], Xt, yt, args.bits, adaround_iters=args.adaround_iters)
    print("\n| method | " + " | ".join(f"{b} bits" for b in args.bits) + " |")
    print("|---|" + "---:|" * len(args.bits))
    for name, row in acc.items():
        print(f"| {name} | " + " | ".join(f"{a:.1f}" for a in row) + " |")
    print(f"| float32 | {base:.1f} |")
    if args.figure is not None:
        names = {"lenet300": "LeNet300_100", "convnet": "ConvNet", "lenet5": "LeNet5"}
        plot_rounding_accuracy(np.array(args.bits), acc, base, args.figure,
                               title=f"Which rounding? {names[args.model]}, no retraining")
        print(f"wrote {args.figure}")
    return {"float": base, **acc}


if __name__ == "__main__":
    main()
