"""minicompress.data: the bundled split, the IDX reader, and shifted, rotated and noisy images."""

import gzip
import hashlib
import struct
from importlib import resources

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress.data import (
    MNIST_MEAN,
    MNIST_STD,
    add_noise,
    load_idx,
    load_mnist5k,
    normalize,
    rotate_images,
    shift_images,
    shifted_test_sets,
)


# ----------------------------------------------------------------------------- mnist5k
def test_bundled_file_matches_its_provenance_note():
    path = resources.files("minicompress") / "datasets" / "mnist5k.npz"
    note = (resources.files("minicompress") / "datasets" / "PROVENANCE.md").read_text()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert f"sha256: {digest}" in note


def test_split_is_stratified_400_100_float32_nchw(mnist):
    X, y, Xt, yt = mnist
    assert X.shape == (4000, 1, 28, 28) and Xt.shape == (1000, 1, 28, 28)
    assert X.dtype == Xt.dtype == np.float32
    assert y.dtype == yt.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y, minlength=10), [400] * 10)
    np.testing.assert_array_equal(np.bincount(yt, minlength=10), [100] * 10)
    assert not np.array_equal(y[:10], np.sort(y[:10]))  # the training set is shuffled


def test_train_and_test_images_are_disjoint(mnist):
    X, _, Xt, _ = mnist
    train = {row.tobytes() for row in X.reshape(len(X), -1)}
    test = {row.tobytes() for row in Xt.reshape(len(Xt), -1)}
    assert len(train) == 4000 and len(test) == 1000  # no duplicate images either
    assert not train & test


def test_split_is_deterministic_and_seeded(mnist):
    again = load_mnist5k()
    for a, b in zip(mnist, again):
        np.testing.assert_array_equal(a, b)
    other = load_mnist5k(seed=1)
    assert not np.array_equal(other.y_train, mnist.y_train)
    np.testing.assert_array_equal(np.bincount(other.y_test), [100] * 10)


def test_n_train_per_class():
    split = load_mnist5k(n_train_per_class=450)
    assert len(split.X_train) == 4500 and len(split.X_test) == 500
    with pytest.raises(ValueError, match="n_train_per_class must be <= 499; got 500"):
        load_mnist5k(n_train_per_class=500)


def test_normalize_hand_case():
    x = normalize(np.array([[[0, 255]]], dtype=np.uint8))
    assert x.shape == (1, 1, 1, 2) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, 0, 0], [-MNIST_MEAN / MNIST_STD, (1 - MNIST_MEAN) / MNIST_STD], rtol=1e-6)


def test_normalised_pixels_have_mnist_statistics(mnist):
    # mean 0.1307 and std 0.3081 are the full MNIST training set's: close, not exact, here
    X = mnist.X_train
    assert abs(float(X.mean())) < 0.05
    assert float(X.std()) == pytest.approx(1.0, abs=0.05)


# ----------------------------------------------------------------------------- IDX files
def write_idx(path, array, type_byte=0x08, *, extra=b"", cut=0):
    header = bytes([0, 0, type_byte, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes() + extra
    data = data[: len(data) - cut]
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as fh:
        fh.write(data)
    return path


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_load_idx_round_trip_images(tmp_path, name):
    images = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28)).astype(np.uint8)
    out = load_idx(write_idx(tmp_path / name, images))
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, images)


@pytest.mark.parametrize("dtype, type_byte", [
    (np.uint8, 0x08), (np.int8, 0x09), (np.int16, 0x0B), (np.int32, 0x0C),
    (np.float32, 0x0D), (np.float64, 0x0E),
])
def test_load_idx_every_type_code(tmp_path, dtype, type_byte):
    a = np.arange(12).reshape(3, 4) - (0 if dtype == np.uint8 else 5)  # negatives where allowed
    a = a.astype(dtype)
    out = load_idx(write_idx(tmp_path / "a.idx", a, type_byte))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, a)


def test_load_idx_labels_1d(tmp_path):
    labels = np.array([5, 0, 4, 1, 9], dtype=np.uint8)  # the first MNIST training labels
    np.testing.assert_array_equal(load_idx(write_idx(tmp_path / "labels.gz", labels)), labels)


def test_load_idx_wrong_magic(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 20)  # a gzip file without the .gz suffix
    with pytest.raises(ValueError, match="wrong magic number 0x1f8b0800"):
        load_idx(path)
    path.write_bytes(bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 0]))  # unknown type byte
    with pytest.raises(ValueError, match="wrong magic number 0x00000701"):
        load_idx(path)


def test_load_idx_truncated(tmp_path):
    a = np.zeros((2, 3, 3), np.uint8)
    with pytest.raises(ValueError, match=r"truncated data: header says shape \(2, 3, 3\) \(18 bytes\), "
                       r"file has 17 bytes"):
        load_idx(write_idx(tmp_path / "cut", a, cut=1))
    with pytest.raises(ValueError, match="truncated IDX header"):
        load_idx(write_idx(tmp_path / "cut2", a, cut=20))  # 34 bytes cut to 14: not even the header
    (tmp_path / "tiny").write_bytes(b"\x00\x00")
    with pytest.raises(ValueError, match="truncated IDX file: 2 bytes"):
        load_idx(tmp_path / "tiny")


def test_load_idx_count_mismatch(tmp_path):
    a = np.zeros((2, 3), np.uint8)
    with pytest.raises(ValueError, match=r"counts do not match: .*\(2, 3\).*2 extra"):
        load_idx(write_idx(tmp_path / "long", a, extra=b"\x00\x00"))


@pytest.mark.parametrize("name", ["huge", "huge.gz"])
def test_load_idx_a_header_declaring_terabytes_reads_only_the_file(tmp_path, name):
    """A 20-byte file whose header declares 60000 x 60000 x 60000 float64 values (1.7 PB) is
    refused from its own size: nothing of the declared size is allocated or decompressed."""
    header = bytes([0, 0, 0x0E, 3]) + struct.pack(">3I", 60000, 60000, 60000)
    opener = gzip.open if name.endswith(".gz") else open
    with opener(tmp_path / name, "wb") as fh:
        fh.write(header + b"\x00" * 8)
    with pytest.raises(ValueError, match=r"truncated data: header says shape \(60000, 60000, 60000\) "
                                         r"\(1728000000000000 bytes\), file has 8 bytes"):
        load_idx(tmp_path / name)


def test_load_idx_a_gzip_file_longer_than_declared(tmp_path):
    a = np.zeros((2, 3), np.uint8)
    with pytest.raises(ValueError, match=r"counts do not match: .*\(6 bytes\), file has more bytes"):
        load_idx(write_idx(tmp_path / "long.gz", a, extra=b"\x00" * 1000))


@pytest.mark.parametrize("images, error, match", [
    (np.zeros((2, 28, 28), np.float32), TypeError, "images must be a uint8 numpy array of pixels 0..255; "
                                                   "got dtype float32"),
    ([[[0]]], TypeError, "images must be a uint8 numpy array .* got list"),
    (np.zeros((2, 1, 28, 28), np.uint8), ValueError, r"images must be \(N, H, W\) .* \(2, 1, 28, 28\)"),
])
def test_normalize_refuses_what_it_would_misread(images, error, match):
    with pytest.raises(error, match=match):
        normalize(images)


def test_load_idx_path_type():
    with pytest.raises(TypeError, match="path must be a file path"):
        load_idx(None)


# ----------------------------------------------------------------------------- shifted images
def test_shift_by_hand():
    x = np.arange(9.0).reshape(1, 1, 3, 3)            # [[0 1 2] [3 4 5] [6 7 8]]
    right = shift_images(x, 0, 1)[0, 0]
    np.testing.assert_array_equal(right, [[0, 0, 1], [3, 3, 4], [6, 6, 7]])  # edge copied in
    down = shift_images(x, 1, 0)[0, 0]
    np.testing.assert_array_equal(down, [[0, 1, 2], [0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(shift_images(x, 0, 0), x)


@given(st.integers(-3, 3), st.integers(-3, 3), st.sampled_from([np.float32, np.float64]))
def test_shift_equals_roll_away_from_the_border(dy, dx, dtype):
    x = np.random.default_rng(0).standard_normal((2, 1, 9, 9)).astype(dtype)
    out = shift_images(x, dy, dx)
    assert out.dtype == dtype and out.shape == x.shape
    rolled = np.roll(x, (dy, dx), axis=(2, 3))
    inner = (slice(None), slice(None), slice(3, 6), slice(3, 6))
    np.testing.assert_array_equal(out[inner], rolled[inner])


def test_shift_per_image_and_jitter_uses_it():
    from minicompress.distill import jitter

    x = np.random.default_rng(1).standard_normal((4, 1, 6, 6)).astype(np.float32)
    out = shift_images(x, np.array([0, 1, -1, 2]), np.array([2, 0, -2, 1]))
    for n, (dy, dx) in enumerate([(0, 2), (1, 0), (-1, -2), (2, 1)]):
        np.testing.assert_array_equal(out[n], shift_images(x[n:n + 1], dy, dx)[0])
    rng = np.random.default_rng(5)
    dy, dx = rng.integers(-2, 3, size=4), rng.integers(-2, 3, size=4)
    np.testing.assert_array_equal(jitter(x, 5), shift_images(x, dy, dx))  # the same draws


@pytest.mark.parametrize("call, error, match", [
    (lambda x: shift_images(x, 3, 0), ValueError, r"dy must be smaller than the image size \(3, 3\) .*got 3"),
    (lambda x: shift_images(x, 0.5, 0), TypeError, "dy must be whole numbers of pixels"),
    (lambda x: shift_images(x, np.array([1, 2]), 0), ValueError, r"one value per image, shape \(1,\)"),
    (lambda x: shift_images(x[0], 1, 0), ValueError, r"\(N, C, H, W\) array of images; got shape"),
    (lambda x: shift_images(x.tolist(), 1, 0), TypeError, "numpy array of images; got list"),
    (lambda x: rotate_images(x, np.nan), ValueError, "degrees must be finite"),
    (lambda x: add_noise(x, -1.0, 0), ValueError, "sigma"),
])
def test_shift_functions_refuse_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call(np.zeros((1, 1, 3, 3)))


def test_rotate_by_hand_is_counter_clockwise_as_displayed():
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 4] = 1.0                                # right of the centre
    up = rotate_images(x, 90.0)[0, 0]
    assert np.unravel_index(np.argmax(up), up.shape) == (0, 2)   # now above it
    np.testing.assert_allclose(up, np.rot90(x[0, 0]), atol=1e-12)
    np.testing.assert_array_equal(rotate_images(x, 0.0), x)


@given(st.floats(-180, 180), st.sampled_from([np.float32, np.float64]))
def test_rotate_keeps_a_constant_image_and_the_dtype(degrees, dtype):
    x = np.full((2, 1, 7, 7), -0.4242, dtype)
    out = rotate_images(x, degrees)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, x, rtol=1e-6)   # every sample comes from inside or the border


def test_noise_is_seeded_and_has_the_asked_spread():
    x = np.zeros((100, 1, 10, 10), np.float32)
    a, b = add_noise(x, 0.5, 3), add_noise(x, 0.5, 3)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32
    assert abs(a.std() - 0.5) < 0.02 and abs(a.mean()) < 0.02
    np.testing.assert_array_equal(add_noise(x, 0.0, 0), x)


def test_shifted_test_sets_move_turn_and_blur_every_image():
    X = np.random.default_rng(0).standard_normal((40, 1, 12, 12)).astype(np.float32)
    sets = shifted_test_sets(X, 0)
    assert list(sets) == ["shift 2px", "rotate 15deg", "noise 1"]
    assert all(v.shape == X.shape and v.dtype == np.float32 for v in sets.values())
    moved = sets["shift 2px"]
    candidates = [shift_images(X, dy, dx) for dy, dx in [(-2, 0), (2, 0), (0, -2), (0, 2)]]
    for n in range(len(X)):   # each image is one of its four 2-pixel moves
        assert sum(np.array_equal(moved[n], c[n]) for c in candidates) == 1
    turned = sets["rotate 15deg"]
    for n in range(len(X)):
        assert any(np.allclose(turned[n], rotate_images(X[n:n + 1], a)[0]) for a in (15.0, -15.0))
    assert abs(float((sets["noise 1"] - X).std()) - 1.0) < 0.05
    again = shifted_test_sets(X, 0)
    assert all(np.array_equal(again[k], sets[k]) for k in sets)
