"""INT8 (the text's formula 4.2.2), symmetric b-bit, affine quantization and calibration."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress.quantize import (
    calibrate,
    dequantize_affine,
    fake_quantize_affine,
    int8_dequantize,
    int8_quantize,
    quantize_affine,
    symmetric_dequantize,
    symmetric_quantize,
)
from minicompress.quantize.affine import QParams, affine_params, integer_range
from tests.strategies import arrays, float_dtypes, seeded_normal, small_shapes


# ----------------------------------------------------------------------------- int8
def test_int8_hand_case():
    w = np.array([0.5, -1.0, 0.25, 0.0])  # scale = max|w| = 1: q = round(127 w)
    q, scale = int8_quantize(w)
    assert scale == 1.0 and q.dtype == np.int8
    np.testing.assert_array_equal(q, [64, -127, 32, 0])  # 63.5 -> 64, 31.75 -> 32
    np.testing.assert_allclose(int8_dequantize(q, scale), [64 / 127, -1.0, 32 / 127, 0.0], rtol=1e-6)


def test_int8_rounds_half_to_even():
    # w / scale * 127 = 0.5, 1.5, 2.5, -0.5 exactly: half to even gives 0, 2, 2, -0
    q, _ = int8_quantize(np.array([0.5, 1.5, 2.5, -0.5]), scale=127.0)
    np.testing.assert_array_equal(q, [0, 2, 2, 0])


def test_int8_explicit_scale_clips_to_127():
    q, scale = int8_quantize(np.array([3.0, -3.0, 0.5]), scale=1.0)
    np.testing.assert_array_equal(q, [127, -127, 64])  # never -128: the range is symmetric
    assert scale == 1.0


def test_the_text_formula_taken_literally_wraps_around():
    """Section 4.2.2 writes q = round(w / scale * 127) and stops: with a calibrated scale
    below max|w| the value leaves int8, and an integer cast wraps it to the wrong sign side
    of the range (381 -> 125).  The library clips instead."""
    w, scale = np.array([3.0, -3.0]), 1.0
    literal = np.round(w / scale * 127).astype(np.int64).astype(np.int8)  # two's-complement wrap
    np.testing.assert_array_equal(literal, [125, -125])
    np.testing.assert_array_equal(int8_quantize(w, scale=scale)[0], [127, -127])


def test_int8_all_zero_tensor_does_not_divide_by_zero():
    with np.errstate(all="raise"):
        q, scale = int8_quantize(np.zeros((2, 3)))
        q2, s2 = int8_quantize(np.zeros((2, 3)), per_channel=True)
    np.testing.assert_array_equal(q, 0)
    np.testing.assert_array_equal(q2, 0)
    assert scale == 1.0 and np.all(s2 == 1.0)
    np.testing.assert_array_equal(int8_dequantize(q, scale), 0)


@given(arrays(small_shapes()))
def test_int8_round_trip_max_and_symmetry(w):
    q, scale = int8_quantize(w)
    w_hat = int8_dequantize(q, scale, dtype=np.float64)
    # round-trip error at most half a step, scale / 254 (inside the range, which is all of w here)
    assert np.all(np.abs(w - w_hat) <= scale / 254 * (1 + 1e-9))
    assert np.all(np.abs(q) <= 127)
    if np.abs(w).max() >= np.finfo(np.float32).tiny:  # a float32 scale can hold max|w|
        i = np.unravel_index(np.argmax(np.abs(w)), w.shape)
        assert abs(int(q[i])) == 127  # max|w| maps to +-127
    q_neg, scale_neg = int8_quantize(-w)
    assert scale_neg == scale
    np.testing.assert_array_equal(q_neg, -q)  # q(-w) = -q(w)


@given(seeded_normal((4, 6)), st.floats(0.1, 10.0))
def test_int8_round_trip_inside_explicit_range(w, scale):
    q, s = int8_quantize(w, scale=scale)
    inside = np.abs(w) <= scale
    err = np.abs(w - int8_dequantize(q, s, dtype=np.float64))
    assert np.all(err[inside] <= scale / 254 * (1 + 1e-9))
    np.testing.assert_array_equal(np.abs(q[~inside]), 127)


@given(seeded_normal((5, 3, 2, 2)))
def test_per_channel_error_bound_is_below_per_tensor_channel_by_channel(w):
    w = w * np.array([0.01, 0.1, 1.0, 3.0, 0.5])[:, None, None, None]
    q_t, s_t = int8_quantize(w)
    q_c, s_c = int8_quantize(w, per_channel=True)
    assert s_c.shape == (5,)
    err_c = np.abs(w - int8_dequantize(q_c, s_c, dtype=np.float64)).reshape(5, -1).max(axis=1)
    # each channel's error is within its own half step s_c/254, and s_c <= s_t
    assert np.all(err_c <= s_c / 254 * (1 + 1e-9))
    assert np.all(s_c <= s_t)
    # max|w| of float64 weights, rounded up to the next float32 (the precision it is stored in)
    amax = np.abs(w).reshape(5, -1).max(axis=1)
    assert np.all(s_c >= amax) and np.all(s_c <= amax * (1 + 2**-23))


def test_per_channel_can_lose_on_a_lucky_channel():
    """The bound, not every realisation: a channel that sits on the per-tensor grid."""
    w = np.array([[1.0, -1.0], [2 / 127, 3 / 127]])  # row 1 is exact on the per-tensor grid
    err_t = np.abs(w - int8_dequantize(*int8_quantize(w), dtype=np.float64))[1].max()
    err_c = np.abs(w - int8_dequantize(*int8_quantize(w, per_channel=True), dtype=np.float64))[1].max()
    assert err_t < 1e-15 < err_c <= (3 / 127) / 254


def test_per_channel_error_on_trained_weights(trained_convnet):
    """On the trained fc layer (2,704 weights per channel) every channel's RMS error is no
    larger with its own scale.  (Not so on conv1, 9 weights per channel: one of its 16
    channels can come out worse, as in the hand case above; the bound still holds.)"""
    w = trained_convnet.get_submodule("fc").params["weight"].astype(np.float64)
    rms = {}
    for pc in (False, True):
        w_hat = int8_dequantize(*int8_quantize(w, per_channel=pc), dtype=np.float64)
        rms[pc] = np.sqrt(((w - w_hat) ** 2).mean(axis=1))
    assert np.all(rms[True] <= rms[False] * (1 + 1e-12))
    assert np.mean(rms[True]) < 0.9 * np.mean(rms[False])


@pytest.mark.parametrize("bits", [2, 3, 4, 8, 12, 16])
def test_symmetric_bits(bits):
    w = np.linspace(-1, 1, 101)
    q, scale = symmetric_quantize(w, bits)
    qmax = 2 ** (bits - 1) - 1
    assert q.min() == -qmax and q.max() == qmax
    w_hat = symmetric_dequantize(q, scale, bits, dtype=np.float64)
    assert np.all(np.abs(w - w_hat) <= scale / (2 * qmax) + 1e-12)


def test_two_bit_symmetric_is_a_ternary_grid():
    q, _ = symmetric_quantize(np.array([-1.0, -0.4, 0.2, 0.6, 1.0]), 2)
    np.testing.assert_array_equal(q, [-1, 0, 0, 1, 1])


# ----------------------------------------------------------------------------- affine
def test_affine_hand_case():
    # [lo, hi] = [-1, 3] on uint8: S = 4/255, Z = round(0 + 1/S) = round(63.75) = 64
    qp = affine_params(-1.0, 3.0)
    assert qp == QParams(pytest.approx(4 / 255), 64, 0, 255)
    q = quantize_affine(np.array([-1.0, 0.0, 3.0, 10.0]), *qp)
    assert q.dtype == np.uint8
    np.testing.assert_array_equal(q, [0, 64, 255, 255])  # 10.0 saturates
    np.testing.assert_allclose(dequantize_affine(q, *qp)[:2], [-64 * 4 / 255, 0.0], rtol=1e-6)


def test_integer_range():
    assert integer_range(8) == (0, 255)
    assert integer_range(8, signed=True) == (-128, 127)
    assert integer_range(2, signed=True) == (-2, 1)
    assert integer_range(16) == (0, 65535)


@given(seeded_normal((200,)), st.floats(-5, 5),
       st.sampled_from([(8, False), (8, True), (4, False), (2, True)]))
def test_affine_round_trip_of_the_calibration_range(x, shift, bits_signed):
    bits, signed = bits_signed
    x = x + shift
    qp = calibrate(x, "minmax", bits=bits, signed=signed)
    lo, hi = min(x.min(), 0.0), max(x.max(), 0.0)
    q = quantize_affine(x, *qp)
    r = dequantize_affine(q, *qp, dtype=np.float64)
    assert np.all(np.abs(r - x) <= qp.scale / 2 * (1 + 1e-9))  # inside the range: half a step
    np.testing.assert_array_equal(quantize_affine(np.array([lo, hi]), *qp), [qp.qmin, qp.qmax])
    assert quantize_affine(np.zeros(1), *qp)[0] == qp.zero_point  # the real 0 is a code
    assert dequantize_affine(np.array([qp.zero_point]), *qp)[0] == 0.0


def test_calibration_methods():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(20000), [60.0]])  # one outlier
    mm, pc = calibrate(x, "minmax"), calibrate(x, "percentile")
    assert mm.scale == pytest.approx((60.0 - x.min()) / 255)
    assert pc.scale < mm.scale / 5  # the outlier is clipped
    # a list of batches is the same as their concatenation
    assert calibrate([x[:100], x[100:]], "minmax") == mm


def test_mse_calibration_beats_minmax_on_heavy_tails():
    x = np.random.default_rng(0).laplace(size=20000)

    def err(qp):
        return np.mean((dequantize_affine(quantize_affine(x, *qp), *qp, dtype=np.float64) - x) ** 2)

    mm, mse = calibrate(x, "minmax", bits=4), calibrate(x, "mse", bits=4)
    assert err(mse) <= err(mm)  # the full range is one of the candidates
    assert err(mse) < 0.5 * err(mm)  # 4 bits on Laplace data: clipping pays (0.058 vs 0.150)


def test_calibrate_all_zero():
    qp = calibrate(np.zeros(10))
    assert qp.scale == 1.0 and quantize_affine(np.zeros(3), *qp).tolist() == [qp.zero_point] * 3


# ----------------------------------------------------------------------------- bad input
def test_bad_input_raises_clear_errors():
    x = np.ones(3)
    with pytest.raises(ValueError, match="non-finite"):
        int8_quantize(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="non-finite"):
        quantize_affine(np.array([np.inf]), 1.0, 0)
    with pytest.raises(ValueError, match="non-finite"):
        calibrate([np.ones(2), np.array([np.nan])])
    for bad in (0.0, -1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match="scale must be in"):
            int8_quantize(x, scale=bad)
        with pytest.raises(ValueError, match="scale must be in"):
            quantize_affine(x, bad, 0)
    with pytest.raises(ValueError, match="> 0 for every channel"):
        int8_quantize(np.ones((2, 2)), scale=np.array([1.0, 0.0]), per_channel=True)
    with pytest.raises(ValueError, match="one value per output channel"):
        int8_quantize(np.ones((2, 2)), scale=np.array([1.0, 2.0, 3.0]), per_channel=True)
    for bits in (1, 17, 0):
        with pytest.raises(ValueError, match="bits must be in 2..16"):
            symmetric_quantize(x, bits)
        with pytest.raises(ValueError, match="bits must be in 2..16"):
            calibrate(x, bits=bits)
    with pytest.raises(TypeError, match="bits must be an integer"):
        symmetric_quantize(x, 8.0)
    with pytest.raises(ValueError, match=r"integer range \[qmin, qmax\] = \[0, 255\]; got 256"):
        quantize_affine(x, 1.0, 256)
    with pytest.raises(ValueError, match=r"\[-128, 127\]; got -129"):
        quantize_affine(x, 1.0, -129, -128, 127)
    with pytest.raises(TypeError, match="zero_point must be an integer"):
        quantize_affine(x, 1.0, 0.5)
    with pytest.raises(ValueError, match="more than 16 bits"):
        quantize_affine(x, 1.0, 0, 0, 2**16)
    with pytest.raises(ValueError, match="qmax must be > qmin"):
        quantize_affine(x, 1.0, 0, 5, 5)
    with pytest.raises(ValueError, match="method must be one of"):
        calibrate(x, "max")
    with pytest.raises(ValueError, match=r"q must lie in \[-127, 127\]"):
        int8_dequantize(np.array([-128], np.int8), 1.0)
    with pytest.raises(TypeError, match="integer array of codes"):
        dequantize_affine(np.array([1.5]), 1.0, 0)


# ----------------------------------------------------------------------------- float64, extreme ends
@given(st.floats(-1e6, 0.0), st.floats(0.0, 1e6), st.integers(2, 16), st.booleans())
def test_affine_scale_is_the_plain_formula_bit_for_bit(lo, hi, bits, signed):
    """``2 (hi/2 - lo/2) / (qmax - qmin)`` (no overflow at 1e308) has the bits of the plain
    ``(hi - lo) / (qmax - qmin)`` for every normal range."""
    qmin, qmax = integer_range(bits, signed)
    if hi - lo < 2.2250738585072014e-308 * (qmax - qmin):
        return  # a range too narrow for a normal scale is refused (next test)
    qp = affine_params(lo, hi, bits=bits, signed=signed)
    assert qp.scale == ((hi - lo) / (qmax - qmin) if hi > lo else 1.0)


def test_affine_params_refuses_a_scale_below_the_normal_floats():
    with pytest.raises(ValueError, match=r"\[lo, hi\] = \[0.0, 1e-310\] is too narrow for 256 codes"):
        affine_params(0.0, 1e-310)
    assert affine_params(0.0, 0.0).scale == 1.0  # zero width: the documented S = 1


@given(seeded_normal((200,)), st.integers(-600, 600), st.sampled_from(["minmax", "percentile", "mse"]))
def test_calibration_scales_exactly_with_the_data(x, e, method):
    """Calibrating c x for a power of two c gives c times the scale and the same zero point:
    no overflow near 1e308, no underflow near 1e-300."""
    c = float(np.ldexp(1.0, e))
    qp, qp_c = calibrate(x, method, n_grid=20), calibrate(x * c, method, n_grid=20)
    assert qp_c.scale == qp.scale * c and qp_c.zero_point == qp.zero_point


@given(seeded_normal((50,)), float_dtypes)
def test_affine_codes_do_not_depend_on_the_input_dtype(x, dtype):
    """The codes of x in float16/32 are the float64 codes of the same values: a scale of
    1e-8 is 0 in float16, so the division is done in float64."""
    x = (x * 1e-6).astype(dtype)
    if not np.isfinite(x).all():
        return
    qp = calibrate(x.astype(np.float64), "minmax")
    np.testing.assert_array_equal(quantize_affine(x, *qp), quantize_affine(x.astype(np.float64), *qp))


@pytest.mark.parametrize("call, error, match", [
    (lambda: integer_range(8, signed="yes"), TypeError, "signed must be True or False; got 'yes'"),
    (lambda: calibrate(np.ones(3), "max"), ValueError, "method must be one of"),
    (lambda: calibrate(np.ones(3), percentile=None), TypeError, "percentile must be a real number; got None"),
    (lambda: calibrate(np.ones(3), n_grid=0), ValueError, "n_grid must be >= 1; got 0"),
    (lambda: calibrate(None), TypeError, "x must be an array of numbers; got None"),
    (lambda: quantize_affine(np.ones(2), [[0.1], [0.1, 0.2]], 0), TypeError, "scale must be an array"),
    (lambda: dequantize_affine(np.ones(2, np.uint8), 0.1, 0, dtype=np.int8), TypeError,
     "dtype must be a floating dtype"),
    (lambda: fake_quantize_affine(np.ones(2), 0.1), TypeError, "qp must be QParams"),
])
def test_affine_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
