"""``minicompress <command>`` (or ``python -m minicompress <command>``): train, evaluate,
tour, figures, check.

BLAS threads are pinned here, with threadpoolctl, before any work: one thread unless
``--threads N`` says otherwise (numpy is already imported when this runs, so environment
variables would come too late).  Output paths are checked, and their folders created, before
any work starts; a mistake on the command line is one line naming the argument, exit status 2;
Ctrl-C is one line, exit status 130.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .baselines import BATCH_SIZE, DEFAULT_EPOCHS, LR, MODELS, MOMENTUM

PROG = "minicompress"
#: Where ``figures`` writes unless told: never the committed figures/ folder by default.
DEFAULT_FIGURES = "minicompress-figures"

DESCRIPTION = """\
minicompress: neural-network compression in plain NumPy, read along a text on model
compression (pruning, quantization, knowledge distillation, low-rank decomposition).

commands:
  train     train a baseline model on the bundled MNIST digits (and save it with --out)
  evaluate  load a saved model (.npz) and print its size, accuracy and MACs
  tour      run every technique on the bundled MNIST and print one results table
  figures   run the experiments behind the figures and write the PNGs
  check     grade a classroom exercise file against the reference implementation
"""


CHECK_HELP = """\
Grade students' exercise files against the reference. Each file is imported in its own
process; each function is tried on hand-checkable cases, then on inputs Hypothesis draws,
and reported as it is graded: PASS, or the failing input (labelled hand case or shrunk
case) with expected vs received values and a hint for a known mistake. A function that
runs minicompress code (the answer key) is flagged and fails; one that runs longer than
--timeout fails and grading goes on. With several files, a score table follows.

examples:
  python -m minicompress check tutorials/exercises/ex01_pruning.py
  python -m minicompress check submissions/                  # every .py file in the folder;
                                                             # names must contain the exercise
  python -m minicompress check --exercise ex01_pruning submissions/ --json scores.json

exit codes:
  0  every function of every file passes
  1  some function fails
  3  some file does not import (its own traceback is shown, nothing of the grader's)
  2  bad arguments
"""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: ``prog: error: argument --x: ...``."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _integer(low: int):
    """An argparse type: an integer >= ``low``, or an error naming the value."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}; got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}; got {text!r}")
        return value
    parse.__name__ = f"integer >= {low}"
    return parse


def _output_file(args, option: str, path) -> Path | None:
    """``path`` ready to be written (its folder created; opened once to be sure), or a
    one-line error for ``option``: so no work is lost to a bad path at the end."""
    if path is None:
        return None
    path = Path(path)
    if path.is_dir():
        args.parser.error(f"argument {option}: {str(path)!r} is a folder; expected a file name")
    _output_dir(args, option, path.parent)
    existed = path.exists()
    try:
        with open(path, "a"):
            pass
    except OSError as err:
        args.parser.error(f"argument {option}: cannot write {str(path)!r} ({err.strerror})")
    if not existed:
        path.unlink()
    return path


def _output_dir(args, option: str, path) -> Path:
    path = Path(path)
    if path.exists() and not path.is_dir():
        args.parser.error(f"argument {option}: {str(path)!r} is a file; expected a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        args.parser.error(f"argument {option}: cannot create folder {str(path)!r} ({err.strerror})")
    if not os.access(path, os.W_OK):
        args.parser.error(f"argument {option}: folder {str(path)!r} is not writable")
    return path


def _cmd_train(args) -> int:
    from .baselines import train_baseline
    from .formats import save_model
    from .metrics import model_size_bits

    out = _output_file(args, "--out", args.out)
    model, history = train_baseline(args.model, epochs=args.epochs, seed=args.seed, verbose=True)
    if history["test_accuracy"]:
        print(f"final test accuracy: {100 * history['test_accuracy'][-1]:.2f}%")
    if out is None:
        print(f"not saved: pass --out FILE.npz to save the trained {args.model}")
        return 0
    save_model(out, model)
    kb = model_size_bits(model, "fp32").kilobytes
    print(f"saved {args.model} to {out} (fp32, {kb:,.1f} KB); "
          f"`{args.parser.prog.rsplit(' ', 1)[0]} evaluate {out}` reads it back")
    return 0


def _cmd_evaluate(args) -> int:
    from .pipeline import evaluate_file

    if not Path(args.model_file).is_file():
        args.parser.error(f"argument MODEL: no such file {args.model_file!r}")
    print(evaluate_file(args.model_file, args.model))
    return 0


def _cmd_tour(args) -> int:
    from .experiments.table import render
    from .pipeline import tour

    json_path = _output_file(args, "--json", args.json)
    rows, meta = tour(quick=args.quick, seed=args.seed, sections=args.sections, threads=args.threads)
    style = "markdown" if args.markdown else "terminal"
    print(meta["title"], render(rows, style, wide=args.wide), meta["footer"], sep="\n\n")
    if json_path is not None:
        json_path.write_text(render(rows, "json", meta=meta) + "\n")
        print(f"wrote {json_path}")
    return 0


def _cmd_figures(args) -> int:
    from .pipeline import make_figures

    outdir = _output_dir(args, "--outdir", args.outdir or DEFAULT_FIGURES)
    if args.outdir is None:
        print(f"writing into ./{DEFAULT_FIGURES} (--outdir figures replaces the committed figures)")
    for path in make_figures(outdir, quick=args.quick, seed=args.seed, sections=args.sections,
                             threads=args.threads):
        print(f"wrote {path}")
    return 0


def _cmd_check(args) -> int:
    from functools import partial

    from .grading import check_files

    return check_files(args.files, exercise=args.exercise, max_examples=args.max_examples,
                       timeout=args.timeout, json_path=args.json, out=partial(print, flush=True))


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    from . import __version__
    from .pipeline import SECTIONS

    parser = Parser(prog=prog, description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"minicompress {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="command")

    def common(p, *, seed: bool = True):
        if seed:
            p.add_argument("--seed", type=_integer(0), default=0, help="seed (default: 0)")
        p.add_argument("--threads", type=_integer(1), default=1, metavar="N",
                       help="BLAS threads, pinned with threadpoolctl (default: 1)")
        p.set_defaults(parser=p)

    p = sub.add_parser("train", help="train a baseline model (and save it with --out)",
                       description="Train a baseline on the bundled 4,000-image MNIST training "
                       f"split (SGD, lr {LR}, momentum {MOMENTUM}, batch {BATCH_SIZE}), printing one "
                       "line per epoch; --out saves the weights (.npz, fp32).")
    p.add_argument("--model", choices=sorted(MODELS), default="convnet", help="model (default: convnet)")
    p.add_argument("--epochs", type=_integer(1), default=None,
                   help=f"training epochs (default per model: {DEFAULT_EPOCHS})")
    p.add_argument("--out", metavar="FILE", help="save the trained weights to this .npz file")
    common(p)
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="print a saved model's size, accuracy and MACs",
                       description="Load MODEL (an .npz written by `train --out` or "
                       "formats.save_model) into its architecture and print its stored size, its "
                       "accuracy on the 1,000 bundled test digits and its MACs per image.")
    p.add_argument("model_file", metavar="MODEL", help="the .npz file to evaluate")
    p.add_argument("--model", choices=sorted(MODELS), default=None,
                   help="architecture (default: the one whose parameters the file holds)")
    common(p, seed=False)
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("tour", help="run every technique and print the results table",
                       description="Train the baselines, compress them with every technique and "
                       "print one table: format, stored size, compression ratio, accuracy, accuracy "
                       "loss and MACs (--wide: parameters, both ratios, latency; --json: everything).")
    p.add_argument("--quick", action="store_true", help="very few epochs: a smoke test, not results")
    p.add_argument("--sections", nargs="+", choices=SECTIONS, help="run only these sections")
    p.add_argument("--wide", action="store_true", help="every column (wider than 100 characters)")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    p.add_argument("--json", metavar="FILE", help="also write every row, in full, as JSON to FILE")
    common(p)
    p.set_defaults(func=_cmd_tour)

    p = sub.add_parser("figures", help="regenerate the figures",
                       description="Run the experiments behind each figure and write the PNGs "
                       f"(into ./{DEFAULT_FIGURES} unless --outdir names a folder).")
    p.add_argument("--outdir", default=None, metavar="DIR",
                   help=f"where to write the PNGs (default: {DEFAULT_FIGURES}; the committed ones: figures)")
    p.add_argument("--quick", action="store_true", help="very few epochs: a smoke test, not results")
    p.add_argument("--sections", nargs="+", choices=SECTIONS, help="only these sections' figures")
    common(p)
    p.set_defaults(func=_cmd_figures)

    p = sub.add_parser("check", help="grade exercise files (one, or a class's folder)",
                       formatter_class=argparse.RawDescriptionHelpFormatter, description=CHECK_HELP)
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="exercise files or folders of them (every .py file directly inside), e.g. "
                   "tutorials/exercises/ex01_pruning.py or submissions/")
    p.add_argument("--exercise", metavar="NAME",
                   help="the exercise the files answer (e.g. ex01_pruning); default: the one each file "
                   "name contains (alice_ex01_pruning.py)")
    p.add_argument("--max-examples", type=int, default=100,
                   help="Hypothesis inputs per function after the hand cases; 0: hand cases only "
                   "(default: 100)")
    p.add_argument("--timeout", type=float, default=3.0, metavar="SECONDS",
                   help="time limit of one call; a call that takes longer fails the function (default: 3)")
    p.add_argument("--json", metavar="FILE", help="also write every result (per file, per function) as JSON")
    p.set_defaults(func=_cmd_check)
    return parser


def main(argv=None, *, prog: str = PROG) -> int:
    """Run one command; returns its exit status (2: a usage error, 130: interrupted)."""
    parser = build_parser(prog)
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        threads = getattr(args, "threads", None)
        if threads is None:
            return args.func(args)
        from .experiments.scaffold import blas_threads

        with blas_threads(threads):
            return args.func(args)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError, OSError) as err:  # bad input: one clear line, no traceback
        command = getattr(locals().get("args"), "command", None)
        print(f"{prog}{' ' + command if command else ''}: error: {err}", file=sys.stderr)
        return 2
