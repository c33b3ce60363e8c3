"""The claims tutorials/06_combining.md prints hold (the run itself, and the check of every
shown output: tests/test_tutorials.py)."""

import re

import pytest

from tests.tutorial_runner import run_notebook

pytestmark = pytest.mark.slow


def test_tutorial_06_claims_hold():
    out = run_notebook("06_combining.md").output
    assert "bitmask  bitmask   208 bits" in out and "csr      csr       280 bits" in out
    assert "dense    int       288 bits" in out
    assert "zeros in its rank-54 factors: [0.0, 0.0]" in out
    assert "baseline on 800 of its own training images: 100.00%" in out
    validation = float(re.search(r"validation loss ([0-9.]+) points \(budget 1\)", out).group(1))
    assert validation <= 1.0
