"""Reverse mode's first-order helpers where an adjoint leaves the float range but
the derivative does not (issue 12, section 3).

A first derivative by reverse mode is one backward pass seeded with 1: the
adjoint of ``u`` is ``f'(u)`` times the cotangent that reaches it, a single
float, which overflows or underflows where the product with ``u'`` is an
ordinary float.  d/dv (v**2)**-0.5 at v = 1e-120 is -1e240, but
``-0.5 u**-1.5`` at u = 1e-240 is -inf: reverse.derivative gave -inf (hyperdual,
whose tangent is carried forward, -1e240), reverse.gradient [-inf, -1].  The
first-order helpers (derivative, gradient, value_and_gradient, jacobian, vjp,
jvp, linearize's jvp_fn) now redo a call whose result has an inf or nan entry
(or, for a float result, is 0 or subnormal) through the second-order helpers'
range watch (``_exactdiff.fprange.second_order``) with the seed scaled by powers
of two, and a few rules form ``f'(u)`` times the cotangent in range under it.

Truth: mpmath at 50 digits (closed forms of test_rel_chain_range /
test_rel_precision); tolerances a few ulps times the condition number.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv

M = pytest.importorskip("mpmath")
from tests.reliability import test_rel_chain_range as C  # noqa: E402

# (mpmath at 50 digits: test_rel_precision, which test_rel_chain_range imports, sets it)
EPS = np.finfo(float).eps
ULPS = 8


def _quiet(fn, *args):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args)


def _close(got, want, ulps=ULPS):
    """got (floats) within ulps of the mpmath truth want (mpf, or a list of them)."""
    got = np.atleast_1d(np.asarray(got, dtype=float)).ravel()
    want = list(want) if isinstance(want, (list, tuple)) else [want]
    assert got.shape == (len(want),), (got, want)
    for g, w in zip(got, want):
        if abs(w) > C.M.mpf(C.BIG):
            assert g == (np.inf if w > 0 else -np.inf), (g, w)
            continue
        assert np.isfinite(g), (g, float(w))
        assert abs(M.mpf(float(g)) - w) <= ulps * EPS * abs(w), (g, float(w))


# --- the examples: every first-order helper of reverse at +-1e-120 -------------------
def _inv_abs(v):
    return (v ** 2) ** -0.5  # 1 / abs(v): its derivative is -sign(v) / v**2


def _inv_abs_truth(v):
    V = M.mpf(v)
    return -M.sign(V) / V ** 2


def _helpers(f, x):
    """{helper: derivative of sum(f) or of elementwise f at the array x}."""
    ones = np.ones_like(x)

    def lin(x):
        _, jf = rv.linearize(f, x)
        return jf(ones)

    return {
        "derivative": lambda: rv.derivative(f, x),
        "gradient": lambda: rv.gradient(lambda p: np.sum(f(p)), x),
        "value_and_gradient": lambda: rv.value_and_gradient(lambda p: np.sum(f(p)), x)[1],
        "jacobian diagonal": lambda: np.diagonal(rv.jacobian(f, x)),
        "vjp": lambda: rv.vjp(f, x, ones)[1],
        "jvp": lambda: rv.jvp(f, x, ones)[1],
        "linearize": lambda: lin(x),
    }


HELPERS = sorted(_helpers(_inv_abs, np.ones(1)))


# (jvp and linearize were right here: the graph of their first pass forms the
# power rule's partial times the cotangent in range; they are in the tests below)
@pytest.mark.parametrize("helper", sorted(set(HELPERS) - {"jvp", "linearize"}))
@pytest.mark.parametrize("v", [1e-120, -1e-120, 1.3e-150])
def test_overflowing_adjoint_gives_the_derivative(helper, v):
    """d/dv (v**2)**-0.5 = -sign(v)/v**2, next to an ordinary entry (x = [v, 1])."""
    x = np.array([v, 1.0])
    got = _quiet(_helpers(_inv_abs, x)[helper])
    _close(got, [_inv_abs_truth(v), _inv_abs_truth(1.0)])


@pytest.mark.parametrize("v", [1e-120, -1e-120])
def test_scalar_derivative_and_gradient(v):
    """The issue's examples, with a Python float x."""
    want = _inv_abs_truth(v)
    _close(_quiet(rv.derivative, _inv_abs, v), want)
    _close(_quiet(rv.gradient, _inv_abs, v), want)
    _close(_quiet(rv.value_and_gradient, _inv_abs, v)[1], want)
    assert _quiet(rv.value_and_gradient, _inv_abs, v)[0] == 1e120
    _close(_quiet(hd.derivative, _inv_abs, v), want)  # (the other engine agrees)


def _inv_square(v):
    return (v ** 2) ** -1.0  # its derivative -2 / v**3 overflows at abs(v) < 1.2e-103


def test_a_small_cotangent_meets_the_overflowing_partial():
    """f = 2**-20 (v**2)**-1 at 1e-104: the power rule's partial u**-2 = 1e416
    overflows whatever cotangent reaches it (-inf before); the derivative is
    -2**-19 1e312, an ordinary float."""
    v = 1e-104
    want = -M.mpf(2) ** -19 / M.mpf(v) ** 3
    _close(_quiet(rv.derivative, lambda t: 2.0 ** -20 * _inv_square(t), v), want)
    x = np.array([v, 2.0])
    got = _quiet(rv.gradient, lambda p: 2.0 ** -20 * np.sum(_inv_square(p)), x)
    _close(got, [want, -M.mpf(2) ** -19 / 8])


@pytest.mark.parametrize("helper", HELPERS)
def test_overflowing_terms_that_cancel_into_range(helper):
    """(1 - c) times the derivative of (v**2)**-1 at 1.3e-103, as the difference of
    two terms that both overflow (2e309 and 1.8e309): -inf + inf was nan; the
    truth -1.1e308 is in range (the cancellation's condition (1 + c) / (1 - c))."""
    c = 0.875

    def f(p):
        return _inv_square(p) - c * _inv_square(p)

    cond = (1 + c) / (1 - c)
    v = 1.3e-103
    got = _quiet(_helpers(f, np.array([v, -v, 1.0]))[helper])
    want = [-2 * (1 - M.mpf(c)) / M.mpf(w) ** 3 for w in (v, -v, 1.0)]
    _close(got, want, ULPS * cond)


@pytest.mark.parametrize("helper", HELPERS)
def test_a_truth_beyond_the_range_is_signed_inf_not_nan(helper):
    """The same difference with c = 0.5: the derivative -+1.1e309 is beyond the
    range (-+inf, confirmed by two retries at different scales), not nan."""
    def f(p):
        return _inv_square(p) - 0.5 * _inv_square(p)

    v = 1.3e-103
    got = _quiet(_helpers(f, np.array([v, -v, 1.0]))[helper])
    assert got[0] == -np.inf and got[1] == np.inf and got[2] == -1.0


def test_scalar_derivative_of_terms_that_cancel():
    """A Python float x: the two cases above by reverse.derivative."""
    assert _quiet(rv.derivative, lambda t: _inv_square(t) - 0.5 * _inv_square(t),
                  1.3e-103) == -np.inf
    want = -2 * (1 - M.mpf(0.875)) / M.mpf(1.3e-103) ** 3
    got = _quiet(rv.derivative, lambda t: _inv_square(t) - 0.875 * _inv_square(t), 1.3e-103)
    _close(got, want, ULPS * 15)


def test_a_genuine_inf_stays_and_the_rest_is_right():
    """sqrt'(0) is inf at every seed scale: it stays inf, next to an entry the retry
    brings into range (the first pass gave [-inf, inf])."""
    def f(p):
        return _inv_abs(p[0]) + np.sqrt(p[1])

    got = _quiet(rv.gradient, f, np.array([1e-120, 0.0]))
    assert got[1] == np.inf
    _close(got[:1], [_inv_abs_truth(1e-120)])


def test_warnings_as_errors_do_not_stop_a_right_result():
    """The first pass's own adjoint overflows (a RuntimeWarning raised as an error);
    the call is redone watched, where reverse's own adjoints are quiet, as in the
    second-order helpers; f's own overflow still raises."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _inv_abs(np.float64(1e-120))  # f itself is quiet here
        _close(rv.derivative(_inv_abs, 1e-120), _inv_abs_truth(1e-120))
        got = rv.gradient(lambda p: np.sum(_inv_abs(p)), np.array([1e-120, 1.0]))
        _close(got, [_inv_abs_truth(1e-120), -1])
        _, jf = rv.linearize(_inv_abs, np.array([1e-120]))
        _close(jf(np.ones(1)), [_inv_abs_truth(1e-120)])
        with pytest.raises(RuntimeWarning, match="overflow encountered"):
            rv.derivative(lambda v: (v * 1e300) * 1e300 + _inv_abs(v), 1e-120)


# --- the rule table: reverse.derivative where f'(u) itself leaves the range -----------
def _sweep(name):
    """Failures of reverse.derivative and, where f'(u) overflows, reverse.gradient, of
    f(inner(v)) at the sweep's points where f'(u) is not a normal float (the points
    test_rel_chain_range leaves out for reverse mode's first order)."""
    bad, checked = [], 0
    for inner, f in C._composed(name, "reverse"):
        for v in C.VS:
            t = C._truth(name, inner, v)
            if t is None:
                continue
            d1, c1, _, _, adj1, _ = t
            if c1 is None or C.TINY <= abs(adj1) <= C.BIG:
                continue
            paths = {"derivative": lambda v, f=f: rv.derivative(f, v)}
            if abs(adj1) > C.BIG:  # an overflow: every helper sees the inf
                paths["gradient"] = lambda v, f=f: rv.gradient(
                    lambda q: np.sum(f(q)), np.array([v, v]))[1]
            for path, run in paths.items():
                got = float(_quiet(run, v))
                checked += 1
                e = C._ulps(got, d1)
                if not e <= ULPS * c1:
                    bad.append(f"{name}({inner}) at v={v!r} via {path}: {got!r}, truth "
                               f"{float(d1)!r} ({e:.3g} ulps, cond {c1:.3g})")
    return bad, checked


#: the rules of the table with such points (at the others f'(u) stays normal)
SWEPT = ["arctan", "erfcx", "gamma", "i0e", "i1e", "reciprocal", "x**-0.5", "x**-2", "x**3"]


@pytest.mark.parametrize("name", SWEPT)
def test_rule_table_first_derivative_where_the_adjoint_leaves_the_range(name):
    bad, checked = _sweep(name)
    assert checked
    assert not bad, f"{len(bad)} of {checked} wrong:\n" + "\n".join(bad[:12])
