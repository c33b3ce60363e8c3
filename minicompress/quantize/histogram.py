"""Entropy (KL-divergence) calibration of an activation range: the TensorRT method
(Migacz 2017, "8-bit Inference with TensorRT", GTC; NVIDIA's pytorch-quantization
``_compute_amax_entropy``).

Clipping a long tail loses its values; a wide range wastes codes on the bulk.  TensorRT
picks the threshold T whose quantized distribution loses the least information::

    1. histogram of the non-zero |x| in B = 2048 bins over [0, max|x|] (exact zeros are
       left out, as pytorch-quantization's ``skip_zeros``: every grid holds 0 exactly, and a
       ReLU layer's spike of zeros would otherwise dominate the divergence);
    2. for every candidate i = max(L, 128), ..., B (L = the number of quantization levels;
       128 is the reference's ``start_bin``, so T >= max|x| / 16):
         P = hist[:i], with the counts beyond bin i added to its last bin (clipping);
         Q = hist[:i] merged into L equal chunks, each chunk's count spread evenly over
             its bins where P > 0 (and 0 where P = 0);
         KL(P || Q) = sum_j p_j log(p_j / q_j), P and Q normalised to sum 1;
    3. T = the right edge of bin i with the smallest KL (the first of ties).

A Q that is 0 where P is not (a chunk with no counts below an outlier bin) gives KL = inf,
and that candidate is never chosen.
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import check_array, check_int

__all__ = ["ENTROPY_BINS", "START_BIN", "kl_divergence", "entropy_threshold"]

ENTROPY_BINS = 2048
START_BIN = 128


def kl_divergence(p, q) -> float:
    """``sum p log(p / q)`` over p > 0 after normalising both to sum 1; inf where q = 0 < p."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    p, q = p / p.sum(), q / q.sum()
    nz = p > 0
    if np.any(q[nz] == 0):
        return float("inf")
    return float(np.sum(p[nz] * np.log(p[nz] / q[nz])))


def _candidate(hist: np.ndarray, i: int, levels: int):
    """P and Q of step 2 for the candidate threshold bin i."""
    P = hist[:i].astype(np.float64)
    P[-1] += hist[i:].sum()
    nonzero = P > 0
    starts = (np.arange(levels) * i) // levels  # chunk j = bins [starts[j], starts[j+1])
    chunk_sum = np.add.reduceat(hist[:i].astype(np.float64), starts)
    chunk_nz = np.add.reduceat(nonzero.astype(np.float64), starts)
    owner = np.repeat(np.arange(levels), np.diff(np.append(starts, i)))
    Q = np.where(nonzero, chunk_sum[owner] / np.maximum(chunk_nz[owner], 1), 0.0)
    return P, Q


def entropy_threshold(x, levels: int, *, bins: int = ENTROPY_BINS) -> float:
    """The TensorRT threshold T for values ``x`` quantized with ``levels`` levels on [0, T].

    x : finite values (any shape; their magnitudes are used);  levels : >= 2 (128 for the
    magnitudes of signed int8, 256 for unsigned uint8);  bins : histogram bins (>= levels).
    Returns T in (0, max|x|]; 1.0 for an all-zero x.  The first candidate is
    ``min(max(levels, 128), bins)``.
    """
    levels = check_int(levels, "levels", low=2)
    bins = check_int(bins, "bins", low=levels)
    a = np.abs(check_array(x, "x", finite=True).astype(np.float64)).ravel()
    a = a[a > 0]
    amax = float(a.max()) if a.size else 0.0
    if amax == 0:
        return 1.0
    hist, edges = np.histogram(a, bins=bins, range=(0.0, amax))
    best_i, best = bins, np.inf
    for i in range(min(max(levels, START_BIN), bins), bins + 1):
        kl = kl_divergence(*_candidate(hist, i, levels))
        if kl < best:
            best_i, best = i, kl
    return float(edges[best_i])
