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

import numpy as np

from .encoding import Format, header, register

__all__: list[str] = []


def _float(dtype):
    def enc(w):
        if w.dtype.kind != "f":
            raise TypeError(f"dense float formats take a float array; got dtype {w.dtype}")
        return {"header": header(w.shape), "values": w.astype(dtype).ravel()}

    return enc


def _raw_enc(w):
    if w.dtype.kind not in "fiu":
        raise TypeError(f"raw format stores float or integer arrays; got dtype {w.dtype}")
    return {"header": header(w.shape), "values": w.ravel().copy()}


def _dense_dec(a, shape):
    return a["values"].reshape(shape)


register("fp32", Format(_float(np.float32), _dense_dec, lossless=True, parts=("values",)))
register("fp16", Format(_float(np.float16), _dense_dec, lossless=False, parts=("values",)))
register("raw", Format(_raw_enc, _dense_dec, lossless=True, parts=("values",)))
