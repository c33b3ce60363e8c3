"""Binarisation (4.2.1), ternarisation (TWN) and their packed storage."""

import numpy as np
import pytest
from hypothesis import given

from minicompress import formats
from minicompress.quantize import binarize, binarize_scaled, binary_scale, pack_signs, ternarize, unpack_signs
from minicompress.quantize.ternary import ternary_threshold
from tests.strategies import arrays, distinct_abs_arrays, small_shapes


# ----------------------------------------------------------------------------- binarize
def test_binarize_hand_case_and_sign_of_zero():
    w = np.array([-2.0, -0.0, 0.0, 1e-30, -1e-30, 3.0])
    # the text's rule w >= 0 -> +1: both zeros go to +1 (np.sign would give 0)
    np.testing.assert_array_equal(binarize(w), [-1, 1, 1, 1, -1, 1])
    assert np.sign(0.0) == 0  # why the library does not use np.sign


@given(arrays(small_shapes()))
def test_binarize_values_and_rule(w):
    b = binarize(w)
    assert b.shape == w.shape and b.dtype == w.dtype
    assert set(np.unique(b)) <= {-1.0, 1.0}
    np.testing.assert_array_equal(b == 1, w >= 0)


def test_binarize_scaled_hand_case():
    w = np.array([[0.5, -1.5], [2.0, 0.0]])  # mean|w| = 1.0
    np.testing.assert_allclose(binarize_scaled(w), [[1.0, -1.0], [1.0, 1.0]])
    # per channel: alpha = (1.0, 1.0) for the rows (0.5+1.5)/2 and (2+0)/2
    np.testing.assert_allclose(binary_scale(w, per_channel=True), [1.0, 1.0])
    w2 = np.array([[1.0, -3.0], [0.5, 0.5]])
    np.testing.assert_allclose(binarize_scaled(w2, per_channel=True), [[2.0, -2.0], [0.5, 0.5]])


@given(arrays(small_shapes()))
def test_binarize_scaled_alpha_is_least_squares_optimal(w):
    """alpha = mean|w| minimises ||w - alpha sign(w)||^2: no alpha on a grid does better."""
    alpha = binary_scale(w)
    b = binarize(w)
    err = np.sum((w - alpha * b) ** 2)
    grid = np.linspace(0, 2 * max(np.abs(w).max(), 1e-9), 401)
    grid_err = ((w.ravel()[None, :] - grid[:, None] * b.ravel()[None, :]) ** 2).sum(axis=1)
    assert err <= grid_err.min() * (1 + 1e-12) + 1e-12
    # and the closed form of the minimum: ||w||^2 - n alpha^2
    np.testing.assert_allclose(err, np.sum(w**2) - w.size * alpha**2, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(binarize_scaled(w), alpha * b)


def test_binarize_all_zero_gives_zero_scaled_weights():
    np.testing.assert_array_equal(binarize(np.zeros(3)), [1, 1, 1])
    np.testing.assert_array_equal(binarize_scaled(np.zeros((2, 3))), 0)


# ----------------------------------------------------------------------------- ternarize
def test_ternarize_hand_case():
    w = np.array([1.0, -1.0, 0.2, -0.3, 0.0, 0.5])  # mean|w| = 0.5, delta = 0.35
    t, alpha = ternarize(w)
    np.testing.assert_array_equal(t, [1, -1, 0, 0, 0, 1])
    np.testing.assert_allclose(alpha, (1.0 + 1.0 + 0.5) / 3)
    assert ternary_threshold(w) == pytest.approx(0.35)


def test_ternarize_ties_at_threshold_become_zero():
    w = np.array([0.5, -0.5, 0.6, 0.1])
    t, alpha = ternarize(w, delta=0.5)  # |w| > delta is kept, |w| == delta is not
    np.testing.assert_array_equal(t, [0, 0, 1, 0])
    assert alpha == pytest.approx(0.6)


def test_ternarize_nothing_above_threshold():
    t, alpha = ternarize(np.zeros((2, 2)))
    np.testing.assert_array_equal(t, 0)
    assert alpha == 0.0
    t, alpha = ternarize(np.array([1.0, -1.0]), delta=5.0)
    np.testing.assert_array_equal(t, 0)
    assert alpha == 0.0


@given(distinct_abs_arrays())
def test_ternarize_properties(w):
    t, alpha = ternarize(w)
    delta = 0.7 * np.abs(w).mean()
    assert set(np.unique(t)) <= {-1.0, 0.0, 1.0}
    np.testing.assert_array_equal(t != 0, np.abs(w) > delta)
    np.testing.assert_array_equal(np.sign(t[t != 0]), np.sign(w[t != 0]))
    # alpha is the least-squares scale for this t: no alpha on a grid does better
    err = np.sum((w - alpha * t) ** 2)
    grid = np.linspace(0, 2 * np.abs(w).max(), 401)
    grid_err = ((w.ravel()[None, :] - grid[:, None] * t.ravel()[None, :]) ** 2).sum(axis=1)
    assert err <= grid_err.min() * (1 + 1e-12) + 1e-12


@given(distinct_abs_arrays(shape=(3, 5)))
def test_ternarize_per_channel_matches_rows(w):
    t, alpha = ternarize(w, per_channel=True)
    for c in range(3):
        t_c, a_c = ternarize(w[c])
        np.testing.assert_array_equal(t[c], t_c)
        assert alpha[c] == pytest.approx(a_c)


def test_ternarize_per_channel_all_zero_channel_is_zero_not_nan():
    w = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]])
    t, alpha = ternarize(w, per_channel=True)
    np.testing.assert_array_equal(t, [[0, 0, 0], [1, -1, 0]])  # row 1: delta = 0.7 * 7/6
    np.testing.assert_array_equal(alpha, [0.0, 1.5])
    w = np.array([[0.0, 0.0], [0.5, -0.5]], np.float32)  # already ternary: stored exactly
    assert np.array_equal(formats.decode(formats.encode(w, "ternary", per_channel=True)), w)


# ----------------------------------------------------------------------------- packing
@given(arrays(small_shapes(min_dims=1, max_dims=2, max_side=20)))
def test_pack_signs_round_trip(x):
    bits = pack_signs(x)
    assert bits.dtype == np.uint8 and bits.shape[-1] == -(-x.shape[-1] // 8)
    np.testing.assert_array_equal(unpack_signs(bits, x.shape[-1]), binarize(x))


def test_pack_signs_hand_case():
    np.testing.assert_array_equal(pack_signs([1.0, -1.0, 0.0, -2.0, 1, 1, 1, 1, -1]), [0b10101111, 0])


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("fn", [binarize, binarize_scaled, lambda w: ternarize(w)])
def test_non_finite_input_is_rejected(fn):
    with pytest.raises(ValueError, match="non-finite"):
        fn(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="non-finite"):
        fn(np.array([np.inf, 1.0]))


def test_bad_arguments():
    with pytest.raises(TypeError, match="numeric"):
        binarize(np.array(["a"]))
    with pytest.raises(ValueError, match="delta must be in"):
        ternarize(np.ones(3), delta=-1.0)
    with pytest.raises(ValueError, match="empty"):
        binarize(np.zeros(0))
