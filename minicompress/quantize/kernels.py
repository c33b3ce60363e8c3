"""Integer kernels: exact int8 matrix products through float BLAS, and XNOR-popcount.

``int_matmul``: NumPy's integer ``matmul`` does not call BLAS (it is a plain loop, about
100x slower than float GEMM), so the exact int32 result is computed in floating point:
every product ``a_ik b_kj`` is an integer of magnitude at most ``max|a| max|b|``, and every
partial sum -- in *any* order, with any blocking or fused multiply-add -- is an integer of
magnitude at most ``B = K max|a| max|b|``.  A float with a p-bit significand represents
every integer below 2**p exactly, so no operation rounds as long as::

    B < 2**24   ->  float32 GEMM   (int8 x int8: K <= 1023 with the worst-case |-128|)
    B < 2**53   ->  float64 GEMM   (int8 x int8: every K below 5e11)

``int_matmul`` computes B from the data and picks the narrowest exact type.

``xnor_matmul``: for vectors of +-1 stored as bits (1 = +1, 0 = -1, :func:`pack_signs`),
``a . b = (#agree) - (#disagree) = k - 2 popcount(a XOR b)`` (XNOR-Net, Rastegari et al.
2016), with ``np.bitwise_count`` (NumPy >= 2.0) as the popcount.
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import check_int

__all__ = ["int_matmul", "exact_float_dtype", "xnor_matmul", "check_int8_matrix"]

_INT8_TYPES = (np.int8, np.uint8)


def exact_float_dtype(k: int, amax: int, bmax: int):
    """float32 if ``k*amax*bmax < 2**24``, float64 if ``< 2**53``, else None (not exact).

    k, amax, bmax : non-negative integers (the inner dimension and the largest magnitudes).
    """
    bound = check_int(k, "k", low=0) * check_int(amax, "amax", low=0) * check_int(bmax, "bmax", low=0)
    if bound < 2**24:
        return np.float32
    if bound < 2**53:
        return np.float64
    return None


def check_int8_matrix(x, name: str) -> np.ndarray:
    """A 2-D int8 or uint8 numpy array (8-bit codes), else ``TypeError``/``ValueError``."""
    if not isinstance(x, np.ndarray) or x.dtype.type not in _INT8_TYPES:
        got = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        raise TypeError(f"{name} must be an int8 or uint8 numpy array; got {got}. "
                        f"Quantize first (int8_quantize / quantize_affine).")
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D; got shape {x.shape}")
    return x


def _absmax(x: np.ndarray) -> int:
    return int(np.abs(x.astype(np.int16)).max()) if x.size else 0


def int_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact ``a @ b`` of 8-bit integer matrices as int32, computed with float BLAS.

    Parameters
    ----------
    a : (M, K) int8 or uint8
    b : (K, N) int8 or uint8

    Returns
    -------
    (M, N) int32, bit-identical to ``a.astype(np.int64) @ b.astype(np.int64)``

    Notes
    -----
    float32 when ``K max|a| max|b| < 2**24``, else float64 (exact below 2**53); the sum
    must also fit int32 (``< 2**31``), which holds for every K below 131,072.
    """
    a, b = check_int8_matrix(a, "a"), check_int8_matrix(b, "b")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"inner dimensions differ: a is {a.shape}, b is {b.shape}")
    K = a.shape[1]
    amax, bmax = _absmax(a), _absmax(b)
    if K * amax * bmax >= 2**31:
        raise ValueError(f"K * max|a| * max|b| = {K * amax * bmax} does not fit int32; split K")
    ft = exact_float_dtype(K, amax, bmax)
    out = a.astype(ft) @ b.astype(ft)
    return out.astype(np.int32)


def _check_bits(x, name: str, k: int) -> np.ndarray:
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 2:
        got = f"{x.dtype}, shape {x.shape}" if isinstance(x, np.ndarray) else type(x).__name__
        raise TypeError(f"{name} must be a 2-D uint8 array from pack_signs / np.packbits; got {got}")
    nb = -(-k // 8)
    if x.shape[1] != nb:
        raise ValueError(f"{name} must have ceil(k/8) = {nb} bytes per row for k = {k}; got {x.shape[1]}")
    pad = 8 * nb - k
    if pad and (x[:, -1] & np.uint8((1 << pad) - 1)).any():
        raise ValueError(f"{name} has non-zero padding bits beyond k = {k}; pack with np.packbits")
    return x


def _words(x: np.ndarray) -> np.ndarray:
    """Rows of bytes -> rows of uint64 words (zero-padded), so popcount runs 8x fewer times."""
    pad = -x.shape[1] % 8
    if pad:
        x = np.concatenate([x, np.zeros((x.shape[0], pad), np.uint8)], axis=1)
    return np.ascontiguousarray(x).view(np.uint64)


def xnor_matmul(a_bits: np.ndarray, b_bits: np.ndarray, k: int) -> np.ndarray:
    """Dot products of +-1 vectors stored as bits: ``k - 2 popcount(a XOR b)``.

    Parameters
    ----------
    a_bits : (M, ceil(k/8)) uint8, rows of A packed along k (``pack_signs(A)``)
    b_bits : (N, ceil(k/8)) uint8, rows of B packed along k: B is laid out (N, k), like a
        Linear weight (out, in)
    k : number of +-1 values per row

    Returns
    -------
    (M, N) int32 equal to ``sign(A) @ sign(B).T`` with sign(0) = +1.

    Notes
    -----
    Padding bits (beyond k) must be 0 in both, as ``np.packbits`` leaves them; then they
    agree and contribute nothing.  The loop runs over the ceil(k/64) 64-bit words, each step
    an (M, N) XOR + popcount (row blocks of A bound the memory).
    """
    k = check_int(k, "k", low=1)
    a_bits, b_bits = _check_bits(a_bits, "a_bits", k), _check_bits(b_bits, "b_bits", k)
    a_w, b_w = _words(a_bits).T.copy(), _words(b_bits).T.copy()  # (words, M), (words, N)
    M, N = a_w.shape[1], b_w.shape[1]
    out = np.empty((M, N), np.int32)
    count_dtype = np.uint16 if k < 2**16 else np.int64
    rows = max(1, 2**18 // max(1, N))  # row blocks: the (rows, N) temporaries stay small
    for i in range(0, M, rows):
        count = np.zeros((min(rows, M - i), N), count_dtype)
        for a_word, b_word in zip(a_w[:, i : i + rows], b_w):  # one 64-bit word of k at a time
            count += np.bitwise_count(np.bitwise_xor(a_word[:, None], b_word[None, :]))
        out[i : i + rows] = k - 2 * count.astype(np.int32)
    return out
