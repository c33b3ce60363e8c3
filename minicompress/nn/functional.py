"""Pure forward/backward functions of the NN stack.

Every ``<op>_forward`` function returns ``(out, cache)`` and its twin ``<op>_backward``
takes ``(dout, cache)`` (the CS231n convention); the backward sits right below the forward
and mirrors it step by step.  The names differ from PyTorch's ``F.linear``, ``F.relu``,
``F.conv2d`` on purpose: those return an array, these a pair.  ``softmax``,
``log_softmax`` (arrays) and ``cross_entropy`` (``(loss, dlogits)``) keep PyTorch's names
because they return what those names promise.

Shapes use one letter scheme everywhere: ``N`` batch, ``C`` channels, ``H, W`` height and
width, ``C_out`` output channels, ``kh, kw`` kernel size, ``H', W'`` output size with::

    H' = 1 + (H + 2 * padding - kh) // stride

Arrays are NCHW, as in PyTorch.  The patch extraction convolutions are built on (``im2col``,
its transpose ``im2col_t``, its adjoint ``col2im``, ``output_size``) is :mod:`.im2col`,
re-exported here.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_array, check_array, check_int, described
from .im2col import _patches, _patches_adjoint, check_rank, col2im, im2col, im2col_t, output_size

__all__ = [
    "output_size",
    "im2col",
    "im2col_t",
    "col2im",
    "linear_forward",
    "linear_backward",
    "relu_forward",
    "relu_backward",
    "conv2d_forward",
    "conv2d_backward",
    "max_pool2d_forward",
    "max_pool2d_backward",
    "softmax",
    "log_softmax",
    "cross_entropy",
]


# ----------------------------------------------------------------------------- linear
def linear_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None):
    """y = x W^T + b.  x: (N, in), w: (out, in) (PyTorch layout), b: (out,) -> y: (N, out)."""
    check_rank(x, "x", 2, "(N, in_features)")
    check_rank(w, "w", 2, "(out_features, in_features)")
    if x.shape[1] != w.shape[1]:
        raise ValueError(
            f"x has {x.shape[1]} features (shape {x.shape}) but w expects {w.shape[1]} "
            f"(w shape {w.shape})"
        )
    out = x @ w.T
    if b is not None:
        out += b
    return out, (x, w, b is not None)


def linear_backward(dout: np.ndarray, cache):
    """dx = dout W,  dW = dout^T x,  db = sum_n dout.  Returns (dx, dw, db or None)."""
    x, w, has_bias = cache
    dx = dout @ w
    dw = dout.T @ x
    db = dout.sum(axis=0) if has_bias else None
    return dx, dw, db


# ----------------------------------------------------------------------------- relu
def relu_forward(x: np.ndarray):
    """y = max(x, 0).  Convention at the kink: the gradient at x == 0 is 0 (as PyTorch)."""
    mask = x > 0
    return x * mask, mask


def relu_backward(dout: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """dx = dout * [x > 0]."""
    return dout * mask


# ----------------------------------------------------------------------------- conv2d
def conv2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: int = 1, padding: int = 0):
    """2-D cross-correlation (what deep-learning frameworks call convolution), as a GEMM.

    out[n, o, i, j] = b[o] + sum_{c, p, q} w[o, c, p, q] * x_pad[n, c, i*s + p, j*s + q]

    i.e. ``out[n] = W_flat @ cols[n] + b`` with W_flat = w.reshape(C_out, C*kh*kw) and
    cols[n] the (C*kh*kw, H'*W') patch columns of image n (the transpose of im2col's rows).

    Parameters
    ----------
    x : (N, C, H, W)
    w : (C_out, C, kh, kw)
    b : (C_out,) or None

    Returns
    -------
    out : (N, C_out, H', W') with H' = 1 + (H + 2*padding - kh) // stride
    cache : what :func:`conv2d_backward` needs
    """
    check_rank(x, "x", 4, "(N, C, H, W)")
    check_rank(w, "w", 4, "(C_out, C, kh, kw)")
    N, C, H, W = x.shape
    C_out, C_w, kh, kw = w.shape
    if b is not None and np.shape(b) != (C_out,):
        raise ValueError(f"b must have shape ({C_out},) for {C_out} output channels; got {np.shape(b)}")
    if C != C_w:
        raise ValueError(
            f"x has {C} input channels but weight expects {C_w} (weight shape {w.shape})"
        )
    cols = _patches(x, kh, kw, stride, padding)  # (N, C*kh*kw, H'*W')
    Ho = output_size(H, kh, stride, padding)
    Wo = output_size(W, kw, stride, padding)
    out = w.reshape(C_out, -1) @ cols  # the GEMM, batched over images: (N, C_out, H'*W')
    if b is not None:
        out += b[:, None]
    return out.reshape(N, C_out, Ho, Wo), (x.shape, cols, w, b is not None, stride, padding)


def conv2d_backward(dout: np.ndarray, cache, *, need_dx: bool = True):
    """Backward of :func:`conv2d_forward`; returns (dx or None, dw, db or None).

    With D_n = dout[n] laid out as (C_out, H'*W') and cols_n image n's patch columns:
    dW = sum_n D_n cols_n^T,  db = sum of D over n and pixels,  dcols_n = W_flat^T D_n,
    and dx = the adjoint of the patch extraction applied to dcols (col2im).

    ``need_dx=False`` skips dcols and col2im and returns dx = None: the input of a network's
    first layer is data, whose gradient nobody reads.  dw and db are the same either way.
    """
    x_shape, cols, w, has_bias, stride, padding = cache
    C_out, C, kh, kw = w.shape
    d = dout.reshape(x_shape[0], C_out, -1)  # (N, C_out, H'*W'): free for a contiguous dout
    dw = (d @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    db = d.sum(axis=(0, 2)) if has_bias else None
    if not need_dx:
        return None, dw, db
    dcols = w.reshape(C_out, -1).T @ d  # (N, C*kh*kw, H'*W')
    dx = _patches_adjoint(dcols, x_shape, kh, kw, stride, padding)
    return dx, dw, db


# ----------------------------------------------------------------------------- max pool
def max_pool2d_forward(x: np.ndarray, kernel_size: int = 2, stride: int | None = None):
    """Max pooling over k x k windows (no padding; floor mode, as PyTorch's default).

    x: (N, C, H, W) -> out: (N, C, H', W') with H' = 1 + (H - k) // stride, and
    out[n, c, i, j] = max_{p, q < k} x[n, c, i*stride + p, j*stride + q].

    Notes
    -----
    Ties: the first maximum in row-major window order receives the gradient (as np.argmax).
    NaN propagates: a window holding NaN outputs NaN (the first NaN is its argmax).
    Computed as a running maximum over the k*k window offsets, each step vectorised over
    N, C, H', W'; the cache keeps the offset index of every window's maximum.
    """
    check_rank(x, "x", 4, "(N, C, H, W)")
    k = check_int(kernel_size, "kernel_size", low=1)
    s = k if stride is None else check_int(stride, "stride", low=1)
    N, C, H, W = x.shape
    Ho = output_size(H, k, s, 0, name="height")
    Wo = output_size(W, k, s, 0, name="width")
    has_nan = x.size > 0 and bool(np.isnan(x.max()))  # one cheap pass; NaN is rare
    index_type = np.min_scalar_type(k * k - 1)
    out = arg = None
    for p in range(k):
        for q in range(k):
            v = x[:, :, p : p + s * Ho : s, q : q + s * Wo : s]  # offset (p, q) of every window
            if out is None:
                out, arg = v.copy(), np.zeros(v.shape, dtype=index_type)
                continue
            better = v > out  # strict: on a tie the earlier offset keeps the maximum
            if has_nan:  # the first NaN wins and stays
                better |= np.isnan(v) & ~np.isnan(out)
            np.maximum(out, v, out=out)  # (np.maximum propagates NaN)
            # offsets only grow, so "arg = offset where better" is a branch-free maximum
            np.maximum(arg, better * index_type.type(p * k + q), out=arg)
    return out, (x.shape, arg, k, s)


def max_pool2d_backward(dout: np.ndarray, cache) -> np.ndarray:
    """Route each output gradient to the position of its window's maximum.

    dx[n, c, i*s + p, j*s + q] += dout[n, c, i, j]  where (p, q) is window (i, j)'s argmax;
    overlapping windows (stride < k) add up.  Positions no window picked get 0.
    """
    x_shape, arg, k, s = cache
    Ho, Wo = arg.shape[2:]
    dx = np.zeros(x_shape, dtype=dout.dtype)
    # Loop over the k*k window offsets; each step is vectorised over N, C, H', W'.
    for p in range(k):
        for q in range(k):
            hit = arg == p * k + q
            target = dx[:, :, p : p + s * Ho : s, q : q + s * Wo : s]
            if s >= k:  # windows do not overlap: every target position is written once
                np.multiply(dout, hit, out=target)
            else:
                target += dout * hit
    return dx


# ----------------------------------------------------------------------------- losses
def _check_logits(z, axis):
    """Real logits with no NaN and no +inf; -inf is a logit of weight exactly 0 (a masked
    class, as a tempered softmax at a tiny T gives), but every row needs a finite maximum."""
    z = check_array(z, "z")
    if z.ndim == 0:
        raise ValueError(f"z must have at least one axis; got a scalar {z!r}")
    axis = check_int(axis, "axis", low=-z.ndim, high=z.ndim - 1)
    bad = np.isnan(z) | (z == np.inf)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"z contains {int(bad.sum())} NaN or +inf value(s), the first at index {first}")
    if z.size and not np.isfinite(z.max(axis=axis)).all():
        raise ValueError("z has a row whose every logit is -inf: its softmax is undefined")
    return z, axis


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """softmax(z)_i = exp(z_i - max z) / sum_j exp(z_j - max z): stable for any magnitude.
    ``z``: no NaN or +inf; a -inf logit gets probability exactly 0."""
    z, axis = _check_logits(z, axis)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """log softmax(z)_i = (z_i - m) - log sum_j exp(z_j - m), m = max z: never overflows.
    ``z``: no NaN or +inf (a -inf logit gives -inf)."""
    z, axis = _check_logits(z, axis)
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def check_labels(labels, N: int, C: int, *, name: str = "labels") -> np.ndarray:
    """Validate integer class labels: shape (N,), integer dtype, values in [0, C)."""
    given, labels = labels, as_array(labels, name)
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"{name} must be integer class indices; got {described(given, labels)}. "
            f"Convert with {name}.astype(int) if they are whole numbers."
        )
    if labels.shape != (N,):
        raise ValueError(f"{name} must have shape ({N},) to match the logits; got {labels.shape}")
    if N and (labels.min() < 0 or labels.max() >= C):
        raise ValueError(
            f"{name} must lie in [0, {C}) for {C} classes; got values from "
            f"{labels.min()} to {labels.max()}"
        )
    return labels


def cross_entropy(logits: np.ndarray, labels: np.ndarray):
    """Mean cross-entropy over the batch and its gradient with respect to the logits.

    L = -(1/N) sum_n log softmax(z_n)[y_n],    dL/dz = (softmax(z) - onehot(y)) / N

    Parameters
    ----------
    logits : (N, C) float array
    labels : (N,) integer array with values in [0, C)

    Returns
    -------
    loss : float
    dlogits : (N, C) array, same dtype as logits
    """
    logits = check_array(logits, "logits", ndim=2, finite=True)
    N, C = logits.shape
    labels = check_labels(labels, N, C)
    if N == 0:
        raise ValueError("logits is an empty batch (N = 0); cross-entropy needs at least one row")
    logp = log_softmax(logits)
    loss = -logp[np.arange(N), labels].mean()
    dlogits = np.exp(logp)
    dlogits[np.arange(N), labels] -= 1
    dlogits /= N
    return float(loss), dlogits

