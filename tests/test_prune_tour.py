"""The tour rows and figures beyond the source text (experiments/pruning_beyond.py), wired on
untrained models and a small split (fast): the numbers come from the tour and the benchmarks."""

from dataclasses import dataclass

import numpy as np

from minicompress.baselines import build_model
from minicompress.data import Split
from minicompress.experiments import pruning, pruning_beyond
from minicompress.experiments.scaffold import TourContext


@dataclass
class _SmallContext(TourContext):
    def baseline(self, name):
        return build_model(name, rng=self.seed)  # untrained: no baseline training in this test


def _ctx(mnist):
    X, y, Xt, yt = mnist
    return _SmallContext(data=Split(X[:300], y[:300], Xt[:100], yt[:100]), quick=True, verbose=False)


def test_rows(mnist):
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


def test_figures(mnist, tmp_path):
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
