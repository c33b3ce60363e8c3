"""The shared look of every figure: titled axes with labelled axes, accuracy axes zoomed on
the region where decisions are made, legends off the data, a smoke-run mark, saved as PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: figures are files, never windows
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["new_figure", "save_figure", "zoom_accuracy", "legend_below"]


def new_figure(title: str, xlabel: str, ylabel: str, *, ncols: int = 1, nrows: int = 1, size=(6.4, 4.2)):
    """A figure with ``nrows`` x ``ncols`` axes; the first gets ``title``/``xlabel``/``ylabel``.

    Returns ``(fig, ax)`` for one axes, ``(fig, axes)`` (flattened, row by row) otherwise.
    """
    fig, axes = plt.subplots(nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), squeeze=False,
                             layout="constrained")
    axes = axes.ravel()
    axes[0].set_title(title)
    axes[0].set_xlabel(xlabel)
    axes[0].set_ylabel(ylabel)
    for ax in axes:
        ax.grid(True, alpha=0.3)
    return fig, (axes[0] if len(axes) == 1 else axes)


def zoom_accuracy(ax, lo: float, hi: float, series) -> None:
    """Zoom the accuracy axis to ``[lo, hi]`` (percent) and mark the points of ``series``
    that fall below it with a triangle on the bottom edge; the first such point of each
    series is labelled with its value (labels at the same x stack upwards).

    series : iterable of ``(x, y, color)``, the points to mark (y in percent); the top of the
        axis rises above ``hi`` if one of them does.
    """
    series = list(series)
    top = max([hi] + [float(np.max(y)) + 0.3 for _, y, _ in series if np.size(y)])
    ax.set_ylim(lo, top)
    stacked: dict = {}
    for x, y, color in series:
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        below = np.flatnonzero(y < lo)
        if below.size:
            ax.plot(x[below], np.full(below.size, lo), "v", color=color, ms=7, clip_on=False, zorder=5)
            xi, yi = x[below[0]], y[below[0]]
            k = stacked[xi] = stacked.get(xi, -1) + 1
            ax.annotate(f"{yi:.0f}", (xi, lo), textcoords="offset points", xytext=(0, 6 + 9 * k),
                        ha="center", fontsize=7, color=color)


def legend_below(fig, axes, *, ncol: int = 3, **kwargs):
    """One legend for the figure, under the axes (never on the data); entries deduplicated."""
    handles, labels = {}, []
    for ax in np.atleast_1d(axes):
        for h, label in zip(*ax.get_legend_handles_labels()):
            if label not in handles:
                handles[label] = h
                labels.append(label)
    return fig.legend([handles[k] for k in labels], labels, loc="outside lower center", ncol=ncol,
                      fontsize=8, frameon=False, **kwargs)


def save_figure(fig, path, *, mark: str | None = None) -> Path:
    """Write ``fig`` to ``path`` (PNG, 120 dpi), close it, return the path.  ``mark`` (the
    smoke-run warning of a quick run) is written large across the figure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if mark:
        fig.text(0.5, 0.5, mark, ha="center", va="center", rotation=15, fontsize=26, color="red",
                 alpha=0.35, zorder=100, fontweight="bold")
    if fig.get_layout_engine() is None:
        fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
