"""Layers: thin classes that hold parameters and call the pure functions of functional.py.

``Module`` (:mod:`.module`) and ``Sequential`` (:mod:`.sequential`) are importable from here
too, as ``minicompress.nn.layers`` has always offered them.

Conventions (as PyTorch, so a state dict moves between the two by key, with no transposes):

- ``Linear.weight`` is ``(out, in)``, ``Conv2d.weight`` is ``(C_out, C_in, kh, kw)``.
- Default initialisation is PyTorch's: ``kaiming_uniform_(a=sqrt(5))``, which works out to
  ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` for the weight, and the same bound for the bias.
- ``forward(x)`` caches what ``backward(dout)`` needs; ``backward`` returns dx and
  *accumulates* into ``grads`` (call ``zero_grad()`` between steps).
"""

from __future__ import annotations

import numpy as np

from . import functional as F
from ._checks import check_bool, check_float_dtype, check_int, check_rng
from .module import Module
from .sequential import Sequential, replace_layers

__all__ = ["Module", "Linear", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Sequential", "replace_layers"]


def _init_uniform(rng: np.random.Generator, shape, fan_in: int, dtype) -> np.ndarray:
    """PyTorch's default: kaiming_uniform_(a=sqrt(5)) == U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def _check_input(x, name: str, ndim: int, axis: int, size: int, layer: str) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{layer}: input must be a numpy array; got {type(x).__name__}")
    if x.ndim != ndim:
        hint = ""
        if ndim == 2 and x.ndim > 2:
            hint = "; flatten it first (a Flatten() layer, or x.reshape(len(x), -1))"
        elif ndim == 4 and x.ndim == 3:
            hint = "; add the batch dimension (x[None]) or the channel one (x[:, None])"
        raise ValueError(
            f"{layer}: input must be {ndim}-D {name}; got shape {x.shape} ({x.ndim}-D){hint}"
        )
    if x.shape[axis] != size:
        raise ValueError(
            f"{layer}: input has {x.shape[axis]} {'features' if ndim == 2 else 'channels'} "
            f"(shape {x.shape}) but the layer expects {size}"
        )
    return x


class Linear(Module):
    """y = x W^T + b with W: (out_features, in_features); x: (N, in) -> y: (N, out)."""

    def __init__(self, in_features, out_features, bias=True, *, rng=0, dtype=np.float32):
        super().__init__()
        self.in_features = check_int(in_features, "in_features", low=1)
        self.out_features = check_int(out_features, "out_features", low=1)
        bias = check_bool(bias, "bias")
        dtype = check_float_dtype(dtype)
        rng = check_rng(rng)
        shape = (self.out_features, self.in_features)
        self.params["weight"] = _init_uniform(rng, shape, self.in_features, dtype)
        if bias:
            self.params["bias"] = _init_uniform(rng, (self.out_features,), self.in_features, dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._cache = None

    def forward(self, x):
        _check_input(x, "(N, in_features)", 2, 1, self.in_features, repr(self))
        out, self._cache = F.linear_forward(x, self.params["weight"], self.params.get("bias"))
        return out

    def backward(self, dout):
        dx, dw, db = F.linear_backward(dout, self._cache)
        self.grads["weight"] += dw
        if db is not None:
            self.grads["bias"] += db
        return dx

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}, bias={'bias' in self.params}"


class Conv2d(Module):
    """2-D convolution; weight (C_out, C_in, kh, kw); x: (N, C_in, H, W) -> (N, C_out, H', W').

    ``input_grad=False`` (or setting the attribute later) makes ``backward`` skip dx and
    return None: for a network's first layer, whose input is data, that saves the col2im
    (see :func:`~minicompress.nn.functional.conv2d_backward`).  Parameter gradients are
    unchanged; a model's ``backward`` then returns None instead of d(input).
    """

    def __init__(
        self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, *,
        rng=0, dtype=np.float32, input_grad: bool = True,
    ):
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels", low=1)
        self.out_channels = check_int(out_channels, "out_channels", low=1)
        ks = tuple(kernel_size) if isinstance(kernel_size, (tuple, list)) else (kernel_size, kernel_size)
        if len(ks) != 2:
            raise ValueError(f"kernel_size must be an int or a pair (kh, kw); got {kernel_size!r}")
        self.kernel_size = tuple(check_int(k, "kernel_size", low=1) for k in ks)
        self.stride = check_int(stride, "stride", low=1)
        self.padding = check_int(padding, "padding", low=0)
        bias = check_bool(bias, "bias")
        dtype = check_float_dtype(dtype)
        self.input_grad = check_bool(input_grad, "input_grad")
        rng = check_rng(rng)
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        self.params["weight"] = _init_uniform(rng, shape, fan_in, dtype)
        if bias:
            self.params["bias"] = _init_uniform(rng, (self.out_channels,), fan_in, dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._cache = None

    def forward(self, x):
        _check_input(x, "(N, C, H, W)", 4, 1, self.in_channels, repr(self))
        out, self._cache = F.conv2d_forward(
            x, self.params["weight"], self.params.get("bias"), self.stride, self.padding
        )
        return out

    def backward(self, dout):
        dx, dw, db = F.conv2d_backward(dout, self._cache, need_dx=self.input_grad)
        self.grads["weight"] += dw
        if db is not None:
            self.grads["bias"] += db
        return dx

    def extra_repr(self):
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}"
        )


class ReLU(Module):
    """y = max(x, 0); the gradient at exactly 0 is taken as 0."""

    def forward(self, x):
        out, self._mask = F.relu_forward(x)
        return out

    def backward(self, dout):
        return F.relu_backward(dout, self._mask)


class MaxPool2d(Module):
    """k x k max pooling with stride (default: stride = kernel_size), no padding."""

    def __init__(self, kernel_size=2, stride=None):
        super().__init__()
        self.kernel_size = check_int(kernel_size, "kernel_size", low=1)
        self.stride = self.kernel_size if stride is None else check_int(stride, "stride", low=1)

    def forward(self, x):
        if not isinstance(x, np.ndarray):
            raise TypeError(f"{self!r}: input must be a numpy array; got {type(x).__name__}")
        if x.ndim != 4:
            raise ValueError(f"{self!r}: input must be 4-D (N, C, H, W); got shape {x.shape} ({x.ndim}-D)")
        out, self._cache = F.max_pool2d_forward(x, self.kernel_size, self.stride)
        return out

    def backward(self, dout):
        return F.max_pool2d_backward(dout, self._cache)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class Flatten(Module):
    """(N, d1, d2, ...) -> (N, d1*d2*...): the source text's ``x.view(-1, 16*13*13)``."""

    def forward(self, x):
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        return dout.reshape(self._shape)
