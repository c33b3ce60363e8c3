"""Every tutorial runs: the ```python blocks of tutorials/*.md, in order, in one namespace.

Blocks run with the repository root as the working directory and matplotlib's Agg backend,
as a reader would run them one after another; a failure names the tutorial, the block
number, the block's first line and the error.
"""

import re
import sys
import traceback
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "tutorials").glob("*.md"))
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


class TutorialError(Exception):
    pass


def python_blocks(text: str) -> list[str]:
    """The bodies of the ```python fences, in order (other fences are not run)."""
    return FENCE.findall(text)


def run_blocks(blocks: list[str], name: str) -> dict:
    """Execute ``blocks`` in order in one namespace; raise TutorialError naming the block."""
    namespace = {"__name__": f"tutorial_{Path(name).stem}"}
    for number, code in enumerate(blocks, start=1):
        try:
            exec(compile(code, f"{name}, block {number}", "exec"), namespace)
        except Exception as err:
            lines = code.strip().splitlines()
            where = "".join(traceback.format_exception(type(err), err, err.__traceback__)[-3:])
            raise TutorialError(
                f"{name}: block {number} of {len(blocks)} (starting `{lines[0] if lines else ''}`) "
                f"raised {type(err).__name__}: {err}\n{where}"
            ) from err
    return namespace


def test_python_blocks_are_extracted_in_order():
    text = "intro\n```python\na = 1\n```\n```text\nnot code\n```\n```python\nb = a + 1\n```\n"
    assert python_blocks(text) == ["a = 1\n", "b = a + 1\n"]
    assert run_blocks(python_blocks(text), "t.md")["b"] == 2  # one namespace for all blocks


def test_a_failing_block_is_named():
    with pytest.raises(TutorialError, match=r"t.md: block 2 of 3 \(starting `y = x / 0`\) raised "
                                            r"ZeroDivisionError: division by zero"):
        run_blocks(["x = 1\n", "y = x / 0\n", "z = 3\n"], "t.md")


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.name for p in TUTORIALS])
def test_tutorial_runs(path, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    blocks = python_blocks(path.read_text(encoding="utf-8"))
    assert blocks, f"{path.name} has no ```python blocks"
    try:
        run_blocks(blocks, path.name)
    except TutorialError as err:
        pytest.fail(str(err), pytrace=False)
    finally:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
