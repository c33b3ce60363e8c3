"""Storage formats: bit-exact round trips, sizes equal to their closed forms, save/load."""

import math
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minicompress import formats as F
from minicompress.formats.encoding import index_dtype, matrix_view
from minicompress.nn import ConvNet, Linear, Sequential
from tests.strategies import small_shapes


@st.composite
def sparse_float32(draw, max_dims=4):
    """float32 arrays with a drawn fraction of exact zeros (no -0.0)."""
    shape = draw(small_shapes(min_dims=1, max_dims=max_dims, max_side=7))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(shape).astype(np.float32)
    w[rng.random(shape) < draw(st.floats(0, 1))] = 0
    return w + np.float32(0)  # -0.0 + 0.0 = +0.0


def bits_equal(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a.view(np.uint8), b.view(np.uint8))


def width(max_value):
    return 8 if max_value < 2**8 else 16 if max_value < 2**16 else 32


# ----------------------------------------------------------------------------- CSR
def test_csr_hand_case():
    w = np.array([[0, 2, 0, 0], [0, 0, 0, 0], [5, 0, 0, 7]], dtype=np.float32)
    enc = F.encode(w, "csr")
    np.testing.assert_array_equal(enc.arrays["values"], [2, 5, 7])
    np.testing.assert_array_equal(enc.arrays["indices"], [1, 0, 3])
    np.testing.assert_array_equal(enc.arrays["indptr"], [0, 1, 1, 3])
    assert enc.arrays["indices"].dtype == np.uint8 and enc.arrays["indptr"].dtype == np.uint8
    # z*b + z*i + (m+1)*p = 3*32 + 3*8 + 4*8 = 152 bits; header: 2 dims + z + value bits (0:
    # float32 values as they are), 32 bits each
    assert enc.payload_bits == 152 and enc.header_bits == 128 and enc.bits == 280
    assert enc.field("z") == 3 and enc.field("bits") == 0
    assert bits_equal(F.decode(enc), w)


@given(sparse_float32())
def test_csr_round_trip_bit_exact_and_closed_form(w):
    enc = F.encode(w, "csr")
    assert bits_equal(F.decode(enc), w)
    m, k = matrix_view(w.shape)
    z = int(np.count_nonzero(w))
    assert enc.payload_bits == z * 32 + z * width(k - 1) + (m + 1) * width(z)
    assert enc.header_bits == 32 * (w.ndim + 2)


def test_csr_conv_weight_uses_the_im2col_view():
    w = np.zeros((16, 1, 3, 3), np.float32)
    w[3, 0, 2, 1] = 1.5
    enc = F.encode(w, "csr")
    assert matrix_view(w.shape) == (16, 9)
    np.testing.assert_array_equal(enc.arrays["indices"], [2 * 3 + 1])
    np.testing.assert_array_equal(enc.arrays["indptr"], [0] * 4 + [1] * 13)


@pytest.mark.parametrize("bound,dtype", [(255, np.uint8), (256, np.uint16), (65535, np.uint16),
                                         (65536, np.uint32), (2**32 - 1, np.uint32)])
def test_index_width_is_the_smallest_that_fits(bound, dtype):
    assert index_dtype(bound) == dtype


def test_index_width_beyond_32_bits_raises():
    with pytest.raises(ValueError, match="32 bits"):
        index_dtype(2**32)


def test_csr_wide_matrix_needs_16_bit_column_indices():
    w = np.zeros((2, 300), np.float32)
    w[1, 299] = 1
    enc = F.encode(w, "csr")
    assert enc.arrays["indices"].dtype == np.uint16 and enc.payload_bits == 32 + 16 + 3 * 8


@pytest.mark.parametrize("shape,index_bits,pointer_bits", [
    ((1, 256), 8, 16),   # 256 columns: index 255 still fits 8 bits; 256 non-zeros: pointers 16
    ((2, 128), 8, 16),   # 256 non-zeros over two rows
    ((1, 255), 8, 8),
    ((1, 257), 16, 16),
])
def test_csr_index_widths_at_the_8_bit_edge(shape, index_bits, pointer_bits):
    w = np.arange(1, np.prod(shape) + 1, dtype=np.float32).reshape(shape)
    enc = F.encode(w, "csr")
    assert bits_equal(F.decode(enc), w)  # a one-off width would wrap an index and break this
    m, k = shape
    z = w.size
    # header: 2 dims, z and the value bits (0: float32 as they are), 32 bits each
    assert F.size_bits(w, "csr") == 128 + 32 * z + index_bits * z + pointer_bits * (m + 1)


# ----------------------------------------------------------------------------- bitmask
@given(sparse_float32())
def test_bitmask_round_trip_bit_exact_and_closed_form(w):
    enc = F.encode(w, "bitmask")
    assert bits_equal(F.decode(enc), w)
    assert enc.payload_bits == 8 * math.ceil(w.size / 8) + 32 * int(np.count_nonzero(w))


def test_sparse_formats_keep_int8_values_and_refuse_float64():
    q = np.array([[0, -3], [127, 0]], dtype=np.int8)
    for fmt in ("csr", "bitmask"):
        assert bits_equal(F.decode(F.encode(q, fmt)), q)
        with pytest.raises(TypeError, match="float64"):
            F.encode(q.astype(np.float64), fmt)


# ----------------------------------------------------------------------------- dense, int8
def test_dense_sizes():
    w = np.ones((10, 3), np.float32)
    assert F.encode(w, "fp32").payload_bits == 30 * 32
    assert F.encode(w, "fp16").payload_bits == 30 * 16
    assert bits_equal(F.decode(F.encode(w, "fp32")), w)


def test_int8_hand_case_max_abs_rule():
    w = np.array([-1.27, 0.5, 0.0, 1.27], dtype=np.float32)
    enc = F.encode(w, "int8")
    np.testing.assert_array_equal(enc.arrays["scale"], [np.float32(1.27)])  # the text's scale = max|w|
    np.testing.assert_array_equal(enc.arrays["codes"].view(np.int8), [-127, 50, 0, 127])
    assert enc.payload_bits == 4 * 8 + 32 and enc.field("bits") == 8


@given(hnp.arrays(np.float32, small_shapes(min_dims=2, max_dims=4),
                  elements=st.floats(-100, 100, width=32)), st.booleans())
def test_int8_round_trip_error_at_most_half_a_step(w, per_channel):
    fmt = "int8_channel" if per_channel else "int8"
    enc = F.encode(w, fmt)
    m, _ = matrix_view(w.shape)
    scale = enc.arrays["scale"].reshape(-1, 1)
    err = np.abs(F.decode(enc) - w).reshape(scale.shape[0], -1)
    assert np.all(err <= scale / 254 * (1 + 1e-5) + 1e-6)  # half a step, step = scale / 127
    assert enc.payload_bits == 8 * w.size + 32 * (m if per_channel else 1)


def test_int8_stores_given_codes_exactly():
    q = np.array([[-127, 3], [0, 127]], np.int8)
    enc = F.encode(q, "int8_channel", scale=[127.0, 63.5])  # steps 1 and 0.5
    assert bits_equal(enc.arrays["codes"].view(np.int8).reshape(2, 2), q)
    np.testing.assert_array_equal(F.decode(enc), [[-127, 3], [0, 63.5]])
    with pytest.raises(ValueError, match="scale"):
        F.encode(q, "int8")
    with pytest.raises(ValueError, match=r"\[-127, 127\]"):
        F.encode(np.array([-128], np.int8), "int8", scale=1.0)  # codes beyond qmax are refused
    clipped = F.encode(np.array([3.0], np.float32), "int8", scale=1.0)  # floats are clipped, as
    assert clipped.arrays["codes"].view(np.int8).tolist() == [127]    # int8_quantize does
    with pytest.raises(ValueError, match="> 0 for every channel; got 0.0 at index 1"):
        F.encode(q, "int8_channel", scale=[1.0, 0.0])


# ----------------------------------------------------------------------------- 1 and 2 bits
@given(st.integers(1, 70), st.integers(0, 2**32 - 1), st.floats(0.125, 10, width=32))
def test_binary_and_ternary_round_trip_bit_exact(n, seed, alpha):
    rng = np.random.default_rng(seed)
    a = np.float32(alpha)
    b = (rng.choice([-1, 1], size=(n, 3)) * a).astype(np.float32)
    t = (rng.choice([-1, 0, 1], size=(n, 3)) * a).astype(np.float32) + np.float32(0)
    eb, et = F.encode(b, "binary"), F.encode(t, "ternary")
    assert bits_equal(F.decode(eb), b) and bits_equal(F.decode(et), t)
    assert eb.payload_bits == 8 * math.ceil(3 * n / 8) + 32
    assert et.payload_bits == 8 * math.ceil(2 * 3 * n / 8) + 32


def test_binary_per_channel_and_sign_of_zero():
    w = np.array([[0.5, -0.5], [-2.0, 2.0]], np.float32)
    with pytest.raises(ValueError, match="per_channel=True"):
        F.encode(w, "binary")
    enc = F.encode(w, "binary", per_channel=True)
    assert bits_equal(F.decode(enc), w) and enc.payload_bits == 8 + 2 * 32
    zero = np.zeros((1, 3), np.float32)  # sign(0) = +1: all bits 1, alpha 0
    assert np.unpackbits(F.encode(zero, "binary").arrays["bits"], count=3).tolist() == [1, 1, 1]


def test_binary_refuses_unquantized_weights():
    with pytest.raises(ValueError, match="Quantize the weights first"):
        F.encode(np.array([0.1, -0.3], np.float32), "binary")


# ----------------------------------------------------------------------------- low rank
def test_lowrank_size_and_reconstruction(rng):
    A, B = rng.standard_normal((20, 3)), rng.standard_normal((3, 12))
    w = (A @ B).astype(np.float32)
    enc = F.encode(w, "lowrank", rank=3)
    assert enc.payload_bits == 32 * 3 * (20 + 12) and enc.header_bits == 3 * 32
    np.testing.assert_allclose(F.decode(enc), w, atol=1e-4)
    given_factors = F.encode(w, "lowrank", factors=(A, B))
    np.testing.assert_allclose(F.decode(given_factors), w, atol=1e-4)
    with pytest.raises(ValueError, match="rank"):
        F.encode(w, "lowrank", rank=13)


# ----------------------------------------------------------------------------- registry
def test_unknown_format_is_named():
    w = np.ones(3, np.float32)
    with pytest.raises(ValueError, match=r"fmt must be one of the storage formats \[.*\]; got 'csc'"):
        F.encode(w, "csc")
    with pytest.raises(ValueError, match="whole models"):
        F.encode(w, "auto")
    assert set(F.FORMATS) >= {"fp32", "fp16", "raw", "csr", "bitmask", "int", "int8", "int8_channel",
                              "binary", "ternary", "lowrank"}
    assert "auto" not in F.FORMATS


def test_encode_bad_input():
    with pytest.raises(TypeError, match="numpy array"):
        F.encode([1.0, 2.0], "fp32")
    with pytest.raises(ValueError, match="empty"):
        F.encode(np.zeros((0, 3), np.float32), "csr")


# ----------------------------------------------------------------------------- save / load
def test_save_load_round_trip_bit_exact(tmp_path):
    model = ConvNet(rng=3)
    F.save_model(tmp_path / "m.npz", model)
    other = F.load_model(tmp_path / "m.npz", ConvNet(rng=4))
    for (name, a), (_, b) in zip(model.named_parameters(), other.named_parameters()):
        assert bits_equal(a, b), name


def test_load_names_missing_extra_and_mismatched_keys(tmp_path):
    state = ConvNet().state_dict()
    np.savez(tmp_path / "missing.npz", **{k: v for k, v in state.items() if k != "fc.bias"})
    with pytest.raises(ValueError, match="fc.bias"):
        F.load_model(tmp_path / "missing.npz", ConvNet())
    np.savez(tmp_path / "extra.npz", **state, **{"head.weight": np.ones((2, 2), np.float32)})
    with pytest.raises(ValueError, match="head.weight"):
        F.load_model(tmp_path / "extra.npz", ConvNet())
    F.save_model(tmp_path / "narrow.npz", ConvNet(channels=8))
    with pytest.raises(ValueError, match="conv1.weight"):
        F.load_model(tmp_path / "narrow.npz", ConvNet())


def test_load_refuses_pickled_objects(tmp_path):
    state = ConvNet().state_dict()
    np.savez(tmp_path / "evil.npz", **{**state, "fc.weight": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(ValueError, match=r"evil.npz: key 'fc.weight': .* the file declares \|O \(object\)"):
        F.load_model(tmp_path / "evil.npz", ConvNet())


@pytest.mark.parametrize("fmt", ["fp32", "csr", "bitmask"])
def test_pruned_model_file_size_matches_accounted_size(tmp_path, fmt):
    model = ConvNet(rng=0)
    for _, p in model.named_parameters():
        if p.ndim >= 2:
            p[np.abs(p) < np.quantile(np.abs(p), 0.9)] = 0
    path = tmp_path / f"{fmt}.npz"
    encodings = F.save_model(path, model, fmt)
    accounted = sum(e.bits for e in encodings.values()) // 8
    names = np.load(path, allow_pickle=False).files
    # zip container per member: local + central headers (76 B + 2 * name + zip64 extras)
    # and the .npy header (128 B for these arrays), plus the 22-byte end record
    overhead_bound = sum(300 + 2 * len(n) for n in names) + 22
    on_disk = os.path.getsize(path)
    assert accounted <= on_disk <= accounted + overhead_bound
    again = F.load_model(path, ConvNet(rng=1))
    for a, b in zip(model.parameters(), again.parameters()):
        assert bits_equal(a, b)


def test_csr_file_is_smaller_than_dense_file_for_a_pruned_model(tmp_path):
    model = Sequential(fc=Linear(400, 300))
    w = model.fc.params["weight"]
    w[np.abs(w) < np.quantile(np.abs(w), 0.9)] = 0
    F.save_model(tmp_path / "dense.npz", model)
    F.save_model(tmp_path / "csr.npz", model, "csr")
    dense, csr = os.path.getsize(tmp_path / "dense.npz"), os.path.getsize(tmp_path / "csr.npz")
    assert csr < 0.3 * dense  # 10% non-zeros x (32 + 16) bits vs 32 bits


def test_save_model_bad_input(tmp_path):
    with pytest.raises(ValueError, match="'zip'"):
        F.save_model(tmp_path / "x.npz", ConvNet(), "zip")
    with pytest.raises(TypeError, match="path"):
        F.save_model(3, ConvNet())
    with pytest.raises(ValueError, match="no parameters"):
        F.save_model(tmp_path / "x.npz", Sequential())


def test_int8_format_stores_what_quantize_produces(rng):
    quantize = pytest.importorskip("minicompress.quantize")
    w = rng.standard_normal((5, 7)).astype(np.float32)
    q, scale = quantize.int8_quantize(w)
    enc = F.encode(q, "int8", scale=scale)
    assert bits_equal(enc.arrays["codes"].view(np.int8).reshape(q.shape), q)
    assert bits_equal(F.decode(enc), quantize.int8_dequantize(q, scale))  # one dequantizer
