"""Reading an ``.npz`` file without trusting it: every array's dtype and shape first, its data
only when asked for, and only as much as was asked for.

An ``.npz`` (``np.savez``) is a zip archive holding one ``<key>.npy`` member per array; each
``.npy`` starts with a small text header declaring the dtype and shape (``{'descr': '<f4',
'fortran_order': False, 'shape': (60000, 60000)}``) and then the raw bytes.  ``np.load``
allocates whatever a header declares before it reads a byte of data, so a 3 KB file can ask
for 13 GB.  :class:`NpzReader` reads the declarations alone (:meth:`~NpzReader.describe`,
``np.lib.format.read_array_header_*`` on the zip member, bounded to 10,000 bytes of header
text), lets the caller compare them with what it expects, and then reads an array only if
its declaration is exactly the expected one (:meth:`~NpzReader.read`), checking that the
member holds exactly those bytes and that the zip's CRC-32 of them is right.  Object arrays
are never read (no pickle: loading never runs code).

Every failure -- not a zip, a truncated or corrupt member, a malformed header, an
unexpected dtype or shape -- is a ``ValueError`` naming the file and the key.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np

__all__ = ["NpzReader"]

#: longest .npy header text read (numpy's own default limit)
MAX_HEADER_BYTES = 10_000

_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, RuntimeError,
                NotImplementedError, zlib.error, SyntaxError)


class _Refused(ValueError):
    """A refusal that already names the file and the key."""


class NpzReader:
    """An ``.npz`` opened for bounded reading (a context manager).

    ``keys``: the array names (member names without ``.npy``), in file order.
    ``describe(key) -> (dtype, shape)`` reads only the member's header;
    ``read(key, dtype, shape)`` reads the array if it is declared exactly so.
    """

    def __init__(self, path):
        self.path = Path(path)
        try:
            self._zip = zipfile.ZipFile(self.path)
        except _READ_ERRORS as err:
            raise ValueError(f"{self.path}: not an .npz file (a zip archive of .npy arrays): "
                             f"{type(err).__name__}: {err}") from None
        self._members: dict[str, zipfile.ZipInfo] = {}
        for info in self._zip.infolist():
            if not info.filename.endswith(".npy"):
                self.close()
                raise ValueError(f"{self.path}: member {info.filename!r} is not an .npy array")
            key = info.filename[: -len(".npy")]
            if key in self._members:
                self.close()
                raise ValueError(f"{self.path}: key {key!r} is stored twice")
            self._members[key] = info
        self.keys = list(self._members)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self._zip.close()

    def _fail(self, key: str, message: str) -> ValueError:
        return _Refused(f"{self.path}: key {key!r}: {message}")

    def _header(self, fh, key: str):
        """(dtype, shape, fortran_order) from an open member, its data not read."""
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh, max_header_size=MAX_HEADER_BYTES)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh, max_header_size=MAX_HEADER_BYTES)
        else:
            raise self._fail(key, f".npy format version {version} is not read here (1.0 or 2.0 only)")
        return np.dtype(dtype), tuple(int(d) for d in shape), bool(fortran)

    def describe(self, key: str) -> tuple[np.dtype, tuple]:
        """The ``(dtype, shape)`` that ``key``'s header declares; no data is read."""
        info = self._members[key]
        try:
            with self._zip.open(info) as fh:
                dtype, shape, _ = self._header(fh, key)
        except _Refused:
            raise
        except _READ_ERRORS as err:
            raise self._fail(key, f"cannot read its .npy header: {type(err).__name__}: {err}") from None
        return dtype, shape

    def read(self, key: str, dtype, shape) -> np.ndarray:
        """The array ``key``, if its header declares exactly ``dtype`` and ``shape`` (checked
        before anything is allocated) and the member holds exactly that many bytes."""
        dtype, shape = np.dtype(dtype), tuple(shape)
        if dtype.hasobject:
            raise self._fail(key, "object arrays are never loaded")
        info = self._members[key]
        try:
            with self._zip.open(info) as fh:
                got_dtype, got_shape, fortran = self._header(fh, key)
                if got_dtype != dtype or got_shape != shape:
                    raise self._fail(key, f"declared {got_dtype.str} of shape {got_shape}; expected "
                                          f"{dtype.str} of shape {shape}")
                nbytes = dtype.itemsize * int(np.prod(shape, dtype=np.int64))
                if info.file_size != fh.tell() + nbytes:
                    raise self._fail(key, f"the member holds {info.file_size - fh.tell()} bytes of data; "
                                          f"its header declares {nbytes}")
                data = _read_exactly(fh, nbytes)
                if data is None or fh.read(1):  # reading to the end checks the zip's CRC-32
                    raise self._fail(key, f"the member does not hold the {nbytes} bytes its header declares")
        except _Refused:
            raise
        except _READ_ERRORS as err:
            raise self._fail(key, f"cannot read it: {type(err).__name__}: {err}") from None
        out = data.view(dtype)
        return out.reshape(shape, order="F").copy(order="C") if fortran else out.reshape(shape)


def _read_exactly(fh, nbytes: int, chunk: int = 1 << 20):
    """``nbytes`` bytes of ``fh`` into one new uint8 array, read a chunk at a time (so the
    peak is the array plus one chunk); None if the stream ends first."""
    out = np.empty(nbytes, dtype=np.uint8)
    pos = 0
    while pos < nbytes:
        part = fh.read(min(chunk, nbytes - pos))
        if not part:
            return None
        out[pos:pos + len(part)] = np.frombuffer(part, dtype=np.uint8)
        pos += len(part)
    return out
