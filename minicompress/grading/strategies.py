"""Hypothesis strategies the exercises draw their inputs from.

Every value is drawn by Hypothesis itself (never by a NumPy generator seeded inside a
strategy), so that a failing input shrinks to a small one: few entries, simple values
(0.0, 1.0, 0.5), ties and zeros -- the kinks where typical mistakes show.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = ["floats", "arrays", "array_of_shape", "shapes", "st", "hnp"]


def floats(low: float = -10.0, high: float = 10.0, *, width: int = 64):
    """Finite floats in [low, high], no subnormals (whose round-off no exercise is about)."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False, width=width)


def array_of_shape(shape, *, low: float = -10.0, high: float = 10.0, dtype=np.float64):
    """A float array of the given shape (a tuple, or a strategy of tuples)."""
    width = 32 if np.dtype(dtype) == np.float32 else 64
    return hnp.arrays(dtype, shape, elements=floats(low, high, width=width))


def shapes(min_dims: int = 1, max_dims: int = 2, min_side: int = 1, max_side: int = 5):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def arrays(min_dims: int = 1, max_dims: int = 2, min_side: int = 1, max_side: int = 5, *,
           low: float = -10.0, high: float = 10.0, dtypes=(np.float64,)):
    """Float arrays of any shape in the bounds, in one of ``dtypes``."""
    shape = shapes(min_dims, max_dims, min_side, max_side)
    return st.sampled_from(dtypes).flatmap(lambda dt: array_of_shape(shape, low=low, high=high, dtype=dt))
