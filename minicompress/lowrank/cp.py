"""CP (CANDECOMP/PARAFAC) decomposition, listed by the source text in section 3.4.1:

    T ~ sum_{r=1}^{R} w_r  a_r^(0) o a_r^(1) o ... o a_r^(N-1)

a sum of R rank-one tensors (o is the outer product), with unit-norm factor columns
a_r^(n) and weights w_r >= 0.  Fitted by alternating least squares (Carroll & Chang 1970;
Harshman 1970; as written in Kolda & Bader 2009, section 3.4): for each mode n in turn,

    A_n <- T_(n) (A_{N-1} kr ... kr A_{n+1} kr A_{n-1} kr ... kr A_0)
               (hadamard_{k != n} A_k^T A_k)^+

then the columns of A_n are normalised and their norms moved into w.  Unlike the SVD and
Tucker, ALS is not guaranteed to find the best rank-R fit (the problem may not even have
one); it is a local method, hence the seeded restarts.
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import check_array, check_choice, check_float, check_int, check_rng, check_sequence
from ..nn._scaling import pow2_scale, stable_norm
from .svd import svd
from .tensor import fold, khatri_rao, unfold

__all__ = ["cp_als", "cp_als_step", "cp_to_tensor"]

#: A relative error this small is an exact fit to float64 rounding; restarts stop there.
EXACT = 1e-12


def _check_cp(weights, factors) -> tuple[np.ndarray, list[np.ndarray]]:
    factors = check_sequence(factors, "factors", "matrices")
    factors = [check_array(A, f"factors[{k}]", ndim=2, finite=True) for k, A in enumerate(factors)]
    if not factors:
        raise ValueError("factors is empty; a CP tensor needs at least one factor matrix")
    R = factors[0].shape[1]
    if any(A.shape[1] != R for A in factors):
        raise ValueError(f"every factor needs R columns; got shapes {[A.shape for A in factors]}")
    weights = check_array(weights, "weights", ndim=1, finite=True)
    if weights.shape != (R,):
        raise ValueError(f"weights must have shape ({R},), one per rank-one term; got {weights.shape}")
    return weights, factors


def cp_to_tensor(weights, factors) -> np.ndarray:
    """T = sum_r w_r a_r^(0) o ... o a_r^(N-1), via T_(0) = A_0 diag(w) (A_{N-1} kr ... kr A_1)^T.

    Parameters
    ----------
    weights : (R,)
    factors : list of N matrices A_n: (I_n, R)

    Returns
    -------
    (I_0, ..., I_{N-1}) array
    """
    weights, factors = _check_cp(weights, factors)
    shape = tuple(A.shape[0] for A in factors)
    if len(factors) == 1:
        return factors[0] @ weights
    M = (factors[0] * weights) @ khatri_rao(factors[:0:-1]).T
    return fold(M, 0, shape)


def _init_factors(T, rank, init, rng):
    factors = []
    for n in range(T.ndim):
        if init == "svd" and rank <= T.shape[n]:
            A = svd(unfold(T, n))[0][:, :rank]
            if A.shape[1] < rank:  # the unfolding has fewer columns than rank
                A = np.hstack([A, rng.standard_normal((T.shape[n], rank - A.shape[1]))])
        else:
            A = rng.standard_normal((T.shape[n], rank))
        factors.append(A)
    return factors


def _als_step(T, factors, n):
    others = [factors[k] for k in range(T.ndim) if k != n]
    gram = np.ones((others[0].shape[1],) * 2)
    for A in others:
        gram *= A.T @ A
    mttkrp = unfold(T, n) @ khatri_rao(others[::-1])
    return np.linalg.lstsq(gram.T, mttkrp.T, rcond=None)[0].T  # A = mttkrp gram^+


def cp_als_step(T, factors, mode: int) -> np.ndarray:
    """One ALS update of CP (Kolda & Bader 2009, section 3.4): the least-squares factor of
    ``mode`` with the other factors fixed,

        A_n = T_(n) (A_{N-1} kr ... kr A_{n+1} kr A_{n-1} kr ... kr A_0) V^+,
        V = hadamard_{k != n} A_k^T A_k      (an R x R matrix; ^+ the pseudo-inverse)

    (kr is the Khatri-Rao product in the order that matches the Kolda-Bader unfolding).

    Parameters
    ----------
    T : (I_0, ..., I_{N-1}) array, N >= 2
    factors : list of N (I_k, R) matrices (``factors[mode]`` is not used)
    mode : n in [0, N)

    Returns
    -------
    A_n : (I_n, R) float64, not normalised (:func:`cp_als` moves its column norms into the
        weights).  The minimum-norm solution when V is singular.
    """
    T = check_array(T, "T", finite=True).astype(np.float64)
    mode = check_int(mode, "mode", low=0, high=T.ndim - 1)
    factors = check_sequence(factors, "factors", "matrices")
    if T.ndim < 2 or len(factors) != T.ndim:
        raise ValueError(f"factors must hold one matrix per axis of T (shape {T.shape}); got {len(factors)}")
    factors = [check_array(A, f"factors[{k}]", ndim=2).astype(np.float64) for k, A in enumerate(factors)]
    R = factors[0].shape[1]
    bad = [k for k, A in enumerate(factors) if A.shape != (T.shape[k], R)]
    if bad:
        raise ValueError(f"factors[k] must be (T.shape[k], R) = ({T.shape[bad[0]]}, {R}); got "
                         f"{[A.shape for A in factors]}")
    return _als_step(T, factors, mode)


def _als(T, factors, n_iter, tol):
    norm_T = stable_norm(T)
    weights = np.ones(factors[0].shape[1])
    errors = []
    for _ in range(n_iter):
        for n in range(T.ndim):
            A = _als_step(T, factors, n)
            weights = np.linalg.norm(A, axis=0)
            factors[n] = A / np.where(weights == 0, 1.0, weights)
        errors.append(stable_norm(T - cp_to_tensor(weights, factors)) / norm_T)
        if len(errors) > 1 and abs(errors[-2] - errors[-1]) < tol:
            break
    return weights, factors, errors[-1] if errors else np.inf


def cp_als(T, rank: int, *, n_iter: int = 500, tol: float = 1e-12, rng=0, init: str = "svd",
           n_restarts: int = 1) -> tuple[np.ndarray, list[np.ndarray]]:
    """Rank-R CP decomposition by alternating least squares (Kolda & Bader 2009, section 3.4).

    Parameters
    ----------
    T : (I_0, ..., I_{N-1}) array, N >= 2
    rank : R, an int in [1, prod(shape) / max(shape)] (every tensor has CP rank at most the
        product of all its sizes but the largest)
    n_iter : maximum ALS sweeps per start
    tol : stop a start when a sweep changes the relative error ||T - T_hat|| / ||T|| by less
    rng : Generator or int seed, for the random starts
    init : "svd" (first start from the leading singular vectors of each unfolding, padded
        with Gaussian columns) or "random" (Gaussian)
    n_restarts : at most this many starts (the first as ``init`` says, the others random);
        the fit with the smallest error is returned; no further start is made once a fit
        has relative error <= 1e-12 (:data:`EXACT`)

    Returns
    -------
    weights : (R,) non-negative, sorted in decreasing order
    factors : list of N (I_n, R) matrices with unit-norm columns (float64)

    Notes
    -----
    The fit is scale-equivariant, so it runs on T divided by a power of two near its
    largest entry (exact) and the weights are multiplied back: a tensor near 1e-200 or
    1e200 gets its weights, not zeros.  The least-squares step uses the pseudo-inverse of
    the R x R Hadamard product of Gram matrices, so a rank-deficient step does not fail.
    A column that becomes exactly zero keeps weight 0.  Signs and the order of equal-weight
    terms are not unique: compare reconstructions (:func:`cp_to_tensor`), not factors.
    """
    T = check_array(T, "T", finite=True).astype(np.float64)
    if T.ndim < 2 or T.size == 0:
        raise ValueError(f"T must have at least 2 axes and one entry for a CP decomposition; got "
                         f"shape {T.shape}")
    bound = T.size // max(T.shape)
    rank = check_int(rank, "rank")
    if not 1 <= rank <= bound:
        raise ValueError(
            f"rank must be in [1, {bound}] (prod(shape) / max(shape) for shape {T.shape}); got {rank}"
        )
    n_iter = check_int(n_iter, "n_iter", low=1)
    tol = check_float(tol, "tol", low=0.0)
    n_restarts = check_int(n_restarts, "n_restarts", low=1)
    init = check_choice(init, "init", ("svd", "random"))
    rng = check_rng(rng)
    if not np.any(T):
        raise ValueError("T is all zeros: it has no CP decomposition with positive weights")
    c = pow2_scale(T)
    T = T / c  # the weights of T are c times those of T / c
    best = None
    for start in range(n_restarts):
        factors = _init_factors(T, rank, init if start == 0 else "random", rng)
        weights, factors, error = _als(T, factors, n_iter, tol)
        if best is None or error < best[2]:
            best = (weights, factors, error)
        if best[2] <= EXACT:
            break  # an exact fit (to rounding): more starts cannot do better
    weights, factors, _ = best
    order = np.argsort(-weights, kind="stable")
    return weights[order] * c, [A[:, order] for A in factors]
