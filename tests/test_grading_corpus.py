"""The grader's regression corpus: for every function of every exercise, NumPy-only
solutions in tests/grading_corpus/<exercise>.py, right and typically wrong.

A corpus function is named ``<function>__<label>``: label ``correct*`` must PASS; any other
label is a mistake's key, and the solution must FAIL with that mistake's hint -- or, for the
contract labels (dtype, shape, type, mutates), with that problem named.  Every mistake an
exercise declares has its wrong solution here, so the grader's catch rate cannot fall
without a test saying so.  One worker process serves a whole exercise.

Few inputs per function here (the suite stays fast); a deeper run, to look for a right
solution that a tolerance or an input distribution fails unfairly:
GRADING_CORPUS_EXAMPLES=400 pytest tests/test_grading_corpus.py
"""

import importlib.util
import inspect
import os
from pathlib import Path

import pytest

from minicompress import grading
from minicompress.grading import StudentProcess, grade_function
from minicompress.grading.report import render

CORPUS = Path(__file__).resolve().parent / "grading_corpus"
CONTRACTS = {"dtype", "shape", "type", "mutates"}
MAX_EXAMPLES = int(os.environ.get("GRADING_CORPUS_EXAMPLES", "8"))


def _entries(stem):
    spec = importlib.util.spec_from_file_location(f"corpus_{stem}", CORPUS / f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    names = [n for n, _ in inspect.getmembers(module, inspect.isfunction) if "__" in n and n[0] != "_"]
    return [tuple(n.split("__", 1)) for n in names]


def test_every_exercise_and_every_mistake_has_its_corpus():
    for stem in grading.exercise_names():
        entries = set(_entries(stem))
        for check in grading.checks_for(stem):
            labels = {label for f, label in entries if f == check.function}
            assert "correct" in labels, f"{stem}: no correct solution of {check.function}"
            missing = {m.key for m in check.mistakes} - labels
            assert not missing, f"{stem}.{check.function}: no corpus solution for mistakes {missing}"
            right = {label for label in labels if label.startswith("correct")}
            unknown = labels - {m.key for m in check.mistakes} - CONTRACTS - right
            assert not unknown, f"{stem}.{check.function}: corpus labels {unknown} name no mistake"


@pytest.mark.parametrize("stem", grading.exercise_names())
def test_right_solutions_pass_and_wrong_ones_fail_with_their_hint(stem):
    checks = {c.function: c for c in grading.checks_for(stem)}
    with StudentProcess(CORPUS / f"{stem}.py") as student:
        assert student.import_error is None and not student.imports_library
        for function, label in _entries(stem):
            r = grade_function(student, checks[function], attribute=f"{function}__{label}",
                               max_examples=MAX_EXAMPLES)
            if label.startswith("correct"):
                assert r.status == "PASS", render(r)
                continue
            assert r.status == "FAIL" and r.failure.kind in ("hand", "shrunk"), render(r)
            keys = r.failure.hint_keys
            assert label in keys, f"{function}__{label} failed without its hint:\n{render(r)}"
            hints = [k for k, _ in r.failure.hints]
            assert hints == ([label] if label not in CONTRACTS else []), (
                f"{function}__{label} got the hints {hints}:\n{render(r)}")
