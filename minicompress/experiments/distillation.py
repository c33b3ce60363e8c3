"""Tour section: knowledge distillation (source text 3.3 / 4.3) on the bundled MNIST.

A large teacher, ``ConvNet(channels=32)`` (54,410 parameters), teaches a small student,
``ConvNet(channels=4)`` (6,810 parameters, 8x smaller).  The teacher is trained on all
4,000 training digits; the student gets a *transfer set* of only the first 1,000 of them
(about 100 per class), as Hinton et al. (2015) train their students on a transfer set.
The student alone learns from the 1,000 hard labels; the distilled student from the
teacher's soft targets on the same 1,000 digits (and, if alpha > 0, the hard labels too).

Recipe for every model (teacher and students alike): the tour's (SGD, lr 0.01, momentum
0.9, batch 64; :func:`~minicompress.experiments.scaffold.train`), digits jittered by up to
2 pixels (Hinton et al. 2015, section 3), and the last quarter of the epochs at a tenth of
the learning rate (so the final accuracy does not hang on the luck of the last minibatches).

:func:`sweep` trains the student alone and distilled over a grid of temperatures T and
hard-label weights alpha, for several seeds (the seed sets the student's initialisation,
the shuffling and the jitter; the teacher is the same for all).  It backs
``figures/distillation_temperature.png`` and ``benchmarks/distill_sweep.py``; the tour shows
the teacher, the student alone and the student distilled at :data:`BEST`.

On the full 4,000 digits the 4-channel student alone comes within noise of the teacher,
and distillation does not beat it there; ``benchmarks/distill_sweep.py --full-data``
measures that case too.
"""

from __future__ import annotations

import copy
import hashlib
import time

import numpy as np

from ..distill import KDLoss, jitter, softmax
from ..nn import ConvNet, cross_entropy
from ..prune import prune_model
from ..quantize import quantize_weights
from .scaffold import FT_LR, LR, TourContext, accuracy, measure, sgd, train

TITLE = "distillation (3.3 / 4.3): a ConvNet(32) teacher, a ConvNet(4) student"

TEACHER_CHANNELS = 32
STUDENT_CHANNELS = 4
#: Size of the student's transfer set: the first N_TRANSFER training digits.
N_TRANSFER = 1000
TEMPERATURES = (1, 2, 4, 8, 20)
ALPHAS = (0.0, 0.5, 0.9)
#: The (T, alpha) the tour uses for its distilled-student row, read off the sweep.
BEST = (8, 0.0)
#: The pruned teacher: global magnitude pruning of its weights, then fine-tuning with the
#: masks held (Han et al. 2015) at a tenth of the learning rate.
PRUNE_SPARSITY, PRUNE_FT_EPOCHS = 0.9, 3


class CachedTeacher:
    """A teacher that remembers its logits for every input it has seen.

    The sweep trains dozens of students from one fixed teacher on jittered copies of the same
    training digits, and there are only 25 shifts of each: so each distinct input image goes
    through the teacher once (its logits are those of the first batch it came in).  It is
    still just "any object with ``forward``" to :func:`~minicompress.distill.distill`.  Keys
    are 128-bit BLAKE2 digests of the image bytes.
    """

    def __init__(self, model):
        self.model = model
        self._logits: dict[bytes, np.ndarray] = {}

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x)
        keys = [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in x]
        missing = [i for i, k in enumerate(keys) if k not in self._logits]
        if missing:
            for i, z in zip(missing, self.model.forward(x[missing])):
                self._logits[keys[i]] = z
        return np.stack([self._logits[k] for k in keys])

    __call__ = forward


def train_scheduled(ctx: TourContext, model, X, y, *, epochs: int, seed: int, teacher=None, T=None,
                    alpha=None, as_written: bool = False, step=None):
    """Train ``model`` in place with the section's recipe; distilled if ``teacher`` is given
    (with the source text's loss as written if ``as_written``, alpha then 0).

    The tour's recipe in two calls: the first ``epochs - epochs // 4`` epochs at lr 0.01, the
    rest at 0.001, with one optimizer (momentum carries over) and one generator (the
    shuffling and jitter continue).  A distilled student trains with a
    :class:`~minicompress.distill.KDLoss`, exactly as :func:`~minicompress.distill.distill`
    runs it; ``step`` prints epoch ticks (see :meth:`TourContext.step`).
    """
    opt = sgd(model)
    rng = np.random.default_rng(seed)
    loss = cross_entropy if teacher is None else KDLoss(teacher, T=T, alpha=alpha, as_written=as_written)
    for n_epochs, lr in [(epochs - epochs // 4, LR), (epochs // 4, LR / 10)]:
        if n_epochs == 0:
            continue
        opt.lr = lr
        train(model, ctx, epochs=n_epochs, data=(X, y), loss=loss, optimizer=opt, rng=rng, augment=jitter,
              tick=step)
    return model


def get_teacher(ctx: TourContext):
    """The trained teacher and its training time in seconds (once per context).

    Full: 20 epochs on all of ``ctx.data``'s training digits; quick: 1 epoch on 1,000."""

    def make():
        epochs = ctx.epochs(20, 1)
        with ctx.step(f"KD teacher ConvNet({TEACHER_CHANNELS}), {epochs} epochs") as step:
            t0 = time.perf_counter()
            model = train_scheduled(ctx, ConvNet(TEACHER_CHANNELS, rng=ctx.seed), *ctx.train_data(),
                                    epochs=epochs, seed=ctx.seed, step=step)
        return model, time.perf_counter() - t0

    return ctx.cached(("kd teacher",), make)


def train_student(ctx: TourContext, teacher_model=None, *, T=None, alpha=None, seed=0, epochs,
                  n_train=N_TRANSFER, as_written: bool = False, step=None):
    """A ``ConvNet(STUDENT_CHANNELS)`` trained on the first ``n_train`` digits, alone
    (``teacher_model=None``) or distilled (see :func:`train_scheduled`)."""
    X, y = ctx.data.X_train[:n_train], ctx.data.y_train[:n_train]
    return train_scheduled(ctx, ConvNet(STUDENT_CHANNELS, rng=seed), X, y, epochs=epochs, seed=seed,
                           teacher=teacher_model, T=T, alpha=alpha, as_written=as_written, step=step)


def compressed_teachers(ctx: TourContext) -> dict:
    """The teacher compressed two ways (section 2.3: a compressed model as the teacher).

    ``"pruned"``: 90% of its weights removed (global magnitude) and fine-tuned 3 epochs with
    the masks held; ``"int8"``: post-training int8 weights, per output channel.  Returns
    ``{name: (model, storage format for metrics)}``; computed once per context.
    """

    def make():
        model, _ = get_teacher(ctx)
        pruned = copy.deepcopy(model)
        masks = prune_model(pruned, PRUNE_SPARSITY, scope="global")
        with ctx.step(f"KD teacher pruned {PRUNE_SPARSITY:.0%} + fine-tuning") as step:
            train(pruned, ctx, epochs=ctx.epochs(PRUNE_FT_EPOCHS, 1), lr=FT_LR, masks=masks, augment=jitter,
                  tick=step)
        int8 = quantize_weights(model, "int8", per_channel=True)
        return {"pruned": (pruned, "csr"), "int8": (int8, "auto")}

    return ctx.cached(("kd compressed teachers",), make)


def sweep(ctx: TourContext, *, temperatures=TEMPERATURES, alphas=ALPHAS, seeds=(0, 1, 2, 3, 4),
          epochs=None, n_train=N_TRANSFER) -> dict:
    """Student test accuracy alone and distilled, for every (alpha, T, seed).

    Returns a dict with ``temperatures``, ``alphas``, ``seeds``, ``epochs``, ``n_train``, ``teacher``
    (accuracy), ``alone`` (len(seeds),), ``distilled`` (len(alphas), len(temperatures),
    len(seeds)) -- accuracies in [0, 1] on the bundled test split -- and the wall times
    ``teacher_seconds`` (training) and ``seconds`` (the students).
    """
    epochs = ctx.epochs(20, 1) if epochs is None else epochs
    model, teacher_seconds = get_teacher(ctx)
    cached = CachedTeacher(model)
    t0 = time.perf_counter()
    alone = np.zeros(len(seeds))
    distilled = np.zeros((len(alphas), len(temperatures), len(seeds)))
    for k, seed in enumerate(seeds):
        alone[k] = accuracy(train_student(ctx, seed=seed, epochs=epochs, n_train=n_train), ctx)
        for i, a in enumerate(alphas):
            for j, T in enumerate(temperatures):
                student = train_student(ctx, cached, T=T, alpha=a, seed=seed, epochs=epochs,
                                        n_train=n_train)
                distilled[i, j, k] = accuracy(student, ctx)
        ctx.log(f"  seed {seed}: alone {100 * alone[k]:.1f}%, distilled "
                f"{100 * distilled[..., k].min():.1f}-{100 * distilled[..., k].max():.1f}% "
                f"({time.perf_counter() - t0:.0f} s so far)")
    return {
        "temperatures": list(temperatures), "alphas": list(alphas), "seeds": list(seeds),
        "epochs": epochs, "n_train": n_train, "teacher": accuracy(model, ctx), "alone": alone,
        "distilled": distilled, "teacher_seconds": teacher_seconds,
        "seconds": time.perf_counter() - t0,
    }


def compressed_teacher_sweep(ctx: TourContext, *, seeds=(0, 1, 2, 3, 4), epochs=None,
                             n_train=N_TRANSFER) -> list[dict]:
    """Students distilled at :data:`BEST` from the teacher, its pruned and its int8 copy.

    Returns one dict per teacher: ``teacher`` (name), ``teacher_accuracy``, ``students``
    (accuracy per seed), all in [0, 1] on the bundled test split.
    """
    epochs = ctx.epochs(20, 1) if epochs is None else epochs
    T, alpha = BEST
    model, _ = get_teacher(ctx)
    teachers = {"original": model, **{k: m for k, (m, _) in compressed_teachers(ctx).items()}}
    out = []
    for name, t in teachers.items():
        cached = CachedTeacher(t)
        accs = [accuracy(train_student(ctx, cached, T=T, alpha=alpha, seed=seed, epochs=epochs,
                                       n_train=n_train), ctx) for seed in seeds]
        out.append({"teacher": name, "teacher_accuracy": accuracy(t, ctx), "students": accs})
        ctx.log(f"  {name} teacher: students {100 * np.mean(accs):.2f}%")
    return out


def spread(a, axis: int = -1):
    """Sample standard deviation over ``axis`` (ddof = 1, the seeds); 0 for a single seed."""
    a = np.asarray(a, dtype=float)
    return a.std(axis=axis, ddof=1) if a.shape[axis] > 1 else np.zeros_like(a.mean(axis=axis))


def sweep_table(result: dict) -> str:
    """The sweep as a Markdown table: mean ± sample std (over seeds) of the test accuracy, in %."""
    Ts, alphas = result["temperatures"], result["alphas"]
    d, alone = 100 * result["distilled"], 100 * result["alone"]
    lines = ["| alpha \\ T | " + " | ".join(f"T = {T:g}" for T in Ts) + " |",
             "|---|" + "---:|" * len(Ts)]
    for i, a in enumerate(alphas):
        cells = [f"{d[i, j].mean():.2f} ± {spread(d[i, j]):.2f}" for j in range(len(Ts))]
        lines.append(f"| alpha = {a:g} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"teacher ConvNet({TEACHER_CHANNELS}): {100 * result['teacher']:.2f}%; "
                 f"student ConvNet({STUDENT_CHANNELS}) alone: {alone.mean():.2f} ± {spread(alone):.2f}% "
                 f"(seeds {result['seeds']}: {', '.join(f'{a:.1f}' for a in alone)}); "
                 f"{result['epochs']} epochs per student on {result['n_train'] or 4000} digits")
    i, j = np.unravel_index(d.mean(axis=2).argmax(), d.shape[:2])
    lines.append(f"best distilled: T = {Ts[j]:g}, alpha = {alphas[i]:g}: "
                 f"{d[i, j].mean():.2f} ± {spread(d[i, j]):.2f}% "
                 f"(seeds: {', '.join(f'{a:.1f}' for a in d[i, j])})")
    return "\n".join(lines)


def tour_rows(ctx: TourContext) -> list[dict]:
    """The teacher, the student alone and distilled at :data:`BEST` (one seed), and the
    teacher pruned and int8, each with the student it teaches."""
    model, _ = get_teacher(ctx)
    teacher_name = f"KD teacher ConvNet({TEACHER_CHANNELS})"
    epochs = ctx.epochs(20, 1)
    n_train = 300 if ctx.quick else N_TRANSFER
    T, alpha = BEST

    def student(label, teacher=None):
        with ctx.step(f"KD student {label}, {epochs} epochs") as step:
            kd = {} if teacher is None else {"T": T, "alpha": alpha}
            return train_student(ctx, teacher, seed=ctx.seed, epochs=epochs, n_train=n_train, step=step, **kd)

    rows = [measure(model, teacher_name, ctx)]
    rows.append(measure(student("alone"), f"KD student ConvNet({STUDENT_CHANNELS}) alone ({n_train} digits)",
                        ctx, reference=teacher_name))
    rows.append(measure(student("distilled", CachedTeacher(model)), f"KD student distilled (T={T:g}, "
                        f"alpha={alpha:g})", ctx, reference=teacher_name))
    labels = {"pruned": f"pruned {100 * PRUNE_SPARSITY:g}% + FT", "int8": "int8 PTQ per-channel"}
    for name, (compressed, fmt) in compressed_teachers(ctx).items():
        rows.append(measure(compressed, f"KD teacher {labels[name]}", ctx, reference=teacher_name, fmt=fmt))
        rows.append(measure(student(f"from the {name} teacher", CachedTeacher(compressed)),
                            f"KD student from the {name} teacher", ctx, reference=teacher_name))
    return rows


def soft_targets(ctx: TourContext, temperatures=TEMPERATURES, index=None):
    """The teacher's softmax(z / T) for one test digit at several temperatures.

    By default the digit is the test image whose teacher logits have the largest
    second-largest probability at T = 1 among correctly classified ones (a "2 that looks a
    little like a 7"), so the dark knowledge is visible.  Returns (probs (K, C), label, image).
    """
    model, _ = get_teacher(ctx)
    Xt, yt = ctx.data.X_test, ctx.data.y_test
    if index is None:
        z = model(Xt[:200])
        p = softmax(z)
        right = p.argmax(axis=1) == yt[:200]
        second = np.sort(p, axis=1)[:, -2]
        index = int(np.flatnonzero(right)[second[right].argmax()])
    z = model(Xt[index : index + 1])[0]
    return np.stack([softmax(z, T=T) for T in temperatures]), int(yt[index]), Xt[index, 0]


def make_figures(ctx: TourContext, outdir) -> list:
    """``distillation_temperature.png`` (the sweep) and ``distillation_soft_targets.png``."""
    from ..plots.distillation import plot_soft_targets, plot_temperature_sweep

    if ctx.quick:
        result = sweep(ctx, temperatures=(1, 4), alphas=(0.5,), seeds=(0,), epochs=1, n_train=300)
    else:
        result = sweep(ctx)
    ctx.log(sweep_table(result))
    d, alone = 100 * result["distilled"], 100 * result["alone"]
    probs, label, image = soft_targets(ctx)
    return [
        plot_temperature_sweep(result["temperatures"], result["alphas"], d.mean(axis=2), spread(d),
                               f"{outdir}/distillation_temperature.png", alone=(alone.mean(), spread(alone)),
                               teacher=100 * result["teacher"], n_seeds=len(result["seeds"]), mark=ctx.mark),
        plot_soft_targets(probs, TEMPERATURES, f"{outdir}/distillation_soft_targets.png", label=label,
                          image=image, mark=ctx.mark),
    ]
