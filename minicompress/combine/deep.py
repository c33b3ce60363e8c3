"""Deep Compression end to end (Han, Mao & Dally, ICLR 2016; the source text's section 2.3:
pruning and quantization used together):

    prune by magnitude (masks)  ->  fine-tune, masks held (MaskHook)
        ->  k-means weight sharing per layer (quantize.kmeans_quantize)
        ->  fine-tune the centroids (quantize.CentroidHook: dL/dC_k = sum_ij dL/dW_ij 1(I_ij = k))
        ->  store: relative indices + Huffman coding (formats "huffman")

Pruning and its fine-tuning are :func:`~.plan.compress`'s (the same masks, the same
``nn.fit`` with :class:`~minicompress.prune.MaskHook`, SGD with the baselines' momentum);
:func:`deep_compression` adds the two stages Han et al. add, and its report is their
Table 2 for the model at hand (:func:`deep_compression_table` prints it).

Han et al. (2016) on LeNet-300-100, 60,000 MNIST digits (Table 2): 8% / 9% / 26% of ip1 /
ip2 / ip3 kept, 6-bit shared weights, 5-bit relative indices: ip1 2.32%, ip2 3.04%, ip3
12.70% of the original, 40x in total.
"""

from __future__ import annotations

import copy

import numpy as np

from .. import formats, metrics
from ..baselines import BATCH_SIZE, MOMENTUM
from ..nn import SGD, Conv2d, Sequential, fit
from ..nn._checks import (
    check_bits,
    check_choice,
    check_dict,
    check_finite,
    check_float,
    check_int,
    check_ndarray,
    check_rng,
)
from ..prune import MaskHook, apply_masks
from ..quantize.kmeans import INITS, CentroidHook, kmeans_dequantize, kmeans_quantize
from .plan import LayerPlan, _masks, weight_layer_names

__all__ = ["deep_compression", "deep_compression_table", "smallest_index_bits", "PAPER_INDEX_BITS", "STAGES"]

#: the paper's relative-index widths: 8 bits for conv layers, 5 for fully connected ones
PAPER_INDEX_BITS = {"conv2d": 8, "linear": 5}
#: formats the compressed layers may be stored in (Q, P+Q, P+Q+H)
STAGES = ("codebook", "relative", "huffman")


def _per_layer(value, names, what, check):
    """``value`` for every layer: one value for all, or a dict naming some of them."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(f"{what} names {unknown}, which are not Linear/Conv2d layers of the model; "
                             f"those are {names}")
        return {n: check(value[n], f"{what}[{n!r}]") for n in value}
    return {n: check(value, what) for n in names}


def _sparsity(value, name):
    return check_float(value, name, low=0.0, high=1.0, high_open=True)


def _index_bits(model, names, index_bits):
    if index_bits == "auto":
        return {n: "auto" for n in names}
    if index_bits is None:
        return {n: PAPER_INDEX_BITS["conv2d" if isinstance(model.get_submodule(n), Conv2d) else "linear"]
                for n in names}
    return _per_layer(index_bits, names, "index_bits", lambda v, n: check_int(v, n, low=1, high=16))


def deep_compression(model, X, y, *, sparsity, bits, index_bits=None, scope: str = "layer",
                     epochs: int = 10, centroid_epochs: int = 3, lr: float = 1e-2,
                     centroid_lr: float = 1e-5, batch_size: int = BATCH_SIZE, init: str = "linear",
                     n_iter: int = 100, fmt: str = "huffman", validation=None, rng=0):
    """Prune, fine-tune, share weights by k-means, fine-tune the centroids, Huffman-code.

    Parameters
    ----------
    model : trained Sequential (LeNet300_100, LeNet5, ...); not modified
    X, y : training data for both fine-tunings -- never the test split
    sparsity : fraction pruned, one float for every layer in ``bits`` or {layer: float}
        (layers not named: not pruned).  With ``scope="global"`` a single float is one
        magnitude threshold over all those layers (wide layers lose more).
    bits : shared-weight bits b (2**b centroids, 1..16): one int for every Linear/Conv2d,
        or {layer: int} -- only the layers named are compressed
    index_bits : relative-index bits (1..16), one int or {layer: int}; None: the paper's
        5 for Linear, 8 for Conv2d; ``"auto"``: per layer, the width that stores it smallest
        in ``fmt`` (:func:`smallest_index_bits`; storage only, the accuracy does not change)
    epochs, lr : fine-tuning after pruning (SGD, momentum ``baselines.MOMENTUM``), the
        pruned weights held at 0; skipped if nothing is pruned or ``epochs=0``.  The
        baselines' own rate, 0.01, for 10 epochs: on LeNet-300-100 at the paper's sparsities
        it loses 0.2 points (mean of 3 seeds) where 5 epochs at 0.001 lose 1.4
        (benchmarks/deep_compression.py)
    centroid_epochs, centroid_lr : fine-tuning of the centroids (0: none).  A centroid's
        gradient is the *sum* over its members, so its rate is far below ``lr``.
    init, n_iter : k-means initialisation (``"linear"``, the paper's) and iterations
    fmt : how the compressed layers are stored: ``"huffman"`` (P+Q+H), ``"relative"``
        (P+Q) or ``"codebook"`` (Q: every position indexed, for unpruned layers)
    validation : optional (X_val, y_val) on which the report measures each stage's accuracy
    rng : int seed or Generator: the shuffling of both fine-tunings and ``init="random"``

    Returns
    -------
    (model, report): every compressed layer is a ``formats.CompressedLinear`` /
    ``CompressedConv2d`` holding a ``fmt`` encoding; ``report`` has ``layers`` (one row
    per layer, Table 2's columns: ``kept``, ``weight_bits``, ``index_bits``, ``size_bits``
    and ``rate``, each P+Q and P+Q+H where it applies), ``total``, ``reference_size_bits``
    (the fp32 model), ``size_bits`` (the returned model, ``metrics.model_size_bits(m,
    "auto")``), ``centroids`` and, with ``validation``, ``accuracy`` per stage.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a Sequential (MLP, LeNet300_100, LeNet5...); got "
                        f"{type(model).__name__}")
    names = weight_layer_names(model)
    bits = _per_layer(bits, names, "bits", lambda v, n: check_bits(v, n, low=1, high=16))
    layers = list(bits)
    prune = _per_layer(sparsity, names if isinstance(sparsity, dict) else layers, "sparsity", _sparsity)
    if not set(prune) <= set(layers):
        raise ValueError(f"sparsity names layers {sorted(set(prune) - set(layers))} that bits does not "
                         f"compress; bits names {layers}")
    index_bits = _index_bits(model, layers, index_bits)
    epochs = check_int(epochs, "epochs", low=0)
    centroid_epochs = check_int(centroid_epochs, "centroid_epochs", low=0)
    lr = check_float(lr, "lr", low=0.0, low_open=True)
    centroid_lr = check_float(centroid_lr, "centroid_lr", low=0.0, low_open=True)
    check_choice(fmt, "fmt", STAGES)
    check_choice(scope, "scope", ("layer", "global"))
    check_choice(init, "init", INITS)
    batch_size = check_int(batch_size, "batch_size", low=1)
    X, y = check_ndarray(X, "X", min_ndim=1), check_ndarray(y, "y", min_ndim=1)
    if X.dtype.kind == "f":
        check_finite(X, "X")
    rng = check_rng(rng)
    model = copy.deepcopy(model)
    for name in layers:
        check_finite(model.get_submodule(name).params["weight"], f"the model's {name}.weight")
    accuracy = {}

    def measure(stage):
        if validation is not None:
            accuracy[stage] = metrics.accuracy(model, *validation)

    measure("dense")
    masks = _masks(model, {n: LayerPlan(s) for n, s in prune.items()}, scope)
    apply_masks(model, masks)
    if masks and epochs:
        fit(model, X, y, epochs=epochs, batch_size=batch_size, optimizer=SGD(model, lr, momentum=MOMENTUM),
            hooks=[MaskHook(masks)], rng=rng, verbose=False)
    measure("pruned")
    indices = {}
    for name in layers:
        w = model.get_submodule(name).params["weight"]
        try:
            idx, c = kmeans_quantize(w, bits[name], mask=masks.get(f"{name}.weight"), init=init,
                                     n_iter=n_iter, rng=rng)
        except ValueError as err:
            raise ValueError(f"layer {name!r}: {err}") from err
        w[...] = kmeans_dequantize(idx, c)
        indices[f"{name}.weight"] = idx
    measure("shared")
    hook = CentroidHook(indices)
    if centroid_epochs:
        fit(model, X, y, epochs=centroid_epochs, batch_size=batch_size,
            optimizer=SGD(model, centroid_lr, momentum=MOMENTUM), hooks=[hook], rng=rng, verbose=False)
    measure("fine-tuned centroids")
    centroids = hook.centroids(model)
    reference = metrics.model_size_bits(model, "fp32").total
    for name in layers:
        if index_bits[name] == "auto":
            w = model.get_submodule(name).params["weight"]
            index_bits[name] = smallest_index_bits(w, "relative" if fmt == "relative" else "huffman")
    rows = [_row(name, model.get_submodule(name), index_bits[name]) for name in layers]
    rest = reference - sum(formats.size_bits(model.get_submodule(n).params["weight"], "fp32") for n in layers)
    for name in layers:
        layer = model.get_submodule(name)
        options = {} if fmt == "codebook" else {"index_bits": index_bits[name]}
        model.set_submodule(name, formats.compress_layer(layer, fmt, **options))
    measure(fmt)
    report = {"layers": rows, "total": _total(rows, reference, rest), "reference_size_bits": reference,
              "size_bits": metrics.model_size_bits(model, "auto").total, "fmt": fmt,
              "centroids": centroids, "bits": bits, "index_bits": index_bits,
              "sparsity": prune, "scope": scope}
    if validation is not None:
        report["accuracy"] = accuracy
    return model, report


def smallest_index_bits(w, fmt: str = "huffman") -> int:
    """The relative-index width, 1..16, that stores the weight-shared ``w`` in the fewest bits
    in ``fmt`` (ties: the narrowest).  Wider gaps need fewer fillers but cost more per entry
    (relative) or a larger code table (huffman)."""
    return min(range(1, 17), key=lambda b: formats.size_bits(w, fmt, index_bits=b))


def _row(name, layer, index_bits) -> dict:
    """Table 2's columns for one layer, from its relative (P+Q) and huffman (P+Q+H) encodings."""
    w = layer.params["weight"]
    rel = formats.encode(w, "relative", index_bits=index_bits)
    huf = formats.encode(w, "huffman", index_bits=index_bits)
    z, fillers = rel.field("z"), rel.field("fillers")
    entries = max(z + fillers, 1)
    k = rel.arrays["codebook"].size
    return {
        "layer": name, "weights": int(w.size), "nonzeros": z, "kept": z / w.size, "clusters": k,
        "fillers": fillers,
        "weight_bits": {"P+Q": formats.index_width(k + 1), "P+Q+H": huf.field("value_bits") / entries},
        "index_bits": {"P+Q": index_bits, "P+Q+H": huf.field("gap_bits") / entries},
        "size_bits": {"P+Q": rel.bits, "P+Q+H": huf.bits},
        "rate": {"P+Q": rel.bits / (32 * w.size), "P+Q+H": huf.bits / (32 * w.size)},
    }


def _total(rows, reference, rest) -> dict:
    """The Total row: weights kept, bits per entry averaged over the entries, and the rate of
    the whole model: ``rest`` is what is stored besides the compressed weights (biases and
    layers left as they are, fp32 with their headers)."""
    n = sum(r["weights"] for r in rows)
    z = sum(r["nonzeros"] for r in rows)
    entries = np.array([r["nonzeros"] + r["fillers"] for r in rows], dtype=float)
    share = entries / max(entries.sum(), 1)

    def mean(col, key):
        return float(sum(s * r[col][key] for s, r in zip(share, rows)))

    sizes = {key: sum(r["size_bits"][key] for r in rows) + rest for key in ("P+Q", "P+Q+H")}
    return {"layer": "total", "weights": n, "nonzeros": z, "kept": z / n,
            "weight_bits": {k: mean("weight_bits", k) for k in sizes},
            "index_bits": {k: mean("index_bits", k) for k in sizes},
            "size_bits": sizes, "rate": {k: v / reference for k, v in sizes.items()}}


def deep_compression_table(report) -> str:
    """Han et al.'s Table 2 for ``report`` (from :func:`deep_compression`), as Markdown."""
    check_dict(report, "report", "as deep_compression returns it")
    if not {"layers", "total"} <= set(report):
        raise ValueError(f"report must be what deep_compression returns (keys 'layers', 'total'); got "
                         f"keys {sorted(report)}")
    lines = ["| layer | #weights | weights kept (P) | weight bits P+Q | weight bits P+Q+H | index bits P+Q "
             "| index bits P+Q+H | rate P+Q | rate P+Q+H |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in [*report["layers"], report["total"]]:
        lines.append(
            f"| {r['layer']} | {r['weights']:,} | {100 * r['kept']:.1f}% | {r['weight_bits']['P+Q']:.1f} "
            f"| {r['weight_bits']['P+Q+H']:.1f} | {r['index_bits']['P+Q']:.1f} "
            f"| {r['index_bits']['P+Q+H']:.1f} "
            f"| {100 * r['rate']['P+Q']:.2f}% ({1 / r['rate']['P+Q']:.0f}x) "
            f"| {100 * r['rate']['P+Q+H']:.2f}% ({1 / r['rate']['P+Q+H']:.0f}x) |")
    return "\n".join(lines)
