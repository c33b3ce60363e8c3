"""Exercise 03: knowledge distillation by hand (tutorial 03, source text 3.3 and 4.3).

Fill in each function, then grade your work with

    python -m minicompress check tutorials/exercises/ex03_distillation.py

The grader imports your file in a separate process and compares each function with the
library's (minicompress.distill): first on small cases you can check by hand, then on inputs
Hypothesis draws. For a wrong function it shows the failing input (a hand case, or the
smallest input Hypothesis could shrink it to), the expected and the received value, what
differs (value, shape, dtype, an argument changed in place) and, for a known typical
mistake, a hint. NumPy only: a function that calls minicompress (the answer key) is flagged
and fails.
No loops over examples or classes are needed.
"""

import numpy as np


def softmax_with_temperature(z, T):
    """softmax(z / T) along the last axis (the classes).

    z: (N, C) logits, T > 0.  Return (N, C) probabilities whose rows sum to 1.
    It must not overflow for logits like 1000: subtract each row's maximum before exp
    (softmax does not change when a constant is added to a row).
    Check: z = [[0, ln 3]] at T = 1 gives [[1/4, 3/4]].
    """
    raise NotImplementedError


def kd_loss(student_logits, teacher_logits, labels, T, alpha):
    """The distillation loss of section 4.3, with Hinton's T^2, and its gradient.

    s, t: (N, C) logits of student and teacher; labels: (N,) integers in [0, C).
        L = alpha * CE + (1 - alpha) * T^2 * KL
        CE = -(1/N) sum_n log softmax(s_n)[labels_n]                 (at T = 1)
        KL = (1/N) sum_n sum_i p_ni (log p_ni - log q_ni),  p = softmax(t / T), q = softmax(s / T)
    Return (L as a float, dL/ds as an (N, C) array) where
        dL/ds = alpha * (softmax(s) - onehot(labels)) / N + (1 - alpha) * T * (q - p) / N
    Hint: compute log q and log p with the max-shift trick, not log(softmax(...)).
    Check: s = [[0, 0]], t = [[0, ln 3]], T = 1, alpha = 0 gives
        L = 1/4 ln(1/2) + 3/4 ln(3/2) = 0.1308 and dL/ds = [[1/4, -1/4]].
    """
    raise NotImplementedError


def kd_loss_as_written(student_logits, teacher_logits, T):
    """The source text's loss exactly as its PyTorch snippet computes it (section 3.3.2):

        nn.KLDivLoss()(F.log_softmax(s / T, dim=1), F.softmax(t / T, dim=1))

    KLDivLoss's default reduction "mean" averages the N*C terms p (log p - log q) -- over the
    batch AND the classes -- and there is no T^2 and no hard-label term.
    Return (loss as a float, dloss/ds as an (N, C) array).  How does it compare with
    kd_loss(s, t, labels, T, alpha=0)?
    """
    raise NotImplementedError
