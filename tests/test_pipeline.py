"""pipeline.measure / report: rows built from the metrics, the table both ways, and the
``train --out`` command that writes a model with formats.save_model."""

import json

import numpy as np
import pytest

from minicompress import formats, metrics
from minicompress.cli import main
from minicompress.nn import MLP, ConvNet
from minicompress.pipeline import TourContext, measure, report


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
    assert row["latency_ms"] > 0 and row["latency_batch"] == 32 and row["fmt"] == "csr"


def test_measure_size_override_and_bad_format(ctx):
    model = MLP([784, 10])
    assert measure(model, "given", ctx, size_bits=1000, latency_batch=4)["size_bits"] == 1000
    with pytest.raises(ValueError, match="'zip'"):
        measure(model, "bad", ctx, fmt="zip", latency_batch=4)


def test_report_prints_both_ratios_and_accuracy_loss():
    rows = [
        {"method": "dense", "reference": None, "fmt": "fp32", "params": 10, "nonzeros": 10,
         "size_bits": 8000, "accuracy": 0.98, "macs": 2_000_000, "latency_ms": 2.0},
        {"method": "pruned", "reference": "dense", "fmt": "csr", "params": 10, "nonzeros": 1,
         "size_bits": 2000, "accuracy": 0.97, "macs": 200_000, "latency_ms": 1.5},
    ]
    table = report(rows)
    head, _, dense, pruned = table.splitlines()
    assert "ratio orig/comp" in head and "ratio comp/orig (text 2.2)" in head
    cells = [c.strip() for c in pruned.strip("|").split("|")]
    assert cells[:2] == ["pruned", "csr"] and "4.000" in cells and "0.250" in cells
    assert "1.000" in cells  # accuracy loss: 98 - 97 = 1 point
    parsed = json.loads(report(rows, fmt="json"))
    assert parsed[1]["ratio"] == 4.0 and parsed[1]["ratio_text"] == 0.25
    assert parsed[1]["accuracy_loss"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="'html'"):
        report(rows, fmt="html")


def test_cli_train_out_writes_a_loadable_model(tmp_path, capsys, monkeypatch):
    """``train --out FILE`` saves with formats.save_model (training itself is stubbed: this
    checks the wiring, not the recipe)."""
    import minicompress.baselines

    trained = MLP([784, 300, 100, 10], rng=5)

    def fake_train(name, *, epochs, seed, verbose):
        assert (name, epochs, seed) == ("lenet300", 1, 0)
        return trained, {"test_accuracy": [0.5]}

    monkeypatch.setattr(minicompress.baselines, "train_baseline", fake_train)
    out = tmp_path / "lenet300.npz"
    assert main(["train", "--model", "lenet300", "--epochs", "1", "--out", str(out)]) == 0
    assert f"saved lenet300 to {out}" in capsys.readouterr().out
    model = formats.load_model(out, MLP([784, 300, 100, 10], rng=9))
    with np.load(out, allow_pickle=False) as data:
        assert "fc1.weight/fp32/values" in data.files
    for a, b in zip(trained.parameters(), model.parameters()):
        assert np.array_equal(a, b)


# ----------------------------------------------------------------------------- evaluation section
class UntrainedContext(TourContext):
    """The tour context with untrained baselines: the section's accounting, fast."""

    def baseline(self, name):
        from minicompress.baselines import build_model

        return build_model(name, rng=0)


def test_evaluation_section_rows_tell_the_lesson(mnist):
    from minicompress import pipeline
    from minicompress.experiments import evaluation

    assert pipeline.SECTIONS.index("evaluation") == pipeline.SECTIONS.index("baseline") + 1
    small = mnist._replace(X_test=mnist.X_test[:64], y_test=mnist.y_test[:64])
    ctx = UntrainedContext(data=small, quick=True, verbose=False)
    rows = {r["method"]: r for r in evaluation.tour_rows(ctx)}
    dense = measure(ctx.baseline("convnet"), "ConvNet (dense fp32)", ctx, latency_batch=8)
    fp32, csr, bitmask, sparse = (rows[f"ConvNet 90% masked, {k}"] for k in (
        "stored fp32, run dense", "stored CSR, run dense", "stored bitmask, run dense", "CSR, run sparse"))
    assert fp32["size_bits"] == dense["size_bits"]  # a mask alone: not one bit smaller
    n_w = 144 + 27040  # global magnitude pruning removes floor(0.9 * n_w) weights
    assert fp32["nonzeros"] == n_w - int(0.9 * n_w) + 16 + 10
    assert csr["size_bits"] < dense["size_bits"] / 6 and bitmask["size_bits"] < csr["size_bits"]
    assert sparse["size_bits"] == csr["size_bits"] and sparse["macs"] == csr["macs"] < dense["macs"]
    assert sparse["accuracy"] == fp32["accuracy"] and sparse["params"] == fp32["params"]
    mlp = [r for m, r in rows.items() if m.startswith("LeNet300")]
    assert [r["latency_batch"] for r in mlp] == [1, 1, 64, 64]  # batch 256 capped by the 64 images
    table = report([dense, *rows.values()])
    assert "BLAS" in table.splitlines()[-1]


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


def test_figure_sweep_runs_with_one_blas_thread_in_a_child_process():
    from minicompress.experiments.evaluation import sweep_in_fresh_process

    sweep = sweep_in_fresh_process("linear", (0.0, 0.99), repeats=1)
    assert sweep["threads"]["OPENBLAS_NUM_THREADS"] == "1"
    assert sorted(sweep["speedup"]) == [1, 32, 256] and sweep["speedup"][32].shape == (2,)


def test_sparse_speedup_figure(tmp_path):
    from minicompress.plots.evaluation import plot_sparse_speedup

    path = plot_sparse_speedup([0.0, 0.9], {"Linear": {1: np.array([0.5, 2.0])}}, tmp_path / "s.png",
                               panels={"Linear": "threads 1"})
    assert path.exists() and path.stat().st_size > 10_000


def test_tutorial_05_hand_count_matches_the_library():
    from tests.tutorial_runner import run_tutorial

    namespace, _ = run_tutorial("05_evaluation.md")
    assert namespace["csr"].payload_bits == 129968  # the hand count of section 2
