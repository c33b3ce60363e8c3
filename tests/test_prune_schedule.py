"""Gradual sparsity (Zhu & Gupta 2017) and the iterative prune -> fine-tune loop."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress.nn import MLP, SGD, fit
from minicompress.prune import gradual_sparsity, iterative_prune, sparsity_of
from minicompress.prune.magnitude import n_to_prune
from minicompress.prune.schedule import GradualPruning


def test_schedule_hand_values():
    kw = dict(s_i=0.0, s_f=0.8, t0=10, n=4, dt=5)  # prunes at t = 10, 15, 20, 25, 30
    assert gradual_sparsity(0, **kw) == 0.0
    assert gradual_sparsity(10, **kw) == 0.0
    assert gradual_sparsity(20, **kw) == pytest.approx(0.8 - 0.8 * 0.5**3)  # halfway: 0.7
    assert gradual_sparsity(30, **kw) == pytest.approx(0.8)
    assert gradual_sparsity(1000, **kw) == pytest.approx(0.8)


@st.composite
def schedules(draw):
    s_i = draw(st.floats(0.0, 0.95))
    s_f = draw(st.floats(s_i, 0.99))
    return dict(s_i=s_i, s_f=s_f, t0=draw(st.integers(0, 100)), n=draw(st.integers(1, 50)),
                dt=draw(st.integers(1, 20)))


@given(schedules())
def test_schedule_endpoints_and_monotone(kw):
    t0, end = kw["t0"], kw["t0"] + kw["n"] * kw["dt"]
    assert gradual_sparsity(t0, **kw) == kw["s_i"]
    assert gradual_sparsity(end, **kw) == kw["s_f"]
    values = [gradual_sparsity(t, **kw) for t in range(0, end + 10)]
    assert np.all(np.diff(values) >= 0)
    assert min(values) >= kw["s_i"] and max(values) <= kw["s_f"]


def test_schedule_bad_input():
    kw = dict(s_i=0.0, s_f=0.9, t0=0, n=10, dt=1)
    with pytest.raises(ValueError, match="s_f must be >= s_i"):
        gradual_sparsity(0, **{**kw, "s_i": 0.95})
    with pytest.raises(ValueError, match=r"s_f must be in \[0.0, 1.0\)"):
        gradual_sparsity(0, **{**kw, "s_f": 1.0})
    with pytest.raises(ValueError, match="n must be >= 1"):
        gradual_sparsity(0, **{**kw, "n": 0})
    with pytest.raises(ValueError, match="dt must be >= 1"):
        gradual_sparsity(0, **{**kw, "dt": 0})
    with pytest.raises(ValueError, match="step must be >= 0"):
        gradual_sparsity(-1, **kw)
    with pytest.raises(ValueError, match="s_f must be >= s_i"):
        GradualPruning(0.1, s_i=0.5, n=3, dt=2)


def _data(rng, n=96):
    X = rng.standard_normal((n, 12)).astype(np.float32)
    return X, (X[:, :4].argmax(axis=1))


def test_gradual_pruning_hook_reaches_the_target_and_never_revives(rng):
    X, y = _data(rng)
    model = MLP([12, 16, 4], rng=0)
    hook = GradualPruning(0.9, n=4, dt=3, t0=2)
    seen = []

    class Watch:  # runs after the pruning hook: record which weights are zero
        def after_step(self, m):
            seen.append(m.fc1.params["weight"] == 0)

    # 96 / 16 = 6 steps per epoch, 3 epochs = 18 steps > t0 + n dt = 14
    fit(model, X, y, epochs=3, batch_size=16, optimizer=SGD(model, 0.1, momentum=0.9), hooks=[hook, Watch()],
        rng=0, verbose=False)
    assert sparsity_of(hook.masks) == pytest.approx(
        sum(n_to_prune(p.size, 0.9) for n, p in model.named_parameters() if n.endswith("weight"))
        / sum(p.size for n, p in model.named_parameters() if n.endswith("weight")))
    for earlier, later in zip(seen, seen[1:]):
        assert np.all(later[earlier])  # once zero, always zero
    # steps count from 0; at t0 = 2 the target is s_i = 0, so the first weights go at t0 + dt = 5
    assert not seen[4].any() and seen[5].any()


def test_iterative_prune_rounds_follow_the_schedule(rng):
    X, y = _data(rng)
    model = MLP([12, 16, 4], rng=0)
    masks, log = iterative_prune(model, X, y, s_f=0.8, rounds=3, epochs=1, lr=0.05, batch_size=32,
                                 validation=(X, y))
    assert [e["sparsity"] for e in log] == pytest.approx(
        [gradual_sparsity(r, s_i=0.0, s_f=0.8, t0=0, n=3, dt=1) for r in (1, 2, 3)])
    assert log[-1]["sparsity"] == pytest.approx(0.8)
    params = dict(model.named_parameters())
    for name, m in masks.items():
        assert np.all(params[name][~m] == 0)
        assert (~m).sum() == n_to_prune(m.size, 0.8)
    assert {"accuracy_pruned", "accuracy_tuned"} <= set(log[0])
