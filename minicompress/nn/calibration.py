"""Calibration data seen by one layer: what layer-wise compression measures a layer on.

Methods that prune or quantize a trained network *layer by layer* from a few hundred
calibration inputs -- OBS/Optimal Brain Compression, SparseGPT (Frantar & Alistarh 2022,
2023), GPTQ (Frantar et al. 2023), AdaRound (Nagel et al. 2020) -- minimise, for one layer
with weight W and the inputs X it sees,

    min  || X W^T - X W'^T ||_F^2 / N        over W' of the allowed form (sparse, quantized)

Row by row this is a quadratic in the row's weights with the same d x d Hessian

    H = 2 X^T X / N          (X: (N, d), one row per input vector; Hassibi & Stork 1993)

For a Conv2d the "input vectors" are its im2col patches: every output pixel of every image
is one row of length C_in*kh*kw, in the order of ``weight.reshape(C_out, -1)``.  This module
lists the layers (:func:`weight_layer_names`), collects their inputs (:func:`layer_inputs`)
and builds H (:func:`layer_hessian`); the techniques that use them live in ``prune`` and
``quantize``.
"""

from __future__ import annotations

import numpy as np

from . import functional as F
from ._checks import check_array, check_float, check_int, check_names
from .layers import Conv2d, Linear
from .module import check_module
from .sequential import Sequential

__all__ = ["weight_layer_names", "check_calibration", "layer_inputs", "input_rows", "layer_hessian"]


def weight_layer_names(model) -> list[str]:
    """Dotted names of every Linear and Conv2d of ``model``, in the order the input reaches them."""
    check_module(model)
    return [name for name, mod in model.named_modules() if name and isinstance(mod, (Linear, Conv2d))]


def check_calibration(X) -> np.ndarray:
    """Calibration inputs: a non-empty, finite numeric ndarray (N, ...)."""
    if not isinstance(X, np.ndarray):
        raise TypeError(f"X must be a numpy array of calibration inputs (N, ...); got {type(X).__name__}")
    X = check_array(X, "X", finite=True)
    if X.ndim < 2 or len(X) == 0:
        raise ValueError(f"X must hold N >= 1 calibration inputs along axis 0; got shape {X.shape}")
    return X


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


def layer_inputs(model, X, names, *, batch_size: int = 500) -> dict[str, np.ndarray]:
    """The input each named layer receives when ``model`` runs forward on ``X``, as it is now
    (after earlier layers were compressed: their compressed outputs, what the sequential
    methods need).

    Parameters
    ----------
    model : Sequential (children may be nested Sequentials, reached by dotted names)
    X : (N, ...) finite calibration inputs the model accepts (training images, never the
        test split)
    names : dotted layer names, e.g. ``["fc1", "fc2"]`` or ``["fc1.u"]``
    batch_size : inputs run forward at a time; each pass stops after the last named layer

    Returns
    -------
    ``{name: array}``: (N, in_features) for a Linear, (N, C_in, H, W) for a Conv2d.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a Sequential; got {type(model).__name__}")
    X = check_calibration(X)
    batch_size = check_int(batch_size, "batch_size", low=1)
    if not isinstance(names, str):
        names = check_names(names, "names", "layer names such as ['fc1']")
    names = [names] if isinstance(names, str) else list(names)
    modules = dict(model.named_modules())
    unknown = [n for n in names if n not in modules or n == ""]
    if not names or unknown:
        raise ValueError(f"names must name layers of the model; got {names!r} ({unknown} unknown); "
                         f"the model's Linear/Conv2d layers are {weight_layer_names(model)}")
    parts: dict[str, list] = {n: [] for n in names}
    for start in range(0, len(X), batch_size):
        out: dict[str, np.ndarray] = {}
        try:
            _run(model, X[start:start + batch_size], "", set(names), out)
            for n in names:  # the pass stops before the last named layer runs: check its input
                if n in out and isinstance(modules[n], (Linear, Conv2d)):
                    input_rows(modules[n], out[n][:1])
        except ValueError as err:
            raise ValueError(f"X of shape {X.shape} does not fit the model: {err}") from None
        missing = [n for n in names if n not in out]
        if missing:
            raise ValueError(f"layers {missing} sit inside a module that is not a Sequential, so their "
                             f"inputs cannot be recorded; name the enclosing module instead")
        for n in names:
            parts[n].append(out[n])
    return {n: np.concatenate(parts[n]) for n in names}


def input_rows(layer, x) -> np.ndarray:
    """The layer's input as the rows its weight multiplies: (N, in) for a Linear; the im2col
    patches (N*H'*W', C_in*kh*kw) for a Conv2d, in ``weight.reshape(C_out, -1)``'s order."""
    if isinstance(layer, Linear):
        if x.ndim != 2 or x.shape[1] != layer.in_features:
            raise ValueError(f"x must be (N, {layer.in_features}) for {layer!r}; got shape {x.shape}")
        return x
    if isinstance(layer, Conv2d):
        if x.ndim != 4 or x.shape[1] != layer.in_channels:
            raise ValueError(f"x must be (N, {layer.in_channels}, H, W) for {layer!r}; got shape {x.shape}")
        return F.im2col(x, *layer.kernel_size, layer.stride, layer.padding)
    raise TypeError(f"layer must be a Linear or Conv2d; got {type(layer).__name__}")


def layer_hessian(layer, x, *, damp: float = 0.01, batch_size: int = 100) -> np.ndarray:
    """``H = 2 X^T X / N + damp * mean(diag(2 X^T X / N)) * I``, (d, d) float64.

    The Hessian of the layer's reconstruction error ``||W X^T - W' X^T||^2 / N`` per output
    row (Frantar & Alistarh 2023, "SparseGPT", section 3; GPTQ uses the same), X =
    :func:`input_rows` of ``x`` (formed ``batch_size`` images at a time for a Conv2d, to
    bound memory).  The damping, 1% of the mean diagonal by default as in both papers, makes
    H invertible when some inputs are always 0 (MNIST's border pixels, dead ReLUs).

    Raises ValueError when every calibration input is 0 (H = 0: nothing to measure on).
    """
    damp = check_float(damp, "damp", low=0.0)
    batch_size = check_int(batch_size, "batch_size", low=1)
    x = check_array(x, "x", finite=True)
    if len(x) == 0:
        raise ValueError("x is empty; the Hessian needs at least one calibration input")
    H, rows = None, 0
    for start in range(0, len(x), batch_size if isinstance(layer, Conv2d) else len(x)):
        X = input_rows(layer, x[start:start + batch_size] if isinstance(layer, Conv2d) else x)
        X = X.astype(np.float64)
        H = X.T @ X if H is None else H + X.T @ X
        rows += len(X)
    H *= 2.0 / rows
    mean_diag = float(np.mean(np.diag(H)))
    if mean_diag == 0.0:
        raise ValueError(f"every calibration input of {layer!r} is 0, so its Hessian is 0; use other data")
    H[np.diag_indices_from(H)] += damp * mean_diag
    return H
