"""Figure of the combination section (2.3 / 7.1): the sensitivity table, drawn.  Plain
arrays in, PNG out."""

from __future__ import annotations

import numpy as np

from .style import legend_below, new_figure, save_figure, zoom_accuracy

__all__ = ["plot_sensitivity"]


def plot_sensitivity(tables: dict, path, *, budget: float | None = None, span: float = 6.0, mark=None):
    """Two panels per model: validation accuracy with ONE layer pruned (against sparsity)
    and with one layer quantized (against bits), one line per layer.

    tables : {model title: {"layers": [names], "weights": (L,) counts, "sparsities": (S,),
              "bits": (B,), "dense_accuracy": float, "prune_accuracy": (L, S),
              "quant_accuracy": (L, B)}}, accuracies as fractions (combine.sensitivity)
    budget : optional accuracy budget in points, drawn as a line ``budget`` below the dense
    span : the accuracy axis shows ``span`` points below the dense accuracy (where the
        budget decides); points further down sit on the bottom edge, labelled with their value.

    Each layer has one colour in the whole figure.
    """
    fig, axes = new_figure("", "", "", ncols=2, nrows=len(tables), size=(5.4, 3.4))
    axes = np.atleast_1d(axes)
    colour = 0
    for k, (title, t) in enumerate(tables.items()):
        dense = 100 * t["dense_accuracy"]
        s_order = np.argsort(t["sparsities"])
        b_order = np.argsort(t["bits"])[::-1]
        colours = {layer: f"C{colour + i}" for i, layer in enumerate(t["layers"])}
        colour += len(t["layers"])
        for ax, kind in zip(axes[2 * k: 2 * k + 2], ("prune", "quant")):
            series = []
            for i, (layer, count) in enumerate(zip(t["layers"], t["weights"])):
                if kind == "prune":
                    x = np.r_[0.0, 100 * np.asarray(t["sparsities"])[s_order]]
                    y = np.r_[dense, 100 * np.asarray(t["prune_accuracy"])[i, s_order]]
                else:
                    x = np.r_[32, np.asarray(t["bits"])[b_order]]
                    y = np.r_[dense, 100 * np.asarray(t["quant_accuracy"])[i, b_order]]
                label = f"{title} {layer} ({int(count):,} weights)"
                ax.plot(x, y, "o-", color=colours[layer], ms=4, label=label)
                series.append((x, y, colours[layer]))
            ax.axhline(dense, color="0.4", lw=1, ls=":", label="uncompressed model")
            if budget is not None:
                ax.axhline(dense - budget, color="black", lw=1.2, ls="--",
                           label=f"budget: uncompressed - {budget:g} point")
            if kind == "prune":
                ax.set_title(f"{title}: one layer pruned", fontsize=10)
                ax.set_xlabel("sparsity of that layer (%; magnitude, no fine-tuning)")
            else:
                ax.set_title(f"{title}: one layer quantized", fontsize=10)
                ax.set_xlabel("bits per weight of that layer (32 = float)")
                ax.set_xscale("log", base=2)
                ax.set_xticks([2, 3, 4, 6, 8, 32], labels=["2", "3", "4", "6", "8", "32"])
                ax.invert_xaxis()
            ax.set_ylabel("validation accuracy (%)")
            zoom_accuracy(ax, dense - span, dense + 1.0, series)
    fig.suptitle("Sensitivity: one layer compressed at a time, accuracy on the held-out validation "
                 "split\n(points below the axis: triangles, the first one with its value)", fontsize=10)
    legend_below(fig, axes, ncol=3)
    return save_figure(fig, path, mark=mark)
