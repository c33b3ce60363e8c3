"""Exercise 01 (pruning): the reference passes its own checks; typical mistakes FAIL, with the
smallest failing input shown."""

import textwrap

from minicompress.grading import check_file

CORRECT = """
import numpy as np

def magnitude_threshold(w, sparsity):
    k = int(np.floor(sparsity * w.size))
    return float(np.sort(np.abs(w).ravel())[k])

def magnitude_mask(w, sparsity):
    return np.abs(w) >= magnitude_threshold(w, sparsity)

def soft_threshold(w, t):
    return np.sign(w) * np.maximum(np.abs(w) - t, 0)
"""

# the text's kthvalue (counting from 1), ties pruned, and a soft threshold that forgets the sign
WRONG = """
import numpy as np

def magnitude_threshold(w, sparsity):
    k = int(sparsity * w.size)
    return float(np.sort(np.abs(w).ravel())[k - 1])

def magnitude_mask(w, sparsity):
    return np.abs(w) > magnitude_threshold(w, sparsity)

def soft_threshold(w, t):
    return np.maximum(w - t, 0)
"""


def _write(tmp_path, body):
    path = tmp_path / "ex01_pruning.py"
    path.write_text(textwrap.dedent(body))
    return path


def test_correct_solution_passes(tmp_path, capsys):
    assert check_file(_write(tmp_path, CORRECT), max_examples=30) == 0
    assert "3/3 functions pass" in capsys.readouterr().out


def test_wrong_solution_fails_with_the_smallest_input(tmp_path, capsys):
    assert check_file(_write(tmp_path, WRONG), max_examples=30) == 1
    out = capsys.readouterr().out
    assert "FAIL     magnitude_threshold" in out
    assert "FAIL     magnitude_mask" in out
    assert "FAIL     soft_threshold" in out
    assert "smallest failing input" in out and "expected:" in out
    assert "0/3 functions pass" in out


def test_stub_reports_todo(capsys):
    assert check_file("tutorials/exercises/ex01_pruning.py", max_examples=5) == 1
    assert capsys.readouterr().out.count("TODO") == 3
