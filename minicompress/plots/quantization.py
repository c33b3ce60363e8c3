"""Figures of the quantization section: error and accuracy against bits, weight histogram."""

from __future__ import annotations

import numpy as np

from .style import legend_below, new_figure, save_figure, zoom_accuracy

__all__ = ["plot_error_vs_bits", "plot_weight_histogram"]


def plot_error_vs_bits(bits, errors: dict, accuracies: dict, baseline_accuracy: float, path, *,
                       span: float = 8.0, mark=None):
    """Left: relative RMS weight error vs bits (log scale) per curve; right: test accuracy,
    zoomed to ``span`` points below the float model (points further down sit on the bottom
    edge, labelled with their value).  One colour per curve label in both panels.

    bits : (B,) ints;  errors, accuracies : label -> (B,) arrays (accuracy in %);
    baseline_accuracy : the float model's accuracy in %, drawn as a line.
    """
    bits = np.asarray(bits)
    fig, (ax1, ax2) = new_figure("Weight error vs bits (symmetric, ConvNet)", "bits per weight",
                                 "relative RMS error ||w - w_hat|| / ||w|| (log scale)", ncols=2)
    colours = {label: f"C{i}" for i, label in enumerate(dict.fromkeys([*errors, *accuracies]))}
    for label, err in errors.items():
        ax1.semilogy(bits, err, marker="o", color=colours[label], label=label)
    ax1.semilogy(bits, 2.0 ** -(bits - 1), ":", color="0.3", label="2^-(b-1): halves per bit")
    ax2.set_title("Test accuracy vs bits (every weight quantized)")
    ax2.set_xlabel("bits per weight")
    ax2.set_ylabel("test accuracy (%)")
    series = []
    for label, acc in accuracies.items():
        ax2.plot(bits, acc, marker="o", color=colours[label], label=label)
        series.append((bits, acc, colours[label]))
    ax2.axhline(baseline_accuracy, color="0.4", ls=":", label=f"float32 ({baseline_accuracy:.1f}%)")
    ax2.axhline(baseline_accuracy - 1, color="black", ls="--", lw=1, label="float32 - 1 point")
    zoom_accuracy(ax2, baseline_accuracy - span, baseline_accuracy + 1.5, series)
    legend_below(fig, (ax1, ax2), ncol=5)
    return save_figure(fig, path, mark=mark)


def plot_weight_histogram(w, q, levels: dict, path, *, mark=None):
    """Left: histogram of the float weights with the binary/ternary levels drawn on it;
    right: histogram of their int8 codes (the text's q = round(w / max|w| * 127)).

    w : float weights (any shape);  q : int8 codes of w;  levels : label -> value > 0,
    each drawn at +-value.
    """
    w, q = np.ravel(w), np.ravel(q)
    fig, (ax1, ax2) = new_figure("Trained ConvNet fc weights", "weight value (no unit)", "count", ncols=2)
    ax1.hist(w, bins=120, color="0.6")
    styles = ["--", ":", "-.", (0, (5, 1))]
    for (label, value), ls, color in zip(levels.items(), styles, ["C0", "C1", "C2", "C3"]):
        ax1.axvline(value, ls=ls, color=color, label=f"{label} = ±{value:.4f}")
        ax1.axvline(-value, ls=ls, color=color)
    ax2.set_title("Their int8 codes (per-tensor scale = max|w|)")
    ax2.set_xlabel("int8 code q (integer)")
    ax2.set_ylabel("count (log scale)")
    ax2.hist(q, bins=np.arange(-127.5, 128.5, 1.0), color="0.4", log=True)
    used = np.unique(q).size
    ax2.text(0.02, 0.95, f"{used} of 255 codes used", transform=ax2.transAxes, va="top")
    legend_below(fig, ax1, ncol=3)
    return save_figure(fig, path, mark=mark)
