"""Does what a block printed match the output a tutorial shows for it?  (``match_output``)

The rules, in the order they apply (tests/tutorial_runner.py says where the shown output
comes from):

* Lines are compared one by one; trailing whitespace and trailing blank lines are ignored,
  and a run of spaces matches any run of spaces (none at all next to a number), so a column
  that widens by one digit, or NumPy's ``50. ]`` for ``50.1]``, still matches.
* ``...`` inside a line matches any text on that line (a timing, a path); a line that is
  only ``...`` matches any number of whole lines, none included (a long log).
* Numbers are compared as numbers. An integer (no decimal point, no exponent; ``19.`` counts
  as one) must be printed exactly. A number with a fractional part or an exponent may differ
  by one unit in its last shown digit (a value that sits near a rounding boundary rounds
  either way) plus ``rtol = 1e-4`` of its size (float32 round-off in a number printed in
  full).
* An output fence may widen that for its own block with ``rtol=R`` and ``atol=A`` in its
  info string (```` ```text rtol=0.01 ````): every number of the block, integers too, may
  then differ by ``A + R |shown|``, plus the last-digit unit.
* ``roundoff=E`` declares the block's numbers smaller than E in magnitude to be round-off
  (a gradient check's relative error, the gap between two float computations of the same
  value): any printed value below E matches them, a larger one does not.
* A number may carry thousands separators (``8,531,808``); it is compared as one number.
"""

from __future__ import annotations

import difflib
import re

_DIGITS = r"[-+]?(?:\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?"
_NUMBER = re.compile(r"(?<![\w.,])" + _DIGITS + r"(?![\d.])")
_CAPTURE = "(" + _DIGITS + r")(?![\d.])"
DEFAULT_RTOL = 1e-4
_OPTION = re.compile(r"^(rtol|atol|roundoff)=([0-9.eE+-]+)$")


def parse_options(info: str) -> dict:
    """``"rtol=0.01 roundoff=1e-6"`` -> ``{"rtol": 0.01, "roundoff": 1e-6}``; anything else
    is an error."""
    options = {}
    for word in info.split():
        m = _OPTION.match(word)
        if not m:
            raise ValueError(f"output fence option {word!r} not understood; expected rtol=R or atol=A")
        options[m.group(1)] = float(m.group(2))
    return options


def _last_digit_unit(token: str) -> float:
    """One unit in the last shown digit of a decimal or exponent number; 0 for an integer."""
    mantissa, _, exponent = token.lower().replace(",", "").partition("e")
    decimals = len(mantissa.partition(".")[2])
    if not exponent and decimals == 0:
        return 0.0
    return 10.0 ** (int(exponent or 0) - decimals)


def _line_pattern(line: str):
    """A regex for one shown line, and the number tokens it captures, in order."""
    parts, numbers, pos = [], [], 0
    for m in _NUMBER.finditer(line):
        parts.append(("text", line[pos:m.start()]))
        parts.append(("number", m.group()))
        numbers.append(m.group())
        pos = m.end()
    parts.append(("text", line[pos:]))
    regex = []
    for i, (kind, value) in enumerate(parts):
        if kind == "number":
            regex.append("[ \t]*" + _CAPTURE + "[ \t]*")
            continue
        before_number = i + 1 < len(parts) and parts[i + 1][0] == "number"
        after_number = i > 0 and parts[i - 1][0] == "number"
        chunks = value.split("...")
        for k, chunk in enumerate(chunks):
            if k:
                regex.append(".*?")
            pieces = re.split(r"([ \t]+)", chunk)
            for j, piece in enumerate(pieces):
                if not piece:
                    continue
                if piece.isspace():
                    first = k == 0 and not any(pieces[:j])
                    last = k == len(chunks) - 1 and not any(pieces[j + 1:])
                    if not ((first and after_number) or (last and before_number)):
                        regex.append("[ \t]+")  # next to a number, the number's own [ \t]* does
                else:
                    regex.append(re.escape(piece))
    return re.compile("".join(regex) + r"\Z"), numbers


def _match_line(shown: str, printed: str, rtol, atol, roundoff) -> str | None:
    pattern, numbers = _line_pattern(shown)
    m = pattern.match(printed)
    if not m:
        return "the text differs"
    for token, got in zip(numbers, m.groups()):
        expected, value = float(token.replace(",", "")), float(got.replace(",", ""))
        if roundoff is not None and abs(expected) < roundoff:
            if abs(value) < roundoff:
                continue
            return f"{got} printed where round-off below {roundoff:g} is expected (shown {token})"
        is_integer = _last_digit_unit(token) == 0.0
        r = (0.0 if is_integer else DEFAULT_RTOL) if rtol is None else rtol
        a = 0.0 if atol is None else atol
        tol = _last_digit_unit(token) + a + r * abs(expected)
        if abs(value - expected) > tol * (1 + 1e-9):
            return f"{got} printed where {token} is shown (tolerance {tol:.3g})"
    return None


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def match_output(shown: str, printed: str, *, rtol: float | None = None,
                 atol: float | None = None, roundoff: float | None = None) -> str | None:
    """None if ``printed`` matches ``shown`` under the rules above, else what differs."""
    want, got = _lines(shown), _lines(printed)
    memo: dict = {}

    def match(i: int, j: int) -> bool:
        if (i, j) not in memo:
            if i == len(want):
                memo[i, j] = j == len(got)
            elif want[i].strip() == "...":
                memo[i, j] = any(match(i + 1, k) for k in range(j, len(got) + 1))
            else:
                memo[i, j] = (j < len(got) and _match_line(want[i], got[j], rtol, atol, roundoff) is None
                              and match(i + 1, j + 1))
        return memo[i, j]

    if match(0, 0):
        return None
    if len(want) == len(got) and not any(w.strip() == "..." for w in want):
        for k, (w, g) in enumerate(zip(want, got), start=1):
            why = _match_line(w, g, rtol, atol, roundoff)
            if why:
                return f"line {k}: {why}\n  shown:   {w}\n  printed: {g}"
    diff = difflib.unified_diff(want, got, "shown", "printed", lineterm="", n=1)
    return "the lines differ:\n" + "\n".join(diff)
