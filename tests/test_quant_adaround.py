"""AdaRound (Nagel et al. 2020): the rectified sigmoid, the regulariser, the gradient of the
objective against finite differences, the kinks, and the model transform."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress.formats import CompressedLinear
from minicompress.formats.symmetric import symmetric_quantize
from minicompress.nn import Linear, ReLU, Sequential
from minicompress.nn.gradcheck import gradcheck_function, numerical_gradient, relative_error
from minicompress.quantize import adaround
from minicompress.quantize.adaround import (
    adaround_init,
    adaround_loss_backward,
    adaround_loss_forward,
    adaround_quantize,
    beta_schedule,
    rectified_sigmoid,
    rectified_sigmoid_backward,
    rounding_regularizer,
)

KINK = np.log(11.0)  # h(+-log 11) = 1 and 0 exactly: sigmoid = 11/12, 1/12


def test_rectified_sigmoid_hand_values_and_kinks():
    np.testing.assert_allclose(rectified_sigmoid(np.array([0.0, KINK, -KINK, 5.0, -5.0])),
                               [0.5, 1.0, 0.0, 1.0, 0.0], atol=1e-12)
    # inside: (zeta - gamma) sigmoid (1 - sigmoid) = 1.2 / 4 at V = 0; at and beyond the kinks: 0
    d = rectified_sigmoid_backward(np.ones(5), np.array([0.0, KINK, -KINK, 5.0, KINK - 1e-6]))
    np.testing.assert_allclose(d[:4], [0.3, 0.0, 0.0, 0.0])
    assert d[4] > 0
    # init: h(V) = rest
    rest = np.array([0.0, 0.25, 0.5, 1.0])
    np.testing.assert_allclose(rectified_sigmoid(adaround_init(rest)), rest, atol=1e-12)


def test_regularizer_hand_values():
    value, d = rounding_regularizer(np.array([0.0, 0.5, 1.0, 0.75]), 2.0)
    assert value == pytest.approx(0 + 1 + 0 + 0.75)  # 1 - |2h - 1|^2
    np.testing.assert_allclose(d, [4.0, 0.0, -4.0, -2.0])  # -2 beta |u|^(beta-1) sign(u)


@given(st.integers(0, 2**32 - 1), st.sampled_from([2.0, 7.5, 20.0]), st.sampled_from([0.0, 0.01, 1.0]))
def test_objective_gradient_matches_finite_differences(seed, beta, lam):
    rng = np.random.default_rng(seed)
    m, k = 3, 4
    x = rng.standard_normal((20, k))
    V = rng.uniform(-2.0, 2.0, (m, k))  # off the kinks at +-log(11) = +-2.398
    inputs = {"V": V, "w": rng.standard_normal((m, k)), "floor": rng.integers(-3, 3, (m, k)).astype(float),
              "step": rng.uniform(0.1, 1.0, (m, 1)), "Hx": x.T @ x / 20, "beta": beta, "lam": lam}
    errors = gradcheck_function(adaround_loss_forward, adaround_loss_backward, inputs, rng=seed)
    assert errors["V"] < 1e-6, errors


def test_rectified_sigmoid_gradient_matches_finite_differences_and_kink_convention():
    V = np.array([-2.0, -0.3, 0.0, 1.1, 2.3])
    num = numerical_gradient(lambda: float(np.sum(rectified_sigmoid(V) * np.arange(1, 6))), V)
    assert relative_error(rectified_sigmoid_backward(np.arange(1.0, 6.0), V), num) < 1e-7
    assert rectified_sigmoid_backward(np.ones(1), np.array([-KINK]))[0] == 0.0  # closed clip


def test_beta_schedule():
    assert beta_schedule(0, 100) == (20.0, False) and beta_schedule(19, 100)[1] is False
    assert beta_schedule(20, 100) == (20.0, True) and beta_schedule(100, 100)[0] == 2.0
    assert beta_schedule(60, 100)[0] == pytest.approx(20 - 18 * 0.5)


def test_zero_iterations_round_to_nearest_and_training_lowers_the_layer_error():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((6, 10))
    x = rng.standard_normal((200, 10)) @ (np.eye(10) + 0.7 * rng.standard_normal((10, 10)))
    Hx = x.T @ x / 200
    codes, scale = adaround_quantize(w, Hx, 3, iters=0)
    q, s = symmetric_quantize(w, 3, per_channel=True)
    np.testing.assert_array_equal(codes, q)  # (no exact halves in these draws)
    np.testing.assert_array_equal(scale, s)

    def err(c):
        e = w - c * (scale[:, None] / 3)
        return np.sum((e @ Hx) * e)

    learned, _ = adaround_quantize(w, Hx, 3, iters=200, lam=0.1)
    assert np.all(np.abs(learned - np.floor(w / (scale[:, None] / 3))) <= 1)  # floor or floor + 1
    assert err(learned) < 0.8 * err(codes)


def test_adaround_model_and_errors():
    rng = np.random.default_rng(1)
    model = Sequential(fc1=Linear(8, 6, rng=1), relu=ReLU(), fc2=Linear(6, 3, rng=2))
    X = rng.standard_normal((50, 8)).astype(np.float32)
    q = adaround(model, X, 4, iters=20)
    assert isinstance(q.fc1, CompressedLinear) and q.fc2.encodings()["weight"].field("bits") == 4
    assert isinstance(model.fc1, Linear)
    with pytest.raises(ValueError, match="bits must be in 2..8; got 9"):
        adaround(model, X, 9)
    with pytest.raises(ValueError, match="iters must be >= 0; got -1"):
        adaround(model, X, 4, iters=-1)
    with pytest.raises(ValueError, match=r"X of shape \(50, 7\) does not fit"):
        adaround(model, X[:, :7].copy(), 4, iters=1)
