"""GPTQ: quantize a layer column by column, feeding each column's rounding error forward
(Frantar, Ashkboos, Hoefler & Alistarh 2023, "GPTQ: Accurate Post-Training Quantization for
Generative Pre-trained Transformers", Algorithm 1; source text section 4.2.2 gives the grid).

For one layer with weight W (m, k) and calibration inputs X (N, k) (for a Conv2d: its im2col
rows, :func:`~minicompress.nn.calibration.input_rows`), GPTQ minimises the output error

    ||X W^T - X W_hat^T||^2 / N,      Hessian of each row:  H = 2 X^T X / N  (k, k)

with every W_hat on the b-bit symmetric grid of its row (formula 4.2.2,
:mod:`minicompress.formats.symmetric`).  It quantizes column j to the grid, then moves the
not-yet-quantized columns of every row to compensate (the Optimal Brain Surgeon update for
one weight, applied to all rows at once because H is shared)::

    e = (w_j - q_j) / U_jj                  (m,)     the scaled error of column j
    W[:, j:] -= e U[j, j:]                           the later columns absorb it

where U is the upper Cholesky factor of H^-1 (``U^T U = H^-1``): row j of U holds the inverse
Hessian of the columns still free after j, divided by the square root of its diagonal, so
no inverse is updated along the way (:func:`gptq_hessian_inverse`).  Lazy batches: inside a
block of ``blocksize`` columns the update runs column by column; the columns after the block
get the block's errors E in one product at its end, ``W[:, i2:] -= E U[i1:i2, i2:]``
(the same numbers, a GEMM instead of B rank-1 updates).

* ``act_order``: columns in order of decreasing ``H_jj`` (the inputs with most energy first),
  as the reference implementation's ``--act-order``; the codes are stored in the original order.
* ``group_size`` g: one scale per row and group of g consecutive input columns (format
  ``int_group``); a group's scale is ``max|w|`` of its columns *as they are* when its first
  column is reached (error feedback so far included), as the reference implementation does.
* Dead inputs (``H_jj = 0``, an input that is 0 on every calibration row) get ``H_jj = 1``
  (the reference's rule): their column is rounded to nearest and sends no error.

With a diagonal H, U is diagonal, nothing is fed forward and GPTQ *is* round to nearest.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from ..formats import compress_layer
from ..formats.groups import check_group_size
from ..formats.symmetric import symmetric_dequantize, symmetric_quantize, symmetric_scale
from ..nn._checks import check_array, check_bits, check_bool, check_float, check_int
from ..nn.calibration import layer_hessian
from .sequential import check_calibration, codes_encoding, quantize_sequentially, target_layers

__all__ = ["gptq_hessian_inverse", "gptq_column_update", "gptq_quantize", "gptq"]


def gptq_hessian_inverse(H) -> np.ndarray:
    """``U``, upper triangular with ``U^T U = H^-1``: the upper Cholesky factor of H^-1 (k, k).

    H must be symmetric positive definite (damp it: :func:`~minicompress.nn.calibration.layer_hessian`).
    """
    H = check_array(H, "H", finite=True).astype(np.float64)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"H must be a square (k, k) matrix; got shape {H.shape}")
    try:
        L = scipy.linalg.cholesky(H, lower=True)  # H = L L^T
        L_inv = scipy.linalg.solve_triangular(L, np.eye(len(H)), lower=True)
        return scipy.linalg.cholesky(L_inv.T @ L_inv, lower=False)  # H^-1 = L^-T L^-1 = U^T U
    except np.linalg.LinAlgError as err:
        raise ValueError("H is not positive definite; use damp > 0 (e.g. damp=0.01)") from err


def gptq_column_update(w, U, j: int, w_hat_j):
    """One GPTQ step: column j of ``w`` is set to its grid value and its error is fed forward.

    ``e = (w[:, j] - w_hat_j) / U[j, j]``, then ``w[:, j:] -= outer(e, U[j, j:])`` (so that
    column j becomes exactly ``w_hat_j``; the columns before j are unchanged).

    Parameters
    ----------
    w : (m, k) the weights as they are now (a copy is updated; ``w`` is not changed)
    U : (k, k) upper Cholesky factor of H^-1 (:func:`gptq_hessian_inverse`)
    j : the column being quantized
    w_hat_j : (m,) its values on the grid

    Returns
    -------
    (w_new, e): the updated (m, k) float64 weights and the (m,) scaled error e
    """
    w = check_array(w, "w", ndim=2, finite=True)
    U = check_array(U, "U", ndim=2, finite=True)
    if U.shape != (w.shape[1],) * 2:
        raise ValueError(f"U must be ({w.shape[1]}, {w.shape[1]}) for w of shape {w.shape}; got {U.shape}")
    j = check_int(j, "j", low=0, high=w.shape[1] - 1)
    w_hat_j = check_array(w_hat_j, "w_hat_j", ndim=1, finite=True)
    if w_hat_j.shape != (w.shape[0],):
        raise ValueError(f"w_hat_j must be ({w.shape[0]},), column j's grid values; got {w_hat_j.shape}")
    return _column_update(w, U, j, w_hat_j)


def _column_update(w, U, j: int, w_hat_j):
    """:func:`gptq_column_update` without the checks (GPTQ's inner loop)."""
    w = np.array(w, dtype=np.float64)
    err = (w[:, j] - w_hat_j) / U[j, j]
    w[:, j:] -= np.outer(err, U[j, j:])
    w[:, j] = w_hat_j
    return w, err


def _group_values(W1, Wp, E, U, i1: int, i2: int, jj: int, pos: np.ndarray) -> np.ndarray:
    """The current (m, g) values of the columns at permuted positions ``pos`` (all not yet
    quantized): from the block being updated, or from a later column with its pending
    (lazy) update from the block's first jj errors."""
    vals = np.empty((Wp.shape[0], len(pos)))
    inside = pos < i2
    vals[:, inside] = W1[:, pos[inside] - i1]
    later = pos[~inside]
    vals[:, ~inside] = Wp[:, later] - E[:, :jj] @ U[i1:i1 + jj, later]
    return vals


def gptq_quantize(W, H, bits: int, *, per_channel: bool = True, group_size: int | None = None,
                  act_order: bool = False, blocksize: int = 128):
    """GPTQ of one (m, k) weight matrix with Hessian H (k, k): Algorithm 1 of Frantar et al.

    Returns
    -------
    codes : (m, k) integer codes in [-qmax, qmax] (int8 for bits <= 8)
    scale : float (per tensor), (m,) (per channel) or (m, k/g) (groups) float32 values;
        ``w_hat = codes * scale / qmax`` (per row, or per row and group)
    """
    W = np.array(check_array(W, "W", ndim=2, finite=True), dtype=np.float64)
    m, k = W.shape
    H = np.array(check_array(H, "H", ndim=2, finite=True), dtype=np.float64)
    act_order = check_bool(act_order, "act_order")
    blocksize = check_int(blocksize, "blocksize", low=1)
    if H.shape != (k, k):
        raise ValueError(f"H must be ({k}, {k}) for a weight with {k} input columns; got {H.shape}")
    dead = np.diag(H) == 0
    H[dead, dead] = 1.0
    perm = np.argsort(-np.diag(H), kind="stable") if act_order else np.arange(k)
    pos = np.argsort(perm)  # pos[c]: where original column c is processed
    Wp = W[:, perm]
    U = gptq_hessian_inverse(H[np.ix_(perm, perm)])
    if group_size is not None:
        g = group_size
        scales, started = np.zeros((m, k // g)), np.zeros(k // g, bool)
    else:
        scale = symmetric_scale(W, per_channel=per_channel)
        row_scale = scale if per_channel else np.full(m, scale)
    Q = None
    for i1 in range(0, k, blocksize):
        i2 = min(i1 + blocksize, k)
        W1, E, U1 = Wp[:, i1:i2].copy(), np.zeros((m, i2 - i1)), U[i1:i2, i1:i2]
        for jj in range(i2 - i1):
            if group_size is not None:
                grp = perm[i1 + jj] // g
                if not started[grp]:
                    vals = _group_values(W1, Wp, E, U, i1, i2, jj, pos[grp * g:(grp + 1) * g])
                    scales[:, grp], started[grp] = symmetric_scale(vals, per_channel=True), True
                row_scale = scales[:, grp]
            q, _ = symmetric_quantize(W1[:, jj:jj + 1], bits, row_scale, per_channel=True)
            if Q is None:
                Q = np.zeros((m, k), q.dtype)
            Q[:, i1 + jj] = q[:, 0]
            w_hat = symmetric_dequantize(q, row_scale, bits, dtype=np.float64)[:, 0]
            W1, E[:, jj] = _column_update(W1, U1, jj, w_hat)
        Wp[:, i1:i2] = W1
        Wp[:, i2:] -= E @ U[i1:i2, i2:]  # the lazy batch update
    codes = Q[:, pos]  # back to the original column order
    if group_size is not None:
        return codes, scales
    return codes, scale


def gptq(model, X, bits: int, *, per_channel: bool = True, group_size: int | None = None,
         damp: float = 0.01, act_order: bool = False, layers=None, blocksize: int = 128):
    """GPTQ post-training quantization of a model's Linear/Conv2d weights, no retraining.

    Parameters
    ----------
    model : Sequential (ConvNet, LeNet300_100, ...); not changed
    X : (N, ...) float calibration inputs from the training split (a few hundred to a few
        thousand examples)
    bits : 2..16; the grid is the symmetric quantizer's (formula 4.2.2), scale = max|w|
    per_channel : one scale per output row (default) or one per tensor
    group_size : one scale per row and group of this many input columns (must divide the
        layer's input size; needs per_channel)
    damp : H += damp * mean(diag H) I (>= 0; 0.01 as the paper)
    act_order : quantize the columns in order of decreasing H_jj
    layers : names of the layers to quantize (default every Linear/Conv2d), in model order;
        each sees its calibration inputs through the already-quantized earlier layers
    blocksize : columns per lazy batch (changes the speed, not the result)

    Returns
    -------
    A copy of ``model`` whose quantized layers are CompressedLinear / CompressedConv2d holding
    GPTQ's codes (:func:`~.sequential.codes_encoding`), bias fp32.
    """
    bits = check_bits(bits)
    per_channel = check_bool(per_channel, "per_channel")
    act_order = check_bool(act_order, "act_order")
    damp = check_float(damp, "damp", low=0.0)
    blocksize = check_int(blocksize, "blocksize", low=1)
    names = target_layers(model, layers)
    if group_size is not None:
        if not per_channel:
            raise ValueError(f"group_size={group_size} gives one scale per row and group; it needs "
                             f"per_channel=True")
        for name in names:
            w = model.get_submodule(name).params["weight"]
            check_group_size(group_size, w.size // w.shape[0])
    X = check_calibration(X)

    def make(name, layer, x):
        w = layer.params["weight"]
        H = layer_hessian(layer, x, damp=damp)
        codes, scale = gptq_quantize(w.reshape(len(w), -1), H, bits, per_channel=per_channel,
                                     group_size=group_size, act_order=act_order, blocksize=blocksize)
        enc = codes_encoding(codes.reshape(w.shape), scale, bits, per_channel=per_channel,
                             group_size=group_size)
        return compress_layer(layer, encoding=enc)

    return quantize_sequentially(model, X, names, make)
