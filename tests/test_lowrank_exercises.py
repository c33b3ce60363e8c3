"""Exercise 04 (unfold/fold, mode_dot, truncated SVD): the reference passes its own checks,
plausible wrong answers fail with a useful message, the stub is all TODO."""

import types
from pathlib import Path

import numpy as np

from minicompress.exercises import ex04_lowrank as ref
from minicompress.grading import grade_module, load_student_module

STUB = Path(__file__).resolve().parents[1] / "tutorials" / "exercises" / "ex04_lowrank.py"


def test_reference_passes():
    results = grade_module(ref, ref.CHECKS, max_examples=15)
    assert [r.status for r in results] == ["PASS"] * 4, [r.render() for r in results]


def test_c_order_unfolding_fails_on_kolda_bader_example():
    # the TensorLy-style unfolding: right columns, wrong order
    wrong = types.SimpleNamespace(
        unfold=lambda T, mode: np.moveaxis(T, mode, 0).reshape(T.shape[mode], -1),
        fold=lambda M, mode, shape: np.moveaxis(
            M.reshape((shape[mode], *shape[:mode], *shape[mode + 1:])), 0, mode),
        mode_dot=ref.mode_dot,
        truncated_svd=lambda W, rank: W,  # forgot to truncate
    )
    results = {r.function: r for r in grade_module(wrong, ref.CHECKS, max_examples=15)}
    assert results["unfold"].status == "FAIL"
    text = results["unfold"].render()
    assert "smallest failing input" in text and "expected" in text and "received" in text
    assert results["fold"].status == "FAIL"
    assert results["mode_dot"].status == "PASS"
    assert results["truncated_svd"].status == "FAIL"


def test_transposed_mode_dot_fails_with_the_error_shown():
    wrong = types.SimpleNamespace(mode_dot=lambda T, M, mode: ref.fold(
        M.T @ ref.unfold(T, mode), mode, T.shape))
    result = grade_module(wrong, [c for c in ref.CHECKS if c.function == "mode_dot"], max_examples=5)[0]
    assert result.status == "FAIL"
    # the hand case (M: (2, 3) on a mode of size 3) already fails: M.T @ T_(0) cannot multiply
    assert result.n_tried == 1
    assert "raised:   ValueError: matmul" in result.render()


def test_stub_is_all_todo():
    results = grade_module(load_student_module(STUB), ref.CHECKS, max_examples=5)
    assert [r.status for r in results] == ["TODO"] * 4
