"""Top floor: the tour (every technique on the bundled MNIST, one results table) and the
figures.

The tour is assembled from *sections*, listed in :data:`SECTION_MODULES`: each is a module
of :mod:`minicompress.experiments` with a ``TITLE`` and two functions::

    tour_rows(ctx: TourContext) -> list[dict]     rows made with measure()
    make_figures(ctx: TourContext, outdir) -> list[pathlib.Path]

A section stands on the techniques and on the shared scaffold
(:mod:`minicompress.experiments.scaffold`: the context, the training recipe, ``measure``),
never on this module, so imports run one way: sections -> scaffold, pipeline -> sections.

To add a section: write the module (its rows say which technique they measure and against
which reference row), add it to :data:`SECTION_MODULES`, then rerun
``python benchmarks/tour_readme.py``, which reruns the tour and rewrites README's table and
``benchmarks/results/tour.json`` (a test checks that the two agree).
"""

from __future__ import annotations

import time
from pathlib import Path

from . import metrics
from .baselines import MODELS, build_model
from .data import load_mnist5k
from .experiments import baseline, combined, distillation, evaluation, lowrank, pruning, quantization
from .experiments.scaffold import TourContext, blas_thread_count, check_context, measure
from .experiments.table import derive, notes, render
from .nn._checks import check_choice, check_sequence

__all__ = ["SECTIONS", "SECTION_MODULES", "TourContext", "measure", "report", "tour", "make_figures",
           "title", "evaluate_file"]

#: Tour sections, in the order of the source text.
SECTION_MODULES = [baseline, evaluation, pruning, quantization, distillation, lowrank, combined]
SECTIONS = [m.__name__.rsplit(".", 1)[1] for m in SECTION_MODULES]


def _modules(names):
    names = SECTIONS if names is None else list(names)
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        raise ValueError(f"unknown tour section(s) {unknown}; choose from {SECTIONS}")
    return [m for name, m in zip(SECTIONS, SECTION_MODULES) if name in names]


def title(ctx: TourContext) -> str:
    """The table's title: the conditions, and a smoke-run warning for a quick run."""
    d = check_context(ctx).data
    text = (f"minicompress tour: seed {ctx.seed}, bundled MNIST ({len(d.X_train):,} training / "
            f"{len(d.X_test):,} test digits)")
    if ctx.quick:
        text = ("SMOKE RUN (--quick: 1-2 epochs on 1,000 digits): the numbers below are NOT results\n"
                + text)
    return text


def footer(ctx: TourContext, seconds: float, n_rows: int) -> str:
    """Conditions a reader needs to reproduce the table: threads and time."""
    pinned = f"{ctx.threads} (pinned by the command line; --threads N)" if ctx.threads else "not pinned"
    return (f"{notes()}\nBLAS threads: {pinned}, {blas_thread_count()} in use; "
            f"{n_rows} rows in {seconds:.0f} s.")


def report(rows: list[dict], *, fmt: str = "terminal", wide: bool = False) -> str:
    """The results table of ``rows``: ``"terminal"``, ``"markdown"`` or ``"json"`` (see
    :func:`minicompress.experiments.table.render`)."""
    check_sequence(rows, "rows", "result rows (dicts)")
    check_choice(fmt, "fmt", ("terminal", "markdown", "json"))
    return render(rows, fmt, wide=wide)


def run_sections(ctx: TourContext, sections=None, *, work: str = "rows", outdir=None) -> list:
    """Run each section's ``tour_rows`` (``work="rows"``) or ``make_figures`` (``"figures"``),
    announcing ``[i/n] name`` and ending with its seconds and the elapsed total.  Rows get
    their section's name and title (the table groups them)."""
    modules = _modules(sections)
    t0, out = time.perf_counter(), []
    for i, module in enumerate(modules, 1):
        name = module.__name__.rsplit(".", 1)[1]
        ctx.log(f"[{i}/{len(modules)}] {module.TITLE}", indent="")
        t1 = time.perf_counter()
        if work == "rows":
            for row in module.tour_rows(ctx):
                out.append({**row, "section": name, "section_title": module.TITLE})
        else:
            out.extend(module.make_figures(ctx, outdir))
        now = time.perf_counter()
        ctx.log(f"[{i}/{len(modules)}] {name} done in {now - t1:.1f} s (elapsed {now - t0:.1f} s)", indent="")
    return out


def tour(*, quick: bool = False, seed: int = 0, sections=None, threads: int | None = None,
         verbose: bool = True, ctx: TourContext | None = None) -> tuple[list[dict], dict]:
    """Run every section's experiment; returns ``(derived rows, meta)``.  Printing is the
    caller's (the command line prints the table)."""
    ctx = ctx or TourContext(quick=quick, seed=seed, verbose=verbose, threads=threads)
    t0 = time.perf_counter()
    rows = derive(run_sections(ctx, sections))
    seconds = time.perf_counter() - t0
    meta = {"title": title(ctx), "quick": ctx.quick, "seed": ctx.seed, "threads": ctx.threads,
            "blas_threads": blas_thread_count(), "sections": list(dict.fromkeys(r["section"] for r in rows)),
            "seconds": round(seconds, 1), "footer": footer(ctx, seconds, len(rows))}
    return rows, meta


def make_figures(outdir, *, quick: bool = False, seed: int = 0, sections=None, threads: int | None = None,
                 verbose: bool = True) -> list[Path]:
    """Regenerate every section's figures into ``outdir``; returns the paths written."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    ctx = TourContext(quick=quick, seed=seed, verbose=verbose, threads=threads)
    return run_sections(ctx, sections, work="figures", outdir=outdir)


def _stored_formats(path) -> list[str]:
    """The formats the weights (``<param>/<fmt>/<part>`` keys, ndim >= 2) of a saved file use."""
    import numpy as np

    with np.load(path, allow_pickle=False) as data:
        keys = [key.split("/") for key in data.files]
        return sorted({fmt for name, *rest in keys if len(rest) == 2 for fmt in rest[:1]
                       if name.endswith("weight")})


def evaluate_file(path, name: str | None = None) -> str:
    """Load a model saved with :func:`minicompress.formats.save_model` into the architecture
    ``name`` (default: the first of :data:`~minicompress.baselines.MODELS` whose parameters the
    file holds) and describe it: stored size, test accuracy, MACs per image."""
    import zipfile

    from .formats import load_model

    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not an .npz file (save one with `train --out FILE.npz` or "
                         f"formats.save_model)")
    names = sorted(MODELS) if name is None else [name]
    errors = {}
    for candidate in names:
        try:
            model = load_model(path, build_model(candidate, rng=0))
            break
        except ValueError as err:
            errors[candidate] = err
    else:
        if name is not None:
            raise errors[name]
        raise ValueError(f"{path} holds the parameters of none of {names} (e.g. {names[0]}: "
                         f"{errors[names[0]]})")
    fmts = _stored_formats(path)
    fmt = fmts[0] if len(fmts) == 1 else "fp32"
    size = metrics.model_size_bits(model, fmt)
    n_params, n_nonzero = metrics.parameter_counts(model)
    data = load_mnist5k()
    work = metrics.flops(model, data.X_test.shape[1:])
    disk = Path(path).stat().st_size / 1024
    return "\n".join([
        f"model:    {candidate} ({type(model).__name__}), {n_params:,} parameters, {n_nonzero:,} non-zero",
        f"stored:   {size.kilobytes:,.1f} KB as {'/'.join(fmts) or fmt} ({disk:,.1f} KB on disk, with "
        f"the .npz container)",
        f"accuracy: {100 * metrics.accuracy(model, data.X_test, data.y_test):.1f}% on the "
        f"{len(data.X_test):,} bundled test digits",
        f"work:     {work.effective / 1e6:.3f} M MACs per image ({work.dense / 1e6:.3f} M dense)",
    ])
