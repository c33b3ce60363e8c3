"""The tour's scaffold: what every section stands on, written once.

- :class:`TourContext` -- the data, the quick flag, the seed, progress lines, the BLAS thread
  setting, and the one cache of the run (:meth:`TourContext.cached`);
- :func:`train` -- the one training recipe (the baselines' SGD, momentum and batch size, a
  tenth of their learning rate, :data:`FT_LR`, for fine-tuning a pruned model);
- :func:`accuracy` -- test accuracy of a model on the context's test split;
- :func:`measure` -- one row of the results table.

Sections import this module and the techniques, never :mod:`minicompress.pipeline` (the top
floor that lists the sections) and never the command line.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

from .. import metrics
from ..baselines import BATCH_SIZE, DEFAULT_EPOCHS, LR, MOMENTUM, baseline
from ..data import Split, load_mnist5k
from ..nn import SGD, cross_entropy, fit
from ..nn._checks import check_int, check_str
from ..prune import MaskHook
from .format_names import format_name

__all__ = ["TourContext", "train", "accuracy", "measure", "sgd", "blas_threads", "blas_thread_count",
           "FT_LR", "QUICK_TRAIN", "BATCH_SIZE", "LR"]

#: Fine-tuning rate after pruning: a tenth of the training rate (Han et al. 2015).
FT_LR = LR / 10
#: Quick runs (smoke tests) train on the first QUICK_TRAIN training digits only.
QUICK_TRAIN = 1000


@dataclass
class TourContext:
    """What every tour section gets: the data, the quick flag, the seed, progress output,
    the BLAS thread setting, and one cache shared by the sections of a run.

    ``quick=True`` trains for one or two epochs on :data:`QUICK_TRAIN` digits: a smoke test
    of the wiring, never results.  ``threads`` is the BLAS thread limit the caller set (the
    command line sets it with threadpoolctl); it is only reported, never changed, here.
    Progress goes to ``stream`` (stderr by default) when ``verbose``.
    """

    data: Split = field(default_factory=load_mnist5k)
    quick: bool = False
    seed: int = 0
    verbose: bool = True
    threads: int | None = None
    stream: object = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)
    _line: object = field(default=None, repr=False, compare=False)  # the step whose line is open

    # ------------------------------------------------------------------ settings
    def epochs(self, full: int, quick: int = 1) -> int:
        """``full`` epochs, or ``quick`` in a quick run."""
        return quick if self.quick else full

    def train_data(self, n_quick: int = QUICK_TRAIN):
        """The training split ``(X, y)``; in a quick run only its first ``n_quick`` digits."""
        n = n_quick if self.quick else None
        return self.data.X_train[:n], self.data.y_train[:n]

    @property
    def mark(self) -> str | None:
        """The smoke-run mark every figure of a quick run carries (None in a full run)."""
        return "SMOKE RUN (--quick): not results" if self.quick else None

    # ------------------------------------------------------------------ shared work
    def cached(self, key, make):
        """``make()``, computed once per context for each ``key`` (a tuple naming the work):
        the one cache of a run, so a section's tour rows and figures share their training."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def baseline(self, name: str):
        """A trained baseline model by name (a fresh copy; each is trained once per process
        with the recipe of :mod:`minicompress.baselines`, with a progress line then)."""
        epochs = self.epochs(DEFAULT_EPOCHS[name], 2)
        with self.step(f"baseline {name}, {epochs} epochs", lazy=True) as step:
            return baseline(name, epochs=epochs, seed=self.seed, hooks=[step.hook(len(self.data.X_train))])

    # ------------------------------------------------------------------ progress
    def _write(self, text: str) -> None:
        if self.verbose:
            stream = self.stream or sys.stderr
            stream.write(text)
            stream.flush()
            self._line = self._line if not text.endswith("\n") else None

    def log(self, message: str, *, indent: str = "  ") -> None:
        """One progress line (ending first a line of epoch ticks left open)."""
        if self._line is not None:
            self._write("\n")
        self._write(f"{indent}{message}\n")

    def step(self, label: str, *, lazy: bool = False):
        """``with ctx.step("teacher, 20 epochs") as step:`` prints the label, one dot per
        epoch of every ``fit`` given ``step.hook(n_examples)``, then the seconds taken.
        ``lazy``: print nothing unless an epoch runs (the result was cached)."""
        return _Step(self, label, lazy)


class _Step:
    """One progress line: a label, a dot per training epoch, the seconds taken."""

    def __init__(self, ctx: TourContext, label: str, lazy: bool):
        self.ctx, self.label, self.lazy, self.opened, self.dots = ctx, label, lazy, False, 0

    def __enter__(self):
        self.t0 = time.perf_counter()
        if not self.lazy:
            self._resume()
        return self

    def _resume(self) -> None:
        """Put this step's label at the start of an open line, unless it already is."""
        if self.ctx._line is not self:
            if self.ctx._line is not None:
                self.ctx._write("\n")
            self.ctx._write(f"  {self.label}")
            self.ctx._line, self.dots = self, 0
        self.opened = True

    def dot(self) -> None:
        self._resume()
        self.ctx._write("." if self.dots else " .")
        self.dots += 1

    def hook(self, n_examples: int, batch_size: int = BATCH_SIZE):
        """A ``fit`` hook printing one dot per epoch; it reads nothing and changes nothing."""
        return _EpochTick(self, -(-n_examples // batch_size))

    def __exit__(self, kind, *_):
        if self.opened and kind is None:
            seconds = time.perf_counter() - self.t0
            if self.ctx._line is self:
                self.ctx._write(f"{' ' if self.dots else ': '}{seconds:.1f} s\n")
            else:
                self.ctx.log(f"{self.label}: {seconds:.1f} s")
        return False


class _EpochTick:
    def __init__(self, step: _Step, batches_per_epoch: int):
        self.step, self.per_epoch, self.batches = step, batches_per_epoch, 0

    def after_step(self, model) -> None:
        self.batches += 1
        if self.batches % self.per_epoch == 0:
            self.step.dot()


def blas_threads(n: int):
    """``with blas_threads(1):`` -- every BLAS numpy and scipy loaded runs ``n`` threads
    (threadpoolctl).  Environment variables cannot do it once numpy is imported; scipy's own
    BLAS is loaded first, so that it is limited too."""
    import scipy.linalg  # noqa: F401  (loads scipy's BLAS, so the limit reaches it)
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=check_int(n, "threads", low=1))


def blas_thread_count() -> int | None:
    """The largest thread count of the BLAS libraries loaded now (threadpoolctl), or None."""
    from threadpoolctl import threadpool_info

    counts = [lib["num_threads"] for lib in threadpool_info() if lib.get("user_api") == "blas"]
    return max(counts) if counts else None


# ---------------------------------------------------------------------- the recipe
def sgd(model, lr: float = LR) -> SGD:
    """The recipe's optimizer: SGD with the baselines' momentum."""
    return SGD(model, lr=lr, momentum=MOMENTUM)


def train(model, ctx: TourContext, *, epochs: int, lr: float = LR, data=None, masks=None, hooks=(),
          loss=cross_entropy, augment=None, optimizer=None, rng=None, tick=None) -> dict:
    """Train ``model`` in place with the tour's one recipe; returns the ``fit`` history.

    SGD with momentum :data:`~minicompress.baselines.MOMENTUM`, batch
    :data:`~minicompress.baselines.BATCH_SIZE`, learning rate ``lr`` (the baselines' 0.01 by
    default; :data:`FT_LR` after pruning), on ``data`` (default :meth:`TourContext.train_data`),
    shuffled by ``rng`` (default the context's seed).  ``masks`` are held at zero by a
    :class:`~minicompress.prune.MaskHook` (a pruned weight never comes back); ``hooks``,
    ``loss`` and ``augment`` go to :func:`~minicompress.nn.fit`.  ``optimizer`` replaces the
    fresh SGD (to keep momentum across a learning-rate schedule); ``tick`` is a step from
    :meth:`TourContext.step` to print epoch ticks on.
    """
    X, y = ctx.train_data() if data is None else data
    hooks = [*hooks, *([MaskHook(masks)] if masks else []), *([tick.hook(len(X))] if tick else [])]
    return fit(model, X, y, epochs=epochs, batch_size=BATCH_SIZE, loss=loss, hooks=hooks,
               optimizer=sgd(model, lr) if optimizer is None else optimizer,
               rng=ctx.seed if rng is None else rng, augment=augment, verbose=False)


def accuracy(model, ctx: TourContext) -> float:
    """Top-1 accuracy (a fraction) of ``model`` on the context's test split."""
    return metrics.accuracy(model, ctx.data.X_test, ctx.data.y_test)


# ---------------------------------------------------------------------- one row
def latency_repeats(ctx: TourContext, batch: int) -> int:
    """Timed repeats of a forward pass (their median is reported, with the spread): 5 for
    a batch of 32 or more, 100 for a smaller one (noisier, and cheap); 3 in a quick run."""
    return 3 if ctx.quick else (5 if batch >= 32 else 100)


def check_context(ctx) -> TourContext:
    """A :class:`TourContext`, else ``TypeError``."""
    if not isinstance(ctx, TourContext):
        raise TypeError(f"ctx must be a TourContext; got {ctx!r:.60} ({type(ctx).__name__})")
    return ctx


def measure(model, method: str, ctx: TourContext, *, reference: str | None = None,
            fmt: str = "fp32", size_bits: int | None = None, latency_batch: int = 256) -> dict:
    """One row of the results table for ``model``.

    ``reference`` names the row (method) this one is compared with for the compression
    ratio and the accuracy loss.  ``fmt`` is the storage format the size is accounted in
    (``metrics.model_size_bits(model, fmt)``, headers and indices included; ``"auto"``: each
    compressed layer's own storage); ``size_bits`` overrides it.  The row's ``fmt`` is the
    format actually stored (:func:`~minicompress.experiments.formats.format_name`, e.g.
    ``"bitmask+int8"``), ``size_fmt`` the accounting asked for.  MACs are the effective ones
    (non-zero weights) for one test image; latency is the median of ``metrics.latency`` on
    ``latency_batch`` test images.
    """
    check_context(ctx)
    check_str(method, "method", "the row's name")
    latency_batch = check_int(latency_batch, "latency_batch", low=1)
    X_test = ctx.data.X_test
    if size_bits is None:
        size = metrics.model_size_bits(model, fmt)
        size_bits, per_layer = size.total, size.bits
    else:
        size_bits, per_layer = check_int(size_bits, "size_bits", low=1), None
    n_params, n_nonzero = metrics.parameter_counts(model)
    work = metrics.flops(model, X_test.shape[1:])
    repeats = latency_repeats(ctx, min(latency_batch, len(X_test)))
    timing = metrics.latency(model, X_test[:latency_batch], repeats=repeats, warmup=1)
    names = format_name(model, fmt)
    return {
        "method": method,
        "reference": reference,
        "fmt": names.summary if per_layer is not None else "given",
        "fmt_per_layer": names.per_layer,
        "size_fmt": fmt if per_layer is not None else None,
        "params": n_params,
        "nonzeros": n_nonzero,
        "size_bits": int(size_bits),
        "size_bits_per_layer": per_layer,
        "accuracy": accuracy(model, ctx),
        "macs": work.effective,
        "macs_dense": work.dense,
        "latency_ms": timing.median_ms,
        "latency_iqr_ms": list(timing.spread_ms),
        "latency_batch": timing.batch,
        "latency_repeats": repeats,
        "threads": timing.threads,
        "blas_threads": blas_thread_count(),
    }
