"""Exercise 05: what a compressed model costs, counted by hand (tutorial 05, section 2.2).

Fill in each function, then grade your work with

    python -m minicompress check tutorials/exercises/ex05_evaluation.py

The grader imports your file in a separate process and compares each function with the
library's (minicompress.formats and minicompress.metrics): first on small cases you can check
by hand, then on inputs Hypothesis draws. For a wrong function it shows the failing input (a
hand case, or the smallest input Hypothesis could shrink it to), the expected and the
received value, what differs and, for a known typical mistake, a hint. NumPy only: a function
that calls minicompress (the answer key) is flagged and fails.
"""

import numpy as np


def csr_bits(w):
    """Stored size in bits of the float32 matrix w (m, k) in CSR, as minicompress.formats
    stores it (zeros are not stored; z = the number of non-zeros):

        header        4 * 32        the shape (m, k), z, and the bits of a quantized value
                                    (0 here: float32 values as they are), as int32
        values        32 * z        the non-zero values, float32
        column index  i * z         one per value; i = the smallest of 8, 16, 32 bits that
                                    holds k - 1 (a b-bit unsigned integer holds 0 .. 2**b - 1)
        row pointers  p * (m + 1)   where each row starts, and the end; p = the smallest of
                                    8, 16, 32 bits that holds z

    Return an int.  Check: [[0, 1.5, 0, -2], [0, 0, 0.5, 0]] (z = 3) takes
    128 + 96 + 3 * 8 + 3 * 8 = 272 bits; a row of 256 non-zeros needs 16-bit row pointers.
    """
    raise NotImplementedError


def compression_ratio(original_bits, compressed_bits):
    """How many times smaller: original / compressed, a float (10.0 = ten times smaller).
    Check: (8000, 1000) gives 8.0."""
    raise NotImplementedError


def compression_rate_text(original_bits, compressed_bits):
    """The text's compression rate (section 2.2): compressed size / original size, a float
    (0.1 = a tenth of the size; smaller is better).  Check: (8000, 1000) gives 0.125."""
    raise NotImplementedError


def conv_macs(w, H, W, stride, padding):
    """Multiply-accumulates of a Conv2d with weight w (C_out, C_in, kh, kw) -- zeros are
    pruned weights -- on ONE input of shape (C_in, H, W).  Return (dense, effective), ints:

        H' = 1 + (H + 2 * padding - kh) // stride,  W' likewise with kw
        dense     = w.size * H' * W'        every weight once per output position
        effective = nnz(w) * H' * W'        only the non-zero weights (what a sparse kernel does)

    Taps that fall on the zero padding are counted, as a kernel computes them.
    Check: a (2, 1, 3, 3) kernel with 3 non-zeros on a 5 x 5 input, stride 1, no padding
    gives H' = W' = 3: (162, 27).
    """
    raise NotImplementedError
