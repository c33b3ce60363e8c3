"""Section 2.2: the three numbers compression is judged by -- size (compression ratio),
accuracy loss, and inference speed -- measured honestly.

* Size is the *stored* size: :func:`model_size_bits` encodes every weight in a storage
  format of :mod:`minicompress.formats` (index arrays, scales and headers included), so a
  pruned model kept as dense float32 is exactly as large as before.
* Work is counted in multiply-accumulates (MACs) by :func:`flops`, dense (every weight) and
  effective (non-zero weights only): what a sparse kernel *could* skip, not what it does.
* Speed is measured by :func:`latency` (median of repeats, with the spread and the thread
  settings), because fewer MACs do not make a dense kernel faster.

Modules: :mod:`.size`, :mod:`.quality`, :mod:`.work`, :mod:`.speed`.
"""

from .quality import accuracy, accuracy_loss
from .size import (
    compression_ratio,
    compression_ratio_text,
    model_size_bits,
    parameter_counts,
    sparsity,
)
from .speed import latency, thread_settings
from .work import flops, layer_macs

__all__ = [
    "model_size_bits", "compression_ratio", "compression_ratio_text", "parameter_counts",
    "sparsity", "accuracy", "accuracy_loss", "layer_macs", "flops", "latency", "thread_settings",
]
