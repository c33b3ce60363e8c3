"""One-shot pruning with no retraining: how much accuracy each criterion leaves.

The three criteria of section 3.1.1 side by side, each pruning every layer to the same
sparsity from the same calibration data and with no fine-tuning afterwards:

- ``magnitude``: |w| per layer (section 4.1.1); ``magnitude-global``: one threshold for all
- ``obd``: the exact Hessian diagonal, 1/2 H_kk w_k^2 (LeCun et al. 1990)
- ``sparsegpt``: OBS from each layer's calibration Hessian, with the survivors corrected
  (Frantar & Alistarh 2023)
"""

from __future__ import annotations

import copy

from ..nn import evaluate
from ..nn._checks import check_choice, check_pair, check_sequence
from .masks import prune_model
from .nm import parse_pattern
from .sparsegpt import sparsegpt

__all__ = ["ONESHOT_METHODS", "prune_oneshot", "accuracy_without_retraining"]

ONESHOT_METHODS = ("magnitude", "magnitude-global", "obd", "sparsegpt")


def prune_oneshot(model, method: str, sparsity, *, calibration, pattern=None, **sparsegpt_options) -> dict:
    """Prune ``model`` in place by ``method`` (one of :data:`ONESHOT_METHODS`); return the masks.

    ``calibration = (X, y)``: SparseGPT uses X, OBD both (its Hessian is that of the loss);
    magnitude uses neither.  ``pattern`` (e.g. ``"2:4"``) with ``sparsity=None`` prunes N:M
    (not with ``magnitude-global``).  ``sparsegpt_options`` go to :func:`sparsegpt`.
    """
    check_choice(method, "method", ONESHOT_METHODS)
    if sparsegpt_options and method != "sparsegpt":
        raise ValueError(f"options {sorted(sparsegpt_options)} are SparseGPT's; method={method!r} takes none")
    X, y = check_pair(calibration, "calibration")
    if method == "sparsegpt":
        return sparsegpt(model, X, sparsity, pattern=pattern, **sparsegpt_options)
    if method == "obd":
        return prune_model(model, sparsity, criterion="obd", data=(X, y), pattern=pattern)
    scope = "global" if method == "magnitude-global" else "layer"
    return prune_model(model, sparsity, pattern=pattern, scope=scope)


def accuracy_without_retraining(model, calibration, test, *, sparsities=(), patterns=(),
                                methods=("magnitude", "obd", "sparsegpt"), **sparsegpt_options) -> list[dict]:
    """Test accuracy of ``model`` pruned by each method at each sparsity (and N:M pattern),
    each from a fresh copy, with no retraining.

    Returns one dict per (method, sparsity or pattern): ``method``, ``sparsity`` (the target;
    1 - n/m for a pattern), ``pattern`` (None or e.g. ``"2:4"``), ``accuracy`` and ``dense``
    (the unpruned model's accuracy), all on ``test = (X_test, y_test)``.
    """
    check_pair(calibration, "calibration")
    test = check_pair(test, "test", "(X_test, y_test)")
    sparsities = check_sequence(sparsities, "sparsities", "sparsities in [0, 1)")
    patterns = check_sequence(patterns, "patterns", "N:M patterns such as '2:4'")
    methods = [check_choice(m, "methods[i]", ONESHOT_METHODS) for m in check_sequence(methods, "methods")]
    dense = float(evaluate(model, *test)[1])
    rows = []
    settings = [(s, None) for s in sparsities] + [(None, p) for p in patterns]
    for method in methods:
        for sparsity, pattern in settings:
            if pattern is not None and method == "magnitude-global":
                continue
            pruned = copy.deepcopy(model)
            opts = sparsegpt_options if method == "sparsegpt" else {}
            prune_oneshot(pruned, method, sparsity, calibration=calibration, pattern=pattern, **opts)
            if pattern is not None:
                n, m = parse_pattern(pattern)
                sparsity = 1 - n / m
            rows.append({"method": method, "sparsity": sparsity, "pattern": pattern,
                         "accuracy": float(evaluate(pruned, *test)[1]), "dense": dense})
    return rows
