"""Truncated SVD and rank selection: the source text's section 4.4.1, W = U Sigma V^T.

Eckart-Young-Mirsky theorem (Eckart & Young 1936; Mirsky 1960): keeping the r largest
singular values,

    W_r = U[:, :r] diag(s[:r]) V^T[:r, :]

is a best rank-r approximation of W in every unitarily invariant norm, with

    ||W - W_r||_F = sqrt(sum_{i > r} s_i^2),      ||W - W_r||_2 = s_{r+1}

(s sorted in decreasing order, s_{r+1} = 0 when r = min(m, n)).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..nn._checks import check_array, check_bool, check_float, check_int
from ..nn._scaling import pow2_scale

__all__ = ["svd_flip", "svd", "svd_truncate", "TruncatedSVD", "rank_for_energy", "check_rank"]


def check_rank(rank, shape, name: str = "rank") -> int:
    """``rank`` as an int in [1, min(shape)], else a ValueError/TypeError saying so."""
    bound = int(min(shape))
    rank = check_int(rank, name)
    if not 1 <= rank <= bound:
        raise ValueError(
            f"{name} must be in [1, {bound}] (1 to min(shape) for a matrix of shape {tuple(shape)}); "
            f"got {rank}"
        )
    return rank


def _largest_entry_signs(M: np.ndarray) -> np.ndarray:
    """Sign of the entry of largest absolute value in each column (the first on a tie);
    +1 for an all-zero column."""
    if M.shape[0] == 0:
        return np.ones(M.shape[1])
    signs = np.sign(M[np.argmax(np.abs(M), axis=0), np.arange(M.shape[1])])
    signs[signs == 0] = 1.0
    return signs


def svd_flip(U, Vt) -> tuple[np.ndarray, np.ndarray]:
    """Make SVD signs deterministic, as scikit-learn's ``svd_flip``.

    A singular pair (u_i, v_i) is only defined up to a common sign: (-u_i, -v_i) is just as
    valid, and LAPACK builds may differ.  Convention: in each column u_i, the entry of
    largest absolute value is made positive (the first such entry on a tie); v_i gets the
    same sign, so ``U diag(s) Vt`` is unchanged.

    U : (m, p), Vt : (q, n) -> (U, Vt) with flipped signs (new arrays).  The thin SVD has
    p = q = min(m, n), every column of U paired with a row of Vt.  A full SVD
    (``full_matrices=True``) has p = m and q = n: the first min(m, n) columns and rows
    are the singular pairs; the rest (a basis of the null space on the longer side) have
    no partner and are flipped by the same rule on their own (the entry of largest
    absolute value of each extra column of U, or each extra row of Vt, made positive).
    """
    U = check_array(U, "U", ndim=2, finite=True)
    Vt = check_array(Vt, "Vt", ndim=2, finite=True)
    k = min(U.shape[1], Vt.shape[0])
    u_signs = _largest_entry_signs(U)
    v_signs = _largest_entry_signs(Vt.T)
    v_signs[:k] = u_signs[:k]  # a singular pair keeps U diag(s) Vt: the same sign on both
    return U * u_signs, Vt * v_signs[:, None]


def svd(W, full_matrices: bool = False):
    """``U, s, Vt = svd(W)`` with W = U diag(s) Vt, s decreasing, signs fixed by :func:`svd_flip`.

    W : (m, n), finite and not empty -> U : (m, k), s : (k,), Vt : (k, n) with
    k = min(m, n) (thin SVD); with ``full_matrices=True``, U : (m, m) and Vt : (n, n)
    (``U[:, :k] diag(s) Vt[:k]`` is still W).  Computed in float64 whatever W's dtype.
    NaN or inf is refused before LAPACK is called (LAPACK's SVD may never return on inf).
    """
    W = check_array(W, "W", ndim=2, finite=True)
    full_matrices = check_bool(full_matrices, "full_matrices")
    if W.size == 0:
        raise ValueError(f"W is empty (shape {W.shape}); the SVD needs at least one entry")
    U, s, Vt = np.linalg.svd(W.astype(np.float64), full_matrices=full_matrices)
    U, Vt = svd_flip(U, Vt)
    return U, s, Vt


class TruncatedSVD(NamedTuple):
    """Result of :func:`svd_truncate`: the rank-r approximation and its factors.

    approx : (m, n) = U @ diag(s) @ Vt;  U : (m, r);  s : (r,);  Vt : (r, n)
    """

    approx: np.ndarray
    U: np.ndarray
    s: np.ndarray
    Vt: np.ndarray


def svd_truncate(W, rank: int) -> TruncatedSVD:
    """Best rank-r approximation of W (Eckart-Young), source text section 4.4.1.

    W_r = U[:, :r] diag(s[:r]) Vt[:r, :],  ||W - W_r||_F^2 = sum_{i > r} s_i^2.

    Parameters
    ----------
    W : (m, n) array
    rank : int in [1, min(m, n)]

    Returns
    -------
    TruncatedSVD(approx, U, s, Vt): approx (m, n) in W's float dtype; U (m, r), s (r,),
    Vt (r, n) in float64, signs fixed by :func:`svd_flip`.

    Notes
    -----
    When s_r == s_{r+1} (a tie at the cut) the best rank-r approximation is not unique;
    the one returned is the one LAPACK's ordering gives.  Its error is the same.
    """
    W = check_array(W, "W", ndim=2, finite=True)
    rank = check_rank(rank, W.shape)
    U, s, Vt = svd(W)
    U, s, Vt = U[:, :rank], s[:rank], Vt[:rank]
    return TruncatedSVD(((U * s) @ Vt).astype(W.dtype), U, s, Vt)


def rank_for_energy(s, energy: float) -> int:
    """Smallest rank r keeping at least a share ``energy`` of sum(s^2).

    r = min { r >= 1 : sum_{i <= r} s_i^2 >= energy * sum_i s_i^2 }

    The kept share is also 1 - (||W - W_r||_F / ||W||_F)^2, so energy = 0.99 means a
    relative Frobenius error of at most 10%.

    Parameters
    ----------
    s : (k,) singular values, non-negative and non-increasing (as :func:`svd` returns them)
    energy : float in (0, 1]

    Notes
    -----
    Ties: reaching the share exactly counts (``>=``).  ``energy = 1`` gives the number of
    singular values up to the last non-zero one, i.e. the numerical rank with no tolerance.
    The share does not depend on the scale of s, so s is divided by a power of two near
    s_1 before squaring (exact): values near 1e200 do not overflow, near 1e-200 do not
    underflow to a false "all zero".
    """
    s = check_array(s, "s", ndim=1, finite=True)
    energy = check_float(energy, "energy", low=0.0, high=1.0, low_open=True)
    if s.size == 0:
        raise ValueError("s is empty; rank_for_energy needs at least one singular value")
    if np.any(s < 0):
        raise ValueError(f"s must be non-negative singular values; got min {s.min()}")
    if np.any(np.diff(s) > 0):
        raise ValueError("s must be sorted in decreasing order (as np.linalg.svd returns it)")
    s = s.astype(np.float64)
    cumulative = np.cumsum((s / pow2_scale(s)) ** 2)
    total = cumulative[-1]
    if total == 0:
        raise ValueError("all singular values are zero: the share of energy is undefined")
    return int(np.searchsorted(cumulative, energy * total, side="left")) + 1
