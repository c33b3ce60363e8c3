"""The claims tutorials/04_low_rank.md prints hold (the run itself: tests/test_tutorials.py)."""

from tests.tutorial_runner import run_tutorial


def test_tutorial_claims_hold():
    _, out = run_tutorial("04_low_rank.md")
    assert "[1, 1, 2, 3]" in out
    assert out.count("True") >= 4  # the four "equals ..." checks
    assert "np.diag raises" in out
