"""Dense integer codes: ``int`` (b-bit, formula 4.2.2), its 8-bit presets ``int8`` and
``int8_channel``, and the 1- and 2-bit formats ``binary`` and ``ternary``.

=============  =================================================  ============================
name           stored (n = w.size, c = scales: 1, or C_out)       decodes to
=============  =================================================  ============================
int            header(shape, bits) + 8*ceil(n*b/8) + 32c          q * scale / qmax  (b bits)
int8           the same at b = 8, one scale                       q * scale / 127
int8_channel   the same at b = 8, one scale per output channel    q * scale_c / 127
binary         header(shape) + 8*ceil(n/8) + 32c                  +-alpha (bit 1 = +alpha)
ternary        header(shape) + 8*ceil(2n/8) + 32c                 {-alpha, 0, +alpha}
=============  =================================================  ============================

``int*`` take float weights, quantized here by :func:`~.symmetric.symmetric_quantize`, or
integer codes already quantized with their ``scale``.  ``binary`` and ``ternary`` store
arrays that already are binary / ternary (``quantize.binarize_scaled``, ``quantize.ternarize``
make them): per tensor, or with ``per_channel=True`` one alpha per output channel.  Packed
bits are whole bytes and the padding is counted (:mod:`.packing`).
"""

from __future__ import annotations

import math

import numpy as np

from ..nn._checks import check_bits, check_bool, check_codes
from .encoding import Format, channels, header, register
from .packing import pack_codes, pack_signs, packed_bytes, unpack_codes
from .symmetric import (
    channel_view,
    stored_scale,
    symmetric_dequantize,
    symmetric_qmax,
    symmetric_quantize,
)

__all__ = ["encode_int", "decode_int", "int_codes", "codes_and_scale"]


def codes_and_scale(w, bits: int, scale, per_channel: bool):
    """Codes and float32 scales of ``w``: quantized here (float ``w``), or taken as they are
    (integer codes, which then need their ``scale``)."""
    per_channel = check_bool(per_channel, "per_channel")
    qmax = symmetric_qmax(bits)
    if w.dtype.kind in "iu":
        if scale is None:
            raise ValueError(f"integer codes need their scale: encode(q, 'int', bits={bits}, scale=s)")
        return check_codes(w, "codes", -qmax, qmax), stored_scale(scale, w.shape, per_channel=per_channel)
    if w.dtype.kind != "f":
        raise TypeError(f"int formats take float weights or integer codes; got dtype {w.dtype}")
    return symmetric_quantize(w, bits, scale, per_channel=per_channel)


def encode_int(w, bits: int = 8, *, scale=None, per_channel: bool = False) -> dict:
    """b-bit symmetric codes of ``w`` (C_out first) and their float32 scale(s)."""
    bits = check_bits(bits)
    q, scale = codes_and_scale(w, bits, scale, per_channel)
    return {"header": header(w.shape, bits), "codes": pack_codes(q, bits),
            "scale": np.atleast_1d(np.asarray(scale, dtype=np.float32))}


def _scale_of(arrays, shape):
    s = arrays["scale"].astype(np.float64)
    return float(s[0]) if s.size == 1 else s


def int_codes(arrays, shape) -> np.ndarray:
    """The integer codes an ``int`` encoding holds, in the weight's shape."""
    bits = int(arrays["header"][-1])
    n = int(np.prod(shape, dtype=np.int64))
    return unpack_codes(arrays["codes"], bits, n).reshape(shape)


def decode_int(arrays, shape) -> np.ndarray:
    """float32 ``q * scale / qmax`` (:func:`~.symmetric.symmetric_dequantize`)."""
    bits = int(arrays["header"][-1])
    return symmetric_dequantize(int_codes(arrays, shape), _scale_of(arrays, shape), bits)


_U8, _F32 = (np.dtype(np.uint8),), (np.dtype(np.float32),)


def _scales(shape):
    """Expected scale part: float32, one per tensor or one per output channel."""
    return _F32, (1, channels(shape))


def _int_parts(fixed_bits=None):
    """Expected parts of an ``int*`` encoding: ceil(n b / 8) code bytes and the scale(s)."""
    def expected(shape, fields):
        bits = check_bits(fields["bits"], "the header field bits")
        if fixed_bits is not None and bits != fixed_bits:
            raise ValueError(f"the header field bits must be {fixed_bits} for this format; got {bits}")
        return {"codes": (_U8, packed_bytes(math.prod(shape), bits)), "scale": _scales(shape)}

    return expected


def _sign_parts(bits_per_weight: int):
    """Expected parts of ``binary`` (1 bit a weight) and ``ternary`` (2 bits)."""
    def expected(shape, fields):
        return {"bits": (_U8, packed_bytes(math.prod(shape), bits_per_weight)), "scale": _scales(shape)}

    return expected


def _int8(per_channel_default: bool):
    def enc(w, *, scale=None, per_channel=per_channel_default):
        return encode_int(w, 8, scale=scale, per_channel=per_channel)

    return enc


# ----------------------------------------------------------------------------- 1 and 2 bits
def _magnitudes(w, per_channel, fmt, allowed_zero: bool):
    """alpha per tensor (or per output channel) for arrays whose non-zeros share one magnitude."""
    per_channel = check_bool(per_channel, "per_channel")
    if w.dtype.kind != "f":
        raise TypeError(f"{fmt} format takes a float array; got dtype {w.dtype}")
    W = np.abs(w.reshape(w.shape[0], -1) if per_channel and w.ndim else w.reshape(1, -1))
    alpha = W.max(axis=1, keepdims=True)
    if not np.all((W == alpha) | ((W == 0) & allowed_zero)):
        values = "{-alpha, 0, +alpha}" if allowed_zero else "{-alpha, +alpha}"
        hint = "" if per_channel else " (or one per output channel: per_channel=True)"
        raise ValueError(
            f"{fmt} format stores arrays with values in {values}, one alpha per tensor{hint}; "
            f"got {len(np.unique(W))} distinct magnitudes. Quantize the weights first"
        )
    return alpha.astype(np.float32).ravel()


def _binary_enc(w, *, per_channel=False):
    """1 bit per weight: 1 for w >= 0 (sign(0) = +1, section 4.2.1), 0 for w < 0."""
    alpha = _magnitudes(w, per_channel, "binary", allowed_zero=False)
    return {"header": header(w.shape), "bits": pack_signs(w.ravel()), "scale": alpha}


def _times_alpha(t, scale):
    """float32 ``t * alpha``, alpha per tensor or per output channel (alpha >= 0)."""
    if (scale < 0).any():
        raise ValueError(f"the scale (alpha) of a binary / ternary encoding must be >= 0; got {scale.min()}")
    return t * (channel_view(scale, t.ndim) if scale.size > 1 else scale[0])


def _binary_dec(a, shape):
    n = int(np.prod(shape, dtype=np.int64))
    sign = np.where(np.unpackbits(a["bits"], count=n) == 1, np.float32(1), np.float32(-1))
    return _times_alpha(sign.reshape(shape), a["scale"])


def _ternary_enc(w, *, per_channel=False):
    """2 bits per weight, two's complement (:func:`.packing.pack_codes`): 00 = 0, 01 = +1, 11 = -1."""
    alpha = _magnitudes(w, per_channel, "ternary", allowed_zero=True)
    t = np.sign(w).astype(np.int8)
    return {"header": header(w.shape), "bits": pack_codes(t, 2), "scale": alpha}


def _ternary_dec(a, shape):
    n = int(np.prod(shape, dtype=np.int64))
    t = unpack_codes(a["bits"], 2, n).reshape(shape).astype(np.float32)
    if (t == -2).any():
        raise ValueError("ternary bits hold the unused code 10; the encoding is corrupt")
    return _times_alpha(t, a["scale"])


register("int", Format(encode_int, decode_int, lossless=False, extra=("bits",), parts=("codes", "scale"),
                       expected_parts=_int_parts()))
register("int8", Format(_int8(False), decode_int, lossless=False, extra=("bits",), parts=("codes", "scale"),
                        expected_parts=_int_parts(8)))
register("int8_channel", Format(_int8(True), decode_int, lossless=False, extra=("bits",),
                                parts=("codes", "scale"), expected_parts=_int_parts(8)))
register("binary", Format(_binary_enc, _binary_dec, lossless=True, parts=("bits", "scale"),
                          expected_parts=_sign_parts(1)))
register("ternary", Format(_ternary_enc, _ternary_dec, lossless=True, parts=("bits", "scale"),
                           expected_parts=_sign_parts(2)))
