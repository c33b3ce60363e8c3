"""minicompress.nn.optim: SGD (momentum, weight decay) and Adam against closed forms."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress.nn import SGD, Adam, Linear


def one_layer(w, b):
    """A float64 Linear whose parameters are set to w, b (gradients set by the tests)."""
    layer = Linear(w.shape[1], w.shape[0], rng=0).to(np.float64)
    layer.params["weight"][...] = w
    layer.params["bias"][...] = b
    return layer


def set_grads(layer, gw, gb):
    layer.grads["weight"][...] = gw
    layer.grads["bias"][...] = gb


def test_sgd_hand_case():
    layer = one_layer(np.array([[1.0, -2.0]]), np.array([0.5]))
    set_grads(layer, np.array([[0.5, 1.0]]), np.array([-1.0]))
    SGD(layer, lr=0.1).step()
    np.testing.assert_allclose(layer.params["weight"], [[0.95, -2.1]], rtol=1e-15)
    np.testing.assert_allclose(layer.params["bias"], [0.6], rtol=1e-15)


def test_sgd_momentum_and_weight_decay_hand_case():
    # torch's rule: g <- g + wd*w ; v <- m*v + g (v = g at step 1) ; w <- w - lr*v
    w0 = np.array([[2.0]])
    layer = one_layer(w0, np.zeros(1))
    opt = SGD(layer, lr=0.1, momentum=0.5, weight_decay=0.25)
    set_grads(layer, np.array([[1.0]]), np.zeros(1))
    opt.step()
    # g1 = 1 + 0.25*2 = 1.5, v1 = 1.5, w1 = 2 - 0.15 = 1.85
    assert layer.params["weight"][0, 0] == pytest.approx(1.85, rel=1e-15)
    set_grads(layer, np.array([[-1.0]]), np.zeros(1))
    opt.step()
    # g2 = -1 + 0.25*1.85 = -0.5375, v2 = 0.5*1.5 - 0.5375 = 0.2125, w2 = 1.85 - 0.02125
    assert layer.params["weight"][0, 0] == pytest.approx(1.82875, rel=1e-14)


@given(st.floats(1e-3, 1.0), st.floats(0.0, 0.99), st.integers(1, 6),
       st.floats(-10, 10), st.floats(-10, 10))
def test_sgd_momentum_constant_gradient_closed_form(lr, m, t, g, w0):
    # with a constant gradient g: v_s = g (1 - m^s) / (1 - m), so
    # w_t = w0 - lr g sum_{s=1..t} (1 - m^s) / (1 - m)
    layer = one_layer(np.array([[w0]]), np.zeros(1))
    opt = SGD(layer, lr=lr, momentum=m)
    for _ in range(t):
        set_grads(layer, np.array([[g]]), np.zeros(1))
        opt.step()
    expected = w0 - lr * g * sum((1 - m**s) / (1 - m) for s in range(1, t + 1))
    assert layer.params["weight"][0, 0] == pytest.approx(expected, rel=1e-10, abs=1e-10)


def test_adam_hand_case_two_steps():
    # step 1: m = 0.1 g, v = 0.001 g^2, m_hat = g, v_hat = g^2 -> w -= lr * g / (|g| + eps)
    layer = one_layer(np.array([[1.0]]), np.zeros(1))
    opt = Adam(layer, lr=0.1, eps=1e-8)
    set_grads(layer, np.array([[2.0]]), np.zeros(1))
    opt.step()
    assert layer.params["weight"][0, 0] == pytest.approx(1.0 - 0.1 * 2.0 / (2.0 + 1e-8), rel=1e-15)
    # step 2 with g = -1: m = 0.9*0.2 - 0.1 = 0.08, v = 0.999*0.004 + 0.001 = 0.004996
    set_grads(layer, np.array([[-1.0]]), np.zeros(1))
    opt.step()
    m_hat, v_hat = 0.08 / (1 - 0.9**2), 0.004996 / (1 - 0.999**2)
    w1 = 1.0 - 0.1 * 2.0 / (2.0 + 1e-8)
    w2 = w1 - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8)
    assert layer.params["weight"][0, 0] == pytest.approx(w2, rel=1e-13)
    assert layer.params["bias"][0] == 0.0  # a zero gradient moves nothing


@given(st.floats(1e-4, 1.0), st.integers(1, 8), st.floats(0.01, 10), st.booleans())
def test_adam_constant_gradient_closed_form(lr, t, mag, negative):
    # with a constant gradient g, the bias-corrected m_hat = g and v_hat = g^2 exactly, so
    # every step is lr * g / (|g| + eps): w_t = w0 - t * lr * g / (|g| + eps)
    g = -mag if negative else mag
    layer = one_layer(np.array([[0.0]]), np.zeros(1))
    opt = Adam(layer, lr=lr)
    for _ in range(t):
        set_grads(layer, np.array([[g]]), np.zeros(1))
        opt.step()
    assert layer.params["weight"][0, 0] == pytest.approx(-t * lr * g / (abs(g) + 1e-8), rel=1e-9)


def test_adam_weight_decay_adds_wd_times_w_to_the_gradient():
    a = one_layer(np.array([[3.0]]), np.zeros(1))
    b = one_layer(np.array([[3.0]]), np.zeros(1))
    set_grads(a, np.array([[1.0]]), np.zeros(1))
    set_grads(b, np.array([[1.0 + 0.1 * 3.0]]), np.zeros(1))
    Adam(a, lr=0.01, weight_decay=0.1).step()
    Adam(b, lr=0.01).step()
    assert a.params["weight"][0, 0] == b.params["weight"][0, 0]


def test_optimizers_keep_float32_and_update_in_place():
    layer = Linear(3, 2, rng=0)
    w = layer.params["weight"]
    layer.grads["weight"][...] = 1.0
    SGD(layer, lr=0.1, momentum=0.9).step()
    assert layer.params["weight"] is w and w.dtype == np.float32
    Adam(layer, lr=0.1).step()
    assert layer.params["weight"] is w and w.dtype == np.float32


@pytest.mark.parametrize("make, match", [
    (lambda m: SGD(m, lr=0.0), "lr must be in"),
    (lambda m: SGD(m, lr=-1), "lr must be in"),
    (lambda m: SGD(m, lr=0.1, momentum=1.0), "momentum must be in"),
    (lambda m: SGD(m, lr=0.1, weight_decay=-0.1), "weight_decay must be in"),
    (lambda m: Adam(m, betas=(0.9, 1.0)), r"betas\[1\] must be in"),
    (lambda m: Adam(m, eps=0.0), "eps must be in"),
])
def test_optimizer_arguments_are_validated(make, match):
    with pytest.raises(ValueError, match=match):
        make(Linear(2, 2))


def test_optimizer_lr_type_is_checked():
    with pytest.raises(TypeError, match="lr must be a real number"):
        SGD(Linear(2, 2), lr="0.1")


@pytest.mark.parametrize("make, match", [
    (lambda m: SGD(m, lr=1e-50), r"lr=1e-50 becomes 0.0 in float32, the dtype of parameter 'weight'"),
    (lambda m: SGD(m, lr=1e39), r"lr=1e\+39 becomes inf in float32"),
    (lambda m: SGD(m, lr=0.1, weight_decay=1e-50), "weight_decay=1e-50 becomes 0.0 in float32"),
    (lambda m: Adam(m, eps=1e-50), "eps=1e-50 becomes 0.0 in float32"),
])
def test_optimizer_constants_must_survive_the_parameter_dtype(make, match):
    """The update lr * g is computed in the parameter's dtype: an lr that is 0 there would
    silently train nothing."""
    with pytest.raises(ValueError, match=match):
        make(Linear(2, 2))
    make(Linear(2, 2, dtype=np.float64))  # representable in float64: fine


def test_optimizer_needs_a_module_and_a_pair_of_betas():
    with pytest.raises(TypeError, match="model must be a minicompress Module"):
        SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(TypeError, match=r"betas must be a pair \(beta1, beta2\)"):
        Adam(Linear(2, 2), betas=0.9)
    layer = Linear(2, 2)
    assert [id(p) for p in SGD(layer, 0.1).parameters()] == [id(p) for p in layer.parameters()]
