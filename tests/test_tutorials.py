"""Every tutorial runs as a notebook and prints what it shows; every notebook is the one its
Markdown generates; every figure a tutorial shows exists.  The mechanism is described in
tests/tutorial_runner.py; the output rules in tests/tutorial_outputs.py.

A failure names the tutorial, the block (number, line, first line) and what differs.
"""

import json
from pathlib import Path

import pytest

from tests.tutorial_notebooks import notebook, notebook_path, notebook_text
from tests.tutorial_outputs import match_output, parse_options
from tests.tutorial_runner import (
    ROOT,
    TUTORIALS,
    TutorialError,
    blocks,
    figures_shown,
    parse,
    python_blocks,
    run_blocks,
    run_notebook,
    run_tutorial,
)

NAMES = [p.name for p in TUTORIALS]


# ----------------------------------------------------------------------------- the parser
def test_python_blocks_are_extracted_in_order():
    text = "intro\n```python\na = 1\n```\n```text\nnot code\n```\n```python\nb = a + 1\n```\n"
    assert python_blocks(text) == ["a = 1\n", "b = a + 1\n"]
    assert run_blocks(python_blocks(text), "t.md")["b"] == 2  # one namespace for all blocks


def test_a_text_fence_right_after_a_python_fence_is_its_output():
    text = ("prose\n\n```python\nprint(1)\n```\n\n```text rtol=0.1\n1\n```\n\nmore prose\n\n"
            "```text\na snippet, not an output\n```\n```python\nx = 2\n```\n")
    first, second = blocks(text)
    assert (first.shown, first.info, first.line, first.shown_line) == ("1\n", "rtol=0.1", 3, 7)
    assert second.shown is None  # prose stands between the snippet and the block before it
    prose = [item for item in parse(text) if isinstance(item, str)]
    assert prose == ["prose\n", "\nmore prose\n\n```text\na snippet, not an output\n```"]


def test_a_failing_block_is_named():
    with pytest.raises(TutorialError, match=r"t.md: block 2 of 3 \(starting `y = x / 0`\) raised "
                                            r"ZeroDivisionError: division by zero"):
        run_blocks(["x = 1\n", "y = x / 0\n", "z = 3\n"], "t.md")


def test_an_unclosed_fence_is_an_error():
    with pytest.raises(TutorialError, match="line 2: fence '```python' is never closed"):
        parse("x\n```python\nprint(1)\n")


# ----------------------------------------------------------------------------- output rules
@pytest.mark.parametrize("shown, printed", [
    ("[[19. 25.]\n [37. 43.]]\n", "[[19. 25.]\n [37. 43.]]\n"),
    ("accuracy 95.1%\n", "accuracy 95.2%\n"),                 # one unit in the last digit
    ("loss 0.6277\n", "loss 0.6276  \n\n"),                   # trailing blanks ignored
    ("w = 0.18610702455043793\n", "w = 0.1861059069633484\n"),  # rtol 1e-4 for full precision
    ("acc  95.1%\n", "acc 95.1%\n"),                          # runs of spaces
    ("[ 9.5  1.0]\n", "[9.5 1.0]\n"),                          # none next to a number
    ("[92.4 50.1]\n", "[92.4 50. ]\n"),
    ("dense ... ms (spread ...)\n", "dense 1.542 ms (spread 0.55-0.61)\n"),
    ("head\n...\ntail\n", "head\na\nb\ntail\n"),
    ("head\n...\ntail\n", "head\ntail\n"),
    ("8,531,808 bits\n", "8,531,808 bits\n"),
    ("3.1e-03\n", "3.2e-03\n"),                              # last mantissa digit
])
def test_outputs_that_match(shown, printed):
    assert match_output(shown, printed) is None


@pytest.mark.parametrize("shown, printed, why", [
    ("[[19. 25.]]\n", "[[20. 25.]]\n", "20. printed where 19. is shown"),   # integers exactly
    ("[1, 1, 2, 3]\n", "[1, 2, 2, 3]\n", "2 printed where 1 is shown"),
    ("accuracy 95.1%\n", "accuracy 95.3%\n", "95.3 printed where 95.1 is shown"),
    ("is True\n", "is False\n", "the text differs"),
    ("a\nb\n", "a\n", "the lines differ"),
    ("8,531,808 bits\n", "8,531,809 bits\n", "8,531,809 printed"),
    ("[-1.  1.]\n", "[ 1.  1.]\n", "1. printed where -1. is shown"),
])
def test_outputs_that_differ(shown, printed, why):
    assert why in match_output(shown, printed)


def test_options_widen_the_tolerance_for_their_block_only():
    assert match_output("accuracy 95.1%, 670 values\n", "accuracy 95.8%, 675 values\n", rtol=0.01) is None
    assert match_output("[92.4 91.  50.1]\n", "[92.5 91.1 50. ]\n", rtol=0.01) is None
    assert "96.2 printed" in match_output("accuracy 95.1%\n", "accuracy 96.2%\n", rtol=0.01)
    assert match_output("error 1e-09, loss 0.13\n", "error 4e-11, loss 0.13\n", roundoff=1e-6) is None
    assert "round-off below 1e-06" in match_output("error 1e-09\n", "error 3e-02\n", roundoff=1e-6)
    assert parse_options("rtol=0.01 roundoff=1e-6") == {"rtol": 0.01, "roundoff": 1e-6}
    with pytest.raises(ValueError, match="option 'tol=1' not understood"):
        parse_options("tol=1")


# ----------------------------------------------------------------------------- the tutorials
def test_there_is_a_tutorial_per_topic():
    for prefix in ("00_", "01_", "02_", "03_", "04_", "05_", "06_", "07_"):
        assert any(n.startswith(prefix) for n in NAMES), (prefix, NAMES)


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_tutorial_runs_as_a_notebook_and_prints_what_it_shows(name):
    try:
        run = run_notebook(name)
    except TutorialError as err:
        pytest.fail(str(err), pytrace=False)
    assert not Path(run.cwd).resolve().is_relative_to(ROOT), run.cwd  # not from the repository
    problems = run.mismatches()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.mark.slow
def test_run_tutorial_gives_the_namespace_the_kernel_kept():
    import numpy as np

    namespace, out = run_tutorial("00_nn_from_scratch.md")
    assert out == run_notebook("00_nn_from_scratch.md").output  # the same single run
    assert namespace["model"].num_parameters() == 27210 and namespace["np"] is np
    assert namespace["state"]["fc.weight"].shape == (10, 2704)
    assert "GradNorm" not in namespace  # a class the tutorial defines stays in the kernel


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_generated_from_its_markdown(name):
    md = ROOT / "tutorials" / name
    path = notebook_path(md)
    assert path.is_file(), f"{path.name} is missing: run python -m tests.tutorial_runner notebooks"
    assert path.read_text(encoding="utf-8") == notebook_text(md), (
        f"{path.name} is not what {name} generates: run python -m tests.tutorial_runner notebooks")


def test_notebooks_show_the_shown_outputs_and_nothing_else():
    md = ROOT / "tutorials" / "00_nn_from_scratch.md"
    nb = json.loads(notebook_text(md))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(code) == len(blocks(md.read_text(encoding="utf-8")))
    assert "".join(code[0]["outputs"][0]["text"]) == "[[19. 25.]\n [37. 43.]]\n"
    assert all(c["execution_count"] is None for c in code)
    kinds = {o["output_type"] for c in code for o in c["outputs"]}
    assert kinds == {"stream"}  # no images, no execution results
    text = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "[[19. 25.]" not in text  # the output is not shown a second time
    assert notebook("```python\nprint(1)\n```\n").cells[0].cell_type == "markdown"  # the header


def test_every_notebook_has_its_markdown():
    stray = {p.stem for p in (ROOT / "tutorials").glob("*.ipynb")} - {p.stem for p in TUTORIALS}
    assert not stray, f"notebooks without a Markdown source: {sorted(stray)}"


@pytest.mark.parametrize("name", NAMES)
def test_tutorial_figures_exist(name):
    for figure in figures_shown(name):
        assert figure.is_file(), f"{name} shows {figure.name}, which is not in figures/"
