"""The autograder behind ``python -m minicompress check FILE...``.

An exercise is a stub file ``tutorials/exercises/<stem>.py`` and a reference module
``minicompress.exercises.<stem>`` listing one :class:`Check` per function: the library's
implementation, a Hypothesis strategy of inputs, hand-checkable cases and the typical
:class:`Mistake` s with their hints.

Each submission is imported in its own worker process (:mod:`.worker`); the references run in
the grader's process, which the submission can neither import nor patch.  A function is tried
on the hand cases, then on inputs Hypothesis draws; the first failing input is shrunk to the
smallest one, and the report shows it with the expected and received values, what differs
(value, shape, dtype, type, an argument changed in place) and the hint of any typical mistake
the received value matches.  A call has a time limit; a function that runs library code is
flagged and fails.

Modules: :mod:`.checks` (Check, Mistake, comparisons), :mod:`.strategies` (inputs),
:mod:`.engine` (one function), :mod:`.process` (the worker's handle), :mod:`.worker` (the
student's side), :mod:`.report` (text, score table, JSON), :mod:`.session` (files, exit codes).
"""

from .checks import Check, Difference, Mistake, difference, show
from .engine import Failure, GraderError, Result, grade_function
from .process import CallTimeout, InProcess, StudentProcess, WorkerDied
from .session import (
    EXIT_FAIL,
    EXIT_IMPORT,
    EXIT_PASS,
    Submission,
    check_files,
    checks_for,
    exercise_for,
    exercise_names,
    grade_submission,
    submission_files,
)

__all__ = [
    "Check", "Mistake", "Difference", "difference", "show",
    "Result", "Failure", "GraderError", "grade_function",
    "StudentProcess", "InProcess", "CallTimeout", "WorkerDied",
    "Submission", "grade_submission", "submission_files", "check_files", "checks_for", "exercise_for",
    "exercise_names",
    "EXIT_PASS", "EXIT_FAIL", "EXIT_IMPORT",
]
