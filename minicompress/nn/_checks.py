"""Argument checks shared by the whole package.

Each raises ``TypeError``/``ValueError`` with a message naming the argument, the value
received and what was expected, so that a learner sees how to fix the call.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["as_array", "check_array", "check_int", "check_float", "check_finite", "check_rng", "check_bool",
           "check_float_dtype", "check_callable", "check_choice", "check_ndarray",
           "check_same_shape", "check_parameter_value", "check_sequence", "check_names", "check_types",
           "check_dict", "check_str", "check_shape", "check_pair", "check_int_vector",
           "described", "check_weights", "check_bits",
           "check_scale", "check_codes", "check_qrange", "check_zero_point", "smallest_int_dtype"]


def _describe(value) -> str:
    """``repr`` of a value, cut to 60 characters, with its type: for error messages."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def described(value, arr: np.ndarray) -> str:
    """How a message quotes an array argument: ``dtype ...`` if the caller passed an array,
    else the value itself (``None (NoneType)``, ``'abc' (str)``)."""
    return f"dtype {arr.dtype}" if isinstance(value, np.ndarray) else _describe(value)


def as_array(x, name: str) -> np.ndarray:
    """``np.asarray(x)`` with its own dtype, but a ragged list (which NumPy refuses with a
    message naming nothing) is a ``TypeError`` naming the argument."""
    if isinstance(x, np.ndarray):
        return x
    try:
        return np.asarray(x)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array (or a rectangular list) of numbers; got "
                        f"{_describe(x)}") from None


def check_array(x, name: str, *, ndim: int | None = None, finite: bool = False) -> np.ndarray:
    """Return ``x`` as a floating ndarray; raise if it is not numeric or has the wrong rank.

    Integer arrays are promoted to float64 (exactly, below 2**53); booleans (a mask is not
    a number), strings, objects, None and complex numbers are a ``TypeError``.
    """
    if not isinstance(x, np.ndarray):
        arr = as_array(x, name)
        if arr.dtype.kind not in "fiu":
            raise TypeError(f"{name} must be an array of numbers; got {_describe(x)}")
        x = arr
    if x.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be a numeric array of real numbers; got dtype {x.dtype}")
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array; got shape {x.shape} ({x.ndim}-D)")
    if finite:
        check_finite(x, name)
    return x


def check_finite(x: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` if ``x`` holds NaN or infinity, saying how many and where."""
    bad = ~np.isfinite(x)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} contains {int(bad.sum())} non-finite value(s) (NaN or inf), "
            f"the first at index {first}"
        )


def check_int(value, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int in [low, high]; bools and floats are refused."""
    if type(value) is not int and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
        raise TypeError(f"{name} must be an integer; got {value!r} ({type(value).__name__})")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}; got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}; got {value}")
    return value


def check_float(
    value,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a finite float in the given interval (open or closed ends)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {value!r} ({type(value).__name__})")
    value = float(value)
    lo_b = "(" if low_open or low is None else "["  # an infinite end is never included
    hi_b = ")" if high_open or high is None else "]"
    interval = f"{lo_b}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi_b}"
    ok = np.isfinite(value)
    if low is not None:
        ok = ok and (value > low if low_open else value >= low)
    if high is not None:
        ok = ok and (value < high if high_open else value <= high)
    if not ok:
        raise ValueError(f"{name} must be in {interval}; got {value}")
    return value


def check_rng(rng, name: str = "rng") -> np.random.Generator:
    """Accept a ``np.random.Generator`` or an int seed; anything else is an error.

    Randomness in minicompress only ever flows through an explicit generator, so the same
    seed gives bit-identical results.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"{name} must be a numpy Generator or an int seed >= 0; got {rng}")
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"{name} must be a numpy Generator or an int seed, e.g. np.random.default_rng(0); "
        f"got {rng!r}"
    )


def check_bool(value, name: str) -> bool:
    """A flag: ``True`` or ``False`` (``np.bool_`` too); anything else, ``0``, ``1`` and
    ``"no"`` included, is a ``TypeError`` rather than a guess at what was meant."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {_describe(value)}")
    return bool(value)


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
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"state[{key!r}] holds {int(bad.sum())} value(s) beyond the {param.dtype} range "
            f"(+-{np.finfo(param.dtype).max:.3g}), the first {float(value[first])!r} at index {first}"
        )
    return cast


# ----------------------------------------------------------------------------- quantization
def check_weights(w, name: str = "w") -> np.ndarray:
    """A finite, non-empty floating array (integers are promoted to float64)."""
    w = check_array(w, name, finite=True)
    if w.size == 0:
        raise ValueError(f"{name} is empty (shape {w.shape}); quantization needs at least one value")
    return w


def check_bits(bits, name: str = "bits", *, low: int = 2, high: int = 16, hint: str = "") -> int:
    """A bit width in ``low..high`` (2..16 by default: 1 bit is binarize, more than 16 is not
    quantization).  Every bit width of the package is checked here, with the range its caller
    supports."""
    bits = check_int(bits, name)
    if not low <= bits <= high:
        raise ValueError(f"{name} must be in {low}..{high}; got {bits}{hint}")
    return bits


def check_scale(scale, name: str = "scale", *, channels: int | None = None):
    """A finite scale > 0: a real number, or (if ``channels``) a 1-D array of that length.

    Returns a Python float or a float64 array.
    """
    if isinstance(scale, (list, tuple)):
        scale = as_array(scale, name)  # a ragged list is a TypeError naming the argument
    if np.ndim(scale) == 0:
        if isinstance(scale, (np.ndarray, np.generic)):
            scale = scale.item()
        return check_float(scale, name, low=0.0, low_open=True)
    given = scale
    arr = check_array(scale, name, ndim=1).astype(np.float64)
    if channels is None:
        raise ValueError(f"{name} must be a single number here; got {_describe(given)}, shape {arr.shape}")
    if arr.shape != (channels,):
        raise ValueError(
            f"{name} must hold one value per output channel, shape ({channels},); got shape {arr.shape}: "
            f"{_describe(given)}"
        )
    bad = ~(np.isfinite(arr) & (arr > 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name} must be finite and > 0 for every channel; got {arr[i]} at index {i}")
    return arr


def check_codes(q, name: str, qmin: int, qmax: int) -> np.ndarray:
    """An integer array whose values all lie in ``[qmin, qmax]``."""
    given, q = q, as_array(q, name)
    if q.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer array of codes; got {described(given, q)}")
    if q.size and (q.min() < qmin or q.max() > qmax):
        raise ValueError(
            f"{name} must lie in [{qmin}, {qmax}]; got values from {q.min()} to {q.max()}"
        )
    return q


def check_qrange(qmin, qmax) -> tuple[int, int]:
    """Integer code range ``qmin < qmax`` spanning at most 16 bits (``qmax - qmin < 2**16``)."""
    qmin = check_int(qmin, "qmin", low=-(2**31), high=2**31 - 1)
    qmax = check_int(qmax, "qmax", low=-(2**31), high=2**31 - 1)
    if qmax <= qmin:
        raise ValueError(f"qmax must be > qmin; got qmin={qmin}, qmax={qmax}")
    if qmax - qmin >= 2**16:
        raise ValueError(
            f"the code range [qmin, qmax] = [{qmin}, {qmax}] needs more than 16 bits; "
            f"expected at most 2**16 levels (bits in 2..16)"
        )
    return qmin, qmax


def check_zero_point(zero_point, qmin: int, qmax: int, name: str = "zero_point") -> int:
    """An integer zero point inside the code range ``[qmin, qmax]`` (Jacob et al. 2018)."""
    zero_point = check_int(zero_point, name)
    if not qmin <= zero_point <= qmax:
        raise ValueError(
            f"{name} must lie in the integer range [qmin, qmax] = [{qmin}, {qmax}]; got {zero_point}"
        )
    return zero_point


def smallest_int_dtype(qmin: int, qmax: int) -> np.dtype:
    """The smallest of uint8, int8, uint16, int16, int32 that holds every code in [qmin, qmax]."""
    for dt in (np.uint8, np.int8, np.uint16, np.int16, np.int32):
        info = np.iinfo(dt)
        if info.min <= qmin and qmax <= info.max:
            return np.dtype(dt)
    return np.dtype(np.int64)
