"""Post-training quantized layers: QuantLinear and QuantConv2d, and ``quantize_weights``.

A quantized layer holds its *encoding* (integer codes + scales, see :mod:`.schemes`) and,
as its ``params``, the dequantized float32 weight it computes with (a compute cache with
the float layer's keys, so ``state_dict`` still loads into a float model).  Its size is
the encoding's, from ``storage_bits()``::

    codes (1, 2 or 8 bits each, packed) + 32 bits per scale + 32 bits per float32 bias
    + a 32-bit header per dimension of each stored array (as formats.py counts)

These layers are for inference: they have no gradients (train with :mod:`.qat`).
"""

from __future__ import annotations

import copy

import numpy as np

from ..nn import functional as F
from ..nn.layers import Conv2d, Linear, Module, Sequential
from .schemes import WeightCodes, bias_bits, check_scheme, encode_weight

__all__ = ["QuantLinear", "QuantConv2d", "quantize_weights", "replace_layers",
           "linear_macs", "conv_macs"]


def linear_macs(weight_or_codes: np.ndarray, x_shape) -> tuple[int, int]:
    """(dense, effective) MACs of ``x W^T`` for x of shape (N, in): N*out*in, N*nnz(W)."""
    n = int(x_shape[0])
    return n * int(weight_or_codes.size), n * int(np.count_nonzero(weight_or_codes))


def conv_macs(weight_or_codes: np.ndarray, stride: int, padding: int, x_shape) -> tuple[int, int]:
    """(dense, effective) MACs of a convolution for x of shape (N, C, H, W): per output
    pixel C_out*C*kh*kw (dense) or nnz(W) (effective), times N*H'*W'."""
    _, _, kh, kw = weight_or_codes.shape
    n = int(x_shape[0])
    hw = F.output_size(x_shape[2], kh, stride, padding) * F.output_size(x_shape[3], kw, stride, padding)
    return n * hw * int(weight_or_codes.size), n * hw * int(np.count_nonzero(weight_or_codes))


class QuantLinear(Module):
    """A Linear layer with quantized weights: y = x W_hat^T + b, W_hat from the codes."""

    def __init__(self, codes: WeightCodes, bias: np.ndarray | None = None):
        super().__init__()
        if codes.codes.ndim != 2:
            raise ValueError(f"QuantLinear needs 2-D (out, in) codes; got shape {codes.codes.shape}")
        self.codes = codes
        self.out_features, self.in_features = codes.codes.shape
        self.params["weight"] = codes.dequantize(np.float32)
        if bias is not None:
            self.params["bias"] = np.asarray(bias, np.float32).copy()

    @classmethod
    def from_float(cls, layer: Linear, scheme: str = "int8", *, per_channel: bool = True):
        """Encode a trained Linear's weight with ``scheme`` ("binary", "ternary", "int8")."""
        if not isinstance(layer, Linear):
            raise TypeError(f"layer must be a Linear; got {type(layer).__name__}")
        codes = encode_weight(layer.params["weight"], check_scheme(scheme), per_channel=per_channel)
        return cls(codes, layer.params.get("bias"))

    def forward(self, x):
        out, _ = F.linear_forward(x, self.params["weight"], self.params.get("bias"))
        return out

    def storage_bits(self) -> int:
        return self.codes.storage_bits() + bias_bits(self.params.get("bias"))

    def macs(self, x_shape) -> tuple[int, int]:
        return linear_macs(self.codes.codes, x_shape)

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}, scheme={self.codes.scheme!r}"


class QuantConv2d(Module):
    """A Conv2d with quantized weights (C_out, C_in, kh, kw), computed as in float."""

    def __init__(self, codes: WeightCodes, bias: np.ndarray | None = None, stride: int = 1,
                 padding: int = 0):
        super().__init__()
        if codes.codes.ndim != 4:
            raise ValueError(f"QuantConv2d needs 4-D codes (C_out, C_in, kh, kw); got {codes.codes.shape}")
        self.codes, self.stride, self.padding = codes, stride, padding
        self.params["weight"] = codes.dequantize(np.float32)
        if bias is not None:
            self.params["bias"] = np.asarray(bias, np.float32).copy()

    @classmethod
    def from_float(cls, layer: Conv2d, scheme: str = "int8", *, per_channel: bool = True):
        """Encode a trained Conv2d's weight with ``scheme`` ("binary", "ternary", "int8")."""
        if not isinstance(layer, Conv2d):
            raise TypeError(f"layer must be a Conv2d; got {type(layer).__name__}")
        codes = encode_weight(layer.params["weight"], check_scheme(scheme), per_channel=per_channel)
        return cls(codes, layer.params.get("bias"), layer.stride, layer.padding)

    def forward(self, x):
        out, _ = F.conv2d_forward(x, self.params["weight"], self.params.get("bias"), self.stride,
                                  self.padding)
        return out

    def storage_bits(self) -> int:
        return self.codes.storage_bits() + bias_bits(self.params.get("bias"))

    def macs(self, x_shape) -> tuple[int, int]:
        return conv_macs(self.codes.codes, self.stride, self.padding, x_shape)

    def extra_repr(self):
        return f"{tuple(self.codes.codes.shape)}, scheme={self.codes.scheme!r}"


def replace_layers(model: Module, types: tuple, make) -> Module:
    """A deep copy of ``model`` with every layer of ``types`` replaced by ``make(layer)``.

    Walks nested Sequentials; a bare layer of ``types`` is itself replaced.
    """
    model = copy.deepcopy(model)
    if isinstance(model, types):
        return make(model)
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a Sequential (or a single layer); got {type(model).__name__}")
    for name, mod in list(model.named_modules()):
        if name and isinstance(mod, types):
            model.set_submodule(name, make(mod))
    return model


def quantize_weights(model: Module, scheme: str = "int8", *, per_channel: bool = True,
                     layer_types: tuple = (Linear, Conv2d)) -> Module:
    """Post-training weight quantization: a copy of ``model`` with every Linear/Conv2d
    replaced by a QuantLinear/QuantConv2d encoded with ``scheme`` (no retraining)."""
    check_scheme(scheme)

    def make(layer):
        cls = QuantLinear if isinstance(layer, Linear) else QuantConv2d
        return cls.from_float(layer, scheme, per_channel=per_channel)

    return replace_layers(model, tuple(layer_types), make)
