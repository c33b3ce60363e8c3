"""Truncated SVD (section 4.4.1): Eckart-Young errors, exact full rank, sign convention,
rank by energy; hand cases beside Hypothesis properties."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress.lowrank import rank_for_energy, svd, svd_flip, svd_truncate


@st.composite
def matrix_and_rank(draw, max_side=7):
    m, n = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    seed = draw(st.integers(0, 2**32 - 1))
    W = np.random.default_rng(seed).standard_normal((m, n))
    return W, draw(st.integers(1, min(m, n)))


# ----------------------------------------------------------------------------- hand cases
def test_hand_case_diagonal():
    # W = diag(3, 2, 1): the best rank-2 approximation drops the 1
    W = np.diag([3.0, 2.0, 1.0])
    approx, U, s, Vt = svd_truncate(W, 2)
    np.testing.assert_allclose(approx, np.diag([3.0, 2.0, 0.0]), atol=1e-12)
    np.testing.assert_allclose(s, [3.0, 2.0])
    assert U.shape == (3, 2) and Vt.shape == (2, 3)
    assert np.linalg.norm(W - approx) == pytest.approx(1.0)       # sqrt(1^2)
    assert np.linalg.norm(W - approx, 2) == pytest.approx(1.0)    # sigma_3


def test_hand_case_rank_one():
    # [[1, 2], [2, 4]] = [1, 2]^T [1, 2] has rank 1 and sigma_1 = 5
    W = np.array([[1.0, 2.0], [2.0, 4.0]])
    approx, U, s, Vt = svd_truncate(W, 1)
    np.testing.assert_allclose(approx, W, atol=1e-12)
    assert s[0] == pytest.approx(5.0)
    np.testing.assert_allclose(U[:, 0], np.array([1.0, 2.0]) / np.sqrt(5))  # signs: svd_flip


def test_svd_flip_makes_largest_entry_positive_and_keeps_the_product():
    U = np.array([[0.6, -0.8], [-0.8, -0.6]])
    Vt = np.array([[1.0, 0.0], [0.0, 1.0]])
    U2, Vt2 = svd_flip(U, Vt)
    # both columns have -0.8 as their largest entry in absolute value: both flip
    np.testing.assert_allclose(U2, [[-0.6, 0.8], [0.8, 0.6]])
    np.testing.assert_allclose(Vt2, [[-1.0, 0.0], [0.0, -1.0]])
    np.testing.assert_allclose(U2 @ Vt2, U @ Vt)


def test_svd_flip_tie_goes_to_the_first_entry():
    h = np.sqrt(0.5)
    U2, _ = svd_flip(np.array([[-h], [h]]), np.ones((1, 1)))
    np.testing.assert_allclose(U2[:, 0], [h, -h])  # the first of the tied entries is made positive


def test_signs_do_not_depend_on_the_input_sign_pattern():
    W = np.random.default_rng(1).standard_normal((5, 4))
    U1, s1, Vt1 = svd(W)
    U2, _, Vt2 = svd(-W)  # -W = (-U) S Vt: svd_flip fixes the signs of U, so Vt changes sign
    np.testing.assert_allclose(U1, U2, atol=1e-12)
    np.testing.assert_allclose(Vt1, -Vt2, atol=1e-12)


def test_dtype_kept():
    W = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    assert svd_truncate(W, 2).approx.dtype == np.float32


# ----------------------------------------------------------------------------- properties
@given(matrix_and_rank())
def test_eckart_young_frobenius_and_spectral_errors(case):
    W, r = case
    s = np.linalg.svd(W, compute_uv=False)
    approx = svd_truncate(W, r).approx
    assert np.linalg.norm(W - approx) == pytest.approx(np.sqrt(np.sum(s[r:] ** 2)), abs=1e-9)
    expected_spectral = s[r] if r < len(s) else 0.0
    assert np.linalg.norm(W - approx, 2) == pytest.approx(expected_spectral, abs=1e-9)


@given(matrix_and_rank())
def test_no_other_rank_r_matrix_is_closer(case):
    W, r = case
    rng = np.random.default_rng(0)
    best = np.linalg.norm(W - svd_truncate(W, r).approx)
    for _ in range(5):
        B = rng.standard_normal((W.shape[0], r)) @ rng.standard_normal((r, W.shape[1]))
        B *= np.vdot(B, W) / np.vdot(B, B)  # the best multiple of B, to make it a fair rival
        assert best <= np.linalg.norm(W - B) + 1e-12


@given(matrix_and_rank())
def test_full_rank_is_exact_and_truncation_has_rank_r(case):
    W, r = case
    k = min(W.shape)
    np.testing.assert_allclose(svd_truncate(W, k).approx, W, atol=1e-10)
    res = svd_truncate(W, r)
    assert np.linalg.matrix_rank(res.approx) <= r
    np.testing.assert_allclose(res.U.T @ res.U, np.eye(r), atol=1e-10)
    np.testing.assert_allclose(res.Vt @ res.Vt.T, np.eye(r), atol=1e-10)


# ----------------------------------------------------------------------------- energy
@pytest.mark.parametrize(
    "energy, expected",
    [(0.5, 1), (9 / 14, 1), (0.65, 2), (13 / 14, 2), (0.95, 3), (1.0, 3)],
)
def test_rank_for_energy_hand_cases(energy, expected):
    # s = (3, 2, 1): s^2 = 9, 4, 1; kept shares 9/14, 13/14, 14/14; reaching a share counts
    assert rank_for_energy(np.array([3.0, 2.0, 1.0]), energy) == expected


def test_rank_for_energy_ignores_trailing_zeros_at_full_energy():
    assert rank_for_energy(np.array([2.0, 1.0, 0.0, 0.0]), 1.0) == 2


@given(matrix_and_rank(), st.floats(0.01, 1.0))
def test_rank_for_energy_is_the_smallest_rank_that_keeps_the_share(case, energy):
    W, _ = case
    s = np.linalg.svd(W, compute_uv=False)
    r = rank_for_energy(s, energy)
    kept = np.cumsum(s**2) / np.sum(s**2)
    assert kept[r - 1] >= energy - 1e-12
    assert r == 1 or kept[r - 2] < energy
    # equivalently: relative Frobenius error^2 of the rank-r truncation <= 1 - energy
    rel = np.linalg.norm(W - svd_truncate(W, r).approx) / np.linalg.norm(W)
    assert rel**2 <= 1 - energy + 1e-9


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("rank", [0, -1, 4])
def test_bad_rank(rank):
    with pytest.raises(ValueError, match=r"rank must be in \[1, 3\].*got"):
        svd_truncate(np.ones((3, 5)), rank)


@pytest.mark.parametrize("rank", [1.0, True, "2"])
def test_rank_must_be_an_int(rank):
    with pytest.raises(TypeError, match="rank must be an integer"):
        svd_truncate(np.ones((3, 5)), rank)


def test_svd_truncate_needs_a_matrix():
    with pytest.raises(ValueError, match="2-D"):
        svd_truncate(np.ones((2, 3, 4)), 1)


@pytest.mark.parametrize("energy", [0.0, -0.1, 1.5, float("nan")])
def test_bad_energy(energy):
    with pytest.raises(ValueError, match=r"energy must be in \(0.0, 1.0\]"):
        rank_for_energy(np.array([2.0, 1.0]), energy)


@pytest.mark.parametrize(
    "s, message",
    [([1.0, 2.0], "decreasing"), ([1.0, -0.5], "non-negative"), ([0.0, 0.0], "all singular values are zero")],
)
def test_bad_singular_values(s, message):
    with pytest.raises(ValueError, match=message):
        rank_for_energy(np.array(s), 0.9)


# ----------------------------------------------------------------------------- full SVD, scales
@st.composite
def matrices(draw, max_side=7):
    m, n = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1))).standard_normal((m, n))


@given(matrices())
def test_full_svd_is_orthogonal_and_extends_the_thin_one(W):
    m, n = W.shape
    k = min(m, n)
    U, s, Vt = svd(W, full_matrices=True)
    assert U.shape == (m, m) and Vt.shape == (n, n)
    np.testing.assert_allclose(U.T @ U, np.eye(m), atol=1e-12)
    np.testing.assert_allclose(Vt @ Vt.T, np.eye(n), atol=1e-12)
    np.testing.assert_allclose((U[:, :k] * s) @ Vt[:k], W, atol=1e-12)
    U1, s1, Vt1 = svd(W)
    np.testing.assert_array_equal(s, s1)
    np.testing.assert_allclose(U[:, :k], U1, atol=1e-12)
    np.testing.assert_allclose(Vt[:k], Vt1, atol=1e-12)
    # the unpaired columns follow the same sign rule: largest |entry| positive
    extra = np.vstack([U[:, k:].T, Vt[k:]]) if m == n else (U[:, k:].T if m > n else Vt[k:])
    for row in extra:
        assert row[np.argmax(np.abs(row))] > 0


def test_svd_refuses_empty_and_non_bool_flags():
    with pytest.raises(ValueError, match=r"W is empty \(shape \(0, 3\)\)"):
        svd(np.zeros((0, 3)))
    with pytest.raises(TypeError, match="full_matrices must be True or False; got 'yes'"):
        svd(np.eye(2), full_matrices="yes")


@given(st.lists(st.floats(0.01, 100.0), min_size=1, max_size=8), st.floats(0.01, 1.0),
       st.integers(-660, 660))
def test_rank_for_energy_does_not_depend_on_the_scale(values, energy, e):
    s = np.sort(np.array(values))[::-1]
    c = float(np.ldexp(1.0, e))  # 2**e: s * c is exact, from about 1e-199 to 1e200
    assert rank_for_energy(s * c, energy) == rank_for_energy(s, energy)
