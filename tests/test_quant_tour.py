"""The quantization tour section in quick mode, on the session's trained baselines."""

import functools

import numpy as np
import pytest

from minicompress.baselines import baseline
from minicompress.experiments import quantization
from minicompress.experiments.scaffold import TourContext, measure
from minicompress.pipeline import SECTIONS, report


@pytest.fixture
def ctx(trained_convnet, mnist):
    # 300 test digits keep the test short; the tour itself uses all 1,000
    data = mnist._replace(X_test=mnist.X_test[:300], y_test=mnist.y_test[:300])
    ctx = TourContext(data=data, quick=True, verbose=False)
    ctx.baseline = lambda name: baseline(name)  # the session-cached full baselines
    return ctx


def test_section_is_registered():
    assert "quantization" in SECTIONS


@pytest.mark.slow
def test_tour_rows_convnet(ctx, monkeypatch, trained_convnet):
    monkeypatch.setattr(quantization, "MODELS", quantization.MODELS[:1])
    # latency on 16 images instead of 256: the test checks the rows, not the timings
    monkeypatch.setattr(quantization, "measure", functools.partial(measure, latency_batch=16))
    ref = {"method": "ConvNet (dense fp32)", "reference": None, "params": 27210, "nonzeros": 27210,
           "size_bits": 32 * 27210, "accuracy": float((trained_convnet(ctx.data.X_test).argmax(1)
                                                       == ctx.data.y_test).mean()),
           "macs": None, "latency_ms": 1.0}
    rows = quantization.tour_rows(ctx)
    by = {r["method"].split(": ")[1]: r for r in rows}
    assert list(by) == ["PTQ int8 per-tensor", "PTQ int8 per-channel", "binary, no retraining",
                        "ternary, no retraining", "binary QAT", "ternary QAT", "dynamic int8 (Linear)",
                        "integer-only int8"]
    assert all(r["reference"] == "ConvNet (dense fp32)" for r in rows)
    bits = {k: r["size_bits"] for k, r in by.items()}
    assert bits["binary QAT"] == bits["binary, no retraining"] < bits["ternary QAT"]
    assert bits["ternary QAT"] < bits["PTQ int8 per-tensor"]
    assert 3.9 < 32 * 27210 / bits["PTQ int8 per-tensor"] < 4.0
    assert 29 < 32 * 27210 / bits["binary QAT"] < 32
    for name in ("PTQ int8 per-tensor", "PTQ int8 per-channel", "dynamic int8 (Linear)", "integer-only int8"):
        assert ref["accuracy"] - by[name]["accuracy"] <= 0.01, name
    # even the quick QAT (1 epoch on 500 images) recovers much of what binarisation lost
    assert by["binary QAT"]["accuracy"] > by["binary, no retraining"]["accuracy"] + 0.03
    assert by["binary QAT"]["accuracy"] > 0.85
    table = report([ref, *rows])
    assert "ConvNet: integer-only int8" in table and np.isfinite(by["binary QAT"]["latency_ms"])


@pytest.mark.slow
def test_make_figures(ctx, tmp_path):
    paths = quantization.make_figures(ctx, tmp_path)
    assert [p.name for p in paths] == ["quantization_error_vs_bits.png", "quantization_weight_histogram.png"]
    assert all(p.stat().st_size > 10_000 for p in paths)
