"""Checks for tutorials/exercises/ex02_quantization.py: the text's binarisation (4.2.1),
TWN ternarisation, the text's INT8 formula (4.2.2) with a given scale, the STE backward of
fake quantization and an XNOR-popcount dot product."""

from __future__ import annotations

import numpy as np

from ..grading import Check, Mistake, difference
from ..grading.strategies import array_of_shape, arrays, floats, hnp, st
from ..quantize import binarize, fake_quantize_forward, int8_quantize, ternarize, xnor_matmul


def ste_backward(dout, x, scale, zero_point, qmin, qmax):
    """Reference: dout where S (qmin - Z) <= x <= S (qmax - Z) (closed), else 0."""
    return dout * fake_quantize_forward(x, scale, zero_point, qmin, qmax)[1]


def xnor_dot(a_bits, b_bits, k):
    """Reference: k - 2 popcount(a XOR b) for every row pair."""
    return xnor_matmul(a_bits, b_bits, k)


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
    (w,) = draw(_weights())
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


def _twn(w, *, strict=True, alpha_all=False, factor_of_max=False):
    a = np.abs(w)
    delta = 0.7 * (a.max() if factor_of_max else a.mean())
    keep = a > delta if strict else a >= delta
    t = np.where(keep, np.sign(w), 0).astype(w.dtype)
    alpha = float(a.mean()) if alpha_all else (float(a[keep].mean()) if keep.any() else 0.0)
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
          hand_cases=((np.array([0.7, -1.3]),), (np.array([1.0, -0.1, 0.2, -2.0]),), (_FLOAT32,)),
          mistakes=(
              Mistake("ge_delta", "a weight exactly at the threshold becomes 0: keep |w| > delta (strict).",
                      wrong=lambda w: _twn(w, strict=False)),
              Mistake("alpha_all", "alpha averages |w| over the kept weights only (|w| > delta), not over "
                      "all.",
                      part=1, wrong=lambda w: float(np.abs(w).mean())),
              Mistake("delta_max", "TWN's threshold is 0.7 * mean(|w|), not 0.7 * max(|w|).",
                      wrong=lambda w: _twn(w, factor_of_max=True)),
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
]
