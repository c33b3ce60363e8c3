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

from ..nn._checks import _describe, check_finite, check_sequence, check_shape

__all__ = ["Encoding", "Format", "register", "get_format", "FORMATS", "encode", "decode",
           "size_bits", "smallest", "matrix_view", "index_dtype", "header", "channels",
           "parse_header", "check_parts", "RAW_DTYPES"]

#: the dtypes a ``raw`` array may have: native real numbers (no bool, complex, object or string)
RAW_DTYPES = tuple(np.dtype(t) for t in (np.float16, np.float32, np.float64, np.int8, np.int16, np.int32,
                                         np.int64, np.uint8, np.uint16, np.uint32, np.uint64))


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
    decode : ``decode(arrays, shape) -> array``; it may trust what ``expected_parts``
        promises (names, dtypes, lengths) and checks the rest (index ranges, counts)
    lossless : decode(encode(w)) == w for every array the format accepts
    extra : names of the header fields after the shape
    parts : the array names the format writes (besides ``header``), for checking files
    expected_parts : ``expected_parts(shape, fields) -> {part: (dtypes, lengths)}``, from
        the header alone (``fields``: the extra header fields by name): every part the
        encoding holds besides the header, each a 1-D array of one of ``dtypes`` (a tuple)
        whose length is ``lengths`` (an int) or lies in it (a range or tuple).  It raises
        ``ValueError`` for a header field out of range.  A load checks the arrays of a file
        against it *before* reading them, so the memory a load takes is bounded by the
        target's shape, whatever the file declares.
    """

    encode: Callable
    decode: Callable
    lossless: bool
    extra: tuple = ()
    parts: tuple = ()
    expected_parts: Callable | None = None


_REGISTRY: dict[str, Format] = {}


def register(name: str, fmt: Format) -> None:
    """Add a storage format under ``name`` (each format module registers its own)."""
    if name in _REGISTRY:
        raise ValueError(f"storage format {name!r} is registered twice")
    _REGISTRY[name] = fmt


def get_format(name, arg: str = "fmt") -> Format:
    """The registered :class:`Format` called ``name``; ``arg`` is what the caller's argument
    is called, for the message (``fmt`` must be one of [...]; got 'x')."""
    if not isinstance(name, str):
        raise TypeError(f"{arg} must be one of the storage formats {list(_REGISTRY)}; got {_describe(name)}")
    if name not in _REGISTRY:
        extra = " ('auto' is for whole models: metrics.model_size_bits)" if name == "auto" else ""
        raise ValueError(f"{arg} must be one of the storage formats {list(_REGISTRY)}{extra}; got {name!r}")
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
    shape = check_shape(shape)
    if len(shape) <= 1:
        return 1, int(np.prod(shape, dtype=np.int64))
    return shape[0], int(np.prod(shape[1:], dtype=np.int64))


def channels(shape) -> int:
    """Output channels, the number of per-channel scales: ``shape[0]`` (1 for a 0-D array)."""
    return int(shape[0]) if len(shape) else 1


def index_dtype(max_value: int):
    """The smallest unsigned dtype of 8/16/32 bits holding ``max_value`` (an index bound)."""
    for dt in (np.uint8, np.uint16, np.uint32):
        if max_value <= np.iinfo(dt).max:
            return np.dtype(dt)
    raise ValueError(f"index value {max_value} does not fit in 32 bits")


def parse_header(fmt: str, head, *, ndim: int | None = None) -> tuple[tuple, dict]:
    """``(shape, fields)`` from an encoding's ``header``: a 1-D int32 array holding the shape
    (every dimension >= 1: encodings are never empty), then ``fmt``'s extra fields.  With
    ``ndim``, the shape must have that many dimensions."""
    extra = get_format(fmt).extra
    if not isinstance(head, np.ndarray) or head.dtype != np.int32 or head.ndim != 1:
        got = (f"dtype {head.dtype}, shape {head.shape}" if isinstance(head, np.ndarray)
               else type(head).__name__)
        raise ValueError(f"the header of a {fmt!r} encoding must be a 1-D int32 array; got {got}")
    want = None if ndim is None else ndim + len(extra)
    if head.size < len(extra) or (want is not None and head.size != want):
        raise ValueError(f"the header of a {fmt!r} encoding holds the shape then {list(extra)}: "
                         f"{want if want is not None else f'at least {len(extra)}'} values; got {head.size}")
    shape = tuple(int(d) for d in head[: head.size - len(extra)])
    if any(d < 1 for d in shape):
        raise ValueError(f"the header of a {fmt!r} encoding declares shape {shape}; every dimension "
                         f"must be >= 1")
    return shape, {name: int(v) for name, v in zip(extra, head[head.size - len(extra):])}


def _allowed(lengths) -> str:
    if isinstance(lengths, range):
        return f"{lengths.start}..{lengths.stop - 1}"
    return str(lengths) if isinstance(lengths, int) else " or ".join(str(n) for n in lengths)


def check_parts(fmt: str, shape: tuple, fields: dict, parts: dict) -> None:
    """Check an encoding's parts -- ``parts = {name: (dtype, shape)}``, the header excluded --
    against what ``fmt`` expects for an array of ``shape`` with header ``fields``
    (:attr:`Format.expected_parts`): the same names, 1-D, an allowed dtype and length.
    Only dtypes and shapes are read, never data: a load calls it on the arrays' file headers
    before reading them.  ``ValueError`` naming the part otherwise."""
    spec = get_format(fmt)
    if spec.expected_parts is None:  # a format without the hook: at least its part names
        expected = {p: (None, None) for p in spec.parts}
    else:
        expected = spec.expected_parts(tuple(shape), dict(fields))
    missing, extra = sorted(set(expected) - set(parts)), sorted(set(parts) - set(expected))
    if missing or extra:
        raise ValueError(f"a {fmt!r} encoding of shape {tuple(shape)} holds the parts {sorted(expected)} "
                         f"besides its header; missing {missing}, unexpected {extra}")
    for name, (dtypes, lengths) in expected.items():
        dtype, part_shape = parts[name]
        dtype = np.dtype(dtype)
        if dtypes is not None and dtype not in dtypes:
            raise ValueError(f"part {name!r} of a {fmt!r} encoding must have dtype "
                             f"{' or '.join(str(d) for d in dtypes)}; got {dtype.str} ({dtype})")
        if len(part_shape) != 1:
            raise ValueError(f"part {name!r} of a {fmt!r} encoding must be 1-D; got shape "
                             f"{tuple(part_shape)}")
        n = int(part_shape[0])
        if lengths is not None and not (n == lengths if isinstance(lengths, int) else n in lengths):
            raise ValueError(f"part {name!r} of a {fmt!r} encoding of shape {tuple(shape)} "
                             f"(header fields {fields}) must hold {_allowed(lengths)} values; got {n}")


def encode(w, fmt: str, **options) -> Encoding:
    """Encode array ``w`` in format ``fmt`` (see :mod:`minicompress.formats`); ``options``
    go to the format (e.g. ``bits=4`` for ``"bitmask"``, ``rank=8`` for ``"lowrank"``).

    A float ``w`` must be finite, in every format: no format stores NaN or inf (a NaN would
    become a 0 code, an inf turn the whole tensor into NaN).
    """
    spec = get_format(fmt)
    if not isinstance(w, np.ndarray):
        raise TypeError(f"w must be a numpy array; got {_describe(w)}")
    if w.dtype not in RAW_DTYPES:
        raise TypeError(f"w must be an array of real numbers (float or integer); got dtype {w.dtype}")
    if w.size == 0:
        raise ValueError(f"w is empty (shape {w.shape}); nothing to encode")
    if w.dtype.kind == "f":
        check_finite(w, "w")
    return Encoding(fmt, spec.encode(w, **options))


def decode(enc: Encoding) -> np.ndarray:
    """The array an :class:`Encoding` holds (bit-exact for the lossless formats).

    The encoding is checked first -- its header, its parts' names, dtypes and lengths
    (:func:`check_parts`), every float part finite -- then decoded by the format (which checks
    what depends on the data: index ranges, counts); the result is finite.  A corrupt
    encoding is a ``ValueError``, never a wrong array or an IndexError.
    """
    if not isinstance(enc, Encoding):
        raise TypeError(f"enc must be an Encoding; got {type(enc).__name__}")
    spec = get_format(enc.fmt)
    arrays = enc.arrays
    if not isinstance(arrays, dict) or not all(isinstance(a, np.ndarray) for a in arrays.values()):
        raise TypeError(f"the arrays of a {enc.fmt!r} encoding must be a dict of numpy arrays")
    shape, fields = parse_header(enc.fmt, arrays.get("header"))
    check_parts(enc.fmt, shape, fields, {p: (a.dtype, a.shape) for p, a in arrays.items() if p != "header"})
    for name, a in arrays.items():
        if a.dtype.kind == "f":
            check_finite(a, f"part {name!r} of a {enc.fmt!r} encoding")
    out = spec.decode(arrays, shape)
    if out.dtype.kind == "f":
        check_finite(out, f"the array a {enc.fmt!r} encoding decodes to")
    return out


def size_bits(w, fmt: str, **options) -> int:
    """Exact stored bits of ``w`` in format ``fmt``, header included."""
    return encode(w, fmt, **options).bits


def smallest(w, fmts, **options) -> Encoding:
    """The smallest of ``w``'s encodings in the formats ``fmts`` (ties: the first listed).

    ``smallest(w, ("int8_channel", "bitmask", "csr"), bits=4)`` is how a pruned and
    quantized layer picks where its positions go; the options go to every format.
    """
    if isinstance(fmts, str) or not check_sequence(fmts, "fmts", "format names"):
        raise TypeError(f"fmts must be a non-empty list or tuple of format names; got {fmts!r}")
    for f in fmts:
        get_format(f, "fmts[i]")
    encodings = [encode(w, f, **options) for f in fmts]
    return min(encodings, key=lambda e: e.bits)  # min keeps the first of ties
