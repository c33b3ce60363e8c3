"""Compressed execution: Linear and Conv2d layers that *run* CSR weights (scipy.sparse).

A pruning mask only zeroes numbers; a dense GEMM multiplies by those zeros as fast as by
any other number, so a masked model is exactly as slow as the dense one.  Work is skipped
only when the kernel changes: here the weight is held in CSR and multiplied with
``scipy.sparse``, whose cost grows with the non-zeros z instead of with m * n.  Whether that
wins depends on the sparsity *and* the batch size: ``benchmarks/bench_sparse.py`` finds the
crossover (a dense BLAS GEMM is very fast per MAC; a sparse product pays for its indices).

These layers are for inference: the weights are frozen (``params`` is empty, so an
optimiser leaves them alone) and ``backward`` returns only ``dx``.  They describe their own
storage (``storage_bits``: the CSR encoding of :mod:`minicompress.formats` plus an fp32
bias) and work (``macs``), which :mod:`minicompress.metrics` adds up.
"""

from __future__ import annotations

import copy

import numpy as np
import scipy.sparse as sp

from .. import formats
from ._checks import check_float, check_int
from .functional import _patches_adjoint, im2col_t, output_size
from .layers import Conv2d, Linear, Module, Sequential, _check_input

__all__ = ["SparseLinear", "SparseConv2d", "to_sparse", "im2col_t"]


class _SparseBase(Module):
    """Shared parts: the CSR matrix of the weight's 2-D view, its encoding, the bias."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray | None):
        super().__init__()
        if not isinstance(weight, np.ndarray) or weight.dtype.kind != "f":
            got = f"dtype {weight.dtype}" if isinstance(weight, np.ndarray) else type(weight).__name__
            raise TypeError(f"weight must be a float numpy array; got {got}")
        if bias is not None and np.shape(bias) != weight.shape[:1]:
            raise ValueError(
                f"bias must have shape {weight.shape[:1]} (one per output); got {np.shape(bias)}"
            )
        self.weight_shape = weight.shape
        self.encoding = formats.encode(weight.astype(np.float32, copy=False), "csr")
        m, k = formats.matrix_view(weight.shape)
        enc = self.encoding.arrays
        # scipy wants int32 indices; the stored encoding keeps the narrow 8/16-bit ones
        self.W = sp.csr_matrix(
            (enc["values"], enc["indices"].astype(np.int32), enc["indptr"].astype(np.int32)),
            shape=(m, k),
        )
        self.bias = None if bias is None else np.asarray(bias, dtype=np.float32).copy()
        self._cache = None

    @property
    def nnz(self) -> int:
        return int(self.W.nnz)

    def dense_weight(self) -> np.ndarray:
        """The weight as a dense array of its original shape."""
        return formats.decode(self.encoding)

    def parameter_counts(self) -> tuple[int, int]:
        """(weights + biases, their non-zeros), as the dense layer would count them."""
        b = 0 if self.bias is None else self.bias.size
        bz = 0 if self.bias is None else int(np.count_nonzero(self.bias))
        return int(np.prod(self.weight_shape)) + b, self.nnz + bz

    def storage_bits(self) -> int:
        """CSR bits of the weight (values, indices, row pointers, header) + the fp32 bias."""
        bias = 0 if self.bias is None else formats.size_bits(self.bias, "fp32")
        return self.encoding.bits + bias

    def _matmul(self, cols: np.ndarray) -> np.ndarray:
        """(R, k) dense @ W^T -> (R, m), computed as (W @ cols^T)^T by scipy."""
        out = (self.W @ np.ascontiguousarray(cols.T)).T
        return out if self.bias is None else out + self.bias

    def _matmul_backward(self, d: np.ndarray) -> np.ndarray:
        """(R, m) upstream gradient -> (R, k): d @ W, as (W^T @ d^T)^T."""
        return (self.W.T @ np.ascontiguousarray(d.T)).T


class SparseLinear(_SparseBase):
    """y = x W^T + b with W (out, in) held in CSR; x: (N, in) -> y: (N, out)."""

    def __init__(self, weight, bias=None):
        super().__init__(weight, bias)
        if len(self.weight_shape) != 2:
            raise ValueError(f"SparseLinear weight must be 2-D (out, in); got shape {self.weight_shape}")
        self.out_features, self.in_features = self.weight_shape

    @classmethod
    def from_dense(cls, layer: Linear) -> SparseLinear:
        return cls(layer.params["weight"], layer.params.get("bias"))

    def forward(self, x):
        _check_input(x, "(N, in_features)", 2, 1, self.in_features, repr(self))
        return self._matmul(x)

    def backward(self, dout):
        return self._matmul_backward(dout)

    def macs(self, x_shape) -> tuple[int, int]:
        """Dense ``out * in``, effective ``nnz`` per input row."""
        rows = int(np.prod(x_shape[:-1]))
        return rows * self.out_features * self.in_features, rows * self.nnz

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}, nnz={self.nnz}"


class SparseConv2d(_SparseBase):
    """Conv2d by im2col and a sparse GEMM: the weight (C_out, C, kh, kw) is the CSR matrix
    (C_out, C*kh*kw), multiplied with the (N*H'*W', C*kh*kw) patch matrix."""

    def __init__(self, weight, bias=None, stride=1, padding=0):
        super().__init__(weight, bias)
        if len(self.weight_shape) != 4:
            raise ValueError(f"SparseConv2d weight must be 4-D (C_out, C, kh, kw); got {self.weight_shape}")
        self.out_channels, self.in_channels, kh, kw = self.weight_shape
        self.kernel_size = (kh, kw)
        self.stride = check_int(stride, "stride", low=1)
        self.padding = check_int(padding, "padding", low=0)

    @classmethod
    def from_dense(cls, layer: Conv2d) -> SparseConv2d:
        return cls(layer.params["weight"], layer.params.get("bias"), layer.stride, layer.padding)

    def _out_hw(self, H, W):
        (kh, kw), s, p = self.kernel_size, self.stride, self.padding
        return output_size(H, kh, s, p, name="height"), output_size(W, kw, s, p, name="width")

    def forward(self, x):
        _check_input(x, "(N, C, H, W)", 4, 1, self.in_channels, repr(self))
        N, _, H, W = x.shape
        Ho, Wo = self._out_hw(H, W)
        self._cache = x.shape
        out = self.W @ im2col_t(x, *self.kernel_size, self.stride, self.padding)  # (C_out, N*H'*W')
        if self.bias is not None:
            out += self.bias[:, None]
        return np.ascontiguousarray(out.reshape(self.out_channels, N, Ho, Wo).transpose(1, 0, 2, 3))

    def backward(self, dout):
        """dx = the adjoint of im2col_t applied to W^T dout, dout laid out as (C_out, N*H'*W')."""
        d = dout.transpose(1, 0, 2, 3).reshape(self.out_channels, -1)
        dcols = self.W.T @ d  # (C*kh*kw, N*H'*W'): im2col_t's layout
        return _patches_adjoint(dcols, self._cache, *self.kernel_size, self.stride, self.padding,
                                batch_first=False)

    def macs(self, x_shape) -> tuple[int, int]:
        """Dense ``C_out*C*kh*kw * H'*W'``, effective ``nnz * H'*W'`` per image."""
        Ho, Wo = self._out_hw(x_shape[2], x_shape[3])
        per_pixel = x_shape[0] * Ho * Wo
        return per_pixel * int(np.prod(self.weight_shape)), per_pixel * self.nnz

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, nnz={self.nnz}")


def to_sparse(model: Module, *, min_sparsity: float = 0.0) -> Module:
    """A copy of ``model`` with every Linear/Conv2d whose weight sparsity is at least
    ``min_sparsity`` replaced by its CSR twin (the input model is not changed).

    Converting only the layers sparse enough to gain (see the crossover in
    ``figures/sparse_speedup.png``) is the practical rule; ``min_sparsity=0`` converts all.
    """
    min_sparsity = check_float(min_sparsity, "min_sparsity", low=0.0, high=1.0)
    if isinstance(model, (Linear, Conv2d)):
        return _convert(copy.deepcopy(model), min_sparsity)
    if not isinstance(model, Sequential):
        raise TypeError(f"to_sparse takes a Sequential, Linear or Conv2d; got {type(model).__name__}")
    out = copy.deepcopy(model)
    for name, layer in list(out.named_modules()):
        if isinstance(layer, (Linear, Conv2d)):
            out.set_submodule(name, _convert(layer, min_sparsity))
    return out


def _convert(layer, min_sparsity):
    w = layer.params["weight"]
    if 1.0 - np.count_nonzero(w) / w.size < min_sparsity:
        return layer
    return (SparseLinear if isinstance(layer, Linear) else SparseConv2d).from_dense(layer)
