"""Rescaling by a power of two, so that scale-invariant quantities neither overflow nor
underflow.

Squaring 1e200 overflows float64 and squaring 1e-200 underflows to 0, although a share of
energy, a relative error or a norm of such values is an ordinary number.  Dividing by the
power of two ``c`` at or just below the largest magnitude brings every value into (-2, 2);
a power of two divides *exactly* (only the exponent changes, unless the result falls below
the smallest normal float, ~2.2e-308, where it is negligible next to the largest value
anyway), so for values of ordinary size every result is bit-identical to the unscaled one.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pow2_scale", "stable_norm"]


def pow2_scale(*arrays) -> float:
    """``c = 2**(e-1)`` with ``c <= max |x| < 2 c`` over all the arrays (``e`` is
    ``np.frexp``'s exponent; ``2**e`` itself would overflow for max |x| near 1e308); 1.0 when
    every array is empty or all zero.  The arrays must be finite."""
    big = max((float(np.max(np.abs(a), initial=0.0)) for a in arrays), default=0.0)
    if big == 0.0:
        return 1.0
    return float(np.ldexp(1.0, int(np.frexp(big)[1]) - 1))


def stable_norm(x) -> float:
    """``||x||_F = c ||x / c||_F`` with ``c = pow2_scale(x)``: no overflow above 1e154, no
    underflow below 1e-154 (``np.linalg.norm`` squares the entries).  ``x`` must be finite."""
    x = np.asarray(x, dtype=np.float64)
    c = pow2_scale(x)
    return c * float(np.linalg.norm(x / c))
