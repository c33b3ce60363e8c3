"""prune_model (layer / global, three criteria), apply_masks and MaskHook through fit."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress.nn import MLP, SGD, ConvNet, LeNet300_100, evaluate, fit
from minicompress.prune import MaskHook, apply_masks, prune_model, sparsity_of
from minicompress.prune.magnitude import n_to_prune

sparsities = st.floats(0.0, 0.99)


def _mlp(seed=0):
    return MLP([12, 9, 7, 4], rng=seed)


def test_layer_scope_prunes_each_weight_and_leaves_biases():
    model = _mlp()
    biases = {n: p.copy() for n, p in model.named_parameters() if n.endswith("bias")}
    masks = prune_model(model, 0.5)
    assert sorted(masks) == ["fc1.weight", "fc2.weight", "fc3.weight"]
    params = dict(model.named_parameters())
    for name, m in masks.items():
        assert np.count_nonzero(params[name] == 0) == n_to_prune(m.size, 0.5)
    for name, b in biases.items():
        assert np.array_equal(params[name], b)


def test_include_bias_prunes_biases_too():
    model = _mlp()
    masks = prune_model(model, 0.5, include=("weight", "bias"))
    assert "fc1.bias" in masks and np.count_nonzero(model.fc1.params["bias"] == 0) == 4  # floor(4.5)


@given(st.integers(0, 2**31), sparsities)
def test_global_scope_gives_overall_sparsity(seed, s):
    model = _mlp(seed)
    n = sum(p.size for name, p in model.named_parameters() if name.endswith("weight"))
    masks = prune_model(model, s, scope="global")
    zeros = sum(int((~m).sum()) for m in masks.values())
    assert zeros == n_to_prune(n, s)  # random float weights: no ties
    assert abs(sparsity_of(masks) - s) <= 1 / n


def test_global_magnitude_hand_case():
    model = MLP([2, 2, 1], rng=0)
    model.fc1.params["weight"][...] = [[0.1, 0.2], [0.3, 0.4]]
    model.fc2.params["weight"][...] = [[0.05, 0.9]]
    masks = prune_model(model, 0.5, scope="global")  # 6 weights, k = 3: 0.05, 0.1, 0.2 go
    assert masks["fc1.weight"].tolist() == [[False, False], [True, True]]
    assert masks["fc2.weight"].tolist() == [[False, True]]


def test_apply_false_leaves_weights(rng):
    model = _mlp()
    before = model.state_dict()
    masks = prune_model(model, 0.7, apply=False)
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())
    apply_masks(model, masks)
    assert np.count_nonzero(model.fc1.params["weight"] == 0) == n_to_prune(12 * 9, 0.7)


@pytest.mark.parametrize("criterion", ["taylor", "obd"])
def test_loss_criteria_prune_the_requested_count(criterion, rng):
    model = _mlp()
    X = rng.standard_normal((40, 12)).astype(np.float32)
    y = rng.integers(0, 4, 40)
    masks = prune_model(model, 0.6, criterion=criterion, data=(X, y))
    for name, m in masks.items():
        assert (~m).sum() == n_to_prune(m.size, 0.6), name


# ---------------------------------------------------------------- fine-tuning keeps zeros
def test_fit_with_maskhook_never_revives_a_weight(rng):
    """Momentum and weight decay would move a zero weight; the hook keeps it exactly 0."""
    model = _mlp()
    X = rng.standard_normal((64, 12)).astype(np.float32)
    y = rng.integers(0, 4, 64)
    opt = SGD(model, lr=0.1, momentum=0.9, weight_decay=1e-3)
    fit(model, X, y, epochs=1, batch_size=16, optimizer=opt, rng=0, verbose=False)  # momentum built up
    masks = prune_model(model, 0.8)
    kept_before = {n: p.copy() for n, p in model.named_parameters()}
    fit(model, X, y, epochs=3, batch_size=16, optimizer=opt, hooks=[MaskHook(masks)], rng=0, verbose=False)
    params = dict(model.named_parameters())
    for name, m in masks.items():
        assert np.all(params[name][~m] == 0), name
        assert not np.array_equal(params[name][m], kept_before[name][m])  # the rest did train


def test_without_the_hook_zeros_do_revive(rng):
    """The control: the same fine-tuning without MaskHook revives pruned weights."""
    model = _mlp()
    X = rng.standard_normal((64, 12)).astype(np.float32)
    y = rng.integers(0, 4, 64)
    masks = prune_model(model, 0.8)
    fit(model, X, y, epochs=1, batch_size=16, optimizer=SGD(model, 0.1), rng=0, verbose=False)
    assert np.count_nonzero(model.fc1.params["weight"][~masks["fc1.weight"]]) > 0


def test_masking_the_gradient_alone_lets_stale_momentum_revive(rng):
    """Why MaskHook also re-applies the mask after the step."""
    model = _mlp()
    X = rng.standard_normal((64, 12)).astype(np.float32)
    y = rng.integers(0, 4, 64)
    opt = SGD(model, lr=0.1, momentum=0.9)
    fit(model, X, y, epochs=1, batch_size=16, optimizer=opt, rng=0, verbose=False)
    masks = prune_model(model, 0.8)

    class GradientOnly:
        after_backward = MaskHook(masks).after_backward

    fit(model, X, y, epochs=1, batch_size=16, optimizer=opt, hooks=[GradientOnly()], rng=0, verbose=False)
    assert np.count_nonzero(model.fc1.params["weight"][~masks["fc1.weight"]]) > 0


def test_mask_hook_zeroes_the_gradients_of_pruned_weights_only():
    # after_backward by itself: the optimizer must see no gradient for a pruned weight (else
    # momentum and Adam's moments build up for weights that no longer exist)
    model = MLP([3, 2], rng=0)
    mask = np.array([[True, False, True], [False, True, True]])
    for _, g in model.named_gradients():
        g[...] = 1.0
    MaskHook({"fc1.weight": mask}).after_backward(model)
    grads = dict(model.named_gradients())
    np.testing.assert_array_equal(grads["fc1.weight"], mask.astype(np.float32))
    np.testing.assert_array_equal(grads["fc1.bias"], 1.0)  # not masked: untouched


@pytest.mark.slow
def test_han_target_lenet300_90_percent(trained_lenet300, mnist):
    """Han et al. 2015 shape: 10x fewer weights, fine-tuned at lr/10, loses <= 1.0 point.
    (The experiment fine-tunes 5 epochs; 2 here to stay inside the test-time budget.)"""
    X, y, Xt, yt = mnist
    dense = evaluate(trained_lenet300, Xt, yt)[1]
    masks = prune_model(trained_lenet300, 0.9, scope="global")
    assert sparsity_of(masks) == pytest.approx(0.9, abs=1e-5)
    opt = SGD(trained_lenet300, lr=0.001, momentum=0.9)
    fit(trained_lenet300, X, y, epochs=2, batch_size=64, optimizer=opt, hooks=[MaskHook(masks)],
        rng=0, verbose=False)
    tuned = evaluate(trained_lenet300, Xt, yt)[1]
    params = dict(trained_lenet300.named_parameters())
    assert all(np.all(params[n][~m] == 0) for n, m in masks.items())
    assert 100 * (dense - tuned) <= 1.0, f"dense {dense:.3f}, pruned+fine-tuned {tuned:.3f}"


# ---------------------------------------------------------------- bad input
def test_bad_arguments():
    model = _mlp()
    with pytest.raises(ValueError, match="sparsity must be in"):
        prune_model(model, 1.0)
    with pytest.raises(ValueError, match="scope must be one of"):
        prune_model(model, 0.5, scope="network")
    with pytest.raises(ValueError, match="criterion must be one of"):
        prune_model(model, 0.5, criterion="random")
    with pytest.raises(ValueError, match="needs data=\\(X, y\\)"):
        prune_model(model, 0.5, criterion="taylor")
    with pytest.raises(ValueError, match="selects no parameter"):
        prune_model(model, 0.5, include=("kernel",))
    with pytest.raises(TypeError, match="include must be a non-empty tuple"):
        prune_model(model, 0.5, include="weight")


def test_apply_masks_errors():
    model = ConvNet()
    with pytest.raises(ValueError, match=r"mask 'fc.weight' has shape \(3,\) but the parameter has shape"):
        apply_masks(model, {"fc.weight": np.ones(3, dtype=bool)})
    with pytest.raises(ValueError, match="mask 'fc2.weight' names no parameter"):
        apply_masks(model, {"fc2.weight": np.ones(3, dtype=bool)})
    with pytest.raises(TypeError, match="must be a bool ndarray"):
        apply_masks(model, {"fc.bias": np.ones(10)})
    with pytest.raises(TypeError, match="masks must be a non-empty dict"):
        MaskHook({})
    hook = MaskHook({"fc1.weight": np.ones((300, 784), dtype=bool), "fc9.weight": np.ones(2, dtype=bool)})
    with pytest.raises(ValueError, match="fc9.weight"):
        hook.after_step(LeNet300_100())
