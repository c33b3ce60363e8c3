"""How grading results read: one block per function (:func:`render`), a score table over a
folder of submissions (:func:`score_table`) and the same facts as JSON (:func:`as_json`)."""

from __future__ import annotations

from .checks import show
from .engine import LABELS, Result

__all__ = ["render", "render_import_error", "score_table", "as_json", "short_status"]


def short_status(result: Result) -> str:
    """PASS, FAIL, TODO, MISS, or for a failure that is not a wrong value: TIME (did not
    return in time), FLAG (used the library), DIED (ended the grading process)."""
    if result.status != "FAIL":
        return {"MISSING": "MISS"}.get(result.status, result.status)
    kind = result.failure.kind if result.failure else ""
    return {"timeout": "TIME", "flagged": "FLAG", "crash": "DIED"}.get(kind, "FAIL")


def _label(result: Result, timeout: float) -> str:
    f = result.failure
    return LABELS[f.kind].format(why=f.why, limit=timeout)


def render(result: Result, *, timeout: float = 3.0) -> str:
    """The block printed for one function."""
    name = result.function
    if result.status == "PASS":
        note = f"; {result.note}" if result.note else ""
        return f"PASS     {name}  ({result.n_tried} inputs{note})"
    if result.status == "MISSING":
        return f"MISSING  {name}  (not defined in the file)"
    if result.status == "TODO":
        return f"TODO     {name}  (still raises NotImplementedError)"
    f = result.failure
    head = {"timeout": f"  (did not return within {timeout:g} s: an endless loop?)",
            "flagged": "  (flagged: uses minicompress, the answer key)",
            "crash": "  (the grading process ended during the call)"}.get(f.kind, "")
    lines = [f"FAIL     {name}{head}"]
    if f.kind == "flagged":
        lines.append(f"  {f.error}")
    if f.args:
        lines.append(f"  {_label(result, timeout)}:")
        for param, value in zip(result.params, f.args):
            lines.append(f"    {param}: {show(value)}")
        lines.append(f"  expected: {show(f.expected)}")
        if f.kind in ("hand", "shrunk", "unshrunk"):
            if f.error is not None:
                lines.append(f"  raised:   {f.error}")
            else:
                lines.append(f"  received: {show(f.received)}")
    if f.kind == "crash" and f.error:
        lines.append(f"  {f.error}")
    for p in f.problems:
        if p.key != "value" or ":" in p.text:  # a bare "the values differ" says nothing new
            lines.append(f"  ({p.text})")
    for _, hint in f.hints:
        lines.append(f"  hint: {hint}")
    return "\n".join(lines)


def render_import_error(name: str, text: str) -> str:
    body = "\n".join("    " + line for line in text.rstrip().splitlines())
    return f"{name} does not import, so nothing was graded. Python said:\n{body}"


def score_table(submissions, functions: list[str]) -> str:
    """One row per submission, one column per function (numbered, with a legend)."""
    legend = "functions: " + ", ".join(f"{i} {f}" for i, f in enumerate(functions, start=1))
    width = max([len("file")] + [len(s.name) for s in submissions])
    cols = [str(i).ljust(5) for i in range(1, len(functions) + 1)]
    lines = [legend, f"{'file'.ljust(width)}  {' '.join(cols)} score"]
    for s in submissions:
        if s.import_error is not None:
            cells = "does not import".ljust(6 * len(functions) - 1)
        else:
            by_name = {r.function: r for r in s.results}
            cells = " ".join(short_status(by_name[f]).ljust(5) if f in by_name else "-    "
                             for f in functions)
        lines.append(f"{s.name.ljust(width)}  {cells} {s.passed}/{len(functions)}")
    return "\n".join(lines)


def _result_json(result: Result, timeout: float) -> dict:
    out = {"status": result.status, "short": short_status(result), "inputs_tried": result.n_tried,
           "seconds": round(result.seconds, 3)}
    if result.note:
        out["note"] = result.note
    f = result.failure
    if f is not None:
        out.update({
            "case": f.kind,
            "case_label": _label(result, timeout),
            "failing_input": {p: show(v) for p, v in zip(result.params, f.args)},
            "expected": show(f.expected) if f.args else None,
            "received": show(f.received) if f.kind in ("hand", "shrunk", "unshrunk") and f.error is None
            else None,
            "error": f.error,
            "problems": [p.text for p in f.problems],
            "hints": [{"mistake": k, "hint": h} for k, h in f.hints],
            "flagged": f.kind == "flagged",
        })
    return out


def as_json(submissions, *, timeout: float) -> dict:
    """Per submission, per function: status, failing input, expected, received, hints."""
    return {"submissions": [{
        "file": str(s.path),
        "exercise": s.exercise,
        "imports": s.import_error is None,
        "import_error": s.import_error,
        "imports_minicompress": s.imports_library,
        "score": s.passed,
        "total": len(s.checks),
        "functions": {r.function: _result_json(r, timeout) for r in s.results},
    } for s in submissions]}
