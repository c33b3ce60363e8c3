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

from ._checks import check_bool, check_callable, check_finite, check_int, check_ndarray, check_rng
from .functional import check_labels, cross_entropy
from .module import check_module

__all__ = ["minibatches", "fit", "evaluate", "predict", "check_fit_arguments"]


def minibatches(n: int, batch_size: int, *, rng=None, shuffle: bool = True):
    """Yield index arrays that cover ``range(n)`` once, in batches of ``batch_size``.

    With ``shuffle`` the order is a permutation drawn from ``rng`` (required then); the last
    batch may be smaller.  The arguments are checked when it is called, not at the first
    batch.
    """
    n = check_int(n, "n", low=0)
    batch_size = check_int(batch_size, "batch_size", low=1)
    if check_bool(shuffle, "shuffle"):
        order = check_rng(rng).permutation(n)
    else:
        order = np.arange(n)
    return (order[start : start + batch_size] for start in range(0, n, batch_size))


def predict(model, X: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Logits of ``model`` on ``X``, computed in batches (forward only)."""
    check_module(model)
    check_ndarray(X, "X", min_ndim=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    if len(X) == 0:
        raise ValueError("X is empty; predict needs at least one example")
    check_finite(X, "X")
    outs = [model(X[i : i + batch_size]) for i in range(0, len(X), batch_size)]
    return np.concatenate(outs)


def evaluate(model, X: np.ndarray, y: np.ndarray, batch_size: int = 500, loss=cross_entropy):
    """Return ``(mean loss, top-1 accuracy in [0, 1])`` of ``model`` on ``(X, y)``.

    ``y`` must be integer class labels of shape (N,) in [0, C) for the model's C outputs
    (:func:`~minicompress.nn.functional.check_labels`): (N, 1) labels are not broadcast and
    out-of-range labels are not counted as wrong, both are errors.
    """
    check_module(model)
    check_ndarray(X, "X", min_ndim=1)
    check_ndarray(y, "y", min_ndim=1)
    check_callable(loss, "loss", "a loss function loss(logits, y) -> (value, dlogits)")
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length; got {len(X)} and {len(y)}")
    logits = predict(model, X, batch_size)
    labels = check_labels(y, len(X), logits.shape[1], name="y")
    value, _ = loss(logits, labels)
    return value, float((logits.argmax(axis=1) == labels).mean())


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


def _check_parameters(model, epoch: int, step: int) -> None:
    """Refuse parameters that an update made NaN or inf, naming the epoch, step and key."""
    for name, p in model.named_parameters():
        if not np.isfinite(p).all():
            raise FloatingPointError(
                f"epoch {epoch}, step {step}: after the update, parameter {name!r} holds "
                f"{int((~np.isfinite(p)).sum())} non-finite value(s) (NaN or inf); training "
                f"diverged (try a smaller learning rate)"
            )


def _check_optimizer(optimizer, model) -> None:
    """The optimizer must update exactly the model's own arrays (compared by identity):
    one built on another model would train nothing and still return a loss history."""
    if not callable(getattr(optimizer, "step", None)) or not callable(getattr(optimizer, "parameters", None)):
        raise TypeError(f"optimizer must be an optimizer such as SGD(model, lr) (with step() and "
                        f"parameters()); got {type(optimizer).__name__}")
    own = {id(p) for p in model.parameters()}
    held = {id(p) for p in optimizer.parameters()}
    if held != own:
        raise ValueError(
            f"optimizer does not hold this model's parameters: it updates {len(held)} array(s), "
            f"{len(held & own)} of them among the model's {len(own)}; build it on the model you "
            f"train, e.g. SGD(model, lr)"
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


def check_fit_arguments(model, X, y, *, epochs, batch_size, loss=cross_entropy, hooks=(),
                        validation=None, augment=None, verbose=True) -> tuple[int, int, list]:
    """Check what :func:`fit` needs before anything is trained (or pruned: a caller such as
    :func:`~minicompress.prune.iterative_prune` checks first, then changes the model).

    Returns ``(epochs, batch_size, hooks as a list)``.  The optimizer and rng are checked by
    :func:`fit` itself.
    """
    check_module(model)
    check_ndarray(X, "X", min_ndim=1)
    check_ndarray(y, "y", min_ndim=1)
    epochs = check_int(epochs, "epochs", low=0)
    batch_size = check_int(batch_size, "batch_size", low=1)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length; got {len(X)} and {len(y)}")
    if len(X) == 0:
        raise ValueError("X is empty; fit needs at least one training example")
    check_callable(loss, "loss", "a loss function loss(logits, y) -> (value, dlogits)")
    if isinstance(hooks, (str, bytes)) or not hasattr(hooks, "__iter__"):
        raise TypeError(f"hooks must be a list of hook objects; got {type(hooks).__name__}")
    hooks = list(hooks)
    for i, h in enumerate(hooks):
        if not any(callable(getattr(h, m, None)) for m in HOOK_METHODS):
            raise TypeError(f"hooks[{i}] has none of the hook methods {HOOK_METHODS}; got {h!r}")
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise TypeError(f"validation must be a pair (X_test, y_test) or None; got "
                            f"{type(validation).__name__}")
        check_ndarray(validation[0], "validation[0] (X_test)", min_ndim=1)
        check_ndarray(validation[1], "validation[1] (y_test)", min_ndim=1)
        if len(validation[0]) != len(validation[1]):
            raise ValueError(f"validation X_test and y_test must have the same length; got "
                             f"{len(validation[0])} and {len(validation[1])}")
    if augment is not None:
        check_callable(augment, "augment", "a function augment(xb, rng) -> xb, or None")
    check_bool(verbose, "verbose")
    return epochs, batch_size, hooks


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
    TypeError, ValueError
        for a bad argument (:func:`check_fit_arguments`), or an optimizer that does not hold
        exactly the model's own arrays (built on another model, it would train nothing).
    ValueError
        if a training batch holds NaN or inf (after ``augment``), naming the epoch and step.
    FloatingPointError
        if the loss becomes NaN or inf, or an update leaves a parameter NaN or inf (checked
        after every step, the last one included), naming the epoch and step, so a diverging
        run stops at once instead of training on garbage.
    """
    epochs, batch_size, hooks = check_fit_arguments(
        model, X, y, epochs=epochs, batch_size=batch_size, loss=loss, hooks=hooks,
        validation=validation, augment=augment, verbose=verbose)
    _check_optimizer(optimizer, model)
    rng = check_rng(rng)
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
            _check_parameters(model, epoch, step)
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
