"""One stored-weight family: every layer that holds a compressed weight holds a formats
encoding, takes its size from it, and a saved model reloads to bit-identical logits."""

import copy

import numpy as np
import pytest

from minicompress import formats as F
from minicompress.formats import CompressedConv2d, CompressedLinear, SparseLinear, StoredLayer
from minicompress.formats.io import model_encodings
from minicompress.metrics import model_size_bits
from minicompress.nn import ConvNet, Linear, Sequential
from minicompress.nn.layers import Conv2d, replace_layers
from minicompress.prune import prune_model
from minicompress.quantize import (
    integer_only,
    kmeans_dequantize,
    kmeans_quantize,
    prepare_qat,
    quantize_dynamic,
    quantize_weights,
)


def _images(n=6, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 1, 28, 28)).astype(np.float32)


def _pruned_convnet(seed=0):
    model = ConvNet(rng=seed)
    prune_model(model, 0.8, scope="layer")
    return model


def _every_layer(fmt, **options):
    def make(model):
        return replace_layers(model, (Linear, Conv2d), lambda layer: F.compress_layer(layer, fmt, **options))
    return make


def _shared_layers(fmt, bits=3, **options):
    """Every layer's surviving weights shared into 2**bits values by k-means, stored in fmt."""
    def share(layer):
        w = layer.params["weight"]
        w[...] = kmeans_dequantize(*kmeans_quantize(w, bits, mask=w != 0))
        return F.compress_layer(layer, fmt, **options)
    return lambda model: replace_layers(model, (Linear, Conv2d), share)


#: every way the library stores a model's weights: (name, builder of the stored model)
STORED = {
    "fp16": _every_layer("fp16"),
    "int 4-bit": _every_layer("int", bits=4),
    "int8": _every_layer("int8"),
    "int8_channel": _every_layer("int8_channel"),
    "bitmask": _every_layer("bitmask"),
    "bitmask 4-bit": _every_layer("bitmask", bits=4),
    "csr": _every_layer("csr"),
    "csr 6-bit": _every_layer("csr", bits=6),
    "lowrank r=3": _every_layer("lowrank", rank=3),
    "binary": lambda m: quantize_weights(m, "binary"),
    "ternary": lambda m: quantize_weights(m, "ternary"),
    "CSR kernels": lambda m: F.to_sparse(m),
    "dynamic int8": lambda m: quantize_dynamic(m),
    "integer-only": lambda m: integer_only(m, _images(20, seed=5)),
    "codebook 3-bit": _shared_layers("codebook"),
    "relative 3-bit": _shared_layers("relative", index_bits=4),
    "huffman 3-bit": _shared_layers("huffman", index_bits=4),
}


@pytest.mark.parametrize("name", list(STORED))
def test_saved_model_reloads_to_bit_identical_logits(tmp_path, name):
    stored = STORED[name](_pruned_convnet(0))
    other = STORED[name](_pruned_convnet(1))  # same structure, other numbers
    x = _images()
    before = stored(x)
    encodings = F.save_model(tmp_path / "m.npz", stored, "auto")
    assert sum(e.bits for e in encodings.values()) == model_size_bits(stored, "auto").total
    F.load_model(tmp_path / "m.npz", other)
    assert np.array_equal(other(x), before), name
    assert model_size_bits(other, "auto").total == model_size_bits(stored, "auto").total


@pytest.mark.parametrize("fmt,options", [("fp32", {}), ("fp16", {}), ("int", {"bits": 3}), ("int8", {}),
                                         ("int8_channel", {}), ("bitmask", {}), ("bitmask", {"bits": 5}),
                                         ("csr", {}), ("csr", {"bits": 8}), ("lowrank", {"rank": 4})])
def test_plain_model_saved_in_a_format_loads_as_its_compressed_twin(tmp_path, fmt, options):
    """save_model(model, fmt) then load_model into a float model computes exactly what the
    in-memory model with every weight stored in fmt computes."""
    model = _pruned_convnet(0)
    F.save_model(tmp_path / "m.npz", model, fmt, **options)
    loaded = F.load_model(tmp_path / "m.npz", ConvNet(rng=9))
    twin = _every_layer(fmt, **options)(model)
    x = _images()
    assert np.array_equal(loaded(x), twin(x))


def test_every_stored_weight_layer_is_one_family():
    model = _pruned_convnet(0)
    names = ("int8", "binary", "CSR kernels", "dynamic int8", "integer-only")
    stored = [STORED[name](model) for name in names]
    for m in stored:
        layers = [layer for _, layer in m.named_modules() if layer.params.get("weight") is None
                  and hasattr(layer, "weight_shape")]
        assert layers and all(isinstance(layer, StoredLayer) for layer in layers)
        for layer in layers:  # the size is the encodings', nothing else
            assert layer.storage_bits() == sum(e.bits for e in layer.encodings().values())
            assert not layer.params  # frozen: nothing for an optimiser


def test_qat_layers_count_the_size_of_what_they_deploy():
    qat = prepare_qat(_pruned_convnet(0), "ternary")
    deployed = qat.fc.to_quantized()
    assert isinstance(deployed, CompressedLinear)
    assert qat.fc.storage_bits() == deployed.storage_bits()


def test_stored_layer_refuses_a_mismatched_encoding_and_stays_as_it_was():
    layer = CompressedConv2d.from_layer(Conv2d(1, 4, 3), "int8_channel")
    x = _images(2)
    before = layer(x)
    bad = F.encode(np.ones((4, 1, 3, 3), np.float32), "int8")  # other format
    with pytest.raises(ValueError, match="'int8_channel'"):
        layer.load_encodings({**layer.encodings(), "weight": bad})
    with pytest.raises(ValueError, match="stores"):
        layer.load_encodings({"weight": layer.encodings()["weight"]})
    assert np.array_equal(layer(x), before)
    with pytest.raises(ValueError, match="4-D"):
        CompressedConv2d(F.encode(np.ones((4, 9), np.float32), "fp32"))
    with pytest.raises(TypeError, match="Encoding"):
        CompressedLinear(np.ones((2, 2), np.float32))
    with pytest.raises(ValueError, match="'csr' encoding of float values"):
        SparseLinear(F.encode(np.ones((2, 2), np.float32), "csr", bits=4))


def test_load_refuses_a_file_whose_layer_is_stored_in_another_format(tmp_path):
    model = STORED["int8"](_pruned_convnet(0))
    F.save_model(tmp_path / "m.npz", model, "auto")
    target = STORED["csr"](_pruned_convnet(1))
    snapshot = copy.deepcopy(target)
    with pytest.raises(ValueError, match="stored as 'int8'.*holds 'csr'"):
        F.load_model(tmp_path / "m.npz", target)
    x = _images()
    assert np.array_equal(target(x), snapshot(x))


def test_model_encodings_names_every_stored_array():
    model = Sequential(fc=Linear(4, 3))
    assert set(model_encodings(model)) == {"fc.weight", "fc.bias"}
    im = integer_only(Sequential(fc=Linear(4, 3)), np.ones((5, 4), np.float32))
    assert set(model_encodings(im)) == {"quant.scale", "quant.zero_point", "fc.weight", "fc.bias",
                                          "fc.multiplier", "fc.shift", "fc.zero_points",
                                          "dequant.scale", "dequant.zero_point"}
