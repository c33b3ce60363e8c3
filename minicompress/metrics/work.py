"""Work, section 2.2: multiply-accumulates (MACs) per image, dense (every weight) and
effective (non-zero weights only) -- what a sparse kernel *could* skip, not what it does.
:func:`layer_macs` is the one MAC formula of the package."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..nn import Sequential
from ..nn._checks import check_int, check_shape
from ..nn.functional import output_size
from ..nn.module import check_module

__all__ = ["FlopsReport", "layer_macs", "flops"]


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
    check_module(layer, "layer")
    x_shape = check_shape(x_shape, "x_shape")
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
    check_module(model)
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
