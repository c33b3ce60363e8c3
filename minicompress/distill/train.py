"""Training a student: digit jitter (Hinton et al. 2015, section 3) and :func:`distill`,
which is ``fit`` with a :class:`~.losses.KDLoss` (section 3.3.1, steps 2-3)."""

from __future__ import annotations

import numpy as np

from ..data import shift_images
from ..nn import fit
from ..nn._checks import check_finite, check_int, check_ndarray, check_rng
from ..nn.module import check_module
from .losses import KDLoss

__all__ = ["jitter", "distill"]


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
    x = check_ndarray(x, "x")
    if x.dtype.kind == "f":
        check_finite(x, "x")
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
