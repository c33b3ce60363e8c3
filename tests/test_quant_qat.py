"""Fake quantization, the straight-through estimator, QAT layers (BinaryConnect)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress.formats import CompressedConv2d, CompressedLinear
from minicompress.metrics import layer_macs
from minicompress.nn import Conv2d, ConvNet, Linear, Sequential
from minicompress.nn import functional as F
from minicompress.nn.gradcheck import GRAD_TOL, numerical_gradient, relative_error
from minicompress.quantize import (
    ShadowClip,
    convert_qat,
    fake_quantize_backward,
    fake_quantize_forward,
    prepare_qat,
    quantize_weights,
)
from minicompress.quantize.layers import quantized_values
from minicompress.quantize.qat import QATConv2d, QATLinear
from tests.strategies import seeded_normal


# ----------------------------------------------------------------------------- fake_quantize_forward
def test_fake_quantize_hand_case_and_ste_window():
    # S = 0.5, Z = 0, codes [-4, 3]: the clipping window is [S*(-4), S*3] = [-2, 1.5]
    x = np.array([-2.5, -2.0, -1.99, 0.2, 1.5, 1.5000001, 1.74, 1.76])
    out, cache = fake_quantize_forward(x, 0.5, 0, -4, 3)
    np.testing.assert_allclose(out, [-2.0, -2.0, -2.0, 0.0, 1.5, 1.5, 1.5, 1.5])
    dx = fake_quantize_backward(np.ones_like(x), cache)
    # closed window: both ends pass; just beyond 1.5 does not, although 1.5000001 and 1.74
    # round to the top code without clipping (PyTorch's rounded-code mask would pass those)
    np.testing.assert_array_equal(dx, [0, 1, 1, 1, 1, 0, 0, 0])


def test_fake_quantize_with_zero_point():
    # S = 0.1, Z = 10, codes [0, 255]: window [-1.0, 24.5]
    x = np.array([-1.04, -1.0, 0.0, 0.04, 24.5, 24.6])
    out, cache = fake_quantize_forward(x, 0.1, 10, 0, 255)
    np.testing.assert_allclose(out, [-1.0, -1.0, 0.0, 0.0, 24.5, 24.5], atol=1e-12)
    np.testing.assert_array_equal(cache, [False, True, True, True, True, False])


@pytest.mark.parametrize("scheme", ["binary", "ternary", "int8"])
def test_qat_window_passes_the_gradient_at_its_closed_ends(scheme):
    # |w| = 1 (binary, ternary) or |w| = scale = max|w| of its channel (int8) is inside the
    # window: a weight that ShadowClip has just clipped to +-1 must still be able to move
    base = Linear(3, 2, rng=0, dtype=np.float64)
    base.params["weight"][...] = [[1.0, -1.0, 0.5], [-1.0, 0.25, 1.5]]
    layer = QATLinear(base, scheme)
    layer.forward(np.ones((1, 3)))
    layer.backward(np.ones((1, 2)))
    passed = layer.grads["weight"] != 0
    if scheme == "int8":
        np.testing.assert_array_equal(passed, True)  # every |w| <= its channel's max|w|
    else:
        np.testing.assert_array_equal(passed, [[True, True, True], [True, True, False]])


@given(seeded_normal((60,)), st.floats(0.05, 1.0), st.integers(-3, 3))
def test_ste_is_the_exact_indicator_of_the_clipping_window(x, scale, z):
    x = 3 * x
    dout = np.linspace(-1, 1, x.size)
    out, cache = fake_quantize_forward(x, scale, z, -8, 7)
    dx = fake_quantize_backward(dout, cache)
    lo, hi = scale * (-8 - z), scale * (7 - z)
    np.testing.assert_array_equal(dx, dout * ((x >= lo) & (x <= hi)))
    # the forward output lies on the grid S (k - Z), k in [-8, 7]
    k = out / scale + z
    np.testing.assert_allclose(k, np.rint(k), atol=1e-9)
    assert k.min() >= -8 - 1e-9 and k.max() <= 7 + 1e-9


@given(seeded_normal((40,)), st.floats(0.05, 1.0), st.integers(-3, 3))
def test_ste_equals_finite_differences_of_the_clip_surrogate_away_from_its_kinks(x, scale, z):
    """The STE gradient is the derivative of clip(x, S (qmin - Z), S (qmax - Z))."""
    x = 3 * x
    lo, hi = scale * (-8 - z), scale * (7 - z)
    h = 1e-6
    x = x[(np.abs(x - lo) > 10 * h) & (np.abs(x - hi) > 10 * h)].astype(np.float64)
    if x.size == 0:
        return
    dout = np.cos(np.arange(x.size))
    _, cache = fake_quantize_forward(x, scale, z, -8, 7)
    analytic = fake_quantize_backward(dout, cache)
    numeric = numerical_gradient(lambda: float(np.sum(dout * np.clip(x, lo, hi))), x, h)
    assert relative_error(analytic, numeric) < GRAD_TOL


def test_ste_is_not_the_true_derivative():
    """Away from rounding ties the real fake-quant function is flat: its derivative is 0."""
    x = np.array([0.1, 0.3, 0.62])
    numeric = numerical_gradient(lambda: float(np.sum(fake_quantize_forward(x, 0.25, 0, -4, 3)[0])), x)
    np.testing.assert_array_equal(numeric, 0.0)
    _, window = fake_quantize_forward(x, 0.25, 0, -4, 3)
    np.testing.assert_array_equal(fake_quantize_backward(np.ones(3), window), 1)


def test_fake_quantize_bad_input():
    with pytest.raises(ValueError, match="non-finite"):
        fake_quantize_forward(np.array([np.nan]), 1.0)
    with pytest.raises(ValueError, match="scale must be in"):
        fake_quantize_forward(np.ones(2), 0.0)
    with pytest.raises(ValueError, match="zero_point must lie"):
        fake_quantize_forward(np.ones(2), 1.0, 200)


# ----------------------------------------------------------------------------- QAT layers
def _wrapped_grads(layer, x, dout):
    layer.zero_grad()
    layer.forward(x)
    dx = layer.backward(dout)
    return dx, {k: v.copy() for k, v in layer.grads.items()}


@pytest.mark.parametrize("scheme", ["binary", "ternary", "int8"])
def test_qat_linear_gradients_against_finite_differences(scheme):
    rng = np.random.default_rng(1)
    base = Linear(6, 4, rng=1, dtype=np.float64)
    base.params["weight"][0, :2] = [1.5, -2.0]  # outside the binary/ternary STE window |w| <= 1
    layer = QATLinear(base, scheme)
    x = rng.standard_normal((5, 6))
    dout = rng.standard_normal((5, 4))
    dx, grads = _wrapped_grads(layer, x, dout)
    w_hat = quantized_values(layer.params["weight"], layer.scheme)
    b = layer.params["bias"]

    def f():
        return float(np.sum(dout * F.linear_forward(x, w_hat, b)[0]))

    # dx and db are exact derivatives (the layer is linear in x and b)
    numeric_dx = numerical_gradient(lambda: float(np.sum(dout * layer.forward(x))), x)
    assert relative_error(dx, numeric_dx) < GRAD_TOL
    assert relative_error(grads["bias"], numerical_gradient(f, b)) < GRAD_TOL
    # dW: the STE passes dL/dW_hat (checked by finite differences in W_hat) through the window
    window = np.abs(layer.params["weight"]) <= (1.0 if scheme != "int8" else np.inf)
    expected = numerical_gradient(f, w_hat) * window
    assert relative_error(grads["weight"], expected) < GRAD_TOL
    if scheme != "int8":
        np.testing.assert_array_equal(grads["weight"][0, :2], 0.0)


def test_qat_conv_gradients_against_finite_differences():
    rng = np.random.default_rng(2)
    layer = QATConv2d(Conv2d(2, 3, 3, padding=1, rng=2, dtype=np.float64), "ternary")
    x = rng.standard_normal((2, 2, 5, 5))
    dout = rng.standard_normal((2, 3, 5, 5))
    dx, grads = _wrapped_grads(layer, x, dout)
    w_hat = quantized_values(layer.params["weight"], layer.scheme)

    def f():
        return float(np.sum(dout * F.conv2d_forward(x, w_hat, layer.params["bias"], 1, 1)[0]))

    numeric_dx = numerical_gradient(lambda: float(np.sum(dout * layer.forward(x))), x)
    assert relative_error(dx, numeric_dx) < GRAD_TOL
    assert relative_error(grads["weight"], numerical_gradient(f, w_hat)) < GRAD_TOL  # all |w| < 1


def test_qat_gradients_accumulate():
    layer = QATLinear(Linear(3, 2, rng=0, dtype=np.float64), "binary")
    x, dout = np.ones((1, 3)), np.ones((1, 2))
    _, g1 = _wrapped_grads(layer, x, dout)
    layer.forward(x)
    layer.backward(dout)
    np.testing.assert_allclose(layer.grads["weight"], 2 * g1["weight"])


def test_prepare_and_convert_qat():
    model = ConvNet(channels=4, rng=0)
    qat = prepare_qat(model, "binary")
    assert isinstance(qat.conv1, QATConv2d) and isinstance(qat.fc, QATLinear)
    assert isinstance(model.fc, Linear)  # the original is untouched
    np.testing.assert_array_equal(qat.fc.params["weight"], model.fc.params["weight"])  # shadow copy
    frozen = convert_qat(qat)
    assert isinstance(frozen.conv1, CompressedConv2d) and isinstance(frozen.fc, CompressedLinear)
    x = np.random.default_rng(0).standard_normal((3, 1, 28, 28)).astype(np.float32)
    np.testing.assert_allclose(frozen(x), qat(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(frozen(x), quantize_weights(model, "binary")(x), rtol=1e-5, atol=1e-6)
    assert qat.fc.storage_bits() == frozen.fc.storage_bits()
    # packed bits: fc 4*13*13*10 = 6760 signs -> 845 bytes, 10 alphas, 10 biases, 2 headers
    assert frozen.fc.storage_bits() == 64 + 8 * 845 + 32 * 10 + (32 + 32 * 10)
    assert layer_macs(frozen.fc, (1, 676)) == (6760, 6760)
    assert layer_macs(frozen.conv1, (1, 1, 28, 28)) == (36 * 26 * 26, 36 * 26 * 26)


def test_shadow_clip_hook_keeps_weights_in_the_window():
    model = Sequential(fc=Linear(3, 2, rng=0))
    qat = prepare_qat(model, "binary")
    qat.fc.params["weight"][0, 0] = 5.0
    ShadowClip().after_step(qat)
    assert qat.fc.params["weight"][0, 0] == 1.0
