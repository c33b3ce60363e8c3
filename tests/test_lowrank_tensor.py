"""Tensor algebra (Kolda & Bader 2009): unfold/fold column order, round trips, mode_dot
against unfold-multiply-fold and np.einsum, the Khatri-Rao product."""

import string

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minicompress.lowrank import fold, khatri_rao, mode_dot, unfold

# Kolda & Bader's 3 x 4 x 2 example: frontal slices [[1,4,7,10],[2,5,8,11],[3,6,9,12]] and +12
X = np.arange(1, 25).reshape(3, 4, 2, order="F").astype(float)


@st.composite
def tensor_and_mode(draw, min_dims=1, max_dims=4):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=5))
    seed = draw(st.integers(0, 2**32 - 1))
    T = np.random.default_rng(seed).standard_normal(shape)
    return T, draw(st.integers(0, len(shape) - 1)), seed


def test_unfold_matches_kolda_bader_example():
    np.testing.assert_array_equal(unfold(X, 0), [[1, 4, 7, 10, 13, 16, 19, 22],
                                                 [2, 5, 8, 11, 14, 17, 20, 23],
                                                 [3, 6, 9, 12, 15, 18, 21, 24]])
    np.testing.assert_array_equal(unfold(X, 1), [[1, 2, 3, 13, 14, 15], [4, 5, 6, 16, 17, 18],
                                                 [7, 8, 9, 19, 20, 21], [10, 11, 12, 22, 23, 24]])
    np.testing.assert_array_equal(unfold(X, 2), [np.arange(1, 13), np.arange(13, 25)])


def test_unfold_is_not_the_c_order_unfolding():
    # the move-axis-then-C-order unfolding has the same columns in another order
    c_order = np.moveaxis(X, 1, 0).reshape(4, -1)
    assert not np.array_equal(unfold(X, 1), c_order)
    assert sorted(map(tuple, unfold(X, 1).T)) == sorted(map(tuple, c_order.T))


def test_mode_dot_matches_kolda_bader_example():
    U = np.array([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]])
    Y = mode_dot(X, U, 0)
    assert Y.shape == (2, 4, 2)
    np.testing.assert_array_equal(Y[:, :, 0], [[22, 49, 76, 103], [28, 64, 100, 136]])
    np.testing.assert_array_equal(Y[:, :, 1], [[130, 157, 184, 211], [172, 208, 244, 280]])


@given(tensor_and_mode())
def test_fold_unfold_round_trip(case):
    T, n, _ = case
    M = unfold(T, n)
    assert M.shape == (T.shape[n], T.size // T.shape[n])
    np.testing.assert_array_equal(fold(M, n, T.shape), T)
    np.testing.assert_array_equal(unfold(fold(M, n, T.shape), n), M)


@given(tensor_and_mode(), st.integers(1, 4))
def test_mode_dot_agrees_with_unfold_multiply_fold_and_einsum(case, J):
    T, n, seed = case
    M = np.random.default_rng(seed + 1).standard_normal((J, T.shape[n]))
    Y = mode_dot(T, M, n)
    out_shape = T.shape[:n] + (J,) + T.shape[n + 1:]
    np.testing.assert_allclose(Y, fold(M @ unfold(T, n), n, out_shape), rtol=1e-12, atol=1e-12)
    letters = string.ascii_lowercase[: T.ndim]
    out = letters[:n] + "z" + letters[n + 1:]
    np.testing.assert_allclose(Y, np.einsum(f"{letters},z{letters[n]}->{out}", T, M),
                               rtol=1e-12, atol=1e-12)


@given(tensor_and_mode(min_dims=2, max_dims=3))
def test_mode_dots_on_distinct_modes_commute(case):
    T, n, seed = case
    m = (n + 1) % T.ndim
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((2, T.shape[n]))
    B = rng.standard_normal((3, T.shape[m]))
    np.testing.assert_allclose(mode_dot(mode_dot(T, A, n), B, m), mode_dot(mode_dot(T, B, m), A, n),
                               atol=1e-10)


def test_khatri_rao_columns_are_kronecker_products():
    rng = np.random.default_rng(0)
    A, B, C = rng.standard_normal((2, 3)), rng.standard_normal((4, 3)), rng.standard_normal((3, 3))
    K = khatri_rao([A, B, C])
    assert K.shape == (24, 3)
    for r in range(3):
        np.testing.assert_allclose(K[:, r], np.kron(np.kron(A[:, r], B[:, r]), C[:, r]))


def test_unfolding_of_a_cp_tensor_uses_the_reversed_khatri_rao():
    # Kolda & Bader (2009), section 3: X_(n) = A_n (A_N kr ... kr A_{n+1} kr A_{n-1} kr ... kr A_1)^T
    rng = np.random.default_rng(0)
    A = [rng.standard_normal((I, 2)) for I in (3, 4, 2)]
    T = np.einsum("ir,jr,kr->ijk", *A)
    for n in range(3):
        others = [A[k] for k in range(3) if k != n][::-1]
        np.testing.assert_allclose(unfold(T, n), A[n] @ khatri_rao(others).T, atol=1e-12)


# ----------------------------------------------------------------------------- bad input
def test_mode_out_of_range():
    with pytest.raises(ValueError, match="mode must be <= 2; got 3"):
        unfold(X, 3)
    with pytest.raises(ValueError, match="mode must be >= 0; got -1"):
        mode_dot(X, np.ones((2, 3)), -1)


def test_mode_dot_shape_mismatch_quotes_both_shapes():
    with pytest.raises(ValueError, match=r"M has shape \(2, 4\) but T has shape \(3, 4, 2\)"):
        mode_dot(X, np.ones((2, 4)), 0)


def test_fold_checks_the_shape():
    expected = r"mode-0 unfolding of a tensor of shape \(3, 4, 2\) has shape \(3, 8\)"
    with pytest.raises(ValueError, match=expected):
        fold(np.ones((3, 7)), 0, (3, 4, 2))


def test_khatri_rao_needs_equal_column_counts():
    with pytest.raises(ValueError, match="same number of columns"):
        khatri_rao([np.ones((2, 3)), np.ones((2, 2))])


# ----------------------------------------------------------------------------- copies, not views
@given(tensor_and_mode(), st.sampled_from(["C", "F"]))
def test_unfold_fold_and_khatri_rao_never_return_views(tm, order):
    T, n, _ = tm
    T = np.asarray(T, order=order)  # in F order a plain reshape would be a view of T
    M = unfold(T, n)
    assert not np.shares_memory(M, T)
    back = fold(M, n, T.shape)
    np.testing.assert_array_equal(back, T)
    assert not np.shares_memory(back, M)
    A = np.asarray(M, order=order)
    K = khatri_rao([A])
    np.testing.assert_array_equal(K, A)
    assert not np.shares_memory(K, A)


def test_unfold_of_a_tensor_with_an_empty_axis():
    assert unfold(np.zeros((2, 0, 3)), 0).shape == (2, 0)
    assert unfold(np.zeros((2, 0, 3)), 1).shape == (0, 6)


@pytest.mark.parametrize("call, error, match", [
    (lambda: fold(np.ones((2, 3)), 0, 6), TypeError, "shape must be a list or tuple of ints; got 6"),
    (lambda: fold(np.ones((2, 3)), 0, (2, 3.0)), TypeError, r"shape\[1\] must be an integer; got 3.0"),
    (lambda: mode_dot(np.float64(1.0), np.ones((1, 1)), 0), ValueError, "T must have at least one axis"),
    (lambda: khatri_rao(np.ones((2, 2))), TypeError, "matrices must be a list or tuple of matrices"),
])
def test_tensor_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
