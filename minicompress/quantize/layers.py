"""Post-training weight quantization of a whole model: ``quantize_weights``.

Each Linear/Conv2d becomes a :class:`~minicompress.formats.CompressedLinear` /
``CompressedConv2d`` -- the one family of stored-weight layers -- whose weight is encoded
with one of three schemes (see :func:`weight_encoding`)::

    scheme    values                                   storage format         bits per weight
    binary    alpha * sign(w), alpha = mean|w|          "binary"               1
    ternary   alpha * t, t in {-1, 0, +1} (TWN)         "ternary"              2
    int8      q * scale / 127, q = round(w/scale*127)   "int8" / "int8_channel" 8

plus 32 bits per float32 scale, the fp32 bias and the headers: the layer's
``storage_bits()`` is its encodings' size.  These layers are for inference (train with
:mod:`.qat`).
"""

from __future__ import annotations

import numpy as np

from ..formats import Encoding, compress_layer, encode
from ..formats.symmetric import symmetric_round_trip
from ..nn._checks import check_bool
from ..nn.layers import Conv2d, Linear, Module, replace_layers
from .binary import binarize_scaled
from .ternary import ternarize

__all__ = ["SCHEMES", "check_scheme", "quantized_values", "weight_encoding", "quantize_weights"]

SCHEMES = ("binary", "ternary", "int8")


def check_scheme(scheme) -> str:
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}; got {scheme!r}")
    return scheme


def quantized_values(w: np.ndarray, scheme: str, *, per_channel: bool = True) -> np.ndarray:
    """The weight ``w`` (C_out, ...) after ``scheme``, in ``w``'s dtype: what a layer computes with.

    binary: ``alpha sign(w)``, alpha = mean|w| (XNOR-Net); ternary: TWN's ``alpha t`` with
    delta = 0.7 mean|w|; int8: the text's formula with scale = max|w|.  Scales per output
    channel by default.
    """
    check_scheme(scheme)
    per_channel = check_bool(per_channel, "per_channel")
    if scheme == "binary":
        return binarize_scaled(w, per_channel=per_channel)
    if scheme == "ternary":
        t, alpha = ternarize(w, per_channel=per_channel)
        a = np.reshape(alpha, (-1,) + (1,) * (w.ndim - 1)) if np.ndim(alpha) else alpha
        return (a * t).astype(w.dtype)
    return symmetric_round_trip(w, 8, per_channel=per_channel)


def weight_encoding(w: np.ndarray, scheme: str, *, per_channel: bool = True) -> Encoding:
    """``w`` stored with ``scheme``: its storage :class:`~minicompress.formats.Encoding`."""
    check_scheme(scheme)
    if scheme == "int8":
        return encode(w, "int8_channel" if check_bool(per_channel, "per_channel") else "int8")
    return encode(quantized_values(w, scheme, per_channel=per_channel), scheme, per_channel=per_channel)


def quantize_weights(model: Module, scheme: str = "int8", *, per_channel: bool = True,
                     layer_types: tuple = (Linear, Conv2d)) -> Module:
    """Post-training weight quantization: a copy of ``model`` with every Linear/Conv2d
    replaced by a CompressedLinear/CompressedConv2d encoded with ``scheme`` (no retraining)."""
    check_scheme(scheme)
    check_bool(per_channel, "per_channel")

    def make(layer):
        enc = weight_encoding(layer.params["weight"], scheme, per_channel=per_channel)
        return compress_layer(layer, encoding=enc)

    return replace_layers(model, tuple(layer_types), make)
