"""``Sequential``: children run in order, named as ``torch.nn.Sequential`` names them, and
``replace_layers``, the one walk that swaps layers of a model for their compressed twins."""

from __future__ import annotations

import copy

import numpy as np

from .module import Module, check_module

__all__ = ["Sequential", "replace_layers"]


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

    def _replace_child(self, name: str, module: Module) -> None:
        if name not in self._modules:  # get_submodule found it: a positional or named child
            raise ValueError(f"layer name {name!r} does not exist; children are {list(self._modules)}")
        self._add(name, module)

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
