"""Pruning figures: accuracy against sparsity, and the weight histogram around the threshold."""

from __future__ import annotations

import numpy as np

from .style import new_figure, save_figure

__all__ = ["plot_accuracy_vs_sparsity", "plot_weight_histogram"]


def plot_accuracy_vs_sparsity(panels: dict, dense: dict, path):
    """One panel per title; in each, one colour per series.

    panels : {title: {series label: (sparsity %, accuracy % pruned, accuracy % fine-tuned)}}
    dense : {title: dense accuracy %}, drawn as a grey horizontal line
    Dashed = right after pruning, solid = after fine-tuning.
    """
    titles = list(panels)
    fig, axes = new_figure(titles[0], "weights removed (%)", "test accuracy (%)", ncols=len(titles))
    axes = np.atleast_1d(axes)
    for ax, title in zip(axes, titles):
        ax.set_title(title)
        ax.set_xlabel("weights removed (%)")
        ax.set_ylabel("test accuracy (%)")
        for i, (label, (x, before, after)) in enumerate(panels[title].items()):
            color = f"C{i}"
            ax.plot(x, after, "o-", color=color, label=f"{label}, fine-tuned")
            ax.plot(x, before, "x--", color=color, alpha=0.7, label=f"{label}, pruned only")
        if title in dense:
            ax.axhline(dense[title], color="0.4", lw=1, ls=":", label=f"dense ({dense[title]:.1f}%)")
        ax.set_ylim(0, 100)
        ax.legend(fontsize=7, loc="lower left")
    return save_figure(fig, path)


def plot_weight_histogram(weights: dict, path, *, layer: str = "layer", bins: int = 120):
    """Overlaid histograms (log count) of the non-zero weights of one layer, one per label.

    weights : {label: 1-D array of the layer's non-zero weights}
    Magnitude pruning cuts a gap around 0; fine-tuning moves the survivors but never refills it.
    """
    allw = np.concatenate([np.ravel(v) for v in weights.values()])
    edges = np.linspace(allw.min(), allw.max(), bins + 1)
    fig, ax = new_figure(f"{layer}: non-zero weights", "weight value", "count (log scale)")
    for label, w in weights.items():
        ax.hist(np.ravel(w), bins=edges, histtype="step", lw=1.3, label=f"{label} ({np.size(w):,} non-zero)")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    return save_figure(fig, path)
