"""Gradual pruning: the sparsity schedule of Zhu & Gupta (2017) and the iterative
prune -> fine-tune loop of Han et al. (2015) (section 3.1.1, steps 3 and 4, repeated).

    s_t = s_f + (s_i - s_f) * (1 - (t - t0) / (n * dt))^3     for t0 <= t <= t0 + n * dt

The cube prunes fast while there are many redundant weights and slowly near the target.
"""

from __future__ import annotations

from ..nn import SGD, evaluate, fit
from ..nn._checks import check_choice, check_float, check_int, check_names, check_rng
from ..nn.train import check_fit_arguments
from .masks import MaskHook, apply_masks, prune_model

__all__ = ["gradual_sparsity", "GradualPruning", "iterative_prune"]


def gradual_sparsity(step: int, *, s_i: float, s_f: float, t0: int, n: int, dt: int) -> float:
    """Target sparsity at training step ``step`` (Zhu & Gupta 2017, "To prune, or not to prune").

    s_t = s_f + (s_i - s_f) (1 - (t - t0) / (n dt))^3

    Parameters
    ----------
    step : int >= 0, the current step t
    s_i, s_f : initial and final sparsity, 0 <= s_i <= s_f < 1
    t0 : int >= 0, the step pruning starts;  n : int >= 1, number of pruning steps;
    dt : int >= 1, steps between two pruning steps

    Returns
    -------
    sparsity : float; s_i for t <= t0, s_f for t >= t0 + n dt, non-decreasing in between.

    Notes
    -----
    The formula is evaluated at every t (continuous in t); Zhu & Gupta only prune at
    t = t0, t0 + dt, ..., t0 + n dt (as :class:`GradualPruning` does) and hold the masks between.
    """
    step = check_int(step, "step", low=0)
    s_i = check_float(s_i, "s_i", low=0.0, high=1.0, high_open=True)
    s_f = check_float(s_f, "s_f", low=0.0, high=1.0, high_open=True)
    if s_f < s_i:
        raise ValueError(f"s_f must be >= s_i (sparsity only grows); got s_i={s_i}, s_f={s_f}")
    t0 = check_int(t0, "t0", low=0)
    n = check_int(n, "n", low=1)
    dt = check_int(dt, "dt", low=1)
    if step <= t0:
        return s_i
    if step >= t0 + n * dt:
        return s_f
    # = s_f + (s_i - s_f)(1 - p)^3, written so that round-off keeps it monotone in t
    remaining = (1.0 - (step - t0) / (n * dt)) ** 3
    return min(s_i + (s_f - s_i) * (1.0 - remaining), s_f)


def _and_masks(new, old):
    return new if old is None else {k: new[k] & old[k] for k in new}


class GradualPruning:
    """``fit`` hook pruning by the Zhu & Gupta schedule while training.

    At steps t0, t0 + dt, ..., t0 + n dt (optimizer steps, the first being step 0) it prunes to
    :func:`gradual_sparsity` (never reviving an earlier-pruned weight: the new mask is ANDed
    with the old one); between, it masks gradients and re-applies the masks like :class:`MaskHook`.
    """

    def __init__(self, s_f: float, *, s_i: float = 0.0, t0: int = 0, n: int, dt: int,
                 scope: str = "layer", include=("weight",)):
        self.schedule = dict(s_i=s_i, s_f=s_f, t0=t0, n=n, dt=dt)
        gradual_sparsity(0, **self.schedule)  # validate now, not at the first step
        self.scope = check_choice(scope, "scope", ("layer", "global"))
        self.include = check_names(include, "include")
        self.step, self.masks = 0, None

    def after_backward(self, model) -> None:
        if self.masks is not None:
            MaskHook(self.masks).after_backward(model)

    def after_step(self, model) -> None:
        s = self.schedule
        t = self.step
        if s["t0"] <= t <= s["t0"] + s["n"] * s["dt"] and (t - s["t0"]) % s["dt"] == 0:
            sparsity = gradual_sparsity(t, **s)
            new = prune_model(model, sparsity, scope=self.scope, include=self.include, apply=False)
            self.masks = _and_masks(new, self.masks)
        if self.masks is not None:
            apply_masks(model, self.masks)
        self.step += 1


def iterative_prune(model, X, y, *, s_f: float, rounds: int, epochs: int, lr: float,
                    momentum: float = 0.9, batch_size: int = 64, s_i: float = 0.0,
                    scope: str = "layer", criterion: str = "magnitude", data=None, rng=0,
                    validation=None, verbose: bool = False):
    """Han et al.'s loop: prune -> fine-tune, ``rounds`` times, sparsity rising by
    :func:`gradual_sparsity` (t0 = 0, dt = 1, one step per round) up to ``s_f``.

    Each round prunes to s_r = gradual_sparsity(r, s_i, s_f, t0=0, n=rounds, dt=1), r = 1..rounds
    (keeping every earlier pruned weight pruned), then fine-tunes ``epochs`` epochs with a fresh
    SGD(lr, momentum) and a :class:`MaskHook`.  ``data`` is passed to :func:`prune_model`
    (Taylor/OBD criteria).  Returns ``(masks, log)``; ``log`` has one dict per round:
    sparsity, accuracy_pruned and accuracy_tuned (on ``validation``, when given).

    Every argument is checked before the model is touched: a bad ``lr``, ``batch_size`` or
    ``epochs`` is refused with the caller's model unpruned.
    """
    rounds = check_int(rounds, "rounds", low=1)
    gradual_sparsity(rounds, s_i=s_i, s_f=s_f, t0=0, n=rounds, dt=1)  # checks s_i, s_f
    epochs, batch_size, _ = check_fit_arguments(model, X, y, epochs=epochs, batch_size=batch_size,
                                                validation=validation, verbose=verbose)
    SGD(model, lr, momentum=momentum)  # checks lr and momentum now, not after the first pruning
    rng = check_rng(rng)
    masks, log = None, []
    for r in range(1, rounds + 1):
        target = gradual_sparsity(r, s_i=s_i, s_f=s_f, t0=0, n=rounds, dt=1)
        new = prune_model(model, target, scope=scope, criterion=criterion, data=data, apply=False)
        masks = _and_masks(new, masks)
        apply_masks(model, masks)
        entry = {"round": r, "sparsity": target}
        if validation is not None:
            entry["accuracy_pruned"] = evaluate(model, *validation)[1]
        fit(model, X, y, epochs=epochs, batch_size=batch_size, optimizer=SGD(model, lr, momentum=momentum),
            hooks=[MaskHook(masks)], rng=rng, verbose=verbose)
        if validation is not None:
            entry["accuracy_tuned"] = evaluate(model, *validation)[1]
        log.append(entry)
    return masks, log
