"""Shared test configuration and fixtures.

Under CI (the ``CI`` environment variable set, as ``.ci/run`` and tox pass it on)
Hypothesis runs derandomized: the same examples every run, so a landing is
reproducible. Locally it explores new random examples each run.
"""

import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def lazy():
    """``lazy(fn)`` calls ``fn()`` and fails if it started a dask compute; returns its result.

    A dask callback counts the computes started while ``fn`` runs: a helper given
    dask data must build its result lazily, computing nothing (no ``float()``,
    ``np.any`` or ``np.asarray`` on a dask array inside a rule).
    """
    pytest.importorskip("dask")
    from dask.callbacks import Callback

    class CountComputes(Callback):
        def __init__(self):
            super().__init__()
            self.count = 0

        def _start(self, dsk):
            self.count += 1

    def run(fn):
        counter = CountComputes()
        with counter:
            out = fn()
        assert counter.count == 0, f"{counter.count} dask computes inside the helper"
        return out

    return run


@pytest.fixture
def quiet_floats():
    """numpy's floating-point warnings silenced for the test (``np.errstate`` and
    RuntimeWarning): for tests at singular points, where inf and nan are expected."""
    import warnings

    import numpy as np

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


@pytest.fixture(autouse=True)
def _mpmath_precision_restored():
    """mpmath's working precision is one global: a test that sets ``mp.dps`` (for
    its truths) would change the truths of every test after it.  Each test starts
    at 50 digits and gets back the precision it started with.  (Several modules set
    ``mp.dps = 50`` at import, so a whole run had 50 digits everywhere, but a file
    run alone had mpmath's 15: test_rel_taylor_range's truths then failed 3 rules
    by 10-170 ulps.)"""
    try:
        import mpmath
    except ImportError:  # pragma: no cover - mpmath is a test dependency
        yield
        return
    dps = mpmath.mp.dps
    mpmath.mp.dps = 50
    try:
        yield
    finally:
        mpmath.mp.dps = dps

