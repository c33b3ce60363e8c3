"""INT8 quantization: the source text's formula (section 3.2.1, formula 4.2.2)::

    q_ij = round(w_ij / scale * 127),   w_hat = q * scale / 127,   scale = max|w| by default

The formula itself, for any b in 2..16 bits (127 becomes ``qmax = 2**(b-1) - 1``), is
:func:`~minicompress.formats.symmetric.symmetric_quantize`: one implementation, kept with the
storage formats because a stored int8 code means nothing without it (the ``"int8"`` format
stores exactly these codes).  Its module docstring states the conventions the text leaves
open: computed in float64 whatever the dtype, the scale rounded to float32 as stored, clipped
to [-qmax, qmax], round half to even, per tensor or per output channel.  Here it is at 8 bits,
under the text's name.
"""

from __future__ import annotations

import numpy as np

from ..formats.symmetric import symmetric_dequantize, symmetric_qmax, symmetric_quantize

__all__ = ["symmetric_qmax", "symmetric_quantize", "symmetric_dequantize",
           "int8_quantize", "int8_dequantize"]


def int8_quantize(w, scale=None, *, per_channel: bool = False):
    """The text's INT8 quantization (formula 4.2.2): ``q = round(w / scale * 127)``.

    Parameters
    ----------
    w : (C_out, ...) array, finite
    scale : > 0, the magnitude mapped to 127; default ``max|w|`` (per channel if asked)
    per_channel : one scale per output channel (axis 0)

    Returns
    -------
    q : int8 array in [-127, 127], shape of ``w``
    scale : float, or (C_out,) float64 array (float32 values, as stored)

    Notes
    -----
    Round half to even (the text does not specify a rounding mode); clipped to
    [-127, 127]; ``max|w|`` maps to +-127; ``q(-w) = -q(w)``; an all-zero tensor gets
    scale 1.0 and q = 0.  Round trip: ``|w - q*scale/127| <= scale/254`` for ``|w| <= scale``.
    """
    return symmetric_quantize(w, 8, scale, per_channel=per_channel)


def int8_dequantize(q, scale, *, dtype=np.float32) -> np.ndarray:
    """``w_hat = q * scale / 127`` (the inverse map of :func:`int8_quantize`, up to rounding)."""
    return symmetric_dequantize(q, scale, 8, dtype=dtype)
