"""Lottery tickets (iterative magnitude pruning with rewinding), SNIP, and their random controls."""

import numpy as np
import pytest

from minicompress import MLP, SGD, fit
from minicompress.prune import (
    loss_gradients,
    lottery_ticket,
    prune_at_init,
    prune_model,
    random_masks,
    snip_masks,
    sparsity_of,
)
from minicompress.prune.lottery import _Snapshot, prune_survivors


def _data(n=120, d=16, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = (X[:, :4].sum(1) > 0).astype(int) + 2 * (X[:, 4] > 0)
    return X, y


def _model_fn(rng):
    return MLP([16, 12, 4], rng=rng)


RECIPE = dict(epochs=2, lr=0.05, batch_size=32)


def test_prune_survivors_hand_case():
    model = MLP([4, 1], rng=0)
    model.fc1.params["weight"][...] = [[4.0, -3.0, 2.0, -1.0]]
    m1 = prune_survivors(model, None, 0.5)
    assert m1["fc1.weight"].tolist() == [[True, True, False, False]]
    # the pruned weights are not even looked at again: 2 survivors, floor(0.5 * 2) = 1 goes
    model.fc1.params["weight"][...] = [[4.0, -3.0, 0.5, 0.1]]
    m2 = prune_survivors(model, m1, 0.5)
    assert m2["fc1.weight"].tolist() == [[True, False, False, False]]


def test_prune_survivors_global_and_per_layer():
    model = MLP([10, 10, 10], rng=0)
    model.fc1.params["weight"][...] = np.arange(1.0, 101.0).reshape(10, 10) / 100  # small
    model.fc2.params["weight"][...] = np.arange(1.0, 101.0).reshape(10, 10)        # large
    per_layer = prune_survivors(model, None, 0.3, scope="layer")
    assert [int((~m).sum()) for m in per_layer.values()] == [30, 30]
    glob = prune_survivors(model, None, 0.3, scope="global")
    assert [int((~m).sum()) for m in glob.values()] == [60, 0]  # floor(0.3 * 200) from the small ones
    again = prune_survivors(model, glob, 0.5, scope="global")  # 140 alive: 70 more go
    assert int(sum((~m).sum() for m in again.values())) == 130
    assert all(np.all(again[n] <= glob[n]) for n in glob)  # nested: never revives


def test_snapshot_records_the_weights_after_step_k():
    """The weights after step 3 do not depend on how long training goes on afterwards."""
    X, y = _data()
    states = []
    for epochs, step in ((2, 3), (1, 3), (1, 4)):
        model, snap = _model_fn(0), _Snapshot(step)
        fit(model, X, y, epochs=epochs, batch_size=32, optimizer=SGD(model, 0.05, momentum=0.9),
            hooks=[snap], rng=0, verbose=False)
        states.append(snap.state)
    assert all(np.array_equal(states[0][n], states[1][n]) for n in states[0])
    assert not np.array_equal(states[1]["fc1.weight"], states[2]["fc1.weight"])


def test_lottery_ticket_runs_its_controls_and_is_reproducible():
    X, y = _data()
    Xt, yt = _data(60, seed=1)
    kw = dict(rate=0.5, rounds=2, rng=3, validation=(Xt, yt), **RECIPE)
    res = lottery_ticket(_model_fn, X, y, rewind_to=2, **kw)
    assert 0 <= res["dense"] <= 1 and len(res["rounds"]) == 2
    first, second = res["rounds"]
    assert first["remaining"] == pytest.approx(0.5) and second["remaining"] == pytest.approx(0.25)
    assert all({"ticket", "reinit", "random"} <= set(e) for e in res["rounds"])
    assert 1 - sparsity_of(res["masks"]) == pytest.approx(second["remaining"])
    w = res["model"].fc1.params["weight"]  # the trained ticket: zero where its mask says
    assert np.all(w[~res["masks"]["fc1.weight"]] == 0) and np.all(w[res["masks"]["fc1.weight"]] != 0)
    assert _same(res, lottery_ticket(_model_fn, X, y, rewind_to=2, **kw))
    per_layer = lottery_ticket(_model_fn, X, y, scope="layer", controls=False, **kw)
    assert set(per_layer["rounds"][0]) == {"round", "remaining", "layers", "ticket"}
    assert all(v == pytest.approx(0.5, abs=0.01) for v in per_layer["rounds"][0]["layers"].values())


def _same(a, b):
    return a["rounds"] == b["rounds"] and a["dense"] == b["dense"] and all(
        np.array_equal(a["masks"][n], b["masks"][n]) for n in a["masks"]) and all(
        np.array_equal(p, q) for (_, p), (_, q) in zip(a["model"].named_parameters(),
                                                        b["model"].named_parameters()))


def test_lottery_bad_input():
    X, y = _data()
    v = (X, y)
    with pytest.raises(ValueError, match="rounds must be >= 1; got 0"):
        lottery_ticket(_model_fn, X, y, rounds=0, validation=v, **RECIPE)
    with pytest.raises(ValueError, match=r"rate must be in \(0.0, 1.0\); got 1.0"):
        lottery_ticket(_model_fn, X, y, rate=1.0, rounds=1, validation=v, **RECIPE)
    with pytest.raises(ValueError, match="rewind_to=100 is past the end of training"):
        lottery_ticket(_model_fn, X, y, rounds=1, rewind_to=100, validation=v, **RECIPE)
    with pytest.raises(TypeError, match="model_fn must be a callable"):
        lottery_ticket(_model_fn(0), X, y, rounds=1, validation=v, **RECIPE)
    with pytest.raises(TypeError, match="validation must be a pair"):
        lottery_ticket(_model_fn, X, y, rounds=1, validation=None, **RECIPE)


def test_snip_is_the_global_connection_sensitivity():
    X, y = _data()
    model = _model_fn(0)
    masks = snip_masks(model, X[:50], y[:50], 0.8, apply=False)
    fresh = _model_fn(0)
    g = loss_gradients(fresh, X[:50], y[:50])
    scores = np.concatenate([np.abs(g[n] * p).ravel() for n, p in fresh.named_parameters() if n in masks])
    threshold = np.sort(scores)[int(0.8 * scores.size)]
    np.testing.assert_array_equal(np.concatenate([m.ravel() for m in masks.values()]), scores >= threshold)
    assert masks.keys() == prune_model(fresh, 0.8, scope="global", criterion="taylor", data=(X[:50], y[:50]),
                                       apply=False).keys()


def test_random_masks_keep_the_per_layer_counts():
    masks = {"a": np.array([True, False, False, True, True]), "b": np.ones((2, 3), dtype=bool)}
    masks["b"][0, 0] = False
    r = random_masks(masks, 0)
    assert {n: int(m.sum()) for n, m in r.items()} == {"a": 3, "b": 5}
    assert all(r[n].shape == masks[n].shape for n in masks)
    assert all(np.array_equal(r[n], random_masks(masks, 0)[n]) for n in masks)


def test_prune_at_init_methods():
    X, y = _data()
    Xt, yt = _data(60, seed=1)
    out = {m: prune_at_init(_model_fn, X, y, 0.75, method=m, rng=0, validation=(Xt, yt), **RECIPE)
           for m in ("snip", "random", "random-uniform")}
    assert out["snip"]["layers"] == out["random"]["layers"]
    w = out["snip"]["model"].fc1.params["weight"]
    assert np.all(w[~out["snip"]["masks"]["fc1.weight"]] == 0)
    assert all(v == pytest.approx(0.25, abs=0.01) for v in out["random-uniform"]["layers"].values())
    with pytest.raises(ValueError, match="method must be one of"):
        prune_at_init(_model_fn, X, y, 0.5, method="magnitude", validation=(Xt, yt), **RECIPE)
