"""minicompress: a pure-NumPy, autograd-free reference implementation of model compression.

Read along the source text (pruning 3.1/4.1, quantization 3.2/4.2, distillation 3.3/4.3,
low-rank decomposition 3.4/4.4, evaluation 2.2): every formula is a small named function.
"""

from . import combine as combine  # sections 2.3 / 7.1: combinations, sensitivity, auto_compress
from . import distill as distill
from . import formats as formats
from . import metrics as metrics
from . import nn
from . import prune as prune
from . import quantize as quantize
from .data import Split, load_idx, load_mnist5k
from .lowrank import (  # noqa: F401  (sections 3.4 / 4.4: DESIGN.md public names)
    cp_als,
    cp_to_tensor,
    factorize_conv,
    factorize_linear,
    fold,
    hooi,
    hosvd,
    mode_dot,
    rank_for_energy,
    svd_truncate,
    tucker2_conv,
    tucker_to_tensor,
    unfold,
)
from .nn import (
    MLP,
    SGD,
    Adam,
    Conv2d,
    ConvNet,
    Flatten,
    LeNet5,
    LeNet300_100,
    Linear,
    MaxPool2d,
    Module,
    ReLU,
    Sequential,
    cross_entropy,
    evaluate,
    fit,
    predict,
)

__version__ = "0.1.0"

__all__ = [
    "nn", "Split", "load_idx", "load_mnist5k",
    "MLP", "SGD", "Adam", "Conv2d", "ConvNet", "Flatten", "LeNet5", "LeNet300_100", "Linear",
    "MaxPool2d", "Module", "ReLU", "Sequential", "cross_entropy", "evaluate", "fit", "predict",
]
