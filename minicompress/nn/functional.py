"""Pure forward/backward functions of the NN stack.

Every ``*_forward`` style function returns ``(out, cache)`` and its backward twin takes
``(dout, cache)``; the backward sits right below the forward and mirrors it step by step.

Shapes use one letter scheme everywhere: ``N`` batch, ``C`` channels, ``H, W`` height and
width, ``C_out`` output channels, ``kh, kw`` kernel size, ``H', W'`` output size with::

    H' = 1 + (H + 2 * padding - kh) // stride

Arrays are NCHW, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_array

__all__ = [
    "output_size",
    "im2col",
    "col2im",
    "linear",
    "linear_backward",
    "relu",
    "relu_backward",
    "conv2d",
    "conv2d_backward",
    "max_pool2d",
    "max_pool2d_backward",
    "softmax",
    "log_softmax",
    "cross_entropy",
]


# ----------------------------------------------------------------------------- sizes
def output_size(size: int, k: int, stride: int, padding: int, *, name: str = "input") -> int:
    """``1 + (size + 2*padding - k) // stride``, with a clear error when k does not fit."""
    padded = size + 2 * padding
    if k > padded:
        raise ValueError(
            f"kernel size {k} is larger than the padded {name} size {padded} "
            f"(size {size} + 2*padding {padding}); use a smaller kernel or more padding"
        )
    return 1 + (padded - k) // stride


# ----------------------------------------------------------------------------- im2col
def im2col(x: np.ndarray, kh: int, kw: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Lay every kh x kw receptive field of ``x`` out as one row.

    Parameters
    ----------
    x : (N, C, H, W) array
    kh, kw, stride, padding : int

    Returns
    -------
    cols : (N * H' * W', C * kh * kw) array
        Row ``n*H'*W' + i*W' + j`` holds the patch under output pixel (i, j) of image n,
        flattened in (C, kh, kw) order -- the order of ``weight.reshape(C_out, -1)``.
    """
    N, C, H, W = x.shape
    Ho = output_size(H, kh, stride, padding, name="height")
    Wo = output_size(W, kw, stride, padding, name="width")
    if padding:
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    # windows: (N, C, H-kh+1, W-kw+1, kh, kw), a strided view (no copy yet)
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride][:, :, :Ho, :Wo]
    # -> (N, H', W', C, kh, kw): one copy, then a free reshape
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * Ho * Wo, C * kh * kw)


def col2im(
    cols: np.ndarray, x_shape: tuple, kh: int, kw: int, stride: int = 1, padding: int = 0
) -> np.ndarray:
    """Adjoint of :func:`im2col`: scatter-add rows back onto an (N, C, H, W) image.

    Where receptive fields overlap, their contributions are summed, so that
    ``<im2col(x), cols> == <x, col2im(cols)>`` for every x and cols (a test checks it).
    Loops over the kh*kw kernel offsets only; each step is vectorised over N, C, H', W'.
    """
    N, C, H, W = x_shape
    Ho = output_size(H, kh, stride, padding, name="height")
    Wo = output_size(W, kw, stride, padding, name="width")
    c = cols.reshape(N, Ho, Wo, C, kh, kw).transpose(0, 3, 4, 5, 1, 2)  # N C kh kw H' W'
    out = np.zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=cols.dtype)
    for i in range(kh):
        i_end = i + stride * Ho
        for j in range(kw):
            j_end = j + stride * Wo
            out[:, :, i:i_end:stride, j:j_end:stride] += c[:, :, i, j]
    if padding:
        out = out[:, :, padding:-padding, padding:-padding]
    return out


# ----------------------------------------------------------------------------- linear
def linear(x: np.ndarray, w: np.ndarray, b: np.ndarray | None):
    """y = x W^T + b.  x: (N, in), w: (out, in) (PyTorch layout), b: (out,) -> y: (N, out)."""
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
def relu(x: np.ndarray):
    """y = max(x, 0).  Convention at the kink: the gradient at x == 0 is 0 (as PyTorch)."""
    mask = x > 0
    return x * mask, mask


def relu_backward(dout: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """dx = dout * [x > 0]."""
    return dout * mask


# ----------------------------------------------------------------------------- conv2d
def conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: int = 1, padding: int = 0):
    """2-D cross-correlation (what deep-learning frameworks call convolution), as one GEMM.

    out[n, o, i, j] = b[o] + sum_{c, p, q} w[o, c, p, q] * x_pad[n, c, i*s + p, j*s + q]

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
    N, C, H, W = x.shape
    C_out, C_w, kh, kw = w.shape
    if C != C_w:
        raise ValueError(
            f"x has {C} input channels but weight expects {C_w} (weight shape {w.shape})"
        )
    cols = im2col(x, kh, kw, stride, padding)  # (N*H'*W', C*kh*kw)
    Ho = output_size(H, kh, stride, padding)
    Wo = output_size(W, kw, stride, padding)
    out = cols @ w.reshape(C_out, -1).T  # the one GEMM: (N*H'*W', C_out)
    if b is not None:
        out += b
    out = out.reshape(N, Ho, Wo, C_out).transpose(0, 3, 1, 2)
    return np.ascontiguousarray(out), (x.shape, cols, w, b is not None, stride, padding)


def conv2d_backward(dout: np.ndarray, cache):
    """Backward of :func:`conv2d`; returns (dx, dw, db or None).

    With D = dout laid out as (N*H'*W', C_out):  dW = D^T cols,  db = sum of D over rows,
    dcols = D W_flat, and dx = col2im(dcols).
    """
    x_shape, cols, w, has_bias, stride, padding = cache
    C_out, C, kh, kw = w.shape
    d = dout.transpose(0, 2, 3, 1).reshape(-1, C_out)  # (N*H'*W', C_out)
    dw = (d.T @ cols).reshape(w.shape)
    db = d.sum(axis=0) if has_bias else None
    dcols = d @ w.reshape(C_out, -1)
    dx = col2im(dcols, x_shape, kh, kw, stride, padding)
    return dx, dw, db


# ----------------------------------------------------------------------------- max pool
def max_pool2d(x: np.ndarray, kernel_size: int = 2, stride: int | None = None):
    """Max pooling over k x k windows (no padding; floor mode, as PyTorch's default).

    x: (N, C, H, W) -> out: (N, C, H', W') with H' = 1 + (H - k) // stride.
    Ties: the first maximum in row-major window order receives the gradient (as np.argmax).
    """
    k = kernel_size
    s = k if stride is None else stride
    N, C, H, W = x.shape
    Ho = output_size(H, k, s, 0, name="height")
    Wo = output_size(W, k, s, 0, name="width")
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))
    windows = windows[:, :, ::s, ::s][:, :, :Ho, :Wo].reshape(N, C, Ho, Wo, k * k)
    arg = windows.argmax(axis=-1)  # (N, C, H', W') index into the k*k window
    out = np.take_along_axis(windows, arg[..., None], axis=-1)[..., 0]
    return out, (x.shape, arg, k, s)


def max_pool2d_backward(dout: np.ndarray, cache) -> np.ndarray:
    """Route each output gradient to the position of its window's maximum."""
    x_shape, arg, k, s = cache
    N, C, H, W = x_shape
    Ho, Wo = arg.shape[2:]
    dx = np.zeros(x_shape, dtype=dout.dtype)
    # Loop over the k*k window offsets; each step is vectorised over N, C, H', W'.
    for p in range(k):
        for q in range(k):
            hit = arg == p * k + q
            dx[:, :, p : p + s * Ho : s, q : q + s * Wo : s] += dout * hit
    return dx


# ----------------------------------------------------------------------------- losses
def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """softmax(z)_i = exp(z_i - max z) / sum_j exp(z_j - max z): stable for any magnitude."""
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """log softmax(z)_i = (z_i - m) - log sum_j exp(z_j - m), m = max z: never overflows."""
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def check_labels(labels, N: int, C: int, *, name: str = "labels") -> np.ndarray:
    """Validate integer class labels: shape (N,), integer dtype, values in [0, C)."""
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"{name} must be integer class indices; got dtype {labels.dtype}. "
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
    logits = check_array(logits, "logits", ndim=2)
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

