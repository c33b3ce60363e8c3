"""Integer-only inference against the float model, side by side in one run.

    python benchmarks/bench_intinfer.py                      # ConvNet, batch 256, 1 BLAS thread
    python benchmarks/bench_intinfer.py --model lenet300 --batch 256 --seed 0

Trains (or reuses, within the process) the baseline model of ``baselines.baseline``,
converts it with ``quantize.integer_only`` calibrated on 500 training digits, checks that
the two agree on the test digits, and times one forward pass of a batch of test digits for
each, interleaved (medians over ``--repeats`` rounds; a shared machine is noisy).  The
ratio integer / float is what issue 13 asks to keep at or below 2 at batch 256.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

_pre = argparse.ArgumentParser(add_help=False)
_pre.add_argument("--threads", type=int, default=1)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(_pre.parse_known_args()[0].threads)  # before numpy loads BLAS
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_quant import median_times  # noqa: E402

from minicompress.baselines import baseline  # noqa: E402
from minicompress.data import load_mnist5k  # noqa: E402
from minicompress.quantize import integer_only  # noqa: E402


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    p.add_argument("--model", default="convnet", choices=["convnet", "lenet300", "lenet5"])
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--repeats", type=int, default=21)
    p.add_argument("--seed", type=int, default=0, help="baseline training seed")
    args = p.parse_args(argv)
    X, _, Xt, yt = load_mnist5k()
    model = baseline(args.model, seed=args.seed)
    im = integer_only(model, X[:500])
    xb = Xt[: args.batch]
    acc_f = 100 * float((model(Xt).argmax(1) == yt).mean())
    acc_i = 100 * float((im(Xt).argmax(1) == yt).mean())
    t = median_times({"float32": lambda: model(xb), "integer-only": lambda: im(xb)}, args.repeats)
    ratio = t["integer-only"] / t["float32"]
    print(f"{args.model}, batch {xb.shape[0]}, {os.environ['OPENBLAS_NUM_THREADS']} BLAS thread(s), "
          f"seed {args.seed}")
    print(f"  float32       {1e3 * t['float32']:8.2f} ms   accuracy {acc_f:.1f}%")
    print(f"  integer-only  {1e3 * t['integer-only']:8.2f} ms   accuracy {acc_i:.1f}%")
    print(f"  ratio integer / float: {ratio:.2f}x")
    return {"float_ms": 1e3 * t["float32"], "int_ms": 1e3 * t["integer-only"], "ratio": ratio}


if __name__ == "__main__":
    main()
