"""Every tutorial runs: the ```python blocks of tutorials/*.md, in order, in one namespace
(see tests/tutorial_runner.py), and every figure a tutorial shows exists.

A failure names the tutorial, the block number, the block's first line and the error.
"""

import pytest

from tests.tutorial_runner import (
    TUTORIALS,
    TutorialError,
    figures_shown,
    python_blocks,
    run_blocks,
    run_tutorial,
)


def test_python_blocks_are_extracted_in_order():
    text = "intro\n```python\na = 1\n```\n```text\nnot code\n```\n```python\nb = a + 1\n```\n"
    assert python_blocks(text) == ["a = 1\n", "b = a + 1\n"]
    assert run_blocks(python_blocks(text), "t.md")["b"] == 2  # one namespace for all blocks


def test_a_failing_block_is_named():
    with pytest.raises(TutorialError, match=r"t.md: block 2 of 3 \(starting `y = x / 0`\) raised "
                                            r"ZeroDivisionError: division by zero"):
        run_blocks(["x = 1\n", "y = x / 0\n", "z = 3\n"], "t.md")


def test_there_is_a_tutorial_per_topic():
    names = [p.name for p in TUTORIALS]
    for prefix in ("00_", "01_", "02_", "03_", "04_", "05_", "06_"):
        assert any(n.startswith(prefix) for n in names), (prefix, names)


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.name for p in TUTORIALS])
def test_tutorial_runs(path):
    try:
        run_tutorial(path.name)
    except TutorialError as err:
        pytest.fail(str(err), pytrace=False)


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.name for p in TUTORIALS])
def test_tutorial_figures_exist(path):
    for figure in figures_shown(path.name):
        assert figure.is_file(), f"{path.name} shows {figure.name}, which is not in figures/"
