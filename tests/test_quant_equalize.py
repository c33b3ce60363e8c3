"""Cross-layer equalization and bias correction (Nagel et al. 2019)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress.formats import CompressedLinear
from minicompress.formats.symmetric import symmetric_round_trip
from minicompress.nn import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential
from minicompress.nn.calibration import layer_inputs
from minicompress.quantize import bias_correction, equalize, quantize_weights
from minicompress.quantize.equalize import channel_means, cle_scales


def _convnet(seed):
    return Sequential(conv=Conv2d(2, 4, 3, padding=1, rng=seed), relu=ReLU(), pool=MaxPool2d(2),
                      flatten=Flatten(), fc1=Linear(4 * 3 * 3, 5, rng=seed), relu1=ReLU(),
                      fc2=Linear(5, 3, rng=seed))


def test_cle_scales_hand_case():
    # s = sqrt(r1 / r2): 4 / 1 -> 2, 1 / 4 -> 0.5; a dead channel keeps s = 1
    np.testing.assert_allclose(cle_scales([4.0, 1.0, 0.0], [1.0, 4.0, 2.0]), [2.0, 0.5, 1.0])


@given(st.integers(0, 2**32 - 1))
def test_equalization_leaves_the_float64_function_unchanged(seed):
    rng = np.random.default_rng(seed)
    model = _convnet(seed).to(np.float64)
    model.conv.params["weight"][1] *= 50.0  # an unbalanced channel, as trained nets have
    x = rng.standard_normal((6, 2, 6, 6))
    eq = equalize(model)
    np.testing.assert_allclose(eq(x), model(x), rtol=1e-12, atol=1e-12)
    # after the last pair's step, its ranges meet at sqrt(r1 r2)
    r1 = np.abs(model.fc1.params["weight"]).max(axis=1)
    e1 = np.abs(eq.fc1.params["weight"]).max(axis=1)
    e2 = np.abs(eq.fc2.params["weight"]).max(axis=0)
    np.testing.assert_allclose(e1, e2, rtol=1e-12)
    assert not np.allclose(e1, r1)
    # the conv's channels (4 of them, 9 pixels each in fc1's input) were equalized too
    assert np.ptp(np.abs(eq.conv.params["weight"]).reshape(4, -1).max(axis=1)) < \
        np.ptp(np.abs(model.conv.params["weight"]).reshape(4, -1).max(axis=1))


def test_equalization_helps_a_per_tensor_grid():
    rng = np.random.default_rng(0)
    model = Sequential(fc1=Linear(8, 6, rng=0), relu=ReLU(), fc2=Linear(6, 4, rng=1)).to(np.float64)
    model.fc1.params["weight"][0] *= 30.0
    model.fc1.params["bias"][0] *= 30.0
    model.fc2.params["weight"][:, 0] /= 30.0
    x = rng.standard_normal((200, 8))

    def error(m):
        q = quantize_weights(m.fc1, "int8", per_channel=False)  # one scale for all rows
        return np.mean((q(x) - m.fc1(x)) ** 2 / np.abs(m.fc1(x)).max(axis=0) ** 2)

    assert error(equalize(model)) < 0.1 * error(model)


def test_equalize_needs_a_chain():
    with pytest.raises(ValueError, match="no Linear/Conv2d -> ReLU -> Linear/Conv2d chain"):
        equalize(Sequential(fc=Linear(3, 2)))
    with pytest.raises(ValueError, match="iterations must be >= 1; got 0"):
        equalize(_convnet(0), iterations=0)


def test_bias_correction_zeroes_the_mean_output_error():
    rng = np.random.default_rng(1)
    model = _convnet(1)
    X = (rng.standard_normal((40, 2, 6, 6)) + 1.0).astype(np.float32)  # inputs with a mean
    q = quantize_weights(model, "binary")  # a coarse grid: a visible mean shift
    fixed = bias_correction(model, q, X)
    names = ["conv", "fc1", "fc2"]
    f_in, q_in, c_in = (layer_inputs(m, X, names) for m in (model, q, fixed))
    for name in names:
        target = channel_means(model.get_submodule(name)(f_in[name]).astype(np.float64))
        before = channel_means(q.get_submodule(name)(q_in[name]).astype(np.float64)) - target
        after = channel_means(fixed.get_submodule(name)(c_in[name]).astype(np.float64)) - target
        assert np.abs(before).max() > 1e-2
        assert np.abs(after).max() <= 1e-5 * (1 + np.abs(target).max()), name  # float32 bias rounding
    assert isinstance(fixed.fc1, CompressedLinear) and q.fc1 is not fixed.fc1


def test_bias_correction_of_plain_float_layers_and_layers_without_bias():
    rng = np.random.default_rng(2)
    model = Sequential(fc=Linear(5, 3, bias=False, rng=2)).to(np.float64)
    q = Sequential(fc=Linear(5, 3, bias=False, rng=2)).to(np.float64)
    q.fc.params["weight"][...] = symmetric_round_trip(q.fc.params["weight"], 2)
    X = rng.standard_normal((30, 5)) + 1.0
    fixed = bias_correction(model, q, X)
    np.testing.assert_allclose(fixed.fc(X).mean(axis=0), model.fc(X).mean(axis=0), atol=1e-12)
    X[3, 2] = np.inf
    with pytest.raises(ValueError, match="X contains 1 non-finite"):
        bias_correction(model, q, X)
