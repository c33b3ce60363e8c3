"""Optimisers that read a model's ``named_parameters()`` / ``named_gradients()`` and update
the parameters in place.  Same update rules as ``torch.optim.SGD`` and ``torch.optim.Adam``."""

from __future__ import annotations

import numpy as np

from ._checks import check_float
from .module import check_module

__all__ = ["SGD", "Adam"]


def _check_representable(value: float, name: str, model) -> None:
    """``value`` must stay a positive finite number in every parameter's dtype, because the
    update ``value * g`` is computed in that dtype: lr = 1e-50 would be 0 in float32 (no
    update, silently) and lr = 1e39 would be inf."""
    for key, p in model.named_parameters():
        if p.dtype.kind != "f" or value == 0:
            continue
        with np.errstate(over="ignore"):
            cast = p.dtype.type(value)
        if not 0 < cast < np.inf:
            info = np.finfo(p.dtype)
            raise ValueError(f"{name}={value} becomes {cast} in {p.dtype}, the dtype of "
                             f"parameter {key!r}: expected a value between "
                             f"{info.smallest_subnormal:.3g} and {info.max:.3g}")


class _Optimizer:
    def __init__(self, model, lr):
        self.model = check_module(model)
        self.lr = check_float(lr, "lr", low=0.0, low_open=True)
        _check_representable(self.lr, "lr", self.model)
        self.state: dict[str, dict[str, np.ndarray]] = {}

    def parameters(self) -> list[np.ndarray]:
        """The arrays :meth:`step` updates (in place): the model's own parameters.
        ``fit`` compares their identities with ``model.parameters()``."""
        return self.model.parameters()

    def _pairs(self):
        grads = dict(self.model.named_gradients())
        for name, p in self.model.named_parameters():
            yield name, p, grads[name]

    def zero_grad(self) -> None:
        self.model.zero_grad()


class SGD(_Optimizer):
    """Stochastic gradient descent with momentum and L2 weight decay (PyTorch's rule)::

        g <- g + weight_decay * w
        v <- momentum * v + g          (v starts at g on the first step)
        w <- w - lr * v
    """

    def __init__(self, model, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(model, lr)
        self.momentum = check_float(momentum, "momentum", low=0.0, high=1.0, high_open=True)
        self.weight_decay = check_float(weight_decay, "weight_decay", low=0.0)
        _check_representable(self.weight_decay, "weight_decay", self.model)

    def step(self) -> None:
        for name, p, g in self._pairs():
            if self.weight_decay:
                g = g + self.weight_decay * p
            if self.momentum:
                st = self.state.setdefault(name, {})
                if "v" not in st:
                    st["v"] = g.copy()
                else:
                    st["v"] *= self.momentum
                    st["v"] += g
                g = st["v"]
            p -= (self.lr * g).astype(p.dtype, copy=False)


class Adam(_Optimizer):
    """Adam (Kingma & Ba 2015), with bias correction, as ``torch.optim.Adam``::

        m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2
        w <- w - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
    """

    def __init__(self, model, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(model, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"betas must be a pair (beta1, beta2), e.g. (0.9, 0.999); got {betas!r}")
        self.b1 = check_float(betas[0], "betas[0]", low=0.0, high=1.0, high_open=True)
        self.b2 = check_float(betas[1], "betas[1]", low=0.0, high=1.0, high_open=True)
        self.eps = check_float(eps, "eps", low=0.0, low_open=True)
        _check_representable(self.eps, "eps", self.model)
        self.weight_decay = check_float(weight_decay, "weight_decay", low=0.0)
        _check_representable(self.weight_decay, "weight_decay", self.model)
        self.t = 0

    def step(self) -> None:
        self.t += 1
        c1 = 1 - self.b1**self.t
        c2 = 1 - self.b2**self.t
        for name, p, g in self._pairs():
            if self.weight_decay:
                g = g + self.weight_decay * p
            st = self.state.setdefault(name, {"m": np.zeros_like(p), "v": np.zeros_like(p)})
            st["m"] *= self.b1
            st["m"] += (1 - self.b1) * g
            st["v"] *= self.b2
            st["v"] += (1 - self.b2) * g * g
            update = self.lr * (st["m"] / c1) / (np.sqrt(st["v"] / c2) + self.eps)
            p -= update.astype(p.dtype, copy=False)
