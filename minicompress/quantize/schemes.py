"""Weight encodings shared by post-training layers and QAT layers: binary, ternary, int8.

Each scheme turns a float weight (C_out, ...) into integer codes, one scale per output
channel (or one per tensor), and a storage size in bits:

=========  =====================================  ===============  ===================
scheme     codes                                  w_hat            stored bits
=========  =====================================  ===============  ===================
binary     sign(w) in {-1, +1}, sign(0) = +1      alpha * codes    1 per weight
ternary    {-1, 0, +1}, |w| > 0.7 mean|w|         alpha * codes    2 per weight
int8       round(w / scale * 127), [-127, 127]    codes*scale/127  8 per weight
=========  =====================================  ===============  ===================

plus 32 bits per float32 scale and a header of 32 bits per dimension of the weight's shape
(``WeightCodes.storage_bits`` is ``formats.size_bits`` of the codes, so the two cannot drift
apart).  The straight-through window used in QAT
(:func:`ste_window`) is ``|w| <= 1`` for binary and ternary (BinaryConnect's hard-tanh
window) and ``|w| <= scale`` for int8 (the clipping range; everything when scale = max|w|).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..formats import size_bits
from .binary import binarize, binary_scale
from .int8 import _channel_view, int8_dequantize, int8_quantize
from .ternary import ternarize

__all__ = ["SCHEMES", "WeightCodes", "encode_weight", "ste_window", "check_scheme", "header_bits",
           "bias_bits"]

SCHEMES = ("binary", "ternary", "int8")

#: BinaryConnect's window: the STE passes the gradient of binary/ternary weights for |w| <= 1.
STE_LIMIT = 1.0


def header_bits(shape) -> int:
    """The shape header of a stored array: 32 bits (an int32) per dimension."""
    return 32 * len(shape)


def bias_bits(bias) -> int:
    """A float32 bias stored as it is (``formats`` "fp32": header + 32 bits per value); 0 if absent."""
    return 0 if bias is None else size_bits(bias, "fp32")


def check_scheme(scheme) -> str:
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}; got {scheme!r}")
    return scheme


@dataclass(frozen=True)
class WeightCodes:
    """An encoded weight: ``codes`` (int8, shape of w), ``scale`` (float or (C_out,))."""

    scheme: str
    codes: np.ndarray
    scale: float | np.ndarray

    def dequantize(self, dtype=np.float32) -> np.ndarray:
        """The weight the layer computes with: alpha * codes, or codes * scale / 127."""
        if self.scheme == "int8":
            return int8_dequantize(self.codes, self.scale, dtype=dtype)
        return (_channel_view(self.scale, self.codes.ndim) * self.codes).astype(dtype)

    def storage_bits(self) -> int:
        """Exact bits: shape header + packed codes (padding included) + 32 per float32 scale,
        as ``formats`` stores them ("binary", "ternary", "int8" or "int8_channel")."""
        per_channel = np.ndim(self.scale) > 0
        if self.scheme == "int8":
            return size_bits(self.codes, "int8_channel" if per_channel else "int8", scale=self.scale)
        return size_bits(self.codes.astype(np.float32), self.scheme, per_channel=per_channel)


def encode_weight(w: np.ndarray, scheme: str, *, per_channel: bool = True) -> WeightCodes:
    """Encode ``w`` (C_out, ...) with ``scheme``; scales per output channel by default.

    binary: alpha = mean|w| (XNOR-Net); ternary: TWN's delta = 0.7 mean|w| and alpha;
    int8: the text's formula with scale = max|w|.  See the module table.
    """
    check_scheme(scheme)
    if scheme == "binary":
        return WeightCodes(scheme, binarize(w).astype(np.int8), binary_scale(w, per_channel=per_channel))
    if scheme == "ternary":
        t, alpha = ternarize(w, per_channel=per_channel)
        return WeightCodes(scheme, t.astype(np.int8), alpha)
    q, scale = int8_quantize(w, per_channel=per_channel)
    return WeightCodes(scheme, q, scale)


def ste_window(w: np.ndarray, scheme: str, scale=None) -> np.ndarray:
    """Boolean mask where the straight-through estimator passes the gradient (closed ends).

    binary, ternary: ``|w| <= 1``;  int8: ``|w| <= scale`` (scale per channel or tensor).
    """
    check_scheme(scheme)
    if scheme == "int8":
        return np.abs(w) <= _channel_view(scale, w.ndim)
    return np.abs(w) <= STE_LIMIT
