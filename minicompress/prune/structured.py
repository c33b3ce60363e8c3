"""Structured pruning: remove whole convolution filters (Li et al. 2017, "Pruning Filters for
Efficient ConvNets").

Unstructured pruning (section 4.1.1) leaves the tensors their full size, full of zeros: a
dense kernel does the same work.  Removing output channel o of a Conv2d removes filter
W[o], bias b[o], the feature map o and every weight of the next layer that reads it, so the
layers physically shrink and parameters, multiply-accumulates and measured time all fall.
Filters are ranked by their L1 norm  s_o = sum_{c,p,q} |W[o, c, p, q]|  and the n_keep
largest are kept.
"""

from __future__ import annotations

import copy

import numpy as np

from ..nn._checks import as_array, check_array, check_int, check_str, described
from ..nn.layers import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential

__all__ = ["filter_l1_norms", "prune_filters", "filter_masks"]

#: Layers that act on each channel separately, so a channel can be removed straight through.
_CHANNELWISE = (ReLU, MaxPool2d)


def filter_l1_norms(weight: np.ndarray) -> np.ndarray:
    """s_o = sum_{c,p,q} |W[o, c, p, q]| for a conv weight (C_out, C_in, kh, kw) -> (C_out,)."""
    weight = check_array(weight, "weight", finite=True)
    if weight.ndim != 4:
        raise ValueError(f"weight must be a 4-D conv weight (C_out, C_in, kh, kw); got shape {weight.shape}")
    return np.abs(weight).reshape(weight.shape[0], -1).sum(axis=1)


def _conv_and_next(model, layer_name):
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a Sequential; got {type(model).__name__}")
    children = model.children()
    check_str(layer_name, "layer_name", "a top-level Conv2d name such as 'conv1'")
    if layer_name not in children:
        raise ValueError(f"layer_name {layer_name!r} does not exist; the model's layers are {list(children)}")
    conv = children[layer_name]
    if not isinstance(conv, Conv2d):
        raise ValueError(f"layer_name {layer_name!r} must name a Conv2d; it is a {type(conv).__name__}")
    names = list(children)
    flattened = False
    for name in names[names.index(layer_name) + 1 :]:
        layer = children[name]
        if isinstance(layer, (Conv2d, Linear)):
            if isinstance(layer, Conv2d) and flattened:
                break
            return conv, name, layer, flattened
        if isinstance(layer, Flatten):
            flattened = True
        elif not isinstance(layer, _CHANNELWISE):
            raise ValueError(f"cannot remove channels through layer {name!r} ({type(layer).__name__}); "
                             f"only ReLU, MaxPool2d and Flatten may sit between the conv and the next layer")
    raise ValueError(f"layer_name {layer_name!r} has no following Linear or Conv2d whose inputs could "
                     f"shrink; removing its channels would change the model's output")


def _input_index(next_layer, flattened, kept, C_out):
    """Which inputs of the next layer read the kept channels."""
    if not flattened:
        return kept
    if next_layer.in_features % C_out:
        raise ValueError(f"the Linear after Flatten has {next_layer.in_features} inputs, not a multiple "
                         f"of the conv's {C_out} channels")
    block = next_layer.in_features // C_out  # per-channel block of H'*W' features (13*13 in ConvNet)
    return (kept[:, None] * block + np.arange(block)).ravel()


def _new_like(layer, params, **sizes):
    """A layer of the same kind with new sizes and the given parameter arrays."""
    dtype = params["weight"].dtype
    if isinstance(layer, Conv2d):
        new = Conv2d(sizes.get("in_channels", layer.in_channels),
                     sizes.get("out_channels", layer.out_channels), layer.kernel_size,
                     layer.stride, layer.padding, bias="bias" in params, dtype=dtype)
    else:
        new = Linear(sizes.get("in_features", layer.in_features), layer.out_features,
                     bias="bias" in params, dtype=dtype)
    for k, v in params.items():
        new.params[k] = np.ascontiguousarray(v)
        new.grads[k] = np.zeros_like(new.params[k])
    return new


def prune_filters(model, layer_name: str, n_keep: int):
    """Keep the ``n_keep`` filters of Conv2d ``layer_name`` with the largest L1 norm (Li et al. 2017).

    Returns a new, physically smaller model (the input model is not changed): the conv has
    ``n_keep`` output channels and the next weight layer reads only those channels -- a
    Conv2d loses input channels, a Linear after Flatten loses each removed channel's block of
    H'*W' input columns (in ConvNet, 13*13 = 169 columns of fc per channel).

    Parameters
    ----------
    model : Sequential; only ReLU, MaxPool2d and Flatten may sit between the conv and the
        next Linear/Conv2d
    layer_name : top-level name of a Conv2d, e.g. ``"conv1"``
    n_keep : int in [1, C_out]

    Returns
    -------
    pruned : the smaller model
    kept : (n_keep,) sorted indices of the kept filters

    Notes
    -----
    Ties in the L1 norm go to the lower filter index (stable sort).  The result computes
    exactly what the original computes with the removed filters' weights and biases set to 0
    (:func:`filter_masks`): a zero filter with zero bias gives a zero map, relu(0) = 0, max
    pooling keeps 0, and the next layer's weights on it multiply zeros.
    """
    conv, next_name, next_layer, flattened = _conv_and_next(model, layer_name)
    C_out = conv.out_channels
    n_keep = check_int(n_keep, "n_keep", low=1, high=C_out)
    order = np.argsort(-filter_l1_norms(conv.params["weight"]), kind="stable")
    kept = np.sort(order[:n_keep])
    new_conv = _new_like(conv, {k: v[kept] for k, v in conv.params.items()}, out_channels=n_keep)
    cols = _input_index(next_layer, flattened, kept, C_out)
    params = dict(next_layer.params)
    params["weight"] = params["weight"][:, cols]
    size = {"in_features": len(cols)} if isinstance(next_layer, Linear) else {"in_channels": n_keep}
    new_next = _new_like(next_layer, params, **size)
    pruned = copy.deepcopy(model)
    pruned.set_submodule(layer_name, new_conv)
    pruned.set_submodule(next_name, new_next)
    if hasattr(pruned, "channels") and getattr(model, "channels", None) == C_out:
        pruned.channels = n_keep  # ConvNet records its width
    return pruned, kept


def filter_masks(model, layer_name: str, kept) -> dict[str, np.ndarray]:
    """Keep-masks that zero every filter (weight and bias) of ``layer_name`` not in ``kept``:
    the same pruning as :func:`prune_filters`, as masks on the unchanged tensors."""
    conv, _, _, _ = _conv_and_next(model, layer_name)
    given, kept = kept, as_array(kept, "kept")
    if kept.ndim != 1 or (kept.size and kept.dtype.kind not in "iu"):
        raise TypeError(f"kept must be a 1-D array of integer filter indices (as prune_filters returns); "
                        f"got {described(given, kept)}, shape {kept.shape}")
    if kept.size and (kept.min() < 0 or kept.max() >= conv.out_channels):
        raise ValueError(f"kept must hold filter indices in [0, {conv.out_channels}) for {layer_name!r}; "
                         f"got values from {kept.min()} to {kept.max()}")
    keep = np.zeros(conv.out_channels, dtype=bool)
    keep[kept.astype(int)] = True
    weight_mask = np.broadcast_to(keep[:, None, None, None], conv.params["weight"].shape).copy()
    masks = {f"{layer_name}.weight": weight_mask}
    if "bias" in conv.params:
        masks[f"{layer_name}.bias"] = keep.copy()
    return masks
