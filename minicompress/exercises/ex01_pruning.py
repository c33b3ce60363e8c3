"""Checks for tutorials/exercises/ex01_pruning.py: the magnitude threshold, its mask and the
soft-threshold (proximal L1) step."""

from __future__ import annotations

import numpy as np

from ..grading import Check
from ..prune import magnitude_mask, magnitude_threshold, soft_threshold


def _mask_compare(expected, got) -> bool:
    got = np.asarray(got)
    return got.shape == expected.shape and got.dtype == bool and bool(np.array_equal(expected, got))


def _pruning_args():
    from hypothesis import strategies as st

    @st.composite
    def draw(draw):
        n = draw(st.integers(1, 30))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        w = rng.standard_normal(n) if draw(st.booleans()) else rng.standard_normal((n, 2))
        if draw(st.booleans()):  # ties, including at the threshold
            w = np.round(w, 1)
        k = draw(st.integers(0, w.size - 1))
        # k / n nudged up, so that floor(sparsity * n) = k without any round-off question
        return w, (k + 0.25) / w.size

    return draw()


def _soft_args():
    from hypothesis import strategies as st

    @st.composite
    def draw(draw):
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        w = rng.standard_normal(draw(st.integers(1, 12)))
        t = draw(st.sampled_from([0.0, 0.5, 1.0])) if draw(st.booleans()) else draw(st.floats(0.0, 3.0))
        if draw(st.booleans()):
            w[0] = t  # the kink: |w| == t goes to 0
        return w, t

    return draw()


_W = np.array([0.5, -0.1, 0.3, -0.9, 0.2, 0.7, -0.4, 0.8, 0.6, -1.0])
_TIES = np.array([1.0, -1.0, 1.0, 1.0, 2.0, 3.0])

CHECKS = [
    Check("magnitude_threshold", magnitude_threshold, _pruning_args,
          hand_cases=((_W, 0.5), (_W, 0.0), (_TIES, 0.5))),
    Check("magnitude_mask", magnitude_mask, _pruning_args, compare=_mask_compare,
          hand_cases=((_W, 0.5), (_W, 0.0), (_TIES, 0.5))),
    Check("soft_threshold", soft_threshold, _soft_args,
          hand_cases=((np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0]), 1.0),)),
]
