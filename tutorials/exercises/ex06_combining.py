"""Exercise 06: what a pruned and quantized weight costs, and the greedy walk of auto_compress.

Fill in each function, then grade your work with

    python -m minicompress check tutorials/exercises/ex06_combining.py

The grader imports your file in a separate process and compares each function with the
library's (minicompress.combine): first on small cases you can check by hand, then on inputs
Hypothesis draws. For a wrong function it shows the failing input (a hand case, or the
smallest input Hypothesis could shrink it to), the expected and the received value, what
differs (value, shape, dtype, an argument changed in place) and, for a known typical
mistake, a hint. NumPy only: a function that calls minicompress (the answer key) is flagged
and fails.
"""

import numpy as np


def bitmask_bits(w, bits):
    """Stored bits of the pruned weight ``w`` (m, k) -- zeros are pruned -- quantized per row
    to ``bits`` bits (2..8) and stored as a bitmask.

    Codes: q = round(w / scale * qmax), qmax = 2**(bits-1) - 1, scale = max|w| of the row
    (1.0 for an all-zero row), rounding half to even (np.rint).  Only the z NON-ZERO codes
    are stored (a survivor that rounds to 0 is not).  Stored bits:

        32 * 3                 header: the shape, one int32 per dimension, and the bits
      + 8 * ceil(m * k / 8)    the mask, one bit per position, in whole bytes
      + 8 * ceil(z * bits / 8) the codes, packed, in whole bytes
      + 32 * m                 one float32 scale per row

    Tutorial 06's 2 x 8 example with four survivors is 208 bits at 8 bits.  Return an int.
    """
    raise NotImplementedError


def greedy_path(sizes, losses, eps):
    """The greedy walk of auto_compress (tutorial 06, part 4, step 3).

    sizes, losses : (L, O) arrays: bits and estimated loss (points) of option o of layer l;
        option 0 of every layer is where the walk starts
    eps : > 0, the smallest loss a move is charged

    Start at state = (0, ..., 0).  At each step, among every layer l and option o' with
    sizes[l, o'] < sizes[l, state[l]], take the move with the largest

        (sizes[l, state[l]] - sizes[l, o']) / max(losses[l, o'] - losses[l, state[l]], eps)

    (ties: the smallest l, then the smallest o'), set state[l] = o' and record the state.
    Stop when no layer can get smaller.  Return the list of states as tuples, the start
    included: for sizes [[100, 50, 10], [40, 20, 30]], losses [[0, 0.5, 3], [0, 0.1, 0.2]]
    and eps 0.01 it is [(0, 0), (0, 1), (1, 1), (2, 1)].
    """
    raise NotImplementedError
