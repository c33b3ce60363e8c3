"""Regression corpus of exercise 04 (see tests/test_grading_corpus.py): NumPy-only solutions,
``<function>__correct*`` pass, ``<function>__<mistake>`` fail with that mistake's hint."""

import numpy as np


def unfold__correct(T, mode):
    return np.moveaxis(T, mode, 0).reshape(T.shape[mode], -1, order="F")


def unfold__c_order(T, mode):  # TensorLy's unfolding
    return np.moveaxis(T, mode, 0).reshape(T.shape[mode], -1)


def unfold__no_moveaxis(T, mode):
    return T.reshape(T.shape[mode], -1, order="F")


def fold__correct(M, mode, shape):
    moved = (shape[mode], *shape[:mode], *shape[mode + 1:])
    return np.moveaxis(M.reshape(moved, order="F"), 0, mode)


def fold__c_order(M, mode, shape):
    moved = (shape[mode], *shape[:mode], *shape[mode + 1:])
    return np.moveaxis(M.reshape(moved), 0, mode)


def mode_dot__correct(T, M, mode):
    shape = list(T.shape)
    shape[mode] = M.shape[0]
    return fold__correct(M @ unfold__correct(T, mode), mode, shape)


def mode_dot__correct_tensordot(T, M, mode):
    return np.moveaxis(np.tensordot(M, T, axes=(1, mode)), 0, mode)


def mode_dot__axis_at_front(T, M, mode):
    return np.tensordot(M, T, axes=(1, mode))


def truncated_svd__correct(W, rank):
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    return U[:, :rank] @ np.diag(s[:rank]) @ Vt[:rank]


def truncated_svd__correct_eigh(W, rank):  # from W^T W: another basis when singular values tie
    lam, V = np.linalg.eigh(W.T @ W)
    V = V[:, np.argsort(lam)[::-1][:rank]]
    return W @ V @ V.T


def truncated_svd__no_truncation(W, rank):
    return W.copy()


def truncated_svd__off_by_one(W, rank):
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    return U[:, :rank + 1] @ np.diag(s[:rank + 1]) @ Vt[:rank + 1]


def truncated_svd__no_s(W, rank):
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    return U[:, :rank] @ Vt[:rank]


def truncated_svd__smallest(W, rank):
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    return U[:, -rank:] @ np.diag(s[-rank:]) @ Vt[-rank:]


def _left(M):
    return np.linalg.svd(M, full_matrices=False)[0]


def _project(T, factors):
    for n, U in enumerate(factors):
        T = mode_dot__correct(T, U.T, n)
    return T


def hosvd__correct(T, ranks):
    factors = [_left(unfold__correct(T, n))[:, :r] for n, r in enumerate(ranks)]
    return _project(T, factors), factors


def hosvd__correct_c_order(T, ranks):  # the column order does not change the left singular vectors
    factors = [_left(unfold__c_order(T, n))[:, :r] for n, r in enumerate(ranks)]
    return _project(T, factors), factors


def hosvd__sequential(T, ranks):
    factors, Y = [], T
    for n, r in enumerate(ranks):
        U = np.linalg.svd(unfold__correct(Y, n), full_matrices=False)[0][:, :r]
        factors.append(U)
        Y = mode_dot__correct(Y, U.T, n)
    return Y, factors


def hosvd__smallest(T, ranks):
    factors = [_left(unfold__correct(T, n))[:, -r:] for n, r in enumerate(ranks)]
    return _project(T, factors), factors


def hosvd__not_truncated(T, ranks):
    factors = [np.linalg.svd(unfold__correct(T, n))[0] for n in range(T.ndim)]
    return _project(T, factors), factors


def _khatri_rao(mats):
    out = mats[0]
    for B in mats[1:]:
        out = np.einsum("ir,jr->ijr", out, B).reshape(-1, out.shape[1])
    return out


def _cp(T, factors, mode, order=-1, gram="hadamard", invert=True):
    others = [A for k, A in enumerate(factors) if k != mode]
    R = factors[0].shape[1]
    V = np.ones((R, R)) if gram == "hadamard" else np.zeros((R, R))
    for A in others:
        V = V * (A.T @ A) if gram == "hadamard" else V + A.T @ A
    M = unfold__correct(T, mode) @ _khatri_rao(others[::order])
    return M @ (np.linalg.pinv(V) if invert else V)


def cp_als_step__correct(T, factors, mode):
    return _cp(T, factors, mode)


def cp_als_step__correct_c_order(T, factors, mode):  # C-order unfolding with the forward product
    others = [A for k, A in enumerate(factors) if k != mode]
    V = np.ones((factors[0].shape[1],) * 2)
    for A in others:
        V *= A.T @ A
    return unfold__c_order(T, mode) @ _khatri_rao(others) @ np.linalg.pinv(V)


def cp_als_step__kr_order(T, factors, mode):
    return _cp(T, factors, mode, order=1)


def cp_als_step__no_pinv(T, factors, mode):
    return _cp(T, factors, mode, invert=False)


def cp_als_step__gram_sum(T, factors, mode):
    return _cp(T, factors, mode, gram="sum")
