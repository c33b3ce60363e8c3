"""Exercise 01: magnitude pruning and the L1 proximal step, by hand (tutorial 01_pruning.md).

Fill in each function, then grade your work with

    python -m minicompress check tutorials/exercises/ex01_pruning.py

The grader compares your functions with the library's on hand-checkable cases and on
random inputs, and shows the smallest input where they differ.  NumPy only; no loops needed.
"""

import numpy as np


def magnitude_threshold(w, sparsity):
    """Threshold of magnitude pruning (section 4.1.1).

    w: array of any shape with n entries; sparsity: float in [0, 1).
    Let k = floor(sparsity * n).  Return the k-th smallest |w| counting from 0, i.e.
    np.sort(np.abs(w).ravel())[k], as a float.  Then exactly k weights lie strictly below it
    when the |w| are distinct -- one more than the text's torch.kthvalue snippet prunes.
    (The grader draws sparsity = k / n plus a little, so plain floor(sparsity * n) is fine.)
    """
    raise NotImplementedError


def magnitude_mask(w, sparsity):
    """Keep-mask: a bool array of w's shape, True where |w| >= magnitude_threshold(w, sparsity).

    Ties at the threshold are kept (the text prunes only |w| < threshold).
    """
    raise NotImplementedError


def soft_threshold(w, t):
    """The proximal step of the L1 penalty (section 4.1.2): argmin_x 1/2 (x - w)^2 + t |x|.

    Elementwise: sign(w) * max(|w| - t, 0).  Every |w| <= t becomes exactly 0; the others
    move t towards 0.  Return an array of w's shape.
    """
    raise NotImplementedError
