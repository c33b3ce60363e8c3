"""Storage formats (section 2.2): how a weight is laid out in bits, the layers that hold a
stored weight, and save/load.

A compressed model is only smaller once its weights are *stored* differently: a pruned
float32 matrix full of zeros takes exactly as many bytes as the dense one.  Each format
turns an array into an :class:`Encoding` -- the few plain arrays that would be written to
disk -- and back; an encoding's size is the sum of those arrays' bytes, so the size
accounted is exactly the size stored.  This package owns every bit layout and every stored
size: a layer that stores a compressed weight holds an encoding (:mod:`.layers`).

=============  ==========================================================  ========
name           stored bits (n = w.size, z = non-zeros, (m, k) the 2-D      lossless
               view, c = scales, b = value bits; headers 32 per field)
=============  ==========================================================  ========
fp32, fp16     32 n, 16 n                                                  fp32 yes
raw            n values in their own dtype (int32, int8, float32...)       yes
int            8*ceil(n*b/8) + 32c: b-bit codes, formula 4.2.2             no
int8           the same at b = 8, one scale (the text's INT8)              no
int8_channel   the same at b = 8, one scale per output channel             no
int_group      8*ceil(n*b/8) + 32 m k/g: a scale per row and group of g    no
binary         8*ceil(n/8) + 32c   (1 bit per weight, w = +-alpha)         yes*
ternary        8*ceil(2n/8) + 32c  (2 bits per weight, {-a, 0, +a})        yes*
bitmask        8*ceil(n/8) + the z values (float, or b-bit codes + 32c)    yes
csr            the z values + z*i + (m+1)*p (i, p: 8/16/32-bit indices)    yes
nm             n values per group of m + ceil(log2 C(m, n)) position bits   yes
               per group (or ceil(log2 m) per value): N:M sparsity
lowrank        32 r (m + k): factors A @ B                                 no
codebook       8*ceil(n*b/8) + 32 k: b = ceil(log2 k)-bit indices into     yes*
               the k distinct values (weight sharing, Han et al. 2016)
relative       the z non-zeros as (gap, index) pairs of fixed width + 32 k  yes*
               (+ filler entries for gaps >= 2**index_bits)
huffman        the same pairs Huffman-coded + code lengths + 32 k           yes*
=============  ==========================================================  ========

(*) for arrays that already are binary / ternary / weight-shared (float32, at most 2**16
distinct values).  The modules: :mod:`.encoding` (the Encoding and the registry),
:mod:`.symmetric` (the quantizer), :mod:`.packing` (bits to bytes), :mod:`.dense`,
:mod:`.codes`, :mod:`.groups`, :mod:`.sparse`, :mod:`.nm`, :mod:`.lowrank`, :mod:`.codebook`,
:mod:`.entropy` (the formats), :mod:`.encoded` and :mod:`.layers` (the stored-weight layers),
:mod:`.io` (save/load) and :mod:`.npz` (reading a file's declarations before its data).
"""

from . import codebook, codes, dense, entropy, groups, lowrank, nm, sparse  # noqa: F401  (each registers its formats)
from .codebook import entry_positions, index_width, relative_indices
from .encoding import FORMATS, Encoding, decode, encode, size_bits, smallest
from .entropy import (
    canonical_codes,
    huffman_code_lengths,
    kraft_sum,
    mean_code_length,
    shannon_entropy,
)
from .io import load_model, save_model
from .layers import (
    CompressedConv2d,
    CompressedLinear,
    Encoded,
    SparseConv2d,
    SparseLinear,
    StoredLayer,
    compress_layer,
    to_sparse,
)
from .symmetric import symmetric_dequantize, symmetric_quantize

__all__ = [
    "FORMATS", "Encoding", "encode", "decode", "size_bits", "smallest", "save_model", "load_model",
    "Encoded", "StoredLayer", "CompressedLinear", "CompressedConv2d", "SparseLinear",
    "SparseConv2d", "compress_layer", "to_sparse", "symmetric_quantize", "symmetric_dequantize",
    "index_width", "relative_indices", "entry_positions", "huffman_code_lengths", "canonical_codes",
    "kraft_sum", "shannon_entropy", "mean_code_length",
]
