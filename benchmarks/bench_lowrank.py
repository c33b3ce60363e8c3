"""Inference speed of factorised layers vs dense ones, next to the MAC (FLOP) ratio.

    python benchmarks/bench_lowrank.py                 # 1 BLAS thread (the default)
    python benchmarks/bench_lowrank.py --threads 2     # let the BLAS use 2 threads

For each layer, the dense layer and its factorisations run *interleaved* (one call of each
per round, in turn), so that load on a shared machine hits all of them alike; the table
shows the median time per call and two ratios: dense MACs / factorised MACs (what the
arithmetic promises) and dense time / factorised time (what NumPy delivers).  A factorised
Linear(in, out) at rank r does r*(in+out) MACs per example instead of in*out, so it can be
faster only for r < in*out/(in+out).  Weights are random: speed does not depend on them.

BLAS threads: with more than one, OpenBLAS splits only the *large* dense products, and on a
loaded machine (more busy processes than cores) the threads wait for each other: the dense
layer then looks far slower than it is and the speed-up is inflated (we saw 36x at rank 54,
where the MAC ratio is 4).  One thread compares like with like.
"""

from __future__ import annotations

import argparse
import time
import warnings

from _setup import pin_threads  # before numpy: pins BLAS threads


def median_times(candidates: dict, x, rounds: int) -> dict:
    import numpy as np

    for f in candidates.values():
        f(x)  # warm-up
    times = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, f in candidates.items():
            t0 = time.perf_counter()
            f(x)
            times[name].append(time.perf_counter() - t0)
    return {name: float(np.median(t)) for name, t in times.items()}


def run(title: str, dense, variants: dict, x, rounds: int) -> list[str]:
    from minicompress.metrics import flops

    candidates = {"dense": dense, **variants}
    t = median_times(candidates, x, rounds)
    m = {name: flops(layer, x.shape[1:]).dense for name, layer in candidates.items()}
    lines = [f"\n{title}  (batch {x.shape[0]}, median of {rounds} interleaved rounds)",
             "| layer | params | MACs/example | MAC ratio dense/fact | ms/batch | speed-up dense/fact |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, layer in candidates.items():
        lines.append(f"| {name} | {layer.num_parameters():,} | {m[name]:,} | {m['dense'] / m[name]:.2f}"
                     f" | {1e3 * t[name]:.2f} | {t['dense'] / t[name]:.2f} |")
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30, help="timed rounds (default 30)")
    parser.add_argument("--batch", type=int, default=256, help="batch size (default 256)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    args = parser.parse_args(argv)
    pin_threads(args.threads)
    import numpy as np

    from minicompress.lowrank import break_even_rank, factorize_conv, factorize_linear, tucker2_conv
    from minicompress.nn import Conv2d, Linear

    print(f"BLAS threads: {args.threads}")
    rng = np.random.default_rng(0)
    warnings.simplefilter("ignore", UserWarning)  # ranks past break-even are shown on purpose

    fc1 = Linear(784, 300, rng=0)  # LeNet300_100's first layer
    x = rng.standard_normal((args.batch, 784)).astype(np.float32)
    lines = run(f"Linear(784, 300), break-even rank {break_even_rank(fc1):.1f}", fc1,
                {f"SVD r={r}": factorize_linear(fc1, r) for r in (16, 54, 100, 150, 200, 250)},
                x, args.rounds)

    fc = Linear(2704, 10, rng=0)  # ConvNet's fc
    x = rng.standard_normal((args.batch, 2704)).astype(np.float32)
    lines += run(f"Linear(2704, 10), break-even rank {break_even_rank(fc):.1f}", fc,
                 {f"SVD r={r}": factorize_linear(fc, r) for r in (2, 4, 8)}, x, args.rounds)

    conv2 = Conv2d(6, 16, 5, rng=0)  # LeNet5's second conv, on its 14 x 14 input
    x = rng.standard_normal((args.batch, 6, 14, 14)).astype(np.float32)
    lines += run("Conv2d(6, 16, 5) on 14x14", conv2,
                 {"SVD r=4": factorize_conv(conv2, 4), "SVD r=8": factorize_conv(conv2, 8),
                  "Tucker-2 (8, 3)": tucker2_conv(conv2, (8, 3)),
                  "Tucker-2 (12, 4)": tucker2_conv(conv2, (12, 4))}, x, max(5, args.rounds // 3))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
