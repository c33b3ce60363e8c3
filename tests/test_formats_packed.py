"""The packed layout (formats.packed): one .npz member per encoding holds the same bits as the
arrays layout, and a broken or hostile table is refused as a broken array is -- a ValueError
naming the file and the key, the model left as it was, nothing it declares allocated."""

import io
import tempfile
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minicompress import formats as F
from minicompress.formats.npz import NpzReader
from minicompress.formats.packed import MAX_NAME_BYTES, MAX_PARTS, PART_DTYPES, PackedMember, pack_parts
from minicompress.nn import Linear, ReLU, Sequential

X = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)


def target(seed=0):
    """A plain layer (saved in the file's format) and a stored CSR layer (saved as it is)."""
    return Sequential(fc1=Linear(4, 3, rng=seed), relu=ReLU(),
                      fc2=F.compress_layer(Linear(3, 2, rng=seed + 1), "csr"))


def entry(name: bytes, dtype: bytes, length: int) -> bytes:
    """One table entry: name length, name, dtype.str, length (8 bytes little-endian)."""
    return bytes([len(name)]) + name + dtype + length.to_bytes(8, "little")


def npy_bytes(arr) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def uint8_member(data: bytes) -> bytes:
    return npy_bytes(np.frombuffer(data, np.uint8))


def write(path, items) -> str:
    with zipfile.ZipFile(path, "w") as z:
        for key, value in items.items():
            z.writestr(key + ".npy", value)
    return str(path)


def members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name[:-4]: z.read(name) for name in z.namelist()}


def test_pack_parts_hand_case():
    header, values = np.array([2], np.int32), np.array([1.5, -2.0], np.float32)
    packed = pack_parts({"header": header, "values": values})
    expected = (bytes([2]) + entry(b"header", b"<i4", 1) + entry(b"values", b"<f4", 2)
                + header.tobytes() + values.tobytes())
    assert packed.dtype == np.uint8 and packed.tobytes() == expected
    assert packed.size == 1 + 2 * (1 + 6 + 3 + 8) + 4 + 8 == 49


PARTS = st.dictionaries(
    st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=MAX_NAME_BYTES),
    st.tuples(st.sampled_from(sorted(PART_DTYPES)), st.integers(0, 20), st.integers(0, 2**32 - 1)),
    min_size=1, max_size=MAX_PARTS)


@settings(max_examples=40, deadline=None)
@given(PARTS)
def test_every_packed_part_reads_back_exactly(spec):
    """Property: for any parts (names, dtypes, lengths), the member is the table plus the
    parts' bytes, and PackedMember gives back each part with its dtype and its bits."""
    parts = {name: np.random.default_rng(seed).integers(0, 256, length * PART_DTYPES[code].itemsize,
                                                       dtype=np.uint8).view(PART_DTYPES[code])
             for name, (code, length, seed) in spec.items()}
    packed = pack_parts(parts)
    table = 1 + sum(1 + len(name) + 3 + 8 for name in parts)
    assert packed.size == table + sum(a.nbytes for a in parts.values())
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp) / "p.npz", {"m": uint8_member(packed.tobytes())})
        with NpzReader(path) as npz:
            member = PackedMember(npz, "m")
            assert member.keys == list(parts)
            for name, arr in parts.items():
                assert member.describe(name) == (arr.dtype, arr.shape)
                got = member.read(name, arr.dtype, arr.shape)
                assert got.dtype == arr.dtype and got.tobytes() == arr.tobytes()


def test_packed_file_has_one_member_per_encoding_and_is_smaller(tmp_path):
    model = target(1)
    arrays = F.save_model(tmp_path / "a.npz", model, "int8")
    packed = F.save_model(tmp_path / "p.npz", model, "int8", layout="packed")
    assert sorted(members(tmp_path / "p.npz")) == sorted(f"{n}/{e.fmt}" for n, e in packed.items())
    assert {n: e.bits for n, e in arrays.items()} == {n: e.bits for n, e in packed.items()}
    saved_members = sum(len(e.arrays) - 1 for e in packed.values())
    a, p = (tmp_path / "a.npz").stat().st_size, (tmp_path / "p.npz").stat().st_size
    assert a - p > 200 * saved_members, (a, p, saved_members)
    loaded = F.load_model(tmp_path / "p.npz", target(0))
    twin = F.load_model(tmp_path / "a.npz", target(0))
    assert np.array_equal(loaded(X), twin(X))


W = "fc1.weight/fp32"  # the good packed member: header int32 (3, 4), values float32 x 12
HEADER, VALUES = np.array([3, 4], np.int32).tobytes(), np.zeros(12, np.float32).tobytes()


def table(*entries_) -> bytes:
    return bytes([len(entries_)]) + b"".join(entries_)


GOOD_TABLE = table(entry(b"header", b"<i4", 2), entry(b"values", b"<f4", 12))

#: (name, the member's bytes in place of fc1.weight/fp32, what the error says)
HOSTILE = [
    ("no parts", uint8_member(bytes([0])), "its table declares 0 parts; a packed member holds 1 to 16"),
    ("too many parts", uint8_member(bytes([17]) + b"\0" * 40), "its table declares 17 parts"),
    ("empty member", uint8_member(b""), "its table declares 0 parts"),
    ("truncated table", uint8_member(GOOD_TABLE[:20]), "its table is truncated"),
    ("a name too long", uint8_member(table(entry(b"h" * 40, b"<i4", 2)) + HEADER), "its table is truncated"),
    ("an object dtype", uint8_member(table(entry(b"header", b"|O8", 2)) + HEADER),
     r"part 'header' declares dtype '\|O8'; allowed"),
    ("a big-endian dtype", uint8_member(table(entry(b"header", b">i4", 2)) + HEADER),
     r"part 'header' declares dtype '>i4'"),
    ("a part twice", uint8_member(table(entry(b"header", b"<i4", 2), entry(b"header", b"<i4", 2))
                                  + HEADER + HEADER), "its table declares part 'header' twice"),
    ("an unprintable name", uint8_member(table(entry(b"head\n", b"<i4", 2)) + HEADER),
     "not printable ASCII"),
    ("a huge part", uint8_member(table(entry(b"header", b"<i4", 2), entry(b"values", b"<f4", 2**40))
                                 + HEADER + VALUES), "part 'values' declares 1099511627776 values"),
    ("a byte too many", uint8_member(GOOD_TABLE + HEADER + VALUES + b"\0"),
     rf"its table declares {len(GOOD_TABLE + HEADER + VALUES)} bytes \(table and parts\); the member holds "
     rf"{len(GOOD_TABLE + HEADER + VALUES) + 1}"),
    ("not uint8", npy_bytes(np.zeros(20, np.float32)), "a packed member is a 1-D uint8 array"),
    ("a missing part", uint8_member(table(entry(b"header", b"<i4", 2)) + HEADER), r"missing \['values'\]"),
    ("an unknown part", uint8_member(table(entry(b"header", b"<i4", 2), entry(b"values", b"<f4", 12),
                                           entry(b"extra", b"|u1", 1)) + HEADER + VALUES + b"\0"),
     r"unexpected \['extra'\]"),
    ("values in float64", uint8_member(table(entry(b"header", b"<i4", 2), entry(b"values", b"<f8", 12))
                                       + HEADER + np.zeros(12).tobytes()),
     "must have dtype float32; got <f8"),
    ("an int64 header", uint8_member(table(entry(b"header", b"<i8", 2), entry(b"values", b"<f4", 12))
                                     + np.array([3, 4]).tobytes() + VALUES),
     r"part 'header' is declared <i8 of shape \(2,\); expected <i4 of shape \(2,\)"),
    ("NaN weights", uint8_member(GOOD_TABLE + HEADER + np.full(12, np.nan, np.float32).tobytes()),
     r"contains 12 non-finite value\(s\)"),
    ("header of another shape", uint8_member(GOOD_TABLE + np.array([4, 3], np.int32).tobytes() + VALUES),
     r"the file's shape \(4, 3\) does not match the model's \(3, 4\)"),
]


@pytest.fixture
def good(tmp_path):
    F.save_model(tmp_path / "good.npz", target(1), "fp32", layout="packed")
    return members(tmp_path / "good.npz")


def test_the_good_member_is_the_one_the_hostile_cases_break(good):
    assert good[W] == uint8_member(GOOD_TABLE + HEADER + np.ascontiguousarray(
        target(1).fc1.params["weight"]).reshape(-1).tobytes())


def _refused(path, match):
    model = target(0)
    before = model(X)
    with pytest.raises(ValueError, match=match):
        F.load_model(path, model)
    assert np.array_equal(model(X), before)


@pytest.mark.parametrize("name, data, reason", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_every_broken_packed_member_names_the_file_and_the_key(tmp_path, good, name, data, reason):
    path = write(tmp_path / "bad.npz", {**good, W: data})
    _refused(path, rf"bad\.npz: key 'fc1\.weight(/fp32)?'.*{reason}")  # the format's checks name the weight


def test_a_bit_flipped_in_a_packed_member_fails_the_zip_crc(tmp_path, good):
    path = write(tmp_path / "bad.npz", good)
    raw = bytearray(Path(path).read_bytes())
    at = raw.find(good[W]) + len(good[W]) - 1
    raw[at] ^= 0x01  # the last byte of fc1.weight's values; the zip entry keeps the old CRC-32
    Path(path).write_bytes(bytes(raw))
    _refused(path, rf"bad\.npz: key '{W}': cannot read .*BadZipFile: Bad CRC-32")


@pytest.mark.parametrize("where", ["table", "npy header"])
def test_a_small_packed_file_declaring_a_huge_part_is_refused_before_allocation(tmp_path, good, where):
    if where == "table":  # the table says 60000 x 60000 float32 values, 3.6e9 of them
        data = uint8_member(table(entry(b"header", b"<i4", 2), entry(b"values", b"<f4", 60000**2)) + HEADER)
        reason = f"part 'values' declares 3600000000 values; the member holds {len(GOOD_TABLE + HEADER)}"
    else:  # the member's own .npy header declares 3.6 GB of uint8
        text = repr({"descr": "|u1", "fortran_order": False, "shape": (60000**2,)})
        text += " " * (-(len(text) + 11) % 64) + "\n"
        data = b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode() + GOOD_TABLE + HEADER
        reason = f"the member holds {len(GOOD_TABLE + HEADER)} bytes of data; its header declares 3600000000"
    path = write(tmp_path / "huge.npz", {**good, W: data})
    tracemalloc.start()
    try:
        _refused(path, rf"huge\.npz: key '{W}': {reason}")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200_000, peak


@pytest.mark.parametrize("parts, match", [
    ({}, "parts must hold 1 to 16 arrays; got 0"),
    ({f"p{i}": np.zeros(1) for i in range(17)}, "got 17"),
    ({"w": np.zeros((2, 2))}, r"part 'w' must be a 1-D array .*; got <f8 of shape \(2, 2\)"),
    ({"w": np.array([None])}, r"part 'w' must be a 1-D array .*; got \|O"),
    ({"w" * 33: np.zeros(1)}, "must be 1 to 32 printable ASCII characters"),
    ({"wé": np.zeros(1)}, "must be 1 to 32 printable ASCII characters"),
])
def test_pack_parts_refuses_what_the_layout_cannot_hold(parts, match):
    with pytest.raises(ValueError, match=match):
        pack_parts(parts)


def test_save_model_names_a_bad_layout(tmp_path):
    with pytest.raises(ValueError, match=r"layout must be one of .*'arrays', 'packed'.*; got 'zip'"):
        F.save_model(tmp_path / "m.npz", target(0), layout="zip")
    assert not (tmp_path / "m.npz").exists()
