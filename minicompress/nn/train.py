"""One training loop for everything: ``fit`` with hooks.

Pruning masks, the L1 penalty, quantization-aware training and distillation are hooks or
losses plugged into this loop, never forks of it.  A hook is any object with some of::

    on_batch(model, xb, yb)     before the forward pass (e.g. a teacher computes its logits)
    after_backward(model)       gradients are ready (e.g. add a penalty's gradient)
    after_step(model)           parameters were updated (e.g. re-apply pruning masks)
"""

from __future__ import annotations

import time

import numpy as np

from ._checks import check_int, check_rng
from .functional import cross_entropy

__all__ = ["minibatches", "fit", "evaluate", "predict"]


def minibatches(n: int, batch_size: int, *, rng=None, shuffle: bool = True):
    """Yield index arrays that cover ``range(n)`` once, in batches of ``batch_size``.

    With ``shuffle`` the order is a permutation drawn from ``rng`` (required then); the last
    batch may be smaller.
    """
    n = check_int(n, "n", low=0)
    batch_size = check_int(batch_size, "batch_size", low=1)
    if shuffle:
        order = check_rng(rng).permutation(n)
    else:
        order = np.arange(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


def predict(model, X: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Logits of ``model`` on ``X``, computed in batches (forward only)."""
    batch_size = check_int(batch_size, "batch_size", low=1)
    if len(X) == 0:
        raise ValueError("X is empty; predict needs at least one example")
    outs = [model(X[i : i + batch_size]) for i in range(0, len(X), batch_size)]
    return np.concatenate(outs)


def evaluate(model, X: np.ndarray, y: np.ndarray, batch_size: int = 500, loss=cross_entropy):
    """Return ``(mean loss, accuracy in [0, 1])`` of ``model`` on ``(X, y)``."""
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length; got {len(X)} and {len(y)}")
    logits = predict(model, X, batch_size)
    value, _ = loss(logits, y)
    return value, float((logits.argmax(axis=1) == y).mean())


def _check_batch(xb, idx, epoch: int, step: int) -> None:
    """Refuse a batch with NaN/inf, naming the epoch, the step and the example in ``X``."""
    finite = np.isfinite(xb)
    if not finite.all():
        bad = ~finite.reshape(len(xb), -1).all(axis=1)
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"epoch {epoch}, step {step}: the training batch contains "
            f"{int((~finite).sum())} non-finite value(s) (NaN or inf) in {int(bad.sum())} "
            f"example(s), the first X[{int(idx[row])}]; clean the data (or the augment "
            f"function) before training"
        )


HOOK_METHODS = ("on_batch", "after_backward", "after_step")


def _hook_calls(hooks, name):
    return [getattr(h, name) for h in hooks if hasattr(h, name)]


def _with_loss_hooks(loss, hooks) -> list:
    """``hooks``, with the loss in front when it has hook methods of its own (a distillation
    loss needs ``on_batch`` to run its teacher): such a loss is passed once, as ``loss=``."""
    hooks = list(hooks)
    if any(callable(getattr(loss, m, None)) for m in HOOK_METHODS) and not any(h is loss for h in hooks):
        hooks.insert(0, loss)
    return hooks


def fit(
    model,
    X: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    optimizer,
    loss=cross_entropy,
    hooks=(),
    rng,
    validation=None,
    augment=None,
    verbose: bool = True,
) -> dict:
    """Train ``model`` in place by minibatch gradient descent.

    Parameters
    ----------
    model : Module
    X : (N, ...) inputs;  y : (N,) labels (or any array indexed along axis 0 that ``loss``
        understands)
    epochs, batch_size : int
    optimizer : SGD or Adam built on ``model``
    loss : callable ``loss(logits, y_batch) -> (value, dlogits)``; default cross-entropy
    hooks : iterable of objects with ``on_batch``/``after_backward``/``after_step`` methods.
        A ``loss`` that has any of these methods is called as a hook too (first), so a
        :class:`~minicompress.distill.KDLoss` is passed once, as ``loss=``.
    rng : Generator or int seed; drives the shuffling (and ``augment``)
    validation : optional ``(X_test, y_test)``, evaluated after every epoch
    augment : optional ``augment(xb, rng) -> xb`` applied to each training batch
    verbose : print one line per epoch (epoch, loss, train/test accuracy, seconds)

    Returns
    -------
    history : dict of per-epoch lists ``loss``, ``train_accuracy`` (running accuracy over the
        epoch's batches, as the weights change), ``test_accuracy`` (if validation), ``seconds``.

    Raises
    ------
    ValueError
        if a training batch holds NaN or inf (after ``augment``), naming the epoch and step.
    FloatingPointError
        if the loss becomes NaN or inf, naming the epoch and step, so a diverging run stops
        at once instead of training on garbage.
    """
    epochs = check_int(epochs, "epochs", low=0)
    batch_size = check_int(batch_size, "batch_size", low=1)
    rng = check_rng(rng)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length; got {len(X)} and {len(y)}")
    if len(X) == 0:
        raise ValueError("X is empty; fit needs at least one training example")
    hooks = _with_loss_hooks(loss, hooks)
    on_batch = _hook_calls(hooks, "on_batch")
    after_backward = _hook_calls(hooks, "after_backward")
    after_step = _hook_calls(hooks, "after_step")
    history = {"loss": [], "train_accuracy": [], "seconds": []}
    if validation is not None:
        history["test_accuracy"] = []
    step = 0
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        total_loss = correct = seen = 0
        for idx in minibatches(len(X), batch_size, rng=rng):
            step += 1
            xb, yb = X[idx], y[idx]
            if augment is not None:
                xb = augment(xb, rng)
            _check_batch(xb, idx, epoch, step)
            for f in on_batch:
                f(model, xb, yb)
            model.zero_grad()
            logits = model.forward(xb)
            value, dlogits = loss(logits, yb)
            if not np.isfinite(value):
                raise FloatingPointError(
                    f"epoch {epoch}, step {step}: the loss is {value}; training diverged "
                    f"(try a smaller learning rate)"
                )
            model.backward(dlogits)
            for f in after_backward:
                f(model)
            optimizer.step()
            for f in after_step:
                f(model)
            total_loss += value * len(idx)
            if np.ndim(yb) == 1:
                correct += int((logits.argmax(axis=1) == yb).sum())
            seen += len(idx)
        history["loss"].append(total_loss / seen)
        history["train_accuracy"].append(correct / seen)
        line = f"epoch {epoch:3d}  loss {total_loss / seen:.4f}  train acc {correct / seen:.4f}"
        if validation is not None:
            _, acc = evaluate(model, *validation)
            history["test_accuracy"].append(acc)
            line += f"  test acc {acc:.4f}"
        history["seconds"].append(time.perf_counter() - t0)
        if verbose:
            print(line + f"  {history['seconds'][-1]:.1f}s", flush=True)
    return history
