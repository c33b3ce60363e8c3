"""Fixed-point arithmetic of integer-only inference (Jacob et al. 2018, section 2.2).

A quantized layer computes, with real values ``r = S (q - Z)``::

    S3 (q3 - Z3) = sum_k S1 (q1_k - Z1) * S2 (q2_k - Z2)             (eq. 3)
    q3 = Z3 + M * sum_k (q1_k - Z1)(q2_k - Z2),   M = S1 S2 / S3     (eq. 4)

The real multiplier M is stored as ``M = M0 * 2**-n`` with an int32 ``M0`` in
``[2**30, 2**31)`` (31 significant bits) and an integer shift ``n`` (eq. 6), so that the
whole layer runs in integers.  The sum expands into four integer terms (eq. 7)::

    sum_k (q1 - Z1)(q2 - Z2) = sum q1 q2 - Z2 sum q1 - Z1 sum q2 + K Z1 Z2

whose only O(K^3)-work term is the plain integer product ``sum q1 q2`` (eq. 8, 9).
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import as_array, check_array, check_zero_point, described
from .kernels import check_int8_matrix, int_matmul

__all__ = ["quantize_multiplier", "multiply_by_quantized_multiplier", "zero_point_matmul"]


def quantize_multiplier(M):
    """``M = M0 * 2**-n`` with int ``M0`` in ``[2**30, 2**31)`` (Jacob et al. 2018, eq. 6).

    Parameters
    ----------
    M : positive real multiplier(s), a number or an array (one per output channel),
        with ``2**-31 <= M < 2**30``

    Returns
    -------
    M0 : int64 array (or int) in [2**30, 2**31)
    n : int64 array (or int) in [1, 62]

    Notes
    -----
    ``M = m 2**e`` with ``m`` in [0.5, 1) (``np.frexp``); ``M0 = round(m 2**31)`` (half to
    even); if that rounds up to 2**31 then ``M0 = 2**30`` and e grows by one; ``n = 31 - e``.
    The relative error of ``M0 2**-n`` is at most 2**-31.
    """
    M = check_array(M, "M").astype(np.float64)
    if M.size == 0:
        raise ValueError("M is empty; expected one multiplier or one per output channel")
    if not np.all(np.isfinite(M)) or np.any(M < 2.0**-31) or np.any(M >= 2.0**30):
        raise ValueError(f"M must be finite and in [2**-31, 2**30); got values from {M.min()} to {M.max()}")
    m, e = np.frexp(M)
    M0 = np.rint(m * 2.0**31).astype(np.int64)
    carry = M0 == 2**31
    M0 = np.where(carry, 2**30, M0)
    n = (31 - (e + carry)).astype(np.int64)
    if M0.ndim == 0:
        return int(M0), int(n)
    return M0, n


def _check_multiplier_part(v, name: str, low: int, high: int, channels) -> np.ndarray:
    """An integer (or one per channel, shape (channels,)) in [low, high], as int64."""
    arr = as_array(v, name)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer or an integer array from quantize_multiplier; "
                        f"got {v!r}")
    if arr.ndim and arr.shape != (channels,):
        raise ValueError(f"{name} must be one integer or one per channel, shape ({channels},) (the "
                         f"last axis of acc); got shape {arr.shape}")
    if arr.size and (arr.min() < low or arr.max() > high):
        raise ValueError(f"{name} must lie in [{low}, {high}]; got values from {arr.min()} to {arr.max()}")
    return arr.astype(np.int64)


def multiply_by_quantized_multiplier(acc, M0, n) -> np.ndarray:
    """``round(acc * M0 / 2**n)``, rounding half away from zero, exactly in int64.

    Parameters
    ----------
    acc : int32 accumulators, any shape (the last axis is the channel axis when M0, n
        are per-channel arrays)
    M0, n : from :func:`quantize_multiplier`

    Returns
    -------
    int64 array of acc's shape.

    Notes
    -----
    ``|acc| < 2**31`` and ``M0 < 2**31`` keep the product below 2**62: exact in int64.
    One rounding step, half away from zero (gemmlowp's rounding direction).  TFLite and
    gemmlowp split it in two 32-bit steps (SaturatingRoundingDoublingHighMul, then
    RoundingDivideByPOT), which can differ from this by one in rare double-rounding cases.
    """
    given, acc = acc, as_array(acc, "acc")
    if acc.dtype.kind not in "iu":
        raise TypeError(f"acc must be an integer array (int32 accumulators); got {described(given, acc)}")
    if acc.size and np.abs(acc.astype(np.int64)).max() >= 2**31:
        raise ValueError("acc must fit int32 (|acc| < 2**31)")
    channels = acc.shape[-1] if acc.ndim else None
    M0 = _check_multiplier_part(M0, "M0", 2**30, 2**31 - 1, channels)
    n = _check_multiplier_part(n, "n", 1, 62, channels)
    prod = acc.astype(np.int64) * M0
    mag = (np.abs(prod) + (np.int64(1) << (n - 1))) >> n
    return np.where(prod < 0, -mag, mag)


def _code_range(q: np.ndarray) -> tuple[int, int]:
    info = np.iinfo(q.dtype)
    return int(info.min), int(info.max)


def _check_zero_points(z2, q2: np.ndarray) -> np.ndarray:
    """One integer zero point, or one per row of q2 (shape (C,)), in q2's code range."""
    if not isinstance(z2, (np.ndarray, list, tuple)):
        return np.int64(check_zero_point(z2, *_code_range(q2), name="z2"))
    z = as_array(z2, "z2")
    if z.dtype.kind not in "iu":
        raise TypeError(f"z2 must be an integer or an integer array (one per row of q2); got dtype {z.dtype}")
    if z.shape != (q2.shape[0],):
        raise ValueError(f"z2 must hold one zero point per row of q2, shape ({q2.shape[0]},); got {z.shape}")
    lo, hi = _code_range(q2)
    if z.min() < lo or z.max() > hi:
        raise ValueError(f"z2 must lie in [{lo}, {hi}] (q2's {q2.dtype} codes); got values from "
                         f"{z.min()} to {z.max()}")
    return z.astype(np.int64)


def zero_point_matmul(q1, z1: int, q2, z2=0) -> np.ndarray:
    """``sum_k (q1[i, k] - z1)(q2[c, k] - z2)`` as int32, expanded as Jacob et al. eq. (7).

    Parameters
    ----------
    q1 : (N, K) uint8 or int8 activation codes, zero point ``z1`` (an int)
    q2 : (C, K) int8 weight codes (the Linear layout (out, in)), zero point ``z2``: an int
        or one per row (C,)

    Returns
    -------
    (N, C) int32:  ``q1 @ q2.T - z2 * rowsum(q1) - z1 * rowsum(q2) + K z1 z2``,
    where the first term is the exact :func:`int_matmul`.

    Notes
    -----
    A zero point is an integer code in the range of its codes' dtype: 1.9 is refused,
    not truncated to 1.
    """
    q1 = check_int8_matrix(q1, "q1")
    q2 = check_int8_matrix(q2, "q2")
    if q1.shape[1] != q2.shape[1]:
        raise ValueError(f"q1 (N, K) and q2 (C, K) must have the same K; got shapes {q1.shape} and "
                         f"{q2.shape}")
    K = q1.shape[1]
    z1 = check_zero_point(z1, *_code_range(q1), name="z1")
    z2 = _check_zero_points(z2, q2)
    acc = int_matmul(q1, q2.T).astype(np.int64)
    acc -= z2 * q1.sum(axis=1, dtype=np.int64)[:, None]
    acc -= np.int64(z1) * q2.sum(axis=1, dtype=np.int64)[None, :]
    acc += K * np.int64(z1) * z2
    if acc.size and np.abs(acc).max() >= 2**31:
        raise ValueError("the accumulator does not fit int32; K is too large for 8-bit codes")
    return acc.astype(np.int32)
