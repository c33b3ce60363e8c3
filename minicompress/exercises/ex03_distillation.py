"""Checks for tutorials/exercises/ex03_distillation.py: softmax with temperature, the KD loss
of section 4.3 with its gradient, and the source text's loss as its snippet computes it."""

from __future__ import annotations

import numpy as np

from .. import distill as D
from ..grading import Check


def softmax_with_temperature(z, T):
    """Reference: softmax(z / T) along the last axis, stable for any magnitude."""
    return D.softmax(z, T=T)


def kd_loss(student_logits, teacher_logits, labels, T, alpha):
    """Reference: (loss, dlogits) of alpha * CE + (1 - alpha) * T^2 * KL, batch mean."""
    return D.kd_loss(student_logits, teacher_logits, labels, T=T, alpha=alpha)


def kd_loss_as_written(student_logits, teacher_logits, T):
    """Reference: (loss, dlogits) of nn.KLDivLoss()(log_softmax(s/T), softmax(t/T))."""
    return D.kd_loss_as_written(student_logits, teacher_logits, T=T)


def _temperatures(st):
    return st.sampled_from([0.5, 1.0, 2.0, 4.0, 20.0]) | st.floats(0.5, 50.0)


def _softmax_args():
    from hypothesis import strategies as st

    @st.composite
    def draw(draw):
        shape = (draw(st.integers(1, 4)), draw(st.integers(1, 10)))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        scale = draw(st.sampled_from([1.0, 10.0, 1000.0]))  # 1000: exp would overflow unshifted
        return scale * rng.standard_normal(shape), draw(_temperatures(st))

    return draw()


def _pair(draw, st):
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 10))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return 3 * rng.standard_normal((n, c)), 3 * rng.standard_normal((n, c)), rng.integers(0, c, size=n)


def _kd_args():
    from hypothesis import strategies as st

    @st.composite
    def draw(draw):
        s, t, y = _pair(draw, st)
        alpha = draw(st.sampled_from([0.0, 0.5, 1.0]) | st.floats(0.0, 1.0))
        return s, t, y, draw(_temperatures(st)), alpha

    return draw()


def _as_written_args():
    from hypothesis import strategies as st

    @st.composite
    def draw(draw):
        s, t, _ = _pair(draw, st)
        return s, t, draw(_temperatures(st))

    return draw()


# Hand cases: softmax([0, ln 3]) = [1/4, 3/4]; student [0, 0] against teacher [0, ln 3]
_S, _T3 = np.array([[0.0, 0.0]]), np.array([[0.0, np.log(3.0)]])

CHECKS = [
    Check("softmax_with_temperature", softmax_with_temperature, _softmax_args,
          hand_cases=((np.array([[0.0, np.log(3.0)]]), 1.0), (np.array([[0.0, 2 * np.log(3.0)]]), 2.0),
                      (np.array([[1000.0, 0.0, -1000.0]]), 1.0))),
    Check("kd_loss", kd_loss, _kd_args,
          hand_cases=((_S, _T3, np.array([1]), 1.0, 0.0), (_S, _T3, np.array([1]), 3.0, 1.0),
                      (_S, _T3, np.array([1]), 2.0, 0.5))),
    Check("kd_loss_as_written", kd_loss_as_written, _as_written_args,
          hand_cases=((_S, _T3, 1.0), (_S, _T3, 4.0))),
]
