"""Integer-only inference of a whole trained network (Jacob et al. 2018; TFLite's int8 scheme).

What ``tf.lite.TFLiteConverter`` produces for full-integer quantization (section 5.2 of the
text, with a representative dataset), written out in NumPy:

* weights: int8, symmetric, one scale per output channel, ``S_w = max|w_c| / 127``, Z_w = 0;
* activations: 8-bit affine codes (int8 as TFLite, or uint8 as the paper), scale and zero
  point calibrated once on sample inputs (:func:`calibrate`);
* biases: int32 with scale ``S_in S_w`` and zero point 0, added to the int32 accumulator;
* requantization: ``q_out = clamp(Z_out + M0 * acc / 2**n)`` with the fixed-point
  multiplier of :mod:`.fixedpoint`; a ReLU that follows a layer is fused into the clamp
  (its lower end is the code of the real 0), max pooling runs on the codes directly (a
  monotone map commutes with max) -- or, right after an integer layer, on its int32
  accumulators before requantization (the same codes, a quarter of the work);
* only the network's input (quantize) and its logits (dequantize) touch floats.

Speed: the exact integer sums are float GEMMs (:mod:`.kernels`) on the centred codes
``q - Z_in``, through the float convolution's own im2col, so the ConvNet runs at about 1.4x
the float model's time at batch 256 (``benchmarks/bench_intinfer.py``).

The integer layers belong to the one family of stored-weight layers
(:class:`~minicompress.formats.StoredLayer`): each stores the ``"int8_channel"`` encoding of
its weight and, as ``"raw"`` arrays, its int32 bias, the per-channel multipliers ``M0`` (int32)
and shifts ``n`` (int8), and the input and output zero points (int32); ``storage_bits()`` is
their size.  Every integer layer also has ``simulate(x)``, the float64 fake-quant model of the same
quantization (real values on the same grids, exact multiplier ``M``, round half to even);
the test checks that the integer logits agree with it within one output step.
"""

from __future__ import annotations

import numpy as np

from ..formats import Encoded, StoredLayer, encode
from ..formats.codes import int_codes
from ..nn import functional as F
from ..nn.layers import Conv2d, Linear, MaxPool2d, Module
from .affine import (
    QParams,
    dequantize_affine,
    fake_quantize_affine,
    quantize_affine,
)
from .fixedpoint import multiply_by_quantized_multiplier, quantize_multiplier
from .kernels import exact_float_dtype

__all__ = ["QuantizeInput", "IntLinear", "IntConv2d", "IntMaxPool2d", "IntReLU", "Dequantize"]


def _raw(values, dtype):
    return encode(np.atleast_1d(np.asarray(values)).astype(dtype), "raw")


class _Calibrated(Encoded):
    """Stores its (S, Z) -- a float64 scale (as PyTorch's ``q_scale``; the multipliers of the
    next layer are computed from it) and an int32 zero point, raw -- and keeps the code range
    [qmin, qmax] as a setting."""

    def __init__(self, qp: QParams):
        super().__init__()
        self.qmin, self.qmax = qp.qmin, qp.qmax
        self._set({"scale": _raw(qp.scale, np.float64), "zero_point": _raw(qp.zero_point, np.int32)})

    def _build(self):
        scale, zero_point = (float(self._encodings["scale"].decode()[0]),
                             int(self._encodings["zero_point"].decode()[0]))
        self.qp = QParams(scale, zero_point, self.qmin, self.qmax)


class QuantizeInput(_Calibrated):
    """float input -> 8-bit codes with the calibrated (S, Z)."""

    def forward(self, x):
        return quantize_affine(np.asarray(x, np.float64), *self.qp)

    def simulate(self, x):
        return fake_quantize_affine(np.asarray(x, np.float64), self.qp)

    def extra_repr(self):
        return f"S={self.qp.scale:.4g}, Z={self.qp.zero_point}, codes [{self.qp.qmin}, {self.qp.qmax}]"


class _IntAffine(StoredLayer):
    """Shared by IntLinear and IntConv2d: int8 weights, int32 bias, fixed-point requantize.

    ``forward(q) = requantize(accumulate(q))``: :meth:`accumulate` computes the exact integer
    sums ``sum_k (q_x - Z_x) q_w`` through float BLAS (every product and partial sum is an
    integer below 2**24, float32, or 2**53, float64, so no operation rounds: see
    :mod:`.kernels`), and :meth:`requantize` adds the int32 bias and applies ``M0 2**-n``.
    """

    def __init__(self, layer, in_qp: QParams, out_qp: QParams, relu: bool, **geometry):
        self.in_qp, self.out_qp, self.relu = in_qp, out_qp, bool(relu)
        weight = encode(layer.params["weight"], "int8_channel")
        s_w = weight.arrays["scale"].astype(np.float64) / 127.0  # the step per channel: w ~ s_w q_w
        bias = layer.params.get("bias")
        bias = np.zeros(s_w.size) if bias is None else bias.astype(np.float64)
        q_b = np.rint(bias / (in_qp.scale * s_w))
        if np.abs(q_b).max() >= 2**31:
            raise ValueError("a bias does not fit int32 at scale S_in * S_w")
        M0, n = quantize_multiplier(in_qp.scale * s_w / out_qp.scale)
        super().__init__(weight, None, extra={
            "bias": _raw(q_b, np.int32), "multiplier": _raw(M0, np.int32), "shift": _raw(n, np.int8),
            "zero_points": _raw([in_qp.zero_point, out_qp.zero_point], np.int32)}, **geometry)

    def _build(self):
        enc = self._encodings
        self.q_w = int_codes(enc["weight"].arrays, enc["weight"].shape)
        self.s_w = enc["weight"].arrays["scale"].astype(np.float64) / 127.0
        self.q_b = enc["bias"].decode()
        self.M0, self.n = enc["multiplier"].decode().astype(np.int64), enc["shift"].decode().astype(np.int64)
        self.z_in, self.z_out = (int(z) for z in enc["zero_points"].decode())
        # fused ReLU: clamp at the code of the real 0, which is Z_out
        self.lo = max(self.out_qp.qmin, self.z_out) if self.relu else self.out_qp.qmin
        self.dtype = quantize_affine(np.zeros(1), *self.out_qp).dtype
        self._bias = None
        # the GEMM type: |q_x - Z_x| <= qmax - qmin (255) and |q_w| <= 127, K terms
        K = int(np.prod(self.q_w.shape[1:]))
        wmax, span = int(np.abs(self.q_w.astype(np.int16)).max()), self.in_qp.qmax - self.in_qp.qmin
        self._ft = exact_float_dtype(K, span, wmax)
        if self._ft is None or K * span * wmax + int(np.abs(self.q_b.astype(np.int64)).max()) >= 2**31:
            raise ValueError(f"{type(self).__name__}: K = {K} terms of 8-bit codes can overflow the int32 "
                             f"accumulator; split the layer")
        self._w = self.q_w.astype(self._ft)

    def nonzero_weights(self) -> int:
        return int(np.count_nonzero(self.q_w))

    def parameter_counts(self) -> tuple[int, int]:
        return self.q_w.size + self.q_b.size, self.nonzero_weights() + int(np.count_nonzero(self.q_b))

    def _centered(self, q):
        """``q_x - Z_x`` in the exact GEMM type (the real 0 becomes 0, so zero padding is right)."""
        return q.astype(self._ft) - self._ft(self.z_in)

    def requantize(self, acc):
        """``clamp(Z_out + round(M0 (acc + q_b) / 2**n), lo, qmax)`` per output channel (axis 1),
        from the exact float accumulators of :meth:`accumulate`; codes of the output dtype."""
        last = np.moveaxis(acc, 1, -1)  # a view with the channels last, as the multiplier wants
        total = last.astype(np.int64) + self.q_b
        q = self.z_out + multiply_by_quantized_multiplier(total, self.M0, self.n)
        return np.moveaxis(np.clip(q, self.lo, self.out_qp.qmax).astype(self.dtype), -1, 1)

    def forward(self, q):
        return self.requantize(self.accumulate(q))

    def _fake_quant_out(self, y):
        S, Z = self.out_qp.scale, self.z_out
        return S * (np.clip(np.rint(y / S) + Z, self.lo, self.out_qp.qmax) - Z)

    def extra_repr(self):
        return (f"{self.weight_shape} int8, int32 bias, relu={self.relu}, "
                f"out S={self.out_qp.scale:.4g} Z={self.z_out}")


class IntLinear(_IntAffine):
    """codes (N, in) -> codes (N, out); ``acc = sum (q_x - Z_x) q_w + q_b`` in int32."""

    kind = "linear"

    def __init__(self, layer: Linear, in_qp: QParams, out_qp: QParams, relu: bool = False):
        super().__init__(layer, in_qp, out_qp, relu)

    def accumulate(self, q):
        """(N, in) codes -> (N, out) exact ``sum_k (q_x - Z_x) q_w`` (float, integer-valued)."""
        return self._centered(q) @ self._w.T

    def simulate(self, x):
        w = self.s_w[:, None] * self.q_w
        b = self.in_qp.scale * self.s_w * self.q_b
        return self._fake_quant_out(x @ w.T + b)


class IntConv2d(_IntAffine):
    """codes (N, C, H, W) -> codes (N, C_out, H', W'): one exact GEMM on the centred codes.

    Zero padding pads with the code Z_in (the real 0), not with the code 0: the codes are
    centred first (``q - Z_in``), so the padding is the GEMM's plain zero padding.
    """

    kind = "conv2d"

    def __init__(self, layer: Conv2d, in_qp: QParams, out_qp: QParams, relu: bool = False):
        super().__init__(layer, in_qp, out_qp, relu, stride=layer.stride, padding=layer.padding)

    def accumulate(self, q):
        """(N, C, H, W) codes -> (N, C_out, H', W') exact sums (float, integer-valued), by the
        float convolution's own im2col + GEMM (:func:`~minicompress.nn.functional.conv2d_forward`)."""
        return F.conv2d_forward(self._centered(q), self._w, None, self.stride, self.padding)[0]

    def simulate(self, x):
        w = self.s_w[:, None, None, None] * self.q_w
        b = self.in_qp.scale * self.s_w * self.q_b
        y, _ = F.conv2d_forward(x, w, b, self.stride, self.padding)
        return self._fake_quant_out(y)


class IntMaxPool2d(MaxPool2d):
    """Max pooling on the codes: q -> S (q - Z) is increasing, so max commutes with it."""

    def simulate(self, x):
        return F.max_pool2d_forward(x, self.kernel_size, self.stride)[0]


class IntReLU(Module):
    """A ReLU not fused into a layer: ``max(q, Z)`` on the codes (Z is the real 0)."""

    def __init__(self, qp: QParams):
        super().__init__()
        self.qp = qp

    def forward(self, q):
        return np.maximum(q, np.asarray(self.qp.zero_point, q.dtype))

    def simulate(self, x):
        return np.maximum(x, 0.0)


class Dequantize(_Calibrated):
    """codes -> float32 real values ``S (q - Z)`` (the logits at the end)."""

    def forward(self, q):
        return dequantize_affine(q, *self.qp)

    def simulate(self, x):
        return x

    def extra_repr(self):
        return f"S={self.qp.scale:.4g}, Z={self.qp.zero_point}"
