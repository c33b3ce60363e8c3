"""Low-bit training: the ConvNet at W8A8 and W4A4 (QAT from the trained baseline, activation
ranges by min-max, LSQ or PACT), and an XNOR network (binary weights and activations)
trained from scratch with the STE.

    python benchmarks/qat_low_bit.py                 # seed 0
    python benchmarks/qat_low_bit.py --seed 1 --xnor-epochs 10

The experiments are :func:`minicompress.experiments.quantization_beyond.low_bit_qat` and
:func:`~minicompress.experiments.quantization_beyond.xnor_network`, the tour's rows: the
ranges calibrated on the first 1,000 training digits, the baseline recipe (SGD, lr 0.01,
momentum 0.9, batch 64), accuracy of the deployed model on the 1,000 test digits.
"""

from __future__ import annotations

import argparse
import time

from _setup import pin_threads  # before numpy: pins BLAS threads


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--qat-epochs", type=int, default=2)
    p.add_argument("--xnor-epochs", type=int, default=10)
    p.add_argument("--xnor-hidden", type=int, default=512)
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    args = p.parse_args(argv)
    pin_threads(args.threads)
    from minicompress.experiments.quantization_beyond import low_bit_qat, xnor_network
    from minicompress.experiments.scaffold import TourContext, accuracy
    from minicompress.metrics import model_size_bits

    ctx = TourContext(seed=args.seed, verbose=False)
    results = {"float": 100 * accuracy(ctx.baseline("convnet"), ctx)}
    print(f"ConvNet seed {args.seed}: float32 {results['float']:.1f}%")
    for bits in (8, 4):
        for method in ("minmax", "lsq", "pact"):
            t0 = time.perf_counter()
            deployed = low_bit_qat(ctx, bits, method, epochs=args.qat_epochs)
            acc = results[f"W{bits}A{bits} {method}"] = 100 * accuracy(deployed, ctx)
            kb = model_size_bits(deployed, "auto").total / 8e3
            print(f"  W{bits}A{bits} {method:<7s} after {args.qat_epochs} epochs {acc:5.1f}% "
                  f"({acc - results['float']:+.1f} points, {kb:.1f} KB, {time.perf_counter() - t0:.0f} s)")
    h = args.xnor_hidden
    t0 = time.perf_counter()
    packed = xnor_network(ctx, [784, h, h, 10], epochs=args.xnor_epochs)
    results["xnor"] = 100 * accuracy(packed, ctx)
    print(f"XNOR 784-{h}-{h}-10 (binary weights and activations), {args.xnor_epochs} epochs: "
          f"{results['xnor']:.1f}% on packed bits ({model_size_bits(packed, 'auto').total / 8e3:.1f} KB, "
          f"{time.perf_counter() - t0:.0f} s)")
    return results


if __name__ == "__main__":
    main()
