"""XNOR networks: binary weights *and* binary activations (Rastegari, Ordonez, Redmon &
Farhadi 2016, "XNOR-Net", section 3.2; the text's binarisation, section 4.2.1).

A layer multiplies the signs of its inputs by the signs of its weights, then rescales::

    y = (sign(x) . sign(w_c)) * beta * alpha_c + b_c
    alpha_c = mean|w_c|             (per output channel: the least-squares scale of sign(w_c))
    beta    = mean|x|               over the values one output sees: a Linear's input row, or a
                                    Conv2d's receptive field (its im2col row) -- the paper's K

with sign(0) = +1.  The sign product is an integer, which the inference layers compute on
packed bits with :func:`~.kernels.xnor_matmul` (``k - 2 popcount(a XOR b)``).

Training (:class:`XnorLinear`, :class:`XnorConv2d`) keeps float shadow weights and uses the
straight-through estimator, with alpha and beta taken as constants in backward::

    dx = (dy sign(w) alpha) * 1[|x| <= beta]     the derivative of clip(x, -beta, beta),
                                                 beta * sign(x)'s surrogate (closed window)
    dw = (dy^T beta sign(x)) * 1[|w| <= 1]       BinaryConnect's window (clip the shadow
                                                 weights with ShadowClip)

No ReLU belongs between two XNOR layers: after a ReLU every sign is +1.  The sign of the
next layer is the nonlinearity.  ``to_inference()`` freezes a layer into
:class:`XnorInferenceLinear` / :class:`XnorInferenceConv2d`, stored-weight layers that hold
the ``"binary"`` encoding of ``alpha sign(w)`` (1 bit per weight + one float32 alpha per
channel) and an fp32 bias.
"""

from __future__ import annotations

import numpy as np

from ..formats import StoredLayer, encode
from ..formats.packing import pack_signs, unpack_signs
from ..nn import functional as F
from ..nn._checks import check_types
from ..nn.layers import Conv2d, Linear, Module, _check_input, replace_layers
from .binary import binarize, binarize_scaled, binary_scale
from .kernels import xnor_matmul
from .qat import STE_LIMIT

__all__ = ["activation_scale", "xnor_output", "XnorLinear", "XnorConv2d", "XnorInferenceLinear",
           "XnorInferenceConv2d", "prepare_xnor", "convert_xnor"]


def activation_scale(rows: np.ndarray) -> np.ndarray:
    """``beta = mean|x|`` of every row (N, k) -> (N,), in the rows' dtype."""
    return np.abs(rows).mean(axis=1).astype(rows.dtype, copy=False)


def xnor_output(dots, beta, alpha, bias) -> np.ndarray:
    """``dots * beta[:, None] * alpha[None, :] + bias``: the rescaled sign products (N, C)."""
    out = dots * beta[:, None] * alpha[None, :]
    return out if bias is None else out + bias


def _conv_rows(x, kh, kw, stride, padding):
    """im2col rows of x and the output size (H', W')."""
    N, _, H, W = x.shape
    Ho, Wo = F.output_size(H, kh, stride, padding), F.output_size(W, kw, stride, padding)
    return F.im2col(x, kh, kw, stride, padding), (N, Ho, Wo)


def _to_nchw(rows, N, Ho, Wo):
    return np.ascontiguousarray(rows.reshape(N, Ho, Wo, -1).transpose(0, 3, 1, 2))


class _XnorTrain(Module):
    """Shadow weights + STE; subclasses say how rows are made (Linear: x, Conv2d: im2col)."""

    def _init(self, layer):
        self.params = {k: v.copy() for k, v in layer.params.items()}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def _rows_forward(self, rows):
        w = self.params["weight"]
        W = w.reshape(len(w), -1)
        sw = binarize(W)
        alpha = binary_scale(W, per_channel=True).astype(W.dtype)
        beta = activation_scale(rows)
        sx = binarize(rows)
        self._cache = (rows, beta, sx, sw, alpha)
        return xnor_output(sx @ sw.T, beta, alpha, self.params.get("bias"))

    def _rows_backward(self, drows):
        rows, beta, sx, sw, alpha = self._cache
        w = self.params["weight"]
        drows_in = (drows @ (alpha[:, None] * sw)) * (np.abs(rows) <= beta[:, None])
        dw = (drows.T @ (beta[:, None] * sx)).reshape(w.shape)
        self.grads["weight"] += dw * (np.abs(w) <= STE_LIMIT)
        if "bias" in self.params:
            self.grads["bias"] += drows.sum(axis=0)
        return drows_in

    def weight_encoding(self):
        """The ``"binary"`` encoding of ``alpha sign(w)`` (one alpha per output channel)."""
        w = self.params["weight"]
        return encode(binarize_scaled(w, per_channel=True), "binary", per_channel=True)

    def storage_bits(self) -> int:
        """Bits of the deployed layer (:meth:`to_inference`)."""
        return self.to_inference().storage_bits()


class XnorLinear(_XnorTrain):
    """Training twin of a Linear: ``y = (sign(x) sign(W)^T) beta alpha + b``; x: (N, in)."""

    def __init__(self, layer: Linear):
        super().__init__()
        if not isinstance(layer, Linear):
            raise TypeError(f"layer must be a Linear; got {type(layer).__name__}")
        self._init(layer)

    def forward(self, x):
        _check_input(x, "(N, in_features)", 2, 1, self.params["weight"].shape[1], repr(self))
        return self._rows_forward(x)

    def backward(self, dout):
        return self._rows_backward(dout)

    def to_inference(self):
        return XnorInferenceLinear(self.weight_encoding(), self.params.get("bias"))


class XnorConv2d(_XnorTrain):
    """Training twin of a Conv2d: the same on im2col rows (beta per receptive field)."""

    def __init__(self, layer: Conv2d):
        super().__init__()
        if not isinstance(layer, Conv2d):
            raise TypeError(f"layer must be a Conv2d; got {type(layer).__name__}")
        self._init(layer)
        self.stride, self.padding = layer.stride, layer.padding

    def forward(self, x):
        _, C, kh, kw = self.params["weight"].shape
        _check_input(x, "(N, C, H, W)", 4, 1, C, repr(self))
        rows, (N, Ho, Wo) = _conv_rows(x, kh, kw, self.stride, self.padding)
        self._x_shape = x.shape
        return _to_nchw(self._rows_forward(rows), N, Ho, Wo)

    def backward(self, dout):
        _, _, kh, kw = self.params["weight"].shape
        drows = dout.transpose(0, 2, 3, 1).reshape(-1, dout.shape[1])
        return F.col2im(self._rows_backward(drows), self._x_shape, kh, kw, self.stride, self.padding)

    def to_inference(self):
        return XnorInferenceConv2d(self.weight_encoding(), self.params.get("bias"), stride=self.stride,
                                   padding=self.padding)


class _XnorStored(StoredLayer):
    """Inference on packed bits: the weight's signs packed row by row for the XNOR kernel."""

    def __init__(self, weight, bias=None, **geometry):
        if weight.fmt != "binary" or weight.arrays["scale"].size != weight.shape[0]:
            raise ValueError(f"{type(self).__name__} runs a per-channel 'binary' encoding; got "
                             f"{weight.fmt!r}")
        super().__init__(weight, bias, **geometry)

    def _build(self):
        enc = self._encodings["weight"]
        m, k = enc.shape[0], int(np.prod(enc.shape[1:]))
        signs = unpack_signs(enc.arrays["bits"], m * k).reshape(m, k)
        self._k, self._w_bits = k, pack_signs(signs, axis=1)  # (m, ceil(k/8)), rows for xnor_matmul
        self._alpha = enc.arrays["scale"]
        self._bias = self._encodings["bias"].decode() if "bias" in self._encodings else None

    def _rows(self, rows):
        """(R, k) float rows -> (R, C_out): popcounts of packed signs, rescaled."""
        dots = xnor_matmul(pack_signs(rows, axis=1), self._w_bits, self._k)
        return xnor_output(dots.astype(rows.dtype), activation_scale(rows), self._alpha.astype(rows.dtype),
                           self._bias)


class XnorInferenceLinear(_XnorStored):
    """``y = xnor(sign x, sign W) beta alpha + b`` on packed bits; x: (N, in) -> (N, out)."""

    kind = "linear"

    def forward(self, x):
        _check_input(x, "(N, in_features)", 2, 1, self.weight_shape[1], repr(self))
        return self._rows(x)


class XnorInferenceConv2d(_XnorStored):
    """The same on the im2col rows of x; (N, C, H, W) -> (N, C_out, H', W')."""

    kind = "conv2d"

    def forward(self, x):
        _, C, kh, kw = self.weight_shape
        _check_input(x, "(N, C, H, W)", 4, 1, C, repr(self))
        rows, (N, Ho, Wo) = _conv_rows(x, kh, kw, self.stride, self.padding)
        return _to_nchw(self._rows(rows), N, Ho, Wo)


def prepare_xnor(model: Module, *, layer_types: tuple = (Linear, Conv2d)) -> Module:
    """A copy of ``model`` with every Linear/Conv2d replaced by its XNOR training twin
    (shadow weights copied).  The model should have no ReLU between XNOR layers."""
    def make(layer):
        return XnorLinear(layer) if isinstance(layer, Linear) else XnorConv2d(layer)

    return replace_layers(model, check_types(layer_types), make)


def convert_xnor(model: Module) -> Module:
    """A copy with each XNOR training layer frozen into its packed-bit inference layer."""
    return replace_layers(model, (XnorLinear, XnorConv2d), lambda layer: layer.to_inference())
