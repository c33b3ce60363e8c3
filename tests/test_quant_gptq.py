"""GPTQ (Frantar et al. 2023): the column update, the Cholesky trick, RTN for diagonal H,
lazy batches, groups, act order, the model transform and its errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress import formats
from minicompress.formats import CompressedConv2d, CompressedLinear
from minicompress.formats.groups import group_scales
from minicompress.formats.symmetric import symmetric_quantize
from minicompress.nn import Conv2d, Flatten, Linear, ReLU, Sequential
from minicompress.nn.calibration import input_rows, layer_hessian
from minicompress.quantize import gptq
from minicompress.quantize.gptq import gptq_column_update, gptq_hessian_inverse, gptq_quantize
from tests.strategies import seeded_normal


def _correlated(rng, n, k):
    """Inputs with strongly correlated columns (where error feedback pays)."""
    return rng.standard_normal((n, k)) @ (np.eye(k) + 0.8 * rng.standard_normal((k, k)))


# ----------------------------------------------------------------------------- the formulas
def test_column_update_hand_case():
    # H = [[2, 1], [1, 2]]: quantizing w0 to q0 moves w1 by H01/H11 (w0 - q0) (the OBS update)
    H = np.array([[2.0, 1.0], [1.0, 2.0]])
    U = gptq_hessian_inverse(H)
    np.testing.assert_allclose(U.T @ U, np.linalg.inv(H), atol=1e-12)
    assert U[1, 0] == 0  # upper triangular
    w = np.array([[0.3, 0.2]])
    w_new, err = gptq_column_update(w, U, 0, np.array([0.5]))
    np.testing.assert_allclose(w_new, [[0.5, 0.2 + 0.5 * (0.3 - 0.5)]])  # 0.2 - 0.1 = 0.1
    np.testing.assert_allclose(err, (0.3 - 0.5) / U[0, 0])
    assert w[0, 1] == 0.2  # the input is not changed


@given(seeded_normal((5, 4)), seeded_normal((30, 4)))
def test_column_update_is_the_best_compensation(w, x):
    """After fixing column 0, the update is the least-squares optimum of the later columns."""
    H = 2 * x.T @ x / len(x)
    U = gptq_hessian_inverse(H)
    q0 = np.round(w[:, 0])
    w_new, _ = gptq_column_update(w, U, 0, q0)
    # optimum: minimise ||x (w - w')^T||^2 over w'[:, 1:] with w'[:, 0] = q0
    target = x @ w.T - np.outer(x[:, 0], q0)
    best = np.linalg.lstsq(x[:, 1:], target, rcond=None)[0].T
    np.testing.assert_allclose(w_new[:, 1:], best, atol=1e-8)


def test_hessian_inverse_refuses_a_singular_H():
    with pytest.raises(ValueError, match="not positive definite; use damp > 0"):
        gptq_hessian_inverse(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="square"):
        gptq_hessian_inverse(np.ones((2, 3)))


@given(seeded_normal((6, 8)), st.sampled_from([2, 3, 4, 8]), st.sampled_from([None, "channel", 2, 4]),
       st.booleans(), st.sampled_from([np.float32, np.float64]))
def test_diagonal_hessian_is_round_to_nearest(w, bits, grid, act_order, dtype):
    w = w.astype(dtype)
    d = np.random.default_rng(0).uniform(0.5, 2.0, 8)
    per_channel, group = grid is not None, grid if isinstance(grid, int) else None
    codes, scale = gptq_quantize(w, np.diag(d), bits, per_channel=per_channel, group_size=group,
                                 act_order=act_order, blocksize=3)
    if group is None:
        q, s = symmetric_quantize(w, bits, per_channel=per_channel)
    else:
        s = group_scales(w, group)
        q, _ = symmetric_quantize(w.reshape(-1, group), bits, s.ravel(), per_channel=True)
        q = q.reshape(w.shape)
    np.testing.assert_array_equal(codes, q)
    np.testing.assert_array_equal(scale, s)


@given(st.integers(0, 2**32 - 1), st.sampled_from([None, 3]), st.booleans())
def test_lazy_batches_do_not_change_the_result(seed, group, act_order):
    rng = np.random.default_rng(seed)
    w, x = rng.standard_normal((4, 12)), _correlated(rng, 50, 12)
    H = 2 * x.T @ x / len(x) + 0.01 * np.eye(12)
    ref = gptq_quantize(w, H, 3, group_size=group, act_order=act_order, blocksize=1)
    for b in (5, 12, 128):
        got = gptq_quantize(w, H, 3, group_size=group, act_order=act_order, blocksize=b)
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_allclose(got[1], ref[1])


def test_gptq_beats_round_to_nearest_on_its_objective():
    rng = np.random.default_rng(1)
    w, x = rng.standard_normal((16, 20)), _correlated(rng, 200, 20)
    H = 2 * x.T @ x / len(x)

    def err(codes, scale):
        w_hat = codes * (np.asarray(scale).reshape(-1, 1) / 3)
        return np.sum((x @ (w - w_hat).T) ** 2)

    rtn = err(*symmetric_quantize(w, 3, per_channel=True))
    for act_order in (False, True):
        assert err(*gptq_quantize(w, H, 3, act_order=act_order)) < 0.7 * rtn


def test_dead_input_is_rounded_to_nearest():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((40, 5))
    x[:, 2] = 0  # an input that never fires
    w = rng.standard_normal((3, 5))
    codes, scale = gptq_quantize(w, 2 * x.T @ x / 40, 2)  # damp = 0: H is singular without the rule
    np.testing.assert_array_equal(codes[:, 2], symmetric_quantize(w, 2, per_channel=True)[0][:, 2])


# ----------------------------------------------------------------------------- the model transform
def _tiny_convnet(rng):
    return Sequential(conv=Conv2d(2, 4, 3, padding=1, rng=rng), relu=ReLU(), flatten=Flatten(),
                      fc=Linear(4 * 5 * 5, 6, rng=rng))


def test_gptq_model_holds_its_codes_in_the_stored_family():
    rng = np.random.default_rng(3)
    model = _tiny_convnet(3)
    X = rng.standard_normal((30, 2, 5, 5)).astype(np.float32)
    before = model.state_dict()
    q = gptq(model, X, 3)
    assert isinstance(q.conv, CompressedConv2d) and isinstance(q.fc, CompressedLinear)
    assert q.conv.encodings()["weight"].fmt == "int" and q.fc.encodings()["weight"].field("bits") == 3
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])  # the input model is not changed
    # the first layer's codes are GPTQ's on its own Hessian; the fc sees the quantized conv
    H = layer_hessian(model.conv, X, damp=0.01)
    codes, scale = gptq_quantize(model.conv.params["weight"].reshape(4, -1), H, 3)
    enc = q.conv.encodings()["weight"]
    np.testing.assert_array_equal(formats.codes.int_codes(enc.arrays, enc.shape).reshape(4, -1), codes)
    # 8 bits per channel is the int8_channel format; groups are int_group
    assert gptq(model, X, 8).fc.encodings()["weight"].fmt == "int8_channel"
    grouped = gptq(model, X, 4, group_size=9, layers=["conv"], act_order=True)
    assert grouped.conv.encodings()["weight"].fmt == "int_group" and isinstance(grouped.fc, Linear)
    assert grouped.conv.storage_bits() == formats.size_bits(
        grouped.conv.dense_weight(), "int_group", bits=4, group_size=9) + 32 * (1 + 4)


def test_gptq_layer_error_is_smaller_than_rtn():
    rng = np.random.default_rng(4)
    model = Sequential(fc1=Linear(12, 8, rng=4), relu=ReLU(), fc2=Linear(8, 5, rng=5))
    X = _correlated(rng, 300, 12).astype(np.float32)
    g = gptq(model, X, 2, layers=["fc1"])
    x = input_rows(model.fc1, X).astype(np.float64)
    w = model.fc1.params["weight"]
    rtn = formats.encode(w, "int", bits=2, per_channel=True).decode()
    assert np.sum((x @ (w - g.fc1.dense_weight()).T) ** 2) < np.sum((x @ (w - rtn).T) ** 2)


def test_gptq_bad_input_names_the_argument():
    model = _tiny_convnet(0)
    X = np.zeros((4, 2, 5, 5), np.float32)
    with pytest.raises(ValueError, match="bits must be in 2..16; got 1"):
        gptq(model, X, 1)
    with pytest.raises(ValueError, match=r"damp must be in \[0.0, inf\); got -0.1"):
        gptq(model, X, 4, damp=-0.1)
    with pytest.raises(ValueError, match="group_size must divide the 18 input columns.*got 4"):
        gptq(model, X, 4, group_size=4)
    with pytest.raises(ValueError, match="needs per_channel=True"):
        gptq(model, X, 4, group_size=2, per_channel=False)
    with pytest.raises(ValueError, match=r"X of shape \(4, 3, 5, 5\) does not fit the model"):
        gptq(model, np.zeros((4, 3, 5, 5), np.float32), 4)
    bad = X.copy()
    bad[1, 0, 2, 2] = np.nan
    with pytest.raises(ValueError, match="X contains 1 non-finite value"):
        gptq(model, bad, 4)
    with pytest.raises(ValueError, match="layer name 'fc9' does not exist"):
        gptq(model, X, 4, layers=["fc9"])
    with pytest.raises(TypeError, match="layer 'relu' is a ReLU"):
        gptq(model, X, 4, layers=["relu"])
    with pytest.raises(TypeError, match="must be a Sequential"):
        gptq(Linear(3, 2), np.zeros((2, 3), np.float32), 4)
