"""Figures for knowledge distillation (section 3.3 / 4.3): plain arrays in, PNG out."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import NullFormatter

from .style import legend_below, new_figure, save_figure

__all__ = ["plot_temperature_sweep", "plot_soft_targets"]


def plot_temperature_sweep(temperatures, alphas, mean, spread, path, *, alone=None, teacher=None,
                           n_seeds=None, mark=None):
    """Student test accuracy against the temperature T, one line per alpha, with error bars.

    Parameters
    ----------
    temperatures : (K,) temperatures (plotted on a log axis)
    alphas : (A,) hard-label weights
    mean, spread : (A, K) accuracy in percent: mean over seeds and its spread (e.g. std)
    path : where to write the PNG
    alone : optional (mean, spread) of the same student trained alone (a shaded band)
    teacher : optional teacher accuracy in percent (a dashed line)
    n_seeds : number of seeds behind each point, for the title
    """
    T = np.asarray(temperatures, dtype=float)
    mean, spread = np.asarray(mean, dtype=float), np.asarray(spread, dtype=float)
    seeds = "" if n_seeds is None else f"\n({n_seeds} seeds, mean ± sample std)"
    fig, ax = new_figure(f"Distilled student: test accuracy vs temperature{seeds}",
                         "temperature T (log scale)", "test accuracy (%)")
    ax.set_xscale("log")
    for i, a in enumerate(alphas):
        offset = 1 + 0.04 * (i - (len(alphas) - 1) / 2)  # spread the error bars apart a little
        ax.errorbar(T * offset, mean[i], yerr=spread[i], marker="o", capsize=3,
                    label=f"distilled, alpha = {a:g}")
    if alone is not None:
        m, s = alone
        ax.axhspan(m - s, m + s, color="gray", alpha=0.2)
        ax.axhline(m, color="gray", label=f"student alone ({m:.2f}%)")
    if teacher is not None:
        ax.axhline(teacher, color="black", linestyle="--", label=f"teacher ({teacher:.2f}%)")
    ax.set_xticks(T)
    ax.set_xticklabels([f"{t:g}" for t in T])
    ax.xaxis.set_minor_formatter(NullFormatter())
    legend_below(fig, ax, ncol=2)
    return save_figure(fig, path, mark=mark)


def plot_soft_targets(probs, temperatures, path, *, label=None, image=None, mark=None):
    """The teacher's softmax(z / T) for one input at several temperatures, as grouped bars.

    Parameters
    ----------
    probs : (K, C) probabilities, one row per temperature
    temperatures : (K,) the temperatures of the rows
    path : where to write the PNG
    label : the input's true class (for the title)
    image : optional (H, W) image of the input, drawn beside the bars
    """
    probs = np.asarray(probs, dtype=float)
    K, C = probs.shape
    title = "Teacher's soft targets softmax(z / T)" + ("" if label is None else f" for a digit {label}")
    fig, axes = new_figure(title, "class (digit)", "probability", ncols=1 if image is None else 2,
                           size=(6.4, 4.2))
    ax = axes if image is None else axes[0]
    width = 0.8 / K
    for k, T in enumerate(temperatures):
        ax.bar(np.arange(C) + (k - (K - 1) / 2) * width, probs[k], width, label=f"T = {T:g}")
    ax.axhline(1 / C, color="gray", linestyle=":", label=f"uniform 1/{C}")
    ax.set_xticks(np.arange(C))
    ax.set_yscale("log")
    floor = max(probs.min(), 1e-9) / 2  # bars below 1e-9 are cut off at the bottom
    ax.set_ylim(floor, 2.0)
    ax.set_ylabel("probability (log scale)")
    if image is not None:
        axes[1].imshow(image, cmap="gray_r")
        axes[1].set_title("the input")
        axes[1].set_xlabel("pixel column")
        axes[1].set_ylabel("pixel row")
        axes[1].grid(False)
    legend_below(fig, axes, ncol=K + 1)
    return save_figure(fig, path, mark=mark)
