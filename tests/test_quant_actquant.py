"""Activation quantization: observers, entropy calibration, the ActQuant module and
prepare_qat(..., activations=True)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress.nn import SGD, ConvNet, Flatten, Linear, ReLU, Sequential, fit
from minicompress.quantize import (
    ActQuant,
    calibrate,
    calibrate_activations,
    convert_qat,
    fake_quantize_affine,
    prepare_qat,
)
from minicompress.quantize.histogram import entropy_threshold, kl_divergence
from minicompress.quantize.observers import Observer, ema
from minicompress.quantize.qat import QATLinear


# ----------------------------------------------------------------------------- observers
def test_minmax_and_moving_average_hand_cases():
    batches = [np.array([0.0, 10.0]), np.array([-2.0, 20.0])]
    mm, ma = Observer("minmax"), Observer("moving_average", momentum=0.5)
    for b in batches:
        mm.observe(b)
        ma.observe(b)
    assert (mm.lo, mm.hi) == (-2.0, 20.0)
    assert (ma.lo, ma.hi) == (-1.0, 15.0)  # the first batch sets it, then lo + 0.5 (new - lo)
    assert ema(10.0, 20.0, 0.01) == pytest.approx(10.1)
    assert mm.qparams() == calibrate(batches, "minmax")
    assert mm.abs_mean == pytest.approx(32 / 4) and mm.abs_max == 20.0
    with pytest.raises(ValueError, match="has seen no data"):
        Observer().qparams()
    with pytest.raises(ValueError, match="method must be one of"):
        Observer("max")


@given(st.sampled_from(["percentile", "mse", "entropy"]), st.integers(0, 2**32 - 1))
def test_sampling_observers_are_calibrate_on_what_they_saw(method, seed):
    rng = np.random.default_rng(seed)
    batches = [rng.standard_t(3, 500) for _ in range(3)]
    obs = Observer(method)
    for b in batches:
        obs.observe(b)
    assert obs.qparams(bits=4) == calibrate(batches, method, bits=4)  # small batches: all values kept


def test_sampling_observer_memory_is_bounded():
    obs = Observer("percentile", max_samples=1024)
    for _ in range(40):
        obs.observe(np.arange(1000.0))
    assert sum(s.size for s in obs.samples) <= 1024


# ----------------------------------------------------------------------------- entropy (TensorRT)
def test_kl_divergence_hand_case():
    assert kl_divergence([1, 1], [1, 1]) == 0.0
    assert kl_divergence([3, 1], [1, 1]) == pytest.approx(0.75 * np.log(1.5) + 0.25 * np.log(0.5))
    assert kl_divergence([1, 1], [1, 0]) == np.inf
    assert kl_divergence([1, 0], [1, 1]) == pytest.approx(np.log(2))  # bins with p = 0 add nothing


def test_entropy_clips_a_heavy_tail_and_keeps_a_light_one():
    rng = np.random.default_rng(0)
    heavy = rng.standard_t(2, 100_000)
    T = entropy_threshold(heavy, 128)
    assert T < 0.25 * np.abs(heavy).max()  # the tail is clipped
    uniform = rng.uniform(-1, 1, 100_000)
    assert entropy_threshold(uniform, 128) > 0.9  # nothing to clip
    assert entropy_threshold(np.zeros(5), 16) == 1.0
    qp = calibrate(heavy, "entropy")
    assert qp.scale * (qp.qmax - qp.zero_point) == pytest.approx(T, rel=0.02)


def test_entropy_beats_minmax_on_the_bulk_of_a_heavy_tailed_layer():
    rng = np.random.default_rng(1)
    x = np.maximum(rng.standard_t(2, 50_000), 0)  # post-ReLU, heavy tail
    bulk = x[x < np.percentile(x, 99)]
    err = {m: np.mean((fake_quantize_affine(bulk, calibrate(x, m, bits=8)) - bulk) ** 2)
           for m in ("minmax", "entropy")}
    assert err["entropy"] < 0.5 * err["minmax"]


# ----------------------------------------------------------------------------- ActQuant
def test_actquant_calibrates_then_fake_quantizes():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 5))
    q = ActQuant(4, "minmax")
    assert q(x) is x  # calibrating: records, passes through
    with pytest.raises(ValueError, match="still calibrating"):
        q.backward(np.ones_like(x))
    q.start_quantizing()
    np.testing.assert_allclose(q(x), fake_quantize_affine(x, calibrate(x, bits=4)))
    assert q.range() == pytest.approx((x.min(), x.max()), abs=0.5 * q.qp.scale)
    lo, hi = q.range()  # the STE window: the range after Z is rounded (it may clip max x by a hair)
    np.testing.assert_array_equal(q.backward(np.ones_like(x)), (x >= lo) & (x <= hi))
    with pytest.raises(ValueError, match="method must be one of"):
        ActQuant(8, "kl")


def test_moving_average_range_moves_on_training_steps_only():
    q = ActQuant(8, "moving_average", momentum=0.5)
    q(np.array([[0.0, 1.0]]))
    q.start_quantizing()
    q(np.array([[0.0, 3.0]]))  # evaluation: no change
    assert q.range()[1] == pytest.approx(1.0)
    q.backward(np.ones((1, 2)))  # a training step with that batch
    assert q.range()[1] == pytest.approx(2.0)


def test_lsq_and_pact_modules_learn_their_range():
    rng = np.random.default_rng(3)
    for method, key in (("lsq", "step"), ("pact", "alpha")):
        q = ActQuant(4, method)
        x = np.abs(rng.standard_normal((16, 6))).astype(np.float32)
        q(x)
        q.start_quantizing()
        assert q.signed is False and q.params[key][0] > 0
        q(x)
        q.zero_grad()
        q.backward(np.ones_like(x))
        assert q.grads[key][0] != 0


# ----------------------------------------------------------------------------- activation QAT
def test_prepare_qat_with_activations_inserts_input_quantizers():
    rng = np.random.default_rng(4)
    model = Sequential(flatten=Flatten(), fc1=Linear(12, 8, rng=4), relu=ReLU(), fc2=Linear(8, 3, rng=4))
    X = rng.standard_normal((64, 1, 3, 4)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    qat = prepare_qat(model, "int", bits=4, activations=True, act_bits=4, act_method="lsq", X_calib=X)
    assert list(qat.children()) == ["flatten", "fc1_in", "fc1", "relu", "fc2_in", "fc2"]
    assert isinstance(qat.fc1, QATLinear) and qat.fc1.bits == 4
    assert qat.fc1_in.signed is True and qat.fc2_in.signed is False  # after the ReLU: unsigned
    fit(qat, X, y, epochs=1, batch_size=16, optimizer=SGD(qat, lr=0.01), rng=0, verbose=False)
    deployed = convert_qat(qat)
    assert deployed.fc1.encodings()["weight"].field("bits") == 4
    np.testing.assert_allclose(deployed(X), qat(X), rtol=1e-5, atol=1e-6)
    # W8A8 with a later calibration
    w8a8 = prepare_qat(model, "int8", activations=True)
    with pytest.raises(ValueError, match="still calibrating"):
        fit(w8a8, X, y, epochs=1, batch_size=16, optimizer=SGD(w8a8, lr=0.01), rng=0, verbose=False)
    calibrate_activations(w8a8, X)
    assert w8a8.fc2_in.qp.qmax == 255


def test_prepare_qat_activation_errors():
    model = ConvNet(rng=0)
    with pytest.raises(ValueError, match="act_method must be one of"):
        prepare_qat(model, "int8", activations=True, act_method="kl")
    with pytest.raises(ValueError, match="act_bits must be in 2..16; got 1"):
        prepare_qat(model, "int8", activations=True, act_bits=1)
    with pytest.raises(ValueError, match="X_calib calibrates activation ranges; it needs activations=True"):
        prepare_qat(model, "int8", X_calib=np.zeros((1, 1, 28, 28), np.float32))
    with pytest.raises(ValueError, match="bits=4 applies to scheme 'int' only"):
        prepare_qat(model, "int8", bits=4)
    with pytest.raises(ValueError, match="no ActQuant module"):
        calibrate_activations(model, np.zeros((1, 1, 28, 28), np.float32))
    nested = Sequential(block=Sequential(fc=Linear(3, 2)))
    with pytest.raises(ValueError, match="flat Sequential"):
        prepare_qat(nested, "int8", activations=True)
