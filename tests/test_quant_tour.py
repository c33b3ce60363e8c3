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
    monkeypatch.setattr(quantization.quantization_beyond, "tour_rows", lambda ctx, reference: [])
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
    assert [p.name for p in paths] == ["quantization_error_vs_bits.png", "quantization_weight_histogram.png",
                                       "quantization_rounding.png", "quantization_calibration.png"]
    assert all(p.stat().st_size > 10_000 for p in paths)


@pytest.mark.slow
def test_rows_beyond_the_text(ctx, monkeypatch):
    """RTN and GPTQ at 2 and 3 bits, W4A4, the XNOR network: quick mode, but GPTQ is one-shot
    and the same as in the full run, so its claims hold here already."""
    from minicompress.experiments import quantization_beyond as qb

    monkeypatch.setattr(qb, "measure", functools.partial(measure, latency_batch=16))
    dense_rows = {"convnet": "ConvNet (dense fp32)", "lenet300": "LeNet300_100 (dense fp32)"}
    by = {r["method"]: r for r in qb.tour_rows(ctx, reference=dense_rows)}
    rtn, g2, g3 = (by[f"LeNet300_100: {m}-bit, no retraining"] for m in ("RTN 2", "GPTQ 2", "GPTQ 3"))
    dense = float((baseline("lenet300")(ctx.data.X_test).argmax(1) == ctx.data.y_test).mean())
    assert g2["accuracy"] > rtn["accuracy"] + 0.05 and dense - g2["accuracy"] <= 0.02
    assert dense - g3["accuracy"] <= 0.01 and g2["size_bits"] < g3["size_bits"]
    assert by["ConvNet: W4A4 QAT (LSQ activations)"]["fmt"] == "4-bit"
    assert by["XNOR MLP 784-512-512-10 (vs LeNet300)"]["fmt"] == "1-bit"
