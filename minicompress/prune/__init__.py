"""Pruning, sections 3.1 and 4.1 of the source text: remove the weights that matter least.

- :mod:`.magnitude` -- threshold pruning |w| < threshold (4.1.1; Han et al. 2015)
- :mod:`.masks` -- prune a whole model (per layer or global), apply masks, keep them in training
- :mod:`.l1` -- the L1 penalty L0 + lam * sum|w| and its proximal step (4.1.2)
- :mod:`.saliency` -- Taylor |w g| (4.1.2), exact Hessian diagonal, OBD h w^2/2 (3.1; LeCun et al. 1990)
- :mod:`.obs` -- Optimal Brain Surgeon (Hassibi & Stork 1993)
- :mod:`.calibration` -- a layer's calibration inputs and its Hessian 2 X^T X / N
- :mod:`.sparsegpt` -- OBS from calibration data, layer by layer (Frantar & Alistarh 2023)
- :mod:`.nm` -- N:M semi-structured sparsity, e.g. 2:4 (Mishra et al. 2021)
- :mod:`.hessian` -- the full Hessian of a small net; magnitude vs OBD vs OBS on the real loss
- :mod:`.oneshot` -- magnitude vs OBD vs SparseGPT with no retraining, side by side
- :mod:`.lottery` -- lottery tickets with rewinding, and their controls (Frankle & Carbin 2019)
- :mod:`.snip` -- pruning at initialisation by connection sensitivity (Lee et al. 2019)
- :mod:`.structured` -- L1-norm filter pruning that shrinks the layers (Li et al. 2017)
- :mod:`.schedule` -- gradual sparsity (Zhu & Gupta 2017) and the prune -> fine-tune loop
"""

from ..nn.calibration import layer_hessian, layer_inputs  # the calibration data SparseGPT uses
from .hessian import (
    full_hessian,
    gauss_newton_matrix,
    hessian_by_loss_differences,
    removal_comparison,
)
from .l1 import L1Penalty, ProximalL1, l1_penalty, soft_threshold
from .lottery import lottery_ticket
from .magnitude import (
    magnitude_mask,
    magnitude_threshold,
    text_snippet_prune,
)
from .masks import (
    MaskHook,
    apply_masks,
    prune_model,
    random_masks,
    scope_masks,
    sparsity_of,
)
from .nm import nm_mask
from .obs import obs_prune, obs_update, quadratic_loss_increase
from .oneshot import ONESHOT_METHODS, accuracy_without_retraining
from .saliency import hessian_diagonal, loss_gradients, obd_saliency, taylor_saliency
from .schedule import gradual_sparsity, iterative_prune
from .snip import prune_at_init, snip_masks
from .sparsegpt import sparsegpt, sparsegpt_prune
from .structured import filter_masks, prune_filters

__all__ = [
    "magnitude_threshold", "magnitude_mask", "text_snippet_prune", "prune_model", "scope_masks",
    "apply_masks", "MaskHook", "sparsity_of", "random_masks", "nm_mask", "layer_inputs",
    "layer_hessian", "sparsegpt", "sparsegpt_prune", "full_hessian", "hessian_by_loss_differences",
    "gauss_newton_matrix", "removal_comparison", "ONESHOT_METHODS", "accuracy_without_retraining",
    "lottery_ticket", "snip_masks", "prune_at_init", "l1_penalty", "L1Penalty", "soft_threshold",
    "ProximalL1", "taylor_saliency", "loss_gradients", "hessian_diagonal", "obd_saliency",
    "obs_update", "obs_prune", "quadratic_loss_increase", "prune_filters", "filter_masks",
    "gradual_sparsity", "iterative_prune",
]
