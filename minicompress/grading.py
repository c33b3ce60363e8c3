"""The autograder behind ``python -m minicompress check FILE``.

An exercise is a student file ``tutorials/exercises/<stem>.py`` with function stubs, and a
reference module ``minicompress.exercises.<stem>`` that lists :class:`Check` objects, one per
function: the library's reference implementation, a Hypothesis strategy of argument tuples
and a comparison.  The grader loads the student's module, finds the functions it defines,
tries the hand-checkable cases first and then Hypothesis-generated inputs, and prints for
each function PASS, or the *smallest* failing input (Hypothesis shrinks it) with the
expected and the received value.

Hypothesis is a test dependency; the grader imports it lazily and says how to install it.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import inspect
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .nn._checks import _describe, check_float, check_int, check_sequence

__all__ = ["Check", "Result", "allclose", "grade_module", "load_student_module", "check_file"]


def allclose(expected, got, *, rtol: float = 1e-5, atol: float = 1e-6) -> bool:
    """Same structure (tuples/lists element by element), same shapes, values close.
    ``got`` may be anything (a student's answer): what is not close is False, never an error."""
    rtol = check_float(rtol, "rtol", low=0.0)
    atol = check_float(atol, "atol", low=0.0)
    if isinstance(expected, (tuple, list)):
        return (
            isinstance(got, (tuple, list))
            and len(got) == len(expected)
            and all(allclose(e, g, rtol=rtol, atol=atol) for e, g in zip(expected, got))
        )
    if expected is None or got is None:
        return expected is got
    e, g = np.asarray(expected), np.asarray(got)
    if e.shape != g.shape or g.dtype.kind not in "biuf":
        return False
    return bool(np.allclose(e, g, rtol=rtol, atol=atol, equal_nan=True))


@dataclass
class Check:
    """How to grade one function of an exercise.

    function : name the student's module must define
    reference : the library's implementation, called with the same arguments
    args : zero-argument callable returning a Hypothesis strategy of argument *tuples*
        (a factory, so that Hypothesis is imported only when grading)
    compare : ``compare(expected, got) -> bool``; default :func:`allclose`
    hand_cases : argument tuples tried before the generated ones (small, checkable by hand)
    """

    function: str
    reference: Callable
    args: Callable[[], Any]
    compare: Callable[[Any, Any], bool] = allclose
    hand_cases: tuple = ()


@dataclass
class Result:
    function: str
    status: str  # "PASS", "FAIL", "TODO" (raises NotImplementedError) or "MISSING"
    n_tried: int = 0
    args: tuple | None = None
    expected: Any = None
    received: Any = None
    error: str | None = None
    arg_names: tuple = ()

    def render(self) -> str:
        if self.status == "PASS":
            return f"PASS     {self.function}  ({self.n_tried} inputs)"
        if self.status == "MISSING":
            return f"MISSING  {self.function}  (not defined in the file)"
        if self.status == "TODO":
            return f"TODO     {self.function}  (still raises NotImplementedError)"
        lines = [f"FAIL     {self.function}", "  smallest failing input:"]
        names = self.arg_names if len(self.arg_names) == len(self.args or ()) else ()
        for i, a in enumerate(self.args or ()):
            lines.append(f"    {names[i] if names else f'arg {i}'}: {_show(a)}")
        lines.append(f"  expected: {_show(self.expected)}")
        if self.error is not None:
            lines.append(f"  raised:   {self.error}")
        else:
            lines.append(f"  received: {_show(self.received)}")
            lines += _hints(self.expected, self.received)
        return "\n".join(lines)


def _hints(expected, received) -> list[str]:
    """Point at what differs: the shape, or which elements of a returned tuple."""
    if isinstance(expected, np.ndarray) and isinstance(received, np.ndarray):
        if expected.shape != received.shape:
            return [f"  (the shapes differ: expected {expected.shape}, received {received.shape})"]
    if (isinstance(expected, (tuple, list)) and isinstance(received, (tuple, list))
            and len(expected) == len(received)):
        wrong = [i for i, (e, g) in enumerate(zip(expected, received)) if not allclose(e, g)]
        if wrong:
            return [f"  (element(s) {wrong} of the returned tuple differ)"]
    return []


def _show(value) -> str:
    if isinstance(value, np.ndarray):
        body = np.array2string(value, precision=5, threshold=40, separator=", ")
        return f"array(shape={value.shape}, dtype={value.dtype}) " + " ".join(body.split())
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    return repr(value)


def _parameter_names(fn) -> tuple:
    try:
        return tuple(inspect.signature(fn).parameters)
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return ()


class _Mismatch(AssertionError):
    pass


def _grade_one(check: Check, student_fn: Callable, max_examples: int) -> Result:
    try:
        from hypothesis import HealthCheck, Verbosity, given, settings
    except ImportError:  # pragma: no cover - depends on the environment
        raise SystemExit(
            "the grader needs Hypothesis: pip install -e '.[test]' (or pip install hypothesis)"
        ) from None
    last: dict = {}
    tried = [0]

    def attempt(args: tuple) -> None:
        tried[0] += 1
        expected = check.reference(*copy.deepcopy(args))
        last.update(args=args, expected=expected, received=None, error=None)
        try:
            got = student_fn(*copy.deepcopy(args))
        except NotImplementedError:
            raise
        except Exception as err:  # the student's code raised: report it as the failure
            last["error"] = f"{type(err).__name__}: {err}"
            raise _Mismatch() from err
        last["received"] = got
        if not check.compare(expected, got):
            raise _Mismatch()

    try:
        for case in check.hand_cases:
            attempt(case)

        # report_multiple_bugs=False: one (the smallest) failure, never an ExceptionGroup;
        # quiet: the grader prints the failing input itself.
        @settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck), print_blob=False,
                  report_multiple_bugs=False, verbosity=Verbosity.quiet)
        @given(check.args())
        def run(args):
            attempt(args)

        run()
    except NotImplementedError:
        return Result(check.function, "TODO")
    except _Mismatch:
        return Result(check.function, "FAIL", tried[0], last["args"], last["expected"],
                      last["received"], last["error"], _parameter_names(check.reference))
    return Result(check.function, "PASS", tried[0])


def grade_module(module, checks: list[Check], *, max_examples: int = 100) -> list[Result]:
    """Grade every function of ``checks`` that ``module`` defines; the rest are MISSING."""
    if not isinstance(module, (types.ModuleType, types.SimpleNamespace)):
        raise TypeError(f"module must be a Python module (load_student_module(path)) or a "
                        f"types.SimpleNamespace of functions; got {_describe(module)}")
    checks = check_sequence(checks, "checks", "Check")
    if not all(isinstance(c, Check) for c in checks):
        raise TypeError(f"checks must be a list of grading.Check; got {_describe(checks)}")
    max_examples = check_int(max_examples, "max_examples", low=1)
    results = []
    for check in checks:
        fn = getattr(module, check.function, None)
        if not callable(fn):
            results.append(Result(check.function, "MISSING"))
        else:
            results.append(_grade_one(check, fn, max_examples))
    return results


def load_student_module(path):
    """Import the student's file as a module (this runs the student's own code)."""
    path = Path(path)
    if not path.is_file() or path.suffix != ".py":
        raise ValueError(f"file must be an existing .py file; got {str(path)!r}")
    spec = importlib.util.spec_from_file_location(f"_student_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def checks_for(stem: str) -> list[Check]:
    """The reference checks of exercise ``stem`` (e.g. ``"ex00_layers"``)."""
    try:
        ref = importlib.import_module(f"minicompress.exercises.{stem}")
    except ModuleNotFoundError:
        pkg = Path(__file__).parent / "exercises"
        known = sorted(p.stem for p in pkg.glob("ex*.py"))
        raise ValueError(
            f"no reference checks for an exercise named {stem!r}; known exercises: {known}. "
            f"Keep the file name of the exercise stub (e.g. ex00_layers.py)."
        ) from None
    return ref.CHECKS


def check_file(path, *, max_examples: int = 100) -> int:
    """Grade ``path``, print one block per function, return 0 if all pass else 1."""
    path = Path(path)
    checks = checks_for(path.stem)
    module = load_student_module(path)
    results = grade_module(module, checks, max_examples=max_examples)
    for r in results:
        print(r.render())
    passed = sum(r.status == "PASS" for r in results)
    print(f"\n{passed}/{len(results)} functions pass")
    return 0 if passed == len(results) else 1
