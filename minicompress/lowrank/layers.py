"""Factorised layers: a trained Linear or Conv2d replaced by a short nn.Sequential of
smaller Linear/Conv2d layers computing (a low-rank approximation of) the same map.

Because the factors are ordinary Linear/Conv2d layers, training (``fit``), the parameter
count and the MAC count see the factorised model with no new layer class.  Replace a layer
in a model with ``model.set_submodule("fc1", factorize_linear(model.fc1, rank))``.

Where the parameters go (m x n weight matrix, rank r; biases stay as they were):

    dense       m * n                     Linear(in=n, out=m);  Conv2d: m = C_out, n = C_in*kh*kw
    SVD         r * (m + n)               saves parameters and MACs iff r < m*n / (m + n)
    Tucker-2    C_in*r_in + r_out*r_in*kh*kw + r_out*C_out      (Kim et al. 2016)

The singular values are split evenly, sqrt(s) into each factor (A = sqrt(S) V^T, B = U sqrt(S)),
so both factors have the same scale: better conditioned for fine-tuning than putting S on
one side.  The product B A, and so the layer's output, is the same either way.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..nn._checks import check_finite, check_int
from ..nn.layers import Conv2d, Linear, Module, Sequential
from .svd import check_rank, svd_truncate
from .tucker import hooi

__all__ = [
    "factorize_linear", "factorize_conv", "tucker2_conv",
    "weight_matrix", "break_even_rank", "factorized_num_params", "rank_for_budget",
]


def _check_layer(layer, kinds, fn: str, hint: str = "") -> Module:
    if not isinstance(layer, Module):
        raise TypeError(f"{fn}: layer must be an nn layer; got {type(layer).__name__}")
    if not isinstance(layer, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise ValueError(f"{fn} needs a {names} layer; got {layer!r}.{hint}")
    return layer


def weight_matrix(layer) -> np.ndarray:
    """The layer's weight as the matrix it multiplies by: Linear (out, in) as is, Conv2d
    (C_out, C_in, kh, kw) reshaped to (C_out, C_in*kh*kw), the row layout ``im2col`` uses."""
    layer = _check_layer(layer, (Linear, Conv2d), "weight_matrix")
    W = layer.params["weight"]
    return W.reshape(W.shape[0], -1)


def break_even_rank(layer) -> float:
    """m*n / (m+n): an SVD factorisation saves parameters (and MACs) iff rank < this."""
    m, n = weight_matrix(layer).shape
    return m * n / (m + n)


def factorized_num_params(layer, rank: int) -> int:
    """Parameters of :func:`factorize_linear`/:func:`factorize_conv` at ``rank``:
    r*(m + n) + (m if the layer has a bias)."""
    m, n = weight_matrix(layer).shape
    rank = check_rank(rank, (m, n))
    return rank * (m + n) + (m if "bias" in layer.params else 0)


def rank_for_budget(layer, max_params: int) -> int:
    """Largest rank whose factorised layer has at most ``max_params`` parameters.

    r = min(floor((max_params - bias) / (m + n)), min(m, n)), with bias = m if the layer has
    one (the bias is kept, so it counts).  ``max_params = layer.num_parameters() // 4`` asks
    for at most a quarter of the layer's parameters.  Raises ValueError if even rank 1 does
    not fit.
    """
    m, n = weight_matrix(layer).shape
    max_params = check_int(max_params, "max_params", low=1)
    bias = m if "bias" in layer.params else 0
    r = min((max_params - bias) // (m + n), min(m, n))
    if r < 1:
        raise ValueError(
            f"max_params={max_params} is too small: rank 1 already needs {m + n + bias} parameters "
            f"for a {m} x {n} weight{' plus its bias' if bias else ''}"
        )
    return int(r)


def _warn_if_no_saving(layer, rank: int, fn: str) -> None:
    m, n = weight_matrix(layer).shape
    if rank * (m + n) >= m * n:
        warnings.warn(
            f"{fn}: rank {rank} stores {rank * (m + n)} weights in its two factors, not fewer than "
            f"the {m * n} of the dense {m} x {n} weight; a rank below {m * n / (m + n):.1f} saves "
            f"parameters and MACs",
            UserWarning,
            stacklevel=3,
        )


def _split_sqrt(layer, rank):
    """A = sqrt(S) V^T: (r, n) and B = U sqrt(S): (m, r) with B A the best rank-r W_r."""
    W = weight_matrix(layer)
    check_finite(W, f"the weight of {layer!r}")
    _, U, s, Vt = svd_truncate(W, rank)
    root = np.sqrt(s)
    return (root[:, None] * Vt).astype(W.dtype), (U * root).astype(W.dtype)


def _set(layer: Module, weight: np.ndarray, bias=None) -> Module:
    layer.params["weight"][...] = weight
    if bias is not None:
        layer.params["bias"][...] = bias
    return layer


def factorize_linear(layer, rank: int) -> Sequential:
    """Linear(in, out) -> Sequential(v=Linear(in, r, bias=False), u=Linear(r, out)).

    W ~ W_r = U_r S_r V_r^T (truncated SVD, section 4.4.1), so y = W x + b becomes
    y = (U_r sqrt(S_r)) ((sqrt(S_r) V_r^T) x) + b: the ``v`` layer holds sqrt(S_r) V_r^T
    (r, in), the ``u`` layer U_r sqrt(S_r) (out, r) and the original bias.

    Parameters: r*(in + out) + out instead of in*out + out; a UserWarning says so when
    r >= in*out / (in + out), where the factorisation saves nothing.

    Parameters
    ----------
    layer : Linear
    rank : int in [1, min(in, out)]
    """
    layer = _check_layer(layer, (Linear,), "factorize_linear",
                         " For a Conv2d use factorize_conv or tucker2_conv.")
    W = layer.params["weight"]
    rank = check_rank(rank, W.shape)
    _warn_if_no_saving(layer, rank, "factorize_linear")
    A, B = _split_sqrt(layer, rank)
    has_bias = "bias" in layer.params
    v = _set(Linear(layer.in_features, rank, bias=False, dtype=W.dtype), A)
    u = _set(Linear(rank, layer.out_features, bias=has_bias, dtype=W.dtype), B,
             layer.params.get("bias"))
    return Sequential(v=v, u=u)


def factorize_conv(layer, rank: int) -> Sequential:
    """Conv2d -> Sequential(v=Conv2d(C_in, r, kh x kw, same stride/padding, no bias),
    u=Conv2d(r, C_out, 1x1, with the bias)).

    The kernel is treated as the matrix it is in ``im2col`` form, W: (C_out, C_in*kh*kw);
    its truncated SVD B A (B = U sqrt(S): (C_out, r), A = sqrt(S) V^T: (r, C_in*kh*kw)) is
    split into a kh x kw convolution with r filters A.reshape(r, C_in, kh, kw) followed by
    a 1x1 convolution with weight B.reshape(C_out, r, 1, 1).  The output equals the
    convolution with the rank-r kernel (B A).reshape(C_out, C_in, kh, kw) exactly (a test
    checks it).  This is what the source text's section 3.4.2 snippet means to do: see
    :mod:`minicompress.lowrank.snippet` for what it actually does.

    Parameters
    ----------
    layer : Conv2d
    rank : int in [1, min(C_out, C_in*kh*kw)]
    """
    layer = _check_layer(layer, (Conv2d,), "factorize_conv", " For a Linear use factorize_linear.")
    W = layer.params["weight"]
    rank = check_rank(rank, weight_matrix(layer).shape)
    _warn_if_no_saving(layer, rank, "factorize_conv")
    A, B = _split_sqrt(layer, rank)
    C_out, C_in, kh, kw = W.shape
    v = Conv2d(C_in, rank, (kh, kw), layer.stride, layer.padding, bias=False, dtype=W.dtype)
    u = Conv2d(rank, C_out, 1, bias="bias" in layer.params, dtype=W.dtype)
    _set(v, A.reshape(rank, C_in, kh, kw))
    _set(u, B.reshape(C_out, rank, 1, 1), layer.params.get("bias"))
    return Sequential(v=v, u=u)


def tucker2_conv(layer, ranks, *, n_iter: int = 20) -> Sequential:
    """Tucker-2 on the channel modes of a conv kernel (Kim et al., ICLR 2016), section 4.4.2.

    K ~ G x_0 U_out x_1 U_in, with K: (C_out, C_in, kh, kw), core G: (r_out, r_in, kh, kw),
    U_out: (C_out, r_out), U_in: (C_in, r_in) (HOOI from the HOSVD, ``n_iter`` sweeps).
    Since conv(x, K)[o] = sum_a U_out[o, a] sum_b conv(G[a, b], sum_c U_in[c, b] x[c]),
    the layer becomes three convolutions::

        first = Conv2d(C_in, r_in, 1, bias=False)           weight U_in^T
        core  = Conv2d(r_in, r_out, kh x kw, stride, padding, bias=False)   weight G
        last  = Conv2d(r_out, C_out, 1)                      weight U_out, the original bias

    and its output equals the convolution with the reconstructed kernel exactly.  The 1x1
    convolutions have stride 1 and no padding; the first has no bias, so zero padding
    before or after it is the same.

    Parameters
    ----------
    layer : Conv2d
    ranks : (r_out, r_in), in the order of the weight's axes (C_out, C_in, kh, kw);
        1 <= r_out <= min(C_out, C_in*kh*kw) and 1 <= r_in <= min(C_in, C_out*kh*kw)
    n_iter : HOOI sweeps (0: plain HOSVD)

    A UserWarning says so when the three convolutions hold as many weights as the kernel.
    """
    layer = _check_layer(layer, (Conv2d,), "tucker2_conv",
                         " Tucker-2 acts on the two channel modes of a conv kernel; for a Linear "
                         "layer use factorize_linear.")
    W = layer.params["weight"]
    if not isinstance(ranks, (list, tuple, np.ndarray)) or len(ranks) != 2:
        raise ValueError(
            f"ranks must be a pair (r_out, r_in), in the order of the weight's axes "
            f"(C_out, C_in, kh, kw) = {W.shape}; got {ranks!r}"
        )
    C_out, C_in, kh, kw = W.shape
    r_out = check_rank(ranks[0], (C_out, C_in * kh * kw), "ranks[0] (r_out)")
    r_in = check_rank(ranks[1], (C_in, C_out * kh * kw), "ranks[1] (r_in)")
    n_factored = C_in * r_in + r_out * r_in * kh * kw + r_out * C_out
    if n_factored >= W.size:
        warnings.warn(
            f"tucker2_conv: ranks ({r_out}, {r_in}) store {n_factored} weights in the three "
            f"convolutions, not fewer than the {W.size} of the dense kernel {W.shape}",
            UserWarning, stacklevel=2,
        )
    check_finite(W, f"the weight of {layer!r}")
    core, (U_out, U_in) = hooi(W, (r_out, r_in), n_iter=n_iter, modes=(0, 1))
    first = Conv2d(C_in, r_in, 1, bias=False, dtype=W.dtype)
    mid = Conv2d(r_in, r_out, (kh, kw), layer.stride, layer.padding, bias=False, dtype=W.dtype)
    last = Conv2d(r_out, C_out, 1, bias="bias" in layer.params, dtype=W.dtype)
    _set(first, U_in.T.reshape(r_in, C_in, 1, 1))
    _set(mid, core)
    _set(last, U_out.reshape(C_out, r_out, 1, 1), layer.params.get("bias"))
    return Sequential(first=first, core=mid, last=last)
