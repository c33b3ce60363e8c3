"""A whole trained network in integers: :class:`IntegerModel` and :func:`integer_only`.

The layers are in :mod:`.intinfer` (its docstring describes the scheme, Jacob et al. 2018,
section 5.2 of the text); this module chains them: :func:`integer_only` converts a float
Sequential layer by layer, calibrating each activation range on sample inputs, and
:class:`IntegerModel` runs the chain, pooling an integer layer's int32 accumulators before
requantizing them.
"""

from __future__ import annotations

import numpy as np

from ..nn import functional as F
from ..nn._checks import check_array, check_choice
from ..nn.layers import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential
from .affine import CALIBRATION_METHODS, calibrate
from .intinfer import Dequantize, IntConv2d, IntLinear, IntMaxPool2d, IntReLU, QuantizeInput, _IntAffine

__all__ = ["IntegerModel", "integer_only"]


class IntegerModel(Sequential):
    """A Sequential of integer layers: float images in, float logits out, integers between.

    ``forward`` runs the children in order, with one exact reordering: an integer layer
    followed by max pooling pools its int32 accumulators and requantizes the pooled ones
    (``pool(requantize(acc)) = requantize(pool(acc))``: requantization -- adding a channel's
    bias, multiplying by its M0 > 0, rounding, clamping -- is non-decreasing, so it commutes
    with max), a quarter of the requantization work for 2x2 pooling, bit for bit the same codes.
    """

    def forward(self, x):
        layers = list(self.children().values())
        i = 0
        while i < len(layers):
            layer = layers[i]
            pool = layers[i + 1] if i + 1 < len(layers) else None
            if isinstance(layer, _IntAffine) and isinstance(pool, IntMaxPool2d):
                acc = F.max_pool2d_forward(layer.accumulate(x), pool.kernel_size, pool.stride)[0]
                x = layer.requantize(acc)
                i += 2
            else:
                x = layer.forward(x)
                i += 1
        return x

    def simulate(self, x) -> np.ndarray:
        """The float64 fake-quant simulation of the same quantization, layer by layer."""
        x = np.asarray(x, np.float64)
        for layer in self.children().values():
            x = layer.simulate(x) if hasattr(layer, "simulate") else layer.forward(x)
        return x

    @property
    def output_step(self) -> float:
        """S of the output codes: one output quantization step in logit units."""
        return list(self.children().values())[-1].qp.scale


def integer_only(model: Sequential, X_calib, *, activations: str = "int8",
                 calibration: str = "minmax") -> IntegerModel:
    """Convert a trained float Sequential (Conv2d/Linear/ReLU/MaxPool2d/Flatten children)
    into an :class:`IntegerModel`, calibrating every activation range on ``X_calib``.

    Parameters
    ----------
    model : flat Sequential, e.g. ConvNet or LeNet300_100
    X_calib : (N, ...) float calibration inputs (a few hundred training images)
    activations : "int8" (TFLite, codes [-128, 127]) or "uint8" (the paper, [0, 255])
    calibration : a :func:`calibrate` method for the activation ranges

    Notes
    -----
    A ReLU right after a Conv2d/Linear is fused into its clamp and calibrated after the
    ReLU; ranges come from the float model's activations on ``X_calib``.
    """
    check_choice(activations, "activations", ("int8", "uint8"))
    check_choice(calibration, "calibration", CALIBRATION_METHODS)
    X_calib = check_array(X_calib, "X_calib", finite=True)
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a Sequential; got {type(model).__name__}")
    signed = activations == "int8"

    def qparams(a):
        return calibrate(a, calibration, bits=8, signed=signed)

    x = np.asarray(X_calib, np.float32)
    qp = qparams(x)
    layers = {"quant": QuantizeInput(qp)}
    children = list(model.children().items())
    i = 0
    while i < len(children):
        name, child = children[i]
        if isinstance(child, (Linear, Conv2d)):
            x = child.forward(x)
            fused = i + 1 < len(children) and isinstance(children[i + 1][1], ReLU)
            if fused:
                x = np.maximum(x, 0)
                i += 1
            out_qp = qparams(x)
            cls = IntLinear if isinstance(child, Linear) else IntConv2d
            layers[name] = cls(child, qp, out_qp, relu=fused)
            qp = out_qp
        elif isinstance(child, MaxPool2d):
            layers[name] = IntMaxPool2d(child.kernel_size, child.stride)
            x = child.forward(x)
        elif isinstance(child, Flatten):
            layers[name] = Flatten()
            x = child.forward(x)
        elif isinstance(child, ReLU):
            layers[name] = IntReLU(qp)
            x = np.maximum(x, 0)
        else:
            raise TypeError(f"integer_only cannot convert child {name!r} of type {type(child).__name__}; "
                            f"supported: Conv2d, Linear, ReLU, MaxPool2d, Flatten")
        i += 1
    layers["dequant"] = Dequantize(qp)
    return IntegerModel(**layers)
