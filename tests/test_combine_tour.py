"""The combined tour section: rows, references, sizes and the figure, on untrained models
(the wiring, in seconds; the numbers themselves come from the full tour)."""

from minicompress import Split, metrics
from minicompress.baselines import build_model
from minicompress.experiments import combined as section
from minicompress.experiments.scaffold import TourContext
from minicompress.pipeline import SECTIONS


class UntrainedContext(TourContext):
    """Quick context whose 'baselines' are freshly initialised (numbers are meaningless)."""

    def baseline(self, name):
        return build_model(name, rng=self.seed)


def test_section_is_registered_last():
    assert SECTIONS[-1] == "combined"


def test_section_rows_and_figure(tmp_path, mnist):
    small = Split(mnist.X_train[:500], mnist.y_train[:500], mnist.X_test[:200], mnist.y_test[:200])
    ctx = UntrainedContext(data=small, quick=True, verbose=False)
    rows = section.tour_rows(ctx)
    by_method = {r["method"]: r for r in rows}
    assert len(rows) == 10
    deep_rows = [r for r in rows if "Deep Compression" in r["method"]]
    assert [r["reference"] for r in deep_rows] == ["LeNet300_100 (dense fp32)"] * 2
    assert all(r["fmt"].startswith("huffman") or "huffman" in r["fmt"] for r in deep_rows), deep_rows
    conv = [r for r in rows if r["method"].startswith("ConvNet")]
    assert conv[0]["method"] == "ConvNet 90% global + FT + int8"
    assert conv[0]["reference"] == conv[1]["reference"] == "ConvNet (dense fp32)"
    twin = "ConvNet twin (fp32, 400 digits)"
    assert conv[3]["reference"] == conv[2]["method"] == twin
    # sizes are the compressed layers' own storage_bits, summed by metrics ("auto"); the
    # format column names what the layers store
    for r in rows:
        assert r["size_fmt"] == ("fp32" if "twin" in r["method"] else "auto")
    assert conv[0]["fmt"] == "bitmask+int8" and conv[1]["fmt"] == "int8" and conv[2]["fmt"] == "fp32"
    lenet_pq = next(r for r in rows if r["method"].startswith("LeNet300_100 90% global"))
    assert lenet_pq["nonzeros"] <= 0.1 * 266_200 + 410  # 90% of the weights pruned, biases kept
    assert lenet_pq["size_bits"] < metrics.model_size_bits(build_model("lenet300"), "fp32").total / 15
    fq = by_method["LeNet300_100 fc1 SVD r=54 + FT, all int8"]
    assert fq["params"] == 266_610 - 235_500 + 54 * (784 + 300) + 300
    paths = section.make_figures(ctx, tmp_path)
    assert [p.name for p in paths] == ["sensitivity.png", "deep_compression_tradeoff.png"]
    assert all(p.stat().st_size > 10_000 for p in paths)


def test_plan_summary():
    report = {"plan": {"fc1": {"sparsity": 0.95, "bits": 3, "rank": None}},
              "validation": {"loss_points": 0.5, "n": 800}, "test": {"loss_points": 1.0, "n": 1000}}
    assert section.plan_summary(report) == ("plan fc1 95%/3b; validation loss 0.50 points (n=800), "
                                            "test loss 1.00 points (n=1000)")
