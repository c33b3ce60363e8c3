"""``python -m minicompress <command>``: train, tour, figures, check."""

from __future__ import annotations

import argparse

from .baselines import BATCH_SIZE, DEFAULT_EPOCHS, LR, MODELS, MOMENTUM

DESCRIPTION = """\
minicompress: neural-network compression in plain NumPy, read along a text on model
compression (pruning, quantization, knowledge distillation, low-rank decomposition).

commands:
  train    train a baseline model on the bundled MNIST digits and save it (.npz)
  tour     run every technique on the bundled MNIST and print one results table
  figures  regenerate every figure in figures/
  check    grade a classroom exercise file against the reference implementation
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


def _cmd_train(args) -> int:
    from .baselines import train_baseline

    model, history = train_baseline(args.model, epochs=args.epochs, seed=args.seed, verbose=True)
    if history["test_accuracy"]:
        print(f"final test accuracy: {100 * history['test_accuracy'][-1]:.2f}%")
    if args.out:
        from .formats import save_model

        save_model(args.out, model)
        print(f"saved {args.model} to {args.out}")
    return 0


def _cmd_tour(args) -> int:
    from .pipeline import tour

    tour(quick=args.quick, seed=args.seed, sections=args.sections, json_path=args.json)
    return 0


def _cmd_figures(args) -> int:
    from .pipeline import make_figures

    for path in make_figures(args.outdir, quick=args.quick, seed=args.seed, sections=args.sections):
        print(f"wrote {path}")
    return 0


def _cmd_check(args) -> int:
    from functools import partial

    from .grading import check_files

    return check_files(args.files, exercise=args.exercise, max_examples=args.max_examples,
                       timeout=args.timeout, json_path=args.json, out=partial(print, flush=True))


def build_parser() -> argparse.ArgumentParser:
    from .pipeline import SECTIONS

    parser = argparse.ArgumentParser(
        prog="python -m minicompress", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="command", required=True)

    p = sub.add_parser("train", help="train a baseline model and save it",
                       description="Train a baseline on the bundled 4,000-image MNIST training "
                       f"split (SGD, lr {LR}, momentum {MOMENTUM}, batch {BATCH_SIZE}), printing one "
                       "line per epoch.")
    p.add_argument("--model", choices=sorted(MODELS), default="convnet", help="model (default: convnet)")
    p.add_argument("--epochs", type=int, default=None,
                   help=f"training epochs (default per model: {DEFAULT_EPOCHS})")
    p.add_argument("--seed", type=int, default=0, help="seed for initialisation and shuffling (default: 0)")
    p.add_argument("--out", metavar="FILE", help="save the trained weights to this .npz file")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("tour", help="run every technique and print the results table",
                       description="Train the baselines, compress them with every technique and "
                       "print one table: parameters, non-zeros, size, compression ratio (both ways), "
                       "accuracy, accuracy loss, MACs and measured latency.")
    p.add_argument("--quick", action="store_true", help="very few epochs: a smoke test, not results")
    p.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    p.add_argument("--sections", nargs="+", choices=SECTIONS, help="run only these sections")
    p.add_argument("--json", metavar="FILE", help="also write the table as JSON to FILE")
    p.set_defaults(func=_cmd_tour)

    p = sub.add_parser("figures", help="regenerate the figures",
                       description="Run the experiments behind each figure and write the PNGs.")
    p.add_argument("--outdir", default="figures", help="where to write the PNGs (default: figures)")
    p.add_argument("--quick", action="store_true", help="very few epochs: a smoke test, not results")
    p.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    p.add_argument("--sections", nargs="+", choices=SECTIONS, help="only these sections' figures")
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


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError) as err:  # bad input: one clear line, no traceback
        parser.exit(2, f"{parser.prog} {args.command}: error: {err}\n")
