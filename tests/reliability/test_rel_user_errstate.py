"""np.seterr / np.seterrcall called inside f stay in force after the helper returns,
as they would after a direct call of f (issue 12, leftovers).

reverse's first-order helpers run their first pass under an error state of the
library's own (every kind 'log'ged to a relay that watches the backward pass:
``_exactdiff.fprange.first_pass``), the second-order watch and its retries under
``np.errstate`` blocks (``fprange.second_order``), and a result with an inf or nan
entry is redone in long double under another (``fprange.widened``).  Each restored
the state it found when the pass ended, so a user's ``np.seterr(divide="ignore")``
inside f was undone: after ``reverse.derivative(f, 2.0)`` numpy warned again of
divisions by zero.  Now what f sets with np.seterr / np.seterrcall is applied to
the restored state; an ``np.errstate`` block of f's own changes nothing, as in numpy.
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv


class _Log:
    """A handler for both of numpy's 'call' and 'log' modes."""

    def __call__(self, kind, flag):
        pass

    def write(self, message):
        pass


LOG = _Log()

PATHS = {
    "reverse.derivative": lambda f: rv.derivative(f, 2.0),
    "reverse.derivative sqrt at 0": lambda f: rv.derivative(lambda t: np.sqrt(f(t)), 0.0),
    "reverse.gradient": lambda f: rv.gradient(lambda v: np.sum(f(v)), np.array([1.0, 2.0])),
    "reverse.value_and_gradient": lambda f: rv.value_and_gradient(lambda v: np.sum(f(v)),
                                                                  np.array([1.0, 2.0])),
    "reverse.jacobian": lambda f: rv.jacobian(f, np.array([1.0, 2.0])),
    "reverse.vjp": lambda f: rv.vjp(f, np.array([1.0]), np.array([1.0])),
    "reverse.jvp": lambda f: rv.jvp(f, np.array([1.0]), np.array([1.0])),
    "reverse.second_derivative": lambda f: rv.second_derivative(f, 2.0),
    "reverse.hessian": lambda f: rv.hessian(lambda v: np.sum(f(v)), np.array([1.0, 2.0])),
    "reverse.hvp": lambda f: rv.hvp(lambda v: np.sum(f(v)), np.array([1.0]), np.array([1.0])),
    "hyperdual.derivative": lambda f: hd.derivative(f, 2.0),
    "hyperdual.hessian": lambda f: hd.hessian(lambda v: np.sum(f(v)), np.array([1.0, 2.0])),
    "hyperdual.derivative(reverse.derivative)": lambda f: hd.derivative(
        lambda t: rv.derivative(f, t), 2.0),
    # an inf result: redone in long double (fprange.widened)
    "reverse.second_derivative beyond the range": lambda f: rv.second_derivative(
        lambda v: np.reciprocal(f(v)), 1.2e-154),
}


@pytest.fixture
def numpy_defaults():
    old, call = np.seterr(divide="warn", over="warn", under="ignore", invalid="warn"), \
        np.seterrcall(None)
    try:
        yield
    finally:
        np.seterr(**old)
        np.seterrcall(call)


@pytest.mark.parametrize("path", sorted(PATHS))
def test_seterr_inside_f_stays(path, numpy_defaults):
    def f(x):
        np.seterr(divide="ignore", over="ignore")
        return x * x

    PATHS[path](f)
    assert np.geterr() == {"divide": "ignore", "over": "ignore", "under": "ignore",
                           "invalid": "warn"}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_seterrcall_inside_f_stays(path, numpy_defaults):
    def f(x):
        np.seterrcall(LOG)
        return x * x

    PATHS[path](f)
    assert np.geterrcall() is LOG
    assert np.geterr() == {"divide": "warn", "over": "warn", "under": "ignore",
                           "invalid": "warn"}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_errstate_block_inside_f_changes_nothing(path, numpy_defaults):
    def f(x):
        with np.errstate(all="ignore"):
            return x * x

    PATHS[path](f)
    assert np.geterr() == {"divide": "warn", "over": "warn", "under": "ignore",
                           "invalid": "warn"}
    assert np.geterrcall() is None


def test_a_user_errstate_around_the_call_is_restored(numpy_defaults):
    """f's np.seterr inside the user's own np.errstate block ends with that block, as
    in numpy (the helper's passes are inside it)."""
    def f(x):
        np.seterr(divide="ignore")
        return x * x

    with np.errstate(over="ignore"):
        rv.derivative(f, 2.0)
        assert np.geterr()["divide"] == "ignore" and np.geterr()["over"] == "ignore"
    assert np.geterr()["divide"] == "warn"
