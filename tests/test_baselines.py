"""minicompress.baselines: the recipe reaches the issue's accuracy targets."""

import numpy as np
import pytest

from minicompress.baselines import DEFAULT_EPOCHS, MODELS, baseline, build_model, train_baseline
from minicompress.nn import evaluate


@pytest.mark.slow
def test_recipe_reaches_95_percent(mnist, trained_convnet):
    """The issue's bar, with the baseline recipe (SGD lr 0.01, momentum 0.9, batch 64):
    the ConvNet reaches >= 95% test accuracy within 20 epochs (the cached 10-epoch
    baseline, shared with every other test) and LeNet300_100 reaches >= 95% (20 epochs,
    about 2 s; the shared 15-epoch baseline stops at 94.7%)."""
    _, _, Xt, yt = mnist
    assert DEFAULT_EPOCHS["convnet"] <= 20
    _, acc = evaluate(trained_convnet, Xt, yt)
    assert acc >= 0.95, f"convnet: test accuracy {acc:.4f} < 0.95"
    _, history = train_baseline("lenet300", epochs=20)
    assert history["test_accuracy"][-1] >= 0.95, f"lenet300: {history['test_accuracy'][-1]:.4f} < 0.95"


def test_baseline_returns_independent_copies(trained_lenet300):
    again = baseline("lenet300", epochs=DEFAULT_EPOCHS["lenet300"])  # the run epochs=None made
    for (name, p), (_, q) in zip(trained_lenet300.named_parameters(), again.named_parameters()):
        np.testing.assert_array_equal(p, q)
        assert not np.shares_memory(p, q), name
    trained_lenet300.fc1.params["weight"][...] = 0
    assert np.abs(baseline("lenet300").fc1.params["weight"]).sum() > 0


def test_build_model():
    assert sorted(MODELS) == ["convnet", "lenet300", "lenet5"]
    assert build_model("convnet", rng=1).num_parameters() == 27_210
    with pytest.raises(ValueError, match=r"name must be one of \(.*'lenet5'\); got 'vgg'"):
        build_model("vgg")
    with pytest.raises(ValueError, match="name must be one of"):
        baseline("vgg")
