"""hyperdual.linalg / reverse.linalg: the scipy.linalg functions numpy's dispatch
cannot reach, in both engines: values equal scipy's, first and second
derivatives against central differences (of scipy itself, and of the exact
gradient) and against the other engine."""

import numpy as np
import pytest
import scipy.linalg as sl
from _linalg_checks import central, close, reverse_third

import hyperdual as hd
import reverse as rv
from hyperdual import linalg as hl
from reverse import Variable
from reverse import linalg as rl

RNG = np.random.default_rng(7)
N = 4
_M = RNG.standard_normal((N, N))
SPD = _M @ _M.T + N * np.eye(N)
GEN = RNG.standard_normal((N, N)) + 2 * np.eye(N)
B1 = RNG.standard_normal(N)
B2 = RNG.standard_normal((N, 2))


def cases(L):
    """name -> (function of x, point x, the same function through scipy on arrays)."""
    return {
        "solve_triangular_lower": (lambda a: L.solve_triangular(a, B1, lower=True), GEN),
        "solve_triangular_upper_T": (lambda a: L.solve_triangular(a, B2, trans=1), GEN),
        "solve_triangular_unit": (lambda a: L.solve_triangular(a, B2, trans="T", lower=True,
                                                               unit_diagonal=True), GEN),
        "solve_triangular_b": (lambda b: L.solve_triangular(GEN, b, lower=True), B2),
        # the other triangle of cho_factor's result is arbitrary (scipy 1.18 leaves
        # different data there than 1.17): only the factor's own triangle is compared
        "cho_factor_upper": (lambda a: np.triu(L.cho_factor(a)[0]), SPD),
        "cho_factor_lower": (lambda a: np.tril(L.cho_factor(a, lower=True)[0]), SPD),
        "cho_solve": (lambda a: L.cho_solve(L.cho_factor(a), B1), SPD),
        "cho_solve_lower_b": (lambda b: L.cho_solve(L.cho_factor(SPD, lower=True), b), B2),
        "lu_factor": (lambda a: L.lu_factor(a)[0], GEN),
        "lu_solve": (lambda a: L.lu_solve(L.lu_factor(a), B1), GEN),
        "lu_solve_T": (lambda a: L.lu_solve(L.lu_factor(a), B2, trans=1), GEN),
        "expm": (lambda a: L.expm(0.3 * a), GEN),
        "expm_batched": (lambda a: L.expm(np.stack([0.3 * a, -0.2 * a])), GEN),
    }


NAMES = list(cases(sl))


@pytest.mark.parametrize("name", NAMES)
def test_values_are_scipy(name):
    f_sc, x = cases(sl)[name]
    for L in (hl, rl):
        f, _ = cases(L)[name]
        np.testing.assert_array_equal(f(x), f_sc(x))  # plain arrays: scipy itself
    y = cases(hl)[name][0](hd.Dual(x, np.ones_like(x)))
    close(y.real, f_sc(x), 1e-13, "Dual value")
    y = cases(rl)[name][0](Variable(x))
    close(y.data, f_sc(x), 1e-13, "Variable value")


@pytest.mark.parametrize("name", NAMES)
def test_derivatives(name):
    f_sc, x = cases(sl)[name]
    fh, fr = cases(hl)[name][0], cases(rl)[name][0]
    jac = hd.jacobian(fh, x)
    close(jac, central(f_sc, x, 1e-6), 1e-7, "hyperdual jacobian vs central differences")
    close(rv.jacobian(fr, x), jac, 1e-10, "reverse jacobian vs hyperdual")
    sh = lambda z: np.sum(np.sin(fh(z)))  # noqa: E731
    sr = lambda z: np.sum(np.sin(fr(z)))  # noqa: E731
    h = hd.hessian(sh, x)
    close(h, central(lambda z: hd.gradient(sh, z), x, 1e-6), 1e-6, "hyperdual hessian")
    v = RNG.standard_normal(x.shape)
    hv = np.tensordot(h, v, axes=x.ndim)
    close(rv.hvp(sr, x, v, mode="forward-over-reverse"), hv, 1e-9, "reverse FoR hvp")
    close(rv.hvp(sr, x, v, mode="reverse-over-reverse"), hv, 1e-9, "reverse RoR hvp")


def test_third_order_reverse_expm():
    f = lambda a: np.sum(np.sin(rl.expm(0.3 * a)))  # noqa: E731
    fh = lambda a: np.sum(np.sin(hl.expm(0.3 * a)))  # noqa: E731
    u, w = RNG.standard_normal((N, N)), RNG.standard_normal((N, N))
    third = reverse_third(f, GEN, u, w)
    ref = central(lambda z: np.sum(hd.hvp(fh, z, u) * w), GEN, 1e-5)
    close(third, ref, 1e-6, "third order")


def test_expm_closed_form():
    # d/dt expm(t A) = A expm(t A)
    a = 0.5 * GEN
    close(hd.derivative(lambda t: hl.expm(t * a), 0.7), a @ sl.expm(0.7 * a), 1e-12, "hd")
    close(rv.jacobian(lambda t: rl.expm(t * a), np.array(0.7)), a @ sl.expm(0.7 * a), 1e-12,
          "rv")


def test_scipy_itself_names_the_alternative():
    for x, mod in ((hd.Dual(GEN, 1.0), "hyperdual.linalg"), (Variable(GEN), "reverse.linalg")):
        with pytest.raises(TypeError, match=mod):
            sl.expm(x)
