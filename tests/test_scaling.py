"""minicompress.nn._scaling: the power-of-two rescaling behind every scale-invariant result
(energy shares, CP and Tucker errors, relative errors, calibration at the float64 ends)."""

import numpy as np
import pytest
from hypothesis import given

from minicompress.nn._scaling import pow2_scale, stable_norm
from tests.strategies import decades, pow2_factors, seeded_normal


def test_pow2_scale_hand_cases():
    assert pow2_scale(np.array([3.0, -5.0])) == 4.0        # 4 <= 5 < 8
    assert pow2_scale(np.array([1.0])) == 1.0
    assert pow2_scale(np.array([0.75])) == 0.5
    assert pow2_scale(np.zeros(3), np.zeros(0)) == 1.0     # nothing to scale
    assert pow2_scale(np.array([1e308])) == 2.0**1023      # 2**1024 would overflow
    assert pow2_scale(np.array([5e-324])) == 5e-324        # the smallest subnormal is 2**-1074
    assert pow2_scale(np.array([1.0]), np.array([-9.0])) == 8.0


def test_stable_norm_hand_cases():
    assert stable_norm(np.array([3.0, 4.0])) == 5.0
    assert stable_norm(np.array([3e200, 4e200])) == pytest.approx(5e200)   # squares overflow
    assert stable_norm(np.array([3e-200, 4e-200])) == pytest.approx(5e-200)  # squares underflow
    assert stable_norm(np.zeros(4)) == 0.0
    with np.errstate(over="ignore"):
        assert np.linalg.norm(np.array([3e200, 4e200])) == np.inf  # what it replaces


@given(seeded_normal((3, 4)), pow2_factors)
def test_dividing_by_pow2_scale_is_exact(x, c):
    y = x * c
    s = pow2_scale(y)
    assert 1.0 <= np.abs(y).max() / s < 2.0
    np.testing.assert_array_equal((y / s) * s, y)  # only the exponent changed


@given(seeded_normal((5,)), decades)
def test_stable_norm_is_homogeneous(x, c):
    assert stable_norm(c * x) == pytest.approx(c * np.linalg.norm(x), rel=1e-14)


@given(seeded_normal((4, 3)))
def test_stable_norm_equals_the_plain_norm_bit_for_bit_at_ordinary_sizes(x):
    assert stable_norm(x) == np.linalg.norm(x)
