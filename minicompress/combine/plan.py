"""The combinations of section 2.3, all run by one pipeline, :func:`compress`:

    factorize (rank r)  ->  prune (sparsity s, magnitude)  ->  fine-tune, masks held
        ->  quantize the survivors (b bits) and store them sparse (bitmask / CSR) or dense

The order is Deep Compression's (Han et al. 2016: prune, retrain, quantize; their weight
sharing, centroid fine-tuning and Huffman coding are left out), with the low-rank step
first because an SVD of a pruned matrix has dense factors: pruning after factorising keeps
the zeros, factorising after pruning loses them.  Quantization comes last because
fine-tuning moves weights off any grid; the pruned zeros, kept at exactly 0 by
:class:`~minicompress.prune.MaskHook`, get code 0 and decode to exactly 0
(:mod:`.storage`).

A *plan* says, per Linear/Conv2d layer, what to do to it: ``{"fc1": LayerPlan(sparsity=0.9,
bits=8), ...}``.  The named functions are plans written out:
:func:`prune_then_quantize`, :func:`factorize_then_quantize`, :func:`factorize_then_prune`.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import asdict, dataclass

import numpy as np

from ..formats import compress_layer
from ..lowrank import factorize_conv, factorize_linear
from ..nn import SGD, Linear, Sequential, fit
from ..nn._checks import check_bool, check_choice, check_float, check_int, check_rng
from ..nn.calibration import weight_layer_names
from ..prune import MaskHook, apply_masks, magnitude_mask, scope_masks
from .storage import FLOAT_BITS, check_plan_bits, check_storage, compress_weight

__all__ = ["LayerPlan", "weight_layer_names", "compress", "prune_then_quantize",
           "factorize_then_quantize", "factorize_then_prune"]


@dataclass(frozen=True)
class LayerPlan:
    """What :func:`compress` does to one layer.

    sparsity : fraction of its weights pruned by magnitude, in [0, 1) (0: none)
    bits : 2..16 (symmetric b-bit codes) or 32 (float32: not quantized)
    rank : SVD rank of the factorisation, or None (not factorised)
    """

    sparsity: float = 0.0
    bits: int = FLOAT_BITS
    rank: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "sparsity", check_float(self.sparsity, "sparsity", low=0.0, high=1.0,
                                                         high_open=True))
        object.__setattr__(self, "bits", check_plan_bits(self.bits))
        if self.rank is not None:
            object.__setattr__(self, "rank", check_int(self.rank, "rank", low=1))

    @property
    def is_identity(self) -> bool:
        return self.sparsity == 0 and self.bits == FLOAT_BITS and self.rank is None

    def as_dict(self) -> dict:
        return asdict(self)


def _check_plan(model, plan) -> dict[str, LayerPlan]:
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a Sequential (ConvNet, MLP, LeNet...); got {type(model).__name__}")
    if not isinstance(plan, dict) or not plan:
        raise TypeError(f"plan must be a non-empty dict {{layer name: LayerPlan}}; got {plan!r}")
    names = weight_layer_names(model)
    out = {}
    for name, p in plan.items():
        if name not in names:
            raise ValueError(f"plan names layer {name!r}, which is not a Linear/Conv2d of the model; "
                             f"those are {names}")
        if isinstance(p, dict):
            p = LayerPlan(**p)
        if not isinstance(p, LayerPlan):
            raise TypeError(f"plan[{name!r}] must be a LayerPlan or a dict of its fields; got {p!r}")
        out[name] = p
    return out


def _factorize(model, name, rank):
    layer = model.get_submodule(name)
    with warnings.catch_warnings():  # a rank past break-even is the caller's choice; keep going
        warnings.simplefilter("ignore", UserWarning)
        new = factorize_linear(layer, rank) if isinstance(layer, Linear) else factorize_conv(layer, rank)
    model.set_submodule(name, new)


def _weights_under(model, name) -> dict[str, np.ndarray]:
    """The weight arrays of layer ``name``: its own, or its factors' (``fc1.v.weight``, ...)."""
    return {n: p for n, p in model.named_parameters() if n.startswith(name + ".") and n.endswith(".weight")}


def _masks(model, plan, scope) -> dict[str, np.ndarray]:
    pruned = {name: p.sparsity for name, p in plan.items() if p.sparsity > 0}
    if not pruned:
        return {}
    weights = {n: w for name in pruned for n, w in _weights_under(model, name).items()}
    if scope == "layer":
        sparsity_of = {n: s for name, s in pruned.items() for n in _weights_under(model, name)}
        return {n: magnitude_mask(w, sparsity_of[n]) for n, w in weights.items()}
    if len(set(pruned.values())) != 1:
        raise ValueError(f"scope='global' prunes every planned layer to one sparsity; the plan asks "
                         f"for {pruned}. Use scope='layer' for per-layer sparsities")
    return scope_masks({n: np.abs(w) for n, w in weights.items()}, next(iter(pruned.values())), "global")


def compress(model, plan: dict, *, data=None, epochs: int = 1, lr: float = 1e-3, batch_size: int = 64,
             scope: str = "layer", per_channel: bool = True, storage: str = "auto", rng=0):
    """Apply ``plan`` to a copy of ``model``: factorize -> prune -> fine-tune -> quantize + store.

    Parameters
    ----------
    model : Sequential (ConvNet, MLP, LeNet300_100, LeNet5); not modified
    plan : {layer name: LayerPlan or dict(sparsity=, bits=, rank=)}; layers not named stay
        as they are (fp32)
    data : (X, y) to fine-tune on -- training data, never the test split
    epochs : fine-tuning epochs after pruning / factorising (0: none).  SGD, momentum 0.9,
        the pruned weights held at exactly 0 by MaskHook.  Skipped when the plan neither
        prunes nor factorises (there is nothing to recover before quantizing).
    lr : fine-tuning learning rate; 1e-3 is a tenth of the baseline recipe's (Han et al. 2015)
    scope : ``"layer"`` -- each layer (each factor) loses floor(s n) of its own weights;
        ``"global"`` -- one magnitude threshold over all pruned layers (one sparsity for all)
    per_channel, storage : how each quantized / pruned layer is stored (see
        :func:`~minicompress.combine.storage.compress_weight`)
    rng : seed or Generator of the fine-tuning's shuffling

    Returns
    -------
    A new model: every planned layer that is pruned or quantized is a
    :class:`~minicompress.formats.CompressedLinear` / ``CompressedConv2d`` (its factors, if
    factorised); ``metrics.model_size_bits(m, "auto")`` sums their exact stored bits.

    Notes
    -----
    Magnitude pruning: |w| < threshold is pruned, ties survive (section 4.1.1).
    Quantization: q = round(w / scale * qmax), half to even, scale = max|w| (section 4.2.2).
    """
    plan = _check_plan(model, plan)
    epochs = check_int(epochs, "epochs", low=0)
    check_choice(scope, "scope", ("layer", "global"))
    lr = check_float(lr, "lr", low=0.0, low_open=True)
    batch_size = check_int(batch_size, "batch_size", low=1)
    check_bool(per_channel, "per_channel")
    check_storage(storage)
    rng = check_rng(rng)
    retrain = any(p.sparsity > 0 or p.rank is not None for p in plan.values())
    if retrain and epochs > 0 and data is None:
        raise ValueError("fine-tuning needs data=(X_train, y_train); pass it, or epochs=0 to skip "
                         "fine-tuning")
    model = copy.deepcopy(model)
    for name, p in plan.items():
        if p.rank is not None:
            _factorize(model, name, p.rank)
    masks = _masks(model, plan, scope)
    apply_masks(model, masks)
    if retrain and epochs > 0:
        X, y = data
        fit(model, X, y, epochs=epochs, batch_size=batch_size, optimizer=SGD(model, lr, momentum=0.9),
            hooks=[MaskHook(masks)] if masks else [], rng=rng, verbose=False)
    for name, p in plan.items():
        if p.sparsity == 0 and p.bits == FLOAT_BITS:
            continue  # factorised only (or nothing): plain fp32 layers
        for sub in [name] if p.rank is None else weight_layer_names(model.get_submodule(name)):
            full = name if p.rank is None else f"{name}.{sub}"
            layer = model.get_submodule(full)
            enc = compress_weight(layer.params["weight"], p.bits, per_channel=per_channel, storage=storage)
            model.set_submodule(full, compress_layer(layer, encoding=enc))
    return model


def _layers(model, layers) -> list[str]:
    names = weight_layer_names(model)
    if layers is None:
        return names
    if isinstance(layers, str) or not all(isinstance(n, str) for n in layers):
        raise TypeError(f"layers must be a list of layer names such as ['fc1']; got {layers!r}")
    return list(layers)


def _check_ranks(ranks) -> dict:
    if not isinstance(ranks, dict) or not ranks:
        raise TypeError(f"ranks must be a non-empty dict {{layer name: rank}}, e.g. {{'fc1': 54}}; "
                        f"got {ranks!r}")
    return ranks


def prune_then_quantize(model, sparsity: float, *, bits: int = 8, layers=None, scope: str = "layer",
                        data=None, epochs: int = 1, lr: float = 1e-3, **options):
    """Deep Compression's order (Han et al. 2016; the text's section 2.3): prune every weight
    layer by magnitude to ``sparsity``, fine-tune with the masks held, quantize the
    survivors to ``bits`` and store them sparse.

    Stored bits per layer (bitmask, the usual winner at 50-95%): header + 8*ceil(n/8) mask +
    8*ceil(z*b/8) codes + 32 per scale + the fp32 bias (see :mod:`minicompress.formats`).
    ``options`` go to :func:`compress` (batch_size, per_channel, storage, rng).
    """
    plan = {name: LayerPlan(sparsity, bits) for name in _layers(model, layers)}
    return compress(model, plan, data=data, epochs=epochs, lr=lr, scope=scope, **options)


def factorize_then_quantize(model, ranks: dict, *, bits: int = 8, layers=None, data=None,
                            epochs: int = 1, lr: float = 1e-2, **options):
    """Low-rank and quantization (section 2.3): factorise the layers in ``ranks`` by
    truncated SVD (section 4.4.1, W ~ U_r S_r V_r^T, two factors), fine-tune, then quantize
    every weight layer (factors included; all of them unless ``layers`` says which) to
    ``bits``, stored dense: the factors have no zeros.  A rank-r factorisation of an m x n
    layer stores r(m + n) codes instead of m n.
    """
    ranks = _check_ranks(ranks)
    plan = {name: LayerPlan(bits=bits, rank=ranks.get(name)) for name in _layers(model, layers)}
    plan.update({name: LayerPlan(bits=bits, rank=r) for name, r in ranks.items() if name not in plan})
    return compress(model, plan, data=data, epochs=epochs, lr=lr, **options)


def factorize_then_prune(model, ranks: dict, sparsity: float, *, bits: int = FLOAT_BITS, data=None,
                         epochs: int = 1, lr: float = 1e-3, **options):
    """Low-rank and pruning (section 2.3): factorise the layers in ``ranks``, prune each
    factor by magnitude to ``sparsity``, fine-tune with the masks held, store sparse (and
    quantized, if ``bits`` < 32).  Only the factorised layers are touched."""
    ranks = _check_ranks(ranks)
    plan = {name: LayerPlan(sparsity, bits, r) for name, r in ranks.items()}
    return compress(model, plan, data=data, epochs=epochs, lr=lr, **options)
