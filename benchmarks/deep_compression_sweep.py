"""The sweep behind figures/deep_compression_tradeoff.png, in the style of Han, Mao & Dally
(2016), Figure 6: accuracy loss against model size for pruning only, k-means quantization
only, pruning + quantization, and pruning + quantization + Huffman coding, on LeNet-300-100
and the bundled split.

    OPENBLAS_NUM_THREADS=1 python benchmarks/deep_compression_sweep.py --seed 0 \\
        --out figures/deep_compression_tradeoff.png

Sizes are the bits the stored model accounts (``metrics.model_size_bits(m, "auto")``, what
``save_model`` writes, without the npz container's per-array overhead), as a percentage of
the fp32 model; the loss is measured once on the 1,000-image test split (1 image = 0.1
point).  Every run fine-tunes on the training split only:

* pruning only: global magnitude pruning + 10 epochs at lr 0.01, masks held; float32
  survivors stored in a bitmask or CSR (``combine.prune_then_quantize(bits=32)``);
* quantization only: k-means to 2**b shared values, every weight (no pruning), 3 epochs of
  centroid fine-tuning; stored as the ``"codebook"`` format;
* pruning + quantization: ``combine.deep_compression`` (global sparsity s, b bits, 5-bit
  relative indices), sized as ``"relative"`` (P+Q) and as ``"huffman"`` (P+Q+H): the same
  models, so the same accuracy, two sizes.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from threadpoolctl import threadpool_limits

from minicompress import load_mnist5k, metrics
from minicompress.baselines import baseline
from minicompress.combine import deep_compression, prune_then_quantize
from minicompress.plots.deep import plot_compression_tradeoff

PRUNE_ONLY = (0.5, 0.7, 0.8, 0.9, 0.94, 0.96, 0.98)
QUANT_ONLY = (1, 2, 3, 4, 5, 6, 8)
BOTH_SPARSITY = (0.8, 0.9, 0.94, 0.96, 0.98)
BOTH_BITS = (2, 3, 4, 6)
FINE_TUNE = dict(epochs=10, lr=1e-2)
CENTROIDS = dict(centroid_epochs=3, centroid_lr=1e-5)


def sweep(seed: int, log=print) -> list[dict]:
    X, y, Xt, yt = load_mnist5k()
    dense = baseline("lenet300", seed=seed)
    ref_acc = metrics.accuracy(dense, Xt, yt)
    ref_bits = metrics.model_size_bits(dense, "fp32").total
    rows = []

    def add(method, setting, model, bits):
        acc = metrics.accuracy(model, Xt, yt)
        rows.append({"method": method, "setting": setting, "size_percent": 100 * bits / ref_bits,
                     "loss_points": 100 * (ref_acc - acc), "accuracy": acc})
        log(f"| {method} | {setting} | {100 * bits / ref_bits:.2f}% | {ref_bits / bits:.1f}x "
            f"| {100 * acc:.1f} | {100 * (ref_acc - acc):+.1f} |")

    log(f"LeNet300_100 seed {seed}: dense test accuracy {100 * ref_acc:.1f}%, {ref_bits:,} bits\n")
    log("| method | setting | size | ratio | test acc. % | loss pts |\n|---|---|---:|---:|---:|---:|")
    for s in PRUNE_ONLY:
        m = prune_then_quantize(dense, s, bits=32, scope="global", data=(X, y), rng=seed, **FINE_TUNE)
        add("pruning only", f"{s:.0%}", m, metrics.model_size_bits(m, "auto").total)
    for b in QUANT_ONLY:
        m, _ = deep_compression(dense, X, y, sparsity=0.0, bits=b, epochs=0, fmt="codebook", rng=seed,
                                **CENTROIDS)
        add("quantization only", f"{b} bits", m, metrics.model_size_bits(m, "auto").total)
    for s in BOTH_SPARSITY:
        for b in BOTH_BITS:
            m, report = deep_compression(dense, X, y, sparsity=s, scope="global", bits=b, rng=seed,
                                         **FINE_TUNE, **CENTROIDS)
            add("pruning + quantization", f"{s:.0%}, {b} bits", m, report["total"]["size_bits"]["P+Q"])
            add("pruning + quantization + Huffman", f"{s:.0%}, {b} bits", m, report["size_bits"])
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="figures/deep_compression_tradeoff.png")
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument("--replot", help="draw the figure from rows written by --json (no sweep)")
    args = parser.parse_args(argv)
    if args.replot:
        with open(args.replot) as fh:
            rows = json.load(fh)
    else:
        with threadpool_limits(limits=1):
            rows = sweep(args.seed)
    series = {}
    for method in ("pruning only", "quantization only", "pruning + quantization",
                   "pruning + quantization + Huffman"):
        mine = [r for r in rows if r["method"] == method]
        series[method] = (np.array([r["size_percent"] for r in mine]),
                          np.array([r["loss_points"] for r in mine]))
    plot_compression_tradeoff(series, args.out, budget=1.0, max_loss=5.0,
                              title=f"LeNet-300-100, bundled split, seed {args.seed} "
                                    "(after Han et al. 2016, Fig. 6)")
    print(f"\nwrote {args.out}")
    if args.json and not args.replot:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
