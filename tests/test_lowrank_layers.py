"""Factorised layers: outputs equal the reconstructed layer's, parameter counts, rank by
budget, gradients, the text's 3.4.2 snippet versus factorize_conv, bad input."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress.lowrank import (
    break_even_rank,
    factorize_conv,
    factorize_linear,
    hooi,
    rank_for_budget,
    svd_truncate,
    tucker2_conv,
    tucker_to_tensor,
    weight_matrix,
)
from minicompress.lowrank.layers import factorized_num_params
from minicompress.lowrank.snippet import kernelwise_svd_truncate, snippet_shapes, text_snippet_svd
from minicompress.nn import Conv2d, Linear, ReLU, Sequential, gradcheck_module
from minicompress.nn import functional as F


def conv_out(x, layer, weight):
    bias = layer.params.get("bias")
    return F.conv2d_forward(x, weight.astype(x.dtype), bias, layer.stride, layer.padding)[0]


# ----------------------------------------------------------------------------- Linear
@given(st.integers(1, 8), st.integers(1, 8), st.data())
def test_factorize_linear_computes_the_truncated_svd_layer(n_in, n_out, data):
    layer = Linear(n_in, n_out, rng=data.draw(st.integers(0, 1000)), dtype=np.float64)
    rank = data.draw(st.integers(1, min(n_in, n_out)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # ranks that save nothing are allowed
        fact = factorize_linear(layer, rank)
    x = np.random.default_rng(0).standard_normal((3, n_in))
    W_r = svd_truncate(layer.params["weight"], rank).approx
    np.testing.assert_allclose(fact(x), x @ W_r.T + layer.params["bias"], atol=1e-12)
    assert fact.num_parameters() == factorized_num_params(layer, rank) == rank * (n_in + n_out) + n_out


def test_factorize_linear_at_full_rank_is_the_layer():
    layer = Linear(6, 4, rng=1)
    x = np.random.default_rng(0).standard_normal((5, 6)).astype(np.float32)
    with pytest.warns(UserWarning, match="saves"):
        fact = factorize_linear(layer, 4)
    np.testing.assert_allclose(fact(x), layer(x), atol=1e-5)
    assert fact.v.params["weight"].dtype == np.float32
    assert "bias" not in fact.v.params and "bias" in fact.u.params


def test_factorize_linear_warns_only_at_or_above_break_even():
    layer = Linear(30, 20)  # break-even 600 / 50 = 12
    assert break_even_rank(layer) == 12.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        factorize_linear(layer, 11)  # saves: no warning
    with pytest.warns(UserWarning, match="rank 12 stores 600 weights"):
        factorize_linear(layer, 12)


def test_factorised_layer_backward_passes_gradcheck():
    layer = Linear(5, 4, rng=0, dtype=np.float64)
    model = Sequential(fc=factorize_linear(layer, 2), relu=ReLU())
    x = np.random.default_rng(1).standard_normal((3, 5))
    errors = gradcheck_module(model, x, rng=0)
    assert max(errors.values()) < 1e-7, errors


# ----------------------------------------------------------------------------- Conv2d
@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1)])
def test_factorize_conv_equals_the_reconstructed_kernel(stride, padding):
    layer = Conv2d(6, 16, 5, stride=stride, padding=padding, rng=0, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((2, 6, 12, 12))
    fact = factorize_conv(layer, 4)
    K = svd_truncate(weight_matrix(layer), 4).approx.reshape(16, 6, 5, 5)
    np.testing.assert_allclose(fact(x), conv_out(x, layer, K), atol=1e-12)
    assert fact.num_parameters() == 4 * (150 + 16) + 16 == factorized_num_params(layer, 4)
    assert fact.v.kernel_size == (5, 5) and fact.u.kernel_size == (1, 1)


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1)])
def test_tucker2_conv_equals_the_reconstructed_kernel(stride, padding):
    layer = Conv2d(6, 16, 3, stride=stride, padding=padding, rng=0, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((2, 6, 9, 9))
    fact = tucker2_conv(layer, (8, 3))
    core, factors = hooi(layer.params["weight"], (8, 3), n_iter=20, modes=(0, 1))
    K = tucker_to_tensor(core, factors, modes=(0, 1))
    np.testing.assert_allclose(fact(x), conv_out(x, layer, K), atol=1e-12)
    assert [m.params["weight"].shape for m in fact.children().values()] == [
        (3, 6, 1, 1), (8, 3, 3, 3), (16, 8, 1, 1)]
    assert fact.num_parameters() == 6 * 3 + 8 * 3 * 9 + 8 * 16 + 16


def test_tucker2_conv_at_full_ranks_is_the_layer():
    layer = Conv2d(3, 5, 3, padding=1, rng=2, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((1, 3, 6, 6))
    with pytest.warns(UserWarning, match="not fewer than the 135 of the dense kernel"):
        fact = tucker2_conv(layer, (5, 3))  # 9 + 135 + 25 weights: more than the kernel's 135
    np.testing.assert_allclose(fact(x), layer(x), atol=1e-12)


def test_factorised_conv_backward_passes_gradcheck():
    layer = Conv2d(2, 3, 3, padding=1, rng=0, dtype=np.float64)
    x = np.random.default_rng(1).standard_normal((1, 2, 4, 4))
    for model in (factorize_conv(layer, 2), tucker2_conv(layer, (2, 1))):
        errors = gradcheck_module(model, x, rng=0)
        assert max(errors.values()) < 1e-7, errors


# ----------------------------------------------------------------------------- budget
def test_rank_for_budget_quarter_of_lenet300_fc1():
    fc1 = Linear(784, 300)  # 235,500 parameters; a quarter is 58,875
    r = rank_for_budget(fc1, fc1.num_parameters() // 4)
    assert r == 54  # 54 * 1084 + 300 = 58,836 <= 58,875 < 55 * 1084 + 300
    assert factorized_num_params(fc1, r) <= 58_875 < factorized_num_params(fc1, r + 1)


@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 200))
def test_rank_for_budget_is_the_largest_rank_that_fits(n_in, n_out, budget):
    layer = Linear(n_in, n_out)
    if budget < n_in + 2 * n_out:  # rank 1 needs n_in + n_out weights + n_out biases
        with pytest.raises(ValueError, match="too small"):
            rank_for_budget(layer, budget)
        return
    r = rank_for_budget(layer, budget)
    assert factorized_num_params(layer, r) <= budget
    assert r == min(n_in, n_out) or factorized_num_params(layer, r + 1) > budget


# ----------------------------------------------------------------------------- the text's snippet
def test_text_snippet_is_right_for_a_matrix():
    W = np.random.default_rng(0).standard_normal((6, 9))
    np.testing.assert_allclose(text_snippet_svd(W), svd_truncate(W, 3).approx, atol=1e-12)


def test_text_snippet_on_a_conv_weight_is_a_batched_svd_that_crashes():
    W = np.random.default_rng(0).standard_normal((16, 6, 5, 5))  # LeNet5's conv2
    shapes = snippet_shapes(W)
    # C_out * C_in separate 5 x 5 SVDs, not one SVD of the layer:
    assert shapes["U"] == (16, 6, 5, 5) and shapes["S"] == (16, 6, 5) and shapes["V"] == (16, 6, 5, 5)
    assert shapes["rank"] == 8  # half the output channels, not a number of singular values
    assert shapes["U[:, :rank]"] == (16, 6, 5, 5)  # slices input channels (6 < 8: all of them)
    assert shapes["S[:rank]"] == (8, 6, 5)  # slices output channels
    with pytest.raises(ValueError, match="1- or 2-d"):
        text_snippet_svd(W)  # np.diag of a 3-D array (torch.diag raises RuntimeError)


def test_repaired_snippet_is_not_a_low_rank_approximation_of_the_layer():
    rng = np.random.default_rng(0)
    layer = Conv2d(6, 16, 5, rng=0, dtype=np.float64)
    W = layer.params["weight"]
    K = kernelwise_svd_truncate(W, 1)  # every 5 x 5 kernel made rank 1
    assert np.all(np.linalg.matrix_rank(K) == 1)  # (batched) each of the 96 kernels has rank 1
    assert np.all(np.linalg.matrix_rank(W) == 5)  # where the trained/random ones had rank 5
    # ... but the layer's matrix (16, 150) keeps full rank 16, and K has as many numbers as W
    assert np.linalg.matrix_rank(K.reshape(16, -1)) == 16
    assert K.size == W.size
    # factorize_conv at rank 4 stores 680 weights (W has 2400) and is the best rank-4 layer
    fact = factorize_conv(layer, 4)
    x = rng.standard_normal((2, 6, 10, 10))
    W4 = svd_truncate(weight_matrix(layer), 4).approx.reshape(W.shape)
    np.testing.assert_allclose(fact(x), conv_out(x, layer, W4), atol=1e-12)
    assert np.linalg.matrix_rank(W4.reshape(16, -1)) == 4


# ----------------------------------------------------------------------------- bad input
def test_tucker2_conv_refuses_a_linear_layer():
    with pytest.raises(ValueError, match="tucker2_conv needs a Conv2d layer; got Linear"):
        tucker2_conv(Linear(4, 3), (2, 2))


def test_factorize_linear_refuses_a_conv_and_non_layers():
    with pytest.raises(ValueError, match="factorize_linear needs a Linear layer.*factorize_conv"):
        factorize_linear(Conv2d(1, 2, 3), 1)
    with pytest.raises(TypeError, match="must be an nn layer; got ndarray"):
        factorize_linear(np.ones((3, 3)), 1)


@pytest.mark.parametrize("rank", [0, 5])
def test_factorize_linear_bad_rank(rank):
    with pytest.raises(ValueError, match=r"rank must be in \[1, 4\]"):
        factorize_linear(Linear(6, 4), rank)


@pytest.mark.parametrize("ranks, message", [
    ((2,), r"pair \(r_out, r_in\)"),
    ((2, 2, 2), r"pair \(r_out, r_in\)"),
    (3, r"pair \(r_out, r_in\)"),
    ((0, 2), r"ranks\[0\] \(r_out\) must be in \[1, 16\]"),
    ((4, 7), r"ranks\[1\] \(r_in\) must be in \[1, 6\]"),
])
def test_tucker2_conv_bad_ranks(ranks, message):
    with pytest.raises(ValueError, match=message):
        tucker2_conv(Conv2d(6, 16, 5), ranks)


def test_rank_for_budget_too_small():
    with pytest.raises(ValueError, match="rank 1 already needs 1384 parameters"):
        rank_for_budget(Linear(784, 300), 1000)
