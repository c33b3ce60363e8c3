"""Runs a tutorial as a reader would: its ```python blocks, in order, in one namespace, with
the repository root as the working directory and matplotlib's Agg backend.

Each tutorial runs once per test session (``run_tutorial`` is cached); tests/test_tutorials.py
checks that every tutorial runs, and the technique test files check the claims a tutorial
prints from the same run instead of executing it again.
"""

import contextlib
import io
import os
import re
import sys
import traceback
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "tutorials").glob("*.md"))
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
FIGURE = re.compile(r"!\[[^\]]*\]\((\.\./figures/[^)]+)\)")


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


@cache
def run_tutorial(name: str) -> tuple[dict, str]:
    """Run ``tutorials/<name>`` once; return ``(namespace, everything it printed)``."""
    path = ROOT / "tutorials" / name
    blocks = python_blocks(path.read_text(encoding="utf-8"))
    if not blocks:
        raise TutorialError(f"{name} has no ```python blocks")
    old_cwd, out = os.getcwd(), io.StringIO()
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        os.chdir(ROOT)
        with contextlib.redirect_stdout(out):
            namespace = run_blocks(blocks, name)
    finally:
        os.chdir(old_cwd)
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
    return namespace, out.getvalue()


def figures_shown(name: str) -> list[Path]:
    """The figure files a tutorial shows with ``![...](../figures/...)``."""
    path = ROOT / "tutorials" / name
    return [path.parent / p for p in FIGURE.findall(path.read_text(encoding="utf-8"))]
