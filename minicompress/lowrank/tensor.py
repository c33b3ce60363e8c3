"""Tensor algebra for Tucker and CP: mode-n unfolding, folding, the mode-n product and the
Khatri-Rao product, as defined by Kolda & Bader, "Tensor Decompositions and Applications",
SIAM Review 51(3), 2009 (section 2.4-2.6), the reference of the source text's section 4.4.2.

Modes are numbered from 0 here (Python), from 1 in the paper: ``mode=0`` is the paper's
mode-1.

Column order of the unfolding (the one convention that matters)
---------------------------------------------------------------
``unfold(T, n)`` is Kolda & Bader's matrix X_(n) of shape ``(I_n, prod_{k != n} I_k)``:
tensor element ``(i_0, ..., i_{N-1})`` goes to row ``i_n`` and column

    j = sum_{k != n} i_k * J_k,    J_k = prod_{m < k, m != n} I_m

so the *first* remaining index varies fastest (Fortran order).  For the 3 x 4 x 2 tensor of
the paper (frontal slices X_1 = [[1,4,7,10],[2,5,8,11],[3,6,9,12]], X_2 = X_1 + 12)::

    X_(1) = [[1 4 7 10 13 16 19 22], [2 5 8 11 14 17 20 23], [3 6 9 12 15 18 21 24]]
    X_(2) = [[1 2 3 13 14 15], [4 5 6 16 17 18], [7 8 9 19 20 21], [10 11 12 22 23 24]]
    X_(3) = [[1 2 3 ... 12], [13 14 15 ... 24]]

TensorLy and many NumPy codes instead move the mode to the front and reshape in C order
(last index fastest).  The two unfoldings hold the same columns in another order; both are
correct as long as folding and the Khatri-Rao product use the *same* order.  This module
uses Kolda & Bader's everywhere, so ``X_(n) = A_n diag(w) (A_{N-1} kr ... kr A_{n+1} kr
A_{n-1} kr ... kr A_0)^T`` holds for a CP tensor exactly as printed in the paper (section 3).
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import check_array, check_int, check_sequence

__all__ = ["unfold", "fold", "mode_dot", "multi_mode_dot", "khatri_rao"]


def _check_mode(mode, ndim: int, name: str = "mode") -> int:
    return check_int(mode, name, low=0, high=ndim - 1)


def unfold(T, mode: int) -> np.ndarray:
    """Mode-n unfolding (matricisation) X_(n), Kolda & Bader (2009), section 2.4.

    Parameters
    ----------
    T : (I_0, ..., I_{N-1}) array, N >= 1
    mode : int in [0, N-1]

    Returns
    -------
    (I_mode, prod_{k != mode} I_k) array; the columns are the mode-n fibres, the first
    remaining index varying fastest (see the module docstring).  A copy: writing into it
    never changes T (a reshape alone is a view of T when T's memory order allows it).
    """
    T = check_array(T, "T")
    if T.ndim < 1:
        raise ValueError(f"T must have at least one axis; got a 0-D array {T!r}")
    mode = _check_mode(mode, T.ndim)
    n_columns = int(np.prod(T.shape[:mode] + T.shape[mode + 1 :]))  # also when a size is 0
    return _copy_of(np.moveaxis(T, mode, 0).reshape(T.shape[mode], n_columns, order="F"), T)


def _copy_of(out: np.ndarray, source: np.ndarray) -> np.ndarray:
    """``out``, copied if it may share memory with ``source`` (the results here are copies)."""
    return out.copy() if np.may_share_memory(out, source) else out


def fold(M, mode: int, shape) -> np.ndarray:
    """Inverse of :func:`unfold`: ``fold(unfold(T, n), n, T.shape) == T``.

    Parameters
    ----------
    M : (I_mode, prod_{k != mode} I_k) array
    mode : int
    shape : the tensor's shape (I_0, ..., I_{N-1}), a tuple or list of ints >= 1

    Returns
    -------
    array of ``shape``, a copy (never a view of M)
    """
    M = check_array(M, "M", ndim=2)
    shape = tuple(check_int(s, f"shape[{i}]", low=1)
                  for i, s in enumerate(check_sequence(shape, "shape", "ints")))
    if not shape:
        raise ValueError("shape must have at least one axis; got ()")
    mode = _check_mode(mode, len(shape))
    rest = shape[:mode] + shape[mode + 1 :]
    expected = (shape[mode], int(np.prod(rest)))
    if M.shape != expected:
        raise ValueError(
            f"M has shape {M.shape}, but the mode-{mode} unfolding of a tensor of shape {shape} "
            f"has shape {expected}"
        )
    return _copy_of(np.moveaxis(M.reshape((shape[mode], *rest), order="F"), 0, mode), M)


def mode_dot(T, M, mode: int) -> np.ndarray:
    """Mode-n product Y = T x_n M, Kolda & Bader (2009), section 2.5.

    Y[i_0, .., j, .., i_{N-1}] = sum_{i_n} T[i_0, .., i_n, .., i_{N-1}] * M[j, i_n],
    equivalently Y_(n) = M T_(n) (unfold, multiply, fold).

    Parameters
    ----------
    T : (I_0, ..., I_{N-1}) array
    M : (J, I_mode) matrix
    mode : int in [0, N-1]

    Returns
    -------
    (I_0, ..., J, ..., I_{N-1}) array: axis ``mode`` now has size J.
    """
    T = check_array(T, "T")
    M = check_array(M, "M", ndim=2)
    if T.ndim < 1:
        raise ValueError(f"T must have at least one axis; got a 0-D array {T!r}")
    mode = _check_mode(mode, T.ndim)
    if M.shape[1] != T.shape[mode]:
        raise ValueError(
            f"shape mismatch: M has shape {M.shape} but T has shape {T.shape}; the mode-{mode} "
            f"product needs M.shape[1] == T.shape[{mode}] ({M.shape[1]} != {T.shape[mode]})"
        )
    return np.moveaxis(np.tensordot(M, T, axes=(1, mode)), 0, mode)


def multi_mode_dot(T, matrices, modes) -> np.ndarray:
    """T x_{modes[0]} matrices[0] x_{modes[1]} matrices[1] ... (products on distinct modes
    commute, Kolda & Bader 2009, section 2.5).  ``matrices`` and ``modes`` are lists."""
    matrices = check_sequence(matrices, "matrices", "matrices")
    modes = check_sequence(modes, "modes", "ints")
    if len(matrices) != len(modes):
        raise ValueError(f"got {len(matrices)} matrices for {len(modes)} modes {modes}")
    if len(set(modes)) != len(modes):
        raise ValueError(f"modes must be distinct; got {modes}")
    for M, n in zip(matrices, modes):
        T = mode_dot(T, M, n)
    return T


def khatri_rao(matrices) -> np.ndarray:
    """Column-wise Kronecker product A kr B kr ... , Kolda & Bader (2009), section 2.6.

    For A: (I, R), B: (J, R), (A kr B)[:, r] = kron(A[:, r], B[:, r]) has shape (I*J, R); the
    row index is ``i*J + j`` (B's index fastest), as for ``np.kron``.

    Parameters
    ----------
    matrices : sequence of (I_k, R) arrays, all with the same R

    Returns
    -------
    (prod_k I_k, R) array, a new one (for a single matrix, a copy of it)
    """
    matrices = check_sequence(matrices, "matrices", "matrices")
    matrices = [check_array(A, f"matrices[{k}]", ndim=2) for k, A in enumerate(matrices)]
    if not matrices:
        raise ValueError("khatri_rao needs at least one matrix")
    R = matrices[0].shape[1]
    if any(A.shape[1] != R for A in matrices):
        raise ValueError(
            f"all matrices must have the same number of columns; got shapes {[A.shape for A in matrices]}"
        )
    out = matrices[0].copy()
    for A in matrices[1:]:
        out = (out[:, None, :] * A[None, :, :]).reshape(-1, R)
    return out
