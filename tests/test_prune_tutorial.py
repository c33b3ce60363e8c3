"""Tutorial 01 (pruning) runs: every ```python block, in order, in one namespace, from the repo root."""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_tutorial_01_pruning_runs(monkeypatch):
    text = (ROOT / "tutorials" / "01_pruning.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 8
    monkeypatch.chdir(ROOT)
    namespace = {"__name__": "tutorial_01"}
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"01_pruning.md block {i}", "exec"), namespace)
        except Exception as err:
            raise AssertionError(f"block {i} failed:\n{block}") from err
    assert os.getcwd() == str(ROOT)
