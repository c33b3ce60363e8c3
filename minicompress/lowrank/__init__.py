"""Low-rank decomposition, the source text's sections 3.4 and 4.4.

- :mod:`.svd`: truncated SVD (Eckart-Young), deterministic signs, rank by energy (4.4.1)
- :mod:`.tensor`: unfold / fold / mode_dot / khatri_rao (Kolda & Bader 2009)
- :mod:`.tucker`: HOSVD and HOOI (4.4.2)
- :mod:`.cp`: CP decomposition by alternating least squares (3.4.1)
- :mod:`.layers`: factorised Linear / Conv2d layers, rank by parameter budget
- :mod:`.snippet`: the text's 3.4.2 snippet, transcribed, and what it really computes
"""

from .cp import cp_als, cp_als_step, cp_to_tensor
from .layers import (
    break_even_rank,
    factorize_conv,
    factorize_linear,
    rank_for_budget,
    tucker2_conv,
    weight_matrix,
)
from .svd import rank_for_energy, svd, svd_flip, svd_truncate
from .tensor import fold, khatri_rao, mode_dot, multi_mode_dot, unfold
from .tucker import hooi, hosvd, tucker_to_tensor

__all__ = [
    "svd_truncate", "rank_for_energy", "factorize_linear", "factorize_conv", "unfold", "fold",
    "mode_dot", "hosvd", "hooi", "tucker_to_tensor", "cp_als", "cp_als_step", "cp_to_tensor",
    "tucker2_conv", "rank_for_budget", "break_even_rank", "weight_matrix", "svd", "svd_flip",
    "multi_mode_dot", "khatri_rao",
]
