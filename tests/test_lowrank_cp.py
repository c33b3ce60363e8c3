"""CP decomposition (section 3.4.1): cp_to_tensor's closed form, one ALS step solves its
least-squares problem, CP-ALS recovers an exactly low-rank tensor, determinism, bad input."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minicompress.lowrank import cp_als, cp_als_step, cp_to_tensor, khatri_rao, unfold


def coherence(A):
    """Largest |cos| between two distinct columns of A."""
    B = A / np.linalg.norm(A, axis=0)
    C = np.abs(B.T @ B)
    np.fill_diagonal(C, 0.0)
    return C.max()


@st.composite
def low_rank_cp(draw):
    """An exactly rank-R tensor, R <= min(shape), from Gaussian factors.

    Draws whose factor columns are nearly parallel (|cos| > 0.8) are filtered out: there ALS
    meets 'swamps' (Kolda & Bader 2009, section 3.4) and converges arbitrarily slowly; that
    is a property of the algorithm, shown in test_swamp_is_slow below, not a bug.
    """
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=4, min_side=2, max_side=6))
    R = draw(st.integers(1, min(shape)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    factors = [rng.standard_normal((I, R)) for I in shape]
    if R > 1:
        assume(max(coherence(A) for A in factors) <= 0.8)
    weights = rng.uniform(0.5, 2.0, size=R)
    return weights, factors


def test_cp_to_tensor_hand_case():
    # 2 * [1, 2] o [3, 4] = [[6, 8], [12, 16]]
    T = cp_to_tensor(np.array([2.0]), [np.array([[1.0], [2.0]]), np.array([[3.0], [4.0]])])
    np.testing.assert_array_equal(T, [[6.0, 8.0], [12.0, 16.0]])


@given(low_rank_cp())
def test_cp_to_tensor_is_the_sum_of_outer_products(case):
    weights, factors = case
    expected = 0
    for r, w in enumerate(weights):
        term = w
        for A in factors:
            term = np.multiply.outer(term, A[:, r])
        expected = expected + term
    np.testing.assert_allclose(cp_to_tensor(weights, factors), expected, atol=1e-12)


def test_rank_one_tensor_is_recovered_with_its_norm_as_weight():
    a, b, c = np.array([1.0, 2.0]), np.array([3.0, 0.0, 4.0]), np.array([1.0, 1.0])
    T = np.einsum("i,j,k->ijk", a, b, c)
    weights, factors = cp_als(T, 1)
    assert weights[0] == pytest.approx(np.sqrt(5) * 5 * np.sqrt(2))  # ||a|| ||b|| ||c||
    np.testing.assert_allclose(cp_to_tensor(weights, factors), T, atol=1e-12)
    for A in factors:
        assert np.linalg.norm(A[:, 0]) == pytest.approx(1.0)


@given(low_rank_cp())
def test_cp_als_recovers_an_exactly_low_rank_tensor(case):
    T = cp_to_tensor(*case)
    R = len(case[0])
    weights, factors = cp_als(T, R, rng=0, n_restarts=3)
    assert np.linalg.norm(T - cp_to_tensor(weights, factors)) / np.linalg.norm(T) < 1e-6
    assert np.all(weights >= 0) and np.all(np.diff(weights) <= 0)


def test_same_seed_same_result():
    T = np.random.default_rng(0).standard_normal((4, 5, 3))
    w1, f1 = cp_als(T, 3, rng=7, init="random", n_iter=50)
    w2, f2 = cp_als(T, 3, rng=7, init="random", n_iter=50)
    np.testing.assert_array_equal(w1, w2)
    for a, b in zip(f1, f2):
        np.testing.assert_array_equal(a, b)


def test_swamp_is_slow():
    # two nearly parallel columns (|cos| ~ 0.9987) in mode 0: 50 sweeps are far from enough
    rng = np.random.default_rng(188)
    factors = [rng.standard_normal((I, 2)) for I in (2, 6, 5)]
    factors[0][:, 1] = factors[0][:, 0] + 0.05 * np.array([1.0, -1.0])
    T = cp_to_tensor(np.ones(2), factors)
    w, f = cp_als(T, 2, n_iter=50, tol=0.0)
    assert np.linalg.norm(T - cp_to_tensor(w, f)) / np.linalg.norm(T) > 1e-6


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("rank", [0, 7])
def test_bad_rank(rank):
    # every 2 x 3 x 2 tensor has CP rank <= prod(shape) / max(shape) = 12 / 3 = 4
    with pytest.raises(ValueError, match=r"rank must be in \[1, 4\]"):
        cp_als(np.ones((2, 3, 2)), rank)


def test_needs_two_axes_and_a_nonzero_tensor():
    with pytest.raises(ValueError, match="at least 2 axes"):
        cp_als(np.ones(4), 1)
    with pytest.raises(ValueError, match="all zeros"):
        cp_als(np.zeros((2, 2)), 1)


def test_weights_must_match_factors():
    with pytest.raises(ValueError, match=r"weights must have shape \(2,\)"):
        cp_to_tensor(np.ones(3), [np.ones((2, 2)), np.ones((3, 2))])


# ----------------------------------------------------------------------------- extreme scales
@given(st.integers(0, 2**32 - 1), st.integers(-660, 660))
def test_cp_weights_scale_with_the_tensor(seed, e):
    """CP-ALS runs on T over a power of two: c T gets exactly c times the weights of T."""
    T = np.random.default_rng(seed).standard_normal((3, 2, 4))
    c = float(np.ldexp(1.0, e))
    w, factors = cp_als(T, 2, n_iter=30)
    w_c, factors_c = cp_als(T * c, 2, n_iter=30)
    np.testing.assert_array_equal(w_c, w * c)
    for A, A_c in zip(factors, factors_c):
        np.testing.assert_array_equal(A_c, A)


def test_cp_of_an_empty_tensor_is_refused():
    with pytest.raises(ValueError, match=r"at least 2 axes and one entry .* shape \(2, 0, 3\)"):
        cp_als(np.zeros((2, 0, 3)), 1)
    with pytest.raises(TypeError, match="init must be one of \\('svd', 'random'\\); got 1"):
        cp_als(np.ones((2, 2)), 1, init=1)
    with pytest.raises(TypeError, match="factors must be a list or tuple of matrices"):
        cp_to_tensor(np.ones(1), np.ones((2, 1)))


# ----------------------------------------------------------------------------- one ALS step
def test_cp_als_step_by_hand():
    # T = a o b o c: with b and c exact, the least-squares a is a itself (the scale of b and
    # c moves into it: (b.b)(c.c) / ((b.b)(c.c)) = 1)
    a, b, c = np.array([1.0, 2.0]), np.array([1.0, -1.0, 2.0]), np.array([2.0, 1.0])
    T = np.einsum("i,j,k->ijk", a, b, c)
    A = cp_als_step(T, [np.ones((2, 1)), b[:, None], c[:, None]], 0)
    np.testing.assert_allclose(A.ravel(), a, rtol=1e-12)
    A = cp_als_step(T, [np.ones((2, 1)), 2 * b[:, None], c[:, None]], 0)
    np.testing.assert_allclose(A.ravel(), a / 2, rtol=1e-12)


@given(hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=4), st.integers(1, 3),
       st.integers(0, 3), st.integers(0, 2**32 - 1))
def test_cp_als_step_solves_the_normal_equations(shape, R, mode, seed):
    # A_n minimises ||T - [[A_0, ..., A_n, ...]]||: its residual is orthogonal to the
    # Khatri-Rao columns, R_(n) (A_{N-1} kr ... kr A_0, skipping n) = 0
    mode = mode % len(shape)
    rng = np.random.default_rng(seed)
    T = rng.standard_normal(shape)
    factors = [rng.standard_normal((n, R)) for n in shape]
    kr = khatri_rao([F for k, F in enumerate(factors) if k != mode][::-1])
    assume(np.linalg.cond(kr.T @ kr) < 1e6)  # round-off grows with the conditioning
    A = cp_als_step(T, factors, mode)
    assert A.shape == (shape[mode], R)
    factors[mode] = A
    residual = unfold(T - cp_to_tensor(np.ones(R), factors), mode)
    assert np.abs(residual @ kr).max() <= 1e-8 * (1.0 + np.abs(unfold(T, mode) @ kr).max())


def test_cp_als_step_bad_input():
    with pytest.raises(ValueError, match="one matrix per axis"):
        cp_als_step(np.ones((2, 2)), [np.ones((2, 1))], 0)
    with pytest.raises(ValueError, match=r"factors\[k\] must be"):
        cp_als_step(np.ones((2, 3)), [np.ones((2, 1)), np.ones((2, 1))], 0)
    with pytest.raises(ValueError, match="mode must be <= 1"):
        cp_als_step(np.ones((2, 3)), [np.ones((2, 1)), np.ones((3, 1))], 2)
