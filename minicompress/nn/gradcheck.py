"""Numerical gradient checking: centred finite differences in float64.

The one checker used by every test in the package: the analytic gradient of the scalar
``f = sum(dout * module(x))`` for a *random* upstream gradient ``dout`` (a vector-Jacobian
product, as CS231n's gradient_check does) is compared with

    df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2 h)

by the relative error ``||a - n|| / max(||a||, ||n||)`` (0 when both are zero).
"""

from __future__ import annotations

import numpy as np

from ._checks import (
    check_array,
    check_callable,
    check_finite,
    check_float,
    check_ndarray,
    check_rng,
    check_same_shape,
)
from ._scaling import pow2_scale
from .module import check_module

__all__ = ["GRAD_TOL", "numerical_gradient", "relative_error", "gradcheck_module", "gradcheck_function"]

#: The one tolerance of every float64 gradient check in the package: the relative error
#: between an analytic gradient and central differences with h = 1e-6 (truncation error
#: O(h^2), round-off O(eps |f| / h) relative to the gradient) is about 1e-9 for a correct
#: backward -- up to 4e-7 where the gradient is tiny next to f, as the text's KD loss at
#: T = 38 -- and of order 1 for a wrong one (the checker's own test breaks three layers).
GRAD_TOL = 1e-6


def relative_error(analytic, numeric) -> float:
    """``||a - n||_2 / max(||a||_2, ||n||_2)``; 0.0 when both are exactly zero.

    ``analytic`` and ``numeric`` must have the same shape (a mismatch is an error, never
    broadcast into a number that means nothing) and be finite: a NaN gradient is a bug to
    report, not a distance.  Both are divided by a power of two near their largest
    magnitude first (:func:`~minicompress.nn._scaling.pow2_scale`), so gradients near 1e200
    or 1e-200 neither overflow nor underflow.
    """
    a = check_array(analytic, "analytic", finite=True).astype(np.float64, copy=False)
    n = check_array(numeric, "numeric", finite=True).astype(np.float64, copy=False)
    check_same_shape(a, n, ("analytic", "numeric"))
    c = pow2_scale(a, n)  # the ratio does not change; bit-identical for ordinary sizes
    a, n = a / c, n / c
    scale = max(np.linalg.norm(a), np.linalg.norm(n))
    if scale == 0:
        return 0.0
    return float(np.linalg.norm(a - n) / scale)


def numerical_gradient(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Centred differences of the scalar function ``f()`` with respect to ``x``.

    df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2 h)

    ``x`` (float64, any memory layout: a transposed or sliced view works, and its
    perturbations reach the array it views) is perturbed in place, one entry at a time,
    and restored exactly afterwards.  Returns an array of ``x``'s shape.
    """
    check_callable(f, "f", "a function of no arguments returning a number")
    check_ndarray(x, "x")
    if x.dtype != np.float64:
        raise TypeError(f"x must be float64 for gradient checking; got {x.dtype}")
    if not x.flags.writeable:
        raise ValueError("x is read-only; numerical_gradient perturbs it in place")
    check_finite(x, "x")
    h = check_float(h, "h", low=0.0, low_open=True)
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):  # index x itself: x.reshape(-1) could be a copy
        old = x[i]
        x[i] = old + h
        f_plus = f()
        x[i] = old - h
        f_minus = f()
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def gradcheck_function(forward, backward, inputs: dict, *, rng, h: float = 1e-6) -> dict:
    """Check a pure forward/backward pair.

    ``forward(**inputs) -> (out, cache)``, ``backward(dout, cache) -> dict name -> gradient``.
    Returns ``{name: relative error}`` for every input that ``backward`` returns.
    """
    check_callable(forward, "forward")
    check_callable(backward, "backward")
    if not isinstance(inputs, dict):
        raise TypeError(f"inputs must be a dict name -> array; got {type(inputs).__name__}")
    rng = check_rng(rng)
    out, cache = forward(**inputs)
    dout = rng.standard_normal(out.shape)
    analytic = backward(dout, cache)
    if not isinstance(analytic, dict):
        raise TypeError(f"backward must return a dict name -> gradient; got {type(analytic).__name__}")
    errors = {}
    for name, grad in analytic.items():
        if name not in inputs:
            raise ValueError(f"backward returned a gradient for {name!r}, which is not one of the "
                             f"inputs {sorted(inputs)}")
        x = inputs[name]

        def f():
            return float(np.sum(forward(**inputs)[0] * dout))

        errors[name] = relative_error(grad, numerical_gradient(f, x, h))
    return errors


def gradcheck_module(module, x: np.ndarray, *, rng, h: float = 1e-6) -> dict:
    """Relative errors of ``dx`` and every parameter gradient of ``module`` at ``x``.

    The module must already be float64 (``module.to(np.float64)``).  Returns a dict with
    key ``"x"`` and one key per dotted parameter name.
    """
    check_module(module, "module")
    rng = check_rng(rng)
    for name, p in module.named_parameters():
        if p.dtype != np.float64:
            raise TypeError(
                f"parameter {name!r} is {p.dtype}; call module.to(np.float64) before gradcheck"
            )
    x = check_array(x, "x", finite=True).astype(np.float64)  # a float64 copy, perturbed in place
    out = module.forward(x)
    dout = rng.standard_normal(out.shape)
    module.zero_grad()
    dx = module.backward(dout)
    analytic = {"x": dx, **{n: g.copy() for n, g in module.named_gradients()}}

    def f():
        return float(np.sum(module.forward(x) * dout))

    errors = {"x": relative_error(analytic["x"], numerical_gradient(f, x, h))}
    for name, p in module.named_parameters():
        errors[name] = relative_error(analytic[name], numerical_gradient(f, p, h))
    return errors
