"""Quantization (source text sections 3.2 and 4.2): fewer bits per weight and activation.

binary.py (4.2.1), ternary.py (TWN), int8.py (4.2.2, the text's formula; the b-bit
quantizer itself is ``formats.symmetric``), affine.py (scale, zero point, calibration),
histogram.py (TensorRT's entropy threshold), observers.py (what activation quantizers record),
layers.py (post-training quantized models: binary, ternary, int8, b-bit weights),
fakequant.py (fake quantization, straight-through estimator), qat.py (QAT layers),
actquant.py (activation quantizers), learned.py (LSQ, PACT), xnor.py (XNOR networks),
sequential.py (the layer-by-layer calibration loop), gptq.py (GPTQ), adaround.py (AdaRound),
equalize.py (cross-layer equalization, bias correction), dynamic.py (the text's
``quantize_dynamic``), kernels.py (exact integer and XNOR matrix products), fixedpoint.py +
intinfer.py (integer-only inference, Jacob et al. 2018), kmeans.py (weight sharing and
centroid fine-tuning, Deep Compression, Han et al. 2016).  Every quantized layer is one of
the stored-weight layers of :mod:`minicompress.formats`.
"""

from ..formats.packing import pack_signs, unpack_signs
from .actquant import ActQuant, calibrate_activations
from .adaround import adaround, adaround_loss_backward, adaround_loss_forward, rectified_sigmoid
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
from .equalize import bias_correction, cle_scales, equalize
from .fixedpoint import multiply_by_quantized_multiplier, quantize_multiplier, zero_point_matmul
from .gptq import gptq, gptq_column_update, gptq_hessian_inverse, gptq_quantize
from .histogram import entropy_threshold
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
from .learned import lsq_backward, lsq_forward, pact_backward, pact_forward
from .observers import Observer
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
from .xnor import XnorConv2d, XnorLinear, convert_xnor, prepare_xnor

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
    # beyond round to nearest (issue 13)
    "gptq", "gptq_column_update", "gptq_hessian_inverse", "gptq_quantize",
    "equalize", "cle_scales", "bias_correction",
    "adaround", "adaround_loss_forward", "adaround_loss_backward", "rectified_sigmoid",
    "ActQuant", "calibrate_activations", "Observer", "entropy_threshold",
    "lsq_forward", "lsq_backward", "pact_forward", "pact_backward",
    "XnorLinear", "XnorConv2d", "prepare_xnor", "convert_xnor",
]
