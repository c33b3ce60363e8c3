"""Bit widths, scales, integer codes, code ranges and zero points."""

from __future__ import annotations

import numpy as np

from .basic import _describe, as_array, check_array, check_float, check_int, described

__all__ = [
    "check_weights", "check_bits", "check_scale", "check_codes", "check_qrange", "check_zero_point",
    "smallest_int_dtype",
]


def check_weights(w, name: str = "w") -> np.ndarray:
    """A finite, non-empty floating array (integers are promoted to float64)."""
    w = check_array(w, name, finite=True)
    if w.size == 0:
        raise ValueError(f"{name} is empty (shape {w.shape}); quantization needs at least one value")
    return w


def check_bits(bits, name: str = "bits", *, low: int = 2, high: int = 16, hint: str = "") -> int:
    """A bit width in ``low..high`` (2..16 by default: 1 bit is binarize, more than 16 is not
    quantization).  Every bit width of the package is checked here, with the range its caller
    supports."""
    bits = check_int(bits, name)
    if not low <= bits <= high:
        raise ValueError(f"{name} must be in {low}..{high}; got {bits}{hint}")
    return bits


def check_scale(scale, name: str = "scale", *, channels: int | None = None):
    """A finite scale > 0: a real number, or (if ``channels``) a 1-D array of that length.

    Returns a Python float or a float64 array.
    """
    if isinstance(scale, (list, tuple)):
        scale = as_array(scale, name)  # a ragged list is a TypeError naming the argument
    if np.ndim(scale) == 0:
        if isinstance(scale, (np.ndarray, np.generic)):
            scale = scale.item()
        return check_float(scale, name, low=0.0, low_open=True)
    given = scale
    arr = check_array(scale, name, ndim=1).astype(np.float64)
    if channels is None:
        raise ValueError(f"{name} must be a single number here; got {_describe(given)}, shape {arr.shape}")
    if arr.shape != (channels,):
        raise ValueError(
            f"{name} must hold one value per output channel, shape ({channels},); got shape {arr.shape}: "
            f"{_describe(given)}"
        )
    bad = ~(np.isfinite(arr) & (arr > 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name} must be finite and > 0 for every channel; got {arr[i]} at index {i}")
    return arr


def check_codes(q, name: str, qmin: int, qmax: int) -> np.ndarray:
    """An integer array whose values all lie in ``[qmin, qmax]``."""
    given, q = q, as_array(q, name)
    if q.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer array of codes; got {described(given, q)}")
    if q.size and (q.min() < qmin or q.max() > qmax):
        raise ValueError(
            f"{name} must lie in [{qmin}, {qmax}]; got values from {q.min()} to {q.max()}"
        )
    return q


def check_qrange(qmin, qmax) -> tuple[int, int]:
    """Integer code range ``qmin < qmax`` spanning at most 16 bits (``qmax - qmin < 2**16``)."""
    qmin = check_int(qmin, "qmin", low=-(2**31), high=2**31 - 1)
    qmax = check_int(qmax, "qmax", low=-(2**31), high=2**31 - 1)
    if qmax <= qmin:
        raise ValueError(f"qmax must be > qmin; got qmin={qmin}, qmax={qmax}")
    if qmax - qmin >= 2**16:
        raise ValueError(
            f"the code range [qmin, qmax] = [{qmin}, {qmax}] needs more than 16 bits; "
            f"expected at most 2**16 levels (bits in 2..16)"
        )
    return qmin, qmax


def check_zero_point(zero_point, qmin: int, qmax: int, name: str = "zero_point") -> int:
    """An integer zero point inside the code range ``[qmin, qmax]`` (Jacob et al. 2018)."""
    zero_point = check_int(zero_point, name)
    if not qmin <= zero_point <= qmax:
        raise ValueError(
            f"{name} must lie in the integer range [qmin, qmax] = [{qmin}, {qmax}]; got {zero_point}"
        )
    return zero_point


def smallest_int_dtype(qmin: int, qmax: int) -> np.dtype:
    """The smallest of uint8, int8, uint16, int16, int32 that holds every code in [qmin, qmax]."""
    for dt in (np.uint8, np.int8, np.uint16, np.int16, np.int32):
        info = np.iinfo(dt)
        if info.min <= qmin and qmax <= info.max:
            return np.dtype(dt)
    return np.dtype(np.int64)
