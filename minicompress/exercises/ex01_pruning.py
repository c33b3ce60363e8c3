"""Checks for tutorials/exercises/ex01_pruning.py: the magnitude threshold and its mask
(4.1.1), the soft-threshold (proximal L1) step (4.1.2), and the Taylor and OBD saliencies
(3.1.1)."""

from __future__ import annotations

import numpy as np

from ..grading import Check, Mistake
from ..grading.strategies import array_of_shape, arrays, floats, shapes, st
from ..prune import magnitude_mask, magnitude_threshold, obd_saliency, soft_threshold, taylor_saliency


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


def _k(w, sparsity):
    return int(np.floor(sparsity * w.size))


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
]
