"""Sparse formats: only the non-zeros are stored, with where they are.

==========  ========================================================================
name        stored (n = w.size, z = non-zeros, (m, k) the 2-D view, b value bits)
==========  ========================================================================
bitmask     header(shape, bits) + 8*ceil(n/8) mask + the z values
csr         header(shape, z, bits) + the z values + z*i column indices + (m+1)*p row
            pointers (i, p: the smallest of 8/16/32 bits that holds k-1 and z)
==========  ========================================================================

The values are stored as they are (``bits=None``, header field 0: float32, float16 or int8
values, b = 32, 16 or 8), or -- pruned *and* quantized, section 2.3 and Deep Compression's
layout minus weight sharing -- as b-bit symmetric codes (``bits=b``, 2..16), one float32 scale
per output channel (``per_channel=True``, the default) or per tensor: ``8*ceil(z*b/8) + 32c``.
A zero of ``w`` (a pruned weight) is not stored and decodes to exactly 0.0; with ``bits`` a
surviving weight whose code rounds to 0 (|w| < scale / (2 qmax)) is a zero too.  Zeros
decode as +0.0 (a -0.0 loses its sign).
"""

from __future__ import annotations

import math

import numpy as np

from ..nn._checks import check_bits, check_bool
from .encoding import Format, channels, header, index_dtype, matrix_view, register
from .packing import pack_codes, packed_bytes, unpack_codes
from .symmetric import symmetric_dequantize, symmetric_quantize

__all__ = ["RAW_VALUES", "check_csr_structure"]

#: value dtypes the sparse formats store as they are (b = 32, 16 or 8 bits)
RAW_VALUES = (np.float32, np.float16, np.int8)
_RAW, _U8, _F32 = tuple(np.dtype(t) for t in RAW_VALUES), (np.dtype(np.uint8),), (np.dtype(np.float32),)


def _value_parts(shape, bits: int, count) -> dict:
    """Expected value parts for ``count`` stored values (an int, or a range when the count
    depends on the data): raw values, or b-bit codes and their float32 scale(s)."""
    if bits == 0:
        return {"values": (_RAW, count)}
    check_bits(bits, "the header field bits", hint=" (or 0: values stored as they are)")
    if isinstance(count, int):
        lengths = packed_bytes(count, bits)
    else:  # at most the bytes of the largest count
        lengths = range(packed_bytes(count.stop - 1, bits) + 1)
    return {"values": (_U8, lengths), "scale": (_F32, (1, channels(shape)))}


def _values_to_store(w, fmt: str, bits, per_channel):
    """``(W, extras)``: the array whose non-zeros are stored, in the 2-D view, and the arrays
    that decode its values (the float32 scales, when quantized)."""
    if bits is None:
        if w.dtype.type not in RAW_VALUES:
            raise TypeError(f"format {fmt!r} stores values as float32, float16 or int8; got dtype "
                            f"{w.dtype}. Cast first (w.astype(np.float32)), or quantize: bits=8")
        return w, 0, {}
    per_channel = check_bool(per_channel, "per_channel")
    if w.dtype.kind != "f":
        raise TypeError(f"format {fmt!r} with bits={bits} quantizes float weights; got dtype {w.dtype}")
    q, scale = symmetric_quantize(w, bits, per_channel=per_channel)
    return q, int(bits), {"scale": np.atleast_1d(np.asarray(scale, dtype=np.float32))}


def _pack_values(values, bits: int):
    return values if bits == 0 else pack_codes(values, bits)


def _values(a, bits: int, z: int):
    return a["values"] if bits == 0 else unpack_codes(a["values"], bits, z)


def _finish(W, a, bits: int, shape):
    """Dequantize the decoded codes (if quantized) and restore the shape."""
    if bits == 0:
        return W.reshape(shape)
    s = a["scale"].astype(np.float64)
    return symmetric_dequantize(W.reshape(shape), float(s[0]) if s.size == 1 else s, bits)


# ----------------------------------------------------------------------------- bitmask
def _bitmask_enc(w, *, bits=None, per_channel=True):
    """One bit per position (1 = stored, C order), then the non-zero values in that order."""
    W, b, extras = _values_to_store(w, "bitmask", bits, per_channel)
    flat = W.ravel()
    mask = flat != 0
    return {"header": header(w.shape, b), "mask": np.packbits(mask),
            "values": _pack_values(flat[mask], b), **extras}


def _bitmask_parts(shape, fields):
    n = math.prod(shape)
    return {"mask": (_U8, packed_bytes(n, 1)), **_value_parts(shape, fields["bits"], range(n + 1))}


def _bitmask_dec(a, shape):
    bits = int(a["header"][-1])
    n = int(np.prod(shape, dtype=np.int64))
    mask = np.unpackbits(a["mask"], count=n).astype(bool)
    z = int(mask.sum())
    if bits == 0 and a["values"].size != z:
        raise ValueError(f"the bitmask marks {z} stored positions but the encoding holds "
                         f"{a['values'].size} values")
    values = _values(a, bits, z)
    out = np.zeros(n, dtype=values.dtype)
    out[mask] = values
    return _finish(out, a, bits, shape)


# ----------------------------------------------------------------------------- CSR
def _csr_enc(w, *, bits=None, per_channel=True):
    """CSR of the 2-D view: values in row order, their column indices, m+1 row pointers."""
    W, b, extras = _values_to_store(w, "csr", bits, per_channel)
    m, k = matrix_view(w.shape)
    W = W.reshape(m, k)
    rows, cols = np.nonzero(W)
    z = rows.size
    indptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=m), out=indptr[1:])
    return {
        "header": header(w.shape, z, b),
        "values": _pack_values(W[rows, cols], b),
        "indices": cols.astype(index_dtype(max(k - 1, 0))),
        "indptr": indptr.astype(index_dtype(z)),
        **extras,
    }


def _csr_parts(shape, fields):
    z, n = fields["z"], math.prod(shape)
    if not 0 <= z <= n:
        raise ValueError(f"the header field z (non-zeros) must be in 0..{n} for shape {shape}; got {z}")
    m, k = matrix_view(shape)
    return {**_value_parts(shape, fields["bits"], z), "indices": ((index_dtype(max(k - 1, 0)),), z),
            "indptr": ((index_dtype(z),), m + 1)}


def check_csr_structure(indices, indptr, z: int, k: int) -> None:
    """Row pointers 0 = p_0 <= p_1 <= ... <= p_m = z; column indices in [0, k), strictly
    increasing within each row (each position stored once, as the encoder writes them)."""
    p = indptr.astype(np.int64)
    if p[0] != 0 or p[-1] != z or np.any(np.diff(p) < 0):
        raise ValueError(f"CSR row pointers must rise from 0 to z = {z}; got {p[0]} ... {p[-1]}"
                         + (", decreasing somewhere" if np.any(np.diff(p) < 0) else ""))
    cols = indices.astype(np.int64)
    if z and cols.max() >= k:
        raise ValueError(f"CSR column indices must lie in [0, {k}); got {cols.max()} at entry "
                         f"{int(np.argmax(cols >= k))}")
    row_start = np.zeros(z, dtype=bool)
    row_start[p[:-1][p[:-1] < z]] = True
    if np.any((np.diff(cols) <= 0) & ~row_start[1:]):
        raise ValueError("CSR column indices must be strictly increasing within each row "
                         "(a position stored twice, or out of order)")


def _csr_dec(a, shape):
    z, bits = int(a["header"][-2]), int(a["header"][-1])
    m, k = matrix_view(shape)
    check_csr_structure(a["indices"], a["indptr"], z, k)
    values = _values(a, bits, z)
    W = np.zeros((m, k), dtype=values.dtype)
    counts = np.diff(a["indptr"].astype(np.int64))
    W[np.repeat(np.arange(m), counts), a["indices"].astype(np.int64)] = values
    return _finish(W, a, bits, shape)


register("csr", Format(_csr_enc, _csr_dec, lossless=True, extra=("z", "bits"),
                       parts=("values", "indices", "indptr"), expected_parts=_csr_parts))
register("bitmask", Format(_bitmask_enc, _bitmask_dec, lossless=True, extra=("bits",),
                           parts=("mask", "values"), expected_parts=_bitmask_parts))
