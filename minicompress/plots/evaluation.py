"""Figures of the evaluation section (2.2): where sparse execution starts to pay."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FuncFormatter

from .style import legend_below, new_figure, save_figure

__all__ = ["plot_sparse_speedup"]


def _minor_label(value, _pos) -> str:
    """Label the minor log ticks 2, 3 and 5 (and 0.2, 0.3, 0.5, 20, ...) only."""
    return f"{value:g}x" if f"{value:.0e}"[0] in "235" else ""


def plot_sparse_speedup(sparsities, speedups: dict, path, *, panels: dict | None = None, mark=None):
    """Speedup of the CSR kernel over the dense GEMM (dense time / sparse time) against
    sparsity, one line per batch size, on a log axis with the break-even line at 1.

    ``speedups`` maps a panel title (e.g. ``"Linear 784->300"``) to ``{batch: array}``
    with one value per entry of ``sparsities`` (fractions in [0, 1]).  ``panels`` may map
    the same titles to a subtitle (e.g. the thread settings).  Returns the path written.
    """
    x = 100 * np.asarray(sparsities, dtype=float)
    titles = list(speedups)
    fig, axes = new_figure(
        "Sparse (CSR, scipy) vs dense (BLAS) forward pass", "weight sparsity (%)",
        "speedup = dense time / sparse time (x)", ncols=len(titles),
    )
    axes = np.atleast_1d(axes)
    for ax, title in zip(axes, titles):
        for batch, values in speedups[title].items():
            ax.plot(x, values, marker="o", label=f"batch {batch}")
        ax.axhline(1.0, color="black", linewidth=1, linestyle="--", label="break-even")
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
        ax.yaxis.set_minor_formatter(FuncFormatter(_minor_label))
        ax.set_xlabel("weight sparsity (%)")
        ax.set_ylabel("speedup = dense time / sparse time (x)")
        sub = (panels or {}).get(title)
        ax.set_title(title if sub is None else f"{title}\n{sub}", fontsize=9)
    fig.suptitle("Sparse (CSR, scipy) vs dense (BLAS) forward pass: above 1 sparse is faster")
    legend_below(fig, axes, ncol=4)
    return save_figure(fig, path, mark=mark)
