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

import numpy as np

from ..nn._checks import check_bool
from .encoding import Format, header, index_dtype, matrix_view, register
from .packing import pack_codes, unpack_codes
from .symmetric import symmetric_dequantize, symmetric_quantize

__all__ = ["RAW_VALUES"]

#: value dtypes the sparse formats store as they are (b = 32, 16 or 8 bits)
RAW_VALUES = (np.float32, np.float16, np.int8)


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


def _bitmask_dec(a, shape):
    bits = int(a["header"][-1])
    n = int(np.prod(shape, dtype=np.int64))
    mask = np.unpackbits(a["mask"], count=n).astype(bool)
    values = _values(a, bits, int(mask.sum()))
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


def _csr_dec(a, shape):
    z, bits = int(a["header"][-2]), int(a["header"][-1])
    m, k = matrix_view(shape)
    values = _values(a, bits, z)
    W = np.zeros((m, k), dtype=values.dtype)
    counts = np.diff(a["indptr"].astype(np.int64))
    W[np.repeat(np.arange(m), counts), a["indices"].astype(np.int64)] = values
    return _finish(W, a, bits, shape)


register("csr", Format(_csr_enc, _csr_dec, lossless=True, extra=("z", "bits"),
                       parts=("values", "indices", "indptr")))
register("bitmask", Format(_bitmask_enc, _bitmask_dec, lossless=True, extra=("bits",),
                           parts=("mask", "values")))
