"""Top floor: the tour (every technique on the bundled MNIST, one results table), the
figures, and the section 2.3 combinations.

The tour is assembled from *sections*: each is a module ``minicompress.experiments.<name>``
with two functions::

    tour_rows(ctx: TourContext) -> list[dict]     rows made with :func:`measure`
    make_figures(ctx: TourContext, outdir) -> list[pathlib.Path]

so that each technique keeps its experiment beside nothing else's, and this file only lists
them in :data:`SECTIONS`.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from . import metrics
from .baselines import DEFAULT_EPOCHS, baseline
from .data import Split, load_mnist5k
from .nn._checks import check_int

__all__ = ["SECTIONS", "TourContext", "measure", "report", "tour", "make_figures"]

#: Tour sections, in the order of the source text.
SECTIONS = ["baseline", "evaluation", "pruning", "quantization", "distillation", "lowrank", "combined"]

#: Columns of the results table: (row key, header).
COLUMNS = [
    ("method", "method"),
    ("fmt", "format"),
    ("params", "params"),
    ("nonzeros", "non-zeros"),
    ("size_kb", "size KB"),
    ("ratio", "ratio orig/comp"),
    ("ratio_text", "ratio comp/orig (text 2.2)"),
    ("accuracy", "accuracy %"),
    ("accuracy_loss", "acc. loss pts"),
    ("mflops", "MFLOPs (M MACs, eff.)"),
    ("latency_ms", "latency ms"),
    ("latency_batch", "batch"),
]


@dataclass
class TourContext:
    """What every tour section gets: the data, the quick flag, the seed, a logger.

    ``quick=True`` (used by the tests) trains for very few epochs: numbers are then only a
    smoke test, not results.
    """

    data: Split = field(default_factory=load_mnist5k)
    quick: bool = False
    seed: int = 0
    verbose: bool = True

    def epochs(self, full: int, quick: int = 1) -> int:
        return quick if self.quick else full

    def baseline(self, name: str):
        """A trained baseline model by name (a fresh copy; training is cached per process)."""
        return baseline(name, epochs=self.epochs(DEFAULT_EPOCHS[name], 2), seed=self.seed)

    def log(self, message: str) -> None:
        if self.verbose:
            print(message, flush=True)


def measure(model, method: str, ctx: TourContext, *, reference: str | None = None,
            fmt: str = "fp32", size_bits: int | None = None, latency_batch: int = 256) -> dict:
    """One row of the results table for ``model``.

    ``reference`` names the row (method) this one is compared with for the compression
    ratio and the accuracy loss.  ``fmt`` is the storage format the size is accounted in
    (``metrics.model_size_bits(model, fmt)``, headers and indices included); ``size_bits``
    overrides it.  MACs are the effective ones (non-zero weights) for one test image;
    latency is the median of ``metrics.latency`` on a batch of ``latency_batch`` test images.
    """
    X_test, y_test = ctx.data.X_test, ctx.data.y_test
    if size_bits is None:
        size = metrics.model_size_bits(model, fmt)
        size_bits, per_layer = size.total, size.bits
    else:
        size_bits, per_layer = check_int(size_bits, "size_bits", low=1), None
    n_params, n_nonzero = metrics.parameter_counts(model)
    work = metrics.flops(model, X_test.shape[1:])
    repeats = (3 if ctx.quick else 10) * (20 if latency_batch < 32 else 1)  # small batches: noisier
    timing = metrics.latency(model, X_test[:latency_batch], repeats=repeats, warmup=1)
    return {
        "method": method,
        "reference": reference,
        "fmt": fmt if per_layer is not None else "given",
        "params": n_params,
        "nonzeros": n_nonzero,
        "size_bits": int(size_bits),
        "size_bits_per_layer": per_layer,
        "accuracy": metrics.accuracy(model, X_test, y_test),
        "macs": work.effective,
        "macs_dense": work.dense,
        "latency_ms": timing.median_ms,
        "latency_iqr_ms": list(timing.spread_ms),
        "latency_batch": timing.batch,
        "latency_repeats": repeats,
        "threads": timing.threads,
    }


def _derived(row: dict, by_method: dict) -> dict:
    out = dict(row)
    out["size_kb"] = row["size_bits"] / 8 / 1024
    ref = by_method.get(row.get("reference") or row["method"])
    if ref is not None:
        out["ratio"] = metrics.compression_ratio(ref["size_bits"], row["size_bits"])
        out["ratio_text"] = metrics.compression_ratio_text(ref["size_bits"], row["size_bits"])
        out["accuracy_loss"] = metrics.accuracy_loss(ref["accuracy"], row["accuracy"])
    out["accuracy"] = 100 * row["accuracy"]
    out["mflops"] = None if row.get("macs") is None else row["macs"] / 1e6
    return out


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def report(rows: list[dict], *, fmt: str = "markdown") -> str:
    """The results table as Markdown (``fmt="markdown"``) or JSON (``fmt="json"``).

    Compression ratio is printed both ways: original/compressed (how much smaller, the
    usual reading) and compressed/original (the source text's definition in section 2.2).
    Accuracy loss is in percentage points against the row named in ``reference``.
    """
    by_method = {r["method"]: r for r in rows}
    table = [_derived(r, by_method) for r in rows]
    if fmt == "json":
        return json.dumps(table, indent=2)
    if fmt != "markdown":
        raise ValueError(f"fmt must be 'markdown' or 'json'; got {fmt!r}")
    head = "| " + " | ".join(h for _, h in COLUMNS) + " |"
    rule = "|" + "|".join("---" if k == "method" else "---:" for k, _ in COLUMNS) + "|"
    body = ["| " + " | ".join(_fmt(r.get(k)) for k, _ in COLUMNS) + " |" for r in table]
    return "\n".join([head, rule, *body, *_footnote(rows)])


def _footnote(rows) -> list[str]:
    """The conditions of the latency column: repeats and the BLAS thread settings."""
    threads = next((r["threads"] for r in rows if r.get("threads")), None)
    if threads is None:
        return []
    env = ", ".join(f"{k}={v}" for k, v in threads.items() if k.endswith("THREADS") and v is not None)
    return ["", f"latency: median wall-clock ms per forward pass of `batch` test images; BLAS "
            f"{threads.get('blas')}, {threads.get('cpu_count')} CPUs, {env or 'no thread variables set'}."]


def _sections(names):
    for name in names:
        yield name, importlib.import_module(f"minicompress.experiments.{name}")


def tour(*, quick: bool = False, seed: int = 0, sections=None, json_path=None,
         verbose: bool = True) -> list[dict]:
    """Run every section's experiment and print the results table; returns the rows."""
    names = SECTIONS if sections is None else list(sections)
    unknown = sorted(set(names) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown tour section(s) {unknown}; choose from {SECTIONS}")
    ctx = TourContext(quick=quick, seed=seed, verbose=verbose)
    rows = []
    for name, module in _sections(names):
        ctx.log(f"== {name} ==")
        rows.extend(module.tour_rows(ctx))
    table = report(rows)
    if verbose:
        print()
        print(table)
    if json_path is not None:
        Path(json_path).write_text(report(rows, fmt="json"))
    return rows


def make_figures(outdir="figures", *, quick: bool = False, seed: int = 0, sections=None,
                 verbose: bool = True) -> list[Path]:
    """Regenerate every section's figures into ``outdir``; returns the paths written."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    ctx = TourContext(quick=quick, seed=seed, verbose=verbose)
    paths = []
    for name, module in _sections(SECTIONS if sections is None else sections):
        ctx.log(f"== figures: {name} ==")
        paths.extend(module.make_figures(ctx, outdir))
    return paths
