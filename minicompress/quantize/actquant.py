"""Fake-quantized activations: the module that quantizes what flows into a layer.

:class:`ActQuant` sits in front of a Linear/Conv2d (``prepare_qat(..., activations=True)``
puts one before each).  It has two states:

1. **calibrating** (as created): ``forward`` records the batch in its
   :class:`~.observers.Observer` and returns it unchanged; ``backward`` refuses, so that no
   training step runs without activation quantization by mistake;
2. **quantizing** (after :meth:`ActQuant.start_quantizing`, which
   :func:`calibrate_activations` calls for every ActQuant of a model): ``forward``
   fake-quantizes, ``backward`` is the straight-through estimator.

Ranges: a calibrated affine range (``minmax``, ``moving_average``, ``percentile``, ``mse``,
``entropy``; :func:`~.fakequant.fake_quantize_forward` with uint8-style codes [0, 2**b - 1] and a
zero point, STE window = the clipping range), or a learned one (``lsq``: step s, starting at
``2 mean|x| / sqrt(Q_p)``; ``pact``: clip alpha, starting at the observed max|x|; both
signed when the calibration data had negative values).  With ``moving_average`` the range
keeps moving during training, updated in ``backward`` -- on training steps only, so
evaluating the model does not move it.
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import check_bits, check_choice, check_finite, check_int, check_ndarray
from ..nn.layers import Conv2d, Linear, Module, Sequential
from ..nn.module import check_module
from .fakequant import fake_quantize_backward, fake_quantize_forward
from .learned import (
    lsq_backward,
    lsq_forward,
    lsq_grad_scale,
    lsq_init_step,
    lsq_range,
    pact_backward,
    pact_forward,
)
from .observers import OBSERVER_METHODS, Observer

__all__ = ["ACT_METHODS", "ActQuant", "calibrate_activations", "quantize_inputs"]

ACT_METHODS = OBSERVER_METHODS + ("lsq", "pact")


class ActQuant(Module):
    """Fake quantization of activations at ``bits`` bits with a calibrated or learned range."""

    def __init__(self, bits: int = 8, method: str = "minmax", *, momentum: float = 0.01,
                 percentile: float = 99.99):
        super().__init__()
        self.bits = check_bits(bits)
        check_choice(method, "method", ACT_METHODS)
        self.method = method
        self.observer = Observer(method if method in OBSERVER_METHODS else "minmax", momentum=momentum,
                                 percentile=percentile)
        self.calibrating, self.qp, self.signed = True, None, None
        if method in ("lsq", "pact"):
            key = "step" if method == "lsq" else "alpha"
            self.params = {key: np.ones(1, np.float32)}
            self.grads = {key: np.zeros(1, np.float32)}

    def start_quantizing(self) -> None:
        """Freeze the calibrated range (or initialise the learned one) and start quantizing."""
        obs = self.observer
        if obs.lo is None:
            raise ValueError("ActQuant has seen no calibration data; run calibrate_activations(model, X)")
        self.signed = obs.lo < 0
        if self.method == "lsq":
            self.Qn, self.Qp = lsq_range(self.bits, self.signed)
            self.params["step"][...] = lsq_init_step(np.array([obs.abs_mean]), self.Qp)
        elif self.method == "pact":
            self.params["alpha"][...] = obs.abs_max if obs.abs_max > 0 else 1.0
        else:
            self.qp = obs.qparams(bits=self.bits)
        self.calibrating = False

    def forward(self, x):
        if self.calibrating:
            self.observer.observe(x)
            return x
        if self.method == "lsq":
            g = lsq_grad_scale(x[0].size, self.Qp)
            out, self._cache = lsq_forward(x, self.params["step"], self.Qn, self.Qp, g)
        elif self.method == "pact":
            out, self._cache = pact_forward(x, self.params["alpha"], self.bits, self.signed)
        else:
            out, self._cache = fake_quantize_forward(x, *self.qp)
            self._x = x if self.method == "moving_average" else None
        return out

    def backward(self, dout):
        if self.calibrating:
            raise ValueError("ActQuant is still calibrating: run calibrate_activations(model, X) "
                             "before training, so that the activations are quantized")
        if self.method in ("lsq", "pact"):
            key = "step" if self.method == "lsq" else "alpha"
            dx, dr = (lsq_backward if self.method == "lsq" else pact_backward)(dout, self._cache)
            self.grads[key] += np.float32(dr)
            return dx
        if self.method == "moving_average":  # a training step: the range follows the data
            self.observer.observe(self._x)
            self.qp = self.observer.qparams(bits=self.bits)
        return fake_quantize_backward(dout, self._cache)

    def macs(self, x_shape) -> tuple[int, int]:
        """Quantizing activations is elementwise: no multiply-accumulates (metrics asks)."""
        return 0, 0

    def range(self) -> tuple[float, float]:
        """The real range [lo, hi] that is represented (after calibration)."""
        if self.calibrating:
            raise ValueError("ActQuant is still calibrating; its range is not fixed yet")
        if self.method == "lsq":
            s = float(self.params["step"][0])
            return -self.Qn * s, self.Qp * s
        if self.method == "pact":
            a = float(self.params["alpha"][0])
            return (-a if self.signed else 0.0), a
        S, Z, qmin, qmax = self.qp
        return S * (qmin - Z), S * (qmax - Z)

    def extra_repr(self):
        state = "calibrating" if self.calibrating else "range [{:.4g}, {:.4g}]".format(*self.range())
        return f"bits={self.bits}, method={self.method!r}, {state}"


def calibrate_activations(model: Module, X, *, batch_size: int = 256) -> Module:
    """Run ``X`` through ``model`` with every :class:`ActQuant` recording (from scratch), then
    switch them all to quantizing; returns ``model`` (changed in place)."""
    check_module(model)
    X = check_ndarray(X, "X", min_ndim=1)
    check_finite(X, "X")
    batch_size = check_int(batch_size, "batch_size", low=1)
    quants = [m for _, m in model.named_modules() if isinstance(m, ActQuant)]
    if not quants:
        raise ValueError("model has no ActQuant module; use prepare_qat(..., activations=True)")
    for q in quants:
        q.calibrating = True
        q.observer.reset()
    for start in range(0, len(X), batch_size):
        model.forward(X[start:start + batch_size])
    for q in quants:
        q.start_quantizing()
    return model


def quantize_inputs(model: Sequential, make, types=(Linear, Conv2d)) -> Sequential:
    """``model`` (changed in place) with ``make()`` -- an :class:`ActQuant` -- inserted before
    each top-level child of ``types``, named ``"<child>_in"``."""
    if not isinstance(model, Sequential):
        raise TypeError(f"activation quantization needs a Sequential; got {type(model).__name__}")
    order = list(model.children().items())
    nested = [n for n, c in order if isinstance(c, Sequential)]
    if nested:
        raise ValueError(f"activation quantization needs a flat Sequential; {nested} are nested Sequentials")
    for name, _ in order:
        delattr(model, name)
    for name, child in order:
        if isinstance(child, types):
            setattr(model, f"{name}_in", make())
        setattr(model, name, child)
    return model
