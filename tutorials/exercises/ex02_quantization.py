"""Exercise 02: quantization by hand (tutorial 02, source text sections 3.2 and 4.2).

Fill in each function, then grade your work with

    python -m minicompress check tutorials/exercises/ex02_quantization.py

The grader imports your file in a separate process and compares each function with the
library's (minicompress.quantize): first on small cases you can check by hand, then on
inputs Hypothesis draws. For a wrong function it shows the failing input (a hand case, or
the smallest input Hypothesis could shrink it to), the expected and the received value, what
differs (value, shape, dtype, an argument changed in place) and, for a known typical
mistake, a hint. NumPy only: a function that calls minicompress (the answer key) is flagged
and fails.
"""

import numpy as np


def binarize(w):
    """The text's binarisation (section 4.2.1): +1 where w >= 0, else -1.

    w: float array of any shape.  Return an array of the same shape and dtype.
    Careful at the kink: 0 goes to +1 (np.sign(0) is 0, which is not binary).
    """
    raise NotImplementedError


def ternarize(w):
    """Ternary Weight Networks (Li & Liu 2016): return (t, alpha).

    delta = 0.7 * mean(|w|);  t = +1 where w > delta, -1 where w < -delta, else 0 (a weight
    exactly at the threshold becomes 0);  t has the shape and dtype of w.
    alpha = mean of |w| over the weights with |w| > delta, as a float (0.0 if there are none).
    """
    raise NotImplementedError


def int8_quantize(w, scale=None):
    """The text's INT8 formula (section 4.2.2): q = round(w / scale * 127).

    w: float array; scale: the magnitude that maps to 127, a float > 0, or None for
    scale = max|w| (an all-zero w has no max|w| to divide by: use scale = 1.0 then, q = 0).
    A scale calibrated on other data can be smaller than max|w|: clip q to [-127, 127].
    Round half to even (np.rint).  Return (q, scale): q an int8 array of w's shape, scale
    the float used.
    Check: w = [1, -3, 0.5] with scale 2.0 gives q = [64, -127, 32] (63.5 rounds to even 64).
    """
    raise NotImplementedError


def ste_backward(dout, x, scale, zero_point, qmin, qmax):
    """Backward of fake quantization with the straight-through estimator.

    The forward pass was out = S (clip(round(x / S) + Z, qmin, qmax) - Z) with S = scale,
    Z = zero_point.  Return dx: dout where S (qmin - Z) <= x <= S (qmax - Z) (both ends
    included), 0 elsewhere.  dout and x have the same shape.
    """
    raise NotImplementedError


def xnor_dot(a_bits, b_bits, k):
    """Dot products of +-1 vectors stored as bits (XNOR-Net).

    a_bits: (M, ceil(k/8)) uint8 and b_bits: (N, ceil(k/8)) uint8, made with
    np.packbits(A >= 0, axis=1) (bit 1 is +1, bit 0 is -1, padding bits are 0).
    Return the (M, N) integer matrix of sign(A) @ sign(B).T, computed without unpacking:
    a . b = k - 2 * popcount(a XOR b).  Hint: np.bitwise_xor, np.bitwise_count (numpy >= 2).
    """
    raise NotImplementedError
