"""The layer-by-layer loop of post-training methods that learn from calibration data (GPTQ,
AdaRound, bias correction): one scaffold, so each method only says what it does to one layer.

Layers are processed in model order; each sees its inputs *through the already-compressed
earlier layers* (:func:`minicompress.nn.calibration.layer_inputs` on the model as it is
now), so it can compensate for their errors, as GPTQ (Frantar et al. 2023, section 3) and
AdaRound (Nagel et al. 2020, section 5) do.
"""

from __future__ import annotations

import copy

import numpy as np

from ..formats import encode
from ..nn._checks import check_finite
from ..nn.calibration import layer_inputs
from ..nn.layers import Conv2d, Linear, Module, Sequential

__all__ = ["weighted_layers", "target_layers", "check_calibration", "codes_encoding", "quantize_sequentially"]


def weighted_layers(model: Module) -> list[str]:
    """Dotted names of the Linear / Conv2d layers of ``model``, in model order."""
    return [name for name, mod in model.named_modules() if name and isinstance(mod, (Linear, Conv2d))]


def target_layers(model: Module, layers) -> list[str]:
    """``layers`` (names of Linear/Conv2d layers of ``model``) checked, or all of them when
    None; returned in model order."""
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a Sequential whose Linear/Conv2d layers are named (ConvNet, "
                        f"LeNet300_100, ...); got {type(model).__name__}")
    every = weighted_layers(model)
    if layers is None:
        if not every:
            raise ValueError("model has no Linear or Conv2d layer to quantize")
        return every
    if isinstance(layers, str) or not layers:
        raise TypeError(f"layers must be a non-empty list of layer names such as ['fc1']; got {layers!r}")
    for name in layers:
        if name not in every:
            mod = model.get_submodule(name)  # an unknown name raises here, listing the known ones
            raise TypeError(f"layer {name!r} is a {type(mod).__name__}; only Linear/Conv2d layers "
                            f"{every} can be quantized")
    return [name for name in every if name in set(layers)]


def check_calibration(X) -> np.ndarray:
    """Calibration inputs: a non-empty, finite float numpy array (N, ...)."""
    if not isinstance(X, np.ndarray):
        raise TypeError(f"X must be a non-empty (N, ...) numpy array of calibration inputs; got "
                        f"{X!r:.40} ({type(X).__name__})")
    if X.ndim < 2 or len(X) == 0:
        raise ValueError(f"X must be a non-empty (N, ...) numpy array of calibration inputs; got shape "
                         f"{X.shape}")
    if X.dtype.kind != "f":
        raise TypeError(f"X must be a float array (normalised inputs); got dtype {X.dtype}")
    check_finite(X, "X")
    return X


def quantize_sequentially(model: Module, X, names, make) -> Module:
    """A copy of ``model`` in which each layer ``name`` of ``names`` (in order) is replaced by
    ``make(name, layer, x)``, x being the layer's input on ``X`` through the model so far."""
    out = copy.deepcopy(model)
    for name in names:
        layer = out.get_submodule(name)
        x = layer_inputs(out, X, [name])[name]
        out.set_submodule(name, make(name, layer, x))
    return out


def codes_encoding(codes, scale, bits: int, *, per_channel: bool, group_size: int | None = None):
    """The formats encoding of codes on the symmetric grid (GPTQ's, AdaRound's): ``int_group``
    with groups, ``int8_channel`` / ``int8`` at 8 bits, ``int`` otherwise (per channel or
    per tensor)."""
    if group_size is not None:
        return encode(codes, "int_group", bits=bits, group_size=group_size, scale=scale)
    if bits == 8:
        return encode(codes, "int8_channel" if per_channel else "int8", scale=scale)
    return encode(codes, "int", bits=bits, scale=scale, per_channel=per_channel)
