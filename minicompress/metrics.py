"""Section 2.2: the three numbers compression is judged by -- size (compression ratio),
accuracy loss, and inference speed -- measured honestly.

* Size is the *stored* size: :func:`model_size_bits` encodes every weight in a storage
  format of :mod:`minicompress.formats` (index arrays, scales and headers included), so a
  pruned model kept as dense float32 is exactly as large as before.
* Work is counted in multiply-accumulates (MACs) by :func:`flops`, dense (every weight) and
  effective (non-zero weights only): what a sparse kernel *could* skip, not what it does.
* Speed is measured by :func:`latency` (median of repeats, with the spread and the thread
  settings), because fewer MACs do not make a dense kernel faster.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from . import formats
from .nn import Module, Sequential
from .nn._checks import check_int
from .nn.functional import output_size

__all__ = [
    "SizeReport", "model_size_bits", "compression_ratio", "compression_ratio_text", "parameter_counts",
    "sparsity",
    "accuracy", "accuracy_loss", "FlopsReport", "flops", "LatencyReport", "latency", "thread_settings",
]


def _check_model(model) -> None:
    if not isinstance(model, Module):
        raise TypeError(f"model must be a minicompress Module; got {type(model).__name__}")


# ----------------------------------------------------------------------------- size
@dataclass
class SizeReport:
    """Stored size of a model: ``bits[layer]``, the format used per layer, and ``total``."""

    fmt: str
    bits: dict = field(default_factory=dict)
    formats: dict = field(default_factory=dict)

    @property
    def total(self) -> int:
        return int(sum(self.bits.values()))

    def __int__(self) -> int:
        return self.total

    @property
    def kilobytes(self) -> float:
        return self.total / 8 / 1024


def _own_storage(module) -> bool:
    return callable(getattr(module, "storage_bits", None))


def _leaves(module, name=""):
    """``(name, module)`` for every module that owns storage: a layer with ``storage_bits()``
    (its children are not visited: it counts them) or a module with parameters."""
    if _own_storage(module):
        yield name, module
        return
    if module.params:
        yield name, module
    for child_name, child in module.children().items():
        yield from _leaves(child, f"{name}.{child_name}" if name else child_name)


def model_size_bits(model, fmt: str = "fp32", **options) -> SizeReport:
    """Stored bits of ``model`` per layer and in total (``.total``; ``int(report)``).

    ``fmt`` is one of :data:`formats.FORMATS` or ``"auto"``.  It applies to every weight array
    (ndim >= 2) of the plain layers; 1-D parameters (biases) are counted as fp32 in every
    format.  A layer that defines ``storage_bits()`` (a quantized, sparse or factorised
    layer) is always counted by it, whatever ``fmt`` says: it knows how it is stored.
    ``"auto"`` is therefore: each layer's own ``storage_bits()``, else fp32.
    ``options`` go to the format (e.g. ``rank=8`` for ``"lowrank"``).
    """
    _check_model(model)
    if fmt != "auto" and fmt not in formats.FORMATS:
        raise ValueError(f"unknown storage format {fmt!r}; choose from {[*formats.FORMATS, 'auto']}")
    array_fmt = "fp32" if fmt == "auto" else fmt
    report = SizeReport(fmt)
    for name, mod in _leaves(model):
        key = name or type(mod).__name__
        if _own_storage(mod):
            report.bits[key] = check_int(mod.storage_bits(), f"{key}.storage_bits()", low=0)
            report.formats[key] = f"own ({type(mod).__name__})"
            continue
        bits, used = 0, set()
        for p in mod.params.values():
            f = array_fmt if p.ndim >= 2 else "fp32"
            bits += formats.size_bits(p, f, **(options if f == array_fmt else {}))
            used.add(f)
        report.bits[key] = bits
        report.formats[key] = "+".join(sorted(used))
    if not report.bits:
        raise ValueError(f"model {type(model).__name__} has no parameters and no layer with storage_bits()")
    return report


def _bits(x, name: str) -> int:
    if isinstance(x, SizeReport):
        return x.total
    return check_int(x, name, low=1)


def compression_ratio(original, compressed) -> float:
    """``original bits / compressed bits``: how many times smaller (10.0 = ten times).

    The source text (section 2.2) defines the compression rate the other way round, as
    compressed size / original size (0.1 for the same model): that is
    :func:`compression_ratio_text`.  The tour prints both, labelled.  Arguments are bit
    counts or :class:`SizeReport`; an unchanged model has ratio exactly 1.
    """
    o, c = _bits(original, "original"), _bits(compressed, "compressed")
    return o / c


def compression_ratio_text(original, compressed) -> float:
    """The source text's section 2.2 rate: ``compressed bits / original bits`` (smaller is better)."""
    return _bits(compressed, "compressed") / _bits(original, "original")


def parameter_counts(model) -> tuple[int, int]:
    """``(parameters, non-zero parameters)`` of ``model``.  A layer that stores its weights
    outside ``params`` (a sparse layer) reports them with ``parameter_counts()``."""
    _check_model(model)
    total = nonzero = 0
    for _, mod in _leaves(model):
        if callable(getattr(mod, "parameter_counts", None)):
            t, z = mod.parameter_counts()
        else:
            t = sum(p.size for p in mod.params.values())
            z = sum(int(np.count_nonzero(p)) for p in mod.params.values())
        total, nonzero = total + int(t), nonzero + int(z)
    return total, nonzero


def sparsity(model, *, weights_only: bool = False) -> float:
    """Fraction of parameters that are exactly zero, in [0, 1] (-0.0 counts as zero).

    With ``weights_only`` only arrays of ndim >= 2 count (what pruning masks).
    """
    _check_model(model)
    arrays = [p for _, p in model.named_parameters() if p.ndim >= 2 or not weights_only]
    total = sum(p.size for p in arrays)
    if total == 0:
        raise ValueError(f"model {type(model).__name__} has no parameters; sparsity is undefined")
    return 1.0 - sum(int(np.count_nonzero(p)) for p in arrays) / total


def accuracy(model, X, y, batch_size: int = 500) -> float:
    """Top-1 accuracy of ``model`` on ``(X, y)`` as a fraction in [0, 1].

    ``y`` must be integer class labels of shape (N,) in [0, C) for the model's C outputs,
    checked by the NN stack's :func:`~minicompress.nn.functional.check_labels` as
    :func:`~minicompress.nn.evaluate` checks them: (N, 1) labels are not broadcast, and
    out-of-range or float labels are errors, not misses.
    """
    from .nn import predict
    from .nn.functional import check_labels

    _check_model(model)
    logits = predict(model, X, batch_size)
    labels = check_labels(y, len(logits), logits.shape[1], name="y")
    return float((logits.argmax(axis=1) == labels).mean())


def accuracy_loss(reference: float, compressed: float) -> float:
    """``100 * (reference - compressed)``: the accuracy lost, in percentage points
    (accuracies as fractions; negative when the compressed model is better)."""
    for v, n in ((reference, "reference"), (compressed, "compressed")):
        if not 0.0 <= float(v) <= 1.0:
            raise ValueError(f"{n} accuracy must be a fraction in [0, 1]; got {v}")
    return 100.0 * (float(reference) - float(compressed))


# ----------------------------------------------------------------------------- work
@dataclass
class FlopsReport:
    """MACs for one input: ``per_layer[name] = (dense, effective)`` and the totals."""

    input_shape: tuple
    per_layer: dict = field(default_factory=dict)

    @property
    def dense(self) -> int:
        return int(sum(d for d, _ in self.per_layer.values()))

    @property
    def effective(self) -> int:
        return int(sum(e for _, e in self.per_layer.values()))


def _weight_geometry(layer):
    """``(weight shape, non-zero weights, stride, padding)`` of a layer that multiplies by a
    weight -- a Linear or Conv2d, a stored-weight layer of :mod:`minicompress.formats`, a QAT
    layer -- or None.  A layer that knows better reports ``nonzero_weights()`` itself (a
    stored layer counts its decoded weight, a QAT layer its quantized one)."""
    if hasattr(layer, "weight_shape"):
        shape = tuple(layer.weight_shape)
    elif "weight" in layer.params:
        shape = layer.params["weight"].shape
    else:
        return None
    nnz = layer.nonzero_weights() if hasattr(layer, "nonzero_weights") else \
        int(np.count_nonzero(layer.params["weight"]))
    return shape, int(nnz), getattr(layer, "stride", 1), getattr(layer, "padding", 0)


def layer_macs(layer, x_shape) -> tuple[int, int]:
    """(dense, effective) MACs of one layer for an input of ``x_shape`` (batch 1).

    A weight of shape (out, in) multiplies like a Linear: dense ``out * in``, effective
    ``nnz(W)``, per input row.  A weight (C_out, C_in, kh, kw) like a Conv2d: dense
    ``C_out * H' * W' * C_in * kh * kw``, effective ``nnz(W) * H' * W'`` (taps on zero
    padding are counted, as a kernel computes them).  Biases, ReLU and pooling do no MACs.
    This is the one MAC formula of the package; a layer of another shape reports its own
    with ``macs(x_shape)``.
    """
    if callable(getattr(layer, "macs", None)):
        d, e = layer.macs(tuple(x_shape))
        return check_int(d, "macs()[0]", low=0), check_int(e, "macs()[1]", low=0)
    geometry = _weight_geometry(layer)
    if geometry is None:
        if layer.params:
            raise TypeError(f"{type(layer).__name__} has parameters but no weight; define macs(x_shape)")
        return 0, 0
    shape, nnz, stride, padding = geometry
    n = int(np.prod(shape, dtype=np.int64))
    if len(shape) == 2:
        rows = int(np.prod(x_shape[:-1], dtype=np.int64))
        return rows * n, rows * nnz
    if len(shape) == 4:
        hw = (output_size(x_shape[-2], shape[2], stride, padding)
              * output_size(x_shape[-1], shape[3], stride, padding))
        return n * hw, nnz * hw
    raise TypeError(f"{type(layer).__name__} has a {len(shape)}-D weight; define macs(x_shape)")


def _trace(module, x, name, report):
    if isinstance(module, Sequential) and not callable(getattr(module, "macs", None)):
        for child_name, child in module.children().items():
            x = _trace(child, x, f"{name}.{child_name}" if name else child_name, report)
        return x
    if module.children() and not callable(getattr(module, "macs", None)):
        raise TypeError(f"{name or type(module).__name__}: a composite module needs macs(x_shape)")
    try:
        out = module(x)
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"input_shape {report.input_shape} does not fit the model: layer {name!r} got an input "
            f"of shape {x.shape}: {err}"
        ) from err
    report.per_layer[name or type(module).__name__] = layer_macs(module, x.shape)
    return out


def flops(model, input_shape) -> FlopsReport:
    """Multiply-accumulates per layer and in total for ONE input of ``input_shape``
    (without the batch dimension: ``(1, 28, 28)`` for MNIST), dense and effective.

    Shapes are propagated by a forward pass on zeros of batch 1; Sequentials recurse.
    The text's ConvNet: conv1 16*26*26*9 = 97,344 and fc 2704*10 = 27,040 MACs.
    A MAC is one multiply and one add; "FLOPs" are often quoted as 2 x MACs.
    """
    _check_model(model)
    if not isinstance(input_shape, (tuple, list)) or not input_shape:
        raise TypeError(f"input_shape must be a non-empty tuple like (1, 28, 28); got {input_shape!r}")
    shape = tuple(check_int(d, "input_shape[i]", low=1) for d in input_shape)
    weights = [m for _, m in model.named_modules()
               if callable(getattr(m, "macs", None)) or _weight_geometry(m) is not None]
    if not weights:
        raise ValueError(f"model {type(model).__name__} has no parameters and no weight layers; "
                         f"nothing to count")
    dtype = model.parameters()[0].dtype if model.parameters() else np.float32
    report = FlopsReport(shape)
    _trace(model, np.zeros((1, *shape), dtype=dtype), "", report)
    return report


# ----------------------------------------------------------------------------- speed
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


def thread_settings() -> dict:
    """What decides the BLAS thread count, as far as can be read without threadpoolctl:
    the environment variables (``None`` = unset, then the BLAS uses every core),
    ``os.cpu_count()`` and the BLAS numpy was built with.  Not the live thread count."""
    info = {var: os.environ.get(var) for var in _THREAD_VARS}
    info["cpu_count"] = os.cpu_count()
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # older numpy: no dict mode
        info["blas"] = "unknown"
    return info


@dataclass
class LatencyReport:
    """Wall-clock seconds per forward pass over the repeats, with the thread settings."""

    times: np.ndarray
    batch: int
    threads: dict

    @property
    def median_ms(self) -> float:
        return 1e3 * float(np.median(self.times))

    @property
    def spread_ms(self) -> tuple[float, float]:
        """(25th, 75th) percentile, in milliseconds."""
        lo, hi = np.percentile(self.times, [25, 75])
        return 1e3 * float(lo), 1e3 * float(hi)


def latency(model, X, repeats: int = 10, warmup: int = 2) -> LatencyReport:
    """Time ``model(X)`` ``repeats`` times after ``warmup`` untimed runs
    (``time.perf_counter``).  Report the median: on a shared machine the mean is dragged by
    other processes; the interquartile spread says how noisy the number is."""
    _check_model(model)
    repeats = check_int(repeats, "repeats", low=1)
    warmup = check_int(warmup, "warmup", low=0)
    if not isinstance(X, np.ndarray) or X.ndim < 1 or len(X) == 0:
        raise ValueError(f"X must be a non-empty numpy batch; got {type(X).__name__} {np.shape(X)}")
    for _ in range(warmup):
        model(X)
    times = np.empty(repeats)
    for i in range(repeats):
        t0 = time.perf_counter()
        model(X)
        times[i] = time.perf_counter() - t0
    return LatencyReport(times, len(X), thread_settings())
