"""Filter pruning (Li et al. 2017): the layers physically shrink and compute what the masked
model computes."""

import copy

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress.nn import ConvNet, LeNet5, LeNet300_100
from minicompress.prune import apply_masks, filter_masks, prune_filters
from minicompress.prune.structured import filter_l1_norms


def _macs(model, x):
    """Multiply-accumulates of every Linear/Conv2d for one input, counted from the shapes."""
    total = 0
    for layer in model.children().values():
        out = layer.forward(x)
        if "weight" in layer.params:
            w = layer.params["weight"]
            total += w.size * (out.shape[2] * out.shape[3] if out.ndim == 4 else 1)
        x = out
    return total


def _masked_copy(model, layer, kept):
    masked = copy.deepcopy(model)
    apply_masks(masked, filter_masks(model, layer, kept))
    return masked


def test_filter_l1_norms_hand_case():
    w = np.zeros((3, 1, 2, 2))
    w[0] = [[1, -1], [0, 0]]
    w[1] = [[0.5, 0.5], [0.5, -0.5]]
    w[2] = [[3, 0], [0, 0]]
    np.testing.assert_array_equal(filter_l1_norms(w), [2.0, 2.0, 3.0])
    model = ConvNet(channels=3)
    model.conv1.params["weight"][...] = np.zeros((3, 1, 3, 3))
    model.conv1.params["weight"][:, 0, :2, :2] = w[:, 0]
    _, kept = prune_filters(model, "conv1", 2)
    assert kept.tolist() == [0, 2]  # norms 2, 2, 3: the tie goes to the lower index


@given(st.integers(0, 2**31), st.integers(1, 16))
def test_convnet_pruned_equals_masked(seed, n_keep):
    model = ConvNet(rng=seed)
    x = np.random.default_rng(seed).standard_normal((3, 1, 28, 28)).astype(np.float32)
    small, kept = prune_filters(model, "conv1", n_keep)
    assert small.conv1.params["weight"].shape == (n_keep, 1, 3, 3)
    assert small.fc.params["weight"].shape == (10, n_keep * 13 * 13)  # per-channel blocks of 13*13
    np.testing.assert_allclose(small(x), _masked_copy(model, "conv1", kept)(x), rtol=1e-5, atol=1e-5)
    # the kept filters are the largest by L1 norm
    norms = filter_l1_norms(model.conv1.params["weight"])
    dropped = np.setdiff1d(np.arange(16), kept)
    if len(dropped):
        assert norms[kept].min() >= norms[dropped].max()


def test_pruned_equals_masked_exactly_in_float64(rng):
    model = ConvNet().to(np.float64)
    x = rng.standard_normal((4, 1, 28, 28))
    small, kept = prune_filters(model, "conv1", 5)
    np.testing.assert_allclose(small(x), _masked_copy(model, "conv1", kept)(x), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("layer, next_in", [("conv1", "conv2"), ("conv2", "fc1")])
def test_lenet5_conv_to_conv_and_conv_to_linear(layer, next_in, rng):
    model = LeNet5(rng=1).to(np.float64)
    x = rng.standard_normal((2, 1, 28, 28))
    small, kept = prune_filters(model, layer, 4)
    if next_in == "conv2":
        assert small.conv2.params["weight"].shape == (16, 4, 5, 5)
    else:
        assert small.fc1.params["weight"].shape == (120, 4 * 5 * 5)
    np.testing.assert_allclose(small(x), _masked_copy(model, layer, kept)(x), rtol=1e-12, atol=1e-12)


def test_params_and_macs_fall_and_original_is_untouched(rng):
    model = ConvNet()
    before = model.state_dict()
    x = rng.standard_normal((1, 1, 28, 28)).astype(np.float32)
    small, _ = prune_filters(model, "conv1", 8)
    assert model.num_parameters() == 16 * 9 + 16 + 2704 * 10 + 10 == 27210
    assert small.num_parameters() == 8 * 9 + 8 + 1352 * 10 + 10 == 13610
    assert _macs(model, x) == 16 * 9 * 26 * 26 + 2704 * 10
    assert _macs(small, x) == 8 * 9 * 26 * 26 + 1352 * 10
    assert small.channels == 8
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())


def test_bad_input():
    model = ConvNet()
    with pytest.raises(ValueError, match="n_keep must be >= 1; got 0"):
        prune_filters(model, "conv1", 0)
    with pytest.raises(ValueError, match="n_keep must be <= 16; got 17"):
        prune_filters(model, "conv1", 17)
    with pytest.raises(ValueError, match="layer_name 'conv2' does not exist"):
        prune_filters(model, "conv2", 4)
    with pytest.raises(ValueError, match="must name a Conv2d; it is a Linear"):
        prune_filters(model, "fc", 4)
    with pytest.raises(ValueError, match="must name a Conv2d"):
        prune_filters(LeNet300_100(), "fc1", 4)
    with pytest.raises(TypeError, match="n_keep must be an integer"):
        prune_filters(model, "conv1", 4.0)
    with pytest.raises(ValueError, match="weight must be a 4-D"):
        filter_l1_norms(np.ones((3, 3)))


def test_filter_masks_refuses_indices_it_would_silently_misread():
    model = ConvNet(channels=4)
    with pytest.raises(TypeError, match="kept must be a 1-D array of integer"):
        filter_masks(model, "conv1", [1.7])  # would have been cast to filter 1
    with pytest.raises(ValueError, match=r"kept must hold filter indices in \[0, 4\)"):
        filter_masks(model, "conv1", [-1])  # would have selected the last filter
    with pytest.raises(ValueError, match=r"got values from 0 to 4"):
        filter_masks(model, "conv1", [0, 4])
    with pytest.raises(TypeError, match="weight must be a numeric array"):
        filter_l1_norms(np.array([["a"]]))
