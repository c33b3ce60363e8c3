"""minicompress.grading: the autograder passes every reference, fails wrong code usefully.

The first test is generic: it covers every exercise in minicompress/exercises/ex*.py, so
an exercise added later is checked without touching this file.
"""

import importlib
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest

from minicompress import grading
from minicompress.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = sorted(p.stem for p in (ROOT / "minicompress" / "exercises").glob("ex*.py"))
STUB = ROOT / "tutorials" / "exercises" / "ex00_layers.py"


def reference_module(stem):
    """A module whose functions are the reference implementations of exercise ``stem``."""
    checks = importlib.import_module(f"minicompress.exercises.{stem}").CHECKS
    module = types.ModuleType(f"reference_{stem}")
    for check in checks:
        setattr(module, check.function, check.reference)
    return module, checks


def test_every_exercise_has_a_stub_and_checks():
    assert "ex00_layers" in EXERCISES
    for stem in EXERCISES:
        assert (ROOT / "tutorials" / "exercises" / f"{stem}.py").is_file(), f"no stub for {stem}"
        checks = importlib.import_module(f"minicompress.exercises.{stem}").CHECKS
        assert checks and all(isinstance(c, grading.Check) for c in checks)


@pytest.mark.parametrize("stem", EXERCISES)
def test_reference_solutions_pass(stem):
    module, checks = reference_module(stem)
    results = grading.grade_module(module, checks, max_examples=15)
    assert [r.status for r in results] == ["PASS"] * len(checks), [r.render() for r in results]
    for r, c in zip(results, checks):
        assert r.n_tried == len(c.hand_cases) + 15  # the hand cases, then the generated ones


@pytest.mark.parametrize("stem", EXERCISES)
def test_stubs_grade_todo(stem):
    stub = grading.load_student_module(ROOT / "tutorials" / "exercises" / f"{stem}.py")
    checks = grading.checks_for(stem)
    results = grading.grade_module(stub, checks, max_examples=5)
    assert {r.status for r in results} == {"TODO"}


def write_solution(tmp_path, body, name="ex00_layers.py"):
    """A student's file: the reference functions, with ``body`` overriding some of them."""
    path = tmp_path / name
    path.write_text("from minicompress.exercises.ex00_layers import (\n"
                    "    conv2d_forward, linear_backward, relu_backward)\n"
                    "import numpy as np\n" + textwrap.dedent(body))
    return path


def grade(path, max_examples=30):
    module = grading.load_student_module(path)
    return {r.function: r for r in grading.grade_module(module, grading.checks_for("ex00_layers"),
                                                        max_examples=max_examples)}


def test_wrong_kink_fails_on_the_hand_case(tmp_path):
    # x >= 0 instead of x > 0: wrong exactly at the kink, which the hand case contains
    results = grade(write_solution(tmp_path, """
        def relu_backward(dout, x):
            return dout * (x >= 0)
    """))
    r = results["relu_backward"]
    assert r.status == "FAIL" and r.n_tried == 1
    text = r.render()
    assert "x: array(shape=(1, 3), dtype=float64) [[-1., 0., 2.]]" in text
    assert "expected: array(shape=(1, 3), dtype=float64) [[0., 0., 1.]]" in text
    assert "received: array(shape=(1, 3), dtype=float64) [[0., 1., 1.]]" in text
    assert results["linear_backward"].status == results["conv2d_forward"].status == "PASS"


def test_ignored_padding_fails_with_the_smallest_input(tmp_path):
    # the hand case has padding 0, so only a generated input catches this; Hypothesis
    # shrinks it to the smallest: one 1x1 image, a 1x1 kernel, stride 1, padding 1
    results = grade(write_solution(tmp_path, """
        from minicompress.nn import functional as F

        def conv2d_forward(x, w, b, stride, padding):
            return F.conv2d_forward(x, w, b, stride, 0)[0]
    """))
    r = results["conv2d_forward"]
    assert r.status == "FAIL"
    x, w, b, stride, padding = r.args
    assert x.shape == (1, 1, 1, 1) and w.shape == (1, 1, 1, 1) and (stride, padding) == (1, 1)
    np.testing.assert_allclose(r.expected[0, 0, 1, 1], r.received[0, 0, 0, 0])
    text = r.render()
    for line in ("smallest failing input:", "x: array(shape=(1, 1, 1, 1)", "padding: 1",
                 "expected: array(shape=(1, 1, 3, 3)", "received: array(shape=(1, 1, 1, 1)",
                 "the shapes differ: expected (1, 1, 3, 3), received (1, 1, 1, 1)"):
        assert line in text


def test_a_wrong_tuple_element_is_pointed_at(tmp_path):
    # db summed over the wrong axis: right for the (1, 1) hand case, wrong for any other
    results = grade(write_solution(tmp_path, """
        def linear_backward(dout, x, w):
            return dout @ w, dout.T @ x, dout.sum(axis=1)
    """))
    r = results["linear_backward"]
    assert r.status == "FAIL" and r.n_tried > 1
    assert r.args[0].shape == (1, 2)  # shrunk to one example and two outputs
    assert "(element(s) [2] of the returned tuple differ)" in r.render()


def test_an_exception_is_shown_as_raised(tmp_path):
    results = grade(write_solution(tmp_path, """
        def relu_backward(dout, x):
            raise IndexError("index 3 is out of bounds")
    """))
    assert "raised:   IndexError: index 3 is out of bounds" in results["relu_backward"].render()


def test_missing_function_is_reported(tmp_path):
    path = tmp_path / "ex00_layers.py"
    path.write_text("def relu_backward(dout, x):\n    raise NotImplementedError\n")
    results = grade(path, max_examples=3)
    assert results["relu_backward"].status == "TODO"
    assert results["linear_backward"].status == "MISSING"
    assert "MISSING  linear_backward  (not defined in the file)" in results["linear_backward"].render()


def test_unknown_exercise_name(tmp_path):
    path = tmp_path / "ex99_nothing.py"
    path.write_text("")
    with pytest.raises(ValueError, match=r"no reference checks for an exercise named 'ex99_nothing'"):
        grading.check_file(path)


def test_allclose_compares_structure_and_shape():
    assert grading.allclose((np.ones(2), None), (np.ones(2), None))
    assert not grading.allclose((np.ones(2), None), (np.ones(2), np.zeros(1)))
    assert not grading.allclose(np.ones(2), np.ones((1, 2)))  # no silent broadcasting
    assert not grading.allclose(np.ones(2), np.array(["1", "1"]))
    assert not grading.allclose((np.ones(2),), np.ones(2))


# ----------------------------------------------------------------------------- command line
def test_check_command_exit_codes(tmp_path, capsys):
    assert main(["check", str(STUB), "--max-examples", "3"]) == 1
    out = capsys.readouterr().out
    assert out.count("TODO") == 3 and "0/3 functions pass" in out
    good = write_solution(tmp_path, "")
    assert main(["check", str(good), "--max-examples", "3"]) == 0
    assert "3/3 functions pass" in capsys.readouterr().out


def test_python_m_minicompress_check_exit_code(tmp_path):
    # the real entry point, in a fresh interpreter
    good = write_solution(tmp_path, "")
    ok = subprocess.run([sys.executable, "-m", "minicompress", "check", str(good), "--max-examples", "2"],
                        cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([sys.executable, "-m", "minicompress", "check", str(STUB), "--max-examples", "2"],
                         cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 1 and "TODO     relu_backward" in bad.stdout
