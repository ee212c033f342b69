"""A helper nested in another helper's f ends the outer call's first pass at once.

An outer first-order helper at a float64 point redoes a nested computation
through the underflow watch (_exactdiff.fprange.second_order).  Its first,
unwatched pass is armed: the first nested helper call raises NestedRestart,
the outer call goes straight to the watched pass, so the code after the
nested call runs once per call, not twice.  The results are checked against
closed forms, so a restart that lost or doubled a term fails here.
"""

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv

ENGINES = {"hd": hd, "rv": rv}
PAIRS = [(o, i) for o in ENGINES for i in ENGINES]


def _inner(y):
    return np.sum(np.sin(y) * y[0])


def _grad_inner(x):
    # d/dy_j sum_i sin(y_i) y_0 = cos(y_j) y_0 + [j = 0] sum_i sin(y_i)
    g = np.cos(x) * x[0]
    g[0] += np.sum(np.sin(x))
    return g


def _hess_inner(x):
    H = np.diag(-np.sin(x) * x[0])
    H[0, :] += np.cos(x)
    H[:, 0] += np.cos(x)
    return H


X = np.array([0.3, -1.2, 2.0])
V = np.array([0.5, 1.0, -2.0])


def _counted(inner_engine, counts):
    def f(y):
        counts["entered"] += 1
        g = inner_engine.gradient(_inner, y)
        counts["completed"] += 1
        return g
    return f


@pytest.mark.parametrize("outer,inner", PAIRS)
def test_jacobian_of_gradient_runs_f_to_the_end_once(outer, inner):
    counts = {"entered": 0, "completed": 0}
    H = ENGINES[outer].jacobian(_counted(ENGINES[inner], counts), X)
    np.testing.assert_allclose(H, _hess_inner(X), rtol=1e-13, atol=1e-15)
    assert counts["completed"] == 1
    assert counts["entered"] == 2


@pytest.mark.parametrize("outer,inner", PAIRS)
@pytest.mark.parametrize("helper", ["jvp", "vjp", "value_and_gradient", "derivative"])
def test_every_ranged_helper_restarts(outer, inner, helper):
    counts = {"entered": 0, "completed": 0}
    f = _counted(ENGINES[inner], counts)
    o = ENGINES[outer]
    H = _hess_inner(X)
    if helper == "jvp":
        value, out = o.jvp(f, X, V)
        np.testing.assert_allclose(value, _grad_inner(X), rtol=1e-13)
        np.testing.assert_allclose(out, H @ V, rtol=1e-13, atol=1e-15)
    elif helper == "vjp":
        value, out = o.vjp(f, X, V)
        np.testing.assert_allclose(value, _grad_inner(X), rtol=1e-13)
        np.testing.assert_allclose(out, V @ H, rtol=1e-13, atol=1e-15)
    elif helper == "value_and_gradient":
        value, out = o.value_and_gradient(lambda y: np.sum(f(y)), X)
        np.testing.assert_allclose(value, np.sum(_grad_inner(X)), rtol=1e-13)
        np.testing.assert_allclose(out, H.sum(axis=0), rtol=1e-13, atol=1e-15)
    else:
        # d/dt of g(t) = d/ds [t s sin(s)] at s = 2 = t (sin 2 + 2 cos 2): derivative t-free part
        def scalar_f(t):
            counts["entered"] += 1
            d = ENGINES[inner].derivative(lambda s: t * s * np.sin(s), 2.0)
            counts["completed"] += 1
            return d * t
        out = o.derivative(scalar_f, 0.7)
        np.testing.assert_allclose(out, 2 * 0.7 * (np.sin(2.0) + 2 * np.cos(2.0)), rtol=1e-13)
    assert counts["completed"] == 1


@pytest.mark.parametrize("outer,inner", PAIRS)
def test_users_except_exception_does_not_swallow_the_restart(outer, inner):
    def f(y):
        try:
            return ENGINES[inner].gradient(_inner, y)
        except Exception:  # the user's own handler: must not see the restart
            return y * 0.0
    H = ENGINES[outer].jacobian(f, X)
    np.testing.assert_allclose(H, _hess_inner(X), rtol=1e-13, atol=1e-15)


def test_huge_arguments_still_kept_in_range_after_a_restart():
    # d2/dx2 log10(x**2) = -2 / (x**2 ln 10): -8.69e-301 at 1e150 (the watched pass's job)
    x = np.array([1e150, -2e150])
    truth = -2.0 / (x ** 2 * np.log(10.0))
    f = lambda x: np.sum(np.log10(x ** 2))  # noqa: E731
    for o, i in PAIRS:
        H = ENGINES[o].jacobian(lambda y, i=i: ENGINES[i].gradient(f, y), x)
        np.testing.assert_allclose(np.diag(H), truth, rtol=1e-14)
