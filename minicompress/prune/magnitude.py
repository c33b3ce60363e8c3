"""Threshold (magnitude) pruning, section 4.1.1 of the source text; Han et al. (2015).

    w_ij <- 0      if |w_ij| < threshold
    w_ij <- w_ij   otherwise

The threshold is chosen so that a fraction ``sparsity`` of the weights falls below it:
with n weights and k = floor(sparsity * n), it is the k-th smallest |w| *counting from 0*
(``sort(|w|)[k]``, the (k+1)-th smallest counting from 1).  Everything strictly below it
-- exactly k weights when the |w| have no ties -- is pruned.

The text's snippet (section 3.1.2) writes this as::

    threshold = torch.kthvalue(torch.abs(param).view(-1), int(param.numel() * 0.5))[0]
    param.data[torch.abs(param) < threshold] = 0

``torch.kthvalue`` counts from 1, so its threshold is ``sort(|w|)[k - 1]`` and ``< threshold``
prunes only k - 1 weights (one too few), and for k = 0 (sparsity < 1/n, e.g. sparsity 0 or
a one-element bias) it raises instead of pruning nothing.  :func:`text_snippet_prune` is a
literal NumPy transcription of the snippet, kept only so that tests and the tutorial can
show the difference.
"""

from __future__ import annotations

import math

import numpy as np

from ..nn._checks import check_array, check_float

__all__ = [
    "n_to_prune",
    "magnitude_threshold",
    "magnitude_mask",
    "score_threshold",
    "mask_from_scores",
    "text_snippet_prune",
]


def _check_sparsity(sparsity) -> float:
    return check_float(sparsity, "sparsity", low=0.0, high=1.0, high_open=True)


def _check_weights(w, name: str = "w") -> np.ndarray:
    w = check_array(w, name, finite=True)
    if w.size == 0:
        raise ValueError(f"{name} is empty (shape {w.shape}); there is nothing to prune")
    return w


def n_to_prune(n: int, sparsity: float) -> int:
    """k = floor(sparsity * n): how many of n weights a sparsity asks to remove.

    Notes
    -----
    ``sparsity * n`` is rounded to 9 decimals before the floor, so that binary round-off does
    not lose a weight: ``0.29 * 100`` is ``28.999999999999996`` in floating point, and gives
    k = 29, not 28.  Since ``sparsity < 1``, k is at most n - 1: at least one weight survives.
    """
    sparsity = _check_sparsity(sparsity)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    return min(math.floor(round(sparsity * int(n), 9)), int(n) - 1)


def score_threshold(scores: np.ndarray, sparsity: float) -> float:
    """The k-th smallest score counting from 0, k = floor(sparsity * n): ``sort(scores)[k]``.

    Parameters
    ----------
    scores : array of any shape, n >= 1 finite entries (|w|, a saliency, ...)
    sparsity : float in [0, 1)

    Returns
    -------
    threshold : float; the scores strictly below it are the ones to prune.
    """
    return _kth_smallest(_check_weights(scores, "scores"), sparsity)


def _kth_smallest(scores: np.ndarray, sparsity: float) -> float:
    """``sort(scores)[k]``, k = floor(sparsity * n), for scores already checked."""
    k = n_to_prune(scores.size, sparsity)
    # np.partition puts the k-th smallest (from 0) at index k in O(n), no full sort
    return float(np.partition(scores.ravel(), k)[k])


def mask_from_scores(scores: np.ndarray, sparsity: float) -> np.ndarray:
    """Keep-mask ``scores >= score_threshold(scores, sparsity)`` (True = kept).

    Notes
    -----
    Ties at the threshold all survive, so at most floor(sparsity * n) entries are pruned, and
    exactly that many when the k-th and (k+1)-th smallest scores differ.  Example:
    scores [1, 1, 1, 1, 2, 3] at sparsity 0.5 give k = 3, threshold sort(scores)[3] = 1 and
    prune nothing: no rule that only looks at values can tell the four 1s apart.
    """
    scores = _check_weights(scores, "scores")
    return scores >= _kth_smallest(scores, sparsity)


def magnitude_threshold(w: np.ndarray, sparsity: float) -> float:
    """Threshold of magnitude pruning (section 4.1.1; Han et al. 2015).

    threshold = sort(|w|)[k],  k = floor(sparsity * n)   (counting from 0)

    Parameters
    ----------
    w : array of any shape with n >= 1 finite entries
    sparsity : float in [0, 1), the fraction of weights to remove

    Returns
    -------
    threshold : float, so that ``|w| < threshold`` selects exactly k weights when the |w| have
        no ties.  Defined for every sparsity in [0, 1), including k = 0 (threshold = min |w|,
        nothing pruned), where the text's ``torch.kthvalue(|w|, int(n * s))`` raises.
    """
    return _kth_smallest(np.abs(_check_weights(w)), sparsity)


def magnitude_mask(w: np.ndarray, sparsity: float) -> np.ndarray:
    """Keep-mask of magnitude pruning: True where ``|w| >= magnitude_threshold(w, sparsity)``.

    Parameters
    ----------
    w : array of any shape, n >= 1 finite entries
    sparsity : float in [0, 1)

    Returns
    -------
    mask : bool array of w's shape; ``w * mask`` is the pruned weight.

    Notes
    -----
    Ties: every weight whose |w| equals the threshold survives (the text's ``|w| < threshold``
    rule), so ties can leave fewer than floor(sparsity * n) weights pruned; with distinct |w|
    exactly floor(sparsity * n) are pruned.  Weights that are already exactly 0 count as the
    smallest magnitudes: when a first pruning removed exactly k weights (no ties), pruning the
    pruned layer again at the same sparsity gives the same mask (the mask is idempotent).
    """
    a = np.abs(_check_weights(w))
    return a >= _kth_smallest(a, sparsity)


def text_snippet_prune(w: np.ndarray, ratio: float = 0.5) -> np.ndarray:
    """The source text's snippet (section 3.1.2), transcribed literally into NumPy.

    For comparison only -- use :func:`magnitude_mask`.  Returns a pruned copy of ``w``::

        k = int(n * ratio)
        threshold = sort(|w|)[k - 1]          # torch.kthvalue counts from 1
        w[|w| < threshold] = 0                # prunes k - 1 weights when |w| has no ties

    Raises
    ------
    RuntimeError
        for k < 1, as ``torch.kthvalue`` does ("selected number k out of range").
    """
    w = np.array(check_array(w, "w", finite=True), dtype=float)
    k = int(w.size * check_float(ratio, "ratio"))
    if not 1 <= k <= w.size:
        raise RuntimeError(f"kthvalue(): selected number k out of range (k = {k}, n = {w.size})")
    threshold = np.sort(np.abs(w).reshape(-1))[k - 1]
    w[np.abs(w) < threshold] = 0
    return w
