"""Data: the bundled 5,000 real MNIST digits, a reader for MNIST-format IDX files, and
shifted copies of images (moved, rotated, noisy) to test how a model generalises.

``load_mnist5k()`` needs no network: the digits ship inside the package
(``minicompress/datasets/mnist5k.npz``, provenance in ``PROVENANCE.md`` beside it).
"""

from __future__ import annotations

import gzip
import os
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .nn._checks import as_array, check_array, check_float, check_int, check_rng, described

__all__ = ["MNIST_MEAN", "MNIST_STD", "Split", "load_mnist5k", "normalize", "load_idx",
           "shift_images", "rotate_images", "add_noise", "shifted_test_sets"]

#: Mean and standard deviation of MNIST training pixels scaled to [0, 1] (the usual values).
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081


class Split(NamedTuple):
    """A train/test split; unpacks as ``X_train, y_train, X_test, y_test = split``."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def normalize(images: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W) pixels -> float32 (N, 1, H, W), ``(x / 255 - 0.1307) / 0.3081``.

    MNIST's images are (N, 28, 28).  Pixels must be uint8 (0..255): float pixels may be
    normalised already, and dividing them by 255 again would be wrong, so they are refused.
    """
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8:
        got = f"dtype {images.dtype}" if isinstance(images, np.ndarray) else type(images).__name__
        raise TypeError(f"images must be a uint8 numpy array of pixels 0..255; got {got}")
    if images.ndim != 3:
        raise ValueError(f"images must be (N, H, W) grey-scale images; got shape {images.shape}")
    x = images.astype(np.float32) / 255.0
    return ((x - MNIST_MEAN) / MNIST_STD)[:, None, :, :].astype(np.float32)


def _bundled_path():
    return resources.files("minicompress") / "datasets" / "mnist5k.npz"


def load_mnist5k(*, seed: int = 0, n_train_per_class: int = 400) -> Split:
    """The bundled 5,000 MNIST digits, split per class into train and test.

    The split rule: for each digit 0-9 (500 images each), a permutation drawn from
    ``np.random.default_rng(seed)`` puts the first ``n_train_per_class`` (default 400) in the
    training set and the remaining ones (100) in the test set; the training set is then
    shuffled with the same generator.  The default gives 4,000 training and 1,000 test
    images, the same for everyone.

    Returns
    -------
    Split(X_train, y_train, X_test, y_test)
        X: float32 (N, 1, 28, 28), normalised with :func:`normalize`; y: int64 (N,).
    """
    n_train = check_int(n_train_per_class, "n_train_per_class", low=1, high=499)
    rng = check_rng(check_int(seed, "seed"))
    with _bundled_path().open("rb") as fh:
        with np.load(fh, allow_pickle=False) as data:
            images, labels = data["images"], data["labels"].astype(np.int64)
    train_idx, test_idx = [], []
    for digit in range(10):
        idx = np.flatnonzero(labels == digit)
        idx = idx[rng.permutation(len(idx))]
        train_idx.append(idx[:n_train])
        test_idx.append(idx[n_train:])
    train_idx = np.concatenate(train_idx)
    train_idx = train_idx[rng.permutation(len(train_idx))]
    test_idx = np.concatenate(test_idx)
    return Split(
        normalize(images[train_idx]), labels[train_idx],
        normalize(images[test_idx]), labels[test_idx],
    )


# IDX type codes (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT")
_IDX_DTYPES = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}


def load_idx(path) -> np.ndarray:
    """Read an MNIST-format IDX file (raw or ``.gz``) into an array.

    Layout: two zero bytes, a type byte (0x08 ubyte ... 0x0E double), a byte with the number
    of dimensions d, then d big-endian uint32 sizes, then the data in C order.  The MNIST
    image files have magic 0x00000803 (ubyte, 3-D), label files 0x00000801 (ubyte, 1-D).

    Reading is bounded by the file: the header is checked first and at most one byte more
    than it declares is read, so a 20-byte file declaring 60000 x 60000 x 60000 values
    allocates nothing and a ``.gz`` file is not decompressed past its declared size.

    Raises
    ------
    ValueError
        on a wrong magic number, a truncated file, or trailing bytes the header does not
        account for (counts that do not match), each saying which.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path (str or pathlib.Path); got {type(path).__name__}")
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        head = fh.read(4)
        if len(head) < 4:
            raise ValueError(f"{path}: truncated IDX file: {len(head)} bytes, no 4-byte magic number")
        if head[0] != 0 or head[1] != 0 or head[2] not in _IDX_DTYPES:
            raise ValueError(
                f"{path}: wrong magic number 0x{head.hex()}; an IDX file starts with 00 00, a "
                f"type byte in {[hex(t) for t in _IDX_DTYPES]} and the number of dimensions"
            )
        dtype, ndim = _IDX_DTYPES[head[2]], head[3]
        sizes = fh.read(4 * ndim)
        if len(sizes) < 4 * ndim:
            raise ValueError(f"{path}: truncated IDX header: {4 + len(sizes)} bytes, need {4 + 4 * ndim}")
        shape = tuple(int(s) for s in np.frombuffer(sizes, dtype=">u4"))
        expected = int(np.prod(shape, dtype=object)) * dtype.itemsize  # exact: no int64 wrap-around
        # Read at most one byte more than the header declares, so a header that declares
        # terabytes costs nothing and a gzip file cannot inflate past what it declares.
        raw = _read_at_most(fh, expected + 1)
    got = len(raw)
    if got < expected:
        raise ValueError(
            f"{path}: truncated data: header says shape {shape} ({expected} bytes), "
            f"file has {got} bytes of data"
        )
    if got > expected:
        if opener is open:
            extra = os.path.getsize(path) - 4 - 4 * ndim - expected
            has = f"{expected + extra} bytes of data ({extra} extra)"
        else:  # not decompressed further than one byte past the declared size
            has = "more bytes of data than that"
        raise ValueError(
            f"{path}: counts do not match: header says shape {shape} ({expected} bytes), file has {has}"
        )
    data = np.frombuffer(raw, dtype=dtype).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def _read_at_most(fh, n: int, chunk: int = 2**24) -> bytes:
    """Up to ``n`` bytes from ``fh``, read in chunks (no n-byte buffer is allocated up front)."""
    parts, left = [], n
    while left > 0:
        part = fh.read(min(chunk, left))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


# ----------------------------------------------------------------------------- shifted images
def _images(x) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be an (N, C, H, W) numpy array of images; got {type(x).__name__}")
    x = check_array(x, "x", finite=True)
    if x.ndim != 4:
        raise ValueError(f"x must be an (N, C, H, W) array of images; got shape {x.shape}")
    return x


def _per_image(v, name: str, n: int, *, integer: bool) -> np.ndarray:
    """A scalar or an (N,) array -> an (N,) array (int64 or float64), checked."""
    arr = as_array(v, name)
    if arr.dtype.kind not in ("iu" if integer else "iuf") or arr.dtype == bool:
        kind = "whole numbers of pixels" if integer else "numbers"
        raise TypeError(f"{name} must be {kind} (a scalar or one per image); got {described(v, arr)}")
    if arr.ndim == 0:
        arr = np.full(n, arr)
    if arr.shape != (n,):
        got = f"shape {arr.shape}" if isinstance(v, np.ndarray) else f"{described(v, arr)}, shape {arr.shape}"
        raise ValueError(f"{name} must be a scalar or have one value per image, shape ({n},); got {got}")
    if not integer and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got {arr[~np.isfinite(arr)][:3]}")
    return arr.astype(np.int64 if integer else np.float64)


def shift_images(x: np.ndarray, dy, dx) -> np.ndarray:
    """Move every image by whole pixels: ``dy`` rows down and ``dx`` columns right.

    ``out[n, c, i, j] = x[n, c, clip(i - dy_n, 0, H-1), clip(j - dx_n, 0, W-1)]``

    Parameters
    ----------
    x : (N, C, H, W) images
    dy, dx : int, or (N,) integer arrays (one shift per image); negative moves up / left;
        |dy| < H and |dx| < W

    Returns
    -------
    (N, C, H, W) array, same dtype as ``x``

    Notes
    -----
    Vacated pixels copy the nearest border pixel (``np.pad(mode="edge")``): on MNIST that is
    the background value, whatever the normalisation. One vectorised gather, no loop.
    ``distill.jitter`` draws random shifts and calls this.
    """
    x = _images(x)
    N, _, H, W = x.shape
    dy, dx = _per_image(dy, "dy", N, integer=True), _per_image(dx, "dx", N, integer=True)
    for name, d in (("dy", dy), ("dx", dx)):
        if np.abs(d).max(initial=0) >= min(H, W):
            raise ValueError(f"{name} must be smaller than the image size {(H, W)} in magnitude; got "
                             f"{d[np.argmax(np.abs(d))]} pixels")
    m = int(max(np.abs(dy).max(initial=0), np.abs(dx).max(initial=0)))
    padded = np.pad(x, ((0, 0), (0, 0), (m, m), (m, m)), mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (H, W), axis=(2, 3))
    # windows[n, c, a, b] is the H x W crop starting at row a, column b of the padded image.
    return np.ascontiguousarray(windows[np.arange(N), :, m - dy, m - dx])


def rotate_images(x: np.ndarray, degrees) -> np.ndarray:
    """Turn every image about its centre by ``degrees``, counter-clockwise as displayed.

    Bilinear interpolation (``scipy.ndimage.rotate``, ``order=1``, ``reshape=False``): the
    output pixel at offset p from the centre takes the input's value at ``R(-degrees) p``.

    Parameters
    ----------
    x : (N, C, H, W) images
    degrees : float, or an (N,) array (one angle per image)

    Returns
    -------
    (N, C, H, W) array, same dtype as ``x``

    Notes
    -----
    Pixels that come from outside the image copy the nearest border pixel
    (``mode="nearest"``), the background on MNIST. A multiple of 90 degrees is
    ``np.rot90`` up to float rounding of cos and sin.
    """
    from scipy import ndimage

    x = _images(x)
    angles = _per_image(degrees, "degrees", len(x), integer=False)
    out = np.empty_like(x)
    for n, angle in enumerate(angles):
        out[n] = ndimage.rotate(x[n], angle, axes=(2, 1), reshape=False, order=1, mode="nearest")
    return out


def add_noise(x: np.ndarray, sigma: float, rng) -> np.ndarray:
    """``x + sigma * z`` with z standard normal, drawn from ``rng``; same dtype as ``x``.

    ``sigma`` is in the units of ``x``: on normalised MNIST (pixel / 255 - 0.1307) / 0.3081,
    sigma = 0.5 is noise of 0.5 * 0.3081 = 0.15 of the pixel range. Nothing is clipped.
    """
    x = _images(x)
    sigma = check_float(sigma, "sigma", low=0.0)
    z = check_rng(rng).standard_normal(x.shape)
    return (x + sigma * z).astype(x.dtype)


def shifted_test_sets(x: np.ndarray, rng, *, pixels: int = 2, degrees: float = 15.0,
                      sigma: float = 1.0) -> dict[str, np.ndarray]:
    """Three shifted copies of the test images, to measure generalisation (section 7.2).

    * ``"shift {pixels}px"``: every image moved ``pixels`` pixels up, down, left or right
      (one of the four drawn per image);
    * ``"rotate {degrees}deg"``: every image turned by +``degrees`` or -``degrees`` (drawn);
    * ``"noise {sigma}"``: Gaussian noise of standard deviation ``sigma`` added
      (:func:`add_noise`; in normalised units, 1.0 is 0.31 of the pixel range).

    The labels do not change. Returns ``{name: (N, C, H, W) array}``, in that order; the
    draws come from ``rng`` in that order too, so one seed gives the same three sets.
    """
    rng = check_rng(rng)
    x = _images(x)
    pixels = check_int(pixels, "pixels", low=1)
    degrees = check_float(degrees, "degrees")
    sigma = check_float(sigma, "sigma", low=0.0)
    direction = rng.integers(0, 4, size=len(x))            # up, down, left, right
    dy = np.array([-pixels, pixels, 0, 0])[direction]
    dx = np.array([0, 0, -pixels, pixels])[direction]
    sign = rng.choice(np.array([-1.0, 1.0]), size=len(x))
    return {
        f"shift {pixels}px": shift_images(x, dy, dx),
        f"rotate {degrees:g}deg": rotate_images(x, degrees * sign),
        f"noise {sigma:g}": add_noise(x, sigma, rng),
    }
