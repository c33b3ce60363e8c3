"""The N:M sparse format: exactly n values per group of m, and where in the group they sit.

A weight pruned N:M (:func:`minicompress.prune.nm_mask`: at most n non-zeros in every m
consecutive entries of each row of the 2-D view (m_rows, k), k a multiple of m) is stored
as G = m_rows * k / m groups of

* n **values** (float32, float16 or int8 as they are; or b-bit symmetric codes with
  ``bits=b``, one float32 scale per row or per tensor, as the sparse formats), and
* the **positions** of those n values in the group, either
  ``positions="combination"`` (default): the group's sorted positions as one index into
  ``itertools.combinations(range(m), n)`` (lexicographic; for 2:4: (0,1)=0, (0,2)=1,
  (0,3)=2, (1,2)=3, (1,3)=4, (2,3)=5), in p = ceil(log2 C(m, n)) bits per group; or
  ``positions="index"``: each value's position in its group, in p = ceil(log2 m) bits per
  value (2:4: 2 bits per kept value, NVIDIA's metadata layout).

==============  ===========================================================================
stored bits     header(shape, n, m, bits, positions): 32 * (ndim + 4)
                + values: G*n*b (raw: b = 32/16/8) or 8*ceil(G*n*b/8) + 32c (codes)
                + positions: 8*ceil(G*p/8) (combination) or 8*ceil(G*n*p/8) (index)
==============  ===========================================================================

2:4 float32: 64 bits of values and 3 bits of positions per group of 4 weights, against 128
dense: 0.52 of the dense size plus the header.  A group with fewer than n non-zeros stores
its non-zeros and then its first zero positions, with the value +0.0, so the encoding is
unique and decodes bit-exactly (zeros as +0.0, like every sparse format).  Positions are
unsigned p-bit numbers written MSB first by the one bit packer
(:func:`~minicompress.formats.packing.pack_codes`, which takes the same p bits as a
two's-complement code).  The format needs hardware made for it to be *faster*; its size
is exact everywhere.
"""

from __future__ import annotations

import itertools
import math
from functools import cache

import numpy as np

from ..nn._checks import check_int
from .encoding import Format, header, matrix_view, register
from .packing import pack_codes, packed_bytes, unpack_codes
from .sparse import _finish, _pack_values, _value_parts, _values, _values_to_store

__all__ = ["combination_table", "position_bits", "nm_bits"]

_POSITIONS = ("combination", "index")
_MAX_M = 16  # a 2**m lookup table ranks the groups; C(16, 8) = 12,870 needs 14 bits


@cache
def combination_table(n: int, m: int) -> np.ndarray:
    """(C(m, n), n) int: row r is the r-th n-subset of range(m) in ``itertools.combinations`` order."""
    return np.array(list(itertools.combinations(range(m), n)), dtype=np.int64).reshape(-1, n)


def position_bits(n: int, m: int, positions: str = "combination") -> int:
    """p: ceil(log2 C(m, n)) bits per group, or ceil(log2 m) bits per value (0 when there is
    one choice only: n = m, or m = 1)."""
    count = math.comb(m, n) if positions == "combination" else m
    return (count - 1).bit_length()


def _pack_unsigned(u: np.ndarray, p: int) -> np.ndarray:
    if p == 0:
        return np.zeros(0, dtype=np.uint8)
    signed = np.where(u >= 2 ** (p - 1), u - 2**p, u)  # the same p bits, read as two's complement
    return pack_codes(signed, p)


def _unpack_unsigned(packed: np.ndarray, p: int, count: int) -> np.ndarray:
    if p == 0:
        return np.zeros(count, dtype=np.int64)
    return unpack_codes(packed, p, count).astype(np.int64) % 2**p


def _check_options(n, m, positions):
    m = check_int(m, "m", low=1, high=_MAX_M)
    n = check_int(n, "n", low=1)
    if n > m:
        raise ValueError(f"n must be <= m (n of every m weights are stored); got n={n}, m={m}")
    if positions not in _POSITIONS:
        raise ValueError(f"positions must be one of {_POSITIONS}; got {positions!r}")
    return n, m


def _nm_enc(w, *, n=2, m=4, positions="combination", bits=None, per_channel=True):
    n, m = _check_options(n, m, positions)
    rows, k = matrix_view(w.shape)
    if k % m:
        raise ValueError(f"w of shape {w.shape} has rows of {k} weights (its 2-D view is ({rows}, {k})), "
                         f"not a multiple of m={m}; the N:M format needs whole groups")
    W, b, extras = _values_to_store(w, "nm", bits, per_channel)
    groups = W.reshape(rows * (k // m), m)
    nonzero = groups != 0
    count = nonzero.sum(axis=1)
    if count.max() > n:
        g = int(np.argmax(count > n))
        raise ValueError(f"w is not {n}:{m} sparse: group {g % (k // m)} of row {g // (k // m)} holds "
                         f"{int(count[g])} non-zeros (at most {n}); prune it first, e.g. with "
                         f"minicompress.prune.nm_mask(w, {n}, {m})")
    # the n stored positions of each group: its non-zeros, then its first zeros (stable sort)
    pos = np.sort(np.argsort(~nonzero, axis=1, kind="stable")[:, :n], axis=1)
    values = np.take_along_axis(groups, pos, axis=1)
    values = np.where(values != 0, values, np.zeros((), dtype=values.dtype))  # -0.0 -> +0.0
    p = position_bits(n, m, positions)
    if positions == "combination":
        rank = np.zeros(2**m, dtype=np.int64)  # bitmask of a subset -> its combination index
        rank[(1 << combination_table(n, m)).sum(axis=1)] = np.arange(math.comb(m, n))
        stored = _pack_unsigned(rank[(1 << pos).sum(axis=1)], p)
    else:
        stored = _pack_unsigned(pos.ravel(), p)
    return {"header": header(w.shape, n, m, b, _POSITIONS.index(positions)),
            "values": _pack_values(values.ravel(), b), "positions": stored, **extras}


def _nm_dec(a, shape):
    n, m, bits, mode = (int(v) for v in a["header"][-4:])
    rows, k = matrix_view(shape)
    G = rows * (k // m)
    values = _values(a, bits, G * n).reshape(G, n)
    p = position_bits(n, m, _POSITIONS[mode])
    if _POSITIONS[mode] == "combination":
        index = _unpack_unsigned(a["positions"], p, G)
        if G and index.max() >= math.comb(m, n):
            raise ValueError(f"an N:M combination index must be < C({m}, {n}) = {math.comb(m, n)}; "
                             f"got {index.max()}")
        pos = combination_table(n, m)[index]
    else:
        pos = _unpack_unsigned(a["positions"], p, G * n).reshape(G, n)
        if np.any(pos >= m) or np.any(np.diff(pos, axis=1) <= 0):
            raise ValueError(f"N:M positions must be distinct, increasing and < m = {m} in each group")
    out = np.zeros((G, m), dtype=values.dtype)
    np.put_along_axis(out, pos, values, axis=1)
    return _finish(out, a, bits, shape)


def nm_bits(shape, n: int, m: int, *, positions: str = "combination", value_bits: int = 32) -> int:
    """The closed form of the stored size for raw values of ``value_bits`` bits (no scales)."""
    rows, k = matrix_view(shape)
    G = rows * (k // m)
    p = position_bits(n, m, positions)
    pos_bytes = packed_bytes(G if positions == "combination" else G * n, p)
    return 32 * (len(shape) + 4) + G * n * value_bits + 8 * pos_bytes


def _nm_parts(shape, fields):
    """Expected parts: G*n values (or their codes and scales) and the positions' bytes."""
    n, m, mode = fields["n"], fields["m"], fields["positions"]
    if not (1 <= m <= _MAX_M and 1 <= n <= m and mode in (0, 1)):
        raise ValueError(f"the header fields n, m, positions must satisfy 1 <= n <= m <= {_MAX_M} and "
                         f"positions in (0, 1); got {n}, {m}, {mode}")
    rows, k = matrix_view(shape)
    if k % m:
        raise ValueError(f"the header field m = {m} does not divide the {k} columns of shape {shape}")
    G = rows * (k // m)
    p = position_bits(n, m, _POSITIONS[mode])
    return {**_value_parts(shape, fields["bits"], G * n),
            "positions": ((np.dtype(np.uint8),), packed_bytes(G if mode == 0 else G * n, p))}


register("nm", Format(_nm_enc, _nm_dec, lossless=True, extra=("n", "m", "bits", "positions"),
                      parts=("values", "positions"), expected_parts=_nm_parts))
