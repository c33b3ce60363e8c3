"""Affine (asymmetric) quantization of activations: scale and zero point, and calibration.

Jacob et al. 2018 ("Quantization and Training of Neural Networks for Efficient
Integer-Arithmetic-Only Inference"), equation (1)::

    r = S (q - Z)                 real value r, integer code q, scale S > 0, zero point Z
    q = clip(round(r / S) + Z, qmin, qmax)

The zero point is an integer code, so the real value 0 is represented exactly (zero padding
and ReLU outputs stay exact).  The text (section 4.2.2) only shows the symmetric weight
formula; activations after a ReLU are all >= 0 and would waste half of a symmetric range.

Calibration picks ``[lo, hi]`` from sample activations and maps it onto ``[qmin, qmax]``::

    S = (hi - lo) / (qmax - qmin),    Z = round(qmin - lo / S)

after widening the range to include 0 (``lo <= 0 <= hi``), which keeps Z inside the code
range.  Rounding is half to even (``np.rint``) everywhere.  Codes, scales and ranges are
computed in float64 whatever the input's dtype (a scale of 1e-8 is 0 in float16).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..nn._checks import (
    check_bits,
    check_bool,
    check_choice,
    check_codes,
    check_float,
    check_float_dtype,
    check_int,
    check_qrange,
    check_scale,
    check_weights,
    check_zero_point,
    smallest_int_dtype,
)
from ..nn._scaling import pow2_scale
from .histogram import entropy_threshold

__all__ = ["QParams", "integer_range", "affine_params", "quantize_affine", "dequantize_affine",
           "fake_quantize_affine", "calibrate", "CALIBRATION_METHODS"]

CALIBRATION_METHODS = ("minmax", "percentile", "mse", "entropy")

#: calibrate(method="mse") searches on at most this many values (an even stride through x).
MSE_SAMPLE = 2**18


class QParams(NamedTuple):
    """Quantization parameters in the argument order of :func:`quantize_affine`, so that
    ``quantize_affine(x, *qp)`` works."""

    scale: float
    zero_point: int
    qmin: int
    qmax: int


def integer_range(bits: int = 8, signed: bool = False) -> tuple[int, int]:
    """``(0, 2**b - 1)`` unsigned or ``(-2**(b-1), 2**(b-1) - 1)`` signed; bits in 2..16."""
    bits = check_bits(bits)
    if check_bool(signed, "signed"):
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1


def affine_params(lo, hi, *, bits: int = 8, signed: bool = False) -> QParams:
    """Scale and zero point that map the real range ``[lo, hi]`` onto the integer range.

    ``S = (hi - lo) / (qmax - qmin)`` and ``Z = round(qmin - lo / S)``, after widening the
    range to contain 0 (so that 0 is exactly representable, Jacob et al. 2018 section 2.1).
    A zero-width range (all values 0) gets S = 1 and Z such that 0 maps to a code.

    Notes
    -----
    ``hi - lo`` is computed as ``2 (hi/2 - lo/2)``: the same bits for every normal float, and
    no overflow for ``[-1e308, 1e308]``.  A range so narrow that S would fall below the
    smallest normal float64 (about 2.2e-308) is refused: S would lose its precision or
    underflow to 0.
    """
    lo = check_float(lo, "lo")
    hi = check_float(hi, "hi")
    if hi < lo:
        raise ValueError(f"hi must be >= lo; got lo={lo}, hi={hi}")
    qmin, qmax = integer_range(bits, signed)
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = 2.0 * ((0.5 * hi - 0.5 * lo) / (qmax - qmin)) if hi > lo else 1.0
    if scale < np.finfo(np.float64).tiny:
        raise ValueError(
            f"the range [lo, hi] = [{lo}, {hi}] is too narrow for {qmax - qmin + 1} codes: its scale "
            f"(hi - lo) / (qmax - qmin) = {scale} is below the smallest normal float64 "
            f"{np.finfo(np.float64).tiny:.3g}; treat such values as 0 (range [0, 0])"
        )
    zero_point = int(np.clip(np.rint(qmin - lo / scale), qmin, qmax))
    return QParams(float(scale), zero_point, qmin, qmax)


def quantize_affine(x, scale, zero_point, qmin: int = 0, qmax: int = 255) -> np.ndarray:
    """``q = clip(round(x / S) + Z, qmin, qmax)`` (Jacob et al. 2018, eq. 1).

    Parameters
    ----------
    x : array, finite
    scale : S > 0
    zero_point : integer Z in [qmin, qmax]
    qmin, qmax : integer code range (default uint8, [0, 255]); at most 16 bits

    Returns
    -------
    q : codes of the shape of ``x``, in the smallest integer dtype that holds [qmin, qmax]
        (uint8 for [0, 255], int8 for [-128, 127])

    Notes
    -----
    Round half to even.  Values outside ``[S (qmin - Z), S (qmax - Z)]`` are clipped to
    qmin or qmax: that is the quantizer (saturation), not a silent repair.
    """
    x = check_weights(x, "x")
    qmin, qmax = check_qrange(qmin, qmax)
    scale = check_scale(scale)
    zero_point = check_zero_point(zero_point, qmin, qmax)
    with np.errstate(over="ignore"):  # x / S beyond float64 saturates like any large value
        q = np.clip(np.rint(x.astype(np.float64) / scale) + zero_point, qmin, qmax)
    return q.astype(smallest_int_dtype(qmin, qmax))


def dequantize_affine(q, scale, zero_point, qmin: int = 0, qmax: int = 255, *,
                      dtype=np.float32) -> np.ndarray:
    """``r = S (q - Z)`` computed in float64, returned in ``dtype`` (a floating dtype); the
    codes must be integers in ``[qmin, qmax]`` (default uint8)."""
    dtype = check_float_dtype(dtype)
    qmin, qmax = check_qrange(qmin, qmax)
    q = check_codes(q, "q", qmin, qmax)
    scale = check_scale(scale)
    zero_point = check_zero_point(zero_point, qmin, qmax)
    return (scale * (q.astype(np.float64) - zero_point)).astype(dtype)


def fake_quantize_affine(x, qp: QParams) -> np.ndarray:
    """``S (clip(round(x / S) + Z, qmin, qmax) - Z)``: quantize then dequantize, in float64.

    ``qp`` is a :class:`QParams` (or a tuple ``(scale, zero_point, qmin, qmax)``), e.g. from
    :func:`calibrate`.
    """
    if not isinstance(qp, tuple) or len(qp) != 4:
        raise TypeError(f"qp must be QParams(scale, zero_point, qmin, qmax), e.g. from calibrate(); "
                        f"got {qp!r}")
    return dequantize_affine(quantize_affine(x, *qp), *qp, dtype=np.float64)


def _gather(x) -> np.ndarray:
    """One flat float array from an array or a list (or other iterable) of calibration batches."""
    if isinstance(x, (np.ndarray, str, bytes, dict)) or not hasattr(x, "__iter__"):
        parts = [x]  # one array (a number, None or a string is refused by check_weights)
    else:
        parts = list(x)
        if not parts:
            raise ValueError("x is an empty list of calibration batches; pass at least one array")
    flat = [check_weights(p, f"x[{i}]" if len(parts) > 1 else "x").ravel() for i, p in enumerate(parts)]
    return np.concatenate(flat)


def calibrate(x, method: str = "minmax", *, bits: int = 8, signed: bool = False,
              percentile: float = 99.99, n_grid: int = 100) -> QParams:
    """Choose ``(scale, zero_point)`` for activations from calibration batches.

    Parameters
    ----------
    x : array, or an iterable of arrays (calibration batches), finite
    method : ``"minmax"``: ``[min x, max x]``;  ``"percentile"``: ``[P_(100-p), P_p]`` of x
        (outliers are clipped);  ``"mse"``: the range ``a * [min x, max x]``,
        ``a in {1, (n-1)/n, ..., 1/n}``, that minimises the mean squared round-trip error
        (searched on an even stride of at most 2**18 values; ties go to the wider range);
        ``"entropy"``: TensorRT's KL-divergence threshold T on |x|
        (:func:`~.histogram.entropy_threshold`, with as many levels as codes cover one sign
        of the data), range ``[max(min x, -T), min(max x, T)]``
    bits, signed : the integer range, e.g. 8 bits unsigned = [0, 255]
    percentile : p for ``"percentile"``, in (50, 100]
    n_grid : number of candidate ranges for ``"mse"``

    Returns
    -------
    QParams(scale, zero_point, qmin, qmax); ``quantize_affine(x, *qp)`` uses it.

    Notes
    -----
    Every range is widened to include 0 before the scale is computed (see
    :func:`affine_params`), so values in the calibrated range round-trip with an error of at
    most S/2.  Values anywhere in the float64 range calibrate: the percentile interpolates
    between halved values and the MSE search runs on x divided by a power of two near
    max |x| (both exact), so neither ``b - a`` nor a squared error overflows.
    """
    method = check_choice(method, "method", CALIBRATION_METHODS)
    check_bits(bits)
    check_bool(signed, "signed")
    p = check_float(percentile, "percentile", low=50.0, high=100.0, low_open=True)
    n_grid = check_int(n_grid, "n_grid", low=1)
    v = _gather(x)
    if method == "minmax":
        return affine_params(float(v.min()), float(v.max()), bits=bits, signed=signed)
    if method == "percentile":
        lo, hi = 2.0 * np.percentile(0.5 * v, [100.0 - p, p])
        return affine_params(float(lo), float(hi), bits=bits, signed=signed)
    if method == "entropy":
        qmin, qmax = integer_range(bits, signed)
        levels = qmax - qmin + 1 if (v.min() >= 0 or v.max() <= 0) else (qmax - qmin + 1) // 2
        T = entropy_threshold(v, levels)
        return affine_params(max(float(v.min()), -T), min(float(v.max()), T), bits=bits, signed=signed)
    if v.size > MSE_SAMPLE:
        v = v[:: -(-v.size // MSE_SAMPLE)]
    lo, hi = min(float(v.min()), 0.0), max(float(v.max()), 0.0)
    c = pow2_scale(v)  # the errors of v / c are those of v divided by c**2, exactly
    v_c, lo_c, hi_c = v / c, lo / c, hi / c
    best, best_err = None, np.inf
    for i in range(n_grid, 0, -1):  # widest first, so ties keep the wider range
        qp = affine_params(lo_c * i / n_grid, hi_c * i / n_grid, bits=bits, signed=signed)
        err = float(np.mean((fake_quantize_affine(v_c, qp) - v_c) ** 2))
        if err < best_err:
            best, best_err = i, err
    # c * (lo_c * i / n) is lo * i / n exactly, without overflowing lo * i near 1e308
    return affine_params(c * (lo_c * best / n_grid), c * (hi_c * best / n_grid), bits=bits, signed=signed)
