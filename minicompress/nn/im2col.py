"""Patch extraction for convolutions: the output size formula, im2col and its adjoint.

A convolution is one matrix product once every kh x kw receptive field is laid out as a
column (or row): ``im2col``.  Its adjoint ``col2im`` adds columns back onto their fields,
which is the backward pass.  Shapes use the NN stack's letters (``N, C, H, W``, ``kh, kw``,
``H', W'``) with::

    H' = 1 + (H + 2 * padding - kh) // stride
"""

from __future__ import annotations

import numpy as np

from ._checks import check_int

__all__ = ["output_size", "im2col", "im2col_t", "col2im"]


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


def check_rank(x, name: str, ndim: int, layout: str) -> None:
    """A numpy array of ``ndim`` dimensions (``layout`` says which, for the message)."""
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
    check_rank(x, "x", 4, "(N, C, H, W)")
    cols = _patches(x, kh, kw, stride, padding)  # (N, C*kh*kw, H'*W')
    return cols.transpose(0, 2, 1).reshape(-1, cols.shape[1])


def im2col_t(x: np.ndarray, kh: int, kw: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """The transpose of :func:`im2col`, built in one copy: (N, C, H, W) -> (C*kh*kw, N*H'*W').

    Column ``n*H'*W' + i*W' + j`` is the patch under output pixel (i, j) of image n, so a
    weight matrix (C_out, C*kh*kw) -- a sparse one, say -- multiplies it with no transpose.
    """
    check_rank(x, "x", 4, "(N, C, H, W)")
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
