"""Checks for tutorials/exercises/ex00_layers.py: the backward of Linear and ReLU and the
forward of a convolution."""

from __future__ import annotations

import numpy as np

from ..grading import Check, Mistake
from ..grading.strategies import array_of_shape, st
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


@st.composite
def _linear_args(draw):
    n, i, o = draw(st.integers(1, 4)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
    return draw(array_of_shape((n, o))), draw(array_of_shape((n, i))), draw(array_of_shape((o, i)))


@st.composite
def _relu_args(draw):
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, 6)))
    return draw(array_of_shape(shape)), draw(array_of_shape(shape))  # x shrinks to 0.0, the kink


@st.composite
def _conv_args(draw):
    k = draw(st.integers(1, 3))
    stride, padding = draw(st.integers(1, 2)), draw(st.integers(0, 1))
    low = max(1, k - 2 * padding, stride - 2 * padding)
    H, W = draw(st.integers(low, 6)), draw(st.integers(low, 6))
    N, C, C_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return (draw(array_of_shape((N, C, H, W))), draw(array_of_shape((C_out, C, k, k))),
            draw(array_of_shape((C_out,))), stride, padding)


def _flipped(x, w, b, stride, padding):
    return conv2d_forward(x, np.ascontiguousarray(w[:, :, ::-1, ::-1]), b, stride, padding)


# d2l's hand-checkable case: a 3x3 input, a 2x2 kernel -> 19, 25, 37, 43
_X = np.arange(9.0).reshape(1, 1, 3, 3)
_K = np.arange(4.0).reshape(1, 1, 2, 2)

CHECKS = [
    Check("linear_backward", linear_backward, _linear_args,
          hand_cases=((np.ones((1, 1)), np.array([[2.0, 3.0]]), np.array([[1.0, -1.0]])),
                      (np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0], [2.0]]),
                       np.array([[1.0], [-1.0]]))),
          mistakes=(
              Mistake("db_mean", "db is the SUM of dout over the batch (each example adds its gradient), "
                      "not the mean.", part=2, wrong=lambda dout, x, w: dout.mean(axis=0)),
              Mistake("db_axis", "db has one entry per output: sum dout over the batch axis (axis=0).",
                      part=2, wrong=lambda dout, x, w: dout.sum(axis=1)),
              Mistake("dw_transposed", "dW has W's shape (out, in): dout^T @ x, not x^T @ dout.",
                      part=1, wrong=lambda dout, x, w: x.T @ dout),
          )),
    Check("relu_backward", relu_backward, _relu_args,
          hand_cases=((np.ones((1, 3)), np.array([[-1.0, 0.0, 2.0]])),),
          mistakes=(
              Mistake("ge", "at x == 0 exactly the gradient is 0 (the convention of the library and of "
                      "PyTorch): use x > 0, not x >= 0.", wrong=lambda dout, x: dout * (x >= 0)),
              Mistake("mask_of_dout", "the mask comes from the forward input x, not from dout: "
                      "dout * (x > 0).", wrong=lambda dout, x: dout * (dout > 0)),
          )),
    Check("conv2d_forward", conv2d_forward, _conv_args,
          hand_cases=((_X, _K, np.zeros(1), 1, 0), (_X, _K, np.array([1.0]), 1, 1)),
          mistakes=(
              Mistake("flipped", "a CNN's 'convolution' is a cross-correlation: do not flip the kernel.",
                      wrong=_flipped),
              Mistake("no_padding", "pad x with `padding` zeros on each side of H and W first "
                      "(np.pad), then slide the kernel.",
                      wrong=lambda x, w, b, s, p: conv2d_forward(x, w, b, s, 0)),
              Mistake("no_bias", "add b[o] to every output of channel o.",
                      wrong=lambda x, w, b, s, p: conv2d_forward(x, w, np.zeros_like(b), s, p)),
          )),
]
