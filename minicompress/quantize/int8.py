"""INT8 quantization (section 3.2.1 and formula 4.2.2), generalised to 2..16 bits.

The text's formula::

    q_ij = round(w_ij / scale * 127)

with ``scale`` the largest magnitude to represent, ``scale = max|w|`` by default, so that
``max|w|`` maps to +-127; the step between neighbouring codes is ``scale / 127`` and the
dequantized weight is ``w_hat = q * scale / 127``.  For ``b`` bits the 127 becomes
``qmax = 2**(b-1) - 1``.

Beyond what the text writes (it leaves all three open):

* the result is clipped to ``[-qmax, qmax]`` = [-127, 127] (symmetric: -128 is never used,
  so ``q(-w) = -q(w)`` holds exactly), which matters only when an explicit ``scale`` is
  smaller than ``max|w|``;
* ``round`` is NumPy's ``np.rint``: round half to *even* (``round(0.5) = 0``,
  ``round(1.5) = 2``), like Python's ``round`` and ``torch.round``; C's ``round`` and
  TFLite's reference kernels round half away from zero.  The text does not say which;
* one scale per output channel (axis 0) is an option (``per_channel=True``).

Inside the range the round-trip error is at most half a step: ``|w - w_hat| <= scale/254``.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_bits, check_codes, check_scale, check_weights

__all__ = ["symmetric_qmax", "symmetric_quantize", "symmetric_dequantize",
           "int8_quantize", "int8_dequantize"]


def symmetric_qmax(bits: int) -> int:
    """``qmax = 2**(bits-1) - 1``: 127 for 8 bits, 1 for 2 bits (codes -1, 0, +1)."""
    return 2 ** (check_bits(bits) - 1) - 1


def _default_scale(w: np.ndarray, per_channel: bool):
    """max|w| (per tensor or per output channel); 1.0 where that is 0 (all-zero weights)."""
    a = np.abs(w)
    m = a.reshape(w.shape[0], -1).max(axis=1).astype(np.float64) if per_channel else float(a.max())
    if per_channel:
        return np.where(m > 0, m, 1.0)
    return m if m > 0 else 1.0


def _channel_view(scale, ndim: int):
    """Reshape a per-channel scale (C,) to broadcast along axis 0 of an ndim-D array."""
    return scale if np.ndim(scale) == 0 else np.reshape(scale, (-1,) + (1,) * (ndim - 1))


def symmetric_quantize(w, bits: int = 8, scale=None, *, per_channel: bool = False):
    """``q = clip(round(w / scale * qmax), -qmax, qmax)`` with ``qmax = 2**(bits-1) - 1``.

    Parameters
    ----------
    w : (C_out, ...) array, finite
    bits : int in 2..16
    scale : the magnitude that maps to qmax; > 0.  Default ``max|w|`` (per channel if
        ``per_channel``).  A number, or a (C_out,) array with ``per_channel``.
    per_channel : one scale per output channel (axis 0)

    Returns
    -------
    q : integer codes, shape of ``w``; int8 for bits <= 8, else int16
    scale : float, or (C_out,) float64 array; pass it to :func:`symmetric_dequantize`

    Notes
    -----
    Rounding is half to even (``np.rint``).  Values beyond ``scale`` are clipped to
    ``+-qmax``.  An all-zero tensor (or channel) gets scale 1.0 and codes 0: no division
    by zero, and the returned scale is a valid argument again.
    """
    w = check_weights(w)
    qmax = symmetric_qmax(bits)
    if per_channel and w.ndim < 1:
        raise ValueError("per_channel=True needs an array with an output-channel axis; got a scalar")
    if scale is None:
        scale = _default_scale(w, per_channel)
    else:
        scale = check_scale(scale, "scale", channels=w.shape[0] if per_channel else None)
        if per_channel and np.ndim(scale) == 0:
            scale = np.full(w.shape[0], scale)
    s = _channel_view(scale, w.ndim)
    q = np.clip(np.rint(w / s * qmax), -qmax, qmax)
    return q.astype(np.int8 if bits <= 8 else np.int16), scale


def symmetric_dequantize(q, scale, bits: int = 8, *, dtype=np.float32) -> np.ndarray:
    """``w_hat = q * scale / qmax``; ``scale`` a number or one per output channel (axis 0)."""
    qmax = symmetric_qmax(bits)
    q = check_codes(q, "q", -qmax, qmax)
    channels = q.shape[0] if q.ndim >= 1 else None
    scale = check_scale(scale, "scale", channels=channels if np.ndim(scale) else None)
    return (q * (_channel_view(scale, q.ndim) / qmax)).astype(dtype)


def int8_quantize(w, scale=None, *, per_channel: bool = False):
    """The text's INT8 quantization (section 4.2.2): ``q = round(w / scale * 127)``.

    Parameters
    ----------
    w : (C_out, ...) array, finite
    scale : > 0, the magnitude mapped to 127; default ``max|w|`` (per channel if asked)
    per_channel : one scale per output channel (axis 0)

    Returns
    -------
    q : int8 array in [-127, 127], shape of ``w``
    scale : float, or (C_out,) float64 array

    Notes
    -----
    Round half to even (the text does not specify a rounding mode); clipped to
    [-127, 127]; ``max|w|`` maps to +-127; ``q(-w) = -q(w)``; an all-zero tensor gets
    scale 1.0 and q = 0.  Round trip: ``|w - q*scale/127| <= scale/254`` for ``|w| <= scale``.
    """
    return symmetric_quantize(w, 8, scale, per_channel=per_channel)


def int8_dequantize(q, scale, *, dtype=np.float32) -> np.ndarray:
    """``w_hat = q * scale / 127`` (the inverse map of :func:`int8_quantize`, up to rounding)."""
    return symmetric_dequantize(q, scale, 8, dtype=dtype)
