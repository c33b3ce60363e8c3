"""The tour's top floor and its scaffold: measure, the results table (terminal, Markdown,
JSON), the evaluation section, the sparse-speed sweep, the import graph, and the README
table against the committed tour output."""

import ast
import json
import re
from pathlib import Path

import numpy as np
import pytest

from minicompress import metrics
from minicompress.experiments.scaffold import TourContext, measure
from minicompress.experiments.table import MAX_WIDTH, derive, render
from minicompress.nn import MLP, ConvNet
from minicompress.pipeline import SECTIONS, report

ROOT = Path(__file__).resolve().parents[1]
TOUR_JSON = ROOT / "benchmarks" / "results" / "tour.json"


@pytest.fixture
def ctx(mnist):
    return TourContext(data=mnist, quick=True, verbose=False)


def test_measure_uses_the_metrics(ctx):
    model = ConvNet(rng=0)
    model.fc.params["weight"][:, ::2] = 0
    row = measure(model, "half fc", ctx, fmt="csr", latency_batch=32)
    assert row["size_bits"] == metrics.model_size_bits(model, "csr").total
    assert row["size_bits_per_layer"] == metrics.model_size_bits(model, "csr").bits
    work = metrics.flops(model, (1, 28, 28))
    assert (row["macs"], row["macs_dense"]) == (work.effective, work.dense) == (97344 + 13520, 124384)
    assert row["nonzeros"] == 27210 - 13520 and row["params"] == 27210
    assert row["accuracy"] == metrics.accuracy(model, ctx.data.X_test, ctx.data.y_test)
    assert row["latency_ms"] > 0 and row["latency_batch"] == 32
    assert row["fmt"] == "csr" and row["size_fmt"] == "csr"
    assert row["fmt_per_layer"] == {"conv1": "csr", "fc": "csr"}


def test_measure_size_override_and_bad_format(ctx):
    model = MLP([784, 10])
    assert measure(model, "given", ctx, size_bits=1000, latency_batch=4)["size_bits"] == 1000
    with pytest.raises(ValueError, match="'zip'"):
        measure(model, "bad", ctx, fmt="zip", latency_batch=4)


ROWS = [
    {"method": "dense", "reference": None, "fmt": "fp32", "params": 10, "nonzeros": 10,
     "size_bits": 8_000_000, "accuracy": 0.98, "macs": 2_000_000, "latency_ms": 2.0},
    {"method": "pruned", "reference": "dense", "fmt": "csr", "params": 10, "nonzeros": 1,
     "size_bits": 2_000_000, "accuracy": 0.97, "macs": 200_000, "latency_ms": 1.5},
]


def _cells(line):
    return [c.strip() for c in line.strip("|").split("|")]


def test_report_derives_ratios_loss_and_units():
    dense, pruned = derive(ROWS)
    assert pruned["ratio"] == 4.0 and pruned["ratio_text"] == 0.25
    assert pruned["accuracy_loss"] == pytest.approx(1.0) and dense["accuracy_loss"] is None
    assert pruned["size_kb"] == 2_000_000 / 8 / 1024 and pruned["mmacs"] == 0.2
    head, rule, *body = report(ROWS, fmt="markdown").splitlines()
    assert _cells(head) == ["method", "format", "size KB", "ratio", "acc. %", "loss pts", "M MACs"]
    assert _cells(body[1]) == ["pruned", "csr", "244.1", "4.0", "97.0", "1.0", "0.200"]
    assert _cells(body[0])[5] == "-"  # a reference row loses nothing against itself
    wide = report(ROWS, fmt="markdown", wide=True).splitlines()
    assert "ratio comp/orig (text 2.2)" in wide[0] and "0.250" in wide[3] and "1.50" in wide[3]
    parsed = json.loads(report(ROWS, fmt="json"))["rows"]
    assert parsed[1]["ratio"] == 4.0 and parsed[1]["accuracy_loss"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="'html'"):
        report(ROWS, fmt="html")
    with pytest.raises(ValueError, match="'nowhere'"):
        derive([{**ROWS[1], "reference": "nowhere"}])


def test_terminal_table_is_aligned_and_wraps_long_names_within_100_columns():
    rows = [ROWS[0], {**ROWS[1], "method": "a very long method name " * 6}]
    lines = report(rows).splitlines()
    assert max(map(len, lines)) <= MAX_WIDTH
    head, rule = lines[:2]
    starts = [m.start() for m in re.finditer(r"-+", rule)]
    assert [head.index(h) for h in ("method", "format")] == starts[:2]
    assert lines[3].split()[:3] == ["a", "very", "long"] and lines[4].startswith("  ")  # continued
    assert lines[3].rstrip().endswith("0.200")  # the numbers stay on the name's first line
    assert max(map(len, report(rows, wide=True).splitlines())) > MAX_WIDTH  # --wide: no limit


# ----------------------------------------------------------------------------- evaluation section
class UntrainedContext(TourContext):
    """The tour context with untrained baselines: the section's accounting, fast."""

    def baseline(self, name):
        from minicompress.baselines import build_model

        return build_model(name, rng=0)


def test_evaluation_section_rows_tell_the_lesson(mnist):
    from minicompress.experiments import evaluation

    assert SECTIONS.index("evaluation") == SECTIONS.index("baseline") + 1
    small = mnist._replace(X_test=mnist.X_test[:64], y_test=mnist.y_test[:64])
    ctx = UntrainedContext(data=small, quick=True, verbose=False)
    rows = {r["method"]: r for r in evaluation.tour_rows(ctx)}
    dense = measure(ctx.baseline("convnet"), "ConvNet (dense fp32)", ctx, latency_batch=8)
    fp32, csr, bitmask, sparse = (rows[f"ConvNet 90% masked: {k}"] for k in (
        "fp32, dense kernel", "CSR, dense kernel", "bitmask, dense kernel", "CSR, sparse kernel"))
    assert fp32["size_bits"] == dense["size_bits"]  # a mask alone: not one bit smaller
    n_w = 144 + 27040  # global magnitude pruning removes floor(0.9 * n_w) weights
    assert fp32["nonzeros"] == n_w - int(0.9 * n_w) + 16 + 10
    assert csr["size_bits"] < dense["size_bits"] / 6 and bitmask["size_bits"] < csr["size_bits"]
    assert sparse["size_bits"] == csr["size_bits"] and sparse["macs"] == csr["macs"] < dense["macs"]
    assert sparse["accuracy"] == fp32["accuracy"] and sparse["params"] == fp32["params"]
    assert [r["fmt"] for r in (fp32, csr, bitmask, sparse)] == ["fp32", "csr", "bitmask", "csr"]
    mlp = [r for m, r in rows.items() if m.startswith("LeNet300")]
    assert [r["latency_batch"] for r in mlp] == [1, 1, 64, 64]  # batch 256 capped by the 64 images


def test_speedup_sweep_and_crossover():
    from minicompress.experiments.evaluation import crossover, sparse_speedup_sweep

    sweep = sparse_speedup_sweep("linear", (0.0, 0.99), batches=(1, 4), repeats=1)
    assert set(sweep["speedup"]) == {1, 4} and sweep["speedup"][1].shape == (2,)
    assert np.all(sweep["dense_s"][4] > 0) and np.all(sweep["sparse_s"][4] > 0)
    # hand cases: log-linear interpolation between the last loss and the first win
    assert crossover([0.0, 0.5, 1.0], [0.5, 2.0, 4.0]) == pytest.approx(0.25)
    assert crossover([0.0, 0.5], [1.5, 2.0]) == 0.0
    assert crossover([0.0, 0.5], [0.5, 0.9]) is None
    assert crossover([0.0, 0.5, 0.9], [0.5, 2.0, 0.8]) is None  # loses again at the top
    with pytest.raises(ValueError, match="'dense'"):
        sparse_speedup_sweep("dense")


def test_speedup_figure_is_timed_in_this_process_with_one_blas_thread(tmp_path):
    from minicompress.experiments.evaluation import speedup_figure

    path, sweeps = speedup_figure(tmp_path / "s.png", sparsities=(0.0, 0.99), repeats=1, mark="SMOKE")
    assert path.stat().st_size > 10_000
    assert [s["blas_threads"] for s in sweeps.values()] == [1, 1]
    assert all(sorted(s["speedup"]) == [1, 32, 256] for s in sweeps.values())


def test_tutorial_05_hand_count_matches_the_library():
    from tests.tutorial_runner import run_tutorial

    namespace, _ = run_tutorial("05_evaluation.md")
    assert namespace["csr"].payload_bits == 129968  # the hand count of section 2


# ----------------------------------------------------------------------------- import graph
def _imports(path: Path) -> set[str]:
    """Absolute module names imported by a file of the package (relative imports resolved)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            out.add(module)
            out.update(f"{module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_sections_stand_on_the_scaffold_never_on_the_top_floor():
    experiments = sorted((ROOT / "minicompress" / "experiments").glob("*.py"))
    assert len(experiments) >= 8
    for path in experiments:
        imported = _imports(path)
        assert not imported & {"minicompress.pipeline", "minicompress.cli"}, path.name
        assert "importlib" not in imported and "subprocess" not in imported, path.name
    pipeline = _imports(ROOT / "minicompress" / "pipeline.py")
    assert "importlib" not in pipeline
    assert {f"minicompress.experiments.{name}" for name in SECTIONS} <= pipeline  # listed explicitly


def test_one_training_recipe_one_cache():
    """No section builds its own optimizer or keeps a module-level cache."""
    for path in sorted((ROOT / "minicompress" / "experiments").glob("*.py")):
        text = path.read_text()
        if path.name != "scaffold.py":
            assert "SGD(" not in text and "fit(" not in text, path.name
        assert not re.search(r"^_(CACHE|RESULTS)\b", text, re.M), path.name


# ----------------------------------------------------------------------------- README = tour
def _readme_table() -> str:
    text = (ROOT / "README.md").read_text()
    found = re.search(r"<!-- tour table begin -->\n(.*?)\n<!-- tour table end -->", text, re.S)
    assert found, "README.md has no tour table between its markers"
    return found.group(1)


def test_readme_results_table_is_the_committed_tour_output():
    """README's table is exactly the rows the README's tour command wrote (regenerate both
    with `python benchmarks/tour_readme.py`)."""
    tour = json.loads(TOUR_JSON.read_text())
    assert tour["quick"] is False and tour["seed"] == 0 and tour["threads"] == 1
    assert tour["sections"] == SECTIONS
    assert _readme_table() == render(tour["rows"], "markdown")
    assert max(len(line) for line in render(tour["rows"]).splitlines()) <= MAX_WIDTH


def test_committed_rows_reproduce_their_derived_numbers():
    """The derived columns of the committed rows are what derive() computes from the raw ones."""
    rows = json.loads(TOUR_JSON.read_text())["rows"]
    raw = [{**r, "accuracy": r["accuracy"] / 100} for r in rows]
    raw = [{k: v for k, v in r.items() if k not in ("size_kb", "ratio", "ratio_text", "accuracy_loss",
                                                      "mmacs", "mmacs_dense")} for r in raw]
    for a, b in zip(derive(raw), rows):
        for key in ("size_kb", "ratio", "ratio_text", "accuracy_loss", "mmacs"):
            assert a[key] == pytest.approx(b[key]), (b["method"], key)
