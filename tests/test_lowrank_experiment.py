"""The low-rank tour section and the issue's accuracy target."""

import numpy as np
import pytest

from minicompress import SGD, Split, evaluate, fit
from minicompress.baselines import build_model
from minicompress.experiments import lowrank as section
from minicompress.experiments.scaffold import TourContext
from minicompress.lowrank import factorize_linear, rank_for_budget
from minicompress.pipeline import SECTIONS


class UntrainedContext(TourContext):
    """Quick context whose 'baselines' are freshly initialised: tests the section's wiring
    in seconds, without training (the numbers are meaningless)."""

    def baseline(self, name):
        return build_model(name, rng=self.seed)


def test_section_is_registered():
    assert "lowrank" in SECTIONS


def test_section_rows_and_figures(tmp_path, mnist):
    small = Split(mnist.X_train[:500], mnist.y_train[:500], mnist.X_test[:200], mnist.y_test[:200])
    ctx = UntrainedContext(data=small, quick=True, verbose=False)
    rows = section.tour_rows(ctx)
    methods = [r["method"] for r in rows]
    assert methods == ["LeNet5 (dense fp32)", "LeNet300_100 fc1 SVD r=54 (1/4) + FT",
                       "ConvNet fc SVD r=4 + FT", "LeNet5 conv2 Tucker-2 (8,3) + FT",
                       "LeNet5 conv2 SVD r=4 + FT"]
    by_method = {r["method"]: r for r in rows}
    # parameters counted through the factorised Sequential: fc1 235,500 -> 58,836
    lenet300 = build_model("lenet300")
    assert by_method[methods[1]]["params"] == lenet300.num_parameters() - 235_500 + 58_836
    # and the MACs through metrics.flops: fc1's 784*300 become 54*(784 + 300)
    assert by_method[methods[1]]["macs"] == 266_200 - 235_200 + 54 * 1084
    assert by_method[methods[3]]["reference"] == "LeNet5 (dense fp32)"
    paths = section.make_figures(ctx, tmp_path)
    assert sorted(p.name for p in paths) == ["lowrank_accuracy_vs_rank.png", "lowrank_singular_values.png"]
    assert all(p.stat().st_size > 10_000 for p in paths)
    table = section.accuracy_table(section._results(ctx))
    assert "| lenet300 | fc1 | SVD 54 | 58,836 |" in table


@pytest.mark.slow
def test_quarter_of_fc1_loses_at_most_one_point_after_fine_tuning(trained_lenet300, mnist):
    model = trained_lenet300
    dense = evaluate(model, mnist.X_test, mnist.y_test)[1]
    fc1 = model.fc1
    r = rank_for_budget(fc1, fc1.num_parameters() // 4)
    fact = factorize_linear(fc1, r)
    assert fact.num_parameters() <= fc1.num_parameters() / 4
    model.set_submodule("fc1", fact)
    fit(model, mnist.X_train, mnist.y_train, epochs=2, batch_size=64,
        optimizer=SGD(model, lr=0.01, momentum=0.9), rng=0, verbose=False)
    after = evaluate(model, mnist.X_test, mnist.y_test)[1]
    assert 100 * (dense - after) <= 1.0, (dense, after)
    assert np.isfinite(after)
