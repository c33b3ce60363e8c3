"""combine.deep_compression end to end on a small MLP: prune -> fine-tune -> k-means -> fine-tune
centroids -> Huffman; the stored model is one of the stored-weight family, saves to a real
npz whose bits equal model_size_bits, reloads to the same logits, and bad input is refused."""

import numpy as np
import pytest

from minicompress import formats as F
from minicompress import metrics
from minicompress.combine import deep_compression, deep_compression_table
from minicompress.formats import CompressedLinear
from minicompress.nn import MLP


@pytest.fixture(scope="module")
def small(mnist):
    X, y, Xt, yt = mnist
    model = MLP([784, 40, 10], rng=0)
    from minicompress.nn import SGD, fit

    fit(model, X[:800], y[:800], epochs=2, batch_size=64, optimizer=SGD(model, 0.01, momentum=0.9), rng=0,
        verbose=False)
    out, report = deep_compression(model, X[:800], y[:800], sparsity={"fc1": 0.9, "fc2": 0.5}, bits=3,
                                   epochs=1, centroid_epochs=1, validation=(Xt[:200], yt[:200]), rng=0)
    return model, out, report, (Xt[:200], yt[:200])


def test_every_layer_is_pruned_shared_and_huffman_coded(small):
    model, out, report, _ = small
    for name, sparsity in (("fc1", 0.9), ("fc2", 0.5)):
        layer = out.get_submodule(name)
        assert isinstance(layer, CompressedLinear) and layer.encodings()["weight"].fmt == "huffman"
        w = layer.dense_weight()
        assert np.mean(w == 0) >= sparsity
        assert np.unique(w[w != 0]).size <= 2**3  # every weight tied to one of 8 centroids
    assert isinstance(model.fc1.params["weight"], np.ndarray)  # the input model is untouched
    assert np.mean(model.fc1.params["weight"] == 0) == 0


def test_report_is_table_2_and_its_sizes_are_the_encodings(small):
    _, out, report, _ = small
    rows = {r["layer"]: r for r in report["layers"]}
    fc1 = rows["fc1"]
    enc = out.fc1.encodings()["weight"]
    assert fc1["size_bits"]["P+Q+H"] == enc.bits
    assert fc1["rate"]["P+Q+H"] == enc.bits / (32 * 784 * 40)
    assert fc1["index_bits"]["P+Q"] == 5 and fc1["weight_bits"]["P+Q"] <= 4  # 8 values + the zero
    assert fc1["kept"] == enc.field("z") / (784 * 40) <= 0.1
    assert fc1["size_bits"]["P+Q+H"] < fc1["size_bits"]["P+Q"]
    total = report["total"]["size_bits"]["P+Q+H"]
    assert report["size_bits"] == metrics.model_size_bits(out, "auto").total == total
    assert report["reference_size_bits"] == 32 * (784 * 40 + 40 + 40 * 10 + 10) + 32 * 6
    assert set(report["accuracy"]) == {"dense", "pruned", "shared", "fine-tuned centroids", "huffman"}
    table = deep_compression_table(report)
    assert table.count("\n") == 4 and "| fc1 | 31,360 |" in table and "| total |" in table


def test_saved_file_holds_the_accounted_bits_and_reloads_to_the_same_logits(small, tmp_path):
    model, out, report, (X, _) = small
    encodings = F.save_model(tmp_path / "m.npz", out, "auto")
    assert sum(e.bits for e in encodings.values()) == metrics.model_size_bits(out, "auto").total
    with np.load(tmp_path / "m.npz", allow_pickle=False) as data:
        assert 8 * sum(data[k].nbytes for k in data.files) == report["size_bits"]
    fresh, _ = deep_compression(model, X[:50], np.zeros(50, np.int64), sparsity=0.5, bits=2, epochs=0,
                                centroid_epochs=0, rng=1)
    F.load_model(tmp_path / "m.npz", fresh)
    assert np.array_equal(fresh(X), out(X))
    plain = F.load_model(tmp_path / "m.npz", MLP([784, 40, 10], rng=5))  # a float model: decoded weights
    assert np.array_equal(plain(X), out(X))


def test_a_corrupted_stream_in_a_file_names_the_file_and_key_and_changes_nothing(small, tmp_path):
    _, out, _, (X, _) = small
    path = tmp_path / "m.npz"
    F.save_model(path, out, "auto")
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k].copy() for k in data.files}
    arrays["fc2.weight/huffman/stream"][0] ^= 0x01
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    before = out(X)
    with pytest.raises(ValueError, match=r"bad\.npz: key 'fc2\.weight' stored as 'huffman'.*CRC"):
        F.load_model(bad, out)
    assert np.array_equal(out(X), before)


def test_same_seed_same_model(mnist):
    X, y, _, _ = mnist
    model = MLP([784, 16, 10], rng=0)
    runs = [deep_compression(model, X[:300], y[:300], sparsity=0.8, bits=2, epochs=1, centroid_epochs=1,
                             rng=3)[0] for _ in range(2)]
    a, b = (r.fc1.encodings()["weight"].arrays for r in runs)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_quantization_only_stores_a_codebook(mnist):
    X, y, _, _ = mnist
    out, report = deep_compression(MLP([784, 16, 10], rng=0), X[:100], y[:100], sparsity=0.0, bits=2,
                                   epochs=0, centroid_epochs=0, fmt="codebook")
    enc = out.fc1.encodings()["weight"]
    assert enc.fmt == "codebook" and enc.payload_bits == 8 * 784 * 16 * 2 // 8 + 4 * 32  # r's denominator
    assert report["layers"][0]["kept"] == 1.0


def test_bad_input_is_refused(mnist):
    X, y, _, _ = mnist
    model = MLP([784, 16, 10], rng=0)
    args = (model, X[:50], y[:50])
    with pytest.raises(ValueError, match="bits\\['fc1'\\] must be in 1..16; got 17"):
        deep_compression(*args, sparsity=0.5, bits={"fc1": 17})
    with pytest.raises(ValueError, match="bits names \\['fc9'\\]"):
        deep_compression(*args, sparsity=0.5, bits={"fc9": 4})
    with pytest.raises(ValueError, match="sparsity names layers \\['fc2'\\] that bits does not compress"):
        deep_compression(*args, sparsity={"fc2": 0.5}, bits={"fc1": 4})
    with pytest.raises(ValueError, match="index_bits must be >= 1"):
        deep_compression(*args, sparsity=0.5, bits=4, index_bits=0, epochs=0)
    with pytest.raises(ValueError, match="sparsity must be in"):
        deep_compression(*args, sparsity=1.0, bits=4)
    with pytest.raises(ValueError, match="layer 'fc1': bits=16 asks for 65536 clusters"):
        deep_compression(*args, sparsity=0.5, bits=16, epochs=0)
    bad = MLP([784, 16, 10], rng=0)
    bad.fc2.params["weight"][0, 0] = np.nan
    with pytest.raises(ValueError, match="the model's fc2.weight contains 1 non-finite"):
        deep_compression(bad, X[:50], y[:50], sparsity=0.5, bits=2)


def test_auto_index_bits_pick_the_smallest_huffman_encoding(mnist):
    X, y, _, _ = mnist
    out, report = deep_compression(MLP([784, 16, 10], rng=0), X[:100], y[:100], sparsity=0.9, bits=2,
                                   index_bits="auto", epochs=0, centroid_epochs=0)
    w = out.fc1.dense_weight()
    sizes = {b: F.size_bits(w, "huffman", index_bits=b) for b in range(1, 17)}
    assert out.fc1.encodings()["weight"].bits == min(sizes.values())
    assert report["index_bits"]["fc1"] == min(sizes, key=sizes.get)
