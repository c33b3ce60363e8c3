"""SNIP (Lee, Ajanthan & Torr 2019, "SNIP: Single-shot Network Pruning based on Connection
Sensitivity"): prune *before* training, from one batch, and then train the sparse network.

The connection sensitivity of weight j is the first-order effect on the loss of switching
its connection c_j off (w_j -> c_j w_j, at c = 1):

    s_j = | dL/dc_j | = | g_j w_j |,        g = dL/dw on one batch, at the initialisation

the loss-based criterion of section 3.1.1 / 4.1.2 (:func:`taylor_saliency`), but used at
initialisation, with one threshold over all layers (SNIP normalises s by its sum, which does
not change the order).  The control: random masks with SNIP's per-layer sparsity, and
uniformly random ones (the same sparsity in every layer).
"""

from __future__ import annotations

from ..nn import evaluate
from ..nn._checks import check_choice, check_int, check_ndarray, check_rng
from .lottery import build, check_model_fn, check_validation, train_masked
from .masks import prune_model, random_masks

__all__ = ["snip_masks", "prune_at_init"]

METHODS = ("snip", "random", "random-uniform")


def snip_masks(model, X, y, sparsity: float, *, include=("weight",), apply: bool = True) -> dict:
    """SNIP keep-masks from the connection sensitivity |g * w| on the batch ``(X, y)``.

    Exactly :func:`prune_model` with ``criterion="taylor", scope="global"``: the same
    saliency (:func:`taylor_saliency`) and the same global threshold (ties survive).  Call it on
    a freshly initialised model.  ``apply`` zeroes the pruned weights in place.
    """
    return prune_model(model, sparsity, scope="global", criterion="taylor", include=include,
                       data=(X, y), apply=apply)


def prune_at_init(model_fn, X, y, sparsity: float, *, method: str = "snip", batch: int = 100,
                  epochs: int, lr: float, momentum: float = 0.9, batch_size: int = 64, rng=0,
                  validation) -> dict:
    """Prune a fresh model at initialisation, train it with the masks held, measure it.

    Parameters
    ----------
    model_fn : ``model_fn(rng) -> Module``;  X, y : training data
    sparsity : fraction of the weights removed (all layers together)
    method : ``"snip"``; ``"random"``, random masks with SNIP's per-layer sparsity (on the
        same initialisation); ``"random-uniform"``, random masks with ``sparsity`` in every layer
    batch : SNIP's one batch is the first ``batch`` training examples
    epochs, lr, momentum, batch_size : the training recipe
    rng : seed of the initialisation, the random masks and the data order (the same seed
        gives the three methods the same initialisation and data order)

    Returns
    -------
    dict with ``method, sparsity, accuracy`` (on ``validation``), ``layers`` (kept
    fraction per layer), ``masks`` and ``model`` (the trained sparse model)
    """
    check_choice(method, "method", METHODS)
    check_ndarray(X, "X", min_ndim=1)
    check_ndarray(y, "y", min_ndim=1)
    batch = check_int(batch, "batch", low=1)
    check_model_fn(model_fn)
    check_validation(validation)
    rng = check_rng(rng)
    init_seed, mask_seed, data_seed = (int(s) for s in rng.integers(0, 2**31 - 1, size=3))
    model = build(model_fn, init_seed)
    if method == "random-uniform":
        masks = random_masks(prune_model(model, sparsity, apply=False), mask_seed)
    else:
        masks = snip_masks(model, X[:batch], y[:batch], sparsity, apply=False)
        if method == "random":
            masks = random_masks(masks, mask_seed)
    train_masked(model, masks, X, y, epochs=epochs, lr=lr, momentum=momentum, batch_size=batch_size,
                 rng=data_seed)
    return {"method": method, "sparsity": sparsity, "accuracy": float(evaluate(model, *validation)[1]),
            "layers": {n: float(m.mean()) for n, m in masks.items()}, "masks": masks, "model": model}
