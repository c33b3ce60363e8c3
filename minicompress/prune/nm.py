"""N:M semi-structured sparsity (Mishra et al. 2021, "Accelerating Sparse Deep Neural Networks";
NVIDIA's 2:4 on Ampere GPUs): of every m consecutive weights along the input axis, keep n.

Magnitude pruning (section 4.1.1) lets the zeros fall anywhere; N:M fixes how many fall in
every small group, so that hardware built for it can skip them with a fixed, tiny index
(2:4 keeps 2 of 4: 50% sparsity, 2 bits of position per kept value).  The speed-up needs that
hardware: on a CPU, or any GPU without sparse tensor cores, an N:M matrix is just a dense
matrix with zeros in it, and it runs no faster.

Groups run along the input axis of each output row: a Linear weight (out, in) is grouped
along ``in``; a Conv2d weight (C_out, C_in, kh, kw) along its flattened C_in*kh*kw axis
(the im2col row, in (C_in, kh, kw) order); a 1-D array is one row.  Group g of a row holds
the entries g*m, ..., g*m + m - 1.
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import check_array, check_int

__all__ = ["parse_pattern", "nm_mask_from_scores", "nm_mask"]


def parse_pattern(pattern) -> tuple[int, int]:
    """``"2:4"`` or ``(2, 4)`` -> ``(n, m)``, with 1 <= n <= m (keep n of every m)."""
    if isinstance(pattern, str):
        parts = pattern.split(":")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise ValueError(f"pattern must look like 'n:m', e.g. '2:4' (keep 2 of every 4); got {pattern!r}")
        n, m = (int(p) for p in parts)
    elif isinstance(pattern, tuple) and len(pattern) == 2:
        n, m = pattern
    else:
        raise TypeError(f"pattern must be a string 'n:m' such as '2:4' or a pair (n, m); got {pattern!r}")
    return _check_nm(n, m)


def _check_nm(n, m) -> tuple[int, int]:
    m = check_int(m, "m", low=1)
    n = check_int(n, "n", low=1)
    if n > m:
        raise ValueError(f"n must be <= m (keep n of every m weights); got n={n}, m={m}")
    return n, m


def _groups(a: np.ndarray, m: int, name: str) -> np.ndarray:
    """View ``a`` as (rows, groups, m): rows = shape[0] (1 for a 1-D array)."""
    rows = 1 if a.ndim == 1 else a.shape[0]
    length = a.size // rows
    if a.size == 0 or length % m:
        raise ValueError(f"{name} has shape {a.shape}: each row holds {length} weights along the input "
                         f"axis, which is not a positive multiple of m={m}; N:M groups must tile the "
                         f"rows exactly (leave this layer out, or pick an m that divides {length})")
    return a.reshape(rows, length // m, m)


def nm_mask_from_scores(scores: np.ndarray, n: int, m: int) -> np.ndarray:
    """Keep-mask that keeps the n highest scores of every m consecutive ones along the input axis.

    Parameters
    ----------
    scores : array (out, in), (C_out, C_in, kh, kw) or (in,) of finite scores (|w|, a saliency);
        each row's length (in, or C_in*kh*kw) must be a multiple of m
    n, m : ints, 1 <= n <= m

    Returns
    -------
    mask : bool array of the scores' shape with exactly n True in every group of m.

    Notes
    -----
    Ties: of equal scores, the one earlier in its group (lower index) is kept, so the count
    is always exactly n (unlike :func:`~minicompress.prune.magnitude.mask_from_scores`,
    which keeps all ties: here the count is the point).  Example, n=2, m=4:
    scores [1, 3, 3, 3] keep positions 1 and 2 -> [False, True, True, False].
    """
    scores = check_array(scores, "scores", finite=True)
    n, m = _check_nm(n, m)
    g = _groups(scores, m, "scores")
    # stable sort of -score: among equal scores the lower index comes first, and is kept
    order = np.argsort(-g, axis=-1, kind="stable")[..., :n]
    mask = np.zeros(g.shape, dtype=bool)
    np.put_along_axis(mask, order, True, axis=-1)
    return mask.reshape(scores.shape)


def nm_mask(w: np.ndarray, n: int, m: int) -> np.ndarray:
    """N:M magnitude mask: keep the n largest |w| of every m consecutive weights of each row.

    ``nm_mask(w, 2, 4)`` is NVIDIA's 2:4 pattern (50% sparsity).  Shapes, groups and the tie
    rule (the earlier of equal |w| is kept) as :func:`nm_mask_from_scores`.

    Example: w = [0.1, -0.5, 0.3, 0.2, | 0.9, 0.0, -0.9, 0.4], n=2, m=4 ->
    [False, True, True, False, | True, False, True, False].
    """
    return nm_mask_from_scores(np.abs(check_array(w, "w", finite=True)), n, m)
