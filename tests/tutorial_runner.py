"""Runs the tutorials as a reader would, and checks that each prints what it shows.

How a tutorial is written (d2l-style)
-------------------------------------
``tutorials/NN_name.md`` is Markdown. Its ```` ```python ```` fences run in order, in one
namespace. A ```` ```text ```` fence that follows a python fence with nothing but blank
lines between them is that block's **shown output**: what the block prints (its stdout,
and in a notebook the repr of a value its last line leaves). Any other fence (the source
text's snippets, shell commands) is prose and never runs.

What the tests check (tests/test_tutorials.py)
----------------------------------------------
1. Every tutorial runs as a notebook: ``tutorials/NN_name.ipynb`` is generated from the
   Markdown (tests/tutorial_notebooks.py) and executed cell by cell by **one** Jupyter
   kernel (ipykernel, driven by nbclient) shared by all tutorials of the test session. The
   kernel's working directory is a fresh temporary directory for each tutorial, never the
   repository root; before each tutorial the kernel forgets every name (``%reset -f``), goes
   to that directory and restores NumPy's print options. Imported modules stay loaded, so a
   baseline trained by one tutorial (``baselines.baseline`` caches per process) is not
   trained again by the next. The kernel imports this checkout's package (it is put first
   on the kernel's ``PYTHONPATH``). A test session that reads tutorials starts all of them
   in the kernel as soon as it is collected, from a worker thread, and runs the tests that
   read them last (tests/conftest.py): the kernel is another process, so the rest of the
   suite runs meanwhile on the other core.
2. What each block prints matches its shown output, by the rules of tests/tutorial_outputs.py:
   text exactly (runs of spaces aside), ``...`` for anything, integers exactly, other
   numbers within one unit of their last shown digit plus a relative 1e-4. A shown output
   whose numbers come out of training may widen that with ``rtol=R`` / ``atol=A`` in its
   fence's info string (```` ```text rtol=0.01 ````): training amplifies round-off, whose
   pattern depends on the BLAS kernel (the CPU); ``roundoff=E`` lets numbers below E that
   are round-off themselves (a gradient check's error) be any value below E. The options
   were chosen by running every tutorial on this project's machine (OpenBLAS SkylakeX
   kernels, one thread) with ``OPENBLAS_CORETYPE=Haswell`` and ``=Sandybridge``
   (``OPENBLAS_CORETYPE=Haswell python -m tests.tutorial_runner check``). What moved:
   accuracies after training by 0.1-0.2 point (one or two of 1,000 digits; ``rtol=0.01``),
   accuracies of models pruned hard and not fine-tuned by up to 1.3 points (``rtol=0.02``;
   0.05 for tutorial 05's loss, the difference of two such accuracies), accuracy losses of
   fine-tuned models, in points, by up to 0.5 (``atol=0.5``),
   a saliency measured at a minimum (noise) by 5% (``rtol=0.1``), GPTQ / AdaRound layer
   errors by 1.6% (``rtol=0.02``), gradient-check errors
   by a factor of 3 (``roundoff``). ``auto_compress``'s search took another path on both
   other kernels (another plan, 29.1x instead of 28.2x), so tutorial 06 shows that block's
   log with ``...``; on Sandybridge only, ``deep_compression`` picks another automatic index
   width for one layer (tutorial 06; no tolerance covers a different choice). The kernel
   runs with one BLAS thread unless the environment says otherwise (as tests/conftest.py):
   more threads sum in another order.
3. A block that prints must show its output, and no block may write to stderr (a warning
   would go unseen in the Markdown).
4. The committed notebook equals what the generator makes from the Markdown, byte for byte.

The notebooks carry the shown outputs as their cells' outputs (so a notebook opens looking
executed, and nothing is shown twice), no execution counts, and no images: figures are
Markdown links to ``figures/``, as in the Markdown.

Commands (from the repository root)
-----------------------------------
``python -m tests.tutorial_runner check [NAME ...]``
    run tutorials in a kernel and report every mismatch;
``python -m tests.tutorial_runner write-outputs NAME ...``
    run them and write each block's printed output into its Markdown (a shown output that
    already matches is kept as it is; one that does not is replaced, keeping its options;
    review the diff);
``python -m tests.tutorial_runner notebooks``
    regenerate every ``tutorials/*.ipynb`` from its Markdown.

``run_tutorial(name)`` gives a test of a tutorial's claims the namespace the tutorial left in
the kernel (every name that pickles: arrays, models, result dicts, modules) and everything it
printed, from the same single run. ``run_in_process(name)`` runs the blocks in this process
instead, for debugging.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
import threading
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tests.tutorial_outputs import match_output, parse_options

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "tutorials").glob("*.md"))
FIGURE = re.compile(r"!\[[^\]]*\]\((\.\./figures/[^)]+)\)")
_OPEN = re.compile(r"^```[ \t]*([\w+-]*)[ \t]*(.*?)[ \t]*$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class TutorialError(Exception):
    pass


@dataclass
class Block:
    """A ```python fence and the output fence shown right after it (if any).

    Lines are 1-based line numbers in the Markdown; ``*_end`` is the closing fence's line."""

    code: str
    line: int
    end: int
    shown: str | None = None
    shown_line: int | None = None
    shown_end: int | None = None
    info: str = ""

    @property
    def options(self) -> dict:
        return parse_options(self.info)


def parse(text: str) -> list:
    """The Markdown as a list of prose strings and :class:`Block` s, in order."""
    lines = text.split("\n")
    items, prose, i = [], [], 0
    while i < len(lines):
        m = _OPEN.match(lines[i]) if lines[i].startswith("```") else None
        if not m:
            prose.append(lines[i])
            i += 1
            continue
        end = next((k for k in range(i + 1, len(lines)) if lines[k].rstrip() == "```"), None)
        if end is None:
            raise TutorialError(f"line {i + 1}: fence {lines[i]!r} is never closed")
        body = "\n".join(lines[i + 1:end]) + "\n"
        language, info = m.group(1), m.group(2)
        previous = items[-1] if items and not any(s.strip() for s in prose) else None
        if language == "python":
            items.append("\n".join(prose))
            items.append(Block(body, i + 1, end + 1))
            prose = []
        elif language == "text" and isinstance(previous, Block) and previous.shown is None:
            previous.shown, previous.shown_line, previous.shown_end = body, i + 1, end + 1
            previous.info = info
            prose = []
        else:
            prose.extend(lines[i:end + 1])
        i = end + 1
    items.append("\n".join(prose))
    return [item for item in items if isinstance(item, Block) or item.strip()]


def blocks(text: str) -> list[Block]:
    return [item for item in parse(text) if isinstance(item, Block)]


def python_blocks(text: str) -> list[str]:
    """The bodies of the ```python fences, in order (other fences are not run)."""
    return [b.code for b in blocks(text)]


def read(name: str) -> str:
    return (ROOT / "tutorials" / name).read_text(encoding="utf-8")


def describe(name: str, number: int, block: Block, total: int) -> str:
    first = block.code.strip().splitlines()[0] if block.code.strip() else ""
    return f"{name}: block {number} of {total} (line {block.line}, starting `{first}`)"


# ----------------------------------------------------------------------------- in this process
def run_blocks(codes: list[str], name: str) -> dict:
    """Execute ``codes`` in order in one namespace; raise TutorialError naming the block."""
    namespace = {"__name__": f"tutorial_{Path(name).stem}"}
    for number, code in enumerate(codes, start=1):
        try:
            exec(compile(code, f"{name}, block {number}", "exec"), namespace)
        except Exception as err:
            lines = code.strip().splitlines()
            where = "".join(traceback.format_exception(type(err), err, err.__traceback__)[-3:])
            raise TutorialError(
                f"{name}: block {number} of {len(codes)} (starting `{lines[0] if lines else ''}`) "
                f"raised {type(err).__name__}: {err}\n{where}"
            ) from err
    return namespace


def run_in_process(name: str) -> tuple[dict, str]:
    """Run ``tutorials/<name>``'s blocks in this process (no kernel), from a temporary
    directory; return ``(namespace, everything it printed)``. For debugging a tutorial with
    pdb; the tests use :func:`run_tutorial`."""
    codes = python_blocks(read(name))
    if not codes:
        raise TutorialError(f"{name} has no ```python blocks")
    old_cwd, out = os.getcwd(), io.StringIO()
    os.environ.setdefault("MPLBACKEND", "Agg")
    with tempfile.TemporaryDirectory(prefix="tutorial-") as tmp:
        try:
            os.chdir(tmp)
            with contextlib.redirect_stdout(out):
                namespace = run_blocks(codes, name)
        finally:
            os.chdir(old_cwd)
            if "matplotlib.pyplot" in sys.modules:
                sys.modules["matplotlib.pyplot"].close("all")
    return namespace, out.getvalue()


# ----------------------------------------------------------------------------- in a kernel
_RESET = """%reset -f
import os as _os, sys as _sys
_os.chdir({cwd!r})
_sys.modules["numpy"].set_printoptions(**_sys.modules["_tutorial_kernel"].printoptions)
if "matplotlib.pyplot" in _sys.modules:
    _sys.modules["matplotlib.pyplot"].close("all")
print(_os.getcwd())
del _os, _sys
"""
_SAVE = """import pickle as _pickle, types as _types
_saved = {{}}
for _name, _value in list(globals().items()):
    if _name.startswith("_") or _name in ("In", "Out", "get_ipython", "exit", "quit"):
        continue
    if isinstance(_value, _types.ModuleType):
        _saved[_name] = ("module", _value.__name__)
        continue
    try:
        _saved[_name] = ("value", _pickle.dumps(_value, protocol=5))
    except Exception:
        pass  # a function or class the tutorial defines: not transferable
with open({path!r}, "wb") as _file:
    _pickle.dump(_saved, _file, protocol=5)
del _pickle, _types, _saved, _name, _value, _file
"""
_START = """import sys, types, numpy
_state = types.ModuleType("_tutorial_kernel")
_state.printoptions = numpy.get_printoptions()
sys.modules["_tutorial_kernel"] = _state
"""


class Kernel:
    """One ipykernel process, started on first use and shut down when this process exits."""

    def __init__(self):
        import nbformat
        from nbclient import NotebookClient

        self._tmp = tempfile.TemporaryDirectory(prefix="tutorials-")
        env = dict(os.environ, MPLBACKEND="Agg")
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(var, "1")  # as tests/conftest.py: one BLAS thread, the shown round-off
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
        self.client = NotebookClient(nbformat.v4.new_notebook(), kernel_name="python3", timeout=900,
                                     resources={"metadata": {"path": self._tmp.name}})
        self.client.km = self.client.create_kernel_manager()
        self.client.start_new_kernel(env=env)
        self.client.start_new_kernel_client()
        self.execute(_START)

    def execute(self, cell):
        """Run one code cell (a NotebookNode, or source text) and return it, outputs filled."""
        import nbformat

        if isinstance(cell, str):
            cell = nbformat.v4.new_code_cell(cell)
        self.client.nb = nbformat.v4.new_notebook()
        self.client.nb.cells = [cell]
        self.client.execute_cell(cell, 0)
        return cell

    def close(self):
        self.client._cleanup_kernel()
        self._tmp.cleanup()


@cache
def kernel() -> Kernel:
    import atexit

    k = Kernel()
    atexit.register(k.close)
    return k


@dataclass
class CellRun:
    block: Block
    printed: str
    stderr: str


@dataclass
class NotebookRun:
    name: str
    cwd: str
    cells: list[CellRun]
    namespace: dict

    @property
    def output(self) -> str:
        """Everything the tutorial printed, in order."""
        return "".join(c.printed for c in self.cells)

    def mismatches(self) -> list[str]:
        """Each block whose printed output differs from its shown one, or that prints without
        showing it, or writes to stderr, as a message naming the block."""
        problems = []
        for number, c in enumerate(self.cells, start=1):
            where = describe(self.name, number, c.block, len(self.cells))
            if c.stderr:
                problems.append(f"{where} wrote to stderr:\n{c.stderr}")
            if c.block.shown is None:
                if c.printed.strip():
                    problems.append(f"{where} prints but shows no output; it printed:\n{c.printed}")
                continue
            why = match_output(c.block.shown, c.printed, **c.block.options)
            if why:
                problems.append(f"{where}, shown output at line {c.block.shown_line}: {why}")
        return problems


def _text(outputs) -> tuple[str, str]:
    printed, stderr = [], []
    for out in outputs:
        if out.output_type == "stream":
            (stderr if out.name == "stderr" else printed).append(out.text)
        elif out.output_type in ("execute_result", "display_data") and "text/plain" in out.data:
            printed.append(out.data["text/plain"] + "\n")
    return "".join(printed), "".join(stderr)


# The kernel is driven from one worker thread, so that the tutorials can run while this
# process does something else (tests/conftest.py starts them at the beginning of a test
# session that will need them, and the unit tests run meanwhile: the kernel is another
# process, so the two use two cores).  Every kernel call happens in that thread.
_WORKER: ThreadPoolExecutor | None = None
_RUNS: dict[str, Future] = {}
_LOCK = threading.Lock()


def submit(name: str) -> Future:
    """The (future) run of ``tutorials/<name>`` in the kernel, started once per process."""
    global _WORKER
    with _LOCK:
        if name not in _RUNS:
            if _WORKER is None:
                _WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tutorial-kernel")
            _RUNS[name] = _WORKER.submit(_run_notebook, name)
        return _RUNS[name]


def cancel_pending() -> None:
    """Drop the runs not started yet (a session that stops early does not wait for them)."""
    with _LOCK:
        for future in _RUNS.values():
            future.cancel()


def run_notebook(name: str) -> NotebookRun:
    """Execute ``tutorials/<name>`` as its notebook, in the shared kernel, from a fresh
    temporary directory; once per process (a second call returns the same run). A failing
    cell raises TutorialError."""
    return submit(name).result()


def _run_notebook(name: str) -> NotebookRun:
    from nbclient.exceptions import CellExecutionError

    from tests.tutorial_notebooks import notebook

    k = kernel()
    cwd = tempfile.mkdtemp(prefix=Path(name).stem + "-", dir=k._tmp.name)
    reset = k.execute(_RESET.format(cwd=cwd))
    nb = notebook(read(name))
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    found = blocks(read(name))
    runs = []
    for number, (cell, block) in enumerate(zip(code_cells, found), start=1):
        try:
            k.execute(cell)
        except CellExecutionError as err:
            raise TutorialError(f"{describe(name, number, block, len(found))} raised:\n"
                                f"{_ANSI.sub('', str(err))}") from None
        runs.append(CellRun(block, *_text(cell.outputs)))
    saved = Path(cwd) / "namespace.pickle"
    k.execute(_SAVE.format(path=str(saved)))
    return NotebookRun(name, _text(reset.outputs)[0].strip(), runs, _namespace(saved))


def _namespace(path: Path) -> dict:
    """The names a tutorial left in the kernel, as far as they pickle: arrays, models, results
    and the library's functions and modules (a function or class the tutorial defines
    itself stays behind)."""
    import importlib
    import pickle

    with open(path, "rb") as fh:
        saved = pickle.load(fh)  # written by our own kernel, a moment ago
    namespace = {}
    for name, (kind, value) in saved.items():
        try:
            namespace[name] = importlib.import_module(value) if kind == "module" else pickle.loads(value)
        except Exception:
            continue
    return namespace


def run_tutorial(name: str) -> tuple[dict, str]:
    """``(namespace, everything it printed)`` of the tutorial's one run in the kernel
    (:func:`run_notebook`): tests of a tutorial's claims read both, at no extra cost."""
    run = run_notebook(name)
    return run.namespace, run.output


def figures_shown(name: str) -> list[Path]:
    """The figure files a tutorial shows with ``![...](../figures/...)``."""
    path = ROOT / "tutorials" / name
    return [path.parent / p for p in FIGURE.findall(path.read_text(encoding="utf-8"))]


# ----------------------------------------------------------------------------- command line
def write_outputs(name: str) -> int:
    """Write each block's printed output into ``tutorials/<name>``; return how many changed."""
    run = run_notebook(name)
    lines = read(name).split("\n")
    changed = 0
    for c in reversed(run.cells):
        b, printed = c.block, c.printed.rstrip("\n")
        if b.shown is not None and match_output(b.shown, c.printed, **b.options) is None:
            continue
        fence = ["```text" + (f" {b.info}" if b.info else "")] + printed.split("\n") + ["```"]
        if b.shown is not None:
            lines[b.shown_line - 1:b.shown_end] = fence if printed else []
            if not printed:  # drop the blank line that separated the removed fence
                del lines[b.end:b.shown_line - 1]
        elif printed:
            lines[b.end:b.end] = [""] + fence
        else:
            continue
        changed += 1
    (ROOT / "tutorials" / name).write_text("\n".join(lines), encoding="utf-8")
    return changed


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.tutorial_runner",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["check", "write-outputs", "notebooks"])
    parser.add_argument("names", nargs="*", help="tutorial file names, e.g. 05_evaluation.md (default: all)")
    args = parser.parse_args(argv)
    names = args.names or [p.name for p in TUTORIALS]
    if args.command == "notebooks":
        from tests.tutorial_notebooks import write_notebooks

        for path in write_notebooks():
            print("wrote", path.relative_to(ROOT))
        return 0
    status = 0
    for name in names:
        if args.command == "write-outputs":
            print(f"{name}: {write_outputs(name)} output blocks written")
            continue
        try:
            problems = run_notebook(name).mismatches()
        except TutorialError as err:
            problems = [str(err)]
        print(f"{name}: {'ok' if not problems else f'{len(problems)} problem(s)'}")
        for p in problems:
            print("  " + p.replace("\n", "\n  "))
        status |= bool(problems)
    return status


if __name__ == "__main__":
    sys.exit(main())
