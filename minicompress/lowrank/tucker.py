"""Tucker decomposition, the source text's section 4.4.2:

    W ~ G x_1 U_1 x_2 U_2 ... x_N U_N

with a small core G: (r_1, ..., r_N) and factor matrices U_n: (I_n, r_n) with orthonormal
columns.  Two algorithms (Kolda & Bader 2009, section 4.2):

- HOSVD (De Lathauwer, De Moor & Vandewalle, SIAM J. Matrix Anal. Appl. 21(4), 2000):
  U_n = the r_n leading left singular vectors of the unfolding T_(n); then
  G = T x_1 U_1^T ... x_N U_N^T.  Not optimal, but quasi-optimal:

      ||T - T_hat||_F^2 <= sum_n sum_{i > r_n} sigma_i(T_(n))^2

- HOOI (De Lathauwer, De Moor & Vandewalle, SIAM J. Matrix Anal. Appl. 21(4), 2000b),
  alternating least squares started from the HOSVD: for each mode n in turn, U_n = the
  r_n leading left singular vectors of (T x_{k != n} U_k^T)_(n).  Each update maximises
  ||G||_F over U_n with the others fixed, and since the factors are orthonormal,
  ||T - T_hat||_F^2 = ||T||_F^2 - ||G||_F^2: the error never increases.

Modes are numbered from 0.  ``modes`` lets a decomposition touch only some modes (a
*partial* Tucker): Tucker-2 of a conv kernel (C_out, C_in, kh, kw) uses modes (0, 1) and
leaves the spatial modes in the core.

Both are scale-equivariant (the factors of c T are those of T, the core is c times T's),
so they run on T divided by a power of two near its largest entry (exact) and multiply the
core back: a tensor near 1e200 or 1e-200 neither overflows nor underflows in ||G||_F^2.
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import check_array, check_float, check_int, check_sequence
from ..nn._scaling import pow2_scale, stable_norm
from .svd import svd
from .tensor import multi_mode_dot, unfold

__all__ = ["hosvd", "hooi", "tucker_to_tensor", "tucker_error"]


def _check_tensor(T, name: str = "T") -> np.ndarray:
    """A finite, non-empty float64 tensor with at least one axis."""
    T = check_array(T, name, finite=True).astype(np.float64)
    if T.ndim == 0 or T.size == 0:
        raise ValueError(f"{name} must have at least one axis and one entry; got shape {T.shape}")
    return T


def _check_modes_ranks(T: np.ndarray, ranks, modes) -> tuple[list[int], list[int]]:
    if modes is None:
        modes = list(range(T.ndim))
    else:
        modes = [check_int(m, f"modes[{i}]", low=0, high=T.ndim - 1)
                 for i, m in enumerate(check_sequence(modes, "modes", "ints"))]
        if len(set(modes)) != len(modes) or not modes:
            raise ValueError(f"modes must be distinct axes of T and not empty; got {modes}")
    if not (isinstance(ranks, (list, tuple)) or (isinstance(ranks, np.ndarray) and ranks.ndim == 1)):
        raise ValueError(
            f"ranks must be a sequence with one rank per mode ({len(modes)} for modes {modes} "
            f"of a tensor of shape {T.shape}); got {ranks!r}"
        )
    ranks = list(ranks)
    if len(ranks) != len(modes):
        raise ValueError(
            f"ranks has length {len(ranks)} but there are {len(modes)} modes {modes} "
            f"(tensor of shape {T.shape}); give one rank per mode"
        )
    checked = []
    for r, n in zip(ranks, modes):
        bound = min(T.shape[n], T.size // T.shape[n])
        r = check_int(r, f"ranks for mode {n}")
        if not 1 <= r <= bound:
            raise ValueError(
                f"the rank for mode {n} must be in [1, {bound}] (the rank bound of the mode-{n} "
                f"unfolding, of shape ({T.shape[n]}, {T.size // T.shape[n]})); got {r}"
            )
        checked.append(r)
    return checked, modes


def _leading_left_vectors(M: np.ndarray, r: int) -> np.ndarray:
    return svd(M)[0][:, :r]


def tucker_to_tensor(core, factors, modes=None) -> np.ndarray:
    """T_hat = G x_{m_0} U_0 x_{m_1} U_1 ...  (Kolda & Bader 2009, section 4).

    Parameters
    ----------
    core : (r_0, ..., r_{N-1}) array (sizes on modes not in ``modes`` are kept as they are)
    factors : list of (I_n, r_n) matrices, one per mode in ``modes``
    modes : the modes the factors act on; default ``range(len(factors))``

    Returns
    -------
    (I_0, ..., I_{N-1}) array
    """
    core = check_array(core, "core", finite=True)
    factors = check_sequence(factors, "factors", "matrices")
    factors = [check_array(U, f"factors[{k}]", ndim=2, finite=True) for k, U in enumerate(factors)]
    modes = list(range(len(factors))) if modes is None else check_sequence(modes, "modes", "ints")
    if len(modes) != len(factors) or len(factors) > core.ndim:
        raise ValueError(f"core of shape {core.shape} with {len(factors)} factors for modes {modes}: "
                         f"expected one factor per mode, at most one per axis of the core")
    for k, (U, n) in enumerate(zip(factors, modes)):
        n = check_int(n, f"modes[{k}]", low=0, high=core.ndim - 1)
        if U.shape[1] != core.shape[n]:
            raise ValueError(f"factors[{k}] has shape {U.shape} but the core has {core.shape[n]} "
                             f"entries on mode {n} (core shape {core.shape}); expected "
                             f"(I_{n}, {core.shape[n]})")
    return multi_mode_dot(core, factors, modes)


def hosvd(T, ranks, modes=None) -> tuple[np.ndarray, list[np.ndarray]]:
    """Truncated higher-order SVD (De Lathauwer et al. 2000), source text section 4.4.2.

    U_n = leading r_n left singular vectors of unfold(T, n);  G = T x_n U_n^T for all n.

    Parameters
    ----------
    T : (I_0, ..., I_{N-1}) array, finite and not empty
    ranks : sequence of ints, one per mode in ``modes``, 1 <= r_n <= min(I_n, prod_{k!=n} I_k)
    modes : which modes to decompose (default: all)

    Returns
    -------
    core : T with axis n reduced to r_n for each n in modes (float64)
    factors : list of (I_n, r_n) float64 matrices with orthonormal columns, in ``modes`` order
        (signs fixed by :func:`svd_flip`, so the result is deterministic)
    """
    T = _check_tensor(T)
    ranks, modes = _check_modes_ranks(T, ranks, modes)
    c = pow2_scale(T)
    T = T / c
    factors = [_leading_left_vectors(unfold(T, n), r) for r, n in zip(ranks, modes)]
    core = multi_mode_dot(T, [U.T for U in factors], modes)
    return core * c, factors


def tucker_error(T, core, factors, modes=None) -> float:
    """||T - tucker_to_tensor(core, factors, modes)||_F (computed explicitly, in float64).

    T must have the reconstruction's shape: a mismatch raises ValueError rather than being
    broadcast into a number that means nothing.  T, the core and the factors must be finite.
    The difference is taken of both tensors divided by a power of two near their largest
    entry (exact), so the norm neither overflows (above about 1e154) nor underflows.
    """
    T = check_array(T, "T", finite=True).astype(np.float64, copy=False)
    factors = check_sequence(factors, "factors", "matrices")
    factors = [check_array(U, f"factors[{k}]", ndim=2, finite=True) for k, U in enumerate(factors)]
    T_hat = tucker_to_tensor(check_array(core, "core", finite=True), factors, modes)
    if T.shape != T_hat.shape:
        raise ValueError(f"T has shape {T.shape} but the Tucker tensor (core x factors) has shape "
                         f"{T_hat.shape}; pass the tensor that was decomposed")
    if not np.isfinite(T_hat).all():
        raise ValueError("the Tucker tensor core x factors overflows float64; rescale the core")
    c = pow2_scale(T, T_hat)
    return c * stable_norm(T / c - T_hat / c)


def hooi(T, ranks, n_iter: int = 50, tol: float = 1e-10, modes=None):
    """Higher-order orthogonal iteration (De Lathauwer et al. 2000b), from the HOSVD.

    Sweep over the modes; for mode n:  U_n = leading r_n left singular vectors of
    unfold(T x_{k != n} U_k^T, n).  Stop after ``n_iter`` sweeps, or earlier when a sweep
    improves ||G||_F^2 by less than ``tol * ||T||_F^2``.

    Parameters
    ----------
    T, ranks, modes : as for :func:`hosvd`
    n_iter : int >= 0; ``n_iter=0`` returns the HOSVD itself
    tol : float >= 0

    Returns
    -------
    (core, factors) as :func:`hosvd`.  The error ||T - T_hat||_F is never larger than the
    HOSVD's (each sweep can only increase ||G||_F; a test checks it).
    """
    T = _check_tensor(T)
    n_iter = check_int(n_iter, "n_iter", low=0)
    tol = check_float(tol, "tol", low=0.0)
    c = pow2_scale(T)
    T = T / c  # the core of T is c times the core of T / c; the factors are the same
    core, factors = hosvd(T, ranks, modes)
    modes = list(range(T.ndim)) if modes is None else [int(m) for m in modes]
    ranks = [U.shape[1] for U in factors]
    norm_T2 = float(np.sum(T**2))
    norm_G2 = float(np.sum(core**2))
    for _ in range(n_iter):
        for k, (n, r) in enumerate(zip(modes, ranks)):
            others = [j for j in range(len(modes)) if j != k]
            Y = multi_mode_dot(T, [factors[j].T for j in others], [modes[j] for j in others])
            factors[k] = _leading_left_vectors(unfold(Y, n), r)
        core = multi_mode_dot(T, [U.T for U in factors], modes)
        new_G2 = float(np.sum(core**2))
        improved = new_G2 - norm_G2
        norm_G2 = new_G2
        if improved <= tol * norm_T2:
            break
    return core * c, factors
