"""Exercise 03 (distillation): the reference passes its own checks, wrong solutions fail with
a useful message; and the stub file is what students get (every function still TODO)."""

from __future__ import annotations

import types
import warnings

import numpy as np

from minicompress import distill as D
from minicompress.exercises import ex03_distillation as ref
from minicompress.grading import grade_module, load_student_module


def test_reference_solutions_pass():
    results = grade_module(ref, ref.CHECKS, max_examples=30)
    assert [r.status for r in results] == ["PASS"] * 3, [r.render() for r in results]


def _wrong_module():
    def softmax_with_temperature(z, T):  # forgets the max shift: overflows at 1000
        e = np.exp(np.asarray(z) / T)
        return e / e.sum(axis=-1, keepdims=True)

    def kd_loss(s, t, labels, T, alpha):  # forgets T^2 on the loss and T on the gradient
        loss, d = D.kd_loss(s, t, labels, T=T, alpha=alpha)
        if alpha < 1:
            soft, d_soft = D.kd_loss(s, t, None, T=T, alpha=0)
            loss -= (1 - alpha) * soft * (1 - 1 / T**2)
            d = d - (1 - alpha) * d_soft * (1 - 1 / T)
        return loss, d

    def kd_loss_as_written(s, t, T):  # 'batchmean' instead of 'mean': no 1/C
        loss, d = D.kd_loss_as_written(s, t, T=T)
        return loss * s.shape[1], d * s.shape[1]

    return types.SimpleNamespace(softmax_with_temperature=softmax_with_temperature, kd_loss=kd_loss,
                                 kd_loss_as_written=kd_loss_as_written)


def test_wrong_solutions_fail_with_the_smallest_input():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the overflowing softmax
        results = grade_module(_wrong_module(), ref.CHECKS, max_examples=30)
    assert [r.status for r in results] == ["FAIL"] * 3
    text = results[0].render()
    assert "smallest failing input" in text and "expected" in text and "nan" in text
    assert "received" in results[1].render()


def test_stub_file_is_all_todo():
    stub = load_student_module("tutorials/exercises/ex03_distillation.py")
    assert [r.status for r in grade_module(stub, ref.CHECKS, max_examples=5)] == ["TODO"] * 3
