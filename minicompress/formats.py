"""Storage formats (section 2.2): how a weight array is laid out in bits, and save/load.

A compressed model is only smaller once its weights are *stored* differently: a pruned
float32 matrix full of zeros takes exactly as many bytes as the dense one.  Each format
here turns an array into an :class:`Encoding` -- the few plain arrays that would be written
to disk -- and back.  An encoding's size is the sum of those arrays' bytes, so the size
accounted is exactly the size stored; the closed forms below are checked by the tests.

Every encoding starts with a ``header``: the array's shape as int32 (32 bits per
dimension), plus the format's extra fields (CSR: the non-zero count z; low-rank: the rank r).

==============  ========================================================  =========
name            payload bits (n = w.size, z = non-zeros, view (m, k))       lossless
==============  ========================================================  =========
fp32, fp16      n * 32, n * 16                                            fp32 yes
csr             z*b + z*i + (m+1)*p  (b value bits, i column-index bits,  yes
                p row-pointer bits; i, p = smallest of 8/16/32 that fits)
bitmask         8*ceil(n/8) + z*b   (1 bit per position + values)         yes
int8            8n + 32              (codes + one float32 scale)          no
                (q = round(w / scale * 127), scale = max|w|: section 4.2.2)
int8_channel    8n + 32*m            (one scale per output channel)       no
binary          8*ceil(n/8) + 32     (1 bit per weight, w = +-alpha)      yes*
ternary         8*ceil(2n/8) + 32    (2 bits per weight, w in {-a,0,a})   yes*
lowrank         32 * (sum of factor sizes), e.g. 32*r*(m+k)               no
==============  ========================================================  =========

(*) for arrays that are already binary / ternary; ``per_channel=True`` stores m scales.
Packed bits are whole bytes (``np.packbits`` pads the last one), and that padding is counted.

Arrays of more than two dimensions are viewed as 2-D ``(shape[0], prod(shape[1:]))``: a
Conv2d weight (C_out, C_in, kh, kw) is the matrix (C_out, C_in*kh*kw), the im2col layout;
a 1-D array (a bias) is the row (1, n).  Zeros decode as +0.0 (a -0.0 loses its sign).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "FORMATS", "FORMAT_NAMES", "Encoding", "encode", "decode", "size_bits", "index_dtype",
    "matrix_view", "save_model", "load_model",
]

#: value dtypes the sparse formats store as they are (b = 32, 16 or 8 bits)
_VALUE_DTYPES = (np.float32, np.float16, np.int8)


@dataclass(frozen=True)
class Encoding:
    """An array in a storage format: ``arrays`` is exactly what is written to disk."""

    fmt: str
    arrays: dict = field(repr=False)

    @property
    def bits(self) -> int:
        """Exact stored size in bits, header included."""
        return 8 * int(sum(a.nbytes for a in self.arrays.values()))

    @property
    def header_bits(self) -> int:
        return 8 * int(self.arrays["header"].nbytes)

    @property
    def payload_bits(self) -> int:
        return self.bits - self.header_bits

    @property
    def shape(self) -> tuple:
        header = self.arrays["header"]
        return tuple(int(d) for d in header[: len(header) - _FMT[self.fmt].extra])


def index_dtype(max_value: int):
    """The smallest unsigned dtype of 8/16/32 bits holding ``max_value`` (an index bound)."""
    for dt in (np.uint8, np.uint16, np.uint32):
        if max_value <= np.iinfo(dt).max:
            return np.dtype(dt)
    raise ValueError(f"index value {max_value} does not fit in 32 bits")


def matrix_view(shape) -> tuple[int, int]:
    """The 2-D view formats use: ``(shape[0], prod(shape[1:]))``; 1-D and 0-D -> ``(1, n)``."""
    shape = tuple(shape)
    if len(shape) <= 1:
        return 1, int(np.prod(shape, dtype=np.int64))
    return shape[0], int(np.prod(shape[1:], dtype=np.int64))


def _header(shape, *extra) -> np.ndarray:
    return np.array([*shape, *extra], dtype=np.int32)


def _values(w: np.ndarray, fmt: str) -> np.ndarray:
    if w.dtype.type not in _VALUE_DTYPES:
        raise TypeError(
            f"format {fmt!r} stores values as float32, float16 or int8; got dtype {w.dtype}. "
            "Cast first, e.g. w.astype(np.float32)"
        )
    return w


# ----------------------------------------------------------------------------- dense
def _dense(dtype):
    def enc(w):
        if w.dtype.kind != "f":
            raise TypeError(f"dense formats take a float array; got dtype {w.dtype}")
        return {"header": _header(w.shape), "values": w.astype(dtype).ravel()}

    return enc


def _dense_dec(a, shape):
    return a["values"].reshape(shape)


# ----------------------------------------------------------------------------- sparse
def _csr_enc(w):
    """CSR of the 2-D view: values in row order, their column indices, m+1 row pointers."""
    w = _values(w, "csr")
    m, k = matrix_view(w.shape)
    W = w.reshape(m, k)
    rows, cols = np.nonzero(W)
    z = rows.size
    indptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=m), out=indptr[1:])
    return {
        "header": _header(w.shape, z),
        "values": W[rows, cols],
        "indices": cols.astype(index_dtype(max(k - 1, 0))),
        "indptr": indptr.astype(index_dtype(z)),
    }


def _csr_dec(a, shape):
    m, k = matrix_view(shape)
    W = np.zeros((m, k), dtype=a["values"].dtype)
    counts = np.diff(a["indptr"].astype(np.int64))
    W[np.repeat(np.arange(m), counts), a["indices"].astype(np.int64)] = a["values"]
    return W.reshape(shape)


def _bitmask_enc(w):
    """One bit per position (1 = stored, C order) then the non-zero values in that order."""
    w = _values(w, "bitmask")
    mask = w.ravel() != 0
    return {"header": _header(w.shape), "mask": np.packbits(mask), "values": w.ravel()[mask]}


def _bitmask_dec(a, shape):
    n = int(np.prod(shape, dtype=np.int64))
    mask = np.unpackbits(a["mask"], count=n).astype(bool)
    out = np.zeros(n, dtype=a["values"].dtype)
    out[mask] = a["values"]
    return out.reshape(shape)


# ----------------------------------------------------------------------------- int8
def _int8_enc(w, scale=None, per_channel=False):
    """int8 codes q and float32 scale(s), with the text's convention (section 4.2.2):

        q = round(w / scale * 127),   w_hat = q * scale / 127,

    ``scale`` being the magnitude that maps to code 127 -- as ``quantize.int8_quantize``
    returns it.  Given float ``w`` and no scale: ``scale = max|w|`` per tensor (or per row
    of the 2-D view with ``per_channel``), 1.0 for an all-zero tensor or row; rounding half
    to even.  Given int8 codes ``w`` (e.g. from ``quantize.int8_quantize``), ``scale`` is
    required and stored as is (as float32).  Codes beyond [-127, 127] raise: nothing is clipped.
    """
    m, k = matrix_view(w.shape)
    W = w.reshape(m, k) if per_channel else w.reshape(1, -1)
    if w.dtype == np.int8:
        if scale is None:
            raise ValueError("int8 codes need their scale: encode(q, 'int8', scale=s)")
    elif w.dtype.kind != "f":
        raise TypeError(f"int8 format takes float weights or int8 codes; got dtype {w.dtype}")
    elif scale is None:
        amax = np.abs(W).max(axis=1).astype(np.float32)
        scale = np.where(amax > 0, amax, np.float32(1))
    s = np.asarray(scale, dtype=np.float32).reshape(-1, 1)
    if s.shape[0] != W.shape[0] or not np.all(s > 0):
        raise ValueError(f"scale must be {W.shape[0]} positive value(s) for this array; got {scale!r}")
    q = W if w.dtype == np.int8 else np.rint(W.astype(np.float64) / s * 127)
    if np.abs(q).max(initial=0) > 127:
        raise ValueError(f"int8 codes must lie in [-127, 127]; got max |q| = {np.abs(q).max()}")
    return {"header": _header(w.shape), "codes": q.astype(np.int8).ravel(), "scale": s.ravel()}


def _int8_dec(a, shape):
    step = a["scale"].reshape(-1, 1) / np.float32(127)
    return (a["codes"].reshape(step.shape[0], -1).astype(np.float32) * step).reshape(shape)


# ----------------------------------------------------------------------------- 1 and 2 bits
def _magnitudes(w, per_channel, fmt, allowed):
    """alpha per tensor (or per row) for arrays whose non-zeros share one magnitude."""
    if w.dtype.kind != "f":
        raise TypeError(f"{fmt} format takes a float array; got dtype {w.dtype}")
    m, _ = matrix_view(w.shape)
    W = np.abs(w.reshape(m, -1) if per_channel else w.reshape(1, -1))
    alpha = W.max(axis=1, keepdims=True)
    if not np.all((W == alpha) | ((W == 0) & ("zero" in allowed))):
        hint = "" if per_channel else " (or one per output channel: per_channel=True)"
        raise ValueError(
            f"{fmt} format stores arrays with values in {allowed}, one alpha per tensor{hint}; "
            f"got {len(np.unique(W))} distinct magnitudes. Quantize the weights first"
        )
    return W.shape, alpha.astype(np.float32)


def _binary_enc(w, per_channel=False):
    """1 bit per weight: 1 for w >= 0 (sign(0) = +1, section 4.2.1), 0 for w < 0."""
    _, alpha = _magnitudes(w, per_channel, "binary", "{-alpha, +alpha}")
    return {"header": _header(w.shape), "bits": np.packbits(w.ravel() >= 0), "scale": alpha.ravel()}


def _binary_dec(a, shape):
    n = int(np.prod(shape, dtype=np.int64))
    sign = np.where(np.unpackbits(a["bits"], count=n) == 1, np.float32(1), np.float32(-1))
    s = a["scale"].reshape(-1, 1)
    return (sign.reshape(s.shape[0], -1) * s).reshape(shape)


def _ternary_enc(w, per_channel=False):
    """2 bits per weight, two's complement: 00 = 0, 01 = +1, 11 = -1 (10 unused)."""
    _, alpha = _magnitudes(w, per_channel, "ternary", "{-alpha, zero, +alpha}")
    code = np.where(w.ravel() > 0, 1, np.where(w.ravel() < 0, 3, 0)).astype(np.uint8)
    bits = np.stack([code >> 1, code & 1], axis=1).ravel()
    return {"header": _header(w.shape), "bits": np.packbits(bits), "scale": alpha.ravel()}


def _ternary_dec(a, shape):
    n = int(np.prod(shape, dtype=np.int64))
    b = np.unpackbits(a["bits"], count=2 * n).reshape(n, 2)
    code = 2 * b[:, 0] + b[:, 1]
    t = np.where(code == 1, np.float32(1), np.where(code == 3, np.float32(-1), np.float32(0)))
    s = a["scale"].reshape(-1, 1)
    return (t.reshape(s.shape[0], -1) * s).reshape(shape)


# ----------------------------------------------------------------------------- low rank
def _lowrank_enc(w, rank=None, factors=None):
    """Factors A (m, r), B (r, k) of the 2-D view, stored float32; decode = A @ B.

    Pass the factors a low-rank method produced (``factors=(A, B)``), or ``rank`` for the
    format's own split: truncated SVD, A = U_r * sigma_r, B = V_r^T (section 4.4.1).
    """
    m, k = matrix_view(w.shape)
    if factors is None:
        if rank is None:
            raise ValueError("lowrank format needs rank=r or factors=(A, B)")
        if not 1 <= rank <= min(m, k):
            raise ValueError(f"rank must be in [1, {min(m, k)}] for a {m}x{k} matrix; got {rank}")
        U, s, Vt = np.linalg.svd(w.reshape(m, k).astype(np.float64), full_matrices=False)
        factors = (U[:, :rank] * s[:rank], Vt[:rank])
    A, B = (np.asarray(f, dtype=np.float32) for f in factors)
    if A.ndim != 2 or B.ndim != 2 or A.shape[0] != m or B.shape[1] != k or A.shape[1] != B.shape[0]:
        raise ValueError(
            f"factors must be (m, r) and (r, k) with (m, k) = {(m, k)}; got {A.shape}, {B.shape}"
        )
    return {"header": _header(w.shape, A.shape[1]), "A": A.ravel(), "B": B.ravel()}


def _lowrank_dec(a, shape):
    m, k = matrix_view(shape)
    r = int(a["header"][-1])
    return (a["A"].reshape(m, r) @ a["B"].reshape(r, k)).reshape(shape)


# ----------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class _Format:
    encode: object
    decode: object
    lossless: bool
    extra: int = 0  # header fields after the shape


_FMT = {
    "fp32": _Format(_dense(np.float32), _dense_dec, True),
    "fp16": _Format(_dense(np.float16), _dense_dec, False),
    "csr": _Format(_csr_enc, _csr_dec, True, extra=1),
    "bitmask": _Format(_bitmask_enc, _bitmask_dec, True),
    "int8": _Format(_int8_enc, _int8_dec, False),
    "int8_channel": _Format(lambda w, scale=None: _int8_enc(w, scale, per_channel=True), _int8_dec, False),
    "binary": _Format(_binary_enc, _binary_dec, True),
    "ternary": _Format(_ternary_enc, _ternary_dec, True),
    "lowrank": _Format(_lowrank_enc, _lowrank_dec, False, extra=1),
}
#: every array format; ``"auto"`` is a model-level choice (metrics.model_size_bits)
FORMATS = tuple(_FMT)
FORMAT_NAMES = (*FORMATS, "auto")


def _get(fmt: str) -> _Format:
    if not isinstance(fmt, str) or fmt not in _FMT:
        extra = " ('auto' is for whole models: metrics.model_size_bits)" if fmt == "auto" else ""
        raise ValueError(f"unknown storage format {fmt!r}{extra}; choose from {list(FORMATS)}")
    return _FMT[fmt]


def encode(w, fmt: str, **options) -> Encoding:
    """Encode array ``w`` in format ``fmt`` (see the module table); options go to the format."""
    spec = _get(fmt)
    if not isinstance(w, np.ndarray):
        raise TypeError(f"w must be a numpy array; got {type(w).__name__}")
    if w.size == 0:
        raise ValueError(f"w is empty (shape {w.shape}); nothing to encode")
    return Encoding(fmt, spec.encode(w, **options))


def decode(enc: Encoding) -> np.ndarray:
    """The array an :class:`Encoding` holds (bit-exact for the lossless formats)."""
    return _get(enc.fmt).decode(enc.arrays, enc.shape)


def size_bits(w, fmt: str, **options) -> int:
    """Exact stored bits of ``w`` in format ``fmt``, header included."""
    return encode(w, fmt, **options).bits


# ----------------------------------------------------------------------------- save / load
def _check_path(path) -> Path:
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or pathlib.Path; got {type(path).__name__}")
    return Path(path)


def save_model(path, model, fmt: str = "fp32", **options) -> dict:
    """Write ``model``'s parameters to an ``.npz``: weights (ndim >= 2) in ``fmt``, the rest
    (biases) fp32.  Keys are ``"<param>/<fmt>/<part>"`` (``fc.weight/csr/values``), so the
    file holds exactly the encoded arrays and its size on disk is the accounted size plus the
    zip container's per-array overhead (about 200 bytes each).  Returns the encodings.
    """
    path = _check_path(path)
    _get(fmt)
    encodings = {}
    for name, p in model.named_parameters():
        encodings[name] = encode(p, fmt if p.ndim >= 2 else "fp32", **(options if p.ndim >= 2 else {}))
    if not encodings:
        raise ValueError(f"model {type(model).__name__} has no parameters to save")
    flat = {f"{n}/{e.fmt}/{part}": a for n, e in encodings.items() for part, a in e.arrays.items()}
    with open(path, "wb") as fh:  # a file handle: np.savez would append .npz to a bare name
        np.savez(fh, **flat)
    return encodings


def load_model(path, model):
    """Load parameters saved by :func:`save_model` (or a plain ``np.savez(**state_dict)``) into
    ``model`` in place and return it.  ``allow_pickle=False``: loading never runs code.

    A missing or extra key, or a shape mismatch, raises ``ValueError`` naming the key.
    """
    path = _check_path(path)
    with np.load(path, allow_pickle=False) as data:
        parts: dict[str, dict] = {}
        state = {}
        for key in data.files:
            name, *rest = key.split("/")
            if not rest:
                state[name] = data[key]
            elif len(rest) == 2:
                parts.setdefault((name, rest[0]), {})[rest[1]] = data[key]
            else:
                raise ValueError(f"{path}: key {key!r} is not '<param>' or '<param>/<fmt>/<part>'")
    for (name, fmt), arrays in parts.items():
        if name in state:
            raise ValueError(f"{path}: key {name!r} is stored twice")
        try:
            state[name] = decode(Encoding(fmt, arrays))
        except (KeyError, ValueError) as err:
            raise ValueError(f"{path}: cannot decode key {name!r} stored as {fmt!r}: {err!r}") from err
    model.load_state_dict(state)
    return model
