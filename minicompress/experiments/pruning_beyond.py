"""Tour rows and figures of the pruning section beyond the source text, on LeNet300_100:

- SparseGPT (Frantar & Alistarh 2023) from :data:`N_CALIBRATION` training digits, no
  retraining: rows at 70% and 2:4; the figure ``pruning_oneshot.png`` compares it with
  magnitude and OBD at every sparsity of :data:`ONESHOT_SPARSITIES`;
- a lottery ticket (Frankle & Carbin 2019): global magnitude, rewound to the initialisation,
  the baseline recipe each round.  The figure ``pruning_lottery.png`` runs ten rounds of 20%
  with the two controls (the same masks from a new initialisation, random masks); the tour
  row reaches the same 0.8^10 = 10.7% of the weights in three rounds of 52.5% (four
  trainings instead of eleven, to keep the tour near a minute);
- SNIP at 95% (Lee et al. 2019), pruned at initialisation and trained with the masks held.

The numbers over several seeds come from ``benchmarks/prune_oneshot_sweep.py``,
``benchmarks/prune_lottery.py`` and ``benchmarks/prune_snip.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..baselines import DEFAULT_EPOCHS, MOMENTUM, build_model
from ..prune import accuracy_without_retraining, lottery_ticket, prune_at_init, sparsegpt
from .scaffold import BATCH_SIZE, LR, TourContext, measure

__all__ = ["N_CALIBRATION", "ONESHOT_SPARSITIES", "ONESHOT_METHODS", "sparsegpt_model", "oneshot",
           "lottery", "snip", "tour_rows", "oneshot_figure", "lottery_figure"]

N_CALIBRATION = 1000  # training digits SparseGPT (and OBD, in the one-shot figure) calibrate on
ONESHOT_SPARSITIES = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
ONESHOT_METHODS = ("magnitude", "obd", "sparsegpt")


def _calibration(ctx: TourContext):
    return ctx.data.X_train[:N_CALIBRATION], ctx.data.y_train[:N_CALIBRATION]


def sparsegpt_model(ctx: TourContext, sparsity, pattern=None):
    """The LeNet300_100 baseline pruned by SparseGPT from :data:`N_CALIBRATION` training digits,
    no retraining (computed once per context)."""
    def make():
        model = ctx.baseline("lenet300")
        with ctx.step(f"LeNet300_100 SparseGPT {pattern or f'{sparsity:.0%}'}"):
            sparsegpt(model, _calibration(ctx)[0], sparsity, pattern=pattern)
        return model

    return ctx.cached(("sparsegpt", sparsity, pattern), make)


def oneshot(ctx: TourContext) -> list[dict]:
    """Accuracy with no retraining: magnitude, OBD and SparseGPT, every layer at each sparsity
    of :data:`ONESHOT_SPARSITIES` and 2:4 (rows of :func:`accuracy_without_retraining`)."""
    def make():
        sparsities = (0.5, 0.9) if ctx.quick else ONESHOT_SPARSITIES
        with ctx.step("LeNet300_100 one-shot: magnitude, OBD, SparseGPT"):
            return accuracy_without_retraining(ctx.baseline("lenet300"), _calibration(ctx),
                                               (ctx.data.X_test, ctx.data.y_test), sparsities=sparsities,
                                               patterns=("2:4",), methods=ONESHOT_METHODS)

    return ctx.cached(("oneshot",), make)


def _lenet300(rng):
    return build_model("lenet300", rng=rng)


def _recipe(ctx: TourContext) -> dict:
    return dict(epochs=ctx.epochs(DEFAULT_EPOCHS["lenet300"], 1), lr=LR, momentum=MOMENTUM,
                batch_size=BATCH_SIZE)


#: the tour row's schedule: three rounds that leave 0.8**10 of the weights, as ten of 20% do
TOUR_LOTTERY_ROUNDS, TOUR_LOTTERY_RATE = 3, 1 - 0.8 ** (10 / 3)


def lottery(ctx: TourContext, *, controls: bool, rounds: int = 10, rate: float = 0.2) -> dict:
    """Iterative magnitude pruning of LeNet300_100 from scratch: ``rounds`` rounds of ``rate``
    (two rounds of 20% in a quick run), global, rewound to the initialisation, the baseline
    recipe each round; ``controls`` adds the reinitialised and random-mask networks
    (:func:`lottery_ticket`)."""
    rounds, rate = (2, 0.2) if ctx.quick else (rounds, rate)

    def make():
        X, y = ctx.train_data()
        with ctx.step(f"LeNet300_100 lottery ticket, {rounds} rounds of {rate:.1%}"
                      f"{' + controls' if controls else ''}"):
            return lottery_ticket(_lenet300, X, y, rate=rate, rounds=rounds, rewind_to=0, scope="global",
                                  controls=controls, rng=ctx.seed,
                                  validation=(ctx.data.X_test, ctx.data.y_test), **_recipe(ctx))

    return ctx.cached(("lottery", controls, rounds, rate), make)


def snip(ctx: TourContext, sparsity: float) -> dict:
    """LeNet300_100 pruned by SNIP at initialisation (one batch of 100 training digits), then
    trained by the baseline recipe with the masks held (:func:`prune_at_init`)."""
    def make():
        X, y = ctx.train_data()
        with ctx.step(f"LeNet300_100 SNIP {sparsity:.0%} at initialisation + training"):
            return prune_at_init(_lenet300, X, y, sparsity, method="snip", rng=ctx.seed,
                                 validation=(ctx.data.X_test, ctx.data.y_test), **_recipe(ctx))

    return ctx.cached(("snip", sparsity), make)


def tour_rows(ctx: TourContext, *, reference: str, fmt_of) -> list[dict]:
    """SparseGPT 70% and 2:4 (no retraining), the lottery ticket, SNIP 95%: LeNet300_100 rows,
    measured against the row ``reference`` in the format ``fmt_of(model)`` names."""
    rows = []
    for sparsity, pattern, label in ((0.7, None, "70%"), (None, "2:4", "2:4")):
        model = sparsegpt_model(ctx, sparsity, pattern)
        rows.append(measure(model, f"LeNet300_100 {label} SparseGPT, no retraining", ctx, reference=reference,
                            fmt=fmt_of(model)))
    ticket = lottery(ctx, controls=False, rounds=TOUR_LOTTERY_ROUNDS, rate=TOUR_LOTTERY_RATE)
    remaining = 100 * ticket["rounds"][-1]["remaining"]
    rows.append(measure(ticket["model"], f"LeNet300_100 lottery ticket {remaining:.1f}% (rewound, trained)",
                        ctx, reference=reference, fmt=fmt_of(ticket["model"])))
    model = snip(ctx, 0.95)["model"]
    rows.append(measure(model, "LeNet300_100 SNIP 95% at init, trained", ctx, reference=reference,
                        fmt=fmt_of(model)))
    return rows


def oneshot_figure(ctx: TourContext, outdir) -> Path:
    """``pruning_oneshot.png``: accuracy against sparsity with no retraining."""
    from ..plots.pruning import plot_oneshot

    rows = oneshot(ctx)
    series = {m: (np.array([100 * r["sparsity"] for r in rows if r["method"] == m and not r["pattern"]]),
                  np.array([100 * r["accuracy"] for r in rows if r["method"] == m and not r["pattern"]]))
              for m in ONESHOT_METHODS}
    patterns = {r["method"]: 100 * r["accuracy"] for r in rows if r["pattern"]}
    return plot_oneshot(series, 100 * rows[0]["dense"], Path(outdir) / "pruning_oneshot.png",
                        patterns=patterns, mark=ctx.mark)


def lottery_figure(ctx: TourContext, outdir) -> Path:
    """``pruning_lottery.png``: ticket, reinitialised and random-mask accuracy per round."""
    from ..plots.pruning import plot_lottery

    res = lottery(ctx, controls=True)
    rounds = res["rounds"]
    series = {label: np.array([100 * e[key] for e in rounds]) for key, label in
              (("ticket", "rewound ticket"), ("reinit", "same masks, new initialisation"),
               ("random", "random masks, same per-layer sparsity"))}
    return plot_lottery(np.array([100 * e["remaining"] for e in rounds]), series, 100 * res["dense"],
                        Path(outdir) / "pruning_lottery.png", mark=ctx.mark)
