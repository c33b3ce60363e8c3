"""How a combination stores a weight: pruned zeros skipped (bitmask or CSR) *and* the
survivors as b-bit symmetric codes, or either alone (section 2.3: "剪枝和量化可以结合使用",
pruning and quantization used together; Deep Compression's layout, Han et al. 2016).

Every layout is a storage format of :mod:`minicompress.formats` (its table gives the exact
bits); this module only says which ones a combination chooses between:

    bits      dense         bitmask / csr
    2..16     "int"         "bitmask" / "csr" with bits=b (codes + float32 scales)
    32        "fp32"        "bitmask" / "csr" of float32 values (not quantized)

Conventions: codes are ``round(w / scale * qmax)`` (formula 4.2.2, half to even, scale =
max|w| per output channel by default).  A pruned zero has code 0 and decodes to exactly
0.0; a surviving weight with |w| < scale / (2 qmax) rounds to code 0 too and is not stored.
"""

from __future__ import annotations

import numpy as np

from .. import formats
from ..nn._checks import check_bits, check_choice, check_int

__all__ = ["FLOAT_BITS", "STORAGES", "check_plan_bits", "check_storage", "compress_weight"]

#: where the values sit: every position (dense), a 1-bit-per-position mask, or CSR indices
STORAGES = ("dense", "bitmask", "csr")
FLOAT_BITS = 32  # "bits=32": float32 values, not quantized


def check_plan_bits(bits, name: str = "bits") -> int:
    """2..16 (b-bit codes) or 32 (float32, not quantized)."""
    bits = check_int(bits, name)
    if bits == FLOAT_BITS:
        return FLOAT_BITS
    return check_bits(bits, name, hint=" (or 32: float32, not quantized)")


def check_storage(storage) -> str:
    """One of the layouts or ``"auto"`` (the smallest)."""
    return check_choice(storage, "storage", (*STORAGES, "auto"))


def compress_weight(w: np.ndarray, bits: int = 8, *, per_channel: bool = True,
                    storage: str = "auto") -> formats.Encoding:
    """The encoding of a (pruned or not) float weight (C_out, ...) at ``bits`` in ``storage``.

    Parameters
    ----------
    w : float array, C_out first (Linear (out, in), Conv2d (C_out, C_in, kh, kw)); zeros are
        the pruned positions
    bits : 2..16 -- symmetric b-bit codes, one float32 scale per output channel (or one);
        32 -- float32 values as they are
    per_channel : one scale per output channel (default) or per tensor
    storage : ``"dense"``, ``"bitmask"``, ``"csr"``, or ``"auto"``: the smallest of the three
        (ties: that order)
    """
    if not isinstance(w, np.ndarray) or w.dtype.kind != "f":
        raise TypeError(f"w must be a float numpy array; got {type(w).__name__} "
                        f"{getattr(w, 'dtype', '')}")
    bits, storage = check_plan_bits(bits), check_storage(storage)
    if bits == FLOAT_BITS:
        names, options, w = {"dense": "fp32", "bitmask": "bitmask", "csr": "csr"}, {}, w.astype(np.float32)
    else:
        names, options = {"dense": "int", "bitmask": "bitmask", "csr": "csr"}, {"bits": bits,
                                                                            "per_channel": per_channel}
    choices = STORAGES if storage == "auto" else (storage,)
    return formats.smallest(w, [names[c] for c in choices], **options)
