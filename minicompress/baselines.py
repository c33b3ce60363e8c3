"""Trained baseline models: the one recipe every experiment, tutorial and test starts from.

Recipe (documented, seeded, the same everywhere): SGD with momentum 0.9, learning rate
0.01, batch 64, on the bundled 4,000-image training split of :func:`load_mnist5k`.
Training is cached per process, so several experiments in one run share one baseline;
every call returns an independent copy that may be changed freely.
"""

from __future__ import annotations

import copy
from functools import cache

from .data import load_mnist5k
from .nn import SGD, ConvNet, LeNet5, LeNet300_100, fit
from .nn._checks import check_int

__all__ = ["MODELS", "DEFAULT_EPOCHS", "build_model", "train_baseline", "baseline"]

MODELS = {"convnet": ConvNet, "lenet300": LeNet300_100, "lenet5": LeNet5}
DEFAULT_EPOCHS = {"convnet": 10, "lenet300": 15, "lenet5": 10}


def build_model(name: str, *, rng=0):
    """A freshly initialised model by name: one of ``convnet``, ``lenet300``, ``lenet5``."""
    if name not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}; got {name!r}")
    return MODELS[name](rng=rng)


def train_baseline(name: str, *, epochs: int | None = None, seed: int = 0, verbose: bool = False):
    """Train model ``name`` with the baseline recipe; returns ``(model, history)``."""
    epochs = DEFAULT_EPOCHS.get(name, 10) if epochs is None else check_int(epochs, "epochs", low=1)
    seed = check_int(seed, "seed")
    model = build_model(name, rng=seed)
    X, y, Xt, yt = load_mnist5k()
    opt = SGD(model, lr=0.01, momentum=0.9)
    history = fit(
        model, X, y, epochs=epochs, batch_size=64, optimizer=opt, rng=seed,
        validation=(Xt, yt), verbose=verbose,
    )
    return model, history


@cache
def _cached(name: str, epochs: int | None, seed: int):
    return train_baseline(name, epochs=epochs, seed=seed)


def baseline(name: str, *, epochs: int | None = None, seed: int = 0):
    """A trained baseline (cached per process); returns an independent deep copy."""
    model, _ = _cached(name, epochs, seed)
    return copy.deepcopy(model)
