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

Arrays are NCHW, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_array, check_array, check_int

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


# ----------------------------------------------------------------------------- sizes
def output_size(size: int, k: int, stride: int, padding: int, *, name: str = "input") -> int:
    """``1 + (size + 2*padding - k) // stride``, with a clear error when k or stride does not fit.

    A kernel larger than the padded input leaves no window at all; a stride larger than the
    padded input leaves exactly one window and silently ignores everything past it, so both
    are refused (PyTorch accepts the second and returns a single output pixel).
    """
    k = check_int(k, "kernel size", low=1)
    stride = check_int(stride, "stride", low=1)
    padding = check_int(padding, "padding", low=0)
    padded = size + 2 * padding
    for what, value in (("kernel size", k), ("stride", stride)):
        if value > padded:
            raise ValueError(
                f"{what} {value} is larger than the padded {name} size {padded} "
                f"(size {size} + 2*padding {padding}); use a smaller {what.split()[0]}, "
                f"more padding or a larger input"
            )
    return 1 + (padded - k) // stride


def _check_rank(x, name: str, ndim: int, layout: str) -> None:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array; got {type(x).__name__}")
    if x.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array {layout}; got shape {x.shape} ({x.ndim}-D)")


# ----------------------------------------------------------------------------- im2col
def _layout(N: int, C: int, kh: int, kw: int, Ho: int, Wo: int, batch_first: bool):
    """The 6-D shape patches are stored in, and the axes that view it as (kh, kw, N, C, H', W').

    ``batch_first``: (N, C, kh, kw, H', W'), i.e. (N, C*kh*kw, H'*W'); otherwise
    (C, kh, kw, N, H', W'), i.e. (C*kh*kw, N*H'*W').
    """
    if batch_first:
        return (N, C, kh, kw, Ho, Wo), (2, 3, 0, 1, 4, 5)
    return (C, kh, kw, N, Ho, Wo), (1, 2, 3, 0, 4, 5)


def _patches(x: np.ndarray, kh: int, kw: int, stride: int, padding: int, *, batch_first: bool = True):
    """Every kh x kw receptive field of ``x`` as a column: (N, C*kh*kw, H'*W').

    This is the layout :func:`conv2d_forward` works in (``torch.nn.functional.unfold``'s): column
    ``i*W' + j`` of image n is the patch under output pixel (i, j), in (C, kh, kw) order,
    so ``weight.reshape(C_out, -1) @ cols[n]`` is image n's output, already channels-first.
    With ``batch_first=False`` the same numbers come as one (C*kh*kw, N*H'*W') matrix
    (column ``n*H'*W' + i*W' + j``: :func:`im2col_t`), built in the same single copy.
    Built with one loop over the kh*kw kernel offsets: offset (p, q) is the strided slice
    ``x_pad[:, :, p::stride, q::stride]`` (its first H' x W'), copied for all N, C at once.
    """
    N, C, H, W = x.shape
    Ho = output_size(H, kh, stride, padding, name="height")
    Wo = output_size(W, kw, stride, padding, name="width")
    if padding:
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    shape, by_offset_axes = _layout(N, C, kh, kw, Ho, Wo, batch_first)
    cols = np.empty(shape, dtype=x.dtype)
    by_offset = cols.transpose(by_offset_axes)  # a view: (kh, kw, N, C, H', W')
    for p in range(kh):
        for q in range(kw):
            by_offset[p, q] = x[:, :, p : p + stride * Ho : stride, q : q + stride * Wo : stride]
    K = C * kh * kw
    return cols.reshape(N, K, Ho * Wo) if batch_first else cols.reshape(K, N * Ho * Wo)


def _patches_adjoint(cols: np.ndarray, x_shape: tuple, kh: int, kw: int, stride: int, padding: int,
                     *, batch_first: bool = True):
    """Adjoint of :func:`_patches`: add every column back onto its receptive field.

    cols: (N, C*kh*kw, H'*W') (or, with ``batch_first=False``, (C*kh*kw, N*H'*W'))
    -> (N, C, H, W).  Where receptive fields overlap (stride < k) their contributions are
    summed.  The same loop over kernel offsets, in reverse.
    """
    N, C, H, W = x_shape
    Ho = output_size(H, kh, stride, padding, name="height")
    Wo = output_size(W, kw, stride, padding, name="width")
    shape, by_offset_axes = _layout(N, C, kh, kw, Ho, Wo, batch_first)
    c = cols.reshape(shape).transpose(by_offset_axes)  # (kh, kw, N, C, H', W')
    out = np.zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=cols.dtype)
    for p in range(kh):
        for q in range(kw):
            out[:, :, p : p + stride * Ho : stride, q : q + stride * Wo : stride] += c[p, q]
    if padding:
        out = np.ascontiguousarray(out[:, :, padding : padding + H, padding : padding + W])
    return out


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
        flattened in (C, kh, kw) order -- the order of ``weight.reshape(C_out, -1)``, so
        that ``im2col(x) @ weight.reshape(C_out, -1).T`` is the convolution as one GEMM.
        (:func:`conv2d_forward` uses the transposed, per-image layout of the same numbers, which
        needs no transpose of its output.)
    """
    _check_rank(x, "x", 4, "(N, C, H, W)")
    cols = _patches(x, kh, kw, stride, padding)  # (N, C*kh*kw, H'*W')
    return cols.transpose(0, 2, 1).reshape(-1, cols.shape[1])


def im2col_t(x: np.ndarray, kh: int, kw: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """The transpose of :func:`im2col`, built in one copy: (N, C, H, W) -> (C*kh*kw, N*H'*W').

    Column ``n*H'*W' + i*W' + j`` is the patch under output pixel (i, j) of image n, so a
    weight matrix (C_out, C*kh*kw) -- a sparse one, say -- multiplies it with no transpose.
    """
    _check_rank(x, "x", 4, "(N, C, H, W)")
    return _patches(x, kh, kw, stride, padding, batch_first=False)


def col2im(
    cols: np.ndarray, x_shape: tuple, kh: int, kw: int, stride: int = 1, padding: int = 0
) -> np.ndarray:
    """Adjoint of :func:`im2col`: scatter-add rows back onto an (N, C, H, W) image.

    Where receptive fields overlap, their contributions are summed, so that
    ``<im2col(x), cols> == <x, col2im(cols)>`` for every x and cols (a test checks it).
    Loops over the kh*kw kernel offsets only; each step is vectorised over N, C, H', W'.
    """
    N, C = x_shape[:2]
    K = C * kh * kw
    if cols.ndim != 2 or cols.shape[1] != K:
        raise ValueError(
            f"cols must have shape (N*H'*W', {K}) for x_shape {tuple(x_shape)}; got {cols.shape}"
        )
    per_image = cols.reshape(N, -1, K).transpose(0, 2, 1)  # (N, C*kh*kw, H'*W')
    return _patches_adjoint(per_image, tuple(x_shape), kh, kw, stride, padding)


# ----------------------------------------------------------------------------- linear
def linear_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None):
    """y = x W^T + b.  x: (N, in), w: (out, in) (PyTorch layout), b: (out,) -> y: (N, out)."""
    _check_rank(x, "x", 2, "(N, in_features)")
    _check_rank(w, "w", 2, "(out_features, in_features)")
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
    _check_rank(x, "x", 4, "(N, C, H, W)")
    _check_rank(w, "w", 4, "(C_out, C, kh, kw)")
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
    _check_rank(x, "x", 4, "(N, C, H, W)")
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
    labels = as_array(labels, name)
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

