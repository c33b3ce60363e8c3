"""Knowledge distillation (source text sections 3.3 and 4.3; Hinton, Vinyals & Dean 2015).

A small *student* learns from a large *teacher*'s softened outputs.  Section 4.3 writes the
student's loss as::

    L(w_s) = alpha * L_0(w_s) + (1 - alpha) * L_KD(w_s, w_t)

with ``L_0`` the usual cross-entropy on the hard labels and ``L_KD`` the distillation term.
Here, as in Hinton et al. (2015)::

    L_KD = T^2 * (1/N) sum_n KL( softmax(t_n / T) || softmax(s_n / T) )

The ``T^2`` keeps the soft term's gradient from shrinking as the temperature ``T`` grows; the
source text's PyTorch snippet (section 3.3.2) leaves it out and also averages over classes
as well as examples (``nn.KLDivLoss()``'s default ``reduction="mean"``):
:func:`kd_loss_as_written` reproduces that snippet, so the two can be compared.

The teacher is any object with ``forward(x) -> logits`` (a pruned or quantized model works
unchanged, section 2.3); :func:`distill` trains the student with :func:`~minicompress.nn.fit`,
the KD loss plugged in as its loss (``fit`` calls the loss's ``on_batch`` hook).
"""

from __future__ import annotations

import numpy as np

from .data import shift_images
from .nn import fit
from .nn import functional as F
from .nn._checks import check_array, check_bool, check_finite, check_float, check_int, check_rng
from .nn.module import check_module

__all__ = ["softmax", "log_softmax", "kd_loss", "kd_loss_as_written", "KDLoss", "jitter", "distill"]


# ----------------------------------------------------------------------------- checks
def _check_T(T) -> float:
    return check_float(T, "T", low=0.0, low_open=True)


def _check_logits(z, name: str, *, ndim: int | None = None) -> np.ndarray:
    z = check_array(z, name, ndim=ndim)
    if z.ndim == 0:
        raise ValueError(f"{name} must have a class axis (at least 1-D); got a scalar")
    if z.shape[-1] == 0:
        raise ValueError(f"{name} has no classes (shape {z.shape}); expected C >= 1 on the last axis")
    check_finite(z, name)
    return z


def _check_pair(student_logits, teacher_logits):
    s = _check_logits(student_logits, "student_logits", ndim=2)
    t = _check_logits(teacher_logits, "teacher_logits", ndim=2)
    if s.shape != t.shape:
        raise ValueError(
            f"student_logits and teacher_logits must have the same shape (N, C); got "
            f"{s.shape} and {t.shape}. Do teacher and student predict the same classes, "
            f"on the same batch?"
        )
    if s.shape[0] == 0:
        raise ValueError("the logits are an empty batch (N = 0); the loss needs at least one row")
    return s, t


def _check_labels(labels, N: int, C: int) -> np.ndarray:
    """The NN stack's label check, with a non-integer dtype reported as ``ValueError`` (as
    every other bad input to :func:`kd_loss` is) instead of ``TypeError``."""
    try:
        return F.check_labels(labels, N, C)
    except TypeError as err:
        raise ValueError(str(err)) from None


# ----------------------------------------------------------------------------- softmax
def _tempered(z: np.ndarray, T: float, dtype=None) -> np.ndarray:
    """``(z - max_j z_j) / T`` on the last axis, in ``dtype`` (default: z's).

    Shifted BEFORE dividing, so that a tiny T sends the non-maximal logits to -inf (weight
    0) instead of overflowing ``z / T`` to inf.  The division is done in float64 whatever
    z's dtype: T = 1e-300 would be 0 in float32 (and 1e-8 in float16), and ``0 / 0`` NaN.
    Its row maximum is exactly 0, so the NN stack's softmax / log_softmax, which subtract
    the row maximum again, return the same bits as if they did not."""
    shifted = (z - z.max(axis=-1, keepdims=True)).astype(np.float64)
    with np.errstate(over="ignore"):  # -1e300 in float32 is -inf: weight exactly 0
        return (shifted / T).astype(z.dtype if dtype is None else dtype)


def log_softmax(z, *, T: float = 1.0) -> np.ndarray:
    """Log of the softmax with temperature, along the last axis (the classes).

    ::

        log softmax(z, T)_i = (z_i - m) / T - log sum_j exp((z_j - m) / T),   m = max_j z_j

    Subtracting the row maximum first keeps every exponent <= 0, so logits of any magnitude
    (1e4 or more) neither overflow nor give NaN; the result is invariant to adding a
    constant to a row.  Section 3.3.2 of the source text (``F.log_softmax(x / temperature)``);
    Hinton et al. (2015), eq. (1).

    Parameters
    ----------
    z : (..., C) logits, finite
    T : temperature > 0; T = 1 is the ordinary softmax, large T flattens it

    Returns
    -------
    (..., C) array, same floating dtype as ``z`` (integers become float64)
    """
    return F.log_softmax(_tempered(_check_logits(z, "z"), _check_T(T)))


def softmax(z, *, T: float = 1.0) -> np.ndarray:
    """Softmax with temperature along the last axis: Hinton et al. (2015), eq. (1).

    ::

        softmax(z, T)_i = exp(z_i / T) / sum_j exp(z_j / T)
                        = exp((z_i - m) / T) / sum_j exp((z_j - m) / T),   m = max_j z_j

    Rows sum to 1 and do not change when a constant is added to a row.  As T -> infinity
    every row tends to the uniform 1/C; as T -> 0 it tends to the one-hot of the arg-max
    (ties share the mass).  Section 3.3.2 of the source text (``F.softmax(x / temperature)``).

    Parameters
    ----------
    z : (..., C) logits, finite
    T : temperature > 0

    Returns
    -------
    (..., C) array of probabilities, same floating dtype as ``z``
    """
    return F.softmax(_tempered(_check_logits(z, "z"), _check_T(T)))


# ----------------------------------------------------------------------------- losses
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
        labels = _check_labels(labels, N, C)
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


# ----------------------------------------------------------------------------- training
def jitter(x: np.ndarray, rng, *, max_shift: int = 2) -> np.ndarray:
    """Shift every image by its own random whole-pixel offset of at most ``max_shift``.

    ``out[n, c, i, j] = x_pad[n, c, i - dy_n, j - dx_n]`` with ``dy_n, dx_n`` drawn uniformly
    from ``{-max_shift, ..., max_shift}``: positive ``dy`` moves the digit down, positive ``dx``
    right.  Hinton et al. (2015, section 3) trained their MNIST teacher on inputs "jittered
    by up to two pixels in any direction".  Usable as ``fit(..., augment=jitter)``.

    Parameters
    ----------
    x : (N, C, H, W) images
    rng : Generator or int seed
    max_shift : int >= 0, smaller than H and W

    Returns
    -------
    (N, C, H, W) array, same dtype as ``x``

    Notes
    -----
    The shift itself is :func:`minicompress.data.shift_images`: vacated pixels copy the
    nearest border pixel, the background on MNIST.
    """
    rng = check_rng(rng)
    m = check_int(max_shift, "max_shift", low=0)
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be an (N, C, H, W) numpy array; got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"x must be an (N, C, H, W) array; got shape {x.shape}")
    N, C, H, W = x.shape
    if m >= min(H, W):
        raise ValueError(f"max_shift must be smaller than the image size {(H, W)}; got {m}")
    dy = rng.integers(-m, m + 1, size=N)
    dx = rng.integers(-m, m + 1, size=N)
    return shift_images(x, dy, dx)


def distill(teacher, student, X, y, *, T: float, alpha: float, epochs: int, batch_size: int,
            optimizer, rng, augment=None, validation=None, verbose: bool = False,
            as_written: bool = False) -> dict:
    """Train ``student`` in place on the teacher's soft targets (section 3.3.1, steps 2-3).

    The teacher runs forward only; the student trains with :func:`~minicompress.nn.fit` and
    a :class:`KDLoss` (``alpha * L_0 + (1 - alpha) * T^2 KL``), no second training loop.

    Parameters
    ----------
    teacher : any object with ``forward(x) -> (N, C) logits`` (a pruned or int8 model too)
    student : Module to train; ``optimizer`` must be built on it
    X, y : training inputs (N, ...) and integer labels (N,)
    T, alpha : temperature > 0 and hard-label weight in [0, 1], see :func:`kd_loss`
    epochs, batch_size, rng : as for ``fit``
    augment : optional ``augment(xb, rng)``, e.g. :func:`jitter`; teacher and student see
        the same augmented batch
    validation, verbose : passed to ``fit``
    as_written : train with the source text's loss instead (:func:`kd_loss_as_written`; alpha
        must be 0), to compare the two -- see :class:`KDLoss`

    Returns
    -------
    history : the ``fit`` history (per-epoch loss and accuracies)
    """
    check_module(student, "student")
    if teacher is student:
        raise ValueError("teacher and student are the same object; distill a separate student model")
    kd = KDLoss(teacher, T=T, alpha=alpha, as_written=as_written)
    return fit(student, X, y, epochs=epochs, batch_size=batch_size, optimizer=optimizer,
               loss=kd, rng=rng, validation=validation, augment=augment,
               verbose=verbose)
