"""The name of the format a model is stored in, for the results table: ``"fp32"``,
``"bitmask"``, ``"int8"``, ``"bitmask+int8"``, ``"1-bit"``, ``"bitmask+2/3-bit"``...

A name has two parts, both read off the layers themselves: where the non-zeros are kept
(``csr``, ``bitmask``; nothing for a dense layer) and how each value is stored (``fp32``,
``int8``, ``b-bit``).  A layer that keeps its own encoding (a quantized, sparse or
compressed layer) is named from that encoding; a plain layer from the format its size is
counted in.  Only names are made here: every bit is counted by :mod:`minicompress.metrics`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..formats import StoredLayer
from ..formats.encoding import get_format

__all__ = ["FormatName", "format_name", "value_name", "encoding_name"]

#: (positions, values) of the plain-array formats of :mod:`minicompress.formats`.
ARRAY_FORMATS = {
    "fp32": (None, "fp32"), "fp16": (None, "fp16"), "csr": ("csr", "fp32"),
    "bitmask": ("bitmask", "fp32"), "relative": ("relative", "fp32"), "int8": (None, "int8"),
    "int8_channel": (None, "int8"), "binary": (None, "1-bit"), "ternary": (None, "2-bit"),
}
SCHEME_VALUES = {"int8": "int8", "binary": "1-bit", "ternary": "2-bit"}


class FormatName(NamedTuple):
    """``summary`` for the table, and ``per_layer`` {layer: name} for the JSON."""

    summary: str
    per_layer: dict


def value_name(bits: int) -> str:
    """How b-bit values are named: 32 -> "fp32", 8 -> "int8", otherwise "b-bit"."""
    return {32: "fp32", 16: "fp16", 8: "int8"}.get(int(bits), f"{int(bits)}-bit")


def encoding_name(enc) -> tuple:
    """(positions, values) of one weight :class:`~minicompress.formats.Encoding`, read off its
    format and header: ``("bitmask", "4-bit")``, ``(None, "int8")``, ``("csr", "fp32")``."""
    fields = {name: enc.field(name) for name in get_format(enc.fmt).extra}
    if enc.fmt in ("bitmask", "csr"):
        bits = fields["bits"]
        return enc.fmt, ("fp16" if enc.arrays["values"].dtype == np.float16 else "fp32") if bits == 0 \
            else value_name(bits)
    if "bits" in fields:  # dense integer codes: int, int8, int8_channel
        return None, value_name(fields["bits"])
    return ARRAY_FORMATS.get(enc.fmt, (None, enc.fmt))


def _own(module):
    """(positions, values) of a layer that keeps its own encoding; None if it holds no weight."""
    scheme = getattr(module, "scheme", None)  # QAT layers: the scheme they deploy
    if scheme in SCHEME_VALUES:
        return None, SCHEME_VALUES[scheme]
    if isinstance(module, StoredLayer):  # the stored-weight family: its weight's encoding
        return encoding_name(module.encodings()["weight"])
    return None  # no weight of its own (input quantizer, ReLU, ...)


def _leaves(module, name=""):
    """(name, (positions, values) or a format name) for each layer holding weights, in order."""
    if callable(getattr(module, "storage_bits", None)):
        parts = _own(module)
        if parts is not None:
            yield name, parts
        return
    if any(p.ndim >= 2 for p in module.params.values()):
        yield name, None
    for child_name, child in module.children().items():
        yield from _leaves(child, f"{name}.{child_name}" if name else child_name)


def _join_values(values: list[str]) -> str:
    """["3-bit", "2-bit"] -> "2/3-bit"; ["fp32", "int8"] -> "fp32/int8"; three kinds or more
    (["fp32", "int8", "4-bit"]) -> "mixed"."""
    distinct = list(dict.fromkeys(values))
    if all(v.endswith("-bit") for v in distinct):
        return "/".join(map(str, sorted(int(v[:-4]) for v in distinct))) + "-bit"
    return "/".join(distinct) if len(distinct) <= 2 else "mixed"


def format_name(model, fmt: str = "fp32") -> FormatName:
    """The format ``model`` is stored in when its size is counted as ``fmt`` (see
    :func:`minicompress.metrics.model_size_bits`: a layer with its own encoding is counted by
    it, a plain layer in ``fmt``, ``"auto"`` meaning fp32).

    The summary joins the layers' position format with ``+`` to their value formats
    (``bitmask+int8``; ``sparse`` when layers use different ones, see ``per_layer``); two
    distinct value formats are joined by ``/`` (``fp32/int8`` when one layer stays float,
    ``2/3-bit`` for mixed widths), more are ``mixed``; a dense layer adds no position part and
    fp32 values are not named after a position part (``csr``, not ``csr+fp32``).
    """
    plain = ARRAY_FORMATS.get("fp32" if fmt == "auto" else fmt, (None, fmt))
    per_layer, positions, values = {}, [], []
    for name, parts in _leaves(model):
        pos, val = plain if parts is None else parts
        per_layer[name] = val if pos is None else (pos if val == "fp32" else f"{pos}+{val}")
        positions.append(pos)
        values.append(val)
    kinds = list(dict.fromkeys(p for p in positions if p))
    pos = kinds[0] if len(kinds) == 1 else ("sparse" if kinds else "")  # csr and bitmask: "sparse"
    val = _join_values(values)
    if pos and val == "fp32":
        return FormatName(pos, per_layer)
    return FormatName(f"{pos}+{val}" if pos else val, per_layer)
