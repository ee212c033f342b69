"""scipy.special functions added after the closed-form batch: Struve ``struve`` and
``modstruve`` (in x), the Jacobi elliptic functions ``ellipj`` (in u), the incomplete
elliptic integrals ``ellipkinc``/``ellipeinc`` (in phi), ``agm``, ``binom`` and ``powm1``
(in both arguments); and ``rgamma`` at its zeros 0, -1, -2 ..., where the
textbook derivative -psi(x)/Gamma(x) is 0 * nan but the truth is (-1)^n n!.

Truth: mpmath at 40 digits (``mp.struveh``/``mp.struvel`` from their own series and
asymptotics, ``mp.ellipfun``, ``mp.ellipf``/``mp.ellipe``, ``mp.agm``, ``mp.binomial``,
``mp.rgamma``), derivatives by ``mp.diff``.  Each derivative of ours is a short chain
of scipy evaluations, good to a few ulps where scipy is (the points are chosen there:
scipy's modstruve is only good to ~2e-13 at x = 15), so orders 1-3 are checked at
1e-13 / 1e-12 relative, as in
test_breadth_special_closed_forms.py.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import scipy.special as sp
from test_breadth_special_closed_forms import _check_orders

import hyperdual as hd
import reverse as rv
from hyperdual.rules.special import LIBRARY_RULES
from tests._tolerance import assert_close_ulps

_EPS = float(np.finfo(float).eps)


def _struve_cases():
    cases = {}
    # small x (the power series, where H_(v-1) - (v/x) H_v cancelled for v - k a
    # negative integer: H_0'' at 1e-8 was 17 times the truth), both sides of 2 (where
    # the closed forms take over) and far
    small = [1e-8, 1e-3, 0.3, 1.9]
    far = [2.1, 6.0, 20.0]
    for v in (0.0, 1.0, 0.5, 2.0, -0.5, -1.0, 3.5):
        cases[f"struve({v})"] = (lambda x, v=v: sp.struve(v, x),
                                 lambda x, v=v: mp.struveh(v, x), small + far)
        cases[f"modstruve({v})"] = (lambda x, v=v: sp.modstruve(v, x),
                                    lambda x, v=v: mp.struvel(v, x), small + far[:2])
    return cases


CASES = _struve_cases()
for _k, _name in enumerate(("sn", "cn", "dn")):
    for _m in (0.3, 0.9):
        CASES[f"ellipj[{_name}](m={_m})"] = (
            lambda u, k=_k, m=_m: sp.ellipj(u, m)[k],
            lambda u, name=_name, m=_m: mp.ellipfun(name, u, m=m), [-1.2, 0.2, 1.5, 4.0])
CASES["ellipj[ph]"] = (lambda u: sp.ellipj(u, 0.6)[3],
                       lambda u: mp.asin(mp.ellipfun("sn", u, m=0.6)), [-0.9, 0.2, 1.1])
for _m in (0.3, 0.9, -2.0):
    CASES[f"ellipkinc(phi, {_m})"] = (lambda phi, m=_m: sp.ellipkinc(phi, m),
                                      lambda phi, m=_m: mp.ellipf(phi, m), [-0.7, 0.4, 1.5, 10.0])
    CASES[f"ellipeinc(phi, {_m})"] = (lambda phi, m=_m: sp.ellipeinc(phi, m),
                                      lambda phi, m=_m: mp.ellipe(phi, m), [-0.7, 0.4, 1.5, 10.0])
CASES["agm(a, 1.5)"] = (lambda a: sp.agm(a, 1.5), lambda a: mp.agm(a, 1.5),
                        [1e-3, 0.2, 1.5, 7.0, 1e4])
CASES["agm(-2, b)"] = (lambda b: sp.agm(-2.0, b), lambda b: -mp.agm(2, -b), [-9.0, -2.0, -0.01])
CASES["binom(n, 2.5)"] = (lambda n: sp.binom(n, 2.5), lambda n: mp.binomial(n, 2.5),
                          [-0.7, 3.3, 7.0, 40.5])
CASES["binom(6.5, k)"] = (lambda k: sp.binom(6.5, k), lambda k: mp.binomial(6.5, k),
                          [-0.4, 0.3, 2.0, 5.5])
CASES["rgamma"] = (sp.rgamma, mp.rgamma,
                   [-7.0, -3.0, -2.5, -1.0, -1e-9, 0.0, 1e-9, 0.5, 1.0, 3.0, 7.5])
if hasattr(sp, "powm1"):  # scipy >= 1.10
    CASES["powm1(x, 2.5)"] = (lambda x: sp.powm1(x, 2.5), lambda x: x ** 2.5 - 1,
                              [0.3, 1.0, 4.0])
    CASES["powm1(1.7, y)"] = (lambda y: sp.powm1(1.7, y), lambda y: mp.mpf(1.7) ** y - 1,
                              [-2.0, 1e-9, 3.0])


@pytest.mark.parametrize("name", CASES)
def test_derivatives_against_mpmath(name):
    f, g, points = CASES[name]
    _check_orders(name, f, g, points, 1e-12)


def hessian_paths(fv, x, every=False):
    """The Hessian of ``fv`` at ``x`` by both engines' ``hessian`` and both mixed
    nestings ``jacobian(gradient)``; with ``every``, also double backprop (rows of
    ``rv.hvp`` reverse-over-reverse) and each engine nested in itself."""
    paths = [hd.hessian(fv, x), rv.hessian(fv, x),
             hd.jacobian(lambda y: rv.gradient(fv, y), x),
             rv.jacobian(lambda y: hd.gradient(fv, y), x)]
    if every:
        paths += [np.stack([rv.hvp(fv, x, e, mode="reverse-over-reverse")
                            for e in np.eye(np.size(x))]),
                  hd.jacobian(lambda y: hd.gradient(fv, y), x),
                  rv.jacobian(lambda y: rv.gradient(fv, y), x)]
    return paths


def _hessian(g, p):
    def order(i, j):
        n = [0, 0]
        n[i] += 1
        n[j] += 1
        return tuple(n)
    return np.array([[float(mp.diff(g, tuple(map(mp.mpf, p)), order(i, j)))
                      for j in range(2)] for i in range(2)])


TWO = {
    # (mpmath's agm of two negative numbers is complex; scipy's is -agm(-a, -b))
    "agm": (sp.agm, lambda a, b: mp.agm(a, b) if a > 0 else -mp.agm(-a, -b),
            [(0.7, 2.3), (2.3, 0.7), (1.3, 1.3), (-0.5, -4.0)]),
    "binom": (sp.binom, mp.binomial, [(6.5, 2.2), (10.0, 3.0), (-2.5, 1.5)]),
}
if hasattr(sp, "powm1"):
    TWO["powm1"] = (sp.powm1, lambda x, y: x ** y - 1, [(1.7, 0.4), (0.2, -1.5), (3.0, 1e-9)])


@pytest.mark.parametrize("name", TWO)
def test_hessian_in_both_arguments(name):
    # every engine and both mixed nestings against mpmath's mixed partials
    f, g, points = TWO[name]
    fv = lambda v: f(v[0], v[1])  # noqa: E731
    for p in points:
        want = _hessian(g, p)
        x = np.array(p)
        for got in hessian_paths(fv, x):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13 * np.abs(want).max(),
                                       err_msg=f"{name} at {p}")


def test_agm_symmetric_partials_at_equal_arguments():
    # agm(a, a) = a: both partials 1/2 (the two orders of the formula meet there)
    for eng in (hd, rv):
        np.testing.assert_allclose(eng.gradient(lambda v: sp.agm(v[0], v[1]),
                                                np.array([2.5, 2.5])), [0.5, 0.5],
                                   rtol=4 * _EPS)


def test_binom_where_it_is_zero():
    # binom(3, k) = Gamma(4) rgamma(k + 1) rgamma(4 - k) is 0 at k = 5, with the slopes of
    # rgamma at its zero -1: d/dn = -1/20, d/dk = +1/20 (y (psi - psi) was 0 * nan)
    f = lambda v: sp.binom(v[0], v[1])  # noqa: E731
    g = lambda n, k: mp.gamma(n + 1) * mp.rgamma(k + 1) * mp.rgamma(n - k + 1)  # noqa: E731
    x = np.array([3.0, 5.0])
    want = [float(mp.diff(g, (3, 5), (1, 0))), float(mp.diff(g, (3, 5), (0, 1)))]
    # the truth itself against the closed form: both exact, so one rounding apart at most
    np.testing.assert_allclose(want, [-0.05, 0.05], rtol=_EPS)
    for eng in (hd, rv):
        np.testing.assert_allclose(eng.gradient(f, x), want, rtol=4 * _EPS)
        np.testing.assert_allclose(eng.hessian(f, x), _hessian(g, (3, 5)), rtol=1e-13)


@pytest.mark.parametrize("n", [0, 1, 2, 5, 12])
def test_rgamma_slopes_at_its_zeros(n):
    # (1/Gamma)'(-n) = (-1)^n n!, exactly; before: nan at every zero, in every order
    want = (-1.0) ** n * float(np.prod(np.arange(1.0, n + 1)))
    for eng in (hd, rv):
        assert eng.derivative(sp.rgamma, -float(n)) == want
        third = [float(mp.diff(mp.rgamma, -n, k)) for k in range(4)]
        np.testing.assert_allclose(eng.derivatives(sp.rgamma, -float(n), 3), third,
                                   rtol=1e-13, atol=1e-13 * max(map(abs, third)))


def test_rgamma_next_to_a_zero():
    # sin(pi x) of x minus its nearest integer: pi x itself rounds away the distance
    x = -10.0 + 2.0**-30
    want = float(mp.diff(mp.rgamma, mp.mpf(x)))
    for eng in (hd, rv):
        assert abs(eng.derivative(sp.rgamma, x) - want) <= 8 * _EPS * abs(want)


def test_struve_at_zero():
    # H_0 = (2/pi)(x - x^3/9 + ...), H_1 = (2/(3 pi)) x^2 - ...: the series is exact at 0
    for eng in (hd, rv):
        np.testing.assert_allclose(eng.derivatives(lambda x: sp.struve(0.0, x), 0.0, 3),
                                   [0.0, 2 / np.pi, 0.0, -4 / (3 * np.pi)], rtol=4 * _EPS,
                                   atol=1e-300)
        np.testing.assert_allclose(eng.derivatives(lambda x: sp.struve(1.0, x), 0.0, 3),
                                   [0.0, 0.0, 4 / (3 * np.pi), 0.0], rtol=4 * _EPS,
                                   atol=1e-300)
        # H_(-1) = 2/pi - H_1: its slope at 0 is 0 (0 * inf before the zero coefficient
        # was dropped)
        np.testing.assert_allclose(eng.derivatives(lambda x: sp.struve(-1.0, x), 0.0, 2),
                                   [2 / np.pi, 0.0, -4 / (3 * np.pi)], rtol=4 * _EPS,
                                   atol=1e-300)


def test_arrays_several_outputs_and_nesting():
    u = np.linspace(-1.0, 3.0, 7)
    sn, cn, dn, _ = sp.ellipj(u, 0.4)
    for eng in (hd, rv):
        # elementwise over an array, and all four outputs in one Jacobian
        np.testing.assert_allclose(eng.gradient(lambda v: np.sum(sp.ellipj(v, 0.4)[0]), u),
                                   cn * dn, rtol=4 * _EPS)
        got = eng.jacobian(lambda v: np.stack(sp.ellipj(v[0], 0.4)), np.array([0.7]))[:, 0]
        s, c, d, _ = sp.ellipj(0.7, 0.4)
        np.testing.assert_allclose(got, [c * d, -s * d, -0.4 * s * c, d], rtol=4 * _EPS)
    # d/ds [s f'(s)] = f'(s) + s f''(s), through the other engine
    f = lambda x: sp.struve(1.5, x)  # noqa: E731
    d1 = float(mp.diff(lambda x: mp.struveh(1.5, x), 0.8, 1))
    d2 = float(mp.diff(lambda x: mp.struveh(1.5, x), 0.8, 2))
    for outer, inner in ((hd, rv), (rv, hd), (hd, hd), (rv, rv)):
        got = outer.derivative(lambda s, inner=inner: inner.derivative(
            lambda y: f(s * y), 1.0), 0.8)
        np.testing.assert_allclose(got, d1 + 0.8 * d2, rtol=1e-13)


def test_parameters_stay_constant():
    for eng in (hd, rv):
        with pytest.raises(TypeError, match="parameters"):
            eng.derivative(lambda v: sp.struve(v, 2.0), 0.5)
        with pytest.raises(TypeError, match="parameter m"):
            eng.derivative(lambda m: sp.ellipj(0.5, m)[0], 0.3)
        for f in (sp.ellipkinc, sp.ellipeinc):
            with pytest.raises(TypeError, match="parameter m"):
                eng.derivative(lambda m, f=f: f(0.5, m), 0.3)


# --- poch and binom next to the zeros of 1/Gamma ------------------------------------
# y (psi(a) - psi(b)) with y -> 0 and psi -> inf: the product is right, its derivatives
# were differences of terms 1/(z - z0) apart (poch(z, 1.5)'' lost 8 digits at z = 1e-8
# and was -inf at 1e-300, truth 1.09; binom(n, 2.5)''' at n = 1.5 + 1e-9 was 37 times the
# truth).
NEAR_ZEROS = {
    "poch(z, 1.5)": (lambda z: sp.poch(z, 1.5), lambda z: mp.rf(z, 1.5),
                     [1e-300, 1e-8, -1.0 + 1e-8, -3.0 - 1e-6]),
    "binom(n, 2.5)": (lambda n: sp.binom(n, 2.5), lambda n: mp.binomial(n, 2.5),
                      [1.5 + 1e-9, 1.5 - 1e-6]),
    "binom(4, k)": (lambda k: sp.binom(4.0, k), lambda k: mp.binomial(4, k),
                    [5.0 + 1e-9, 5.0 - 1e-5, -1.0 + 1e-7]),
}


@pytest.mark.parametrize("name", NEAR_ZEROS)
def test_next_to_the_zeros_of_rgamma(name):
    f, g, points = NEAR_ZEROS[name]
    for x in points:
        with mp.workdps(60):
            want = [float(mp.diff(g, mp.mpf(x), k)) for k in range(4)]
        for eng in (hd, rv):
            got = eng.derivatives(f, x, 3)
            # scipy's own value of binom is off by up to 1e-10 near there: orders 1-3 only
            np.testing.assert_allclose(got[1:], want[1:], rtol=1e-13, err_msg=f"{name} at {x}")


def test_poch_hessian_next_to_a_zero():
    fv = lambda v: sp.poch(v[0], v[1])  # noqa: E731
    p = (1e-8, 0.7)
    with mp.workdps(60):
        want = _hessian(mp.rf, p)
    for eng in (hd, rv):
        np.testing.assert_allclose(eng.hessian(fv, np.array(p)), want, rtol=1e-13)


# --- direction stacks in one rule call, cotangents summed to the input's shape -------
# The library's rules broadcast over a Dual's direction axes (custom_jvp._broadcasts):
# hyperdual.gradient of sum(jv(1.5, x)) at n = 2000 called the rule 2000 times (7.6 s;
# now one call, 0.06 s), and the two-argument and several-output rules had no VJP, so
# reverse mode transposed their JVP one input element at a time (poch: 4.7 s, 0.001 s).
STACKED = {
    "jv": lambda v: sp.jv(1.5, v),
    "jv, array order": lambda v: sp.jv(np.array([[0.5], [1.5]]), v),
    "gammainc": lambda v: sp.gammainc(2.0, v),
    "ive (quadrature and series)": lambda v: sp.ive(2.5, 10.0 * v),
    "poch": lambda v: sp.poch(v, 1.5),
    "poch, scalar first argument": lambda v: sp.poch(v[0], v),
    "poch, both": lambda v: sp.poch(1.3, v) * sp.poch(v, v[::-1]),
    "binom": lambda v: sp.binom(v + 3.0, v),
    "owens_t": lambda v: sp.owens_t(v, v[2]),
    "ellipj": lambda v: np.stack(sp.ellipj(v, 0.3)),
    "ellipj, array m": lambda v: np.stack(sp.ellipj(v[1], np.array([0.2, 0.7]))),
    "sici": lambda v: np.stack(sp.sici(v)),
    "ellipkinc": lambda v: sp.ellipkinc(v, 0.3),
    "struve": lambda v: sp.struve(0.0, v),
    "matrix argument": lambda v: sp.jv(1.5, np.outer(v, v)),
    "scalar output times x": lambda v: sp.jv(1.5, v[1]) * v,
}


@pytest.mark.parametrize("name", STACKED)
def test_direction_stack_in_one_call_equals_one_call_per_direction(name):
    f = STACKED[name]
    x = np.linspace(0.1, 3.0, 7)
    got = hd.jacobian(f, x)
    rules = LIBRARY_RULES
    assert len(rules) > 100 and all(r._broadcasts for r in rules)
    try:
        for r in rules:
            r._broadcasts = False
        want = hd.jacobian(f, x)
    finally:
        for r in rules:
            r._broadcasts = True
    np.testing.assert_array_equal(got, want)
    # reverse mode's VJPs (summed down to the input where a parameter broadcasts) and
    # forward-over-reverse agree with them (the same formulas in another order: a
    # few ulps, which depend on the CPU's SIMD loops; exact 0 off the diagonal)
    assert_close_ulps(rv.jacobian(f, x), want, ulps=8)
    np.testing.assert_allclose(hd.jacobian(lambda v: rv.gradient(lambda u: np.sum(f(u)), v), x),
                               rv.hessian(lambda u: np.sum(f(u)), x), rtol=1e-13, atol=1e-13)


def test_a_gradient_calls_the_rule_once(monkeypatch):
    # 50 directions, one call of jv's JVP rule (it was one per direction); a user's rule
    # (custom_jvp without the flag) is still called once per direction
    from hyperdual.rules import special as S

    calls = []
    rule = S.jv.jvp
    monkeypatch.setattr(S.jv, "jvp", lambda *a: calls.append(1) or rule(*a))
    x = np.linspace(0.5, 3.0, 50)
    g = hd.gradient(lambda v: np.sum(sp.jv(1.5, v)), x)
    np.testing.assert_allclose(g, 0.5 * (sp.jv(0.5, x) - sp.jv(2.5, x)), rtol=4 * _EPS)
    assert len(calls) == 1

    mine = hd.custom_jvp(lambda v: np.sin(v))
    seen = []

    @mine.defjvp
    def _(primals, tangents):
        seen.append(1)
        return np.sin(primals[0]), np.cos(primals[0]) * tangents[0]

    np.testing.assert_allclose(hd.gradient(lambda v: np.sum(mine(v)), x), np.cos(x))
    assert len(seen) == 50


# --- beta next to its zeros (a + b at or near 0, -1, -2 ... while a, b are not) -------
# B (psi(a) - psi(a + b)) is 0 * inf = nan at a + b = 0 (truth -2 pi at (0.5, -0.5));
# next to it the second partials are differences of terms 1/(a + b - n) apart: at
# (0.3, -2.3) (a + b = -2 + 2e-16) the gradient was 31 % off and the Hessian 2e16
# (truth 77), at (0.5, -0.5 + 1e-9) the Hessian kept 7 digits.
BETA_NEAR_ZEROS = [(0.5, -0.5), (-0.5, -0.5), (0.3, -2.3), (0.5, -0.5 + 1e-9),
                   (2.5, -3.5 + 1e-12), (-0.9, -0.1 + 1e-9), (-3.7, 1.7 - 1e-6),
                   (-1.25, 0.25 + 0.05)]


def _beta_mp(a, b):
    return mp.gamma(a) * mp.gamma(b) * mp.rgamma(a + b)


@pytest.mark.parametrize("p", BETA_NEAR_ZEROS)
def test_beta_next_to_its_zeros_along_a_line(p):
    # orders 1-3 of t -> beta(a + t, b + 0.375 t) at t = 0: every partial up to the third
    # (Dual, HyperDual, Taylor, create_graph) against mpmath
    a, b = p
    with mp.workdps(60):
        _check_orders(f"beta at {p}", lambda t: sp.beta(a + t, b + 0.375 * t),
                      lambda t: _beta_mp(mp.mpf(a) + t, mp.mpf(b) + mp.mpf(0.375) * t),
                      [0.0], 1e-12)


@pytest.mark.parametrize("p", BETA_NEAR_ZEROS[:5])
def test_beta_hessian_next_to_its_zeros_in_every_nesting(p):
    fv = lambda v: sp.beta(v[0], v[1])  # noqa: E731
    with mp.workdps(60):
        want = _hessian(_beta_mp, p)
    x = np.array(p)
    double_backprop = np.stack([rv.hvp(fv, x, e, mode="reverse-over-reverse") for e in np.eye(2)])
    for got in (hd.hessian(fv, x), rv.hessian(fv, x), double_backprop,
                rv.jacobian(lambda y: rv.gradient(fv, y), x),
                hd.jacobian(lambda y: hd.gradient(fv, y), x),
                hd.jacobian(lambda y: rv.gradient(fv, y), x),
                rv.jacobian(lambda y: hd.gradient(fv, y), x)):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-14 * np.abs(want).max(),
                                   err_msg=f"beta at {p}")


def test_beta_arrays_mixing_zeros_and_ordinary_points():
    # elementwise: the entries next to a zero take the product Gamma Gamma rgamma, the
    # others beta's own rule (its range-keeping products: d/da beta(e**300, 2) in range)
    a = np.array([0.5, 2.0, 0.3, float(np.exp(300.0)), 1e-8])
    b = np.array([-0.5, 3.0, -2.3, 2.0, 0.7])
    with mp.workdps(60):
        want = [float(mp.diff(lambda x, q=q: _beta_mp(x, mp.mpf(q)), mp.mpf(r)))
                for r, q in zip(a, b)]
    for eng in (hd, rv):
        got = eng.gradient(lambda v: np.sum(sp.beta(v, b)), a)
        np.testing.assert_allclose(got, want, rtol=1e-13, err_msg=eng.__name__)


def test_float32_gradients_of_every_parametric_rule_without_warnings():
    # float32 in, float32 out, and no float warning from a branch not taken: expi's
    # stand-in 701 for its far branch overflowed e^(x/2) in float32 (reverse mode warned)
    import warnings

    from hyperdual.rules.special import SPECIAL

    x32 = np.array([0.15, 0.3, 0.45, 0.6], dtype=np.float32)
    for uf, (_, nparams) in SPECIAL.items():
        p = (2, 5, 3.5)[:nparams]
        for eng in (hd, rv):
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)
                # (scipy's own float32 loops of bdtr & co. cast k, n to float and warn)
                warnings.simplefilter("ignore", DeprecationWarning)
                g = eng.gradient(lambda t, uf=uf, p=p: np.sum(uf(*p, t)), x32)
            assert g.dtype == np.float32, (uf.__name__, eng.__name__, g.dtype)


@pytest.mark.parametrize("f", [sp.i0e, sp.i1e, sp.i0, sp.i1, sp.erfcx, sp.expit])
def test_float32_hessians_without_warnings(f):
    # reverse's i0e/i1e second derivative compared float32 values with 1e100, a limit
    # float32 cannot hold ("overflow encountered in cast" on every call)
    import warnings

    x32 = np.array([0.15, 0.3, 3.0, 40.0], dtype=np.float32)
    for eng in (hd, rv):
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            h = eng.hessian(lambda t: np.sum(f(t)), x32)
        want = eng.hessian(lambda t: np.sum(f(t)), x32.astype(np.float64))
        assert h.dtype == np.float32
        np.testing.assert_allclose(h, want, rtol=1e-5, atol=1e-6 * np.abs(want).max())


@pytest.mark.parametrize("phi", [np.pi / 2 - 1e-8, np.pi / 2 + 1e-5, 3 * np.pi / 2 + 1e-9, 0.4])
def test_ellipeinc_at_m_one_next_to_the_zeros_of_cos(phi):
    # E(phi, 1)' = |cos phi|, so E''' = -|cos phi|.  sqrt(cos^2 + (1 - m) sin^2) by the
    # chain rule subtracted terms 1/|cos| apart: 100 % off at pi/2 - 1e-8, 8e-8 at
    # pi/2 + 1e-5 (the integrand is hypot(cos, sqrt(1 - m) sin) now)
    for eng in (hd, rv):
        got = eng.derivatives(lambda p: sp.ellipeinc(p, 1.0), phi, 3)
        np.testing.assert_allclose(got[1:], [abs(np.cos(phi)), -np.sign(np.cos(phi))
                                             * np.sin(phi), -abs(np.cos(phi))],
                                   rtol=4 * _EPS, atol=4 * _EPS * abs(np.sin(phi)),
                                   err_msg=eng.__name__)
