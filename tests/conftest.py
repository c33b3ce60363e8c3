"""Shared test set-up: a deterministic Hypothesis profile, a headless matplotlib backend,
and session-wide trained baselines (trained once per test session, copied per test)."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
# One BLAS thread: on a small shared machine, OpenBLAS's thread pool oversubscribes the
# cores and can make small GEMMs tens of times slower; tests check results, not speed.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

# derandomize: the same examples on every run, so CI is reproducible; no deadline, since
# a shared 2-core machine makes per-example timing meaningless.
settings.register_profile(
    "minicompress", derandomize=True, deadline=None, max_examples=40,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("minicompress")


@pytest.fixture(scope="session")
def mnist():
    from minicompress import load_mnist5k

    return load_mnist5k()


@pytest.fixture
def trained_convnet():
    """The baseline ConvNet (10 epochs, seed 0); trained once per session, copied per test."""
    from minicompress.baselines import baseline

    return baseline("convnet")


@pytest.fixture
def trained_lenet300():
    """The baseline LeNet300_100 (15 epochs, seed 0); trained once per session, copied per test."""
    from minicompress.baselines import baseline

    return baseline("lenet300")


@pytest.fixture
def rng():
    return np.random.default_rng(0)
