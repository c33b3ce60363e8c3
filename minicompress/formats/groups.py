"""Group-wise b-bit codes, format ``int_group``: one scale per output row *and* per group of
``g`` consecutive input columns (GPTQ's ``group_size``, Frantar et al. 2023, section 4).

In the 2-D view (m, k) of the weight (:func:`~.encoding.matrix_view`: a Conv2d weight is
(C_out, C_in*kh*kw)), row i and group j = columns ``[j g, (j + 1) g)`` share one scale::

    q_ij = clip(round(w_ij / s_(i, j//g) * qmax), -qmax, qmax)        (formula 4.2.2 per group)
    w_hat_ij = q_ij * s_(i, j//g) / qmax

which is :func:`~.symmetric.symmetric_quantize` applied per channel to the (m * k/g, g)
matrix of groups (:func:`group_view`): the one quantizer, with more channels.

=============  ==================================================================
stored         header(shape, bits, g) + 8*ceil(n*b/8) codes + 32 * m * k/g scales
=============  ==================================================================

``g`` must divide k.  ``g = k`` is the per-channel ``int`` format with a larger header.
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import check_bits, check_codes, check_int
from .encoding import Format, header, matrix_view, register
from .packing import pack_codes, packed_bytes, unpack_codes
from .symmetric import stored_scale, symmetric_dequantize, symmetric_qmax, symmetric_quantize, symmetric_scale

__all__ = ["check_group_size", "group_view", "group_scales", "encode_int_group", "decode_int_group"]


def check_group_size(group_size, k: int) -> int:
    """``group_size`` as an int >= 1 that divides the k input columns of the 2-D view."""
    g = check_int(group_size, "group_size", low=1)
    if k % g:
        divisors = [d for d in range(1, min(k, 4096) + 1) if k % d == 0]
        more = " ..." if len(divisors) > 12 else ""
        raise ValueError(f"group_size must divide the {k} input columns of the weight's (out, in) "
                         f"view; got {g}. Divisors of {k}: {divisors[:12]}{more}")
    return g


def group_view(w: np.ndarray, group_size: int) -> np.ndarray:
    """The (m * k/g, g) matrix whose rows are the groups, row-major: row ``i * (k/g) + j`` is
    group j of output row i.  A view of ``w`` when it is contiguous."""
    m, k = matrix_view(w.shape)
    g = check_group_size(group_size, k)
    return w.reshape(m * (k // g), g)


def group_scales(w: np.ndarray, group_size: int) -> np.ndarray:
    """The default scales: ``max|w|`` of every group (1.0 for an all-zero group), float32
    values, shape (m, k/g)."""
    m, k = matrix_view(w.shape)
    return symmetric_scale(group_view(w, group_size), per_channel=True).reshape(m, k // group_size)


def encode_int_group(w, bits: int = 4, *, group_size: int, scale=None) -> dict:
    """b-bit codes of ``w`` with one float32 scale per (row, group).

    ``w`` float: quantized here (``scale`` defaults to :func:`group_scales`); ``w`` integer
    codes: stored as they are, with their (m, k/g) ``scale``.
    """
    bits = check_bits(bits)
    m, k = matrix_view(w.shape)
    g = check_group_size(group_size, k)
    rows = w.reshape(m * (k // g), g)
    qmax = symmetric_qmax(bits)
    if scale is not None:
        scale = np.asarray(scale)
        if scale.shape != (m, k // g):
            raise ValueError(f"scale must hold one value per (row, group), shape ({m}, {k // g}); "
                             f"got {scale.shape}")
        scale = scale.reshape(-1)
    if w.dtype.kind in "iu":
        if scale is None:
            raise ValueError("integer codes need their scale: "
                             "encode(q, 'int_group', bits=b, group_size=g, scale=s)")
        q = check_codes(rows, "codes", -qmax, qmax)
        s = stored_scale(scale, rows.shape, per_channel=True)
    elif w.dtype.kind == "f":
        q, s = symmetric_quantize(rows, bits, scale, per_channel=True)
    else:
        raise TypeError(f"int_group takes float weights or integer codes; got dtype {w.dtype}")
    return {"header": header(w.shape, bits, g), "codes": pack_codes(q, bits),
            "scale": np.asarray(s, dtype=np.float32)}


def decode_int_group(arrays, shape) -> np.ndarray:
    """float32 ``q * s_group / qmax`` in the weight's shape."""
    bits, g = (int(v) for v in arrays["header"][-2:])
    m, k = matrix_view(shape)
    q = unpack_codes(arrays["codes"], bits, m * k).reshape(m * (k // g), g)
    scale = arrays["scale"].astype(np.float64)
    return symmetric_dequantize(q, scale, bits).reshape(shape)


def _int_group_parts(shape, fields):
    """Expected parts: ceil(n b / 8) code bytes and one float32 scale per (row, group)."""
    bits = check_bits(fields["bits"], "the header field bits")
    m, k = matrix_view(shape)
    g = check_group_size(fields["group_size"], k)
    return {"codes": ((np.dtype(np.uint8),), packed_bytes(m * k, bits)),
            "scale": ((np.dtype(np.float32),), m * (k // g))}


register("int_group", Format(encode_int_group, decode_int_group, lossless=False, extra=("bits", "group_size"),
                             parts=("codes", "scale"), expected_parts=_int_group_parts))
