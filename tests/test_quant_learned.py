"""LSQ and PACT: forward values, gradients against finite differences of the STE surrogate
(away from the kinks), and the convention at each kink."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicompress.nn.gradcheck import gradcheck_function
from minicompress.quantize.learned import (
    lsq_backward,
    lsq_forward,
    lsq_grad_scale,
    lsq_init_step,
    lsq_range,
    pact_backward,
    pact_forward,
)


def test_lsq_hand_case_and_kinks():
    # s = 0.5, 3-bit signed: Q_n = 4, Q_p = 3, representable [-2, 1.5]
    assert lsq_range(3, True) == (4, 3) and lsq_range(3, False) == (0, 7)
    x = np.array([-3.0, -2.0, -0.3, 0.2, 1.5, 1.6, 0.75])  # v = x / s = -6, -4, -0.6, 0.4, 3, 3.2, 1.5
    out, cache = lsq_forward(x, 0.5, 4, 3)
    np.testing.assert_allclose(out, [-2.0, -2.0, -0.5, 0.0, 1.5, 1.5, 1.0])  # round(1.5) = 2 (half to even)
    dx, ds = lsq_backward(np.ones(7), cache)
    np.testing.assert_array_equal(dx, [0, 0, 1, 1, 0, 0, 1])  # v = -Q_n and v = Q_p count as clipped
    # dv/ds: -Q_n, -Q_n (kink), round(v) - v = -0.4, -0.4, Q_p (kink), Q_p, 0.5
    assert ds == pytest.approx(-4 - 4 - 0.4 - 0.4 + 3 + 3 + 0.5)
    _, ds_scaled = lsq_backward(np.ones(7), lsq_forward(x, 0.5, 4, 3, grad_scale=0.1)[1])
    assert ds_scaled == pytest.approx(0.1 * ds)
    assert lsq_grad_scale(100, 7) == pytest.approx(1 / np.sqrt(700))
    assert lsq_init_step(np.array([-1.0, 3.0]), 4) == pytest.approx(2 * 2.0 / 2)


def _off_kinks(x, lo, hi, margin=1e-3):
    """Move values within margin of a kink (lo or hi) away from it."""
    for k in (lo, hi):
        x = np.where(np.abs(x - k) < margin, k + 2 * margin, x)
    return x


@given(st.integers(0, 2**32 - 1), st.sampled_from([(2, True), (4, True), (4, False), (8, False)]))
def test_lsq_gradient_is_the_derivative_of_the_ste_surrogate(seed, code):
    rng = np.random.default_rng(seed)
    Qn, Qp = lsq_range(*code)
    s = np.array([rng.uniform(0.2, 1.0)])
    x = _off_kinks(rng.uniform(-1.5 * Qn - 1, 1.5 * Qp, 30) * s[0], -Qn * s[0], Qp * s[0])
    g = lsq_grad_scale(30, Qp)
    v = x / s[0]
    r = np.rint(np.clip(v, -Qn, Qp)) - np.clip(v, -Qn, Qp)  # the rounding residual, held fixed

    def forward(x, s):  # s (clip(x / s) + r): equal to x_hat at the point, smooth away from kinks
        return s[0] * (np.clip(x / s[0], -Qn, Qp) + r), lsq_forward(x, s, Qn, Qp, 1.0)[1]

    def backward(dout, cache):
        dx, ds = lsq_backward(dout, cache)
        return {"x": dx, "s": np.array([ds])}

    np.testing.assert_allclose(forward(x, s)[0], lsq_forward(x, s, Qn, Qp)[0], atol=1e-12)
    errors = gradcheck_function(forward, backward, {"x": x, "s": s}, rng=seed, h=1e-7)
    assert max(errors.values()) < 1e-6, errors
    # the scaled gradient is g times the surrogate's
    scaled = lsq_backward(np.ones(30), lsq_forward(x, s, Qn, Qp, g)[1])[1]
    assert scaled == pytest.approx(g * lsq_backward(np.ones(30), forward(x, s)[1])[1])


def test_pact_hand_case_and_kinks():
    # alpha = 2, 2 bits unsigned: n = 3 steps of 2/3 on [0, 2]
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0])
    out, cache = pact_forward(x, 2.0, 2)
    np.testing.assert_allclose(out, [0, 0, 2 / 3, 4 / 3, 2, 2])  # 0.75 -> 1, 1.5 -> 2 (half to even)
    dx, dalpha = pact_backward(np.ones(6), cache)
    np.testing.assert_array_equal(dx, [0, 0, 1, 1, 0, 0])  # x = 0 and x = alpha do not pass
    assert dalpha == 2.0  # x = alpha counts as clipped: dalpha = 1 there
    # signed: clip to [-alpha, alpha], n = 1 step per side at 2 bits
    out, cache = pact_forward(np.array([-3.0, -2.0, -0.4, 1.2, 2.5]), 2.0, 2, signed=True)
    np.testing.assert_allclose(out, [-2, -2, 0, 2, 2])
    dx, dalpha = pact_backward(np.ones(5), cache)
    np.testing.assert_array_equal(dx, [0, 0, 1, 1, 0])
    assert dalpha == -2 + 1


@given(st.integers(0, 2**32 - 1), st.booleans(), st.sampled_from([2, 4, 8]))
def test_pact_gradient_is_the_derivative_of_the_ste_surrogate(seed, signed, bits):
    rng = np.random.default_rng(seed)
    alpha = np.array([rng.uniform(0.5, 2.0)])
    lo = -alpha[0] if signed else 0.0
    x = _off_kinks(rng.uniform(-3, 3, 30), lo, alpha[0])
    y = np.clip(x, lo, alpha[0])
    r = pact_forward(x, alpha, bits, signed)[0] - y  # the rounding residual, held fixed

    def forward(x, alpha):
        return np.clip(x, -alpha[0] if signed else 0.0, alpha[0]) + r, pact_forward(x, alpha, bits, signed)[1]

    def backward(dout, cache):
        dx, da = pact_backward(dout, cache)
        return {"x": dx, "alpha": np.array([da])}

    errors = gradcheck_function(forward, backward, {"x": x, "alpha": alpha}, rng=seed, h=1e-7)
    assert max(errors.values()) < 1e-6, errors


def test_learned_quantizers_refuse_bad_ranges():
    with pytest.raises(ValueError, match=r"step must be in \(0.0, inf\); got -0.1"):
        lsq_forward(np.ones(3), -0.1, 4, 3)
    with pytest.raises(ValueError, match=r"alpha must be in \(0.0, inf\); got 0.0"):
        pact_forward(np.ones(3), 0.0, 4)
    with pytest.raises(ValueError, match="bits must be in 2..16; got 1"):
        lsq_range(1, True)
