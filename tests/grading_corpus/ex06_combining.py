"""Regression corpus of exercise 06 (see tests/test_grading_corpus.py): NumPy-only solutions,
``<function>__correct*`` pass, ``<function>__<mistake>`` fail with that mistake's hint."""

import numpy as np


def _bitmask(w, bits, codes=True, whole_bytes=True, scales_per_row=True, header=96):
    m, k = w.shape
    qmax = 2 ** (bits - 1) - 1
    amax = np.abs(w).max(axis=1, keepdims=True)
    q = np.rint(w / np.where(amax > 0, amax, 1.0) * qmax)
    z = int(np.count_nonzero(q if codes else w))
    up = (lambda n: 8 * -(-n // 8)) if whole_bytes else (lambda n: n)
    return header + up(m * k) + up(z * bits) + 32 * (m if scales_per_row else 1)


def bitmask_bits__correct(w, bits):
    return _bitmask(w, bits)


def bitmask_bits__mask_survivors(w, bits):
    return _bitmask(w, bits, codes=False)


def bitmask_bits__whole_bytes(w, bits):
    return _bitmask(w, bits, whole_bytes=False)


def bitmask_bits__one_scale(w, bits):
    return _bitmask(w, bits, scales_per_row=False)


def bitmask_bits__no_header(w, bits):
    return _bitmask(w, bits, header=0)


def bitmask_bits__type(w, bits):  # the float
    return float(_bitmask(w, bits))


def _greedy(sizes, losses, eps, by_saved=False, ties_last=False, start=True, eps_floor=True):
    sizes, losses = np.asarray(sizes, float), np.asarray(losses, float)
    state = [0] * len(sizes)
    path = [tuple(state)] if start else []
    while True:
        best = None
        for l in range(len(sizes)):
            for o in range(sizes.shape[1]):
                saved = sizes[l, state[l]] - sizes[l, o]
                if saved <= 0:
                    continue
                extra = losses[l, o] - losses[l, state[l]]
                if by_saved:
                    score = saved
                elif eps_floor:
                    score = saved / max(extra, eps)
                else:
                    score = saved / extra if extra != 0 else np.inf
                if best is None or score > best[0] or (ties_last and score == best[0]):
                    best = (score, l, o)
        if best is None:
            return path
        state[best[1]] = best[2]
        path.append(tuple(state))


def greedy_path__correct(sizes, losses, eps):
    return _greedy(sizes, losses, eps)


def greedy_path__correct_vectorised(sizes, losses, eps):
    sizes, losses = np.asarray(sizes, float), np.asarray(losses, float)
    state, path = np.zeros(len(sizes), int), [(0,) * len(sizes)]
    rows = np.arange(len(sizes))
    while True:
        saved = sizes[rows, state][:, None] - sizes
        score = np.where(saved > 0, saved / np.maximum(losses - losses[rows, state][:, None], eps), -np.inf)
        if not np.isfinite(score).any():
            return path
        l, o = np.unravel_index(np.argmax(score), score.shape)
        state[l] = o
        path.append(tuple(int(i) for i in state))


def greedy_path__bits_saved(sizes, losses, eps):
    return _greedy(sizes, losses, eps, by_saved=True)


def greedy_path__ties_last(sizes, losses, eps):  # the reversed tie order
    return _greedy(sizes, losses, eps, ties_last=True)


def greedy_path__ties_option_first(sizes, losses, eps):  # options outside, layers inside
    sizes, losses = np.asarray(sizes, float), np.asarray(losses, float)
    state, path = [0] * len(sizes), [(0,) * len(sizes)]
    while True:
        best = None
        for o in range(sizes.shape[1]):
            for l in range(len(sizes)):
                saved = sizes[l, state[l]] - sizes[l, o]
                if saved > 0:
                    score = saved / max(losses[l, o] - losses[l, state[l]], eps)
                    if best is None or score > best[0]:
                        best = (score, l, o)
        if best is None:
            return path
        state[best[1]] = best[2]
        path.append(tuple(state))


def greedy_path__no_start(sizes, losses, eps):
    return _greedy(sizes, losses, eps, start=False)


def greedy_path__no_eps(sizes, losses, eps):
    return _greedy(sizes, losses, eps, eps_floor=False)
