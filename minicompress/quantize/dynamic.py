"""Dynamic quantization: the NumPy counterpart of the text's (section 3.2.2)::

    quantized_model = torch.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)

"Dynamic" means that only the weights are quantized ahead of time; each activation batch is
quantized when it arrives, with a scale computed from that batch, so no calibration data is
needed.  Per Linear layer:

* weights: int8 per output channel, the text's formula ``q_w = round(w / s_c * 127)``,
  ``s_c = max|w_c|`` (PyTorch's default qint8 weight observer uses one scale per tensor;
  one per channel bounds each channel's error by its own half step);
* activations, per batch: uint8 affine, ``x ~ S_x (q_x - Z_x)`` with ``[lo, hi]`` the
  batch's min and max widened to include 0 (PyTorch's dynamic quantization also takes
  each batch's min and max);
* accumulate in int32, with the zero-point cross term of Jacob et al. (2018) eq. (7)::

      sum_k (q_x - Z_x) q_w = sum_k q_x q_w  -  Z_x sum_k q_w

* output in float: ``y = S_x (s_c / 127) acc + b``.

On the text's ConvNet, ``{Linear}`` quantizes only ``fc``: the convolution stays float (it
holds 160 of the 27,210 parameters, but most of the multiply-adds).
"""

from __future__ import annotations

import numpy as np

from ..formats import CompressedLinear, encode
from ..formats.codes import int_codes
from ..nn.layers import Linear, Module, replace_layers
from .affine import calibrate, quantize_affine
from .kernels import int_matmul

__all__ = ["DynamicQuantLinear", "quantize_dynamic"]


class DynamicQuantLinear(CompressedLinear):
    """Linear with int8 per-channel weights and per-batch uint8 activations (inference only).

    x: (N, in) float -> y: (N, out) float32.  Stores the ``"int8_channel"`` encoding of the
    weight (codes + one float32 scale per output channel) and the fp32 bias.
    """

    def __init__(self, layer: Linear):
        if not isinstance(layer, Linear):
            raise TypeError(f"layer must be a Linear; got {type(layer).__name__}")
        super().__init__(encode(layer.params["weight"], "int8_channel"), layer.params.get("bias"))

    def _build(self):
        super()._build()
        enc = self._encodings["weight"]
        q = int_codes(enc.arrays, enc.shape)  # (out, in) int8
        self.scale = enc.arrays["scale"].astype(np.float64)  # per channel max|w|
        self._qw_t = np.ascontiguousarray(q.T)  # (in, out), the layout int_matmul wants
        self._col_sums = q.sum(axis=1, dtype=np.int32)  # sum_k q_w[c, k], for the Z_x term

    def forward(self, x):
        if not isinstance(x, np.ndarray) or x.ndim != 2 or x.shape[1] != self.weight_shape[1]:
            raise ValueError(f"{self!r}: input must be (N, {self.weight_shape[1]}); got {np.shape(x)}")
        qp = calibrate(x, "minmax", bits=8, signed=False)  # per batch: the "dynamic" part
        qx = quantize_affine(x, *qp)
        acc = int_matmul(qx, self._qw_t) - np.int32(qp.zero_point) * self._col_sums
        out = (acc * (qp.scale * self.scale / 127.0)).astype(np.float32)
        if self._bias is not None:
            out += self._bias
        return out

    def extra_repr(self):
        return f"{self.weight_shape[1]}, {self.weight_shape[0]}, dtype=qint8"


def quantize_dynamic(model: Module, layer_types=(Linear,)) -> Module:
    """A copy of ``model`` with every layer of ``layer_types`` dynamically quantized to int8.

    Parameters
    ----------
    model : Module (a Sequential, or a single Linear)
    layer_types : tuple of layer classes; only ``Linear`` is supported, as in the text's
        call ``quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)``

    Returns
    -------
    a new model; the original is unchanged (PyTorch's default ``inplace=False``).
    """
    types = tuple(layer_types) if isinstance(layer_types, (tuple, list, set, frozenset)) else (layer_types,)
    if not types or any(t is not Linear for t in types):
        raise ValueError(f"layer_types must be (Linear,): dynamic quantization here covers Linear "
                         f"layers only, as the text's {{nn.Linear}}; got {layer_types!r}")
    return replace_layers(model, (Linear,), DynamicQuantLinear)
