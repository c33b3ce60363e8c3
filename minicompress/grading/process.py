"""The grader's handle on a submission: :class:`StudentProcess` runs the student's file in a
worker process (:mod:`.worker`) and calls its functions with a time limit; :class:`InProcess`
offers the same interface for trusted code (the references' own self-test).

A call that does not return in time, or that ends the worker, raises :class:`CallTimeout` or
:class:`WorkerDied`; the worker is then started again (and the file imported again) for the
next call, so one endless loop fails one function, not the whole submission.
"""

from __future__ import annotations

import copy
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

from . import worker as wire

__all__ = ["StudentProcess", "InProcess", "CallTimeout", "WorkerDied", "LIBRARY_DIR"]

WORKER = Path(wire.__file__).resolve()
LIBRARY_DIR = WORKER.parents[1]  # .../minicompress


class CallTimeout(Exception):
    """The function did not return within its time limit."""


class WorkerDied(Exception):
    """The worker process ended during a call (os._exit, a crash in C code, no memory)."""


class StudentProcess:
    """A submission imported in its own process.

    After :meth:`start`, either ``import_error`` holds the student's traceback (the file has a
    syntax error, raises while importing, or does not finish importing within
    ``load_timeout``), or ``functions`` maps each public callable of the file to
    ``{"module": ..., "params": [...]}`` and ``imports_library`` says whether the file
    imported minicompress.
    """

    def __init__(self, path, *, load_timeout: float = 10.0):
        self.path = Path(path).resolve()
        self.load_timeout = float(load_timeout)
        self.functions: dict = {}
        self.imports_library = False
        self.import_error: str | None = None
        self._proc = None
        self._replies: queue.Queue | None = None

    # -- lifecycle
    def start(self) -> StudentProcess:
        search = [p for p in sys.path if p]  # the grader's own path: NumPy found the same way
        search.insert(0, str(LIBRARY_DIR.parent))  # the library importable, so that its use is seen
        self._proc = subprocess.Popen(
            [sys.executable, "-I", str(WORKER), json.dumps(search)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=(os.name == "posix"),
        )
        self._replies = queue.Queue()
        threading.Thread(target=self._read, args=(self._proc.stdout, self._replies), daemon=True).start()
        try:
            ready = self._receive(self.load_timeout + 20.0)  # the worker itself imports NumPy
            if ready != ("ready",):
                raise WorkerDied(f"the grading process did not start: {ready!r}")
            self._send(("load", str(self.path), str(LIBRARY_DIR)))
            reply = self._receive(self.load_timeout)
        except CallTimeout:
            self.stop()
            self.import_error = (f"the file did not finish importing within {self.load_timeout:g} s: "
                                 "is there an endless loop, or a long computation, outside any function?")
            return self
        except WorkerDied:
            self.stop()
            self.import_error = "the grading process ended while importing the file (os._exit? a crash?)"
            return self
        if reply[0] == "import_error":
            self.stop()
            self.import_error = reply[1]
        elif reply[0] == "loaded":
            self.functions, self.imports_library = reply[1], bool(reply[2])
        else:  # pragma: no cover - a bug in the worker
            self.stop()
            raise RuntimeError(f"grader worker: {reply!r}")
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                if os.name == "posix":
                    os.killpg(proc.pid, signal.SIGKILL)  # the worker's session: anything it started
                else:  # pragma: no cover
                    proc.kill()
            except ProcessLookupError:  # pragma: no cover - ended on its own meanwhile
                pass
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except OSError:  # pragma: no cover
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self._proc is not None and self._proc.poll() is None:
            try:
                self._send(("quit",))
            except OSError:  # pragma: no cover
                pass
        self.stop()

    # -- calls
    def call(self, name: str, args: tuple, timeout: float) -> tuple:
        """Call ``name(*args)`` in the worker; the reply as :func:`.worker.serve` sends it."""
        if self._proc is None:
            self.start()
            if self.import_error is not None:  # it imported before; it does not now
                raise WorkerDied(f"the file no longer imports: {self.import_error}")
        try:
            self._send(("call", name, wire.encode(tuple(args))))
            reply = self._receive(timeout)
        except (CallTimeout, WorkerDied, OSError) as err:
            code = None
            if not isinstance(err, CallTimeout):
                try:  # the pipe closed: the worker is ending, or has ended
                    code = self._proc.wait(timeout=2.0)
                except subprocess.TimeoutExpired:  # pragma: no cover
                    pass
            self.stop()
            if isinstance(err, CallTimeout):
                raise
            raise WorkerDied(f"the grading process ended during the call (exit code {code})") from None
        if reply[0] == "ok":
            return ("ok", wire.decode(reply[1]), list(reply[2]), reply[3])
        if reply[0] == "internal":  # pragma: no cover - a bug in the worker: fail this call only
            self.stop()
            raise WorkerDied(f"the grader's worker failed: {reply[1]}")
        return reply

    # -- plumbing
    @staticmethod
    def _read(stream, replies) -> None:
        try:
            while True:
                message = wire.read_message(stream)
                replies.put(message)
                if message is None:
                    return
        except Exception:  # a reply that is not plain data: the worker is treated as dead
            replies.put(None)

    def _send(self, message) -> None:
        wire.write_message(self._proc.stdin, message)

    def _receive(self, timeout: float):
        try:
            message = self._replies.get(timeout=timeout)
        except queue.Empty:
            raise CallTimeout() from None
        if message is None:
            raise WorkerDied()
        return message


class InProcess:
    """The :class:`StudentProcess` interface over trusted functions in this process (no time
    limit, no isolation): for testing the references against their own checks."""

    def __init__(self, namespace):
        self.namespace = namespace
        self.import_error = None
        self.imports_library = False
        self.functions = {}
        for name in dir(namespace):
            fn = getattr(namespace, name)
            if not name.startswith("_") and callable(fn):
                self.functions[name] = {"module": "trusted", "params": []}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def call(self, name: str, args: tuple, timeout: float) -> tuple:
        fn = getattr(self.namespace, name, None)
        if not callable(fn):
            return ("missing",)
        saved = copy.deepcopy(args)
        try:
            value = fn(*args)
        except NotImplementedError:
            return ("todo", None)
        except Exception as err:
            return ("raised", type(err).__name__, str(err), None)
        changed = [i for i, (a, b) in enumerate(zip(saved, args)) if not wire._same(a, b)]
        return ("ok", value, changed, None)
