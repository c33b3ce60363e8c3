"""Combining techniques (source text section 2.3) and choosing them automatically (7.1).

- :mod:`.layers` -- a weight stored pruned *and* quantized: bitmask / CSR positions + b-bit
  codes + float32 scales (CompressedLinear, CompressedConv2d), sized from formats.py
- :mod:`.plan` -- one pipeline, factorize -> prune -> fine-tune -> quantize (:func:`compress`),
  and the named combinations :func:`prune_then_quantize` (Deep Compression, Han et al. 2016),
  :func:`factorize_then_quantize`, :func:`factorize_then_prune`
- :mod:`.sensitivity` -- per-layer accuracy when one layer alone is pruned or quantized
- :mod:`.auto` -- :func:`auto_compress`: a greedy, verified search under an accuracy budget

The third combination of section 2.3, a compressed model as a distillation teacher, is
distillation's (minicompress.distill).  This package stands on prune, quantize, lowrank,
metrics and formats; only the pipeline, the tour sections and the CLI import it.
"""

from .auto import auto_compress, estimated_losses, greedy_path, option_grid
from .layers import (
    STORAGES,
    CompressedConv2d,
    CompressedLinear,
    CompressedWeight,
    compress_layer,
    compress_weight,
    pack_codes,
    unpack_codes,
)
from .plan import (
    LayerPlan,
    compress,
    factorize_then_prune,
    factorize_then_quantize,
    prune_then_quantize,
    weight_layer_names,
)
from .sensitivity import (
    DEFAULT_BITS,
    DEFAULT_SPARSITIES,
    pruned_weight,
    quantized_weight,
    sensitivity,
    validation_split,
)

__all__ = [
    "prune_then_quantize", "factorize_then_quantize", "factorize_then_prune", "compress", "LayerPlan",
    "sensitivity", "validation_split", "auto_compress",
    "weight_layer_names", "pruned_weight", "quantized_weight", "option_grid", "estimated_losses",
    "greedy_path", "DEFAULT_SPARSITIES", "DEFAULT_BITS",
    "STORAGES", "CompressedWeight", "compress_weight", "compress_layer", "CompressedLinear",
    "CompressedConv2d", "pack_codes", "unpack_codes",
]
