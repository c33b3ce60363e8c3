"""Regression corpus of exercise 03 (see tests/test_grading_corpus.py): NumPy-only solutions,
``<function>__correct*`` pass, ``<function>__<mistake>`` fail with that mistake's hint."""

import numpy as np


def _log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def softmax_with_temperature__correct(z, T):
    return np.exp(_log_softmax(z / T))


def softmax_with_temperature__no_shift(z, T):
    e = np.exp(z / T)
    return e / e.sum(axis=-1, keepdims=True)


def softmax_with_temperature__no_temperature(z, T):
    return np.exp(_log_softmax(z))


def softmax_with_temperature__times_T(z, T):
    return np.exp(_log_softmax(z * T))


def softmax_with_temperature__axis0(z, T):
    z = z / T
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _kd(s, t, labels, T, alpha, *, t2=True, kl_over_classes=False, grad_t=1, batch_mean=True,
        swapped=False, naive=False):
    N, C = s.shape
    if naive:
        log_q = np.log(np.exp(_log_softmax(s / T)))
        log_p = np.log(np.exp(_log_softmax(t / T)))
        ls1 = np.log(np.exp(_log_softmax(s)))
    else:
        log_q, log_p, ls1 = _log_softmax(s / T), _log_softmax(t / T), _log_softmax(s)
    p, q = np.exp(log_p), np.exp(log_q)
    onehot = np.eye(C)[labels]
    ce = -np.sum(onehot * ls1)
    kl = np.sum(p * (log_p - log_q))
    d_ce = np.exp(ls1) - onehot
    d_kl = (q - p) / T
    f = T**2 if t2 else 1.0
    if kl_over_classes:
        kl, d_kl = kl / C, d_kl / C
    a = 1 - alpha if swapped else alpha
    n = N if batch_mean else 1
    loss = (a * ce + (1 - a) * f * kl) / n
    grad = (a * d_ce + (1 - a) * f * d_kl * grad_t) / n
    return float(loss), grad


def kd_loss__correct(student_logits, teacher_logits, labels, T, alpha):
    return _kd(student_logits, teacher_logits, labels, T, alpha)


def kd_loss__no_T2(student_logits, teacher_logits, labels, T, alpha):
    return _kd(student_logits, teacher_logits, labels, T, alpha, t2=False)


def kd_loss__class_mean(student_logits, teacher_logits, labels, T, alpha):
    return _kd(student_logits, teacher_logits, labels, T, alpha, kl_over_classes=True)


def kd_loss__batch_sum(student_logits, teacher_logits, labels, T, alpha):
    return _kd(student_logits, teacher_logits, labels, T, alpha, batch_mean=False)


def kd_loss__alpha_swapped(student_logits, teacher_logits, labels, T, alpha):
    return _kd(student_logits, teacher_logits, labels, T, alpha, swapped=True)


def kd_loss__grad_T2(student_logits, teacher_logits, labels, T, alpha):
    return _kd(student_logits, teacher_logits, labels, T, alpha, grad_t=T)


def kd_loss__naive_log_softmax(student_logits, teacher_logits, labels, T, alpha):
    return _kd(student_logits, teacher_logits, labels, T, alpha, naive=True)


def _as_written(s, t, T, scale=1.0):
    log_q, log_p = _log_softmax(s / T), _log_softmax(t / T)
    p, q = np.exp(log_p), np.exp(log_q)
    return float(scale * np.sum(p * (log_p - log_q)) / s.size), scale * (q - p) / (T * s.size)


def kd_loss_as_written__correct(student_logits, teacher_logits, T):
    return _as_written(student_logits, teacher_logits, T)


def kd_loss_as_written__batchmean(student_logits, teacher_logits, T):
    return _as_written(student_logits, teacher_logits, T, scale=student_logits.shape[1])


def kd_loss_as_written__with_T2(student_logits, teacher_logits, T):
    return _as_written(student_logits, teacher_logits, T, scale=T**2)


def kd_loss_as_written__sum(student_logits, teacher_logits, T):
    return _as_written(student_logits, teacher_logits, T, scale=student_logits.size)
