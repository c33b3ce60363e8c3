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
    row = measure(model, "half fc", ctx, fmt="csr", latency_batch=16)
    assert row["size_bits"] == metrics.model_size_bits(model, "csr").total
    assert row["size_bits_per_layer"] == metrics.model_size_bits(model, "csr").bits
    work = metrics.flops(model, (1, 28, 28))
    assert (row["macs"], row["macs_dense"]) == (work.effective, work.dense) == (97344 + 13520, 124384)
    assert row["nonzeros"] == 27210 - 13520 and row["params"] == 27210
    assert row["accuracy"] == metrics.accuracy(model, ctx.data.X_test, ctx.data.y_test)
    assert row["latency_ms"] > 0 and row["latency_batch"] == 16 and row["fmt"] == "csr"


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


@pytest.mark.slow
def test_cli_train_writes_a_loadable_model(tmp_path, capsys):
    out = tmp_path / "lenet300.npz"
    assert main(["train", "--model", "lenet300", "--epochs", "1", "--out", str(out)]) == 0
    assert f"saved lenet300 to {out}" in capsys.readouterr().out
    model = formats.load_model(out, MLP([784, 300, 100, 10], rng=9))
    with np.load(out, allow_pickle=False) as data:
        assert "fc1.weight/fp32/values" in data.files
    assert metrics.sparsity(model) == 0.0 and model.fc1.params["weight"].dtype == np.float32
