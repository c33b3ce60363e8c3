"""The L1 penalty L0 + lam * sum|w| (section 4.1.2): value, subgradient, hook, proximal step."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress.nn import MLP, SGD, cross_entropy, fit, numerical_gradient, relative_error
from minicompress.nn.gradcheck import GRAD_TOL
from minicompress.prune import L1Penalty, ProximalL1, l1_penalty, soft_threshold
from tests.strategies import arrays, distinct_abs_arrays, small_shapes


def test_l1_penalty_hand_case():
    model = MLP([2, 2], rng=0)
    model.fc1.params["weight"][...] = [[1.0, -2.0], [0.0, 0.5]]
    value, grads = l1_penalty(model, 0.1)
    assert value == pytest.approx(0.1 * 3.5)
    assert list(grads) == ["fc1.weight"]  # biases are not penalised unless asked
    np.testing.assert_array_equal(grads["fc1.weight"], np.float32(0.1) * np.array([[1, -1], [0, 1]]))


# (no subnormal lam: a gradient of 5e-324 is below what finite differences resolve)
@given(st.integers(0, 2**31), st.floats(0.0, 10.0, allow_subnormal=False))
def test_l1_gradient_matches_finite_differences_away_from_zero(seed, lam):
    model = MLP([5, 4, 3], rng=seed).to(np.float64)
    value, grads = l1_penalty(model, lam)
    for name, p in model.named_parameters():
        if not name.endswith("weight"):
            continue
        assert np.abs(p).min() > 1e-5  # off the kink: the 1e-6 step never crosses 0
        numeric = numerical_gradient(lambda: l1_penalty(model, lam)[0], p)
        assert relative_error(grads[name], numeric) < GRAD_TOL
        np.testing.assert_array_equal(grads[name], lam * np.sign(p))


def test_l1_subgradient_at_zero_is_zero():
    """Convention at the kink: sign(0) = 0, so an exact zero is not pushed off 0."""
    model = MLP([3, 1], rng=0)
    model.fc1.params["weight"][...] = [[0.0, 2.0, -3.0]]
    _, grads = l1_penalty(model, 1.5)
    assert grads["fc1.weight"].tolist() == [[0.0, 1.5, -1.5]]


def test_l1_hook_adds_the_subgradient(rng):
    model = MLP([4, 3], rng=0)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    y = rng.integers(0, 3, 6)
    model.zero_grad()
    model.backward(cross_entropy(model.forward(x), y)[1])
    g0 = model.fc1.grads["weight"].copy()
    L1Penalty(0.3).after_backward(model)
    np.testing.assert_allclose(model.fc1.grads["weight"], g0 + 0.3 * np.sign(model.fc1.params["weight"]))
    assert L1Penalty(0.3).value(model) == pytest.approx(0.3 * np.abs(model.fc1.params["weight"]).sum())


# ---------------------------------------------------------------- soft threshold
def test_soft_threshold_hand_cases():
    v = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])
    assert soft_threshold(v, 1.0).tolist() == [-2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0]  # |v| == t -> 0
    assert soft_threshold(v, 0.0).tolist() == v.tolist()
    assert soft_threshold(np.float32([2.5]), 1.0).dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_soft_threshold_zeros_are_never_negative_zero(dtype):
    # sign(w) * max(|w| - t, 0) is -0.0 for a negative w with |w| <= t; the library returns +0.0
    w = np.array([-0.5, -1.0, -0.0, 0.3, -3.0], dtype=dtype)
    x = soft_threshold(w, 1.0)
    assert x.dtype == dtype
    np.testing.assert_array_equal(x, [0, 0, 0, 0, -2])
    assert not np.signbit(x[:4]).any()


@given(arrays(small_shapes()), st.floats(0.0, 100.0))
def test_soft_threshold_is_the_closed_form_minimiser(v, t):
    """x* = argmin 1/2 (x - v)^2 + t|x| : compare with the objective at x* +- eps and at 0."""
    x = soft_threshold(v, t)

    def f(z):
        return 0.5 * (z - v) ** 2 + t * np.abs(z)

    for eps in (1e-3, 1e-1, 1.0):
        assert np.all(f(x) <= f(x + eps) + 1e-9)
        assert np.all(f(x) <= f(x - eps) + 1e-9)
    assert np.all(f(x) <= f(np.zeros_like(v)) + 1e-9)
    # and the closed form itself
    np.testing.assert_array_equal(x, np.sign(v) * np.maximum(np.abs(v) - t, 0))


@given(distinct_abs_arrays(), st.floats(0.0, 12.0))
def test_soft_threshold_zeros_exactly_the_small_ones(w, t):
    x = soft_threshold(w, t)
    assert np.array_equal(x == 0, np.abs(w) <= t)
    assert np.all(np.sign(x[x != 0]) == np.sign(w[x != 0]))


def test_proximal_l1_makes_exact_zeros_the_subgradient_does_not(rng):
    X = rng.standard_normal((200, 10)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)  # only feature 0 matters
    zeros = {}
    for hook in (L1Penalty(0.05), ProximalL1(0.05, lr=0.1)):
        model = MLP([10, 2], rng=0)
        fit(model, X, y, epochs=20, batch_size=20, optimizer=SGD(model, 0.1), hooks=[hook], rng=0,
            verbose=False)
        zeros[type(hook).__name__] = np.count_nonzero(model.fc1.params["weight"] == 0)
    assert zeros["L1Penalty"] == 0
    assert zeros["ProximalL1"] >= 10  # most of the 18 weights on the 9 useless features


def test_proximal_l1_steps_by_lr_times_lam():
    # ISTA: w <- soft_threshold(w, lr * lam), here a threshold of 0.1 * 0.5 = 0.05
    model = MLP([3, 1], rng=0)
    model.fc1.params["weight"][...] = [[0.04, -0.3, 0.6]]
    model.fc1.params["bias"][...] = [0.02]
    ProximalL1(0.5, lr=0.1).after_step(model)
    np.testing.assert_allclose(model.fc1.params["weight"], [[0.0, -0.25, 0.55]], rtol=1e-6)
    np.testing.assert_array_equal(model.fc1.params["bias"], np.float32(0.02))  # weights only, by default


def test_bad_input():
    with pytest.raises(ValueError, match="lam must be in"):
        l1_penalty(MLP([2, 2]), -1.0)
    with pytest.raises(ValueError, match="t must be in"):
        soft_threshold(np.ones(2), -0.1)
    with pytest.raises(ValueError, match="w contains"):
        soft_threshold(np.array([np.inf]), 0.1)
    with pytest.raises(ValueError, match="lr must be in"):
        ProximalL1(0.1, lr=0.0)
