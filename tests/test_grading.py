"""minicompress.grading: the grader isolates each submission, bounds every call in time,
checks the stubs' contracts, labels its counterexamples honestly and grades a folder.

The typical right and wrong solutions of every exercise are graded in
tests/test_grading_corpus.py; this file checks the machinery.
"""

import importlib
import importlib.util
import inspect
import json
import os
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import numpy as np
import pytest

from minicompress import grading
from minicompress.cli import main
from minicompress.grading import InProcess, StudentProcess, difference, grade_function

ROOT = Path(__file__).resolve().parents[1]
STUBS = ROOT / "tutorials" / "exercises"
EXERCISES = grading.exercise_names()


def _stub_module(stem):
    spec = importlib.util.spec_from_file_location(f"stub_{stem}", STUBS / f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(tmp_path, body, name="ex01_pruning.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def _run_cli(*args, cwd=ROOT):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's package, from any folder
    return subprocess.run([sys.executable, "-m", "minicompress", "check", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, env=env)


CORRECT_01 = """
import numpy as np

def magnitude_threshold(w, sparsity):
    return float(np.sort(np.abs(w).ravel())[int(sparsity * w.size)])

def magnitude_mask(w, sparsity):
    return np.abs(w) >= magnitude_threshold(w, sparsity)

def soft_threshold(w, t):
    return np.sign(w) * np.maximum(np.abs(w) - t, 0)

def taylor_saliency(w, g):
    return np.abs(w * g)

def obd_saliency(w, h_diag):
    return 0.5 * h_diag * w**2

def obs_update(w, H_inv, q):
    w_new = w - (w[q] / H_inv[q, q]) * H_inv[:, q]
    w_new[q] = 0.0
    return w_new, float(w[q] ** 2 / (2 * H_inv[q, q]))

def nm_mask(w, n, m):
    g = np.abs(w).reshape(1 if w.ndim == 1 else len(w), -1, m)
    mask = np.zeros(g.shape, bool)
    np.put_along_axis(mask, np.argsort(-g, axis=-1, kind="stable")[..., :n], True, axis=-1)
    return mask.reshape(w.shape)
"""


# ----------------------------------------------------------------------------- the exercises
def test_every_exercise_has_a_stub_whose_signatures_the_checks_name():
    assert {"ex00_layers", "ex01_pruning", "ex04_lowrank", "ex05_evaluation"} <= set(EXERCISES)
    for stem in EXERCISES:
        stub = _stub_module(stem)
        checks = grading.checks_for(stem)
        assert checks and all(isinstance(c, grading.Check) for c in checks)
        for check in checks:
            assert check.hand_cases, f"{stem}.{check.function} has no hand case"
            params = tuple(inspect.signature(getattr(stub, check.function)).parameters)
            for case in check.hand_cases:  # the report names arguments as the stub does
                assert check.names(len(case)) == params[:len(case)], (stem, check.function)
            keys = [m.key for m in check.mistakes]
            assert all(m.hint and (m.wrong is None) != (m.when is None) for m in check.mistakes), keys


@pytest.mark.parametrize("stem", EXERCISES)
def test_the_references_pass_their_own_checks_and_the_stubs_are_todo(stem):
    checks = grading.checks_for(stem)
    reference = types.SimpleNamespace(**{c.function: c.reference for c in checks})
    for check in checks:
        r = grade_function(InProcess(reference), check, max_examples=5)
        assert r.status == "PASS", grading.report.render(r)
        assert r.n_tried == len(check.hand_cases) + 5  # the hand cases, then the drawn ones
        assert grade_function(InProcess(_stub_module(stem)), check, max_examples=3).status == "TODO"


# ----------------------------------------------------------------------------- comparisons
def test_difference_names_the_contract_that_is_broken():
    assert difference((np.ones(2), None), (np.ones(2), None)) is None
    assert difference(np.ones(2), np.ones((1, 2))).key == "shape"  # nothing is broadcast
    assert difference(np.ones(2), [1.0, 1.0]).key == "type"
    assert difference(np.ones(2), np.ones(2, np.float32)) is None
    assert difference(np.ones(2), np.ones(2, np.float32), dtype="exact").key == "dtype"
    assert difference(np.ones(2, bool), np.ones(2)).key == "dtype"
    assert difference(176, 176.0).key == "type"  # an int is asked for
    assert difference(176, np.int64(176)) is None
    assert difference(0.5, np.float32(0.5)) is None and difference(0.5, True).key == "type"
    d = difference((np.ones(2), 1.0), (np.ones(2), 2.0))
    assert d.key == "value" and d.text.startswith("element 1 of the returned tuple")
    assert difference((np.ones(2),), np.ones(2)).key == "type"
    assert difference(np.array([np.nan]), np.array([np.nan])) is None


# ----------------------------------------------------------------------------- isolation
def test_importing_the_answer_is_flagged_and_fails(tmp_path):
    # the first finding: this one line got "3/3 functions pass"
    line = "from minicompress.prune import magnitude_threshold, magnitude_mask, soft_threshold\n"
    path = _write(tmp_path, line)
    sub = grading.grade_submission(path, "ex01_pruning", max_examples=5)
    assert sub.imports_library
    status = {r.function: grading.report.short_status(r) for r in sub.results}
    assert status == {"magnitude_threshold": "FLAG", "magnitude_mask": "FLAG", "soft_threshold": "FLAG",
                      "taylor_saliency": "MISS", "obd_saliency": "MISS", "obs_update": "MISS",
                      "nm_mask": "MISS"}
    assert "imported from minicompress.prune" in grading.report.render(sub.results[0])


def test_calling_the_library_inside_a_function_is_flagged(tmp_path):
    lazy = _write(tmp_path, CORRECT_01 + """
def taylor_saliency(w, g):
    from minicompress.prune import taylor_saliency as answer   # imported while running
    return answer(w, g)
""")
    sub = grading.grade_submission(lazy, "ex01_pruning", max_examples=5)
    by = {r.function: r for r in sub.results}
    assert not sub.imports_library
    assert [by[f].status for f in ("magnitude_threshold", "magnitude_mask", "soft_threshold")] == ["PASS"] * 3
    assert by["taylor_saliency"].failure.kind == "flagged"
    assert "an import of minicompress" in by["taylor_saliency"].failure.error
    eager = _write(tmp_path, CORRECT_01 + """
import minicompress.nn.functional as F

def obd_saliency(w, h_diag):
    F.relu_forward(w)                                            # any library code counts
    return 0.5 * h_diag * w**2
""", name="bob_ex01_pruning.py")
    sub = grading.grade_submission(eager, "ex01_pruning", max_examples=5)
    assert sub.imports_library and [r.status for r in sub.results] == ["PASS"] * 4 + ["FAIL"] + ["PASS"] * 2
    assert "it ran library code (minicompress.nn.functional.relu_forward)" in sub.results[4].failure.error


def test_patching_the_library_cannot_change_the_reference(tmp_path):
    # the second finding: a wrong threshold that patches the private helper the
    # reference uses passed, since student code ran in the grader's process
    path = _write(tmp_path, """
import numpy as np
import minicompress.prune.magnitude as M

def wrong(scores, sparsity):
    return float(np.sort(scores.ravel())[int(sparsity * scores.size) - 1])

M._kth_smallest = wrong

def magnitude_threshold(w, sparsity):
    return wrong(np.abs(w), sparsity)
""")
    sub = grading.grade_submission(path, "ex01_pruning", max_examples=5)
    r = sub.results[0]
    assert sub.imports_library and r.status == "FAIL" and r.failure.kind == "hand"
    assert [k for k, _ in r.failure.hints] == ["kthvalue"]


def test_a_looping_function_is_stopped_within_its_limit_and_grading_goes_on(tmp_path):
    head = "def magnitude_mask(w, sparsity):\n"
    path = _write(tmp_path, CORRECT_01.replace(head, head + "    while True:\n        pass\n"))
    seen = []
    start = time.monotonic()
    grading.check_files([path], max_examples=5, timeout=0.5,
                        out=lambda text: seen.append((time.monotonic(), text)))
    total = time.monotonic() - start
    lines = [text for _, text in seen]
    assert lines[0].startswith("PASS     magnitude_threshold")  # printed as soon as known,
    assert seen[0][0] - start < total - 0.5                     # before the loop was stopped
    assert lines[1].startswith("FAIL     magnitude_mask  (did not return within 0.5 s")
    assert "input on which it did not return within 0.5 s:" in lines[1]
    assert [text.split()[0] for text in lines[2:5]] == ["PASS"] * 3  # the others graded after it
    assert total < 10


def test_a_crashing_function_fails_alone(tmp_path):
    path = _write(tmp_path, CORRECT_01 + "\nimport os\n\ndef soft_threshold(w, t):\n    os._exit(7)\n")
    sub = grading.grade_submission(path, "ex01_pruning", max_examples=3)
    status = [grading.report.short_status(r) for r in sub.results]
    assert status == ["PASS", "PASS", "DIED", "PASS", "PASS", "PASS", "PASS"]
    assert "exit code 7" in sub.results[2].failure.error


def test_a_file_that_does_not_import_reports_the_students_traceback_only(tmp_path):
    path = _write(tmp_path, "import numpy as np\n\ndef helper():\n    return 1 / 0\n\nhelper()\n")
    with StudentProcess(path) as student:
        lines = [line for line in student.import_error.splitlines() if line.strip(" ~^")]  # no carets
        assert lines == ["Traceback (most recent call last):",
                         f'  File "{path}", line 6, in <module>', "    helper()",
                         f'  File "{path}", line 4, in helper', "    return 1 / 0",
                         "ZeroDivisionError: division by zero"]
    hang = _write(tmp_path, "while True:\n    pass\n", name="hang.py")
    with StudentProcess(hang, load_timeout=0.3) as student:
        assert "did not finish importing within 0.3 s" in student.import_error


def test_replies_are_plain_data_the_grader_never_unpickles_a_class():
    import io
    import pickle

    from minicompress.grading import worker

    evil = io.BytesIO()
    worker.write_message(evil, ("ok", ("a", "<f8", (1,), b"\0" * 8), [], None))
    evil.seek(0)
    assert worker.read_message(evil)[0] == "ok"
    payload = pickle.dumps(("ok", np.float64(1.0)))  # a reply carrying a class reference
    framed = io.BytesIO(len(payload).to_bytes(8, "little") + payload)
    with pytest.raises(pickle.UnpicklingError, match="refused"):
        worker.read_message(framed)
    for value in (np.float32(2.5), np.arange(3, dtype=np.int8), (1, [2.0, None]), True, "x"):
        back = worker.decode(worker.encode(value))
        assert type(back) is type(value) and difference(value, back) is None
    assert isinstance(worker.decode(worker.encode(object())), worker.Opaque)


# ----------------------------------------------------------------------------- reports
def test_hand_cases_and_shrunk_cases_are_labelled_and_arguments_named(tmp_path):
    path = _write(tmp_path, """
import numpy as np

def binarize(w):
    return np.sign(w)

def ternarize(w):
    t = np.where(np.abs(w) > 0.7 * np.abs(w).mean(), np.sign(w), 0)
    return t, float(np.abs(w).mean())
""", name="ex02_quantization.py")
    sub = grading.grade_submission(path, "ex02_quantization", max_examples=20)
    text = grading.report.render(sub.results[0])
    assert "hand case (a fixed example of the exercise; not shrunk):" in text
    assert "    w: array(shape=(3,), dtype=float64) [-0.5, 0. , 0.3]" in text  # not "arg 0"
    assert "hint: np.sign(0) is 0" in text
    t = sub.results[1]
    assert [k for k, _ in t.failure.hints] == ["alpha_all"]


def test_a_generated_failure_is_shrunk_and_says_so(tmp_path):
    # db summed over the wrong axis: right for the (1, 1) hand case, wrong for others
    path = _write(tmp_path, """
def linear_backward(dout, x, w):
    return dout @ w, dout.T @ x, dout.sum(axis=1)
""", name="ex00_layers.py")
    check = grading.checks_for("ex00_layers")[0]
    check = grading.Check(check.function, check.reference, check.args, hand_cases=check.hand_cases[:1],
                          mistakes=check.mistakes)
    with StudentProcess(path) as student:
        r = grade_function(student, check, max_examples=30)
    assert r.failure.kind == "shrunk"
    dout, x, w = r.failure.args
    assert dout.shape == (1, 2) and x.shape == (1, 1)  # the smallest shapes that show it
    assert set(np.unique(np.concatenate([dout.ravel(), x.ravel(), w.ravel()]))) <= {0.0, 1.0}  # simple values
    text = grading.report.render(r)
    assert "smallest failing input (drawn by Hypothesis and shrunk):" in text
    assert "dout: array(shape=(1, 2)" in text
    assert "(element 2 of the returned tuple: the shapes differ: expected (2,), received (1,))" in text


def test_raised_errors_and_missing_functions_are_reported(tmp_path):
    path = _write(tmp_path, """
def magnitude_threshold(w, sparsity):
    raise IndexError("index 3 is out of bounds")

def magnitude_mask(w, sparsity):
    raise NotImplementedError
""")
    sub = grading.grade_submission(path, "ex01_pruning", max_examples=3)
    texts = [grading.report.render(r) for r in sub.results]
    assert "raised:   IndexError: index 3 is out of bounds" in texts[0]
    assert texts[1] == "TODO     magnitude_mask  (still raises NotImplementedError)"
    assert texts[2] == "MISSING  soft_threshold  (not defined in the file)"


def test_the_exercise_is_found_in_any_file_name(tmp_path):
    assert grading.exercise_for("alice_ex01_pruning.py") == "ex01_pruning"
    assert grading.exercise_for("ex04_lowrank-bob.py") == "ex04_lowrank"
    assert grading.exercise_for("anything.py", "ex06_combining") == "ex06_combining"
    with pytest.raises(ValueError, match=r"cannot tell which exercise 'hw1.py'.*--exercise"):
        grading.exercise_for("hw1.py")
    with pytest.raises(ValueError, match=r"no exercise named 'ex99'"):
        grading.exercise_for("x.py", "ex99")


# ----------------------------------------------------------------------------- command line
def test_check_grades_a_folder_with_a_score_table_and_json(tmp_path, capsys):
    good = _write(tmp_path, CORRECT_01, name="alice_ex01_pruning.py")
    bad = _write(tmp_path, CORRECT_01.replace(">= magnitude", "> magnitude"), name="bob.py")
    report = tmp_path / "scores.json"
    code = main(["check", "--exercise", "ex01_pruning", str(good), str(bad), "--max-examples", "5",
                 "--json", str(report)])
    out = capsys.readouterr().out
    assert code == grading.EXIT_FAIL
    assert "== alice_ex01_pruning.py  (exercise ex01_pruning)" in out and "== bob.py" in out
    table = out[out.index("score table"):].splitlines()
    assert table[1].startswith("functions: 1 magnitude_threshold, 2 magnitude_mask")
    assert table[3].split() == ["alice_ex01_pruning.py"] + ["PASS"] * 7 + ["7/7"]
    assert table[4].split() == ["bob.py", "PASS", "FAIL"] + ["PASS"] * 5 + ["6/7"]
    data = json.loads(report.read_text())["submissions"]
    assert [s["score"] for s in data] == [7, 6]
    mask = data[1]["functions"]["magnitude_mask"]
    assert mask["status"] == "FAIL" and mask["case"] == "hand"
    assert set(mask["failing_input"]) == {"w", "sparsity"}
    assert [h["mistake"] for h in mask["hints"]] == ["le"]


def test_check_grades_every_file_of_a_folder(tmp_path, capsys):
    folder = tmp_path / "submissions"
    folder.mkdir()
    _write(folder, CORRECT_01, name="bob.py")
    _write(folder, CORRECT_01, name="alice.py")
    _write(folder, "", name="__init__.py")
    (folder / "notes.txt").write_text("not python")
    code = main(["check", "--exercise", "ex01_pruning", str(folder), "--max-examples", "0"])
    out = capsys.readouterr().out
    assert code == grading.EXIT_PASS
    assert out.index("== alice.py") < out.index("== bob.py") and "__init__" not in out
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="folder .*empty' holds no .py file to grade"):
        grading.submission_files([empty])
    with pytest.raises(ValueError, match="an existing .py file or a folder of them; got .*notes.txt"):
        grading.submission_files([folder / "notes.txt"])


def test_max_examples_zero_runs_the_hand_cases_only(tmp_path, capsys):
    good = _write(tmp_path, CORRECT_01)
    assert main(["check", str(good), "--max-examples", "0"]) == grading.EXIT_PASS
    out = capsys.readouterr().out
    assert "PASS     magnitude_threshold  (3 inputs)" in out and "7/7 functions pass" in out
    assert "hypothesis" not in out.lower() and "phases" not in out


def test_python_m_minicompress_check_exit_codes_and_tracebacks(tmp_path):
    # the real entry point, in a fresh interpreter, from a folder that is not the repository
    good = _write(tmp_path, CORRECT_01, name="ex01_pruning.py")
    broken = _write(tmp_path, "import numpy as np\n\ndef magnitude_threshold(w, sparsity):\n    return (\n",
                    name="carol_ex01_pruning.py")
    res = _run_cli(good, broken, "--max-examples", "2", cwd=tmp_path)
    assert res.returncode == grading.EXIT_IMPORT == 3, res.stdout + res.stderr
    out = res.stdout.splitlines()
    assert "7/7 functions pass" in out  # the good file is graded
    start = out.index("carol_ex01_pruning.py does not import, so nothing was graded. Python said:")
    block = out[start + 1:start + 5]  # the student's own traceback, nothing of the grader's
    assert block[0] == f'      File "{broken}", line 4' and block[1] == "        return ("
    assert block[2].strip() == "^" and block[3] == "    SyntaxError: '(' was never closed"
    assert "grading" not in res.stdout and "Traceback" not in res.stdout


def test_check_exit_codes_in_process(capsys):
    assert main(["check", str(STUBS / "ex00_layers.py"), "--max-examples", "2"]) == grading.EXIT_FAIL
    assert capsys.readouterr().out.count("TODO") == 3
    # a bad value is one line on stderr and exit status 2, as for every command
    assert main(["check", str(STUBS / "ex00_layers.py"), "--max-examples", "-1"]) == 2
    assert "max_examples must be >= 0" in capsys.readouterr().err
