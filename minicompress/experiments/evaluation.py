"""Tour section 2.2 (evaluation): a masked model is neither smaller nor faster until its
storage format and its kernel change.

The ConvNet baseline gets 90% of its weights masked to zero (global magnitude), and the
same masked model is then measured four ways: stored dense fp32 (no smaller), stored CSR
or bitmask (smaller, but still run by the dense GEMM: no faster), and executed with CSR
kernels (:mod:`minicompress.formats.layers`); LeNet-300-100 with 95% of every layer masked is
run dense and sparse at batch 1 and 256.

:func:`sparse_speedup_sweep` times the dense and the CSR kernels side by side over
sparsities and batch sizes, in this process, with one BLAS thread (threadpoolctl):
scipy.sparse runs on one thread, so one BLAS thread compares like with like.
``benchmarks/bench_sparse.py`` prints it (``--threads`` to let the dense GEMM use more) and
:func:`make_figures` draws ``figures/sparse_speedup.png``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..formats import SparseConv2d, SparseLinear, to_sparse
from ..metrics import thread_settings
from ..nn import Conv2d, Linear
from ..nn._checks import check_int, check_rng
from ..prune import magnitude_mask, prune_model
from .scaffold import TourContext, blas_thread_count, blas_threads, measure

__all__ = ["tour_rows", "make_figures", "sparse_speedup_sweep", "crossover", "crossover_label",
           "time_side_by_side", "speedup_figure"]

TITLE = "evaluation (2.2): a mask alone is neither smaller nor faster; the format and the kernel are"

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
        measure(conv, f"{tag}: fp32, dense kernel", ctx, reference=ref),
        measure(conv, f"{tag}: CSR, dense kernel", ctx, reference=ref, fmt="csr"),
        measure(conv, f"{tag}: bitmask, dense kernel", ctx, reference=ref, fmt="bitmask"),
        measure(to_sparse(conv), f"{tag}: CSR, sparse kernel", ctx, reference=ref, fmt="auto"),
    ]
    ref = "LeNet300_100 (dense fp32)"
    mlp = _mask_layers(ctx.baseline("lenet300"), LAYER_SPARSITY)
    ctx.log(f"LeNet300_100: {LAYER_SPARSITY:.0%} of every layer's weights masked (no fine-tuning)")
    tag = f"LeNet300_100 {LAYER_SPARSITY:.0%}/layer"
    sparse = to_sparse(mlp)
    for batch in (1, 256):
        for model, run, fmt in ((mlp, "dense", "csr"), (sparse, "sparse", "auto")):
            rows.append(measure(model, f"{tag}: {run}, batch {batch}", ctx, reference=ref, fmt=fmt,
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


def speedup_figure(path, *, sparsities=FULL_SPARSITIES, repeats: int = 15, threads: int = 1, seed=0,
                   log=None, mark=None) -> tuple[Path, dict]:
    """Time :func:`sparse_speedup_sweep` for the Linear and the Conv2d layer with ``threads``
    BLAS threads and draw ``path``; returns ``(path, {layer title: sweep})``."""
    from ..plots.evaluation import plot_sparse_speedup

    sweeps, subtitles = {}, {}
    with blas_threads(threads):
        for kind in ("linear", "conv"):
            title = LAYER_TITLES[kind]
            sweeps[title] = sparse_speedup_sweep(kind, sparsities, repeats=repeats, rng=seed, log=log)
            sweeps[title]["blas_threads"] = blas_thread_count()
            cross = crossover_label(sparsities, sweeps[title]["speedup"])
            subtitles[title] = f"BLAS threads {threads}; {cross}"
    speedups = {title: sweep["speedup"] for title, sweep in sweeps.items()}
    return plot_sparse_speedup(sparsities, speedups, path, panels=subtitles, mark=mark), sweeps


def make_figures(ctx: TourContext, outdir) -> list:
    """``sparse_speedup.png``: the sweep with one BLAS thread (the same numbers as
    ``python benchmarks/bench_sparse.py``)."""
    quick = {"sparsities": QUICK_SPARSITIES, "repeats": 3} if ctx.quick else {}
    with ctx.step("timing dense vs CSR layers, 1 BLAS thread"):
        path, sweeps = speedup_figure(Path(outdir) / "sparse_speedup.png", seed=ctx.seed, mark=ctx.mark,
                                      **quick)
    for title, sweep in sweeps.items():
        ctx.log(f"{title}: " + crossover_label(sweep["sparsities"], sweep["speedup"]))
    return [path]


def crossover_label(sparsities, speedups: dict) -> str:
    """``"crossover b1 92%, b32 75%, ..."`` for a figure subtitle."""
    cross = {b: crossover(sparsities, v) for b, v in speedups.items()}
    return "crossover " + ", ".join(f"b{b} {'never' if c is None else f'{c:.0%}'}" for b, c in cross.items())
