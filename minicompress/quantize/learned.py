"""Quantizers with a learned range: LSQ (a learned step size) and PACT (a learned clip).

Both quantize in the forward pass and use the straight-through estimator for ``round``
(its derivative taken as 1); what they add is a gradient for the range itself, so training
moves the range where the loss wants it instead of where min/max statistics put it.

**LSQ** (Esser, McKinstry, Bablani, Appuswamy & Modha 2020, "Learned Step Size
Quantization", eq. 1-5), step s > 0, integer range [-Q_n, Q_p]::

    v = x / s,    x_hat = round(clip(v, -Q_n, Q_p)) * s
    dx_hat/dx = 1                   if -Q_n < v < Q_p,  else 0
    dx_hat/ds = round(v) - v        if -Q_n < v < Q_p
              = -Q_n                if v <= -Q_n
              = Q_p                 if v >= Q_p

and the step's gradient is scaled by ``g = 1 / sqrt(N Q_p)`` (section 2.2; N = the number
of weights of the layer, or of features of the activation per example), so that the step
learns at the pace of the values it quantizes.  Unsigned data (after a ReLU) use Q_n = 0,
Q_p = 2**b - 1; signed data Q_n = 2**(b-1), Q_p = 2**(b-1) - 1.

**PACT** (Choi, Wang, Venkataramani, Chuang, Srinivasan & Gopalakrishnan 2018, eq. 1-3),
clip level alpha > 0, in place of the ReLU::

    y = clip(x, 0, alpha),   y_q = round(y * n / alpha) * alpha / n,   n = 2**b - 1
    dy_q/dx = 1      if 0 < x < alpha,  else 0
    dy_q/dalpha = 1  if x >= alpha,     else 0

(the paper's STE ignores alpha's role in the step alpha / n).  Signed data here use the
symmetric variant ``clip(x, -alpha, alpha)`` with n = 2**(b-1) - 1 steps per side, and
``dy_q/dalpha = -1`` where ``x <= -alpha``.

Kinks, stated and tested: at ``v = Q_p`` (``v = -Q_n``) exactly LSQ counts x as clipped
(dx = 0, ds = Q_p or -Q_n), as the paper's ``v/s >= Q_p``; PACT counts ``x = alpha`` as
clipped (dx = 0, dalpha = 1) and ``x = 0`` as not passing (dx = 0, as this library's ReLU);
``round`` is half to even.  Both gradients are the exact derivatives of the STE surrogates
``s (clip(v, -Q_n, Q_p) + r)`` and ``clip(x, lo, alpha) + r`` with the rounding residual r
held fixed, which is what the finite-difference tests check away from the kinks.
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import (
    as_array,
    check_array,
    check_bits,
    check_bool,
    check_float,
    check_int,
    check_same_shape,
)

__all__ = ["lsq_range", "lsq_grad_scale", "lsq_init_step", "lsq_forward", "lsq_backward",
           "pact_levels", "pact_forward", "pact_backward"]


def lsq_range(bits: int, signed: bool) -> tuple[int, int]:
    """``(Q_n, Q_p)``: ``(2**(b-1), 2**(b-1) - 1)`` signed, ``(0, 2**b - 1)`` unsigned."""
    bits = check_bits(bits)
    return (2 ** (bits - 1), 2 ** (bits - 1) - 1) if check_bool(signed, "signed") else (0, 2**bits - 1)


def lsq_grad_scale(n: int, Qp: int) -> float:
    """``g = 1 / sqrt(n Q_p)`` (Esser et al. 2020, section 2.2)."""
    return 1.0 / np.sqrt(check_int(n, "n", low=1) * check_int(Qp, "Qp", low=1))


def lsq_init_step(x, Qp: int) -> float:
    """The paper's initial step ``s = 2 mean|x| / sqrt(Q_p)`` (1.0 for an all-zero x)."""
    m = float(np.mean(np.abs(x)))
    return 2.0 * m / np.sqrt(Qp) if m > 0 else 1.0


def _one_value(value, name: str):
    """A number, or a one-element array (the learnable (1,) parameter) as its number."""
    if np.ndim(value) == 0:
        return value
    arr = as_array(value, name)
    if arr.size != 1:
        raise ValueError(f"{name} must be one number (or a (1,) array); got shape {arr.shape}")
    return arr.reshape(-1)[0].item() if arr.dtype.kind in "fiu" else value


def lsq_forward(x, step, Qn: int, Qp: int, grad_scale: float = 1.0):
    """``x_hat = round(clip(x / s, -Q_n, Q_p)) s``; returns ``(x_hat, cache)``.

    x : array;  step : s > 0 (a number or a (1,) array);  Qn >= 0, Qp >= 1 : the code range;
    grad_scale : g, multiplied into ds by :func:`lsq_backward`.
    """
    x = check_array(x, "x", finite=True)
    s = check_float(_one_value(step, "step"), "step", low=0.0, low_open=True)
    Qn, Qp = check_int(Qn, "Qn", low=0), check_int(Qp, "Qp", low=1)
    grad_scale = check_float(grad_scale, "grad_scale", low=0.0, low_open=True)
    v = x / s
    out = (np.rint(np.clip(v, -Qn, Qp)) * s).astype(x.dtype, copy=False)
    return out, (v, Qn, Qp, grad_scale)


def lsq_backward(dout, cache):
    """``(dx, ds)``: the STE inside ``-Q_n < v < Q_p`` and the step gradient (scaled by g)."""
    v, Qn, Qp, g = cache
    dout = check_array(dout, "dout", finite=True)
    check_same_shape(dout, v, ("dout", "x"))
    inside = (v > -Qn) & (v < Qp)
    dx = dout * inside
    dv_ds = np.where(inside, np.rint(v) - v, np.where(v <= -Qn, -float(Qn), float(Qp)))
    return dx, g * float(np.sum(dout * dv_ds))


def pact_levels(bits: int, signed: bool) -> int:
    """n: steps on [0, alpha], ``2**b - 1`` unsigned, ``2**(b-1) - 1`` per side signed."""
    bits = check_bits(bits)
    return 2 ** (bits - 1) - 1 if check_bool(signed, "signed") else 2**bits - 1


def pact_forward(x, alpha, bits: int, signed: bool = False):
    """``y_q = round(clip(x, lo, alpha) n / alpha) alpha / n`` (lo = 0, or -alpha if signed);
    returns ``(y_q, cache)``."""
    x = check_array(x, "x", finite=True)
    a = check_float(_one_value(alpha, "alpha"), "alpha", low=0.0, low_open=True)
    n = pact_levels(bits, signed)
    lo = -a if signed else 0.0
    y = np.clip(x, lo, a)
    out = (np.rint(y * (n / a)) * (a / n)).astype(x.dtype, copy=False)
    return out, (x, a, lo, signed)


def pact_backward(dout, cache):
    """``(dx, dalpha)``: dx passes where ``lo < x < alpha``; dalpha sums dout where ``x >= alpha``
    (minus where ``x <= -alpha``, signed)."""
    x, a, lo, signed = cache
    dout = check_array(dout, "dout", finite=True)
    check_same_shape(dout, x, ("dout", "x"))
    dx = dout * ((x > lo) & (x < a))
    dalpha = float(np.sum(dout * (x >= a)))
    if signed:
        dalpha -= float(np.sum(dout * (x <= -a)))
    return dx, dalpha
