"""The stored-weight layers: one family of Linear / Conv2d layers whose weight is held as a
storage :class:`~.encoding.Encoding`.

A compressed model is only smaller once its weights are *stored* differently, so every layer
that holds a compressed weight holds exactly what would be written to disk -- its
:meth:`~StoredLayer.encodings` -- and takes its size from them (``storage_bits``): nothing
else counts bits.  The layers differ only in how they *compute* from it:

==================  ================================================================
layer               computes with
==================  ================================================================
CompressedLinear,   the decoded float32 weight and a dense GEMM (any format: int8,
CompressedConv2d    b-bit, binary, ternary, bitmask/CSR with codes, ...)
SparseLinear,       the CSR arrays themselves, by scipy.sparse: cost grows with the
SparseConv2d        non-zeros, not with m * n
(quantize)          DynamicQuantLinear (int8 GEMM, per-batch activation scale),
                    IntLinear / IntConv2d (integer-only inference), ...
==================  ================================================================

They are for inference: their weights are frozen (``params`` is empty, so an optimiser
leaves them alone and ``state_dict`` has none; save them with ``formats.save_model``).
:mod:`minicompress.metrics` counts their work from ``weight_shape``, ``stride``,
``padding`` and :meth:`~StoredLayer.nonzero_weights`, the same formula as for Linear/Conv2d.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..nn import functional as F
from ..nn._checks import as_array, check_finite, check_float, check_int, described
from ..nn.layers import Conv2d, Linear, Module, _check_input, replace_layers
from .encoded import Encoded, _check_encoding
from .encoding import Encoding, decode, encode

__all__ = ["Encoded", "StoredLayer", "CompressedLinear", "CompressedConv2d", "SparseLinear", "SparseConv2d",
           "compress_layer", "to_sparse"]


class StoredLayer(Encoded):
    """Base of the family: a weight Encoding, an fp32 bias, and (conv) stride and padding.

    Subclasses set ``kind`` ("linear" or "conv2d"), compute in ``forward`` from the caches
    that :meth:`_build` derives from the encodings, and may store more encodings (an
    integer-only layer's int32 bias and multipliers) through ``extra``.
    """

    kind = "linear"

    def __init__(self, weight: Encoding, bias=None, *, stride: int = 1, padding: int = 0, extra=None):
        super().__init__()
        weight = _check_encoding(weight, "weight")
        ndim = 2 if self.kind == "linear" else 4
        if len(weight.shape) != ndim:
            layout = "(out, in)" if ndim == 2 else "(C_out, C_in, kh, kw)"
            raise ValueError(f"{type(self).__name__} needs a {ndim}-D {layout} weight; got shape "
                             f"{weight.shape}")
        self.stride = check_int(stride, "stride", low=1)
        self.padding = check_int(padding, "padding", low=0)
        encodings = {"weight": weight}
        if bias is not None:
            b = as_array(bias, "bias")
            if b.dtype.kind != "f":
                raise TypeError(f"bias must be a float array; got {described(bias, b)}")
            if b.shape != weight.shape[:1]:  # nothing is broadcast: a (1,) bias is refused
                raise ValueError(f"bias must have shape {weight.shape[:1]} (one per output); got {b.shape}")
            with np.errstate(over="ignore"):
                b32 = b.astype(np.float32)
            check_finite(b32, "bias (as float32)")
            encodings["bias"] = encode(b32, "fp32")
        if extra is not None and not isinstance(extra, dict):
            raise TypeError(f"extra must be a dict key -> Encoding; got {type(extra).__name__}")
        for key, enc in (extra or {}).items():
            encodings[key] = _check_encoding(enc, f"extra[{key!r}]")
        self._set(encodings)

    def _build(self) -> None:
        """Derive what ``forward`` computes with (default: the decoded float32 weight)."""
        self._weight = self._encodings["weight"].decode().astype(np.float32, copy=False)
        self._bias = self._encodings["bias"].decode() if "bias" in self._encodings else None

    # -- what metrics reads --------------------------------------------------------------
    @property
    def weight_shape(self) -> tuple:
        return self._encodings["weight"].shape

    def dense_weight(self) -> np.ndarray:
        """The weight as the float array it decodes to, in its own shape."""
        return self._encodings["weight"].decode()

    def nonzero_weights(self) -> int:
        """Non-zero weights: what a kernel that skips zeros would multiply by."""
        return int(np.count_nonzero(self.dense_weight()))

    def parameter_counts(self) -> tuple[int, int]:
        """(weights + biases, their non-zeros), as the float layer would count them."""
        b = self._bias.size if self._bias is not None else 0
        bz = int(np.count_nonzero(self._bias)) if self._bias is not None else 0
        return int(np.prod(self.weight_shape)) + b, self.nonzero_weights() + bz

    def backward(self, dout):
        raise NotImplementedError(
            f"{type(self).__name__} is for inference: fine-tune the float model (with its pruning "
            "masks) before compressing it, as combine.compress does")

    def extra_repr(self):
        conv = f", stride={self.stride}, padding={self.padding}" if self.kind == "conv2d" else ""
        return f"{self.weight_shape}, fmt={self._encodings['weight'].fmt!r}{conv}"

    @classmethod
    def _geometry(cls, layer) -> dict:
        """Check that ``layer`` is the float layer this class replaces; its stride and padding."""
        want = Linear if cls.kind == "linear" else Conv2d
        if not isinstance(layer, want):
            raise TypeError(f"{cls.__name__} replaces a {want.__name__}; got {type(layer).__name__}")
        return {} if cls.kind == "linear" else {"stride": layer.stride, "padding": layer.padding}

    @classmethod
    def from_layer(cls, layer, fmt: str | None = None, *, encoding: Encoding | None = None, **options):
        """The stored twin of ``layer``: its weight encoded in ``fmt`` (``options`` go to the
        format), or the given ``encoding`` of it; bias, stride and padding kept."""
        geometry = cls._geometry(layer)
        if (fmt is None) == (encoding is None):
            raise TypeError("give either fmt (the weight is encoded here) or encoding=, not both")
        weight = encode(layer.params["weight"], fmt, **options) if encoding is None else encoding
        if _check_encoding(weight, "encoding").shape != layer.params["weight"].shape:
            raise ValueError(f"encoding holds shape {weight.shape}; the layer's weight is "
                             f"{layer.params['weight'].shape}")
        return cls(weight, layer.params.get("bias"), **geometry)


class CompressedLinear(StoredLayer):
    """``y = x W_hat^T + b`` with W_hat the decoded (out, in) weight; x: (N, in) -> (N, out)."""

    kind = "linear"

    def forward(self, x):
        _check_input(x, "(N, in_features)", 2, 1, self.weight_shape[1], repr(self))
        return F.linear_forward(x, self._weight, self._bias)[0]


class CompressedConv2d(StoredLayer):
    """A convolution with the decoded (C_out, C_in, kh, kw) weight; stride and padding kept."""

    kind = "conv2d"

    def forward(self, x):
        _check_input(x, "(N, C, H, W)", 4, 1, self.weight_shape[1], repr(self))
        return F.conv2d_forward(x, self._weight, self._bias, self.stride, self.padding)[0]


def compress_layer(layer, fmt: str | None = None, *, encoding: Encoding | None = None,
                   **options) -> StoredLayer:
    """A Linear or Conv2d as a :class:`CompressedLinear` / :class:`CompressedConv2d` whose
    weight is encoded in ``fmt`` (``compress_layer(fc, "bitmask", bits=4)``) or given as
    ``encoding``."""
    if isinstance(layer, Linear):
        return CompressedLinear.from_layer(layer, fmt, encoding=encoding, **options)
    if isinstance(layer, Conv2d):
        return CompressedConv2d.from_layer(layer, fmt, encoding=encoding, **options)
    raise TypeError(f"layer must be a Linear or Conv2d; got {type(layer).__name__}")


# ----------------------------------------------------------------------------- sparse kernels
class _SparseKernel(StoredLayer):
    """The CSR arrays as a scipy matrix of the weight's 2-D view (the stored encoding keeps
    its narrow 8/16-bit indices; scipy gets int32 copies)."""

    def __init__(self, weight: Encoding, bias=None, **geometry):
        weight = _check_encoding(weight, "weight")
        if weight.fmt != "csr" or weight.field("bits") != 0:
            raise ValueError(f"{type(self).__name__} runs a 'csr' encoding of float values; got "
                             f"{weight.fmt!r}" + (" with quantized values" if weight.fmt == "csr" else ""))
        super().__init__(weight, bias, **geometry)

    def _build(self):
        enc = self._encodings["weight"]
        a, shape = enc.arrays, enc.shape
        m, k = shape[0], int(np.prod(shape[1:]))
        decode(enc)  # checks the arrays are consistent before scipy sees them
        self.W = sp.csr_matrix((a["values"], a["indices"].astype(np.int32), a["indptr"].astype(np.int32)),
                               shape=(m, k))
        self._bias = self._encodings["bias"].decode() if "bias" in self._encodings else None
        self._cache = None

    @property
    def nnz(self) -> int:
        return int(self.W.nnz)

    def nonzero_weights(self) -> int:
        return int(np.count_nonzero(self.W.data))

    def _matmul(self, cols: np.ndarray) -> np.ndarray:
        """(R, k) dense @ W^T -> (R, m), computed as (W @ cols^T)^T by scipy."""
        out = (self.W @ np.ascontiguousarray(cols.T)).T
        return out if self._bias is None else out + self._bias

    @classmethod
    def from_dense(cls, layer):
        """The CSR twin of a Linear / Conv2d (its weight as float32 values)."""
        geometry = cls._geometry(layer)
        weight = encode(layer.params["weight"].astype(np.float32, copy=False), "csr")
        return cls(weight, layer.params.get("bias"), **geometry)

    def extra_repr(self):
        return super().extra_repr() + f", nnz={self.nnz}"


class SparseLinear(_SparseKernel):
    """y = x W^T + b with W (out, in) held in CSR; x: (N, in) -> y: (N, out).  ``backward``
    returns dx (the weights are frozen)."""

    kind = "linear"

    def forward(self, x):
        _check_input(x, "(N, in_features)", 2, 1, self.weight_shape[1], repr(self))
        return self._matmul(x)

    def backward(self, dout):
        """dx = dout W, as (W^T @ dout^T)^T."""
        return (self.W.T @ np.ascontiguousarray(dout.T)).T


class SparseConv2d(_SparseKernel):
    """Conv2d by patches and a sparse GEMM: the weight (C_out, C, kh, kw) is the CSR matrix
    (C_out, C*kh*kw), multiplied with the (C*kh*kw, N*H'*W') patch matrix (``im2col_t``)."""

    kind = "conv2d"

    def forward(self, x):
        C_out, C, kh, kw = self.weight_shape
        _check_input(x, "(N, C, H, W)", 4, 1, C, repr(self))
        N, _, H, W = x.shape
        Ho = F.output_size(H, kh, self.stride, self.padding, name="height")
        Wo = F.output_size(W, kw, self.stride, self.padding, name="width")
        self._cache = x.shape
        out = self.W @ F.im2col_t(x, kh, kw, self.stride, self.padding)  # (C_out, N*H'*W')
        if self._bias is not None:
            out += self._bias[:, None]
        return np.ascontiguousarray(out.reshape(C_out, N, Ho, Wo).transpose(1, 0, 2, 3))

    def backward(self, dout):
        """dx = the adjoint of im2col_t applied to W^T dout, dout laid out as (C_out, N*H'*W')."""
        C_out, _, kh, kw = self.weight_shape
        d = dout.transpose(1, 0, 2, 3).reshape(C_out, -1)
        return F._patches_adjoint(self.W.T @ d, self._cache, kh, kw, self.stride, self.padding,
                                  batch_first=False)


def to_sparse(model: Module, *, min_sparsity: float = 0.0) -> Module:
    """A copy of ``model`` with every Linear/Conv2d whose weight sparsity is at least
    ``min_sparsity`` replaced by its CSR twin (the input model is not changed).

    Converting only the layers sparse enough to gain (see the crossover in
    ``figures/sparse_speedup.png``) is the practical rule; ``min_sparsity=0`` converts all.
    """
    min_sparsity = check_float(min_sparsity, "min_sparsity", low=0.0, high=1.0)

    def make(layer):
        w = layer.params["weight"]
        if 1.0 - np.count_nonzero(w) / w.size < min_sparsity:
            return layer
        return (SparseLinear if isinstance(layer, Linear) else SparseConv2d).from_dense(layer)

    return replace_layers(model, (Linear, Conv2d), make)
