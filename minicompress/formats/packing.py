"""Bit packing: the one place where codes become bytes.

* **b-bit codes** (:func:`pack_codes`), b = 1..16: each integer code is written as its
  b-bit two's complement, most significant bit first, codes one after another, then
  ``np.packbits``; the last byte is padded with 0 bits.  Example: b = 4, codes [1, -1] ->
  bits 0001 1111 -> one byte 0x1F.  At b = 8 the bytes are the int8 codes themselves; at
  b = 2 the ternary codes {-1, 0, +1} are 11, 00, 01.
* **signs** (:func:`pack_signs`): one bit per value, 1 for +1 (``x >= 0``: sign(0) = +1,
  section 4.2.1) and 0 for -1, eight to a byte along an axis, first value in the most
  significant bit (``np.packbits``) -- the layout the XNOR kernel reads row by row.
* **unsigned fields of any width** (:func:`pack_bits`): value i written in ``widths[i]``
  bits, MSB first, one after another -- the fixed-width indices of a codebook and the
  variable-length Huffman codes (:mod:`.codebook`, :mod:`.entropy`).  Example: values
  [1, 5] in widths [1, 3] -> bits 1 101 -> one byte 1101 0000 = 0xD0.
  :func:`unpack_bits` reads fixed-width fields back; :func:`bit_windows` gives, at every
  bit position, the integer of the next ``width`` bits (what a Huffman decoder looks up).

Sizes are whole bytes: ``ceil(n * b / 8)`` for n codes, and that padding is counted.
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import (
    as_array,
    check_codes,
    check_float_dtype,
    check_int,
    check_int_vector,
    check_weights,
    described,
)

__all__ = ["code_range", "pack_codes", "unpack_codes", "pack_signs", "unpack_signs", "packed_bytes",
           "pack_bits", "unpack_bits", "bit_windows", "MAX_FIELD_BITS"]

#: the widest unsigned field pack_bits writes (an int64 holds it with room to shift)
MAX_FIELD_BITS = 62


def code_range(bits: int) -> tuple[int, int]:
    """``(-2**(b-1), 2**(b-1) - 1)``: what b-bit two's complement holds."""
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def packed_bytes(count: int, bits: int) -> int:
    """``ceil(count * bits / 8)``: the bytes that ``count`` codes of ``bits`` bits take."""
    return -(-count * bits // 8)


def _check_code_bits(bits) -> int:
    return check_int(bits, "bits", low=1, high=16)


def pack_codes(q, bits: int) -> np.ndarray:
    """Integer codes (any shape, read in C order) -> ``ceil(n * b / 8)`` uint8 bytes, b bits each.

    Codes must lie in the b-bit two's complement range ``[-2**(b-1), 2**(b-1) - 1]``
    (a symmetric quantizer uses ``[-qmax, qmax]`` inside it).
    """
    bits = _check_code_bits(bits)
    lo, hi = code_range(bits)
    q = check_codes(q, f"{bits}-bit codes", lo, hi).ravel()
    if bits == 8:  # two's complement bytes, MSB first: the int8 codes as they are
        return q.astype(np.int8).view(np.uint8)
    u = (q.astype(np.int32) & (2**bits - 1)).astype(">u2")  # big-endian: MSB first
    all_bits = np.unpackbits(u.view(np.uint8).reshape(-1, 2), axis=1)  # (n, 16)
    return np.packbits(all_bits[:, 16 - bits:].ravel())


def unpack_codes(packed, bits: int, count: int) -> np.ndarray:
    """Inverse of :func:`pack_codes`: ``count`` codes, sign-extended from b bits; int8 for
    b <= 8, int16 above."""
    bits = _check_code_bits(bits)
    count = check_int(count, "count", low=0)
    packed = np.asarray(packed)
    if packed.dtype != np.uint8 or packed.ndim != 1:
        raise TypeError(f"packed must be a 1-D uint8 array; got {packed.dtype}, shape {packed.shape}")
    if packed.size != packed_bytes(count, bits):
        raise ValueError(f"{packed.size} bytes cannot hold {count} codes of {bits} bits "
                         f"(expected {packed_bytes(count, bits)})")
    dtype = np.int8 if bits <= 8 else np.int16
    if bits == 8:
        return packed.view(np.int8).copy()
    b = np.unpackbits(packed, count=count * bits).reshape(count, bits)
    u = np.zeros(count, dtype=np.int32)
    for j in range(bits):  # u = sum_j b_j 2**(bits-1-j), MSB first; in place: memory ~ (bits + 4) n bytes
        np.left_shift(u, 1, out=u)
        np.bitwise_or(u, b[:, j], out=u)
    u[u >= 2 ** (bits - 1)] -= 2**bits
    return u.astype(dtype)


def pack_signs(x, axis: int = -1) -> np.ndarray:
    """Bits ``x >= 0`` packed along ``axis`` with ``np.packbits`` (sign(0) = +1 -> bit 1).

    x: (..., k) -> (..., ceil(k / 8)) uint8 for the default axis.
    """
    x = check_weights(x, "x")
    axis = check_int(axis, "axis", low=-max(x.ndim, 1), high=max(x.ndim, 1) - 1)
    return np.packbits(x >= 0, axis=axis)


def unpack_signs(bits, k: int, axis: int = -1, *, dtype=np.float32) -> np.ndarray:
    """Inverse of :func:`pack_signs`: +1/-1 values, ``k`` of them along ``axis``."""
    given, bits = bits, as_array(bits, "bits")
    if bits.dtype != np.uint8:
        raise TypeError(f"bits must be a uint8 array from pack_signs; got {described(given, bits)}")
    k = check_int(k, "k", low=1)
    axis = check_int(axis, "axis", low=-max(bits.ndim, 1), high=max(bits.ndim, 1) - 1)
    dtype = check_float_dtype(dtype)
    if bits.ndim == 0 or k > 8 * bits.shape[axis] or k <= 8 * (bits.shape[axis] - 1):
        raise ValueError(f"k = {k} does not match {np.shape(bits)} packed bytes along axis {axis}")
    b = np.unpackbits(bits, axis=axis, count=k)
    return (2 * b.astype(np.int8) - 1).astype(dtype)


# ----------------------------------------------------------------------------- unsigned fields
def _check_packed(packed, name: str = "packed") -> np.ndarray:
    packed = np.asarray(packed)
    if packed.dtype != np.uint8 or packed.ndim != 1:
        raise TypeError(f"{name} must be a 1-D uint8 array; got {packed.dtype}, shape {packed.shape}")
    return packed


def pack_bits(values, widths) -> np.ndarray:
    """Unsigned integers, value i in ``widths[i]`` bits (MSB first), one after another, then
    ``np.packbits``: ``ceil(sum(widths) / 8)`` bytes, the last padded with 0 bits.

    values : 1-D non-negative integers, ``values[i] < 2**widths[i]``
    widths : one int (every value that wide) or a 1-D int array like ``values``, each in
        0..62 (a width-0 field writes nothing)
    """
    values = check_int_vector(values, "values")
    if np.ndim(widths) == 0:
        widths = np.full(values.size, check_int(widths, "widths", low=0, high=MAX_FIELD_BITS), np.int64)
    widths = np.asarray(widths)
    if widths.dtype.kind not in "iu" or widths.shape != values.shape:
        raise ValueError(f"widths must be one int or an integer array of shape {values.shape}; got "
                         f"{widths.dtype}, shape {widths.shape}")
    widths, values = widths.astype(np.int64), values.astype(np.int64)
    if widths.size and (widths.min() < 0 or widths.max() > MAX_FIELD_BITS):
        raise ValueError(f"widths must lie in 0..{MAX_FIELD_BITS}; got {widths.min()}..{widths.max()}")
    bad = (values >> widths) != 0  # negative values shift to -1: refused too
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"values[{i}] = {values[i]} does not fit in {widths[i]} unsigned bits")
    starts = np.cumsum(widths) - widths
    owner = np.repeat(np.arange(values.size), widths)  # which value each output bit belongs to
    shift = (widths - 1)[owner] - (np.arange(owner.size) - starts[owner])  # MSB first
    return np.packbits(((values[owner] >> shift) & 1).astype(np.uint8))


def unpack_bits(packed, width: int, count: int) -> np.ndarray:
    """Inverse of :func:`pack_bits` for ``count`` fields of one ``width``: int64 values."""
    packed = _check_packed(packed)
    width = check_int(width, "width", low=1, high=MAX_FIELD_BITS)
    count = check_int(count, "count", low=0)
    if packed.size != packed_bytes(count, width):
        raise ValueError(f"{packed.size} bytes cannot hold {count} fields of {width} bits "
                         f"(expected {packed_bytes(count, width)})")
    b = np.unpackbits(packed, count=count * width).reshape(count, width).astype(np.int64)
    return b @ (np.int64(1) << np.arange(width - 1, -1, -1, dtype=np.int64))


def bit_windows(bits, width: int) -> np.ndarray:
    """``v[i]`` = the integer of bits ``i .. i + width - 1`` of the 0/1 array ``bits``, MSB
    first, bits past the end read as 0; int64, one per position of ``bits``."""
    bits = np.asarray(bits)
    if bits.dtype != np.uint8 or bits.ndim != 1:
        raise TypeError(f"bits must be a 1-D uint8 array of 0/1 (np.unpackbits); got {bits.dtype}")
    width = check_int(width, "width", low=1, high=MAX_FIELD_BITS)
    n = bits.size
    padded = np.concatenate([bits.astype(np.int64), np.zeros(width, np.int64)])
    v = np.zeros(n, np.int64)
    for j in range(width):
        v = (v << 1) | padded[j: j + n]
    return v
