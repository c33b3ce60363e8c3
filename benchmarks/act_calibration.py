"""Which range?  The activation calibration methods (min-max, moving average, percentile,
MSE, entropy) on one heavy-tailed layer: the input of the ConvNet's fc (after ReLU and
pooling), quantized alone at 2, 3, 4 and 8 bits, calibrated on the first 1,000 training digits.

    python benchmarks/act_calibration.py                     # seed 0
    python benchmarks/act_calibration.py --figure figures/quantization_calibration.png

The experiment is :func:`minicompress.experiments.quantization_beyond.calibration_sweep`
(the one ``python -m minicompress figures`` draws).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _setup import pin_threads  # before numpy: pins BLAS threads


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=0, help="baseline training seed (default 0)")
    p.add_argument("--bits", type=int, nargs="+", default=[2, 3, 4, 8])
    p.add_argument("--figure", type=Path, default=None, help="also draw it to this PNG")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    args = p.parse_args(argv)
    pin_threads(args.threads)
    import numpy as np

    from minicompress.experiments.quantization_beyond import calibration_sweep
    from minicompress.experiments.scaffold import TourContext, accuracy
    from minicompress.plots.rounding import plot_calibration_methods

    ctx = TourContext(seed=args.seed)
    res = calibration_sweep(ctx, tuple(args.bits))
    acts = res["acts"]
    z = (acts - acts.mean()) / acts.std()
    base = 100 * accuracy(ctx.baseline("convnet"), ctx)
    print(f"\nConvNet seed {args.seed}: fc input, {acts.size:,} values, "
          f"{100 * np.mean(acts == 0):.0f}% zeros, "
          f"max {acts.max():.2f}, 99.9th percentile {np.percentile(acts, 99.9):.2f}, "
          f"excess kurtosis {np.mean(z**4) - 3:.1f}")
    heads = " | ".join(f"A{b} acc %" for b in args.bits)
    print(f"| method | range at 4 bits | MSE at 4 bits | {heads} |")
    print("|---|---|---:|" + "---:|" * len(args.bits))
    for m, row in res["accuracy"].items():
        lo, hi = res["ranges"][m]
        cells = " | ".join(f"{a:.1f}" for a in row)
        print(f"| {m} | [{lo:.2f}, {hi:.2f}] | {res['mse'][m]:.4f} | {cells} |")
    print(f"| float32 | | | {base:.1f} |")
    if args.figure is not None:
        plot_calibration_methods(acts, res["ranges"], {m: np.array(a) for m, a in res["accuracy"].items()},
                                 base, np.array(args.bits), args.figure)
        print(f"wrote {args.figure}")
    return {"float": base, **res}


if __name__ == "__main__":
    main()
