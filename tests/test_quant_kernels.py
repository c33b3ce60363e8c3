"""Exact integer matmul through float BLAS, XNOR-popcount, fixed-point requantization."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from minicompress.quantize import int_matmul, pack_signs, quantize_multiplier, xnor_matmul
from minicompress.quantize.fixedpoint import multiply_by_quantized_multiplier, zero_point_matmul
from minicompress.quantize.kernels import exact_float_dtype


# ----------------------------------------------------------------------------- int_matmul
def test_int_matmul_hand_case():
    a = np.array([[1, -2], [127, -128]], np.int8)
    b = np.array([[3, 0], [-128, 127]], np.int8)
    out = int_matmul(a, b)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [[259, -254], [127 * 3 + 128 * 128, -128 * 127]])


def test_float_type_is_picked_per_k():
    assert exact_float_dtype(1023, 128, 128) is np.float32  # 1023 * 2**14 < 2**24
    assert exact_float_dtype(1024, 128, 128) is np.float64  # = 2**24: not every sum is exact
    assert exact_float_dtype(4096, 127, 127) is np.float64
    assert exact_float_dtype(2**40, 128, 128) is None


def test_float32_would_not_be_exact_beyond_2_to_24():
    """Why the bound matters: a plain float32 GEMM cannot hold an odd integer above 2**24."""
    a = np.full((1, 1026), -128, np.int8)
    b = np.full((1026, 1), -128, np.int8)
    a[0, -1] = b[-1, 0] = 1
    exact = 1025 * 2**14 + 1  # 16,793,601: odd, above 2**24 = 16,777,216
    assert int_matmul(a, b)[0, 0] == exact
    assert int((a.astype(np.float32) @ b.astype(np.float32))[0, 0]) in (exact - 1, exact + 1)


@settings(max_examples=10)
@given(st.integers(1, 6), st.integers(1, 4096), st.integers(1, 6), st.integers(0, 2**32 - 1),
       st.sampled_from(["int8", "uint8"]))
@example(3, 4096, 2, 0, "int8")
@example(4, 1024, 5, 1, "int8")
@example(2, 1040, 3, 2, "uint8")
def test_int_matmul_is_bit_exact_against_int64(M, K, N, seed, a_type):
    rng = np.random.default_rng(seed)
    info = np.iinfo(a_type)
    a = rng.integers(info.min, info.max, size=(M, K), endpoint=True).astype(a_type)
    b = rng.integers(-128, 127, size=(K, N), endpoint=True).astype(np.int8)
    if seed % 3 == 0:  # worst case magnitudes, all the same sign: the largest partial sums
        a[:], b[:] = info.min if a_type == "int8" else info.max, -128
    np.testing.assert_array_equal(int_matmul(a, b), a.astype(np.int64) @ b.astype(np.int64))


def test_int_matmul_bad_input():
    a = np.ones((2, 3), np.int8)
    with pytest.raises(TypeError, match="int8 or uint8"):
        int_matmul(a.astype(np.int32), a.T)
    with pytest.raises(TypeError, match="int8 or uint8"):
        int_matmul(a.astype(np.float32), a.T)
    with pytest.raises(ValueError, match="inner dimensions"):
        int_matmul(a, a)
    with pytest.raises(ValueError, match="2-D"):
        int_matmul(a[0], a.T)


# ----------------------------------------------------------------------------- xnor
def test_xnor_hand_case():
    a = np.array([[1.0, -1.0, 1.0]])
    b = np.array([[1.0, 1.0, 1.0], [-1.0, 1.0, -1.0]])
    out = xnor_matmul(pack_signs(a), pack_signs(b), 3)
    np.testing.assert_array_equal(out, [[1, -3]])


@given(st.integers(1, 5), st.integers(1, 130), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_xnor_matmul_equals_float_dot_of_signs(M, k, N, seed):
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((M, k)), rng.standard_normal((N, k))
    A[0, 0] = 0.0  # sign(0) = +1, the binarize convention
    sa, sb = np.where(A >= 0, 1.0, -1.0), np.where(B >= 0, 1.0, -1.0)
    out = xnor_matmul(np.packbits(A >= 0, axis=1), np.packbits(B >= 0, axis=1), k)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, sa @ sb.T)


def test_xnor_bad_input():
    bits = np.packbits(np.ones((2, 10), bool), axis=1)  # 2 bytes per row, 6 padding bits
    np.testing.assert_array_equal(xnor_matmul(bits, bits, 10), 10)
    bad = bits.copy()
    bad[:, -1] |= 1
    with pytest.raises(ValueError, match="padding bits"):
        xnor_matmul(bad, bits, 10)
    with pytest.raises(ValueError, match="ceil\\(k/8\\) = 1 bytes"):
        xnor_matmul(bits, bits, 8)
    with pytest.raises(TypeError, match="uint8"):
        xnor_matmul(bits.astype(np.int8), bits, 10)


# ----------------------------------------------------------------------------- fixed point
def test_quantize_multiplier_hand_case():
    assert quantize_multiplier(0.5) == (2**30, 31)  # 0.5 = 2**30 * 2**-31
    assert quantize_multiplier(0.75) == (3 * 2**29, 31)
    assert quantize_multiplier(2**-10) == (2**30, 40)
    M0, n = quantize_multiplier(1 - 2**-40)  # rounds up to 2**31: carried into the shift
    assert (M0, n) == (2**30, 30)


@given(st.floats(2.0**-31, 2.0**29, allow_nan=False))
def test_quantize_multiplier_property(M):
    M0, n = quantize_multiplier(M)
    assert 2**30 <= M0 < 2**31 and 1 <= n <= 62
    assert abs(M0 * 2.0**-n - M) <= M * 2.0**-31


@given(st.lists(st.integers(-(2**31) + 1, 2**31 - 1), min_size=1, max_size=20),
       st.floats(2.0**-20, 0.99))
def test_requantize_is_round_half_away_from_zero_of_the_exact_product(acc, M):
    from fractions import Fraction

    acc = np.array(acc, np.int64)
    M0, n = quantize_multiplier(M)
    got = multiply_by_quantized_multiplier(acc.astype(np.int32), M0, n)
    for a, g in zip(acc.tolist(), got.tolist()):
        exact = Fraction(a * M0, 2**n)
        mag = abs(exact)
        r = int(mag) + (1 if mag - int(mag) >= Fraction(1, 2) else 0)
        assert g == (r if exact >= 0 else -r)


def test_requantize_ties_and_per_channel():
    # M = 0.5: acc 1 -> 0.5 -> 1, acc -1 -> -1, acc 3 -> 1.5 -> 2 (away from zero, not to even)
    M0, n = quantize_multiplier(0.5)
    np.testing.assert_array_equal(multiply_by_quantized_multiplier(np.array([1, -1, 3, -3, 4]), M0, n),
                                  [1, -1, 2, -2, 2])
    M0, n = quantize_multiplier(np.array([0.5, 0.25]))
    out = multiply_by_quantized_multiplier(np.array([[8, 8], [-6, -6]], np.int32), M0, n)
    np.testing.assert_array_equal(out, [[4, 2], [-3, -2]])  # -1.5 -> -2


def test_zero_point_matmul_hand_case():
    # (q1 - Z1) = [[2, -1]], (q2 - Z2) = [[3, 4]]: 2*3 - 1*4 = 2.  The four terms of eq. (7):
    # sum q1 q2 = 12*5 + 9*6 = 114, -Z2 sum q1 = -42, -Z1 sum q2 = -110, K Z1 Z2 = 40
    q1, q2 = np.array([[12, 9]], np.uint8), np.array([[5, 6]], np.int8)
    assert zero_point_matmul(q1, 10, q2, 2)[0, 0] == 2


@given(st.integers(1, 6), st.integers(1, 300), st.integers(1, 5), st.integers(0, 255),
       st.integers(-20, 20), st.integers(0, 2**32 - 1))
def test_zero_point_matmul_expansion(N, K, C, z1, z2, seed):
    """Jacob et al. eq. (7): the four-term expansion equals the direct sum of products."""
    rng = np.random.default_rng(seed)
    q1 = rng.integers(0, 256, (N, K)).astype(np.uint8)
    q2 = rng.integers(-127, 128, (C, K)).astype(np.int8)
    direct = (q1.astype(np.int64) - z1) @ (q2.astype(np.int64) - z2).T
    np.testing.assert_array_equal(zero_point_matmul(q1, z1, q2, z2), direct)
    z2c = rng.integers(-5, 6, C)
    direct = (q1.astype(np.int64) - z1) @ (q2.astype(np.int64) - z2c[:, None]).T
    np.testing.assert_array_equal(zero_point_matmul(q1, z1, q2, z2c), direct)


def test_fixed_point_bad_input():
    with pytest.raises(ValueError, match="M must be finite"):
        quantize_multiplier(0.0)
    with pytest.raises(ValueError, match="M must be finite"):
        quantize_multiplier(np.inf)
    with pytest.raises(TypeError, match="integer array"):
        multiply_by_quantized_multiplier(np.array([1.0]), 2**30, 31)
    with pytest.raises(ValueError, match="fit int32"):
        multiply_by_quantized_multiplier(np.array([2**31]), 2**30, 31)


@pytest.mark.parametrize("call, error, match", [
    (lambda: zero_point_matmul(np.ones((2, 3)), 0, np.ones((4, 3), np.int8)), TypeError,
     "q1 must be an int8 or uint8 numpy array; got float64"),
    (lambda: zero_point_matmul(np.ones((2, 3), np.uint8), 0, np.ones((4, 2), np.int8)), ValueError,
     r"same K; got shapes \(2, 3\) and \(4, 2\)"),
    (lambda: zero_point_matmul(np.ones((2, 3), np.uint8), 0, np.ones((4, 3), np.int8), np.zeros(3, int)),
     ValueError, r"z2 must hold one zero point per row of q2, shape \(4,\); got \(3,\)"),
    (lambda: zero_point_matmul(np.ones((2, 3), np.uint8), 0, np.ones((4, 3), np.int8), [[1], [1, 2]]),
     TypeError, "z2 must be an array"),
    (lambda: multiply_by_quantized_multiplier(np.ones((2, 3), np.int32), 2**30, 0), ValueError,
     r"n must lie in \[1, 62\]; got values from 0 to 0"),
    (lambda: multiply_by_quantized_multiplier(np.ones((2, 3), np.int32), 2**29, 31), ValueError,
     r"M0 must lie in \[1073741824, 2147483647\]"),
    (lambda: multiply_by_quantized_multiplier(np.ones((2, 3), np.int32), np.full(2, 2**30), 31), ValueError,
     r"M0 must be one integer or one per channel, shape \(3,\)"),
    (lambda: multiply_by_quantized_multiplier(np.ones((2, 3), np.int32), 2.0**30, 31), TypeError,
     "M0 must be an integer"),
    (lambda: quantize_multiplier(np.array([], float)), ValueError, "M is empty"),
    (lambda: quantize_multiplier("0.5"), TypeError, "M must be an array of numbers"),
    (lambda: exact_float_dtype(3.5, 127, 127), TypeError, "k must be an integer; got 3.5"),
])
def test_fixed_point_and_kernel_arguments_are_checked(call, error, match):
    with pytest.raises(error, match=match):
        call()
