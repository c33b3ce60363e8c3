"""Pruning, sections 3.1 and 4.1 of the source text: remove the weights that matter least.

- :mod:`.magnitude` -- threshold pruning |w| < threshold (4.1.1; Han et al. 2015)
- :mod:`.masks` -- prune a whole model (per layer or global), apply masks, keep them in training
- :mod:`.l1` -- the L1 penalty L0 + lam * sum|w| and its proximal step (4.1.2)
- :mod:`.saliency` -- Taylor |w g| (4.1.2), exact Hessian diagonal, OBD h w^2/2 (3.1; LeCun et al. 1990)
- :mod:`.obs` -- Optimal Brain Surgeon (Hassibi & Stork 1993)
- :mod:`.structured` -- L1-norm filter pruning that shrinks the layers (Li et al. 2017)
- :mod:`.schedule` -- gradual sparsity (Zhu & Gupta 2017) and the prune -> fine-tune loop
"""

from .l1 import L1Penalty, ProximalL1, l1_penalty, soft_threshold
from .magnitude import (
    magnitude_mask,
    magnitude_threshold,
    mask_from_scores,
    n_to_prune,
    score_threshold,
    text_snippet_prune,
)
from .masks import MaskHook, apply_masks, prune_model, scope_masks, select_parameters, sparsity_of
from .obs import obs_prune, quadratic_loss_increase
from .saliency import hessian_diagonal, loss_gradients, obd_saliency, taylor_saliency
from .schedule import GradualPruning, gradual_sparsity, iterative_prune
from .structured import filter_l1_norms, filter_masks, prune_filters

__all__ = [
    "magnitude_threshold", "magnitude_mask", "mask_from_scores", "score_threshold", "n_to_prune",
    "text_snippet_prune", "prune_model", "scope_masks", "apply_masks", "MaskHook", "select_parameters",
    "sparsity_of",
    "l1_penalty", "L1Penalty", "soft_threshold", "ProximalL1",
    "taylor_saliency", "loss_gradients", "hessian_diagonal", "obd_saliency",
    "obs_prune", "quadratic_loss_increase",
    "filter_l1_norms", "prune_filters", "filter_masks",
    "gradual_sparsity", "GradualPruning", "iterative_prune",
]
