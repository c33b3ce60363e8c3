"""Checks for tutorials/exercises/ex02_quantization.py: the text's binarisation (4.2.1),
TWN ternarisation, the text's INT8 formula (4.2.2) with a given scale, the STE backward of
fake quantization, an XNOR-popcount dot product, one GPTQ column update (Frantar et al.
2023) and the LSQ gradient of a learned step (Esser et al. 2020)."""

from __future__ import annotations

import numpy as np

from ..grading import Check, Mistake, difference
from ..grading.strategies import array_of_shape, arrays, floats, hnp, shapes, st
from ..quantize import (
    binarize,
    fake_quantize_forward,
    gptq_column_update,
    int8_quantize,
    ternarize,
    xnor_matmul,
)
from ..quantize.gptq import gptq_hessian_inverse
from ..quantize.learned import lsq_backward, lsq_forward, lsq_grad_scale


def ste_backward(dout, x, scale, zero_point, qmin, qmax):
    """Reference: dout where S (qmin - Z) <= x <= S (qmax - Z) (closed), else 0."""
    return dout * fake_quantize_forward(x, scale, zero_point, qmin, qmax)[1]


def xnor_dot(a_bits, b_bits, k):
    """Reference: k - 2 popcount(a XOR b) for every row pair."""
    return xnor_matmul(a_bits, b_bits, k)


def gptq_update(w, U, j, w_hat_j):
    """Reference: the updated weights of :func:`minicompress.quantize.gptq_column_update`."""
    return gptq_column_update(w, U, j, w_hat_j)[0]


def lsq_gradients(dout, x, s, Qn, Qp):
    """Reference: ``(dx, ds)`` of LSQ with the paper's gradient scale g = 1 / sqrt(x.size Q_p)."""
    _, cache = lsq_forward(x, s, Qn, Qp, lsq_grad_scale(x.size, Qp))
    return lsq_backward(dout, cache)


def _codes(w, scale=None):
    """w / scale * 127 in float64, the value the codes round (scale = max|w|, or 1 if 0)."""
    if scale is None:
        scale = float(np.abs(w).max()) or 1.0
    return np.asarray(w, dtype=np.float64) / scale * 127


def _int8_compare(expected, got, args):
    """(q, scale): int8 codes equal, scales close.  One code of slack only where
    w / scale * 127 is within 1e-9 of a half-integer without being one: there the order of
    the float operations decides, not the rounding rule."""
    d = difference(expected, got, dtype="exact")
    if d is None or d.key != "value" or not d.text.startswith("element 0"):
        return d
    x = _codes(*args)
    frac = np.abs(x) % 1
    near_half = (np.abs(frac - 0.5) < 1e-9) & (frac != 0.5)
    step = np.abs(got[0].astype(np.int64) - expected[0])
    if np.any((step != 0) & ~(near_half & (step == 1))):
        return d
    return difference(expected[1], got[1], where="element 1 of the returned tuple")


@st.composite
def _weights(draw, dtypes=(np.float64,)):
    return (draw(arrays(1, 2, max_side=6, dtypes=dtypes)),)


@st.composite
def _int8_args(draw):
    # 0 or |w| >= 1e-6: the reference stores its scale as a float32 value, which max|w| = 1e-170
    # would underflow (a question of float32, not of the formula)
    element = st.just(0.0) | floats(1e-6, 10.0) | floats(-10.0, -1e-6)
    w = draw(hnp.arrays(np.float64, shapes(1, 2, max_side=6), elements=element))
    if draw(st.booleans()):
        return (w,)
    return w, draw(floats(0.125, 10.0))  # a calibrated scale, often below max|w|: clipping


@st.composite
def _ste_args(draw):
    scale = draw(st.sampled_from([0.25, 0.5, 1.0, 2.0, 0.125]))
    qmin, qmax = draw(st.sampled_from([(-4, 3), (-128, 127), (0, 255), (0, 15)]))
    z = draw(st.integers(qmin, qmax))
    n = draw(st.integers(2, 8))
    # x on a grid of quarter steps: the window's ends and the rounding half-steps are hit,
    # and with scale a power of 2 every way of writing the test computes exactly
    reach = 4 * (qmax - qmin + 2)
    x = np.array(draw(st.lists(st.integers(-reach, reach), min_size=n, max_size=n)), float) * (scale / 4)
    if draw(st.booleans()):
        x[0] = scale * (qmin - z)  # the two ends of the window
    if draw(st.booleans()):
        x[1] = scale * (qmax - z)
    return draw(array_of_shape((n,))), x, scale, z, qmin, qmax


@st.composite
def _xnor_args(draw):
    k = draw(st.integers(1, 40))
    A = draw(hnp.arrays(bool, (draw(st.integers(1, 4)), k)))
    B = draw(hnp.arrays(bool, (draw(st.integers(1, 4)), k)))
    return np.packbits(A, axis=1), np.packbits(B, axis=1), k


@st.composite
def _gptq_args(draw):
    m, k = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    upper = np.triu(draw(array_of_shape((k, k), low=-1.0, high=1.0)), 1)
    U = upper + np.diag(draw(array_of_shape((k,), low=0.25, high=2.0)))  # the factor of some H^-1
    j = draw(st.integers(0, k - 1))
    w = draw(array_of_shape((m, k), low=-5.0, high=5.0))
    return w, U, j, draw(array_of_shape((m,), low=-5.0, high=5.0))


@st.composite
def _lsq_args(draw):
    s = draw(st.sampled_from([0.5, 0.25, 1.0, 2.0, 0.125]))
    Qn, Qp = draw(st.sampled_from([(4, 3), (2, 1), (0, 3), (8, 7), (0, 15), (1, 1)]))
    n = draw(st.integers(2, 8))
    # x on a grid of quarter steps: the clipping ends and the rounding half-steps are hit, and
    # with s a power of 2, x / s is exact whichever way it is written
    quarters = draw(st.lists(st.integers(-4 * (Qn + 2), 4 * (Qp + 2)), min_size=n, max_size=n))
    x = np.array(quarters, float) * (s / 4)
    if draw(st.booleans()):
        x[0] = -Qn * s  # exactly on the two ends
    if draw(st.booleans()):
        x[1] = Qp * s
    return draw(array_of_shape((n,))), x, s, Qn, Qp


def _gptq_wrong(*, divide=lambda d: d, sign=-1.0, full_inverse=False, feedback=True):
    """The update as a mistaken student writes it (column j not reset to w_hat_j)."""
    def wrong(w, U, j, w_hat_j):
        w = np.array(w, dtype=np.float64)
        if not feedback:
            w[:, j] = w_hat_j
            return w
        row = (U.T @ U)[j, j:] if full_inverse else U[j, j:]
        e = (w[:, j] - w_hat_j) / divide(row[0])
        w[:, j:] += sign * np.outer(e, row)
        return w
    return wrong


def _lsq_wrong(*, low=-1.0, high=1.0, closed=False, residual=True, scaled=True):
    def wrong(dout, x, s, Qn, Qp):
        v = x / s
        inside = (v >= -Qn) & (v <= Qp) if closed else (v > -Qn) & (v < Qp)
        inner = np.rint(v) - v if residual else np.rint(v)
        dv_ds = np.where(inside, inner, np.where(v <= -Qn, low * Qn, high * Qp))
        g = 1 / np.sqrt(x.size * Qp) if scaled else 1.0
        return dout * inside, g * float(np.sum(dout * dv_ds))
    return wrong


def _part(f, i):
    return lambda *args: f(*args)[i]


def _twn(w, *, strict=True, alpha_all=False, factor_of_max=False, empty=0.0):
    a = np.abs(w)
    delta = 0.7 * (a.max() if factor_of_max else a.mean())
    keep = a > delta if strict else a >= delta
    t = np.where(keep, np.sign(w), 0).astype(w.dtype)
    alpha = float(a.mean()) if alpha_all else (float(a[keep].mean()) if keep.any() else empty)
    return t, alpha


def _int8_wrong(rounding, low=-127, clip=True):
    def wrong(w, scale=None):
        x = _codes(w, scale)
        q = rounding(x)
        if clip:
            q = np.clip(q, low, 127)
        if scale is None:
            scale = float(np.abs(w).max()) or 1.0
        with np.errstate(all="ignore"):
            return q.astype(np.int8), scale
    return wrong


def _window_ends_only(args, expected, got):
    """The received gradient differs from the expected one only where x is on a window end."""
    dout, x, scale, z, qmin, qmax = args
    if not isinstance(got, np.ndarray) or got.shape != expected.shape:
        return False
    ends = (x == scale * (qmin - z)) | (x == scale * (qmax - z))
    wrong = ~np.isclose(got, expected)
    return bool(wrong.any() and not (wrong & ~ends).any())


_HALF = ("round half to even (np.rint or np.round): 0.5 -> 0, 1.5 -> 2, -2.5 -> -2; the rounding you used "
         "sends halves away from even.")
_FLOAT32 = np.array([1.0, -0.1, 0.2, -2.0], dtype=np.float32)
_U2 = gptq_hessian_inverse(np.array([[2.0, 1.0], [1.0, 2.0]]))  # [[sqrt(2/3), -1/sqrt(6)], [0, 1/sqrt(2)]]
_U3 = gptq_hessian_inverse(np.array([[2.0, 1.0, 1.0], [1.0, 2.0, 1.0], [1.0, 1.0, 2.0]]))
_W3 = np.array([[0.3, 0.2, -0.4], [1.0, -0.6, 0.2]])
_CLIP = ("at the clipping ends x_hat = -Q_n s (below) and Q_p s (above), so dx_hat/ds = -Q_n below and +Q_p "
         "above.")
_X_LSQ = np.array([-3.0, -2.0, -0.3, 0.2, 1.5, 1.6, 0.75])  # tutorial 02's example

CHECKS = [
    Check("binarize", binarize, lambda: _weights(dtypes=(np.float64, np.float32)), dtype="exact",
          hand_cases=((np.array([-0.5, 0.0, 0.3]),), (_FLOAT32,)),
          mistakes=(
              Mistake("sign", "np.sign(0) is 0, which is not binary: the text's rule sends w >= 0 to +1 "
                      "(np.where(w >= 0, 1, -1)).", wrong=np.sign),
              Mistake("gt", "0 goes to +1: use w >= 0, not w > 0.",
                      wrong=lambda w: np.where(w > 0, 1, -1).astype(w.dtype)),
          )),
    Check("ternarize", ternarize, _weights, dtype="exact",
          hand_cases=((np.array([0.7, -1.3]),), (np.array([1.0, -0.1, 0.2, -2.0]),), (_FLOAT32,),
                      (np.zeros(3),)),
          mistakes=(
              Mistake("ge_delta", "a weight exactly at the threshold becomes 0: keep |w| > delta (strict).",
                      wrong=lambda w: _twn(w, strict=False)),
              Mistake("alpha_all", "alpha averages |w| over the kept weights only (|w| > delta), not over "
                      "all.",
                      part=1, wrong=lambda w: float(np.abs(w).mean())),
              Mistake("delta_max", "TWN's threshold is 0.7 * mean(|w|), not 0.7 * max(|w|).",
                      wrong=lambda w: _twn(w, factor_of_max=True)),
              Mistake("empty_mean", "when no weight exceeds delta (an all-zero w), alpha is 0.0: the mean "
                      "of no values is NaN, so test keep.any() first.",
                      part=1, wrong=lambda w: _twn(w, empty=float("nan"))[1]),
          )),
    Check("int8_quantize", int8_quantize, _int8_args, params=("w", "scale"), compare=_int8_compare,
          hand_cases=((np.array([0.5, -1.0, 0.25, 0.0]),), (np.array([127.0, 0.5, 1.5, -2.5]),),
                      (np.zeros(3),), (np.array([1.0, -3.0, 0.5]), 2.0)),
          mistakes=(
              Mistake("half_up", _HALF, wrong=_int8_wrong(lambda x: np.floor(x + 0.5))),
              Mistake("half_away", _HALF, wrong=_int8_wrong(lambda x: np.trunc(x + 0.5 * np.sign(x)))),
              Mistake("truncate", "astype(np.int8) truncates towards 0: round first (np.rint).",
                      wrong=_int8_wrong(np.trunc)),
              Mistake("no_clip", "clip q to [-127, 127] before the cast: with a given scale below max|w|, "
                      "w / scale * 127 leaves the int8 range and astype(np.int8) wraps it around.",
                      wrong=_int8_wrong(np.rint, clip=False)),
              Mistake("clip_128", "the text's range is symmetric: clip to [-127, 127], not [-128, 127].",
                      wrong=_int8_wrong(np.rint, low=-128)),
              Mistake("zero_scale", "an all-zero w has max|w| = 0: use scale = 1.0 there (and q = 0), never "
                      "a division by zero.",
                      when=lambda args, e, g: len(args) == 1 and not np.any(args[0]) and isinstance(g, tuple)
                      and len(g) == 2 and not (np.isfinite(g[1]) and g[1] > 0)),
          )),
    Check("ste_backward", ste_backward, _ste_args,
          hand_cases=((np.ones(5), np.array([-2.5, -2.0, 0.2, 1.5, 1.6]), 0.5, 0, -4, 3),
                      (np.ones(4), np.array([-0.5, 0.0, 7.5, 7.6]), 0.5, 1, 0, 16)),
          mistakes=(
              Mistake("open_window", "the straight-through window includes its ends: pass the gradient "
                      "where S (qmin - Z) <= x <= S (qmax - Z) (<=, not <).", when=_window_ends_only),
              Mistake("no_zero_point", "shift the window by the zero point: "
                      "S (qmin - Z) <= x <= S (qmax - Z).",
                      wrong=lambda d, x, s, z, lo, hi: d * ((x >= s * lo) & (x <= s * hi))),
              Mistake("rounded", "test x itself, not the rounded code: round(x / S) + Z in [qmin, qmax] "
                      "(PyTorch's rule) also passes the gradient half a step beyond each end.",
                      wrong=lambda d, x, s, z, lo, hi: d * ((np.rint(x / s) + z >= lo)
                                                            & (np.rint(x / s) + z <= hi))),
          )),
    Check("xnor_dot", xnor_dot, _xnor_args,
          hand_cases=((np.packbits(np.array([[1, 0, 1]], bool), axis=1),
                       np.packbits(np.array([[1, 1, 1], [0, 1, 0]], bool), axis=1), 3),),
          mistakes=(
              Mistake("no_factor_2", "a . b = (agreements) - (disagreements) = k - 2 popcount(a XOR b).",
                      wrong=lambda a, b, k: (k + xnor_matmul(a, b, k)) // 2),
              Mistake("padded_length", "count k values, not the 8 * ceil(k / 8) bits of the packed rows: the "
                      "padding bits agree (both 0) and must not count.",
                      wrong=lambda a, b, k: xnor_matmul(a, b, k) + 8 * a.shape[1] - k),
          )),
    Check("gptq_column_update", gptq_update, _gptq_args, params=("w", "U", "j", "w_hat_j"),
          hand_cases=((np.array([[0.3, 0.2]]), _U2, 0, np.array([0.5])),
                      (np.array([[0.3, 0.2]]), _U2, 1, np.array([0.0])),
                      (_W3, _U3, 1, np.array([0.0, -0.5]))),
          mistakes=(
              Mistake("no_divide", "scale the error by the pivot first: e = (w_j - w_hat_j) / U_jj, then "
                      "W[:, j:] -= outer(e, U[j, j:]); column j then lands on w_hat_j.",
                      wrong=_gptq_wrong(divide=lambda d: 1.0)),
              Mistake("u_jj_squared", "divide by U_jj once, not by U_jj**2 = [H^-1]_jj: row j of U is "
                      "already divided by sqrt([H^-1]_jj), so e = (w_j - w_hat_j) / U_jj.",
                      wrong=_gptq_wrong(divide=lambda d: d * d)),
              Mistake("no_feedback", "that is round to nearest: the error of column j is fed forward to the "
                      "later columns along ROW j of the upper factor, W[:, j:] -= outer(e, U[j, j:]) "
                      "(its column U[j:, j] is 0 below the diagonal).",
                      wrong=_gptq_wrong(feedback=False)),
              Mistake("sign", "subtract the feedback, W[:, j:] -= outer(e, U[j, j:]): column j must move "
                      "from w_j to w_hat_j, not away from it.", wrong=_gptq_wrong(sign=1.0)),
              Mistake("full_inverse", "U^T U is the inverse Hessian of ALL the columns, right only at j = 0; "
                      "once columns 0..j-1 are fixed, row j of U holds the inverse for the columns still "
                      "free: use U[j, j:] / U_jj, not (U^T U)[j, j:] / (U^T U)_jj.",
                      wrong=_gptq_wrong(full_inverse=True)),
          )),
    Check("lsq_backward", lsq_gradients, _lsq_args, params=("dout", "x", "s", "Qn", "Qp"),
          hand_cases=((np.ones(7), _X_LSQ, 0.5, 4, 3),
                      (np.array([1.0, -2.0, 0.5, 3.0]), np.array([0.0, 0.25, 1.0, 3.0]), 1.0, 0, 3)),
          mistakes=(
              Mistake("no_grad_scale", "multiply the step's gradient by LSQ's gradient scale "
                      "g = 1 / sqrt(N Q_p), N = x.size (Esser et al. 2020, section 2.2).",
                      part=1, wrong=_part(_lsq_wrong(scaled=False), 1)),
              Mistake("clip_sign", _CLIP, part=1, wrong=_part(_lsq_wrong(low=1.0), 1)),
              Mistake("clip_sign", _CLIP, part=1, wrong=_part(_lsq_wrong(low=1.0, high=-1.0), 1)),
              Mistake("closed_window", "a value exactly on an end (v = -Q_n or v = Q_p) counts as clipped: "
                      "dx = 0 there and ds gets -Q_n or Q_p (inside is -Q_n < v < Q_p, strict).",
                      wrong=_lsq_wrong(closed=True)),
              Mistake("round_only", "x_hat = round(v) s depends on s twice, through v = x / s too: inside, "
                      "dx_hat/ds = round(v) + s d(x/s)/ds = round(v) - v (the STE takes round' = 1).",
                      part=1, wrong=_part(_lsq_wrong(residual=False), 1)),
          )),
]
