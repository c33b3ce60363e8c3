"""The weight-sharing formats (codebook, relative, huffman), Huffman coding and the general bit
writer: sizes equal their closed forms on hand cases, round trips are bit-exact, Huffman codes
are prefix-free, complete (Kraft) and within one bit of the entropy, and corrupt data is refused."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress import formats as F
from minicompress.formats.entropy import huffman_decode, huffman_encode
from minicompress.formats.packing import bit_windows, pack_bits, unpack_bits


# ----------------------------------------------------------------------------- the bit writer
def test_pack_bits_by_hand():
    assert pack_bits(np.array([1, 5]), np.array([1, 3])).tolist() == [0xD0]  # 1 101 0000
    assert pack_bits(np.array([3, 0, 1]), 2).tolist() == [0b11000100]
    assert bit_windows(np.array([1, 1, 0, 1], np.uint8), 3).tolist() == [6, 5, 2, 4]
    with pytest.raises(ValueError, match=r"values\[1\] = 4 does not fit in 2 unsigned bits"):
        pack_bits(np.array([1, 4]), 2)


@given(st.integers(1, 40), st.integers(0, 50), st.integers(0, 2**32 - 1))
def test_fixed_width_fields_round_trip(width, n, seed):
    v = np.random.default_rng(seed).integers(0, 2**width, n, dtype=np.int64)
    packed = pack_bits(v, width)
    assert packed.size == math.ceil(n * width / 8)
    assert np.array_equal(unpack_bits(packed, width, n), v)


# ----------------------------------------------------------------------------- Huffman
def test_huffman_tree_by_hand():
    counts = np.array([9, 4, 2, 1])  # join 1+2, then 3+4, then 7+9
    lengths = F.huffman_code_lengths(counts)
    assert lengths.tolist() == [1, 2, 3, 3]
    assert F.canonical_codes(lengths).tolist() == [0b0, 0b10, 0b110, 0b111]
    assert F.kraft_sum(lengths) == 1
    assert F.mean_code_length(counts, lengths) == 26 / 16
    assert F.shannon_entropy(counts) == pytest.approx(1.5919, abs=1e-4)
    packed, nbits = huffman_encode(np.array([0, 3, 1]), lengths)  # 0 111 10
    assert nbits == 6 and packed.tolist() == [0b01111000]
    assert huffman_decode(packed, nbits, lengths, 3).tolist() == [0, 3, 1]


def test_huffman_ties_and_one_symbol_conventions():
    # equal counts: the symbols are joined in order, leaves before merged nodes
    assert F.huffman_code_lengths(np.array([1, 1, 1, 1])).tolist() == [2, 2, 2, 2]
    assert F.huffman_code_lengths(np.array([2, 1, 1, 0])).tolist() == [1, 2, 2, 0]  # unused: 0
    lone = F.huffman_code_lengths(np.array([0, 7]))
    assert lone.tolist() == [0, 1] and F.kraft_sum(lone) == pytest.approx(0.5)


def _counts():
    counts = st.lists(st.integers(0, 1000), min_size=2, max_size=30)
    return counts.filter(lambda c: sum(x > 0 for x in c) >= 2)  # two used symbols at least


@given(_counts())
def test_huffman_codes_are_prefix_free_complete_and_within_a_bit_of_the_entropy(counts):
    counts = np.array(counts)
    lengths = F.huffman_code_lengths(counts)
    assert np.all((lengths > 0) == (counts > 0))
    assert F.kraft_sum(lengths) == 1
    codes = F.canonical_codes(lengths)
    words = [format(int(c), f"0{int(n)}b") for c, n in zip(codes, lengths) if n > 0]
    assert not any(a != b and b.startswith(a) for a in words for b in words)
    H, L = F.shannon_entropy(counts), F.mean_code_length(counts, lengths)
    assert H - 1e-12 <= L < H + 1


@given(_counts(), st.integers(0, 2**32 - 1))
def test_huffman_round_trip_is_bit_exact(counts, seed):
    counts = np.array(counts)
    lengths = F.huffman_code_lengths(counts)
    symbols = np.random.default_rng(seed).choice(np.flatnonzero(counts), size=60)
    packed, nbits = huffman_encode(symbols, lengths)
    assert nbits == int(lengths[symbols].sum()) and packed.size == math.ceil(nbits / 8)
    assert np.array_equal(huffman_decode(packed, nbits, lengths, symbols.size), symbols)


def test_huffman_decode_refuses_bits_that_are_not_codes():
    lengths = np.array([1, 2, 2])
    packed, nbits = huffman_encode(np.array([0, 1, 2]), lengths)
    with pytest.raises(ValueError, match="do not hold exactly 4 codes"):
        huffman_decode(packed, nbits, lengths, 4)
    with pytest.raises(ValueError, match="not a complete prefix code"):
        huffman_decode(packed, nbits, np.array([1, 1, 2]), 3)


# ----------------------------------------------------------------------------- relative indices
def test_relative_indices_by_hand_the_papers_figure_2():
    """Non-zeros at 1, 4 and 15 with 3-bit gaps (at most 7 zeros): the jump of 10 zeros to
    15 needs one filler, at position 12 (Figure 2 of Deep Compression)."""
    gaps, filler = F.relative_indices(np.array([1, 4, 15]), 3)
    assert gaps.tolist() == [1, 2, 7, 2] and filler.tolist() == [False, False, True, False]
    assert F.entry_positions(gaps).tolist() == [1, 4, 12, 15]


@given(st.integers(1, 6), st.integers(1, 300), st.floats(0.01, 0.9), st.integers(0, 2**32 - 1))
def test_relative_indices_round_trip_and_filler_count_closed_form(index_bits, n, density, seed):
    positions = np.flatnonzero(np.random.default_rng(seed).random(n) < density)
    gaps, filler = F.relative_indices(positions, index_bits)
    M = 2**index_bits
    g = np.diff(positions, prepend=-1) - 1
    assert filler.sum() == np.sum(g // M)  # F = sum_i floor(g_i / M)
    assert gaps.max(initial=0) <= M - 1
    assert np.array_equal(F.entry_positions(gaps)[~filler], positions)


# ----------------------------------------------------------------------------- the formats
def test_the_papers_example_ratio_3_2():
    """16 weights of 32 bits shared into 4 values: r = 16*32 / (16*2 + 4*32) = 3.2; the
    format adds only its header (the shape: 2 x 32 bits)."""
    c = np.array([-1.0, -0.5, 0.5, 2.0], np.float32)
    w = c[np.array([[3, 0, 2, 1], [1, 1, 0, 3], [0, 3, 1, 0], [3, 1, 2, 2]])]
    enc = F.encode(w, "codebook")
    assert enc.payload_bits == 16 * 2 + 4 * 32 == 160
    assert 16 * 32 / enc.payload_bits == 3.2 and enc.bits == 160 + 64
    assert np.array_equal(enc.decode(), w)


def _shared(shape, k, density, seed, dtype=np.float32):
    rng = np.random.default_rng(seed)
    c = np.sort(rng.standard_normal(k)).astype(dtype)
    w = c[rng.integers(0, k, shape)]
    w[rng.random(shape) >= density] = 0
    return w


def test_relative_and_huffman_sizes_by_hand():
    w = np.zeros((2, 10), np.float32)
    w.flat[[0, 1, 19]] = [0.5, -1.0, 0.5]  # gaps 0, 0, 17 -> 17 = 8 + 8 + 1: two fillers at 3 bits
    rel = F.encode(w, "relative", index_bits=3)
    assert (rel.field("z"), rel.field("fillers")) == (3, 2)
    # header 2 + 3 fields; 5 entries x (3 gap bits + 2 value bits: symbols 0, -1.0, 0.5) = 25 bits;
    # codebook 2 x 32
    assert rel.bits == 32 * 5 + 8 * math.ceil(5 * 3 / 8) + 8 * math.ceil(5 * 2 / 8) + 64
    huf = F.encode(w, "huffman", index_bits=3)
    lengths = huf.arrays["lengths"]
    # gaps 0, 0, 7, 7, 1: counts {0: 2, 1: 1, 7: 2}: join 1 (count 1) with 0 (count 2, the first
    # of the tie), then with 7 -> lengths 2, 2, 1.  Values 2, 1, 0, 0, 2 (0 = filler): the same.
    assert lengths[:8].tolist() == [2, 2, 0, 0, 0, 0, 0, 1] and lengths[8:].tolist() == [2, 2, 1]
    assert (huf.field("gap_bits"), huf.field("value_bits")) == (2 * 2 + 1 * 2 + 2 * 1, 2 * 2 + 1 * 2 + 2 * 1)
    assert huf.bits == 32 * 8 + 64 + 8 * 11 + 8 * math.ceil((8 + 8) / 8)
    for enc in (rel, huf):
        assert np.array_equal(enc.decode(), w)


@given(st.sampled_from(["codebook", "relative", "huffman"]), st.integers(1, 40), st.integers(1, 30),
       st.floats(0.0, 1.0), st.integers(1, 8), st.integers(0, 2**32 - 1))
def test_every_weight_sharing_format_round_trips_bit_exactly(fmt, m, n, density, index_bits, seed):
    w = _shared((m, n), 5, density, seed)
    options = {} if fmt == "codebook" else {"index_bits": index_bits}
    enc = F.encode(w, fmt, **options)
    assert np.array_equal(F.decode(enc), w) and F.decode(enc).dtype == np.float32
    assert enc.bits == 8 * sum(a.nbytes for a in enc.arrays.values())


def test_huffman_is_smaller_than_relative_on_skewed_data():
    w = _shared((300, 100), 32, 0.08, 0)
    assert F.size_bits(w, "huffman") < F.size_bits(w, "relative") < F.size_bits(w, "codebook")


def test_bad_input_is_refused_with_the_argument_named():
    w = _shared((4, 5), 3, 0.5, 0)
    for fmt in ("relative", "huffman"):
        with pytest.raises(ValueError, match="index_bits must be >= 1"):
            F.encode(w, fmt, index_bits=0)
    with pytest.raises(TypeError, match="float32 weight-shared array"):
        F.encode(w.astype(np.float64), "huffman")
    bad = w.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        F.encode(bad, "codebook")
    dense = np.random.default_rng(0).standard_normal(70000).astype(np.float32)
    with pytest.raises(ValueError, match="kmeans_quantize"):
        F.encode(dense, "huffman")


def test_a_corrupted_huffman_stream_is_detected():
    w = _shared((30, 30), 8, 0.3, 1)
    enc = F.encode(w, "huffman")
    for part in ("stream", "lengths", "codebook"):
        arrays = {k: v.copy() for k, v in enc.arrays.items()}
        arrays[part].view(np.uint8)[3] ^= 0x10  # one bit flipped
        with pytest.raises(ValueError, match="CRC-32"):
            F.decode(F.Encoding("huffman", arrays))
    arrays = dict(enc.arrays, stream=enc.arrays["stream"][:-1])
    with pytest.raises(ValueError):
        F.decode(F.Encoding("huffman", arrays))
