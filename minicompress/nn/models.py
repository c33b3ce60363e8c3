"""The models the experiments use, built from :mod:`minicompress.nn.layers`.

All take 28x28 single-channel images (N, 1, 28, 28) and return 10 logits, and all take
``rng`` (a Generator or int seed) for their initialisation: the same seed, the same weights.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_bool, check_int, check_rng, check_sequence
from .layers import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential

__all__ = ["ConvNet", "LeNet300_100", "LeNet5", "MLP"]


class ConvNet(Sequential):
    """The source text's ConvNet (section 3.1.2), layer for layer::

        conv1 = Conv2d(1, 16, 3) -> relu -> pool = MaxPool2d(2) -> flatten
        -> fc = Linear(16 * 13 * 13, 10)

    28x28 -> conv 3x3 -> 26x26 -> pool -> 13x13, so fc sees 16*13*13 = 2704 features.
    State-dict keys: ``conv1.weight, conv1.bias, fc.weight, fc.bias`` (as in PyTorch).
    ``channels`` (default 16, the text's) widens or narrows it, for teachers and students.
    """

    def __init__(self, channels: int = 16, *, rng=0, dtype=np.float32):
        channels = check_int(channels, "channels", low=1)
        rng = check_rng(rng)
        super().__init__(
            conv1=Conv2d(1, channels, 3, rng=rng, dtype=dtype),
            relu=ReLU(),
            pool=MaxPool2d(2),
            flatten=Flatten(),
            fc=Linear(channels * 13 * 13, 10, rng=rng, dtype=dtype),
        )
        self.channels = channels


class MLP(Sequential):
    """Fully connected net ``sizes[0] -> sizes[1] -> ... -> sizes[-1]`` with ReLU between.

    Layers are named ``fc1, fc2, ...`` and ``relu1, relu2, ...``; a Flatten in front lets it
    take (N, 1, 28, 28) images directly.  ``MLP([784, 300, 100, 10])`` is LeNet-300-100.
    ``relu=False`` leaves the ReLUs out: an XNOR network (``quantize.prepare_xnor``) takes
    the sign of every layer's input, which is its nonlinearity.
    """

    def __init__(self, sizes, *, rng=0, dtype=np.float32, relu: bool = True):
        sizes = [check_int(s, "sizes[i]", low=1) for s in check_sequence(sizes, "sizes", "layer widths")]
        if len(sizes) < 2:
            raise ValueError(f"sizes needs at least an input and an output size; got {sizes}")
        rng = check_rng(rng)
        relu = check_bool(relu, "relu")
        layers = {"flatten": Flatten()}
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            layers[f"fc{i}"] = Linear(a, b, rng=rng, dtype=dtype)
            if relu and i < len(sizes) - 1:
                layers[f"relu{i}"] = ReLU()
        super().__init__(**layers)
        self.sizes = sizes


class LeNet300_100(MLP):
    """LeNet-300-100 (LeCun et al. 1998), the net Han et al. (2015) prune 12x:
    784 -> 300 -> 100 -> 10, 266,610 parameters, layers ``fc1, fc2, fc3``."""

    def __init__(self, *, rng=0, dtype=np.float32):
        super().__init__([784, 300, 100, 10], rng=rng, dtype=dtype)


class LeNet5(Sequential):
    """LeNet-5 (LeCun et al. 1998) for 28x28 input, with ReLU and max pooling::

        conv1 = Conv2d(1, 6, 5, padding=2)  28x28 -> 28x28, pool1 -> 14x14
        conv2 = Conv2d(6, 16, 5)            14x14 -> 10x10, pool2 -> 5x5
        fc1 = Linear(400, 120) -> fc2 = Linear(120, 84) -> fc3 = Linear(84, 10)

    The original used tanh-like squashing and average pooling; ReLU and max pooling are the
    common modern reading (61,706 parameters).
    """

    def __init__(self, *, rng=0, dtype=np.float32):
        rng = check_rng(rng)
        super().__init__(
            conv1=Conv2d(1, 6, 5, padding=2, rng=rng, dtype=dtype),
            relu1=ReLU(),
            pool1=MaxPool2d(2),
            conv2=Conv2d(6, 16, 5, rng=rng, dtype=dtype),
            relu2=ReLU(),
            pool2=MaxPool2d(2),
            flatten=Flatten(),
            fc1=Linear(16 * 5 * 5, 120, rng=rng, dtype=dtype),
            relu3=ReLU(),
            fc2=Linear(120, 84, rng=rng, dtype=dtype),
            relu4=ReLU(),
            fc3=Linear(84, 10, rng=rng, dtype=dtype),
        )
