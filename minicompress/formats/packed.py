"""The packed layout of a model file: one ``.npz`` member per encoding instead of one per part.

``np.savez`` writes every array as its own zip member, and a member costs about 280 bytes
besides its data: a 30-byte local header and a 46-byte central-directory entry, each
holding the member's name (``conv1.weight/huffman/codebook.npy``, about 35 bytes), and a
128-byte ``.npy`` header.  An encoding has two to four parts (a header, then codes, scales,
indices...), so for a small, well-compressed model the container outweighs the data: a
Deep Compression LeNet5 holds 3.9 KB of codes in 30 members, 12.3 KB on disk.
:func:`~.io.save_model` with ``layout="packed"`` writes each encoding as one uint8 member
``<name>/<fmt>`` (10 members for that LeNet5) holding its parts back to back::

    count                  1 byte, the number of parts (at most MAX_PARTS)
    per part, count times  name length (1 byte), name (ASCII), dtype (3 ASCII bytes,
                           numpy's dtype.str: '<i4', '|u1', '<f4', ...), length (8 bytes,
                           little-endian: every part of every format is 1-D)
    the parts' bytes       in the same order, each C-ordered and little-endian

:class:`PackedMember` reads such a member with the guarantees of :class:`~.npz.NpzReader`:
the table first (at most :data:`MAX_TABLE_BYTES` bytes are read for it), every part's
declaration checked against the member's size, and a part's data only when asked for, with
exactly the declared dtype and length.  So a load still checks every part against the
format (:func:`~.encoding.check_parts`) before it reads a byte of data.
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import check_dict
from .npz import NpzReader

__all__ = ["pack_parts", "PackedMember", "MAX_PARTS", "MAX_NAME_BYTES"]

#: at most this many parts per packed member, with names of at most this many bytes
MAX_PARTS, MAX_NAME_BYTES = 16, 32
#: the longest a table can be: the count, then per part its name's length, name, dtype, length
MAX_TABLE_BYTES = 1 + MAX_PARTS * (1 + MAX_NAME_BYTES + 3 + 8)
#: the dtypes a part may have (native little-endian or byte-order free; never objects)
PART_DTYPES = {np.dtype(t).str: np.dtype(t) for t in
               ("u1", "i1", "<u2", "<i2", "<u4", "<i4", "<u8", "<i8", "<f2", "<f4", "<f8", "?")}


def pack_parts(parts: dict[str, np.ndarray]) -> np.ndarray:
    """``{name: 1-D array}`` -> one 1-D uint8 array in the packed layout (module docstring)."""
    check_dict(parts, "parts", "part name -> 1-D array")
    if not 1 <= len(parts) <= MAX_PARTS:
        raise ValueError(f"parts must hold 1 to {MAX_PARTS} arrays; got {len(parts)}")
    table, data = [bytes([len(parts)])], []
    for name, arr in parts.items():
        if not isinstance(name, str):
            raise TypeError(f"part names must be str; got {type(name).__name__}")
        arr = np.asarray(arr)
        label = name.encode("ascii") if name.isascii() and name.isprintable() else b""
        if not 1 <= len(label) <= MAX_NAME_BYTES:
            raise ValueError(f"part name {name!r} must be 1 to {MAX_NAME_BYTES} printable ASCII characters")
        if arr.ndim != 1 or arr.dtype.str not in PART_DTYPES:
            raise ValueError(f"part {name!r} must be a 1-D array of one of {sorted(PART_DTYPES)}; got "
                             f"{arr.dtype.str} of shape {arr.shape}")
        table.append(bytes([len(label)]) + label + arr.dtype.str.encode("ascii")
                     + int(arr.size).to_bytes(8, "little"))
        data.append(np.ascontiguousarray(arr).view(np.uint8))
    return np.concatenate([np.frombuffer(b"".join(table), np.uint8), *data])


class PackedMember:
    """The parts of one packed member ``key`` of ``npz``, read as :class:`~.npz.NpzReader`
    reads arrays: ``keys`` (the part names, in order), ``describe(part) -> (dtype, shape)``
    from the table alone, ``read(part, dtype, shape)`` if the part is declared exactly so."""

    def __init__(self, npz: NpzReader, key: str):
        self.path, self._npz, self._key = npz.path, npz, key
        dtype, shape = npz.describe(key)
        if dtype != np.dtype(np.uint8) or len(shape) != 1:
            raise self._fail(f"declared {dtype.str} of shape {shape}; a packed member is a 1-D uint8 array")
        size = shape[0]
        head = npz.read_bytes(key, 0, min(size, MAX_TABLE_BYTES)).tobytes()
        self._parts: dict[str, tuple[np.dtype, int, int]] = {}  # name -> (dtype, length, byte offset)
        count, pos = (head[0], 1) if head else (0, 0)
        if not 1 <= count <= MAX_PARTS:
            raise self._fail(f"its table declares {count} parts; a packed member holds 1 to {MAX_PARTS}")
        entries = []
        for _ in range(count):
            n = head[pos] if pos < len(head) else 0
            entry = head[pos + 1:pos + 1 + n + 11]
            if not 1 <= n <= MAX_NAME_BYTES or len(entry) != n + 11:
                raise self._fail("its table is truncated or names a part of more than "
                                 f"{MAX_NAME_BYTES} bytes")
            name, code = entry[:n].decode("latin1"), entry[n:n + 3].decode("latin1")
            if not name.isascii() or not name.isprintable():
                raise self._fail(f"its table names a part {name!r}, not printable ASCII")
            if code not in PART_DTYPES:
                raise self._fail(f"part {name!r} declares dtype {code!r}; allowed: {sorted(PART_DTYPES)}")
            if name in (e[0] for e in entries):
                raise self._fail(f"its table declares part {name!r} twice")
            entries.append((name, PART_DTYPES[code], int.from_bytes(entry[n + 3:], "little")))
            pos += 1 + n + 11
        offset = pos
        for name, dt, length in entries:
            if length > size:  # also keeps the sum below from overflowing anything
                raise self._fail(f"part {name!r} declares {length} values; the member holds {size} bytes")
            self._parts[name] = (dt, length, offset)
            offset += dt.itemsize * length
        if offset != size:
            raise self._fail(f"its table declares {offset} bytes (table and parts); the member holds {size}")
        self.keys = list(self._parts)

    def _fail(self, message: str) -> ValueError:
        return ValueError(f"{self.path}: key {self._key!r}: {message}")

    def describe(self, part: str) -> tuple[np.dtype, tuple]:
        """The ``(dtype, shape)`` the table declares for ``part``; no data is read."""
        dtype, length, _ = self._parts[part]
        return dtype, (length,)

    def read(self, part: str, dtype, shape) -> np.ndarray:
        """Part ``part``, if the table declares exactly ``dtype`` and ``shape``."""
        got_dtype, length, offset = self._parts[part] if part in self._parts else (None, None, None)
        if got_dtype is None:
            raise self._fail(f"has no part {part!r}; its parts are {self.keys}")
        dtype, shape = np.dtype(dtype), tuple(shape)
        if got_dtype != dtype or (length,) != shape:
            raise self._fail(f"part {part!r} is declared {got_dtype.str} of shape {(length,)}; expected "
                             f"{dtype.str} of shape {shape}")
        return self._npz.read_bytes(self._key, offset, dtype.itemsize * length).view(dtype)
