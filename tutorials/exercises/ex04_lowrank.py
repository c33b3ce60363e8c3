"""Exercise 04: the tensor algebra behind Tucker and CP, and the truncated SVD.

Fill in each function, then grade your work with

    python -m minicompress check tutorials/exercises/ex04_lowrank.py

The grader compares your functions with the library's (minicompress.lowrank) on the worked
examples of Kolda & Bader (2009) and on random inputs, and shows the smallest input where
they differ.  Modes are numbered from 0 (the paper numbers them from 1).
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
