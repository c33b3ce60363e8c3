"""Calibration data for layer-wise compression: what each layer sees, and its Hessian.

Layer-wise methods (SparseGPT here; GPTQ for quantization) compress one layer at a time so
that its output on real inputs X changes least:

    min  || W X^T - W' X^T ||^2 / N      over W' of the allowed form (sparse, quantized)

Row by row this is a quadratic in the row's weights with the Hessian

    H = 2 X^T X / N        (d_col x d_col; X: (N, d_col), the layer's inputs)

(Hassibi & Stork 1993; Frantar & Alistarh 2022, "Optimal Brain Compression").  For a Conv2d
the rows of X are the im2col patches (N * H' * W' of them, each C_in*kh*kw long), and W is
the weight viewed as (C_out, C_in*kh*kw).  :func:`layer_inputs` runs the model's earlier
layers forward to get X; :func:`layer_hessian` forms H with the paper's damping.
"""

from __future__ import annotations

import numpy as np

from ..nn import functional as F
from ..nn._checks import check_array, check_float
from ..nn.layers import Conv2d, Linear, Module, Sequential

__all__ = ["compressible_layers", "layer_inputs", "layer_hessian"]


def compressible_layers(model) -> list[str]:
    """Dotted names of every Linear and Conv2d in ``model``, in the order the input reaches them."""
    if not isinstance(model, Module):
        raise TypeError(f"model must be a Module; got {type(model).__name__}")
    return [name for name, mod in model.named_modules() if isinstance(mod, (Linear, Conv2d))]


def _run(module, x, prefix: str, wanted: set, out: dict):
    """Forward ``x`` through ``module``, recording the input of every wanted child; stops as
    soon as all are recorded.  Returns (x, done)."""
    if not isinstance(module, Sequential):
        return module.forward(x), False
    for name, child in module.children().items():
        full = f"{prefix}.{name}" if prefix else name
        if full in wanted:
            out[full] = x
            if len(out) == len(wanted):
                return x, True
        x, done = _run(child, x, full, wanted, out)
        if done:
            return x, True
    return x, False


def check_calibration(X) -> np.ndarray:
    """Calibration inputs: a non-empty, finite numeric ndarray (N, ...)."""
    if not isinstance(X, np.ndarray):
        raise TypeError(f"X must be a numpy array of calibration inputs (N, ...); got {type(X).__name__}")
    X = check_array(X, "X", finite=True)
    if X.ndim < 2 or len(X) == 0:
        raise ValueError(f"X must hold N >= 1 calibration inputs along axis 0; got shape {X.shape}")
    return X


def layer_inputs(model, X, layer_names) -> dict[str, np.ndarray]:
    """The input each named layer receives when ``model`` runs on ``X`` (its current weights).

    Parameters
    ----------
    model : Sequential (children may be nested Sequentials, reached by dotted names)
    X : (N, ...) calibration inputs the model accepts, e.g. (N, 1, 28, 28) training digits
    layer_names : iterable of dotted module names, e.g. ``["fc1", "fc2"]`` or ``["fc1.u"]``

    Returns
    -------
    inputs : ``{name: array}``, the array fed to that layer: (N, in_features) for a Linear,
        (N, C_in, H, W) for a Conv2d.  One forward pass, stopped after the last named layer.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a Sequential; got {type(model).__name__}")
    X = check_calibration(X)
    names = list(layer_names) if not isinstance(layer_names, str) else [layer_names]
    modules = dict(model.named_modules())
    unknown = [n for n in names if n not in modules or n == ""]
    if not names or unknown:
        raise ValueError(f"layer_names must name layers of the model; got {names!r} ({unknown} unknown); "
                         f"the model's Linear/Conv2d layers are {compressible_layers(model)}")
    out: dict[str, np.ndarray] = {}
    try:
        _run(model, X, "", set(names), out)
    except ValueError as err:
        raise ValueError(f"X of shape {X.shape} does not fit the model: {err}") from None
    missing = [n for n in names if n not in out]
    if missing:
        raise ValueError(f"layers {missing} sit inside a module that is not a Sequential, so their "
                         f"inputs cannot be recorded; name the enclosing module instead")
    return {n: out[n] for n in names}


def layer_hessian(layer, x, *, damp: float = 0.01, batch_size: int = 100) -> np.ndarray:
    """H = 2 X^T X / N + damp * mean(diag(2 X^T X / N)) * I for one Linear or Conv2d.

    The Hessian of the layer's reconstruction error ||W X^T - W' X^T||^2 / N, per output row
    (Frantar & Alistarh 2023, "SparseGPT", section 3; the damping is theirs, 1% by default).

    Parameters
    ----------
    layer : Linear (x: (N, in_features), X = x) or Conv2d (x: (N, C_in, H, W), X = its
        im2col rows, (N*H'*W', C_in*kh*kw) with the layer's stride and padding)
    x : the layer's input, e.g. from :func:`layer_inputs`
    damp : float >= 0, added to the diagonal relative to its mean; inputs that are always 0
        (MNIST's border pixels) give zero rows of X^T X, which the damping makes invertible
    batch_size : images per im2col batch (Conv2d), to bound memory

    Returns
    -------
    H : (d_col, d_col) float64, symmetric positive semi-definite (definite when damp > 0)
    """
    damp = check_float(damp, "damp", low=0.0)
    x = check_array(x, "x", finite=True)
    if len(x) == 0:
        raise ValueError("x is empty; the Hessian needs at least one calibration input")
    if isinstance(layer, Linear):
        if x.ndim != 2 or x.shape[1] != layer.in_features:
            raise ValueError(f"x must be (N, {layer.in_features}) for {layer!r}; got shape {x.shape}")
        X = x.astype(np.float64)
        H, rows = X.T @ X, len(X)
    elif isinstance(layer, Conv2d):
        if x.ndim != 4 or x.shape[1] != layer.in_channels:
            raise ValueError(f"x must be (N, {layer.in_channels}, H, W) for {layer!r}; got shape {x.shape}")
        kh, kw = layer.kernel_size
        K = layer.in_channels * kh * kw
        H, rows = np.zeros((K, K)), 0
        for start in range(0, len(x), batch_size):
            cols = F.im2col(x[start : start + batch_size].astype(np.float64), kh, kw, layer.stride,
                            layer.padding)
            H += cols.T @ cols
            rows += len(cols)
    else:
        raise TypeError(f"layer must be a Linear or Conv2d; got {type(layer).__name__}")
    H *= 2.0 / rows
    mean_diag = float(np.mean(np.diag(H)))
    if mean_diag == 0.0:
        raise ValueError(f"every calibration input of {layer!r} is 0, so its Hessian is 0; use other data")
    H[np.diag_indices_from(H)] += damp * mean_diag
    return H
