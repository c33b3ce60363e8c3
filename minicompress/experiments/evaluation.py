"""Tour section 2.2 (evaluation): a masked model is neither smaller nor faster until its
storage format and its kernel change.

The ConvNet baseline gets 90% of its weights masked to zero (global magnitude), and the
same masked model is then measured four ways: stored dense fp32 (no smaller), stored CSR
or bitmask (smaller, but still run by the dense GEMM: no faster), and executed with CSR
kernels (:mod:`minicompress.formats.layers`); LeNet-300-100 with 95% of every layer masked is
run dense and sparse at batch 1 and 256.

:func:`sparse_speedup_sweep` times the dense and the CSR kernels side by side over
sparsities and batch sizes; ``benchmarks/bench_sparse.py`` prints it and
:func:`make_figures` draws ``figures/sparse_speedup.png``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ..formats import SparseConv2d, SparseLinear, to_sparse
from ..metrics import thread_settings
from ..nn import Conv2d, Linear
from ..nn._checks import check_int, check_rng
from ..pipeline import TourContext, measure
from ..prune import magnitude_mask, prune_model

__all__ = ["tour_rows", "make_figures", "sparse_speedup_sweep", "sweep_in_fresh_process",
           "crossover", "crossover_label", "time_side_by_side"]

SPARSITY = 0.9  # ConvNet, global magnitude
LAYER_SPARSITY = 0.95  # LeNet-300-100, every layer
FULL_SPARSITIES = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)
QUICK_SPARSITIES = (0.0, 0.5, 0.9, 0.99)
BATCHES = (1, 32, 256)


def _mask_global(model, sparsity: float):
    """Global magnitude pruning of every weight of ``model``, in place (section 4.1.1)."""
    prune_model(model, sparsity, scope="global")
    return model


def _mask_layers(model, sparsity: float):
    """The same fraction of every layer's weights pruned by magnitude, in place."""
    prune_model(model, sparsity, scope="layer")
    return model


def tour_rows(ctx: TourContext) -> list[dict]:
    """Masks alone change neither size nor speed; the format and the kernel do."""
    ref = "ConvNet (dense fp32)"  # the baseline section's rows
    conv = _mask_global(ctx.baseline("convnet"), SPARSITY)
    ctx.log(f"ConvNet: {SPARSITY:.0%} of the weights masked to zero (global magnitude, no fine-tuning)")
    tag = f"ConvNet {SPARSITY:.0%} masked"
    rows = [
        measure(conv, f"{tag}, stored fp32, run dense", ctx, reference=ref),
        measure(conv, f"{tag}, stored CSR, run dense", ctx, reference=ref, fmt="csr"),
        measure(conv, f"{tag}, stored bitmask, run dense", ctx, reference=ref, fmt="bitmask"),
        measure(to_sparse(conv), f"{tag}, CSR, run sparse", ctx, reference=ref, fmt="auto"),
    ]
    ref = "LeNet300_100 (dense fp32)"
    mlp = _mask_layers(ctx.baseline("lenet300"), LAYER_SPARSITY)
    ctx.log(f"LeNet300_100: {LAYER_SPARSITY:.0%} of every layer's weights masked (no fine-tuning)")
    tag = f"LeNet300 {LAYER_SPARSITY:.0%}/layer masked, CSR"
    sparse = to_sparse(mlp)
    for batch in (1, 256):
        for model, run, fmt in ((mlp, "dense", "csr"), (sparse, "sparse", "auto")):
            rows.append(measure(model, f"{tag}, run {run}, batch {batch}", ctx, reference=ref, fmt=fmt,
                                latency_batch=batch))
    return rows


# ----------------------------------------------------------------------------- timing
def _per_call(fn, x, number: int) -> float:
    t0 = time.perf_counter()
    for _ in range(number):
        fn(x)
    return (time.perf_counter() - t0) / number


def time_side_by_side(dense, sparse, x, *, repeats: int, budget_s: float = 1e-3):
    """Seconds per call of ``dense(x)`` and ``sparse(x)``, measured alternately (dense,
    sparse, dense, ...) so both see the same machine load; the minimum over ``repeats``
    (as ``timeit`` advises: other processes only ever add time, so the minimum is the
    least disturbed estimate of each kernel's own cost).  Each measurement loops
    ``number`` calls, chosen so one measurement takes about ``budget_s``."""
    slowest = max(_per_call(dense, x, 1), _per_call(sparse, x, 1))  # also a warm-up
    number = max(1, int(budget_s / max(slowest, 1e-7)))
    d, s = np.empty(repeats), np.empty(repeats)
    for r in range(repeats):
        d[r] = _per_call(dense, x, number)
        s[r] = _per_call(sparse, x, number)
    return float(d.min()), float(s.min())


def _layers(kind: str, rng):
    if kind == "linear":  # LeNet-300-100's first layer
        return Linear(784, 300, rng=rng), (784,)
    if kind == "conv":  # a 3x3 conv on the ConvNet's 13x13 feature maps, 16 -> 32 channels
        return Conv2d(16, 32, 3, padding=1, rng=rng), (16, 13, 13)
    raise ValueError(f"kind must be 'linear' or 'conv'; got {kind!r}")


LAYER_TITLES = {"linear": "Linear 784->300 (LeNet-300-100 fc1)", "conv": "Conv2d 16->32, 3x3, on 13x13"}


def sparse_speedup_sweep(kind="linear", sparsities=FULL_SPARSITIES, batches=BATCHES, *,
                         repeats: int = 7, rng=0, log=None) -> dict:
    """Dense vs CSR forward time of one layer over ``sparsities`` x ``batches``.

    Returns ``{"dense_s": {batch: array}, "sparse_s": {...}, "speedup": {...},
    "sparsities": array, "threads": thread_settings()}``; speedup = dense / sparse time.
    """
    repeats = check_int(repeats, "repeats", low=1)
    rng = check_rng(rng)
    base, in_shape = _layers(kind, rng)
    sparse_cls = SparseLinear if kind == "linear" else SparseConv2d
    out = {"sparsities": np.asarray(sparsities, dtype=float), "threads": thread_settings(),
           "dense_s": {}, "sparse_s": {}, "speedup": {}}
    inputs = {b: rng.standard_normal((b, *in_shape)).astype(np.float32) for b in batches}
    for b in batches:
        out["dense_s"][b], out["sparse_s"][b] = np.empty(len(sparsities)), np.empty(len(sparsities))
    original = base.params["weight"].copy()
    for i, s in enumerate(sparsities):
        base.params["weight"][...] = original
        base.params["weight"] *= magnitude_mask(base.params["weight"], s)
        sparse = sparse_cls.from_dense(base)
        for b in batches:
            d, t = time_side_by_side(base, sparse, inputs[b], repeats=repeats)
            out["dense_s"][b][i], out["sparse_s"][b][i] = d, t
            if log:
                log(f"  {kind:6s} sparsity {s:5.1%} batch {b:3d}: dense {1e3 * d:8.3f} ms  "
                    f"sparse {1e3 * t:8.3f} ms  speedup {d / t:6.2f}x")
    out["speedup"] = {b: out["dense_s"][b] / out["sparse_s"][b] for b in batches}
    return out


def crossover(sparsities, speedup) -> float | None:
    """The sparsity from which the sparse kernel is faster at every measured point above:
    linear interpolation of log(speedup) between the last losing and the first winning
    point.  ``None`` if sparse never wins at the highest sparsity; 0.0 if it always wins."""
    s, v = np.asarray(sparsities, dtype=float), np.log(np.asarray(speedup, dtype=float))
    if v[-1] <= 0:
        return None
    losing = np.nonzero(v <= 0)[0]
    if losing.size == 0:
        return 0.0
    i = losing[-1]
    return float(s[i] + (s[i + 1] - s[i]) * (0 - v[i]) / (v[i + 1] - v[i]))


def _sweep_json(kind, sparsities, repeats, seed) -> str:
    """The child's side of :func:`sweep_in_fresh_process`: the sweep as one JSON line."""
    r = sparse_speedup_sweep(kind, sparsities, repeats=repeats, rng=seed)
    out = {key: {b: v.tolist() for b, v in r[key].items()} for key in ("speedup", "dense_s", "sparse_s")}
    return json.dumps({**out, "threads": r["threads"]})


def sweep_in_fresh_process(kind, sparsities, *, repeats: int, seed: int = 0, threads: int = 1) -> dict:
    """:func:`sparse_speedup_sweep` in a child Python whose BLAS is pinned to ``threads``
    (the thread count is read when numpy loads, so it cannot be changed in this process;
    scipy.sparse runs on one thread, so one BLAS thread compares like with like)."""
    threads = check_int(threads, "threads", low=1)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")]))
    env.update({var: str(threads) for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
    args = f"{kind!r}, {tuple(float(x) for x in sparsities)!r}, {int(repeats)}, {int(seed)}"
    code = f"from minicompress.experiments.evaluation import _sweep_json; print(_sweep_json({args}))"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the timing subprocess failed:\n{done.stderr}")
    result = json.loads(done.stdout.splitlines()[-1])
    for key in ("speedup", "dense_s", "sparse_s"):
        result[key] = {int(b): np.array(v) for b, v in result[key].items()}
    result["sparsities"] = np.asarray(sparsities, dtype=float)
    return result


def make_figures(ctx: TourContext, outdir) -> list:
    """figures/sparse_speedup.png: the sweep with one BLAS thread, in a fresh process
    (the same numbers as ``python benchmarks/bench_sparse.py``)."""
    from ..plots.evaluation import plot_sparse_speedup

    sparsities = QUICK_SPARSITIES if ctx.quick else FULL_SPARSITIES
    repeats = 3 if ctx.quick else 15
    speedups, subtitles = {}, {}
    for kind in ("linear", "conv"):
        ctx.log(f"timing dense vs sparse {kind} layer (1 BLAS thread, fresh process) ...")
        sweep = sweep_in_fresh_process(kind, sparsities, repeats=repeats, seed=ctx.seed)
        speedups[LAYER_TITLES[kind]] = sweep["speedup"]
        subtitles[LAYER_TITLES[kind]] = "BLAS threads 1; " + crossover_label(sparsities, sweep["speedup"])
        ctx.log("  " + subtitles[LAYER_TITLES[kind]])
    return [plot_sparse_speedup(sparsities, speedups, Path(outdir) / "sparse_speedup.png", panels=subtitles)]


def crossover_label(sparsities, speedups: dict) -> str:
    """``"crossover b1 92%, b32 75%, ..."`` for a figure subtitle."""
    cross = {b: crossover(sparsities, v) for b, v in speedups.items()}
    return "crossover " + ", ".join(f"b{b} {'never' if c is None else f'{c:.0%}'}" for b, c in cross.items())
