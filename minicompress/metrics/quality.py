"""Accuracy and accuracy loss, section 2.2: the second number compression is judged by."""

from __future__ import annotations

from ..nn import predict
from ..nn._checks import check_float
from ..nn.functional import check_labels
from ..nn.module import check_module

__all__ = ["accuracy", "accuracy_loss"]


def accuracy(model, X, y, batch_size: int = 500) -> float:
    """Top-1 accuracy of ``model`` on ``(X, y)`` as a fraction in [0, 1].

    ``y`` must be integer class labels of shape (N,) in [0, C) for the model's C outputs,
    checked by the NN stack's :func:`~minicompress.nn.functional.check_labels` as
    :func:`~minicompress.nn.evaluate` checks them: (N, 1) labels are not broadcast, and
    out-of-range or float labels are errors, not misses.
    """
    check_module(model)
    logits = predict(model, X, batch_size)
    labels = check_labels(y, len(logits), logits.shape[1], name="y")
    return float((logits.argmax(axis=1) == labels).mean())


def accuracy_loss(reference: float, compressed: float) -> float:
    """``100 * (reference - compressed)``: the accuracy lost, in percentage points
    (accuracies as fractions; negative when the compressed model is better)."""
    values = [check_float(v, n) for v, n in ((reference, "reference"), (compressed, "compressed"))]
    for v, n in zip(values, ("reference", "compressed")):
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{n} accuracy must be a fraction in [0, 1] (not percent); got {v}")
    return 100.0 * (values[0] - values[1])
