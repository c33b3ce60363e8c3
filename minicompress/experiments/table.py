"""The results table: rows from :func:`~minicompress.experiments.scaffold.measure`, printed
for a terminal (aligned, at most 100 columns), in full (``wide``), as Markdown, or as JSON.

Every derived number is computed once here, by :mod:`minicompress.metrics`: the compression
ratio against the row named as reference (original / compressed, and the source text's
compressed / original), the accuracy loss in points, the size in KB and the MACs in millions.
"""

from __future__ import annotations

import json
import textwrap

from .. import metrics

__all__ = ["COLUMNS", "WIDE_COLUMNS", "derive", "render", "MAX_WIDTH"]

MAX_WIDTH = 100


def _num(fmt: str):
    def show(v) -> str:
        if v is None:
            return "-"
        text = format(v, fmt)
        return text[1:] if text.startswith("-") and not text.strip("-0.,") else text  # no "-0.0"
    return show


def _text(v) -> str:
    return "" if v is None else str(v)


#: (row key, header, formatter): the columns a reader compares.
COLUMNS = [
    ("method", "method", _text),
    ("fmt", "format", _text),
    ("size_kb", "size KB", _num(",.1f")),
    ("ratio", "ratio", _num(",.1f")),
    ("accuracy", "acc. %", _num(".1f")),
    ("accuracy_loss", "loss pts", _num(".1f")),
    ("mmacs", "M MACs", _num(".3f")),
]
#: Everything a row holds, for ``--wide``.
WIDE_COLUMNS = COLUMNS[:2] + [
    ("params", "params", _num(",d")),
    ("nonzeros", "non-zeros", _num(",d")),
    ("size_kb", "size KB", _num(",.1f")),
    ("ratio", "ratio orig/comp", _num(",.2f")),
    ("ratio_text", "ratio comp/orig (text 2.2)", _num(".3f")),
    ("accuracy", "acc. %", _num(".1f")),
    ("accuracy_loss", "loss pts", _num(".1f")),
    ("mmacs", "M MACs", _num(".3f")),
    ("mmacs_dense", "M MACs dense", _num(".3f")),
    ("latency_ms", "latency ms", _num(",.2f")),
    ("latency_batch", "batch", _num(",d")),
    ("reference", "compared with", _text),
]
NOTES = [
    "size: the stored bytes in the format named (indices, scales and headers included); "
    "ratio: original / compressed size (the text's 2.2 defines the inverse: --wide); "
    "loss: accuracy points lost against the row's reference (the model's dense row unless "
    "named: --wide); MACs: effective multiply-accumulates per image (zeros skipped).",
]


def derive(rows: list[dict]) -> list[dict]:
    """Each row with its ratio, accuracy loss (against the row named in ``reference``), size in
    KB, MACs in millions and accuracy in percent.  A row without reference is its own."""
    by_method = {r["method"]: r for r in rows}
    out = []
    for row in rows:
        d = dict(row)
        ref = by_method.get(row.get("reference") or row["method"])
        if row.get("reference") and ref is None:
            raise ValueError(f"row {row['method']!r} names reference {row['reference']!r}, which is not "
                             f"a row of this table")
        d["size_kb"] = row["size_bits"] / 8 / 1024
        d["ratio"] = metrics.compression_ratio(ref["size_bits"], row["size_bits"])
        d["ratio_text"] = metrics.compression_ratio_text(ref["size_bits"], row["size_bits"])
        d["accuracy_loss"] = (metrics.accuracy_loss(ref["accuracy"], row["accuracy"])
                              if row.get("reference") else None)
        d["accuracy"] = 100 * row["accuracy"]
        d["mmacs"] = None if row.get("macs") is None else row["macs"] / 1e6
        d["mmacs_dense"] = None if row.get("macs_dense") is None else row["macs_dense"] / 1e6
        out.append(d)
    return out


def _groups(rows_and_cells):
    """``(section title or None, [cells, ...])`` in order, from ``(row, cells)`` pairs."""
    groups: list[tuple] = []
    for row, cells in rows_and_cells:
        title = row.get("section_title")
        if not groups or groups[-1][0] != title:
            groups.append((title, []))
        groups[-1][1].append(cells)
    return groups


LEFT = {"method", "fmt", "reference"}  # text columns; the others are right-aligned numbers


def _layout(table, columns, min_width: int = 0):
    """(cells per row, headers, column widths, keys) of ``table``."""
    cells = [[show(r.get(key)) for key, _, show in columns] for r in table]
    heads = [h for _, h, _ in columns]
    widths = [max([len(h), min_width] + [len(c[i]) for c in cells]) for i, h in enumerate(heads)]
    return cells, heads, widths, [k for k, _, _ in columns]


def _pad(keys, values, widths) -> list[str]:
    return [v.ljust(w) if k in LEFT else v.rjust(w) for k, v, w in zip(keys, values, widths)]


def _terminal(table, columns, *, width: int | None) -> list[str]:
    cells, heads, widths, keys = _layout(table, columns)
    if width is not None:  # the method column takes what the others leave, wrapping long names
        rest = sum(widths[1:]) + 2 * (len(widths) - 1)
        widths[0] = max(20, min(widths[0], width - rest))

    def line(values):
        return "  ".join(_pad(keys, values, widths)).rstrip()

    out = [line(heads), "  ".join("-" * w for w in widths)]
    for title, group in _groups(list(zip(table, cells))):
        if title:
            out.extend(textwrap.wrap(title, width or len(title), subsequent_indent="  "))
        for c in group:
            names = textwrap.wrap(c[0], widths[0], subsequent_indent="  ") or [""]
            out.append(line([names[0], *c[1:]]))
            out.extend(line([n] + [""] * (len(c) - 1)) for n in names[1:])
    return out


def _markdown(table, columns) -> list[str]:
    cells, heads, widths, keys = _layout(table, columns, min_width=3)

    def line(values):
        return "| " + " | ".join(_pad(keys, values, widths)) + " |"

    rule = "|" + "|".join("-" * (w + 2) if k in LEFT else "-" * (w + 1) + ":"
                          for k, w in zip(keys, widths)) + "|"
    out = [line(heads), rule]
    for title, group in _groups(list(zip(table, cells))):
        if title:
            out.append(line([f"**{title}**"] + [""] * (len(keys) - 1)))
        out.extend(line(c) for c in group)
    return out


def render(rows: list[dict], style: str = "terminal", *, wide: bool = False, width: int | None = MAX_WIDTH,
           meta: dict | None = None) -> str:
    """The table of ``rows`` (from ``measure``; already derived rows are accepted too).

    ``style``: ``"terminal"`` (aligned columns; the method names wrap to keep the table within
    ``width`` characters unless ``wide``), ``"markdown"`` (a padded pipe table), or ``"json"``
    (``meta`` with every derived row under ``"rows"``).  ``wide`` prints every column.
    """
    if style not in ("terminal", "markdown", "json"):
        raise ValueError(f"style must be 'terminal', 'markdown' or 'json'; got {style!r}")
    table = rows if all("size_kb" in r for r in rows) else derive(rows)
    if style == "json":
        return json.dumps({**(meta or {}), "rows": table}, indent=1)
    columns = WIDE_COLUMNS if wide else COLUMNS
    if style == "markdown":
        return "\n".join(_markdown(table, columns))
    return "\n".join(_terminal(table, columns, width=None if wide else width))


def notes(width: int = MAX_WIDTH) -> str:
    """What the columns mean, wrapped to ``width``."""
    return "\n".join(textwrap.fill(n, width) for n in NOTES)
