"""Figure of Deep Compression (Han, Mao & Dally 2016, Figure 6): accuracy loss against the
size of the compressed model, for pruning only, quantization only, both, and both + Huffman
coding.  Plain arrays in, PNG out."""

from __future__ import annotations

import numpy as np

from .style import new_figure, save_figure

__all__ = ["pareto_front", "plot_compression_tradeoff"]


def pareto_front(sizes, losses) -> np.ndarray:
    """Indices of the points no other point beats on both axes (smaller and no worse, or no
    larger and better), sorted by size: the best loss reachable at each size."""
    sizes, losses = np.asarray(sizes, float), np.asarray(losses, float)
    order = np.lexsort((losses, sizes))
    keep, best = [], np.inf
    for i in order:
        if losses[i] < best:
            keep.append(i)
            best = losses[i]
    return np.array(keep, dtype=int)


def plot_compression_tradeoff(series: dict, path, *, title: str, budget: float | None = None,
                              max_loss: float | None = None, mark: str | None = None):
    """One line per method: accuracy loss (points) against model size (% of the fp32 model).

    series : {label: (size_percent, loss_points)} -- arrays of the runs of that method; the
        line joins the runs on its Pareto front (:func:`pareto_front`), every run is a dot
    budget : optional loss in points, drawn as a horizontal line
    max_loss : optional lower edge of the plot in points (runs beyond it are off the figure)
    """
    fig, ax = new_figure(title, "model size after compression (% of fp32, log scale)",
                         "accuracy loss (points, test split)")
    markers = "osD^v"
    for i, (label, (size, loss)) in enumerate(series.items()):
        size, loss = np.asarray(size, float), np.asarray(loss, float)
        front = pareto_front(size, loss)
        ax.plot(size, loss, markers[i % len(markers)], color=f"C{i}", ms=3.5, alpha=0.35)
        ax.plot(size[front], loss[front], markers[i % len(markers)] + "-", color=f"C{i}", ms=5, label=label)
    ax.axhline(0.0, color="0.4", lw=1, ls=":")
    if budget is not None:
        ax.axhline(budget, color="tab:red", lw=0.8, ls="--", label=f"{budget:g}-point loss")
    ax.set_xscale("log")
    if max_loss is not None:
        ax.set_ylim(top=max_loss)
    ax.invert_yaxis()  # up is better, as in the paper's figure
    ax.legend(fontsize=8, loc="lower right")
    return save_figure(fig, path, mark=mark)
