"""Trained baseline models: the one recipe every experiment, tutorial and test starts from.

Recipe (documented, seeded, the same everywhere): SGD with momentum 0.9, learning rate
0.01 (the source text's), batch 64, on the bundled 4,000-image training split of
:func:`load_mnist5k`, for ``DEFAULT_EPOCHS[name]`` epochs.  Training is cached per process,
so several experiments in one run share one baseline; every call returns an independent
copy that may be changed freely.

Measured test accuracy after the last epoch, seeds 0-7 (min-max; not asserted, the slow
test in tests/test_baselines.py checks the 95% bar for seed 0):

=============  ======  ===========  ===========
model          epochs  lr 0.01      lr 0.05
=============  ======  ===========  ===========
ConvNet        10      94.7-95.6%   95.7-96.4%
LeNet300_100   15      94.4-94.8%   95.4-96.1%
LeNet300_100   20      94.2-95.2%   95.5-96.3%
LeNet300_100   40      94.9-95.5%   -
LeNet5         10      95.7-96.8%   94.9-96.6%
=============  ======  ===========  ===========

With seed 0 the defaults give ConvNet 95.1% and LeNet300_100 94.7% (95.2% at 20 epochs).
lr 0.05 does better on this split, but every measured number in the tutorials was made
with 0.01, so the recipe stays; a step decay of the rate brought nothing.
"""

from __future__ import annotations

import copy

from .data import load_mnist5k
from .nn import SGD, ConvNet, LeNet5, LeNet300_100, fit
from .nn._checks import check_choice, check_int

__all__ = [
    "MODELS", "DEFAULT_EPOCHS", "LR", "MOMENTUM", "BATCH_SIZE", "build_model", "train_baseline", "baseline",
]

MODELS = {"convnet": ConvNet, "lenet300": LeNet300_100, "lenet5": LeNet5}
DEFAULT_EPOCHS = {"convnet": 10, "lenet300": 15, "lenet5": 10}
LR, MOMENTUM, BATCH_SIZE = 0.01, 0.9, 64


def _check_name(name) -> str:
    return check_choice(name, "name", sorted(MODELS))


def build_model(name: str, *, rng=0):
    """A freshly initialised model by name: one of ``convnet``, ``lenet300``, ``lenet5``."""
    return MODELS[_check_name(name)](rng=rng)


def _epochs(name: str, epochs: int | None) -> int:
    name = _check_name(name)
    return DEFAULT_EPOCHS[name] if epochs is None else check_int(epochs, "epochs", low=1)


def train_baseline(name: str, *, epochs: int | None = None, seed: int = 0, verbose: bool = False,
                   validate: bool = True, hooks=()):
    """Train model ``name`` with the baseline recipe; returns ``(model, history)``.

    ``validate`` measures the test accuracy after every epoch (``history["test_accuracy"]``);
    it reads the weights only, so it does not change them.  ``hooks`` go to ``fit`` (e.g. a
    progress ticker).
    """
    epochs = _epochs(name, epochs)
    seed = check_int(seed, "seed")
    model = build_model(name, rng=seed)
    X, y, Xt, yt = load_mnist5k()
    opt = SGD(model, lr=LR, momentum=MOMENTUM)
    history = fit(
        model, X, y, epochs=epochs, batch_size=BATCH_SIZE, optimizer=opt, rng=seed, hooks=hooks,
        validation=(Xt, yt) if validate else None, verbose=verbose,
    )
    return model, history


#: Trained baselines of this process, by (name, epochs, seed): the recipe trains each once.
_TRAINED: dict = {}


def baseline(name: str, *, epochs: int | None = None, seed: int = 0, hooks=()):
    """A trained baseline (cached per process); returns an independent deep copy.

    ``epochs=None`` means ``DEFAULT_EPOCHS[name]``, so ``baseline("convnet")`` and
    ``baseline("convnet", epochs=10)`` share one training run.  ``hooks`` (e.g. a progress
    ticker) are passed to ``fit`` when the model is actually trained, not when it is cached.
    """
    key = (_check_name(name), _epochs(name, epochs), check_int(seed, "seed"))
    if key not in _TRAINED:
        _TRAINED[key], _ = train_baseline(name, epochs=key[1], seed=key[2], validate=False, hooks=hooks)
    return copy.deepcopy(_TRAINED[key])
