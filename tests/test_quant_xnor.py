"""XNOR layers (Rastegari et al. 2016): the packed-bit inference equals the float
sign * sign * alpha * beta product; the STE gradients; storage."""

import numpy as np
import pytest

from minicompress.formats import encode
from minicompress.nn import Conv2d, Flatten, Linear, Sequential
from minicompress.nn.gradcheck import numerical_gradient, relative_error
from minicompress.quantize import binarize, convert_xnor, prepare_xnor
from minicompress.quantize.xnor import XnorConv2d, XnorInferenceLinear, XnorLinear, activation_scale


def _float_product(x_rows, w):
    """sign(x) sign(W)^T * beta * alpha, in float64 (the definition)."""
    W = w.reshape(len(w), -1).astype(np.float64)
    beta = np.abs(x_rows.astype(np.float64)).mean(axis=1)
    alpha = np.abs(W).mean(axis=1)
    return (binarize(x_rows.astype(np.float64)) @ binarize(W).T) * beta[:, None] * alpha[None, :]


def test_inference_on_packed_bits_equals_the_float_product_linear():
    rng = np.random.default_rng(0)
    layer = Linear(13, 5, rng=0)  # k = 13: two bytes per row, 3 padding bits
    x = rng.standard_normal((7, 13)).astype(np.float32)
    x[0, 3] = 0.0  # sign(0) = +1
    train = XnorLinear(layer)
    infer = train.to_inference()
    assert isinstance(infer, XnorInferenceLinear) and infer.encodings()["weight"].fmt == "binary"
    np.testing.assert_array_equal(infer(x), train(x))  # the same numbers, bit for bit
    want = _float_product(x, layer.params["weight"]) + layer.params["bias"]
    np.testing.assert_allclose(infer(x), want, rtol=1e-5, atol=1e-6)
    # 1 bit per weight (65 -> 9 bytes) + 5 float32 alphas + header; bias 5 floats + header
    assert infer.storage_bits() == 8 * 9 + 32 * 5 + 32 * 2 + 32 * 5 + 32


def test_inference_on_packed_bits_equals_the_float_product_conv():
    rng = np.random.default_rng(1)
    layer = Conv2d(3, 4, 3, stride=2, padding=1, rng=1)
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    train, infer = XnorConv2d(layer), XnorConv2d(layer).to_inference()
    out = infer(x)
    assert out.shape == (2, 4, 4, 3)
    np.testing.assert_array_equal(out, train(x))
    from minicompress.nn import functional as F

    rows = F.im2col(x, 3, 3, 2, 1)  # beta per receptive field (the paper's K)
    want = (_float_product(rows, layer.params["weight"]) + layer.params["bias"]).reshape(2, 4, 3, 4)
    np.testing.assert_allclose(out, want.transpose(0, 3, 1, 2), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["linear", "conv"])
def test_ste_gradients_are_the_derivatives_of_their_surrogates(kind):
    rng = np.random.default_rng(2)
    if kind == "linear":
        layer = XnorLinear(Linear(6, 4, rng=2).to(np.float64))
        x = rng.standard_normal((5, 6))
    else:
        layer = XnorConv2d(Conv2d(2, 3, 2, padding=1, rng=2).to(np.float64))
        x = rng.standard_normal((2, 2, 3, 3))
    layer.params["weight"][0, 0] = 1.7  # outside the window |w| <= 1: no gradient there
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape)
    layer.zero_grad()
    dx = layer.backward(dout)
    rows, beta, sx, sw, alpha = layer._cache
    w = layer.params["weight"]

    def run(rows_fn, w_fn):  # the layer's forward with the sign of x or of w replaced
        r, W = rows_fn(), w_fn()
        y = r @ W.T
        if kind == "linear":
            return float(np.sum(y * dout))
        return float(np.sum(y.reshape(dout.shape[0], *dout.shape[2:], -1).transpose(0, 3, 1, 2) * dout))

    from minicompress.nn import functional as F

    def x_rows():
        if kind == "linear":
            return np.clip(x, -beta[:, None], beta[:, None])
        return np.clip(F.im2col(x, 2, 2, 1, 1), -beta[:, None], beta[:, None])

    # dx: the derivative of clip(x, -beta, beta) @ (alpha sign w)^T, beta and alpha fixed
    num_x = numerical_gradient(lambda: run(x_rows, lambda: alpha[:, None] * sw), x)
    assert relative_error(dx, num_x) < 1e-6
    # dw: the derivative of (beta sign x) @ clip(w, -1, 1)^T
    num_w = numerical_gradient(lambda: run(lambda: beta[:, None] * sx,
                                           lambda: np.clip(w.reshape(len(w), -1), -1, 1)), w)
    assert relative_error(layer.grads["weight"], num_w) < 1e-6
    assert layer.grads["weight"].reshape(len(w), -1)[0, 0] == 0


def test_kinks_pass_at_the_window_edges():
    layer = XnorLinear(Linear(3, 1, bias=False, rng=0).to(np.float64))
    layer.params["weight"][...] = [[1.0, -0.5, 1.5]]  # alpha = 1; |w| = 1 is inside (closed)
    x = np.array([[1.0, -3.0, 2.0]])  # beta = 2: |1| < 2 and |2| = 2 pass (closed), |-3| > 2 not
    assert activation_scale(x)[0] == 2.0
    layer.forward(x)
    dx = layer.backward(np.ones((1, 1)))
    np.testing.assert_array_equal(dx, [[1.0, 0.0, 1.0]])  # dy sign(w) alpha 1[|x| <= beta]
    # dw = dy beta sign(x) 1[|w| <= 1]: w0 = 1 on the closed end passes, w2 = 1.5 does not
    np.testing.assert_array_equal(layer.grads["weight"], [[2.0, -2.0, 0.0]])


def test_prepare_and_convert_xnor_and_errors():
    model = Sequential(flatten=Flatten(), fc1=Linear(12, 8, rng=0), fc2=Linear(8, 3, rng=1))
    x = np.random.default_rng(3).standard_normal((4, 1, 3, 4)).astype(np.float32)
    xn = prepare_xnor(model)
    assert isinstance(xn.fc1, XnorLinear) and xn.fc2.storage_bits() == xn.fc2.to_inference().storage_bits()
    np.testing.assert_array_equal(convert_xnor(xn)(x), xn(x))
    with pytest.raises(TypeError, match="layer must be a Linear"):
        XnorLinear(Conv2d(1, 1, 1))
    with pytest.raises(ValueError, match="per-channel 'binary' encoding; got 'int8'"):
        XnorInferenceLinear(encode(np.ones((2, 3), np.float32), "int8"))
