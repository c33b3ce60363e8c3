"""minicompress.nn.gradcheck: the one gradient checker, and proof that it can fail."""

import numpy as np
import pytest
from hypothesis import given

from minicompress.nn import Conv2d, Linear, ReLU
from minicompress.nn import functional as F
from minicompress.nn.gradcheck import (
    GRAD_TOL,
    gradcheck_function,
    gradcheck_module,
    numerical_gradient,
    relative_error,
)
from tests.strategies import conv_problems, pow2_factors, seeded_normal, strided_views


def test_relative_error_hand_cases():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.array([3.0, 4.0]), np.array([3.0, 4.0])) == 0.0
    # ||(1, -1)|| / max(||(1, 0)||, ||(0, 1)||) = sqrt(2)
    assert relative_error(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(np.sqrt(2))
    # symmetric in its arguments
    a, n = np.array([1.0, 2.0]), np.array([1.5, 2.0])
    assert relative_error(a, n) == relative_error(n, a) == pytest.approx(0.5 / np.sqrt(6.25))


@given(seeded_normal((3, 4)))
def test_numerical_gradient_of_a_quadratic_and_restores_x(x):
    # f(x) = sum(x^2) / 2 has gradient x; centred differences are exact for a quadratic
    # up to rounding
    before = x.copy()
    g = numerical_gradient(lambda: 0.5 * float(np.sum(x * x)), x)
    np.testing.assert_allclose(g, x, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(x, before)  # perturbed in place, restored bit for bit


def test_numerical_gradient_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda: 0.0, np.zeros(3, np.float32))


# ----------------------------------------------------------------------------- it can fail
class LeakyBackwardReLU(ReLU):
    """Broken on purpose: lets the gradient through where x < 0 as well."""

    def backward(self, dout):
        return dout


class TransposedWeightGradLinear(Linear):
    """Broken on purpose: dW^T reshaped to W's shape (the right numbers, in the wrong places)."""

    def backward(self, dout):
        x, w, _ = self._cache
        self.grads["weight"] += (x.T @ dout).reshape(w.shape)
        self.grads["bias"] += dout.sum(axis=0)
        return dout @ w


class HalfDxConv2d(Conv2d):
    """Broken on purpose: dx is halved (as if overlapping windows were averaged, not summed)."""

    def backward(self, dout):
        dx, dw, db = F.conv2d_backward(dout, self._cache)
        self.grads["weight"] += dw
        self.grads["bias"] += db
        return dx * 0.5


@pytest.mark.parametrize("module, x_shape, broken", [
    (LeakyBackwardReLU(), (2, 5), "x"),
    (TransposedWeightGradLinear(3, 4, rng=0), (2, 3), "weight"),
    (HalfDxConv2d(1, 2, 3, padding=1, rng=0), (1, 1, 4, 4), "x"),
])
def test_gradcheck_fails_on_a_broken_backward(module, x_shape, broken):
    module.to(np.float64)
    x = np.random.default_rng(0).standard_normal(x_shape)
    errors = gradcheck_module(module, x, rng=0)
    assert errors[broken] > 1e-2, errors  # far above the 1e-6 a correct backward reaches
    correct = {k: v for k, v in errors.items() if k != broken}
    assert all(v < GRAD_TOL for v in correct.values()), errors  # and it blames only the broken one


@given(conv_problems(max_n=1, max_c=2, max_side=5))
def test_gradcheck_function_catches_a_forgotten_bias_gradient(problem):
    x, w, b, s, p = problem
    if b is None:
        b = np.ones(w.shape[0])

    def forward(x, w, b):
        return F.conv2d_forward(x, w, b, s, p)

    def broken_backward(dout, cache):
        dx, dw, db = F.conv2d_backward(dout, cache)
        return {"x": dx, "w": dw, "b": np.zeros_like(db)}  # the classic: db never written

    errors = gradcheck_function(forward, broken_backward, {"x": x, "w": w, "b": b}, rng=0)
    assert errors["x"] < GRAD_TOL and errors["w"] < GRAD_TOL
    assert errors["b"] == pytest.approx(1.0)  # ||0 - n|| / ||n||


# ----------------------------------------------------------------------------- views, scales
@given(strided_views())
def test_numerical_gradient_perturbs_the_view_itself(vb):
    """x.reshape(-1) of a transposed or strided view is a copy; perturbing it would leave f
    unchanged and report a zero gradient.  The checker indexes x itself."""
    x, base = vb
    before = base.copy()
    g = numerical_gradient(lambda: float(np.sum(np.sin(x))), x)
    np.testing.assert_allclose(g, np.cos(x), rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(base, before)  # restored exactly


@given(seeded_normal((3, 4)), seeded_normal((3, 4)), pow2_factors)
def test_relative_error_is_scale_invariant(a, n, c):
    assert relative_error(a * c, n * c) == relative_error(a, n)  # exact for powers of two


def test_relative_error_at_extreme_scales():
    a, n = np.array([1.0, 2.0]), np.array([1.0, 2.5])
    for c in (1e-200, 1e200):
        assert relative_error(a * c, n * c) == pytest.approx(relative_error(a, n), rel=1e-14)
    # a gradient of 1e-170 against 0 is wholly wrong, not "both zero"
    assert relative_error(np.array([1e-170]), np.array([0.0])) == 1.0


@pytest.mark.parametrize("call, error, match", [
    (lambda: relative_error(np.ones(3), np.ones((3, 1))), ValueError,
     "same shape .* \\(3,\\) and \\(3, 1\\)"),
    (lambda: relative_error(np.array([np.nan]), np.ones(1)), ValueError, "analytic contains 1 non-finite"),
    (lambda: numerical_gradient(lambda: 0.0, [0.0]), TypeError, "x must be a numpy array; got \\[0.0\\]"),
    (lambda: numerical_gradient(lambda: 0.0, np.array([np.inf])), ValueError, "x contains 1 non-finite"),
    (lambda: numerical_gradient(lambda: 0.0, np.zeros(2), h=0), ValueError,
     "h must be in \\(0.0, inf\\); got 0"),
    (lambda: numerical_gradient(0.0, np.zeros(2)), TypeError, "f must be a function of no arguments"),
    (lambda: gradcheck_module("Linear", np.zeros((1, 2)), rng=0), TypeError,
     "module must be a minicompress Module"),
])
def test_gradcheck_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_numerical_gradient_refuses_a_read_only_array():
    x = np.zeros(3)
    x.flags.writeable = False
    with pytest.raises(ValueError, match="x is read-only"):
        numerical_gradient(lambda: 0.0, x)
