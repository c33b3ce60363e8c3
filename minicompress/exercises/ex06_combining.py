"""Checks for tutorials/exercises/ex06_combining.py: the stored size of a pruned and
quantized weight (bitmask positions + b-bit codes + per-row scales, tutorial 06 part 1)
and the greedy walk of auto_compress (part 4, step 3)."""

from __future__ import annotations

import numpy as np

from .. import combine
from ..grading import Check


def bitmask_bits(w, bits):
    """Reference: bits of ``w`` (m, k) quantized per row to ``bits`` bits, stored as a bitmask."""
    return combine.compress_weight(w, bits, storage="bitmask").bits


def greedy_path(sizes, losses, eps):
    """Reference: :func:`minicompress.combine.greedy_path`, as a list of tuples."""
    return combine.greedy_path(sizes, losses, eps=eps)


def _weight_args():
    from hypothesis import strategies as st

    @st.composite
    def draw(draw):
        m, k = draw(st.integers(1, 5)), draw(st.integers(1, 12))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        w = rng.standard_normal((m, k))
        w[rng.random((m, k)) < draw(st.floats(0.0, 0.95))] = 0.0
        return w, draw(st.sampled_from([2, 3, 4, 8]))

    return draw()


def _greedy_args():
    from hypothesis import strategies as st

    @st.composite
    def draw(draw):
        layers, options = draw(st.integers(1, 3)), draw(st.integers(1, 5))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        sizes = rng.integers(1, 50, (layers, options)).astype(float)
        sizes[:, 0] = sizes.max(axis=1) + 1  # option 0 is the uncompressed (largest) one
        return sizes, np.round(rng.random((layers, options)) * 3, 2), 0.01

    return draw()


def _same_path(expected, got) -> bool:
    return [tuple(int(i) for i in s) for s in expected] == [tuple(int(i) for i in s) for s in got]


# tutorial 06: the 2 x 8 layer with four survivors (208 bits), and a survivor that rounds to 0
_W = np.zeros((2, 8))
_W[0, [1, 5]] = [0.5, -1.0]
_W[1, [0, 7]] = [2.0, 0.25]
_TINY = np.array([[1.0, 0.003, 0.0, -0.5]])

CHECKS = [
    Check("bitmask_bits", bitmask_bits, _weight_args, compare=lambda e, g: int(e) == g,
          hand_cases=((_W, 8), (_TINY, 8), (_W, 2))),
    Check("greedy_path", greedy_path, _greedy_args, compare=_same_path,
          hand_cases=((np.array([[100.0, 50, 10], [40, 20, 30]]), np.array([[0, 0.5, 3], [0, 0.1, 0.2]]),
                       0.01),)),
]
