"""A rule whose derivative is 0 in the limit of an infinite argument (exp at -inf,
tanh, expit, erf, erfc, ndtr at +-inf), reached through an inner function that is
infinite with an infinite derivative at the point: the chain rule's product is 0 * inf,
whose truth only the composite knows.  ``exp(log(u))`` at u = 0 is u, derivative 1;
``exp(-1/u**2)`` has every derivative 0.  Each derivative must be its truth or nan,
never the 0 that ``exp(-inf) * inf`` was taken to be (it was, in both engines, at every
order and in Taylor mode: the first derivative of exp(log(u)) at 0 was 0).

A -inf exponent that overflowed from a finite argument (erf'(u) = c exp(-u**2) at
u = 5e173, inside higher derivatives of erf(exp(v))) is no limit: there exp(-inf)
times an overflowed tangent stays 0 (``test_rel_chain_range.py`` and
``test_rel_nested_range.py``).
"""

import warnings

import numpy as np
import pytest
import scipy.special as sp

import hyperdual as hd
import reverse as rv

# f, its first three derivatives at u = 0 (closed forms of the composite)
CASES = {
    "exp(log(u))": (lambda u: np.exp(np.log(u)), [1.0, 0.0, 0.0]),
    "exp(log(u**2))": (lambda u: np.exp(np.log(u**2)), [0.0, 2.0, 0.0]),
    "exp(2 log(u))": (lambda u: np.exp(2.0 * np.log(u)), [0.0, 2.0, 0.0]),
    "exp2(log2(u))": (lambda u: np.exp2(np.log2(u)), [1.0, 0.0, 0.0]),
    "expm1(log(u))": (lambda u: np.expm1(np.log(u)), [1.0, 0.0, 0.0]),
    "tanh(arctanh(u - 1))": (lambda u: np.tanh(np.arctanh(u - 1.0)), [1.0, 0.0, 0.0]),
    "expit(logit(u))": (lambda u: sp.expit(sp.logit(u)), [1.0, 0.0, 0.0]),
    "erf(erfinv(u**2 + u - 1))": (lambda u: sp.erf(sp.erfinv(u**2 + u - 1.0)), [1.0, 2.0, 0.0]),
    "erfc(erfinv(1 - u))": (lambda u: sp.erfc(sp.erfinv(1.0 - u)), [1.0, 0.0, 0.0]),
    "ndtr(ndtri(u**2 + u))": (lambda u: sp.ndtr(sp.ndtri(u**2 + u)), [1.0, 2.0, 0.0]),
    "exp(-1/u**2)": (lambda u: np.exp(-1.0 / u**2), [0.0, 0.0, 0.0]),
    # gammainc's density x**(a-1) exp(-x) / Gamma(a) at x = inf (its custom rule)
    "gammaincc(1, -log(u))": (lambda u: sp.gammaincc(1.0, -np.log(u)), [1.0, 0.0, 0.0]),
    "gammainc(1, -log(u))": (lambda u: sp.gammainc(1.0, -np.log(u)), [-1.0, 0.0, 0.0]),
}


def _truth_or_nan(got, want, what):
    got = np.asarray(got, dtype=float)
    ok = np.isnan(got) | np.isclose(got, want, rtol=1e-12, atol=1e-14)
    assert ok.all(), f"{what}: {got}, truth {want} (or nan)"


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("eng", [hd, rv], ids=["hyperdual", "reverse"])
def test_limit_of_a_rule_times_an_infinite_tangent_is_never_a_wrong_number(eng, name):
    f, (d1, d2, d3) = CASES[name]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        _truth_or_nan(eng.derivative(f, 0.0), d1, f"{name} derivative")
        _truth_or_nan(eng.second_derivative(f, 0.0), d2, f"{name} second_derivative")
        _truth_or_nan(eng.gradient(lambda x: f(x[0]), np.array([0.0])), [d1],
                      f"{name} gradient")
        _truth_or_nan(eng.hessian(lambda x: f(x[0]), np.array([0.0])), [[d2]],
                      f"{name} hessian")
        _truth_or_nan(eng.derivatives(f, 0.0, 3)[1:], [d1, d2, d3], f"{name} derivatives")
        _truth_or_nan(eng.nth_derivative(f, 0.0, 2), d2, f"{name} nth_derivative")


@pytest.mark.parametrize("outer", [hd, rv], ids=["hd-outside", "rv-outside"])
@pytest.mark.parametrize("inner", [hd, rv], ids=["hd-inside", "rv-inside"])
def test_nested_helper_through_the_limit(outer, inner):
    # the gradient by x of derivative(t -> h(t + x1 - 2) x0, 0) + x1**2 at (1, 2),
    # h(u) = exp(log(u**2)) = u**2: the inner derivative is 2 (t + x1 - 2) x0 = 0 and
    # its gradient [2 (x1 - 2), 2 x0] + [0, 2 x1] = [0, 6] (it was [0, 4]: h''s
    # product at u = 0 was 0 in the outer direction too)
    h = lambda u: np.exp(np.log(u**2))  # noqa: E731

    def G(x):
        return inner.derivative(lambda t: h(t + x[1] - 2.0) * x[0], 0.0) + x[1] ** 2

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        _truth_or_nan(outer.gradient(G, np.array([1.0, 2.0])), [0.0, 6.0], "gradient")


def test_a_finite_argument_beyond_the_range_keeps_its_zero():
    # the limit rule is for infinite arguments only: erf' at 1e200 underflows to 0
    # by itself, and times a tangent that overflowed it is still 0 (no nan)
    from hyperdual._rules import UNARY

    with np.errstate(all="ignore"):
        assert UNARY["erf"].s1(1e200, np.inf) == 0.0
        assert UNARY["exp"].s1(-np.inf, 3.0) == 0.0  # a finite tangent: the limit 0
        assert np.isnan(UNARY["exp"].s1(-np.inf, np.inf))
        assert np.isnan(UNARY["erf"].s1(np.inf, np.inf))
        # f'' = -2x c exp(-x**2) at x = inf: the limit 0 with finite tangents
        assert UNARY["erf"].s2(np.inf, 1.0, 2.0) == 0.0
    # Taylor mode's exp series at x_0 = -inf: 0 while the coefficients are finite (numpy
    # scalars too), nan from the first infinite one on
    from hyperdual._taylor_rules import exp as taylor_exp

    assert taylor_exp([-np.inf, np.float64(2.0), 1.0]) == [0.0, 0.0, 0.0]
    got = taylor_exp([-np.inf, 2.0, np.inf, 1.0])
    assert got[:2] == [0.0, 0.0] and np.isnan(got[2:]).all()


# abs'(0) = 0 by convention, but abs of a function that leaves 0 at an infinite rate is
# not flat: its zero times the next infinite partial is 0 * inf.  hyperdual (tangents
# forward: sqrt's inf meets abs's sign(0)) gave nan; reverse (adjoints backward: abs's
# sign(0) gy = 0 met sqrt's inf partial) kept the zero as structural and gave 0.
KINKS = {
    "abs(sqrt(u))": (lambda u: np.abs(np.sqrt(u)), np.inf),
    "abs(sqrt(u))**2": (lambda u: np.abs(np.sqrt(u)) ** 2, 1.0),
    "fabs(sqrt(u))**2": (lambda u: np.fabs(np.sqrt(u)) ** 2, 1.0),
    "square(abs(sqrt(u)))": (lambda u: np.square(np.abs(np.sqrt(u))), 1.0),
    "abs(cbrt(u**3 + u))": (lambda u: np.abs(np.cbrt(u**3 + u)), np.nan),  # (slopes -inf, inf)
}


@pytest.mark.parametrize("name", list(KINKS))
@pytest.mark.parametrize("eng", [hd, rv], ids=["hyperdual", "reverse"])
def test_a_kinks_zero_times_an_infinite_partial_is_never_a_wrong_number(eng, name):
    f, d1 = KINKS[name]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for what, got in (("derivative", eng.derivative(f, 0.0)),
                          ("gradient", eng.gradient(lambda x: f(x[0]), np.array([0.0]))[0]),
                          ("value_and_gradient",
                           eng.value_and_gradient(lambda x: f(x[0]), np.array([0.0]))[1][0])):
            assert np.isnan(got) or got == d1, f"{name} {what}: {got}, truth {d1} (or nan)"


@pytest.mark.parametrize("eng", [hd, rv], ids=["hyperdual", "reverse"])
def test_abs_keeps_its_convention_where_nothing_is_infinite(eng):
    # the audit's nan is for a zero that meets an infinite partial; abs'(0) = 0 itself,
    # |v|**2 and |v| v (smooth at 0) and L1 sums keep their exact derivatives
    assert eng.derivative(np.abs, 0.0) == 0.0
    assert eng.derivative(lambda v: np.abs(v) ** 2, 0.0) == 0.0
    assert eng.derivative(lambda v: np.abs(v) * v, 0.0) == 0.0
    np.testing.assert_array_equal(
        eng.gradient(lambda x: np.sum(np.abs(x)), np.array([0.0, -1.0, 2.0])), [0.0, -1.0, 1.0])
    np.testing.assert_array_equal(
        eng.gradient(lambda x: np.sum(np.abs(x - 1.0) ** 2), np.array([1.0, 2.0])), [0.0, 2.0])


def test_a_split_backward_at_a_power_of_zero_raises_nothing():
    # reverse's second_derivative under hyperdual.gradient of (|t|**3)**(2/3) = t**2
    # moved by x1: the audit's split backward ran Pow's rule on Python floats, where
    # 0.0 ** -0.5 raised ZeroDivisionError (numpy's value is inf); truth [2, 4] or nan
    h = lambda t: np.power(np.power(t**2, 1.5), 2.0 / 3.0)  # noqa: E731

    def G(x):
        return rv.second_derivative(lambda t: h(t + x[1] - 2.0) * x[0], 0.0) + x[1] ** 2

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        _truth_or_nan(hd.gradient(G, np.array([1.0, 2.0])), [2.0, 4.0], "gradient")
