"""The :class:`Encoding` of an array and the registry of storage formats.

An encoding is the few plain arrays that would be written to disk; its size is the sum of
those arrays' bytes, so the size accounted is exactly the size stored.  Every encoding
starts with a ``header``: the array's shape as int32 (32 bits per dimension), then the
format's extra fields (its :attr:`Format.extra` names them, e.g. CSR's non-zero count ``z``
and the value ``bits``).

Arrays of more than two dimensions are viewed as 2-D ``(shape[0], prod(shape[1:]))``: a
Conv2d weight (C_out, C_in, kh, kw) is the matrix (C_out, C_in*kh*kw), the im2col layout;
a 1-D array (a bias) is the row (1, n).  "Per channel" always means per row of that view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Encoding", "Format", "register", "get_format", "FORMATS", "encode", "decode",
           "size_bits", "smallest", "matrix_view", "index_dtype", "header"]


@dataclass(frozen=True)
class Encoding:
    """An array in a storage format: ``arrays`` is exactly what is written to disk."""

    fmt: str
    arrays: dict = field(repr=False)

    @property
    def bits(self) -> int:
        """Exact stored size in bits, header included."""
        return 8 * int(sum(a.nbytes for a in self.arrays.values()))

    @property
    def header_bits(self) -> int:
        return 8 * int(self.arrays["header"].nbytes)

    @property
    def payload_bits(self) -> int:
        return self.bits - self.header_bits

    @property
    def shape(self) -> tuple:
        """The encoded array's shape (the header without the format's extra fields)."""
        head = self.arrays["header"]
        return tuple(int(d) for d in head[: len(head) - len(get_format(self.fmt).extra)])

    def field(self, name: str) -> int:
        """One of the format's extra header fields by name (``enc.field("bits")``)."""
        extra = get_format(self.fmt).extra
        if name not in extra:
            raise ValueError(f"format {self.fmt!r} has no header field {name!r}; it has {list(extra)}")
        head = self.arrays["header"]
        return int(head[len(head) - len(extra) + extra.index(name)])

    def decode(self) -> np.ndarray:
        return decode(self)


@dataclass(frozen=True)
class Format:
    """How one format encodes and decodes.

    encode : ``encode(w, **options) -> dict of arrays`` (the header first)
    decode : ``decode(arrays, shape) -> array``
    lossless : decode(encode(w)) == w for every array the format accepts
    extra : names of the header fields after the shape
    parts : the array names the format writes (besides ``header``), for checking files
    """

    encode: Callable
    decode: Callable
    lossless: bool
    extra: tuple = ()
    parts: tuple = ()


_REGISTRY: dict[str, Format] = {}


def register(name: str, fmt: Format) -> None:
    """Add a storage format under ``name`` (each format module registers its own)."""
    if name in _REGISTRY:
        raise ValueError(f"storage format {name!r} is registered twice")
    _REGISTRY[name] = fmt


def get_format(name) -> Format:
    if not isinstance(name, str) or name not in _REGISTRY:
        extra = " ('auto' is for whole models: metrics.model_size_bits)" if name == "auto" else ""
        raise ValueError(f"unknown storage format {name!r}{extra}; choose from {list(_REGISTRY)}")
    return _REGISTRY[name]


class _Names:
    """Read-only view of the registered format names, in registration order."""

    def __iter__(self):
        return iter(tuple(_REGISTRY))

    def __contains__(self, name):
        return name in _REGISTRY

    def __len__(self):
        return len(_REGISTRY)

    def __repr__(self):
        return repr(tuple(_REGISTRY))


#: every array format's name (``"auto"`` is a model-level choice: metrics.model_size_bits)
FORMATS = _Names()


def header(shape, *extra) -> np.ndarray:
    """The int32 header: the shape, then the format's extra fields."""
    return np.array([*shape, *extra], dtype=np.int32)


def matrix_view(shape) -> tuple[int, int]:
    """The 2-D view formats use: ``(shape[0], prod(shape[1:]))``; 1-D and 0-D -> ``(1, n)``."""
    shape = tuple(shape)
    if len(shape) <= 1:
        return 1, int(np.prod(shape, dtype=np.int64))
    return shape[0], int(np.prod(shape[1:], dtype=np.int64))


def index_dtype(max_value: int):
    """The smallest unsigned dtype of 8/16/32 bits holding ``max_value`` (an index bound)."""
    for dt in (np.uint8, np.uint16, np.uint32):
        if max_value <= np.iinfo(dt).max:
            return np.dtype(dt)
    raise ValueError(f"index value {max_value} does not fit in 32 bits")


def encode(w, fmt: str, **options) -> Encoding:
    """Encode array ``w`` in format ``fmt`` (see :mod:`minicompress.formats`); ``options``
    go to the format (e.g. ``bits=4`` for ``"bitmask"``, ``rank=8`` for ``"lowrank"``)."""
    spec = get_format(fmt)
    if not isinstance(w, np.ndarray):
        raise TypeError(f"w must be a numpy array; got {type(w).__name__}")
    if w.size == 0:
        raise ValueError(f"w is empty (shape {w.shape}); nothing to encode")
    return Encoding(fmt, spec.encode(w, **options))


def decode(enc: Encoding) -> np.ndarray:
    """The array an :class:`Encoding` holds (bit-exact for the lossless formats)."""
    if not isinstance(enc, Encoding):
        raise TypeError(f"enc must be an Encoding; got {type(enc).__name__}")
    return get_format(enc.fmt).decode(enc.arrays, enc.shape)


def size_bits(w, fmt: str, **options) -> int:
    """Exact stored bits of ``w`` in format ``fmt``, header included."""
    return encode(w, fmt, **options).bits


def smallest(w, fmts, **options) -> Encoding:
    """The smallest of ``w``'s encodings in the formats ``fmts`` (ties: the first listed).

    ``smallest(w, ("int8_channel", "bitmask", "csr"), bits=4)`` is how a pruned and
    quantized layer picks where its positions go; the options go to every format.
    """
    if isinstance(fmts, str) or not fmts:
        raise TypeError(f"fmts must be a non-empty sequence of format names; got {fmts!r}")
    encodings = [encode(w, f, **options) for f in fmts]
    return min(encodings, key=lambda e: e.bits)  # min keeps the first of ties
