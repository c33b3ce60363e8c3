"""The claims tutorials/04_low_rank.md prints hold (the run itself: tests/test_tutorials.py)."""

from tests.tutorial_runner import run_tutorial


def test_tutorial_claims_hold():
    _, out = run_tutorial("04_low_rank.md")
    assert "[1, 1, 2, 3]" in out
    # each printed check by its own line: a count of "True"s would pass with one of them False
    for claim in ("same output as x W_r^T + b: True", "every 5x5 kernel now rank 1: True",
                  "equals the rank-4 kernel's convolution: True", "round trip: True",
                  "equals the reconstructed kernel's convolution: True"):
        assert claim in out, claim
    assert out.count("orthonormal: True") == 2  # HOSVD and HOOI factors
    assert ": False" not in out  # (the printed layers say bias=False; that is not a check)
    assert "np.diag raises" in out
