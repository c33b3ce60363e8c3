"""Combining techniques (source text section 2.3) and choosing them automatically (7.1).

- :mod:`.storage` -- where a combination's weight goes: bitmask / CSR positions + b-bit
  codes + float32 scales, each a format of :mod:`minicompress.formats`
- :mod:`.plan` -- one pipeline, factorize -> prune -> fine-tune -> quantize (:func:`compress`),
  and the named combinations :func:`prune_then_quantize` (Deep Compression, Han et al. 2016),
  :func:`factorize_then_quantize`, :func:`factorize_then_prune`
- :mod:`.sensitivity` -- per-layer accuracy when one layer alone is pruned or quantized
- :mod:`.auto` -- :func:`auto_compress`: a greedy, verified search under an accuracy budget
- :mod:`.deep` -- :func:`deep_compression`: Han et al. (2016) end to end, prune -> fine-tune
  -> k-means weight sharing -> fine-tune the centroids -> Huffman coding, with their Table 2

The third combination of section 2.3, a compressed model as a distillation teacher, is
distillation's (minicompress.distill).  This package stands on prune, quantize, lowrank,
metrics and formats; only the tour sections and the CLI import it.
"""

from .auto import auto_compress, greedy_path
from .deep import deep_compression, deep_compression_table
from .plan import (
    LayerPlan,
    compress,
    factorize_then_prune,
    factorize_then_quantize,
    prune_then_quantize,
    weight_layer_names,
)
from .sensitivity import DEFAULT_BITS, DEFAULT_SPARSITIES, sensitivity, validation_split
from .storage import compress_weight

__all__ = [
    "prune_then_quantize", "factorize_then_quantize", "factorize_then_prune", "compress",
    "LayerPlan", "sensitivity", "validation_split", "auto_compress", "compress_weight",
    "weight_layer_names", "greedy_path", "DEFAULT_SPARSITIES", "DEFAULT_BITS", "deep_compression",
    "deep_compression_table",
]
