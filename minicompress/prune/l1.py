"""Loss-based pruning by an L1 penalty, section 4.1.2 of the source text:

    L(w) = L0(w) + lam * sum_i |w_i|

Two ways to minimise it: add the subgradient lam * sign(w) to the gradient
(:func:`l1_penalty`, :class:`L1Penalty`) -- which shrinks weights but almost never lands on
an exact 0 -- or take the proximal step (Tibshirani 1996; ISTA, Beck & Teboulle 2009)

    w <- soft_threshold(w - lr * dL0/dw, lr * lam),  soft_threshold(v, t) = sign(v) max(|v| - t, 0)

(:func:`soft_threshold`, :class:`ProximalL1`), which sets every |w| <= t to exactly 0.
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import check_array, check_float, check_names
from .masks import select_parameters

__all__ = ["l1_penalty", "L1Penalty", "soft_threshold", "ProximalL1"]


def l1_penalty(model, lam: float, *, include=("weight",)):
    """Value and gradient of lam * sum |w| over the selected parameters (section 4.1.2).

    Parameters
    ----------
    model : Module
    lam : float >= 0, the regularisation coefficient lambda
    include : last name components penalised. The default, weights only, is what pruning
        removes; the text's sum runs over "n, the number of model parameters", biases
        included: ``include=("weight", "bias")`` is that objective.

    Returns
    -------
    value : float, lam * sum_i |w_i|
    grads : dict name -> lam * sign(w), arrays of each parameter's shape and dtype

    Notes
    -----
    |w| has no derivative at w = 0; the subgradient used there is 0 (``np.sign(0) = 0``), the
    smallest element of [-lam, lam], so a weight that is exactly 0 is not pushed off it.
    Away from 0 the gradient is exactly lam * sign(w).
    """
    lam = check_float(lam, "lam", low=0.0)
    params = select_parameters(model, include)
    value = lam * float(sum(np.abs(p).sum(dtype=np.float64) for p in params.values()))
    grads = {n: (lam * np.sign(p)).astype(p.dtype) for n, p in params.items()}
    return value, grads


class L1Penalty:
    """``fit`` hook adding the L1 subgradient lam * sign(w) (sign(0) = 0) after each backward.

    The loss ``fit`` reports is L0 alone; ``value(model)`` gives the penalty term.
    """

    def __init__(self, lam: float, *, include=("weight",)):
        self.lam = check_float(lam, "lam", low=0.0)
        self.include = check_names(include, "include")

    def value(self, model) -> float:
        return l1_penalty(model, self.lam, include=self.include)[0]

    def after_backward(self, model) -> None:
        _, extra = l1_penalty(model, self.lam, include=self.include)
        grads = dict(model.named_gradients())
        for name, g in extra.items():
            grads[name] += g


def soft_threshold(w: np.ndarray, t: float) -> np.ndarray:
    """Soft thresholding, the proximal operator of t|x|:  sign(w) * max(|w| - t, 0).

    soft_threshold(v, t) = argmin_x  1/2 (x - v)^2 + t |x|   (elementwise, exact)

    Parameters
    ----------
    w : array of any shape
    t : float >= 0

    Returns
    -------
    array of w's shape and dtype: entries with |w| <= t become exactly 0 (also at |w| == t),
    the others move t towards 0. Zeros are +0.0 (never -0.0).

    Notes
    -----
    Why it is the minimiser: for x != 0 the objective's derivative x - v + t sign(x) vanishes
    at x = v - t sign(v), which has the sign of v only when |v| > t; otherwise 0 is optimal,
    since 0 in [-t, t] - v (the subdifferential at 0 contains 0) iff |v| <= t.
    """
    w = check_array(w, "w", finite=True)
    t = check_float(t, "t", low=0.0)
    shrunk = np.sign(w) * np.maximum(np.abs(w) - t, 0)
    return np.where(shrunk == 0, 0.0, shrunk).astype(w.dtype, copy=False)  # +0.0, never -0.0


class ProximalL1:
    """``fit`` hook taking the proximal L1 step after each optimizer step:
    w <- soft_threshold(w, lr * lam).  With plain SGD (no momentum) this is exactly ISTA on
    L0 + lam * sum|w|; it produces exact zeros, which the subgradient never does."""

    def __init__(self, lam: float, lr: float, *, include=("weight",)):
        self.lam = check_float(lam, "lam", low=0.0)
        self.lr = check_float(lr, "lr", low=0.0, low_open=True)
        self.include = check_names(include, "include")

    def after_step(self, model) -> None:
        for p in select_parameters(model, self.include).values():
            p[...] = soft_threshold(p, self.lr * self.lam)
