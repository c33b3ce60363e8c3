"""k-means weight sharing and centroid fine-tuning (Deep Compression, Han et al. 2016, section 3):
the assignment and its tie convention, Lloyd's monotone objective, centroids as means, the
shared-weight gradient against finite differences, and the fit hook that keeps weights tied."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress.nn import SGD, Adam, Linear, Sequential, fit
from minicompress.nn import functional as F
from minicompress.nn.gradcheck import gradcheck_function
from minicompress.quantize import (
    CentroidHook,
    centroid_gradient,
    kmeans_assign,
    kmeans_dequantize,
    kmeans_quantize,
)
from minicompress.quantize.kmeans import kmeans_init, kmeans_objective, kmeans_step
from tests.strategies import seeded_normal


# ----------------------------------------------------------------------------- assignment
def test_assignment_by_hand_and_ties_go_to_the_smaller_centroid():
    c = np.array([1.0, -1.0, 0.0])  # any order
    w = np.array([-2.0, -0.5, 0.25, 0.5, 0.75, 3.0])
    # -0.5 is halfway between -1 and 0: the smaller, -1 (index 1); 0.5 between 0 and 1: 0
    assert kmeans_assign(w, c).tolist() == [1, 1, 2, 2, 0, 0]
    assert kmeans_assign(np.array([0.5]), np.array([0.0, 0.0, 1.0])).tolist() == [0]  # equal: lower index


@given(seeded_normal((40,)), st.integers(1, 9), st.sampled_from([np.float32, np.float64]))
def test_assignment_is_the_nearest_centroid(w, k, dtype):
    w = w.astype(dtype)
    c = np.sort(np.random.default_rng(k).standard_normal(k)).astype(dtype)
    c[k // 2] = w[0]  # a weight exactly on a centroid
    got = kmeans_assign(w, c)
    brute = np.argmin(np.abs(w.astype(np.float64)[:, None] - c.astype(np.float64)[None, :]), axis=1)
    assert np.array_equal(got, brute)  # argmin takes the first: the smaller of sorted ties


# ----------------------------------------------------------------------------- Lloyd
@given(seeded_normal((200,)), st.integers(1, 5), st.sampled_from(["linear", "density", "random"]))
def test_lloyd_objective_never_increases_and_centroids_are_means(v, bits, init):
    c = kmeans_init(v, 2**bits, init, rng=0)
    objectives = []
    for _ in range(15):
        idx, c_new = kmeans_step(v, c)
        objectives.append(kmeans_objective(v, idx, c))       # after the assignment
        objectives.append(kmeans_objective(v, idx, c_new))   # after the update
        for j in np.unique(idx):
            assert c_new[j] == pytest.approx(v[idx == j].mean(), rel=1e-12, abs=1e-15)
        c = c_new
    assert all(b <= a * (1 + 1e-12) + 1e-15 for a, b in zip(objectives, objectives[1:]))


@given(seeded_normal((12, 9)), st.integers(1, 4), st.sampled_from([np.float32, np.float64]))
def test_kmeans_quantize_keeps_pruned_weights_out_and_centroids_are_member_means(w, bits, dtype):
    w = w.astype(dtype)
    mask = np.abs(w) >= np.quantile(np.abs(w), 0.5)
    idx, c = kmeans_quantize(w, bits, mask=mask)
    assert idx.dtype == np.int32 and c.dtype == dtype and c.shape == (2**bits,)
    assert np.all(idx[~mask] == -1) and np.all(idx[mask] >= 0)
    rtol = 1e-12 if dtype == np.float64 else 2 * np.finfo(np.float32).eps  # summation order; rounding
    for j in np.unique(idx[mask]):  # the float64 mean, in w's dtype
        np.testing.assert_allclose(c[j], w[idx == j].astype(np.float64).mean(), rtol=rtol)
    shared = kmeans_dequantize(idx, c)
    assert np.all(shared[~mask] == 0) and shared.dtype == dtype


def test_linear_init_and_a_hand_case():
    v = np.array([-1.0, -0.9, 0.1, 0.2, 0.3, 1.0])
    assert kmeans_init(v, 3).tolist() == [-1.0, 0.0, 1.0]  # linspace(min, max, k)
    idx, c = kmeans_quantize(v, 1)  # 2 centroids from -1 and 1: {-1, -0.9} and the rest
    assert idx.tolist() == [0, 0, 1, 1, 1, 1]
    assert c.tolist() == pytest.approx([-0.95, 0.4])


def test_empty_cluster_keeps_its_centroid():
    v = np.array([-1.0, -0.99, 0.99, 1.0])  # linear init puts two centroids where nothing is
    idx, c = kmeans_step(v, kmeans_init(v, 4))
    assert sorted(set(idx.tolist())) == [0, 3]
    assert c[1:3].tolist() == pytest.approx([-1 / 3, 1 / 3])


def test_random_init_is_seeded():
    v = np.random.default_rng(0).standard_normal(100)
    a = kmeans_quantize(v, 3, init="random", rng=7)
    b = kmeans_quantize(v, 3, init="random", rng=7)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_bad_input_names_the_argument():
    w = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32)
    for bits in (0, 17):
        with pytest.raises(ValueError, match="bits must be in 1..16"):
            kmeans_quantize(w, bits)
    with pytest.raises(ValueError, match="asks for 64 clusters but only 32 distinct"):
        kmeans_quantize(w, 6)
    with pytest.raises(ValueError, match="prunes every weight"):
        kmeans_quantize(w, 2, mask=np.zeros(w.shape, bool))
    bad = w.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="w contains 1 non-finite"):
        kmeans_quantize(bad, 2)
    with pytest.raises(TypeError, match="mask must be a bool array"):
        kmeans_quantize(w, 2, mask=np.ones(w.shape))
    with pytest.raises(ValueError, match="init must be one of"):
        kmeans_quantize(w, 2, init="kmeans++")
    with pytest.raises(ValueError, match="indices must lie in -1..3"):
        kmeans_dequantize(np.array([4]), np.zeros(4))


# ----------------------------------------------------------------------------- centroid gradient
def test_centroid_gradient_by_hand():
    dw = np.array([[1.0, 2.0], [3.0, 4.0]])
    idx = np.array([[0, 1], [-1, 0]])
    assert centroid_gradient(dw, idx, 3).tolist() == [5.0, 2.0, 0.0]  # the pruned 3.0 counts nowhere


def test_shared_weight_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((5, 7))
    idx, _ = kmeans_quantize(w, 2, mask=np.abs(w) > 0.3)
    x, b = rng.standard_normal((4, 7)), rng.standard_normal(5)

    def forward(x, centroids):
        return F.linear_forward(x, kmeans_dequantize(idx, centroids), b)

    def backward(dout, cache):
        dx, dw, _ = F.linear_backward(dout, cache)
        return {"x": dx, "centroids": centroid_gradient(dw, idx, 4)}

    errors = gradcheck_function(forward, backward, {"x": x, "centroids": rng.standard_normal(4)}, rng=1)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("make_opt", [lambda m: SGD(m, 0.01, momentum=0.9, weight_decay=1e-3),
                                      lambda m: Adam(m, 1e-3)])
def test_fit_with_the_hook_trains_centroids_and_keeps_every_weight_tied(make_opt):
    rng = np.random.default_rng(0)
    model = Sequential(fc=Linear(6, 3, rng=0))
    w = model.fc.params["weight"]
    mask = np.abs(w) >= np.quantile(np.abs(w), 0.3)
    idx, c = kmeans_quantize(w, 2, mask=mask)
    w[...] = kmeans_dequantize(idx, c)
    hook = CentroidHook({"fc.weight": idx})
    X, y = rng.standard_normal((32, 6)).astype(np.float32), rng.integers(0, 3, 32)

    class Untouched:  # after the optimiser, before the hook re-ties: tied already
        def after_step(self, m):
            tied = kmeans_dequantize(idx, hook.centroids(m)["fc.weight"])
            assert np.array_equal(m.fc.params["weight"], tied)

    fit(model, X, y, epochs=3, batch_size=8, optimizer=make_opt(model), hooks=[Untouched(), hook], rng=0,
        verbose=False)
    c_now = hook.centroids(model)["fc.weight"]
    assert not np.allclose(c_now, c)  # the centroids moved
    assert np.array_equal(model.fc.params["weight"], kmeans_dequantize(idx, c_now))
    assert np.all(model.fc.params["weight"][~mask] == 0)


def test_hook_refuses_a_parameter_the_model_lacks():
    model = Sequential(fc=Linear(2, 2, rng=0))
    hook = CentroidHook({"fc1.weight": np.zeros((2, 2), np.int32)})
    with pytest.raises(ValueError, match="no parameter 'fc1.weight'"):
        hook.after_step(model)
