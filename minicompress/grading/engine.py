"""Grading one function: the hand cases first, then inputs drawn and shrunk by Hypothesis,
each call sent to the student's process and compared with the reference computed here.

A :class:`Result` says PASS, FAIL, TODO (still raises NotImplementedError) or MISSING, and
for a FAIL holds one :class:`Failure`: the input, labelled honestly (a hand case; the
smallest input Hypothesis could shrink to; or an input that was not shrunk, and why), the
expected and received values, what differs, and the hints of the typical mistakes the
received value matches.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

from .checks import Check, Difference
from .process import CallTimeout, WorkerDied

__all__ = ["Failure", "Result", "grade_function", "GraderError"]

#: how a failing input was found, as the report labels it
LABELS = {
    "hand": "hand case (a fixed example of the exercise; not shrunk)",
    "shrunk": "smallest failing input (drawn by Hypothesis and shrunk)",
    "unshrunk": "failing input (drawn by Hypothesis; not shrunk: {why})",
    "timeout": "input on which it did not return within {limit:g} s",
    "crash": "input on which the grading process ended",
    "flagged": "input on which it ran library code",
}

#: at most this many failing inputs are kept to match the mistakes' hints against
_KEEP_FAILURES = 50


class GraderError(RuntimeError):
    """The reference itself failed on an input: a bug in the exercise, not in the submission."""


@dataclass
class Failure:
    kind: str  # a key of LABELS
    args: tuple
    expected: Any = None
    received: Any = None
    error: str | None = None  # "TypeName: message" when the function raised
    problems: list = field(default_factory=list)  # Difference objects
    hints: list = field(default_factory=list)  # (key, text) of the matching mistakes
    why: str = ""  # for kind "unshrunk"

    @property
    def hint_keys(self) -> list[str]:
        return [p.key for p in self.problems] + [k for k, _ in self.hints]


@dataclass
class Result:
    function: str
    status: str  # "PASS", "FAIL", "TODO" or "MISSING"
    n_tried: int = 0
    failure: Failure | None = None
    params: tuple = ()
    note: str = ""  # e.g. "time budget used up after 37 inputs"
    seconds: float = 0.0


class _Mismatch(Exception):
    """One failing input: Hypothesis shrinks on it."""


class _Stop(BaseException):
    """End this function's grading now (TODO, a timeout, library use, the time budget):
    a BaseException, so Hypothesis does not catch it and does not try to shrink."""


def grade_function(student, check: Check, *, attribute: str | None = None, max_examples: int = 100,
                   timeout: float = 3.0, budget: float | None = None) -> Result:
    """Grade ``student``'s ``attribute`` (default ``check.function``) against ``check``.

    student : a :class:`.process.StudentProcess` (or :class:`.process.InProcess`)
    max_examples : inputs drawn by Hypothesis after the hand cases (0: hand cases only)
    timeout : seconds each call may take; a call that takes longer fails the function
    budget : seconds for the whole function (default max(30, 10 * timeout)); when it runs out
        the function passes with the inputs tried so far, or fails with the failing input
        found so far, and the report says so
    """
    name = attribute or check.function
    budget = max(30.0, 10 * timeout) if budget is None else budget
    info = student.functions.get(name)
    if info is None:
        return Result(check.function, "MISSING")
    params = ()
    started = time.monotonic()
    state = {"tried": 0, "failures": [], "passed": [], "last": None, "stop": None}

    def fail(kind, args, expected, **extra):
        failure = Failure(kind, args, expected, **extra)
        state["last"] = failure
        if len(state["failures"]) < _KEEP_FAILURES:
            state["failures"].append(failure)
        return failure

    def attempt(args: tuple, kind: str) -> None:
        if time.monotonic() - started > budget:
            state["stop"] = "budget"
            raise _Stop()
        try:
            expected = check.reference(*copy.deepcopy(args))
        except Exception as err:
            raise GraderError(f"the reference of {check.function} raised {type(err).__name__}: {err} "
                              f"on {args!r}") from err
        state["tried"] += 1
        try:
            reply = student.call(name, args, timeout)
        except CallTimeout:
            fail("timeout", args, expected)
            raise _Stop() from None
        except WorkerDied as err:
            fail("crash", args, expected, error=str(err))
            raise _Stop() from None
        if reply[0] == "missing":
            state["stop"] = "missing"
            raise _Stop()
        if reply[0] == "todo":
            if reply[1]:
                fail("flagged", args, expected, error=_flag_text(reply[1]))
            else:
                state["stop"] = "todo"
            raise _Stop()
        seen = reply[-1]
        if seen:
            fail("flagged", args, expected, error=_flag_text(seen))
            raise _Stop()
        if reply[0] == "raised":
            fail(kind, args, expected, error=f"{reply[1]}: {reply[2]}")
            raise _Mismatch()
        _, got, changed, _ = reply
        problems = []
        if changed:
            names = ", ".join(check.names(len(args))[i] for i in changed)
            problems.append(Difference("mutates", f"changed its argument {names} in place; work on a copy "
                                                  f"(w = w.copy()) or build a new array"))
        d = check.differs(expected, got, args)
        if d is not None:
            problems.append(d)
        if problems:
            fail(kind, args, expected, received=got, problems=problems)
            raise _Mismatch()
        if len(state["passed"]) < _KEEP_FAILURES:
            state["passed"].append((args, expected))

    if info["module"].startswith("minicompress"):
        failure = Failure("flagged", (), error=f"it is imported from {info['module']}, not written in the "
                                               f"file: the library is the answer key")
        return _finish(check, "FAIL", 0, failure, params, started)
    try:
        for case in check.hand_cases:
            attempt(case, "hand")
        if max_examples > 0:
            _run_hypothesis(check, attempt, max_examples)
    except _Stop:
        pass
    except _Mismatch:  # a hand case failed (reported as it is), or the shrunk input Hypothesis replays
        pass
    except GraderError:
        raise
    except Exception as err:  # Hypothesis gave up shrinking (a flaky function, ...)
        if state["last"] is None:
            raise
        state["last"].kind = "unshrunk"
        state["last"].why = f"Hypothesis stopped with {type(err).__name__}; does the function give " \
                            f"different answers to the same input?"
    if state["stop"] == "todo":
        return _finish(check, "TODO", state["tried"], None, params, started)
    if state["stop"] == "missing":
        return _finish(check, "MISSING", state["tried"], None, params, started)
    failure = state["last"]
    note = ""
    if state["stop"] == "budget":
        if failure is not None and failure.kind == "shrunk":
            failure.kind, failure.why = "unshrunk", f"the time budget of {budget:g} s ran out while shrinking"
        else:
            note = f"time budget of {budget:g} s used up"
    if failure is None:
        return _finish(check, "PASS", state["tried"], None, params, started, note)
    failure.hints = _matching_hints(check, failure, state["failures"], state["passed"])
    return _finish(check, "FAIL", state["tried"], failure, params, started, note)


def _finish(check, status, tried, failure, params, started, note=""):
    if failure is not None and failure.args:
        params = check.names(len(failure.args))
    return Result(check.function, status, tried, failure, params, note, time.monotonic() - started)


def _flag_text(seen: str) -> str:
    return (f"it ran library code ({seen}); the library is the answer key: write this function "
            f"with NumPy only")


def _matching_hints(check: Check, failure: Failure, failures: list, passed: list) -> list:
    """The mistakes whose value the student's matches, on the reported input first, then on
    the other failing inputs seen (a mistake is recognised even where the smallest input is
    a degenerate case of it); a mistake that would have failed an input the student got
    right is not the student's."""
    found = []
    for mistake in check.mistakes:
        if any(key == mistake.key for key, _ in found):  # one mistake may have several models
            continue
        if any(mistake.ruled_out(args, expected) for args, expected in passed):
            continue
        for f in [failure, *failures]:
            if f.error is None and f.kind in ("hand", "shrunk", "unshrunk") and \
                    mistake.matches(f.args, f.expected, f.received):
                found.append((mistake.key, mistake.hint))
                break
    return found


def _run_hypothesis(check: Check, attempt, max_examples: int) -> None:
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings

    # derandomize: every submission meets the same inputs; report_multiple_bugs=False: one
    # (the smallest) failure, never an ExceptionGroup; quiet: the grader prints the input
    @settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck),
              print_blob=False, report_multiple_bugs=False, verbosity=Verbosity.quiet)
    @given(check.args())
    def run(args):
        attempt(tuple(args), "shrunk")

    run()
