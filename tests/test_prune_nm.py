"""N:M sparsity: nm_mask keeps exactly n of every m weights along the input axis."""

import copy

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress import MLP, ConvNet, LeNet5
from minicompress.prune import nm_mask, prune_model
from minicompress.prune.nm import nm_mask_from_scores, parse_pattern
from tests.strategies import seeded_normal


def test_hand_case():
    w = np.array([0.1, -0.5, 0.3, 0.2, 0.9, 0.0, -0.9, 0.4])
    assert nm_mask(w, 2, 4).tolist() == [False, True, True, False, True, False, True, False]


def test_ties_keep_the_earlier_weight():
    assert nm_mask_from_scores(np.array([1.0, 3.0, 3.0, 3.0]), 2, 4).tolist() == [False, True, True, False]
    assert nm_mask(np.array([-2.0, 2.0, 2.0, -2.0]), 1, 4).tolist() == [True, False, False, False]
    assert nm_mask(np.zeros(4), 2, 4).tolist() == [True, True, False, False]


def test_groups_run_along_each_rows_input_axis():
    """(out, in): groups within a row, never across rows; a conv weight is grouped along the
    flattened C_in*kh*kw axis of its output channel, in (C_in, kh, kw) order."""
    w = np.array([[4.0, 3.0, 2.0, 1.0], [1.0, 2.0, 3.0, 4.0]])
    assert nm_mask(w, 2, 4).tolist() == [[True, True, False, False], [False, False, True, True]]
    conv = np.random.default_rng(0).standard_normal((3, 2, 2, 2))  # 8 weights per output channel
    np.testing.assert_array_equal(nm_mask(conv, 2, 4), nm_mask(conv.reshape(3, 8), 2, 4).reshape(conv.shape))


@st.composite
def nm_problems(draw):
    m = draw(st.integers(1, 6))
    n = draw(st.integers(1, m))
    rows, groups = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    w = draw(seeded_normal((rows, groups * m))).astype(dtype)
    if draw(st.booleans()):
        w = np.round(w, 1)  # ties
    return w, n, m


@given(nm_problems())
def test_exactly_n_per_group_and_the_kept_dominate(problem):
    w, n, m = problem
    mask = nm_mask(w, n, m)
    assert mask.shape == w.shape and mask.dtype == bool
    g_mask = mask.reshape(len(w), -1, m)
    g_abs = np.abs(w).reshape(len(w), -1, m)
    assert np.all(g_mask.sum(axis=-1) == n)
    kept_min = np.where(g_mask, g_abs, np.inf).min(axis=-1)
    pruned_max = np.where(g_mask, -np.inf, g_abs).max(axis=-1)
    assert np.all(kept_min >= pruned_max)
    # at most n non-zeros survive, and pruning the pruned weights again changes nothing
    pruned = w * mask
    assert np.all(np.count_nonzero(pruned.reshape(len(w), -1, m), axis=-1) <= n)
    np.testing.assert_array_equal(pruned * nm_mask(pruned, n, m), pruned)


def test_parse_pattern_and_bad_input():
    assert parse_pattern("2:4") == (2, 4) and parse_pattern((1, 8)) == (1, 8)
    with pytest.raises(ValueError, match=r"n must be <= m .*got n=5, m=4"):
        parse_pattern("5:4")
    with pytest.raises(ValueError, match="m must be >= 1; got 0"):
        nm_mask(np.ones(4), 0, 0)
    with pytest.raises(ValueError, match="n must be >= 1; got 0"):
        nm_mask(np.ones(4), 0, 4)
    with pytest.raises(ValueError, match="pattern must look like 'n:m'"):
        parse_pattern("2-4")
    with pytest.raises(TypeError, match="pattern must be a string"):
        parse_pattern(0.5)
    with pytest.raises(ValueError, match=r"each row holds 9 weights .* not a positive multiple of m=4"):
        nm_mask(np.ones((2, 9)), 2, 4)
    with pytest.raises(ValueError, match="non-finite"):
        nm_mask(np.array([1.0, np.nan, 0.0, 2.0]), 2, 4)


def test_prune_model_with_a_pattern():
    model = MLP([8, 12, 4], rng=0)
    dense = copy.deepcopy(model)
    masks = prune_model(model, None, pattern="2:4")
    for name, w in model.named_parameters():
        if name.endswith("weight"):
            np.testing.assert_array_equal(masks[name], nm_mask(dict(dense.named_parameters())[name], 2, 4))
            assert np.all(w[~masks[name]] == 0)
    assert prune_model(copy.deepcopy(dense), 0.5, pattern="2:4", apply=False).keys() == masks.keys()


def test_prune_model_pattern_errors():
    with pytest.raises(ValueError, match=r"pattern='2:4' keeps 2 of every 4 .* got sparsity=0.7"):
        prune_model(MLP([8, 4], rng=0), 0.7, pattern="2:4")
    with pytest.raises(ValueError, match="no global threshold; got scope='global'"):
        prune_model(MLP([8, 4], rng=0), None, pattern="2:4", scope="global")
    with pytest.raises(ValueError, match=r"parameter 'conv1.weight': .* 9 weights"):
        prune_model(ConvNet(channels=2, rng=0), None, pattern="2:4")
    with pytest.raises(ValueError, match=r"parameter 'conv1.weight': .* 25 weights"):
        prune_model(LeNet5(rng=0), None, pattern="2:4")  # LeNet5's conv1 rows hold 1*5*5 = 25
