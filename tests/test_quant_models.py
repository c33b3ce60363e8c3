"""Whole models: post-training quantization, dynamic quantization, integer-only inference."""

import numpy as np
import pytest

from minicompress.formats import CompressedConv2d, CompressedLinear
from minicompress.nn import Conv2d, ConvNet, Flatten, LeNet300_100, Linear, Module, ReLU, Sequential
from minicompress.quantize import DynamicQuantLinear, integer_only, quantize_dynamic, quantize_weights
from minicompress.quantize.intinfer import IntConv2d, IntLinear
from minicompress.quantize.layers import weight_encoding


def _acc(model, X, y):
    return float((model(X).argmax(axis=1) == y).mean())


def _storage(model):
    return sum(m.storage_bits() for _, m in model.named_modules() if hasattr(m, "storage_bits"))


# ----------------------------------------------------------------------------- PTQ layers
def test_quantize_weights_storage_bits_are_exact():
    model = ConvNet(rng=0)  # conv1 16x1x3x3 = 144 weights, fc 10x2704 = 27,040 weights
    # headers: 32 bits per dimension of every stored array (conv 4-D, fc 2-D, two 1-D biases)
    overhead = 32 * (4 + 2) + 32 * 2 + 32 * (16 + 10)  # shape headers + float32 biases
    int8_t = quantize_weights(model, "int8", per_channel=False)  # int8 headers also hold bits: + 2 x 32
    assert _storage(int8_t) == 8 * (144 + 27040) + 32 * 2 + overhead + 64
    int8_c = quantize_weights(model, "int8")
    assert _storage(int8_c) == 8 * (144 + 27040) + 32 * (16 + 10) + overhead + 64
    binary = quantize_weights(model, "binary")
    assert _storage(binary) == 8 * (18 + 3380) + 32 * 26 + overhead  # packbits: 144/8, 27040/8
    ternary = quantize_weights(model, "ternary")
    assert _storage(ternary) == 8 * (36 + 6760) + 32 * 26 + overhead  # 4 codes per byte
    assert isinstance(ternary.conv1, CompressedConv2d) and isinstance(ternary.fc, CompressedLinear)
    # fp32 is 32 * 27,210 = 870,720 bits (+ headers): int8 ~3.98x, binary ~25x
    assert 32 * 27210 / _storage(int8_t) > 3.9
    assert 32 * 27210 / _storage(binary) > 24


@pytest.mark.parametrize("scheme, fmt",
                         [("int8", "int8_channel"), ("binary", "binary"), ("ternary", "ternary")])
def test_storage_bits_equal_the_formats_module(scheme, fmt):
    """The same encoding, sized by formats.py (which metrics uses for plain arrays)."""
    from minicompress import formats

    layer = Conv2d(3, 5, 3, rng=0)
    q = quantize_weights(layer, scheme)
    assert q.encodings()["weight"].fmt == fmt
    if scheme == "int8":
        weight_bits = formats.size_bits(layer.params["weight"], fmt)
    else:  # formats' binary/ternary take the already-quantized weights alpha * codes
        weight_bits = formats.size_bits(q.dense_weight(), fmt, per_channel=True)
    assert q.storage_bits() == weight_bits + formats.size_bits(layer.params["bias"], "fp32")


def test_quantized_layer_computes_with_dequantized_weights():
    layer = Linear(5, 3, rng=0)
    q = quantize_weights(layer, "int8")
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    w_hat = weight_encoding(layer.params["weight"], "int8").decode()
    np.testing.assert_allclose(q(x), x @ w_hat.T + layer.params["bias"], rtol=1e-5)
    assert np.abs(w_hat - layer.params["weight"]).max() <= np.abs(layer.params["weight"]).max() / 254 + 1e-7
    with pytest.raises(TypeError, match="replaces a Linear"):
        CompressedLinear.from_layer(Conv2d(1, 1, 1), "int8")
    with pytest.raises(ValueError, match="scheme must be one of"):
        quantize_weights(ConvNet(), "int4")


@pytest.mark.slow
def test_ptq_int8_convnet_loses_at_most_0_3_points(trained_convnet, mnist):
    Xt, yt = mnist.X_test, mnist.y_test
    base = _acc(trained_convnet, Xt, yt)
    for per_channel in (False, True):
        acc = _acc(quantize_weights(trained_convnet, "int8", per_channel=per_channel), Xt, yt)
        assert 100 * (base - acc) <= 0.3, (per_channel, base, acc)


# ----------------------------------------------------------------------------- dynamic
def test_dynamic_linear_matches_float_closely():
    rng = np.random.default_rng(0)
    layer = Linear(50, 7, rng=0)
    dyn = DynamicQuantLinear(layer)
    x = rng.standard_normal((16, 50)).astype(np.float32)
    exact = layer(x)
    y = dyn(x)
    assert y.dtype == np.float32
    # |x w - x_hat w_hat| <= sum_k |x_k| dw + |w_k| dx + dx dw, with half steps
    # dw = s_c / 254 (per output channel) and dx = S_x / 2 (the batch's activation grid)
    w = layer.params["weight"].astype(np.float64)
    dw = np.abs(w).max(axis=1) / 254
    dx = (x.max() - min(x.min(), 0.0)) / 255 / 2
    bound = np.abs(x).sum(axis=1)[:, None] * dw + dx * np.abs(w).sum(axis=1) + 50 * dx * dw
    assert np.all(np.abs(y - exact) <= bound * 1.001 + 1e-5)
    assert np.abs(y - exact).max() > 0  # it is quantized, not a float copy
    assert dyn.storage_bits() == 96 + 8 * 350 + 32 * 7 + (32 + 32 * 7)  # header (shape, bits), codes,
    #                                                                     scales, bias


def test_quantize_dynamic_replaces_only_linear_layers():
    model = ConvNet(rng=0)
    q = quantize_dynamic(model)
    assert isinstance(q.fc, DynamicQuantLinear) and isinstance(q.conv1, Conv2d)  # conv stays float
    assert isinstance(model.fc, Linear)  # a copy: the original is unchanged
    lenet = quantize_dynamic(LeNet300_100(rng=0))
    assert all(isinstance(lenet.get_submodule(n), DynamicQuantLinear) for n in ("fc1", "fc2", "fc3"))
    with pytest.raises(ValueError, match="Linear layers only"):
        quantize_dynamic(model, layer_types=(Conv2d,))


@pytest.mark.slow
def test_dynamic_quantization_of_lenet300_loses_at_most_0_5_points(trained_lenet300, mnist):
    Xt, yt = mnist.X_test, mnist.y_test
    base = _acc(trained_lenet300, Xt, yt)
    acc = _acc(quantize_dynamic(trained_lenet300), Xt, yt)
    assert 100 * (base - acc) <= 0.5, (base, acc)


# ----------------------------------------------------------------------------- integer-only
def test_integer_only_small_model_with_padding_matches_simulation():
    rng = np.random.default_rng(3)
    model = Sequential(conv=Conv2d(2, 4, 3, padding=1, rng=3), relu=ReLU(), flatten=Flatten(),
                       fc=Linear(4 * 6 * 6, 5, rng=3))
    X = rng.standard_normal((40, 2, 6, 6)).astype(np.float32)
    for act in ("int8", "uint8"):
        im = integer_only(model, X[:20], activations=act)
        codes = im.conv(im.quant(X))
        assert codes.dtype == (np.int8 if act == "int8" else np.uint8)
        assert im.conv.q_w.dtype == np.int8 and im.conv.q_b.dtype == np.int32 and not im.conv.params
        assert np.all(codes >= im.conv.out_qp.zero_point)  # the fused ReLU clamps at the real 0
        assert 2**30 <= im.fc.M0.min() and im.fc.M0.max() < 2**31
        diff = np.abs(im(X) - im.simulate(X))
        assert diff.max() <= im.output_step, (act, diff.max(), im.output_step)


@pytest.mark.slow
def test_integer_only_convnet_matches_fake_quant_simulation(trained_convnet, mnist):
    im = integer_only(trained_convnet, mnist.X_train[:300])
    assert isinstance(im.conv1, IntConv2d) and isinstance(im.fc, IntLinear)
    Xt, yt = mnist.X_test[:300], mnist.y_test[:300]
    logits = im(Xt)
    assert logits.dtype == np.float32
    diff = np.abs(logits - im.simulate(Xt))
    assert diff.max() <= im.output_step  # within one output quantization step
    base = _acc(trained_convnet, Xt, yt)
    assert 100 * (base - _acc(im, Xt, yt)) <= 1.0
    # size: int8 weights (+ float32 scales), int32 biases, per channel M0 (32) + shift (8), the
    # zero points Z_in, Z_out (int32); every array with its header (32 per dimension)
    assert im.fc.storage_bits() == (96 + 8 * 27040 + 32 * 10) + (32 + 32 * 10) + (32 + 32 * 10) + (
        32 + 8 * 10) + (32 + 64)
    from minicompress.metrics import layer_macs

    nnz = int(np.count_nonzero(im.conv1.q_w))
    assert layer_macs(im.conv1, (1, 1, 28, 28)) == (16 * 9 * 26 * 26, nnz * 26 * 26)


def test_integer_only_rejects_unknown_layers():
    class Odd(Module):
        def forward(self, x):
            return x

    with pytest.raises(ValueError, match="activations must be"):
        integer_only(Sequential(fc=Linear(3, 2)), np.ones((2, 3)), activations="int4")
    with pytest.raises(TypeError, match="must be a Sequential"):
        integer_only(Linear(3, 2), np.ones((2, 3)))
    with pytest.raises(TypeError, match="cannot convert child 'odd'"):
        integer_only(Sequential(fc=Linear(3, 2), odd=Odd()), np.ones((2, 3)))


# ----------------------------------------------------------------------------- metrics
def test_metrics_sizes_and_traces_every_quantized_model():
    """metrics.model_size_bits(fmt="auto") uses each layer's storage_bits(); flops counts
    every quantized model with the one MAC formula."""
    from minicompress import metrics
    from minicompress.quantize import convert_qat, prepare_qat

    model = ConvNet(rng=0)
    X = np.random.default_rng(0).standard_normal((8, 1, 28, 28)).astype(np.float32)
    models = {
        "int8": quantize_weights(model, "int8"), "binary": quantize_weights(model, "binary"),
        "ternary": quantize_weights(model, "ternary"), "qat": prepare_qat(model, "ternary"),
        "frozen": convert_qat(prepare_qat(model, "binary")), "dynamic": quantize_dynamic(model),
        "integer": integer_only(model, X),
    }
    for name, m in models.items():
        own = sum(mod.storage_bits() for _, mod in m.named_modules() if hasattr(mod, "storage_bits"))
        plain = sum(32 * (p.size + p.ndim) for _, mod in m.named_modules() if not hasattr(mod, "storage_bits")
                    for p in mod.params.values())  # fp32 values + shape headers
        assert metrics.model_size_bits(m, "auto").total == own + plain, name
        work = metrics.flops(m, (1, 28, 28))
        assert work.dense == 16 * 9 * 26 * 26 + 2704 * 10, name
    assert metrics.flops(models["ternary"], (1, 28, 28)).effective < 16 * 9 * 26 * 26 + 2704 * 10
    # dynamic: the float conv (160 parameters at 32 bits, headers 4-D + 1-D) + the int8 fc
    assert metrics.model_size_bits(models["dynamic"], "auto").total == (
        32 * 5 + 32 * 160 + 96 + 8 * 27040 + 32 * 10 + 32 + 32 * 10)


def _previous_integer_path(im, X):
    """The integer path as it was before the fused pooling: im2col on the codes (padded with
    Z_in), the zero-point expansion of Jacob et al. eq. (7), requantize, max pool on codes."""
    from minicompress.nn import functional as F
    from minicompress.quantize.fixedpoint import multiply_by_quantized_multiplier, zero_point_matmul
    from minicompress.quantize.intinfer import IntMaxPool2d

    q = im.quant(X)
    for layer in list(im.children().values())[1:-1]:
        if isinstance(layer, (IntConv2d, IntLinear)):
            if isinstance(layer, IntConv2d):
                p, (C_out, _, kh, kw) = layer.padding, layer.q_w.shape
                qp = np.pad(q, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=layer.z_in) if p else q
                N, _, H, W = qp.shape
                cols = F.im2col(qp, kh, kw, layer.stride, 0)
                acc = zero_point_matmul(cols, layer.z_in, layer.q_w.reshape(C_out, -1)) + layer.q_b
            else:
                acc = zero_point_matmul(q, layer.z_in, layer.q_w) + layer.q_b
            out = layer.z_out + multiply_by_quantized_multiplier(acc, layer.M0, layer.n)
            q = np.clip(out, layer.lo, layer.out_qp.qmax).astype(layer.dtype)
            if isinstance(layer, IntConv2d):
                Ho, Wo = F.output_size(H, kh, layer.stride, 0), F.output_size(W, kw, layer.stride, 0)
                q = q.reshape(N, Ho, Wo, C_out).transpose(0, 3, 1, 2)
        elif isinstance(layer, IntMaxPool2d):
            q = F.max_pool2d_forward(q, layer.kernel_size, layer.stride)[0]
        else:
            q = layer.forward(q)
    return im.dequant(q)


def test_fused_integer_path_equals_the_previous_one_on_a_small_model():
    rng = np.random.default_rng(5)
    from minicompress.nn import MaxPool2d

    model = Sequential(conv=Conv2d(2, 3, 3, padding=1, rng=5), relu=ReLU(), pool=MaxPool2d(2),
                       flatten=Flatten(), fc=Linear(3 * 3 * 3, 4, rng=5))
    X = rng.standard_normal((20, 2, 6, 6)).astype(np.float32)
    for act in ("int8", "uint8"):
        im = integer_only(model, X[:10], activations=act)
        np.testing.assert_array_equal(im(X), _previous_integer_path(im, X))


@pytest.mark.slow
def test_fused_integer_path_equals_the_previous_one_on_the_trained_convnet(trained_convnet, mnist):
    im = integer_only(trained_convnet, mnist.X_train[:300])
    X = mnist.X_test[:256]
    np.testing.assert_array_equal(im(X), _previous_integer_path(im, X))  # bit for bit
