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

__all__ = ["obs_prune", "quadratic_loss_increase"]


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
    Ties in L_q go to the lowest flat index (``np.argmin``).  Removed weights get L_q = +inf
    so they are never chosen twice.  Cost O(n d^2): for layers of up to a few thousand weights.
    """
    w = check_array(w, "w", finite=True)
    H_inv = check_array(H_inv, "H_inv", ndim=2, finite=True)
    d = w.size
    if H_inv.shape != (d, d):
        raise ValueError(f"H_inv must have shape ({d}, {d}) to match w's {d} entries; got {H_inv.shape}")
    if not np.allclose(H_inv, H_inv.T, rtol=1e-8, atol=1e-12 * np.abs(H_inv).max()):
        raise ValueError("H_inv must be symmetric (the inverse of a Hessian); got an asymmetric matrix")
    if np.any(np.diag(H_inv) <= 0):
        raise ValueError("H_inv must be positive definite; its diagonal has entries <= 0")
    n = check_int(n, "n", low=0, high=d - 1)
    x = w.astype(np.float64).reshape(-1)
    Hi = H_inv.astype(np.float64)
    alive = np.ones(d, dtype=bool)
    removed, increases = [], []
    for _ in range(n):
        diag = np.diag(Hi)
        scores = np.full(d, np.inf)
        scores[alive] = x[alive] ** 2 / (2 * diag[alive])
        q = int(np.argmin(scores))
        col = Hi[:, q].copy()
        x -= (x[q] / diag[q]) * col
        Hi -= np.outer(col, col) / diag[q]
        alive[q] = False
        x[~alive] = 0.0  # exactly, not up to round-off (col is ~1e-16, not 0, at earlier removals)
        Hi[q, :] = Hi[:, q] = 0.0
        removed.append(q)
        increases.append(scores[q])
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
