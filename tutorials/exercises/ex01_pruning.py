"""Exercise 01: magnitude pruning, the L1 proximal step and two saliencies, by hand (tutorial 01).

Fill in each function, then grade your work with

    python -m minicompress check tutorials/exercises/ex01_pruning.py

The grader imports your file in a separate process and compares each function with the
library's (minicompress.prune): first on small cases you can check by hand, then on inputs
Hypothesis draws. For a wrong function it shows the failing input (a hand case, or the
smallest input Hypothesis could shrink it to), the expected and the received value, what
differs (value, shape, dtype, an argument changed in place) and, for a known typical
mistake, a hint. NumPy only: a function that calls minicompress (the answer key) is flagged
and fails.  No loops needed.
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


def taylor_saliency(w, g):
    """First-order (Taylor) saliency (section 3.1.1, "influence on the loss"; Molchanov et al. 2017).

    w, g: arrays of the same shape, the weights and the loss gradient dL/dw.
    Setting w_k to 0 changes the loss by about -g_k * w_k (first-order Taylor), so the
    saliency is |w_k * g_k|.  Return an array of w's shape.
    Check: w = [1, -2, 0.5], g = [-3, -1, 0] gives [3, 2, 0].
    """
    raise NotImplementedError


def obd_saliency(w, h_diag):
    """Optimal Brain Damage saliency (section 3.1.1, "based on the Hessian"; LeCun et al. 1990).

    w, h_diag: arrays of the same shape, the weights and the Hessian diagonal d2L/dw_k^2.
    At a minimum (g = 0) setting w_k to 0 changes the loss by about 1/2 h_kk w_k^2 (the
    second-order Taylor term).  Return that array, of w's shape.
    Check: w = [1, -2, 0.5], h_diag = [4, 1, 8] gives [2, 2, 1].
    """
    raise NotImplementedError
