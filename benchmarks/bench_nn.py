"""Speed of one training step of the source text's ConvNet: minicompress vs PyTorch CPU.

One step = forward + cross-entropy + backward + SGD(momentum 0.9) update, batch 64, float32,
on real digits from the bundled split.  Prints

- ms per step for minicompress, and the share of it spent in the six GEMMs of the step
  (each timed on its own, with the operands and memory layouts of the real step);
- when torch is importable: ms per step of the same model, batch and optimiser in torch,
  with the same number of threads, and the ratio minicompress / torch (target <= 2.5).

The two are timed side by side, round after round, so machine load hits both alike.

    python benchmarks/bench_nn.py                 # all cores
    python benchmarks/bench_nn.py --threads 1     # one thread for BLAS and torch
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="BLAS / torch threads (default: all)")
    p.add_argument("--batch", type=int, default=64, help="batch size (default: 64)")
    p.add_argument("--steps", type=int, default=20, help="steps per timed round (default: 20)")
    p.add_argument("--rounds", type=int, default=7, help="timed rounds; the median is reported (default: 7)")
    return p.parse_args(argv)


ARGS = parse_args()
# BLAS reads its thread count when numpy is first imported: set it before that.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from minicompress import ConvNet, load_mnist5k  # noqa: E402
from minicompress.nn import SGD, cross_entropy  # noqa: E402


def ms_per_call(fn, steps: int) -> float:
    """Time ``steps`` calls of fn; milliseconds per call."""
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    return 1e3 * (time.perf_counter() - t0) / steps


def numpy_step(model, opt, xb, yb):
    def step():
        model.zero_grad()
        logits = model.forward(xb)
        _, dlogits = cross_entropy(logits, yb)
        model.backward(dlogits)
        opt.step()

    return step


def gemm_calls(model, xb, yb):
    """The six matrix products of one ConvNet step, with the real step's operands."""
    model.zero_grad()
    logits = model.forward(xb)
    _, dlogits = cross_entropy(logits, yb)
    x_fc, w_fc, _ = model.fc._cache
    _, cols, w_conv, *_ = model.conv1._cache
    c_out = w_conv.shape[0]
    w_flat = w_conv.reshape(c_out, -1)
    # the conv's upstream gradient, in the (N, C_out, H'*W') layout its backward uses
    dout_conv = model.relu.backward(model.pool.backward(model.flatten.backward(dlogits @ w_fc)))
    d = dout_conv.reshape(len(xb), c_out, -1)
    cols_t = cols.transpose(0, 2, 1)
    return {  # cols: (N, C*kh*kw, H'*W'); each conv product is batched over the N images
        "conv fwd  W @ cols": lambda: w_flat @ cols,
        "conv bwd  D @ cols^T": lambda: d @ cols_t,
        "conv bwd  W^T @ D": lambda: w_flat.T @ d,
        "fc fwd    x @ W^T": lambda: x_fc @ w_fc.T,
        "fc bwd    dout @ W": lambda: dlogits @ w_fc,
        "fc bwd    dout^T @ x": lambda: dlogits.T @ x_fc,
    }


def torch_step(state, xb, yb, threads):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    nn = torch.nn

    class ConvNetTorch(nn.Module):  # the source text's, section 3.1.2
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 16, 3)
            self.relu = nn.ReLU()
            self.pool = nn.MaxPool2d(2)
            self.fc = nn.Linear(16 * 13 * 13, 10)

        def forward(self, x):
            x = self.pool(self.relu(self.conv1(x)))
            return self.fc(x.view(-1, 16 * 13 * 13))

    model = ConvNetTorch()
    # the same weights, moved by key with no transposes
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = torch.from_numpy(xb), torch.from_numpy(yb)

    def step():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    with torch.no_grad():
        logits = model(x).numpy()
    return step, logits, torch.__version__


def main() -> None:
    X, y, _, _ = load_mnist5k()
    xb, yb = np.ascontiguousarray(X[: ARGS.batch]), y[: ARGS.batch]
    model = ConvNet(rng=0)
    state = model.state_dict()
    reference_logits = model(xb)
    opt = SGD(model, lr=0.01, momentum=0.9)
    ours = numpy_step(model, opt, xb, yb)
    gemms = gemm_calls(ConvNet(rng=0), xb, yb)
    theirs = torch_step(state, xb, yb, ARGS.threads)

    print(f"ConvNet training step, batch {ARGS.batch}, float32, {ARGS.threads} thread(s), "
          f"numpy {np.__version__}")
    if theirs is not None:
        t_step, t_logits, version = theirs
        diff = float(np.abs(t_logits - reference_logits).max())
        print(f"torch {version}: same weights give the same logits (max |diff| = {diff:.2e})")

    for _ in range(3):  # warm-up: caches, BLAS threads, torch's allocator
        ours()
        if theirs is not None:
            t_step()
    rows = {"step": [], "gemm": [], "torch": []}
    per_gemm = {name: [] for name in gemms}
    for _ in range(ARGS.rounds):
        rows["step"].append(ms_per_call(ours, ARGS.steps))
        times = {name: ms_per_call(fn, ARGS.steps) for name, fn in gemms.items()}
        for name, t in times.items():
            per_gemm[name].append(t)
        rows["gemm"].append(sum(times.values()))
        if theirs is not None:
            rows["torch"].append(ms_per_call(t_step, ARGS.steps))

    step_ms, gemm_ms = np.median(rows["step"]), np.median(rows["gemm"])
    print(f"\nminicompress   {step_ms:7.2f} ms/step  (median of {ARGS.rounds} rounds x {ARGS.steps} steps)")
    print(f"  in GEMM      {gemm_ms:7.2f} ms/step  = {100 * gemm_ms / step_ms:4.1f}% of the step")
    for name, ts in per_gemm.items():
        print(f"    {name:22s} {np.median(ts):6.3f} ms")
    if theirs is None:
        print("\ntorch is not installed: skipped the PyTorch comparison (pip install torch)")
        return
    torch_ms = np.median(rows["torch"])
    ratio = step_ms / torch_ms
    print(f"torch          {torch_ms:7.2f} ms/step")
    verdict = "met" if ratio <= 2.5 else "MISSED"
    print(f"ratio minicompress / torch = {ratio:.2f}x  (target <= 2.5x: {verdict})")


if __name__ == "__main__":
    main()
