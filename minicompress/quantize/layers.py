"""Post-training weight quantization of a whole model: ``quantize_weights``.

Each Linear/Conv2d becomes a :class:`~minicompress.formats.CompressedLinear` /
``CompressedConv2d`` -- the one family of stored-weight layers -- whose weight is encoded
with one of three schemes (see :func:`weight_encoding`)::

    scheme    values                                   storage format         bits per weight
    binary    alpha * sign(w), alpha = mean|w|          "binary"               1
    ternary   alpha * t, t in {-1, 0, +1} (TWN)         "ternary"              2
    int8      q * scale / 127, q = round(w/scale*127)   "int8" / "int8_channel" 8
    int       the same at ``bits`` b (qmax = 2**(b-1)-1)  "int"                  b

plus 32 bits per float32 scale, the fp32 bias and the headers: the layer's
``storage_bits()`` is its encodings' size.  These layers are for inference (train with
:mod:`.qat`).
"""

from __future__ import annotations

import numpy as np

from ..formats import Encoding, compress_layer, encode
from ..formats.symmetric import symmetric_round_trip
from ..nn._checks import check_bits, check_bool, check_choice, check_types
from ..nn.layers import Conv2d, Linear, Module, replace_layers
from .binary import binarize_scaled
from .ternary import ternarize

__all__ = ["SCHEMES", "check_scheme", "quantized_values", "weight_encoding", "quantize_weights"]

SCHEMES = ("binary", "ternary", "int8", "int")


def check_scheme(scheme, bits: int = 8) -> str:
    """``scheme`` one of SCHEMES; ``bits`` (2..16) is the width of ``"int"`` and must stay 8
    for the others (nothing is silently ignored)."""
    check_choice(scheme, "scheme", SCHEMES)
    bits = check_bits(bits)
    if scheme != "int" and bits != 8:
        raise ValueError(f"bits={bits} applies to scheme 'int' only; got scheme {scheme!r}")
    return scheme


def quantized_values(w: np.ndarray, scheme: str, *, per_channel: bool = True, bits: int = 8) -> np.ndarray:
    """The weight ``w`` (C_out, ...) after ``scheme``, in ``w``'s dtype: what a layer computes with.

    binary: ``alpha sign(w)``, alpha = mean|w| (XNOR-Net); ternary: TWN's ``alpha t`` with
    delta = 0.7 mean|w|; int8: the text's formula with scale = max|w|; int: the same at
    ``bits``.  Scales per output channel by default.
    """
    check_scheme(scheme, bits)
    per_channel = check_bool(per_channel, "per_channel")
    if scheme == "binary":
        return binarize_scaled(w, per_channel=per_channel)
    if scheme == "ternary":
        t, alpha = ternarize(w, per_channel=per_channel)
        a = np.reshape(alpha, (-1,) + (1,) * (w.ndim - 1)) if np.ndim(alpha) else alpha
        return (a * t).astype(w.dtype)
    return symmetric_round_trip(w, bits, per_channel=per_channel)


def weight_encoding(w: np.ndarray, scheme: str, *, per_channel: bool = True, bits: int = 8) -> Encoding:
    """``w`` stored with ``scheme``: its storage :class:`~minicompress.formats.Encoding`."""
    check_scheme(scheme, bits)
    if scheme == "int":
        return encode(w, "int", bits=bits, per_channel=check_bool(per_channel, "per_channel"))
    if scheme == "int8":
        return encode(w, "int8_channel" if check_bool(per_channel, "per_channel") else "int8")
    return encode(quantized_values(w, scheme, per_channel=per_channel), scheme, per_channel=per_channel)


def quantize_weights(model: Module, scheme: str = "int8", *, per_channel: bool = True,
                     layer_types: tuple = (Linear, Conv2d), bits: int = 8) -> Module:
    """Post-training weight quantization: a copy of ``model`` with every Linear/Conv2d
    replaced by a CompressedLinear/CompressedConv2d encoded with ``scheme`` (no retraining;
    ``bits`` for the ``"int"`` scheme: round to nearest at b bits)."""
    check_scheme(scheme, bits)
    check_bool(per_channel, "per_channel")

    def make(layer):
        enc = weight_encoding(layer.params["weight"], scheme, per_channel=per_channel, bits=bits)
        return compress_layer(layer, encoding=enc)

    return replace_layers(model, check_types(layer_types), make)
