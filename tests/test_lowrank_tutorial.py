"""The claims tutorials/04_low_rank.md prints hold (the run itself, and the check of every
shown output: tests/test_tutorials.py)."""

import pytest

from tests.tutorial_runner import run_notebook

pytestmark = pytest.mark.slow


def test_tutorial_claims_hold():
    out = run_notebook("04_low_rank.md").output
    assert "[1, 1, 2, 3]" in out
    # each printed check by its own line: a count of "True"s would pass with one of them False
    for claim in ("same output as x W_r^T + b: True", "every 5x5 kernel now rank 1: True",
                  "equals the rank-4 kernel's convolution: True", "round trip: True",
                  "equals the reconstructed kernel's convolution: True",
                  "relative error below 1e-10: True"):
        assert claim in out, claim
    assert out.count("orthonormal: True") == 2  # HOSVD and HOOI factors
    # 4.4.1: truncated factors have orthonormal columns but are not orthogonal matrices
    assert "truncated U_2 5 x 2: Q^T Q = I True, Q Q^T = I False" in out
    assert "truncated V_2 4 x 2: Q^T Q = I True, Q Q^T = I False" in out
    checks = [line for line in out.splitlines() if not line.startswith("truncated")]
    assert not any(": False" in line for line in checks)  # (bias=False in the layers is no check)
    assert "np.diag raises" in out
