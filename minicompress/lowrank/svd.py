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

from ..nn._checks import check_array, check_float, check_int

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


def svd_flip(U: np.ndarray, Vt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Make SVD signs deterministic, as scikit-learn's ``svd_flip``.

    A singular pair (u_i, v_i) is only defined up to a common sign: (-u_i, -v_i) is just as
    valid, and LAPACK builds may differ.  Convention: in each column u_i, the entry of
    largest absolute value is made positive (the first such entry on a tie); v_i gets the
    same sign, so ``U diag(s) Vt`` is unchanged.

    U : (m, k), Vt : (k, n) -> (U, Vt) with flipped signs (new arrays).
    """
    idx = np.argmax(np.abs(U), axis=0)
    signs = np.sign(U[idx, np.arange(U.shape[1])])
    signs[signs == 0] = 1.0  # an all-zero column keeps its sign
    return U * signs, Vt * signs[:, None]


def svd(W, full_matrices: bool = False):
    """``U, s, Vt = svd(W)`` with W = U diag(s) Vt, s decreasing, signs fixed by :func:`svd_flip`.

    W : (m, n) -> U : (m, k), s : (k,), Vt : (k, n) with k = min(m, n) (thin SVD).
    Computed in float64 whatever W's dtype.
    """
    W = check_array(W, "W", ndim=2, finite=True)
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
    """
    s = check_array(s, "s", ndim=1, finite=True)
    energy = check_float(energy, "energy", low=0.0, high=1.0, low_open=True)
    if s.size == 0:
        raise ValueError("s is empty; rank_for_energy needs at least one singular value")
    if np.any(s < 0):
        raise ValueError(f"s must be non-negative singular values; got min {s.min()}")
    if np.any(np.diff(s) > 0):
        raise ValueError("s must be sorted in decreasing order (as np.linalg.svd returns it)")
    cumulative = np.cumsum(s.astype(np.float64) ** 2)
    total = cumulative[-1]
    if total == 0:
        raise ValueError("all singular values are zero: the share of energy is undefined")
    return int(np.searchsorted(cumulative, energy * total, side="left")) + 1
