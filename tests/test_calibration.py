"""nn.calibration: the inputs a layer sees, and the Hessian 2 X^T X / N of its reconstruction error."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress.nn import ConvNet, LeNet300_100, Linear, Sequential
from minicompress.nn.calibration import input_rows, layer_hessian, layer_inputs
from minicompress.nn.gradcheck import numerical_gradient


def test_layer_inputs_are_what_the_forward_pass_feeds_each_layer():
    model = LeNet300_100(rng=0)
    x = np.random.default_rng(0).standard_normal((7, 1, 28, 28)).astype(np.float32)
    got = layer_inputs(model, x, ["fc1", "fc2", "fc3"], batch_size=7)
    batched = layer_inputs(model, x, ["fc3"], batch_size=3)  # the same, up to BLAS round-off
    np.testing.assert_allclose(batched["fc3"], got["fc3"], rtol=1e-5, atol=1e-6)
    h1 = x.reshape(7, -1)
    h2 = np.maximum(model.fc1(h1), 0)
    h3 = np.maximum(model.fc2(h2), 0)
    for name, expected in (("fc1", h1), ("fc2", h2), ("fc3", h3)):
        np.testing.assert_array_equal(got[name], expected)
    conv = layer_inputs(ConvNet(rng=0), x, ["conv1", "fc"])
    assert conv["conv1"].shape == (7, 1, 28, 28) and conv["fc"].shape == (7, 2704)


def test_layer_hessian_hand_case():
    layer = Linear(2, 1)
    x = np.array([[1.0, 0.0], [1.0, 2.0]])  # X^T X = [[2, 2], [2, 4]]
    np.testing.assert_array_equal(layer_hessian(layer, x, damp=0.0), [[2.0, 2.0], [2.0, 4.0]])  # 2 X^T X / 2
    np.testing.assert_array_equal(layer_hessian(layer, x, damp=0.1), [[2.3, 2.0], [2.0, 4.3]])  # + 0.1 * 3
    np.testing.assert_allclose(layer_hessian(layer, x), [[2.03, 2.0], [2.0, 4.03]])  # the papers' 1%
    with pytest.raises(ValueError, match="every calibration input .* is 0"):
        layer_hessian(layer, np.zeros((3, 2)), damp=0.5)


@given(st.integers(0, 2**32 - 1))
def test_hessian_is_the_second_derivative_of_the_reconstruction_error(seed):
    rng = np.random.default_rng(seed)
    layer = Linear(4, 3, dtype=np.float64)
    x = rng.standard_normal((6, 4))
    w = layer.params["weight"][1].copy()
    w_hat = w + rng.standard_normal(4)

    def error():  # ||X (w - w_hat)||^2 / N for one output row
        return float(np.sum((x @ (w - w_hat)) ** 2) / len(x))

    H = layer_hessian(layer, x, damp=0.0)
    grad = numerical_gradient(error, w_hat)
    np.testing.assert_allclose(grad, H @ (w_hat - w), rtol=1e-6, atol=1e-8)  # quadratic: exact


def test_conv_rows_are_the_im2col_patches_in_weight_order():
    model = ConvNet(rng=0)
    x = np.random.default_rng(1).standard_normal((2, 1, 28, 28)).astype(np.float32)
    rows = input_rows(model.conv1, x)
    assert rows.shape == (2 * 26 * 26, 9)
    out = rows @ model.conv1.params["weight"].reshape(16, -1).T + model.conv1.params["bias"]
    np.testing.assert_allclose(out.reshape(2, 26, 26, 16).transpose(0, 3, 1, 2), model.conv1(x), atol=1e-5)


def test_bad_calibration_input_is_named():
    model = LeNet300_100()
    with pytest.raises(ValueError, match=r"\['fc9'\] unknown"):
        layer_inputs(model, np.ones((2, 784), np.float32), ["fc9"])
    with pytest.raises(ValueError, match="does not fit the model"):
        layer_inputs(model, np.ones((2, 1, 5, 5), np.float32), ["fc1"])
    with pytest.raises(ValueError, match="non-finite"):
        layer_inputs(model, np.full((2, 784), np.nan, np.float32), ["fc1"])
    assert set(layer_inputs(model, np.ones((2, 784), np.float32), "fc1")) == {"fc1"}  # one name
    with pytest.raises(ValueError, match=r"must be \(N, 784\)"):
        layer_hessian(model.fc1, np.ones((2, 5)))
    with pytest.raises(ValueError, match="damp must be in"):
        layer_hessian(model.fc1, np.ones((2, 784)), damp=-1.0)
    with pytest.raises(TypeError, match="Linear or Conv2d"):
        input_rows(Sequential(), np.ones((2, 3)))
