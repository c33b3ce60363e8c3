"""Scalars and arrays: the checks every module of the package calls."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "described", "as_array", "check_array", "check_finite", "check_int", "check_float", "check_rng",
    "check_bool",
]



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
        first = first_bad(bad)
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

def first_bad(bad: np.ndarray) -> tuple:
    """The index (a tuple) of the first True entry of ``bad``: where an error message points."""
    return tuple(int(i) for i in np.argwhere(bad)[0])
