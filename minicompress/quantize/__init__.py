"""Quantization (source text sections 3.2 and 4.2): fewer bits per weight and activation.

binary.py (4.2.1), ternary.py (TWN), int8.py (4.2.2, the text's formula; the b-bit
quantizer itself is ``formats.symmetric``), affine.py (scale, zero point, calibration),
histogram.py (TensorRT's entropy threshold), observers.py (what activation quantizers record),
layers.py (post-training quantized models: binary, ternary, int8, b-bit weights),
fakequant.py (fake quantization, straight-through estimator), qat.py (QAT layers),
actquant.py (activation quantizers), learned.py (LSQ, PACT), xnor.py (XNOR networks),
sequential.py (the layer-by-layer calibration loop), gptq.py (GPTQ), adaround.py (AdaRound),
equalize.py (cross-layer equalization, bias correction), dynamic.py (the text's
``quantize_dynamic``), kernels.py (exact integer and XNOR matrix products), fixedpoint.py,
intinfer.py and intmodel.py (integer-only layers and whole networks, Jacob et al. 2018),
kmeans.py (weight sharing and centroid fine-tuning, Deep Compression, Han et al. 2016).
Every quantized layer is one of the stored-weight layers of :mod:`minicompress.formats`.
"""

from ..formats.packing import pack_signs, unpack_signs
from .actquant import ActQuant, calibrate_activations
from .adaround import adaround
from .affine import (
    calibrate,
    dequantize_affine,
    fake_quantize_affine,
    quantize_affine,
)
from .binary import binarize, binarize_scaled, binary_scale
from .dynamic import DynamicQuantLinear, quantize_dynamic
from .equalize import bias_correction, equalize
from .fixedpoint import quantize_multiplier
from .gptq import gptq, gptq_column_update, gptq_hessian_inverse
from .int8 import int8_dequantize, int8_quantize, symmetric_dequantize, symmetric_quantize
from .intmodel import integer_only
from .kernels import int_matmul, xnor_matmul
from .kmeans import (
    CentroidHook,
    centroid_gradient,
    kmeans_assign,
    kmeans_dequantize,
    kmeans_quantize,
)
from .layers import quantize_weights
from .learned import lsq_backward, lsq_forward
from .qat import (
    ShadowClip,
    convert_qat,
    fake_quantize_backward,
    fake_quantize_forward,
    prepare_qat,
)
from .ternary import ternarize
from .xnor import XnorConv2d, XnorLinear, convert_xnor, prepare_xnor

__all__ = [
    "binarize", "binarize_scaled", "ternarize", "int8_quantize", "int8_dequantize",
    "symmetric_quantize", "symmetric_dequantize", "quantize_affine", "dequantize_affine",
    "calibrate", "fake_quantize_forward", "fake_quantize_backward", "quantize_dynamic",
    "int_matmul", "xnor_matmul", "integer_only", "kmeans_quantize", "binary_scale",
    "fake_quantize_affine", "quantize_multiplier", "pack_signs", "unpack_signs", "kmeans_assign",
    "kmeans_dequantize", "centroid_gradient", "quantize_weights", "prepare_qat", "convert_qat",
    "ShadowClip", "DynamicQuantLinear", "CentroidHook", "gptq", "gptq_column_update",
    "gptq_hessian_inverse", "equalize", "bias_correction", "adaround", "ActQuant",
    "calibrate_activations", "lsq_forward", "lsq_backward", "prepare_xnor", "convert_xnor",
    "XnorLinear", "XnorConv2d",
]
