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
