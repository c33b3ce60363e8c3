"""The claims the "Beyond one-shot magnitude" part of tutorials/01_pruning.md prints hold
(the run itself: tests/test_tutorials.py; run_tutorial is cached, so this costs nothing more)."""

import numpy as np

from tests.tutorial_runner import run_tutorial


def _ns_out():
    return run_tutorial("01_pruning.md")


def test_sparsegpt_claims():
    ns, out = _ns_out()
    assert "symmetric: True" in out
    assert "w -> [ 0.   1.5 -1. ]  loss increase 0.25" in out
    assert "all exactly 0: True" in out
    acc = {(r["method"], r["pattern"] or r["sparsity"]): r["accuracy"] for r in ns["oneshot"]}
    dense = ns["oneshot"][0]["dense"]
    assert dense - acc["sparsegpt", 0.5] <= 0.003       # the target: at most 0.3 point
    assert dense - acc["sparsegpt", "2:4"] <= 0.010     # at most 1.0 point
    assert acc["sparsegpt", 0.7] > acc["magnitude", 0.7]
    assert acc["sparsegpt", "2:4"] > acc["magnitude", "2:4"]
    # the text states the miss: seed 0 at 70% loses 1.1 points, not at most 1.0
    assert round(100 * (dense - acc["sparsegpt", 0.7]), 1) == 1.1
    assert "exactly 2 of every 4 kept in every layer: True" in out
    assert "fc1 2:4 round trip bit-exact: True" in out
    sizes = out.split("fc1 2:4 round trip bit-exact: True")[1].splitlines()[1:5]
    kb = {line.split()[0]: float(line.split()[1]) for line in sizes}
    assert kb["nm"] < kb["bitmask"] < kb["csr"] < kb["fp32"]


def test_exact_second_order_claims():
    ns, out = _ns_out()
    from minicompress.nn import relative_error

    H, G = ns["H"], ns["G"]
    assert relative_error(H, H.T) < 1e-8
    assert "h = 1e-05: relative error" in out and "h = 1e-04: relative error" in out
    fine = float(out.split("h = 1e-05: relative error ")[1].split()[0])
    coarse = float(out.split("h = 1e-04: relative error ")[1].split()[0])
    assert fine < 1e-4 and coarse > 0.1  # the coarse step crosses a ReLU kink (printed next)
    a, b = slice(0, 392), slice(392, 472)
    assert relative_error(G[a, a], H[a, a]) < 1e-8 and relative_error(G[b, b], H[b, b]) < 1e-8
    assert relative_error(G[a, b], H[a, b]) > 1e-4
    real = {(r["criterion"], r["k"]): r["real"] for r in ns["removal"]}
    for k in ns["ks"][1:3]:  # a quarter and half of the weights
        assert real["obs", k] < real["obd", k] < real["magnitude", k]
        assert real["obs", k] < real["magnitude", k] / 20


def test_lottery_and_snip_claims():
    ns, _ = _ns_out()
    for e in ns["ticket_run"]["rounds"]:
        assert e["ticket"] > e["reinit"] and e["ticket"] > e["random"]
    kept = {n: m.mean() for n, m in ns["snip"].items()}
    assert kept["fc1.weight"] < kept["fc2.weight"] < kept["fc3.weight"]
    kept_total = sum(int(m.sum()) for m in ns["snip"].values())
    assert np.isclose(1 - kept_total / sum(m.size for m in ns["snip"].values()), 0.95, atol=1e-4)
