"""The pruning tour section and its figures (experiments/pruning.py, and pruning_beyond.py for
the methods beyond the source text), on untrained models and a small split (fast): the wiring
is checked here; the numbers come from the experiment, the tour and the benchmarks."""

from dataclasses import dataclass

import numpy as np

from minicompress.baselines import build_model
from minicompress.data import Split
from minicompress.experiments import pruning, pruning_beyond
from minicompress.experiments.scaffold import TourContext
from minicompress.pipeline import SECTIONS


@dataclass
class _SmallContext(TourContext):
    def baseline(self, name):
        return build_model(name, rng=self.seed)  # untrained: no baseline training in this test


def _ctx(mnist):
    X, y, Xt, yt = mnist
    return _SmallContext(data=Split(X[:300], y[:300], Xt[:100], yt[:100]), quick=True, verbose=False)


def test_section_is_registered():
    assert "pruning" in SECTIONS


def test_tour_rows(mnist):
    rows = pruning.tour_rows(_ctx(mnist))
    by_method = {r["method"]: r for r in rows}
    assert len(rows) == 9  # 5 + the four of tests/test_prune_tour.py
    r90 = by_method["LeNet300_100 90% global magnitude + FT"]
    weights = 784 * 300 + 300 * 100 + 100 * 10
    assert r90["params"] == 266610
    assert r90["nonzeros"] == 266610 - int(np.floor(0.9 * weights))  # biases stay, weights 90% zero
    assert r90["reference"] == "LeNet300_100 (dense fp32)"
    assert r90["fmt"] in ("csr", "bitmask")
    assert r90["size_bits"] < 0.25 * 32 * 266610  # the zeros are not stored
    assert r90["macs"] < 0.15 * r90["macs_dense"]
    filt = by_method["ConvNet conv1 filters 16->8 (L1) + FT"]
    assert filt["params"] == 13610
    assert all(0 <= r["accuracy"] <= 1 for r in rows)


def test_accuracy_table_and_figures(mnist, tmp_path):
    ctx = _ctx(mnist)
    results = pruning.run_grid(ctx, names=("lenet300",))
    assert {(r["criterion"], r["scope"], r["sparsity"]) for r in results} == {
        ("magnitude", s, p) for s in ("layer", "global") for p in (0.5, 0.9)}
    table = pruning.accuracy_table(results)
    assert table.count("\n") == 3 and "| LeNet300_100 | magnitude | global |" in table
    paths = pruning.figures_from_results(ctx, results, tmp_path)
    assert [p.name for p in paths] == ["pruning_accuracy_vs_sparsity.png", "pruning_weight_histogram.png"]
    assert all(p.stat().st_size > 10_000 for p in paths)


def test_beyond_rows(mnist):
    ctx = _ctx(mnist)
    rows = pruning_beyond.tour_rows(ctx, reference="LeNet300_100 (dense fp32)", fmt_of=pruning.sparse_fmt)
    by_method = {r["method"]: r for r in rows}
    assert list(by_method) == ["LeNet300_100 70% SparseGPT, no retraining",
                               "LeNet300_100 2:4 SparseGPT, no retraining",
                               "LeNet300_100 lottery ticket 64.0% (rewound, trained)",  # 2 rounds here
                               "LeNet300_100 SNIP 95% at init, trained"]
    weights = 784 * 300 + 300 * 100 + 100 * 10
    assert by_method["LeNet300_100 2:4 SparseGPT, no retraining"]["nonzeros"] == 266610 - weights // 2
    assert by_method["LeNet300_100 SNIP 95% at init, trained"]["nonzeros"] < 266610 - 0.95 * weights + 410
    assert all(r["reference"] == "LeNet300_100 (dense fp32)" and r["fmt"] in ("csr", "bitmask") for r in rows)


def test_beyond_figures(mnist, tmp_path):
    ctx = _ctx(mnist)
    paths = [pruning_beyond.oneshot_figure(ctx, tmp_path), pruning_beyond.lottery_figure(ctx, tmp_path)]
    assert [p.name for p in paths] == ["pruning_oneshot.png", "pruning_lottery.png"]
    assert all(p.stat().st_size > 10_000 for p in paths)
    rows = pruning_beyond.oneshot(ctx)
    assert {(r["method"], r["pattern"]) for r in rows} == {
        (m, p) for m in pruning_beyond.ONESHOT_METHODS for p in (None, "2:4")}
    res = pruning_beyond.lottery(ctx, controls=True)
    assert np.allclose([e["remaining"] for e in res["rounds"]], [0.8, 0.64])
    # the ticket with controls is the same ticket as without (same seeds, same data order)
    assert res["rounds"][-1]["ticket"] == pruning_beyond.lottery(ctx, controls=False)["rounds"][-1]["ticket"]
