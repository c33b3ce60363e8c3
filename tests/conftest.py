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


# ----------------------------------------------------------------------------- tutorials
def _uses_tutorials(item) -> bool:
    """Whether a test reads a tutorial's run (tests/tutorial_runner.py's run_notebook or
    run_tutorial), by the names its module or its own code uses."""
    function = getattr(item, "function", None)
    if function is None:
        return False
    names = set(vars(item.module)) if getattr(item, "module", None) else set()
    code = function.__code__
    names |= set(code.co_names) | set(code.co_varnames)
    return bool(names & {"run_notebook", "run_tutorial"})


def pytest_collection_modifyitems(session, config, items):
    """Start the tutorials in their kernel (another process) as soon as the session is
    collected, and run the tests that read them last: the rest of the suite runs meanwhile,
    on the other core.  The order within each group is kept."""
    reading = [item for item in items if _uses_tutorials(item)]
    if not reading:
        return
    others = [item for item in items if not _uses_tutorials(item)]
    items[:] = others + reading
    from tests.tutorial_runner import TUTORIALS, submit

    for path in TUTORIALS:
        submit(path.name)


def pytest_sessionfinish(session, exitstatus):
    import sys

    runner = sys.modules.get("tests.tutorial_runner")
    if runner is not None:
        runner.cancel_pending()
