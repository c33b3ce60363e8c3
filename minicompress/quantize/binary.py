"""Binarisation (section 3.2.1 and formula 4.2.1): every weight becomes +1 or -1.

The text's rule::

    w_ij = +1  if w_ij >= 0
           -1  otherwise

and its least-squares scaled form (XNOR-Net, Rastegari et al. 2016; BinaryConnect,
Courbariaux et al. 2015 trains with the unscaled one)::

    w ~ alpha * sign(w),   alpha = mean(|w|)

Minimising ``||w - alpha * b||^2`` over alpha for fixed ``b = sign(w)`` gives
``||w||^2 - 2 alpha sum|w| + alpha^2 n``, a parabola with its minimum at ``sum|w| / n``.
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import check_bool, check_weights

__all__ = ["binarize", "binary_scale", "binarize_scaled"]


def binarize(w) -> np.ndarray:
    """The text's binarisation (section 4.2.1): ``+1 where w >= 0, else -1``.

    Parameters
    ----------
    w : array of any shape, finite

    Returns
    -------
    b : array of the shape and float dtype of ``w`` with values in {-1, +1}

    Notes
    -----
    Kink: ``sign(0) = +1``, exactly the text's ``w >= 0`` rule (``np.sign`` would give 0,
    which is not a binary value).  ``-0.0 >= 0`` is true, so -0.0 also maps to +1.
    """
    w = check_weights(w)
    return np.where(w >= 0, 1, -1).astype(w.dtype)


def _channel_mean_abs(w: np.ndarray, per_channel: bool):
    a = np.abs(w)
    if not check_bool(per_channel, "per_channel") or w.ndim < 2:
        return a.mean(dtype=np.float64)
    return a.reshape(w.shape[0], -1).mean(axis=1, dtype=np.float64)


def binary_scale(w, *, per_channel: bool = False):
    """``alpha = mean(|w|)``, the least-squares optimal scale of ``alpha * sign(w)``.

    Parameters
    ----------
    w : (C_out, ...) array, finite
    per_channel : one alpha per output channel (axis 0), as XNOR-Net does per filter

    Returns
    -------
    alpha : float, or (C_out,) float64 array when ``per_channel``
    """
    w = check_weights(w)
    alpha = _channel_mean_abs(w, per_channel)
    return float(alpha) if np.ndim(alpha) == 0 else alpha


def binarize_scaled(w, *, per_channel: bool = False) -> np.ndarray:
    """``alpha * sign(w)`` with ``alpha = mean|w|`` (XNOR-Net, Rastegari et al. 2016).

    Parameters
    ----------
    w : (C_out, ...) array, finite
    per_channel : one alpha per output channel (axis 0)

    Returns
    -------
    w_hat : array of the shape and float dtype of ``w``, values in {-alpha, +alpha}

    Notes
    -----
    ``sign(0) = +1`` as in :func:`binarize`.  An all-zero tensor gives alpha = 0 and
    ``w_hat = 0``: exact, with no division.
    """
    w = check_weights(w)
    alpha = _channel_mean_abs(w, per_channel)
    if np.ndim(alpha):
        alpha = alpha.reshape((-1,) + (1,) * (w.ndim - 1))
    return (alpha * binarize(w)).astype(w.dtype)
