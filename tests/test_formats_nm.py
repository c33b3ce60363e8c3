"""The N:M storage format: n values and their positions per group of m, exact size, bit-exact."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress import MLP, formats
from minicompress.formats.nm import combination_table, nm_bits, position_bits
from minicompress.prune import nm_mask, prune_model


def test_hand_case_combination_positions():
    """Row [0, 1.5, 0, -2 | 3, 0, 0, 0], 2:4.  Group 0 keeps positions (1, 3), combination 4 of
    (0,1) (0,2) (0,3) (1,2) (1,3) (2,3); group 1 has one non-zero, so it stores position 0
    and its first zero, 1: (0, 1), combination 0.  Positions 100 000 -> one byte 0x80.
    Size: header 32 * (2 + 4) + 4 values * 32 + 8 = 328 bits."""
    w = np.array([[0.0, 1.5, 0.0, -2.0, 3.0, 0.0, 0.0, 0.0]], dtype=np.float32)
    enc = formats.encode(w, "nm", n=2, m=4)
    np.testing.assert_array_equal(enc.arrays["values"], [1.5, -2.0, 3.0, 0.0])
    assert enc.arrays["positions"].tolist() == [0x80]
    assert enc.bits == 328 == nm_bits(w.shape, 2, 4)
    assert [enc.field(f) for f in ("n", "m", "bits", "positions")] == [2, 4, 0, 0]
    np.testing.assert_array_equal(formats.decode(enc), w)
    # per-value positions, 2 bits each: 01 11 00 01 -> 0x71
    enc = formats.encode(w, "nm", n=2, m=4, positions="index")
    assert enc.arrays["positions"].tolist() == [0x71] and enc.bits == 328
    np.testing.assert_array_equal(formats.decode(enc), w)


def test_position_bits_and_table():
    assert combination_table(2, 4).tolist() == [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]
    assert position_bits(2, 4) == 3 and position_bits(2, 4, "index") == 2
    assert position_bits(1, 8) == 3 and position_bits(4, 8) == 7  # C(8, 4) = 70
    assert position_bits(4, 4) == 0 and position_bits(1, 1, "index") == 0


@st.composite
def nm_arrays(draw):
    m = draw(st.integers(1, 8))
    n = draw(st.integers(1, m))
    rows, groups = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    dtype = draw(st.sampled_from([np.float32, np.float16, np.int8]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    w = rng.standard_normal((rows, groups * m)) * 20
    w = (w * nm_mask(w, n, m)).astype(dtype)
    if draw(st.booleans()):  # some groups with fewer than n non-zeros
        w[rng.random(w.shape) < 0.3] = 0
    if draw(st.booleans()):  # a conv weight (C_out, C_in, kh, kw): grouped along C_in*kh*kw
        w = w.reshape(rows, groups, m, 1)
    return w, n, m


@given(nm_arrays(), st.sampled_from(["combination", "index"]))
def test_round_trip_is_bit_exact_and_the_size_exact(problem, positions):
    w, n, m = problem
    enc = formats.encode(w, "nm", n=n, m=m, positions=positions)
    out = formats.decode(enc)
    assert out.dtype == w.dtype and out.shape == w.shape
    np.testing.assert_array_equal(out, w)
    value_bits = 8 * w.dtype.itemsize
    assert enc.bits == nm_bits(w.shape, n, m, positions=positions, value_bits=value_bits)
    G = w.size // m
    p = position_bits(n, m, positions)
    per_group = math.ceil(math.log2(math.comb(m, n))) if positions == "combination" else n * p
    assert enc.payload_bits == G * n * value_bits + 8 * math.ceil(G * per_group / 8)


def test_a_negative_zero_decodes_as_positive_zero():
    w = np.array([-0.0, 1.0, 0.0, 0.0], dtype=np.float32)
    out = formats.decode(formats.encode(w, "nm", n=2, m=4))
    assert out.tolist() == [0.0, 1.0, 0.0, 0.0] and not np.signbit(out).any()


def test_quantized_values_decode_like_the_bitmask_format():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 16)).astype(np.float32)
    w *= nm_mask(w, 2, 4)
    for per_channel in (True, False):
        a = formats.decode(formats.encode(w, "nm", n=2, m=4, bits=4, per_channel=per_channel))
        b = formats.decode(formats.encode(w, "bitmask", bits=4, per_channel=per_channel))
        np.testing.assert_array_equal(a, b)
    enc = formats.encode(w, "nm", n=2, m=4, bits=4)
    # 16 groups * 2 codes * 4 bits = 16 bytes, 4 row scales, 16 * 3 position bits = 6 bytes
    assert enc.payload_bits == 8 * 16 + 32 * 4 + 8 * 6


def test_2_4_beats_the_bitmask_on_position_bits_only():
    """3 position bits per 4 weights against the bitmask's 4: the storage gain of N:M over a
    bitmask is small; its point is the fixed structure that sparse hardware reads."""
    w = np.random.default_rng(1).standard_normal((300, 784)).astype(np.float32)
    w *= nm_mask(w, 2, 4)
    nm, bitmask = formats.size_bits(w, "nm", n=2, m=4), formats.size_bits(w, "bitmask")
    assert bitmask - nm == 300 * 784 // 4 - 32 * 3  # a bit per group, minus 3 more header fields
    assert nm / formats.size_bits(w, "fp32") == pytest.approx(67 / 128, abs=1e-3)


def test_save_and_load_a_2_4_model(tmp_path):
    model = MLP([8, 12, 4], rng=0)
    prune_model(model, None, pattern="2:4")
    path = tmp_path / "m.npz"
    formats.save_model(path, model, "nm", n=2, m=4)
    other = MLP([8, 12, 4], rng=5)
    formats.load_model(path, other)
    for (_, a), (_, b) in zip(model.named_parameters(), other.named_parameters()):
        np.testing.assert_array_equal(a, b)


def test_bad_input():
    w = np.array([[1.0, 2.0, 3.0, 0.0]], dtype=np.float32)
    with pytest.raises(ValueError, match=r"w is not 2:4 sparse: group 0 of row 0 holds 3 non-zeros"):
        formats.encode(w, "nm", n=2, m=4)
    with pytest.raises(ValueError, match="not a multiple of m=3"):
        formats.encode(w, "nm", n=1, m=3)
    with pytest.raises(ValueError, match=r"n must be <= m .*got n=5, m=4"):
        formats.encode(w, "nm", n=5, m=4)
    with pytest.raises(ValueError, match="m must be <= 16; got 32"):
        formats.encode(np.zeros((1, 32), dtype=np.float32), "nm", n=1, m=32)
    with pytest.raises(ValueError, match="positions must be one of"):
        formats.encode(w, "nm", n=3, m=4, positions="bitmask")
    with pytest.raises(TypeError, match="stores values as float32, float16 or int8"):
        formats.encode(w.astype(np.float64), "nm", n=3, m=4)
