"""What test_rev_release and test_rev_sweep share: the functions both run through
the helpers with and without freeing intermediates, their random points, and the
check that threads get the serial results bit for bit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np


def rosen(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


#: the functions both files run (each adds its own)
COMMON_FUNCTIONS = {
    "rosenbrock": rosen,
    "sin_exp": lambda x: np.sum(np.sin(x) * np.exp(0.1 * x)),
    "logsumexp": lambda x: np.log(np.sum(np.exp(x - 1.0))),
    "rational": lambda x: np.sum(x / (1 + x ** 2)),
}


def point(n, seed=0):
    """n uniform numbers in [-1, 1.5) from a seeded generator."""
    return np.random.default_rng(seed).uniform(-1.0, 1.5, n)


def assert_threads_match_serial(work, xs, workers, repeats):
    """``work(x)`` (a tuple of arrays) for each x of xs, run serially and then
    ``repeats`` times over in a pool of ``workers`` threads: the same bits.
    Returns the serial results."""
    serial = [work(x) for x in xs]
    with ThreadPoolExecutor(workers) as pool:
        threaded = list(pool.map(work, xs * repeats))
    for got, want in zip(threaded, serial * repeats):
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
    return serial
