"""Exercise 00: write three pieces of the NN stack by hand.

Fill in each function, then grade your work with

    python -m minicompress check tutorials/exercises/ex00_layers.py

The grader imports your file in a separate process and compares each function with the
library's: first on small cases you can check by hand, then on inputs Hypothesis draws. For
a wrong function it shows the failing input (a hand case, or the smallest input Hypothesis
could shrink it to), the expected and the received value, what differs (value, shape, dtype,
an argument changed in place) and, for a known typical mistake, a hint. NumPy only: a
function that calls minicompress (the answer key) is flagged and fails.
"""

import numpy as np


def linear_backward(dout, x, w):
    """Gradients of y = x W^T + b.

    dout: (N, out) upstream gradient; x: (N, in); w: (out, in).
    Return (dx, dw, db) with shapes (N, in), (out, in), (out,).
    Hint: dx = dout W, dW = dout^T x, db = sum of dout over the batch.
    """
    raise NotImplementedError


def relu_backward(dout, x):
    """Gradient of y = max(x, 0): dout where x > 0, else 0 (also at x == 0 exactly)."""
    raise NotImplementedError


def conv2d_forward(x, w, b, stride, padding):
    """Cross-correlation of x: (N, C, H, W) with w: (C_out, C, kh, kw), plus b: (C_out,).

    Zero-pad x by ``padding`` on each side, then
    out[n, o, i, j] = b[o] + sum_{c,p,q} w[o, c, p, q] * x_pad[n, c, i*stride + p, j*stride + q]
    with output size H' = 1 + (H + 2*padding - kh) // stride (and the same for W').
    Loops are fine here; the library does it with im2col and one matrix product.
    """
    raise NotImplementedError
