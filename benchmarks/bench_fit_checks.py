"""What fit's safety checks cost per training step: the finite-parameter check after every
update (``_check_parameters``) next to one SGD step of the same model.

    python benchmarks/bench_fit_checks.py              # 1 BLAS thread (the default)
    python benchmarks/bench_fit_checks.py --threads 2

The step and the check run interleaved (one call of each per round), so load on a shared
machine hits both alike; the table shows the median time per call and the check's cost
as a share of the step.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (default: 1)")
    p.add_argument("--batch", type=int, default=64, help="batch size (default: 64)")
    p.add_argument("--rounds", type=int, default=30, help="timed rounds; the median is reported")
    return p.parse_args(argv)


ARGS = parse_args()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)  # before numpy is imported

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from minicompress import ConvNet, load_mnist5k  # noqa: E402
from minicompress.nn import SGD, cross_entropy  # noqa: E402
from minicompress.nn.models import LeNet300_100  # noqa: E402
from minicompress.nn.train import _check_parameters  # noqa: E402


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return 1e3 * (time.perf_counter() - t0)


def sgd_step(model, opt, xb, yb):
    def step():
        model.zero_grad()
        _, dlogits = cross_entropy(model.forward(xb), yb)
        model.backward(dlogits)
        opt.step()

    return step


def main() -> None:
    X, y, _, _ = load_mnist5k()
    xb, yb = np.ascontiguousarray(X[: ARGS.batch]), y[: ARGS.batch]
    print(f"batch {ARGS.batch}, float32, {ARGS.threads} thread(s), median of {ARGS.rounds} rounds")
    print(f"{'model':<14} {'parameters':>10} {'step ms':>8} {'check ms':>9} {'check/step':>10}")
    for name, model in (("ConvNet", ConvNet(rng=0)), ("LeNet300_100", LeNet300_100(rng=0))):
        step = sgd_step(model, SGD(model, lr=0.01, momentum=0.9), xb, yb)
        check = functools.partial(_check_parameters, model, 1, 1)
        for _ in range(3):
            step()
        steps, checks = [], []
        for _ in range(ARGS.rounds):
            steps.append(timed(step))
            checks.append(timed(check))
        s, c = float(np.median(steps)), float(np.median(checks))
        print(f"{name:<14} {model.num_parameters():>10} {s:>8.3f} {c:>9.4f} {100 * c / s:>9.2f}%")


if __name__ == "__main__":
    main()
