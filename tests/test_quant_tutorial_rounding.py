"""Tutorial 02's sections "which range?" and "which rounding?": the claims they print hold."""

from tests.tutorial_runner import run_tutorial


def test_which_range_and_which_rounding_claims_hold():
    ns, out = run_tutorial("02_quantization.md")
    errors = ns["range_errors"]
    assert all(errors[m] < errors["minmax"] for m in ("percentile", "mse", "entropy"))
    assert errors["mse"] == min(errors.values())
    assert "[-2.  -2.  -0.5  0.   1.5  1.5  1. ] [0. 0. 1. 1. 0. 0. 1.] -2.3" in out  # the LSQ hand case
    assert "[[0.5 0.1]]" in out  # the GPTQ column update by hand
    assert ns["w4a4_acc"] > ns["float_acc"] - 3
    fc2 = ns["fc2_errors"]
    assert fc2["GPTQ"] < 0.5 * fc2["round to nearest"] and fc2["AdaRound"] < fc2["round to nearest"]
    rtn2, gptq2 = ns["rounding_acc"][2]
    assert gptq2 > rtn2 + 5 and gptq2 > ns["lenet_acc"] - 1.0  # the 2-bit target
    rtn3, gptq3 = ns["rounding_acc"][3]
    assert gptq3 >= ns["lenet_acc"] - 0.3
