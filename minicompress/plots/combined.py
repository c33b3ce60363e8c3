"""Figure of the combination section (2.3 / 7.1): the sensitivity table, drawn.  Plain
arrays in, PNG out."""

from __future__ import annotations

import numpy as np

from .style import new_figure, save_figure

__all__ = ["plot_sensitivity"]


def plot_sensitivity(tables: dict, path, *, budget: float | None = None):
    """Two panels per model: validation accuracy with ONE layer pruned (against sparsity)
    and with one layer quantized (against bits), one line per layer.

    tables : {model title: {"layers": [names], "weights": (L,) counts, "sparsities": (S,),
              "bits": (B,), "dense_accuracy": float, "prune_accuracy": (L, S),
              "quant_accuracy": (L, B)}}, accuracies as fractions (combine.sensitivity)
    budget : optional accuracy budget in points, drawn as a line ``budget`` below the dense
    """
    n = 2 * len(tables)
    fig, axes = new_figure("", "", "", ncols=n, size=(4.2, 3.8))
    axes = np.atleast_1d(axes)
    for k, (title, t) in enumerate(tables.items()):
        dense = 100 * t["dense_accuracy"]
        s_order = np.argsort(t["sparsities"])
        b_order = np.argsort(t["bits"])[::-1]
        for ax, kind in zip(axes[2 * k: 2 * k + 2], ("prune", "quant")):
            for i, (layer, count) in enumerate(zip(t["layers"], t["weights"])):
                label = f"{layer} ({int(count):,} weights)"
                if kind == "prune":
                    x = np.r_[0.0, 100 * np.asarray(t["sparsities"])[s_order]]
                    y = np.r_[dense, 100 * np.asarray(t["prune_accuracy"])[i, s_order]]
                else:
                    x = np.r_[32, np.asarray(t["bits"])[b_order]]
                    y = np.r_[dense, 100 * np.asarray(t["quant_accuracy"])[i, b_order]]
                ax.plot(x, y, "o-", color=f"C{i}", ms=4, label=label)
            ax.axhline(dense, color="0.4", lw=1, ls=":", label=f"uncompressed ({dense:.1f}%)")
            if budget is not None:
                ax.axhline(dense - budget, color="tab:red", lw=0.8, ls="--",
                           label=f"uncompressed - {budget:g} point")
            if kind == "prune":
                ax.set_title(f"{title}: one layer pruned")
                ax.set_xlabel("sparsity of that layer (%, magnitude, no fine-tuning)")
            else:
                ax.set_title(f"{title}: one layer quantized")
                ax.set_xlabel("bits per weight of that layer (32 = float)")
                ax.set_xscale("log", base=2)
                ax.set_xticks([2, 3, 4, 6, 8, 32], labels=["2", "3", "4", "6", "8", "32"])
                ax.invert_xaxis()
            ax.set_ylabel("validation accuracy (%)")
            ax.set_ylim(0, 100)
            ax.legend(fontsize=7, loc="lower left")
    return save_figure(fig, path)
