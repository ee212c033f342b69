"""Third derivatives of ``x ** c`` (a constant c) through nested helpers, far from 1
(issue 12, far range).

On nested numbers (a helper inside another: Duals whose real parts are Duals, or
HyperDuals) the power rule took its general chain rule, whose partials
``c x**(c - 1)`` and ``c (c - 1) x**(c - 2)`` are formed alone before they meet
the tangents; far from 1 they leave the float range where the products do not.
d3/dv3 ``(v**2)**-0.5`` at 1e75 through hyperdual.derivative of
hyperdual.derivative of reverse.derivative was -1.2e-299, twice the truth -6e-300
(``0.75 u**-2.5`` = 1e-375 underflowed at u = 1e150), ``x**(1/3)`` of ``exp(500)``
through three hyperdual helpers three times the truth, and a third of the paths
here wrong (some by sign).  Now the chain rule on nested numbers takes relative
tangents, ``c x**c (t / x)`` (hyperdual ``_number._power_relative``, also for the
derivatives ``P_i0`` of the power that reverse's rules call), and reverse's rules
on Dual data form ``gy c a**(c - 1)`` as ``(gy a**c) c / a``.

Truth: closed forms in mpmath at 50 digits (``d3/dv3 |v|**(2c)``, ``c**3 e**(c v)``);
the tolerance is ``ULPS`` ulps (the result is a product of a few factors, and the
relative tangents add a rounding or two per level).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv

M = pytest.importorskip("mpmath")
M.mp.dps = 50

EPS = float(np.finfo(float).eps)
ULPS = 64


def _paths(f):
    return {
        "hd(hd(hd))": lambda v: hd.derivative(
            lambda a: hd.derivative(lambda b: hd.derivative(f, b), a), v),
        "hd(hd.second_derivative)": lambda v: hd.derivative(
            lambda a: hd.second_derivative(f, a), v),
        "hd.second_derivative(hd)": lambda v: hd.second_derivative(
            lambda a: hd.derivative(f, a), v),
        "hd(hd(rv))": lambda v: hd.derivative(
            lambda a: hd.derivative(lambda b: rv.derivative(f, b), a), v),
        "hd(rv.second_derivative)": lambda v: hd.derivative(
            lambda a: rv.second_derivative(f, a), v),
        "hd.second_derivative(rv)": lambda v: hd.second_derivative(
            lambda a: rv.derivative(f, a), v),
        "hd(rv(hd))": lambda v: hd.derivative(
            lambda a: rv.derivative(lambda b: hd.derivative(f, b), a), v),
        "rv(rv(rv))": lambda v: rv.derivative(
            lambda a: rv.derivative(lambda b: rv.derivative(f, b), a), v),
        "rv(rv.second_derivative)": lambda v: rv.derivative(
            lambda a: rv.second_derivative(f, a), v),
        "rv(hd(hd))": lambda v: rv.derivative(
            lambda a: hd.derivative(lambda b: hd.derivative(f, b), a), v),
        "rv.second_derivative(hd)": lambda v: rv.second_derivative(
            lambda a: hd.derivative(f, a), v),
        "rv.hessian(hd)": lambda v: rv.hessian(
            lambda a: hd.derivative(f, a[0]), np.array([v]))[0, 0],
        "hd.hessian(rv)": lambda v: hd.hessian(
            lambda a: rv.derivative(f, a[0]), np.array([v]))[0, 0],
        "hd.nth_derivative": lambda v: hd.nth_derivative(f, v, 3),
    }


def _square_power(c, v):
    C, V = M.mpf(c), M.mpf(v)
    truth = (2 * C) * (2 * C - 1) * (2 * C - 2) * abs(V) ** (2 * C - 3) * (1 if v > 0 else -1)
    return f"(v**2)**{c:.3g}", (lambda t: (t * t) ** c), truth


def _exp_power(c, v):
    C = M.mpf(c)
    return f"exp(v)**{c:.3g}", (lambda t: np.exp(t) ** c), C**3 * M.exp(C * v)


#: left (none now: hyperdual.second_derivative of reverse.derivative of
#: exp(v)**-0.333 at -650 was 0, truth -3.7e92, until a second-order hyperdual helper
#: whose f ran a nested helper was audited as any other, hyperdual.helpers)
_LEFT: set = set()


def _cases():
    for c in (-0.5, 1 / 3, -1.5, 0.7, 2.5, -3.0, 3.0, -1 / 3):
        for v in (1e75, -1e75, 1e120, 1e-75, 1e-120, 1e150, 1e-150):
            yield _square_power(c, v) + (v,)
        for v in (500.0, -500.0, 300.0, -300.0, 650.0, -650.0):
            yield _exp_power(c, v) + (v,)


def _params():
    for name, f, truth, v in _cases():
        if not M.mpf("1e-300") < abs(truth) < M.mpf("1e300"):
            continue
        for pname, path in _paths(f).items():
            marks = ([pytest.mark.xfail(strict=True, reason="left: see _LEFT")]
                     if (name, v, pname) in _LEFT else [])
            yield pytest.param(path, v, float(truth), marks=marks,
                               id=f"{name}-{v:g}-{pname}")


@pytest.mark.parametrize("path, v, truth", list(_params()))
def test_third_derivative_of_a_constant_power(path, v, truth):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = path(v)
    assert abs(got - truth) <= ULPS * EPS * abs(truth), (got, truth)


def test_issue_examples():
    f = lambda v: (v**2) ** -0.5  # noqa: E731
    got = hd.derivative(lambda a: hd.derivative(lambda b: rv.derivative(f, b), a), 1e75)
    assert abs(got - -6e-300) <= ULPS * EPS * 6e-300, got
    g = lambda c: np.exp(c) ** (1 / 3)  # noqa: E731
    got = hd.derivative(lambda a: hd.derivative(lambda b: hd.derivative(g, b), a), 500.0)
    truth = float(M.exp(M.mpf(500) / 3) / 27)
    assert abs(got - truth) <= ULPS * EPS * truth, (got, truth)
