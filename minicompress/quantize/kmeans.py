"""Weight sharing by k-means, and fine-tuning the shared values (Deep Compression, Han, Mao
& Dally 2016, section 3; the source text's section 2.3: pruning and quantization together).

The surviving weights of one layer are clustered into k = 2**bits groups by 1-D k-means
(Lloyd's algorithm); every weight is replaced by its group's centroid, so the layer stores
a b-bit index per weight and the k centroids (the codebook)::

    minimise  sum_ij (W_ij - C_{I_ij})**2   over the centroids C and the assignment I

    assignment:  I_ij = argmin_k |W_ij - C_k|        update:  C_k = mean{W_ij : I_ij = k}

Pruned positions (``mask`` False) are not clustered: their index is -1 and their weight
stays exactly 0.  Training then updates the *centroids* (section 3.3, equation 3):

    dL/dC_k = sum_ij dL/dW_ij 1(I_ij = k)

:class:`CentroidHook` does it inside ``nn.fit``: it gives every weight of cluster k the
gradient dL/dC_k, so the one optimiser moves all of them by the same step -- which is one
SGD step on C_k -- and they stay tied to their centroid (bit for bit: same value, same
gradient, same optimiser state).

Conventions
-----------
* ties: a weight exactly halfway between two centroids goes to the smaller centroid (the
  smaller index, if two centroids are equal);
* empty clusters: a centroid that no weight is nearest to keeps its value (it stays in the
  codebook unused; the storage formats keep only the values in use);
* computed in float64; the centroids are returned in ``w``'s float dtype (float32 for a model).
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import (
    as_array,
    check_array,
    check_bits,
    check_choice,
    check_float_dtype,
    check_int,
    check_rng,
    check_same_shape,
    check_weights,
    described,
)

__all__ = ["INITS", "kmeans_init", "kmeans_assign", "kmeans_step", "kmeans_objective", "kmeans_quantize",
           "kmeans_dequantize", "centroid_gradient", "CentroidHook"]

#: the three initialisations of Han et al. (2016), section 3.1
INITS = ("linear", "density", "random")


def kmeans_init(values, k: int, init: str = "linear", *, rng=None) -> np.ndarray:
    """k starting centroids (float64, increasing) for the 1-D ``values``.

    * ``"linear"``: evenly spaced from min to max, ``linspace(min, max, k)`` -- the paper's
      choice: it keeps the few large weights, which matter most, their own centroids;
    * ``"density"``: the CDF spaced evenly on the y-axis, centroid i at the quantile
      (i + 1/2) / k: many centroids where the weights are dense;
    * ``"random"`` (Forgy): k distinct values drawn from ``values`` with ``rng``.
    """
    v = check_weights(values, "values").astype(np.float64).ravel()
    k = check_int(k, "k", low=1)
    check_choice(init, "init", INITS)
    if rng is not None:
        rng = check_rng(rng)
    if init == "linear":
        return np.linspace(v.min(), v.max(), k)
    if init == "density":
        return np.quantile(v, (np.arange(k) + 0.5) / k)
    distinct = np.unique(v)
    if distinct.size < k:
        raise ValueError(f"init='random' needs k = {k} distinct values; got {distinct.size}")
    return np.sort(check_rng(rng).choice(distinct, size=k, replace=False))


def kmeans_assign(w, centroids) -> np.ndarray:
    """The index of the nearest centroid for every entry of ``w``: argmin_k |w - C_k|.

    w : any shape;  centroids : (k,), any order.  Returns int64 of ``w``'s shape.
    Ties (halfway between two centroids) go to the smaller centroid.  Sort-based: with
    the centroids sorted, the nearest is one of the two around ``w`` (``searchsorted``).
    """
    w = check_array(w, "w", finite=True).astype(np.float64, copy=False)
    c = check_array(centroids, "centroids", ndim=1, finite=True).astype(np.float64)
    if c.size == 0:
        raise ValueError("centroids is empty; k-means needs at least one centroid")
    order = np.argsort(c, kind="stable")
    s = c[order]
    if s.size == 1:
        return np.zeros(w.shape, np.int64) + order[0]
    hi = np.clip(np.searchsorted(s, w, side="left"), 1, s.size - 1)  # s[hi-1] < w <= s[hi]
    lo = hi - 1
    pick = np.where(np.abs(s[hi] - w) < np.abs(w - s[lo]), hi, lo)  # ties: lo, the smaller
    pick = np.searchsorted(s, s[pick], side="left")  # equal centroids: the first (stable sort)
    return order[pick]


def kmeans_objective(values, indices, centroids) -> float:
    """sum_i (v_i - C_{I_i})**2, in float64."""
    v = check_array(values, "values", finite=True).astype(np.float64)
    c = check_array(centroids, "centroids", ndim=1, finite=True).astype(np.float64)
    idx = _check_indices(indices, c.size, allow_pruned=False)
    check_same_shape(v, idx, ("values", "indices"))
    return float(np.sum((v - c[idx]) ** 2))


def _means(values, indices, centroids):
    """C_k = mean of its members; an empty cluster keeps its centroid."""
    k = centroids.size
    counts = np.bincount(indices, minlength=k)
    sums = np.bincount(indices, weights=values, minlength=k)
    return np.where(counts > 0, sums / np.maximum(counts, 1), centroids)


def kmeans_step(values, centroids) -> tuple[np.ndarray, np.ndarray]:
    """One Lloyd iteration: assign every value to its nearest centroid, then move every
    centroid to the mean of its members.  Returns ``(indices, new centroids)`` (float64);
    neither step increases :func:`kmeans_objective`."""
    v = check_weights(values, "values").astype(np.float64).ravel()
    c = check_array(centroids, "centroids", ndim=1, finite=True).astype(np.float64)
    indices = kmeans_assign(v, c)
    return indices, _means(v, indices, c)


def kmeans_quantize(w, bits: int, *, mask=None, init: str = "linear", n_iter: int = 100, rng=None):
    """Cluster the surviving weights of one layer into 2**bits shared values (Han et al. 2016).

    Parameters
    ----------
    w : float array, any shape (a layer's weight), finite
    bits : 1..16; k = 2**bits centroids
    mask : bool array of ``w``'s shape, True = kept (``prune.magnitude_mask``), or None:
        every weight is clustered.  Pruned weights are not clustered.
    init : ``"linear"`` (default, the paper's), ``"density"`` or ``"random"`` (needs ``rng``)
    n_iter : at most this many Lloyd iterations; stops early once the assignment repeats
    rng : Generator or int seed, for ``init="random"``

    Returns
    -------
    indices : int32 of ``w``'s shape, in 0..k-1, and -1 at the pruned positions
    centroids : (k,) in ``w``'s float dtype; each is the mean of its members (those with
        that index), or, for an empty cluster, where it was (see the module's conventions)

    Raises ``ValueError`` if ``mask`` prunes every weight, or if fewer than k distinct
    values survive (there would be more clusters than values to put in them).
    """
    w = check_weights(w, "w")
    bits = check_bits(bits, "bits", low=1, high=16)
    n_iter = check_int(n_iter, "n_iter", low=1)
    check_choice(init, "init", INITS)
    if rng is not None:
        rng = check_rng(rng)
    if mask is None:
        mask = np.ones(w.shape, bool)
    if not isinstance(mask, np.ndarray) or mask.dtype != bool or mask.shape != w.shape:
        raise TypeError(f"mask must be a bool array of w's shape {w.shape} (True = kept); got "
                        f"{getattr(mask, 'dtype', type(mask).__name__)} {getattr(mask, 'shape', '')}")
    v = w[mask].astype(np.float64)
    k = 2**bits
    if v.size == 0:
        raise ValueError("mask prunes every weight of w: there is nothing to cluster")
    distinct = np.unique(v).size
    if distinct < k:
        hint = f"use bits <= {distinct.bit_length() - 1}" if distinct >= 2 else "nothing to share"
        raise ValueError(f"bits={bits} asks for {k} clusters but only {distinct} distinct weight(s) "
                         f"survive; {hint}")
    c = kmeans_init(v, k, init, rng=rng)
    previous = None
    for _ in range(n_iter):
        indices, c = kmeans_step(v, c)
        if previous is not None and np.array_equal(indices, previous):
            break
        previous = indices
    out = np.full(w.shape, -1, np.int32)
    out[mask] = indices
    return out, c.astype(w.dtype)


def _check_indices(indices, k: int, *, allow_pruned: bool = True) -> np.ndarray:
    """Cluster indices: an integer array in 0..k-1, or -1 (pruned) where ``allow_pruned``."""
    given, idx = indices, as_array(indices, "indices")
    if idx.dtype.kind not in "iu":
        raise TypeError(f"indices must be an integer array; got {described(given, idx)}")
    low = -1 if allow_pruned else 0
    if idx.size and (idx.min() < low or idx.max() >= k):
        raise ValueError(f"indices must lie in {low}..{k - 1}" + (" (-1 = pruned)" if allow_pruned else "")
                         + f"; got {idx.min()}..{idx.max()}")
    return idx


def kmeans_dequantize(indices, centroids, *, dtype=None) -> np.ndarray:
    """The shared weight: ``C[I]``, and exactly 0 where ``I = -1`` (pruned)."""
    c = check_array(centroids, "centroids", ndim=1, finite=True)
    idx = _check_indices(indices, c.size)
    dtype = c.dtype if dtype is None else check_float_dtype(dtype)
    out = np.where(idx >= 0, c[np.maximum(idx, 0)], 0).astype(dtype)
    return out


def centroid_gradient(dw, indices, k: int) -> np.ndarray:
    """dL/dC_k = sum_ij dL/dW_ij 1(I_ij = k): the weight gradient summed per cluster.

    dw : the gradient of the shared weight, indices's shape;  indices : -1 (pruned, no
    contribution) or 0..k-1.  Returns (k,) in dw's dtype (summed in float64).
    """
    k = check_int(k, "k", low=1)
    idx = _check_indices(indices, k)
    dw = check_array(dw, "dw", finite=True)
    if dw.shape != idx.shape:
        raise ValueError(f"dw has shape {dw.shape}; indices has {idx.shape}")
    kept = idx >= 0
    return np.bincount(idx[kept], weights=dw[kept].astype(np.float64), minlength=k).astype(dw.dtype)


class CentroidHook:
    """``fit`` hook that trains the centroids of weight-shared layers (Han et al. 2016, 3.3).

    indices : {parameter name: indices from :func:`kmeans_quantize`}, e.g.
        ``{"fc1.weight": I}``; the parameter must already be ``kmeans_dequantize(I, C)``.

    ``after_backward``: each weight's gradient becomes its cluster's dL/dC_k (0 if pruned),
    so the optimiser steps every member of a cluster alike -- an SGD step on C_k with
    gradient dL/dC_k, momentum and weight decay included.  ``after_step``: rewrites every
    weight as its cluster's value (a no-op when the optimiser kept them tied, as SGD and
    Adam do) and the pruned ones as exactly 0.
    """

    def __init__(self, indices: dict):
        if not isinstance(indices, dict) or not indices:
            raise TypeError(f"indices must be a non-empty dict of parameter name -> int array; got "
                            f"{type(indices).__name__}")
        self.indices = {}
        for name, idx in indices.items():
            idx = np.asarray(idx)
            if idx.dtype.kind != "i" or idx.min() < -1:
                raise ValueError(f"indices[{name!r}] must be an int array in -1..k-1 (kmeans_quantize)")
            self.indices[name] = idx
        self.k = {name: int(idx.max()) + 1 for name, idx in self.indices.items()}

    def _params(self, model, attr: str) -> dict:
        found = dict(getattr(model, attr)())
        for name, idx in self.indices.items():
            if name not in found:
                raise ValueError(f"CentroidHook: the model has no parameter {name!r}; it has {list(found)}")
            if found[name].shape != idx.shape:
                raise ValueError(f"CentroidHook: {name!r} has shape {found[name].shape}; its indices "
                                 f"{idx.shape}")
        return found

    def after_backward(self, model) -> None:
        grads = self._params(model, "named_gradients")
        for name, idx in self.indices.items():
            g = grads[name]
            dc = centroid_gradient(g, idx, self.k[name])
            g[...] = np.where(idx >= 0, dc[np.maximum(idx, 0)], 0)

    def centroids(self, model) -> dict:
        """{name: (k,) current centroids}: each cluster's mean weight (its value when tied;
        0 for an empty cluster)."""
        params = self._params(model, "named_parameters")
        out = {}
        for name, idx in self.indices.items():
            kept = idx >= 0
            w = params[name]
            out[name] = _means(w[kept].astype(np.float64), idx[kept], np.zeros(self.k[name])).astype(w.dtype)
        return out

    def after_step(self, model) -> None:
        params = self._params(model, "named_parameters")
        for name, c in self.centroids(model).items():
            params[name][...] = kmeans_dequantize(self.indices[name], c)
