"""The sweep behind figures/deep_compression_tradeoff.png, in the style of Han, Mao & Dally
(2016), Figure 6: accuracy loss against model size for pruning only, k-means quantization
only, pruning + quantization, and pruning + quantization + Huffman coding, on LeNet-300-100
and the bundled split.

    OPENBLAS_NUM_THREADS=1 python benchmarks/deep_compression_sweep.py --seed 0 \\
        --out figures/deep_compression_tradeoff.png

The sweep is :func:`minicompress.experiments.deep.tradeoff_sweep` (the one
``python -m minicompress figures`` draws).  Sizes are the bits the stored model accounts
(``metrics.model_size_bits(m, "auto")``, what
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

from threadpoolctl import threadpool_limits

from minicompress.experiments.deep import tradeoff_figure, tradeoff_sweep
from minicompress.experiments.scaffold import TourContext


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
            rows = tradeoff_sweep(TourContext(seed=args.seed))
    print(f"LeNet300_100 seed {args.seed}\n\n| method | setting | size | ratio | test acc. % | loss pts |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['method']} | {r['setting']} | {r['size_percent']:.2f}% | {100 / r['size_percent']:.1f}x "
              f"| {100 * r['accuracy']:.1f} | {r['loss_points']:+.1f} |")
    tradeoff_figure(rows, args.out, seed=args.seed)
    print(f"\nwrote {args.out}")
    if args.json and not args.replot:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
