"""The full Hessian of a small network's loss, and what second order buys when pruning.

Section 3.1.1 of the source text names three criteria: weight size, the loss, the Hessian.
Everything else in :mod:`minicompress.prune` uses a piece of the Hessian (its diagonal for
OBD, one layer's reconstruction Hessian for SparseGPT).  On a network small enough, the whole
Hessian of the loss over all its weights can be formed,

    H_ij = d^2 L / dw_i dw_j,     L = (1/N) sum_n CE(z_n, y_n),

by central differences of the written-out gradient, one column per weight:

    H[:, j] = (g(w + h e_j) - g(w - h e_j)) / (2 h)

and then the criteria can be compared on the *real* loss increase of removing k weights:
magnitude (|w|), OBD (1/2 H_kk w_k^2, no correction; LeCun et al. 1990), OBS with the
Gauss-Newton matrix, and OBS with the true inverse Hessian (Hassibi & Stork 1993).
"""

from __future__ import annotations

import numpy as np

from ..nn import functional as F
from ..nn._checks import check_array, check_float, check_int, check_sequence
from .magnitude import mask_from_scores
from .masks import select_parameters
from .obs import obs_prune
from .saliency import _check_data, loss_gradients

__all__ = ["flat_weights", "set_flat_weights", "full_hessian", "hessian_by_loss_differences",
           "gauss_newton_matrix", "removal_comparison"]

CRITERIA = ("magnitude", "obd", "obs-gauss-newton", "obs")


def _float64_params(model, include):
    params = select_parameters(model, include)
    for name, p in params.items():
        if p.dtype != np.float64:
            raise TypeError(f"the full Hessian needs a float64 model; {name} is {p.dtype}. "
                            f"Call model.to(np.float64) first")
    return params


def flat_weights(model, include=("weight",)) -> np.ndarray:
    """The selected parameters concatenated in ``named_parameters`` order (C order inside each)."""
    return np.concatenate([p.ravel() for p in select_parameters(model, include).values()])


def set_flat_weights(model, theta: np.ndarray, include=("weight",)) -> None:
    """Write the flat vector ``theta`` back into the selected parameters, in place."""
    params = select_parameters(model, include)
    d = sum(p.size for p in params.values())
    theta = check_array(theta, "theta", finite=True)
    if theta.shape != (d,):
        raise ValueError(f"theta must have shape ({d},) for the selected parameters; got {theta.shape}")
    start = 0
    for p in params.values():
        p[...] = np.asarray(theta[start : start + p.size]).reshape(p.shape)
        start += p.size


def _loss(model, X, y) -> float:
    return F.cross_entropy(model.forward(X), y)[0]


def _flat_gradient(model, X, y, params) -> np.ndarray:
    grads = loss_gradients(model, X, y, batch_size=len(X))
    return np.concatenate([grads[n].ravel() for n in params])


def full_hessian(model, X, y, *, include=("weight",), h: float = 1e-6) -> np.ndarray:
    """The Hessian of the mean cross-entropy over all selected weights, by central differences
    of the written-out gradient, column by column (2 d gradient evaluations).

    Parameters
    ----------
    model : float64 Sequential (small: d weights give a d x d matrix)
    X, y : the data the loss is measured on
    include : which parameters (default: every ``weight``), flattened as :func:`flat_weights`
    h : finite-difference step

    Returns
    -------
    H : (d, d) float64, exactly as measured (not symmetrised: its asymmetry is the check)

    Notes
    -----
    The loss of a ReLU net is smooth except where a pre-activation crosses 0; a step h moves
    pre-activations by about h * |x|, so with h = 1e-6 a kink is crossed only when some
    pre-activation lies that close to 0, and the comparison with
    :func:`hessian_by_loss_differences` would show it.  Cross-layer blocks include the term
    sum_c dL/dz_c d^2 z_c / dw_i dw_j that Gauss-Newton drops.
    """
    X, y = _check_data(X, y)
    params = _float64_params(model, include)
    h = check_float(h, "h", low=0.0, low_open=True)
    theta = flat_weights(model, include)
    H = np.empty((theta.size, theta.size))
    for j in range(theta.size):
        t = theta.copy()
        t[j] = theta[j] + h
        set_flat_weights(model, t, include)
        g_plus = _flat_gradient(model, X, y, params)
        t[j] = theta[j] - h
        set_flat_weights(model, t, include)
        g_minus = _flat_gradient(model, X, y, params)
        H[:, j] = (g_plus - g_minus) / (2 * h)
    set_flat_weights(model, theta, include)
    return H


def hessian_by_loss_differences(model, X, y, pairs, *, include=("weight",), h: float = 1e-5) -> np.ndarray:
    """A second, independent estimate of chosen Hessian entries from loss values only:

        H_ij ~ [L(+i,+j) - L(+i,-j) - L(-i,+j) + L(-i,-j)] / (4 h^2),   L(+i,-j) = L(w + h e_i - h e_j)

    (for i = j this is (L(w + 2h e_i) - 2 L(w) + L(w - 2h e_i)) / (4 h^2)).  No gradient code is
    involved.  ``pairs``: sequence of (i, j) flat indices.  Returns the estimates, (len(pairs),).

    The error is O(h^2) plus round-off ~ eps * L / h^2 (about 1e-7 at h = 1e-5), *if* no
    pre-activation crosses a ReLU kink within the step: a kink in the first derivative makes
    the second difference wrong by ~ (jump in slope) / h.  Keep h below the smallest
    |pre-activation| over the data (tutorial 01 shows h = 1e-4 failing where that is 6.8e-5).
    """
    X, y = _check_data(X, y)
    _float64_params(model, include)
    h = check_float(h, "h", low=0.0, low_open=True)
    theta = flat_weights(model, include)
    out = []
    if not (isinstance(pairs, (list, tuple)) and all(np.shape(p) == (2,) for p in pairs)
            or isinstance(pairs, np.ndarray) and pairs.ndim == 2 and pairs.shape[1] == 2):
        raise TypeError(f"pairs must be a list of (i, j) pairs of flat indices (or a (P, 2) integer "
                        f"array); got {pairs!r:.60} ({type(pairs).__name__})")
    for i, j in pairs:
        i, j = check_int(i, "i", low=0, high=theta.size - 1), check_int(j, "j", low=0, high=theta.size - 1)
        total = 0.0
        for si, sj, weight in ((1, 1, 1), (1, -1, -1), (-1, 1, -1), (-1, -1, 1)):
            t = theta.copy()
            t[i] += si * h
            t[j] += sj * h
            set_flat_weights(model, t, include)
            total += weight * _loss(model, X, y)
        out.append(total / (4 * h * h))
    set_flat_weights(model, theta, include)
    return np.array(out)


def gauss_newton_matrix(model, X, *, include=("weight",)) -> np.ndarray:
    """G = (1/N) sum_n J_n^T (diag(p_n) - p_n p_n^T) J_n,  J_n = dz_n/dw (C x d), p_n = softmax(z_n).

    The Hessian of the loss without the term sum_c dL/dz_c d^2 z_c/dw^2.  Within one layer of
    a Linear/ReLU net that term is 0 (the logits are piecewise linear in one layer's weights),
    so G's diagonal blocks equal the true Hessian's and its diagonal is
    :func:`~minicompress.prune.saliency.hessian_diagonal`; across layers they differ.
    Built from N * C backward passes (one per example and class): for small nets only.
    """
    X = check_array(X, "X", finite=True)
    X = _check_data(X, np.zeros(len(X) if X.ndim else 0, dtype=int))[0]
    params = _float64_params(model, include)
    saved = {n: g.copy() for n, g in model.named_gradients()}
    d = sum(p.size for p in params.values())
    G = np.zeros((d, d))
    for n in range(len(X)):
        z = model.forward(X[n : n + 1])
        p = F.softmax(z)[0]
        J = np.empty((z.shape[1], d))
        for c in range(z.shape[1]):
            dout = np.zeros_like(z)
            dout[0, c] = 1.0
            model.forward(X[n : n + 1])
            model.zero_grad()
            model.backward(dout)
            grads = dict(model.named_gradients())
            J[c] = np.concatenate([grads[k].ravel() for k in params])
        G += J.T @ ((np.diag(p) - np.outer(p, p)) @ J)
    for k, g in model.named_gradients():
        g[...] = saved[k]
    return G / len(X)


def _damped_inverse(M, damp, name):
    M = 0.5 * (M + M.T)
    M = M + damp * float(np.mean(np.diag(M))) * np.eye(len(M))
    smallest = float(np.linalg.eigvalsh(M)[0])
    if smallest <= 0:
        raise ValueError(f"the damped {name} is not positive definite (smallest eigenvalue {smallest:.3g}); "
                         f"raise damp (now {damp})")
    M_inv = np.linalg.inv(M)
    return 0.5 * (M_inv + M_inv.T)  # symmetric up to round-off, exactly so here


def removal_comparison(model, X, y, ks, *, include=("weight",), damp: float = 1e-4, H=None, G=None,
                       h: float = 1e-6) -> list[dict]:
    """Remove k weights by each criterion and measure the real loss increase L(w') - L(w).

    Criteria (all on the same float64 model, weights ``include``, data ``(X, y)``):

    - ``magnitude``: zero the k smallest |w_i|
    - ``obd``: zero the k smallest 1/2 H_ii w_i^2 (LeCun et al. 1990), no correction
    - ``obs-gauss-newton``: OBS (:func:`obs_prune`) with the inverse Gauss-Newton matrix
      (:func:`gauss_newton_matrix`), i.e. removal *and* correction of the other weights
    - ``obs``: OBS with the inverse of the true Hessian (:func:`full_hessian`)

    Parameters
    ----------
    ks : increasing ints in [1, d), the numbers of weights to remove
    damp : both matrices are symmetrised and damped, M + damp * mean(diag M) * I, before
        inversion: a ReLU net has directions of zero curvature (dead units), so H is singular
    H, G : the Hessian and the Gauss-Newton matrix, if already computed (else computed here)

    Returns
    -------
    rows : one dict per (criterion, k): ``criterion, k, real`` (measured increase) and
        ``predicted`` (OBS's summed w_q^2 / (2 [H^-1]_qq); OBD's summed saliencies;
        None for magnitude).  The model is left as it was.
    """
    X, y = _check_data(X, y)
    _float64_params(model, include)
    damp = check_float(damp, "damp", low=0.0)
    theta = flat_weights(model, include)
    d = theta.size
    ks = [check_int(k, "k", low=1, high=d - 1) for k in check_sequence(ks, "ks", "numbers of weights")]
    H = full_hessian(model, X, y, include=include, h=h) if H is None else H
    G = gauss_newton_matrix(model, X, include=include) if G is None else G
    inverses = {"obs-gauss-newton": _damped_inverse(G, damp, "Gauss-Newton matrix"),
                "obs": _damped_inverse(H, damp, "Hessian")}
    obd = 0.5 * np.diag(H) * theta**2
    base = _loss(model, X, y)
    rows = []
    for criterion in CRITERIA:
        for k in ks:
            predicted = None
            if criterion in inverses:
                new, _, increases = obs_prune(theta, inverses[criterion], k)
                predicted = float(increases.sum())
            else:
                scores = np.abs(theta) if criterion == "magnitude" else obd
                keep = mask_from_scores(scores, k / d)  # floor(k/d * d) = k removed (distinct scores)
                new = np.where(keep, theta, 0.0)
                if criterion == "obd":
                    predicted = float(obd[~keep].sum())
            set_flat_weights(model, new, include)
            rows.append({"criterion": criterion, "k": k, "real": _loss(model, X, y) - base,
                         "predicted": predicted})
    set_flat_weights(model, theta, include)
    return rows
