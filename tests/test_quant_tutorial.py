"""The claims tutorials/02_quantization.md prints hold (the run itself, and the check of every
shown output: tests/test_tutorials.py)."""

import pytest

from tests.tutorial_runner import run_notebook

pytestmark = pytest.mark.slow


def test_tutorial_02_claims_hold():
    out = run_notebook("02_quantization.md").output
    assert "[-1.  1.  1. -1.  1.]" in out  # sign(0) = +1
    assert "\nTrue\n" in out  # int_matmul is exact
    assert "integer-only accuracy" in out


# Exercise 02 is graded with the others: tests/test_grading_corpus.py (its right and wrong
# solutions are in tests/grading_corpus/ex02_quantization.py).
