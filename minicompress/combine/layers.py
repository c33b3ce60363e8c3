"""A weight stored the way a combination leaves it: pruned zeros skipped (bitmask or CSR)
*and* the survivors as b-bit symmetric codes, or either alone.  Section 2.3 of the source
text ("剪枝和量化可以结合使用": pruning and quantization used together); the layout is the
one of Deep Compression (Han et al. 2016) minus its weight sharing and Huffman coding.

:func:`compress_weight` builds the stored arrays -- the *encoding* -- and the layer computes
with exactly what decoding them gives back, so the size accounted is the size of what is
used.  With n = w.size, d = w.ndim, z = non-zero codes, (m, k) the 2-D view of
:func:`minicompress.formats.matrix_view`, c the number of scales (m per channel, else 1)
and b the bits per value::

    storage  stored bits (b <= 8: codes + float32 scales; b = 32: float32 values, no scales)
    dense    32*d + 8*ceil(n*b/8)                         + 32*c
    bitmask  32*d + 8*ceil(n/8) + 8*ceil(z*b/8)           + 32*c
    csr      32*(d+1) + z*i + (m+1)*p + 8*ceil(z*b/8)     + 32*c
             (i, p: the 8/16/32-bit index and row-pointer widths of formats.py's CSR)

The structure (header, mask, indices, row pointers) *is* formats.py's bitmask / CSR of the
int8 codes; only the values are re-packed at b bits (:func:`pack_codes`).  At b = 8 every
size equals ``formats.size_bits`` of the same codes plus 32 bits per scale, and dense int8
equals formats.py's ``int8`` / ``int8_channel`` (a test checks both).

Conventions: codes are ``round(w / scale * qmax)``, ``qmax = 2**(b-1) - 1``, scale = max|w|
per output channel (or per tensor), round half to even (``quantize.symmetric_quantize``).
A pruned zero has code 0 and decodes to exactly 0.0: symmetric quantization has no zero
point, so zeros stay zeros.  A *surviving* weight with |w| < scale / (2 qmax) also gets
code 0; it becomes a zero, is not stored (z counts non-zero codes) and is counted in
``rounded_to_zero``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import formats
from ..nn import functional as F
from ..nn._checks import check_int
from ..nn.layers import Conv2d, Linear, Module
from ..quantize import symmetric_dequantize, symmetric_quantize
from ..quantize._checks import check_codes
from ..quantize.int8 import symmetric_qmax
from ..quantize.layers import conv_macs, linear_macs

__all__ = ["STORAGES", "pack_codes", "unpack_codes", "CompressedWeight", "compress_weight",
           "CompressedLinear", "CompressedConv2d", "compress_layer", "check_bits"]

#: where the values sit: every position (dense), a 1-bit-per-position mask, or CSR indices
STORAGES = ("dense", "bitmask", "csr")
FLOAT_BITS = 32  # "bits=32": float32 values, not quantized


def check_bits(bits, name: str = "bits") -> int:
    """2..8 (b-bit codes) or 32 (float32, not quantized)."""
    bits = check_int(bits, name)
    if not (2 <= bits <= 8 or bits == FLOAT_BITS):
        raise ValueError(f"{name} must be in 2..8 (quantized codes) or 32 (float32, not quantized); "
                         f"got {bits}")
    return bits


def _check_storage(storage) -> str:
    if storage not in (*STORAGES, "auto"):
        raise ValueError(f"storage must be one of {STORAGES} or 'auto' (the smallest); got {storage!r}")
    return storage


# ----------------------------------------------------------------------------- b-bit packing
def pack_codes(q: np.ndarray, bits: int) -> np.ndarray:
    """Integer codes in [-(2**(b-1) - 1), 2**(b-1) - 1] -> ceil(n*b/8) bytes, b bits each.

    Each code is written as its b-bit two's complement, most significant bit first, codes
    one after another (code 0's bits first), then ``np.packbits``; the last byte is padded
    with 0 bits.  b = 8 is the int8 bytes themselves.  Example: b = 4, codes [1, -1] ->
    bits 0001 1111 -> one byte 0x1F.
    """
    bits = check_int(bits, "bits", low=2, high=8)
    qmax = symmetric_qmax(bits)
    q = check_codes(q, f"{bits}-bit codes", -qmax, qmax).ravel()
    if bits == 8:
        return q.astype(np.int8).view(np.uint8)
    u = (q.astype(np.int16) & (2**bits - 1)).astype(np.uint8)  # two's complement, low b bits
    return np.packbits(np.unpackbits(u[:, None], axis=1)[:, 8 - bits:].ravel())


def unpack_codes(packed: np.ndarray, bits: int, count: int) -> np.ndarray:
    """Inverse of :func:`pack_codes`: ``count`` int8 codes (sign-extended from b bits)."""
    bits = check_int(bits, "bits", low=2, high=8)
    count = check_int(count, "count", low=0)
    packed = np.asarray(packed)
    if packed.dtype != np.uint8 or packed.ndim != 1:
        raise TypeError(f"packed must be a 1-D uint8 array; got {packed.dtype}, shape {packed.shape}")
    if packed.size != -(-count * bits // 8):
        raise ValueError(f"{packed.size} bytes cannot hold {count} codes of {bits} bits "
                         f"(expected {-(-count * bits // 8)})")
    if bits == 8:
        return packed.view(np.int8).copy()
    b = np.unpackbits(packed, count=count * bits).reshape(count, bits).astype(np.int16)
    u = b @ (1 << np.arange(bits - 1, -1, -1, dtype=np.int16))
    return np.where(u >= 2 ** (bits - 1), u - 2**bits, u).astype(np.int8)


# ----------------------------------------------------------------------------- the encoding
@dataclass(frozen=True)
class CompressedWeight:
    """A stored weight: ``arrays`` is exactly what would be written (see the module table)."""

    shape: tuple
    bits: int
    storage: str
    arrays: dict = field(repr=False)
    rounded_to_zero: int = 0

    def storage_bits(self) -> int:
        """Exact stored bits: 8 times the bytes of every stored array."""
        return 8 * int(sum(a.nbytes for a in self.arrays.values()))

    @property
    def nonzeros(self) -> int:
        """Stored (non-zero) values z; every position for ``dense``."""
        if self.storage == "dense":
            return int(np.prod(self.shape))
        if self.storage == "csr":
            return int(self.arrays["header"][-1])
        return int(np.unpackbits(self.arrays["mask"], count=int(np.prod(self.shape))).sum())

    def codes(self) -> np.ndarray:
        """The int8 codes (b <= 8) or float32 values (b = 32) in the weight's shape."""
        a = self.arrays
        n = int(np.prod(self.shape))
        if self.bits == FLOAT_BITS:
            return formats.decode(formats.Encoding(_FLOAT_FMT[self.storage], a))
        if self.storage == "dense":
            return unpack_codes(a["codes"], self.bits, n).reshape(self.shape)
        values = unpack_codes(a["values"], self.bits, self.nonzeros)
        structure = {key: v for key, v in a.items() if key != "scale"}
        return formats.decode(formats.Encoding(self.storage, {**structure, "values": values}))

    def decode(self) -> np.ndarray:
        """The float32 weight the layer computes with: ``q * scale / qmax`` (or the values)."""
        q = self.codes()
        if self.bits == FLOAT_BITS:
            return q.astype(np.float32)
        scale = self.arrays["scale"].astype(np.float64)
        return symmetric_dequantize(q, scale[0] if scale.size == 1 else scale, self.bits)


_FLOAT_FMT = {"dense": "fp32", "bitmask": "bitmask", "csr": "csr"}


def _encode(w, q, scale, bits, storage, lost) -> CompressedWeight:
    if bits == FLOAT_BITS:
        arrays = formats.encode(w.astype(np.float32), _FLOAT_FMT[storage]).arrays
    elif storage == "dense":
        arrays = {"header": np.array(w.shape, dtype=np.int32), "codes": pack_codes(q, bits)}
    else:
        structure = formats.encode(q, storage).arrays  # the int8 codes' mask / indices
        arrays = {**structure, "values": pack_codes(structure["values"], bits)}
    if bits != FLOAT_BITS:
        arrays["scale"] = np.atleast_1d(np.asarray(scale, dtype=np.float32))
    return CompressedWeight(tuple(w.shape), bits, storage, arrays, lost)


def compress_weight(w: np.ndarray, bits: int = 8, *, per_channel: bool = True,
                    storage: str = "auto") -> CompressedWeight:
    """Encode a (pruned or not) float weight (C_out, ...) at ``bits`` in ``storage``.

    Parameters
    ----------
    w : float array, C_out first (Linear (out, in), Conv2d (C_out, C_in, kh, kw)); zeros are
        the pruned positions
    bits : 2..8 -- symmetric b-bit codes, one float32 scale per output channel (or one); 32 --
        float32 values as they are
    per_channel : one scale per output channel (default) or per tensor
    storage : ``"dense"``, ``"bitmask"``, ``"csr"``, or ``"auto"``: the smallest of the three
        (ties: that order)

    Notes
    -----
    Zeros of ``w`` get code 0 and decode to exactly 0.0.  Survivors with |w| < scale/(2 qmax)
    round to code 0 too (half to even); their number is ``rounded_to_zero``.
    """
    if not isinstance(w, np.ndarray) or w.dtype.kind != "f":
        raise TypeError(f"w must be a float numpy array; got {type(w).__name__} "
                        f"{getattr(w, 'dtype', '')}")
    if w.ndim < 1 or w.size == 0:
        raise ValueError(f"w must be a non-empty array with an output-channel axis; got shape {w.shape}")
    bits, storage = check_bits(bits), _check_storage(storage)
    q = scale = None
    lost = 0
    if bits != FLOAT_BITS:
        q, scale = symmetric_quantize(w, bits, per_channel=per_channel)
        lost = int(np.count_nonzero((q == 0) & (w != 0)))
    choices = STORAGES if storage == "auto" else (storage,)
    encodings = [_encode(w, q, scale, bits, s, lost) for s in choices]
    return min(encodings, key=CompressedWeight.storage_bits)  # min keeps the first of ties


# ----------------------------------------------------------------------------- the layers
class _CompressedLayer(Module):
    """Holds a :class:`CompressedWeight` and, as ``params``, the float32 weight it decodes
    to (a compute cache with the float layer's keys) and the float32 bias."""

    def __init__(self, weight: CompressedWeight, bias):
        super().__init__()
        if not isinstance(weight, CompressedWeight):
            raise TypeError(f"weight must be a CompressedWeight; got {type(weight).__name__}")
        self.weight = weight
        self.params["weight"] = weight.decode()
        if bias is not None:
            self.params["bias"] = np.asarray(bias, dtype=np.float32).copy()

    def storage_bits(self) -> int:
        """The weight's encoding plus the bias as formats.py's fp32 (header + 32 per value)."""
        bias = self.params.get("bias")
        return self.weight.storage_bits() + (0 if bias is None else formats.size_bits(bias, "fp32"))

    def backward(self, dout):
        raise NotImplementedError(
            f"{type(self).__name__} is for inference: fine-tune the float model (with its pruning "
            "masks) before compressing it, as combine.compress does")

    def extra_repr(self):
        w = self.weight
        return f"{w.shape}, bits={w.bits}, storage={w.storage!r}, nonzeros={w.nonzeros}"


class CompressedLinear(_CompressedLayer):
    """``y = x W_hat^T + b`` with W_hat decoded from a :class:`CompressedWeight` (out, in)."""

    def forward(self, x):
        out, _ = F.linear_forward(x, self.params["weight"], self.params.get("bias"))
        return out

    def macs(self, x_shape) -> tuple[int, int]:
        return linear_macs(self.params["weight"], x_shape)


class CompressedConv2d(_CompressedLayer):
    """A convolution with a decoded (C_out, C_in, kh, kw) weight; stride and padding kept."""

    def __init__(self, weight: CompressedWeight, bias, stride: int = 1, padding: int = 0):
        super().__init__(weight, bias)
        self.stride, self.padding = stride, padding

    def forward(self, x):
        out, _ = F.conv2d_forward(x, self.params["weight"], self.params.get("bias"), self.stride,
                                  self.padding)
        return out

    def macs(self, x_shape) -> tuple[int, int]:
        return conv_macs(self.params["weight"], self.stride, self.padding, x_shape)


def compress_layer(layer, bits: int = 8, *, per_channel: bool = True, storage: str = "auto"):
    """A Linear or Conv2d (already pruned: its zeros are the pruned weights) as a
    :class:`CompressedLinear` / :class:`CompressedConv2d`; see :func:`compress_weight`."""
    if not isinstance(layer, (Linear, Conv2d)):
        raise TypeError(f"layer must be a Linear or Conv2d; got {type(layer).__name__}")
    weight = compress_weight(layer.params["weight"], bits, per_channel=per_channel, storage=storage)
    if isinstance(layer, Linear):
        return CompressedLinear(weight, layer.params.get("bias"))
    return CompressedConv2d(weight, layer.params.get("bias"), layer.stride, layer.padding)
