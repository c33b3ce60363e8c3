"""Checks for tutorials/exercises/ex04_lowrank.py: mode-n unfolding and folding (Kolda &
Bader's column order), the mode-n product, the truncated SVD, the truncated HOSVD and one
CP-ALS update.  The SVD and the HOSVD are compared by what defines them (a best rank-r
approximation; orthonormal factors spanning the dominant subspaces, and their core), not
factor by factor: singular vectors are unique only up to sign, and not at all under ties."""

from __future__ import annotations

import numpy as np
from hypothesis import assume

from .. import lowrank
from ..grading import Check, Difference, Mistake, difference
from ..grading.strategies import array_of_shape, hnp, shapes, st
from ..lowrank.tensor import khatri_rao


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


def hosvd(T, ranks):
    """Reference: (core, factors) of the truncated HOSVD, factors as a list."""
    core, factors = lowrank.hosvd(T, ranks)
    return core, list(factors)


def cp_als_step(T, factors, mode):
    """Reference: the least-squares update of factor ``mode`` with the others fixed."""
    return lowrank.cp_als_step(T, factors, mode)


@st.composite
def _tensor(draw, min_dims=2, max_dims=4):
    T = draw(array_of_shape(shapes(min_dims, max_dims, max_side=4)))
    return T, draw(st.integers(0, T.ndim - 1))


@st.composite
def _fold_args(draw):
    T, mode = draw(_tensor())
    return lowrank.unfold(T, mode), mode, T.shape


@st.composite
def _mode_dot_args(draw):
    T, mode = draw(_tensor(min_dims=1))
    return T, draw(array_of_shape((draw(st.integers(1, 4)), T.shape[mode]))), mode


@st.composite
def _svd_args(draw):
    W = draw(array_of_shape(shapes(2, 2, max_side=6)))
    return W, draw(st.integers(1, min(W.shape)))


@st.composite
def _hosvd_args(draw):
    T = draw(array_of_shape(shapes(2, 3, max_side=4)))
    ranks = tuple(draw(st.integers(1, min(n, T.size // n))) for n in T.shape)
    return T, ranks


@st.composite
def _cp_args(draw):
    T = draw(array_of_shape(shapes(2, 3, max_side=4)))
    R = draw(st.integers(1, 3))
    # small integer-valued factors: the Gram matrices are exact, their conditioning is honest
    factors = [draw(hnp.arrays(np.float64, (n, R), elements=st.integers(-3, 3).map(float))) for n in T.shape]
    mode = draw(st.integers(0, T.ndim - 1))
    gram = np.ones((R, R))
    for k, A in enumerate(factors):
        if k != mode:
            gram *= A.T @ A
    # a well-conditioned least-squares problem: pinv, lstsq and solve all agree on it
    assume(np.linalg.cond(gram) < 1e4)
    return T, factors, mode


def _svd_compare(expected, got, args):
    """Any best rank-r approximation: rank <= r and the Eckart-Young error."""
    W, r = args
    d = difference(expected, got)
    if d is None or d.key != "value":
        return d
    s = np.linalg.svd(got, compute_uv=False)
    if s.size > r and s[r] > 1e-8 * max(1.0, s[0]):
        return Difference("rank", f"the result has rank {int(np.sum(s > 1e-8 * max(1.0, s[0])))}; "
                                  f"expected at most rank {r}")
    best, err = np.linalg.norm(W - expected), np.linalg.norm(W - got)
    if abs(err - best) > 1e-6 * max(1.0, np.linalg.norm(W)):
        return Difference("value", f"||W - result|| = {err:.6g}, but the best rank-{r} error is {best:.6g}")
    return None


def _hosvd_problem(T, ranks, got) -> Difference | None:
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return Difference("type", "return (core, factors): a tuple of two values")
    core, factors = got
    if not isinstance(factors, (tuple, list)) or len(factors) != T.ndim:
        return Difference("type", f"factors must be a list of {T.ndim} matrices, one per mode")
    for n, (U, r) in enumerate(zip(factors, ranks)):
        if not isinstance(U, np.ndarray) or U.shape != (T.shape[n], r):
            return Difference("shape", f"factors[{n}] must be ({T.shape[n]}, {r}); got "
                                       f"{getattr(U, 'shape', type(U).__name__)}")
        if not np.allclose(U.T @ U, np.eye(r), atol=1e-6):
            return Difference("orthonormal", f"the columns of factors[{n}] are not orthonormal")
        captured = np.sum((U.T @ lowrank.unfold(T, n)) ** 2)
        best = np.sum(np.linalg.svd(lowrank.unfold(T, n), compute_uv=False)[:r] ** 2)
        if not np.isclose(captured, best, rtol=1e-6, atol=1e-9):
            return Difference("subspace", f"factors[{n}] does not span the leading {r} left singular "
                                          f"vectors of unfold(T, {n})")
    if not isinstance(core, np.ndarray) or core.shape != tuple(ranks):
        return Difference("shape", f"the core must have shape {tuple(ranks)}; got "
                                   f"{getattr(core, 'shape', type(core).__name__)}")
    projected = lowrank.multi_mode_dot(T, [U.T for U in factors], list(range(T.ndim)))
    if not np.allclose(core, projected, atol=1e-6 * max(1.0, np.linalg.norm(T))):
        return Difference("value", "the core is not T x_0 U_0^T x_1 U_1^T ...")
    return None


def _hosvd_compare(expected, got, args):
    return _hosvd_problem(*args, got)


def _reconstructs_like(model):
    """The received (core, factors) reconstruct what ``model(T, ranks)`` reconstructs."""
    def when(args, expected, got):
        T, ranks = args
        theirs = lowrank.tucker_to_tensor(*model(T, ranks))
        mine = lowrank.tucker_to_tensor(got[0], list(got[1]))
        right = lowrank.tucker_to_tensor(expected[0], expected[1])
        return np.allclose(mine, theirs, atol=1e-8) and not np.allclose(theirs, right, atol=1e-8)
    return when


def _st_hosvd(T, ranks):
    """Sequentially truncated HOSVD: each factor from the tensor already projected."""
    factors, Y = [], T
    for n, r in enumerate(ranks):
        U = lowrank.svd(lowrank.unfold(Y, n))[0][:, :r]
        factors.append(U)
        Y = lowrank.mode_dot(Y, U.T, n)
    return Y, factors


def _smallest(T, ranks):
    factors = [lowrank.svd(lowrank.unfold(T, n))[0][:, -r:] for n, r in enumerate(ranks)]
    return lowrank.multi_mode_dot(T, [U.T for U in factors], list(range(T.ndim))), factors


def _cp_variant(order="kolda", gram="hadamard", invert=True):
    def wrong(T, factors, mode):
        others = [A for k, A in enumerate(factors) if k != mode]
        R = factors[0].shape[1]
        V = np.zeros((R, R)) if gram == "sum" else np.ones((R, R))
        for A in others:
            V = V + A.T @ A if gram == "sum" else V * (A.T @ A)
        kr = khatri_rao(others if order == "forward" else others[::-1])
        M = lowrank.unfold(T, mode) @ kr
        return M @ (np.linalg.pinv(V) if invert else V)
    return wrong


def _approx(W, r):
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    return (U[:, :r] * s[:r]) @ Vt[:r]


# Kolda & Bader (2009)'s 3 x 4 x 2 example and its mode-1 product with [[1, 3, 5], [2, 4, 6]]
_X = np.arange(1.0, 25.0).reshape(3, 4, 2, order="F")
_U = np.array([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]])
# a rank-1 tensor a o b o c: the update of mode 0 from the exact b, c is a itself
_a, _b, _c = np.array([1.0, 2.0]), np.array([1.0, -1.0, 2.0]), np.array([2.0, 1.0])
_RANK1 = np.einsum("i,j,k->ijk", _a, _b, _c)
_T232 = np.array([[[1.0, 2.0], [0.0, 1.0], [3.0, -1.0]], [[2.0, 0.0], [1.0, 1.0], [-1.0, 2.0]]])
_F2 = [np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[1.0, 1.0], [0.0, 1.0], [1.0, 0.0]]),
       np.array([[1.0, 2.0], [1.0, -1.0]])]

CHECKS = [
    Check("unfold", unfold, _tensor, hand_cases=((_X, 1), (_X, 0), (_X, 2)),
          mistakes=(
              Mistake("c_order", "Kolda & Bader's columns run with the FIRST remaining index fastest: "
                      "np.moveaxis(T, mode, 0).reshape(I_n, -1, order='F'); C order (TensorLy's) puts them "
                      "in another order.",
                      wrong=lambda T, mode: np.moveaxis(T, mode, 0).reshape(T.shape[mode], -1)),
              Mistake("no_moveaxis", "bring the mode to the front first (np.moveaxis(T, mode, 0)), then "
                      "reshape.",
                      wrong=lambda T, mode: T.reshape(T.shape[mode], -1, order="F")),
          )),
    Check("fold", fold, _fold_args, hand_cases=((lowrank.unfold(_X, 1), 1, (3, 4, 2)),),
          mistakes=(
              Mistake("c_order", "fold must undo Kolda & Bader's unfolding: reshape in Fortran order "
                      "(order='F') to the moved shape, then np.moveaxis(..., 0, mode).",
                      wrong=lambda M, mode, shape: np.moveaxis(
                          M.reshape((shape[mode], *shape[:mode], *shape[mode + 1:])), 0, mode)),
          )),
    Check("mode_dot", mode_dot, _mode_dot_args,
          hand_cases=((_X, _U, 0), (_X, _U.T[:2, :2] @ np.ones((2, 4)), 1)),
          mistakes=(
              Mistake("axis_at_front", "put the new axis back where the mode was: fold(M @ unfold(T, mode), "
                      "mode, new_shape), or np.moveaxis(..., 0, mode).",
                      wrong=lambda T, M, mode: np.moveaxis(lowrank.mode_dot(T, M, mode), mode, 0)),
          )),
    Check("truncated_svd", truncated_svd, _svd_args, compare=_svd_compare,
          hand_cases=((np.diag([3.0, 2.0, 1.0]), 1), (np.diag([3.0, 2.0, 1.0]), 2),
                      (np.array([[1.0, 2.0], [2.0, 4.0]]), 1),
                      (np.array([[2.0, 0.0, 1.0], [0.0, 1.0, 0.0]]), 1)),
          mistakes=(
              Mistake("no_truncation", "keep only the first `rank` singular triplets: "
                      "U[:, :r] @ np.diag(s[:r]) @ Vt[:r].", wrong=lambda W, r: W.copy()),
              Mistake("off_by_one", "keep exactly `rank` triplets: s[:rank].",
                      wrong=lambda W, r: _approx(W, r + 1)),
              Mistake("off_by_one", "keep exactly `rank` triplets: s[:rank].",
                      wrong=lambda W, r: _approx(W, r - 1)),
              Mistake("no_s", "multiply by the singular values: U_r diag(s_r) V_r^T, not U_r V_r^T.",
                      wrong=lambda W, r: (lambda U, s, Vt: U[:, :r] @ Vt[:r])(
                          *np.linalg.svd(W, full_matrices=False))),
              Mistake("smallest", "np.linalg.svd returns the singular values in DECREASING order: keep the "
                      "first r, the largest.",
                      wrong=lambda W, r: (lambda U, s, Vt: (U[:, -r:] * s[-r:]) @ Vt[-r:])(
                          *np.linalg.svd(W, full_matrices=False))),
          )),
    Check("hosvd", hosvd, _hosvd_args, compare=_hosvd_compare,
          hand_cases=((_T232, (1, 1, 1)), (_X, (2, 2, 1)), (_X, (3, 4, 2)), (_RANK1, (1, 1, 1))),
          mistakes=(
              Mistake("sequential", "each U_n comes from the unfolding of the ORIGINAL T (that is HOSVD); "
                      "projecting T as you go is the sequentially truncated HOSVD, another method.",
                      when=_reconstructs_like(_st_hosvd)),
              Mistake("smallest", "take the LEADING r_n left singular vectors (the first columns of U: "
                      "np.linalg.svd sorts the singular values in decreasing order).",
                      when=_reconstructs_like(_smallest)),
              Mistake("not_truncated", "truncate each factor to r_n columns, U[:, :r_n], and the core to "
                      "shape ranks.",
                      when=lambda args, e, g: isinstance(g, (tuple, list)) and len(g) == 2
                      and getattr(g[0], "shape", None) == args[0].shape and tuple(args[1]) != args[0].shape),
          )),
    Check("cp_als_step", cp_als_step, _cp_args, params=("T", "factors", "mode"),
          hand_cases=((_RANK1, [np.ones((2, 1)), _b[:, None], _c[:, None]], 0), (_RANK1, _F2, 1),
                      (_RANK1, _F2, 2)),
          mistakes=(
              Mistake("kr_order", "Khatri-Rao goes from the last factor to the first, skipping n "
                      "(A_{N-1} kr ... kr A_0): that order matches the unfolding, whose first remaining "
                      "index runs fastest.", wrong=_cp_variant(order="forward")),
              Mistake("no_pinv", "solve the normal equations: multiply by the pseudo-inverse of V "
                      "(np.linalg.pinv(V)), not by V.", wrong=_cp_variant(invert=False)),
              Mistake("gram_sum", "V is the elementwise (Hadamard) product of the Gram matrices A_k^T A_k, "
                      "k != n, not their sum.", wrong=_cp_variant(gram="sum")),
          )),
]
