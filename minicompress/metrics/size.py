"""Size, section 2.2: the *stored* size of a model and the compression ratio, both ways.

:func:`model_size_bits` encodes every weight in a storage format of
:mod:`minicompress.formats` (index arrays, scales and headers included), so a pruned model
kept as dense float32 is exactly as large as before; a layer that stores its own weight (the
stored-weight family) counts its own encodings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import formats
from ..nn._checks import check_bool, check_choice, check_int
from ..nn.module import check_module

__all__ = ["SizeReport", "model_size_bits", "compression_ratio", "compression_ratio_text",
           "parameter_counts", "sparsity"]


@dataclass
class SizeReport:
    """Stored size of a model: ``bits[layer]``, the format used per layer, and ``total``."""

    fmt: str
    bits: dict = field(default_factory=dict)
    formats: dict = field(default_factory=dict)

    @property
    def total(self) -> int:
        return int(sum(self.bits.values()))

    def __int__(self) -> int:
        return self.total

    @property
    def kilobytes(self) -> float:
        return self.total / 8 / 1024


def _own_storage(module) -> bool:
    return callable(getattr(module, "storage_bits", None))


def _leaves(module, name=""):
    """``(name, module)`` for every module that owns storage: a layer with ``storage_bits()``
    (its children are not visited: it counts them) or a module with parameters."""
    if _own_storage(module):
        yield name, module
        return
    if module.params:
        yield name, module
    for child_name, child in module.children().items():
        yield from _leaves(child, f"{name}.{child_name}" if name else child_name)


def model_size_bits(model, fmt: str = "fp32", **options) -> SizeReport:
    """Stored bits of ``model`` per layer and in total (``.total``; ``int(report)``).

    ``fmt`` is one of :data:`formats.FORMATS` or ``"auto"``.  It applies to every weight array
    (ndim >= 2) of the plain layers; 1-D parameters (biases) are counted as fp32 in every
    format.  A layer that defines ``storage_bits()`` (a quantized, sparse or factorised
    layer) is always counted by it, whatever ``fmt`` says: it knows how it is stored.
    ``"auto"`` is therefore: each layer's own ``storage_bits()``, else fp32.
    ``options`` go to the format (e.g. ``rank=8`` for ``"lowrank"``).
    """
    check_module(model)
    check_choice(fmt, "fmt", [*formats.FORMATS, "auto"])
    array_fmt = "fp32" if fmt == "auto" else fmt
    report = SizeReport(fmt)
    for name, mod in _leaves(model):
        key = name or type(mod).__name__
        if _own_storage(mod):
            report.bits[key] = check_int(mod.storage_bits(), f"{key}.storage_bits()", low=0)
            report.formats[key] = f"own ({type(mod).__name__})"
            continue
        bits, used = 0, set()
        for p in mod.params.values():
            f = array_fmt if p.ndim >= 2 else "fp32"
            bits += formats.size_bits(p, f, **(options if f == array_fmt else {}))
            used.add(f)
        report.bits[key] = bits
        report.formats[key] = "+".join(sorted(used))
    if not report.bits:
        raise ValueError(f"model {type(model).__name__} has no parameters and no layer with storage_bits()")
    return report


def _bits(x, name: str) -> int:
    if isinstance(x, SizeReport):
        return x.total
    return check_int(x, name, low=1)


def compression_ratio(original, compressed) -> float:
    """``original bits / compressed bits``: how many times smaller (10.0 = ten times).

    The source text (section 2.2) defines the compression rate the other way round, as
    compressed size / original size (0.1 for the same model): that is
    :func:`compression_ratio_text`.  The tour prints both, labelled.  Arguments are bit
    counts or :class:`SizeReport`; an unchanged model has ratio exactly 1.
    """
    o, c = _bits(original, "original"), _bits(compressed, "compressed")
    return o / c


def compression_ratio_text(original, compressed) -> float:
    """The source text's section 2.2 rate: ``compressed bits / original bits`` (smaller is better)."""
    return _bits(compressed, "compressed") / _bits(original, "original")


def parameter_counts(model) -> tuple[int, int]:
    """``(parameters, non-zero parameters)`` of ``model``.  A layer that stores its weights
    outside ``params`` (a sparse layer) reports them with ``parameter_counts()``."""
    check_module(model)
    total = nonzero = 0
    for _, mod in _leaves(model):
        if callable(getattr(mod, "parameter_counts", None)):
            t, z = mod.parameter_counts()
        else:
            t = sum(p.size for p in mod.params.values())
            z = sum(int(np.count_nonzero(p)) for p in mod.params.values())
        total, nonzero = total + int(t), nonzero + int(z)
    return total, nonzero


def sparsity(model, *, weights_only: bool = False) -> float:
    """Fraction of parameters that are exactly zero, in [0, 1] (-0.0 counts as zero).

    With ``weights_only`` only arrays of ndim >= 2 count (what pruning masks).
    """
    check_module(model)
    weights_only = check_bool(weights_only, "weights_only")
    arrays = [p for _, p in model.named_parameters() if p.ndim >= 2 or not weights_only]
    total = sum(p.size for p in arrays)
    if total == 0:
        raise ValueError(f"model {type(model).__name__} has no parameters; sparsity is undefined")
    return 1.0 - sum(int(np.count_nonzero(p)) for p in arrays) / total
