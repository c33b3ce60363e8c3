"""Tucker (section 4.4.2): HOSVD orthonormal / exact at full rank / within its error bound;
HOOI never worse than its HOSVD start; bad ranks."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minicompress.lowrank import hooi, hosvd, mode_dot, tucker_to_tensor, unfold
from minicompress.lowrank.tucker import tucker_error


def bound(shape, n):
    return min(shape[n], int(np.prod(shape)) // shape[n])


@st.composite
def tensor_and_ranks(draw, min_dims=2, max_dims=4, max_side=5):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side))
    T = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).standard_normal(shape)
    ranks = [draw(st.integers(1, bound(shape, n))) for n in range(len(shape))]
    return T, ranks


def error(T, core, factors, modes=None):
    return np.linalg.norm(T - tucker_to_tensor(core, factors, modes))


# ----------------------------------------------------------------------------- hand cases
def test_hosvd_of_a_diagonal_tensor_keeps_the_largest_entry():
    T = np.zeros((3, 3, 3))
    T[0, 0, 0], T[1, 1, 1], T[2, 2, 2] = 1.0, 3.0, 2.0
    core, factors = hosvd(T, (1, 1, 1))
    assert core.shape == (1, 1, 1) and core[0, 0, 0] == pytest.approx(3.0)
    np.testing.assert_allclose(np.abs(factors[0][:, 0]), [0, 1, 0], atol=1e-12)
    assert error(T, core, factors) == pytest.approx(np.sqrt(1.0**2 + 2.0**2))


def test_hosvd_recovers_an_exact_multilinear_rank_tensor():
    rng = np.random.default_rng(0)
    G = rng.standard_normal((2, 3, 2))
    Us = [np.linalg.qr(rng.standard_normal((I, r)))[0] for I, r in [(5, 2), (4, 3), (6, 2)]]
    T = tucker_to_tensor(G, Us)
    core, factors = hosvd(T, (2, 3, 2))
    assert error(T, core, factors) < 1e-12 * np.linalg.norm(T)


def test_partial_tucker_leaves_other_modes_alone():
    T = np.random.default_rng(0).standard_normal((6, 5, 3, 3))
    core, factors = hosvd(T, (2, 4), modes=(0, 1))
    assert core.shape == (2, 4, 3, 3)
    assert [U.shape for U in factors] == [(6, 2), (5, 4)]
    core, factors = hosvd(T, (6, 5), modes=(0, 1))
    np.testing.assert_allclose(tucker_to_tensor(core, factors, modes=(0, 1)), T, atol=1e-12)


def test_tucker_to_tensor_is_a_chain_of_mode_products():
    rng = np.random.default_rng(1)
    G = rng.standard_normal((2, 2))
    A, B = rng.standard_normal((3, 2)), rng.standard_normal((4, 2))
    np.testing.assert_allclose(tucker_to_tensor(G, [A, B]), A @ G @ B.T)  # matrix case
    np.testing.assert_allclose(tucker_to_tensor(G, [A, B]), mode_dot(mode_dot(G, A, 0), B, 1))


# ----------------------------------------------------------------------------- properties
@given(tensor_and_ranks())
def test_hosvd_factors_are_orthonormal(case):
    T, ranks = case
    _, factors = hosvd(T, ranks)
    for U, r in zip(factors, ranks):
        np.testing.assert_allclose(U.T @ U, np.eye(r), atol=1e-10)


@given(tensor_and_ranks())
def test_full_rank_hosvd_is_exact(case):
    T, _ = case
    full = [bound(T.shape, n) for n in range(T.ndim)]
    core, factors = hosvd(T, full)
    np.testing.assert_allclose(tucker_to_tensor(core, factors), T, atol=1e-10)


@given(tensor_and_ranks())
def test_hosvd_error_bound(case):
    # ||T - T_hat||^2 <= sum_n sum_{i > r_n} sigma_i(T_(n))^2   (De Lathauwer et al. 2000)
    T, ranks = case
    core, factors = hosvd(T, ranks)
    discarded = sum(np.sum(np.linalg.svd(unfold(T, n), compute_uv=False)[r:] ** 2)
                    for n, r in enumerate(ranks))
    assert error(T, core, factors) ** 2 <= discarded * (1 + 1e-10) + 1e-20
    # and orthonormal factors make the error Pythagorean: ||T||^2 = ||T_hat||^2 + ||T - T_hat||^2
    assert error(T, core, factors) ** 2 == pytest.approx(np.sum(T**2) - np.sum(core**2), abs=1e-9)


@given(tensor_and_ranks(min_dims=3, max_dims=3))
def test_hooi_never_ends_worse_than_its_hosvd_start(case):
    T, ranks = case
    errors = [error(T, *hooi(T, ranks, n_iter=k, tol=0.0)) for k in range(4)]
    assert errors[0] == pytest.approx(error(T, *hosvd(T, ranks)), abs=1e-12)  # n_iter=0 is HOSVD
    slack = 1e-10 * np.linalg.norm(T)
    assert all(b <= a + slack for a, b in zip(errors, errors[1:]))  # every sweep helps or holds
    assert error(T, *hooi(T, ranks)) <= errors[0] + slack


def test_hooi_improves_on_hosvd_for_a_random_tensor():
    # not just "no worse": on a generic tensor HOSVD is not optimal and HOOI strictly helps
    T = np.random.default_rng(3).standard_normal((6, 6, 6))
    e_hosvd, e_hooi = error(T, *hosvd(T, (2, 2, 2))), error(T, *hooi(T, (2, 2, 2)))
    assert e_hooi < e_hosvd - 1e-3


def test_hooi_keeps_sweeping_until_it_converges():
    # one sweep is not the end: on this tensor the later sweeps still raise ||G||, and the
    # result is a fixed point (one more sweep changes nothing)
    T = np.random.default_rng(3).standard_normal((6, 6, 6))
    one = np.linalg.norm(hooi(T, (2, 2, 2), n_iter=1, tol=0.0)[0])
    many, factors = hooi(T, (2, 2, 2), n_iter=200, tol=0.0)
    again = np.linalg.norm(hooi(T, (2, 2, 2), n_iter=201, tol=0.0)[0])
    assert np.linalg.norm(many) > one + 1e-6
    assert again == pytest.approx(np.linalg.norm(many), rel=1e-9)


def test_tucker_error_by_hand():
    # diag(3, 2, 1) at ranks (2, 2): the core keeps 3 and 2, the error is the dropped 1
    T = np.diag([3.0, 2.0, 1.0])
    assert tucker_error(T, *hosvd(T, (2, 2))) == pytest.approx(1.0, abs=1e-12)
    assert tucker_error(T, *hosvd(T, (3, 3))) == pytest.approx(0.0, abs=1e-12)


# ----------------------------------------------------------------------------- bad input
def test_tucker_error_rejects_a_tensor_of_another_shape():
    T = np.random.default_rng(0).standard_normal((3, 4, 5))
    core, factors = hosvd(T, (2, 2, 2))
    with pytest.raises(ValueError, match=r"\(1, 4, 5\) but the Tucker tensor .* \(3, 4, 5\)"):
        tucker_error(T[:1], core, factors)  # would broadcast to a meaningless number


@pytest.mark.parametrize("ranks", [(2, 2), (2, 2, 2, 2), 2])
def test_ranks_of_the_wrong_length(ranks):
    with pytest.raises(ValueError, match="ranks"):
        hosvd(np.ones((3, 3, 3)), ranks)


@pytest.mark.parametrize("ranks, message", [
    ((0, 2, 2), r"rank for mode 0 must be in \[1, 3\]"),
    ((2, 4, 2), r"rank for mode 1 must be in \[1, 3\]"),
])
def test_ranks_out_of_range(ranks, message):
    with pytest.raises(ValueError, match=message):
        hooi(np.ones((3, 3, 3)), ranks)


def test_rank_bound_is_that_of_the_unfolding():
    # mode 0 of a 10 x 2 x 2 tensor: its unfolding is 10 x 4, so rank <= 4
    with pytest.raises(ValueError, match=r"\[1, 4\].*\(10, 4\)"):
        hosvd(np.ones((10, 2, 2)), (5, 2, 2))


def test_bad_modes():
    with pytest.raises(ValueError, match="distinct"):
        hosvd(np.ones((3, 3, 3)), (1, 1), modes=(0, 0))


# ----------------------------------------------------------------------------- extreme scales
@given(tensor_and_ranks(max_dims=3), st.integers(-660, 660))
def test_tucker_is_scale_equivariant_at_every_scale(tr, e):
    """HOSVD/HOOI of c T (c a power of two): the same factors, c times the core, c times
    the error, with no overflow in ||G||^2 near 1e200 and no underflow near 1e-200."""
    T, ranks = tr
    c = float(np.ldexp(1.0, e))
    for decompose in (hosvd, lambda X, r: hooi(X, r, n_iter=3)):
        core, factors = decompose(T, ranks)
        core_c, factors_c = decompose(T * c, ranks)
        np.testing.assert_array_equal(core_c, core * c)
        for U, U_c in zip(factors, factors_c):
            np.testing.assert_array_equal(U_c, U)
        assert tucker_error(T * c, core_c, factors_c) == tucker_error(T, core, factors) * c


def test_tucker_bad_shapes_and_empty_tensors():
    with pytest.raises(ValueError, match=r"T must have at least one axis and one entry; got shape \(3, 0\)"):
        hooi(np.zeros((3, 0)), [1, 1])
    with pytest.raises(ValueError, match=r"factors\[1\] has shape \(4, 3\) but the core has 2 entries"):
        tucker_to_tensor(np.ones((2, 2)), [np.ones((3, 2)), np.ones((4, 3))])
    with pytest.raises(TypeError, match="ranks for mode 0 must be an integer; got \\[1\\]"):
        hosvd(np.ones((2, 2)), [[1], [1, 2]])
    with pytest.raises(ValueError, match=r"factors\[0\] contains 2 non-finite"):
        tucker_error(np.ones((2, 2)), np.ones((1, 1)), [np.full((2, 1), np.inf), np.ones((2, 1))])
