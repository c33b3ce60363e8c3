"""Knowledge distillation on the bundled MNIST: the student alone vs distilled over a grid
of temperatures T and hard-label weights alpha, several seeds; prints mean ± sample std and
the wall time.  (An experiment, not a timed test: see minicompress/experiments/distillation.py
for the recipe.)

    python benchmarks/distill_sweep.py                    # the sweep: 5 T x 3 alpha x 5 seeds,
                                                          # + pruned and int8 teachers
    python benchmarks/distill_sweep.py --full-data        # also: students on all 4,000 digits
    python benchmarks/distill_sweep.py --as-written       # also: the text's KLDivLoss() as written

BLAS threads (default 1, set before numpy loads): the matrix products here are small, and on
a shared machine OpenBLAS threads waiting for each other made training many times slower.
"""

from __future__ import annotations

import argparse
import time

from _setup import pin_threads  # before numpy: pins BLAS threads


def _mean_std(accs) -> str:
    import numpy as np

    from minicompress.experiments.distillation import spread

    a = 100 * np.asarray(accs)
    return f"{a.mean():.2f} ± {spread(a):.2f}% (seeds: {', '.join(f'{v:.1f}' for v in a)})"


def full_data(ctx, teacher, seeds, epochs, T, alpha):
    """Student alone vs distilled at (T, alpha) when the student also gets all 4,000 digits."""
    from minicompress.experiments import distillation as exp
    from minicompress.nn import evaluate

    Xt, yt = ctx.data.X_test, ctx.data.y_test
    alone, distilled = [], []
    for seed in seeds:
        alone.append(evaluate(exp.train_student(ctx, seed=seed, epochs=epochs, n_train=None), Xt, yt)[1])
        student = exp.train_student(ctx, teacher, T=T, alpha=alpha, seed=seed, epochs=epochs, n_train=None)
        distilled.append(evaluate(student, Xt, yt)[1])
    print(f"\nall 4,000 digits: student alone      {_mean_std(alone)}")
    print(f"all 4,000 digits: distilled T={T:g} a={alpha:g} {_mean_std(distilled)}")


def as_written(ctx, teacher, seeds, epochs, T, n_train):
    """The student trained with the text's loss (no T^2, mean over classes) at the same lr."""
    from minicompress.experiments import distillation as exp
    from minicompress.nn import evaluate

    accs = [evaluate(exp.train_student(ctx, teacher, T=T, alpha=0, seed=seed, epochs=epochs,
                                       n_train=n_train, as_written=True),
                     ctx.data.X_test, ctx.data.y_test)[1] for seed in seeds]
    print(f"\ntext's loss as written (T={T:g}, same lr): {_mean_std(accs)}")


def main(args) -> None:
    from minicompress.experiments import distillation as exp
    from minicompress.experiments.scaffold import TourContext

    ctx = TourContext(verbose=True)
    seeds = tuple(range(args.seeds))
    t0 = time.perf_counter()
    result = exp.sweep(ctx, seeds=seeds, epochs=args.epochs, n_train=args.n_train)
    print()
    print(exp.sweep_table(result))
    print(f"\nwall time: teacher {result['teacher_seconds']:.0f} s, "
          f"{len(seeds) * (1 + len(exp.ALPHAS) * len(exp.TEMPERATURES))} students {result['seconds']:.0f} s")
    model, _ = exp.get_teacher(ctx)
    teacher = exp.CachedTeacher(model)
    T, alpha = exp.BEST
    t1 = time.perf_counter()
    print(f"\ncompressed teachers (students distilled at T={T:g}, alpha={alpha:g}, {args.n_train} digits):")
    for r in exp.compressed_teacher_sweep(ctx, seeds=seeds, epochs=args.epochs, n_train=args.n_train):
        print(f"  {r['teacher']:8s} teacher {100 * r['teacher_accuracy']:.2f}%  "
              f"students {_mean_std(r['students'])}")
    print(f"  ({time.perf_counter() - t1:.0f} s)")
    if args.as_written:
        as_written(ctx, teacher, seeds, args.epochs, T, args.n_train)
    if args.full_data:
        full_data(ctx, teacher, seeds, args.epochs, T, alpha)
    print(f"\ntotal wall time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds (default 5)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs per student (default 20)")
    parser.add_argument("--n-train", type=int, default=1000, help="transfer-set size (default 1000)")
    parser.add_argument("--full-data", action="store_true", help="also compare on all 4,000 digits")
    parser.add_argument("--as-written", action="store_true", help="also train with the text's loss")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    args = parser.parse_args()
    pin_threads(args.threads)
    main(args)
