"""Optimal Brain Surgeon (Hassibi & Stork 1993): the "based on the Hessian" criterion of
section 3.1.1, with the remaining weights corrected for each removal.

Setting w_q to 0 while moving the other weights to minimise the quadratic model of the loss
(constraint e_q^T (w + dw) = 0) gives

    L_q = w_q^2 / (2 [H^-1]_qq)            (loss increase; remove the q with the least)
    dw  = -(w_q / [H^-1]_qq) H^-1 e_q      (correction of every weight)

After a removal, the inverse Hessian of the remaining weights (w_q now fixed at 0) is

    H^-1 <- H^-1 - H^-1 e_q e_q^T H^-1 / [H^-1]_qq

(the Schur complement; row and column q become 0), and the next weight is chosen with it.
On a quadratic loss at its minimum the summed L_q are exactly the loss increase.
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import check_array, check_int

__all__ = ["obs_update", "obs_prune", "quadratic_loss_increase"]


def _check_inverse_hessian(H_inv, d: int, *, allow_removed: bool = False) -> np.ndarray:
    H_inv = check_array(H_inv, "H_inv", ndim=2, finite=True)
    if H_inv.shape != (d, d):
        raise ValueError(f"H_inv must have shape ({d}, {d}) to match w's {d} entries; got {H_inv.shape}")
    if not np.allclose(H_inv, H_inv.T, rtol=1e-8, atol=1e-12 * np.abs(H_inv).max()):
        raise ValueError("H_inv must be symmetric (the inverse of a Hessian); got an asymmetric matrix")
    bad = np.diag(H_inv) <= 0
    if allow_removed:  # a weight removed by obs_update has its row and column exactly 0
        bad &= np.any(H_inv != 0, axis=1)
    if np.any(bad):
        raise ValueError("H_inv must be positive definite; its diagonal has entries <= 0")
    return H_inv


def _obs_step(x: np.ndarray, Hi: np.ndarray, q: int) -> float:
    """Remove weight q from the flat float64 ``x`` in place, update ``Hi`` in place; return L_q."""
    d_q = Hi[q, q]
    increase = x[q] ** 2 / (2 * d_q)
    col = Hi[:, q].copy()
    x -= (x[q] / d_q) * col
    Hi -= np.outer(col, col) / d_q
    x[q] = 0.0  # exactly, not up to round-off
    Hi[q, :] = Hi[:, q] = 0.0
    return float(increase)


def obs_update(w: np.ndarray, H_inv: np.ndarray, q: int):
    """One Optimal Brain Surgeon removal (Hassibi & Stork 1993; section 3.1.1 "based on the Hessian").

    Remove weight q and move all the others to minimise the quadratic model of the loss::

        dw    = -(w_q / [H^-1]_qq) H^-1 e_q                 (so that w_q + dw_q = 0)
        L_q   = w_q^2 / (2 [H^-1]_qq)                       (the loss increase)
        H^-1 <- H^-1 - H^-1 e_q e_q^T H^-1 / [H^-1]_qq      (inverse Hessian of the others)

    Parameters
    ----------
    w : array of any shape with d entries (flattened in C order to match H_inv)
    H_inv : (d, d) symmetric positive definite inverse Hessian, or one returned by an earlier
        ``obs_update`` (whose removed weights have zero rows and columns)
    q : int in [0, d), the flat index of the weight to remove (not one already removed)

    Returns
    -------
    w_new : float64 array of w's shape, entry q exactly 0
    H_inv_new : (d, d) float64, row and column q exactly 0 (w_q is no longer a variable)
    increase : float, L_q

    Example: H = [[2, 1], [1, 2]], w = (1, 3), q = 0: H^-1 = [[2, -1], [-1, 2]] / 3,
    w_new = (0, 3.5), L_0 = 1 / (2 * 2/3) = 0.75 (tests/test_prune_obs.py).
    """
    w = check_array(w, "w", finite=True)
    Hi = _check_inverse_hessian(H_inv, w.size, allow_removed=True).astype(np.float64)  # a copy
    q = check_int(q, "q", low=0, high=w.size - 1)
    if Hi[q, q] == 0:
        raise ValueError(f"weight q={q} is already removed (row {q} of H_inv is 0); pick another")
    x = w.astype(np.float64).reshape(-1).copy()
    increase = _obs_step(x, Hi, q)
    return x.reshape(w.shape), Hi, increase


def obs_prune(w: np.ndarray, H_inv: np.ndarray, n: int):
    """Remove ``n`` weights one at a time by Optimal Brain Surgeon.

    Parameters
    ----------
    w : array of any shape with d entries (flattened in C order to match H_inv)
    H_inv : (d, d) symmetric positive definite inverse Hessian of the loss at w
    n : int in [0, d), how many weights to remove

    Returns
    -------
    w_new : float64 array of w's shape: the removed entries are exactly 0, the others corrected
    removed : (n,) int array of flat indices, in the order they were removed
    increases : (n,) float array, the predicted loss increase L_q of each removal

    Notes
    -----
    Each removal is one :func:`obs_update`.  Ties in L_q go to the lowest flat index
    (``np.argmin``).  Removed weights get L_q = +inf so they are never chosen twice.
    Cost O(n d^2): for layers of up to a few thousand weights.
    """
    w = check_array(w, "w", finite=True)
    d = w.size
    Hi = _check_inverse_hessian(H_inv, d).astype(np.float64)  # a copy
    n = check_int(n, "n", low=0, high=d - 1)
    x = w.astype(np.float64).reshape(-1)
    alive = np.ones(d, dtype=bool)
    removed, increases = [], []
    for _ in range(n):
        scores = np.full(d, np.inf)
        scores[alive] = x[alive] ** 2 / (2 * np.diag(Hi)[alive])
        q = int(np.argmin(scores))
        increases.append(_obs_step(x, Hi, q))
        alive[q] = False
        x[~alive] = 0.0  # exactly, not up to round-off (col is ~1e-16, not 0, at earlier removals)
        removed.append(q)
    return x.reshape(w.shape), np.array(removed, dtype=int), np.array(increases)


def quadratic_loss_increase(w_new: np.ndarray, w_star: np.ndarray, H: np.ndarray) -> float:
    """The real increase of L(w) = 1/2 (w - w*)^T H (w - w*) from its minimum w* to w_new.

    w_new, w_star : arrays of one shape with d entries (flattened in C order);  H : (d, d).
    """
    w_new = check_array(w_new, "w_new", finite=True)
    w_star = check_array(w_star, "w_star", finite=True)
    H = check_array(H, "H", ndim=2, finite=True)
    d = w_star.size
    if w_new.shape != w_star.shape or H.shape != (d, d):
        raise ValueError(f"w_new and w_star must have the same shape, and H must be (d, d) with d = "
                         f"w_star.size; got {w_new.shape}, {w_star.shape} and {H.shape}")
    dw = (w_new.astype(np.float64) - w_star.astype(np.float64)).reshape(-1)
    return float(0.5 * dw @ H @ dw)
