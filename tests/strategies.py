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


@st.composite
def conv_problems(draw, *, max_n=2, max_c=3, max_side=7, max_k=3, max_stride=3, max_pad=2):
    """A small convolution problem ``(x, w, b, stride, padding)`` in float64.

    Kernel height and width are drawn separately (so kh != kw is covered); the input is
    always at least as large as the kernel and the stride once padded (anything else is an
    error), so the output is never empty.
    """
    kh, kw = draw(st.integers(1, max_k)), draw(st.integers(1, max_k))
    stride, padding = draw(st.integers(1, max_stride)), draw(st.integers(0, max_pad))
    H = draw(st.integers(max(1, kh - 2 * padding, stride - 2 * padding), max_side))
    W = draw(st.integers(max(1, kw - 2 * padding, stride - 2 * padding), max_side))
    N, C, C_out = draw(st.integers(1, max_n)), draw(st.integers(1, max_c)), draw(st.integers(1, max_c))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((C_out, C, kh, kw))
    b = rng.standard_normal(C_out) if draw(st.booleans()) else None
    return x, w, b, stride, padding


@st.composite
def pool_problems(draw, *, max_n=2, max_c=3, max_side=8, max_k=3, max_stride=3, ties=False):
    """A max-pooling problem ``(x, k, stride)`` whose windows have a unique maximum.

    The values are a seeded permutation of distinct numbers, so every window has exactly
    one argmax and finite differences never straddle a tie.  With ``ties=True`` the values
    are drawn from {0, 1, 2} instead, so most windows hold tied maxima (as after a ReLU).
    """
    k = draw(st.integers(1, max_k))
    stride = draw(st.integers(1, max_stride))
    H = draw(st.integers(max(k, stride), max_side))
    W = draw(st.integers(max(k, stride), max_side))
    N, C = draw(st.integers(1, max_n)), draw(st.integers(1, max_c))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = N * C * H * W
    if ties:
        return rng.integers(0, 3, size=(N, C, H, W)).astype(np.float64), k, stride
    x = (rng.permutation(n) - n / 2).reshape(N, C, H, W) / 4.0
    return x, k, stride


# ----------------------------------------------------------------------------- dtypes
#: the float dtypes the library runs in: float32 for every model, float64 in gradient checks,
#: float16 where a format stores it
FLOAT_DTYPES = (np.float16, np.float32, np.float64)
_WIDTH = {np.float16: 16, np.float32: 32, np.float64: 64}


def float_arrays(dtype, shape=None, *, max_abs=100.0, min_dims=1, max_dims=3, max_side=6):
    """Finite arrays of ``dtype`` whose every element Hypothesis draws (so it can shrink them):
    values in [-max_abs, max_abs], representable in ``dtype``."""
    if shape is None:
        shape = small_shapes(min_dims=min_dims, max_dims=max_dims, max_side=max_side)
    elements = st.floats(-max_abs, max_abs, allow_nan=False, allow_infinity=False,
                         width=_WIDTH[np.dtype(dtype).type])
    return hnp.arrays(dtype=dtype, shape=shape, elements=elements)


@st.composite
def weights_any_dtype(draw, *, max_abs=100.0, min_dims=1, max_dims=3, max_side=6):
    """``(w, dtype)``: a float16, float32 or float64 array drawn element by element."""
    dtype = draw(st.sampled_from(FLOAT_DTYPES))
    return draw(float_arrays(dtype, max_abs=max_abs, min_dims=min_dims, max_dims=max_dims,
                             max_side=max_side)), dtype


#: The float dtypes the library runs in (float16 where it is accepted).
float_dtypes = st.sampled_from(FLOAT_DTYPES)

#: Exact powers of two spanning float64's range: multiplying by one changes only the
#: exponent, so a scale-invariant result must come out bit-identical (or scaled exactly).
pow2_factors = st.integers(-660, 660).map(lambda e: float(np.ldexp(1.0, e)))

#: Powers of ten from 1e-200 to 1e200 (inexact factors: compare with a relative tolerance).
decades = st.integers(-200, 200).map(lambda e: 10.0**e)


@st.composite
def strided_views(draw, *, max_side=5):
    """A float64 array that is a non-contiguous view of a larger one: a transpose, a step
    slice or both, so ``x.reshape(-1)`` would be a copy.  Returns ``(view, base)``."""
    shape = draw(st.tuples(st.integers(1, max_side), st.integers(1, max_side)))
    step = draw(st.integers(1, 3))
    base = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).standard_normal(
        (shape[0] * step, shape[1] * step))
    view = base[::step, ::step]
    if draw(st.booleans()):
        view = view.T
    return view, base
