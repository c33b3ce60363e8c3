"""Dense formats: every value stored, one after another.

==========  ===============================================  ==========
name        stored (n = w.size)                              lossless
==========  ===============================================  ==========
fp32        header(shape) + 32 n                             yes
fp16        header(shape) + 16 n (round to nearest even)     no
raw         header(shape) + n values in their own dtype      yes
==========  ===============================================  ==========

``raw`` keeps the array's dtype (int32 biases of an integer-only layer, int8 shifts, a
float32 scale): for what a layer stores besides its weight.
"""

from __future__ import annotations

import math

import numpy as np

from .encoding import RAW_DTYPES, Format, header, register

__all__: list[str] = []


def _float(dtype):
    def enc(w):
        if w.dtype.kind != "f":
            raise TypeError(f"dense float formats take a float array; got dtype {w.dtype}")
        with np.errstate(over="ignore"):
            values = w.astype(dtype).ravel()
        if not np.isfinite(values).all():  # w is finite (encode checks): the cast overflowed
            raise ValueError(f"w holds values beyond the {np.dtype(dtype)} range "
                             f"(+-{np.finfo(dtype).max:.4g}), up to {np.abs(w).max():.4g}; they would "
                             f"be stored as inf")
        return {"header": header(w.shape), "values": values}

    return enc


def _values_of(dtypes):
    """Expected parts: the n values, one of ``dtypes``."""
    def expected(shape, fields):
        return {"values": (dtypes, math.prod(shape))}

    return expected


def _raw_enc(w):
    if w.dtype not in RAW_DTYPES:
        raise TypeError(f"raw format stores float or integer arrays; got dtype {w.dtype}")
    return {"header": header(w.shape), "values": w.ravel().copy()}


def _dense_dec(a, shape):
    return a["values"].reshape(shape)


register("fp32", Format(_float(np.float32), _dense_dec, lossless=True, parts=("values",),
                        expected_parts=_values_of((np.dtype(np.float32),))))
register("fp16", Format(_float(np.float16), _dense_dec, lossless=False, parts=("values",),
                        expected_parts=_values_of((np.dtype(np.float16),))))
register("raw", Format(_raw_enc, _dense_dec, lossless=True, parts=("values",),
                       expected_parts=_values_of(RAW_DTYPES)))
