"""Huffman coding (Deep Compression, Han, Mao & Dally 2016, section 4) and the ``"huffman"``
format: the relative-index layout of :mod:`.codebook` with its gaps and its value indices
entropy-coded.

A Huffman code gives a frequent symbol a short code and a rare one a long code.  Built
from the counts (:func:`huffman_code_lengths`: merge the two rarest, repeat), its mean
length L per symbol is within one bit of the entropy H of the counts, H <= L < H + 1, and
its lengths satisfy Kraft's equality sum_s 2**-l_s = 1 (the code is complete: every bit
string is some code's prefix).  Only the *lengths* are stored: the codes themselves are the
canonical ones (:func:`canonical_codes`, as in DEFLATE, RFC 1951 section 3.2.2), so a reader
rebuilds them.

``huffman`` stores header(shape, z, fillers, index_bits, gap_bits, value_bits, crc) + the
float32 codebook (32 k) + one byte per code length (2**index_bits gap symbols, then k + 1
value symbols, 0 = unused) + ceil((gap_bits + value_bits) / 8) bytes of stream: the gap
codes of every entry, then their value codes.  ``crc`` is the CRC-32 (``zlib.crc32``) of
codebook, lengths and stream, checked before decoding: a complete code decodes *any* bit
string, so a flipped bit would otherwise give a different weight without an error.

Conventions: ties between equal counts merge the node made first (symbols in increasing
order, before every merged node); a code with a single used symbol has length 1 (code
``0``; then L = H + 1 and Kraft's sum is 1/2: the one exception to both).
"""

from __future__ import annotations

import heapq
import zlib
from fractions import Fraction

import numpy as np

from ..nn._checks import as_array, check_int, check_int_vector, described
from .codebook import MAX_SYMBOLS, check_codebook, check_entry_fields, gaps_and_values, scatter_entries
from .encoding import Format, header, register
from .packing import MAX_FIELD_BITS, bit_windows, pack_bits, packed_bytes

__all__ = ["shannon_entropy", "huffman_code_lengths", "kraft_sum", "canonical_codes", "huffman_encode",
           "huffman_decode", "mean_code_length"]


def _check_counts(counts) -> np.ndarray:
    c = check_int_vector(counts, "counts", "np.bincount(symbols)")
    if c.size == 0 or c.min() < 0 or c.max() == 0:
        raise ValueError("counts must be non-negative with at least one symbol counted; got "
                         f"{c.tolist()[:8]}{'...' if c.size > 8 else ''}")
    return c.astype(np.int64)


def shannon_entropy(counts) -> float:
    """H = -sum_s p_s log2 p_s, p_s = counts[s] / sum(counts): bits per symbol (0 log 0 = 0)."""
    c = _check_counts(counts)
    p = c[c > 0] / c.sum()
    return float(-(p * np.log2(p)).sum())


def mean_code_length(counts, lengths) -> float:
    """L = sum_s p_s l_s: bits per symbol of a code with ``lengths`` on data with ``counts``."""
    c = _check_counts(counts)
    L = _check_lengths(lengths)
    if L.shape != c.shape:
        raise ValueError(f"counts and lengths must have one entry per symbol; got {c.shape} and {L.shape}")
    return float((c * L).sum() / c.sum())


def huffman_code_lengths(counts) -> np.ndarray:
    """Code length of every symbol of a Huffman code for ``counts`` (0 for an unused symbol).

    Huffman's algorithm: put every used symbol in a heap by count; take out the two
    smallest, join them under a new node whose count is their sum, put it back; repeat until
    one node is left.  A symbol's length is its depth in that tree.  Ties: the node made
    first goes first (symbols in increasing order, then merged nodes in the order made).

    counts : (S,) non-negative integers, at least one > 0.  Returns (S,) int64.

    Example: counts [9, 4, 2, 1] -> join 1 + 2 = 3, then 3 + 4 = 7, then 7 + 9 = 16:
    lengths [1, 2, 3, 3] (codes 0, 10, 110, 111; 26 bits for the 16 symbols).
    """
    c = _check_counts(counts)
    used = np.flatnonzero(c)
    lengths = np.zeros(c.size, np.int64)
    m = used.size
    if m == 1:
        lengths[used] = 1  # a lone symbol still needs one bit per occurrence
        return lengths
    heap = [(int(c[s]), node, node) for node, s in enumerate(used)]  # (count, tie order, node)
    heapq.heapify(heap)
    parent = np.zeros(2 * m - 1, np.int64)
    for new in range(m, 2 * m - 1):
        count_a, _, a = heapq.heappop(heap)
        count_b, _, b = heapq.heappop(heap)
        parent[a] = parent[b] = new
        heapq.heappush(heap, (count_a + count_b, new, new))
    depth = np.zeros(2 * m - 1, np.int64)  # the root, node 2m - 2, has depth 0
    for node in range(2 * m - 3, -1, -1):  # parents are made after their children
        depth[node] = depth[parent[node]] + 1
    lengths[used] = depth[:m]
    return lengths


def _check_lengths(lengths, name: str = "lengths") -> np.ndarray:
    L = check_int_vector(lengths, name, "code lengths").astype(np.int64)
    if L.size and (L.min() < 0 or L.max() > MAX_FIELD_BITS):
        raise ValueError(f"{name} must lie in 0..{MAX_FIELD_BITS}; got {L.min()}..{L.max()}")
    return L


def kraft_sum(lengths) -> Fraction:
    """sum over used symbols of 2**-l_s, exactly: 1 for a complete prefix code."""
    L = _check_lengths(lengths)
    return sum((Fraction(1, 2 ** int(l)) for l in L[L > 0]), Fraction(0))


def _check_decodable(L: np.ndarray, name: str) -> None:
    used = L[L > 0]
    if used.size == 0:
        raise ValueError(f"{name} has no used symbol")
    k = kraft_sum(L)
    if not (k == 1 or (used.size == 1 and used[0] == 1)):
        raise ValueError(f"{name} are not a complete prefix code: Kraft's sum is {k}, not 1")


def canonical_codes(lengths) -> np.ndarray:
    """The canonical code of every symbol (0 for an unused one), as an int64 of l_s bits.

    Symbols sorted by (length, symbol) get consecutive codes; moving to a longer length
    appends zeros:  next[1] = 0,  next[l] = (next[l-1] + count[l-1]) << 1,  code(s) =
    next[l_s] + (rank of s among the symbols of length l_s)  (RFC 1951, 3.2.2).
    """
    L = _check_lengths(lengths)
    codes = np.zeros(L.size, np.int64)
    used = np.flatnonzero(L)
    if used.size == 0:
        return codes
    order = used[np.lexsort((used, L[used]))]
    Ls = L[order]
    count = np.bincount(Ls, minlength=Ls[-1] + 1)
    nxt = np.zeros(Ls[-1] + 1, np.int64)
    for l in range(2, Ls[-1] + 1):
        nxt[l] = (nxt[l - 1] + count[l - 1]) << 1
    codes[order] = nxt[Ls] + (np.arange(order.size) - np.searchsorted(Ls, Ls))
    if np.any(codes[order] >> Ls):
        raise ValueError("the lengths over-fill the code space (Kraft's sum is above 1)")
    return codes


def _check_symbols(symbols, L) -> np.ndarray:
    s = check_int_vector(symbols, "symbols")
    if s.size and (s.min() < 0 or s.max() >= L.size or np.any(L[s] == 0)):
        raise ValueError("every symbol must have a code (0 <= s < len(lengths), lengths[s] > 0)")
    return s.astype(np.int64)


def huffman_encode(symbols, lengths) -> tuple[np.ndarray, int]:
    """The codes of ``symbols`` one after another, MSB first: ``(packed bytes, bit count)``."""
    L = _check_lengths(lengths)
    s = _check_symbols(symbols, L)
    return pack_bits(canonical_codes(L)[s], L[s]), int(L[s].sum())


def _decode_bits(bits: np.ndarray, L: np.ndarray, count: int, name: str) -> np.ndarray:
    """``count`` symbols from the 0/1 array ``bits``, which they must fill exactly.

    Vectorised: at every bit position, the symbol whose code starts there (the left-justified
    canonical codes are increasing, so it is a ``searchsorted``), then the chain of code
    starts p_0 = 0, p_{j+1} = p_j + l(p_j) by pointer doubling (log2(count) gathers).
    """
    n = bits.size
    if count == 0:
        if n:
            raise ValueError(f"{name}: {n} bits left over after 0 symbols")
        return np.zeros(0, np.int64)
    _check_decodable(L, name)
    codes, used = canonical_codes(L), np.flatnonzero(L)
    order = used[np.lexsort((used, L[used]))]
    width = int(L.max())
    starts = codes[order] << (width - L[order])  # each code, left-justified to `width` bits
    windows = bit_windows(bits, width)
    rank = np.searchsorted(starts, windows, side="right") - 1
    sym_at, len_at = order[rank], L[order][rank]
    jump = np.append(np.minimum(np.arange(n) + len_at, n), n)  # n: past the end (stays there)
    pos = np.zeros(1, np.int64)
    while pos.size < count:  # pos holds p_0..p_{t-1}; jump is t steps ahead
        pos, jump = np.concatenate([pos, jump[pos]]), jump[jump]
    pos = pos[:count]
    if pos[-1] >= n or pos[-1] + len_at[pos[-1]] != n:
        raise ValueError(f"{name}: {n} bits do not hold exactly {count} codes")
    symbols = sym_at[pos]
    if np.any(windows[pos] >> (width - len_at[pos]) != codes[symbols]):
        raise ValueError(f"{name}: the bits hold a sequence that is not a code")
    return symbols


def huffman_decode(packed, nbits: int, lengths, count: int) -> np.ndarray:
    """Inverse of :func:`huffman_encode`: ``count`` symbols from ``nbits`` bits of ``packed``."""
    L = _check_lengths(lengths)
    nbits, count = check_int(nbits, "nbits", low=0), check_int(count, "count", low=0)
    given, packed = packed, as_array(packed, "packed")
    if packed.dtype != np.uint8 or packed.ndim != 1:
        raise TypeError(f"packed must be a 1-D uint8 array (huffman_encode's bytes); got "
                        f"{described(given, packed)}")
    if packed.size != packed_bytes(nbits, 1):
        raise ValueError(f"packed must be {packed_bytes(nbits, 1)} uint8 bytes for {nbits} bits; got "
                         f"{packed.size}")
    return _decode_bits(np.unpackbits(packed, count=nbits), L, count, "stream")


# ----------------------------------------------------------------------------- the format
def _code_lengths(symbols, size: int) -> np.ndarray:
    if symbols.size == 0:
        return np.zeros(size, np.int64)
    return huffman_code_lengths(np.bincount(symbols, minlength=size))


def _crc(codebook, lengths, stream) -> int:
    """CRC-32 of the payload as an int32 header field (two's complement)."""
    crc = zlib.crc32(stream.tobytes(), zlib.crc32(lengths.tobytes(), zlib.crc32(codebook.tobytes())))
    return crc - 2**32 if crc >= 2**31 else crc


def _huffman_enc(w, *, index_bits: int = 5):
    """Relative-index entries (:mod:`.codebook`), gaps and value indices Huffman-coded."""
    index_bits = check_int(index_bits, "index_bits", low=1, high=16)
    codebook, gaps, symbols, fillers = gaps_and_values(w, index_bits, "huffman")
    gap_len = _code_lengths(gaps, 2**index_bits)
    value_len = _code_lengths(symbols, codebook.size + 1)
    gap_codes, value_codes = canonical_codes(gap_len), canonical_codes(value_len)
    stream = pack_bits(np.concatenate([gap_codes[gaps], value_codes[symbols]]),
                       np.concatenate([gap_len[gaps], value_len[symbols]]))
    lengths = np.concatenate([gap_len, value_len]).astype(np.uint8)
    z = gaps.size - fillers
    head = header(w.shape, z, fillers, index_bits, int(gap_len[gaps].sum()), int(value_len[symbols].sum()),
                  _crc(codebook, lengths, stream))
    return {"header": head, "codebook": codebook, "lengths": lengths, "stream": stream}


def _huffman_dec(a, shape):
    z, fillers, index_bits, gap_bits, value_bits, crc = (int(v) for v in a["header"][-6:])
    if min(z, fillers, gap_bits, value_bits) < 0 or not 1 <= index_bits <= 16:
        raise ValueError(f"header fields z={z}, fillers={fillers}, index_bits={index_bits}, "
                         f"gap_bits={gap_bits}, value_bits={value_bits} are invalid")
    codebook, lengths, stream = a["codebook"], a["lengths"], a["stream"]
    for part, arr in (("lengths", lengths), ("stream", stream)):
        if arr.dtype != np.uint8 or arr.ndim != 1:
            raise ValueError(f"{part} must be a 1-D uint8 array; got {arr.dtype}, shape {arr.shape}")
    if _crc(codebook, lengths, stream) != crc:
        raise ValueError("the CRC-32 of codebook, lengths and stream does not match the header: "
                         "the data is corrupt")
    codebook = check_codebook(codebook, nonzero=True)
    M = 2**index_bits
    if lengths.size != M + codebook.size + 1:
        raise ValueError(f"lengths has {lengths.size} entries; {M} gap and {codebook.size + 1} value "
                         "symbols need one each")
    if stream.size != packed_bytes(gap_bits + value_bits, 1):
        raise ValueError(f"stream has {stream.size} bytes; {gap_bits} + {value_bits} bits need "
                         f"{packed_bytes(gap_bits + value_bits, 1)}")
    bits = np.unpackbits(stream, count=gap_bits + value_bits)
    gaps = _decode_bits(bits[:gap_bits], lengths[:M].astype(np.int64), z + fillers, "gap stream")
    symbols = _decode_bits(bits[gap_bits:], lengths[M:].astype(np.int64), z + fillers, "value stream")
    return scatter_entries(shape, gaps, symbols, codebook, z, fillers)


#: longest Huffman code a stream may hold per symbol: more than 48 bits needs a count above
#: Fibonacci(50) ~ 1.3e10 occurrences, beyond any array here
MAX_CODE_BITS = 48


def _huffman_parts(shape, fields):
    """Expected parts: at most min(z, 2**16 - 1) codebook values, 2**index_bits + k + 1 code
    lengths, and the stream's bytes (gap_bits + value_bits bits, each at most 48 per entry)."""
    z, b = fields["z"], fields["index_bits"]
    entries = check_entry_fields(shape, z, fields["fillers"], b)
    gap_bits, value_bits = fields["gap_bits"], fields["value_bits"]
    if not (0 <= gap_bits <= MAX_CODE_BITS * entries and 0 <= value_bits <= MAX_CODE_BITS * entries):
        raise ValueError(f"header fields gap_bits={gap_bits}, value_bits={value_bits} are invalid for "
                         f"{entries} entries (0..{MAX_CODE_BITS} bits each)")
    k_max = min(z, MAX_SYMBOLS - 1)
    return {"codebook": ((np.dtype(np.float32),), range(k_max + 1)),
            "lengths": ((np.dtype(np.uint8),), range(2**b + 1, 2**b + k_max + 2)),
            "stream": ((np.dtype(np.uint8),), packed_bytes(gap_bits + value_bits, 1))}


register("huffman", Format(_huffman_enc, _huffman_dec, lossless=True,
                           extra=("z", "fillers", "index_bits", "gap_bits", "value_bits", "crc"),
                           parts=("codebook", "lengths", "stream"), expected_parts=_huffman_parts))
