"""Lottery tickets (Frankle & Carbin 2019, "The Lottery Ticket Hypothesis"), with rewinding
(Frankle, Dziugaite, Roy & Carbin 2020, "Linear Mode Connectivity and the Lottery Ticket
Hypothesis") and the two controls that give the claim its meaning.

Section 3.1.1 of the source text prunes a trained network and fine-tunes the survivors.  The
lottery-ticket question is different: is there a sparse sub-network that, trained *from the
start*, does as well as the dense one?  Iterative magnitude pruning finds one:

    1. initialise w_0; train to w_T (recording w_k, the weights after k steps)
    2. prune the fraction ``rate`` of the surviving weights with the smallest |w_T| -> mask m
    3. rewind the survivors to w_k (k = 0: the initialisation), m * w_k, and train again
    4. repeat 2-3: after r rounds (1 - rate)^r of the weights remain

A ticket is only interesting if it beats (a) the same mask with a fresh random
initialisation and (b) a random mask of the same per-layer sparsity with the same w_k:
those are trained in the same run, on the same data order, every round.
"""

from __future__ import annotations

import copy

import numpy as np

from ..nn import SGD, evaluate, fit
from ..nn._checks import check_bool, check_choice, check_dict, check_float, check_int, check_rng
from ..nn.layers import Module
from .magnitude import score_threshold
from .masks import MaskHook, apply_masks, random_masks, select_parameters, sparsity_of

__all__ = ["train_masked", "prune_survivors", "lottery_ticket"]


def check_model_fn(model_fn):
    """``model_fn(rng) -> Module`` must be a builder, not a model (a model is callable too)."""
    if isinstance(model_fn, Module) or not callable(model_fn):
        raise TypeError(f"model_fn must be a callable model_fn(rng) -> Module that builds a fresh model, "
                        f"e.g. lambda rng: LeNet300_100(rng=rng); got {type(model_fn).__name__}")
    return model_fn


def check_validation(validation):
    if not (isinstance(validation, tuple) and len(validation) == 2):
        raise TypeError(f"validation must be a pair (X_test, y_test); got {type(validation).__name__}")
    return validation


def build(model_fn, seed: int):
    model = model_fn(seed)
    if not isinstance(model, Module):
        raise TypeError(f"model_fn(rng) must return a Module; got {type(model).__name__}")
    return model


def train_masked(model, masks, X, y, *, epochs: int, lr: float, momentum: float = 0.9,
                 batch_size: int = 64, rng=0) -> dict:
    """Train ``model`` in place by SGD with ``masks`` held (:class:`MaskHook`); returns the history.

    The masked entries are zeroed first, so a dense initialisation becomes the sub-network.
    ``masks=None`` trains the dense model.
    """
    if masks is not None:
        check_dict(masks, "masks", "{name: bool array} (or None: train the dense model)")
    if masks:
        apply_masks(model, masks)
    hooks = [MaskHook(masks)] if masks else []
    return fit(model, X, y, epochs=epochs, batch_size=batch_size,
               optimizer=SGD(model, lr, momentum=momentum), hooks=hooks, rng=rng, verbose=False)


def prune_survivors(model, masks, rate: float, *, scope: str = "global", include=("weight",)) -> dict:
    """New keep-masks that also drop the fraction ``rate`` of the surviving weights with the
    smallest |w| (per layer, or with one threshold over all layers: ``scope="global"``).

    Of n_alive survivors (in a layer, or in all), floor(rate * n_alive) are removed (ties at the
    threshold survive, :func:`~minicompress.prune.magnitude.score_threshold`); pruned weights
    stay pruned.  ``masks=None`` means every weight survives so far.
    """
    rate = check_float(rate, "rate", low=0.0, high=1.0, low_open=True, high_open=True)
    check_choice(scope, "scope", ("layer", "global"))
    if masks is not None:
        check_dict(masks, "masks", "{name: bool array} (or None: every weight survives)")
    params = select_parameters(model, include)
    masks = {n: np.ones(p.shape, dtype=bool) for n, p in params.items()} if masks is None else masks
    if set(masks) != set(params):
        raise ValueError(f"masks must have one mask per selected parameter {sorted(params)}; got "
                         f"{sorted(masks)}")
    # pruned weights score -1, below every survivor's |w| >= 0, so they are the first k counted
    scores = {n: np.where(masks[n], np.abs(p), -1.0) for n, p in params.items()}

    def threshold(groups):
        s = np.concatenate([scores[n].ravel() for n in groups])
        dead = int(sum((~masks[n]).sum() for n in groups))
        k = dead + int(np.floor(round(rate * (s.size - dead), 9)))
        return score_threshold(s, k / s.size)  # k / n < 1, and n_to_prune gives back k exactly

    if scope == "global":
        t = threshold(list(params))
        return {n: (scores[n] >= t) & masks[n] for n in params}
    return {n: (scores[n] >= threshold([n])) & masks[n] for n in params}


class _Snapshot:
    """``fit`` hook that keeps a copy of the model's parameters after optimizer step k."""

    def __init__(self, step: int):
        self.step, self.seen, self.state = step, 0, None

    def after_step(self, model) -> None:
        self.seen += 1
        if self.seen == self.step:
            self.state = model.state_dict()


def _accuracy(model, validation):
    return float(evaluate(model, *validation)[1])


def lottery_ticket(model_fn, X, y, *, rate: float = 0.2, rounds: int, rewind_to: int = 0,
                   epochs: int, lr: float, momentum: float = 0.9, batch_size: int = 64,
                   scope: str = "global", include=("weight",), controls: bool = True, rng=0,
                   validation) -> dict:
    """Iterative magnitude pruning with rewinding, and its two controls, in one run.

    Parameters
    ----------
    model_fn : callable ``model_fn(rng) -> Module``, a fresh initialisation from a seed
    X, y : training data;  validation : ``(X_test, y_test)`` the accuracies are measured on
    rate : fraction of the surviving weights pruned per round (Frankle & Carbin: 0.2)
    rounds : int >= 1;  after round r, (1 - rate)^r of the ``include`` weights remain
    rewind_to : optimizer step k whose weights the survivors are reset to (0 = the
        initialisation; Frankle et al. 2020 rewind to an early step)
    epochs, lr, momentum, batch_size : the training recipe, used for the dense network and
        for every sparse one (a fresh SGD each time; after rewinding to k > 0 a ticket
        still trains the full ``epochs``, k steps more than the dense network did)
    scope : ``"global"`` (one magnitude threshold over all layers) or ``"layer"``
    controls : also train, every round, the ticket's mask from a fresh initialisation
        (``reinit``) and a random mask of the same per-layer sparsity from w_k (``random``)
    rng : Generator or int seed; all seeds (initialisations, data order, random masks) come from it

    Returns
    -------
    result : dict with ``dense`` (accuracy of the dense network), ``rounds`` (one dict per
        round: ``round, remaining`` (fraction of the weights kept), ``ticket`` and, with
        controls, ``reinit`` and ``random`` accuracies, and ``layers``, the per-layer kept
        fractions), ``masks`` (the last round's ticket masks) and ``model`` (the last round's
        trained ticket).
    """
    check_model_fn(model_fn)
    rounds = check_int(rounds, "rounds", low=1)
    rewind_to = check_int(rewind_to, "rewind_to", low=0)
    check_float(rate, "rate", low=0.0, high=1.0, low_open=True, high_open=True)
    check_validation(validation)
    check_choice(scope, "scope", ("layer", "global"))
    controls = check_bool(controls, "controls")
    rng = check_rng(rng)
    seeds = rng.integers(0, 2**31 - 1, size=2 + 3 * rounds)
    recipe = dict(epochs=epochs, lr=lr, momentum=momentum, batch_size=batch_size)

    model = build(model_fn, int(seeds[0]))
    init = model.state_dict()
    snap = _Snapshot(rewind_to)
    fit(model, X, y, epochs=epochs, batch_size=batch_size, optimizer=SGD(model, lr, momentum=momentum),
        hooks=[snap], rng=int(seeds[1]), verbose=False)
    if rewind_to > 0 and snap.state is None:
        raise ValueError(f"rewind_to={rewind_to} is past the end of training ({snap.seen} steps)")
    rewind = init if rewind_to == 0 else snap.state
    result = {"dense": _accuracy(model, validation), "rounds": []}
    masks = None
    for r in range(rounds):
        data_seed, init_seed, mask_seed = (int(s) for s in seeds[2 + 3 * r : 5 + 3 * r])
        masks = prune_survivors(model, masks, rate, scope=scope, include=include)
        entry = {"round": r + 1, "remaining": 1.0 - sparsity_of(masks),
                 "layers": {n: float(m.mean()) for n, m in masks.items()}}
        model = copy.deepcopy(model)
        model.load_state_dict(rewind)
        train_masked(model, masks, X, y, rng=data_seed, **recipe)
        entry["ticket"] = _accuracy(model, validation)
        if controls:
            reinit = build(model_fn, init_seed)
            train_masked(reinit, masks, X, y, rng=data_seed, **recipe)
            entry["reinit"] = _accuracy(reinit, validation)
            shuffled = copy.deepcopy(model)
            shuffled.load_state_dict(rewind)
            train_masked(shuffled, random_masks(masks, mask_seed), X, y, rng=data_seed, **recipe)
            entry["random"] = _accuracy(shuffled, validation)
        result["rounds"].append(entry)
    result["masks"], result["model"] = masks, model
    return result
