"""Automated compression (source text section 7.1: "用户无需手动选择压缩方法和参数", users
need not choose the method and its parameters by hand), as a small, deterministic search
one can follow step by step:

1. carve a validation split from the TRAINING data (:func:`~.sensitivity.validation_split`);
2. measure the sensitivity table on it: accuracy with one layer pruned to s, or quantized
   to b bits, at a time (:func:`~.sensitivity.sensitivity`);
3. estimate the loss of a per-layer choice (s_l, b_l) as a sum (:func:`estimated_losses`)
   and walk greedily from the uncompressed model, each step taking the layer move that
   saves the most bits per point of estimated loss (:func:`greedy_path`);
4. verify plans on that path for real -- prune, fine-tune with the masks held, quantize
   (:func:`~.plan.compress`) and measure on the validation split -- starting from the last
   plan whose *estimate* fits the budget, then bisecting: further along the path after a
   pass, back after a failure.  The most compressed plan that passed is returned.

Only the validation split decides; the test split is evaluated once, at the end, for the
report.  This is the per-layer sensitivity heuristic of Han et al. (2015) with a greedy
knapsack on top (a simple cousin of AMC, He et al. 2018, which searches with RL instead).
"""

from __future__ import annotations

import copy

import numpy as np

from .. import formats, metrics
from ..data import Split
from ..nn._checks import (
    check_array,
    check_bool,
    check_callable,
    check_dict,
    check_float,
    check_int,
    check_rng,
    check_sequence,
)
from ..nn.module import check_module
from .plan import LayerPlan, compress
from .sensitivity import (
    DEFAULT_BITS,
    DEFAULT_SPARSITIES,
    pruned_weight,
    sensitivity,
    validation_split,
)
from .storage import FLOAT_BITS, compress_weight

__all__ = ["option_grid", "estimated_losses", "greedy_path", "auto_compress"]


def option_grid(sparsities, bits) -> list[tuple[float, int]]:
    """Every per-layer choice (s, b): option 0 is (0.0, 32), the layer untouched, then every
    s in {0} + sparsities crossed with every b in {32} + bits, in that order."""
    sparsities = _grid(sparsities, "sparsities", "sparsities in [0, 1)")
    bits = _grid(bits, "bits", "bit widths")
    grid = [(float(s), int(b)) for s in (0.0, *sparsities) for b in (FLOAT_BITS, *bits)]
    return [grid[0]] + [o for o in grid[1:] if o != grid[0]]


def _grid(values, name: str, what: str) -> list:
    """A list, tuple or 1-D array of numbers (as sensitivity() returns its grids)."""
    if isinstance(values, np.ndarray) and values.ndim == 1:
        return list(values)
    return check_sequence(values, name, what)


def _cummax_loss(dense, accuracies, order):
    """100 (dense - acc), clipped at 0, made non-decreasing in the order of harshness."""
    loss = np.maximum(0.0, 100.0 * (dense - accuracies[:, order]))
    out = np.empty_like(loss)
    out[:, order] = np.maximum.accumulate(loss, axis=1)
    return out


def estimated_losses(table: dict, options) -> np.ndarray:
    """Estimated accuracy loss in points of each (layer, option), from a sensitivity table.

    loss(l, (s, b)) = P[l, s] + Q[l, b],  P[l, s] = max over s' <= s of 100 (a_dense -
    a_prune[l, s']) clipped at 0 (P[l, 0] = 0), Q[l, b] the same over b' >= b (Q[l, 32] = 0).

    Two assumptions, both stated: losses add (over layers, and pruning plus quantization of
    one layer), and a harsher setting never costs less (the running max removes the
    noise that makes a measured 95% look better than 90%).  Returns (L, O).
    """
    check_dict(table, "table", "as sensitivity() returns it")
    keys = {"layers", "sparsities", "bits", "dense_accuracy", "prune_accuracy", "quant_accuracy"}
    missing = keys - set(table)
    if missing:
        raise ValueError(f"table must be what sensitivity() returns; it lacks {sorted(missing)}")
    options = check_sequence(options, "options", "(sparsity, bits) pairs from option_grid")
    s_grid, b_grid, dense = table["sparsities"], table["bits"], table["dense_accuracy"]
    P = _cummax_loss(dense, table["prune_accuracy"], np.argsort(s_grid, kind="stable"))
    Q = _cummax_loss(dense, table["quant_accuracy"], np.argsort(-b_grid, kind="stable"))
    out = np.zeros((len(table["layers"]), len(options)))
    for j, (s, b) in enumerate(options):
        if s > 0:
            out[:, j] += P[:, _column(s_grid, s, "sparsities", j, (s, b))]
        if b != FLOAT_BITS:
            out[:, j] += Q[:, _column(b_grid, b, "bits", j, (s, b))]
    return out


def _column(grid, value, name, j, option) -> int:
    """Where ``value`` sits in the table's ``grid``: only measured settings can be estimated."""
    where = np.flatnonzero(grid == value)
    if where.size == 0:
        raise ValueError(f"options[{j}] = {option}: {value} is not among the table's {name} "
                         f"{list(grid)} (0 / 32 mean untouched); build options with option_grid")
    return int(where[0])


def greedy_path(sizes, losses, *, eps: float) -> list[tuple[int, ...]]:
    """The greedy walk from option 0 of every layer: at each step, move one layer l from its
    option o to an option o' with fewer bits, choosing the move with the largest

        (size[l, o] - size[l, o']) / max(loss[l, o'] - loss[l, o], eps)

    (bits saved per point of estimated loss; ``eps`` > 0 makes a free move rank by its
    saving alone).  Ties go to the first layer, then the first option.  Stops when no layer
    can get smaller.  Each step strictly lowers the total size, so the walk ends.

    Parameters
    ----------
    sizes, losses : (L, O) arrays (bits, points) of every layer's options; option 0 = start
    eps : float > 0, in points

    Returns
    -------
    path : list of per-layer option-index tuples, path[0] = (0, ..., 0)
    """
    sizes = check_array(sizes, "sizes", finite=True).astype(float)
    losses = check_array(losses, "losses", finite=True).astype(float)
    if sizes.ndim != 2 or sizes.shape != losses.shape:
        raise ValueError(f"sizes and losses must be (layers, options) arrays of one shape; got "
                         f"{sizes.shape} and {losses.shape}")
    eps = check_float(eps, "eps", low=0.0, low_open=True)
    state = [0] * sizes.shape[0]
    path = [tuple(state)]
    while True:
        rows = np.arange(sizes.shape[0])
        saved = sizes[rows, state][:, None] - sizes
        cost = np.maximum(losses - losses[rows, state][:, None], eps)
        score = np.where(saved > 0, saved / cost, -np.inf)
        if not np.isfinite(score).any():
            return path
        layer, option = np.unravel_index(np.argmax(score), score.shape)  # first max: row-major
        state[layer] = int(option)
        path.append(tuple(state))


def _check_data(data):
    if isinstance(data, Split):
        return data
    if isinstance(data, tuple) and len(data) == 4:
        return Split(*data)
    raise TypeError(f"data must be a Split (X_train, y_train, X_test, y_test), e.g. load_mnist5k(); "
                    f"got {type(data).__name__}")


def auto_compress(model, data, *, max_accuracy_loss: float, sparsities=DEFAULT_SPARSITIES,
                  bits=DEFAULT_BITS, layers=None, val_fraction: float = 0.2, epochs: int = 1,
                  lr: float = 1e-3, max_verifications: int = 4, per_channel: bool = True, rng=0,
                  log=None):
    """Choose per-layer (sparsity, bits) automatically under an accuracy budget (section 7.1).

    Parameters
    ----------
    model : trained Sequential; not modified
    data : Split (X_train, y_train, X_test, y_test).  The validation split is carved from
        X_train (``validation_split(X_train, y_train, val_fraction, rng=rng)``) and is the
        ONLY data the choices are tuned on; fine-tuning uses the rest of X_train.  The test
        split is never used to choose anything: it is evaluated once, for the report.
        If ``model`` was trained on all of X_train (as the project's baselines are), the
        validation images were seen in training and its accuracy there is optimistic; train
        on the fit part of the same split for a clean held-out estimate.
    max_accuracy_loss : budget in percentage points, >= 0: the returned model's accuracy on
        the validation split is at most this far below the uncompressed model's there (up to
        a 1e-9 tolerance for floating-point rounding)
    sparsities, bits : the per-layer choices searched (plus 0 and 32: untouched)
    layers : Linear/Conv2d names to compress (default all)
    val_fraction : share of X_train held out for validation
    epochs, lr : fine-tuning of each verified plan that prunes (see :func:`~.plan.compress`)
    max_verifications : real compress + fine-tune + evaluate runs (step 4 of the module doc)
    per_channel : quantization scales per output channel
    rng : int seed or Generator; the same seed gives the same split, plan and weights
    log : optional callable(str) for progress

    Returns
    -------
    (compressed model, report): the report is a dict with ``plan`` {layer: {sparsity, bits,
    rank}}, ``validation`` and ``test`` ({n, reference_accuracy, accuracy, loss_points}),
    ``size_bits`` (metrics "auto") and ``reference_size_bits`` (fp32), ``budget_points``,
    ``path`` (estimated loss and size of every greedy step), ``verified`` (each real run),
    ``chosen_step`` and the ``sensitivity`` table.  If no verified plan fits the budget the
    model comes back uncompressed (``chosen_step`` 0), which always fits.
    """
    check_module(model)
    data = _check_data(data)
    budget = check_float(max_accuracy_loss, "max_accuracy_loss", low=0.0)
    max_verifications = check_int(max_verifications, "max_verifications", low=1)
    check_float(val_fraction, "val_fraction", low=0.0, high=1.0, low_open=True, high_open=True)
    check_bool(per_channel, "per_channel")
    if log is not None:
        check_callable(log, "log", "a function log(message)")
    seed = int(check_rng(rng).integers(2**31)) if isinstance(rng, np.random.Generator) else rng
    check_rng(seed)
    say = log if log is not None else (lambda message: None)
    (X_fit, y_fit), (X_val, y_val) = validation_split(data.X_train, data.y_train, val_fraction, rng=seed)
    table = sensitivity(model, X_val, y_val, layers=layers, sparsities=sparsities, bits=bits,
                        per_channel=per_channel)
    names, ref_val = table["layers"], table["dense_accuracy"]
    options = option_grid(table["sparsities"], table["bits"])
    sizes = _option_sizes(model, names, options, per_channel)
    losses = estimated_losses(table, options)
    path = greedy_path(sizes, losses, eps=50.0 / len(X_val))  # half a validation example
    rest = metrics.model_size_bits(model, "fp32").total - sizes[:, 0].sum()
    rows = np.arange(len(names))
    steps = [{"plan": _plan(names, options, state, as_dict=True),
              "estimated_loss_points": float(losses[rows, state].sum()),
              "estimated_size_bits": int(sizes[rows, state].sum() + rest)} for state in path]
    say(f"auto_compress: {len(names)} layers x {len(options)} options, greedy path of {len(path)} steps, "
        f"validation {len(X_val)} / fit {len(X_fit)} training images, budget {budget} points")

    def verify(k):
        plan = _plan(names, options, path[k])
        compressed = compress(model, plan, data=(X_fit, y_fit), epochs=epochs, lr=lr,
                              per_channel=per_channel, rng=seed) if plan else copy.deepcopy(model)
        acc = metrics.accuracy(compressed, X_val, y_val)
        loss = 100.0 * (ref_val - acc)
        # 1e-9: 100 * (0.95 - 0.94) is 1.0000000000000009 in floating point, and 8 of 800 is 1 point
        run = {"step": k, "val_accuracy": acc, "loss_points": loss, "passed": loss <= budget + 1e-9,
               "size_bits": metrics.model_size_bits(compressed, "auto").total}
        say(f"  step {k:3d}: estimated loss {steps[k]['estimated_loss_points']:.2f}, validation loss "
            f"{loss:.2f} points, {run['size_bits']:,} bits -> {'pass' if run['passed'] else 'fail'}")
        return compressed, run

    fits = [k for k, s in enumerate(steps) if s["estimated_loss_points"] <= budget]
    lo, hi, k = 0, len(path), max(fits[-1], 1) if len(path) > 1 else None
    best, verified = (copy.deepcopy(model), 0), []
    while k is not None and len(verified) < max_verifications:
        compressed, run = verify(k)
        verified.append(run)
        if run["passed"]:
            lo, best = k, (compressed, k)
        else:
            hi = k
        k = (lo + hi) // 2 if hi - lo > 1 else None
    result, chosen = best
    val_acc = metrics.accuracy(result, X_val, y_val)
    ref_test = metrics.accuracy(model, data.X_test, data.y_test)
    test_acc = metrics.accuracy(result, data.X_test, data.y_test)
    report = {
        "plan": _plan(names, options, path[chosen], as_dict=True, keep_identity=True),
        "budget_points": budget, "chosen_step": chosen, "path": steps, "verified": verified,
        "validation": {"n": len(X_val), "n_fit": len(X_fit), "reference_accuracy": ref_val,
                       "accuracy": val_acc, "loss_points": 100.0 * (ref_val - val_acc)},
        "test": {"n": len(data.X_test), "reference_accuracy": ref_test, "accuracy": test_acc,
                 "loss_points": 100.0 * (ref_test - test_acc)},
        "size_bits": metrics.model_size_bits(result, "auto").total,
        "reference_size_bits": metrics.model_size_bits(model, "fp32").total,
        "sensitivity": table,
    }
    return result, report


def _plan(names, options, state, *, as_dict=False, keep_identity=False) -> dict:
    out = {}
    for name, o in zip(names, state):
        p = LayerPlan(*options[o])
        if keep_identity or not p.is_identity:
            out[name] = p.as_dict() if as_dict else p
    return out


def _option_sizes(model, names, options, per_channel) -> np.ndarray:
    """(L, O) stored bits of each layer under each option, pruned by magnitude (no
    fine-tuning, so the exact count of codes rounded to zero may differ after it) + fp32 bias."""
    sizes = np.zeros((len(names), len(options)))
    for i, name in enumerate(names):
        layer = model.get_submodule(name)
        w, bias = layer.params["weight"], layer.params.get("bias")
        bias_bits = 0 if bias is None else formats.size_bits(bias, "fp32")
        pruned = {s: pruned_weight(w, s) if s > 0 else w for s in {s for s, _ in options}}
        for j, (s, b) in enumerate(options):
            storage = "dense" if (s, b) == options[0] else "auto"
            sizes[i, j] = compress_weight(pruned[s], b, per_channel=per_channel,
                                          storage=storage).bits + bias_bits
    return sizes

