"""What an exercise declares: one :class:`Check` per function, its typical :class:`Mistake`s,
and how a received value is compared with the expected one (:func:`difference`).

Adding a graded function to an exercise is one ``Check(...)`` entry in
``minicompress/exercises/<stem>.py``: the name the stub uses, the library's function as the
reference, a Hypothesis strategy of argument tuples, a few hand cases and the mistakes worth
a hint.  The grader does the rest.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..nn._checks import check_choice, check_float

__all__ = ["Check", "Mistake", "Difference", "difference", "form_difference", "show"]

#: dtype kinds that count as the same kind of number when a check does not ask for the exact dtype
_KIND_GROUP = {"b": "bool", "i": "integer", "u": "integer", "f": "float", "c": "complex"}


@dataclass(frozen=True)
class Difference:
    """Why a received value is not accepted: ``key`` names the contract (``"type"``,
    ``"shape"``, ``"dtype"``, ``"value"``, ...), ``text`` says it to the student."""

    key: str
    text: str


def _is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _is_real(x) -> bool:
    if isinstance(x, np.ndarray):
        return x.shape == () and x.dtype.kind in "iuf"
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def form_difference(expected: np.ndarray, got, *, dtype: str = "kind", where: str = "") -> Difference | None:
    """None if ``got`` is an array of ``expected``'s shape and kind of dtype (the exact dtype
    when ``dtype="exact"``), else the :class:`Difference`: the part of :func:`difference`
    that a check comparing values its own way (e.g. by invariants) also needs."""
    at = f"{where}: " if where else ""
    if not isinstance(got, np.ndarray):
        return Difference("type", f"{at}returned {type(got).__name__}; expected a NumPy array "
                                  f"of shape {expected.shape} (np.asarray makes one)")
    if got.shape != expected.shape:
        return Difference("shape", f"{at}the shapes differ: expected {expected.shape}, "
                                   f"received {got.shape}")
    if dtype == "exact" and got.dtype != expected.dtype:
        return Difference("dtype", f"{at}dtype {got.dtype}; expected {expected.dtype}, as the exercise "
                                   f"asks (e.g. w's own dtype: np.where(...).astype(w.dtype))")
    if _KIND_GROUP.get(got.dtype.kind) != _KIND_GROUP.get(expected.dtype.kind):
        kind = _KIND_GROUP.get(expected.dtype.kind)
        return Difference("dtype", f"{at}dtype {got.dtype}; expected {kind} values ({expected.dtype})")
    return None


def difference(expected, got, *, rtol: float = 1e-5, atol: float = 1e-6, dtype: str = "kind",
               where: str = "") -> Difference | None:
    """None if ``got`` is accepted as ``expected``, else the first :class:`Difference`.

    Tuples and lists element by element (same length); arrays: same shape, same kind of dtype
    (bool / integer / float; the exact dtype when ``dtype="exact"``), values close (floats,
    NaN equal to NaN) or equal (bools, integers); an expected int needs an int (not a float
    or a bool), an expected float any real number; None needs None.  Nothing is broadcast.
    """
    rtol, atol = check_float(rtol, "rtol", low=0.0), check_float(atol, "atol", low=0.0)
    check_choice(dtype, "dtype", ("kind", "exact"))
    at = f"{where}: " if where else ""
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            n = f"{len(got)} values" if isinstance(got, (tuple, list)) else type(got).__name__
            return Difference("type", f"{at}returned {n}; expected a tuple of {len(expected)} values")
        for i, (e, g) in enumerate(zip(expected, got)):
            d = difference(e, g, rtol=rtol, atol=atol, dtype=dtype,
                           where=f"element {i} of the returned tuple")
            if d is not None:
                return d
        return None
    if expected is None:
        if got is None:
            return None
        return Difference("type", f"{at}returned {type(got).__name__}; expected None")
    if isinstance(expected, np.ndarray):
        form = form_difference(expected, got, dtype=dtype, where=where)
        if form is not None:
            return form
        if expected.dtype.kind in "biu":
            ok = np.array_equal(expected, got)
        else:
            ok = np.allclose(expected, got, rtol=rtol, atol=atol, equal_nan=True)
        return None if ok else Difference("value", f"{at}the values differ")
    if isinstance(expected, (bool, np.bool_)):
        if not isinstance(got, (bool, np.bool_)):
            return Difference("type", f"{at}returned {type(got).__name__}; expected True or False")
        return None if bool(got) == bool(expected) else Difference("value", f"{at}the values differ")
    if _is_int(expected):
        if not _is_int(got):
            return Difference("type", f"{at}returned {type(got).__name__} {got!r}; expected an int "
                                      f"(int(...) makes one)")
        return None if int(got) == int(expected) else Difference("value", f"{at}the values differ")
    if _is_real(expected):
        if not _is_real(got):
            return Difference("type", f"{at}returned {type(got).__name__}; expected a number (a float)")
        e, g = float(expected), float(got)
        ok = (np.isnan(e) and np.isnan(g)) or bool(np.isclose(e, g, rtol=rtol, atol=atol))
        return None if ok else Difference("value", f"{at}the values differ")
    return None if got == expected else Difference("value", f"{at}the values differ")


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer and the hint that names it.

    key : short name (``"kthvalue"``), also the label of the regression corpus' solution
        that makes this mistake (tests/grading_corpus)
    hint : one or two sentences for the student
    wrong : ``wrong(*args)`` computes what the mistaken solution returns; the hint is shown
        when the student's value equals it (on a failing input)
    when : or a predicate ``when(args, expected, received) -> bool``, for mistakes that have
        no single value (an overflow: any NaN or inf)
    part : compare only this element of a returned tuple (the loss, not its gradient);
        ``wrong`` then returns that element alone
    """

    key: str
    hint: str
    wrong: Callable | None = None
    when: Callable | None = None
    part: int | None = None

    def ruled_out(self, args: tuple, expected) -> bool:
        """On an input the student got right, this mistake would have given another value."""
        if self.wrong is None:
            return False
        try:
            value = self.wrong(*args)
            if self.part is not None:
                expected = expected[self.part]
            return difference(expected, value) is not None
        except Exception:
            return False

    def matches(self, args: tuple, expected, received) -> bool:
        """Does this mistake explain ``received``?  Its value must equal the received one and
        differ from the expected one; with ``part``, every other element must be right."""
        try:
            if self.when is not None:
                return bool(self.when(args, expected, received))
            value = self.wrong(*args)
            if self.part is not None:
                if not isinstance(received, (tuple, list)) or len(received) != len(expected):
                    return False
                others = [i for i in range(len(expected)) if i != self.part]
                if any(difference(expected[i], received[i]) is not None for i in others):
                    return False
                expected, received = expected[self.part], received[self.part]
            return difference(value, received) is None and difference(expected, value) is not None
        except Exception:  # a mistake model that does not apply to this input
            return False


def _reference_names(reference: Callable, n: int) -> tuple:
    try:
        names = tuple(inspect.signature(reference).parameters)
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        names = ()
    return names[:n] if len(names) >= n else tuple(f"arg {i}" for i in range(n))


@dataclass
class Check:
    """How to grade one function of an exercise.

    function : the name the stub (and the student's file) gives the function
    reference : the library's implementation, called with the same arguments
    args : zero-argument callable returning a Hypothesis strategy of argument *tuples*
    hand_cases : argument tuples tried first, small enough to check by hand (at least one)
    mistakes : the typical wrong answers worth a hint
    compare : ``compare(expected, got, args) -> Difference | None``; default :func:`difference`
        with ``rtol``, ``atol`` and ``dtype`` (``"kind"`` or ``"exact"``)
    params : the argument names as the stub writes them (default: the reference's)
    """

    function: str
    reference: Callable
    args: Callable[[], Any]
    hand_cases: tuple = ()
    mistakes: tuple = ()
    compare: Callable | None = None
    params: tuple | None = None
    rtol: float = 1e-5
    atol: float = 1e-6
    dtype: str = "kind"

    def differs(self, expected, got, args: tuple) -> Difference | None:
        if self.compare is not None:
            return self.compare(expected, got, args)
        return difference(expected, got, rtol=self.rtol, atol=self.atol, dtype=self.dtype)

    def names(self, n: int) -> tuple:
        if self.params is not None and len(self.params) == n:
            return tuple(self.params)
        return _reference_names(self.reference, n)


def show(value) -> str:
    """A value as the grader prints it: arrays with their shape and dtype, up to 40 entries."""
    if isinstance(value, np.ndarray):
        body = np.array2string(value, precision=5, threshold=40, separator=", ")
        return f"array(shape={value.shape}, dtype={value.dtype}) " + " ".join(body.split())
    if isinstance(value, (tuple, list)):
        inner = ", ".join(show(v) for v in value)
        return f"({inner}{',' if len(value) == 1 else ''})" if isinstance(value, tuple) else f"[{inner}]"
    if isinstance(value, np.generic):
        return f"{value.item()!r} ({value.dtype})"
    return repr(value)
