"""Figures of "which range?" and "which rounding?" (tutorial 02): activation calibration
methods on a heavy-tailed layer, and accuracy against bits for RTN / GPTQ / AdaRound."""

from __future__ import annotations

import numpy as np

from .style import legend_below, new_figure, save_figure, zoom_accuracy

__all__ = ["plot_calibration_methods", "plot_rounding_accuracy"]

#: one colour per method, the same in every panel
_COLORS = ["C0", "C1", "C2", "C3", "C4"]


def plot_calibration_methods(values, ranges: dict, accuracies: dict, float_accuracy: float, bits, path, *,
                             mark: str | None = None):
    """Left: histogram (log counts) of one layer's activations with each method's range end
    drawn on it; right: test accuracy with that layer's activations quantized, per method,
    zoomed on the 2.6 points below float32 (lower points are marked on the bottom edge).

    values : the layer's activations (any shape);  ranges : method -> (lo, hi);
    accuracies : method -> (B,) accuracies in % at ``bits`` (B,);  float_accuracy : in %.
    """
    v = np.ravel(values)
    fig, (ax1, ax2) = new_figure("Activations entering ConvNet.fc (after ReLU + pool)", "activation value",
                                 "count (log scale)", ncols=2)
    ax1.hist(v, bins=150, color="0.6", log=True)
    styles = ["-", "--", ":", "-.", (0, (5, 1))]
    for (name, (_lo, hi)), ls, color in zip(ranges.items(), styles, _COLORS):
        ax1.axvline(hi, ls=ls, color=color, label=f"{name} (range end at 4 bits {hi:.2f})")
    ax2.set_title("Test accuracy, only this layer's input quantized")
    ax2.set_xlabel("activation bits")
    ax2.set_ylabel("test accuracy (%)")
    for acc, color in zip(accuracies.values(), _COLORS):
        ax2.plot(bits, acc, marker="o", color=color)
    ax2.axhline(float_accuracy, color="k", ls="--", label=f"float32 ({float_accuracy:.1f}%)")
    zoom_accuracy(ax2, float_accuracy - 2.6, float_accuracy + 0.6,
                  [(bits, acc, c) for (_, acc), c in zip(accuracies.items(), _COLORS)])
    ax2.set_xticks(list(bits))
    legend_below(fig, (ax1, ax2), ncol=3)
    return save_figure(fig, path, mark=mark)


def plot_rounding_accuracy(bits, accuracies: dict, float_accuracy: float, path, *, title: str,
                           mark: str | None = None):
    """Test accuracy against weight bits, one curve per rounding method (no retraining),
    zoomed on the 3 points below float32 (lower points are marked on the bottom edge).

    bits : (B,) ints;  accuracies : method -> (B,) accuracies in %;  float_accuracy : in %.
    """
    fig, ax = new_figure(title, "bits per weight (per-channel scale)", "test accuracy (%)")
    for (name, acc), marker, color in zip(accuracies.items(), "osd^v", _COLORS):
        ax.plot(bits, acc, marker=marker, color=color, label=name)
    ax.axhline(float_accuracy, color="k", ls="--", label=f"float32 ({float_accuracy:.1f}%)")
    zoom_accuracy(ax, float_accuracy - 3.0, float_accuracy + 0.6,
                  [(bits, acc, c) for (_, acc), c in zip(accuracies.items(), _COLORS)])
    ax.set_xticks(list(bits))
    legend_below(fig, ax, ncol=3)
    return save_figure(fig, path, mark=mark)
