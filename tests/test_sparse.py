"""Sparse execution: the CSR layers compute what the dense masked layers compute, and
describe their own storage and work exactly."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress import formats
from minicompress import metrics as M
from minicompress.formats import SparseConv2d, SparseLinear, to_sparse
from minicompress.nn import Conv2d, ConvNet, LeNet5, Linear, Sequential, gradcheck_module
from minicompress.nn.functional import im2col, im2col_t
from minicompress.nn.gradcheck import GRAD_TOL


def masked(model, fraction):
    for _, p in model.named_parameters():
        if p.ndim >= 2:
            p[np.abs(p) < np.quantile(np.abs(p), fraction)] = 0
    return model


@pytest.mark.parametrize("build", [ConvNet, LeNet5])
def test_sparse_model_computes_the_dense_masked_logits(build, rng):
    dense = masked(build(rng=1), 0.9)
    sparse = to_sparse(dense)
    assert isinstance(sparse.conv1, SparseConv2d) and isinstance(sparse.get_submodule("conv1"), SparseConv2d)
    x = rng.standard_normal((7, 1, 28, 28)).astype(np.float32)
    np.testing.assert_allclose(sparse(x), dense(x), rtol=1e-5, atol=1e-5)
    assert isinstance(dense.conv1, Conv2d)  # the input model is left alone


def test_masked_convnet_same_predictions_on_mnist(mnist):
    model = masked(ConvNet(rng=0), 0.95)
    X = mnist.X_test[:300]
    sparse = to_sparse(model)
    np.testing.assert_allclose(sparse(X), model(X), rtol=1e-5, atol=1e-5)
    assert M.accuracy(sparse, X, mnist.y_test[:300]) == M.accuracy(model, X, mnist.y_test[:300])


@given(st.integers(1, 30), st.integers(1, 30), st.floats(0, 1), st.integers(0, 2**32 - 1))
def test_sparse_linear_matches_dense(n_in, n_out, fraction, seed):
    rng = np.random.default_rng(seed)
    layer = Linear(n_in, n_out, rng=rng)
    w = layer.params["weight"]
    w[rng.random(w.shape) < fraction] = 0
    x = rng.standard_normal((4, n_in)).astype(np.float32)
    sparse = SparseLinear.from_dense(layer)
    np.testing.assert_allclose(sparse(x), layer(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(sparse.dense_weight(), w)
    assert M.layer_macs(sparse, (1, n_in)) == (n_out * n_in, int(np.count_nonzero(w)))


@given(st.integers(1, 3), st.integers(1, 3), st.integers(3, 8), st.integers(1, 3), st.integers(1, 2),
       st.integers(0, 2))
def test_im2col_t_is_the_transpose_of_im2col(n, c, size, k, stride, padding):
    x = np.arange(n * c * size * size, dtype=np.float32).reshape(n, c, size, size)
    np.testing.assert_array_equal(im2col_t(x, k, k, stride, padding), im2col(x, k, k, stride, padding).T)


def test_storage_and_macs_agree_with_the_metrics_of_the_masked_model():
    dense = masked(ConvNet(rng=2), 0.8)
    sparse = to_sparse(dense)
    assert M.model_size_bits(sparse, "auto").bits == M.model_size_bits(dense, "csr").bits
    assert M.flops(sparse, (1, 28, 28)).per_layer == M.flops(dense, (1, 28, 28)).per_layer
    fc = sparse.fc
    assert fc.storage_bits() == formats.size_bits(dense.fc.params["weight"], "csr") + 32 * (10 + 1)


def test_dx_matches_dense_and_gradcheck(rng):
    conv = masked(Sequential(c=Conv2d(2, 3, 3, stride=2, padding=1, rng=3)), 0.5).c
    x = rng.standard_normal((2, 2, 7, 7))
    sparse = SparseConv2d.from_dense(conv)
    x32 = x.astype(np.float32)
    dout = rng.standard_normal(conv(x32).shape).astype(np.float32)
    sparse(x32)
    np.testing.assert_allclose(sparse.backward(dout), conv.backward(dout), rtol=1e-4, atol=1e-5)
    assert gradcheck_module(sparse, x, rng=0)["x"] < GRAD_TOL
    lin = SparseLinear.from_dense(Linear(5, 4, rng=1))
    assert gradcheck_module(lin, rng.standard_normal((3, 5)), rng=0)["x"] < GRAD_TOL


def test_min_sparsity_converts_only_sparse_enough_layers():
    model = ConvNet(rng=0)
    masked(Sequential(fc=model.fc), 0.95)
    out = to_sparse(model, min_sparsity=0.9)
    assert isinstance(out.fc, SparseLinear) and isinstance(out.conv1, Conv2d)
    assert isinstance(to_sparse(model.fc), SparseLinear)


def test_bad_input_is_named():
    sparse = SparseLinear.from_dense(Linear(6, 2))
    with pytest.raises(ValueError, match="expects 6"):
        sparse(np.zeros((1, 5), np.float32))
    with pytest.raises(ValueError, match="min_sparsity"):
        to_sparse(ConvNet(), min_sparsity=1.5)
    with pytest.raises(TypeError, match=r"model must be a minicompress Module .* \(object\)"):
        to_sparse(object())
    with pytest.raises(ValueError, match="2-D"):
        SparseLinear(formats.encode(np.ones((2, 2, 2), np.float32), "csr"))
    with pytest.raises(ValueError, match=r"input_shape \(1, 5, 5\)"):
        M.flops(to_sparse(ConvNet()), (1, 5, 5))


def test_constructors_refuse_bad_arguments():
    w = formats.encode(np.ones((3, 2, 3, 3), dtype=np.float32), "csr")
    with pytest.raises(TypeError, match="weight must be a formats Encoding"):
        SparseLinear(np.ones((3, 2), dtype=np.float32))
    with pytest.raises(ValueError, match=r"'csr' encoding of float values; got 'int8'"):
        SparseLinear(formats.encode(np.ones((3, 2), dtype=np.float32), "int8"))
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\) \(one per output\); got \(1,\)"):
        SparseLinear(formats.encode(np.ones((3, 2), dtype=np.float32), "csr"), np.ones(1, dtype=np.float32))
    with pytest.raises(ValueError, match="stride must be >= 1; got 0"):
        SparseConv2d(w, stride=0)
    with pytest.raises(TypeError, match="padding must be an integer; got 1.0"):
        SparseConv2d(w, padding=1.0)
