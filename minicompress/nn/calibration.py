"""Calibration data seen by one layer: what second-order compression measures a layer on.

Methods that prune or quantize a trained network *layer by layer* from a few hundred
calibration inputs -- OBS/Optimal Brain Compression, SparseGPT (Frantar & Alistarh 2022,
2023), GPTQ (Frantar et al. 2023), AdaRound (Nagel et al. 2020) -- all minimise, for one
layer with weight W and the inputs X it sees, the reconstruction error

    E(W_hat) = || X W^T - X W_hat^T ||_F^2 / N,

whose Hessian with respect to each row of W_hat is the same d x d matrix

    H = 2 X^T X / N          (X: (N, d), one row per input vector).

For a Conv2d the "input vectors" are its im2col patches: every output pixel of every image
is one row of length C_in*kh*kw, in the order of ``weight.reshape(C_out, -1)``.  This module
collects those inputs (:func:`layer_inputs`) and builds H (:func:`layer_hessian`); the
techniques that use them live in ``prune`` and ``quantize``.
"""

from __future__ import annotations

import numpy as np

from . import functional as F
from ._checks import check_finite, check_float, check_int
from .layers import Conv2d, Linear, Module, Sequential

__all__ = ["layer_inputs", "input_rows", "layer_hessian"]


def _run(module: Module, x, prefix: str, wanted: set, out: dict):
    """Forward ``x`` through ``module``, recording the input of every layer named in ``wanted``."""
    if prefix in wanted:
        out.setdefault(prefix, []).append(x)
    if isinstance(module, Sequential):
        for name, child in module.children().items():
            x = _run(child, x, f"{prefix}.{name}" if prefix else name, wanted, out)
        return x
    return module(x)


def layer_inputs(model: Module, X, names, *, batch_size: int = 500) -> dict[str, np.ndarray]:
    """The inputs each named layer receives when ``model`` runs forward on ``X``.

    Parameters
    ----------
    model : Module (Sequentials are walked by their dotted child names, e.g. ``"fc1"``)
    X : (N, ...) finite calibration inputs (training images, never the test split)
    names : dotted layer names (``model.get_submodule(name)`` must exist)
    batch_size : inputs run forward at a time

    Returns
    -------
    ``{name: array}``: the layer's input for all N examples, (N, in) for a Linear, (N, C, H, W)
    for a Conv2d -- computed by the model as it is now (after earlier layers were compressed,
    their compressed outputs: what the sequential methods need).
    """
    if not isinstance(model, Module):
        raise TypeError(f"model must be a minicompress Module; got {type(model).__name__}")
    if isinstance(names, str) or not names:
        raise TypeError(f"names must be a non-empty list of layer names such as ['fc1']; got {names!r}")
    for name in names:
        model.get_submodule(name)  # names an unknown layer clearly
    if not isinstance(X, np.ndarray) or X.ndim < 1 or len(X) == 0:
        raise ValueError(f"X must be a non-empty numpy array of calibration inputs; got {type(X).__name__} "
                         f"{np.shape(X)}")
    check_finite(X, "X")
    batch_size = check_int(batch_size, "batch_size", low=1)
    out: dict[str, list] = {}
    wanted = set(names)
    for start in range(0, len(X), batch_size):
        try:
            _run(model, X[start:start + batch_size], "", wanted, out)
        except ValueError as err:
            raise ValueError(f"X of shape {X.shape} does not fit the model: {err}") from err
    return {name: np.concatenate(out[name]) for name in names}


def input_rows(layer, x) -> np.ndarray:
    """The layer's input as the rows its weight multiplies: (N, in) for a Linear; the im2col
    patches (N*H'*W', C_in*kh*kw) for a Conv2d, in ``weight.reshape(C_out, -1)``'s order."""
    if isinstance(layer, Linear):
        if x.ndim != 2 or x.shape[1] != layer.in_features:
            raise ValueError(f"a {layer!r} input must be (N, {layer.in_features}); got {x.shape}")
        return x
    if isinstance(layer, Conv2d):
        if x.ndim != 4 or x.shape[1] != layer.in_channels:
            raise ValueError(f"a {layer!r} input must be (N, {layer.in_channels}, H, W); got {x.shape}")
        return F.im2col(x, *layer.kernel_size, layer.stride, layer.padding)
    raise TypeError(f"layer must be a Linear or Conv2d; got {type(layer).__name__}")


def layer_hessian(layer, x, *, damp: float = 0.0) -> np.ndarray:
    """``H = 2 X^T X / N + damp * mean(diag(2 X^T X / N)) * I``, (d, d) float64.

    X = :func:`input_rows` of ``x`` (N rows of length d = in_features, or C_in*kh*kw).  H is
    the Hessian of the layer's reconstruction error ``||X (w - w_hat)||^2 / N`` with respect
    to each output row w_hat; the damping (SparseGPT and GPTQ use damp = 0.01 of the mean
    diagonal) makes it positive definite when some inputs are always zero (dead pixels,
    dead ReLUs).  An all-zero X with damp > 0 gives ``damp * I``.
    """
    damp = check_float(damp, "damp", low=0.0)
    rows = input_rows(layer, x).astype(np.float64)
    H = 2.0 * (rows.T @ rows) / len(rows)
    if damp > 0:
        mean_diag = float(np.mean(np.diag(H)))
        H[np.diag_indices_from(H)] += damp * (mean_diag if mean_diag > 0 else 1.0)
    return H
