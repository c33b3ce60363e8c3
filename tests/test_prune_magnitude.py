"""Threshold pruning (section 4.1.1): the threshold, the mask, and the text's snippet."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress.prune import magnitude_mask, magnitude_threshold, text_snippet_prune
from minicompress.prune.magnitude import mask_from_scores, n_to_prune
from tests.strategies import distinct_abs_arrays

sparsities = st.floats(0.0, 1.0, exclude_max=True)


# ---------------------------------------------------------------- hand cases
def test_threshold_hand_case():
    w = np.array([0.5, -0.1, 0.3, -0.9, 0.2, 0.7, -0.4, 0.8, 0.6, -1.0])
    # |w| sorted: 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1.0; k = floor(0.5 * 10) = 5 -> sort[5] = 0.6
    assert magnitude_threshold(w, 0.5) == 0.6
    mask = magnitude_mask(w, 0.5)
    assert mask.tolist() == [False, False, False, True, False, True, False, True, True, True]
    assert magnitude_threshold(w, 0.0) == 0.1  # k = 0: nothing below the smallest
    assert magnitude_mask(w, 0.0).all()
    assert magnitude_threshold(w, 0.99) == 1.0  # k = 9: only the largest survives


def test_text_snippet_prunes_one_too_few_and_crashes_at_k0():
    """The snippet's kthvalue counts from 1: at 50% of 10 weights it prunes 4, not 5."""
    w = np.arange(1.0, 11.0)
    snippet = text_snippet_prune(w, 0.5)
    ours = w * magnitude_mask(w, 0.5)
    assert np.count_nonzero(snippet == 0) == 4
    assert np.count_nonzero(ours == 0) == 5
    assert snippet[4] == 5.0 and ours[4] == 0.0  # the weight the snippet forgets
    with pytest.raises(RuntimeError, match="out of range"):
        text_snippet_prune(w, 0.05)  # int(10 * 0.05) = 0: torch.kthvalue raises
    assert magnitude_mask(w, 0.05).all()  # k = 0: nothing pruned, no crash


@given(distinct_abs_arrays(), sparsities)
def test_snippet_differs_from_ours_by_exactly_one_weight(w, s):
    k = n_to_prune(w.size, s)
    if int(w.size * s) != k or k < 1:  # outside the range where the snippet runs (or round-off)
        return
    assert np.count_nonzero(text_snippet_prune(w, s) == 0) == k - 1
    assert np.count_nonzero(~magnitude_mask(w, s)) == k


def test_ties_at_the_threshold_survive():
    w = np.array([1.0, -1.0, 1.0, 1.0, 2.0, 3.0])
    # k = 3, sort(|w|)[3] = 1: no rule that only looks at |w| can tell the four 1s apart
    assert magnitude_threshold(w, 0.5) == 1.0
    assert magnitude_mask(w, 0.5).all()
    assert magnitude_mask(w, 0.7).tolist() == [False, False, False, False, True, True]  # k = 4


def test_n_to_prune_round_off():
    assert 0.29 * 100 < 29  # binary round-off: floor would give 28
    assert n_to_prune(100, 0.29) == 29
    assert n_to_prune(10, 0.0) == 0
    assert n_to_prune(3, 1 - 2**-53) == 2  # sparsity < 1 always keeps one weight
    assert n_to_prune(7, 0.5) == 3


# ---------------------------------------------------------------- properties
@given(distinct_abs_arrays(), sparsities)
def test_exactly_floor_sn_zeros_without_ties(w, s):
    pruned = w * magnitude_mask(w, s)
    assert np.count_nonzero(pruned == 0) == n_to_prune(w.size, s)
    assert n_to_prune(w.size, s) in (math.floor(s * w.size), math.floor(s * w.size) + 1)


@given(distinct_abs_arrays(), sparsities)
def test_mask_is_idempotent_and_survivors_unchanged(w, s):
    mask = magnitude_mask(w, s)
    pruned = w * mask
    assert np.array_equal(magnitude_mask(pruned, s), mask)
    assert np.array_equal(pruned[mask], w[mask])  # survivors bit-identical
    assert np.all(pruned[~mask] == 0)


@given(distinct_abs_arrays(), sparsities, sparsities)
def test_mask_monotone_in_sparsity(w, s1, s2):
    lo, hi = sorted((s1, s2))
    m_lo, m_hi = magnitude_mask(w, lo), magnitude_mask(w, hi)
    assert np.all(m_hi <= m_lo)  # everything kept at the higher sparsity is kept at the lower


@given(distinct_abs_arrays(), sparsities)
def test_pruned_are_the_smallest(w, s):
    mask = magnitude_mask(w, s)
    if mask.all():
        return
    assert np.abs(w[~mask]).max() < np.abs(w[mask]).min()


def test_mask_from_scores_equals_magnitude_mask_on_abs(rng):
    w = rng.standard_normal((7, 5))
    assert np.array_equal(mask_from_scores(np.abs(w), 0.6), magnitude_mask(w, 0.6))


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("s", [1.0, 1.2, -0.1, float("nan")])
def test_sparsity_out_of_range(s):
    with pytest.raises(ValueError, match=r"sparsity must be in \[0.0, 1.0\)"):
        magnitude_mask(np.ones(4), s)


def test_bad_weights():
    with pytest.raises(TypeError, match="sparsity must be a real number"):
        magnitude_threshold(np.ones(3), "0.5")
    with pytest.raises(ValueError, match="w is empty"):
        magnitude_threshold(np.array([]), 0.5)
    with pytest.raises(ValueError, match="w contains 1 non-finite"):
        magnitude_mask(np.array([1.0, np.nan]), 0.5)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        n_to_prune(0, 0.5)
