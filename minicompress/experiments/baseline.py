"""Tour section: the uncompressed baselines every other row is compared with."""

from __future__ import annotations

from ..pipeline import TourContext, measure


def tour_rows(ctx: TourContext) -> list[dict]:
    rows = []
    for name, label in [("convnet", "ConvNet (dense fp32)"), ("lenet300", "LeNet300_100 (dense fp32)")]:
        ctx.log(f"training baseline {name} ...")
        rows.append(measure(ctx.baseline(name), label, ctx))
    return rows


def make_figures(ctx: TourContext, outdir) -> list:
    return []
