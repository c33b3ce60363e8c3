"""minicompress.nn.train: fit with hooks, determinism, errors, evaluate, minibatches."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress.nn import SGD, ConvNet, Linear, Sequential, evaluate, fit, minibatches, predict
from minicompress.nn.layers import Flatten


@pytest.fixture(scope="module")
def small(mnist):
    """The first 256 training and 100 test images of the bundled split."""
    X, y, Xt, yt = mnist
    return X[:256], y[:256], Xt[:100], yt[:100]


def tiny_model(seed=0):
    return Sequential(flatten=Flatten(), fc=Linear(784, 10, rng=seed))


class Recorder:
    """A hook that records every call and what the model looked like at that moment."""

    def __init__(self, events, tag=""):
        self.events, self.tag = events, tag

    def on_batch(self, model, xb, yb):
        self.events.append(("on_batch" + self.tag, len(xb)))

    def after_backward(self, model):
        # gradients are ready, parameters not yet moved
        self.events.append(("after_backward" + self.tag, float(np.abs(model.fc.grads["weight"]).sum())))

    def after_step(self, model):
        self.events.append(("after_step" + self.tag, model.fc.params["weight"].copy()))


def test_hooks_are_called_in_order(small):
    X, y, _, _ = small
    events = []
    model = tiny_model()
    fit(model, X[:100], y[:100], epochs=2, batch_size=40, optimizer=SGD(model, lr=0.1),
        hooks=[Recorder(events, "1"), Recorder(events, "2")], rng=0, verbose=False)
    names = [e[0] for e in events]
    one_step = ["on_batch1", "on_batch2", "after_backward1", "after_backward2", "after_step1", "after_step2"]
    assert names == one_step * 6  # 2 epochs x ceil(100 / 40) = 3 steps
    assert [e[1] for e in events if e[0] == "on_batch1"] == [40, 40, 20] * 2
    assert all(e[1] > 0 for e in events if e[0] == "after_backward1")
    weights = [e[1] for e in events if e[0] == "after_step1"]
    assert all(not np.array_equal(a, b) for a, b in zip(weights, weights[1:]))  # each step moved w


def test_a_hook_can_edit_the_gradients_and_the_weights(small):
    X, y, _, _ = small

    class FreezeFirstRow:
        def after_backward(self, model):
            model.fc.grads["weight"][0] = 0

        def after_step(self, model):
            model.fc.params["bias"][0] = 7.0

    model = tiny_model()
    row0 = model.fc.params["weight"][0].copy()
    fit(model, X, y, epochs=1, batch_size=64, optimizer=SGD(model, lr=0.1, momentum=0.9),
        hooks=[FreezeFirstRow()], rng=0, verbose=False)
    np.testing.assert_array_equal(model.fc.params["weight"][0], row0)
    assert model.fc.params["bias"][0] == 7.0


def test_same_seed_gives_bit_identical_weights(small):
    X, y, _, _ = small

    def train(seed):
        model = ConvNet(channels=2, rng=seed)
        fit(model, X, y, epochs=1, batch_size=32, optimizer=SGD(model, lr=0.05, momentum=0.9),
            rng=seed, verbose=False)
        return model.state_dict()

    a, b, c = train(3), train(3), train(4)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    assert not np.array_equal(a["fc.weight"], c["fc.weight"])


def test_history_and_training_lowers_the_loss(small):
    X, y, Xt, yt = small
    model = tiny_model()
    h = fit(model, X, y, epochs=3, batch_size=32, optimizer=SGD(model, lr=0.05), rng=0,
            validation=(Xt, yt), verbose=False)
    assert set(h) == {"loss", "train_accuracy", "test_accuracy", "seconds"}
    assert all(len(v) == 3 for v in h.values())
    assert h["loss"][2] < h["loss"][0]
    assert h["test_accuracy"][-1] == evaluate(model, Xt, yt)[1]
    assert h["test_accuracy"][-1] > 0.6  # a linear model on 256 digits: far above chance


def test_augment_is_applied_to_every_batch(small):
    X, y, _, _ = small
    seen = []

    def augment(xb, rng):
        assert isinstance(rng, np.random.Generator)
        seen.append(len(xb))
        return np.zeros_like(xb)  # all-zero images: only the bias can learn

    model = tiny_model()
    w0 = model.fc.params["weight"].copy()
    fit(model, X[:100], y[:100], epochs=1, batch_size=50, optimizer=SGD(model, lr=0.1),
        augment=augment, rng=0, verbose=False)
    assert seen == [50, 50]
    np.testing.assert_array_equal(model.fc.params["weight"], w0)


def test_nan_in_a_batch_names_epoch_step_and_example(small):
    X, y, _, _ = small
    X = X[:100].copy()
    X[37, 0, 5, 5] = np.nan
    # fit draws one permutation per epoch from the rng: find the step holding example 37
    order = np.random.default_rng(0).permutation(100)
    step = int(np.flatnonzero(order == 37)[0]) // 25 + 1
    model = tiny_model()
    with pytest.raises(ValueError, match=rf"epoch 1, step {step}: .*NaN.*X\[37\]"):
        fit(model, X, y[:100], epochs=1, batch_size=25, optimizer=SGD(model, lr=0.1), rng=0, verbose=False)


def test_diverging_loss_stops_with_the_step(small):
    X, y, _, _ = small
    calls = []

    def bad_loss(logits, yb):
        calls.append(1)
        value = np.nan if len(calls) == 3 else 1.0
        return value, np.zeros_like(logits)

    model = tiny_model()
    with pytest.raises(FloatingPointError, match="epoch 1, step 3: the loss is nan"):
        fit(model, X, y, epochs=1, batch_size=32, optimizer=SGD(model, lr=0.1), loss=bad_loss,
            rng=0, verbose=False)


def test_verbose_prints_one_line_per_epoch_and_quiet_prints_nothing(small, capsys):
    X, y, Xt, yt = small
    model = tiny_model()
    fit(model, X, y, epochs=2, batch_size=64, optimizer=SGD(model, lr=0.1), rng=0,
        validation=(Xt, yt), verbose=False)
    assert capsys.readouterr().out == ""
    fit(model, X, y, epochs=2, batch_size=64, optimizer=SGD(model, lr=0.1), rng=0,
        validation=(Xt, yt), verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for i, line in enumerate(lines, start=1):
        assert line.split()[:2] == ["epoch", str(i)]
        for word in ("loss", "train acc", "test acc"):
            assert word in line
        assert line.endswith("s")


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(epochs=1.5), TypeError, "epochs must be an integer"),
    (dict(batch_size=0), ValueError, "batch_size must be >= 1"),
    (dict(rng=None), TypeError, "rng must be a numpy Generator or an int seed"),
])
def test_fit_arguments_are_validated(small, kwargs, error, match):
    X, y, _, _ = small
    model = tiny_model()
    args = dict(epochs=1, batch_size=32, optimizer=SGD(model, lr=0.1), rng=0, verbose=False) | kwargs
    with pytest.raises(error, match=match):
        fit(model, X, y, **args)


def test_fit_refuses_mismatched_or_empty_data(small):
    X, y, _, _ = small
    model = tiny_model()
    opt = SGD(model, lr=0.1)
    with pytest.raises(ValueError, match="same length; got 256 and 255"):
        fit(model, X, y[:-1], epochs=1, batch_size=8, optimizer=opt, rng=0)
    with pytest.raises(ValueError, match="X is empty"):
        fit(model, X[:0], y[:0], epochs=1, batch_size=8, optimizer=opt, rng=0)


# ----------------------------------------------------------------------------- evaluate
def test_evaluate_and_predict_hand_case():
    # a Linear that copies its 2 inputs to 2 logits: the argmax is the larger input
    model = Linear(2, 2, rng=0).to(np.float64)
    model.params["weight"][...] = np.eye(2)
    model.params["bias"][...] = 0
    X = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [0.0, 3.0]])
    y = np.array([0, 1, 1, 1])
    np.testing.assert_array_equal(predict(model, X, batch_size=3), X)  # batches of 3 + 1
    loss, acc = evaluate(model, X, y)
    assert acc == 0.75
    expected = -np.mean([X[i, y[i]] - np.log(np.exp(X[i]).sum()) for i in range(4)])
    assert loss == pytest.approx(expected, rel=1e-12)


@given(st.integers(0, 50), st.integers(1, 20), st.integers(0, 99))
def test_minibatches_cover_every_index_once(n, batch_size, seed):
    batches = list(minibatches(n, batch_size, rng=seed))
    assert sorted(np.concatenate(batches).tolist() if batches else []) == list(range(n))
    assert all(len(b) == batch_size for b in batches[:-1])
    assert len(batches) == -(-n // batch_size)
    unshuffled = list(minibatches(n, batch_size, shuffle=False))
    assert (np.concatenate(unshuffled).tolist() if unshuffled else []) == list(range(n))


def test_minibatches_need_an_rng_to_shuffle():
    with pytest.raises(TypeError, match="rng must be"):
        list(minibatches(10, 3))


# ----------------------------------------------------------------------------- optimizer, parameters
def test_fit_accepts_only_an_optimizer_on_the_models_own_arrays(small):
    X, y, _, _ = small
    model, other = tiny_model(0), tiny_model(1)
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"optimizer does not hold this model's parameters: it updates 2 "
                                         r"array\(s\), 0 of them among the model's 2"):
        fit(model, X, y, epochs=1, batch_size=64, optimizer=SGD(other, 0.1), rng=0, verbose=False)
    assert all(np.array_equal(p, before[k]) for k, p in model.named_parameters())
    # the same model, even after a layer is replaced, is fine: the optimizer reads it live
    opt = SGD(model, 0.1)
    model.fc = Linear(784, 10, rng=3)
    fit(model, X, y, epochs=1, batch_size=64, optimizer=opt, rng=0, verbose=False)


def test_fit_checks_the_parameters_after_every_step(small):
    X, y, _, _ = small

    class Poison:  # a hook that breaks the weights after the last update
        def after_step(self, model):
            model.fc.params["bias"][3] = np.nan

    model = tiny_model()
    with pytest.raises(FloatingPointError, match=r"epoch 1, step 1: after the update, parameter 'fc.bias' "
                                                 r"holds 1 non-finite value\(s\)"):
        fit(model, X[:8], y[:8], epochs=1, batch_size=8, optimizer=SGD(model, 0.1), hooks=[Poison()],
            rng=0, verbose=False)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(hooks=[object()]), TypeError, r"hooks\[0\] has none of the hook methods"),
    (dict(hooks=3), TypeError, "hooks must be a list of hook objects; got int"),
    (dict(loss="ce"), TypeError, "loss must be a loss function"),
    (dict(augment=1), TypeError, "augment must be a function"),
    (dict(validation=(np.zeros((2, 784)),)), TypeError, r"validation must be a pair \(X_test, y_test\)"),
    (dict(validation=(np.zeros((2, 784)), np.zeros(3, int))), ValueError, "got 2 and 3"),
    (dict(verbose=1), TypeError, "verbose must be True or False; got 1"),
    (dict(rng=-1), ValueError, "rng must be a numpy Generator or an int seed >= 0; got -1"),
])
def test_fit_checks_every_argument_before_training(small, kwargs, error, match):
    X, y, _, _ = small
    model = tiny_model()
    args = dict(epochs=1, batch_size=64, optimizer=SGD(model, 0.1), rng=0, verbose=False)
    with pytest.raises(error, match=match):
        fit(model, X, y, **{**args, **kwargs})


@pytest.mark.parametrize("call, error, match", [
    (lambda: minibatches(-1, 2, rng=0), ValueError, "n must be >= 0; got -1"),       # when called,
    (lambda: minibatches(4, 2, shuffle="no"), TypeError, "shuffle must be True or False"),  # not later
    (lambda: predict("model", np.zeros((1, 784))), TypeError, "model must be a minicompress Module"),
    (lambda: predict(tiny_model(), [[0.0] * 784]), TypeError, "X must be a numpy array; got"),
    (lambda: evaluate(tiny_model(), np.zeros((2, 784)), None), TypeError,
     "y must be a numpy array; got None"),
])
def test_helpers_check_their_arguments_when_called(call, error, match):
    with pytest.raises(error, match=match):
        call()
