"""Section 7.2's "generalisation" challenge, measured: the text's ConvNet dense, pruned,
quantized and distilled, on the plain test digits and on three shifted copies of them
(moved 2 pixels, turned 15 degrees, Gaussian noise; ``minicompress.data.shifted_test_sets``),
over several seeds. Prints mean ± sample standard deviation of the test accuracy, and of
the accuracy kept (shifted / plain). Tutorial 07 runs seed 0 of the same recipe.

    python benchmarks/generalization.py             # 5 seeds (about a minute on one core)
    python benchmarks/generalization.py --seeds 2

Each seed trains its own baseline (``baselines.baseline("convnet", seed=s)``), prunes it
90% (one global magnitude threshold) and fine-tunes 2 epochs at lr 0.001 with the masks
held; quantizes it to int8 (per tensor, no retraining) and to binary weights (2 epochs of
QAT at lr 0.01); trains a ConvNet(4) student (6,810 parameters) 5 epochs alone and 5 epochs
distilled from the baseline (T = 4, alpha = 0); and draws the shifted sets from the seed.
BLAS threads: 1 (set before numpy loads), as the tests.
"""

from __future__ import annotations

import argparse
import time

from _setup import pin_threads  # before numpy: pins BLAS threads


def compressed_models(seed: int) -> dict:
    """The dense baseline and its compressed versions for one seed (the recipe above)."""
    import copy

    from minicompress import SGD, ConvNet, fit, load_mnist5k
    from minicompress.baselines import baseline
    from minicompress.distill import KDLoss
    from minicompress.prune import MaskHook, prune_model
    from minicompress.quantize import ShadowClip, convert_qat, prepare_qat, quantize_weights

    X, y, _, _ = load_mnist5k()
    dense = baseline("convnet", seed=seed)
    pruned = copy.deepcopy(dense)
    masks = prune_model(pruned, 0.9, scope="global")
    fit(pruned, X, y, epochs=2, batch_size=64, optimizer=SGD(pruned, 0.001, momentum=0.9),
        hooks=[MaskHook(masks)], rng=seed, verbose=False)
    qat = prepare_qat(dense, "binary")
    fit(qat, X, y, epochs=2, batch_size=64, optimizer=SGD(qat, 0.01, momentum=0.9),
        hooks=[ShadowClip()], rng=seed, verbose=False)
    students = {}
    for label, loss in [("alone", None), ("distilled", KDLoss(dense, T=4, alpha=0.0))]:
        student = ConvNet(4, rng=seed + 1)
        fit(student, X, y, epochs=5, batch_size=64, optimizer=SGD(student, 0.01, momentum=0.9),
            rng=seed + 1, verbose=False, **({} if loss is None else {"loss": loss}))
        students[label] = student
    return {
        "dense ConvNet": dense,
        "pruned 90% + fine-tune": pruned,
        "int8 (per tensor)": quantize_weights(dense, "int8", per_channel=False),
        "binary weights, QAT": convert_qat(qat),
        "ConvNet(4) alone": students["alone"],
        "ConvNet(4) distilled": students["distilled"],
    }


def accuracies(models: dict, seed: int) -> dict:
    """{model: {test set: accuracy in %}} on the plain and the three shifted test sets."""
    from minicompress import load_mnist5k, metrics
    from minicompress.data import shifted_test_sets

    _, _, X_test, y_test = load_mnist5k()
    sets = {"plain": X_test, **shifted_test_sets(X_test, seed)}
    return {name: {s: 100 * metrics.accuracy(m, Xs, y_test) for s, Xs in sets.items()}
            for name, m in models.items()}


def main(args) -> None:
    import numpy as np

    start = time.perf_counter()
    runs = [accuracies(compressed_models(seed), seed) for seed in range(args.seeds)]
    names, sets = list(runs[0]), list(runs[0][next(iter(runs[0]))])
    spread = (lambda a: a.std(ddof=1)) if args.seeds > 1 else (lambda a: 0.0)
    print(f"test accuracy %, mean ± std over {args.seeds} seed(s); in brackets: % of the plain accuracy kept")
    print(f"| model | {' | '.join(sets)} |")
    print("|---|" + "---:|" * len(sets))
    for name in names:
        acc = {s: np.array([r[name][s] for r in runs]) for s in sets}
        cells = [f"{acc['plain'].mean():.1f} ± {spread(acc['plain']):.1f}"]
        for s in sets[1:]:
            kept = 100 * acc[s] / acc["plain"]
            cells.append(f"{acc[s].mean():.1f} ± {spread(acc[s]):.1f} ({kept.mean():.0f}%)")
        print(f"| {name} | {' | '.join(cells)} |")
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds (default: 5)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default: 1)")
    arguments = parser.parse_args()
    pin_threads(arguments.threads)
    main(arguments)
