"""Quantization-aware training: fake quantization with the straight-through estimator.

Forward, quantize then dequantize (Jacob et al. 2018, section 3)::

    fq(x) = S (clip(round(x / S) + Z, qmin, qmax) - Z)

``round`` has zero derivative almost everywhere, so backward uses the straight-through
estimator (STE; Bengio et al. 2013, BinaryConnect, Courbariaux et al. 2015): the gradient
passes unchanged where x lies inside the clipping range and is zero outside::

    dfq/dx := 1  if  S (qmin - Z) <= x <= S (qmax - Z)      (closed at both ends)
              0  otherwise

which is the exact derivative of the surrogate ``clip(x, S (qmin - Z), S (qmax - Z))``
everywhere except at its two kinks, where the convention is 1 (as BinaryConnect's
``1_{|r| <= 1}``).  PyTorch's ``fake_quantize_per_tensor_affine`` tests the *rounded* code
instead, so it also passes the gradient up to half a step S/2 beyond each end.

The QAT layers keep float *shadow* weights as their parameters (the optimizer updates
them), quantize them in every forward pass with a scheme of :mod:`.layers` (binary,
ternary, int8), and route the weight gradient back through the STE window (BinaryConnect):
``|w| <= 1`` for binary and ternary (the hard-tanh window), ``|w| <= scale`` for int8 (the
clipping range).  The scale (alpha or max|w|) is recomputed from the shadow weights each
step and is treated as a constant in backward.
"""

from __future__ import annotations

import numpy as np

from ..formats import CompressedConv2d, CompressedLinear, Encoding
from ..formats.symmetric import channel_view, symmetric_scale
from ..nn import functional as F
from ..nn._checks import (
    check_bool,
    check_float,
    check_qrange,
    check_scale,
    check_weights,
    check_zero_point,
)
from ..nn.layers import Conv2d, Linear, Module, replace_layers
from .layers import check_scheme, quantized_values, weight_encoding

__all__ = ["fake_quantize_forward", "fake_quantize_backward", "clip_window", "ste_window", "STE_LIMIT",
           "QATLinear", "QATConv2d", "prepare_qat", "convert_qat", "ShadowClip"]

#: BinaryConnect's window: the STE passes the gradient of binary/ternary weights for |w| <= 1.
STE_LIMIT = 1.0


def clip_window(x, scale, zero_point=0, qmin: int = -128, qmax: int = 127) -> np.ndarray:
    """The STE mask ``S (qmin - Z) <= x <= S (qmax - Z)`` (closed ends), boolean, shape of x."""
    qmin, qmax = check_qrange(qmin, qmax)
    scale = check_scale(scale)
    zero_point = check_zero_point(zero_point, qmin, qmax)
    x = np.asarray(x)
    return (x >= scale * (qmin - zero_point)) & (x <= scale * (qmax - zero_point))


def fake_quantize_forward(x, scale, zero_point=0, qmin: int = -128, qmax: int = 127):
    """Quantize-dequantize ``x`` in the forward pass; returns ``(out, cache)``.

    ``out = S (clip(round(x / S) + Z, qmin, qmax) - Z)``, in the float dtype of ``x``.

    Parameters
    ----------
    x : array, finite
    scale : S > 0;  zero_point : integer Z in [qmin, qmax];  qmin < qmax : code range
        (default signed 8 bit, [-128, 127])

    Returns
    -------
    out : array of x's shape, values on the grid S * (k - Z), k in [qmin, qmax]
    cache : the STE window for :func:`fake_quantize_backward`

    Notes
    -----
    Round half to even.  Backward is the STE: see the module docstring for the window.
    """
    x = check_weights(x, "x")
    qmin, qmax = check_qrange(qmin, qmax)
    scale = check_scale(scale)
    zero_point = check_zero_point(zero_point, qmin, qmax)
    q = np.clip(np.rint(x / scale) + zero_point, qmin, qmax)
    out = (scale * (q - zero_point)).astype(x.dtype)
    return out, clip_window(x, scale, zero_point, qmin, qmax)


def fake_quantize_backward(dout: np.ndarray, cache) -> np.ndarray:
    """STE: ``dx = dout * 1[S (qmin - Z) <= x <= S (qmax - Z)]``."""
    return dout * cache


def ste_window(w: np.ndarray, scheme: str, *, per_channel: bool = True) -> np.ndarray:
    """Boolean mask where the straight-through estimator passes the weight gradient (closed ends).

    binary, ternary: ``|w| <= 1`` (BinaryConnect);  int8: ``|w| <= scale``, the clipping
    range, scale = max|w| per channel or tensor as the quantizer computes it.
    """
    check_scheme(scheme)
    if scheme == "int8":
        return np.abs(w) <= channel_view(symmetric_scale(w, per_channel=per_channel), w.ndim)
    return np.abs(w) <= STE_LIMIT


class _QATLayer(Module):
    """Shared machinery: float shadow weights, quantized in forward, STE in backward."""

    def _init(self, layer, scheme: str, per_channel: bool):
        self.scheme = check_scheme(scheme)
        self.per_channel = check_bool(per_channel, "per_channel")
        self.params = {k: v.copy() for k, v in layer.params.items()}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def encode(self) -> Encoding:
        """The current encoding of the shadow weights (what the layer would deploy)."""
        return weight_encoding(self.params["weight"], self.scheme, per_channel=self.per_channel)

    def _quantized_weight(self):
        w = self.params["weight"]
        self._window = ste_window(w, self.scheme, per_channel=self.per_channel)
        return quantized_values(w, self.scheme, per_channel=self.per_channel)

    def _accumulate(self, dw, db):
        self.grads["weight"] += dw * self._window  # the STE
        if db is not None:
            self.grads["bias"] += db

    def nonzero_weights(self) -> int:
        """Non-zero quantized weights (a ternary zero is skipped work)."""
        w = self.params["weight"]
        return int(np.count_nonzero(quantized_values(w, self.scheme, per_channel=self.per_channel)))

    def storage_bits(self) -> int:
        """Bits of the deployed layer (:meth:`to_quantized`); shadow weights exist only
        during training and are not counted."""
        return self.to_quantized().storage_bits()

    def extra_repr(self):
        return f"{tuple(self.params['weight'].shape)}, scheme={self.scheme!r}"


class QATLinear(_QATLayer):
    """Linear with quantized weights in forward and STE gradients into float shadow weights."""

    def __init__(self, layer: Linear, scheme: str = "binary", *, per_channel: bool = True):
        super().__init__()
        if not isinstance(layer, Linear):
            raise TypeError(f"layer must be a Linear; got {type(layer).__name__}")
        self._init(layer, scheme, per_channel)

    def forward(self, x):
        out, self._cache = F.linear_forward(x, self._quantized_weight(), self.params.get("bias"))
        return out

    def backward(self, dout):
        dx, dw, db = F.linear_backward(dout, self._cache)
        self._accumulate(dw, db)
        return dx

    def to_quantized(self) -> CompressedLinear:
        return CompressedLinear(self.encode(), self.params.get("bias"))


class QATConv2d(_QATLayer):
    """Conv2d with quantized weights in forward and STE gradients into float shadow weights."""

    def __init__(self, layer: Conv2d, scheme: str = "binary", *, per_channel: bool = True):
        super().__init__()
        if not isinstance(layer, Conv2d):
            raise TypeError(f"layer must be a Conv2d; got {type(layer).__name__}")
        self._init(layer, scheme, per_channel)
        self.stride, self.padding = layer.stride, layer.padding

    def forward(self, x):
        out, self._cache = F.conv2d_forward(x, self._quantized_weight(), self.params.get("bias"),
                                            self.stride, self.padding)
        return out

    def backward(self, dout):
        dx, dw, db = F.conv2d_backward(dout, self._cache)
        self._accumulate(dw, db)
        return dx

    def to_quantized(self) -> CompressedConv2d:
        return CompressedConv2d(self.encode(), self.params.get("bias"), stride=self.stride,
                                padding=self.padding)


def prepare_qat(model: Module, scheme: str = "binary", *, per_channel: bool = True,
                layer_types: tuple = (Linear, Conv2d)) -> Module:
    """A copy of ``model`` with every Linear/Conv2d wrapped for QAT (shadow weights copied)."""
    check_scheme(scheme)
    check_bool(per_channel, "per_channel")

    def make(layer):
        cls = QATLinear if isinstance(layer, Linear) else QATConv2d
        return cls(layer, scheme, per_channel=per_channel)

    return replace_layers(model, tuple(layer_types), make)


def convert_qat(model: Module) -> Module:
    """A copy of a QAT model with each QAT layer frozen into its CompressedLinear/CompressedConv2d."""
    return replace_layers(model, (QATLinear, QATConv2d), lambda layer: layer.to_quantized())


class ShadowClip:
    """``fit`` hook (BinaryConnect): after each step clip the shadow weights of the binary
    and ternary QAT layers to [-limit, limit] (default 1), so that none leaves the STE
    window for good."""

    def __init__(self, limit: float = STE_LIMIT):
        self.limit = check_float(limit, "limit", low=0.0, low_open=True)

    def after_step(self, model: Module) -> None:
        for _, mod in model.named_modules():
            if isinstance(mod, _QATLayer) and mod.scheme in ("binary", "ternary"):
                np.clip(mod.params["weight"], -self.limit, self.limit, out=mod.params["weight"])
