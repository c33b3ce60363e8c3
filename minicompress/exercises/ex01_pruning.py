"""Checks for tutorials/exercises/ex01_pruning.py: the magnitude threshold and its mask
(4.1.1), the soft-threshold (proximal L1) step (4.1.2), the Taylor and OBD saliencies
(3.1.1), one Optimal Brain Surgeon update (3.1.1 "based on the Hessian") and an N:M mask
(tutorial 01, "Beyond one-shot magnitude")."""

from __future__ import annotations

import numpy as np

from ..grading import Check, Mistake
from ..grading.strategies import array_of_shape, arrays, floats, hnp, shapes, st
from ..prune import (
    magnitude_mask,
    magnitude_threshold,
    nm_mask,
    obd_saliency,
    obs_update,
    soft_threshold,
    taylor_saliency,
)
from ..prune.nm import nm_mask_from_scores


def obs_step(w, H_inv, q):
    """Reference: ``(w_new, L_q)`` of :func:`minicompress.prune.obs_update` (its updated
    inverse Hessian is not asked for)."""
    w_new, _, increase = obs_update(w, H_inv, q)
    return w_new, increase


@st.composite
def _pruning_args(draw):
    w = draw(arrays(1, 2, max_side=6))
    k = draw(st.integers(0, w.size - 1))
    # k / n nudged up, so that floor(sparsity * n) = k without any round-off question
    return w, (k + 0.25) / w.size


@st.composite
def _soft_args(draw):
    w = draw(arrays(1, 2, max_side=6, low=-5, high=5))
    t = draw(floats(0.0, 3.0))
    if draw(st.booleans()):  # the kink: |w| == t goes to 0
        w.flat[0] = t if draw(st.booleans()) else -t
    return w, t


@st.composite
def _pair(draw, low=-10.0):
    shape = draw(shapes(1, 2, max_side=5))
    return draw(array_of_shape(shape)), draw(array_of_shape(shape, low=low))


@st.composite
def _obs_args(draw):
    d = draw(st.integers(1, 4))
    A = draw(array_of_shape((d, d), low=-1.0, high=1.0))
    B = A @ A.T + draw(floats(0.25, 2.0)) * np.eye(d)  # symmetric positive definite, well conditioned
    return draw(array_of_shape((d,), low=-5.0, high=5.0)), (B + B.T) / 2, draw(st.integers(0, d - 1))


#: magnitudes that tie often (and 0), or any float
_TIED = st.sampled_from([0.0, 0.5, -0.5, 1.0, -1.0, 2.0]) | floats(-10.0, 10.0)


@st.composite
def _nm_args(draw):
    m = draw(st.integers(1, 4))
    n = draw(st.integers(1, m))
    rows = draw(st.sampled_from([None, m, 1, 2, 3]))  # None: a 1-D w, one row; m rows: square groups
    length = m * draw(st.integers(1, 3))
    shape = (length,) if rows is None else (rows, length)
    return draw(hnp.arrays(np.float64, shape, elements=_TIED)), n, m


def _obs_wrong(*, invert=False, correct=True, zero_q=True, half=True):
    def wrong(w, H_inv, q):
        Hi = np.linalg.inv(H_inv) if invert else H_inv
        x = np.array(w, dtype=np.float64)
        increase = x[q] ** 2 / ((2 if half else 1) * Hi[q, q])
        if correct:
            x = x - (x[q] / Hi[q, q]) * Hi[:, q]
        x[q] = 0.0 if zero_q else w[q]
        return x, float(increase)
    return wrong


def _groups(w, m):
    """w as (rows, groups, m), the stub's grouping: along the last axis of each row."""
    rows = 1 if w.ndim == 1 else w.shape[0]
    return np.abs(w).reshape(rows, -1, m)


def _nm_threshold(w, n, m, *, strict):
    g = _groups(w, m)
    nth = -np.sort(-g, axis=-1)[..., n - 1:n]  # the n-th largest |w| of each group
    return (g > nth if strict else g >= nth).reshape(w.shape)


def _nm_later_ties(w, n, m):
    g = _groups(w, m)
    order = np.argsort(g, axis=-1, kind="stable")[..., m - n:]  # of equal |w|, the later is kept
    mask = np.zeros(g.shape, bool)
    np.put_along_axis(mask, order, True, axis=-1)
    return mask.reshape(w.shape)


def _nm_columns(w, n, m):
    if w.ndim != 2:
        raise ValueError("a 1-D w has one axis")
    return nm_mask(w.T.copy(), n, m).T


def _k(w, sparsity):
    return int(np.floor(sparsity * w.size))


#: the inverse of H = [[2, 1, 0], [1, 2, 1], [0, 1, 2]]
_H_INV = np.array([[3.0, -2.0, 1.0], [-2.0, 4.0, -2.0], [1.0, -2.0, 3.0]]) / 4
_W_OBS = np.array([0.75, 1.0, 0.5])
_W_NM = np.array([[0.1, -0.5, 0.3, 0.2, 0.9, 0.0, -0.9, 0.4],
                  [1.0, 3.0, 3.0, -3.0, 2.0, 2.0, 2.0, 2.0]])
_W_44 = _W_NM.reshape(4, 4)  # square: grouping down the columns gives other groups
_W = np.array([0.5, -0.1, 0.3, -0.9, 0.2, 0.7, -0.4, 0.8, 0.6, -1.0])
_TIES = np.array([1.0, -1.0, 1.0, 1.0, 2.0, 3.0])
_KTH = Mistake("kthvalue", "torch.kthvalue counts from 1, so the text's kthvalue(|w|, k) is sort(|w|)[k - 1] "
               "and prunes one weight too few; count from 0: sort(|w|)[k], k = floor(sparsity * n).",
               wrong=lambda w, s: float(np.sort(np.abs(w).ravel())[_k(w, s) - 1]))

CHECKS = [
    Check("magnitude_threshold", magnitude_threshold, _pruning_args,
          hand_cases=((_W, 0.5), (_W, 0.0), (_TIES, 0.5)),
          mistakes=(
              _KTH,
              Mistake("no_abs", "rank the weights by magnitude |w| (np.abs), not by value: a large negative "
                      "weight matters as much as a large positive one.",
                      wrong=lambda w, s: float(np.sort(w.ravel())[_k(w, s)])),
          )),
    Check("magnitude_mask", magnitude_mask, _pruning_args,
          hand_cases=((_W, 0.5), (_W, 0.0), (_TIES, 0.5)),
          mistakes=(
              Mistake("le", "a mask with <= instead of <: only |w| < threshold is pruned, so keep "
                      "|w| >= threshold; ties at the threshold survive.",
                      wrong=lambda w, s: np.abs(w) > magnitude_threshold(w, s)),
              Mistake("no_abs", "compare the magnitude |w| with the threshold, not w itself: negative "
                      "weights are not all small.",
                      wrong=lambda w, s: w >= magnitude_threshold(w, s)),
              Mistake("kthvalue", _KTH.hint,
                      wrong=lambda w, s: np.abs(w) >= _KTH.wrong(w, s)),
          )),
    Check("soft_threshold", soft_threshold, _soft_args,
          hand_cases=((np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0]), 1.0),),
          mistakes=(
              Mistake("no_sign", "shrink towards 0 from both sides: sign(w) * max(|w| - t, 0). "
                      "max(w - t, 0) sends every negative weight to 0.",
                      wrong=lambda w, t: np.maximum(w - t, 0)),
              Mistake("no_max", "a weight with |w| <= t becomes exactly 0; it does not cross to the other "
                      "side: take max(|w| - t, 0) before putting the sign back.",
                      wrong=lambda w, t: np.sign(w) * (np.abs(w) - t)),
              Mistake("hard", "that is hard thresholding (survivors unchanged); the proximal step of t|x| "
                      "also moves every survivor t towards 0.",
                      wrong=lambda w, t: w * (np.abs(w) > t)),
          )),
    Check("taylor_saliency", taylor_saliency, _pair, params=("w", "g"),
          hand_cases=((np.array([1.0, -2.0, 0.5]), np.array([-3.0, -1.0, 0.0])),),
          mistakes=(
              Mistake("no_abs", "the saliency is the size of the first-order loss change, |w * g|: a "
                      "negative product is as salient as a positive one.",
                      wrong=lambda w, g: w * g),
              Mistake("gradient_only", "the first-order change of removing w_k is -g_k * w_k: multiply the "
                      "gradient by the weight, |w_k g_k|.",
                      wrong=lambda w, g: np.abs(g)),
          )),
    Check("obd_saliency", obd_saliency, lambda: _pair(low=0.0), params=("w", "h_diag"),
          hand_cases=((np.array([1.0, -2.0, 0.5]), np.array([4.0, 1.0, 8.0])),),
          mistakes=(
              Mistake("no_half", "the second-order term of the Taylor expansion carries 1/2: "
                      "s_k = h_kk * w_k**2 / 2.",
                      wrong=lambda w, h: h * w * w),
              Mistake("abs_w", "OBD is second order: w_k squared, s_k = h_kk * w_k**2 / 2, not |w_k|.",
                      wrong=lambda w, h: 0.5 * h * np.abs(w)),
          )),
    Check("obs_update", obs_step, _obs_args, params=("w", "H_inv", "q"),
          hand_cases=((_W_OBS, _H_INV, 0), (_W_OBS, _H_INV, 1),
                      (np.array([2.0, -1.0]), np.diag([0.5, 2.0]), 0)),
          mistakes=(
              Mistake("keep_wq", "the removed weight itself ends at exactly 0: w_q + dw_q = 0. Update every "
                      "weight, w_q included (or set w_q = 0 after the update).",
                      part=0, wrong=lambda w, Hi, q: _obs_wrong(zero_q=False)(w, Hi, q)[0]),
              Mistake("no_correction", "that is pruning without the surgeon: OBS also moves the other "
                      "weights, w <- w - (w_q / [H^-1]_qq) H^-1 e_q (column q of H^-1).",
                      part=0, wrong=lambda w, Hi, q: _obs_wrong(correct=False)(w, Hi, q)[0]),
              Mistake("inverted", "H_inv is already the inverse Hessian: use it as it is, [H^-1]_qq and its "
                      "column q; inverting it gives H, which is OBD's matrix, not OBS's.",
                      wrong=_obs_wrong(invert=True)),
              Mistake("no_half", "the loss increase carries the 1/2 of the quadratic model: "
                      "L_q = w_q**2 / (2 [H^-1]_qq).",
                      part=1, wrong=lambda w, Hi, q: _obs_wrong(half=False)(w, Hi, q)[1]),
          )),
    Check("nm_mask", nm_mask, _nm_args, params=("w", "n", "m"),
          hand_cases=((_W_NM[0], 2, 4), (np.array([1.0, 3.0, 3.0, 3.0]), 2, 4), (_W_44, 2, 4),
                      (_W_NM, 1, 2), (np.ones((4, 4)), 3, 4)),
          mistakes=(
              Mistake("ties_kept", "keep exactly n per group: a threshold (|w| >= the n-th largest) keeps "
                      "every tie. Of equal |w|, keep the earlier: np.argsort(-|g|, kind='stable')[..., :n].",
                      wrong=lambda w, n, m: _nm_threshold(w, n, m, strict=False)),
              Mistake("strict", "|w| > the n-th largest keeps fewer than n (the n-th itself is dropped): "
                      "keep exactly n per group, the earlier of equal |w|.",
                      wrong=lambda w, n, m: _nm_threshold(w, n, m, strict=True)),
              Mistake("ties_later", "of equal |w|, the EARLIER one is kept: np.argsort(np.abs(g))[..., -n:] "
                      "keeps the later one; sort -|w| with kind='stable' and take the first n.",
                      wrong=_nm_later_ties),
              Mistake("wrong_axis", "the groups run along each row (the input axis, the last one): "
                      "w.reshape(rows, -1, m), not down the columns.", wrong=_nm_columns),
              Mistake("no_abs", "keep the n largest MAGNITUDES |w|: a large negative weight matters as much "
                      "as a large positive one.",
                      wrong=lambda w, n, m: nm_mask_from_scores(w, n, m)),
          )),
]
