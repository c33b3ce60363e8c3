"""Speed, section 2.2: wall-clock latency, measured, because fewer MACs do not make a
dense kernel faster; reported as the median of repeats with its spread and the thread
settings."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np

from ..nn._checks import check_int, check_ndarray
from ..nn.module import check_module

__all__ = ["thread_settings", "LatencyReport", "latency"]


_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


def thread_settings() -> dict:
    """What decides the BLAS thread count, as far as can be read without threadpoolctl:
    the environment variables (``None`` = unset, then the BLAS uses every core),
    ``os.cpu_count()`` and the BLAS numpy was built with.  Not the live thread count."""
    info = {var: os.environ.get(var) for var in _THREAD_VARS}
    info["cpu_count"] = os.cpu_count()
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # older numpy: no dict mode
        info["blas"] = "unknown"
    return info


@dataclass
class LatencyReport:
    """Wall-clock seconds per forward pass over the repeats, with the thread settings."""

    times: np.ndarray
    batch: int
    threads: dict

    @property
    def median_ms(self) -> float:
        return 1e3 * float(np.median(self.times))

    @property
    def spread_ms(self) -> tuple[float, float]:
        """(25th, 75th) percentile, in milliseconds."""
        lo, hi = np.percentile(self.times, [25, 75])
        return 1e3 * float(lo), 1e3 * float(hi)


def latency(model, X, repeats: int = 10, warmup: int = 2) -> LatencyReport:
    """Time ``model(X)`` ``repeats`` times after ``warmup`` untimed runs
    (``time.perf_counter``).  Report the median: on a shared machine the mean is dragged by
    other processes; the interquartile spread says how noisy the number is."""
    check_module(model)
    repeats = check_int(repeats, "repeats", low=1)
    warmup = check_int(warmup, "warmup", low=0)
    check_ndarray(X, "X", min_ndim=1)
    if len(X) == 0:
        raise ValueError(f"X must be a non-empty batch; got shape {X.shape}")
    for _ in range(warmup):
        model(X)
    times = np.empty(repeats)
    for i in range(repeats):
        t0 = time.perf_counter()
        model(X)
        times[i] = time.perf_counter() - t0
    return LatencyReport(times, len(X), thread_settings())
