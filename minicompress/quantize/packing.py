"""Packed storage of 1-bit and 2-bit codes: what "32x smaller" and "16x smaller" mean.

* Signs (binary weights, section 4.2.1): one bit each, ``1`` for +1 (w >= 0) and ``0`` for
  -1, eight to a byte with ``np.packbits`` (first value in the most significant bit);
  the last byte is padded with 0 bits.
* Ternary codes {-1, 0, +1}: two bits each, stored as ``t + 1`` in {0, 1, 2}, four to a
  byte with the first code in the two least significant bits; padding codes are 0 bits.
  (Five trits fit in a byte, 1.6 bits each, at the price of a base-3 decode; not used.)
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import check_int
from ._checks import check_codes, check_weights

__all__ = ["pack_signs", "unpack_signs", "pack_ternary", "unpack_ternary"]


def pack_signs(x, axis: int = -1) -> np.ndarray:
    """Bits ``x >= 0`` packed along ``axis`` with ``np.packbits`` (sign(0) = +1 -> bit 1).

    x: (..., k) -> (..., ceil(k / 8)) uint8 for the default axis.
    """
    x = check_weights(x, "x")
    return np.packbits(x >= 0, axis=axis)


def unpack_signs(bits, k: int, axis: int = -1, *, dtype=np.float32) -> np.ndarray:
    """Inverse of :func:`pack_signs`: +1/-1 values, ``k`` of them along ``axis``."""
    bits = np.asarray(bits)
    if bits.dtype != np.uint8:
        raise TypeError(f"bits must be a uint8 array from pack_signs; got dtype {bits.dtype}")
    k = check_int(k, "k", low=1)
    if k > 8 * bits.shape[axis] or k <= 8 * (bits.shape[axis] - 1):
        raise ValueError(f"k = {k} does not match {bits.shape[axis]} packed bytes along axis {axis}")
    b = np.unpackbits(bits, axis=axis, count=k)
    return (2 * b.astype(np.int8) - 1).astype(dtype)


def pack_ternary(t) -> np.ndarray:
    """Ternary codes {-1, 0, +1} (any shape) -> ceil(n / 4) bytes, 2 bits per code."""
    t = np.asarray(t)
    if t.dtype.kind == "f":
        t = check_weights(t, "t")
        if not np.isin(t, (-1.0, 0.0, 1.0)).all():
            raise ValueError("t must hold only -1, 0 and +1 (use ternarize first)")
        t = t.astype(np.int8)
    t = check_codes(t, "t", -1, 1)
    c = (t.ravel().astype(np.int16) + 1).astype(np.uint8)
    c = np.concatenate([c, np.zeros(-c.size % 4, np.uint8)]).reshape(-1, 4)
    return c[:, 0] | (c[:, 1] << 2) | (c[:, 2] << 4) | (c[:, 3] << 6)


def unpack_ternary(packed, shape) -> np.ndarray:
    """Inverse of :func:`pack_ternary`: int8 codes in {-1, 0, +1} of ``shape``."""
    packed = np.asarray(packed)
    if packed.dtype != np.uint8 or packed.ndim != 1:
        raise TypeError(f"packed must be a 1-D uint8 array from pack_ternary; got {packed.dtype}, "
                        f"shape {packed.shape}")
    shape = tuple(int(s) for s in np.atleast_1d(shape)) if np.ndim(shape) else (int(shape),)
    n = int(np.prod(shape))
    if packed.size != -(-n // 4):
        raise ValueError(f"{packed.size} packed bytes cannot hold shape {shape} ({n} codes, "
                         f"expected {-(-n // 4)} bytes)")
    c = np.stack([(packed >> s) & 3 for s in (0, 2, 4, 6)], axis=1).ravel()[:n]
    if (c == 3).any():
        raise ValueError("packed holds the unused 2-bit code 3; it was not made by pack_ternary")
    return (c.astype(np.int8) - 1).reshape(shape)
