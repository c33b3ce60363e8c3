"""Figures, drawn with matplotlib from plain arrays and result rows (no technique imports).

One module per topic (``plots/pruning.py``, ...); :mod:`.style` holds the shared look:
every figure has a title, axis labels with units and a legend where there is more than one
series, and is written as a PNG at a readable size.
"""

from .style import new_figure, save_figure

__all__ = ["new_figure", "save_figure"]
