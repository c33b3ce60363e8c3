"""Dtypes, choices, containers, shapes and parameter values."""

from __future__ import annotations

import numbers

import numpy as np

from .basic import _describe, as_array, check_finite, described, first_bad

__all__ = [
    "check_float_dtype", "check_callable", "check_choice", "check_sequence", "check_names",
    "check_types", "check_dict", "check_str", "check_pair", "check_int_vector", "check_shape",
    "check_ndarray", "check_same_shape", "check_parameter_value",
]


def check_float_dtype(dtype, name: str = "dtype") -> np.dtype:
    """A real floating dtype (float16, float32, float64): parameters are never integers,
    which would truncate every initial weight to 0."""
    try:
        if dtype is None:  # np.dtype(None) would be float64: say which one instead
            raise TypeError
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"{name} must be a floating dtype such as np.float32; got {_describe(dtype)}"
        ) from None
    if dt.kind != "f":
        raise TypeError(f"{name} must be a floating dtype (float16, float32 or float64); got {dt}")
    return dt


def check_callable(value, name: str, what: str = "a function"):
    """Something that can be called, else ``TypeError`` saying what was expected."""
    if not callable(value):
        raise TypeError(f"{name} must be {what}; got {_describe(value)}")
    return value


def check_choice(value, name: str, choices) -> str:
    """One of the strings ``choices``: ``TypeError`` for a non-string, ``ValueError`` for an
    unknown one, both listing the choices."""
    choices = tuple(choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {choices}; got {_describe(value)}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}; got {value!r}")
    return value


def check_sequence(value, name: str, what: str = "items") -> list:
    """A list or tuple (of ``what``), returned as a list; a string, an array or a single
    number is a ``TypeError`` (iterating it would mean something else)."""
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list or tuple of {what}; got {_describe(value)}")
    return list(value)


def check_names(value, name: str, what: str = "parameter names such as ('weight',)") -> tuple:
    """A non-empty list or tuple of strings (a lone string is refused: it would be iterated
    letter by letter), returned as a tuple."""
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{name} must be a non-empty tuple of {what}; got {_describe(value)}")
    return tuple(value)


def check_types(value, name: str = "layer_types") -> tuple:
    """A non-empty tuple (or list) of classes, e.g. ``(Linear, Conv2d)``."""
    if isinstance(value, type):
        value = (value,)
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(t, type) for t in value):
        raise TypeError(f"{name} must be a tuple of layer classes such as (Linear, Conv2d); got "
                        f"{_describe(value)}")
    return tuple(value)


def check_dict(value, name: str, what: str = "name -> value", *, empty: bool = True) -> dict:
    """A dict (of ``what``); non-empty unless ``empty``."""
    if not isinstance(value, dict) or (not empty and not value):
        kind = "a dict" if empty else "a non-empty dict"
        raise TypeError(f"{name} must be {kind} {what}; got {_describe(value)}")
    return value


def check_str(value, name: str, what: str = "a name") -> str:
    """A string (a layer name, a label): anything else is a ``TypeError``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string ({what}); got {_describe(value)}")
    return value


def check_pair(value, name: str, what: str = "(X, y)") -> tuple:
    """A pair (a 2-tuple or 2-list), such as ``data=(X, y)``, returned as a tuple."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be a pair {what}; got {_describe(value)}")
    return tuple(value)


def check_int_vector(x, name: str, what: str = "") -> np.ndarray:
    """A 1-D integer array (symbols, counts, positions, code lengths), returned as it is."""
    given, arr = x, as_array(x, name)
    if arr.dtype.kind not in "iu" or arr.ndim != 1:
        raise TypeError(f"{name} must be a 1-D integer array{f' ({what})' if what else ''}; got "
                        f"{described(given, arr)}, shape {arr.shape}")
    return arr


def check_shape(value, name: str = "shape") -> tuple:
    """A shape: a tuple (or list) of integers >= 0, returned as a tuple of ints."""
    if not isinstance(value, (tuple, list)) or not all(
            isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= 0 for d in value):
        raise TypeError(f"{name} must be a tuple of integers >= 0, such as x.shape; got {_describe(value)}")
    return tuple(int(d) for d in value)


def check_ndarray(x, name: str, *, min_ndim: int = 0) -> np.ndarray:
    """A numpy array (not a list or a scalar, which would be indexed wrongly) of numbers
    with at least ``min_ndim`` axes; returned as it is, with its own dtype."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array; got {_describe(x)}")
    if x.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be a numeric array of real numbers; got dtype {x.dtype}")
    if x.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} axis/axes; got shape {x.shape}")
    return x


def check_same_shape(a: np.ndarray, b: np.ndarray, names: tuple[str, str]) -> None:
    """Two arrays of exactly the same shape: nothing is broadcast."""
    if a.shape != b.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape (nothing is broadcast); "
            f"got {a.shape} and {b.shape}"
        )


def check_parameter_value(value, key: str, param: np.ndarray) -> np.ndarray:
    """``value`` checked to replace the parameter ``param`` (called ``key``), cast to its dtype.

    It must be a real floating array (``TypeError`` otherwise: integers, strings, None,
    complex numbers and objects are not weights) of ``param``'s shape, and finite both as
    given and once cast (``ValueError`` naming the key: NaN, inf, or a float64 beyond the
    float32 range that the cast would turn into inf).  Returns a new array of ``param``'s
    dtype, so nothing is aliased and writing it into ``param`` cannot fail.
    """
    value = as_array(value, f"state[{key!r}]")
    if value.dtype.kind != "f":
        raise TypeError(f"state[{key!r}] must be a real floating array (a weight); got dtype {value.dtype}")
    if value.shape != param.shape:
        raise ValueError(f"shape mismatch for key {key!r}: model has {param.shape}, state has {value.shape}")
    check_finite(value, f"state[{key!r}]")
    with np.errstate(over="ignore"):
        cast = value.astype(param.dtype)
    bad = ~np.isfinite(cast)
    if bad.any():
        first = first_bad(bad)
        raise ValueError(
            f"state[{key!r}] holds {int(bad.sum())} value(s) beyond the {param.dtype} range "
            f"(+-{np.finfo(param.dtype).max:.3g}), the first {float(value[first])!r} at index {first}"
        )
    return cast
