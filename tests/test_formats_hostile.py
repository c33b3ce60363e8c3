"""Broken and hostile files (cases 7 and 8 of the bad-input issue): every one gives a
ValueError that names the file and the key, leaves the model exactly as it was, and is
refused before anything the file declares is allocated.  The fixtures are built here, in
tmp_path, from a good file's members."""

import io
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from minicompress import formats as F
from minicompress.formats.io import model_encodings
from minicompress.formats.npz import NpzReader
from minicompress.nn import Linear, ReLU, Sequential
from minicompress.nn.models import ConvNet

X = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)


def target(seed=0):
    """A plain layer (saved in the file's format) and a stored CSR layer (saved as it is)."""
    return Sequential(fc1=Linear(4, 3, rng=seed), relu=ReLU(),
                      fc2=F.compress_layer(Linear(3, 2, rng=seed + 1), "csr"))


def npy(arr=None, *, descr=None, shape=None, data=b"", fortran=False, pad=0) -> bytes:
    """The bytes of a .npy file: ``arr`` as np.save writes it, or a hand-written header
    (``descr``, ``shape``; ``pad`` extra spaces of header text) followed by ``data``."""
    buf = io.BytesIO()
    if arr is not None:
        np.save(buf, arr, allow_pickle=True)
        return buf.getvalue()
    text = repr({"descr": descr, "fortran_order": fortran, "shape": tuple(shape)}) + " " * pad
    text = text + " " * (-(len(text) + 11) % 64) + "\n"
    header = b"\x93NUMPY" + bytes([1 if len(text) < 65536 else 2, 0])
    header += len(text).to_bytes(2 if len(text) < 65536 else 4, "little")
    return header + text.encode("latin1") + data


def members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name[:-4]: z.read(name) for name in z.namelist()}


def write(path, items, *, names=None) -> str:
    """A zip of ``{key: npy bytes or array}`` (stored uncompressed, as np.savez does)."""
    with zipfile.ZipFile(path, "w") as z:
        for key, value in items.items():
            z.writestr(key + ".npy", value if isinstance(value, bytes) else npy(value))
        for name, value in (names or []):
            z.writestr(name, value)
    return str(path)


@pytest.fixture
def good(tmp_path):
    """The members of a good fp32 file and of a good int8 file of ``target(1)``."""
    F.save_model(tmp_path / "fp32.npz", target(1), "fp32")
    F.save_model(tmp_path / "int8.npz", target(1), "int8")
    return members(tmp_path / "fp32.npz"), members(tmp_path / "int8.npz")


def snapshot(model):
    enc = {k: {p: a.copy() for p, a in e.arrays.items()} for k, e in model_encodings(model).items()}
    return model(X), enc


def assert_unchanged(model, before):
    out, enc = snapshot(model)
    assert np.array_equal(out, before[0])
    assert enc.keys() == before[1].keys()
    for k in enc:
        assert all(np.array_equal(enc[k][p], before[1][k][p]) for p in enc[k]), k


def _set(m, key, value):
    return {**m, key: value}


def put(key, value):
    """Replace (or add) the member ``key``."""
    return lambda m: _set(m, key, value if isinstance(value, bytes) else npy(value))


def swap(name, items):
    """Drop every member of ``name`` and add ``items`` ``{key: array}``."""
    def make(m):
        kept = {k: v for k, v in m.items() if k.split("/")[0] != name}
        return {**kept, **{k: npy(v) for k, v in items.items()}}

    return make


def _csr_indices_out_of_range(m):
    idx = np.load(io.BytesIO(m["fc2.weight/csr/indices"]))  # 6 uint8 column indices
    idx[2] = 3  # k = 3 columns: 3 is out of range
    return _set(m, "fc2.weight/csr/indices", npy(idx))


def _corrupt_codes(m):
    codes = np.load(io.BytesIO(m["fc1.weight/int8/codes"]))
    codes[0] = 0x80  # the int8 code -128: outside the symmetric range [-127, 127]
    return _set(m, "fc1.weight/int8/codes", npy(codes))


i32, f32 = np.int32, np.float32
FP32_W, INT8_W = "fc1.weight/fp32", "fc1.weight/int8"

#: (name, which good file (0: fp32, 1: int8), how to break it, the key named, the reason)
HOSTILE = [
    ("0-d header", 0, put(f"{FP32_W}/header", np.array(3, i32)),
     f"{FP32_W}/header", r"declared <i4 of shape \(\); expected <i4 of shape \(2,\)"),
    ("int64 header", 0, put(f"{FP32_W}/header", np.array([3, 4])), f"{FP32_W}/header", "declared <i8"),
    ("negative dimension", 0, put(f"{FP32_W}/header", np.array([-3, -4], i32)),
     "fc1.weight", r"shape \(-3, -4\)"),
    ("header of another shape", 0, put(f"{FP32_W}/header", np.array([4, 3], i32)),
     "fc1.weight", r"the file's shape \(4, 3\) does not match the model's \(3, 4\)"),
    ("CSR index out of range", 0, _csr_indices_out_of_range,
     "fc2.weight", r"CSR column indices must lie in \[0, 3\)"),
    ("CSR row pointers decreasing", 0, put("fc2.weight/csr/indptr", np.array([0, 7, 6], np.uint8)),
     "fc2.weight", "CSR row pointers must rise from 0 to z = 6"),
    ("CSR index dtype", 0, put("fc2.weight/csr/indices", np.arange(6) % 3),
     "fc2.weight", "part 'indices' of a 'csr' encoding must have dtype uint8; got <i8"),
    ("unknown key with a huge header", 0, put("junk/fp32/values", npy(descr="<f4", shape=(60000, 60000))),
     "keys", r"do not match the model: missing \[\], unexpected \['junk'\]"),
    ("object array", 0, put("fc1.bias/fp32/values", np.array([{}, 1, None], dtype=object)),
     "fc1.bias", r"part 'values' of a 'fp32' encoding must have dtype float32; got \|O"),
    ("float64 values", 0, put(f"{FP32_W}/values", np.zeros(12)),
     "fc1.weight", "must have dtype float32; got <f8"),
    ("big-endian values", 0, put(f"{FP32_W}/values", np.zeros(12, ">f4")),
     "fc1.weight", "must have dtype float32; got >f4"),
    ("values of another length", 0, put(f"{FP32_W}/values", np.zeros(13, f32)),
     "fc1.weight", r"must hold 12 values; got 13"),
    ("2-D values", 0, put(f"{FP32_W}/values", np.zeros((3, 4), f32)),
     "fc1.weight", r"must be 1-D; got shape \(3, 4\)"),
    ("NaN weight", 0, put(f"{FP32_W}/values", np.full(12, np.nan, f32)),
     "fc1.weight", r"contains 12 non-finite value\(s\)"),
    ("a missing part", 0, lambda m: {k: v for k, v in m.items() if k != "fc2.weight/csr/indptr"},
     "fc2.weight", r"missing \['indptr'\]"),
    ("an extra part", 0, put(f"{FP32_W}/extra", np.zeros(1, f32)), "fc1.weight", r"unexpected \['extra'\]"),
    ("two formats for one name", 0, put("fc1.bias/fp16/values", np.zeros(3, np.float16)),
     "fc1.bias", "is stored twice"),
    ("a key that is not name/fmt/part", 0, put("fc1.bias/values", np.zeros(3)),
     "fc1.bias/values", "is not '<name>' or '<name>/<fmt>/<part>'"),
    ("unknown format", 0, swap("fc1.bias", {"fc1.bias/zip/header": np.array([3], i32)}),
     "fc1.bias", "the format named in the key must be one of the storage formats .*; got 'zip'"),
    ("stored layer in another format", 1,
     swap("fc2.weight", {"fc2.weight/fp32/header": np.array([2, 3], i32),
                         "fc2.weight/fp32/values": np.zeros(6, f32)}),
     "fc2.weight", "stored as 'fp32'; the model's layer holds 'csr'"),
    ("corrupted packed codes", 1, _corrupt_codes,
     "fc1.weight", r"must lie in \[-127, 127\]; got values from -128"),
    ("codes of another length", 1, put(f"{INT8_W}/codes", np.zeros(11, np.uint8)),
     "fc1.weight", "part 'codes' of a 'int8' encoding of shape .* must hold 12 values; got 11"),
    ("header field bits out of range", 1, put(f"{INT8_W}/header", np.array([3, 4, 4], i32)),
     "fc1.weight", "the header field bits must be 8 for this format; got 4"),
    ("zero scale", 1, put(f"{INT8_W}/scale", np.zeros(1, f32)),
     "fc1.weight", r"scale must be in \(0.0, inf\); got 0.0"),
    ("member shorter than its header", 0,
     put(f"{FP32_W}/values", npy(descr="<f4", shape=(12,), data=b"\0" * 20)),
     f"{FP32_W}/values", "the member holds 20 bytes of data; its header declares 48"),
    ("header text beyond 10,000 bytes", 0,
     put(f"{FP32_W}/values", npy(descr="<f4", shape=(12,), data=b"\0" * 48, pad=20000)),
     f"{FP32_W}/values", "cannot read its .npy header"),
    ("bad magic", 0, put("fc1.bias/fp32/values", b"PK\x03\x04 not an npy"),
     "fc1.bias/fp32/values", "cannot read its .npy header"),
    ("plain int array", 0, swap("fc1.bias", {"fc1.bias": np.array([1, 2, 3])}),
     "fc1.bias", "a weight must be a real floating array; the file declares <i8"),
    ("plain array of another shape", 0, swap("fc1.bias", {"fc1.bias": np.zeros(4, f32)}),
     "fc1.bias", r"the file's shape \(4,\) does not match the model's \(3,\)"),
]


@pytest.mark.parametrize("name, which, make, key, reason", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_case_08_every_hostile_file_names_the_file_and_the_key(tmp_path, good, name, which, make, key,
                                                               reason):
    path = write(tmp_path / "bad.npz", make(dict(good[which])))
    model = target(0)
    before = snapshot(model)
    where = key if key == "keys" else f"key '{key}'"
    with pytest.raises(ValueError, match=rf"bad\.npz: {where}.*{reason}"):
        F.load_model(path, model)
    assert_unchanged(model, before)


def test_case_08_a_bit_flipped_in_the_data_fails_the_zip_crc(tmp_path, good):
    path = write(tmp_path / "bad.npz", good[0])
    raw = bytearray(Path(path).read_bytes())
    member = good[0]["fc1.bias/fp32/values"]
    at = raw.find(member) + len(member) - 1
    raw[at] ^= 0x01  # the last byte of the bias data; the zip entry keeps the old CRC-32
    Path(path).write_bytes(bytes(raw))
    model = target(0)
    before = snapshot(model)
    match = r"bad\.npz: key 'fc1.bias/fp32/values': cannot read .*BadZipFile: Bad CRC-32"
    with pytest.raises(ValueError, match=match):
        F.load_model(path, model)
    assert_unchanged(model, before)


def _truncated(path, good):
    full = write(path.with_name("full.npz"), good)
    path.write_bytes(Path(full).read_bytes()[:700])  # the central directory is gone


def _duplicate(path, good):
    with pytest.warns(UserWarning, match="Duplicate name"):
        write(path, good, names=[("fc1.bias/fp32/values.npy", good["fc1.bias/fp32/values"])])


NOT_NPZ = r"bad\.npz: not an .npz file \(a zip archive of .npy arrays\): BadZipFile"


@pytest.mark.parametrize("make, match", [
    (lambda path, good: path.write_bytes(b""), NOT_NPZ),
    (_truncated, NOT_NPZ),
    (lambda path, good: path.write_bytes(npy(np.zeros(3, np.float32))), NOT_NPZ),  # a .npy renamed .npz
    (lambda path, good: path.write_bytes(b"\x00" * 3000), NOT_NPZ),
    (lambda path, good: write(path, {}, names=[("README.txt", b"hello")]),
     r"bad\.npz: member 'README.txt' is not an .npy array"),
    (_duplicate, r"bad\.npz: key 'fc1.bias/fp32/values' is stored twice"),
], ids=["empty", "truncated", "npy renamed", "zeros", "not npy members", "duplicate key"])
def test_case_08_files_that_are_not_npz_archives(tmp_path, good, make, match):
    path = tmp_path / "bad.npz"
    make(path, good[0])
    model = target(0)
    before = snapshot(model)
    with pytest.raises(ValueError, match=match):
        F.load_model(path, model)
    assert_unchanged(model, before)


def _saved(path, model, fmt="fp32") -> dict[str, bytes]:
    F.save_model(path, model, fmt)
    return members(path)


def _declares_60000_squared(path, *, in_header: bool) -> str:
    """A ~3 KB file whose fc1.weight declares 60000 x 60000 float32 values (13.4 GiB): in
    the format's header array (``in_header``), or in the values' own .npy header."""
    m = _saved(path, target(1))
    huge = npy(descr="<f4", shape=(60000 * 60000,), data=b"\0" * 512)
    if in_header:
        m["fc1.weight/fp32/header"] = npy(np.array([60000, 60000], np.int32))
    m["fc1.weight/fp32/values"] = huge
    return write(path, m)


@pytest.mark.parametrize("in_header", [True, False])
def test_case_07_a_small_file_declaring_a_huge_array_is_refused_before_allocation(tmp_path, in_header):
    path = _declares_60000_squared(tmp_path / "huge.npz", in_header=in_header)
    assert (tmp_path / "huge.npz").stat().st_size < 4096  # about 3 KB
    model = target(0)
    before = snapshot(model)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"huge\.npz: key 'fc1.weight'"):
            F.load_model(path, model)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200_000, peak  # what the file declares is 13.4 GiB
    assert_unchanged(model, before)


def test_case_07_loads_allocate_a_small_multiple_of_the_model(tmp_path):
    """The peak of a good load, over the formats: a few times the target's float32 size."""
    model = ConvNet(rng=0)
    dense = sum(p.nbytes for p in model.parameters())
    for fmt, options in [("fp32", {}), ("int", {"bits": 16}), ("int", {"bits": 3}), ("csr", {"bits": 16}),
                         ("bitmask", {}), ("lowrank", {"rank": 3}), ("fp16", {})]:
        F.save_model(tmp_path / "m.npz", ConvNet(rng=1), fmt, **options)
        tracemalloc.start()
        try:
            F.load_model(tmp_path / "m.npz", model)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 8 * dense, (fmt, options, peak / dense)


def test_a_fortran_ordered_plain_array_loads_as_it_is(tmp_path):
    model, source = target(0), target(1)
    m = _saved(tmp_path / "f.npz", source)
    m = {k: v for k, v in m.items() if not k.startswith("fc1.weight/")}
    m["fc1.weight"] = npy(np.asfortranarray(source.fc1.params["weight"]))
    F.load_model(write(tmp_path / "g.npz", m), model)
    assert np.array_equal(model(X), source(X))


def test_npz_reader_reads_declarations_without_the_data(tmp_path):
    path = write(tmp_path / "r.npz", {"a": npy(descr="<f4", shape=(60000, 60000))})
    with NpzReader(path) as npz:
        assert npz.keys == ["a"]
        assert npz.describe("a") == (np.dtype("<f4"), (60000, 60000))
        with pytest.raises(ValueError, match=r"key 'a': declared <f4 of shape \(60000, 60000\); expected"):
            npz.read("a", np.float32, (3,))
        with pytest.raises(ValueError, match="object arrays are never loaded"):
            npz.read("a", object, (3,))
