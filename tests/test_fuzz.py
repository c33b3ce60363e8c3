"""The project's own fuzz test: every public callable, every argument, bad values of the
argument's kind (the registry is tests/fuzz_registry.py).

Each bad call must raise ``ValueError``/``TypeError`` whose message names the argument and
quotes the value -- its repr, or for an array its dtype, shape or what is wrong in it (a
TypeError may name the value's type instead): "named".  The other outcomes are "vague" (the
right type, a message naming neither), "other" (another exception: AttributeError, KeyError,
...), "accepted" (no exception) and "hang" (no answer within TIMEOUT seconds).  The calls run
in a forked worker process, one case after another, watched by this process: a case that
hangs is killed and counted, and the worker restarts after it.  The share of "named"
outcomes must be at least 98% and nothing may hang.  ``python tests/test_fuzz.py`` prints
every case that is not named, and the share.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import math
import multiprocessing
import pkgutil
import re
import types
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minicompress
from minicompress import formats
from minicompress.nn import Module

try:
    from fuzz_registry import REGISTRY, Bad, Entry
except ImportError:  # run as a script
    from tests.fuzz_registry import REGISTRY, Bad, Entry

#: seconds a single call may take before it counts as a hang
TIMEOUT = 20.0
#: the share of bad inputs that must raise a ValueError/TypeError naming argument and value
TARGET = 0.98


# ----------------------------------------------------------------------------- public callables
def public_callables() -> dict[int, str]:
    """``{id(obj): "pkg.name"}`` for every callable in each package's ``__all__``."""
    out: dict[int, str] = {}
    for info in pkgutil.iter_modules(minicompress.__path__):
        if info.name.startswith("_") or info.name in ("cli", "__main__"):
            continue
        module = importlib.import_module(f"minicompress.{info.name}")
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if callable(obj):
                out.setdefault(id(obj), f"minicompress.{info.name}.{name}")
    return out


def module_callables() -> dict[int, str]:
    """``{id(obj): "module.name"}`` for every callable in a module's own ``__all__``: the
    module-level API (formulas and helpers a package does not re-export), which may carry
    fuzz entries too."""
    out: dict[int, str] = {}
    for info in pkgutil.walk_packages(minicompress.__path__, "minicompress."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]) or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name, None)
            if callable(obj):
                out.setdefault(id(obj), f"{info.name}.{name}")
    return out


def test_every_public_callable_has_an_entry():
    public = public_callables()
    missing = sorted(name for i, name in public.items() if i not in REGISTRY)
    known = {**module_callables(), **public}
    stale = sorted(e.name for i, e in REGISTRY.items() if i not in known)
    assert not missing, (f"public callables without a fuzz entry: {missing}. Add one line per callable "
                         f"to tests/fuzz_registry.py, e.g. E(prune.magnitude_mask, w=W, sparsity=0.5)")
    assert not stale, f"fuzz entries for names that are no longer public: {stale}"


# ----------------------------------------------------------------------------- bad values by kind
NONE, THREE, OBJECT = Bad(None, "None", "none"), Bad(3, "3", "int"), Bad(object(), "object", "object")


def _floats(extra=()):
    return [NONE, Bad("0.5", "'0.5'", "str"), Bad(True, "True", "bool"),
            Bad(math.nan, "nan", "nan"), Bad(math.inf, "inf", "inf"), Bad(1j, ("1j", "complex"), "complex"),
            Bad([0.5], ("[0.5]", "list"), "list"), *extra]


def _choices(good):
    return [NONE, THREE, Bad("no-such-option", "'no-such-option'", "unknown"),
            Bad([good], ("list", repr([good])), "list"), Bad(np.array([good]), ("array", "ndarray"), "array")]


def _arrays(good):
    shape = good.shape if isinstance(good, np.ndarray) and good.size else (3,)
    out = [NONE, Bad("abc", ("'abc'", "str"), "str"),
           Bad([[1.0], [1.0, 2.0]], ("list", "rectangular"), "ragged"),
           Bad(np.full(shape, "a"), ("<U1", "str"), "strarray"),
           Bad(np.full(shape, None, object), "object", "object"),
           Bad(np.ones(shape, complex), "complex", "complex")]
    if isinstance(good, np.ndarray) and good.dtype.kind == "f":
        for value, token in ((np.nan, "nan"), (np.inf, "inf")):
            bad = good.copy()
            bad.flat[bad.size // 2] = value
            out.append(Bad(bad, ("non-finite", token, token.upper(), "NaN"), token))
    return out


#: the bad values of each kind of argument (``Bad(value, tokens, label)``; an entry's
#: ``valid`` names the labels its argument takes by design)
KINDS = {
    "module": lambda good: [NONE, Bad("model", "'model'", "str"), THREE,
                            Bad(np.zeros(3), ("ndarray", "array"), "array"), OBJECT],
    "bool": lambda good: [Bad("no", "'no'", "str"), Bad(0, "0", "int"), Bad(1, "1", "int"),
                          NONE, Bad(np.array([True, False]), ("array", "ndarray"), "array")],
    "int": lambda good: [NONE, Bad("3", "'3'", "str"), Bad(2.5, "2.5", "float"),
                         Bad(True, "True", "bool"), Bad(-10**9, "-1000000000", "negative"),
                         Bad(np.array([3]), ("array", "ndarray"), "array")],
    "float": lambda good: _floats(),
    "fraction": lambda good: _floats([Bad(-0.1, "-0.1", "negative"), Bad(1.5, "1.5", "above")]),
    "positive": lambda good: _floats([Bad(0.0, "0", "zero"), Bad(-1.0, "-1", "negative")]),
    "nonnegative": lambda good: _floats([Bad(-1.0, "-1", "negative")]),
    "choice": _choices,
    "format": _choices,
    "name": lambda good: [b for b in _choices(good) if b.label != "unknown"],  # any string is a name
    "rng": lambda good: [NONE, Bad("seed", "'seed'", "str"), Bad(2.5, "2.5", "float"),
                         Bad(-1, "-1", "negative"), Bad(True, "True", "bool"),
                         Bad(np.random.RandomState(0), "RandomState", "legacy")],
    "array": _arrays,
    "callable": lambda good: [NONE, THREE, Bad("relu", "'relu'", "str")],
    "dict": lambda good: [NONE, Bad([("a", 1)], "list", "list"), Bad("abc", "'abc'", "str"),
                          THREE],
    "sequence": lambda good: [NONE, THREE, OBJECT],
    "shape": lambda good: [NONE, Bad("abc", "'abc'", "str"), Bad((2.5, 3), "2.5", "float"),
                           Bad((-1, 3), "-1", "negative")],
    "dtype": lambda good: [NONE, Bad(np.int8, "int8", "int"), Bad("nonsense", "nonsense", "str"),
                           THREE],
    "encoding": lambda good: [NONE, Bad(np.zeros(3), ("ndarray", "array"), "array"),
                              Bad("int8", "'int8'", "str")],
    "types": lambda good: [NONE, THREE, Bad("Linear", "'Linear'", "str"),
                           Bad((3,), "3", "tuple")],
    "path": lambda good: [NONE, THREE, Bad(2.5, "2.5", "float")],
    "other": lambda good: [NONE, THREE, Bad("abc", "'abc'", "str")],
}


def kind_of(name: str, good) -> str | None:
    """The kind of an argument, from its name and its good value (None: not fuzzed)."""
    if good is None:
        return None
    if name == "dtype":
        return "dtype"
    if isinstance(good, Module):
        return "module"
    if isinstance(good, (bool, np.bool_)):
        return "bool"
    if name == "rng" or isinstance(good, np.random.Generator):
        return "rng"
    if isinstance(good, int):
        return "int"
    if isinstance(good, float):
        return "float"
    if isinstance(good, Path) or name in ("path", "outdir"):
        return "path"
    if isinstance(good, str):
        return "choice"
    if isinstance(good, np.ndarray):
        return "array"
    if isinstance(good, formats.Encoding):
        return "encoding"
    if isinstance(good, dict):
        return "dict"
    if isinstance(good, (tuple, list)):
        if good and all(isinstance(t, type) for t in good):
            return "types"
        if name in ("shape", "input_shape") and all(isinstance(d, int) for d in good):
            return "shape"
        return "sequence"
    if callable(good):
        return "callable"
    return "other"


# ----------------------------------------------------------------------------- cases
@dataclass(frozen=True)
class Case:
    entry: str
    arg: str | None  # None: the good call
    index: int       # which bad value of the argument


def _entries() -> dict[str, Entry]:
    return {e.name: e for e in REGISTRY.values()}


def bad_values(entry: Entry, arg: str) -> list[Bad]:
    """The bad values of ``arg``: its kind's, less what the function accepts by design (None
    where None is the argument's default; the labels of the entry's ``valid``), plus the
    entry's own."""
    good = entry.kwargs[arg]
    kind = entry.kinds.get(arg) or kind_of(arg, good)
    values = KINDS[kind](good) if kind else []
    param = inspect.signature(entry.fn).parameters.get(arg)
    if param is not None and param.default is None:
        values = [b for b in values if b.value is not None]
    values = [b for b in values if b.label not in entry.valid.get(arg, ())]
    return values + list(entry.bad.get(arg, ()))


def all_cases() -> list[Case]:
    cases = []
    for name, entry in _entries().items():
        if entry.record is not None:
            continue
        cases.append(Case(name, None, 0))
        for arg in entry.kwargs:
            if arg not in entry.keep:
                cases += [Case(name, arg, i) for i in range(len(bad_values(entry, arg)))]
    return cases


def _names_argument(message: str, names) -> bool:
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message) for n in names)


#: words a pool's tokens may hold that describe a type, not a value: they count for a TypeError only
_TYPE_WORDS = ("str", "list", "array", "ndarray", "object", "int", "float", "complex")


def _value_tokens(bad: Bad, error: type) -> tuple:
    """What a message must quote of the bad value: its repr (or, for an array, its dtype,
    shape or what is wrong in it); a TypeError may name the value's type instead."""
    tokens = (bad.tokens,) if isinstance(bad.tokens, str) else tuple(bad.tokens)
    value = bad.value
    if isinstance(value, np.ndarray):
        tokens += (str(value.dtype), value.dtype.str, str(value.shape), repr(value)[:15])
    elif len(repr(value)) <= 40:
        tokens += (repr(value),)
    if error is TypeError:
        return tokens + (type(value).__name__,)
    return tuple(t for t in tokens if t not in _TYPE_WORDS)


def call(entry: Entry, arg: str | None = None, value=None):
    memo = {id(v): v for v in entry.kwargs.values() if isinstance(v, types.ModuleType)}  # not copyable
    kwargs = copy.deepcopy(entry.kwargs, memo)
    if arg is not None:
        kwargs[arg] = value
    sig = inspect.signature(entry.fn)
    args, kw = [], {}
    for name, v in kwargs.items():
        p = sig.parameters.get(name)
        if p is not None and p.kind is inspect.Parameter.POSITIONAL_ONLY:
            args.append(v)
        else:
            kw[name] = v
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return entry.fn(*args, **kw)


def run_case(case: Case) -> tuple[str, str]:
    """``(outcome, message)`` of one case (see the module docstring)."""
    entry = _entries()[case.entry]
    if case.arg is None:
        try:
            call(entry)
        except Exception as err:  # the good call must work
            return "good call fails", f"{type(err).__name__}: {err}"
        return "good", ""
    bad = bad_values(entry, case.arg)[case.index]
    try:
        call(entry, case.arg, bad.value)
    except (ValueError, TypeError) as err:
        message = str(err)
        names = (case.arg, *entry.aliases.get(case.arg, ()))
        if _names_argument(message, names) and any(t in message for t in _value_tokens(bad, type(err))):
            return "named", message
        return "vague", f"{type(err).__name__}: {message}"
    except Exception as err:
        return "other", f"{type(err).__name__}: {err}"
    return "accepted", ""


def _worker(cases, start, conn):
    for i in range(start, len(cases)):
        try:
            outcome, message = run_case(cases[i])
        except BaseException as err:  # noqa: BLE001 -- report anything, keep going
            outcome, message = "other", f"{type(err).__name__}: {err}"
        conn.send((i, outcome, message[:300]))
    conn.send(None)


def run_all(cases, timeout: float = TIMEOUT) -> list[tuple[Case, str, str]]:
    """Every case in a forked worker; a case silent for ``timeout`` seconds is a hang (the
    worker is killed and a new one starts after that case)."""
    ctx = multiprocessing.get_context("fork")
    results: dict[int, tuple[str, str]] = {}
    start, done = 0, False
    while not done and start < len(cases):
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_worker, args=(cases, start, child), daemon=True)
        proc.start()
        child.close()
        while True:
            if not parent.poll(timeout):
                results[start] = ("hang", f"no answer in {timeout} s")
                proc.kill()
                start += 1
                break
            try:
                msg = parent.recv()
            except EOFError:  # the worker died (a crash in C code)
                results[start] = ("other", "the worker process died")
                start += 1
                break
            if msg is None:
                done = True
                break
            i, outcome, message = msg
            results[i] = (outcome, message)
            start = i + 1
        proc.join()
    return [(c, *results[i]) for i, c in enumerate(cases)]


@pytest.fixture(scope="module")
def fuzz_results():
    return run_all(all_cases())


def summary(results) -> dict:
    bad = [r for r in results if r[0].arg is not None]
    counts = {}
    for _, outcome, _ in bad:
        counts[outcome] = counts.get(outcome, 0) + 1
    return {"cases": len(bad), "named": counts.get("named", 0), "counts": counts,
            "share": counts.get("named", 0) / max(len(bad), 1)}


def test_every_good_call_works(fuzz_results):
    failing = [(c.entry, m) for c, outcome, m in fuzz_results if c.arg is None and outcome != "good"]
    assert not failing, failing


def test_bad_inputs_raise_errors_that_name_the_argument_and_the_value(fuzz_results):
    s = summary(fuzz_results)
    misses = [f"{c.entry}({c.arg}={bad_values(_entries()[c.entry], c.arg)[c.index].value!r:.40}): "
              f"{o}: {m[:120]}" for c, o, m in fuzz_results if c.arg is not None and o != "named"]
    assert s["counts"].get("hang", 0) == 0, [m for m in misses if ": hang:" in m]
    assert s["share"] >= TARGET, (f"{s['named']}/{s['cases']} = {s['share']:.1%} named; misses:\n"
                                  + "\n".join(misses))


def _accepts_anything(x=1.0):
    return x


def _attribute_error(x=1.0):
    return x.real.imag.nothing


def _loops(x=1.0):
    while True:
        pass


def test_the_harness_tells_the_outcomes_apart():
    """The fuzz test fails when it should: accepted, another exception, a hang, a vague and a
    named message are each recognised (the hang is killed after the timeout)."""
    def vague(x=1.0):
        raise ValueError("something is wrong")

    def named(x=1.0):
        if not isinstance(x, float) or x != x:
            raise TypeError(f"x must be a real number; got {x!r}")
        return x

    entries = {}
    for fn in (_accepts_anything, _attribute_error, _loops, vague, named):
        entries[fn.__name__] = Entry(fn, {"x": 1.0}, name=fn.__name__)
    cases = [Case(name, "x", 0) for name in entries]  # x=None
    saved = dict(REGISTRY)
    REGISTRY.clear()
    REGISTRY.update({id(e.fn): e for e in entries.values()})
    try:
        outcomes = {c.entry: o for c, o, _ in run_all(cases, timeout=1.0)}
    finally:
        REGISTRY.clear()
        REGISTRY.update(saved)
    assert outcomes == {"_accepts_anything": "accepted", "_attribute_error": "other", "_loops": "hang",
                        "vague": "vague", "named": "named"}


# ----------------------------------------------------------------------------- Hypothesis
def _array_args(refused=()):
    """(entry name, argument) for every float-array argument of a fuzzed entry that does not
    take the ``refused`` labels by design (its entry's ``valid``)."""
    out = []
    for name, entry in sorted(_entries().items()):
        if entry.record is None:
            out += [(name, a) for a, v in entry.kwargs.items() if a not in entry.keep
                    and isinstance(v, np.ndarray) and v.dtype.kind == "f"
                    and not set(refused) & set(entry.valid.get(a, ()))]
    return out


@st.composite
def spoiled(draw, good: np.ndarray):
    """``good`` with NaN or inf at one to three Hypothesis-chosen positions."""
    bad = good.copy()
    k = draw(st.integers(1, min(3, bad.size)))
    for i in draw(st.lists(st.integers(0, bad.size - 1), min_size=k, max_size=k, unique=True)):
        bad.flat[i] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    return bad


@given(st.sampled_from(_array_args(("nan", "inf"))), st.data())
def test_nonfinite_values_anywhere_in_an_array_argument_are_named(where, data):
    name, arg = where
    entry = _entries()[name]
    bad = data.draw(spoiled(entry.kwargs[arg]))
    with pytest.raises((ValueError, TypeError), match=rf"(?<![A-Za-z0-9_]){re.escape(arg)}(?![A-Za-z0-9_])"):
        call(entry, arg, bad)


@given(st.sampled_from(_array_args(("complex", "strarray", "object"))), st.data())
def test_arrays_of_non_real_dtypes_are_refused(where, data):
    name, arg = where
    entry = _entries()[name]
    good = entry.kwargs[arg]
    dtype = data.draw(st.sampled_from([np.complex64, np.complex128, np.dtype("U3"), np.dtype("S2"), object]))
    if dtype is object:
        bad = np.full(good.shape, None, object)
    else:
        bad = data.draw(hnp.arrays(dtype, good.shape))
    with pytest.raises((ValueError, TypeError), match=re.escape(arg)):
        call(entry, arg, bad)


if __name__ == "__main__":  # the whole table: python tests/test_fuzz.py
    import sys
    import time

    sys.path.insert(0, str(Path(__file__).parent))
    t = time.perf_counter()
    results = run_all(all_cases())
    for c, o, m in results:
        if c.arg is not None and o != "named" or o == "good call fails":
            print(f"{o:9s} {c.entry}({c.arg}) #{c.index}: {m[:150]}")
    s = summary(results)
    seconds = time.perf_counter() - t
    print(f"{s['named']}/{s['cases']} = {s['share']:.2%} named; {s['counts']}; {seconds:.1f} s")
