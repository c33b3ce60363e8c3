"""Saving a model in a storage format and loading it back: ``.npz`` files, no pickle.

A file holds exactly the encoded arrays, under keys ``"<name>/<fmt>/<part>"``
(``fc.weight/csr/values``), where ``<name>`` is a parameter of a plain layer or a stored
array of a stored-weight layer (``fc.weight``, ``fc.bias``, ``fc.multiplier``).  So its
size on disk is the accounted size plus the zip container's per-array overhead (about 200
bytes each).

Loading trusts nothing in the file and is two-phase.  Phase 1 reads and checks everything
without touching the model: the keys against the model's (an unknown key is refused before
any of it is read); per key, the ``header`` array's declared dtype and length, then its
shape against the model's, then every part's declared dtype and length against what the
format expects for that shape (:func:`~.encoding.check_parts`) -- all from the ``.npy``
headers, before a byte of data is read (:class:`~.npz.NpzReader`), so a load never
allocates more than the target's own arrays need, whatever the file declares -- then the
data, decoded and checked (finite, index ranges), and the stored layers' caches built on
copies.  Phase 2 assigns, and cannot fail.  Any failure is a ``ValueError`` naming the file
and the key, and leaves the model exactly as it was.  No pickle: loading never runs code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..nn._checks import check_parameter_value
from ..nn.module import check_module
from .encoded import Encoded
from .encoding import Encoding, check_parts, decode, encode, get_format, parse_header
from .npz import NpzReader

__all__ = ["save_model", "load_model", "model_encodings"]

#: what a plain (unencoded) weight array in a file may be: a native real float
_FLOATS = tuple(np.dtype(t) for t in (np.float16, np.float32, np.float64))


def _check_path(path) -> Path:
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or pathlib.Path; got {type(path).__name__}")
    return Path(path)


def _stored_layers(model) -> dict[str, Encoded]:
    return {name: m for name, m in model.named_modules() if isinstance(m, Encoded)}


def _stored_encodings(model) -> dict[str, Encoding]:
    """The stored layers' encodings under their file names ``<layer>.<key>``."""
    return {f"{lname}.{key}" if lname else key: enc
            for lname, layer in _stored_layers(model).items() for key, enc in layer.encodings().items()}


def model_encodings(model, fmt: str = "fp32", **options) -> dict[str, Encoding]:
    """Every array ``model`` stores, by name, as :func:`save_model` writes them.

    A stored-weight layer gives its own encodings (whatever ``fmt`` says: it knows how it is
    stored); every other parameter with ndim >= 2 (a weight) is encoded in ``fmt`` with
    ``options`` (``"auto"``: fp32), and 1-D parameters (biases) in fp32.
    """
    check_module(model)
    array_fmt = "fp32" if fmt == "auto" else fmt
    get_format(array_fmt)
    out = _stored_encodings(model)
    for name, p in model.named_parameters():
        f = array_fmt if p.ndim >= 2 else "fp32"
        try:
            out[name] = encode(p, f, **(options if p.ndim >= 2 else {}))
        except (ValueError, TypeError) as err:  # say which parameter
            raise type(err)(f"parameter {name!r} cannot be stored as {f!r}: {err}") from err
    if not out:
        raise ValueError(f"model {type(model).__name__} has no parameters or stored arrays to save")
    return out


def save_model(path, model, fmt: str = "fp32", **options) -> dict[str, Encoding]:
    """Write ``model`` to an ``.npz`` (see :func:`model_encodings`); returns the encodings."""
    path = _check_path(path)
    encodings = model_encodings(model, fmt, **options)
    flat = {f"{n}/{e.fmt}/{part}": a for n, e in encodings.items() for part, a in e.arrays.items()}
    with open(path, "wb") as fh:  # a file handle: np.savez would append .npz to a bare name
        np.savez(fh, **flat)
    return encodings


def _group(npz: NpzReader) -> dict[str, tuple[str | None, dict]]:
    """``{name: (fmt, {part: key})}`` from the file's keys ``<name>/<fmt>/<part>``; a plain
    ``np.savez(**state_dict)`` key ``<name>`` is ``(None, {None: key})``.  Names only: no
    array is read."""
    out: dict[str, tuple[str | None, dict]] = {}
    for key in npz.keys:
        name, *rest = key.split("/")
        if len(rest) not in (0, 2):
            raise ValueError(f"{npz.path}: key {key!r} is not '<name>' or '<name>/<fmt>/<part>'")
        fmt, part = (rest[0], rest[1]) if rest else (None, None)
        got_fmt, parts = out.setdefault(name, (fmt, {}))
        if got_fmt != fmt or (fmt is None and parts):
            raise ValueError(f"{npz.path}: key {name!r} is stored twice, as {got_fmt!r} and as {fmt!r}")
        parts[part] = key
    return out


def _read_encoding(npz: NpzReader, name: str, fmt: str, keys: dict, shape: tuple, own=None) -> Encoding:
    """The encoding of ``name`` (an array of ``shape``) from its file keys ``{part: key}``,
    every declaration checked before the data it declares is read (see the module
    docstring).  ``own``: the model's encoding of it, whose format and part dtypes the file
    must keep."""
    def fail(message, key=None):
        return ValueError(f"{npz.path}: key {key or name!r}: {message}")

    try:
        spec = get_format(fmt, "the format named in the key")
    except (ValueError, TypeError) as err:
        raise fail(err) from None
    if own is not None and fmt != own.fmt:
        raise fail(f"stored as {fmt!r}; the model's layer holds {own.fmt!r}")
    if "header" not in keys:
        raise fail(f"no '{name}/{fmt}/header' array")
    head = npz.read(keys["header"], np.int32, (len(shape) + len(spec.extra),))
    described = {part: npz.describe(key) for part, key in keys.items() if part != "header"}
    try:
        file_shape, fields = parse_header(fmt, head)
        if file_shape != tuple(shape):
            raise ValueError(f"the file's shape {file_shape} does not match the model's {tuple(shape)}")
        check_parts(fmt, file_shape, fields, described)
        if own is not None:
            dtypes = {p: d for p, (d, _) in described.items()}
            own_dtypes = {p: a.dtype for p, a in own.arrays.items() if p != "header"}
            if dtypes != own_dtypes:
                raise ValueError(f"the model's layer holds the parts {own_dtypes}; the file has {dtypes}")
    except ValueError as err:
        raise fail(f"stored as {fmt!r}: {err}") from None
    arrays = {"header": head}
    for part, (dtype, part_shape) in described.items():
        arrays[part] = npz.read(keys[part], dtype, part_shape)
    return Encoding(fmt, arrays)


def _decoded(npz, name, enc):
    try:
        return decode(enc)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{npz.path}: key {name!r} stored as {enc.fmt!r}: {err}") from None


def _read_parameter(npz: NpzReader, name: str, fmt, keys: dict, param: np.ndarray) -> np.ndarray:
    """The value of parameter ``name`` from the file, checked to replace ``param``: stored in
    a format (decoded), or a plain array of ``param``'s shape; a finite real float array."""
    if fmt is None:
        dtype, shape = npz.describe(keys[None])
        if dtype not in _FLOATS:
            raise ValueError(f"{npz.path}: key {name!r}: a weight must be a real floating array; the file "
                             f"declares {dtype.str} ({dtype})")
        if shape != param.shape:
            raise ValueError(f"{npz.path}: key {name!r}: the file's shape {shape} does not match the "
                             f"model's {param.shape}")
        value = npz.read(keys[None], dtype, shape)
    else:
        value = _decoded(npz, name, _read_encoding(npz, name, fmt, keys, param.shape))
    try:
        return check_parameter_value(value, name, param)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{npz.path}: key {name!r}: {err}") from None


def load_model(path, model):
    """Load a file written by :func:`save_model` (or a plain ``np.savez(**state_dict)``) into
    ``model`` in place, and return it.

    Atomic and bounded (see the module docstring): every key, format, shape and dtype is
    checked against the model before its data is read, every value decoded and checked
    before anything is assigned; a failure is a ``ValueError`` naming the file and the key,
    and leaves the model as it was.
    """
    path = _check_path(path)
    check_module(model)
    stored = _stored_layers(model)
    own = _stored_encodings(model)
    params = dict(model.named_parameters())
    with NpzReader(path) as npz:
        file = _group(npz)
        expected = set(own) | set(params)
        missing, extra = sorted(expected - set(file)), sorted(set(file) - expected)
        if missing or extra:
            raise ValueError(f"{path}: keys do not match the model: missing {missing}, unexpected {extra}")
        encodings = {}
        for name, enc in own.items():
            fmt, keys = file[name]
            if fmt is None:
                raise ValueError(f"{path}: key {name!r} is a plain array; the model's layer stores it as "
                                 f"{enc.fmt!r}")
            encodings[name] = _read_encoding(npz, name, fmt, keys, enc.shape, own=enc)
            _decoded(npz, name, encodings[name])
        state = {name: _read_parameter(npz, name, *file[name], p) for name, p in params.items()}
    prepared = {}
    for lname, layer in stored.items():
        prefix = f"{lname}." if lname else ""
        try:
            prepared[lname] = layer.prepare_encodings({k: encodings[prefix + k] for k in layer.encodings()})
        except (ValueError, TypeError) as err:
            raise ValueError(f"{path}: layer {lname or type(layer).__name__!r}: {err}") from None
    # phase 2: nothing below can fail
    model.load_state_dict(state)
    for lname, layer in stored.items():
        layer.commit_encodings(prepared[lname])
    return model
