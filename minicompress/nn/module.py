"""The base class of every layer and model: parameters, gradients, children, state dicts.

``Module`` holds ``params: dict[str, ndarray]`` and ``grads: dict[str, ndarray]``;
``forward(x)`` caches what ``backward(dout)`` needs, and ``backward`` returns dx and
*accumulates* into ``grads`` (call ``zero_grad()`` between steps).  Children are reached by
dotted names (``named_modules``, ``get_submodule``, ``set_submodule``, as in PyTorch).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._checks import _describe, check_float_dtype, check_parameter_value

__all__ = ["Module", "check_module"]


class Module:
    """Base class: a dict of parameters, a dict of their gradients, and named children."""

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    # -- the two methods a layer writes ------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not define backward()")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    # -- tree of modules ---------------------------------------------------------------
    def children(self) -> dict[str, Module]:
        """Direct sub-modules by name (none for a leaf layer)."""
        return {}

    def named_modules(self, prefix: str = ""):
        """Yield ``(dotted_name, module)`` for this module and every descendant."""
        yield prefix, self
        for name, child in self.children().items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def get_submodule(self, target: str) -> Module:
        """The descendant called ``target`` (dotted), e.g. ``model.get_submodule("fc")``."""
        modules = dict(self.named_modules())
        if not isinstance(target, str) or target not in modules or target == "":
            known = [n for n in modules if n]
            raise ValueError(f"layer name {target!r} does not exist; the model has {known}")
        return modules[target]

    def set_submodule(self, target: str, module: Module) -> None:
        """Put ``module`` where the descendant ``target`` (dotted) is, as PyTorch's
        ``Module.set_submodule``: ``model.set_submodule("fc1", factorize_linear(model.fc1, 54))``.

        The parent must be a container (a :class:`~minicompress.nn.Sequential`); ``target``
        must exist (nothing is added).
        """
        self.get_submodule(target)  # raises for an unknown name
        if not isinstance(module, Module):
            raise TypeError(f"module must be a Module; got {type(module).__name__}")
        parent_name, _, child = target.rpartition(".")
        parent = self.get_submodule(parent_name) if parent_name else self
        parent._replace_child(child, module)

    def _replace_child(self, name: str, module: Module) -> None:
        """Containers put ``module`` in the place of their child ``name``; a leaf has none."""
        raise ValueError(f"{type(self).__name__} has no replaceable children; {name!r} cannot be set")

    # -- parameters --------------------------------------------------------------------
    def named_parameters(self, prefix: str = ""):
        """Yield ``(dotted_name, array)``; arrays are the live parameters (edit in place)."""
        for mod_name, mod in self.named_modules(prefix):
            for key, value in mod.params.items():
                yield (f"{mod_name}.{key}" if mod_name else key), value

    def named_gradients(self, prefix: str = ""):
        """Yield ``(dotted_name, gradient)`` in the same order as :meth:`named_parameters`."""
        for mod_name, mod in self.named_modules(prefix):
            for key, value in mod.grads.items():
                yield (f"{mod_name}.{key}" if mod_name else key), value

    def parameters(self) -> list[np.ndarray]:
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        return int(sum(p.size for p in self.parameters()))

    def zero_grad(self) -> None:
        """Set every gradient to zero, in place."""
        for _, g in self.named_gradients():
            g[...] = 0

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter by dotted name (``conv1.weight``, ``fc.bias``, ...)."""
        return {name: p.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state) -> None:
        """Copy ``state`` into the parameters in place: all of them, or none.

        Everything is checked before anything is written, so a refused state dict leaves
        the model exactly as it was:

        ``state`` is a mapping with exactly the model's keys (a missing or an extra key is a
        ``ValueError`` naming it); every value is a real floating array of the parameter's
        shape, finite as given and once cast to the parameter's dtype
        (:func:`~minicompress.nn._checks.check_parameter_value`).
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"state must be a dict name -> array (from state_dict()); got "
                            f"{type(state).__name__}")
        own = dict(self.named_parameters())
        missing = sorted(set(own) - set(state))
        extra = sorted((k for k in state if k not in own), key=repr)
        if missing:
            raise ValueError(f"state dict is missing key(s) {missing}")
        if extra:
            raise ValueError(f"state dict has unexpected key(s) {extra}; expected {sorted(own)}")
        staged = {name: check_parameter_value(state[name], name, p) for name, p in own.items()}
        for name, p in own.items():  # nothing below can fail: shapes and dtypes match
            p[...] = staged[name]

    def to(self, dtype) -> Module:
        """Cast every parameter and gradient to the floating ``dtype`` (e.g. np.float64 for
        gradcheck).  An integer dtype (which would truncate every weight) is a TypeError, a
        finite parameter beyond the new dtype's range (inf once cast) a ValueError, and then
        nothing is cast."""
        dtype = check_float_dtype(dtype)
        cast = {}
        for name, mod in self.named_modules():
            for which, d in (("params", mod.params), ("grads", mod.grads)):
                for k, v in d.items():
                    key = f"{name}.{k}" if name else k
                    with np.errstate(over="ignore"):
                        cast[id(d), k] = c = v.astype(dtype)
                    if which == "params" and not np.array_equal(np.isfinite(c), np.isfinite(v)):
                        raise ValueError(f"parameter {key!r} holds values beyond the {dtype} range "
                                         f"(+-{np.finfo(dtype).max:.3g}); it cannot be cast to {dtype}")
        for _, mod in self.named_modules():
            for d in (mod.params, mod.grads):
                for k in d:
                    d[k] = cast[id(d), k]
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def extra_repr(self) -> str:
        return ""


def check_module(value, name: str = "model"):
    """A :class:`~minicompress.nn.Module` (a layer or a model), else ``TypeError``."""
    if not isinstance(value, Module):
        raise TypeError(
            f"{name} must be a minicompress Module (a layer or a model such as nn.Sequential(...)); "
            f"got {_describe(value)}"
        )
    return value
