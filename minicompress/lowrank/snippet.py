"""The source text's section 3.4.2 snippet, transcribed literally, and what it computes.

The text (PyTorch)::

    for name, param in model.named_parameters():
        if 'conv' in name and 'weight' in name:
            U, S, V = torch.linalg.svd(param)
            rank = int(param.shape[0] * 0.5)
            param.data = U[:, :rank] @ torch.diag(S[:rank]) @ V[:rank, :]

On a 2-D weight this is the truncated SVD (``V`` is really V^T: ``torch.linalg.svd``
returns Vh).  But ``param`` is a 4-D conv weight (C_out, C_in, kh, kw), and
``torch.linalg.svd`` -- like ``np.linalg.svd`` -- treats any array with more than two axes
as a *stack* of matrices over its last two axes:

- it computes C_out * C_in separate SVDs of the kh x kw spatial kernels:
  U: (C_out, C_in, kh, kh), S: (C_out, C_in, min(kh, kw)), V: (C_out, C_in, kw, kw);
- ``rank = int(C_out * 0.5)`` counts output channels, not singular values;
- ``U[:, :rank]`` slices the *input-channel* axis, ``S[:rank]`` and ``V[:rank, :]`` the
  *output-channel* axis: none of the three indexes singular values;
- ``torch.diag`` / ``np.diag`` accept only 1-D or 2-D input, and ``S[:rank]`` is 3-D, so the
  line raises (RuntimeError in PyTorch, ValueError in NumPy).

Repairing the indexing to act on the last axes (:func:`kernelwise_svd_truncate`) gives a
rank-r approximation of every kh x kw *spatial kernel* separately -- not a low-rank
approximation of the layer: the layer's matrix (C_out, C_in*kh*kw) keeps (nearly) full rank,
the dense weight is written back with the same number of parameters, and nothing is saved.
The layer-level factorisation is :func:`minicompress.lowrank.factorize_conv`.
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import check_array, check_int

__all__ = ["text_snippet_svd", "snippet_shapes", "kernelwise_svd_truncate"]


def _check_param(param) -> np.ndarray:
    """A finite array with at least 2 axes: refused before LAPACK, which may never return
    on inf."""
    param = check_array(param, "param", finite=True)
    if param.ndim < 2:
        raise ValueError(f"param must have at least 2 axes (a weight); got shape {param.shape}")
    return param


def text_snippet_svd(param) -> np.ndarray:
    """The text's line, in NumPy, operation for operation (do not use: for teaching).

    For a 2-D ``param`` this returns its rank-int(0.5 * rows) truncated SVD; for a 4-D
    conv weight it raises ValueError from ``np.diag`` (3-D input), as PyTorch's
    ``torch.diag`` raises RuntimeError.
    """
    param = _check_param(param)
    U, S, V = np.linalg.svd(param)  # batched over all but the last two axes when ndim > 2
    rank = int(param.shape[0] * 0.5)
    return U[:, :rank] @ np.diag(S[:rank]) @ V[:rank, :]


def snippet_shapes(param) -> dict[str, tuple]:
    """Shapes of every intermediate of the text's snippet, up to the line that raises."""
    param = _check_param(param)
    U, S, V = np.linalg.svd(param)
    rank = int(param.shape[0] * 0.5)
    return {
        "param": param.shape, "U": U.shape, "S": S.shape, "V": V.shape, "rank": rank,
        "U[:, :rank]": U[:, :rank].shape, "S[:rank]": S[:rank].shape,
        "V[:rank, :]": V[:rank, :].shape,
    }


def kernelwise_svd_truncate(weight, rank: int) -> np.ndarray:
    """The snippet with its indexing repaired to the last axes: every kh x kw kernel
    weight[o, c] replaced by its own best rank-r approximation.

        out[o, c] = U[o, c][:, :r] diag(S[o, c][:r]) Vh[o, c][:r, :]

    weight : (..., kh, kw);  rank in [1, min(kh, kw)].  Returns an array of weight's shape.
    """
    weight = check_array(weight, "weight", finite=True)
    if weight.ndim < 2:
        raise ValueError(f"weight must have at least 2 axes; got shape {weight.shape}")
    rank = check_int(rank, "rank", low=1, high=min(weight.shape[-2:]))
    U, S, Vh = np.linalg.svd(weight, full_matrices=False)
    return (U[..., :, :rank] * S[..., None, :rank]) @ Vh[..., :rank, :]
