"""Cross-layer equalization and bias correction (Nagel, van Baalen, Blankevoort & Welling
2019, "Data-Free Quantization Through Weight Equalization and Bias Correction").

**Cross-layer equalization (CLE)**, section 4.1.  ReLU is positively homogeneous,
``ReLU(s x) = s ReLU(x)`` for s > 0 (and so are max pooling and flattening), so in a chain
``W2 f(W1 x + b1)`` channel i of the first layer can be divided by s_i and the matching
input channel of the second multiplied by it without changing the float function::

    W1' = S^-1 W1,   b1' = S^-1 b1,   W2' = W2 S,       S = diag(s) > 0

The paper's choice makes both ranges equal, ``r1_i / s_i = r2_i s_i = sqrt(r1_i r2_i)``::

    s_i = sqrt(r1_i / r2_i)                             (:func:`cle_scales`)

with r1_i = max|row i of W1|, r2_i = max|input channel i of W2| -- so that a per-tensor grid
no longer wastes its range on the few channels with large weights.

**Bias correction**, section 4.2 (the empirical variant): quantization shifts the mean of a
layer's output, ``E[y_q] != E[y]``; adding the difference to the quantized layer's bias,

    b' = b + E[y_float] - E[y_quant]          (per output channel, mean over the calibration set)

makes the mean output error of the layer zero on the calibration set.  Layers are corrected
in order, each measured through the already-corrected earlier ones.
"""

from __future__ import annotations

import copy

import numpy as np

from ..formats import StoredLayer
from ..nn._checks import check_array, check_int, check_same_shape
from ..nn.calibration import layer_inputs
from ..nn.layers import Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU
from ..nn.module import check_module
from .sequential import check_calibration, quantize_sequentially, target_layers

__all__ = ["cle_scales", "equalize_pair", "equalize", "channel_means", "bias_correction"]

#: modules f with f(s x) = s f(x) for every per-channel s > 0: they may sit between a CLE pair
HOMOGENEOUS = (ReLU, MaxPool2d, Flatten)


def cle_scales(r1, r2) -> np.ndarray:
    """``s_i = sqrt(r1_i / r2_i)``; 1 where either range is 0 (a dead channel stays as it is).

    r1 : (C,) output ranges of the first layer;  r2 : (C,) input ranges of the second.
    """
    r1, r2 = (check_array(r, n, ndim=1, finite=True).astype(np.float64) for r, n in ((r1, "r1"), (r2, "r2")))
    check_same_shape(r1, r2, ("r1", "r2"))
    if (r1 < 0).any() or (r2 < 0).any():
        raise ValueError(f"r1 and r2 are ranges, >= 0; got minima {r1.min()} and {r2.min()}")
    ok = (r1 > 0) & (r2 > 0)
    return np.where(ok, np.sqrt(np.where(ok, r1, 1.0) / np.where(ok, r2, 1.0)), 1.0)


def _input_channels(w2: np.ndarray, C: int) -> np.ndarray:
    """The second weight as (out, C, rest): input channel i is ``[:, i, :]`` (a Linear after a
    Flatten of (C, H, W) takes channel i's H*W pixels as consecutive columns)."""
    if w2.shape[1] % C:
        raise ValueError(f"the second layer's {w2.shape[1]} inputs are not {C} channels of equal size")
    return w2.reshape(w2.shape[0], C, -1)


def equalize_pair(first: Module, second: Module) -> np.ndarray:
    """Equalize one pair in place (``first`` -> homogeneous modules -> ``second``); returns s."""
    w1 = first.params["weight"]
    C = w1.shape[0]
    view = _input_channels(second.params["weight"], C)
    r1 = np.abs(w1.reshape(C, -1)).max(axis=1)
    r2 = np.abs(view).max(axis=(0, 2))
    s = cle_scales(r1, r2)
    w1 /= s.reshape((-1,) + (1,) * (w1.ndim - 1)).astype(w1.dtype)
    if "bias" in first.params:
        first.params["bias"] /= s.astype(w1.dtype)
    view *= s[None, :, None].astype(view.dtype)  # a view: edits the second weight in place
    return s


def _pairs(model: Module) -> list[tuple[Module, Module]]:
    """(first, second) weighted layers with only homogeneous modules between them, in order."""
    leaves = [m for _, m in model.named_modules() if not m.children()]
    pairs, last = [], None
    for mod in leaves:
        if isinstance(mod, (Linear, Conv2d)):
            if last is not None:
                pairs.append((last, mod))
            last = mod
        elif not isinstance(mod, HOMOGENEOUS):
            last = None  # anything else breaks the chain
    return pairs


def equalize(model: Module, *, iterations: int = 1) -> Module:
    """A copy of ``model`` with cross-layer equalization applied to every pair of Linear/Conv2d
    layers joined by ReLU / MaxPool2d / Flatten only; the float function is unchanged.

    ``iterations`` sweeps over the pairs (the paper iterates until the ranges stop changing
    when a layer belongs to two pairs)."""
    check_module(model)
    iterations = check_int(iterations, "iterations", low=1)
    out = copy.deepcopy(model)
    pairs = _pairs(out)
    if not pairs:
        raise ValueError("model has no Linear/Conv2d -> ReLU -> Linear/Conv2d chain to equalize")
    for _ in range(iterations):
        for first, second in pairs:
            equalize_pair(first, second)
    return out


def channel_means(y: np.ndarray) -> np.ndarray:
    """Mean over examples (and pixels) per output channel: (N, C) or (N, C, H, W) -> (C,)."""
    return y.mean(axis=0) if y.ndim == 2 else y.mean(axis=(0, 2, 3))


def _with_bias(layer: Module, bias: np.ndarray) -> Module:
    """``layer`` with a new bias: a StoredLayer is rebuilt from its weight encoding (fp32 bias),
    a float Linear/Conv2d gets the bias in its own dtype."""
    if isinstance(layer, StoredLayer):
        geometry = {"stride": layer.stride, "padding": layer.padding} if layer.kind == "conv2d" else {}
        return type(layer)(layer.encodings()["weight"], bias.astype(np.float32), **geometry)
    if isinstance(layer, (Linear, Conv2d)):
        dtype = layer.params["weight"].dtype
        layer.params["bias"] = bias.astype(dtype)
        layer.grads["bias"] = np.zeros_like(layer.params["bias"])
        return layer
    raise TypeError(f"bias correction needs a Linear/Conv2d or a stored-weight layer; got "
                    f"{type(layer).__name__}")


def _bias_of(layer: Module, channels: int) -> np.ndarray:
    if isinstance(layer, StoredLayer):
        b = layer.encodings().get("bias")
        return np.zeros(channels) if b is None else b.decode().astype(np.float64)
    b = layer.params.get("bias")
    return np.zeros(channels) if b is None else b.astype(np.float64)


def bias_correction(float_model: Module, quant_model: Module, X, *, layers=None) -> Module:
    """Empirical bias correction: a copy of ``quant_model`` whose layers' biases are shifted
    by ``E[y_float] - E[y_quant]`` on the calibration inputs ``X``.

    Parameters
    ----------
    float_model : the float Sequential the quantized one was made from
    quant_model : the same architecture with (some) quantized layers, same names
    X : (N, ...) float calibration inputs
    layers : names of the layers to correct (default every Linear/Conv2d of ``float_model``)

    Notes
    -----
    After correction, the mean output of each corrected layer over ``X`` equals the float
    layer's (the mean over examples and pixels, per channel), up to the float32 rounding of a
    stored bias.  The float outputs are the float model's own (its layers see float inputs).
    """
    check_module(float_model, "float_model")
    check_module(quant_model, "quant_model")
    names = target_layers(float_model, layers)
    X = check_calibration(X)
    float_in = layer_inputs(float_model, X, names)
    target = {n: channel_means(float_model.get_submodule(n).forward(float_in[n]).astype(np.float64))
              for n in names}

    def make(name, layer, x):
        mean_q = channel_means(layer.forward(x).astype(np.float64))
        return _with_bias(layer, _bias_of(layer, len(mean_q)) + target[name] - mean_q)

    return quantize_sequentially(quant_model, X, names, make)
