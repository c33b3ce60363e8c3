"""Tour section: low-rank decomposition (source text 3.4 / 4.4) on the bundled MNIST.

- LeNet300_100's fc1 (784 -> 300) and ConvNet's fc (2704 -> 10) replaced by their rank-r
  SVD factorisation at several ranks; test accuracy right after factorising and after a
  short fine-tuning (the tour's recipe at the training rate, lr 0.01), against
  the parameters kept.  Rank 54 is the largest whose factors hold at most 1/4 of fc1's
  parameters (``rank_for_budget``).
- LeNet5's conv2 (16 x 6 x 5 x 5) with Tucker-2 (Kim et al. 2016) and with the layer SVD.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from ..lowrank import (
    factorize_conv,
    factorize_linear,
    rank_for_budget,
    svd,
    tucker2_conv,
    weight_matrix,
)
from ..nn import LeNet300_100, Linear
from .scaffold import TourContext, accuracy, measure, train

TITLE = "low rank (3.4 / 4.4): truncated SVD of a layer, Tucker-2 of a convolution"

#: Ranks swept (full run); the quick run (tests) does only the QUICK_* ones.  54 is
#: rank_for_budget(fc1, fc1 params // 4); 217 is fc1's break-even rank, 10 fc's.
LENET300_RANKS = (4, 8, 16, 32, 54, 100, 200)
CONVNET_RANKS = (1, 2, 4, 8)
QUICK_RANKS = {"lenet300": (54,), "convnet": (4,)}
LENET5_VARIANTS = (("Tucker-2", (8, 3)), ("Tucker-2", (4, 2)), ("SVD", 4), ("SVD", 8))

#: Fine-tuning after factorising: the recipe at the training rate, 2 epochs.
FT_EPOCHS = 2
DENSE = {"lenet300": "LeNet300_100 (dense fp32)", "convnet": "ConvNet (dense fp32)",
         "lenet5": "LeNet5 (dense fp32)"}


def _factorised(ctx: TourContext, base_name: str, layer_name: str, kind: str, rank) -> dict:
    """A copy of the baseline with ``layer_name`` replaced by its ``kind`` ("SVD",
    "Tucker-2" or "dense": the layer kept, as a control) factorisation at ``rank``, fine-tuned
    ``FT_EPOCHS`` epochs; its accuracy before and after.  Computed once per context."""

    def make():
        model = ctx.baseline(base_name)
        layer = model.get_submodule(layer_name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # ranks past break-even are shown on purpose
            new = layer if kind == "dense" else _maker(kind, rank)(layer)
        model.set_submodule(layer_name, new)
        before = 100 * accuracy(model, ctx)
        label = f"{layer_name} {kind} {rank}" if kind != "dense" else f"{layer_name} dense + same fine-tuning"
        with ctx.step(f"{base_name} {label} + fine-tuning") as step:
            train(model, ctx, epochs=ctx.epochs(FT_EPOCHS, 1), tick=step)
        after = 100 * accuracy(model, ctx)
        ctx.log(f"  {label}: layer params {layer.num_parameters():,} -> {new.num_parameters():,}, "
                f"accuracy {before:.1f}% -> {after:.1f}% after fine-tuning")
        return {"label": label, "layer_params": new.num_parameters(), "before": before,
                "after": after, "model": model}

    return ctx.cached(("lowrank", base_name, layer_name, kind, rank), make)


def _results(ctx: TourContext) -> dict:
    """The whole sweep behind the figure and :func:`accuracy_table` (each run once per context)."""
    out = {}
    for name, layer_name, ranks in [("lenet300", "fc1", LENET300_RANKS),
                                    ("convnet", "fc", CONVNET_RANKS), ("lenet5", "conv2", None)]:
        base = ctx.baseline(name)
        layer = base.get_submodule(layer_name)
        if name == "lenet5":
            variants = LENET5_VARIANTS[::2] if ctx.quick else LENET5_VARIANTS
        else:
            variants = [("SVD", r) for r in (QUICK_RANKS[name] if ctx.quick else ranks)]
        dense_accuracy = 100 * accuracy(base, ctx)
        ctx.log(f"{name}.{layer_name}: dense accuracy {dense_accuracy:.1f}%")
        out[name] = {
            "layer": layer_name, "dense_params": layer.num_parameters(),
            "dense_accuracy": dense_accuracy, "ranks": [r for _, r in variants],
            # control: the dense model fine-tuned just as long, so that "after fine-tuning"
            # is not credited with what extra training of a not-quite-converged baseline gives
            "dense_ft_accuracy": _factorised(ctx, name, layer_name, "dense", None)["after"],
            "runs": [_factorised(ctx, name, layer_name, kind, r) for kind, r in variants],
        }
    return out


def _maker(kind: str, rank):
    if kind == "Tucker-2":
        return lambda layer: tucker2_conv(layer, rank)
    if kind == "SVD":
        return lambda layer: (factorize_linear if isinstance(layer, Linear) else factorize_conv)(layer, rank)
    raise ValueError(f"unknown factorisation {kind!r}")


def tour_rows(ctx: TourContext) -> list[dict]:
    """LeNet5's dense row, and four factorisations (fine-tuned), each against its baseline.
    The whole sweep is drawn by ``figures`` (:func:`make_figures`)."""
    rows = [measure(ctx.baseline("lenet5"), DENSE["lenet5"], ctx)]
    fc1 = ctx.baseline("lenet300").fc1
    r = rank_for_budget(fc1, fc1.num_parameters() // 4)
    picks = [("lenet300", "fc1", "SVD", r, f"LeNet300_100 fc1 SVD r={r} (1/4) + FT"),
             ("convnet", "fc", "SVD", 4, "ConvNet fc SVD r=4 + FT"),
             ("lenet5", "conv2", "Tucker-2", (8, 3), "LeNet5 conv2 Tucker-2 (8,3) + FT"),
             ("lenet5", "conv2", "SVD", 4, "LeNet5 conv2 SVD r=4 + FT")]
    for name, layer, kind, rank, method in picks:
        run = _factorised(ctx, name, layer, kind, rank)
        rows.append(measure(run["model"], method, ctx, reference=DENSE[name], fmt="fp32"))
    return rows


def accuracy_table(res: dict) -> str:
    """The accuracy-vs-rank results as a Markdown table."""
    lines = ["| model | layer | factorisation | layer params | acc. before FT % | acc. after FT % |"
             " loss vs dense (pts) | loss vs dense + same FT (pts) |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for name, r in res.items():
        lines.append(f"| {name} | {r['layer']} | dense | {r['dense_params']:,} | "
                     f"{r['dense_accuracy']:.1f} | {r['dense_ft_accuracy']:.1f} | - | - |")
        for run in r["runs"]:
            lines.append(f"| {name} | {r['layer']} | {run['label'].split(' ', 1)[1]} | "
                         f"{run['layer_params']:,} | {run['before']:.1f} | {run['after']:.1f} | "
                         f"{r['dense_accuracy'] - run['after']:+.1f} | "
                         f"{r['dense_ft_accuracy'] - run['after']:+.1f} |")
    return "\n".join(lines)


def make_figures(ctx: TourContext, outdir) -> list:
    """``lowrank_singular_values.png`` and ``lowrank_accuracy_vs_rank.png`` (the whole sweep)."""
    from ..plots.lowrank import plot_accuracy_vs_rank, plot_singular_values

    outdir = Path(outdir)
    lenet300, convnet, lenet5 = (ctx.baseline(n) for n in ("lenet300", "convnet", "lenet5"))
    spectra = {
        "LeNet300_100 fc1 (300 x 784)": lenet300.fc1, "LeNet300_100 fc2 (100 x 300)": lenet300.fc2,
        "LeNet300_100 fc3 (10 x 100)": lenet300.fc3, "ConvNet fc (10 x 2704)": convnet.fc,
        "LeNet5 conv2 (16 x 150)": lenet5.conv2, "LeNet5 fc1 (120 x 400)": lenet5.fc1,
        "fc1 untrained (300 x 784)": LeNet300_100(rng=ctx.seed).fc1,
    }
    spectra = {k: svd(weight_matrix(v))[1] for k, v in spectra.items()}
    paths = [plot_singular_values(spectra, outdir / "lowrank_singular_values.png",
                                  dashed=("fc1 untrained (300 x 784)",), mark=ctx.mark)]
    res = _results(ctx)
    panels = {}
    for name, title in [("lenet300", "LeNet300_100: fc1 (784 -> 300) by SVD"),
                        ("convnet", "ConvNet: fc (2704 -> 10) by SVD")]:
        r = res[name]
        panels[title] = {
            "params": [run["layer_params"] for run in r["runs"]], "ranks": list(r["ranks"]),
            "before": [run["before"] for run in r["runs"]], "after": [run["after"] for run in r["runs"]],
            "dense_params": r["dense_params"], "dense_accuracy": r["dense_accuracy"],
            "dense_ft_accuracy": r["dense_ft_accuracy"],
        }
    paths.append(plot_accuracy_vs_rank(panels, outdir / "lowrank_accuracy_vs_rank.png", mark=ctx.mark))
    ctx.log(accuracy_table(res))
    return paths

