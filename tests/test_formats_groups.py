"""The int_group format: one scale per output row and group of input columns."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress import formats
from minicompress.formats import CompressedLinear, load_model, save_model
from minicompress.formats.groups import group_scales
from minicompress.nn import Linear, Sequential
from tests.strategies import seeded_normal


def test_int_group_hand_case_and_exact_size():
    w = np.array([[1.0, -0.5, 0.1, 0.2], [4.0, 2.0, -3.0, 1.0]], np.float32)
    enc = formats.encode(w, "int_group", bits=3, group_size=2)  # qmax = 3
    np.testing.assert_array_equal(group_scales(w, 2), np.array([[1.0, 0.2], [4.0, 3.0]], np.float32))
    # row 0: [1, -0.5] / 1 * 3 -> [3, -2 (-1.5 rounds half to even)];
    #        [0.1, 0.2] / 0.2 * 3 -> [2 (1.5 rounds to even), 3]
    expected = [[1.0, -2 / 3, 0.2 * 2 / 3, 0.2], [4.0, 8 / 3, -3.0, 1.0]]
    np.testing.assert_allclose(enc.decode(), expected, rtol=1e-6)
    assert enc.field("group_size") == 2 and enc.field("bits") == 3 and enc.shape == (2, 4)
    # header (2 dims + bits + g) + ceil(8 * 3 / 8) = 3 bytes of codes + 4 float32 scales
    assert enc.bits == 32 * 4 + 8 * 3 + 32 * 4


@given(seeded_normal((3, 2, 2, 3)), st.sampled_from([1, 2, 3, 4, 6, 12]), st.integers(2, 8),
       st.sampled_from([np.float32, np.float64]))
def test_int_group_round_trip_within_half_a_step(w, g, bits, dtype):
    w = w.astype(dtype)
    enc = formats.encode(w, "int_group", bits=bits, group_size=g)
    step = group_scales(w, g) / (2 ** (bits - 1) - 1)  # (3, 12 / g)
    err = np.abs(enc.decode().astype(np.float64) - w).reshape(3, -1, g)
    assert np.all(err <= step[:, :, None] / 2 * (1 + 1e-6) + 1e-7)
    # the codes given back with their scales are stored as they are
    from minicompress.formats.packing import unpack_codes

    q = unpack_codes(enc.arrays["codes"], bits, 36).reshape(w.shape)
    again = formats.encode(q, "int_group", bits=bits, group_size=g, scale=group_scales(w, g))
    np.testing.assert_array_equal(again.decode(), enc.decode())


def test_int_group_errors_and_save_load(tmp_path):
    w = np.ones((2, 6), np.float32)
    with pytest.raises(ValueError, match="group_size must divide the 6 input columns.*got 4"):
        formats.encode(w, "int_group", bits=4, group_size=4)
    with pytest.raises(ValueError, match="integer codes need their scale"):
        formats.encode(np.ones((2, 6), np.int8), "int_group", bits=4, group_size=3)
    with pytest.raises(ValueError, match=r"shape \(2, 2\); got \(2,\)"):
        formats.encode(w, "int_group", bits=4, group_size=3, scale=np.ones(2))
    layer = Linear(6, 2, rng=0)
    model = Sequential(fc=CompressedLinear.from_layer(layer, "int_group", bits=4, group_size=3))
    save_model(tmp_path / "m.npz", model)
    other = Sequential(fc=CompressedLinear.from_layer(Linear(6, 2, rng=1), "int_group", bits=4, group_size=3))
    load_model(tmp_path / "m.npz", other)
    np.testing.assert_array_equal(other.fc.dense_weight(), model.fc.dense_weight())
