"""Quantization (source text sections 3.2 and 4.2): fewer bits per weight and activation.

binary.py (4.2.1), ternary.py (TWN), int8.py (4.2.2, the text's formula; the b-bit
quantizer itself is ``formats.symmetric``), affine.py (scale, zero point, calibration),
layers.py (post-training quantized models: binary, ternary, int8 weights), qat.py (fake
quantization, straight-through estimator, QAT layers), dynamic.py (the text's
``quantize_dynamic``), kernels.py (exact integer and XNOR matrix products), fixedpoint.py +
intinfer.py (integer-only inference, Jacob et al. 2018), kmeans.py (weight sharing and
centroid fine-tuning, Deep Compression, Han et al. 2016).  Every quantized layer is one of
the stored-weight layers of :mod:`minicompress.formats`.
"""

from ..formats.packing import pack_signs, unpack_signs
from .affine import (
    QParams,
    affine_params,
    calibrate,
    dequantize_affine,
    fake_quantize_affine,
    integer_range,
    quantize_affine,
)
from .binary import binarize, binarize_scaled, binary_scale
from .dynamic import DynamicQuantLinear, quantize_dynamic
from .fixedpoint import multiply_by_quantized_multiplier, quantize_multiplier, zero_point_matmul
from .int8 import int8_dequantize, int8_quantize, symmetric_dequantize, symmetric_quantize
from .intinfer import IntegerModel, integer_only
from .kernels import int_matmul, xnor_matmul
from .kmeans import (
    CentroidHook,
    centroid_gradient,
    kmeans_assign,
    kmeans_dequantize,
    kmeans_init,
    kmeans_objective,
    kmeans_quantize,
    kmeans_step,
)
from .layers import SCHEMES, quantize_weights, quantized_values, weight_encoding
from .qat import (
    QATConv2d,
    QATLinear,
    ShadowClip,
    convert_qat,
    fake_quantize_backward,
    fake_quantize_forward,
    prepare_qat,
)
from .ternary import ternarize, ternary_threshold

__all__ = [
    # the public names of DESIGN.md
    "binarize", "binarize_scaled", "ternarize", "int8_quantize", "int8_dequantize",
    "symmetric_quantize", "symmetric_dequantize", "quantize_affine", "dequantize_affine",
    "calibrate", "fake_quantize_forward", "fake_quantize_backward", "quantize_dynamic",
    "int_matmul", "xnor_matmul", "integer_only", "kmeans_quantize",
    # formulas a reader of the text meets
    "binary_scale", "ternary_threshold", "QParams", "integer_range", "affine_params",
    "fake_quantize_affine", "quantize_multiplier", "multiply_by_quantized_multiplier",
    "zero_point_matmul", "pack_signs", "unpack_signs", "kmeans_init", "kmeans_assign", "kmeans_step",
    "kmeans_objective", "kmeans_dequantize", "centroid_gradient",
    # model transforms and their layers
    "SCHEMES", "quantized_values", "weight_encoding", "quantize_weights", "QATLinear", "QATConv2d",
    "prepare_qat", "convert_qat", "ShadowClip", "DynamicQuantLinear", "IntegerModel", "CentroidHook",
]
