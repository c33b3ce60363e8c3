"""Fake quantization with the straight-through estimator (the forward/backward pair every
quantization-aware layer and activation quantizer calls).

Forward, quantize then dequantize (Jacob et al. 2018, section 3)::

    fq(x) = S (clip(round(x / S) + Z, qmin, qmax) - Z)

``round`` has zero derivative almost everywhere, so backward uses the straight-through
estimator (STE; Bengio et al. 2013, BinaryConnect, Courbariaux et al. 2015): the gradient
passes unchanged where x lies inside the clipping range and is zero outside::

    dfq/dx := 1  if  S (qmin - Z) <= x <= S (qmax - Z)      (closed at both ends)
              0  otherwise

which is the exact derivative of the surrogate ``clip(x, S (qmin - Z), S (qmax - Z))``
everywhere except at its two kinks, where the convention is 1 (as BinaryConnect's
``1_{|r| <= 1}``).  PyTorch's ``fake_quantize_per_tensor_affine`` tests the *rounded* code
instead, so it also passes the gradient up to half a step S/2 beyond each end.
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import (
    check_array,
    check_qrange,
    check_same_shape,
    check_scale,
    check_weights,
    check_zero_point,
)

__all__ = ["clip_window", "fake_quantize_forward", "fake_quantize_backward"]


def clip_window(x, scale, zero_point=0, qmin: int = -128, qmax: int = 127) -> np.ndarray:
    """The STE mask ``S (qmin - Z) <= x <= S (qmax - Z)`` (closed ends), boolean, shape of x."""
    qmin, qmax = check_qrange(qmin, qmax)
    scale = check_scale(scale)
    zero_point = check_zero_point(zero_point, qmin, qmax)
    x = np.asarray(x)
    return (x >= scale * (qmin - zero_point)) & (x <= scale * (qmax - zero_point))


def fake_quantize_forward(x, scale, zero_point=0, qmin: int = -128, qmax: int = 127):
    """Quantize-dequantize ``x`` in the forward pass; returns ``(out, cache)``.

    ``out = S (clip(round(x / S) + Z, qmin, qmax) - Z)``, in the float dtype of ``x``.

    Parameters
    ----------
    x : array, finite
    scale : S > 0;  zero_point : integer Z in [qmin, qmax];  qmin < qmax : code range
        (default signed 8 bit, [-128, 127])

    Returns
    -------
    out : array of x's shape, values on the grid S * (k - Z), k in [qmin, qmax]
    cache : the STE window for :func:`fake_quantize_backward`

    Notes
    -----
    Round half to even.  Backward is the STE: see the module docstring for the window.
    """
    x = check_weights(x, "x")
    qmin, qmax = check_qrange(qmin, qmax)
    scale = check_scale(scale)
    zero_point = check_zero_point(zero_point, qmin, qmax)
    q = np.clip(np.rint(x / scale) + zero_point, qmin, qmax)
    out = (scale * (q - zero_point)).astype(x.dtype)
    return out, clip_window(x, scale, zero_point, qmin, qmax)


def fake_quantize_backward(dout: np.ndarray, cache) -> np.ndarray:
    """STE: ``dx = dout * 1[S (qmin - Z) <= x <= S (qmax - Z)]``; dout has x's shape (nothing
    is broadcast)."""
    if not isinstance(cache, np.ndarray) or cache.dtype != bool:
        got = f"dtype {cache.dtype}" if isinstance(cache, np.ndarray) else type(cache).__name__
        raise TypeError(f"cache must be the boolean window fake_quantize_forward returned; got {got}")
    dout = check_array(dout, "dout", finite=True)
    check_same_shape(dout, cache, ("dout", "x (the cached window)"))
    return dout * cache
