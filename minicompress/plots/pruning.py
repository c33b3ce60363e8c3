"""Pruning figures: accuracy against sparsity, and the weight histogram around the threshold."""

from __future__ import annotations

import numpy as np

from .style import legend_below, new_figure, save_figure, zoom_accuracy

__all__ = ["plot_accuracy_vs_sparsity", "plot_weight_histogram"]


def plot_accuracy_vs_sparsity(panels: dict, dense: dict, path, *, span: float = 12.0, mark=None):
    """One panel per title; one colour per series label (the same in every panel).

    panels : {title: {series label: (sparsity %, accuracy % pruned, accuracy % fine-tuned)}}
    dense : {title: dense accuracy %}, drawn as a grey line, with the 1-point line below it
    span : the accuracy axis shows ``span`` points below the dense accuracy; fine-tuned points
        further down sit on the bottom edge, labelled with their value (the pruned-only
        curves simply leave the axis).
    Solid = after fine-tuning, dashed = right after pruning.
    """
    titles = list(panels)
    ncols = 2 if len(titles) > 1 else 1
    nrows = -(-len(titles) // ncols)
    fig, axes = new_figure(titles[0], "weights removed (%)", "test accuracy (%)", ncols=ncols, nrows=nrows,
                           size=(5.6, 3.6))
    axes = np.atleast_1d(axes)
    labels = list(dict.fromkeys(label for p in panels.values() for label in p))
    colours = {label: f"C{i}" for i, label in enumerate(labels)}
    for ax, title in zip(axes, titles):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("weights removed (%)")
        ax.set_ylabel("test accuracy (%)")
        series = []
        for label, (x, before, after) in panels[title].items():
            c = colours[label]
            ax.plot(x, after, "o-", color=c, label=f"{label}, fine-tuned")
            ax.plot(x, before, "x--", color=c, alpha=0.6, label=f"{label}, pruned only")
            series.append((x, after, c))  # fine-tuned points below the axis get their value
        d = dense.get(title)
        if d is not None:
            ax.axhline(d, color="0.4", lw=1, ls=":", label="dense")
            ax.axhline(d - 1, color="black", lw=1, ls="--", label="dense - 1 point")
            zoom_accuracy(ax, d - span, d + 2, series)
    for ax in axes[len(titles):]:
        ax.set_visible(False)
    fig.suptitle("Pruning, then fine-tuning with the masks held (fine-tuned points below the axis: "
                 "value shown)",
                 fontsize=10)
    legend_below(fig, axes[: len(titles)], ncol=4)
    return save_figure(fig, path, mark=mark)


def plot_weight_histogram(weights: dict, path, *, layer: str = "layer", bins: int = 120, mark=None):
    """Overlaid histograms (log count) of the non-zero weights of one layer, one per label.

    weights : {label: 1-D array of the layer's non-zero weights}
    Magnitude pruning cuts a gap around 0; fine-tuning moves the survivors but never refills it.
    """
    allw = np.concatenate([np.ravel(v) for v in weights.values()])
    edges = np.linspace(allw.min(), allw.max(), bins + 1)
    fig, ax = new_figure(f"{layer}: the non-zero weights", "weight value (no unit)", "count (log scale)")
    for label, w in weights.items():
        ax.hist(np.ravel(w), bins=edges, histtype="step", lw=1.3, label=f"{label} ({np.size(w):,} non-zero)")
    ax.set_yscale("log")
    legend_below(fig, ax, ncol=1)
    return save_figure(fig, path, mark=mark)
