"""The quantization tutorial runs top to bottom, and its exercise is graded correctly."""

from pathlib import Path

from tests.tutorial_runner import run_tutorial

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "tutorials" / "02_quantization.md"


def test_tutorial_02_claims_hold():
    namespace, out = run_tutorial("02_quantization.md")
    assert "[-1.  1.  1. -1.  1.]" in out  # sign(0) = +1
    assert "True" in out  # int_matmul is exact
    assert namespace["int_acc"] > 75 and namespace["float_acc"] > 75


# ----------------------------------------------------------------------------- exercise 02
CORRECT = '''
import numpy as np

def binarize(w):
    return np.where(w >= 0, 1.0, -1.0).astype(w.dtype)

def ternarize(w):
    delta = 0.7 * np.mean(np.abs(w))
    keep = np.abs(w) > delta
    t = (np.where(w > 0, 1.0, -1.0) * keep).astype(w.dtype)
    alpha = float(np.abs(w)[keep].mean()) if keep.any() else 0.0
    return t, alpha

def int8_quantize(w):
    scale = float(np.abs(w).max()) or 1.0
    return np.clip(np.rint(w / scale * 127), -127, 127).astype(np.int8), scale

def ste_backward(dout, x, scale, zero_point, qmin, qmax):
    return dout * ((x >= scale * (qmin - zero_point)) & (x <= scale * (qmax - zero_point)))

def xnor_dot(a_bits, b_bits, k):
    x = np.bitwise_xor(a_bits[:, None, :], b_bits[None, :, :])
    return k - 2 * np.bitwise_count(x).sum(axis=-1).astype(np.int64)
'''

WRONG = '''
import numpy as np

def binarize(w):
    return np.sign(w)                                   # sign(0) = 0: not the text's rule

def int8_quantize(w):
    scale = float(np.abs(w).max()) or 1.0
    return np.floor(w / scale * 127 + 0.5).astype(np.int8), scale   # rounds half up

def ste_backward(dout, x, scale, zero_point, qmin, qmax):
    return dout * ((x > scale * (qmin - zero_point)) & (x < scale * (qmax - zero_point)))  # open window
'''


def _grade(tmp_path, source):
    from minicompress.grading import checks_for, grade_module, load_student_module

    path = tmp_path / "ex02_quantization.py"
    path.write_text(source)
    return {r.function: r for r in grade_module(load_student_module(path), checks_for(path.stem),
                                                max_examples=20)}


def test_exercise_02_correct_solution_passes(tmp_path):
    results = _grade(tmp_path, CORRECT)
    assert {f: r.status for f, r in results.items()} == dict.fromkeys(results, "PASS")


def test_exercise_02_wrong_solution_fails_with_a_useful_message(tmp_path):
    results = _grade(tmp_path, WRONG)
    assert results["ternarize"].status == "MISSING" and results["xnor_dot"].status == "MISSING"
    for name in ("binarize", "int8_quantize", "ste_backward"):
        assert results[name].status == "FAIL", name
        text = results[name].render()
        assert "smallest failing input" in text and "expected" in text and "received" in text
    assert "0." in results["binarize"].render()  # the zero that np.sign keeps
    # the hand cases catch each mistake first
    assert results["int8_quantize"].args[0].tolist() == [127.0, 0.5, 1.5, -2.5]
    assert results["ste_backward"].args[1].tolist()[1] == -2.0


def test_exercise_02_stub_is_all_todo():
    from minicompress.grading import checks_for, grade_module, load_student_module

    results = grade_module(load_student_module(ROOT / "tutorials/exercises/ex02_quantization.py"),
                           checks_for("ex02_quantization"))
    assert [r.status for r in results] == ["TODO"] * 5
