"""Tutorial 06 (combining) runs: every ```python block, in order, in one namespace, from the
repo root; its printed claims hold, and the figures it shows exist."""

from tests.tutorial_runner import run_tutorial


def test_tutorial_06_claims_hold():
    namespace, out = run_tutorial("06_combining.md")
    assert "bitmask  bitmask   208 bits" in out and "csr      csr       280 bits" in out
    assert "dense    int       288 bits" in out
    assert "zeros in its rank-54 factors: [0.0, 0.0]" in out
    assert "baseline on 800 of its own training images: 100.00%" in out
    assert namespace["report"]["validation"]["loss_points"] <= 1.0
