"""Exercise 01: magnitude pruning, the L1 proximal step, two saliencies, one OBS update and an
N:M mask, by hand (tutorial 01).

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


def obs_update(w, H_inv, q):
    """One Optimal Brain Surgeon removal (section 3.1.1 "based on the Hessian"; Hassibi & Stork 1993).

    w: (d,) float weights; H_inv: (d, d) symmetric positive definite, the INVERSE Hessian
    H^-1 of the loss (given: do not invert it); q: int in [0, d), the weight to remove.
    Set w_q to 0 and move the other weights to minimise the quadratic model of the loss:

        w_new = w - (w_q / [H^-1]_qq) * H^-1[:, q]     (column q of H^-1; w_new[q] = 0)
        L_q   = w_q**2 / (2 [H^-1]_qq)                  (the loss increase, with its 1/2)

    Return (w_new, L_q): a float array of shape (d,) whose entry q is 0 (exactly or to
    round-off), and a float.  Do not change w in place.
    Check: H = [[2, 1, 0], [1, 2, 1], [0, 1, 2]], so
    H_inv = [[0.75, -0.5, 0.25], [-0.5, 1, -0.5], [0.25, -0.5, 0.75]];  w = [0.75, 1, 0.5]:
    q = 0 gives w_new = [0, 1.5, 0.25], L_0 = 0.375;  q = 1 gives [1.25, 0, 1], L_1 = 0.5.
    """
    raise NotImplementedError


def nm_mask(w, n, m):
    """N:M keep-mask (Mishra et al. 2021; NVIDIA's 2:4 is n = 2, m = 4): of every m
    consecutive weights along each row, keep the n largest |w|.

    w: a 1-D array (one row) or a 2-D array (out, in); each row's length is a multiple of
    m; 1 <= n <= m.  Group g of a row holds its entries g*m, ..., g*m + m - 1 (the groups
    run along the input axis, the last one: w.reshape(rows, -1, m)).
    Ties: of equal |w| in a group, the EARLIER one (lower index) is kept, so every group
    keeps exactly n, never more, never fewer (np.argsort(-|w|, kind="stable") orders it).
    Return a bool array of w's shape with exactly n True in every group.
    Check: w = [0.1, -0.5, 0.3, 0.2, 0.9, 0, -0.9, 0.4], n = 2, m = 4 gives
    [F, T, T, F, T, F, T, F];  w = [1, 3, 3, 3] gives [F, T, T, F] (the tie rule).
    """
    raise NotImplementedError
