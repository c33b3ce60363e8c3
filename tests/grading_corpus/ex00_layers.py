"""Regression corpus of exercise 00 (see tests/test_grading_corpus.py): NumPy-only solutions,
``<function>__correct*`` pass, ``<function>__<mistake>`` fail with that mistake's hint."""

import numpy as np


def linear_backward__correct(dout, x, w):
    return dout @ w, dout.T @ x, dout.sum(axis=0)


def linear_backward__db_mean(dout, x, w):
    return dout @ w, dout.T @ x, dout.mean(axis=0)


def linear_backward__db_axis(dout, x, w):
    return dout @ w, dout.T @ x, dout.sum(axis=1)


def linear_backward__dw_transposed(dout, x, w):
    return dout @ w, x.T @ dout, dout.sum(axis=0)


def linear_backward__type(dout, x, w):  # a list, not a tuple of three
    return [dout @ w, dout.T @ x]


def relu_backward__correct(dout, x):
    return dout * (x > 0)


def relu_backward__correct_where(dout, x):
    return np.where(x > 0, dout, 0.0)


def relu_backward__ge(dout, x):
    return dout * (x >= 0)


def relu_backward__mask_of_dout(dout, x):
    return dout * (dout > 0)


def relu_backward__mutates(dout, x):
    dout[x <= 0] = 0
    return dout.copy()


def _conv(x, w, b, stride, padding, flip=False):
    if flip:
        w = w[:, :, ::-1, ::-1]
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    N, C, H, W = xp.shape
    C_out, _, kh, kw = w.shape
    Ho, Wo = 1 + (H - kh) // stride, 1 + (W - kw) // stride
    out = np.zeros((N, C_out, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.einsum("ncpq,ocpq->no", patch, w)
    return out + b[None, :, None, None]


def conv2d_forward__correct(x, w, b, stride, padding):
    return _conv(x, w, b, stride, padding)


def conv2d_forward__flipped(x, w, b, stride, padding):
    return _conv(x, w, b, stride, padding, flip=True)


def conv2d_forward__no_padding(x, w, b, stride, padding):
    return _conv(x, w, b, stride, 0)


def conv2d_forward__no_bias(x, w, b, stride, padding):
    return _conv(x, w, np.zeros_like(b), stride, padding)
