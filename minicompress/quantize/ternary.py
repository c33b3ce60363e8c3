"""Ternarisation (section 3.2.1): every weight becomes -1, 0 or +1, times a scale.

Ternary Weight Networks (Li & Liu 2016)::

    t_i = +1 if w_i > delta,   -1 if w_i < -delta,   0 otherwise
    w  ~ alpha * t

with the threshold ``delta = 0.7 * mean|w|`` (TWN's approximation of the optimal threshold
for roughly normal or uniform weights) and the scale that is least-squares optimal for that
``t``::

    alpha = mean(|w_i| over |w_i| > delta)

(``||w - alpha t||^2`` is a parabola in alpha with its minimum there.)
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import check_bool, check_float, check_weights
from .binary import _channel_mean_abs

__all__ = ["TWN_FACTOR", "ternary_threshold", "ternarize"]

#: TWN's threshold factor: delta = 0.7 * mean|w|.
TWN_FACTOR = 0.7


def ternary_threshold(w, *, factor: float = TWN_FACTOR, per_channel: bool = False):
    """``delta = factor * mean|w|`` (TWN: factor = 0.7); per output channel if asked.

    Returns a float, or a (C_out,) float64 array when ``per_channel``.
    """
    w = check_weights(w)
    factor = check_float(factor, "factor", low=0.0)
    mean_abs = _channel_mean_abs(w, per_channel)  # binary_scale's alpha: mean|w|
    return factor * (float(mean_abs) if np.ndim(mean_abs) == 0 else mean_abs)


def ternarize(w, delta=None, *, per_channel: bool = False):
    """Ternary codes and scale of ``w`` (Ternary Weight Networks, Li & Liu 2016).

    Parameters
    ----------
    w : (C_out, ...) array, finite
    delta : threshold >= 0; default ``0.7 * mean|w|`` (per channel if ``per_channel``)
    per_channel : one delta (when defaulted) and one alpha per output channel (axis 0)

    Returns
    -------
    t : array of the shape and float dtype of ``w`` with values in {-1, 0, +1}
    alpha : float, or (C_out,) float64 array when ``per_channel``; ``w ~ alpha * t``

    Notes
    -----
    Kink: ``|w| > delta`` is kept (strict), so a weight exactly at the threshold becomes 0.
    If no weight exceeds delta (an all-zero tensor, for one) then ``t = 0`` and ``alpha = 0``.
    """
    w = check_weights(w)
    per_channel = check_bool(per_channel, "per_channel")
    if delta is None:
        delta = ternary_threshold(w, per_channel=per_channel)
    else:
        delta = check_float(delta, "delta", low=0.0)
    a = np.abs(w)
    if per_channel and w.ndim >= 2:
        d = np.reshape(np.broadcast_to(delta, (w.shape[0],)), (-1,) + (1,) * (w.ndim - 1))
        keep = a > d
        kept = keep.reshape(w.shape[0], -1)
        sums = np.where(kept, a.reshape(w.shape[0], -1), 0).sum(axis=1, dtype=np.float64)
        counts = kept.sum(axis=1)
        alpha = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
    else:
        keep = a > delta
        n = int(keep.sum())
        alpha = float(a[keep].sum(dtype=np.float64) / n) if n else 0.0
    t = np.where(keep, np.where(w > 0, 1, -1), 0).astype(w.dtype)
    return t, alpha
