"""Pruning a whole model: masks per parameter, applying them, keeping them through training.

The text's loop (section 3.1.2) prunes every parameter whose name contains ``'weight'`` to
50%, layer by layer.  :func:`prune_model` does the same for any sparsity and criterion, per
layer (``scope="layer"``) or with one threshold over all layers (``scope="global"``), and
returns the masks; :class:`MaskHook` keeps the pruned weights at exactly zero while
``fit`` fine-tunes the rest (the text's step 4, "fine-tune the model").
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import check_bool, check_choice, check_dict, check_float, check_names, check_rng
from ..nn.module import check_module
from .magnitude import mask_from_scores, score_threshold
from .nm import nm_mask_from_scores, parse_pattern
from .saliency import hessian_diagonal, loss_gradients, obd_saliency, taylor_saliency

__all__ = ["select_parameters", "prune_model", "scope_masks", "apply_masks", "MaskHook", "sparsity_of",
           "random_masks"]

CRITERIA = ("magnitude", "taylor", "obd")
SCOPES = ("layer", "global")


def select_parameters(model, include=("weight",)) -> dict[str, np.ndarray]:
    """The live parameters whose last name component is in ``include`` (``fc1.weight`` -> weight)."""
    check_module(model)
    include = check_names(include, "include")
    chosen = {n: p for n, p in model.named_parameters() if n.rsplit(".", 1)[-1] in include}
    if not chosen:
        names = [n for n, _ in model.named_parameters()]
        raise ValueError(f"include={include!r} selects no parameter; the model has {names}")
    return chosen


def _scores(model, params, criterion, data, obd_batch_size):
    if criterion == "magnitude":
        return {n: np.abs(p) for n, p in params.items()}
    if data is None:
        raise ValueError(f"criterion={criterion!r} needs data=(X, y) to measure the loss; got data=None")
    X, y = data
    if criterion == "taylor":
        grads = loss_gradients(model, X, y)
        return {n: taylor_saliency(p, grads[n]) for n, p in params.items()}
    scores = {}
    for n, p in params.items():
        layer, _, param = n.rpartition(".")
        h = hessian_diagonal(model, X, y, layer, param=param, batch_size=obd_batch_size)
        scores[n] = obd_saliency(p, h)
    return scores


def check_pattern_sparsity(sparsity, pattern, scope: str = "layer"):
    """``(sparsity, (n, m) or None)``: with an N:M ``pattern`` the sparsity is 1 - n/m, so
    ``sparsity`` must be None or that value, and ``scope`` must be ``"layer"``."""
    if pattern is None:
        return check_float(sparsity, "sparsity", low=0.0, high=1.0, high_open=True), None
    n, m = parse_pattern(pattern)
    implied = 1.0 - n / m
    if sparsity is not None and abs(check_float(sparsity, "sparsity") - implied) > 1e-12:
        raise ValueError(f"pattern={pattern!r} keeps {n} of every {m} weights, i.e. sparsity {implied}; "
                         f"got sparsity={sparsity}. Pass sparsity=None (or {implied}) with a pattern")
    if scope != "layer":
        raise ValueError(f"pattern={pattern!r} prunes within groups of {m} weights, so there is no "
                         f"global threshold; got scope={scope!r}, use scope='layer'")
    return implied, (n, m)


def prune_model(model, sparsity: float | None, *, scope: str = "layer", criterion: str = "magnitude",
                pattern=None, include=("weight",), data=None, apply: bool = True,
                obd_batch_size: int = 100):
    """Prune ``model`` in place to ``sparsity`` and return the keep-masks (True = kept).

    Parameters
    ----------
    model : Module
    sparsity : float in [0, 1): the fraction of the selected weights to remove
    scope : ``"layer"`` -- each parameter loses floor(sparsity * n_layer) entries (the text's
        loop); ``"global"`` -- one threshold over all selected parameters together, so the
        overall sparsity is floor(sparsity * n_total) / n_total and layers differ.
    criterion : ``"magnitude"`` |w| (section 4.1.1), ``"taylor"`` |w dL/dw| (4.1.2) or
        ``"obd"`` h_kk w^2 / 2 (3.1, Hessian); the last two need ``data=(X, y)``.  OBD needs
        a Sequential of Linear/Conv2d/ReLU/MaxPool2d/Flatten (see :func:`hessian_diagonal`).
    include : last name components to prune; biases are untouched unless ``"bias"`` is listed
    pattern : None, or an N:M pattern such as ``"2:4"``: keep the n best-scoring of every m
        consecutive weights along each row's input axis (:func:`~minicompress.prune.nm.nm_mask`);
        ``sparsity`` is then 1 - n/m (pass None or that value) and ``scope`` must be ``"layer"``
    data : ``(X, y)`` on which the loss (Taylor, OBD) is measured, e.g. 1,000 training images
    apply : zero the pruned entries in place (default); ``False`` only computes the masks

    Returns
    -------
    masks : dict ``{"fc1.weight": bool array, ...}`` for the selected parameters

    Notes
    -----
    Scores strictly below the threshold are pruned; ties at it survive (see
    :func:`~minicompress.prune.magnitude.mask_from_scores`).  Global magnitude compares raw
    |w| across layers whose scales differ (init ~ 1/sqrt(fan_in)), so it prunes wide layers
    harder; global Taylor and OBD scores are all in units of loss and compare directly.
    """
    check_module(model)
    check_choice(scope, "scope", SCOPES)
    sparsity, nm = check_pattern_sparsity(sparsity, pattern, scope)
    check_choice(criterion, "criterion", CRITERIA)
    apply = check_bool(apply, "apply")
    params = select_parameters(model, include)
    scores = _scores(model, params, criterion, data, obd_batch_size)
    if nm is None:
        masks = scope_masks(scores, sparsity, scope)
    else:
        masks = {}
        for name, sc in scores.items():
            try:
                masks[name] = nm_mask_from_scores(sc, *nm)
            except ValueError as err:
                raise ValueError(f"parameter {name!r}: {err}") from None
    if apply:
        apply_masks(model, masks)
    return masks


def scope_masks(scores: dict, sparsity: float, scope: str = "layer") -> dict[str, np.ndarray]:
    """Keep-masks from importance ``scores`` ``{name: array}``: each array loses its own
    floor(s n) lowest (``scope="layer"``), or one threshold over all of them together
    (``"global"``).  Scores strictly below the threshold are pruned; ties survive."""
    check_dict(scores, "scores", "{name: array of importance scores}", empty=False)
    check_choice(scope, "scope", SCOPES)
    if scope == "layer":
        return {n: mask_from_scores(s, sparsity) for n, s in scores.items()}
    t = score_threshold(np.concatenate([s.ravel() for s in scores.values()]), sparsity)
    return {n: s >= t for n, s in scores.items()}


def _check_masks(model, masks) -> dict[str, np.ndarray]:
    check_module(model)
    check_dict(masks, "masks", "of name -> bool array")
    params = dict(model.named_parameters())
    for name, m in masks.items():
        if name not in params:
            raise ValueError(f"mask {name!r} names no parameter of the model; parameters are {list(params)}")
        if not isinstance(m, np.ndarray) or m.dtype != bool:
            raise TypeError(f"mask {name!r} must be a bool ndarray (True = kept); got "
                            f"{getattr(m, 'dtype', type(m).__name__)}. Use w != 0 or mask.astype(bool)")
        if m.shape != params[name].shape:
            raise ValueError(f"mask {name!r} has shape {m.shape} but the parameter has shape "
                             f"{params[name].shape}")
    return params


def apply_masks(model, masks: dict) -> None:
    """Set every masked-out entry (mask False) of the named parameters to exactly 0, in place."""
    params = _check_masks(model, masks)
    for name, m in masks.items():
        _zero_where_pruned(params[name], m)


def _zero_where_pruned(a: np.ndarray, keep: np.ndarray) -> None:
    """a[~keep] = +0.0 in place, for finite a.  Multiplying by the bool mask is ~20x faster than
    boolean-index assignment on a 300 x 784 layer (it runs every training step); adding 0.0
    turns the -0.0 of a pruned negative entry into +0.0, so the bits are those of a[~keep] = 0."""
    np.multiply(a, keep, out=a)
    a += 0.0


def random_masks(masks: dict, rng) -> dict[str, np.ndarray]:
    """Random keep-masks with exactly as many kept entries in each parameter as ``masks``.

    The control every pruning criterion must beat (Frankle & Carbin 2019; Lee et al. 2019):
    the same per-layer sparsity, the positions drawn uniformly at random by ``rng``.
    """
    if not isinstance(masks, dict) or not masks:
        raise TypeError(f"masks must be a non-empty dict of name -> bool array; got {masks!r}")
    rng = check_rng(rng)
    out = {}
    for name, m in masks.items():
        if not isinstance(m, np.ndarray) or m.dtype != bool:
            raise TypeError(f"mask {name!r} must be a bool ndarray (True = kept)")
        keep = np.zeros(m.size, dtype=bool)
        keep[rng.permutation(m.size)[: int(m.sum())]] = True
        out[name] = keep.reshape(m.shape)
    return out


def sparsity_of(masks: dict) -> float:
    """Fraction of entries pruned over all masks together."""
    check_dict(masks, "masks", "{name: bool array}", empty=False)
    total = sum(m.size for m in masks.values())
    return 1.0 - sum(int(m.sum()) for m in masks.values()) / total


class MaskHook:
    """``fit`` hook that keeps pruned weights at exactly zero while fine-tuning.

    ``after_backward``: grad <- grad * mask, so the optimizer builds no momentum (or Adam
    state) for weights that no longer exist; ``after_step``: w <- w * mask again, which undoes
    whatever the optimizer still adds on its own (momentum carried over from before the
    pruning, weight decay).  Masking the gradient alone is not enough: stale momentum moves a
    pruned weight (a test shows it); re-masking is what guarantees exact zeros after every step.
    """

    def __init__(self, masks: dict):
        if not isinstance(masks, dict) or not masks:
            raise TypeError(f"masks must be a non-empty dict of name -> bool array; got {masks!r}")
        self.masks = masks

    def after_backward(self, model) -> None:
        _check_masks(model, self.masks)
        grads = dict(model.named_gradients())
        for name, m in self.masks.items():
            _zero_where_pruned(grads[name], m)

    def after_step(self, model) -> None:
        apply_masks(model, self.masks)
