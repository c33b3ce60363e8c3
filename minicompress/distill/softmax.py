"""Softmax with temperature (section 3.3.2; Hinton, Vinyals & Dean 2015, eq. (1)), and the
checks every distillation function shares."""

from __future__ import annotations

import numpy as np

from ..nn import functional as F
from ..nn._checks import check_array, check_finite, check_float

__all__ = ["softmax", "log_softmax"]


def _check_T(T) -> float:
    return check_float(T, "T", low=0.0, low_open=True)


def _check_logits(z, name: str, *, ndim: int | None = None) -> np.ndarray:
    z = check_array(z, name, ndim=ndim)
    if z.ndim == 0:
        raise ValueError(f"{name} must have a class axis (at least 1-D); got a scalar")
    if z.shape[-1] == 0:
        raise ValueError(f"{name} has no classes (shape {z.shape}); expected C >= 1 on the last axis")
    check_finite(z, name)
    return z


def _check_pair(student_logits, teacher_logits):
    s = _check_logits(student_logits, "student_logits", ndim=2)
    t = _check_logits(teacher_logits, "teacher_logits", ndim=2)
    if s.shape != t.shape:
        raise ValueError(
            f"student_logits and teacher_logits must have the same shape (N, C); got "
            f"{s.shape} and {t.shape}. Do teacher and student predict the same classes, "
            f"on the same batch?"
        )
    if s.shape[0] == 0:
        raise ValueError("the logits are an empty batch (N = 0); the loss needs at least one row")
    return s, t


# ----------------------------------------------------------------------------- softmax
def _tempered(z: np.ndarray, T: float, dtype=None) -> np.ndarray:
    """``(z - max_j z_j) / T`` on the last axis, in ``dtype`` (default: z's).

    Shifted BEFORE dividing, so that a tiny T sends the non-maximal logits to -inf (weight
    0) instead of overflowing ``z / T`` to inf.  The division is done in float64 whatever
    z's dtype: T = 1e-300 would be 0 in float32 (and 1e-8 in float16), and ``0 / 0`` NaN.
    Its row maximum is exactly 0, so the NN stack's softmax / log_softmax, which subtract
    the row maximum again, return the same bits as if they did not."""
    shifted = (z - z.max(axis=-1, keepdims=True)).astype(np.float64)
    with np.errstate(over="ignore"):  # -1e300 in float32 is -inf: weight exactly 0
        return (shifted / T).astype(z.dtype if dtype is None else dtype)


def log_softmax(z, *, T: float = 1.0) -> np.ndarray:
    """Log of the softmax with temperature, along the last axis (the classes).

    ::

        log softmax(z, T)_i = (z_i - m) / T - log sum_j exp((z_j - m) / T),   m = max_j z_j

    Subtracting the row maximum first keeps every exponent <= 0, so logits of any magnitude
    (1e4 or more) neither overflow nor give NaN; the result is invariant to adding a
    constant to a row.  Section 3.3.2 of the source text (``F.log_softmax(x / temperature)``);
    Hinton et al. (2015), eq. (1).

    Parameters
    ----------
    z : (..., C) logits, finite
    T : temperature > 0; T = 1 is the ordinary softmax, large T flattens it

    Returns
    -------
    (..., C) array, same floating dtype as ``z`` (integers become float64)
    """
    return F.log_softmax(_tempered(_check_logits(z, "z"), _check_T(T)))


def softmax(z, *, T: float = 1.0) -> np.ndarray:
    """Softmax with temperature along the last axis: Hinton et al. (2015), eq. (1).

    ::

        softmax(z, T)_i = exp(z_i / T) / sum_j exp(z_j / T)
                        = exp((z_i - m) / T) / sum_j exp((z_j - m) / T),   m = max_j z_j

    Rows sum to 1 and do not change when a constant is added to a row.  As T -> infinity
    every row tends to the uniform 1/C; as T -> 0 it tends to the one-hot of the arg-max
    (ties share the mass).  Section 3.3.2 of the source text (``F.softmax(x / temperature)``).

    Parameters
    ----------
    z : (..., C) logits, finite
    T : temperature > 0

    Returns
    -------
    (..., C) array of probabilities, same floating dtype as ``z``
    """
    return F.softmax(_tempered(_check_logits(z, "z"), _check_T(T)))


