"""Sensitivity analysis (Han et al. 2015, section 3 and figure 5; Li et al. 2017): how much
accuracy a model keeps when only ONE layer is pruned to sparsity s, or only one layer's
weights are quantized to b bits, everything else left as it is.  The table is what a
person reads to choose per-layer settings by hand, and what :func:`~.auto.auto_compress`
reads to choose them automatically (section 7.1).

Measure it on a validation split carved from the training data (:func:`validation_split`),
never on the test split: the settings chosen from it are tuned on it.
"""

from __future__ import annotations

import copy

import numpy as np

from .. import metrics
from ..formats.symmetric import symmetric_round_trip
from ..nn._checks import check_bits, check_bool, check_float, check_ndarray, check_rng
from ..nn.module import check_module
from ..prune import magnitude_mask
from .plan import weight_layer_names

__all__ = ["DEFAULT_SPARSITIES", "DEFAULT_BITS", "validation_split", "sensitivity", "pruned_weight"]

DEFAULT_SPARSITIES = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98)
DEFAULT_BITS = (8, 6, 4, 3, 2)


def validation_split(X, y, fraction: float = 0.2, *, rng=0):
    """Carve a validation split out of TRAINING data: ``((X_fit, y_fit), (X_val, y_val))``.

    ``round(fraction * N)`` examples (at least 1, and at least 1 left to fit on), chosen by a
    permutation drawn from ``rng``; both parts keep the original order.  The same
    ``(fraction, rng)`` always gives the same split, so a model can be trained on the fit
    part and then compressed by :func:`~.auto.auto_compress` with a validation split it has
    never seen.
    """
    fraction = check_float(fraction, "fraction", low=0.0, high=1.0, low_open=True, high_open=True)
    X, y = _check_xy(X, y)
    n_val = int(round(fraction * len(X)))
    if not 1 <= n_val <= len(X) - 1:
        raise ValueError(f"fraction={fraction} of {len(X)} examples leaves {n_val} for validation and "
                         f"{len(X) - n_val} to fit on; both need at least 1")
    val = np.zeros(len(X), dtype=bool)
    val[check_rng(rng).permutation(len(X))[:n_val]] = True
    return (X[~val], y[~val]), (X[val], y[val])


def _check_xy(X, y):
    X = check_ndarray(X, "X", min_ndim=1)
    y = check_ndarray(y, "y", min_ndim=1)
    if y.dtype.kind not in "iu" or y.ndim != 1:
        raise TypeError(f"y must be a 1-D array of integer class labels; got dtype {y.dtype}, "
                        f"shape {y.shape}")
    if len(X) != len(y) or len(X) == 0:
        raise ValueError(f"X and y must be non-empty and of the same length; got {len(X)} and {len(y)}")
    return X, y


def pruned_weight(w: np.ndarray, sparsity: float) -> np.ndarray:
    """``w * mask``, mask = |w| >= sort(|w|)[floor(s n)] (section 4.1.1; ties survive)."""
    return w * magnitude_mask(w, sparsity)


def _check_table_bits(b) -> int:
    return check_bits(b, "bits[i]", hint=" (32, the unquantized model, is no row of the table)")


def _check_grid(values, name, check) -> np.ndarray:
    if isinstance(values, (str, bytes)) or np.ndim(values) != 1 or len(values) == 0:
        raise TypeError(f"{name} must be a non-empty sequence; got {values!r}")
    return np.array([check(v) for v in values])


def sensitivity(model, X, y, *, layers=None, sparsities=DEFAULT_SPARSITIES, bits=DEFAULT_BITS,
                per_channel: bool = True) -> dict:
    """Accuracy on ``(X, y)`` with only one layer pruned (or quantized) at a time.

    Parameters
    ----------
    model : Module; not modified (a copy is changed and restored layer by layer)
    X, y : a VALIDATION split (see :func:`validation_split`), (N, ...) and (N,)
    layers : names of Linear/Conv2d layers (default: all of them, in forward order)
    sparsities : each in [0, 1); magnitude pruning of that layer alone (:func:`pruned_weight`)
    bits : each in 2..16; symmetric quantization of that layer alone
        (:func:`~minicompress.formats.symmetric.symmetric_round_trip`)
    per_channel : one quantization scale per output channel (default) or per tensor

    Returns
    -------
    dict of plain values:
        ``layers`` list of L names; ``weights`` (L,) weight counts; ``sparsities`` (S,);
        ``bits`` (B,); ``dense_accuracy`` float;
        ``prune_accuracy`` (L, S): accuracy with only layer l pruned to sparsities[j];
        ``quant_accuracy`` (L, B): accuracy with only layer l quantized to bits[j].
    Accuracies are fractions in [0, 1].  No fine-tuning: this measures how fragile each
    layer is, not how much fine-tuning recovers.
    """
    check_module(model)
    X, y = _check_xy(X, y)
    per_channel = check_bool(per_channel, "per_channel")
    names = weight_layer_names(model)
    if layers is None:
        layers = names
    elif isinstance(layers, str) or any(n not in names for n in layers) or not layers:
        raise ValueError(f"layers must be a non-empty list of Linear/Conv2d names from {names}; "
                         f"got {layers!r}")
    s_grid = _check_grid(sparsities, "sparsities",
                         lambda s: check_float(s, "sparsities[i]", low=0.0, high=1.0, high_open=True))
    b_grid = _check_grid(bits, "bits", _check_table_bits)
    model = copy.deepcopy(model)
    out = {
        "layers": list(layers),
        "weights": np.array([model.get_submodule(n).params["weight"].size for n in layers]),
        "sparsities": s_grid.astype(float),
        "bits": b_grid.astype(int),
        "dense_accuracy": metrics.accuracy(model, X, y),
        "prune_accuracy": np.empty((len(layers), len(s_grid))),
        "quant_accuracy": np.empty((len(layers), len(b_grid))),
    }
    for i, name in enumerate(layers):
        w = model.get_submodule(name).params["weight"]
        original = w.copy()
        for key, grid, change in (("prune_accuracy", s_grid, pruned_weight),
                                  ("quant_accuracy", b_grid,
                                   lambda v, b: symmetric_round_trip(v, int(b), per_channel=per_channel))):
            for j, value in enumerate(grid):
                w[...] = change(original, value)
                out[key][i, j] = metrics.accuracy(model, X, y)
            w[...] = original
    return out
