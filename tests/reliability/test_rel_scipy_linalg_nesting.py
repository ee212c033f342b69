"""``hyperdual.linalg`` (scipy.linalg stand-ins) under reverse mode, against mpmath.

``hyperdual.linalg.expm``, ``solve_triangular``, ``cho_factor``/``cho_solve`` and
``lu_factor``/``lu_solve`` called scipy on anything that was not a hyperdual number,
so reverse mode around hyperdual code (``reverse.derivative`` of a
``hyperdual.derivative``: the Duals' parts are Variables) and reverse helpers on code
written with ``hyperdual.linalg`` raised "cannot convert a Variable to a plain numpy
array", while ``reverse.linalg`` worked on Duals (the other nestings). They now hand
another engine's value to that engine's own function (``reverse.linalg``'s).

Truth: the same programs in mpmath matrices at 50 digits, differentiated by
``mpmath.diff`` (exact to far below float64 at that precision).
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv

mpmath = pytest.importorskip("mpmath")

A0 = np.array([[0.3, 0.1], [0.2, -0.4]])
B0 = np.array([1.0, 2.0])
X = 1.1


def _np_programs(L):
    return {
        "expm": lambda x: np.sum(L.expm(A0 * x)),
        "solve_triangular": lambda x: np.sum(L.solve_triangular(
            np.triu(A0) + 2 * np.eye(2) * x, B0 * x, trans=1)),
        "cho": lambda x: np.sum(L.cho_solve(
            L.cho_factor(A0 @ A0.T + np.eye(2) * x, lower=True), B0 * x)),
        "lu": lambda x: np.sum(L.lu_solve(L.lu_factor(A0 + np.eye(2) * x), B0 * x, trans=1)),
    }


def _mp_programs():
    M = mpmath.matrix
    a, b, eye = M(A0.tolist()), M(B0.tolist()), mpmath.eye(2)
    triu = M([[A0[0, 0], A0[0, 1]], [0, A0[1, 1]]])

    def total(m):
        return sum(m[i, j] for i in range(m.rows) for j in range(m.cols))

    return {
        "expm": lambda x: total(mpmath.expm(a * x)),
        "solve_triangular": lambda x: total(mpmath.lu_solve((triu + 2 * eye * x).T, b * x)),
        "cho": lambda x: total(mpmath.lu_solve(a * a.T + eye * x, b * x)),
        "lu": lambda x: total(mpmath.lu_solve((a + eye * x).T, b * x)),
    }


@pytest.fixture(scope="module")
def truth():
    with mpmath.workdps(50):
        return {k: (float(mpmath.diff(f, X, 1)), float(mpmath.diff(f, X, 2)))
                for k, f in _mp_programs().items()}


def _close(actual, expected, what):
    # a 2 x 2 solve or expm and one or two more products: conditioning ~ 10
    np.testing.assert_allclose(actual, expected, rtol=256 * 2.2e-16, atol=0, err_msg=what)


NAMES = ["expm", "solve_triangular", "cho", "lu"]


@pytest.mark.parametrize("name", NAMES)
def test_first_order_both_function_sets_both_engines(truth, name):
    for engine in (hd, rv):
        for lib in (hd.linalg, rv.linalg):
            _close(engine.derivative(_np_programs(lib)[name], X), truth[name][0],
                   f"{engine.__name__}.derivative with {lib.__name__}")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("outer", [hd, rv], ids=["hd", "rv"])
@pytest.mark.parametrize("inner", [hd, rv], ids=["hd", "rv"])
def test_every_nesting(truth, name, outer, inner):
    f = _np_programs(hd.linalg if inner is hd else rv.linalg)[name]
    _close(outer.derivative(lambda x: inner.derivative(f, x), X), truth[name][1],
           f"{outer.__name__}({inner.__name__})")


@pytest.mark.parametrize("name", NAMES)
def test_reverse_second_order_helpers_on_hyperdual_linalg(truth, name):
    f = _np_programs(hd.linalg)[name]
    x, v = np.array([X]), np.array([1.0])

    def fz(z):
        return f(z[0])

    d2 = truth[name][1]
    _close(rv.second_derivative(f, X), d2, "second_derivative")
    _close(rv.hessian(fz, x)[0, 0], d2, "hessian")
    _close(rv.hvp(fz, x, v)[0], d2, "hvp forward-over-reverse")
    _close(rv.hvp(fz, x, v, mode="reverse-over-reverse")[0], d2, "hvp reverse-over-reverse")


def test_plain_arrays_still_scipy():
    import scipy.linalg as sl

    np.testing.assert_array_equal(hd.linalg.expm(A0), sl.expm(A0))
    c = hd.linalg.cho_factor(A0 @ A0.T + np.eye(2))
    np.testing.assert_array_equal(hd.linalg.cho_solve(c, B0),
                                  sl.cho_solve(sl.cho_factor(A0 @ A0.T + np.eye(2)), B0))


def test_hyperdual_scatter_add_on_variables():
    """``hyperdual.scatter_add(shape, index, values)`` on reverse values (it called
    np.asarray on them): closed forms."""
    x = np.array([0.7, 1.3])
    w = np.array([[1.0, 2.0], [3.0, 4.0]])

    def f(z):  # (2 z0 + 4 z1)**2: z lands at (0, 1) and (1, 1)
        return np.sum(hd.scatter_add((2, 2), (np.array([0, 1]), np.array([1, 1])), z) * w) ** 2

    s = 2 * x[0] + 4 * x[1]
    for engine in (hd, rv):
        np.testing.assert_allclose(engine.gradient(f, x), 2 * s * np.array([2.0, 4.0]),
                                   rtol=4 * 2.2e-16)
        np.testing.assert_allclose(engine.hessian(f, x), 2 * np.outer([2.0, 4.0], [2.0, 4.0]),
                                   rtol=4 * 2.2e-16)

    # d/dt d/ds sum(scatter_add((3,), [2, 2], [s t, s s])**2) at s = t = 1: (st + s^2)^2 -> 10
    def g(t, inner):
        return inner.derivative(
            lambda s: np.sum(hd.scatter_add((3,), [2, 2], np.stack([s * t, s * s])) ** 2), 1.0)

    for outer in (hd, rv):
        for inner in (hd, rv):
            assert outer.derivative(lambda t, inner=inner: g(t, inner), 1.0) == 10.0
