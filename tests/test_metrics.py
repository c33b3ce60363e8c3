"""Metrics (section 2.2): size per layer, both compression ratios, sparsity, accuracy,
MACs against hand counts, latency, and the errors a learner hits first."""

import copy

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress import formats
from minicompress import metrics as M
from minicompress.nn import MLP, ConvNet, LeNet5, Linear, Module, ReLU, Sequential, evaluate


def pruned(model, fraction):
    """Zero the smallest ``fraction`` of every weight (inline, so these tests need no prune/)."""
    for _, p in model.named_parameters():
        if p.ndim >= 2:
            p[np.abs(p) < np.quantile(np.abs(p), fraction)] = 0
    return model


# ----------------------------------------------------------------------------- size
def test_fp32_size_is_32_bits_per_parameter_plus_headers():
    model = ConvNet()
    size = M.model_size_bits(model, "fp32")
    # headers: conv1.weight 4 dims, conv1.bias 1, fc.weight 2, fc.bias 1 -> 8 x 32 bits
    assert size.total == 32 * 27210 + 8 * 32
    assert size.bits == {"conv1": 32 * (144 + 16) + 5 * 32, "fc": 32 * (27040 + 10) + 3 * 32}
    assert int(size) == size.total and sum(size.bits.values()) == size.total


def test_csr_size_of_pruned_convnet_by_closed_form():
    model = pruned(ConvNet(), 0.9)
    size = M.model_size_bits(model, "csr")
    w = model.fc.params["weight"]  # (10, 2704): columns need 16 bits; z < 65536 -> 16-bit pointers
    z = int(np.count_nonzero(w))
    # header: 2 dims, z and the value bits (0: float32 as they are)
    assert size.bits["fc"] == z * 32 + z * 16 + 11 * 16 + 4 * 32 + (10 * 32 + 32)
    assert size.formats["fc"] == "csr+fp32"


def test_masked_model_is_not_smaller_until_the_format_changes():
    dense, masked = ConvNet(), pruned(ConvNet(), 0.9)
    assert M.model_size_bits(masked, "fp32").total == M.model_size_bits(dense, "fp32").total
    ratio = M.compression_ratio(M.model_size_bits(dense), M.model_size_bits(masked, "csr"))
    assert 6 < ratio < 7  # 10% kept at 32 + 16 bits each: 32 / 4.8 = 6.7 at best
    assert M.compression_ratio(M.model_size_bits(dense), M.model_size_bits(masked, "bitmask")) > 7


@pytest.mark.parametrize("fmt", ["fp32", "fp16", "csr", "bitmask", "int8", "int8_channel", "auto"])
def test_unchanged_model_has_ratio_exactly_one(fmt):
    model = ConvNet(rng=5)
    a, b = M.model_size_bits(model, fmt), M.model_size_bits(copy.deepcopy(model), fmt)
    assert M.compression_ratio(a, b) == 1.0 and M.compression_ratio_text(a, b) == 1.0


@given(st.integers(1, 10**9), st.integers(1, 10**9))
def test_the_two_ratios_are_reciprocal(original, compressed):
    r, text = M.compression_ratio(original, compressed), M.compression_ratio_text(original, compressed)
    assert r == original / compressed and abs(r * text - 1) < 1e-12


class Packed(Module):
    """A stand-in for a compressed layer that describes its own storage and work."""

    def forward(self, x):
        return x

    def storage_bits(self):
        return 1234

    def macs(self, x_shape):
        return 100, 7


def test_layers_with_storage_bits_and_macs_report_their_own():
    model = Sequential(fc=Linear(4, 3), packed=Packed())
    for fmt in ("auto", "fp32", "csr"):
        size = M.model_size_bits(model, fmt)
        assert size.bits["packed"] == 1234 and size.formats["packed"] == "own (Packed)"
    assert M.model_size_bits(model, "auto").bits["fc"] == M.model_size_bits(model, "fp32").bits["fc"]
    work = M.flops(model, (4,))
    assert work.per_layer == {"fc": (12, 12), "packed": (100, 7)}


def test_ratio_bad_input():
    with pytest.raises(ValueError, match="compressed must be >= 1"):
        M.compression_ratio(100, 0)
    with pytest.raises(TypeError, match="original"):
        M.compression_ratio(1.5, 3)


# ----------------------------------------------------------------------------- sparsity, accuracy
def test_sparsity_of_dense_random_model_is_zero_and_masks_count():
    assert M.sparsity(ConvNet(rng=1)) == 0.0
    model = ConvNet()
    model.fc.params["weight"][:, :1352] = 0  # half of fc's 27040 weights
    assert M.sparsity(model) == pytest.approx(13520 / 27210)
    assert M.sparsity(model, weights_only=True) == pytest.approx(13520 / (144 + 27040))


def test_accuracy_matches_evaluate_and_loss_is_in_points(mnist):
    model, X, y = MLP([784, 10]), mnist.X_test[:200], mnist.y_test[:200]
    assert M.accuracy(model, X, y) == evaluate(model, X, y)[1]
    hand = np.zeros((4, 3), np.float32)
    hand[[0, 1, 2, 3], [2, 0, 1, 1]] = 1  # predicts 2, 0, 1, 1
    assert M.accuracy(Sequential(), hand, np.array([2, 0, 0, 1])) == 0.75
    assert M.accuracy_loss(0.975, 0.962) == pytest.approx(1.3)
    with pytest.raises(ValueError, match="fraction"):
        M.accuracy_loss(97.5, 96.2)


# ----------------------------------------------------------------------------- MACs
def test_convnet_macs_equal_the_hand_count():
    work = M.flops(ConvNet(), (1, 28, 28))
    assert work.per_layer["conv1"] == (16 * 26 * 26 * 9, 16 * 26 * 26 * 9)
    assert work.per_layer["fc"] == (2704 * 10, 2704 * 10)
    assert work.per_layer["relu"] == work.per_layer["pool"] == (0, 0)
    assert work.dense == 97344 + 27040


def test_lenet5_macs_with_padding_and_two_convs():
    work = M.flops(LeNet5(), (1, 28, 28))
    assert work.per_layer["conv1"][0] == 6 * 28 * 28 * 25
    assert work.per_layer["conv2"][0] == 16 * 10 * 10 * 6 * 25
    assert work.per_layer["fc1"][0] == 400 * 120


def test_effective_macs_count_non_zero_weights_only():
    model = ConvNet()
    model.conv1.params["weight"][:8] = 0  # half the filters
    model.fc.params["weight"][0] = 0
    work = M.flops(model, (1, 28, 28))
    assert work.per_layer["conv1"] == (97344, 8 * 9 * 26 * 26)
    assert work.per_layer["fc"] == (27040, 27040 - 2704)


# ----------------------------------------------------------------------------- latency
def test_latency_reports_median_spread_and_threads():
    X = np.zeros((8, 1, 28, 28), np.float32)
    result = M.latency(ConvNet(), X, repeats=5, warmup=1)
    assert result.times.shape == (5,) and result.batch == 8 and np.all(result.times > 0)
    lo, hi = result.spread_ms
    assert lo <= result.median_ms <= hi
    assert {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "cpu_count", "blas"} <= set(result.threads)


# ----------------------------------------------------------------------------- bad input
def test_unknown_format_is_named():
    with pytest.raises(ValueError, match=r"fmt must be one of \(.*'auto'\); got 'int4'"):
        M.model_size_bits(ConvNet(), "int4")


def test_model_without_parameters_is_refused():
    for fn in (lambda m: M.model_size_bits(m), M.sparsity, lambda m: M.flops(m, (4,))):
        with pytest.raises(ValueError, match="no parameters"):
            fn(Sequential(relu=ReLU()))


def test_input_shape_that_does_not_fit_is_named():
    with pytest.raises(ValueError, match=r"input_shape \(1, 1, 28, 28\) does not fit.*'conv1'"):
        M.flops(ConvNet(), (1, 1, 28, 28))
    with pytest.raises(ValueError, match=r"input_shape \(1, 20, 20\).*'fc'.*2704"):
        M.flops(ConvNet(), (1, 20, 20))
    with pytest.raises(ValueError, match="input_shape .*'fc1'"):
        M.flops(MLP([10, 4, 2]), (11,))
    with pytest.raises(TypeError, match="input_shape"):
        M.flops(ConvNet(), 28)


def test_not_a_model_is_refused():
    with pytest.raises(TypeError, match="Module"):
        M.model_size_bits({"w": np.ones(3)}, "fp32")


def test_format_names_agree_with_formats_module():
    assert M.model_size_bits(ConvNet(), "auto").total == M.model_size_bits(ConvNet(), "fp32").total
    assert "auto" not in formats.FORMATS and M.model_size_bits(ConvNet(), "auto").fmt == "auto"
