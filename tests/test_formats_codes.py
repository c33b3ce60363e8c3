"""The one symmetric quantizer (formula 4.2.2 for b bits), the one bit packer, and the formats
that store their codes: int / int8 / int8_channel, and bitmask / CSR with b-bit values."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress import formats as F
from minicompress.formats.encoding import matrix_view
from minicompress.formats.packing import code_range, pack_codes, unpack_codes
from minicompress.formats.symmetric import (
    symmetric_dequantize,
    symmetric_quantize,
    symmetric_round_trip,
    symmetric_scale,
)
from minicompress.quantize import int8_dequantize, int8_quantize
from tests.strategies import FLOAT_DTYPES, float_arrays, weights_any_dtype


def codes_of(enc):
    """The integer codes an int-format encoding stores, in the array's shape."""
    from minicompress.formats.codes import int_codes

    return int_codes(enc.arrays, enc.shape)


# ----------------------------------------------------------------------------- the quantizer
def test_the_issues_float32_case_gives_one_answer_everywhere():
    """w / scale * 127 for w[0] is 27.49999..., just below the half: float32 arithmetic
    rounded it to 27.5 and then to 28 in one copy of the formula; float64 gives 27."""
    w = np.array([0.6125956, 2.829078, -1.0], np.float32)
    q, scale = int8_quantize(w)
    assert q.tolist() == [27, 127, -45] and scale == float(np.float32(2.829078))
    assert codes_of(F.encode(w, "int8")).tolist() == [27, 127, -45]
    w_hat = int8_dequantize(q, scale, dtype=np.float64)
    assert np.all(np.abs(w - w_hat) <= scale / 254)


@given(weights_any_dtype(), st.booleans())
def test_format_codes_equal_int8_quantize_codes_in_every_dtype(drawn, per_channel):
    w, _ = drawn
    q, _ = int8_quantize(w, per_channel=per_channel)
    enc = F.encode(w, "int8_channel" if per_channel else "int8")
    np.testing.assert_array_equal(codes_of(enc), q)
    assert np.array_equal(F.decode(enc), int8_dequantize(q, enc.arrays["scale"].astype(np.float64)
                                                         if per_channel else float(enc.arrays["scale"][0])))


@given(weights_any_dtype(), st.integers(2, 16), st.booleans())
def test_round_trip_error_is_at_most_half_a_step_in_every_dtype(drawn, bits, per_channel):
    w, dtype = drawn
    q, scale = symmetric_quantize(w, bits, per_channel=per_channel)
    qmax = 2 ** (bits - 1) - 1
    assert q.dtype == (np.int8 if bits <= 8 else np.int16) and np.abs(q).max() <= qmax
    s = np.reshape(scale, (-1,) + (1,) * (w.ndim - 1)) if per_channel else scale
    w64 = w.astype(np.float64)
    err64 = np.abs(w64 - symmetric_dequantize(q, scale, bits, dtype=np.float64))
    assert np.all(err64 <= s / (2 * qmax) * (1 + 1e-12))  # exact for the float64 w_hat
    w_hat = symmetric_dequantize(q, scale, bits, dtype=dtype)  # in w's own dtype: + its rounding
    assert np.all(np.abs(w64 - w_hat) <= s / (2 * qmax) + np.finfo(dtype).eps * np.abs(w_hat))


@given(float_arrays(np.float16, max_abs=60000.0), st.integers(2, 16))
def test_codes_depend_on_the_values_not_on_the_dtype(w16, bits):
    """The same numbers in float16, float32 and float64 give the same codes and scales."""
    results = [symmetric_quantize(w16.astype(dt), bits) for dt in FLOAT_DTYPES]
    for q, s in results[1:]:
        np.testing.assert_array_equal(q, results[0][0])
        assert s == results[0][1]


def test_sixteen_bit_codes_of_float16_weights_stay_in_range():
    w = np.array([65504.0, -65504.0, 1.0, 3e-5], np.float16)
    q, scale = symmetric_quantize(w, 16)
    assert q.dtype == np.int16 and q.tolist()[:2] == [32767, -32767]
    symmetric_dequantize(q, scale, 16)  # accepted by its own inverse


def test_scale_is_rounded_to_float32_as_stored():
    w = np.array([0.1, -0.3], np.float64)  # 0.3 is not a float32
    q, scale = symmetric_quantize(w, 8)
    assert scale == float(np.float32(0.3)) and q.tolist() == [42, -127]
    assert float(F.encode(w, "int8").arrays["scale"][0]) == scale
    with pytest.raises(ValueError, match="not a positive float32"):
        symmetric_quantize(w, 8, scale=1e-50)
    assert symmetric_scale(np.zeros(3)) == 1.0  # all-zero: scale 1, codes 0
    tiny = np.array([2e-98, -1e-99])  # below float32: the smallest positive float32 instead
    q, scale = symmetric_quantize(tiny, 8)
    assert scale == float(np.nextafter(np.float32(0), np.float32(1))) and q.tolist() == [0, 0]
    with pytest.raises(ValueError, match="beyond float32's range"):
        symmetric_quantize(np.array([1e300]), 8)


def test_quantizer_hand_case_half_to_even_and_clip():
    w = np.array([0.5, 1.5, 2.5, -2.5, 9.0])
    q, _ = symmetric_quantize(w, 8, scale=127.0)  # w / scale * 127 = w
    assert q.tolist() == [0, 2, 2, -2, 9]
    q, _ = symmetric_quantize(np.array([3.0, -3.0]), 2, scale=1.0)  # qmax = 1: clipped
    assert q.tolist() == [1, -1]


def test_round_trip_helper_is_dequantize_of_quantize(rng):
    w = rng.standard_normal((4, 6)).astype(np.float32)
    expected = symmetric_dequantize(*symmetric_quantize(w, 4, per_channel=True), 4, dtype=np.float32)
    assert np.array_equal(symmetric_round_trip(w, 4, per_channel=True), expected)


# ----------------------------------------------------------------------------- packing
def test_pack_codes_hand_case():
    assert pack_codes(np.array([1, -1]), 4).tolist() == [0x1F]  # 0001 1111
    assert pack_codes(np.array([1, 0, -1]), 2).tolist() == [0b01001100]  # 01 00 11, padded 00
    assert pack_codes(np.array([-3, 7], np.int8), 8).tolist() == [253, 7]  # the int8 bytes


@given(st.integers(1, 16), st.integers(0, 40), st.data())
def test_pack_codes_round_trip_and_size(bits, n, data):
    lo, hi = code_range(bits)
    q = np.array(data.draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n)), dtype=np.int32)
    packed = pack_codes(q, bits)
    assert packed.dtype == np.uint8 and packed.size == math.ceil(n * bits / 8)
    np.testing.assert_array_equal(unpack_codes(packed, bits, n), q)


def test_pack_codes_refuses_out_of_range_codes():
    with pytest.raises(ValueError, match=r"\[-8, 7\]"):
        pack_codes(np.array([8]), 4)
    with pytest.raises(ValueError, match="expected 1"):
        unpack_codes(np.zeros(2, np.uint8), 4, 2)


# ----------------------------------------------------------------------------- b-bit formats
@given(float_arrays(np.float32, min_dims=1, max_dims=4), st.integers(2, 16), st.booleans())
def test_int_format_size_and_decode(w, bits, per_channel):
    enc = F.encode(w, "int", bits=bits, per_channel=per_channel)
    c = w.shape[0] if per_channel else 1
    assert enc.payload_bits == 8 * math.ceil(w.size * bits / 8) + 32 * c
    assert enc.header_bits == 32 * (w.ndim + 1) and enc.field("bits") == bits
    assert np.array_equal(F.decode(enc), symmetric_round_trip(w, bits, per_channel=per_channel))


@given(float_arrays(np.float32, min_dims=2, max_dims=4), st.integers(2, 8),
       st.sampled_from(["bitmask", "csr"]))
def test_quantized_sparse_formats_decode_to_the_same_weights_as_dense_codes(w, bits, fmt):
    w = np.where(np.abs(w) < 30, 0, w).astype(np.float32)  # a pruned weight
    sparse, dense = F.encode(w, fmt, bits=bits), F.encode(w, "int", bits=bits, per_channel=True)
    assert np.array_equal(F.decode(sparse), F.decode(dense))
    z = int(np.count_nonzero(codes_of(dense)))  # codes that round to 0 are not stored either
    c = w.shape[0]
    values = 8 * math.ceil(z * bits / 8) + 32 * c
    if fmt == "bitmask":
        assert sparse.payload_bits == 8 * math.ceil(w.size / 8) + values
    else:
        m, k = matrix_view(w.shape)
        width = lambda v: 8 if v < 256 else 16 if v < 65536 else 32  # noqa: E731
        assert sparse.payload_bits == values + z * width(k - 1) + (m + 1) * width(z)
    assert sparse.field("bits") == bits


def test_bitmask_with_codes_hand_case():
    w = np.array([[0.0, 0.5, 0.0, -1.0]], np.float32)
    enc = F.encode(w, "bitmask", bits=4)  # qmax 7: codes [0, 4 (3.5 to even), 0, -7]
    assert np.unpackbits(enc.arrays["mask"], count=4).tolist() == [0, 1, 0, 1]
    assert enc.arrays["values"].tolist() == [0b0100_1001]  # 4 = 0100, -7 = 1001
    np.testing.assert_array_equal(F.decode(enc), np.array([[0.0, 4 / 7, 0.0, -1.0]], np.float32))
    assert enc.bits == 32 * 3 + 8 + 8 + 32  # header (2 dims + bits), mask, two codes, one scale


def test_raw_format_keeps_the_dtype():
    a = np.array([-3, 2**30], np.int32)
    enc = F.encode(a, "raw")
    assert enc.payload_bits == 64 and F.decode(enc).dtype == np.int32
    with pytest.raises(TypeError, match="w must be an array of real numbers .* got dtype bool"):
        F.encode(np.array([True]), "raw")


def test_smallest_picks_the_smaller_encoding_first_of_ties():
    w = np.zeros((4, 64), np.float32)
    w[0, 0] = 1.0  # csr 128 + 32 + 8 + 5 * 8 = 208 bits < bitmask 96 + 256 + 32 = 384
    assert F.smallest(w, ("fp32", "bitmask", "csr")).fmt == "csr"
    assert F.smallest(w, ("fp32", "fp32")).fmt == "fp32"
    with pytest.raises(TypeError, match="fmts must be a non-empty list or tuple of format names; got 'csr'"):
        F.smallest(w, "csr")
