"""The base of every module that stores encodings: :class:`Encoded`, and its two-phase load.

Its stored state is a dict of :class:`~.encoding.Encoding` by key -- what ``save_model``
writes, what ``storage_bits()`` counts.  Loading new encodings is atomic: phase 1
(:meth:`Encoded.prepare_encodings`) checks them and builds the compute caches on a shallow
copy of the module; phase 2 (:meth:`Encoded.commit_encodings`) takes that state and cannot
fail.  ``formats.load_model`` prepares every stored layer of a model before it commits any.
"""

from __future__ import annotations

import copy

from ..nn.layers import Module
from .encoding import Encoding, decode

__all__ = ["Encoded"]


def _check_encoding(enc, name: str) -> Encoding:
    if not isinstance(enc, Encoding):
        raise TypeError(f"{name} must be a formats Encoding (formats.encode(w, fmt)); got "
                        f"{type(enc).__name__}")
    return enc


class Encoded(Module):
    """A module whose stored state is a dict of encodings, by key: what ``save_model``
    writes, what ``storage_bits()`` counts, what ``load_model`` replaces (atomically).
    Subclasses derive what they compute with in :meth:`_build`."""

    def encodings(self) -> dict[str, Encoding]:
        """What this module stores, by key (``weight``, ``bias``, ...): what save_model writes."""
        return dict(self._encodings)

    def load_encodings(self, encodings: dict) -> None:
        """Replace the stored arrays by ``encodings`` of the same keys, formats, shapes and
        part dtypes, and rebuild the compute caches.  Atomic: everything is checked and
        built on a copy first (:meth:`prepare_encodings`), so a failure changes nothing."""
        self.commit_encodings(self.prepare_encodings(encodings))

    def prepare_encodings(self, encodings: dict) -> dict:
        """Phase 1 of a load: check ``encodings`` against what this module stores (keys,
        formats, shapes, the parts and their dtypes), decode each (which checks its arrays),
        build the compute caches on a shallow copy of the module, and return that copy's
        state for :meth:`commit_encodings`.  Nothing of ``self`` changes."""
        if not isinstance(encodings, dict) or set(encodings) != set(self._encodings):
            got = sorted(encodings) if isinstance(encodings, dict) else type(encodings).__name__
            raise ValueError(f"{type(self).__name__} stores {sorted(self._encodings)}; got {got}")
        for key, enc in encodings.items():
            own = self._encodings[key]
            enc = _check_encoding(enc, f"encodings[{key!r}]")
            if enc.fmt != own.fmt:
                raise ValueError(f"{key!r} must be stored as {own.fmt!r}; got {enc.fmt!r}")
            try:
                decode(enc)  # header, parts, finiteness, index ranges
            except (ValueError, TypeError) as err:
                raise ValueError(f"{key!r}: {err}") from err
            if enc.shape != own.shape:
                raise ValueError(f"{key!r} must be {own.fmt!r} of shape {own.shape}; got shape {enc.shape}")
            dtypes = {p: a.dtype for p, a in enc.arrays.items()}
            own_dtypes = {p: a.dtype for p, a in own.arrays.items()}
            if dtypes != own_dtypes:
                raise ValueError(f"{key!r} must hold the parts {own_dtypes} (as this layer stores them); "
                                 f"got {dtypes}")
        trial = copy.copy(self)
        trial._set(dict(encodings))  # a corrupt encoding fails here, on the copy
        return trial.__dict__

    def commit_encodings(self, state: dict) -> None:
        """Phase 2 of a load: take the state :meth:`prepare_encodings` built (cannot fail)."""
        self.__dict__.update(state)

    def _set(self, encodings: dict) -> None:
        self._encodings = encodings
        self._build()

    def _build(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not define _build()")

    def storage_bits(self) -> int:
        """Exact stored bits: the sum over :meth:`encodings`, headers included."""
        return int(sum(e.bits for e in self._encodings.values()))
