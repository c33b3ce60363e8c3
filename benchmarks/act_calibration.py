"""Which range?  Activation calibration methods on a heavy-tailed layer: the input of the
trained ConvNet's fc layer (ReLU then max pooling: many zeros, a long right tail).

    python benchmarks/act_calibration.py                      # seed 0, 1,000 calibration digits
    python benchmarks/act_calibration.py --figure figures/quantization_calibration.png

For every method an :class:`~minicompress.quantize.ActQuant` is put in front of fc (and
nothing else is quantized), calibrated on the first ``--calib`` training digits in batches
of 100 (:func:`~minicompress.quantize.calibrate_activations`), and the model is evaluated
on the 1,000 test digits at each activation width.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from minicompress.baselines import baseline  # noqa: E402
from minicompress.data import load_mnist5k  # noqa: E402
from minicompress.nn import Linear  # noqa: E402
from minicompress.nn.calibration import layer_inputs  # noqa: E402
from minicompress.plots.rounding import plot_calibration_methods  # noqa: E402
from minicompress.quantize import ActQuant, calibrate_activations, fake_quantize_affine  # noqa: E402
from minicompress.quantize.actquant import quantize_inputs  # noqa: E402

METHODS = ("minmax", "moving_average", "percentile", "mse", "entropy")


def with_fc_input_quantized(model, bits: int, method: str, X_calib):
    """A copy of the model with an ActQuant before its Linear layer, calibrated."""
    q = quantize_inputs(copy.deepcopy(model), lambda: ActQuant(bits, method), (Linear,))
    return calibrate_activations(q, X_calib, batch_size=100)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=0, help="baseline training seed")
    p.add_argument("--calib", type=int, default=1000)
    p.add_argument("--bits", type=int, nargs="+", default=[2, 3, 4, 8])
    p.add_argument("--figure", type=Path, default=None)
    args = p.parse_args(argv)
    X, _, Xt, yt = load_mnist5k()
    model = baseline("convnet", seed=args.seed)
    Xc = X[: args.calib]
    acts = layer_inputs(model, Xc, ["fc"])["fc"].astype(np.float64)
    z = (acts - acts.mean()) / acts.std()
    print(f"ConvNet seed {args.seed}: fc input, {acts.size:,} values, {100 * np.mean(acts == 0):.0f}% zeros, "
          f"max {acts.max():.2f}, 99.9th percentile {np.percentile(acts, 99.9):.2f}, "
          f"excess kurtosis {np.mean(z**4) - 3:.1f}")
    base = 100 * float((model(Xt).argmax(1) == yt).mean())
    ranges, acc, mse = {}, {}, {}
    for method in METHODS:
        acc[method] = []
        for b in args.bits:
            q = with_fc_input_quantized(model, b, method, Xc)
            acc[method].append(100 * float((q(Xt).argmax(1) == yt).mean()))
            if b == 4:
                ranges[method] = q.fc_in.range()
                mse[method] = float(np.mean((fake_quantize_affine(acts, q.fc_in.qp) - acts) ** 2))
    heads = " | ".join(f"A{b} acc %" for b in args.bits)
    print(f"\n| method | range at 4 bits | MSE at 4 bits | {heads} |")
    print("|---|---|---:|" + "---:|" * len(args.bits))
    for m in METHODS:
        lo, hi = ranges[m]
        cells = " | ".join(f"{a:.1f}" for a in acc[m])
        print(f"| {m} | [{lo:.2f}, {hi:.2f}] | {mse[m]:.4f} | {cells} |")
    print(f"| float32 | | | {base:.1f} |")
    if args.figure is not None:
        plot_calibration_methods(acts, ranges, {m: np.array(a) for m, a in acc.items()}, base,
                                 np.array(args.bits), args.figure)
        print(f"wrote {args.figure}")
    return {"float": base, "accuracy": acc, "ranges": ranges, "mse": mse}


if __name__ == "__main__":
    main()
