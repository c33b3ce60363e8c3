"""Figures of "which range?" and "which rounding?" (tutorial 02): activation calibration
methods on a heavy-tailed layer, and accuracy against bits for RTN / GPTQ / AdaRound."""

from __future__ import annotations

import numpy as np

from .style import new_figure, save_figure

__all__ = ["plot_calibration_methods", "plot_rounding_accuracy"]


def plot_calibration_methods(values, ranges: dict, accuracies: dict, float_accuracy: float, bits, path):
    """Left: histogram (log counts) of one layer's activations with each method's range end
    drawn on it; right: test accuracy with that layer's activations quantized, per method.

    values : the layer's activations (any shape);  ranges : method -> (lo, hi);
    accuracies : method -> (B,) accuracies in % at ``bits`` (B,);  float_accuracy : in %.
    """
    v = np.ravel(values)
    fig, (ax1, ax2) = new_figure("Activations entering ConvNet.fc (after ReLU + pool)", "activation value",
                                 "count (log)", ncols=2)
    ax1.hist(v, bins=150, color="0.6", log=True)
    styles = ["-", "--", ":", "-.", (0, (5, 1))]
    for (name, (_lo, hi)), ls, color in zip(ranges.items(), styles, ["C0", "C1", "C2", "C3", "C4"]):
        ax1.axvline(hi, ls=ls, color=color, label=f"{name}: hi = {hi:.2f}")
    ax1.legend(fontsize=8)
    ax2.set_title("Test accuracy, only this layer's input quantized")
    ax2.set_xlabel("activation bits")
    ax2.set_ylabel("test accuracy (%)")
    for name, acc in accuracies.items():
        ax2.plot(bits, acc, marker="o", label=name)
    ax2.axhline(float_accuracy, color="k", ls="--", label=f"float32 ({float_accuracy:.1f}%)")
    ax2.set_xticks(list(bits))
    ax2.legend(fontsize=8)
    return save_figure(fig, path)


def plot_rounding_accuracy(bits, accuracies: dict, float_accuracy: float, path, *, title: str):
    """Test accuracy against weight bits, one curve per rounding method (no retraining).

    bits : (B,) ints;  accuracies : method -> (B,) accuracies in %;  float_accuracy : in %.
    """
    fig, ax = new_figure(title, "bits per weight (per-channel scale)", "test accuracy (%)")
    for (name, acc), marker in zip(accuracies.items(), "osd^v"):
        ax.plot(bits, acc, marker=marker, label=name)
    ax.axhline(float_accuracy, color="k", ls="--", label=f"float32 ({float_accuracy:.1f}%)")
    ax.set_xticks(list(bits))
    ax.legend()
    return save_figure(fig, path)
