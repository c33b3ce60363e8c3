"""Knowledge distillation (source text sections 3.3 and 4.3; Hinton, Vinyals & Dean 2015).

A small *student* learns from a large *teacher*'s softened outputs.  Section 4.3 writes the
student's loss as::

    L(w_s) = alpha * L_0(w_s) + (1 - alpha) * L_KD(w_s, w_t)

with ``L_0`` the usual cross-entropy on the hard labels and ``L_KD`` the distillation term.
Here, as in Hinton et al. (2015)::

    L_KD = T^2 * (1/N) sum_n KL( softmax(t_n / T) || softmax(s_n / T) )

The ``T^2`` keeps the soft term's gradient from shrinking as the temperature ``T`` grows; the
source text's PyTorch snippet (section 3.3.2) leaves it out and also averages over classes
as well as examples (``nn.KLDivLoss()``'s default ``reduction="mean"``):
:func:`kd_loss_as_written` reproduces that snippet, so the two can be compared.

The teacher is any object with ``forward(x) -> logits`` (a pruned or quantized model works
unchanged, section 2.3); :func:`distill` trains the student with :func:`~minicompress.nn.fit`,
the KD loss plugged in as its loss (``fit`` calls the loss's ``on_batch`` hook).

Modules: :mod:`.softmax` (the temperature softmax), :mod:`.losses` (``kd_loss``, the text's
loss as written, ``KDLoss``), :mod:`.train` (``jitter``, ``distill``).
"""

from .losses import KDLoss, kd_loss, kd_loss_as_written
from .softmax import log_softmax, softmax
from .train import distill, jitter

__all__ = ["softmax", "log_softmax", "kd_loss", "kd_loss_as_written", "KDLoss", "jitter", "distill"]
