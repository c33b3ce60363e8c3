"""Observers: what an activation quantizer records on calibration batches, turned into
``(scale, zero_point)`` by the one calibration function :func:`~.affine.calibrate`.

==================  ==================================================================
method              the range [lo, hi]
==================  ==================================================================
minmax              running min and max over every batch seen
moving_average      ``lo <- lo + c (min(batch) - lo)``, the same for hi: an exponential
                    moving average of the batch extremes (Jacob et al. 2018, section 3;
                    PyTorch's MovingAverageMinMaxObserver, c = 0.01); the first batch sets it
percentile, mse,    :func:`~.affine.calibrate` on a sample of the values seen (every batch
entropy             contributes an even stride of at most ``max_samples // 8`` values)
==================  ==================================================================

Every observer also keeps the running max|x| and mean|x|, from which the learned quantizers
start (:func:`~.learned.lsq_init_step`, PACT's alpha).
"""

from __future__ import annotations

import numpy as np

from ..nn._checks import check_choice, check_float, check_int, check_weights
from .affine import QParams, affine_params, calibrate

__all__ = ["OBSERVER_METHODS", "ema", "Observer"]

OBSERVER_METHODS = ("minmax", "moving_average", "percentile", "mse", "entropy")


def ema(old: float, new: float, momentum: float) -> float:
    """``old + momentum (new - old)``: one step of the exponential moving average."""
    return old + momentum * (new - old)


class Observer:
    """Records activation statistics batch by batch; :meth:`qparams` gives the range's (S, Z)."""

    def __init__(self, method: str = "minmax", *, momentum: float = 0.01, percentile: float = 99.99,
                 max_samples: int = 2**20):
        check_choice(method, "method", OBSERVER_METHODS)
        self.method = method
        self.momentum = check_float(momentum, "momentum", low=0.0, high=1.0, low_open=True)
        self.percentile = check_float(percentile, "percentile", low=50.0, high=100.0, low_open=True)
        self.max_samples = check_int(max_samples, "max_samples", low=8)
        self.reset()

    def reset(self) -> None:
        self.count, self.lo, self.hi, self.abs_max, self._abs_sum = 0, None, None, 0.0, 0.0
        self.samples: list[np.ndarray] = []

    @property
    def abs_mean(self) -> float:
        """mean|x| over every value seen."""
        return self._abs_sum / self.count if self.count else 0.0

    def observe(self, x) -> None:
        """Record one batch ``x`` (any shape, finite)."""
        x = check_weights(x, "x")
        bmin, bmax = float(x.min()), float(x.max())
        if self.lo is None:
            self.lo, self.hi = bmin, bmax
        elif self.method == "moving_average":
            self.lo, self.hi = ema(self.lo, bmin, self.momentum), ema(self.hi, bmax, self.momentum)
        else:
            self.lo, self.hi = min(self.lo, bmin), max(self.hi, bmax)
        self.count += x.size
        a = np.abs(x)
        self.abs_max, self._abs_sum = max(self.abs_max, float(a.max())), self._abs_sum + float(a.sum())
        if self.method in ("percentile", "mse", "entropy"):
            flat = x.ravel()
            per_batch = self.max_samples // 8
            self.samples.append(flat[:: -(-flat.size // per_batch)].astype(np.float64))
            while sum(s.size for s in self.samples) > self.max_samples:  # keep every other value
                self.samples = [s[::2] for s in self.samples]

    def qparams(self, *, bits: int = 8, signed: bool = False) -> QParams:
        """The (S, Z, qmin, qmax) of the range recorded so far."""
        if self.lo is None:
            raise ValueError("the observer has seen no data; run calibration batches through it first")
        if self.method in ("minmax", "moving_average"):
            return affine_params(self.lo, self.hi, bits=bits, signed=signed)
        return calibrate(np.concatenate(self.samples), self.method, bits=bits, signed=signed,
                         percentile=self.percentile)
