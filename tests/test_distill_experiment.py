"""The distillation tour section, its sweep, figures and tutorial, on a small split in quick
mode: the wiring is checked here; the numbers come from benchmarks/distill_sweep.py."""

from pathlib import Path

import numpy as np
import pytest

from minicompress.data import Split
from minicompress.experiments import distillation as exp
from minicompress.experiments.scaffold import TourContext
from minicompress.nn import MLP
from minicompress.pipeline import SECTIONS

ROOT = Path(__file__).resolve().parents[1]


def _ctx(mnist):
    X, y, Xt, yt = mnist
    return TourContext(data=Split(X[:300], y[:300], Xt[:100], yt[:100]), quick=True, verbose=False)


def test_section_is_registered():
    assert "distillation" in SECTIONS
    assert SECTIONS.index("quantization") < SECTIONS.index("distillation") < SECTIONS.index("lowrank")


def test_cached_teacher_returns_the_teachers_logits_and_computes_each_input_once(mnist):
    model = MLP([784, 8, 10], rng=0)
    calls = []

    class Counting:
        def forward(self, x):
            calls.append(len(x))
            return model.forward(x)

    cached = exp.CachedTeacher(Counting())
    x = mnist.X_train[:6]
    first = cached.forward(x)
    again = cached.forward(np.concatenate([x[3:], mnist.X_train[6:8]]))  # 3 seen, 2 new
    np.testing.assert_allclose(first, model.forward(x), rtol=1e-6)
    np.testing.assert_allclose(again[:3], first[3:])
    assert calls == [6, 2]


def test_tour_rows(mnist):
    rows = exp.tour_rows(_ctx(mnist))
    by_method = {r["method"]: r for r in rows}
    assert len(rows) == 7
    teacher = by_method["KD teacher ConvNet(32)"]
    assert teacher["params"] == 32 * 9 + 32 + 32 * 13 * 13 * 10 + 10
    students = [r for r in rows if r["method"].startswith("KD student")]
    assert len(students) == 4
    assert all(r["params"] == 4 * 9 + 4 + 4 * 13 * 13 * 10 + 10 for r in students)
    assert all(r["reference"] == "KD teacher ConvNet(32)" for r in rows[1:])
    pruned = by_method["KD teacher pruned 90% + FT"]
    assert pruned["fmt"] == "csr" and pruned["nonzeros"] < 0.15 * pruned["params"]
    int8 = by_method["KD teacher int8 PTQ per-channel"]
    assert int8["fmt"] == "int8" and int8["size_fmt"] == "auto"
    assert int8["size_bits"] < 0.3 * teacher["size_bits"]  # 8-bit codes + scales + fp32 biases
    assert all(0 <= r["accuracy"] <= 1 for r in rows)


def test_sweep_table_and_figures(mnist, tmp_path):
    ctx = _ctx(mnist)
    result = exp.sweep(ctx, temperatures=(1, 4), alphas=(0.0, 0.5), seeds=(0, 1), epochs=1, n_train=100)
    assert result["distilled"].shape == (2, 2, 2) and result["alone"].shape == (2,)
    assert ((0 <= result["distilled"]) & (result["distilled"] <= 1)).all()
    table = exp.sweep_table(result)
    assert table.count("| alpha = ") == 2 and "T = 4" in table and "best distilled" in table
    paths = exp.make_figures(ctx, tmp_path)
    assert [p.name for p in paths] == ["distillation_temperature.png", "distillation_soft_targets.png"]
    assert all(p.stat().st_size > 10_000 for p in paths)


def test_soft_targets_rows_are_the_teachers_softmax(mnist):
    probs, label, image = exp.soft_targets(_ctx(mnist), temperatures=(1, 20))
    assert probs.shape == (2, 10) and image.shape == (28, 28) and 0 <= label <= 9
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)
    assert probs[1].max() < probs[0].max()  # hotter is flatter


def test_spread_is_the_sample_std():
    assert exp.spread(np.array([1.0, 2.0, 3.0])) == pytest.approx(1.0)
    assert exp.spread(np.array([5.0])) == 0.0
