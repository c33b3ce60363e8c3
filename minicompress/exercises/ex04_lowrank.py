"""Checks for tutorials/exercises/ex04_lowrank.py: mode-n unfolding and folding (Kolda &
Bader's column order), the mode-n product, and the truncated SVD (compared by its
reconstruction, since singular vectors are defined only up to sign)."""

from __future__ import annotations

import numpy as np

from .. import lowrank
from ..grading import Check


def unfold(T, mode):
    """Reference: Kolda & Bader's X_(n), first remaining index fastest."""
    return lowrank.unfold(T, mode)


def fold(M, mode, shape):
    """Reference: the inverse of unfold."""
    return lowrank.fold(M, mode, shape)


def mode_dot(T, M, mode):
    """Reference: T x_n M, with Y_(n) = M T_(n)."""
    return lowrank.mode_dot(T, M, mode)


def truncated_svd(W, rank):
    """Reference: the best rank-r approximation U_r diag(s_r) V_r^T."""
    return lowrank.svd_truncate(W, rank).approx


def _tensor(draw, st, min_dims=2):
    from hypothesis.extra import numpy as hnp

    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=4, min_side=1, max_side=4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.standard_normal(shape), draw(st.integers(0, len(shape) - 1)), rng


def _unfold_args():
    from hypothesis import strategies as st

    @st.composite
    def draw(draw):
        T, mode, _ = _tensor(draw, st)
        return T, mode

    return draw()


def _fold_args():
    from hypothesis import strategies as st

    @st.composite
    def draw(draw):
        T, mode, _ = _tensor(draw, st)
        return lowrank.unfold(T, mode), mode, T.shape

    return draw()


def _mode_dot_args():
    from hypothesis import strategies as st

    @st.composite
    def draw(draw):
        T, mode, rng = _tensor(draw, st, min_dims=1)
        return T, rng.standard_normal((draw(st.integers(1, 4)), T.shape[mode])), mode

    return draw()


def _svd_args():
    from hypothesis import strategies as st

    @st.composite
    def draw(draw):
        m, n = draw(st.integers(1, 6)), draw(st.integers(1, 6))
        W = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).standard_normal((m, n))
        return W, draw(st.integers(1, min(m, n)))

    return draw()


# Kolda & Bader (2009)'s 3 x 4 x 2 example and its mode-1 product with [[1, 3, 5], [2, 4, 6]]
_X = np.arange(1.0, 25.0).reshape(3, 4, 2, order="F")
_U = np.array([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]])

CHECKS = [
    Check("unfold", unfold, _unfold_args, hand_cases=((_X, 1), (_X, 0), (_X, 2))),
    Check("fold", fold, _fold_args, hand_cases=((lowrank.unfold(_X, 1), 1, (3, 4, 2)),)),
    Check("mode_dot", mode_dot, _mode_dot_args, hand_cases=((_X, _U, 0),)),
    Check("truncated_svd", truncated_svd, _svd_args,
          hand_cases=((np.diag([3.0, 2.0, 1.0]), 2), (np.array([[1.0, 2.0], [2.0, 4.0]]), 1))),
]
