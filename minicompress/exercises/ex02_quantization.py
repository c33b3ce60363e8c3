"""Checks for tutorials/exercises/ex02_quantization.py: the text's binarisation (4.2.1),
TWN ternarisation, the text's INT8 formula (4.2.2), the STE backward of fake quantization
and an XNOR-popcount dot product."""

from __future__ import annotations

import numpy as np

from ..grading import Check, allclose
from ..quantize import binarize, fake_quantize_forward, int8_quantize, pack_signs, ternarize, xnor_matmul


def ste_backward(dout, x, scale, zero_point, qmin, qmax):
    """Reference: dout where S (qmin - Z) <= x <= S (qmax - Z) (closed), else 0."""
    return dout * fake_quantize_forward(x, scale, zero_point, qmin, qmax)[1]


def xnor_dot(a_bits, b_bits, k):
    """Reference: k - 2 popcount(a XOR b) for every row pair."""
    return xnor_matmul(a_bits, b_bits, k)


def _same_codes(expected, got) -> bool:
    """(q, scale): identical int8 codes, close scales."""
    return (isinstance(got, tuple) and len(got) == 2 and isinstance(got[0], np.ndarray)
            and got[0].dtype == np.int8 and np.array_equal(expected[0], got[0])
            and allclose(expected[1], got[1]))


def _exact(expected, got) -> bool:
    return isinstance(got, np.ndarray) and got.shape == expected.shape and np.array_equal(expected, got)


def _weights():
    from hypothesis import strategies as st

    @st.composite
    def draw(draw):
        shape = (draw(st.integers(1, 4)), draw(st.integers(1, 6)))
        w = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).standard_normal(shape)
        if draw(st.booleans()):
            w[0, 0] = 0.0  # the kink of binarize
        return (w,)

    return draw()


def _ste_args():
    from hypothesis import strategies as st

    @st.composite
    def draw(draw):
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        scale = draw(st.sampled_from([0.25, 0.5, 0.1]))
        qmin, qmax = draw(st.sampled_from([(-128, 127), (0, 255), (-4, 3)]))
        z = draw(st.integers(qmin, qmax))
        x = rng.standard_normal(12) * scale * (qmax - qmin) / 2
        x[:2] = scale * (qmin - z), scale * (qmax - z)  # the two ends of the window
        return rng.standard_normal(12), x, scale, z, qmin, qmax

    return draw()


def _xnor_args():
    from hypothesis import strategies as st

    @st.composite
    def draw(draw):
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        k = draw(st.integers(1, 40))
        A = rng.standard_normal((draw(st.integers(1, 4)), k))
        B = rng.standard_normal((draw(st.integers(1, 4)), k))
        return pack_signs(A), pack_signs(B), k

    return draw()


CHECKS = [
    Check("binarize", binarize, _weights, compare=_exact,
          hand_cases=((np.array([-0.5, 0.0, 0.3]),),)),
    Check("ternarize", ternarize, _weights,
          hand_cases=((np.array([0.7, -1.3]),), (np.array([1.0, -0.1, 0.2, -2.0]),))),
    Check("int8_quantize", int8_quantize, _weights, compare=_same_codes,
          hand_cases=((np.array([0.5, -1.0, 0.25, 0.0]),), (np.array([127.0, 0.5, 1.5, -2.5]),),
                      (np.zeros(3),))),
    Check("ste_backward", ste_backward, _ste_args,
          hand_cases=((np.ones(5), np.array([-2.5, -2.0, 0.2, 1.5, 1.6]), 0.5, 0, -4, 3),)),
    Check("xnor_dot", xnor_dot, _xnor_args, compare=_exact,
          hand_cases=((pack_signs(np.array([[1.0, -1.0, 1.0]])),
                       pack_signs(np.array([[1.0, 1.0, 1.0], [-1.0, 1.0, -1.0]])), 3),)),
]
