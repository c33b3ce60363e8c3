"""minicompress.nn.layers and models: gradients, accumulation, state dicts, initialisation.

Every layer's backward is checked against centred finite differences in float64 (relative
error < 1e-6) over Hypothesis-drawn shapes, strides and paddings; whole models too.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minicompress.nn import (
    MLP,
    Conv2d,
    ConvNet,
    Flatten,
    LeNet5,
    LeNet300_100,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
)
from minicompress.nn.gradcheck import GRAD_TOL, gradcheck_module, numerical_gradient, relative_error
from tests.strategies import pool_problems, seeded_normal


def assert_gradcheck(module, x, seed=0):
    errors = gradcheck_module(module, x, rng=seed)
    expected = {"x"} | {name for name, _ in module.named_parameters()}
    assert set(errors) == expected
    assert max(errors.values()) < GRAD_TOL, errors


# ----------------------------------------------------------------------------- gradcheck
@given(st.integers(1, 4), st.integers(1, 6), st.integers(1, 6), st.booleans(), st.data())
def test_linear_gradcheck(n, d_in, d_out, bias, data):
    layer = Linear(d_in, d_out, bias=bias, rng=data.draw(st.integers(0, 99))).to(np.float64)
    assert_gradcheck(layer, data.draw(seeded_normal((n, d_in))))


@st.composite
def conv_layers(draw):
    """A float64 Conv2d (kh, kw, stride, padding drawn) and an input it accepts."""
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, padding = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    H = draw(st.integers(max(1, kh - 2 * padding, stride - 2 * padding), 7))
    W = draw(st.integers(max(1, kw - 2 * padding, stride - 2 * padding), 7))
    layer = Conv2d(c_in, c_out, (kh, kw), stride, padding, bias=draw(st.booleans()),
                   rng=draw(st.integers(0, 99)))
    x = draw(seeded_normal((draw(st.integers(1, 2)), c_in, H, W)))
    return layer.to(np.float64), x


@settings(max_examples=25)
@given(conv_layers())
def test_conv2d_gradcheck(problem):
    layer, x = problem
    assert_gradcheck(layer, x)


def test_conv2d_without_input_grad_gives_the_same_parameter_gradients(rng):
    full = Conv2d(2, 3, 3, stride=2, padding=1, rng=1)
    first = Conv2d(2, 3, 3, stride=2, padding=1, rng=1, input_grad=False)
    x = rng.standard_normal((2, 2, 7, 7)).astype(np.float32)
    dout = rng.standard_normal(full(x).shape).astype(np.float32)
    first(x)
    assert isinstance(full.backward(dout), np.ndarray)
    assert first.backward(dout) is None
    for key in ("weight", "bias"):
        np.testing.assert_array_equal(first.grads[key], full.grads[key])
    with pytest.raises(TypeError, match="input_grad must be True or False; got 1"):
        Conv2d(1, 1, 3, input_grad=1)


@given(st.data())
def test_relu_gradcheck(data):
    shape = data.draw(st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 5)))
    x = data.draw(seeded_normal(shape))
    x[np.abs(x) < 1e-3] = 0.5  # keep finite differences off the kink at 0
    assert_gradcheck(ReLU(), x)


def test_relu_kink_convention():
    # the gradient at exactly x == 0 is 0, as in PyTorch
    relu = ReLU()
    relu(np.array([[-1.0, 0.0, 2.0]]))
    np.testing.assert_array_equal(relu.backward(np.ones((1, 3))), [[0.0, 0.0, 1.0]])


@settings(max_examples=25)
@given(pool_problems())
def test_maxpool2d_gradcheck(problem):
    x, k, s = problem
    assert_gradcheck(MaxPool2d(k, s), x)


@given(st.data())
def test_flatten_gradcheck(data):
    shape = data.draw(st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4)))
    flat = Flatten()
    x = data.draw(seeded_normal(shape))
    assert flat(x).shape == (shape[0], int(np.prod(shape[1:])))
    assert_gradcheck(flat, x)


@settings(max_examples=15)
@given(st.integers(1, 3), st.integers(1, 2), st.integers(0, 1), st.integers(5, 8), st.data())
def test_sequential_gradcheck(c, stride, padding, side, data):
    # conv -> relu -> pool -> flatten -> linear, the ConvNet pattern at small, drawn sizes
    conv = Conv2d(1, c, 3, stride, padding, rng=1)
    h = (side + 2 * padding - 3) // stride + 1
    model = Sequential(conv=conv, relu=ReLU(), pool=MaxPool2d(2), flatten=Flatten(),
                       fc=Linear(c * (h // 2) ** 2, 3, rng=2)).to(np.float64)
    assert_gradcheck(model, data.draw(seeded_normal((2, 1, side, side))))


def _rows(p, n):
    """The first ``n`` rows of parameter ``p``: a contiguous *view*, so that
    numerical_gradient's in-place perturbations reach the model."""
    view = p[:n]
    assert np.shares_memory(view, p) and view.flags.c_contiguous
    return view


@pytest.mark.parametrize("build, rows", [
    (lambda: ConvNet(channels=2, rng=3), {"fc.weight": 3}),
    (lambda: LeNet5(rng=3), {"conv2.weight": 1, "fc1.weight": 1, "fc2.weight": 1, "fc3.weight": 2}),
])
def test_whole_model_gradcheck(build, rows):
    """dx and every parameter gradient of a whole model (float64, batch of 2).

    The big weight matrices are checked on their first rows, dx on a band of rows of the
    first image (every other array in full); that keeps the test to ~2,000 finite
    differences.  A directional derivative along a random direction then covers every
    parameter at once.
    """
    model = build().to(np.float64)
    x = np.random.default_rng(4).standard_normal((2, 1, 28, 28))
    out = model.forward(x)
    dout = np.random.default_rng(5).standard_normal(out.shape)
    model.zero_grad()
    dx = model.backward(dout)
    grads = {name: g.copy() for name, g in model.named_gradients()}

    def f():
        return float(np.sum(model.forward(x) * dout))

    band = x[0, 0, 8:20]  # rows 8..19 of the first image: a contiguous view into x
    assert relative_error(dx[0, 0, 8:20], numerical_gradient(f, band)) < GRAD_TOL
    for name, p in model.named_parameters():
        n = rows.get(name, len(p))
        err = relative_error(grads[name][:n], numerical_gradient(f, _rows(p, n)))
        assert err < GRAD_TOL, (name, err)

    # f(theta + h v) - f(theta - h v) ~ 2h <grad, v> for a random direction v over all params
    params = dict(model.named_parameters())
    v = {name: np.random.default_rng(6).standard_normal(p.shape) for name, p in params.items()}
    h = 1e-6
    values = []
    for sign in (1, -1):
        for name, p in params.items():
            p += sign * h * v[name]
        values.append(f())
        for name, p in params.items():
            p -= sign * h * v[name]
    numeric = (values[0] - values[1]) / (2 * h)
    analytic = sum(float(np.sum(grads[name] * v[name])) for name in params)
    assert abs(numeric - analytic) < GRAD_TOL * abs(analytic)


def test_gradcheck_requires_float64():
    with pytest.raises(TypeError, match="float64"):
        gradcheck_module(Linear(2, 2), np.ones((1, 2)), rng=0)


# ----------------------------------------------------------------------------- accumulation
@pytest.mark.parametrize("layer, shape", [
    (Linear(4, 3), (2, 4)),
    (Conv2d(2, 3, 3, stride=2, padding=1), (2, 2, 5, 5)),
])
def test_gradients_accumulate_until_zero_grad(layer, shape):
    layer.to(np.float64)
    x = np.random.default_rng(0).standard_normal(shape)
    dout = np.random.default_rng(1).standard_normal(layer(x).shape)
    layer.backward(dout)
    once = {n: g.copy() for n, g in layer.named_gradients()}
    layer(x)
    layer.backward(dout)
    for name, g in layer.named_gradients():
        np.testing.assert_allclose(g, 2 * once[name], rtol=1e-14)
    layer.zero_grad()
    assert all(not g.any() for _, g in layer.named_gradients())


# ----------------------------------------------------------------------------- state dicts
def test_convnet_matches_the_text_layer_for_layer():
    model = ConvNet()
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    assert shapes == {"conv1.weight": (16, 1, 3, 3), "conv1.bias": (16,),
                      "fc.weight": (10, 16 * 13 * 13), "fc.bias": (10,)}
    assert list(shapes) == ["conv1.weight", "conv1.bias", "fc.weight", "fc.bias"]  # torch's order
    assert list(model.children()) == ["conv1", "relu", "pool", "flatten", "fc"]
    out = model(np.zeros((3, 1, 28, 28), np.float32))
    assert out.shape == (3, 10) and out.dtype == np.float32


@pytest.mark.parametrize("model, n_params, keys", [
    (LeNet300_100(), 266_610, ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"]),
    (LeNet5(), 61_706, [f"{layer}.{p}" for layer in ["conv1", "conv2", "fc1", "fc2", "fc3"]
                        for p in ["weight", "bias"]]),
    (MLP([5, 4, 3]), 5 * 4 + 4 + 4 * 3 + 3, ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]),
])
def test_model_sizes_and_keys(model, n_params, keys):
    assert model.num_parameters() == n_params
    assert list(model.state_dict()) == keys


def test_state_dict_round_trip_and_copies():
    a, b = ConvNet(rng=1), ConvNet(rng=2)
    x = np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype(np.float32)
    assert not np.array_equal(a(x), b(x))
    state = a.state_dict()
    b.load_state_dict(state)
    np.testing.assert_array_equal(a(x), b(x))
    state["fc.bias"][:] = 99  # a state dict is a copy: editing it leaves the model alone
    assert not (a.fc.params["bias"] == 99).any()


def test_named_parameters_are_live():
    model = ConvNet(channels=2)
    for name, p in model.named_parameters():
        if "weight" in name:  # the source text's loop, read the same
            p[...] = 0
    out = model(np.ones((1, 1, 28, 28), np.float32))
    np.testing.assert_array_equal(out, np.broadcast_to(model.fc.params["bias"], (1, 10)))


@pytest.mark.parametrize("edit, match", [
    (lambda s: s.pop("fc.bias"), r"missing key\(s\) \['fc.bias'\]"),
    (lambda s: s.update({"fc.scale": np.ones(1)}), r"unexpected key\(s\) \['fc.scale'\]"),
    (lambda s: s.update({"conv1.weight": np.ones((16, 1, 5, 5))}),
     r"shape mismatch for key 'conv1.weight'.*\(16, 1, 3, 3\).*\(16, 1, 5, 5\)"),
])
def test_load_state_dict_errors_name_the_key(edit, match):
    model = ConvNet()
    before = model.state_dict()
    state = model.state_dict()
    edit(state)
    with pytest.raises(ValueError, match=match):
        model.load_state_dict(state)
    for name, p in model.named_parameters():  # nothing was half-loaded
        np.testing.assert_array_equal(p, before[name])


def test_sequential_set_submodule_and_get_submodule():
    model = ConvNet()
    new_fc = Linear(16 * 13 * 13, 10, rng=7)
    model.set_submodule("fc", new_fc)
    assert model.get_submodule("fc") is new_fc and model.fc is new_fc
    with pytest.raises(ValueError, match="'fc2' does not exist"):
        model.set_submodule("fc2", new_fc)
    with pytest.raises(ValueError, match="'conv9' does not exist"):
        model.get_submodule("conv9")
    with pytest.raises(TypeError, match="must be a Module"):
        model.set_submodule("fc", np.ones(3))


def test_set_submodule_reaches_into_nested_sequentials():
    inner = Sequential(v=Linear(4, 2, bias=False), u=Linear(2, 3))
    model = Sequential(flatten=Flatten(), fc1=inner)
    new_u = Linear(2, 3, rng=9)
    model.set_submodule("fc1.u", new_u)
    assert model.fc1.u is new_u and list(model.fc1) == [inner.v, new_u]


# -- torch.nn.Sequential idioms: each behaves as in PyTorch --------------------------
def _images(n=3):
    return np.random.default_rng(1).standard_normal((n, 1, 28, 28)).astype(np.float32)


def test_assigning_a_child_attribute_replaces_what_forward_runs():
    model, x = ConvNet(), _images()
    before = model(x)
    zero_fc = Linear(16 * 13 * 13, 10)
    zero_fc.params["weight"][...] = 0
    zero_fc.params["bias"][...] = 1.5
    model.fc = zero_fc
    assert model.fc is zero_fc and list(model.children()) == ["conv1", "relu", "pool", "flatten", "fc"]
    np.testing.assert_array_equal(model(x), np.full((3, 10), 1.5, np.float32))
    assert not np.array_equal(before, model(x))
    assert "fc.weight" in dict(model.named_parameters())  # the new child's parameters


def test_assigning_a_non_module_to_a_child_name_raises():
    model = ConvNet()
    with pytest.raises(TypeError, match="child 'fc' .* must be a Module"):
        model.fc = np.ones((10, 2704))
    assert isinstance(model.fc, Linear)
    model.note = "plain attributes still work"  # a name that is not a child
    assert model.note == "plain attributes still work" and "note" not in model.children()


def test_assigning_a_module_to_a_new_name_appends_it_as_pytorch_does():
    model = Sequential(fc=Linear(3, 2))
    model.act = ReLU()
    assert list(model.children()) == ["fc", "act"] and len(model) == 2


def test_iteration_and_list_yield_the_children_in_order():
    model = ConvNet()
    kinds = [type(layer).__name__ for layer in model]
    assert kinds == ["Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"]
    assert list(model) == list(model.children().values()) and len(model) == 5


def test_integer_indexing_and_negative_indices():
    model = ConvNet()
    assert model[0] is model.conv1 and model[-1] is model.fc and model[4] is model.fc
    with pytest.raises(IndexError, match="out of range"):
        model[5]
    with pytest.raises(TypeError, match="integers or slices; got str.*get_submodule"):
        model["fc"]


def test_slicing_gives_a_sequential_of_the_same_children():
    model, x = ConvNet(), _images()
    head, tail = model[:1], model[1:]
    assert isinstance(tail, Sequential) and list(tail.children()) == ["relu", "pool", "flatten", "fc"]
    assert tail.fc is model.fc  # the same objects, as torch's slicing
    np.testing.assert_array_equal(tail(head(x)), model(x))
    assert list(model[::2].children()) == ["conv1", "pool", "fc"]


def test_setitem_delitem_and_append():
    model = Sequential(Linear(3, 4), ReLU(), Linear(4, 2))
    new = Linear(4, 2, rng=3)
    model[-1] = new
    assert model[2] is new and list(model.children()) == ["0", "1", "2"]
    del model[1]
    assert list(model.children()) == ["0", "1"] and model[1] is new  # renumbered, as PyTorch
    model.append(ReLU())
    assert list(model.children()) == ["0", "1", "2"] and isinstance(model[2], ReLU)
    named = ConvNet()
    del named[1:4]
    assert list(named.children()) == ["conv1", "fc"]  # named children keep their names
    with pytest.raises(ValueError, match="taken"):
        Sequential(**{"1": ReLU()}).append(ReLU())
# ----------------------------------------------------------------------------- initialisation
@pytest.mark.parametrize("layer, fan_in", [
    (Linear(200, 300, rng=0), 200),
    (Conv2d(8, 64, (3, 5), rng=0), 8 * 3 * 5),
])
def test_pytorch_default_init(layer, fan_in):
    # torch: kaiming_uniform_(a=sqrt(5)) -> U(-1/sqrt(fan_in), 1/sqrt(fan_in)), bias the same
    bound = 1 / np.sqrt(fan_in)
    w, b = layer.params["weight"], layer.params["bias"]
    assert w.dtype == b.dtype == np.float32
    for p in (w, b):
        assert np.abs(p).max() <= bound
    assert np.abs(w).max() > 0.99 * bound  # the whole interval is used ...
    assert w.std() == pytest.approx(bound / np.sqrt(3), rel=0.02)  # ... uniformly
    assert abs(w.mean()) < 0.01 * bound


def test_init_is_seeded():
    a, b, c = ConvNet(rng=5), ConvNet(rng=5), ConvNet(rng=6)
    for (name, p), (_, q), (_, r) in zip(a.named_parameters(), b.named_parameters(), c.named_parameters()):
        np.testing.assert_array_equal(p, q)
        assert not np.array_equal(p, r), name


# ----------------------------------------------------------------------------- atomic loads, dtypes
BAD_VALUES = {
    "nan": lambda shape: np.full(shape, np.nan),
    "inf": lambda shape: np.full(shape, -np.inf),
    "too big for float32": lambda shape: np.full(shape, 1e300),
    "strings": lambda shape: np.full(shape, "1.5"),
    "None": lambda shape: np.full(shape, None),
    "complex": lambda shape: np.full(shape, 1 + 1j),
    "integers": lambda shape: np.ones(shape, dtype=np.int32),
    "wrong shape": lambda shape: np.zeros((*shape, 1)),
}


@given(st.integers(0, 3), st.sampled_from(sorted(BAD_VALUES)), st.integers(0, 2**32 - 1))
@settings(max_examples=40)
def test_a_refused_state_dict_changes_nothing(bad_index, kind, seed):
    """Whichever key is bad and however, load_state_dict raises and the model keeps every
    bit of every parameter, the keys before the bad one included."""
    model = MLP([3, 4, 2], rng=0)
    before = model.state_dict()
    state = {k: v + np.random.default_rng(seed).standard_normal(v.shape) for k, v in before.items()}
    bad_key = sorted(state)[bad_index]
    state[bad_key] = BAD_VALUES[kind](before[bad_key].shape)
    with pytest.raises((TypeError, ValueError), match=bad_key.replace(".", r"\.")):
        model.load_state_dict(state)
    for k, p in model.named_parameters():
        np.testing.assert_array_equal(p, before[k])


def test_a_float64_state_loads_into_float32_parameters():
    model = MLP([3, 4, 2], rng=0)
    state = {k: v.astype(np.float64) * 2 for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    for k, p in model.named_parameters():
        assert p.dtype == np.float32
        np.testing.assert_array_equal(p, state[k].astype(np.float32))
    state["fc1.weight"][0, 0] = 7.0
    assert model.state_dict()["fc1.weight"][0, 0] != 7.0  # copied, never aliased


@given(st.sampled_from([np.float16, np.float32, np.float64]))
def test_layers_are_created_in_any_float_dtype(dtype):
    for layer in (Linear(3, 2, dtype=dtype), Conv2d(1, 2, 3, dtype=dtype)):
        assert all(p.dtype == dtype for p in layer.parameters())
        assert all(np.any(p != 0) for p in layer.parameters())
