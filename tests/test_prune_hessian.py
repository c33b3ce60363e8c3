"""The full Hessian of a tiny MLP's loss, and the removal comparison built on it."""

import numpy as np
import pytest

from minicompress import MLP, SGD, fit
from minicompress.nn import functional as F
from minicompress.nn import relative_error
from minicompress.prune import (
    full_hessian,
    gauss_newton_matrix,
    hessian_by_loss_differences,
    hessian_diagonal,
    removal_comparison,
)
from minicompress.prune.hessian import flat_weights, set_flat_weights


def _tiny(train=False):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int) + (X[:, 2] > 1).astype(int)  # 3 classes
    model = MLP([3, 4, 3], rng=1, dtype=np.float64)
    if train:
        fit(model, X, y, epochs=400, batch_size=40, optimizer=SGD(model, 0.2, momentum=0.9), rng=0,
            verbose=False)
    return model, X, y


def test_flat_weights_round_trip():
    model, _, _ = _tiny()
    theta = flat_weights(model)
    assert theta.shape == (3 * 4 + 4 * 3,)
    np.testing.assert_array_equal(theta[:12], model.fc1.params["weight"].ravel())
    set_flat_weights(model, theta * 2)
    np.testing.assert_array_equal(flat_weights(model), theta * 2)
    with pytest.raises(ValueError, match=r"theta must have shape \(24,\)"):
        set_flat_weights(model, theta[:5])


def test_full_hessian_is_symmetric_and_matches_loss_differences():
    model, X, y = _tiny()
    H = full_hessian(model, X, y)
    assert relative_error(H, H.T) < 1e-7
    d = len(H)
    pairs = [(i, j) for i in range(d) for j in range(i, d)]
    second = hessian_by_loss_differences(model, X, y, pairs)
    first = np.array([H[i, j] for i, j in pairs])
    assert relative_error(first, second) < 1e-4  # measured 1.2e-5: round-off eps * L / h^2, h = 1e-5
    np.testing.assert_array_equal(flat_weights(model), flat_weights(_tiny()[0]))  # restored


def test_gauss_newton_is_the_hessian_within_a_layer_but_not_across():
    """In a Linear/ReLU net the logits are piecewise linear in one layer's weights, so the
    diagonal blocks of H are Gauss-Newton (and their diagonal is hessian_diagonal); the
    cross-layer block adds sum_c dL/dz_c d^2 z_c / dw1 dw2, non-zero away from a minimum."""
    model, X, y = _tiny()
    H, G = full_hessian(model, X, y), gauss_newton_matrix(model, X)
    assert np.allclose(G, G.T) and np.linalg.eigvalsh(G).min() > -1e-12
    a, b = slice(0, 12), slice(12, 24)
    assert relative_error(H[a, a], G[a, a]) < 1e-6 and relative_error(H[b, b], G[b, b]) < 1e-6
    assert relative_error(H[a, b], G[a, b]) > 0.05
    np.testing.assert_allclose(np.diag(G)[a], hessian_diagonal(model, X, y, "fc1").ravel(), rtol=1e-9)


def test_removal_comparison():
    """The rows measure what they say.  (That OBS beats OBD and magnitude is a claim about a
    real network: tutorial 01 prints it for an MLP on 7x7 digits, tests/test_prune_tutorial.py
    checks it; this 24-weight net has dead units and is too small to show it reliably.)"""
    model, X, y = _tiny(train=True)
    before = flat_weights(model)
    H = full_hessian(model, X, y)
    with pytest.raises(ValueError, match="damped Hessian is not positive definite"):
        removal_comparison(model, X, y, [2], damp=1e-3, H=H)  # H is indefinite by 3.9e-4
    rows = removal_comparison(model, X, y, [2, 6, 12], damp=0.03, H=H)
    np.testing.assert_array_equal(flat_weights(model), before)
    table = {(r["criterion"], r["k"]): r for r in rows}
    assert len(rows) == 12
    # magnitude's row is exactly "zero the 6 smallest |w|, measure the loss"
    theta = before.copy()
    theta[np.argsort(np.abs(theta))[:6]] = 0
    set_flat_weights(model, theta)
    expected = F.cross_entropy(model(X), y)[0]
    set_flat_weights(model, before)
    expected -= F.cross_entropy(model(X), y)[0]
    assert table["magnitude", 6]["real"] == pytest.approx(expected, rel=1e-12)
    assert table["magnitude", 6]["predicted"] is None
    obd = 0.5 * np.diag(H) * before**2
    assert table["obd", 6]["predicted"] == pytest.approx(np.sort(obd)[:6].sum(), rel=1e-12)
    assert all(table["obs", k]["predicted"] > 0 for k in (2, 6, 12))


def test_bad_input():
    model = MLP([3, 2], rng=0)
    X, y = np.zeros((4, 3)), np.zeros(4, dtype=int)
    with pytest.raises(TypeError, match="needs a float64 model; fc1.weight is float32"):
        full_hessian(model, X, y)
    model.to(np.float64)
    with pytest.raises(ValueError, match="k must be <= 5"):
        removal_comparison(model, X, y, [6])
    with pytest.raises(ValueError, match="h must be in"):
        full_hessian(model, X, y, h=0.0)
