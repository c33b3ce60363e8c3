"""The student's side of the grader: a separate process that imports the submission and calls
its functions, and nothing else.

The grader (:mod:`minicompress.grading.process`) starts this file as a script, ``python -I
worker.py``, so it imports neither the grader nor the library: the reference answers live in
the grader's process, where the submission cannot import or patch them.  Messages go both ways
as length-prefixed pickles of plain builtins (:func:`encode` turns arrays into bytes), and the
grader unpickles the replies with an unpickler that refuses every class, so a reply cannot run
code in the grader either.

What the worker reports for each call: the value returned (or the exception raised), which
arguments the function changed in place, and whether any code of the library ran during the
call (the library is the answer key; a function that uses it is flagged).  The library's
directory is passed in the first message; the worker imports the library only if the
submission does.

Stdlib and NumPy only; the submission's prints and warnings go to the worker's stderr, which
the grader discards.
"""

from __future__ import annotations

import copy
import inspect
import io
import json
import os
import pickle
import struct
import sys
import traceback
import warnings

if __name__ == "__main__" and len(sys.argv) > 1:  # started as the worker: the grader's sys.path
    sys.path[:] = json.loads(sys.argv[1])

import numpy as np  # noqa: E402 - after the path is set

#: array dtypes that cross the pipe as raw bytes (booleans, integers, floats, complex)
KINDS = "biufc"
#: longest repr kept for a value that is not a number, an array or a container of them
MAX_REPR = 300


# ----------------------------------------------------------------------------- the wire
def encode(value, depth: int = 0):
    """A value as nested builtin tuples (tagged), arrays as raw bytes: safe to unpickle."""
    if depth > 20:
        return ("?", "a structure nested more than 20 levels deep")
    if value is None:
        return ("N",)
    if isinstance(value, np.generic) and value.dtype.kind in KINDS:  # before float: np.float64 is one
        return ("g", value.dtype.str, value.tobytes())
    if isinstance(value, np.ndarray) and value.dtype.kind in KINDS:
        shape = tuple(int(d) for d in value.shape)
        return ("a", value.dtype.str, shape, np.ascontiguousarray(value).tobytes())
    if isinstance(value, bool):
        return ("b", bool(value))
    if isinstance(value, int):
        return ("i", int(value))
    if isinstance(value, float):
        return ("f", float(value))
    if isinstance(value, complex):
        return ("c", float(value.real), float(value.imag))
    if isinstance(value, str):
        return ("s", str(value)[:10_000])
    if isinstance(value, (tuple, list)):  # a namedtuple counts as a tuple
        return ("t" if isinstance(value, tuple) else "l", [encode(v, depth + 1) for v in list(value)[:1000]])
    if type(value) is dict:
        return ("d", [(encode(k, depth + 1), encode(v, depth + 1)) for k, v in list(value.items())[:1000]])
    return ("?", _describe(value))


def _describe(value) -> str:
    try:
        text = repr(value)
    except Exception as err:  # a broken __repr__
        text = f"<repr raised {type(err).__name__}>"
    kind = type(value).__name__
    if isinstance(value, np.ndarray):
        kind = f"ndarray of dtype {value.dtype}"
    return f"{kind}: {text[:MAX_REPR]}"


class Opaque:
    """A value the worker could not send as numbers: only its type and repr are known."""

    def __init__(self, description: str):
        self.description = description

    def __repr__(self) -> str:
        return f"<{self.description}>"

    def __eq__(self, other) -> bool:
        return isinstance(other, Opaque) and other.description == self.description

    __hash__ = None


def decode(data):
    """Inverse of :func:`encode`; anything malformed becomes an :class:`Opaque`."""
    try:
        tag = data[0]
        if tag == "N":
            return None
        if tag in ("b", "i", "f", "s"):
            value = data[1]
            if type(value) is not {"b": bool, "i": int, "f": float, "s": str}[tag]:
                raise TypeError(tag)
            return value
        if tag == "c":
            return complex(float(data[1]), float(data[2]))
        if tag in ("a", "g"):
            dtype = np.dtype(data[1])
            if dtype.kind not in KINDS or dtype.hasobject:
                raise TypeError(dtype)
            if tag == "g":
                return np.frombuffer(data[2], dtype=dtype, count=1)[0]
            shape = tuple(int(d) for d in data[2])
            return np.frombuffer(data[3], dtype=dtype).reshape(shape).copy()
        if tag == "t":
            return tuple(decode(v) for v in data[1])
        if tag == "l":
            return [decode(v) for v in data[1]]
        if tag == "d":
            return {decode(k): decode(v) for k, v in data[1]}
        if tag == "?":
            return Opaque(str(data[1]))
    except Exception:
        pass
    return Opaque("a value the grader could not read")


class _NoClasses(pickle.Unpickler):
    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"refused to load {module}.{name}")


def write_message(stream, message) -> None:
    payload = pickle.dumps(message, protocol=4)
    stream.write(struct.pack("<Q", len(payload)) + payload)
    stream.flush()


def read_message(stream):
    """One message, or None at end of stream; only builtin types are accepted."""
    head = stream.read(8)
    if len(head) < 8:
        return None
    (size,) = struct.unpack("<Q", head)
    payload = stream.read(size)
    if len(payload) < size:
        return None
    return _NoClasses(io.BytesIO(payload)).load()


# ----------------------------------------------------------------------------- the worker
def _same(a, b) -> bool:
    """Did an argument stay as it was (bit for bit, NaN included)?"""
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype
                and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")))
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and (a == b or (a != a and b != b))


def _student_traceback(err: BaseException, path: str) -> str:
    """The traceback of an error raised while importing the student's file, keeping only the
    frames of that file (a syntax error has none: its message shows the line)."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if os.path.abspath(f.filename) == path]
    lines = []
    if frames:
        lines.append("Traceback (most recent call last):\n")
        lines += traceback.format_list(frames)
    lines += traceback.format_exception_only(type(err), err)
    return "".join(lines)


class _LibraryWatch:
    """Notices whether library code runs during a call (a profile hook on Python calls)."""

    def __init__(self, library_dir: str):
        self.prefix = os.path.join(os.path.abspath(library_dir), "")
        self.seen: str | None = None

    def loaded(self) -> bool:
        return any(name == "minicompress" or name.startswith("minicompress.") for name in sys.modules)

    def __call__(self, frame, event, arg):
        if self.seen is None and event == "call" and frame.f_code.co_filename.startswith(self.prefix):
            module = frame.f_globals.get("__name__", "minicompress")
            self.seen = f"{module}.{getattr(frame.f_code, 'co_qualname', frame.f_code.co_name)}"

    def run(self, fn, args):
        """Call ``fn(*args)``; returns its value; ``self.seen`` names the library code it ran."""
        self.seen = None
        before = self.loaded()
        if before:
            sys.setprofile(self)
        try:
            return fn(*args)
        finally:
            sys.setprofile(None)
            if self.seen is None and not before and self.loaded():
                self.seen = "an import of minicompress"


def _function_info(module, name):
    fn = getattr(module, name, None)
    if not callable(fn):
        return None
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        params = []
    return {"module": str(getattr(fn, "__module__", "") or ""), "params": params}


def serve(requests, replies) -> None:
    """Answer the grader's messages until it says "quit" or closes the pipe."""
    module, watch, path = None, None, None
    while True:
        message = read_message(requests)
        if message is None or message[0] == "quit":
            return
        kind = message[0]
        if kind == "load":
            _, path, library_dir = message
            path = os.path.abspath(path)
            watch = _LibraryWatch(library_dir)
            sys.path.insert(0, os.path.dirname(path))  # as `python file.py` would
            import importlib.util

            spec = importlib.util.spec_from_file_location("submission", path)
            module = importlib.util.module_from_spec(spec)
            sys.modules["submission"] = module
            try:
                spec.loader.exec_module(module)
            except BaseException as err:  # noqa: B036 - SystemExit in a student file is an error too
                write_message(replies, ("import_error", _student_traceback(err, path)))
                continue
            names = {n: _function_info(module, n) for n in dir(module) if not n.startswith("_")}
            names = {n: info for n, info in names.items() if info is not None}
            write_message(replies, ("loaded", names, watch.loaded()))
        elif kind == "call":
            _, name, data = message
            fn = getattr(module, name, None)
            if not callable(fn):
                write_message(replies, ("missing",))
                continue
            args = decode(data)
            saved = copy.deepcopy(args)
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    value = watch.run(fn, args)
            except NotImplementedError:
                write_message(replies, ("todo", watch.seen))
                continue
            except BaseException as err:  # noqa: B036 - SystemExit, KeyboardInterrupt from student code
                write_message(replies, ("raised", type(err).__name__, str(err)[:2000], watch.seen))
                continue
            try:
                changed = [i for i, (a, b) in enumerate(zip(saved, args)) if not _same(a, b)]
                reply = ("ok", encode(value), changed, watch.seen)
            except Exception as err:  # a returned object that cannot even be described
                text = f"the grader cannot read the returned value: {err}"
                reply = ("raised", "TypeError", text, watch.seen)
            write_message(replies, reply)
        else:
            write_message(replies, ("internal", f"unknown message {kind!r}"))


def main() -> None:
    # the protocol gets its own copies of stdin/stdout; the student's prints go to stderr and
    # the student's input() reads nothing
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    sys.dont_write_bytecode = True  # no __pycache__ in the teacher's folder
    write_message(replies, ("ready",))
    try:
        serve(requests, replies)
    except BaseException:  # noqa: B036 - the grader must hear about a bug in the worker itself
        write_message(replies, ("internal", traceback.format_exc()))


if __name__ == "__main__":
    main()
