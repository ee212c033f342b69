"""``hyperdual.stats`` / ``reverse.stats``: scipy.stats' common distributions for the
engines' numbers.

``scipy.stats.norm.logpdf(x)`` of a Dual or Variable raised "cannot convert" (scipy
calls np.asarray): the statistics code people write (log-likelihoods, priors, tail
probabilities) could not be differentiated without rewriting the densities by hand
(autograd ships ``autograd.scipy.stats`` for the same reason).

Truth: each method in mpmath at 40 digits (closed-form log densities with loggamma,
the distribution functions as mpmath's regularized incomplete gamma and beta
functions, ncdf, atan ...), differentiated by ``mpmath.diff`` in ``x`` and in every
parameter the method is differentiable in.  Values: scipy.stats' own.  Tolerance:
64 ulps of the largest entry times 10 for the log densities, times 100 for the
methods through scipy.special's incomplete gamma / beta / t functions (accurate to
~1e-14 relative, not to an ulp).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as st

import hyperdual as hd
import reverse as rv
from tests._tolerance import assert_close_ulps, relative_to_largest

mp = pytest.importorskip("mpmath")


def _z(x, loc, scale):
    return (x - loc) / scale


def _t_cdf(z, df):
    w = mp.betainc(df / 2, mp.mpf(1) / 2, 0, df / (df + z * z), regularized=True) / 2
    return 1 - w if z >= 0 else w


def _laplace_cdf(z):
    return mp.exp(z) / 2 if z < 0 else 1 - mp.exp(-z) / 2


# (distribution, method, point p = [x, loc, scale, shapes...], how many leading entries
# of p are differentiated, mpmath function of the full p)
_LOGS = mp.log
CASES = [
    ("norm", "logpdf", [0.7, 0.2, 1.5], 3,
     lambda x, m, s: -_z(x, m, s) ** 2 / 2 - _LOGS(s) - _LOGS(2 * mp.pi) / 2),
    ("norm", "pdf", [0.7, 0.2, 1.5], 3, lambda x, m, s: mp.npdf(x, m, s)),
    ("norm", "cdf", [0.7, 0.2, 1.5], 3, lambda x, m, s: mp.ncdf(_z(x, m, s))),
    ("norm", "sf", [0.7, 0.2, 1.5], 3, lambda x, m, s: mp.ncdf(-_z(x, m, s))),
    ("norm", "logcdf", [-6.0, 0.2, 1.5], 3, lambda x, m, s: _LOGS(mp.ncdf(_z(x, m, s)))),
    ("norm", "logsf", [9.0, 0.2, 1.5], 3, lambda x, m, s: _LOGS(mp.ncdf(-_z(x, m, s)))),
    ("t", "logpdf", [1.3, 0.2, 1.5, 3.5], 4,
     lambda x, m, s, df: (mp.loggamma((df + 1) / 2) - mp.loggamma(df / 2)
                          - _LOGS(df * mp.pi) / 2
                          - (df + 1) / 2 * _LOGS(1 + _z(x, m, s) ** 2 / df) - _LOGS(s))),
    ("t", "cdf", [1.3, 0.2, 1.5, 3.5], 3, lambda x, m, s, df: _t_cdf(_z(x, m, s), df)),
    ("t", "sf", [-0.4, 0.2, 1.5, 3.5], 3, lambda x, m, s, df: _t_cdf(-_z(x, m, s), df)),
    ("gamma", "logpdf", [1.3, 0.1, 0.8, 2.5], 4,
     lambda x, m, s, a: (a - 1) * _LOGS(_z(x, m, s)) - _z(x, m, s) - mp.loggamma(a) - _LOGS(s)),
    ("gamma", "cdf", [1.3, 0.1, 0.8, 2.5], 4,
     lambda x, m, s, a: mp.gammainc(a, 0, _z(x, m, s), regularized=True)),
    ("gamma", "sf", [1.3, 0.1, 0.8, 2.5], 4,
     lambda x, m, s, a: mp.gammainc(a, _z(x, m, s), mp.inf, regularized=True)),
    ("chi2", "logpdf", [2.2, 0.0, 1.2, 3.0], 4,
     lambda x, m, s, df: ((df / 2 - 1) * _LOGS(_z(x, m, s)) - _z(x, m, s) / 2
                          - mp.loggamma(df / 2) - df / 2 * _LOGS(2) - _LOGS(s))),
    ("chi2", "cdf", [2.2, 0.0, 1.2, 3.0], 4,
     lambda x, m, s, df: mp.gammainc(df / 2, 0, _z(x, m, s) / 2, regularized=True)),
    ("expon", "logpdf", [1.1, 0.2, 0.7], 3, lambda x, m, s: -_z(x, m, s) - _LOGS(s)),
    ("expon", "cdf", [1.1, 0.2, 0.7], 3, lambda x, m, s: 1 - mp.exp(-_z(x, m, s))),
    ("expon", "sf", [1.1, 0.2, 0.7], 3, lambda x, m, s: mp.exp(-_z(x, m, s))),
    ("beta", "logpdf", [0.35, 0.05, 0.9, 2.5, 1.7], 5,
     lambda x, m, s, a, b: ((a - 1) * _LOGS(_z(x, m, s)) + (b - 1) * _LOGS(1 - _z(x, m, s))
                            - _LOGS(mp.beta(a, b)) - _LOGS(s))),
    ("beta", "cdf", [0.35, 0.05, 0.9, 2.5, 1.7], 3,
     lambda x, m, s, a, b: mp.betainc(a, b, 0, _z(x, m, s), regularized=True)),
    ("laplace", "logpdf", [0.9, 0.2, 1.3], 3,
     lambda x, m, s: -abs(_z(x, m, s)) - _LOGS(2) - _LOGS(s)),
    ("laplace", "cdf", [-0.9, 0.2, 1.3], 3, lambda x, m, s: _laplace_cdf(_z(x, m, s))),
    ("laplace", "sf", [0.9, 0.2, 1.3], 3, lambda x, m, s: _laplace_cdf(-_z(x, m, s))),
    ("logistic", "logpdf", [0.9, 0.2, 1.3], 3,
     lambda x, m, s: -_z(x, m, s) - 2 * _LOGS(1 + mp.exp(-_z(x, m, s))) - _LOGS(s)),
    ("logistic", "cdf", [0.9, 0.2, 1.3], 3, lambda x, m, s: 1 / (1 + mp.exp(-_z(x, m, s)))),
    ("cauchy", "logpdf", [0.9, 0.2, 1.3], 3,
     lambda x, m, s: -_LOGS(mp.pi) - _LOGS(1 + _z(x, m, s) ** 2) - _LOGS(s)),
    ("cauchy", "cdf", [0.9, 0.2, 1.3], 3,
     lambda x, m, s: mp.mpf(1) / 2 + mp.atan(_z(x, m, s)) / mp.pi),
    ("lognorm", "logpdf", [1.7, 0.1, 1.2, 0.6], 4,
     lambda x, m, s, sh: (-_LOGS(_z(x, m, s)) ** 2 / (2 * sh * sh) - _LOGS(_z(x, m, s))
                          - _LOGS(sh) - _LOGS(2 * mp.pi) / 2 - _LOGS(s))),
    ("lognorm", "cdf", [1.7, 0.1, 1.2, 0.6], 4,
     lambda x, m, s, sh: mp.ncdf(_LOGS(_z(x, m, s)) / sh)),
    # the distributions added in session 44 (each raised "cannot convert" before)
    ("uniform", "logpdf", [0.7, 0.2, 1.5], 3, lambda x, m, s: -_LOGS(s)),
    ("uniform", "cdf", [0.7, 0.2, 1.5], 3, lambda x, m, s: _z(x, m, s)),
    ("halfnorm", "logpdf", [0.9, 0.1, 1.3], 3,
     lambda x, m, s: _LOGS(2 / mp.pi) / 2 - _z(x, m, s) ** 2 / 2 - _LOGS(s)),
    ("halfnorm", "cdf", [0.9, 0.1, 1.3], 3, lambda x, m, s: mp.erf(_z(x, m, s) / mp.sqrt(2))),
    ("halfnorm", "sf", [4.0, 0.1, 1.3], 3, lambda x, m, s: mp.erfc(_z(x, m, s) / mp.sqrt(2))),
    ("rayleigh", "logpdf", [1.4, 0.1, 1.3], 3,
     lambda x, m, s: _LOGS(_z(x, m, s)) - _z(x, m, s) ** 2 / 2 - _LOGS(s)),
    ("rayleigh", "cdf", [1.4, 0.1, 1.3], 3, lambda x, m, s: 1 - mp.exp(-_z(x, m, s) ** 2 / 2)),
    ("weibull_min", "logpdf", [1.1, 0.1, 1.3, 1.7], 4,
     lambda x, m, s, c: (_LOGS(c) + (c - 1) * _LOGS(_z(x, m, s)) - _z(x, m, s) ** c
                         - _LOGS(s))),
    ("weibull_min", "cdf", [1.1, 0.1, 1.3, 1.7], 4,
     lambda x, m, s, c: 1 - mp.exp(-_z(x, m, s) ** c)),
    ("weibull_min", "sf", [1.1, 0.1, 1.3, 1.7], 4, lambda x, m, s, c: mp.exp(-_z(x, m, s) ** c)),
    ("gumbel_r", "logpdf", [0.6, 0.1, 1.3], 3,
     lambda x, m, s: -_z(x, m, s) - mp.exp(-_z(x, m, s)) - _LOGS(s)),
    ("gumbel_r", "cdf", [0.6, 0.1, 1.3], 3, lambda x, m, s: mp.exp(-mp.exp(-_z(x, m, s)))),
    ("gumbel_r", "sf", [0.6, 0.1, 1.3], 3, lambda x, m, s: 1 - mp.exp(-mp.exp(-_z(x, m, s)))),
    ("gumbel_l", "logpdf", [-0.6, 0.1, 1.3], 3,
     lambda x, m, s: _z(x, m, s) - mp.exp(_z(x, m, s)) - _LOGS(s)),
    ("gumbel_l", "cdf", [-0.6, 0.1, 1.3], 3, lambda x, m, s: 1 - mp.exp(-mp.exp(_z(x, m, s)))),
    ("invgamma", "logpdf", [0.9, 0.1, 1.3, 2.5], 4,
     lambda x, m, s, a: (-(a + 1) * _LOGS(_z(x, m, s)) - mp.loggamma(a) - 1 / _z(x, m, s)
                         - _LOGS(s))),
    ("invgamma", "cdf", [0.9, 0.1, 1.3, 2.5], 4,
     lambda x, m, s, a: mp.gammainc(a, 1 / _z(x, m, s), mp.inf, regularized=True)),
    ("pareto", "logpdf", [2.1, 0.1, 1.3, 2.5], 4,
     lambda x, m, s, b: _LOGS(b) - (b + 1) * _LOGS(_z(x, m, s)) - _LOGS(s)),
    ("pareto", "cdf", [2.1, 0.1, 1.3, 2.5], 4, lambda x, m, s, b: 1 - _z(x, m, s) ** -b),
    ("pareto", "sf", [2.1, 0.1, 1.3, 2.5], 4, lambda x, m, s, b: _z(x, m, s) ** -b),
    ("f", "logpdf", [1.3, 0.1, 1.2, 3.0, 7.0], 5,
     lambda x, m, s, a, b: (a / 2 * _LOGS(a / b) + (a / 2 - 1) * _LOGS(_z(x, m, s))
                            - (a + b) / 2 * _LOGS(1 + a * _z(x, m, s) / b)
                            - _LOGS(mp.beta(a / 2, b / 2)) - _LOGS(s))),
    ("f", "cdf", [1.3, 0.1, 1.2, 3.0, 7.0], 3,
     lambda x, m, s, a, b: mp.betainc(a / 2, b / 2, 0, a * _z(x, m, s) / (a * _z(x, m, s) + b),
                                      regularized=True)),
]
#: the methods computed through scipy.special's incomplete functions (see the docstring)
_SPECIAL = {"cdf", "sf", "logcdf", "logsf"}


def _call(lib, dist, method, p, n, point):
    """The method at p's first n entries (differentiated) and point's others."""
    args = [p[i] for i in range(n)] + list(point[n:])
    x, loc, scale, *shapes = args
    return getattr(getattr(lib.stats, dist), method)(x, *shapes, loc=loc, scale=scale)


def _truth(fm, point, n):
    with mp.workdps(40):
        pt = [mp.mpf(v) for v in point]

        def g(*v):
            return fm(*v, *pt[n:])

        at = tuple(pt[:n])
        grad = np.array([float(mp.diff(g, at, tuple(int(i == j) for j in range(n))))
                         for i in range(n)])
        hess = np.array([[float(mp.diff(g, at, tuple(int(i == k) + int(j == k)
                                                      for k in range(n))))
                          for j in range(n)] for i in range(n)])
        return float(g(*at)), grad, hess


@pytest.mark.parametrize("dist, method, point, n, fm", CASES,
                         ids=[f"{c[0]}.{c[1]}" for c in CASES])
def test_value_gradient_and_hessian_against_mpmath(dist, method, point, n, fm):
    value, grad, hess = _truth(fm, point, n)
    cond = 100.0 if method in _SPECIAL else 10.0
    p0 = np.array(point[:n])
    x, loc, scale, *shapes = point
    want_value = getattr(getattr(st, dist), method)(x, *shapes, loc=loc, scale=scale)
    assert_close_ulps(want_value, value, ulps=64, cond=cond, err_msg="scipy itself")
    for lib in (hd, rv):
        f = lambda p, lib=lib: _call(lib, dist, method, p, n, point)  # noqa: E731
        name = lib.__name__
        # the value through the engine is scipy's to a few ulps
        assert_close_ulps(lib.value_and_gradient(f, p0)[0], want_value, ulps=16, cond=cond,
                          err_msg=f"{name} value")
        assert_close_ulps(lib.gradient(f, p0), grad, ulps=64,
                          cond=cond * relative_to_largest(grad), err_msg=f"{name}.gradient")
        assert_close_ulps(lib.hessian(f, p0), hess, ulps=64,
                          cond=cond * relative_to_largest(hess), err_msg=f"{name}.hessian")
    # the other engine's numbers through the same functions, nested
    f = lambda p: _call(rv, dist, method, p, n, point)  # noqa: E731
    assert_close_ulps(hd.jacobian(lambda q: rv.gradient(f, q), p0), hess, ulps=64,
                      cond=cond * relative_to_largest(hess), err_msg="hd(rv.gradient)")


@pytest.mark.parametrize("dist, q, shapes", [("norm", 0.3, ()), ("t", 0.8, (3.5,)),
                                             ("gamma", 0.4, (2.5,)), ("chi2", 0.6, (3.0,)),
                                             ("expon", 0.3, ()), ("beta", 0.7, (2.5, 1.7)),
                                             ("logistic", 0.2, ()), ("cauchy", 0.9, ()),
                                             ("lognorm", 0.5, (0.6,)), ("uniform", 0.3, ()),
                                             ("halfnorm", 0.4, ()), ("rayleigh", 0.7, ()),
                                             ("weibull_min", 0.2, (1.7,)),
                                             ("gumbel_r", 0.6, ()), ("gumbel_l", 0.6, ()),
                                             ("invgamma", 0.4, (2.5,)),
                                             ("pareto", 0.8, (2.5,)), ("f", 0.5, (3.0, 7.0))])
def test_ppf_is_the_inverse_of_the_cdf(dist, q, shapes):
    """d ppf / dq = 1 / pdf(ppf(q)); the values are scipy's."""
    d = getattr(st, dist)
    x = d.ppf(q, *shapes, loc=0.1, scale=1.3)
    want = 1.0 / d.pdf(x, *shapes, loc=0.1, scale=1.3)
    for lib in (hd, rv):
        f = lambda v, lib=lib: getattr(lib.stats, dist).ppf(v, *shapes, loc=0.1,  # noqa: E731
                                                             scale=1.3)
        assert_close_ulps(lib.derivative(f, q), want, ulps=64, cond=100,
                          err_msg=f"{lib.__name__} {dist}.ppf")


@pytest.mark.parametrize("lib", [hd, rv], ids=["hd", "rv"])
def test_poisson_dirichlet_and_multivariate_normal(lib):
    S = lib.stats
    # d/dmu log P(k; mu) = k/mu - 1, d2 = -k/mu^2; the cdf: -P(k; mu)
    assert_close_ulps(lib.derivative(lambda m: S.poisson.logpmf(4, m), 2.5), 4 / 2.5 - 1,
                      ulps=8)
    assert_close_ulps(lib.second_derivative(lambda m: S.poisson.logpmf(4, m), 2.5),
                      -4 / 2.5 ** 2, ulps=8)
    assert_close_ulps(lib.derivative(lambda m: S.poisson.cdf(4, m), 2.5),
                      -st.poisson.pmf(4, 2.5), ulps=64, cond=100)
    # off the integers: -inf, as scipy, whatever mu
    assert lib.derivative(lambda m: S.poisson.logpmf(2.5, m), 3.0) == 0.0
    assert st.poisson.logpmf(2.5, 3.0) == -np.inf
    a = np.array([1.5, 2.0, 3.0])
    x = np.array([0.2, 0.3, 0.5])
    g = lib.gradient(lambda al: S.dirichlet.logpdf(x, al), a)
    with mp.workdps(40):
        want = np.array([float(mp.log(x[i]) - mp.digamma(a[i]) + mp.digamma(sum(a)))
                         for i in range(3)])
    assert_close_ulps(g, want, ulps=64, cond=10 * relative_to_largest(want))
    # k - 1 components: the last is 1 - their sum (scipy's form)
    assert_close_ulps(lib.value_and_gradient(lambda al: S.dirichlet.logpdf(x[:2], al), a)[0],
                      st.dirichlet.logpdf(x, a), ulps=16)
    c = np.array([[2.0, 0.5], [0.5, 1.0]])
    y = np.array([1.0, -1.0])
    ll = lib.value_and_gradient(lambda m: S.multivariate_normal.logpdf(y, m, c), np.zeros(2))
    assert_close_ulps(ll[0], st.multivariate_normal.logpdf(y, np.zeros(2), c), ulps=16)
    # (two LAPACK routes, a 2 x 2 of condition ~3: ulps that depend on the CPU's kernels)
    np.testing.assert_allclose(ll[1], np.linalg.solve(c, y), rtol=1e-13)
    # d/dC log N(y; 0, C) = M = (C^-1 y y^T C^-1 - C^-1) / 2 for symmetric C; the lower
    # triangle is read (as scipy's eigh), so its entries below the diagonal carry both
    # M_ij and M_ji, those above nothing
    gc = lib.gradient(lambda cc: S.multivariate_normal.logpdf(y, None, cc.reshape(2, 2)),
                      c.ravel()).reshape(2, 2)
    ci = np.linalg.inv(c)
    m = (ci @ np.outer(y, y) @ ci - ci) / 2
    np.testing.assert_allclose(gc, np.tril(2 * m, -1) + np.diag(np.diag(m)), rtol=1e-13,
                               atol=1e-15)


def test_support_and_invalid_parameters_follow_scipy():
    cases = [("gamma", "logpdf", -1.0, (2.0,)), ("gamma", "cdf", -1.0, (2.0,)),
             ("gamma", "sf", -1.0, (2.0,)), ("beta", "logpdf", 1.5, (2.0, 3.0)),
             ("beta", "cdf", 1.5, (2.0, 3.0)), ("expon", "pdf", -0.5, ()),
             ("norm", "logpdf", 1.0, ()), ("t", "logpdf", 1.0, (-2.0,)),
             ("uniform", "logpdf", 1.5, ()), ("uniform", "cdf", -0.5, ()),
             ("uniform", "sf", 1.5, ()), ("halfnorm", "logpdf", -0.2, ()),
             ("rayleigh", "cdf", -1.0, ()), ("weibull_min", "logpdf", -1.0, (1.5,)),
             ("weibull_min", "sf", 1.0, (-1.5,)), ("invgamma", "logpdf", 0.0, (2.0,)),
             ("invgamma", "cdf", -1.0, (2.0,)), ("invgamma", "sf", 0.0, (2.0,)),
             ("pareto", "logpdf", 0.5, (2.0,)), ("pareto", "cdf", 0.5, (2.0,)),
             ("f", "logpdf", -1.0, (3.0, 5.0)), ("f", "sf", -1.0, (3.0, 5.0)),
             ("f", "cdf", 1.0, (-3.0, 5.0))]
    for dist, method, x, shapes in cases:
        scale = -1.0 if (dist, method) == ("norm", "logpdf") else 1.0
        want = getattr(getattr(st, dist), method)(x, *shapes, scale=scale)
        for lib in (hd, rv):
            got, d = lib.value_and_gradient(lambda v, lib=lib, dist=dist, method=method,
                                            shapes=shapes, scale=scale: getattr(
                getattr(lib.stats, dist), method)(v[0], *shapes, scale=scale), np.array([x]))
            np.testing.assert_array_equal(got, want, err_msg=f"{lib.__name__} {dist}.{method}")
            if np.isnan(want):
                assert np.isnan(d[0])  # an invalid parameter: the derivative is nan too
            else:
                assert d[0] == 0.0  # outside the support: constant


def test_positional_and_keyword_forms_are_scipys():
    for lib in (hd, rv):
        f1 = lambda v, lib=lib: lib.stats.t.logpdf(v, 3.0, 0.5, 2.0)  # noqa: E731
        f2 = lambda v, lib=lib: lib.stats.t.logpdf(v, df=3.0, loc=0.5, scale=2.0)  # noqa: E731
        assert lib.derivative(f1, 1.2) == lib.derivative(f2, 1.2)
        assert lib.value_and_gradient(lambda v, f1=f1: f1(v[0]), np.array([1.2]))[0] == \
            pytest.approx(st.t.logpdf(1.2, 3.0, 0.5, 2.0), rel=1e-14)
        with pytest.raises(TypeError, match="missing the shape parameter 'df'"):
            lib.derivative(lambda v, lib=lib: lib.stats.t.logpdf(v), 1.0)


def test_shape_parameters_of_the_cdfs_are_differentiable():
    # stdtr in df (tests/breadth/test_breadth_stdtr_df.py), betainc in a, b
    # (tests/breadth/test_breadth_betainc_parameters.py): no TypeError any more
    for lib in (hd, rv):
        assert np.isfinite(lib.derivative(lambda df, lib=lib: lib.stats.t.cdf(1.0, df), 3.0))
        assert np.isfinite(lib.derivative(lambda a, lib=lib: lib.stats.beta.cdf(0.3, a, 2.0),
                                          3.0))


def test_plain_arrays_get_scipys_own_results():
    x = np.linspace(-2, 2, 5)
    for lib in (hd, rv):
        np.testing.assert_array_equal(lib.stats.norm.logcdf(x, 0.3, 2.0),
                                      st.norm.logcdf(x, 0.3, 2.0))
        np.testing.assert_array_equal(lib.stats.gamma.pdf(x, 2.0), st.gamma.pdf(x, 2.0))


@pytest.mark.parametrize("lib", [hd, rv], ids=["hd", "rv"])
def test_multivariate_normal_singular_cov_and_entropy(lib):
    S = lib.stats
    c = np.array([[1.0, 1.0], [1.0, 1.0]])  # rank 1: the line x0 = x1
    for x in (np.array([0.3, 0.3]), np.array([0.3, 0.5])):
        got = lib.value_and_gradient(
            lambda v: S.multivariate_normal.logpdf(v, None, c, allow_singular=True), x)[0]
        np.testing.assert_allclose(got, st.multivariate_normal.logpdf(x, None, c,
                                                                      allow_singular=True))
    # on the support x = (t, t): pinv(C) = C / 4, x^T pinv(C) x = t^2, log N = -(log 2 pi
    # + log 2 + t^2) / 2 (the pseudo-determinant is 2), so d/dt = -t
    d = lib.derivative(lambda t: S.multivariate_normal.logpdf(
        t * np.ones(2), None, c, allow_singular=True), 0.3)
    assert_close_ulps(d, -0.3, ulps=16)
    with pytest.raises(np.linalg.LinAlgError):
        lib.derivative(lambda t: S.multivariate_normal.logpdf(t * np.ones(2), None, c), 0.3)
    # entropy: (k (log 2 pi + 1) + log det C) / 2; d/dt at C = t C0 is k / (2 t)
    c0 = np.array([[2.0, 0.5], [0.5, 1.0]])
    h, g = lib.value_and_gradient(lambda v: S.multivariate_normal.entropy(None, c0 * v[0]),
                                  np.array([1.5]))
    assert_close_ulps(h, st.multivariate_normal.entropy(None, 1.5 * c0), ulps=16)
    assert_close_ulps(g[0], 2 / (2 * 1.5), ulps=16)
    # singular: the pseudo-determinant (one eigenvalue 2t), d/dt = 1 / (2 t)
    assert_close_ulps(lib.derivative(lambda t: S.multivariate_normal.entropy(None, c * t), 1.0),
                      0.5, ulps=16)


@pytest.mark.parametrize("d", [1, 3, 5])
def test_multigammaln_against_mpmath(d):
    """scipy.special.multigammaln (the multivariate gamma of Wishart densities) calls
    np.asarray: hyperdual.multigammaln / reverse.functions.multigammaln."""
    import reverse.functions as F

    a = 3.7
    with mp.workdps(40):
        want = [float(sum(mp.polygamma(k - 1, mp.mpf(a) - mp.mpf(j) / 2) for j in range(d)))
                for k in (1, 2, 3)]
    for f, lib in ((hd.multigammaln, hd), (F.multigammaln, rv)):
        assert_close_ulps(lib.derivative(lambda v, f=f: f(v, d), a), want[0], ulps=16, cond=4)
        assert_close_ulps(lib.second_derivative(lambda v, f=f: f(v, d), a), want[1], ulps=16,
                          cond=4)
    assert_close_ulps(hd.derivatives(lambda v: hd.multigammaln(v, d), a, 3)[1:], want,
                      ulps=16, cond=4)
    with pytest.raises(ValueError, match="a > 0.5"):
        hd.derivative(lambda v: hd.multigammaln(v, d + 8), 3.7)
    with pytest.raises(ValueError, match="positive integer"):
        rv.derivative(lambda v: F.multigammaln(v, 2.5), 3.7)


# --- binom, geom, nbinom (added in session 44; each raised "cannot convert" before) ---
def _binom_logpmf(k, n, p):
    return (mp.loggamma(n + 1) - mp.loggamma(k + 1) - mp.loggamma(n - k + 1)
            + k * mp.log(p) + (n - k) * mp.log(1 - p))


def _nbinom_logpmf(k, n, p):
    return (mp.loggamma(k + n) - mp.loggamma(k + 1) - mp.loggamma(n) + n * mp.log(p)
            + k * mp.log(1 - p))


#: (distribution, method, count k, constant leading parameters, differentiated
#: parameters, mpmath function of (k, constants..., differentiated...))
DISCRETE = [
    ("binom", "logpmf", 3, (10,), [0.35], _binom_logpmf),
    ("binom", "cdf", 3, (10,), [0.35],
     lambda k, n, p: sum(mp.exp(_binom_logpmf(j, n, p)) for j in range(int(k) + 1))),
    ("binom", "sf", 6, (10,), [0.35],
     lambda k, n, p: sum(mp.exp(_binom_logpmf(j, n, p)) for j in range(int(k) + 1, 11))),
    ("geom", "logpmf", 4, (), [0.3], lambda k, p: (k - 1) * mp.log(1 - p) + mp.log(p)),
    ("geom", "cdf", 4, (), [0.3], lambda k, p: 1 - (1 - p) ** k),
    ("geom", "logcdf", 4, (), [0.3], lambda k, p: mp.log(1 - (1 - p) ** k)),
    ("nbinom", "logpmf", 3, (), [4.5, 0.3], _nbinom_logpmf),
    ("nbinom", "pmf", 3, (), [4.5, 0.3], lambda k, n, p: mp.exp(_nbinom_logpmf(k, n, p))),
    ("nbinom", "cdf", 3, (), [4.5, 0.3],
     lambda k, n, p: mp.betainc(n, k + 1, 0, p, regularized=True)),
    ("nbinom", "sf", 3, (), [4.5, 0.3],
     lambda k, n, p: mp.betainc(n, k + 1, p, 1, regularized=True)),
]


@pytest.mark.parametrize("dist, method, k, const, point, fm", DISCRETE,
                         ids=[f"{c[0]}.{c[1]}" for c in DISCRETE])
def test_discrete_against_mpmath(dist, method, k, const, point, fm):
    """Values are scipy's; gradient and Hessian in the differentiated parameters
    against mpmath (through betainc/bdtr: scipy.special's accuracy, cond 100)."""
    n = len(point)
    value, grad, hess = _truth(lambda *v: fm(mp.mpf(k), *(mp.mpf(c) for c in const), *v),
                               point, n)
    want_value = getattr(getattr(st, dist), method)(k, *const, *point)
    assert_close_ulps(want_value, value, ulps=64, cond=100, err_msg="scipy itself")
    p0 = np.array(point, dtype=float)
    for lib in (hd, rv):
        f = lambda p, lib=lib: getattr(getattr(lib.stats, dist), method)(  # noqa: E731
            k, *const, *[p[i] for i in range(n)])
        got, g = lib.value_and_gradient(f, p0)
        assert_close_ulps(got, want_value, ulps=16, cond=100, err_msg=lib.__name__)
        assert_close_ulps(g, grad, ulps=64, cond=100 * relative_to_largest(grad))
        assert_close_ulps(lib.hessian(f, p0), hess, ulps=64,
                          cond=100 * relative_to_largest(hess))


def test_discrete_support_and_invalid_parameters_follow_scipy():
    cases = [("binom", "logpmf", k, (10, 0.3)) for k in (-1, 11, 2.5)] + [
        ("binom", "cdf", -1, (10, 0.3)), ("binom", "cdf", 12, (10, 0.3)),
        ("binom", "sf", 10, (10, 0.3)), ("binom", "logpmf", 3, (10, 1.2)),
        ("binom", "logpmf", 3, (10.5, 0.3)), ("geom", "logpmf", 0, (0.3,)),
        ("geom", "cdf", 0, (0.3,)), ("geom", "logpmf", 2, (0.0,)),
        ("nbinom", "logpmf", -1, (4.5, 0.3)), ("nbinom", "cdf", -1, (4.5, 0.3)),
        ("nbinom", "logpmf", 2, (-1.0, 0.3))]
    for dist, method, k, params in cases:
        want = getattr(getattr(st, dist), method)(k, *params)
        for lib in (hd, rv):
            got, d = lib.value_and_gradient(
                lambda p, lib=lib, dist=dist, method=method, k=k, params=params: getattr(
                    getattr(lib.stats, dist), method)(k, *params[:-1], p[0]),
                np.array([params[-1]]))
            np.testing.assert_array_equal(got, want, err_msg=f"{dist}.{method}({k}, {params})")
            assert np.isnan(d[0]) if np.isnan(want) else d[0] == 0.0
