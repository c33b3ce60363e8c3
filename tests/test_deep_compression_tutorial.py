"""Tutorial 06, part 6 (Deep Compression): the claims it prints hold (the tutorial runs once per
session, shared with tests/test_combine_tutorial.py), and its figure exists."""

from tests.tutorial_runner import ROOT, run_tutorial


def test_deep_compression_section_claims_hold():
    namespace, out = run_tutorial("06_combining.md")
    assert "centroids: [-1.   0.   1.5  2. ]" in out  # the paper's Figure 3
    assert "payload 160 bits, r = 3.2" in out
    assert "gaps [1 2 7 2] filler [False False  True False] positions [ 1  4 12 15]" in out
    assert "lengths [1 2 3 3] codes ['0', '10', '110', '111']" in out
    assert "mean length L = 1.625 bits, entropy H = 1.592 bits" in out and "Kraft sum 1" in out
    assert "| fc1 | 235,200 | 8.0% | 6.0 | 5.0 | 5.0 | 4.4 | 3.11% (32x) | 2.65% (38x) |" in out
    report = namespace["deep_report"]
    ratio = report["reference_size_bits"] / report["size_bits"]
    assert ratio > 70
    on_disk = namespace["on_disk"]
    assert on_disk["fp32.npz"] / on_disk["deep.npz"] >= 40  # the bar, on disk
    assert on_disk["deep-packed.npz"] < on_disk["deep.npz"] - 12 * 200  # 12 fewer members
    accuracy = namespace["metrics"].accuracy(namespace["fresh"], namespace["X_test"], namespace["y_test"])
    loss = 100 * (namespace["ref_acc"] - accuracy)
    assert loss <= 1.0
    assert (ROOT / "figures" / "deep_compression_tradeoff.png").exists()
