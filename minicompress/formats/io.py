"""Saving a model in a storage format and loading it back: ``.npz`` files, no pickle.

A file holds exactly the encoded arrays, under keys ``"<name>/<fmt>/<part>"``
(``fc.weight/csr/values``), where ``<name>`` is a parameter of a plain layer or a stored
array of a stored-weight layer (``fc.weight``, ``fc.bias``, ``fc.multiplier``).  So its
size on disk is the accounted size plus the zip container's per-array overhead (about 200
bytes each).  ``np.load(..., allow_pickle=False)``: loading never runs code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..nn.layers import Module
from .encoding import Encoding, decode, encode, get_format
from .layers import Encoded

__all__ = ["save_model", "load_model", "model_encodings"]


def _check_path(path) -> Path:
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or pathlib.Path; got {type(path).__name__}")
    return Path(path)


def _check_model(model) -> Module:
    if not isinstance(model, Module):
        raise TypeError(f"model must be a minicompress Module; got {type(model).__name__}")
    return model


def _stored_layers(model) -> dict[str, Encoded]:
    return {name: m for name, m in model.named_modules() if isinstance(m, Encoded)}


def model_encodings(model, fmt: str = "fp32", **options) -> dict[str, Encoding]:
    """Every array ``model`` stores, by name, as :func:`save_model` writes them.

    A stored-weight layer gives its own encodings (whatever ``fmt`` says: it knows how it is
    stored); every other parameter with ndim >= 2 (a weight) is encoded in ``fmt`` with
    ``options`` (``"auto"``: fp32), and 1-D parameters (biases) in fp32.
    """
    _check_model(model)
    array_fmt = "fp32" if fmt == "auto" else fmt
    get_format(array_fmt)
    out = {}
    for lname, layer in _stored_layers(model).items():
        for key, enc in layer.encodings().items():
            out[f"{lname}.{key}" if lname else key] = enc
    for name, p in model.named_parameters():
        weight = p.ndim >= 2
        out[name] = encode(p, array_fmt if weight else "fp32", **(options if weight else {}))
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


def _read(path) -> dict[str, tuple[str, dict]]:
    """``{name: (fmt, arrays)}`` from a file written by :func:`save_model`; a plain
    ``np.savez(**state_dict)`` key ``name`` reads as ``(name, ("fp32", values))``."""
    out: dict[str, tuple[str, dict]] = {}
    try:
        with np.load(path, allow_pickle=False) as data:
            for key in data.files:
                name, *rest = key.split("/")
                if not rest:
                    value = data[key]
                    out[name] = ("raw", {"header": np.array(value.shape, np.int32), "values": value.ravel()})
                elif len(rest) == 2:
                    fmt, arrays = out.setdefault(name, (rest[0], {}))
                    if fmt != rest[0]:
                        raise ValueError(f"{path}: key {name!r} is stored in two formats, {fmt!r} "
                                         f"and {rest[0]!r}")
                    arrays[rest[1]] = data[key]
                else:
                    raise ValueError(f"{path}: key {key!r} is not '<name>' or '<name>/<fmt>/<part>'")
    except (OSError, EOFError) as err:
        raise ValueError(f"{path}: cannot read it as an .npz file ({err})") from err
    return out


def _decoded(path, name, fmt, arrays, shape) -> Encoding:
    """The encoding of ``name`` from the file, checked against the expected ``shape`` before
    anything is decoded, then decoded once (which checks its arrays)."""
    try:
        spec = get_format(fmt)
        missing = [p for p in ("header", *spec.parts) if p not in arrays]
        if missing:
            raise ValueError(f"parts {missing} are missing")
        enc = Encoding(fmt, arrays)
        if enc.shape != tuple(shape):
            raise ValueError(f"the file's shape {enc.shape} does not match the model's {tuple(shape)}")
        decode(enc)
    except (KeyError, ValueError, TypeError, IndexError) as err:
        raise ValueError(f"{path}: cannot load key {name!r} stored as {fmt!r}: {err}") from err
    return enc


def load_model(path, model):
    """Load a file written by :func:`save_model` (or a plain ``np.savez(**state_dict)``) into
    ``model`` in place, and return it.

    Every key is checked against the model (names, formats of stored layers, shapes) and
    decoded before anything is assigned: a missing or extra key or a mismatch raises
    ``ValueError`` naming the file and the key, and leaves the model as it was.
    """
    path = _check_path(path)
    _check_model(model)
    file = _read(path)
    stored = _stored_layers(model)
    want = {name: enc for lname, layer in stored.items()
            for name, enc in ((f"{lname}.{k}" if lname else k, e) for k, e in layer.encodings().items())}
    params = dict(model.named_parameters())
    expected = set(want) | set(params)
    missing, extra = sorted(expected - set(file)), sorted(set(file) - expected)
    if missing or extra:
        raise ValueError(f"{path}: keys do not match the model: missing {missing}, unexpected {extra}")
    new_encodings = {}
    for name, own in want.items():
        fmt, arrays = file[name]
        if fmt != own.fmt:
            raise ValueError(f"{path}: key {name!r} is stored as {fmt!r}; the model's layer holds "
                             f"{own.fmt!r}")
        new_encodings[name] = _decoded(path, name, fmt, arrays, own.shape)
    state = {name: decode(_decoded(path, name, *file[name], p.shape)) for name, p in params.items()}
    model.load_state_dict(state)  # checks every value before assigning any
    for lname, layer in stored.items():
        prefix = f"{lname}." if lname else ""
        layer.load_encodings({k: new_encodings[prefix + k] for k in layer.encodings()})
    return model
