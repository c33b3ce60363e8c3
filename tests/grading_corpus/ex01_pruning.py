"""Regression corpus of exercise 01 (see tests/test_grading_corpus.py): NumPy-only solutions.

``<function>__correct*`` must pass; ``<function>__<key>`` makes the typical mistake ``<key>``
and must fail with that mistake's hint (or, for a contract key -- dtype, shape, type,
mutates -- with that problem named).
"""

import numpy as np


def magnitude_threshold__correct(w, sparsity):
    k = int(np.floor(sparsity * w.size))
    return float(np.sort(np.abs(w).ravel())[k])


def magnitude_threshold__correct_partition(w, sparsity):
    k = int(sparsity * w.size)
    return np.partition(np.abs(w).ravel(), k)[k]


def magnitude_threshold__kthvalue(w, sparsity):  # the text's torch.kthvalue, counting from 1
    k = int(sparsity * w.size)
    return float(np.sort(np.abs(w).ravel())[k - 1])


def magnitude_threshold__no_abs(w, sparsity):
    k = int(np.floor(sparsity * w.size))
    return float(np.sort(w.ravel())[k])


def magnitude_mask__correct(w, sparsity):
    return np.abs(w) >= magnitude_threshold__correct(w, sparsity)


def magnitude_mask__le(w, sparsity):  # prunes |w| <= threshold
    return ~(np.abs(w) <= magnitude_threshold__correct(w, sparsity))


def magnitude_mask__no_abs(w, sparsity):
    return w >= magnitude_threshold__correct(w, sparsity)


def magnitude_mask__kthvalue(w, sparsity):
    return np.abs(w) >= magnitude_threshold__kthvalue(w, sparsity)


def magnitude_mask__dtype(w, sparsity):  # a float 0/1 mask
    return (np.abs(w) >= magnitude_threshold__correct(w, sparsity)).astype(float)


def soft_threshold__correct(w, t):
    return np.sign(w) * np.maximum(np.abs(w) - t, 0)


def soft_threshold__correct_where(w, t):
    return np.where(w > t, w - t, np.where(w < -t, w + t, 0.0))


def soft_threshold__no_sign(w, t):
    return np.maximum(w - t, 0)


def soft_threshold__no_max(w, t):
    return np.sign(w) * (np.abs(w) - t)


def soft_threshold__hard(w, t):
    return np.where(np.abs(w) > t, w, 0.0)


def soft_threshold__mutates(w, t):
    w[np.abs(w) <= t] = 0
    w -= np.sign(w) * t
    return w.copy()


def taylor_saliency__correct(w, g):
    return np.abs(w * g)


def taylor_saliency__no_abs(w, g):
    return w * g


def taylor_saliency__gradient_only(w, g):
    return np.abs(g)


def obd_saliency__correct(w, h_diag):
    return h_diag * w**2 / 2


def obd_saliency__no_half(w, h_diag):
    return h_diag * w**2


def obd_saliency__abs_w(w, h_diag):
    return 0.5 * h_diag * np.abs(w)


def obd_saliency__shape(w, h_diag):  # flattened
    return (0.5 * h_diag * w * w).ravel()


def obs_update__correct(w, H_inv, q):
    d = H_inv[q, q]
    w_new = w - (w[q] / d) * H_inv[:, q]
    w_new[q] = 0.0
    return w_new, float(w[q] ** 2 / (2 * d))


def obs_update__correct_e_q(w, H_inv, q):  # the formula as written, with the unit vector e_q
    e_q = np.zeros(len(w))
    e_q[q] = 1.0
    d = e_q @ H_inv @ e_q
    return w - (w[q] / d) * (H_inv @ e_q), w[q] ** 2 / (2 * d)  # w_new[q] is 0 up to round-off


def obs_update__keep_wq(w, H_inv, q):  # corrects the others only
    w_new = w - (w[q] / H_inv[q, q]) * H_inv[:, q]
    w_new[q] = w[q]
    return w_new, float(w[q] ** 2 / (2 * H_inv[q, q]))


def obs_update__no_correction(w, H_inv, q):
    w_new = w.copy()
    w_new[q] = 0.0
    return w_new, float(w[q] ** 2 / (2 * H_inv[q, q]))


def obs_update__inverted(w, H_inv, q):  # treats the argument as H
    return obs_update__correct(w, np.linalg.inv(H_inv), q)


def obs_update__no_half(w, H_inv, q):
    w_new, increase = obs_update__correct(w, H_inv, q)
    return w_new, 2 * increase


def obs_update__mutates(w, H_inv, q):  # updates the caller's w in place
    increase = float(w[q] ** 2 / (2 * H_inv[q, q]))
    w -= (w[q] / H_inv[q, q]) * H_inv[:, q]
    w[q] = 0.0
    return w, increase


def _rows(w, m):
    rows = 1 if w.ndim == 1 else w.shape[0]
    return np.abs(w).reshape(rows, -1, m)


def _keep(g, order, w):
    mask = np.zeros(g.shape, bool)
    np.put_along_axis(mask, order, True, axis=-1)
    return mask.reshape(w.shape)


def nm_mask__correct(w, n, m):
    g = _rows(w, m)
    return _keep(g, np.argsort(-g, axis=-1, kind="stable")[..., :n], w)


def nm_mask__correct_rank(w, n, m):  # rank of each entry: how many in its group beat it
    g = _rows(w, m)
    idx = np.arange(m)
    other, me = g[..., None, :], g[..., :, None]
    beats = (other > me) | ((other == me) & (idx < idx[:, None]))
    return (beats.sum(axis=-1) < n).reshape(w.shape)


def nm_mask__ties_kept(w, n, m):
    g = _rows(w, m)
    nth = np.sort(g, axis=-1)[..., m - n][..., None]
    return (g >= nth).reshape(w.shape)


def nm_mask__strict(w, n, m):
    g = _rows(w, m)
    nth = np.sort(g, axis=-1)[..., m - n][..., None]
    return (g > nth).reshape(w.shape)


def nm_mask__ties_later(w, n, m):
    g = _rows(w, m)
    return _keep(g, np.argsort(g, axis=-1, kind="stable")[..., m - n:], w)


def nm_mask__wrong_axis(w, n, m):  # groups of m down each column
    if w.ndim == 1:
        return nm_mask__correct(w, n, m)
    return nm_mask__correct(w.T, n, m).T


def nm_mask__no_abs(w, n, m):
    rows = 1 if w.ndim == 1 else w.shape[0]
    g = w.reshape(rows, -1, m)
    return _keep(g, np.argsort(-g, axis=-1, kind="stable")[..., :n], w)


def nm_mask__dtype(w, n, m):  # a 0/1 float mask
    return nm_mask__correct(w, n, m).astype(w.dtype)
