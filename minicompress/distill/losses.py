"""The distillation loss of section 4.3 with Hinton's T^2 scaling, the source text's loss as
its snippet writes it (section 3.3.2), and :class:`KDLoss`, the loss ``fit`` trains with."""

from __future__ import annotations

import numpy as np

from ..nn import functional as F
from ..nn._checks import check_bool, check_float
from .softmax import _check_pair, _check_T, _tempered

__all__ = ["kd_loss", "kd_loss_as_written", "KDLoss"]


def _p_log_ratio(p, logp, logq):
    """Pointwise KL terms p (log p - log q), with the limit 0 where p == 0 (no 0 * inf = NaN)."""
    return np.where(p > 0, p * (logp - logq), 0.0).astype(p.dtype, copy=False)


def _soft_term(s, t, T: float):
    """``log q = log softmax(s/T)``, ``p = softmax(t/T)`` and the KL per row, in float64
    whatever the logits' dtype: with T = 1e-300, s/T is about -1e300 (float32's -inf, which
    would make KL = inf although T^2 KL -> 0), and T^2 KL needs every digit at large T."""
    logq = F.log_softmax(_tempered(s, T, np.float64))
    logp = F.log_softmax(_tempered(t, T, np.float64))
    p = np.exp(logp)
    return logq, p, _p_log_ratio(p, logp, logq).sum(axis=1)


def kd_loss(student_logits, teacher_logits, labels, *, T: float, alpha: float):
    """The distillation loss of section 4.3 with Hinton's T^2 scaling, and its gradient.

    ::

        L = alpha * L_0 + (1 - alpha) * L_KD
        L_0  = -(1/N) sum_n log softmax(s_n)[y_n]                         (hard labels, T = 1)
        L_KD = T^2 (1/N) sum_n sum_i p_ni (log p_ni - log q_ni),  p = softmax(t/T), q = softmax(s/T)

        dL/ds = alpha * (softmax(s) - onehot(y)) / N + (1 - alpha) * T * (q - p) / N

    The soft term's gradient is (1/T)(q - p) per unit of KL; multiplying the KL by T^2 makes
    it T (q - p), whose size stays roughly constant as T grows (Hinton et al. 2015, section
    2).  For large T and zero-mean logits T^2 KL -> sum_i (s_i - t_i)^2 / (2C): matching
    logits (Hinton et al. 2015, section 2.1; Bucila et al. 2006).

    Parameters
    ----------
    student_logits : (N, C) finite float array; the gradient has its dtype
    teacher_logits : (N, C) finite array (the teacher's outputs; treated as constants)
    labels : (N,) integer array in [0, C), or None when ``alpha == 0`` (soft targets alone)
    T : temperature > 0
    alpha : weight of the hard-label term, in [0, 1] (``alpha = 1`` ignores the teacher)

    Returns
    -------
    loss : float (>= 0 up to rounding; exactly 0 at alpha = 0 when s == t elementwise)
    dlogits : (N, C) gradient of ``loss`` with respect to ``student_logits``

    Notes
    -----
    ``p log p`` is taken as 0 where ``p`` underflows to 0 (the limit), so a confident teacher
    gives no NaN.  When ``alpha == 0`` the labels are not used (but are checked if given);
    when ``alpha == 1`` the teacher's logits are checked but not used.  The KL shrinks like
    1/T^2; above T ~ 1e4 float64 rounding (about 1e-6 relative in T^2 KL) dominates the
    approach to the logit-matching limit.
    """
    s, t = _check_pair(student_logits, teacher_logits)
    T = _check_T(T)
    alpha = check_float(alpha, "alpha", low=0.0, high=1.0)
    N, C = s.shape
    if labels is None:
        if alpha > 0:
            raise ValueError(
                f"labels=None is only allowed with alpha = 0 (soft targets alone); got alpha={alpha}. "
                f"Pass the hard labels, or set alpha=0."
            )
    else:
        labels = F.check_labels(labels, N, C)  # TypeError for a non-integer dtype, as everywhere
    rows = np.arange(N)
    loss = 0.0
    dlogits = np.zeros_like(s)
    if alpha > 0:
        logq1 = F.log_softmax(s)  # T = 1 for the hard-label term; s is already checked
        loss += alpha * float(-logq1[rows, labels].mean())
        hard = np.exp(logq1)
        hard[rows, labels] -= 1
        dlogits += (alpha / N) * hard
    if alpha < 1:
        logq, p, kl = _soft_term(s, t, T)
        loss += (1 - alpha) * T * (T * float(kl.mean()))  # T * (T * KL): no overflow of T**2
        dlogits += (((1 - alpha) * T / N) * (np.exp(logq) - p)).astype(s.dtype)
    return float(loss), dlogits


def kd_loss_as_written(student_logits, teacher_logits, *, T: float):
    """The source text's loss exactly as its snippet computes it (section 3.3.2), with gradient.

    ::

        criterion = nn.KLDivLoss()              # default reduction="mean"
        loss = criterion(F.log_softmax(s / T, dim=1), F.softmax(t / T, dim=1))

    ``reduction="mean"`` averages the N*C pointwise terms, so this is::

        L_text = (1/(N C)) sum_n sum_i p_ni (log p_ni - log q_ni) = KL_mean / C
        dL_text/ds = (q - p) / (N C T)

    Against :func:`kd_loss` with ``alpha = 0`` (``T^2 KL_mean``, gradient ``T (q - p)/N``),
    both the loss and the gradient are smaller by the exact factor ``1 / (C T^2)``: 1/160 at
    C = 10, T = 4.  No hard-label term and no ``alpha`` appear in the snippet.  (PyTorch itself
    warns that ``reduction="mean"`` is not the KL divergence; ``"batchmean"`` is.)

    Parameters
    ----------
    student_logits, teacher_logits : (N, C) finite arrays
    T : temperature > 0

    Returns
    -------
    loss : float;  dlogits : (N, C) array, dtype of ``student_logits``
    """
    s, t = _check_pair(student_logits, teacher_logits)
    T = _check_T(T)
    N, C = s.shape
    logq, p, kl = _soft_term(s, t, T)
    loss = float(kl.sum() / (N * C))
    with np.errstate(over="ignore"):  # a gradient beyond float32's range is inf, honestly
        return loss, ((np.exp(logq) - p) / (N * C * T)).astype(s.dtype)


class KDLoss:
    """:func:`kd_loss` as a training loss *and* an ``on_batch`` hook for :func:`~minicompress.nn.fit`.

    ``on_batch(student, xb, yb)`` runs the teacher forward on the batch the student is about
    to see (after any augmentation, so both see the same shifted digits) and keeps its logits;
    ``__call__(logits, yb)`` then returns ``kd_loss(logits, teacher_logits, yb, T=T, alpha=alpha)``.
    The teacher's parameters and gradients are never touched.  Pass it once, as ``loss=``:
    ``fit`` calls a loss's own hook methods.

    ``as_written=True`` uses :func:`kd_loss_as_written` instead (the source text's loss; alpha
    must then be 0, since the snippet has no hard-label term).
    """

    def __init__(self, teacher, *, T: float, alpha: float, as_written: bool = False):
        if not callable(getattr(teacher, "forward", None)):
            raise TypeError(f"teacher must have a forward(x) method returning logits; got {teacher!r}")
        self.teacher = teacher
        self.T = _check_T(T)
        self.alpha = check_float(alpha, "alpha", low=0.0, high=1.0)
        as_written = check_bool(as_written, "as_written")
        if as_written and self.alpha != 0:
            raise ValueError(
                f"as_written=True reproduces the text's snippet, which has no hard-label term; "
                f"alpha must be 0, got {self.alpha}"
            )
        self.as_written = as_written
        self._teacher_logits = None

    def on_batch(self, model, xb, yb) -> None:
        self._teacher_logits = self.teacher.forward(xb)

    def __call__(self, logits, yb):
        t, self._teacher_logits = self._teacher_logits, None  # one use per batch
        if t is None:
            raise RuntimeError(
                "KDLoss was called before on_batch gave it the teacher's logits; pass it as loss= "
                "to fit(), which calls its on_batch, or call on_batch(model, xb, yb) first"
            )
        if self.as_written:
            return kd_loss_as_written(logits, t, T=self.T)
        labels = None if self.alpha == 0 else yb
        return kd_loss(logits, t, labels, T=self.T, alpha=self.alpha)
