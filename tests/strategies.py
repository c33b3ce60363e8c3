"""Hypothesis strategies shared by every test file: bounded floats, small shapes."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

#: Finite floats in a range where float64 arithmetic is exact enough for closed forms.
finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False, width=64)


def arrays(shape, *, elements=finite, dtype=np.float64):
    """Arrays of a given shape (or shape strategy) with bounded finite elements."""
    return hnp.arrays(dtype=dtype, shape=shape, elements=elements)


def small_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


@st.composite
def distinct_abs_arrays(draw, shape=None, *, scale=10.0):
    """Arrays whose absolute values are all distinct and non-zero (no ties at a threshold):
    built from a seeded permutation of well-separated magnitudes with random signs."""
    if shape is None:
        shape = draw(small_shapes())
    n = int(np.prod(shape))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    mags = (rng.permutation(n) + 1.0) * scale / n
    signs = rng.choice([-1.0, 1.0], size=n)
    return (mags * signs).reshape(shape)


@st.composite
def seeded_normal(draw, shape):
    """A standard-normal float64 array of ``shape`` drawn from a Hypothesis-chosen seed."""
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).standard_normal(shape)
