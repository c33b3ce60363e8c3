"""Checks for tutorials/exercises/ex03_distillation.py: softmax with temperature, the KD loss
of section 4.3 with its gradient, and the source text's loss as its snippet computes it."""

from __future__ import annotations

import numpy as np

from .. import distill as D
from ..grading import Check, Mistake
from ..grading.strategies import array_of_shape, floats, st


def softmax_with_temperature(z, T):
    """Reference: softmax(z / T) along the last axis, stable for any magnitude."""
    return D.softmax(z, T=T)


def kd_loss(student_logits, teacher_logits, labels, T, alpha):
    """Reference: (loss, dlogits) of alpha * CE + (1 - alpha) * T^2 * KL, batch mean."""
    return D.kd_loss(student_logits, teacher_logits, labels, T=T, alpha=alpha)


def kd_loss_as_written(student_logits, teacher_logits, T):
    """Reference: (loss, dlogits) of nn.KLDivLoss()(log_softmax(s/T), softmax(t/T))."""
    return D.kd_loss_as_written(student_logits, teacher_logits, T=T)


def _temperatures():
    return st.sampled_from([0.5, 1.0, 2.0, 4.0, 20.0]) | floats(0.5, 50.0)


@st.composite
def _softmax_args(draw):
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, 8)))
    return draw(array_of_shape(shape, low=-1000.0, high=1000.0)), draw(_temperatures())


@st.composite
def _pair(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 6))
    labels = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    return draw(array_of_shape((n, c))), draw(array_of_shape((n, c))), labels


@st.composite
def _kd_args(draw):
    s, t, y = draw(_pair())
    alpha = draw(st.sampled_from([0.0, 0.5, 1.0]) | floats(0.0, 1.0))
    return s, t, y, draw(_temperatures()), alpha


@st.composite
def _as_written_args(draw):
    s, t, _ = draw(_pair())
    return s, t, draw(_temperatures())


def _kd_parts(s, t, y, T):
    """(CE, dCE) and (T^2 KL, its gradient) of the library's kd_loss, to build wrong variants."""
    return D.kd_loss(s, t, y, T=T, alpha=1.0), D.kd_loss(s, t, y, T=T, alpha=0.0)


def _kd_variant(ce_weight, kl_factor):
    """What a kd_loss returns with the CE term weighted ce_weight(alpha) and the T^2 KL term
    multiplied by kl_factor(s, T), loss and gradient alike."""
    def wrong(s, t, y, T, alpha):
        (ce, dce), (kl, dkl) = _kd_parts(s, t, y, T)
        a, f = ce_weight(alpha), kl_factor(s, T)
        return a * ce + (1 - a) * kl * f, a * dce + (1 - a) * dkl * f
    return wrong


def _overflowed(args, expected, got):
    """A NaN or inf where the expected value is finite (and the logits are large)."""
    values = got if isinstance(got, tuple) else (got,)
    big = max(float(np.abs(a).max()) for a in args[:2] if isinstance(a, np.ndarray)) > 100
    try:
        return big and not all(np.all(np.isfinite(np.asarray(v, dtype=float))) for v in values)
    except (TypeError, ValueError):
        return False


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


_T2 = ("Hinton's KD loss multiplies the soft term by T^2 (so its gradient, T (q - p) / N, keeps its size "
       "as T grows).")
# Hand cases: softmax([0, ln 3]) = [1/4, 3/4]; student [0, 0] against teacher [0, ln 3]
_S, _T3 = np.array([[0.0, 0.0]]), np.array([[0.0, np.log(3.0)]])
_BIG_S, _BIG_T = np.array([[1000.0, -1000.0, 0.0]]), np.array([[-1000.0, 1000.0, 0.0]])
_S2, _T2_ = np.array([[1.0, 0.0, -1.0], [0.0, 2.0, 0.0]]), np.array([[0.0, 1.0, 0.0], [3.0, 0.0, 0.0]])

CHECKS = [
    Check("softmax_with_temperature", softmax_with_temperature, _softmax_args,
          hand_cases=((np.array([[0.0, np.log(3.0)]]), 1.0), (np.array([[0.0, 2 * np.log(3.0)]]), 2.0),
                      (np.array([[1000.0, 0.0, -1000.0]]), 1.0), (np.array([[1.0, 2.0], [3.0, 5.0]]), 1.0)),
          mistakes=(
              Mistake("no_shift", "exp overflows for logits like 1000 (inf / inf = nan): subtract each row's "
                      "maximum first; softmax(z) = softmax(z - max(z)).", when=_overflowed),
              Mistake("no_temperature", "divide the logits by T before the softmax: softmax(z / T).",
                      wrong=lambda z, T: _softmax(z)),
              Mistake("times_T", "divide the logits by T, do not multiply: softmax(z / T).",
                      wrong=lambda z, T: _softmax(z * T)),
              Mistake("axis0", "normalise each row (one example's classes): axis=-1 with keepdims=True, not "
                      "axis=0.", wrong=lambda z, T: _softmax(z / T, axis=0)),
          )),
    Check("kd_loss", kd_loss, _kd_args, params=("student_logits", "teacher_logits", "labels", "T", "alpha"),
          hand_cases=((_S, _T3, np.array([1]), 1.0, 0.0), (_S, _T3, np.array([1]), 3.0, 1.0),
                      (_S, _T3, np.array([1]), 2.0, 0.5), (_S2, _T2_, np.array([0, 1]), 2.0, 0.5),
                      (_BIG_S, _BIG_T, np.array([0]), 2.0, 0.5)),
          mistakes=(
              Mistake("no_T2", _T2, wrong=_kd_variant(lambda a: a, lambda s, T: 1 / T**2)),
              Mistake("no_T2", _T2, part=0, wrong=lambda s, t, y, T, a: _kd_variant(
                  lambda a: a, lambda s, T: 1 / T**2)(s, t, y, T, a)[0]),
              Mistake("class_mean", "average the KL over the batch only (sum over the classes, then / N): "
                      "a mean over N * C terms is C times too small.",
                      wrong=_kd_variant(lambda a: a, lambda s, T: 1 / s.shape[1])),
              Mistake("batch_sum", "take the mean over the batch: divide the sums by N.",
                      wrong=lambda s, t, y, T, a: tuple(len(s) * v
                                                        for v in D.kd_loss(s, t, y, T=T, alpha=a))),
              Mistake("alpha_swapped", "alpha weighs the hard-label cross-entropy, 1 - alpha the soft term.",
                      wrong=_kd_variant(lambda a: 1 - a, lambda s, T: 1.0)),
              Mistake("grad_T2", "the gradient of T^2 KL(p || softmax(s / T)) is T (q - p) / N: one T "
                      "cancels.", part=1,
                      wrong=lambda s, t, y, T, a: _kd_variant(lambda a: a, lambda s, T: T)(s, t, y, T, a)[1]),
              Mistake("naive_log_softmax", "log(softmax(...)) gives log(0) = -inf for logits like +-1000: "
                      "compute log q = z - max - log(sum(exp(z - max))) directly, as the stub's hint says.",
                      when=_overflowed),
          )),
    Check("kd_loss_as_written", kd_loss_as_written, _as_written_args,
          params=("student_logits", "teacher_logits", "T"),
          hand_cases=((_S2, _T2_, 2.0), (_S, _T3, 1.0), (_S, _T3, 4.0)),
          mistakes=(
              Mistake("batchmean", "nn.KLDivLoss's default reduction 'mean' averages all N * C terms: divide "
                      "by N * C, not by N ('batchmean').",
                      wrong=lambda s, t, T: tuple(s.shape[1] * v for v in D.kd_loss_as_written(s, t, T=T))),
              Mistake("with_T2", "the text's snippet has no T^2: KLDivLoss alone.",
                      wrong=lambda s, t, T: tuple(T**2 * v for v in D.kd_loss_as_written(s, t, T=T))),
              Mistake("sum", "reduction 'mean' divides the sum of the N * C terms by N * C.",
                      wrong=lambda s, t, T: tuple(s.size * v for v in D.kd_loss_as_written(s, t, T=T))),
          )),
]
