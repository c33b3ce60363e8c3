"""Numerical gradient checking: centred finite differences in float64.

The one checker used by every test in the package: the analytic gradient of the scalar
``f = sum(dout * module(x))`` for a *random* upstream gradient ``dout`` (a vector-Jacobian
product, as CS231n's gradient_check does) is compared with

    df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2 h)

by the relative error ``||a - n|| / max(||a||, ||n||)`` (0 when both are zero).
"""

from __future__ import annotations

import numpy as np

from ._checks import check_rng

__all__ = ["GRAD_TOL", "numerical_gradient", "relative_error", "gradcheck_module", "gradcheck_function"]

#: The one tolerance of every float64 gradient check in the package: the relative error
#: between an analytic gradient and central differences with h = 1e-6 (truncation error
#: O(h^2), round-off O(eps |f| / h) relative to the gradient) is about 1e-9 for a correct
#: backward -- up to 4e-7 where the gradient is tiny next to f, as the text's KD loss at
#: T = 38 -- and of order 1 for a wrong one (the checker's own test breaks three layers).
GRAD_TOL = 1e-6


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """``||a - n||_2 / max(||a||_2, ||n||_2)``; 0.0 when both are exactly zero."""
    scale = max(np.linalg.norm(analytic), np.linalg.norm(numeric))
    if scale == 0:
        return 0.0
    return float(np.linalg.norm(analytic - numeric) / scale)


def numerical_gradient(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Centred differences of the scalar function ``f()`` with respect to ``x``.

    ``x`` is perturbed in place, one entry at a time, and restored exactly afterwards.
    """
    if x.dtype != np.float64:
        raise TypeError(f"x must be float64 for gradient checking; got {x.dtype}")
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        f_plus = f()
        flat[i] = old - h
        f_minus = f()
        flat[i] = old
        gflat[i] = (f_plus - f_minus) / (2 * h)
    return grad


def gradcheck_function(forward, backward, inputs: dict, *, rng, h: float = 1e-6) -> dict:
    """Check a pure forward/backward pair.

    ``forward(**inputs) -> (out, cache)``, ``backward(dout, cache) -> dict name -> gradient``.
    Returns ``{name: relative error}`` for every input that ``backward`` returns.
    """
    rng = check_rng(rng)
    out, cache = forward(**inputs)
    dout = rng.standard_normal(out.shape)
    analytic = backward(dout, cache)
    errors = {}
    for name, grad in analytic.items():
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
    rng = check_rng(rng)
    for name, p in module.named_parameters():
        if p.dtype != np.float64:
            raise TypeError(
                f"parameter {name!r} is {p.dtype}; call module.to(np.float64) before gradcheck"
            )
    x = np.array(x, dtype=np.float64)
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
