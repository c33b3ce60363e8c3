"""Taylor and OBD saliency, and the exact Hessian diagonal (section 3.1 "based on the Hessian")."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress.nn import (
    MLP,
    Conv2d,
    Flatten,
    Linear,
    MaxPool2d,
    Module,
    ReLU,
    Sequential,
    cross_entropy,
    numerical_gradient,
    relative_error,
)
from minicompress.nn.gradcheck import GRAD_TOL
from minicompress.prune import hessian_diagonal, loss_gradients, obd_saliency, taylor_saliency


def test_taylor_hand_case():
    w = np.array([2.0, -1.0, 0.0, 3.0])
    g = np.array([0.5, 4.0, 7.0, -0.1])
    np.testing.assert_allclose(taylor_saliency(w, g), [1.0, 4.0, 0.0, 0.3])


def test_obd_hand_case():
    # s = h w^2 / 2
    np.testing.assert_allclose(obd_saliency(np.array([2.0, -1.0, 3.0]), np.array([0.5, 4.0, 0.0])),
                               [1.0, 2.0, 0.0])


@st.composite
def quadratic(draw, max_d=8):
    d = draw(st.integers(1, max_d))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    A = rng.standard_normal((d, d))
    return A @ A.T + 0.1 * np.eye(d), rng.standard_normal(d)


@given(quadratic(), st.data())
def test_obd_equals_the_loss_change_of_a_quadratic(q, data):
    """L(w) = 1/2 (w - w*)^T H (w - w*) at its minimum w*: zeroing w_k alone raises L by exactly
    H_kk w_k^2 / 2, whatever the off-diagonal terms."""
    H, w_star = q
    k = data.draw(st.integers(0, len(w_star) - 1))
    dw = np.zeros_like(w_star)
    dw[k] = -w_star[k]
    real = 0.5 * dw @ H @ dw
    assert obd_saliency(w_star, np.diag(H))[k] == pytest.approx(real, rel=1e-12, abs=1e-15)


@given(st.integers(2, 6).flatmap(lambda d: st.tuples(st.integers(0, 2**32 - 1), st.just(d))))
def test_obd_is_additive_for_a_diagonal_hessian(args):
    seed, d = args
    rng = np.random.default_rng(seed)
    h = rng.uniform(0.1, 2.0, d)
    w = rng.standard_normal(d)
    # diagonal H: removing every weight costs the sum of the saliencies
    assert obd_saliency(w, h).sum() == pytest.approx(0.5 * w @ np.diag(h) @ w)


def test_obd_is_not_additive_with_off_diagonal_terms():
    H = np.array([[1.0, 0.9], [0.9, 1.0]])
    w = np.array([1.0, 1.0])
    assert obd_saliency(w, np.diag(H)).sum() == 1.0  # OBD's estimate of removing both
    assert 0.5 * w @ H @ w == pytest.approx(1.9)  # the real increase: the 0.9 terms count too


def _loss(model, X, y):
    return cross_entropy(model.forward(X), y)[0]


def test_loss_gradients_match_finite_differences(rng):
    model = MLP([6, 5, 3], rng=3).to(np.float64)
    X, y = rng.standard_normal((30, 6)), rng.integers(0, 3, 30)
    grads = loss_gradients(model, X, y, batch_size=7)  # uneven batches: the mean must still be over 30
    for name, p in model.named_parameters():
        assert relative_error(grads[name], numerical_gradient(lambda: _loss(model, X, y), p)) < GRAD_TOL


def test_taylor_predicts_the_first_order_loss_change(rng):
    """dL of removing a weight = -g w + O(w^2): with a tiny weight, |dL| ~ taylor saliency."""
    model = MLP([6, 5, 3], rng=3).to(np.float64)
    X, y = rng.standard_normal((30, 6)), rng.integers(0, 3, 30)
    w = model.fc1.params["weight"]
    w[2, 3] = 1e-4
    g = loss_gradients(model, X, y)["fc1.weight"]
    before = _loss(model, X, y)
    w[2, 3] = 0.0
    change = _loss(model, X, y) - before
    assert abs(change) == pytest.approx(taylor_saliency(np.float64(1e-4), g[2, 3]), rel=1e-3)


def test_obd_from_the_exact_diagonal_predicts_the_network_loss_change(rng):
    """On the network itself: removing a weight of value d changes the loss by
    -g d + h d^2 / 2 + O(d^3); the second-order part is the OBD saliency of hessian_diagonal."""
    model = MLP([6, 5, 4, 3], rng=1).to(np.float64)
    X, y = rng.standard_normal((40, 6)), rng.integers(0, 3, 40)
    w = model.fc2.params["weight"]
    d = 1e-3
    for k in [(1, 3), (2, 0), (3, 4)]:
        w[k] = d
        g = loss_gradients(model, X, y)["fc2.weight"][k]
        h = hessian_diagonal(model, X, y, "fc2")[k]
        assert h > 1e-4  # a live unit: the check below is not 0 == 0
        before = _loss(model, X, y)
        w[k] = 0.0
        second_order = _loss(model, X, y) - before + g * d
        assert second_order == pytest.approx(obd_saliency(np.float64(d), h), rel=1e-2)


def _convnet(seed=2):
    return Sequential(conv1=Conv2d(1, 3, 3, rng=seed), relu=ReLU(), pool=MaxPool2d(2), flatten=Flatten(),
                      fc=Linear(3 * 3 * 3, 4, rng=seed + 1)).to(np.float64)


@pytest.mark.parametrize("layer", ["fc1", "fc2", "fc3"])
@pytest.mark.parametrize("param", ["weight", "bias"])
def test_gauss_newton_diagonal_is_exact_for_mlp(layer, param, rng):
    """Against central differences of the written-out gradient (float64), for every layer."""
    model = MLP([6, 5, 4, 3], rng=1).to(np.float64)
    X, y = rng.standard_normal((20, 6)), rng.integers(0, 3, 20)
    gn = hessian_diagonal(model, X, y, layer, param=param, batch_size=6)
    fd = hessian_diagonal(model, X, y, layer, param=param, method="finite-difference")
    assert relative_error(gn, fd) < GRAD_TOL
    assert np.all(gn >= 0)  # J^T (diag p - p p^T) J is positive semi-definite


@pytest.mark.parametrize("layer", ["conv1", "fc"])
def test_gauss_newton_diagonal_is_exact_through_conv_and_pool(layer, rng):
    model = _convnet()
    X, y = rng.standard_normal((8, 1, 8, 8)), rng.integers(0, 4, 8)
    for param in ("weight", "bias"):
        gn = hessian_diagonal(model, X, y, layer, param=param, batch_size=3)
        fd = hessian_diagonal(model, X, y, layer, param=param, method="finite-difference")
        assert relative_error(gn, fd) < GRAD_TOL


def test_hessian_diagonal_leaves_gradients_alone(rng):
    model = MLP([4, 3, 2], rng=0).to(np.float64)
    for _, g in model.named_gradients():
        g[...] = 7.0
    hessian_diagonal(model, rng.standard_normal((5, 4)), np.zeros(5, int), "fc1")
    assert all(np.all(g == 7.0) for _, g in model.named_gradients())


class _Square(Module):
    """Not piecewise linear: the Gauss-Newton diagonal would not be the exact Hessian."""

    def forward(self, x):
        self._x = x
        return x * x

    def backward(self, dout):
        return 2 * self._x * dout


def test_hessian_diagonal_bad_input(rng):
    model = MLP([4, 3, 2], rng=0)
    X, y = rng.standard_normal((5, 4)).astype(np.float32), np.zeros(5, int)
    with pytest.raises(ValueError, match="layer name 'fc9' does not exist"):
        hessian_diagonal(model, X, y, "fc9")
    with pytest.raises(ValueError, match="must be a Linear or Conv2d; got ReLU"):
        hessian_diagonal(model, X, y, "relu1")
    curved = Sequential(fc1=Linear(4, 3), sq=_Square(), fc2=Linear(3, 2))
    with pytest.raises(ValueError, match=r"piecewise linear.*\['_Square'\]"):
        hessian_diagonal(curved, X, y, "fc1")
    with pytest.raises(ValueError, match="method must be"):
        hessian_diagonal(model, X, y, "fc1", method="exact")
    with pytest.raises(TypeError, match="needs a float64 model"):
        hessian_diagonal(model, X, y, "fc1", method="finite-difference")
    with pytest.raises(ValueError, match="same length"):
        hessian_diagonal(model, X, y[:3], "fc1")
    with pytest.raises(ValueError, match="w and g must have the same shape"):
        taylor_saliency(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="w and h_diag must have the same shape"):
        obd_saliency(np.ones(3), np.ones((3, 1)))
