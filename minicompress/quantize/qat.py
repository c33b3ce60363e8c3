"""Quantization-aware training: QAT layers with float shadow weights, and activation
quantization (:mod:`.actquant`), on fake quantization with the straight-through estimator
(:mod:`.fakequant`: ``fake_quantize_forward`` / ``fake_quantize_backward``).

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
from ..nn._checks import check_bits, check_bool, check_float, check_types
from ..nn.layers import Conv2d, Linear, Module, replace_layers
from .actquant import ACT_METHODS, ActQuant, calibrate_activations, quantize_inputs
from .fakequant import clip_window, fake_quantize_backward, fake_quantize_forward
from .layers import check_scheme, quantized_values, weight_encoding

__all__ = ["fake_quantize_forward", "fake_quantize_backward", "clip_window", "ste_window", "STE_LIMIT",
           "QATLinear", "QATConv2d", "prepare_qat", "convert_qat", "ShadowClip"]

#: BinaryConnect's window: the STE passes the gradient of binary/ternary weights for |w| <= 1.
STE_LIMIT = 1.0


def ste_window(w: np.ndarray, scheme: str, *, per_channel: bool = True) -> np.ndarray:
    """Boolean mask where the straight-through estimator passes the weight gradient (closed ends).

    binary, ternary: ``|w| <= 1`` (BinaryConnect);  int8, int: ``|w| <= scale``, the
    clipping range, scale = max|w| per channel or tensor as the quantizer computes it.
    """
    check_scheme(scheme)
    if scheme in ("int8", "int"):
        return np.abs(w) <= channel_view(symmetric_scale(w, per_channel=per_channel), w.ndim)
    return np.abs(w) <= STE_LIMIT


class _QATLayer(Module):
    """Shared machinery: float shadow weights, quantized in forward, STE in backward."""

    def _init(self, layer, scheme: str, per_channel: bool, bits: int):
        self.scheme, self.bits = check_scheme(scheme, bits), bits
        self.per_channel = check_bool(per_channel, "per_channel")
        self.params = {k: v.copy() for k, v in layer.params.items()}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def encode(self) -> Encoding:
        """The current encoding of the shadow weights (what the layer would deploy)."""
        w = self.params["weight"]
        return weight_encoding(w, self.scheme, per_channel=self.per_channel, bits=self.bits)

    def _quantized_weight(self):
        w = self.params["weight"]
        self._window = ste_window(w, self.scheme, per_channel=self.per_channel)
        return quantized_values(w, self.scheme, per_channel=self.per_channel, bits=self.bits)

    def _accumulate(self, dw, db):
        self.grads["weight"] += dw * self._window  # the STE
        if db is not None:
            self.grads["bias"] += db

    def nonzero_weights(self) -> int:
        """Non-zero quantized weights (a ternary zero is skipped work)."""
        w = self.params["weight"]
        return int(np.count_nonzero(quantized_values(w, self.scheme, per_channel=self.per_channel,
                                                     bits=self.bits)))

    def storage_bits(self) -> int:
        """Bits of the deployed layer (:meth:`to_quantized`); shadow weights exist only
        during training and are not counted."""
        return self.to_quantized().storage_bits()

    def extra_repr(self):
        bits = f", bits={self.bits}" if self.scheme == "int" else ""
        return f"{tuple(self.params['weight'].shape)}, scheme={self.scheme!r}{bits}"


class QATLinear(_QATLayer):
    """Linear with quantized weights in forward and STE gradients into float shadow weights."""

    def __init__(self, layer: Linear, scheme: str = "binary", *, per_channel: bool = True, bits: int = 8):
        super().__init__()
        if not isinstance(layer, Linear):
            raise TypeError(f"layer must be a Linear; got {type(layer).__name__}")
        self._init(layer, scheme, per_channel, bits)

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

    def __init__(self, layer: Conv2d, scheme: str = "binary", *, per_channel: bool = True, bits: int = 8):
        super().__init__()
        if not isinstance(layer, Conv2d):
            raise TypeError(f"layer must be a Conv2d; got {type(layer).__name__}")
        self._init(layer, scheme, per_channel, bits)
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
                layer_types: tuple = (Linear, Conv2d), bits: int = 8, activations: bool = False,
                act_bits: int = 8, act_method: str = "minmax", X_calib=None) -> Module:
    """A copy of ``model`` with every Linear/Conv2d wrapped for QAT (shadow weights copied).

    Parameters
    ----------
    scheme : weight scheme, one of ``SCHEMES`` (``"int"`` at ``bits`` bits: W4 is
        ``scheme="int", bits=4``)
    activations : also quantize every wrapped layer's input: an :class:`~.actquant.ActQuant`
        of ``act_bits`` bits and range method ``act_method`` (a calibration method, ``"lsq"``
        or ``"pact"``) is inserted before it, named ``"<layer>_in"`` (a flat Sequential is
        needed).  W8A8: ``prepare_qat(m, "int8", activations=True)``; W4A4:
        ``prepare_qat(m, "int", bits=4, activations=True, act_bits=4, act_method="lsq")``.
    X_calib : calibration inputs; with ``activations`` the ranges are calibrated on them at
        once (otherwise call :func:`~.actquant.calibrate_activations` before training)
    """
    check_scheme(scheme, bits)
    check_bool(per_channel, "per_channel")
    activations = check_bool(activations, "activations")
    if not activations and X_calib is not None:
        raise ValueError("X_calib calibrates activation ranges; it needs activations=True")
    act_bits = check_bits(act_bits, "act_bits")
    if act_method not in ACT_METHODS:
        raise ValueError(f"act_method must be one of {ACT_METHODS}; got {act_method!r}")

    def make(layer):
        cls = QATLinear if isinstance(layer, Linear) else QATConv2d
        return cls(layer, scheme, per_channel=per_channel, bits=bits)

    model = replace_layers(model, check_types(layer_types), make)
    if activations:
        quantize_inputs(model, lambda: ActQuant(act_bits, act_method), (QATLinear, QATConv2d))
        if X_calib is not None:
            calibrate_activations(model, X_calib)
    return model


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
