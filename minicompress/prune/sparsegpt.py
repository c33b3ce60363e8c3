"""SparseGPT (Frantar & Alistarh 2023, "SparseGPT: Massive Language Models Can Be Accurately
Pruned in One-Shot"): the Hessian criterion of section 3.1.1, from calibration data, with no
retraining.

Each layer is pruned so that its output on calibration inputs X changes least.  Row by row
that is a quadratic with the Hessian H = 2 X^T X / N + damping (:func:`layer_hessian`), and
Optimal Brain Surgeon (:mod:`.obs`) says how to remove a weight w_q and correct the rest:

    dw = -(w_q / [H^-1]_qq) H^-1 e_q,        loss increase w_q^2 / (2 [H^-1]_qq)

Exact OBS needs a different inverse Hessian for every row once rows lose different weights.
SparseGPT instead visits the columns left to right, the same order for all rows: at column j
the free weights of every row are the columns j, j+1, ..., d_col-1, whose inverse Hessian
(H_{j:, j:})^-1 is the same for all rows, and its first row is read off the upper Cholesky
factor U of H^-1 (H^-1 = U^T U):

    [(H_{j:,j:})^-1]_{0,:} = U_jj U[j, j:]        so   dw_{j:} = -(w_j / U_jj) U[j, j:]

Column j is then pruned (that update) or frozen at its current value (no update); either way
it leaves the free set.  Which weights of a column are pruned is decided once per block of
``mask_blocksize`` columns, by the OBS saliency w^2 / U_cc^2 of the weights at that moment
(the paper's "adaptive mask selection").  The updates of columns past the current block of
``blocksize`` columns are gathered and applied as one matrix product at the block's end
("lazy batch updates"): the same numbers, fewer passes over W.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_triangular

from ..nn._checks import check_array, check_int
from ..nn.calibration import check_calibration, layer_hessian, layer_inputs, weight_layer_names
from ..nn.layers import Sequential
from .magnitude import mask_from_scores
from .masks import check_pattern_sparsity
from .nm import nm_mask_from_scores

__all__ = ["inverse_hessian_cholesky", "sparsegpt_prune", "sparsegpt"]


def inverse_hessian_cholesky(H: np.ndarray) -> np.ndarray:
    """U, upper triangular with H^-1 = U^T U (float64).

    U_jj^2 = [(H_{j:,j:})^-1]_00 and U_jj U[j, j:] is the first row of (H_{j:,j:})^-1: the
    inverse Hessian of columns j.. once columns 0..j-1 are fixed (tests check both).
    """
    H = check_array(H, "H", ndim=2, finite=True)
    if H.shape[0] != H.shape[1] or not np.allclose(H, H.T, rtol=1e-10, atol=1e-12 * np.abs(H).max()):
        raise ValueError(f"H must be a symmetric square matrix; got shape {H.shape}"
                         + ("" if H.shape[0] != H.shape[1] else " that is not symmetric"))
    try:
        L = np.linalg.cholesky(H.astype(np.float64))
    except np.linalg.LinAlgError:
        raise ValueError("H is not positive definite; raise damp (e.g. damp=0.01)") from None
    L_inv = solve_triangular(L, np.eye(len(L)), lower=True)
    return np.linalg.cholesky(L_inv.T @ L_inv).T


def _check_blocks(blocksize, mask_blocksize, nm, d_col):
    blocksize = check_int(blocksize, "blocksize", low=1)
    if mask_blocksize is None:
        mask_blocksize = blocksize
    mask_blocksize = check_int(mask_blocksize, "mask_blocksize", low=1)
    if blocksize % mask_blocksize:
        raise ValueError(f"mask_blocksize must divide blocksize (a mask is chosen inside one lazy block); "
                         f"got mask_blocksize={mask_blocksize}, blocksize={blocksize}")
    if nm is not None and (blocksize % nm[1] or d_col % nm[1]):
        raise ValueError(f"with pattern {nm[0]}:{nm[1]}, m={nm[1]} must divide blocksize ({blocksize}) and "
                         f"the row length d_col ({d_col})")
    return blocksize, mask_blocksize


def sparsegpt_prune(W: np.ndarray, H: np.ndarray, sparsity: float | None, *, pattern=None,
                    blocksize: int = 128, mask_blocksize: int | None = None, mask=None):
    """Prune the matrix W (d_row, d_col) against the Hessian H (d_col, d_col), SparseGPT's way.

    Parameters
    ----------
    W : (d_row, d_col) weights (a Conv2d weight viewed as (C_out, C_in*kh*kw))
    H : (d_col, d_col) symmetric positive definite, damping included (:func:`layer_hessian`)
    sparsity : float in [0, 1); each block of ``mask_blocksize`` columns (all rows together)
        loses floor(sparsity * d_row * width) weights, ties kept (:func:`mask_from_scores`)
    pattern : None or ``"n:m"`` (then sparsity is None or 1 - n/m): keep n of every m columns of
        each row (:func:`nm_mask_from_scores`), chosen when the sweep reaches the group
    blocksize : columns per lazy block B; ``blocksize=1`` applies every update at once
    mask_blocksize : columns per mask selection B_s (default: blocksize, as the paper's code);
        must divide blocksize
    mask : optional (d_row, d_col) bool keep-mask to use instead of choosing one (then
        ``sparsity`` and ``pattern`` must be None)

    Returns
    -------
    W_new : (d_row, d_col) float64, exactly 0 where ``keep`` is False
    keep : (d_row, d_col) bool
    error : float, sum over rows of the predicted increase 1/2 dw^T H dw (OBS, exact on the
        quadratic: it equals the real 1/2 sum_r (W_new - W)_r H (W_new - W)_r^T, a test checks it)

    Notes
    -----
    Cost, as written here: H^-1 and its Cholesky factor, O(d_col^3); then for each column j
    a rank-1 update of the rest of its block, O(d_row * B), and at the end of each block one
    product (d_row, B) @ (B, d_col - block end); in all d_row * d_col * (d_col + B) / 2
    multiply-adds, the same for every B: the lazy blocks do not save arithmetic, they turn
    d_col passes over all of W into d_col / B matrix products (BLAS-3).  Mask selection is a
    partition of each (d_row, B_s) block, O(d_row d_col) in all.  Memory: H, U and W, float64.
    """
    W = check_array(W, "W", ndim=2, finite=True).astype(np.float64)  # a copy
    d_row, d_col = W.shape
    H = check_array(H, "H", ndim=2, finite=True)
    if H.shape != (d_col, d_col):
        raise ValueError(f"H must be ({d_col}, {d_col}) for W of shape {W.shape}; got {H.shape}")
    if mask is not None and (sparsity is not None or pattern is not None):
        raise ValueError(f"a given mask fixes which weights go: pass sparsity=None and pattern=None with "
                         f"it; got sparsity={sparsity!r}, pattern={pattern!r}")
    sparsity, nm = (None, None) if mask is not None else check_pattern_sparsity(sparsity, pattern)
    B, Bs = _check_blocks(blocksize, mask_blocksize, nm, d_col)
    if mask is not None:
        if not isinstance(mask, np.ndarray) or mask.dtype != bool or mask.shape != W.shape:
            raise ValueError(f"mask must be a bool array of W's shape {W.shape}; got "
                             f"{getattr(mask, 'dtype', type(mask).__name__)} {getattr(mask, 'shape', '')}")
        keep = mask.copy()
    else:
        keep = np.ones(W.shape, dtype=bool)
    U = inverse_hessian_cholesky(H)
    d = np.diag(U)
    error = 0.0
    for i1 in range(0, d_col, B):
        i2 = min(i1 + B, d_col)
        E = np.zeros((d_row, i2 - i1))  # the scaled errors e_j = w_j / U_jj of pruned weights
        for j in range(i1, i2):
            if mask is None and nm is None and (j - i1) % Bs == 0:
                cols = slice(j, min(j + Bs, i2))
                keep[:, cols] = mask_from_scores(W[:, cols] ** 2 / d[cols] ** 2, sparsity)
            elif mask is None and nm is not None and j % nm[1] == 0:
                cols = slice(j, j + nm[1])
                keep[:, cols] = nm_mask_from_scores(W[:, cols] ** 2 / d[cols] ** 2, *nm)
            e = np.where(keep[:, j], 0.0, W[:, j] / d[j])
            W[:, j:i2] -= np.outer(e, U[j, j:i2])  # OBS update of the free columns of this block
            W[~keep[:, j], j] = 0.0  # exactly, not up to round-off
            E[:, j - i1] = e
            error += 0.5 * float(e @ e)
        W[:, i2:] -= E @ U[i1:i2, i2:]  # the lazy update of every later column
    return W, keep, error


def _check_fits(model, X):
    try:
        model.forward(X[:1])
    except ValueError as err:
        raise ValueError(f"X of shape {X.shape} does not fit the model: {err}") from None


def sparsegpt(model, X, sparsity: float | None, *, pattern=None, blocksize: int = 128,
              mask_blocksize: int | None = None, damp: float = 0.01, layers=None) -> dict:
    """Prune every Linear/Conv2d weight of ``model`` in place by SparseGPT; return the keep-masks.

    Parameters
    ----------
    model : Sequential (Linear/Conv2d layers anywhere in nested Sequentials)
    X : (N, ...) calibration inputs, e.g. 1,000 training digits (no labels are needed)
    sparsity : float in [0, 1), per layer (see :func:`sparsegpt_prune`); None with a pattern
    pattern : None or ``"n:m"``, e.g. ``"2:4"``
    blocksize, mask_blocksize : see :func:`sparsegpt_prune` (the paper: 128 and 128)
    damp : damping, relative to the mean of diag(H) (the paper: 0.01)
    layers : dotted names of the layers to prune (default: all Linear and Conv2d)

    Returns
    -------
    masks : ``{"fc1.weight": keep, ...}`` (bool, the weight's shape); the pruned weights are 0

    Notes
    -----
    Layers are pruned in the order the input reaches them, and each layer's calibration
    inputs come through the already pruned layers before it (:func:`layer_inputs`), so a
    later layer corrects for the earlier ones' errors.  Biases are not changed.  Weights are
    updated in float64 and written back in the layer's dtype.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a Sequential; got {type(model).__name__}")
    X = check_calibration(X)
    order = weight_layer_names(model)
    if layers is None:
        names = order
    else:
        names = [layers] if isinstance(layers, str) else list(layers)
        bad = [n for n in names if n not in order]
        if not names or bad:
            raise ValueError(f"layers must name Linear/Conv2d layers of the model, {order}; got {names!r}")
        names = [n for n in order if n in names]
    _check_fits(model, X)
    nm = check_pattern_sparsity(sparsity, pattern)[1]
    for name in names:  # every layer is checked before the first one is changed
        w = model.get_submodule(name).params["weight"]
        try:
            _check_blocks(blocksize, mask_blocksize, nm, w.size // len(w))
        except ValueError as err:
            raise ValueError(f"layer {name!r}: {err}") from None
    masks = {}
    for name in names:
        layer = model.get_submodule(name)
        H = layer_hessian(layer, layer_inputs(model, X, [name])[name], damp=damp)
        w = layer.params["weight"]
        try:
            new, keep, _ = sparsegpt_prune(w.reshape(len(w), -1), H, sparsity, pattern=pattern,
                                           blocksize=blocksize, mask_blocksize=mask_blocksize)
        except ValueError as err:
            raise ValueError(f"layer {name!r}: {err}") from None
        w[...] = new.reshape(w.shape).astype(w.dtype)
        masks[f"{name}.weight"] = keep.reshape(w.shape)
    return masks
