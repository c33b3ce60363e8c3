"""Checks for tutorials/exercises/ex00_layers.py: the backward of Linear and ReLU and the
forward of a convolution."""

from __future__ import annotations

import numpy as np

from ..grading import Check
from ..nn import functional as F


def linear_backward(dout, x, w):
    """Reference: (dx, dw, db) of y = x W^T + b."""
    dx, dw, db = F.linear_backward(dout, (x, w, True))
    return dx, dw, db


def relu_backward(dout, x):
    """Reference: dout * [x > 0]."""
    return F.relu_backward(dout, x > 0)


def conv2d_forward(x, w, b, stride, padding):
    """Reference: the im2col + GEMM convolution of the library."""
    return F.conv2d_forward(x, w, b, stride, padding)[0]


def _linear_args():
    from hypothesis import strategies as st

    @st.composite
    def draw(draw):
        n, i, o = draw(st.integers(1, 5)), draw(st.integers(1, 6)), draw(st.integers(1, 6))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        return rng.standard_normal((n, o)), rng.standard_normal((n, i)), rng.standard_normal((o, i))

    return draw()


def _relu_args():
    from hypothesis import strategies as st

    @st.composite
    def draw(draw):
        shape = (draw(st.integers(1, 4)), draw(st.integers(1, 6)))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        x = rng.standard_normal(shape)
        if draw(st.booleans()):
            x[0, 0] = 0.0  # the kink: the gradient at exactly 0 is 0
        return rng.standard_normal(shape), x

    return draw()


def _conv_args():
    from hypothesis import strategies as st

    @st.composite
    def draw(draw):
        k = draw(st.integers(1, 3))
        stride, padding = draw(st.integers(1, 2)), draw(st.integers(0, 1))
        H = draw(st.integers(max(1, k - 2 * padding, stride - 2 * padding), 6))
        W = draw(st.integers(max(1, k - 2 * padding, stride - 2 * padding), 6))
        N, C, C_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        return (rng.standard_normal((N, C, H, W)), rng.standard_normal((C_out, C, k, k)),
                rng.standard_normal(C_out), stride, padding)

    return draw()


# d2l's hand-checkable case: a 3x3 input, a 2x2 kernel -> 19, 25, 37, 43
_X = np.arange(9.0).reshape(1, 1, 3, 3)
_K = np.arange(4.0).reshape(1, 1, 2, 2)

CHECKS = [
    Check("linear_backward", linear_backward, _linear_args,
          hand_cases=((np.ones((1, 1)), np.array([[2.0, 3.0]]), np.array([[1.0, -1.0]])),)),
    Check("relu_backward", relu_backward, _relu_args,
          hand_cases=((np.ones((1, 3)), np.array([[-1.0, 0.0, 2.0]])),)),
    Check("conv2d_forward", conv2d_forward, _conv_args,
          hand_cases=((_X, _K, np.zeros(1), 1, 0),)),
]
