"""Tutorial 06 (combining) runs: every ```python block, in order, in one namespace, from the
repo root; its printed claims hold, and the figures it shows exist."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "tutorials" / "06_combining.md"


@pytest.mark.slow
def test_tutorial_06_runs(monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", TUTORIAL.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 8
    monkeypatch.chdir(ROOT)
    namespace = {"__name__": "tutorial_06"}
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"06_combining.md block {i}", "exec"), namespace)
        except Exception as err:
            raise AssertionError(f"block {i} failed:\n{block}") from err
    out = capsys.readouterr().out
    assert "bitmask   176 bits" in out and "csr       248 bits" in out and "dense     256 bits" in out
    assert "zeros in its rank-54 factors: [0.0, 0.0]" in out
    assert "baseline on 800 of its own training images: 100.00%" in out
    assert namespace["report"]["validation"]["loss_points"] <= 1.0


def test_tutorial_figures_exist():
    text = TUTORIAL.read_text(encoding="utf-8")
    paths = re.findall(r"!\[[^\]]*\]\((\.\./figures/[^)]+)\)", text)
    assert paths
    for path in paths:
        assert (TUTORIAL.parent / path).is_file(), path
