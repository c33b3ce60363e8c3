"""Tour section and experiment: pruning (source text 3.1 / 4.1) on the bundled MNIST.

Dense baseline -> prune (magnitude, Taylor or OBD; per layer or global) -> fine-tune at a
tenth of the training learning rate with the masks held (Han et al. 2015), at sparsities
50/80/90/95/98%, for LeNet300_100 (all three criteria) and ConvNet (magnitude).  Plus
L1-norm filter pruning of ConvNet's conv1 (Li et al. 2017), which really shrinks the model.
Beyond the text (:mod:`.pruning_beyond`): SparseGPT with no retraining, a lottery ticket and
SNIP, on LeNet300_100.

Run the whole grid, print the accuracy table and draw the figures from it::

    python -m minicompress.experiments.pruning --figures figures
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import numpy as np

from .. import metrics
from ..prune import apply_masks, iterative_prune, prune_filters, prune_model
from . import pruning_beyond
from .scaffold import FT_LR, TourContext, accuracy, blas_threads, measure, train

TITLE = "pruning (3.1 / 4.1): magnitude, OBD, gradual, filters; fine-tuned with the masks held"
SPARSITIES = (0.5, 0.8, 0.9, 0.95, 0.98)
FT_EPOCHS = {"lenet300": 5, "convnet": 3}
CRITERIA = {"lenet300": ("magnitude", "taylor", "obd"), "convnet": ("magnitude",)}
LABELS = {"lenet300": "LeNet300_100", "convnet": "ConvNet"}
#: Sparse storage formats a pruned model's size is counted in (the smaller one is reported).
SPARSE_FMTS = ("csr", "bitmask")
N_SALIENCY = 1000  # training images on which Taylor and OBD measure the loss


def prune_and_tune(ctx: TourContext, name: str, sparsity: float, *, scope: str, criterion: str):
    """One configuration of the baseline ``name``, pruned and fine-tuned at :data:`FT_LR`
    with the masks held (never reviving a weight), ``FT_EPOCHS[name]`` epochs.

    Returns ``(model, masks, accuracy before, accuracy after)``; computed once per context.
    """
    def make():
        model = ctx.baseline(name)
        data = (ctx.data.X_train[:N_SALIENCY], ctx.data.y_train[:N_SALIENCY])
        masks = prune_model(model, sparsity, scope=scope, criterion=criterion, data=data)
        before = accuracy(model, ctx)
        with ctx.step(f"{LABELS[name]} {criterion} {scope} {sparsity:.0%} + fine-tuning") as step:
            train(model, ctx, epochs=ctx.epochs(FT_EPOCHS[name], 1), lr=FT_LR, masks=masks, tick=step)
        return model, masks, before, accuracy(model, ctx)

    return ctx.cached(("pruned", name, sparsity, scope, criterion), make)


def run_grid(ctx: TourContext, names=("lenet300", "convnet"), sparsities=SPARSITIES) -> list[dict]:
    """Every (model, criterion, scope, sparsity): accuracy of the dense, pruned, fine-tuned model."""
    if ctx.quick:
        sparsities = (0.5, 0.9)
    results = []
    for name in names:
        dense = accuracy(ctx.baseline(name), ctx)
        for criterion in ("magnitude",) if ctx.quick else CRITERIA[name]:
            for scope in ("layer", "global"):
                for s in sparsities:
                    _, masks, before, after = prune_and_tune(ctx, name, s, scope=scope, criterion=criterion)
                    kept = sum(int(m.sum()) for m in masks.values())
                    results.append(dict(model=name, criterion=criterion, scope=scope, sparsity=s,
                                        dense=dense, pruned=before, tuned=after, kept_weights=kept))
                    ctx.log(f"{name} {criterion:9s} {scope:6s} {s:.2f}: {100 * dense:.1f} -> "
                            f"{100 * before:.1f} -> {100 * after:.1f}")
    return results


def accuracy_table(results: list[dict]) -> str:
    """Markdown: one row per (model, criterion, scope), one column pair per sparsity."""
    sparsities = sorted({r["sparsity"] for r in results})
    head = "| model | criterion | scope | dense % | " + " | ".join(
        f"{100 * s:g}% pruned / tuned" for s in sparsities) + " |"
    lines = [head, "|---|---|---|---:|" + "---:|" * len(sparsities)]
    keys = dict.fromkeys((r["model"], r["criterion"], r["scope"]) for r in results)
    for key in keys:
        rows = {r["sparsity"]: r for r in results if (r["model"], r["criterion"], r["scope"]) == key}
        cells = [f"{100 * rows[s]['pruned']:.1f} / {100 * rows[s]['tuned']:.1f}" if s in rows else "-"
                 for s in sparsities]
        dense = next(iter(rows.values()))["dense"]
        lines.append(f"| {LABELS[key[0]]} | {key[1]} | {key[2]} | {100 * dense:.1f} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def sparse_fmt(model) -> str:
    """The sparse format (CSR or bitmask, indices/bitmap included) that stores ``model`` smaller."""
    return min(SPARSE_FMTS, key=lambda f: metrics.model_size_bits(model, f).total)


def tour_rows(ctx: TourContext) -> list[dict]:
    """A few representative configurations, measured against the dense baselines."""
    rows = []
    ref = {name: f"{LABELS[name]} (dense fp32)" for name in LABELS}  # the baseline section's rows
    for name, scope, criterion, s in [("lenet300", "global", "magnitude", 0.9),
                                      ("lenet300", "global", "obd", 0.95),
                                      ("convnet", "global", "magnitude", 0.9)]:
        model, _, _, _ = prune_and_tune(ctx, name, s, scope=scope, criterion=criterion)
        label = f"{LABELS[name]} {100 * s:g}% {scope} {'OBD' if criterion == 'obd' else criterion} + FT"
        rows.append(measure(model, label, ctx, reference=ref[name], fmt=sparse_fmt(model)))
    gradual = ctx.baseline("lenet300")
    X, y = ctx.train_data()
    rounds = ctx.epochs(5, 2)
    with ctx.step(f"LeNet300_100 gradual to 95% in {rounds} rounds"):
        iterative_prune(gradual, X, y, s_f=0.95, rounds=rounds, epochs=ctx.epochs(2, 1), lr=FT_LR,
                        scope="global", rng=ctx.seed)
    rows.append(measure(gradual, f"LeNet300_100 95% gradual, {rounds} rounds + FT", ctx,
                        reference=ref["lenet300"], fmt=sparse_fmt(gradual)))
    small, _ = prune_filters(ctx.baseline("convnet"), "conv1", 8)
    with ctx.step("ConvNet conv1 filters 16->8 + fine-tuning") as step:
        train(small, ctx, epochs=ctx.epochs(FT_EPOCHS["convnet"], 1), lr=FT_LR, tick=step)
    rows.append(measure(small, "ConvNet conv1 filters 16->8 (L1) + FT", ctx,
                        reference=ref["convnet"], fmt="fp32"))  # smaller and dense: no zeros to skip
    return rows + pruning_beyond.tour_rows(ctx, reference=ref["lenet300"], fmt_of=sparse_fmt)


def make_figures(ctx: TourContext, outdir) -> list:
    """``pruning_accuracy_vs_sparsity.png``, ``pruning_weight_histogram.png``,
    ``pruning_oneshot.png`` and ``pruning_lottery.png``."""
    results = run_grid(ctx)
    ctx.log(accuracy_table(results))
    return [*figures_from_results(ctx, results, outdir), pruning_beyond.oneshot_figure(ctx, outdir),
            pruning_beyond.lottery_figure(ctx, outdir)]


def figures_from_results(ctx: TourContext, results: list[dict], outdir) -> list:
    """Draw both pruning figures from a finished grid (plus one prune + fine-tune for the histogram)."""
    from ..plots.pruning import plot_accuracy_vs_sparsity, plot_weight_histogram

    outdir = Path(outdir)
    panels, dense = {}, {}
    for name in LABELS:
        for scope in ("layer", "global"):
            title = f"{LABELS[name]}, {scope} scope"
            series = {}
            for r in results:
                if r["model"] != name or r["scope"] != scope:
                    continue
                xs, before, after = series.setdefault(r["criterion"], ([], [], []))
                xs.append(100 * r["sparsity"])
                before.append(100 * r["pruned"])
                after.append(100 * r["tuned"])
                dense[title] = 100 * r["dense"]
            if series:  # a grid may cover one model only
                panels[title] = {k: tuple(np.array(v) for v in vals) for k, vals in series.items()}
    paths = [plot_accuracy_vs_sparsity(panels, dense, outdir / "pruning_accuracy_vs_sparsity.png",
                                       mark=ctx.mark)]

    base = ctx.baseline("lenet300")
    model, masks, _, _ = prune_and_tune(ctx, "lenet300", 0.9, scope="global", criterion="magnitude")
    pruned_only = copy.deepcopy(base)
    apply_masks(pruned_only, masks)
    w = {"dense": base.fc1.params["weight"],
         "pruned 90% (global magnitude)": pruned_only.fc1.params["weight"],
         "pruned + fine-tuned": model.fc1.params["weight"]}
    paths.append(plot_weight_histogram({k: v[v != 0] for k, v in w.items()},
                                       outdir / "pruning_weight_histogram.png", layer="LeNet300_100 fc1",
                                       mark=ctx.mark))
    return paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Pruning grid: accuracy before / after fine-tuning.")
    parser.add_argument("--quick", action="store_true", help="very few epochs: a smoke test, not results")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--figures", metavar="DIR", help="also draw the figures from this grid into DIR")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default: 1)")
    args = parser.parse_args(argv)
    ctx = TourContext(quick=args.quick, seed=args.seed, threads=args.threads)
    with blas_threads(args.threads):
        results = run_grid(ctx)
        print()
        print(accuracy_table(results))
        if args.figures:
            for path in figures_from_results(ctx, results, args.figures):
                print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
