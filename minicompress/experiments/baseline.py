"""Tour section: the uncompressed baselines every other row is compared with."""

from __future__ import annotations

from .scaffold import TourContext, measure

TITLE = "baselines: the dense fp32 models every row is compared with"


def tour_rows(ctx: TourContext) -> list[dict]:
    """ConvNet (the source text's) and LeNet300_100, trained with the baseline recipe."""
    models = [("convnet", "ConvNet (dense fp32)"), ("lenet300", "LeNet300_100 (dense fp32)")]
    return [measure(ctx.baseline(name), label, ctx) for name, label in models]


def make_figures(ctx: TourContext, outdir) -> list:
    return []
