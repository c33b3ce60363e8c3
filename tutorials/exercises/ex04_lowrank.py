"""Exercise 04: the tensor algebra behind Tucker and CP, the truncated SVD, HOSVD and CP-ALS.

Fill in each function, then grade your work with

    python -m minicompress check tutorials/exercises/ex04_lowrank.py

The grader imports your file in a separate process and compares each function with the
library's (minicompress.lowrank): first on small cases you can check by hand, then on inputs
Hypothesis draws. For a wrong function it shows the failing input (a hand case, or the
smallest input Hypothesis could shrink it to), the expected and the received value, what
differs (value, shape, dtype, an argument changed in place) and, for a known typical
mistake, a hint. NumPy only: a function that calls minicompress (the answer key) is flagged
and fails.
Modes are numbered from 0 (Kolda & Bader (2009) number them from 1).
"""

import numpy as np


def unfold(T, mode):
    """Mode-n unfolding X_(n) of Kolda & Bader (2009): shape (T.shape[mode], T.size // T.shape[mode]).

    Column j holds the mode-n fibre T[i_0, ..., :, ..., i_{N-1}] with
    j = sum_{k != mode} i_k * prod_{m < k, m != mode} T.shape[m]
    (the FIRST remaining index varies fastest).  For X = np.arange(1, 25).reshape(3, 4, 2,
    order="F"), unfold(X, 1) is [[1, 2, 3, 13, 14, 15], [4, 5, 6, 16, 17, 18], ...].
    Hint: np.moveaxis, then reshape -- in which order?
    """
    raise NotImplementedError


def fold(M, mode, shape):
    """The inverse of unfold: fold(unfold(T, mode), mode, T.shape) == T."""
    raise NotImplementedError


def mode_dot(T, M, mode):
    """Mode-n product Y = T x_n M for M of shape (J, T.shape[mode]).

    Y[i_0, ..., j, ..., i_{N-1}] = sum_i T[i_0, ..., i, ..., i_{N-1}] * M[j, i];
    equivalently unfold(Y, mode) = M @ unfold(T, mode).
    """
    raise NotImplementedError


def truncated_svd(W, rank):
    """The best rank-`rank` approximation of the matrix W (Eckart-Young):
    U[:, :r] @ diag(s[:r]) @ Vt[:r, :] from np.linalg.svd(W, full_matrices=False).
    Return the (m, n) approximation (the grader compares it, not the factors)."""
    raise NotImplementedError


def hosvd(T, ranks):
    """Truncated higher-order SVD (section 4.4.2; De Lathauwer et al. 2000).

    T: an N-way array; ranks: one int r_n per mode, 1 <= r_n <= min(I_n, T.size // I_n).
    U_n = the leading r_n left singular vectors of unfold(T, n), an (I_n, r_n) matrix, for
    every n (each from the unfolding of T itself); core G = T x_0 U_0^T x_1 U_1^T ... of
    shape ranks.  Return (core, [U_0, ..., U_{N-1}]).  The grader checks what defines them
    (orthonormal columns spanning the dominant subspaces, and the core), not the signs.
    Check: with ranks = T.shape, tucker reconstruction G x_0 U_0 x_1 U_1 ... gives T back.
    """
    raise NotImplementedError


def cp_als_step(T, factors, mode):
    """One update of CP by alternating least squares (section 3.4.1; Kolda & Bader 2009, 3.4).

    T: an N-way array; factors: N matrices A_k of shape (I_k, R); mode: n.  With the others
    fixed, the least-squares A_n is
        A_n = unfold(T, n) @ (A_{N-1} kr ... kr A_{n+1} kr A_{n-1} kr ... kr A_0) @ pinv(V)
        V   = the elementwise product of A_k.T @ A_k over k != n    (R x R)
    where kr is the Khatri-Rao product, (A kr B)[:, r] = np.kron(A[:, r], B[:, r]), taken
    from the LAST factor to the first, as the unfolding's first remaining index runs fastest.
    Return A_n, (I_n, R), not normalised.  Use np.linalg.pinv (V may be singular).
    Check: for T = a o b o c (np.einsum("i,j,k->ijk", a, b, c)) and factors [anything, b, c]
    as columns, the update of mode 0 is a itself.
    """
    raise NotImplementedError
