"""Exercise 06 (combining): the reference passes its own checks, a correct solution passes,
plausible wrong answers fail with the smallest input shown, the stub is all TODO."""

import textwrap
from pathlib import Path

from minicompress.exercises import ex06_combining as ref
from minicompress.grading import check_file, grade_module, load_student_module

STUB = Path(__file__).resolve().parents[1] / "tutorials" / "exercises" / "ex06_combining.py"

CORRECT = """
import numpy as np

def bitmask_bits(w, bits):
    qmax = 2 ** (bits - 1) - 1
    amax = np.abs(w).max(axis=1, keepdims=True)
    z = int(np.count_nonzero(np.rint(w / np.where(amax > 0, amax, 1.0) * qmax)))
    m, k = w.shape
    return 96 + 8 * -(-m * k // 8) + 8 * -(-z * bits // 8) + 32 * m

def greedy_path(sizes, losses, eps):
    sizes, losses = np.asarray(sizes, float), np.asarray(losses, float)
    state, path = [0] * len(sizes), []
    path.append(tuple(state))
    while True:
        best = None
        for l in range(len(sizes)):
            for o in range(sizes.shape[1]):
                saved = sizes[l, state[l]] - sizes[l, o]
                if saved > 0:
                    score = saved / max(losses[l, o] - losses[l, state[l]], eps)
                    if best is None or score > best[0]:
                        best = (score, l, o)
        if best is None:
            return path
        state[best[1]] = best[2]
        path.append(tuple(state))
"""

# counts the pruning mask's survivors (not the non-zero codes); greedy by bits saved alone
WRONG = CORRECT.replace(
    "z = int(np.count_nonzero(np.rint(w / np.where(amax > 0, amax, 1.0) * qmax)))",
    "z = int(np.count_nonzero(w))",
).replace("score = saved / max(losses[l, o] - losses[l, state[l]], eps)", "score = saved")


def _write(tmp_path, body):
    path = tmp_path / "ex06_combining.py"
    path.write_text(textwrap.dedent(body))
    return path


def test_reference_passes():
    results = grade_module(ref, ref.CHECKS, max_examples=20)
    assert [r.status for r in results] == ["PASS", "PASS"], [r.render() for r in results]


def test_correct_solution_passes(tmp_path, capsys):
    assert check_file(_write(tmp_path, CORRECT), max_examples=20) == 0
    assert "2/2 functions pass" in capsys.readouterr().out


def test_wrong_solution_fails_with_the_smallest_input(tmp_path):
    results = {r.function: r for r in grade_module(load_student_module(_write(tmp_path, WRONG)),
                                                   ref.CHECKS, max_examples=20)}
    assert results["bitmask_bits"].status == "FAIL"
    text = results["bitmask_bits"].render()
    assert "smallest failing input" in text and "expected" in text and "received" in text
    assert results["greedy_path"].status == "FAIL"
    # the hand case of the tutorial already shows it: the biggest saving is not the best ratio
    assert results["greedy_path"].n_tried == 1


def test_stub_is_all_todo():
    results = grade_module(load_student_module(STUB), ref.CHECKS, max_examples=5)
    assert [r.status for r in results] == ["TODO", "TODO"]
