"""Weight-sharing formats (Deep Compression, Han, Mao & Dally 2016, sections 2-3; the source
text's section 2.3, pruning and quantization together): a few shared values, the codebook,
and per weight only an index into it.

==========  ==========================================================================
name        stored (n = w.size, k = codebook size, z = non-zeros, F = fillers)
==========  ==========================================================================
codebook    header(shape) + 8*ceil(n*b/8) fixed-width indices + 32 k (float32 codebook),
            b = index_width(k): every position, zeros included (0.0 is in the codebook)
relative    header(shape, z, F, index_bits) + 8*ceil((z+F)*(g + v)/8) + 32 k: the z
            non-zeros only, each as (gap, value index); g = index_bits, v = index_width(k+1)
            (symbol 0 is the zero of a filler, symbols 1..k the codebook)
==========  ==========================================================================

Both take a float32 array that already is weight-shared (``quantize.kmeans_quantize`` +
``kmeans_dequantize`` make one): the codebook is the array's distinct values in increasing
order (``relative``: its distinct *non-zero* values), at most 2**16 symbols.  They are
lossless: decode gives the array back bit for bit (a -0.0 decodes as +0.0).
Entropy-coding the same (gap, value) stream is ``"huffman"`` (:mod:`.entropy`).

The paper's ratio for a dense layer of n weights of b bits shared into k values (section 3,
ignoring the header):  r = n b / (n log2(k) + k b),  its example 16*32 / (16*2 + 4*32) = 3.2.

Relative indices (:func:`relative_indices`): each non-zero stores the *gap*, the number of
zeros since the previous stored entry (the first: since the start), in ``index_bits`` bits.
A gap g larger than M - 1 = 2**index_bits - 1 inserts ``g // M`` filler entries: a filler
has gap M - 1 and the value 0, so it covers M positions.  Zeros after the last non-zero
cost nothing (the shape says how many positions there are).  EIE (Han et al. 2016) and
Figure 2 of Deep Compression use the same layout ("if more than 15 zeros appear before a
non-zero entry we add a zero").
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import check_int, check_int_vector
from .encoding import Format, header, register
from .packing import pack_bits, packed_bytes, unpack_bits

__all__ = ["MAX_SYMBOLS", "index_width", "shared_values", "relative_indices", "entry_positions",
           "gaps_and_values", "scatter_entries", "check_codebook"]

#: most symbols a codebook format indexes (16-bit indices)
MAX_SYMBOLS = 2**16


def index_width(k: int) -> int:
    """Bits of a fixed-width index into k symbols: ceil(log2 k), at least 1 (k = 1 -> 1)."""
    k = check_int(k, "k", low=1)
    return max(1, (k - 1).bit_length())


def shared_values(w, fmt: str, *, nonzero: bool) -> np.ndarray:
    """The codebook of a weight-shared float32 array: its distinct (non-zero) values, sorted."""
    if not isinstance(w, np.ndarray) or w.dtype != np.float32:
        raise TypeError(f"format {fmt!r} stores a float32 weight-shared array; got "
                        f"{getattr(w, 'dtype', type(w).__name__)}. Cast first: w.astype(np.float32)")
    if not np.isfinite(w).all():
        raise ValueError(f"format {fmt!r}: w contains {int((~np.isfinite(w)).sum())} NaN or inf values")
    values = np.unique(w[w != 0] if nonzero else w) + np.float32(0)  # + 0: -0.0 becomes +0.0
    limit = MAX_SYMBOLS - 1 if nonzero else MAX_SYMBOLS
    if values.size > limit:
        raise ValueError(f"format {fmt!r} holds at most {limit} distinct {'non-zero ' if nonzero else ''}"
                         f"values; w has {values.size}. Share the weights first: "
                         f"quantize.kmeans_quantize(w, bits) and kmeans_dequantize")
    return values.astype(np.float32)


def check_codebook(codebook, *, nonzero: bool) -> np.ndarray:
    """A stored codebook: float32, 1-D, finite, strictly increasing (non-zero for relative)."""
    c = np.asarray(codebook)
    if c.dtype != np.float32 or c.ndim != 1:
        raise ValueError(f"the codebook must be a 1-D float32 array; got {c.dtype}, shape {c.shape}")
    if not np.isfinite(c).all() or np.any(np.diff(c) <= 0) or (nonzero and np.any(c == 0)):
        raise ValueError("the codebook must hold finite, strictly increasing" +
                         (", non-zero" if nonzero else "") + " values")
    return c


# ----------------------------------------------------------------------------- relative indices
def relative_indices(positions, index_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaps of the relative-index layout for the flat positions of the non-zeros.

    g_i = p_i - p_{i-1} - 1 (zeros skipped; p_{-1} = -1).  With M = 2**index_bits, a gap
    g_i > M - 1 is preceded by floor(g_i / M) fillers of gap M - 1, and what is left,
    g_i - M floor(g_i / M), is the entry's own gap.  Fillers in total: sum_i floor(g_i / M).

    positions : 1-D strictly increasing non-negative integers (``np.flatnonzero(w)``)
    index_bits : 1..16

    Returns
    -------
    gaps : (z + F,) int64, every one in 0..M-1;  filler : (z + F,) bool, True for a filler

    Example: positions [1, 4, 15], 3 bits (M = 8): gaps 1, 2, 10 -> 10 = 8 + 2, one filler:
    gaps [1, 2, 7, 2], filler [F, F, T, F] (the filler sits at position 12).
    """
    index_bits = check_int(index_bits, "index_bits", low=1, high=16)
    p = check_int_vector(positions, "positions", "np.flatnonzero(w)").astype(np.int64)
    g = np.diff(p, prepend=-1) - 1
    if p.size and (p[0] < 0 or g.min() < 0):
        raise ValueError("positions must be non-negative and strictly increasing")
    M = 2**index_bits
    n_fill = g // M
    owner = np.repeat(np.arange(p.size), n_fill + 1)  # entry -> the non-zero it leads to
    within = np.arange(owner.size) - np.repeat(np.cumsum(n_fill + 1) - (n_fill + 1), n_fill + 1)
    filler = within < n_fill[owner]
    gaps = np.where(filler, M - 1, (g - M * n_fill)[owner])
    return gaps, filler


def entry_positions(gaps) -> np.ndarray:
    """Flat positions of the stored entries (fillers included): p_j = sum_{i<=j} (g_i + 1) - 1."""
    g = check_int_vector(gaps, "gaps").astype(np.int64)
    if g.size and g.min() < 0:
        raise ValueError(f"gaps must be >= 0 (zeros skipped before each entry); got {g.min()}")
    return np.cumsum(g + 1) - 1


def gaps_and_values(w, index_bits: int, fmt: str):
    """``(codebook, gaps, symbols, fillers)`` of a weight-shared float32 array: the entries
    of the relative layout, value symbol 0 for a filler and s = 1..k for codebook[s - 1]."""
    codebook = shared_values(w, fmt, nonzero=True)
    flat = w.ravel()
    positions = np.flatnonzero(flat)
    gaps, filler = relative_indices(positions, index_bits)
    symbols = np.zeros(gaps.size, np.int64)
    symbols[~filler] = np.searchsorted(codebook, flat[positions]) + 1
    return codebook, gaps, symbols, int(filler.sum())


def scatter_entries(shape, gaps, symbols, codebook, z: int, fillers: int) -> np.ndarray:
    """The float32 array of ``shape`` the entries describe (checked against the header's z, F)."""
    n = int(np.prod(shape, dtype=np.int64))
    where = entry_positions(gaps)
    if symbols.size and (where[-1] >= n or symbols.max() > codebook.size):
        raise ValueError(f"the entries point past the array (position {where[-1]} of {n}) or past "
                         f"the codebook ({symbols.max()} of {codebook.size} values)")
    if int(np.count_nonzero(symbols == 0)) != fillers or int(np.count_nonzero(symbols)) != z:
        raise ValueError(f"the entries hold {np.count_nonzero(symbols)} non-zeros and "
                         f"{np.count_nonzero(symbols == 0)} fillers; the header says {z} and {fillers}")
    out = np.zeros(n, np.float32)
    kept = symbols > 0
    out[where[kept]] = codebook[symbols[kept] - 1]
    return out.reshape(shape)


# ----------------------------------------------------------------------------- the formats
def _codebook_enc(w):
    """Every position's index into the sorted distinct values, fixed width."""
    codebook = shared_values(w, "codebook", nonzero=False)
    indices = np.searchsorted(codebook, w.ravel())
    return {"header": header(w.shape), "codebook": codebook,
            "indices": pack_bits(indices, index_width(codebook.size))}


def _codebook_dec(a, shape):
    codebook = check_codebook(a["codebook"], nonzero=False)
    if codebook.size == 0:
        raise ValueError("the codebook is empty")
    n = int(np.prod(shape, dtype=np.int64))
    indices = unpack_bits(a["indices"], index_width(codebook.size), n)
    if indices.max() >= codebook.size:
        raise ValueError(f"an index ({indices.max()}) points past the {codebook.size} codebook values")
    return codebook[indices].reshape(shape)


def _relative_enc(w, *, index_bits: int = 5):
    """(gap, value index) per stored entry, both fixed width; the gaps first, then the values."""
    index_bits = check_int(index_bits, "index_bits", low=1, high=16)
    codebook, gaps, symbols, fillers = gaps_and_values(w, index_bits, "relative")
    z = gaps.size - fillers
    return {"header": header(w.shape, z, fillers, index_bits), "codebook": codebook,
            "gaps": pack_bits(gaps, index_bits),
            "values": pack_bits(symbols, index_width(codebook.size + 1))}


def _relative_dec(a, shape):
    z, fillers, index_bits = (int(v) for v in a["header"][-3:])
    if z < 0 or fillers < 0 or not 1 <= index_bits <= 16:
        raise ValueError(f"header fields z={z}, fillers={fillers}, index_bits={index_bits} are invalid")
    codebook = check_codebook(a["codebook"], nonzero=True)
    gaps = unpack_bits(a["gaps"], index_bits, z + fillers)
    symbols = unpack_bits(a["values"], index_width(codebook.size + 1), z + fillers)
    return scatter_entries(shape, gaps, symbols, codebook, z, fillers)


_U8, _F32 = (np.dtype(np.uint8),), (np.dtype(np.float32),)


def _codebook_parts(shape, fields):
    """Expected parts: k <= min(n, 2**16) float32 values and n indices of index_width(k) bits
    (k is the codebook's length, so the indices' length is bounded here and checked exactly
    by the decoder)."""
    n = int(np.prod(shape, dtype=np.int64))
    return {"codebook": (_F32, range(1, min(n, MAX_SYMBOLS) + 1)),
            "indices": (_U8, range(packed_bytes(n, 16) + 1))}


def check_entry_fields(shape, z: int, fillers: int, index_bits: int) -> int:
    """The relative-index header fields: 0 <= z <= n non-zeros, 0 <= F <= n fillers, index
    bits in 1..16; returns the entry count z + F."""
    n = int(np.prod(shape, dtype=np.int64))
    if not (0 <= z <= n and 0 <= fillers <= n and 1 <= index_bits <= 16):
        raise ValueError(f"header fields z={z}, fillers={fillers}, index_bits={index_bits} are invalid for "
                         f"{n} positions (0 <= z, fillers <= n; index_bits in 1..16)")
    return z + fillers


def _relative_parts(shape, fields):
    """Expected parts: at most min(z, 2**16 - 1) codebook values, z + F gaps of index_bits
    bits, z + F value indices of at most 16 bits."""
    z, b = fields["z"], fields["index_bits"]
    entries = check_entry_fields(shape, z, fields["fillers"], b)
    return {"codebook": (_F32, range(min(z, MAX_SYMBOLS - 1) + 1)),
            "gaps": (_U8, packed_bytes(entries, b)), "values": (_U8, range(packed_bytes(entries, 16) + 1))}


register("codebook", Format(_codebook_enc, _codebook_dec, lossless=True, parts=("codebook", "indices"),
                            expected_parts=_codebook_parts))
register("relative", Format(_relative_enc, _relative_dec, lossless=True,
                            extra=("z", "fillers", "index_bits"), parts=("codebook", "gaps", "values"),
                            expected_parts=_relative_parts))
