"""Grading files: which exercise a file answers, one worker process per submission, results
printed as they come, a score table and JSON at the end, and the exit code.

Exit codes of ``python -m minicompress check``: 0 every function of every file passes; 1 some
function does not; 3 some file does not import (syntax error, an exception at import, or an
import that never ends); 2 is the command line's own (bad arguments).
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from .engine import grade_function
from .process import StudentProcess
from .report import as_json, render, render_import_error, score_table

__all__ = ["EXIT_PASS", "EXIT_FAIL", "EXIT_IMPORT", "exercise_names", "checks_for", "exercise_for",
           "Submission", "grade_submission", "submission_files", "check_files"]

EXIT_PASS, EXIT_FAIL, EXIT_IMPORT = 0, 1, 3
_EXERCISES = Path(__file__).resolve().parents[1] / "exercises"


def exercise_names() -> list[str]:
    """The exercises the grader knows: ``minicompress/exercises/ex*.py``."""
    return sorted(p.stem for p in _EXERCISES.glob("ex*.py"))


def checks_for(exercise: str) -> list:
    """The checks of ``exercise`` (e.g. ``"ex01_pruning"``)."""
    if not isinstance(exercise, str):
        raise TypeError(f"exercise must be a string such as 'ex01_pruning'; got {exercise!r} "
                        f"({type(exercise).__name__})")
    if exercise not in exercise_names():
        raise ValueError(f"no exercise named {exercise!r}; known exercises: {exercise_names()}")
    return importlib.import_module(f"minicompress.exercises.{exercise}").CHECKS


def exercise_for(path, exercise: str | None = None) -> str:
    """The exercise a file answers: ``exercise`` if given, else the one its name ends with
    (``ex01_pruning.py``, ``alice_ex01_pruning.py``, ``ex01_pruning-bob.py``...)."""
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or pathlib.Path; got {path!r} ({type(path).__name__})")
    if exercise is not None:
        checks_for(exercise)
        return exercise
    stem = Path(path).stem
    found = [e for e in exercise_names() if e in stem]
    if not found:
        raise ValueError(
            f"cannot tell which exercise {Path(path).name!r} answers: its name contains none of "
            f"{exercise_names()}. Say it with --exercise, e.g. --exercise ex01_pruning"
        )
    return max(found, key=len)


@dataclass
class Submission:
    path: Path
    exercise: str
    checks: list
    results: list = field(default_factory=list)
    import_error: str | None = None
    imports_library: bool = False

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def passed(self) -> int:
        return sum(r.status == "PASS" for r in self.results)


def grade_submission(path, exercise: str, *, max_examples: int = 100, timeout: float = 3.0,
                     on_result=None) -> Submission:
    """Grade one file in its own process; ``on_result(result)`` is called as each is known."""
    sub = Submission(Path(path), exercise, checks_for(exercise))
    with StudentProcess(path, load_timeout=max(10.0, timeout)) as student:
        sub.import_error, sub.imports_library = student.import_error, student.imports_library
        if sub.import_error is not None:
            return sub
        for check in sub.checks:
            result = grade_function(student, check, max_examples=max_examples, timeout=timeout)
            sub.results.append(result)
            if on_result is not None:
                on_result(result)
    return sub


def submission_files(paths) -> list[Path]:
    """The files to grade: each ``.py`` file given, and for a folder every ``*.py`` file
    directly inside it, by name (``__init__.py`` and hidden files left out)."""
    if isinstance(paths, (str, Path)) or not isinstance(paths, (list, tuple)):
        raise TypeError(f"paths must be a list of files or folders (str or pathlib.Path); got "
                        f"{paths!r} ({type(paths).__name__})")
    bad = [p for p in paths if not isinstance(p, (str, Path))]
    if bad:
        raise TypeError(f"paths must hold str or pathlib.Path entries; got {bad[0]!r} "
                        f"({type(bad[0]).__name__})")
    files = []
    for p in map(Path, paths):
        if p.is_dir():
            inside = sorted(f for f in p.glob("*.py") if f.is_file() and not f.name.startswith(("_", ".")))
            if not inside:
                raise ValueError(f"folder {str(p)!r} holds no .py file to grade")
            files.extend(inside)
        elif p.is_file() and p.suffix == ".py":
            files.append(p)
        else:
            raise ValueError(f"file must be an existing .py file or a folder of them; got {str(p)!r}")
    return files


def check_files(paths, *, exercise: str | None = None, max_examples: int = 100, timeout: float = 3.0,
                json_path=None, out=print) -> int:
    """Grade every file (a folder: every .py file in it), print as results come, then the score
    table; return the exit code."""
    if not list(paths):
        raise ValueError("no files to grade; give one or more exercise files")
    paths = submission_files(paths)
    if max_examples < 0:
        raise ValueError(f"max_examples must be >= 0 (0: the hand cases only); got {max_examples}")
    if not timeout > 0:
        raise ValueError(f"timeout must be > 0 seconds; got {timeout}")
    exercises = [exercise_for(p, exercise) for p in paths]
    many = len(paths) > 1
    submissions = []
    for path, ex in zip(paths, exercises):
        if many:
            out(f"== {path.name}  (exercise {ex})")
        sub = grade_submission(path, ex, max_examples=max_examples, timeout=timeout,
                               on_result=lambda r: out(render(r, timeout=timeout)))
        if sub.import_error is not None:
            out(render_import_error(path.name, sub.import_error))
        else:
            if sub.imports_library:
                out("note: the file imports minicompress, the answer key; a function that runs "
                    "library code fails")
            out(f"\n{sub.passed}/{len(sub.checks)} functions pass")
        if many:
            out("")
        submissions.append(sub)
    if many:
        for ex in dict.fromkeys(exercises):
            group = [s for s in submissions if s.exercise == ex]
            out(f"score table, exercise {ex} ({len(group)} files)")
            out(score_table(group, [c.function for c in group[0].checks]))
    if json_path is not None:
        Path(json_path).write_text(json.dumps(as_json(submissions, timeout=timeout), indent=2) + "\n")
    if any(s.import_error is not None for s in submissions):
        return EXIT_IMPORT
    return EXIT_PASS if all(s.passed == len(s.checks) for s in submissions) else EXIT_FAIL
