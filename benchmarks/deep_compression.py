"""Deep Compression (Han, Mao & Dally 2016) on the bundled split: compress a baseline with
combine.deep_compression, save it with formats.save_model(..., "auto") (its layers hold
"huffman" encodings), reload the file into a fresh float model with load_model, and compare
with the same baseline saved as fp32: bytes on disk, bits accounted, test accuracy.

    OPENBLAS_NUM_THREADS=1 python benchmarks/deep_compression.py --model lenet300 --seeds 0 1 2
    OPENBLAS_NUM_THREADS=1 python benchmarks/deep_compression.py --model lenet300 --config paper

Prints one row per seed, their mean, and Table 2 (per layer, P+Q and P+Q+H) of the first
seed.  ``--config paper`` is Han et al.'s setting (LeNet-300-100: 8% / 9% / 26% kept, 6-bit
shared weights, 5-bit indices); ``tuned`` (default) is the setting chosen on this split by

    OPENBLAS_NUM_THREADS=1 python benchmarks/deep_compression.py --model lenet300 --select

which never looks at the test split: for seeds 0-2, a twin of the baseline is trained on
3,200 of the 4,000 training images (``combine.validation_split``, 20% held out), every
setting of ``GRIDS`` is applied to it (fine-tuning on the 3,200), and the loss is measured
on the 800 held out.  ``tuned`` is the most compressed setting (accounted bits) whose mean
validation loss is at most 0.5 point.  Every option can be overridden on the command line.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import numpy as np
from threadpoolctl import threadpool_limits

from minicompress import SGD, fit, formats, load_mnist5k, metrics
from minicompress.baselines import BATCH_SIZE, DEFAULT_EPOCHS, LR, MOMENTUM, baseline, build_model
from minicompress.combine import deep_compression, deep_compression_table, validation_split
from minicompress.experiments.deep import CONFIGS, GRIDS, TRAINING


def run(name: str, seed: int, options: dict, data, workdir: str) -> dict:
    X, y, Xt, yt = data
    model = baseline(name, seed=seed)
    ref = metrics.accuracy(model, Xt, yt)
    t0 = time.perf_counter()
    small, report = deep_compression(model, X, y, rng=seed, **options)
    seconds = time.perf_counter() - t0
    dense_path, small_path = os.path.join(workdir, "fp32.npz"), os.path.join(workdir, "deep.npz")
    formats.save_model(dense_path, model, "fp32")
    written = formats.save_model(small_path, small, "auto")
    reloaded = formats.load_model(small_path, build_model(name, rng=seed + 1000))  # a fresh float model
    assert np.array_equal(reloaded(Xt[:100]), small(Xt[:100])), "the reloaded model computes differently"
    acc = metrics.accuracy(reloaded, Xt, yt)
    dense_bytes, small_bytes = os.path.getsize(dense_path), os.path.getsize(small_path)
    return {
        "seed": seed, "reference_accuracy": ref, "accuracy": acc, "loss_points": 100 * (ref - acc),
        "fp32_file_bytes": dense_bytes, "file_bytes": small_bytes, "disk_ratio": dense_bytes / small_bytes,
        "accounted_bits": sum(e.bits for e in written.values()),
        "accounted_ratio": report["reference_size_bits"] / report["size_bits"],
        "arrays_in_file": sum(len(e.arrays) for e in written.values()), "seconds": seconds,
        "report": report,
    }


def select(name: str, seeds, data, budget: float = 0.5) -> dict:
    """Every setting of GRIDS[name] on held-out twins (see the module docstring); returns the
    most compressed one whose mean validation loss is at most ``budget`` points."""
    X, y, _, _ = data
    results = [[] for _ in GRIDS[name]]
    for seed in seeds:
        (X_fit, y_fit), (X_val, y_val) = validation_split(X, y, 0.2, rng=seed)
        twin = build_model(name, rng=seed)
        fit(twin, X_fit, y_fit, epochs=DEFAULT_EPOCHS[name], batch_size=BATCH_SIZE,
            optimizer=SGD(twin, LR, momentum=MOMENTUM), rng=seed, verbose=False)
        ref = metrics.accuracy(twin, X_val, y_val)
        for i, options in enumerate(GRIDS[name]):
            small, report = deep_compression(twin, X_fit, y_fit, rng=seed, **{**TRAINING, **options})
            results[i].append((100 * (ref - metrics.accuracy(small, X_val, y_val)),
                               report["reference_size_bits"] / report["size_bits"]))
    best = None
    for options, runs in zip(GRIDS[name], results):
        loss, ratio = np.mean(runs, axis=0)
        print(f"{options}: validation loss {loss:.2f} points {[round(r[0], 2) for r in runs]}, "
              f"{ratio:.1f}x accounted")
        if loss <= budget and (best is None or ratio > best[1]):
            best = (options, ratio)
    print(f"\nchosen (most compressed with mean validation loss <= {budget}): {best and best[0]}")
    return best and best[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("lenet300", "lenet5"), default="lenet300")
    parser.add_argument("--config", choices=("paper", "tuned"), default="tuned")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                        help='override an option, e.g. --set bits=5 --set \'sparsity={"fc1": 0.95}\'')
    parser.add_argument("--json", help="also write every row (and the reports) to this file")
    parser.add_argument("--select", action="store_true", help="run the validation search of GRIDS instead")
    args = parser.parse_args(argv)
    if args.select:
        with threadpool_limits(limits=1):
            select(args.model, args.seeds, load_mnist5k())
        return
    options = {**TRAINING, **CONFIGS[(args.model, args.config)]}
    for item in args.set:
        key, value = item.split("=", 1)
        options[key.replace("-", "_")] = json.loads(value)
    data = load_mnist5k()
    print(f"# {args.model}, config {args.config}: {options}")
    rows = []
    with threadpool_limits(limits=1), tempfile.TemporaryDirectory() as workdir:
        for seed in args.seeds:
            r = run(args.model, seed, options, data, workdir)
            rows.append(r)
            print(f"seed {seed}: test accuracy {100 * r['reference_accuracy']:.1f}% -> "
                  f"{100 * r['accuracy']:.1f}% (loss {r['loss_points']:+.1f} points); file "
                  f"{r['fp32_file_bytes']:,} -> {r['file_bytes']:,} bytes = {r['disk_ratio']:.1f}x on disk, "
                  f"{r['accounted_ratio']:.1f}x accounted ({r['accounted_bits'] // 8:,} bytes in "
                  f"{r['arrays_in_file']} arrays); {r['seconds']:.1f} s", flush=True)
    mean = {k: float(np.mean([r[k] for r in rows])) for k in ("loss_points", "disk_ratio", "accounted_ratio")}
    print(f"mean of {len(rows)} seeds: loss {mean['loss_points']:.2f} points, {mean['disk_ratio']:.1f}x on "
          f"disk, {mean['accounted_ratio']:.1f}x accounted")
    print(f"\nTable 2 for seed {rows[0]['seed']}:\n")
    print(deep_compression_table(rows[0]["report"]))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump([{k: v for k, v in r.items() if k != "report"} | {"layers": r["report"]["layers"],
                                                                      "total": r["report"]["total"]}
                       for r in rows], fh, indent=1, default=str)


if __name__ == "__main__":
    main()
