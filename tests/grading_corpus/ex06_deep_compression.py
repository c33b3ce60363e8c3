"""Regression corpus of exercise 07 (see tests/test_grading_corpus.py): NumPy-only solutions,
``<function>__correct*`` pass, ``<function>__<mistake>`` fail with that mistake's hint."""

import heapq

import numpy as np


def kmeans_assign__correct(w, centroids, mask):
    idx = np.argmin(np.abs(w[..., None] - centroids), axis=-1)  # the first minimum: the smaller
    return np.where(mask, idx, -1)


def kmeans_assign__correct_midpoints(w, centroids, mask):
    # the boundaries between neighbours are the midpoints; halfway counts as below it
    mids = (centroids[1:] + centroids[:-1]) / 2
    return np.where(mask, np.searchsorted(mids, w, side="left"), -1)


def kmeans_assign__ties_larger(w, centroids, mask):
    mids = (centroids[1:] + centroids[:-1]) / 2
    return np.where(mask, np.searchsorted(mids, w, side="right"), -1)


def kmeans_assign__pruned_assigned(w, centroids, mask):
    return np.argmin(np.abs(w[..., None] - centroids), axis=-1)


def kmeans_assign__values(w, centroids, mask):  # the shared weight, not the index
    return np.where(mask, centroids[kmeans_assign__pruned_assigned(w, centroids, mask)], 0.0)


def _tree_depths(counts, key):
    """Huffman over the counted symbols; ``key(count, order)`` orders the heap (ties)."""
    used = [int(s) for s in np.flatnonzero(counts)]
    heap = [(key(int(counts[s]), i), int(counts[s]), i) for i, s in enumerate(used)]
    heapq.heapify(heap)
    parent = {}
    new = len(used)
    while len(heap) > 1:
        _, ca, a = heapq.heappop(heap)
        _, cb, b = heapq.heappop(heap)
        parent[a] = parent[b] = new
        heapq.heappush(heap, (key(ca + cb, new), ca + cb, new))
        new += 1

    def depth(node):
        d = 0
        while node in parent:
            node, d = parent[node], d + 1
        return d

    return used, [depth(i) for i in range(len(used))]


def _huffman(counts, key=lambda c, order: (c, order), lone=1, root=0):
    lengths = np.zeros(len(counts), np.int64)
    used, depths = _tree_depths(counts, key)
    if len(used) == 1:
        lengths[used[0]] = lone
        return lengths
    lengths[used] = np.array(depths) + root
    return lengths


def huffman_code_lengths__correct(counts):
    return _huffman(counts)


def huffman_code_lengths__correct_other_ties(counts):  # of equal counts, the newest node first
    return _huffman(counts, key=lambda c, order: (c, -order))


def huffman_code_lengths__root_off_by_one(counts):  # the root counted as depth 1
    return _huffman(counts, lone=2, root=1)


def huffman_code_lengths__unused_coded(counts):  # zero counts in the heap too
    lengths = np.zeros(len(counts), np.int64)
    heap = [(int(c), i, (i,)) for i, c in enumerate(counts)]
    heapq.heapify(heap)
    order = len(counts)
    if len(heap) == 1:
        return lengths + 1
    while len(heap) > 1:
        ca, _, a = heapq.heappop(heap)
        cb, _, b = heapq.heappop(heap)
        for s in a + b:
            lengths[s] += 1
        heapq.heappush(heap, (ca + cb, order, a + b))
        order += 1
    return lengths


def huffman_code_lengths__lone_symbol(counts):
    return _huffman(counts, lone=0)


def huffman_code_lengths__not_optimal(counts):  # merges the two LARGEST counts
    return _huffman(counts, key=lambda c, order: (-c, order))


def huffman_code_lengths__dtype(counts):
    return _huffman(counts).astype(float)


def relative_indices__correct(positions, index_bits):
    M = 2**index_bits
    gaps, filler = [], []
    for g in np.diff(positions, prepend=-1) - 1:
        while g >= M:
            gaps.append(M - 1)
            filler.append(True)
            g -= M
        gaps.append(g)
        filler.append(False)
    return np.array(gaps, dtype=np.int64), np.array(filler, dtype=bool)


def relative_indices__correct_vectorised(positions, index_bits):
    M = 2**index_bits
    g = np.diff(positions, prepend=-1) - 1
    n = g // M
    filler = np.concatenate([np.r_[np.ones(k, bool), False] for k in n])
    gaps = np.concatenate([np.r_[np.full(k, M - 1), r] for k, r in zip(n, g - M * n)])
    return gaps.astype(np.int64), filler


def _walk(positions, index_bits, *, more=lambda g, M: g >= M, step=None, plus=0):
    M = 2**index_bits
    step = M if step is None else step
    gaps, filler = [], []
    for g in np.diff(positions, prepend=-1) - 1 + plus:
        while more(g, M):
            gaps.append(M - 1)
            filler.append(True)
            g -= step
        gaps.append(g)
        filler.append(False)
    return np.array(gaps, dtype=np.int64), np.array(filler, dtype=bool)


def relative_indices__gap_equal(positions, index_bits):  # no filler when g == 2**b exactly
    return _walk(positions, index_bits, more=lambda g, M: g > M)


def relative_indices__diff(positions, index_bits):  # stores p_i - p_(i-1)
    return _walk(positions, index_bits, plus=1)


def relative_indices__filler_size(positions, index_bits):  # a filler counted as M - 1 positions
    return _walk(positions, index_bits, step=2**index_bits - 1)


def relative_indices__overflow(positions, index_bits):  # no fillers: the b-bit field wraps
    g = np.diff(positions, prepend=-1) - 1
    return (g % 2**index_bits).astype(np.int64), np.zeros(len(g), bool)


def relative_indices__type(positions, index_bits):  # lists, not arrays
    gaps, filler = relative_indices__correct(positions, index_bits)
    return gaps.tolist(), filler.tolist()
