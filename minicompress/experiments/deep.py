"""Deep Compression (Han, Mao & Dally 2016) in the tour: LeNet300_100 pruned, weight-shared
by k-means and Huffman-coded by :func:`~minicompress.combine.deep_compression`, at the
paper's setting and at the setting chosen on this split; and the figure in the style of
the paper's Figure 6 (``deep_compression_tradeoff.png``): accuracy loss against model size
for pruning only, k-means quantization only, pruning + quantization, + Huffman coding.

The settings (:data:`CONFIGS`) are shared with ``benchmarks/deep_compression.py``, which
runs them over seeds, writes and reloads the files, and searches :data:`GRIDS` on a
validation split (``--select``) to choose the ``tuned`` one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import metrics
from ..combine import deep_compression, prune_then_quantize
from .scaffold import TourContext, measure

__all__ = ["CONFIGS", "GRIDS", "TRAINING", "deep_compressed", "tour_rows", "tradeoff_sweep",
           "tradeoff_figure", "make_figures"]

CONFIGS = {
    # Han et al.'s Table 1 / 2 for LeNet-300-100: 8% / 9% / 26% kept, 6-bit shared weights,
    # 5-bit relative indices
    ("lenet300", "paper"): dict(sparsity={"fc1": 0.92, "fc2": 0.91, "fc3": 0.74}, bits=6, index_bits=5),
    # chosen on a validation split of the training data (benchmarks/deep_compression.py --select)
    ("lenet300", "tuned"): dict(sparsity={"fc1": 0.975, "fc2": 0.85, "fc3": 0.5}, bits=4, index_bits="auto"),
    # Han et al.'s Table 3 (LeNet-5): conv 66% / 12% kept at 8 bits, fc 8% / 19% at 5 bits; our
    # conv1 has 150 weights (theirs 500): 99 survivors cannot fill 256 clusters, so 6 bits there
    ("lenet5", "paper"): dict(sparsity={"conv1": 0.34, "conv2": 0.88, "fc1": 0.92, "fc2": 0.81, "fc3": 0.81},
                              bits={"conv1": 6, "conv2": 8, "fc1": 5, "fc2": 5, "fc3": 5}),
    ("lenet5", "tuned"): dict(sparsity={"conv1": 0.6, "conv2": 0.9, "fc1": 0.97, "fc2": 0.92, "fc3": 0.8},
                              bits=3, index_bits="auto"),
}
#: the settings the benchmark's --select tries (index_bits="auto" only changes the storage)
GRIDS = {
    "lenet300": [CONFIGS[("lenet300", "paper")]]
    + [dict(sparsity=s, scope="global", bits=b) for s in (0.94, 0.95, 0.96) for b in (3, 4, 5)]
    + [dict(sparsity=0.94, scope="global", bits=5, index_bits="auto"),
       dict(sparsity={"fc1": 0.975, "fc2": 0.85, "fc3": 0.5}, bits=5, index_bits="auto"),
       dict(sparsity={"fc1": 0.97, "fc2": 0.9, "fc3": 0.6}, bits=5, index_bits="auto"),
       dict(sparsity={"fc1": 0.975, "fc2": 0.85, "fc3": 0.5}, bits=4, index_bits="auto")],
    "lenet5": [dict(CONFIGS[("lenet5", "paper")], index_bits="auto")]
    + [dict(sparsity={"conv1": 0.5, "conv2": 0.85, "fc1": 0.96, "fc2": 0.9, "fc3": 0.7}, bits=b,
            index_bits="auto") for b in (4, 5)]
    + [dict(sparsity={"conv1": 0.5, "conv2": 0.9, "fc1": 0.97, "fc2": 0.9, "fc3": 0.7}, bits=4,
            index_bits="auto"),
       dict(sparsity={"conv1": 0.6, "conv2": 0.9, "fc1": 0.97, "fc2": 0.92, "fc3": 0.8}, bits=3,
            index_bits="auto")],
}
#: the fine-tunings of every run: deep_compression's defaults
TRAINING = dict(epochs=10, lr=1e-2, centroid_epochs=3, centroid_lr=1e-5)

LABELS = {"lenet300": "LeNet300_100", "lenet5": "LeNet5"}


def deep_compressed(ctx: TourContext, name: str, config: str):
    """``(model, report)`` of :func:`~minicompress.combine.deep_compression` on the baseline
    ``name`` at ``CONFIGS[(name, config)]``, fine-tuned on the training split (one epoch of
    each fine-tuning in a quick run); cached per context."""
    def make():
        quick = dict(epochs=1, centroid_epochs=1) if ctx.quick else {}
        X, y = ctx.train_data()
        with ctx.step(f"{LABELS[name]} Deep Compression ({config})"):
            return deep_compression(ctx.baseline(name), X, y, rng=ctx.seed,
                                    **{**TRAINING, **CONFIGS[(name, config)], **quick})

    return ctx.cached(("deep", name, config), make)


def tour_rows(ctx: TourContext, *, reference: str) -> list[dict]:
    """LeNet300_100 at the paper's setting and at the tuned one, stored Huffman-coded."""
    rows = []
    for config, label in (("paper", "paper setting"), ("tuned", "tuned setting")):
        model, _ = deep_compressed(ctx, "lenet300", config)
        rows.append(measure(model, f"LeNet300_100 Deep Compression, {label}", ctx, reference=reference,
                            fmt="auto"))
    return rows


PRUNE_ONLY = (0.5, 0.7, 0.8, 0.9, 0.94, 0.96, 0.98)
QUANT_ONLY = (1, 2, 3, 4, 5, 6, 8)
BOTH_SPARSITY = (0.8, 0.9, 0.94, 0.96, 0.98)
BOTH_BITS = (2, 3, 4, 6)


def tradeoff_sweep(ctx: TourContext, log=None) -> list[dict]:
    """Han et al.'s Figure 6 on LeNet300_100: one row per (method, setting) with the stored
    size as a % of the fp32 model (``metrics.model_size_bits(m, "auto")``, the arrays
    ``save_model`` writes) and the test accuracy loss in points.

    * pruning only: global magnitude pruning + 10 epochs at lr 0.01, masks held, float32
      survivors in a bitmask or CSR (``combine.prune_then_quantize(bits=32)``);
    * quantization only: k-means to 2**b shared values, every weight, 3 epochs of centroid
      fine-tuning, stored as ``"codebook"``;
    * pruning + quantization: ``deep_compression`` (global sparsity s, b bits, 5-bit relative
      indices), sized as ``"relative"`` (P+Q) and as ``"huffman"`` (P+Q+H): the same models.
    A quick run tries one setting of each with one epoch of fine-tuning.
    """
    def make():
        X, y = ctx.train_data()
        dense = ctx.baseline("lenet300")
        ref_acc, ref_bits = metrics.accuracy(dense, ctx.data.X_test, ctx.data.y_test), \
            metrics.model_size_bits(dense, "fp32").total
        tune = dict(epochs=ctx.epochs(TRAINING["epochs"], 1), lr=TRAINING["lr"])
        cents = dict(centroid_epochs=ctx.epochs(TRAINING["centroid_epochs"], 1),
                     centroid_lr=TRAINING["centroid_lr"])
        pick = (lambda grid: grid[:1]) if ctx.quick else (lambda grid: grid)
        rows = []

        def add(method, setting, model, bits):
            acc = metrics.accuracy(model, ctx.data.X_test, ctx.data.y_test)
            rows.append({"method": method, "setting": setting, "size_percent": 100 * bits / ref_bits,
                         "loss_points": 100 * (ref_acc - acc), "accuracy": acc})

        with ctx.step("Deep Compression trade-off sweep (Han et al. Figure 6)"):
            for s in pick(PRUNE_ONLY):
                m = prune_then_quantize(dense, s, bits=32, scope="global", data=(X, y), rng=ctx.seed, **tune)
                add("pruning only", f"{s:.0%}", m, metrics.model_size_bits(m, "auto").total)
            for b in pick(QUANT_ONLY):
                m, _ = deep_compression(dense, X, y, sparsity=0.0, bits=b, epochs=0, fmt="codebook",
                                        rng=ctx.seed, **cents)
                add("quantization only", f"{b} bits", m, metrics.model_size_bits(m, "auto").total)
            for s in pick(BOTH_SPARSITY):
                for b in pick(BOTH_BITS):
                    m, report = deep_compression(dense, X, y, sparsity=s, scope="global", bits=b,
                                                 rng=ctx.seed, **tune, **cents)
                    setting = f"{s:.0%}, {b} bits"
                    add("pruning + quantization", setting, m, report["total"]["size_bits"]["P+Q"])
                    add("pruning + quantization + Huffman", setting, m, report["size_bits"])
        return rows

    return ctx.cached(("deep_tradeoff",), make)


METHODS = ("pruning only", "quantization only", "pruning + quantization", "pruning + quantization + Huffman")


def tradeoff_figure(rows: list[dict], path, *, seed: int, mark: str | None = None) -> Path:
    """Draw :func:`tradeoff_sweep`'s rows: one line per method (its Pareto front)."""
    from ..plots.deep import plot_compression_tradeoff

    series = {m: (np.array([r["size_percent"] for r in rows if r["method"] == m]),
                  np.array([r["loss_points"] for r in rows if r["method"] == m])) for m in METHODS}
    return plot_compression_tradeoff(series, path, budget=1.0, max_loss=5.0, mark=mark,
                                     title=f"LeNet-300-100, bundled split, seed {seed} "
                                           "(after Han et al. 2016, Fig. 6)")


def make_figures(ctx: TourContext, outdir) -> list[Path]:
    """``deep_compression_tradeoff.png``."""
    return [tradeoff_figure(tradeoff_sweep(ctx), Path(outdir) / "deep_compression_tradeoff.png",
                            seed=ctx.seed, mark=ctx.mark)]
