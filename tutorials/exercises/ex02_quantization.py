"""Exercise 02: quantization by hand (tutorial 02, source text sections 3.2 and 4.2), up to
one GPTQ column update and the gradient of a learned step (LSQ).

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


def gptq_column_update(w, U, j, w_hat_j):
    """One GPTQ step (Frantar et al. 2023, Algorithm 1): column j goes to the grid and its
    rounding error is fed forward to the columns not yet quantized.

    w: (m, k) float weights as they are now (columns 0..j-1 already quantized);
    U: (k, k) upper triangular, the upper Cholesky factor of the INVERSE Hessian,
       U^T U = H^-1 with H = 2 X^T X / N (given; row j of U is the inverse Hessian of the
       columns j..k-1 still free, divided by the square root of its diagonal entry);
    j: the column being quantized;  w_hat_j: (m,) its values on the grid.

        e = (w[:, j] - w_hat_j) / U[j, j]                (m,)  the scaled error
        w_new[:, j:] = w[:, j:] - outer(e, U[j, j:])           the later columns absorb it

    Column j then equals w_hat_j (to round-off) and the columns before j do not change.
    Return w_new, a new (m, k) float array (do not change w in place).
    Check: H = [[2, 1], [1, 2]] gives H^-1 = [[2, -1], [-1, 2]] / 3 and
    U = [[sqrt(2/3), -1/sqrt(6)], [0, 1/sqrt(2)]];  w = [[0.3, 0.2]], j = 0, w_hat_0 = [0.5]
    gives [[0.5, 0.1]]  (e = -0.2 / sqrt(2/3); 0.2 - e * (-1/sqrt(6)) = 0.2 - 0.1).
    """
    raise NotImplementedError


def lsq_backward(dout, x, s, Qn, Qp):
    """Gradients of LSQ, a quantizer with a learned step s (Esser et al. 2020).

    Forward: v = x / s,  x_hat = round(clip(v, -Qn, Qp)) * s  (integer codes -Qn..Qp, e.g.
    Qn = 4, Qp = 3 for 3-bit signed), with the straight-through estimator for round:

        dx_hat/dx = 1 where -Qn < v < Qp (strict: a value exactly on an end is clipped), else 0
        dx_hat/ds = round(v) - v   where -Qn < v < Qp   (round half to even: np.rint)
                  = -Qn            where v <= -Qn
                  = Qp             where v >= Qp

    dout, x: arrays of one shape (N = x.size values share the step); s > 0; Qn >= 0, Qp >= 1
    ints.  Return (dx, ds): dx = dout * dx_hat/dx, an array of x's shape, and the float
    ds = g * sum(dout * dx_hat/ds) with LSQ's gradient scale g = 1 / sqrt(N * Qp).
    Check (tutorial 02): x = [-3, -2, -0.3, 0.2, 1.5, 1.6, 0.75], s = 0.5, Qn = 4, Qp = 3,
    dout = ones: dx = [0, 0, 1, 1, 0, 0, 1]; the sum is -4 - 4 - 0.4 - 0.4 + 3 + 3 + 0.5 = -2.3,
    so ds = -2.3 / sqrt(7 * 3) = -0.50190.
    """
    raise NotImplementedError
