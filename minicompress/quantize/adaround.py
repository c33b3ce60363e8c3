"""AdaRound: learn, weight by weight, whether to round down or up (Nagel, Amjad, van Baalen,
Louizos & Blankevoort 2020, "Up or Down? Adaptive Rounding for Post-Training Quantization").

Rounding to nearest (formula 4.2.2) minimises each weight's own error, not the layer's
output error.  AdaRound keeps the grid of the symmetric quantizer (step ``s = scale / qmax``,
scale = max|w| per row) and chooses between ``floor(w / s)`` and ``floor(w / s) + 1`` with a
continuous relaxation, a rectified sigmoid of a free variable V (eq. 23)::

    h(V) = clip(sigmoid(V) (zeta - gamma) + gamma, 0, 1),      zeta = 1.1, gamma = -0.1
    w_soft = s (floor(w / s) + h(V))

minimising, for the layer's calibration inputs X (N, k) (the im2col rows of a Conv2d), the
output reconstruction error plus a regulariser that pushes every h to 0 or 1 (eq. 21, 24)::

    L(V) = ||X (w - w_soft)^T||_F^2 / N  +  lam * sum_ij (1 - |2 h_ij - 1|^beta)
         = tr((w - w_soft) Hx (w - w_soft)^T) + lam * reg,       Hx = X^T X / N  (k, k)

with beta annealed from 20 to 2 after a warm-up without the regulariser (the paper's
schedule).  At the end each weight rounds up where ``h(V) >= 0.5``, i.e. ``V >= 0``.

Here the reconstruction target is the float layer on the *same* inputs as the quantized one
(its inputs through the already-quantized earlier layers), the objective GPTQ minimises too;
the paper also offers a target through the activation function (eq. 25), not done here.
The top code is kept on the grid: where ``w / s = qmax`` exactly, floor is taken as qmax - 1
(and h starts at 1), so ``floor + h`` never leaves ``[-qmax, qmax]``.
"""

from __future__ import annotations

import numpy as np

from ..formats import compress_layer
from ..formats.symmetric import symmetric_qmax, symmetric_scale
from ..nn._checks import check_array, check_bits, check_bool, check_float, check_int, check_same_shape
from ..nn.calibration import input_rows
from ..nn.layers import Module
from ..nn.optim import Adam
from .sequential import check_calibration, codes_encoding, quantize_sequentially, target_layers

__all__ = ["ZETA", "GAMMA", "rectified_sigmoid", "rectified_sigmoid_backward", "rounding_regularizer",
           "adaround_init", "adaround_loss_forward", "adaround_loss_backward", "beta_schedule",
           "adaround_quantize", "adaround"]

ZETA, GAMMA = 1.1, -0.1


def rectified_sigmoid(V) -> np.ndarray:
    """``h(V) = clip(sigmoid(V) (zeta - gamma) + gamma, 0, 1)`` (eq. 23), shape of V."""
    V = check_array(V, "V", finite=True)
    return np.clip(1.0 / (1.0 + np.exp(-V)) * (ZETA - GAMMA) + GAMMA, 0.0, 1.0)


def rectified_sigmoid_backward(dh, V) -> np.ndarray:
    """``dV = dh (zeta - gamma) sigmoid(V) (1 - sigmoid(V))`` where ``0 < h < 1`` (unclipped), else 0.

    Kinks: at ``V = -log(11)`` and ``V = log(11)`` the unclipped value is exactly 0 and 1;
    there the gradient is taken as 0 (the clip is active, closed ends).
    """
    sig = 1.0 / (1.0 + np.exp(-V))
    raw = sig * (ZETA - GAMMA) + GAMMA
    return dh * (ZETA - GAMMA) * sig * (1.0 - sig) * ((raw > 0) & (raw < 1))


def rounding_regularizer(h, beta: float):
    """``(sum(1 - |2h - 1|^beta), d/dh)``; ``d/dh = -2 beta |2h - 1|^(beta - 1) sign(2h - 1)``
    (0 at h = 1/2, where the term has its maximum, for beta > 1)."""
    u = 2.0 * h - 1.0
    return float(np.sum(1.0 - np.abs(u) ** beta)), -2.0 * beta * np.abs(u) ** (beta - 1.0) * np.sign(u)


def adaround_init(rest) -> np.ndarray:
    """V with ``h(V) = rest`` (the fractional part ``w / s - floor(w / s)`` in [0, 1]), so the
    soft weight starts at the float weight: ``V = -log((zeta - gamma) / (rest - gamma) - 1)``."""
    return -np.log((ZETA - GAMMA) / (np.asarray(rest, np.float64) - GAMMA) - 1.0)


def adaround_loss_forward(V, w, floor, step, Hx, beta: float, lam: float):
    """The AdaRound objective; returns ``(loss, cache)``.

    V, w, floor : (m, k);  step : (m, 1) grid step per row;  Hx : (k, k) = X^T X / N;
    beta, lam : the regulariser's exponent and weight.
    ``loss = sum((e Hx) * e) + lam * sum(1 - |2h - 1|^beta)``, e = w - step (floor + h(V)).
    """
    V, w, floor = (check_array(a, n, ndim=2, finite=True) for a, n in ((V, "V"), (w, "w"), (floor, "floor")))
    check_same_shape(V, w, ("V", "w"))
    check_same_shape(V, floor, ("V", "floor"))
    step = check_array(step, "step", ndim=2, finite=True)
    if step.shape != (V.shape[0], 1):
        raise ValueError(f"step must be ({V.shape[0]}, 1), one grid step per row; got {step.shape}")
    Hx = check_array(Hx, "Hx", ndim=2, finite=True)
    if Hx.shape != (V.shape[1],) * 2:
        raise ValueError(f"Hx must be ({V.shape[1]}, {V.shape[1]}); got {Hx.shape}")
    beta = check_float(beta, "beta", low=0.0, low_open=True)
    lam = check_float(lam, "lam", low=0.0)
    h = rectified_sigmoid(V)
    e = w - step * (floor + h)
    eH = e @ Hx
    reg, dreg = rounding_regularizer(h, beta)
    loss = np.float64(np.sum(eH * e) + lam * reg)
    return loss, (V, step, eH, dreg, lam)


def adaround_loss_backward(dout, cache) -> dict:
    """``dL/dV``: ``dL/dh = -2 step (e Hx) + lam dreg/dh`` (Hx symmetric), then through h(V)."""
    V, step, eH, dreg, lam = cache
    # the loss is a scalar: dout = dL_total / dL, a number (or a 0-d array)
    dout = check_float(dout.item() if isinstance(dout, np.ndarray) and dout.ndim == 0 else dout, "dout")
    dh = dout * (-2.0 * step * eH + lam * dreg)
    return {"V": rectified_sigmoid_backward(dh, V)}


def beta_schedule(it: int, iters: int, *, warmup: float = 0.2, start: float = 20.0, end: float = 2.0):
    """(beta, regulariser on?) at iteration ``it``: off during the first ``warmup`` fraction,
    then beta decays linearly from ``start`` to ``end``."""
    w = int(warmup * iters)
    if it < w:
        return start, False
    t = (it - w) / max(1, iters - w)
    return end + (start - end) * max(0.0, 1.0 - t), True


class _Rounding(Module):
    """The free variables V as a Module, so the one Adam of :mod:`minicompress.nn.optim` trains them."""

    def __init__(self, V):
        super().__init__()
        self.params, self.grads = {"V": V}, {"V": np.zeros_like(V)}


def adaround_quantize(w, Hx, bits: int, *, per_channel: bool = True, iters: int = 1000, lam: float = 0.01,
                      lr: float = 1e-2, warmup: float = 0.2):
    """AdaRound of one (m, k) weight matrix with ``Hx = X^T X / N``: (codes, scale).

    Full-batch Adam on V for ``iters`` steps (``iters=0`` rounds to nearest, except that
    exact halves round up).  The codes are ``floor(w / s) + [V >= 0]``.
    """
    w = np.asarray(w, np.float64)
    qmax = symmetric_qmax(bits)
    scale = symmetric_scale(w, per_channel=per_channel)
    step = (np.reshape(scale, (-1, 1)) if per_channel else np.full((len(w), 1), scale)) / qmax
    ratio = w / step
    floor = np.minimum(np.floor(ratio), qmax - 1)  # the top code stays on the grid
    rounding = _Rounding(adaround_init(ratio - floor))
    opt = Adam(rounding, lr=lr)
    for it in range(iters):
        beta, on = beta_schedule(it, iters, warmup=warmup)
        _, cache = adaround_loss_forward(rounding.params["V"], w, floor, step, Hx, beta, lam if on else 0.0)
        rounding.grads["V"][...] = adaround_loss_backward(1.0, cache)["V"]
        opt.step()
    codes = (floor + (rounding.params["V"] >= 0)).astype(np.int8 if bits <= 8 else np.int16)
    return codes, scale


def adaround(model, X, bits: int, *, per_channel: bool = True, iters: int = 1000, lam: float = 0.01,
             lr: float = 1e-2, layers=None):
    """AdaRound post-training quantization of a model's Linear/Conv2d weights, no retraining.

    Parameters
    ----------
    model : Sequential; not changed
    X : (N, ...) float calibration inputs (training split)
    bits : 2..8; the symmetric grid of formula 4.2.2, scale = max|w| per row (or per tensor)
    iters, lam, lr : Adam steps on V per layer, the regulariser's weight, the step size
    layers : names of the layers to quantize (default all), in model order, each calibrated
        through the already-quantized earlier layers

    Returns
    -------
    A copy of ``model`` with CompressedLinear / CompressedConv2d layers holding AdaRound's
    codes (the ``int`` / ``int8_channel`` formats), bias fp32.
    """
    bits = check_bits(bits, high=8)
    per_channel = check_bool(per_channel, "per_channel")
    iters = check_int(iters, "iters", low=0)
    lam = check_float(lam, "lam", low=0.0)
    lr = check_float(lr, "lr", low=0.0, low_open=True)
    names = target_layers(model, layers)
    X = check_calibration(X)

    def make(name, layer, x):
        rows = input_rows(layer, x).astype(np.float64)
        w = layer.params["weight"]
        codes, scale = adaround_quantize(w.reshape(len(w), -1), rows.T @ rows / len(rows), bits,
                                         per_channel=per_channel, iters=iters, lam=lam, lr=lr)
        return compress_layer(layer, encoding=codes_encoding(codes.reshape(w.shape), scale, bits,
                                                             per_channel=per_channel))

    return quantize_sequentially(model, X, names, make)
