"""The quantization tutorial runs top to bottom and prints what it claims."""

from pathlib import Path

from tests.tutorial_runner import run_tutorial

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "tutorials" / "02_quantization.md"


def test_tutorial_02_claims_hold():
    namespace, out = run_tutorial("02_quantization.md")
    assert "[-1.  1.  1. -1.  1.]" in out  # sign(0) = +1
    assert "True" in out  # int_matmul is exact
    assert namespace["int_acc"] > 75 and namespace["float_acc"] > 75


# Exercise 02 is graded with the others: tests/test_grading_corpus.py (its right and wrong
# solutions are in tests/grading_corpus/ex02_quantization.py).
