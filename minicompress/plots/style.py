"""The shared look of every figure: a titled axes with labelled axes, saved as a PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: figures are files, never windows
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["new_figure", "save_figure"]


def new_figure(title: str, xlabel: str, ylabel: str, *, ncols: int = 1, size=(6.4, 4.2)):
    """A figure with ``ncols`` axes; the first gets ``title``/``xlabel``/``ylabel``.

    Returns ``(fig, ax)`` for one column, ``(fig, axes)`` otherwise.
    """
    fig, axes = plt.subplots(1, ncols, figsize=(size[0] * ncols, size[1]), squeeze=False)
    axes = axes[0]
    axes[0].set_title(title)
    axes[0].set_xlabel(xlabel)
    axes[0].set_ylabel(ylabel)
    for ax in axes:
        ax.grid(True, alpha=0.3)
    return fig, (axes[0] if ncols == 1 else axes)


def save_figure(fig, path) -> Path:
    """Write ``fig`` to ``path`` (PNG, 120 dpi, tight), close it, return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
