"""minicompress.combine: storage of pruned + quantized weights (closed forms), the
combinations, the sensitivity table, the greedy search and auto_compress."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import small_shapes

from minicompress import Linear, Sequential, Split, formats, metrics
from minicompress.combine import (
    LayerPlan,
    auto_compress,
    compress,
    compress_weight,
    factorize_then_quantize,
    greedy_path,
    prune_then_quantize,
    sensitivity,
    validation_split,
)
from minicompress.combine.auto import estimated_losses, option_grid
from minicompress.formats import CompressedLinear
from minicompress.formats.symmetric import symmetric_quantize
from minicompress.nn import MLP
from minicompress.prune import magnitude_mask


def ceil8(bits: int) -> int:
    """Whole bytes, in bits."""
    return 8 * -(-bits // 8)


def width(v: int) -> int:
    """formats' index width: the smallest of 8/16/32 bits holding v."""
    return 8 if v <= 255 else 16 if v <= 65535 else 32


def closed_form(shape, z, b, storage, c) -> int:
    """The sizes of formats' table for a combination's storages, written out independently:
    dense = "int" (b-bit codes) or "fp32"; bitmask and csr carry the value bits in their header."""
    n, d = int(np.prod(shape)), len(shape)
    m, k = (1, n) if d == 1 else (shape[0], n // shape[0])  # matrix_view
    values = ceil8(z * b) if b < 32 else 32 * z
    scales = 32 * c if b < 32 else 0
    if storage == "dense":
        return (32 * (d + 1) + ceil8(n * b) + scales) if b < 32 else 32 * d + 32 * n
    if storage == "bitmask":
        return 32 * (d + 1) + ceil8(n) + values + scales
    return 32 * (d + 2) + z * width(k - 1) + (m + 1) * width(z) + values + scales


# ----------------------------------------------------------------------------- storage
def test_storage_by_hand():
    # 2 x 8 weight, 4 survivors, 8 bits, one scale per row: bitmask = 96 header (2 dims and
    # the value bits) + 16 mask bits (2 bytes) + 4 codes * 8 + 2 scales * 32 = 208 bits
    w = np.zeros((2, 8), np.float32)
    w[0, [1, 5]] = [0.5, -1.0]
    w[1, [0, 7]] = [2.0, 0.25]
    enc = compress_weight(w, 8, storage="bitmask")
    assert enc.fmt == "bitmask" and enc.bits == 96 + 16 + 32 + 64 == 208
    codes, scale = symmetric_quantize(w, 8, per_channel=True)
    assert codes.tolist()[0] == [0, 64, 0, 0, 0, -127, 0, 0]  # 0.5 / 1.0 * 127 = 63.5 -> 64 (even)
    assert enc.arrays["values"].view(np.int8).tolist() == [64, -127, 127, 16]
    dense = compress_weight(w, 8, storage="dense")
    assert dense.fmt == "int" and dense.bits == formats.size_bits(w, "int8_channel")
    assert compress_weight(w, 8, storage="csr").bits == formats.size_bits(w, "csr", bits=8)
    assert compress_weight(w, 8).fmt == "bitmask"  # auto: 208 < csr 280 < dense 288


def test_survivor_rounding_to_zero_is_not_stored():
    w = np.array([[1.0, 0.003, 0.0, -0.5]], np.float32)  # 0.003 * 127 = 0.38 -> code 0
    enc = compress_weight(w, 8, storage="bitmask", per_channel=False)
    assert np.unpackbits(enc.arrays["mask"], count=4).tolist() == [1, 0, 0, 1]
    assert enc.decode()[0, 1] == 0.0


@st.composite
def sparse_weights(draw):
    shape = draw(small_shapes(min_dims=1, max_dims=4, max_side=7))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    w = rng.standard_normal(shape).astype(np.float32)
    w[rng.random(shape) < draw(st.floats(0.0, 0.99))] = 0
    return w


@given(sparse_weights(), st.sampled_from([2, 3, 4, 5, 8, 12, 32]),
       st.sampled_from(["dense", "bitmask", "csr"]), st.booleans())
def test_storage_equals_closed_form_and_zeros_stay_zero(w, bits, storage, per_channel):
    enc = compress_weight(w, bits, storage=storage, per_channel=per_channel)
    c = w.shape[0] if per_channel else 1
    z = int(np.count_nonzero(symmetric_quantize(w, bits, per_channel=per_channel)[0])) if bits < 32 else \
        int(np.count_nonzero(w))
    assert enc.bits == closed_form(w.shape, z, bits, storage, c)
    decoded = enc.decode()
    assert decoded.dtype == np.float32 and decoded.shape == w.shape
    assert np.all(decoded[w == 0] == 0)  # pruned zeros decode to exactly 0
    if bits == 32:
        assert np.array_equal(decoded, w)
    else:  # round trip within half a step: scale / (2 qmax), scale = max|w| of the channel
        qmax = 2 ** (bits - 1) - 1
        amax = np.abs(w.reshape(w.shape[0], -1)).max(axis=1) if per_channel else np.abs(w).max()
        step = np.where(amax > 0, amax, 1.0) / qmax
        err = np.abs(decoded - w).reshape(w.shape[0], -1) if per_channel else np.abs(decoded - w)
        assert np.all(err <= (step[:, None] if per_channel else step) / 2 * (1 + 1e-5) + 1e-7)


# ----------------------------------------------------------------------------- combinations
def test_prune_then_quantize_keeps_zeros_and_size_is_closed_form(mnist):
    model = MLP([784, 32, 10], rng=0)
    original = {n: model.get_submodule(n).params["weight"].copy() for n in ("fc1", "fc2")}
    data = (mnist.X_train[:256], mnist.y_train[:256])
    out = prune_then_quantize(model, 0.75, bits=8, data=data, epochs=1, storage="bitmask")
    untuned = prune_then_quantize(model, 0.75, bits=8, epochs=0, storage="bitmask")
    assert np.array_equal(model.fc1.params["weight"], original["fc1"])  # input untouched
    total = 0
    for name, w0 in original.items():
        layer = out.get_submodule(name)
        assert isinstance(layer, CompressedLinear)
        pruned = ~magnitude_mask(w0, 0.75)
        assert pruned.sum() == int(0.75 * w0.size)
        w = layer.dense_weight()
        assert np.all(w[pruned] == 0)  # held through FT and quantization
        # fine-tuning moved the survivors (the mask hook did not freeze them)
        assert not np.array_equal(w, untuned.get_submodule(name).dense_weight())
        z = int(np.count_nonzero(w))
        m, n = w0.shape  # header 3 x 32, mask n bits, 8 bits per survivor, m float32 scales, bias
        expected = 96 + ceil8(m * n) + 8 * z + 32 * m + (32 + 32 * m)
        assert layer.storage_bits() == expected
        total += expected
    assert metrics.model_size_bits(out, "auto").total == total
    assert metrics.flops(out, (1, 28, 28)).effective == sum(
        int(np.count_nonzero(out.get_submodule(n).dense_weight())) for n in original)


def test_global_scope_and_factorize_then_quantize(mnist):
    model = MLP([784, 32, 10], rng=0)
    out = compress(model, {"fc1": LayerPlan(0.5), "fc2": LayerPlan(0.5)}, epochs=0, scope="global")
    kept = sum(int(np.count_nonzero(out.get_submodule(n).dense_weight())) for n in ("fc1", "fc2"))
    assert kept == 784 * 32 + 320 - int(0.5 * (784 * 32 + 320))  # one threshold, float32 kept
    with pytest.raises(ValueError, match="one sparsity"):
        compress(model, {"fc1": LayerPlan(0.5), "fc2": LayerPlan(0.9)}, epochs=0, scope="global")
    fq = factorize_then_quantize(model, {"fc1": 4}, bits=8, epochs=0)
    layers = {n: m for n, m in fq.named_modules() if isinstance(m, CompressedLinear)}
    assert sorted(layers) == ["fc1.u", "fc1.v", "fc2"]
    # each factor stored dense int8 with per-row scales: formats' "int" at 8 bits, as int8_channel
    for layer in layers.values():
        bias = layer.encodings().get("bias")
        w = layer.encodings()["weight"]
        assert w.fmt == "int" and w.field("bits") == 8
        assert layer.storage_bits() == formats.size_bits(layer.dense_weight(), "int8_channel") + (
            0 if bias is None else bias.bits)


# ----------------------------------------------------------------------------- sensitivity
def hand_model():
    """Linear(8 -> 2) on one-hot inputs e_i, all labelled 0: logits (w_i, 0.05), so example
    i is right iff the decoded w_i > 0.05.  Row 0 = 0.1, 0.2, ..., 0.8; row 1 = 0."""
    fc = Linear(8, 2)
    fc.params["weight"][...] = np.stack([np.arange(1, 9) / 10, np.zeros(8)])
    fc.params["bias"][...] = [0.0, 0.05]
    return Sequential(fc=fc), np.eye(8, dtype=np.float32), np.zeros(8, dtype=np.int64)


def test_sensitivity_by_hand():
    model, X, y = hand_model()
    t = sensitivity(model, X, y, sparsities=(0.5, 0.625, 0.75, 0.9), bits=(8, 4, 3, 2))
    assert t["layers"] == ["fc"] and t["weights"].tolist() == [16]
    assert t["dense_accuracy"] == 1.0
    # k = floor(16 s) smallest |w| pruned: the 8 zeros first, then 0.1, 0.2, ...
    # k = 8, 10, 12, 14 -> 0, 2, 4, 6 examples lost
    assert t["prune_accuracy"].tolist() == [[1.0, 6 / 8, 4 / 8, 2 / 8]]
    # per channel, scale 0.8: codes round(w / 0.8 * qmax); b=3 (qmax 3): 0.1 -> 0.375 -> 0;
    # b=2 (qmax 1): 0.1..0.4 -> 0 (0.5 rounds to even 0), 0.5..0.8 -> 1
    assert t["quant_accuracy"].tolist() == [[1.0, 1.0, 7 / 8, 4 / 8]]
    assert np.array_equal(model.fc.params["weight"][0], np.arange(1, 9, dtype=np.float32) / 10)


def test_sensitivity_shapes_and_sanity(mnist):
    model = MLP([784, 16, 10], rng=0)
    X, y = mnist.X_train[:200], mnist.y_train[:200]
    t = sensitivity(model, X, y, sparsities=(0.0, 0.5, 0.99), bits=(8, 2))
    assert t["prune_accuracy"].shape == (2, 3) and t["quant_accuracy"].shape == (2, 2)
    assert np.all(t["prune_accuracy"][:, 0] == t["dense_accuracy"])  # sparsity 0 changes nothing
    assert np.all((0 <= t["quant_accuracy"]) & (t["quant_accuracy"] <= 1))


# ----------------------------------------------------------------------------- the search
def test_greedy_path_by_hand():
    sizes = [[100, 50, 10], [40, 20, 30]]
    losses = [[0, 0.5, 3], [0, 0.1, 0.2]]
    # step 1: layer 1 -> option 1 saves 20 for 0.1 (200 bits/point) beats 50 / 0.5 = 100;
    # step 2: layer 0 -> 1 (100 > 90/3 = 30); step 3: layer 0 -> 2 (40 / 2.5); then nothing smaller
    assert greedy_path(sizes, losses, eps=0.01) == [(0, 0), (0, 1), (1, 1), (2, 1)]


def test_greedy_path_ties_go_to_the_first_layer_then_the_first_option():
    # two layers with the same move: the first layer moves first
    assert greedy_path([[10, 5], [10, 5]], [[0, 1], [0, 1]], eps=0.01) == [(0, 0), (1, 0), (1, 1)]
    # two options with the same score in one layer: the first option
    assert greedy_path([[10, 6, 2]], [[0, 1, 2]], eps=0.01) == [(0,), (1,), (2,)]
    # a tie across layers at different options: the layer decides first, not the option
    # (layer 0 -> option 2 and layer 1 -> option 1 both save 5 bits for 1 point)
    assert greedy_path([[10, 8, 5], [10, 5, 9]], [[0, 1, 1], [0, 1, 1]], eps=0.01) == [
        (0, 0), (2, 0), (2, 1)]


@given(st.integers(1, 4), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_greedy_path_sizes_strictly_decrease(layers, options, seed):
    rng = np.random.default_rng(seed)
    sizes, losses = rng.integers(1, 100, (layers, options)), rng.random((layers, options))
    path = greedy_path(sizes, losses, eps=1e-3)
    totals = [sum(sizes[i, o] for i, o in enumerate(state)) for state in path]
    assert path[0] == (0,) * layers
    assert all(a > b for a, b in zip(totals, totals[1:]))
    final = path[-1]  # no layer can get smaller at the end
    assert all(sizes[i, o] == sizes[i].min() for i, o in enumerate(final))


def test_estimated_losses_by_hand():
    table = {"layers": ["a"], "sparsities": np.array([0.5, 0.9]), "bits": np.array([8, 4]),
             "dense_accuracy": 0.9, "prune_accuracy": np.array([[0.85, 0.87]]),
             "quant_accuracy": np.array([[0.91, 0.8]])}
    options = option_grid(table["sparsities"], table["bits"])
    assert options[:4] == [(0.0, 32), (0.0, 8), (0.0, 4), (0.5, 32)]
    est = dict(zip(options, estimated_losses(table, options)[0]))
    assert est[(0.5, 32)] == pytest.approx(5.0)
    assert est[(0.9, 32)] == pytest.approx(5.0)  # 3.0 measured, but harsher never costs less
    assert est[(0.0, 8)] == 0.0  # a gain counts as no loss
    assert est[(0.9, 4)] == pytest.approx(15.0)  # losses add
    with pytest.raises(ValueError, match=r"options\[1\] = \(0.7, 32\): 0.7 is not among the table's "
                                         r"sparsities"):
        estimated_losses(table, [(0.0, 32), (0.7, 32)])  # an unmeasured setting has no estimate
    with pytest.raises(ValueError, match=r"6 is not among the table's bits"):
        estimated_losses(table, [(0.5, 6)])


def test_validation_split_is_disjoint_and_seeded():
    X, y = np.arange(20.0)[:, None], np.arange(20)
    (Xf, yf), (Xv, yv) = validation_split(X, y, 0.25, rng=3)
    assert len(yv) == 5 and len(yf) == 15 and not set(yv) & set(yf)
    assert np.array_equal(yv, validation_split(X, y, 0.25, rng=3)[1][1])


@pytest.mark.slow
def test_auto_compress_respects_budget_on_validation_and_is_deterministic(trained_lenet300, mnist):
    data = Split(mnist.X_train[:1000], mnist.y_train[:1000], mnist.X_test[:500], mnist.y_test[:500])
    kw = dict(max_accuracy_loss=0.5, sparsities=(0.5, 0.9, 0.98), bits=(8, 4, 2), max_verifications=3,
              epochs=1, rng=7)
    out, rep = auto_compress(trained_lenet300, data, **kw)
    (_, _), (Xv, yv) = validation_split(data.X_train, data.y_train, 0.2, rng=7)
    ref, acc = metrics.accuracy(trained_lenet300, Xv, yv), metrics.accuracy(out, Xv, yv)
    assert rep["validation"]["reference_accuracy"] == ref and rep["validation"]["accuracy"] == acc
    assert 100 * (ref - acc) <= 0.5 + 1e-9
    assert rep["test"]["accuracy"] == metrics.accuracy(out, data.X_test, data.y_test)
    assert rep["size_bits"] == metrics.model_size_bits(out, "auto").total < rep["reference_size_bits"]
    chosen = [r for r in rep["verified"] if r["step"] == rep["chosen_step"]]
    assert chosen and chosen[0]["passed"]
    assert all(r["passed"] == (r["loss_points"] <= 0.5 + 1e-9) for r in rep["verified"])
    assert all(r["step"] <= rep["chosen_step"] for r in rep["verified"] if r["passed"])
    out2, rep2 = auto_compress(trained_lenet300, data, **kw)
    assert rep2["plan"] == rep["plan"] and rep2["verified"] == rep["verified"]
    for (n1, a), (n2, b) in zip(out.named_parameters(), out2.named_parameters()):
        assert n1 == n2 and np.array_equal(a, b)


# ----------------------------------------------------------------------------- bad input
def test_bad_input_is_refused_with_clear_errors(mnist):
    model = MLP([784, 16, 10], rng=0)
    data = (mnist.X_train[:64], mnist.y_train[:64])
    with pytest.raises(ValueError, match=r"sparsity must be in \[0.0, 1.0\); got 1.2"):
        prune_then_quantize(model, 1.2, data=data)
    with pytest.raises(ValueError, match=r"bits must be in 2..16; got 17 \(or 32: float32"):
        prune_then_quantize(model, 0.5, bits=17, data=data)
    with pytest.raises(ValueError, match="needs data=.*epochs=0"):
        prune_then_quantize(model, 0.5)
    with pytest.raises(ValueError, match=r"'conv1'.*\['fc1', 'fc2'\]"):
        compress(model, {"conv1": LayerPlan(0.5)}, epochs=0)
    with pytest.raises(TypeError, match="ranks must be a non-empty dict"):
        factorize_then_quantize(model, 4, epochs=0)
    with pytest.raises(ValueError, match="storage must be one of"):
        compress_weight(np.ones((2, 2), np.float32), 8, storage="zip")
    with pytest.raises(TypeError, match="float numpy array"):
        compress_weight(np.ones((2, 2), np.int64))
    with pytest.raises(ValueError, match="same length"):
        sensitivity(model, mnist.X_train[:10], mnist.y_train[:9])
    with pytest.raises(ValueError, match=r"bits\[i\] must be in 2..16; got 32 \(32, the unquantized model"):
        sensitivity(model, *data, bits=(8, 32))
    with pytest.raises(ValueError, match=r"fraction must be in \(0.0, 1.0\)"):
        validation_split(*data, fraction=1.0)
    split = Split(*data, mnist.X_test[:10], mnist.y_test[:10])
    with pytest.raises(ValueError, match="max_accuracy_loss must be in"):
        auto_compress(model, split, max_accuracy_loss=-1)
    with pytest.raises(TypeError, match="data must be a Split"):
        auto_compress(model, data, max_accuracy_loss=1.0)
    with pytest.raises(NotImplementedError, match="for inference"):
        compress(model, {"fc2": LayerPlan(bits=8)}, epochs=0).fc2.backward(np.ones((1, 10)))
