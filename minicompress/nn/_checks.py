"""Argument checks shared by the whole package.

Each raises ``TypeError``/``ValueError`` with a message naming the argument, the value
received and what was expected, so that a learner sees how to fix the call.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["check_array", "check_int", "check_float", "check_finite", "check_rng"]


def check_array(x, name: str, *, ndim: int | None = None, finite: bool = False) -> np.ndarray:
    """Return ``x`` as a floating ndarray; raise if it is not numeric or has the wrong rank."""
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    if x.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be a numeric array; got dtype {x.dtype}")
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
    lo_b, hi_b = ("(" if low_open else "["), (")" if high_open else "]")
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
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"{name} must be a numpy Generator or an int seed, e.g. np.random.default_rng(0); "
        f"got {rng!r}"
    )
