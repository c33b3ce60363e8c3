"""Tour section: techniques combined (source text section 2.3) and chosen automatically (7.1).

Per model (ConvNet, LeNet300_100):

- pruned 90% (global magnitude) + fine-tuned with the masks held + int8 survivors, stored
  sparse (Deep Compression's order, Han et al. 2016), against the dense baseline;
- one layer factorised by SVD (the low-rank section's ranks: ConvNet fc r=4, LeNet300 fc1
  r=54) + fine-tuned + every weight layer int8, against the dense baseline;
- ``auto_compress`` under a 1-point budget.  The budget is checked on a validation split
  carved from the training data, and it must be *held out*: the project's baselines were
  trained on all 4,000 training images, so here a twin is trained with the same recipe on
  the 3,200-image fit part, and the auto row is compared with that twin.

Sizes are each compressed layer's own ``storage_bits()`` (bitmask or CSR positions, packed
codes, float32 scales, headers), summed by ``metrics.model_size_bits(model, "auto")``.
``figures/sensitivity.png`` draws the sensitivity tables auto_compress searched.  Deep
Compression itself -- pruning, k-means weight sharing, Huffman coding -- is :mod:`.deep`: two
LeNet300_100 rows and ``figures/deep_compression_tradeoff.png``.
"""

from __future__ import annotations

from pathlib import Path

from ..baselines import DEFAULT_EPOCHS, build_model
from ..combine import (
    DEFAULT_BITS,
    DEFAULT_SPARSITIES,
    auto_compress,
    factorize_then_quantize,
    prune_then_quantize,
    validation_split,
)
from ..data import Split
from . import deep
from .scaffold import FT_LR, LR, TourContext, measure, train

TITLE = "combined (2.3 / 7.1): prune + quantize, SVD + quantize, auto_compress under a budget"

MODELS = [("convnet", "ConvNet", {"fc": 4}), ("lenet300", "LeNet300_100", {"fc1": 54})]
SPARSITY, BITS, BUDGET, VAL_FRACTION = 0.9, 8, 1.0, 0.2
PRUNE_FT_EPOCHS = {"convnet": 3, "lenet300": 5}  # the pruning section's (at FT_LR)
LOWRANK_FT_EPOCHS = 2  # the low-rank section's (at the training rate)
QUICK = {"sparsities": (0.5, 0.9), "bits": (8, 4), "max_verifications": 2}


def _auto(ctx: TourContext, name: str) -> dict:
    """The held-out twin and its auto_compress run (once per context: rows and figure share it)."""

    def make():
        X, y = ctx.train_data()
        data = Split(X, y, ctx.data.X_test, ctx.data.y_test)
        (X_fit, y_fit), _ = validation_split(X, y, VAL_FRACTION, rng=ctx.seed)
        twin = build_model(name, rng=ctx.seed)
        epochs = ctx.epochs(DEFAULT_EPOCHS[name], 1)
        with ctx.step(f"{name} twin on the {len(X_fit):,}-image fit split, {epochs} epochs") as step:
            train(twin, ctx, epochs=epochs, data=(X_fit, y_fit), tick=step)
        grid = QUICK if ctx.quick else {"sparsities": DEFAULT_SPARSITIES, "bits": DEFAULT_BITS,
                                        "max_verifications": 4}
        with ctx.step(f"{name} auto_compress"):
            model, report = auto_compress(twin, data, max_accuracy_loss=BUDGET, val_fraction=VAL_FRACTION,
                                          epochs=ctx.epochs(2, 1), rng=ctx.seed, log=ctx.log, **grid)
        return {"twin": twin, "model": model, "report": report, "n_fit": len(X_fit)}

    return ctx.cached(("auto_compress", name), make)


def plan_summary(report: dict) -> str:
    """One line: each layer's (sparsity, bits), validation and test loss."""
    plan = ", ".join(f"{n} {100 * p['sparsity']:g}%/{p['bits']}b" for n, p in report["plan"].items())
    v, t = report["validation"], report["test"]
    return (f"plan {plan}; validation loss {v['loss_points']:.2f} points (n={v['n']}), "
            f"test loss {t['loss_points']:.2f} points (n={t['n']})")


def tour_rows(ctx: TourContext) -> list[dict]:
    """Per model: prune + FT + int8 and SVD + FT + int8 against the dense baseline, and
    auto_compress against its held-out twin."""
    rows = []
    data = ctx.train_data()
    for name, short, ranks in MODELS:
        ref = f"{short} (dense fp32)"  # the baseline section's rows
        base = ctx.baseline(name)
        with ctx.step(f"{short} prune {SPARSITY:.0%} + FT + int{BITS}"):
            pq = prune_then_quantize(base, SPARSITY, bits=BITS, scope="global", data=data, lr=FT_LR,
                                     epochs=ctx.epochs(PRUNE_FT_EPOCHS[name], 1), rng=ctx.seed)
        rows.append(measure(pq, f"{short} {SPARSITY:.0%} global + FT + int{BITS}", ctx,
                            reference=ref, fmt="auto"))
        (layer, rank), = ranks.items()
        with ctx.step(f"{short} {layer} SVD r={rank} + FT + int{BITS}"):
            fq = factorize_then_quantize(base, ranks, bits=BITS, data=data, lr=LR, rng=ctx.seed,
                                         epochs=ctx.epochs(LOWRANK_FT_EPOCHS, 1))
        rows.append(measure(fq, f"{short} {layer} SVD r={rank} + FT, all int{BITS}", ctx,
                            reference=ref, fmt="auto"))
        res = _auto(ctx, name)
        twin = f"{short} twin (fp32, {res['n_fit']:,} digits)"
        rows.append(measure(res["twin"], twin, ctx))
        ctx.log(f"{short} auto_compress: {plan_summary(res['report'])}")
        rows.append(measure(res["model"], f"{short} auto_compress ({BUDGET:g}-pt budget)", ctx,
                            reference=twin, fmt="auto"))
    return rows + deep.tour_rows(ctx, reference="LeNet300_100 (dense fp32)")


def make_figures(ctx: TourContext, outdir) -> list[Path]:
    """``sensitivity.png`` (the sensitivity tables auto_compress searched) and
    ``deep_compression_tradeoff.png`` (:mod:`.deep`)."""
    from ..plots.combined import plot_sensitivity

    tables = {short: _auto(ctx, name)["report"]["sensitivity"] for name, short, _ in MODELS}
    return [plot_sensitivity(tables, Path(outdir) / "sensitivity.png", budget=BUDGET, mark=ctx.mark),
            *deep.make_figures(ctx, outdir)]
