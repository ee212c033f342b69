"""A 0-d input with axis=0 or axis=-1, as numpy takes it (issue 12, leftovers).

numpy's reductions and a few other functions take an integer axis 0 or -1 of a
0-d array as every axis (a legacy rule: ``np.sum(np.array(3.0), axis=0)`` is 3.0,
``np.cumprod(np.array(3.0), axis=-1)`` is ``array([3.])``), while ``np.var``,
``np.mean``, ``np.median``, ``np.sort`` ... and a tuple axis ``(0,)`` raise
``AxisError``.  The engines raised AxisError (or IndexError, or ZeroDivisionError in
reverse's ``squeeze``) for np.sum, np.prod, np.cumprod, np.nanvar, np.max ... of a
0-d Dual, HyperDual, Taylor number or Variable.  Now each function takes what numpy
takes: the value is numpy's, the derivatives are those of ``u = x**2`` (or 0 for
the spread ``nanvar``, ``nanstd``, ``ptp``), in both engines and Taylor mode; and
what numpy refuses, the engines refuse.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special

import hyperdual as hd
import reverse as rv
from hyperdual.taylor_helpers import derivatives as taylor_derivatives

X = 1.5

SPREAD = {"nanvar", "nanstd", "ptp"}


def _by_axis(fn):
    return lambda a, ax: fn(a, axis=ax)


CALLS = {
    name: _by_axis(getattr(np, name))
    for name in ("sum", "prod", "max", "min", "amax", "amin", "cumsum", "cumprod", "nansum",
                 "nanprod", "nanmax", "nanmin", "nanmean", "nanvar", "nanstd", "nancumsum",
                 "nancumprod", "ptp", "squeeze")
}
CALLS.update({
    "take": lambda a, ax: np.take(a, 0, axis=ax),
    "sum positional": lambda a, ax: np.sum(a, ax),
    "prod positional": lambda a, ax: np.prod(a, ax),
    "cumprod positional": lambda a, ax: np.cumprod(a, ax),
    "sum keepdims": lambda a, ax: np.sum(a, axis=ax, keepdims=True),
    "max initial": lambda a, ax: np.max(a, axis=ax, initial=-1.0),
    "add.reduce": lambda a, ax: np.add.reduce(a, axis=ax),
    "multiply.reduce": lambda a, ax: np.multiply.reduce(a, axis=ax),
    "maximum.reduce": lambda a, ax: np.maximum.reduce(a, axis=ax),
    "a.sum": lambda a, ax: a.sum(axis=ax),
    "a.prod": lambda a, ax: a.prod(axis=ax),
    "a.max": lambda a, ax: a.max(axis=ax),
    "a.min": lambda a, ax: a.min(axis=ax),
    "a.cumsum": lambda a, ax: a.cumsum(axis=ax),
    "a.cumprod": lambda a, ax: a.cumprod(axis=ax),
    "a.squeeze": lambda a, ax: a.squeeze(axis=ax),
})

PATHS = {
    "hyperdual.derivative": lambda f: hd.derivative(f, X),
    "reverse.derivative": lambda f: rv.derivative(f, X),
    "hyperdual.second_derivative": lambda f: hd.second_derivative(f, X),
    "reverse.second_derivative": lambda f: rv.second_derivative(f, X),
    "taylor": lambda f: taylor_derivatives(f, X, 2),
}


def _truth(name, call, ax, order):
    """numpy's value at u = X**2, and d/dx, d2/dx2 of it (closed forms)."""
    u = X * X
    value = call(np.array(u), ax)
    if name in SPREAD:
        return value, np.zeros(np.shape(value)), np.zeros(np.shape(value))
    return value, np.full(np.shape(value), 2 * X), np.full(np.shape(value), 2.0)


@pytest.mark.parametrize("ax", [0, -1])
@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("name", sorted(CALLS))
def test_zero_d_axis_as_numpy(name, path, ax):
    call = CALLS[name]
    value, d1, d2 = _truth(name, call, ax, 2)
    got = PATHS[path](lambda x: call(x * x, ax))
    if path == "taylor":  # (f, f', f'') of the series
        for k, want in enumerate((value, d1, d2)):
            np.testing.assert_array_equal(np.asarray(got)[k], want)
        return
    want = d2 if "second" in path else d1
    assert np.shape(got) == np.shape(value), f"{name}: shape {np.shape(got)}"
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("ax", [0, -1])
def test_logsumexp_zero_d_axis_as_scipy(ax):
    """hyperdual.logsumexp has scipy's signature: scipy takes axis 0/-1 of a 0-d input."""
    assert scipy.special.logsumexp(np.array(X * X), axis=ax) == X * X
    assert hd.derivative(lambda x: hd.logsumexp(x * x, axis=ax), X) == 2 * X
    assert rv.derivative(lambda x: hd.logsumexp(x * x, axis=ax), X) == 2 * X


REFUSED = {
    "var": lambda a: np.var(a, axis=0),
    "mean": lambda a: np.mean(a, axis=-1),
    "std": lambda a: np.std(a, axis=0),
    "sum (0,)": lambda a: np.sum(a, axis=(0,)),
    "max (0,)": lambda a: np.max(a, axis=(0,)),
    "nanvar (0,)": lambda a: np.nanvar(a, axis=(0,)),
    "sum axis 1": lambda a: np.sum(a, axis=1),
    "cumsum axis 1": lambda a: np.cumsum(a, axis=1),
}


@pytest.mark.parametrize("path", ["hyperdual.derivative", "reverse.derivative", "taylor"])
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_numpy_refuses_is_refused(name, path):
    call = REFUSED[name]
    with pytest.raises(np.exceptions.AxisError if hasattr(np, "exceptions") else
                       np.AxisError):
        call(np.array(X))
    with pytest.raises(np.exceptions.AxisError if hasattr(np, "exceptions") else
                       np.AxisError):
        PATHS[path](lambda x: call(x * x))
