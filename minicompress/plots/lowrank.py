"""Figures of the low-rank section (3.4 / 4.4): singular-value spectra of trained layers,
and accuracy against the parameters kept by a factorised layer.  Plain arrays in, PNG out."""

from __future__ import annotations

import numpy as np

from .style import legend_below, new_figure, save_figure, zoom_accuracy

__all__ = ["plot_singular_values", "plot_accuracy_vs_rank"]


def plot_singular_values(spectra: dict, path, *, dashed=(), mark=None):
    """Left: s_i / s_1 against i (log y).  Right: kept energy sum_{j<=i} s_j^2 / sum s^2 against
    the rank as a fraction of min(m, n).

    spectra : {label: (k,) singular values, decreasing};  dashed : labels drawn dashed
    (e.g. an untrained layer, for comparison).
    """
    fig, (ax, ax2) = new_figure("Singular values of each layer's weight matrix", "index i",
                                "s_i / s_1 (log scale)", ncols=2)
    colours = {label: f"C{i}" for i, label in enumerate(spectra)}
    for label, s in spectra.items():
        s = np.asarray(s, dtype=float)
        style = "--" if label in dashed else "-"
        i = np.arange(1, len(s) + 1)
        ax.semilogy(i, s / s[0], style, color=colours[label], label=label)
        ax2.plot(i / len(s), np.cumsum(s**2) / np.sum(s**2), style, color=colours[label], label=label)
    ax.set_xscale("log")
    ax.set_xlabel("index i of the singular value (log scale)")
    ax2.set_title("Share of sum(s^2) kept by the best rank-r approximation")
    ax2.set_xlabel("rank r as a fraction of min(m, n)")
    ax2.set_ylabel("kept energy (1 - relative Frobenius error^2)")
    ax2.axhline(0.9, color="grey", lw=0.8, ls=":", label="90% of the energy")
    legend_below(fig, (ax, ax2), ncol=4)
    return save_figure(fig, path, mark=mark)


def plot_accuracy_vs_rank(panels: dict, path, *, span: float = 10.0, mark=None):
    """One panel per factorised layer: test accuracy before and after fine-tuning against the
    layer's parameter count, each point labelled with its rank; the dense layer as a star.

    panels : {title: {"params": (k,), "ranks": (k,), "before": (k,) %, "after": (k,) %,
              "dense_params": int, "dense_accuracy": float %, optional "dense_ft_accuracy":
              the dense model trained for as many extra epochs, the fair control}}
    span : the accuracy axis shows ``span`` points below the dense accuracy (points further
        down sit on the bottom edge, labelled with their value).
    """
    fig, axes = new_figure("", "parameters of the factorised layer (log scale)", "test accuracy (%)",
                           ncols=len(panels))
    axes = np.atleast_1d(axes)
    for ax, (title, p) in zip(axes, panels.items()):
        ax.set_title(title)
        ax.set_xlabel("parameters of the factorised layer (log scale)")
        ax.set_ylabel("test accuracy (%)")
        ax.semilogx(p["params"], p["before"], "o--", color="C0", label="SVD, before fine-tuning")
        ax.semilogx(p["params"], p["after"], "o-", color="C1", label="SVD, after fine-tuning")
        ax.semilogx([p["dense_params"]], [p["dense_accuracy"]], "k*", ms=12, label="dense layer")
        if "dense_ft_accuracy" in p:
            ax.semilogx([p["dense_params"]], [p["dense_ft_accuracy"]], "k*", ms=12, mfc="none",
                        label="dense, fine-tuned as long")
        ax.axhline(p["dense_accuracy"] - 1, color="black", lw=1, ls="--", label="dense - 1 point")
        ax.axvline(p["dense_params"] / 4, color="0.5", lw=0.8, ls="-.",
                   label="1/4 of the dense layer's parameters")
        for x, y, r in zip(p["params"], p["after"], p["ranks"]):
            ax.annotate(f"r={r}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        lo = p["dense_accuracy"] - span
        zoom_accuracy(ax, lo, p["dense_accuracy"] + 2, [(p["params"], p["before"], "C0"),
                                                        (p["params"], p["after"], "C1")])
    fig.suptitle("Low rank: accuracy against the parameters kept (points below the axis: value shown)",
                 fontsize=10)
    legend_below(fig, axes, ncol=3)
    return save_figure(fig, path, mark=mark)
