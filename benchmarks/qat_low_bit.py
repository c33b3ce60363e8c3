"""Low-bit training: the ConvNet at W4A4 and W8A8 (QAT from the trained baseline), and an
XNOR network (binary weights and activations) trained from scratch with the STE.

    python benchmarks/qat_low_bit.py                 # seed 0
    python benchmarks/qat_low_bit.py --seed 1 --xnor-epochs 10

W4A4 / W8A8: ``prepare_qat(base, "int", bits=b, activations=True, act_bits=b,
act_method=m, X_calib=first 1,000 training digits)``, fine-tuned ``--qat-epochs`` epochs
with the baseline's SGD (lr 0.01, momentum 0.9, batch 64), then ``convert_qat``; accuracy
on the 1,000 test digits before and after fine-tuning.

XNOR: ``Flatten -> 784x512 -> 512x512 -> 512x10``, every layer an ``XnorLinear`` (the input
pixels are binarised too), no ReLU (the next layer's sign is the nonlinearity), SGD lr 0.01
momentum 0.9, batch 64, ``ShadowClip`` (BinaryConnect), then ``convert_xnor``: the packed-bit
inference model, whose accuracy is the one printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from minicompress.baselines import BATCH_SIZE, LR, MOMENTUM, baseline  # noqa: E402
from minicompress.data import load_mnist5k  # noqa: E402
from minicompress.metrics import model_size_bits  # noqa: E402
from minicompress.nn import SGD, Flatten, Linear, Sequential, fit  # noqa: E402
from minicompress.quantize import ShadowClip, convert_qat, convert_xnor, prepare_qat, prepare_xnor  # noqa: E402


def accuracy(model, X, y) -> float:
    return 100 * float((model(X).argmax(1) == y).mean())


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--qat-epochs", type=int, default=2)
    p.add_argument("--xnor-epochs", type=int, default=10)
    p.add_argument("--xnor-hidden", type=int, default=512)
    args = p.parse_args(argv)
    X, y, Xt, yt = load_mnist5k()
    base = baseline("convnet", seed=args.seed)
    results = {"float": accuracy(base, Xt, yt)}
    print(f"ConvNet seed {args.seed}: float32 {results['float']:.1f}%")
    for bits in (8, 4):
        for method in ("minmax", "lsq", "pact"):
            t0 = time.perf_counter()
            qat = prepare_qat(base, "int", bits=bits, activations=True, act_bits=bits, act_method=method,
                              X_calib=X[:1000])
            before = accuracy(convert_qat(qat), Xt, yt)
            fit(qat, X, y, epochs=args.qat_epochs, batch_size=BATCH_SIZE,
                optimizer=SGD(qat, lr=LR, momentum=MOMENTUM), rng=args.seed, verbose=False)
            deployed = convert_qat(qat)
            after = accuracy(deployed, Xt, yt)
            results[f"W{bits}A{bits} {method}"] = after
            kb, sec = model_size_bits(deployed, "auto").total / 8e3, time.perf_counter() - t0
            print(f"  W{bits}A{bits} {method:<7s} no fine-tuning {before:5.1f}%   after {args.qat_epochs} "
                  f"epochs {after:5.1f}%  ({after - results['float']:+.1f} points, {kb:.1f} KB, {sec:.0f} s)")
    h = args.xnor_hidden
    net = Sequential(flatten=Flatten(), fc1=Linear(784, h, rng=args.seed),
                     fc2=Linear(h, h, rng=args.seed + 1), fc3=Linear(h, 10, rng=args.seed + 2))
    xnor = prepare_xnor(net)
    t0 = time.perf_counter()
    hist = fit(xnor, X, y, epochs=args.xnor_epochs, batch_size=BATCH_SIZE,
               optimizer=SGD(xnor, lr=LR, momentum=MOMENTUM), hooks=[ShadowClip()], rng=args.seed,
               validation=(Xt, yt), verbose=False)
    packed = convert_xnor(xnor)
    results["xnor"] = accuracy(packed, Xt, yt)
    curve = ", ".join(f"{100 * a:.1f}" for a in hist["test_accuracy"])
    print(f"XNOR 784-{h}-{h}-10 (binary weights and activations), {args.xnor_epochs} epochs: "
          f"{results['xnor']:.1f}% on packed bits ({model_size_bits(packed, 'auto').total / 8e3:.1f} KB, "
          f"{time.perf_counter() - t0:.0f} s); test accuracy per epoch: {curve}")
    return results


if __name__ == "__main__":
    main()
