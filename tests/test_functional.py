"""minicompress.nn.functional: im2col/col2im, conv2d, max_pool2d, softmax, cross_entropy.

Each closed form is checked on a case a reader can verify by hand and, with Hypothesis,
against a naive nested-loop reference or a finite-difference gradient (float64).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minicompress.nn import functional as F
from minicompress.nn.gradcheck import GRAD_TOL, gradcheck_function, numerical_gradient, relative_error
from tests.strategies import conv_problems, pool_problems, seeded_normal


# ----------------------------------------------------------------------------- references
def naive_conv2d(x, w, b, stride, padding):
    """out[n,o,i,j] = b[o] + sum_{c,p,q} w[o,c,p,q] x_pad[n,c,i*s+p,j*s+q], loop by loop."""
    N, C, H, W = x.shape
    C_out, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    Ho = (H + 2 * padding - kh) // stride + 1
    Wo = (W + 2 * padding - kw) // stride + 1
    out = np.zeros((N, C_out, Ho, Wo))
    for n in range(N):
        for o in range(C_out):
            for i in range(Ho):
                for j in range(Wo):
                    total = 0.0 if b is None else b[o]
                    for c in range(C):
                        for p in range(kh):
                            for q in range(kw):
                                total += w[o, c, p, q] * xp[n, c, i * stride + p, j * stride + q]
                    out[n, o, i, j] = total
    return out


def naive_max_pool2d(x, k, s):
    """Forward and argmax-routed backward (for dout = ones), loop by loop."""
    N, C, H, W = x.shape
    Ho, Wo = (H - k) // s + 1, (W - k) // s + 1
    out = np.zeros((N, C, Ho, Wo))
    where = []  # (n, c, row, col) of each window's maximum
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    win = x[n, c, i * s : i * s + k, j * s : j * s + k]
                    p, q = np.unravel_index(np.argmax(win), win.shape)
                    out[n, c, i, j] = win[p, q]
                    where.append((n, c, i * s + p, j * s + q))
    return out, where


# ----------------------------------------------------------------------------- im2col
def test_im2col_hand_case():
    # a 1x1x3x3 image, 2x2 windows, stride 1: four rows, each a window in (kh, kw) order
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    cols = F.im2col(x, 2, 2)
    np.testing.assert_array_equal(cols, [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]])


@given(conv_problems())
def test_im2col_rows_are_receptive_fields(problem):
    x, w, _, s, p = problem
    kh, kw = w.shape[2:]
    N, C, H, W = x.shape
    cols = F.im2col(x, kh, kw, s, p)
    Ho, Wo = F.output_size(H, kh, s, p), F.output_size(W, kw, s, p)
    assert cols.shape == (N * Ho * Wo, C * kh * kw)
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    n, i, j = N - 1, Ho - 1, Wo - 1  # the last row: the furthest window from the origin
    expected = xp[n, :, i * s : i * s + kh, j * s : j * s + kw].ravel()
    np.testing.assert_array_equal(cols[n * Ho * Wo + i * Wo + j], expected)


@given(conv_problems(), st.integers(0, 2**32 - 1))
def test_col2im_is_the_adjoint_of_im2col(problem, seed):
    # <im2col(x), c> == <x, col2im(c)> for every x and c: col2im is im2col's transpose
    x, w, _, s, p = problem
    kh, kw = w.shape[2:]
    cols = F.im2col(x, kh, kw, s, p)
    c = np.random.default_rng(seed).standard_normal(cols.shape)
    lhs = np.sum(cols * c)
    rhs = np.sum(x * F.col2im(c, x.shape, kh, kw, s, p))
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-10)


@given(conv_problems(), st.integers(0, 2**32 - 1))
def test_im2col_t_layout_and_its_adjoint(problem, seed):
    # the (C*kh*kw, N*H'*W') layout holds im2col's numbers transposed, and the adjoint
    # in that layout satisfies <im2col_t(x), c> == <x, adjoint(c)>
    x, w, _, s, p = problem
    kh, kw = w.shape[2:]
    cols_t = F.im2col_t(x, kh, kw, s, p)
    np.testing.assert_array_equal(cols_t, F.im2col(x, kh, kw, s, p).T)
    c = np.random.default_rng(seed).standard_normal(cols_t.shape)
    lhs = np.sum(cols_t * c)
    rhs = np.sum(x * F._patches_adjoint(c, x.shape, kh, kw, s, p, batch_first=False))
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-10)


# ----------------------------------------------------------------------------- conv2d
def test_conv2d_d2l_hand_case():
    # d2l 6.2: [[0,1,2],[3,4,5],[6,7,8]] (*) [[0,1],[2,3]] = [[19,25],[37,43]]
    # e.g. 19 = 0*0 + 1*1 + 3*2 + 4*3
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    k = np.arange(4.0).reshape(1, 1, 2, 2)
    out, _ = F.conv2d_forward(x, k, None)
    np.testing.assert_array_equal(out, [[[[19.0, 25.0], [37.0, 43.0]]]])


def test_conv2d_padding_and_stride_hand_case():
    # padding 1 around a 2x2 image of ones, a 2x2 kernel of ones, stride 2:
    # every window holds exactly one image pixel, so every output is 1 (+ bias 0.5)
    out, _ = F.conv2d_forward(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), np.array([0.5]), 2, 1)
    np.testing.assert_array_equal(out, np.full((1, 1, 2, 2), 1.5))


@given(conv_problems())
def test_conv2d_equals_naive_loops(problem):
    x, w, b, s, p = problem
    out, _ = F.conv2d_forward(x, w, b, s, p)
    np.testing.assert_allclose(out, naive_conv2d(x, w, b, s, p), rtol=1e-12, atol=1e-12)
    assert out.flags.c_contiguous


@settings(max_examples=25)
@given(conv_problems())
def test_conv2d_backward_matches_finite_differences(problem):
    x, w, b, s, p = problem
    inputs = {"x": x, "w": w, "b": b}

    def forward(x, w, b):
        return F.conv2d_forward(x, w, b, s, p)

    def backward(dout, cache):
        dx, dw, db = F.conv2d_backward(dout, cache)
        return {"x": dx, "w": dw} | ({} if db is None else {"b": db})

    errors = gradcheck_function(forward, backward, inputs, rng=0)
    assert set(errors) == {"x", "w"} | ({"b"} if b is not None else set())
    assert max(errors.values()) < GRAD_TOL, errors


def test_conv2d_keeps_float32():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    out, cache = F.conv2d_forward(x, w, np.zeros(4, np.float32), 1, 1)
    dx, dw, db = F.conv2d_backward(np.ones_like(out), cache)
    assert out.dtype == dx.dtype == dw.dtype == db.dtype == np.float32


# ----------------------------------------------------------------------------- max pool
def test_max_pool2d_hand_case():
    x = np.array([[1.0, 2.0, 5.0, 0.0],
                  [3.0, 4.0, 1.0, 1.0],
                  [0.0, 0.0, 2.0, 2.0],
                  [9.0, 0.0, 2.0, 8.0]]).reshape(1, 1, 4, 4)
    out, cache = F.max_pool2d_forward(x, 2)
    np.testing.assert_array_equal(out[0, 0], [[4.0, 5.0], [9.0, 8.0]])
    dx = F.max_pool2d_backward(np.array([[[[10.0, 20.0], [30.0, 40.0]]]]), cache)
    expected = np.zeros((4, 4))
    expected[1, 1], expected[0, 2], expected[3, 0], expected[3, 3] = 10, 20, 30, 40
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_max_pool2d_ties_go_to_the_first_maximum():
    # convention: the first maximum in row-major window order gets the whole gradient
    x = np.full((1, 1, 2, 2), 7.0)
    out, cache = F.max_pool2d_forward(x, 2)
    dx = F.max_pool2d_backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(dx[0, 0], [[1.0, 0.0], [0.0, 0.0]])


@given(st.one_of(pool_problems(), pool_problems(ties=True)))
def test_max_pool2d_equals_naive_loops_and_routes_to_argmax(problem):
    x, k, s = problem
    out, cache = F.max_pool2d_forward(x, k, s)
    ref, where = naive_max_pool2d(x, k, s)
    np.testing.assert_array_equal(out, ref)
    # backward with dout = 1 counts how many windows pick each input (overlaps add up)
    dx = F.max_pool2d_backward(np.ones_like(out), cache)
    expected = np.zeros_like(x)
    for idx in where:
        expected[idx] += 1
    np.testing.assert_array_equal(dx, expected)


def test_max_pool2d_propagates_nan():
    # as np.argmax / PyTorch: a window holding NaN outputs NaN and its first NaN is the argmax
    x = np.array([[1.0, np.nan, 5.0, 2.0],
                  [np.nan, 4.0, 1.0, 1.0]]).reshape(1, 1, 2, 4)
    out, cache = F.max_pool2d_forward(x, 2)
    assert np.isnan(out[0, 0, 0, 0]) and out[0, 0, 0, 1] == 5.0
    dx = F.max_pool2d_backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0, 1, 1, 0], [0, 0, 0, 0]])


@settings(max_examples=20)
@given(pool_problems())
def test_max_pool2d_backward_matches_finite_differences(problem):
    x, k, s = problem
    errors = gradcheck_function(
        lambda x: F.max_pool2d_forward(x, k, s), lambda d, c: {"x": F.max_pool2d_backward(d, c)},
        {"x": x}, rng=1,
    )
    assert errors["x"] < GRAD_TOL


# ----------------------------------------------------------------------------- softmax
def test_softmax_hand_case():
    z = np.array([[0.0, np.log(3.0)]])
    np.testing.assert_allclose(F.softmax(z), [[0.25, 0.75]], rtol=1e-15)
    np.testing.assert_allclose(F.log_softmax(z), np.log([[0.25, 0.75]]), rtol=1e-15)


def test_softmax_is_stable_at_large_magnitude():
    z = np.array([[1e4, -1e4, 0.0], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4]])
    # no overflow, no 0/0, no log(0) anywhere (exp(-2e4) underflowing to 0 is the point)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p = F.softmax(z)
        logp = F.log_softmax(z)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(p, [[1, 0, 0], [0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-15)
    assert np.isfinite(logp).all()
    np.testing.assert_allclose(logp[:, 0], [0.0, np.log(0.5), np.log(1 / 3)], rtol=1e-15)
    np.testing.assert_allclose(logp[0, 1], -2e4, rtol=1e-15)


@given(st.integers(1, 5), st.integers(1, 8), st.integers(0, 2**32 - 1),
       st.floats(-1e4, 1e4), st.floats(0.1, 100.0))
def test_softmax_properties(n, c, seed, shift, scale):
    z = scale * np.random.default_rng(seed).standard_normal((n, c))
    p = F.softmax(z)
    assert np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(F.softmax(z + shift), p, atol=1e-9)  # shift invariance
    np.testing.assert_allclose(np.exp(F.log_softmax(z)), p, atol=1e-12)


# ----------------------------------------------------------------------------- cross-entropy
def test_cross_entropy_hand_case():
    # uniform logits over 4 classes: loss = log 4, dL/dz = (1/4 - onehot(y)) / N
    loss, d = F.cross_entropy(np.zeros((2, 4)), np.array([1, 3]))
    assert loss == pytest.approx(np.log(4.0), rel=1e-15)
    np.testing.assert_allclose(d, [[0.125, -0.375, 0.125, 0.125], [0.125, 0.125, 0.125, -0.375]])
    # p = (1/4, 3/4): loss = -log(3/4) for label 1 and -log(1/4) for label 0
    z = np.array([[0.0, np.log(3.0)]] * 2)
    loss, _ = F.cross_entropy(z, np.array([1, 0]))
    assert loss == pytest.approx(-(np.log(0.75) + np.log(0.25)) / 2, rel=1e-14)


def test_cross_entropy_at_large_logits_is_finite():
    loss, d = F.cross_entropy(np.array([[1e4, -1e4], [-1e4, 1e4]]), np.array([1, 1]))
    assert loss == pytest.approx(1e4, rel=1e-12)  # (2e4 + 0) / 2
    assert np.isfinite(d).all()


@given(st.integers(1, 5), st.integers(2, 6), st.data())
def test_cross_entropy_gradient_matches_finite_differences(n, c, data):
    z = data.draw(seeded_normal((n, c)))
    y = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    _, d = F.cross_entropy(z, y)
    num = numerical_gradient(lambda: F.cross_entropy(z, y)[0], z)
    assert relative_error(d, num) < GRAD_TOL
    np.testing.assert_allclose(d.sum(axis=1), 0.0, atol=1e-15)  # softmax - onehot sums to 0


def test_cross_entropy_keeps_float32():
    _, d = F.cross_entropy(np.zeros((3, 5), np.float32), np.array([0, 1, 2]))
    assert d.dtype == np.float32
