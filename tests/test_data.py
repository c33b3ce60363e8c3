"""minicompress.data: the bundled split and the IDX reader."""

import gzip
import hashlib
import struct
from importlib import resources

import numpy as np
import pytest

from minicompress.data import MNIST_MEAN, MNIST_STD, load_idx, load_mnist5k, normalize


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
