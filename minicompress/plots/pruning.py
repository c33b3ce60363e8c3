"""Pruning figures: accuracy against sparsity, and the weight histogram around the threshold."""

from __future__ import annotations

import numpy as np

from .style import legend_below, new_figure, save_figure, zoom_accuracy

__all__ = ["plot_accuracy_vs_sparsity", "plot_weight_histogram", "plot_oneshot", "plot_lottery"]


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


def plot_oneshot(series: dict, dense: float, path, *, patterns: dict | None = None, span: float = 25.0,
                 mark=None):
    """Accuracy against sparsity with no retraining, one line per criterion.

    series : {criterion: (sparsity %, accuracy %)};  dense : the unpruned accuracy %
    patterns : {criterion: accuracy %} of the 2:4 pattern (50%), drawn as a star at 50%
    span : the axis shows ``span`` points below dense; points further down sit on the edge
    """
    fig, ax = new_figure("No retraining: each layer pruned to the same sparsity",
                         "weights removed in every layer (%)", "test accuracy (%)")
    marks = []
    for i, (label, (x, acc)) in enumerate(series.items()):
        c = f"C{i}"
        ax.plot(x, acc, "o-", color=c, label=label)
        marks.append((x, acc, c))
        if patterns and label in patterns:
            ax.plot([50], [patterns[label]], "*", ms=13, color=c, label=f"{label}, 2:4")
    ax.axhline(dense, color="0.4", lw=1, ls=":", label="dense")
    ax.axhline(dense - 1, color="black", lw=1, ls="--", label="dense - 1 point")
    zoom_accuracy(ax, dense - span, dense + 1.5, marks)
    legend_below(fig, ax, ncol=4)
    return save_figure(fig, path, mark=mark)


def plot_lottery(remaining, series: dict, dense: float, path, *, span: float = 6.0, mark=None):
    """Accuracy of the sparse networks trained from the start, against the weights remaining.

    remaining : weights remaining after each round (%), decreasing
    series : {label: accuracy % per round} (rewound ticket, reinitialised, random mask)
    dense : the dense network's accuracy %.  The x axis is logarithmic and runs from dense
    (100%) down to the sparsest ticket.
    """
    fig, ax = new_figure("Lottery tickets: trained sparse from the start", "weights remaining (%, log scale)",
                         "test accuracy (%)")
    marks = []
    for i, (label, acc) in enumerate(series.items()):
        ax.plot(remaining, acc, "o-", color=f"C{i}", label=label)
        marks.append((remaining, acc, f"C{i}"))
    ax.axhline(dense, color="0.4", lw=1, ls=":", label="dense")
    ax.axhline(dense - 0.5, color="black", lw=1, ls="--", label="dense - 0.5 point")
    ax.set_xscale("log")
    ax.set_xlim(110, min(remaining) * 0.9)  # from dense towards sparse, left to right
    ticks = [t for t in (100, 50, 25, 10, 5, 2, 1) if t >= min(remaining) * 0.9]
    ax.set_xticks(ticks, [f"{t}" for t in ticks])
    zoom_accuracy(ax, dense - span, dense + 1.0, marks)
    legend_below(fig, ax, ncol=3)
    return save_figure(fig, path, mark=mark)
