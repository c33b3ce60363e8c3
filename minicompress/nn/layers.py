"""Layers: thin classes that hold parameters and call the pure functions of functional.py.

Conventions (as PyTorch, so a state dict moves between the two by key, with no transposes):

- ``Linear.weight`` is ``(out, in)``, ``Conv2d.weight`` is ``(C_out, C_in, kh, kw)``.
- Default initialisation is PyTorch's: ``kaiming_uniform_(a=sqrt(5))``, which works out to
  ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` for the weight, and the same bound for the bias.
- ``forward(x)`` caches what ``backward(dout)`` needs; ``backward`` returns dx and
  *accumulates* into ``grads`` (call ``zero_grad()`` between steps).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import numpy as np

from . import functional as F
from ._checks import check_bool, check_float_dtype, check_int, check_module, check_parameter_value, check_rng

__all__ = ["Module", "Linear", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Sequential", "replace_layers"]


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

        The parent must be a :class:`Sequential`; ``target`` must exist (nothing is added).
        """
        old = self.get_submodule(target)  # raises for an unknown name
        if not isinstance(module, Module):
            raise TypeError(f"module must be a Module; got {type(module).__name__}")
        parent_name, _, child = target.rpartition(".")
        parent = self.get_submodule(parent_name) if parent_name else self
        if not isinstance(parent, Sequential):
            raise ValueError(f"{target!r} ({type(old).__name__}) sits in a {type(parent).__name__}, "
                             f"which has no replaceable children")
        setattr(parent, child, module)

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


class Sequential(Module):
    """Runs its children in order; backward runs them in reverse.

    Children are named: ``Sequential(conv1=Conv2d(1, 16, 3), relu=ReLU(), ...)`` gives the
    state-dict keys ``conv1.weight``, ``conv1.bias``, ...; positional children are named
    ``"0", "1", ...``.  Where its names overlap with ``torch.nn.Sequential``'s, it behaves
    the same:

    - ``model.fc`` is the child ``fc``; ``model.fc = layer`` replaces it (same place in the
      order); assigning a Module to a new name appends it as the last child, and assigning
      anything else to a child's name raises ``TypeError``;
    - ``len(model)``, ``for layer in model``, ``list(model)``: the children in order;
    - ``model[0]``, ``model[-1]``: a child by position; ``model[1:]``: a new Sequential of
      those children (the same objects, under the same names); ``model[i] = layer`` and
      ``del model[i]``; ``model.append(layer)``.

    A dotted name reaches into nested Sequentials: ``model.set_submodule("fc1.u", layer)``.
    """

    def __init__(self, *layers: Module, **named: Module):
        super().__init__()
        object.__setattr__(self, "_modules", {})
        for i, layer in enumerate(layers):
            self._add(str(i), layer)
        for name, layer in named.items():
            self._add(name, layer)

    def _add(self, name: str, layer: Module) -> None:
        if not isinstance(layer, Module):
            raise TypeError(f"child {name!r} must be a Module; got {type(layer).__name__}")
        self._modules[name] = layer

    def children(self):
        return dict(self._modules)

    # -- attribute access: children by name --------------------------------------------
    def __getattr__(self, name):
        modules = self.__dict__.get("_modules", {})
        if name in modules:
            return modules[name]
        raise AttributeError(f"{type(self).__name__} has no attribute or child {name!r}")

    def __setattr__(self, name, value):
        modules = self.__dict__.get("_modules")
        if isinstance(value, Module) and modules is not None:
            self.__dict__.pop(name, None)
            self._modules[name] = value  # replaces in place, or appends a new child
        elif modules is not None and name in modules:
            raise TypeError(f"cannot assign {type(value).__name__} to child {name!r} of "
                            f"{type(self).__name__}: a child must be a Module")
        else:
            object.__setattr__(self, name, value)

    def __delattr__(self, name):
        if name in self.__dict__.get("_modules", {}):
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    # -- container protocol: children by position --------------------------------------
    def _name_at(self, index) -> str:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            hint = f" (a child by name is model.{index} or model.get_submodule({index!r}))" \
                if isinstance(index, str) else ""
            raise TypeError(f"{type(self).__name__} indices must be integers or slices; got "
                            f"{type(index).__name__}{hint}")
        names = list(self._modules)
        if not -len(names) <= index < len(names):
            raise IndexError(f"index {index} is out of range for a Sequential of {len(names)} children")
        return names[index]

    def __getitem__(self, index):
        if isinstance(index, slice):
            items = list(self._modules.items())[index]
            return Sequential(**dict(items))
        return self._modules[self._name_at(index)]

    def __setitem__(self, index, layer: Module) -> None:
        name = self._name_at(index)
        self._add(name, layer)

    def __delitem__(self, index) -> None:
        """Remove children by position.  Positional children are renumbered "0", "1", ...
        afterwards, as PyTorch does; named children keep their names."""
        names = list(self._modules)[index] if isinstance(index, slice) else [self._name_at(index)]
        positional = all(n == str(i) for i, n in enumerate(self._modules))
        for name in names:
            del self._modules[name]
        if positional:
            object.__setattr__(self, "_modules", {str(i): m for i, m in enumerate(self._modules.values())})

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(list(self._modules.values()))

    def append(self, layer: Module) -> Sequential:
        """Add ``layer`` as the last child, named by its position ``str(len(self))``."""
        name = str(len(self._modules))
        if name in self._modules:
            raise ValueError(f"append would name the new child {name!r}, which is taken; name it "
                             f"instead: model.<name> = layer")
        self._add(name, layer)
        return self

    def forward(self, x):
        for layer in self._modules.values():
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(list(self._modules.values())):
            dout = layer.backward(dout)
        return dout

    def __repr__(self):
        lines = [f"  ({name}): {layer!r}" for name, layer in self._modules.items()]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"


def replace_layers(model: Module, types: tuple, make) -> Module:
    """A deep copy of ``model`` with every layer of ``types`` replaced by ``make(layer)``.

    Walks nested Sequentials (``make`` gets the copy's layer and may return it unchanged);
    a bare layer of ``types`` is itself replaced.  The model transforms of the techniques
    (``quantize_weights``, ``to_sparse``, ``prepare_qat``, ...) are this walk.
    """
    check_module(model)
    model = copy.deepcopy(model)
    if isinstance(model, types):
        return make(model)
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a Sequential (or a single layer of {[t.__name__ for t in types]}); "
                        f"got {type(model).__name__}")
    for name, mod in list(model.named_modules()):
        if name and isinstance(mod, types):
            model.set_submodule(name, make(mod))
    return model
