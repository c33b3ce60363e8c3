"""The symmetric quantizer: formula 4.2.2 of the source text, generalised to b bits.

The text's INT8 quantization (section 3.2.1, formula 4.2.2)::

    q_ij = round(w_ij / scale * 127)

with ``scale`` the largest magnitude to represent, ``scale = max|w|`` by default, so that
``max|w|`` maps to +-127; the step between neighbouring codes is ``scale / 127`` and the
dequantized weight is ``w_hat = q * scale / 127``.  For ``b`` bits the 127 becomes
``qmax = 2**(b-1) - 1`` (1 at b = 2: codes -1, 0, +1).

This is the ONE implementation: ``quantize.int8_quantize`` is it at 8 bits, the storage
formats ``"int8"``, ``"int8_channel"``, ``"int"`` and the quantized ``"bitmask"``/``"csr"``
store its codes, and every quantized layer computes with :func:`symmetric_dequantize` of
them.  It lives with the storage formats because a stored code means nothing without it.

Beyond what the text writes (it leaves all of these open):

* **computed in float64** from the exact values of ``w``, whatever its float dtype (float16,
  float32 and float64 inputs holding the same numbers give the same codes), and the scale is
  **a float32**, the precision it is stored in: the codes computed in memory are exactly
  the ones a saved model reloads.  The default ``max|w|`` is exact for float16 and float32
  weights; for float64 ones it is rounded *up* to the next float32, so ``|w| <= scale``
  still holds (a given scale is rounded to nearest), and ``max|w|`` still maps to
  ``+-qmax`` unless it lies below float32's normal range (1.2e-38), where the rounding is
  coarse and every code may be 0;
* the result is **clipped** to ``[-qmax, qmax]`` (symmetric: -128 is never used, so
  ``q(-w) = -q(w)`` exactly), which matters only when ``scale`` is smaller than ``max|w|``;
* ``round`` is ``np.rint``: round **half to even** (``round(0.5) = 0``, ``round(1.5) = 2``),
  like Python's ``round`` and ``torch.round``; C's ``round`` and TFLite's reference kernels
  round half away from zero;
* **per channel** (``per_channel=True``): one scale per output channel, axis 0;
* an all-zero tensor (or channel) gets scale 1.0 and codes 0.

Inside the range the round-trip error is at most half a step: ``|w - w_hat| <= scale/(2 qmax)``
(``scale/254`` at 8 bits), exactly so for ``w_hat`` in float64; a float32 ``w_hat`` adds its
own rounding, half an ulp of ``w_hat``.
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import check_bits, check_bool, check_codes, check_float_dtype, check_scale, check_weights

__all__ = ["symmetric_qmax", "symmetric_scale", "stored_scale", "symmetric_quantize",
           "symmetric_dequantize", "symmetric_round_trip", "channel_view"]


def symmetric_qmax(bits: int) -> int:
    """``qmax = 2**(bits-1) - 1``: 127 for 8 bits, 1 for 2 bits (codes -1, 0, +1)."""
    return 2 ** (check_bits(bits) - 1) - 1


def channel_view(scale, ndim: int):
    """Reshape a per-channel scale (C,) to broadcast along axis 0 of an ndim-D array."""
    return scale if np.ndim(scale) == 0 else np.reshape(scale, (-1,) + (1,) * (ndim - 1))


def _to_float32(scale, name: str):
    """``scale`` rounded to float32 (as stored), refused if that leaves 0 or infinity."""
    s32 = np.asarray(scale, dtype=np.float64).astype(np.float32)
    bad = ~(np.isfinite(s32) & (s32 > 0))
    if bad.any():
        i = int(np.argmax(bad.ravel()))
        value, rounded = np.asarray(scale).ravel()[i], s32.ravel()[i]
        raise ValueError(f"{name} = {value} is not a positive float32 (it rounds to {rounded}); "
                         f"scales are stored as float32, so use one between 1.4e-45 and 3.4e38")
    return float(s32) if s32.ndim == 0 else s32.astype(np.float64)


def symmetric_scale(w, *, per_channel: bool = False):
    """The default scale: ``max|w|`` (per output channel if asked), 1.0 where that is 0,
    rounded to float32.  A float, or a (C_out,) float64 array holding float32 values."""
    w = check_weights(w)
    per_channel = check_bool(per_channel, "per_channel")
    a = np.abs(w.astype(np.float64, copy=False))
    if per_channel:
        if w.ndim < 1:
            raise ValueError("per_channel=True needs an array with an output-channel axis; got a scalar")
        m = a.reshape(w.shape[0], -1).max(axis=1)
    else:
        m = np.array(a.max())
    m = np.where(m > 0, m, 1.0)
    if np.any(m > np.finfo(np.float32).max):
        raise ValueError(f"max|w| = {m.max()} is beyond float32's range (3.4e38), the precision "
                         f"scales are stored in; rescale the weights")
    up = m.astype(np.float32)
    up = np.where(up < m, np.nextafter(up, np.float32(np.inf)), up)  # round UP: |w| <= scale
    return _to_float32(up.astype(np.float64) if per_channel else float(up), "scale")


def stored_scale(scale, shape, *, per_channel: bool):
    """A given ``scale`` checked (> 0, finite; one per output channel, or one number that then
    serves every channel) and rounded to float32, as it is stored."""
    per_channel = check_bool(per_channel, "per_channel")
    channels = shape[0] if per_channel else None
    if per_channel and not shape:
        raise ValueError("per_channel=True needs an array with an output-channel axis; got a scalar")
    scale = check_scale(scale, "scale", channels=channels)
    if per_channel and np.ndim(scale) == 0:
        scale = np.full(channels, scale)
    return _to_float32(scale, "scale")


def symmetric_quantize(w, bits: int = 8, scale=None, *, per_channel: bool = False):
    """``q = clip(round(w / scale * qmax), -qmax, qmax)`` with ``qmax = 2**(bits-1) - 1``.

    Parameters
    ----------
    w : (C_out, ...) float array, finite (any float dtype; integers are taken as float64)
    bits : int in 2..16
    scale : the magnitude that maps to qmax; > 0.  Default :func:`symmetric_scale`.  A
        number, or a (C_out,) array with ``per_channel`` (a number is then used for every
        channel).  Rounded to float32, as stored.
    per_channel : one scale per output channel (axis 0)

    Returns
    -------
    q : integer codes, shape of ``w``; int8 for bits <= 8, else int16
    scale : float, or (C_out,) float64 array (of float32 values); pass it to
        :func:`symmetric_dequantize`

    Notes
    -----
    Computed in float64: the codes depend on the values of ``w``, not on its dtype.  Round
    half to even; beyond ``scale`` clipped to ``+-qmax``.  See the module docstring.
    """
    w = check_weights(w)
    qmax = symmetric_qmax(bits)
    per_channel = check_bool(per_channel, "per_channel")
    if scale is None:
        scale = symmetric_scale(w, per_channel=per_channel)
    else:
        scale = stored_scale(scale, w.shape, per_channel=per_channel)
    s = channel_view(scale, w.ndim)
    q = np.clip(np.rint(w.astype(np.float64, copy=False) / s * qmax), -qmax, qmax)
    return q.astype(np.int8 if bits <= 8 else np.int16), scale


def symmetric_dequantize(q, scale, bits: int = 8, *, dtype=np.float32) -> np.ndarray:
    """``w_hat = q * (scale / qmax)``, computed in float64, returned in ``dtype``.

    ``scale`` is a number or one per output channel (axis 0), as :func:`symmetric_quantize`
    returned it.
    """
    qmax = symmetric_qmax(bits)
    dtype = check_float_dtype(dtype)
    q = check_codes(q, "q", -qmax, qmax)
    channels = q.shape[0] if q.ndim >= 1 else None
    scale = check_scale(scale, "scale", channels=channels if np.ndim(scale) else None)
    return (q * (channel_view(scale, q.ndim) / qmax)).astype(dtype)


def symmetric_round_trip(w, bits: int = 8, *, per_channel: bool = False) -> np.ndarray:
    """``symmetric_dequantize(symmetric_quantize(w))`` in ``w``'s dtype: the weight a b-bit
    layer computes with (scale = max|w|, per output channel if asked)."""
    w = check_weights(w)
    q, scale = symmetric_quantize(w, bits, per_channel=per_channel)
    return symmetric_dequantize(q, scale, bits, dtype=w.dtype)
