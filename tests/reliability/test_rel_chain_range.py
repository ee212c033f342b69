"""The chain rule where f'(u) or f''(u) leaves the float range but the product
with the inner derivatives does not (issue 12, section 3).

Every unary rule of the table is composed with inner functions that make its
argument ``u`` huge or tiny (``v**2 + 3``, ``v**2``, ``1e100 v``, ``1e-100 v``,
``1/v``, and ``u = x y`` for a mixed partial), at ``v`` across 1e+-10 ... 1e+-300.
The chain rule forms ``f'(u) u'`` and ``f''(u) u' u' + f'(u) u''``: ``f''(u)``
alone may underflow to 0 (d^2/dv^2 log2(v**2 + 3) at v = 2e99 came out with the
wrong sign) or overflow to inf (``1/u`` at u = 1e-110 with u' = 1e-100) where the
product is an ordinary float.  Wherever the truth (mpmath at 50 digits from the
closed forms of test_rel_precision's references) is a normal float64 and the
inner function's own derivatives are normal floats (the parts a number carries),
every path must be within ``ULPS`` ulps times the condition number of the
derivative (relative perturbations of v, and the cancellation of the two terms
of the second derivative).

Reverse mode is checked on the whole sweep too: its adjoint of ``u`` is
``f'(u)`` in the first pass and ``f''(u) u'`` in the second, a single float
each, which under- or overflows where the result does not (d2/dv2
log(v**2 + 3) at v = -1.3e150 had the wrong sign); the second-order helpers
redo such a pass with seeds scaled by powers of two (reverse.helpers._second_order).
Every second-order helper of both engines: test_rel_second_order_range.

The Taylor numbers of issue 16 are swept the same way, to fourth order, in
test_rel_taylor_range.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from hyperdual import Dual, HyperDual, _rules

mpmath = pytest.importorskip("mpmath")
from tests.reliability.test_rel_precision import (  # noqa: E402
    BINARY_REF,
    PIECEWISE_CONSTANT,
    REF,
    SKIP,
    _fn,
)

# a sweep: the full tier (py312, noavx512), not the quick one (-m 'not slow')
pytestmark = pytest.mark.slow

M = mpmath
mp = M.mp

# x**c for a constant c: the power rule's f'(u) = c u**(c-1) and f''(u) leave the
# range as the unary rules' do (the exponents named as numpy's power receives them)
POWERS = {"x**-2": -2.0, "x**-0.5": -0.5, "x**(1/3)": 1.0 / 3.0, "x**0.5": 0.5,
          "x**1.5": 1.5, "x**3": 3.0}


def _pow_ref(c):
    C = M.mpf(c)
    return (lambda x: x ** C, lambda x: C * x ** (C - 1), lambda x: C * (C - 1) * x ** (C - 2))


REF = dict(REF)
REF.update({name: _pow_ref(c) for name, c in POWERS.items()})
_fn_table = _fn


def _fn(name, engine="hyperdual"):  # noqa: F811 - the table's, plus the powers
    if name in POWERS:
        c = POWERS[name]
        return lambda x: x ** c
    return _fn_table(name, engine)

TINY = np.finfo(float).tiny
BIG = np.finfo(float).max
ULPS = 8

EXPONENTS = [10, 20, 50, 100, 120, 150, 160, 200, 250, 300]
VS = sorted({s * m * 10.0 ** (sg * e) for e in EXPONENTS for sg in (1, -1)
             for s, m in ((1, 1.7), (-1, 1.3))})


def _inner(name):
    """(hyperdual/reverse function, U, U', U'') of an inner function."""
    if name == "v**2+3":
        return (lambda v: v ** 2 + 3.0, lambda V: V * V + 3, lambda V: 2 * V,
                lambda V: M.mpf(2))
    if name == "v**2":
        return (lambda v: v ** 2, lambda V: V * V, lambda V: 2 * V, lambda V: M.mpf(2))
    if name == "1e100*v":
        return (lambda v: v * 1e100, lambda V: V * M.mpf(1e100), lambda V: M.mpf(1e100),
                lambda V: M.mpf(0))
    if name == "1e-100*v":
        return (lambda v: v * 1e-100, lambda V: V * M.mpf(1e-100), lambda V: M.mpf(1e-100),
                lambda V: M.mpf(0))
    if name == "1/v":
        return (lambda v: 1.0 / v, lambda V: 1 / V, lambda V: -1 / V ** 2,
                lambda V: 2 / V ** 3)
    raise KeyError(name)


PERIODIC = {"sin", "cos", "tan", "sinc"}
GAMMA_FAMILY = {"gamma", "gammaln", "loggamma", "digamma"}
INNERS = ["v**2+3", "v**2", "1e100*v", "1e-100*v", "1/v"]
RULES = sorted(n for n in _rules.UNARY if n not in PIECEWISE_CONSTANT and n not in SKIP
               and n in REF) + sorted(POWERS)


def _normal(v) -> bool:
    return v == 0 or TINY <= abs(v) <= BIG


def _mpf(x):
    return M.mpf(float(x))


def _composite(name, inner):
    """D1(V), D2(V) and the two terms of D2, in mpmath."""
    fns = REF[name]
    _, U, U1, U2 = _inner(inner)

    def parts(V):
        u, u1, u2 = U(V), U1(V), U2(V)
        if name in PERIODIC and abs(u) > 1e15:
            # the rounding of u (more than a period) decides the answer: noise
            raise ValueError("periodic function beyond 2**50: not swept")
        if name in GAMMA_FAMILY and u < -1e4:
            # mpmath's psi recurs up from a large negative argument (minutes per call)
            raise ValueError("the gamma family far left of 0: not swept")
        f1, f2 = fns[1](u), fns[2](u)
        return u, u1, u2, f1, f2

    return parts


def _cond(fun, V, D):
    """Relative condition |V D'(V) / D| by a central difference at extra digits."""
    with mp.workdps(150):
        h = abs(V) * M.mpf("1e-70")
        d = (fun(V + h) - fun(V - h)) / (2 * h)
    return float(abs(V * d / D))


@functools.cache
def _truth(name, inner, v):
    """None, or (D1, cond1 or None, D2, cond2 or None, f'(U), f''(U) U') in mpmath."""
    out = None
    parts = _composite(name, inner)
    V = _mpf(v)
    try:
        u, u1, u2, f1, f2 = parts(V)
        f0 = REF[name][0](u)
        ok = all(not isinstance(q, M.mpc) and M.isfinite(q) for q in (u, f0, f1, f2))
        # the inner function's value and derivatives must be normal floats (the
        # parts of the number f sees), and f(u) finite
        ok = ok and _normal(u) and u1 != 0 and _normal(u1) and _normal(u2)
        ok = ok and abs(f0) <= BIG
        if ok:
            d1 = f1 * u1
            a, b = f2 * u1 * u1, f1 * u2
            d2 = a + b
            c1 = c2 = None
            if d1 != 0 and TINY <= abs(d1) <= BIG:
                c1 = max(1.0, float(abs(V * d2 / d1)))
            if d2 != 0 and TINY <= abs(d2) <= BIG and abs(a) <= BIG and abs(b) <= BIG:

                def c2(V=V, d2=d2, a=a, b=b):  # computed only when a path is off

                    def dd2(W):
                        uu, w1, w2, g1, g2 = parts(W)
                        return g2 * w1 * w1 + g1 * w2

                    return max(1.0, _cond(dd2, V, d2), float((abs(a) + abs(b)) / abs(d2)))
            out = (d1, c1, d2, c2, f1, f2 * u1)
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        out = None
    return out


def _ulps(got, want):
    if not math.isfinite(got):
        return math.inf
    return float(abs((M.mpf(got) - want) / want)) / np.finfo(float).eps


def _hd_paths(f, order):
    """{path: function of v giving the order-th derivative}."""
    if order == 1:
        return {
            "Dual scalar": lambda v: f(Dual(v, 1.0)).dual,
            "Dual array": lambda v: f(Dual(np.array([v, v]), np.array([1.0, 1.0]))).dual[1],
            "HyperDual eps1": lambda v: f(HyperDual(v, 1.0, 1.0, 0.0)).eps1,
            "hyperdual.gradient": lambda v: hd.gradient(lambda p: f(p[0]), np.array([v]))[0],
        }
    return {
        "HyperDual scalar": lambda v: f(HyperDual(v, 1.0, 1.0, 0.0)).eps12,
        "HyperDual array": lambda v: f(HyperDual(np.array([v, v]), 1.0, 1.0, 0.0)).eps12[1],
        "hyperdual.second_derivative": lambda v: hd.second_derivative(f, v),
        "hyperdual.hessian": lambda v: hd.hessian(lambda p: f(p[0]), np.array([v]))[0, 0],
    }


def _rv_paths(f, order):
    if order == 1:
        return {"reverse.derivative": lambda v: rv.derivative(f, v)}
    return {"reverse.second_derivative": lambda v: rv.second_derivative(f, v)}


def _composed(name, engine="hyperdual"):
    """(inner, f) for each inner function: f(v) = name(inner(v)) in the engine."""
    fn = _fn(name, engine)
    for inner in INNERS:
        g = _inner(inner)[0]

        def f(v, fn=fn, g=g):
            return fn(g(v))

        yield inner, f


def sweep(name, engine):
    """The failures of one rule (a list of strings) and the number of checks."""
    bad, checked = [], 0
    for inner, f in _composed(name, engine):
        for order in (1, 2):
            paths = (_hd_paths if engine == "hyperdual" else _rv_paths)(f, order)
            for v in VS:
                t = _truth(name, inner, v)
                if t is None:
                    continue
                d1, c1, d2, c2, adj1, adj2 = t
                want, cond = (d1, c1) if order == 1 else (d2, c2)
                if cond is None:
                    continue
                if engine == "reverse" and order == 1 and not TINY <= abs(adj1) <= BIG:
                    continue  # first order: the one pass's adjoint f'(u) itself
                for path, p in paths.items():
                    with warnings.catch_warnings(), np.errstate(all="ignore"):
                        warnings.simplefilter("ignore", RuntimeWarning)
                        got = float(p(v))
                    checked += 1
                    e = _ulps(got, want)
                    if e <= ULPS:
                        continue
                    if callable(cond):
                        cond = cond()
                    if not e <= ULPS * cond:
                        bad.append(f"d{order} {name}({inner}) at v={v!r} via {path}: {got!r}, "
                                   f"truth {float(want)!r} ({e:.3g} ulps, cond {cond:.3g})")
    return bad, checked


def mixed_sweep(name):
    """d2/dx dy f(x y) = f'(u) + u f''(u) at (v, w) by hyperdual.hessian (stacks)."""
    fns = REF[name]
    fn = _fn(name)
    bad, checked = [], 0
    for w in (3.0, 1e100, 1e-100):
        for v in VS:
            X, W = _mpf(v), _mpf(w)
            U = X * W
            if not (_normal(U) and U != 0) or (name in PERIODIC and abs(U) > 1e15) or (
                    name in GAMMA_FAMILY and U < -1e4):
                continue
            try:
                f0, f1, f2 = (q(U) for q in fns)
            except (ValueError, ZeroDivisionError, OverflowError, TypeError):
                continue
            if any(isinstance(q, M.mpc) or not M.isfinite(q) for q in (f0, f1, f2)) or (
                    abs(f0) > BIG):
                continue
            want = f1 + U * f2
            if want == 0 or not TINY <= abs(want) <= BIG or abs(U * f2) > BIG:
                continue
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                got = float(hd.hessian(lambda p: fn(p[0] * p[1]), np.array([v, w]))[0, 1])
            checked += 1
            e = _ulps(got, want)
            if e <= ULPS:
                continue
            cond = max(1.0, float((abs(f1) + abs(U * f2)) / abs(want)),
                       _cond(lambda Z: fns[1](Z) + Z * fns[2](Z), U, want))
            if not e <= ULPS * cond:
                bad.append(f"d2/dxdy {name}(x y) at ({v!r}, {w!r}): {got!r}, truth "
                           f"{float(want)!r} ({e:.3g} ulps, cond {cond:.3g})")
    return bad, checked


@pytest.mark.parametrize("name", RULES)
def test_mixed_partial_keeps_products_in_range(name):
    bad, checked = mixed_sweep(name)
    assert not bad, f"{len(bad)} of {checked} wrong:\n" + "\n".join(bad[:12])


@pytest.mark.parametrize("engine", ["hyperdual", "reverse"])
@pytest.mark.parametrize("name", RULES)
def test_chain_rule_keeps_products_in_range(name, engine):
    bad, checked = sweep(name, engine)
    assert not bad, f"{len(bad)} of {checked} wrong:\n" + "\n".join(bad[:12])


# --- binary rules: x/y, hypot, arctan2 of inner functions -----------------------------
BINARY_CASES = ["arctan2", "hypot", "true_divide"]
PAIRS_OF_INNERS = [("v**2+3", "1e100*v"), ("1e-100*v", "v**2"), ("1/v", "v**2+3"),
                   ("v**2", "1e-100*v")]


def _binary_chain_truth(name, i1, i2, V):
    """(d1, cond1, d2, cond2) of f(u1(V), u2(V)) from the closed-form partials of
    test_rel_precision (the chain rule in mpmath); cond is the sum of the absolute
    terms over the absolute result (their cancellation) times a few."""
    _, U1, P1, Q1 = _inner(i1)
    _, U2, P2, Q2 = _inner(i2)
    u1, u2 = U1(V), U2(V)
    (ga, gb), ((haa, hab), (_, hbb)) = BINARY_REF[name][2](u1, u2)
    p1, p2, q1, q2 = P1(V), P2(V), Q1(V), Q2(V)
    t1 = [ga * p1, gb * p2]
    t2 = [haa * p1 * p1, 2 * hab * p1 * p2, hbb * p2 * p2, ga * q1, gb * q2]
    d1, d2 = sum(t1), sum(t2)
    c1 = float(sum(abs(t) for t in t1) / abs(d1)) if d1 else None
    c2 = float(sum(abs(t) for t in t2) / abs(d2)) if d2 else None
    return d1, c1, d2, c2


@pytest.mark.parametrize("name", BINARY_CASES)
def test_binary_chain_rule_keeps_products_in_range(name):
    _check_binary_chain(name, PAIRS_OF_INNERS)


# xlogy(x, y) = x log y needs y > 0: the second inner is v**2 (+3)
XLOGY_PAIRS = [("1e-100*v", "v**2"), ("1/v", "v**2"), ("v**2", "v**2+3"), ("1e100*v", "v**2"),
               ("v**2", "v**2")]


def test_xlogy_chain_rule_keeps_products_in_range():
    """d2/dv2 xlogy(v, v**2) at v = 1e-150 is 2e150; HyperDual formed the partial
    -x / y**2 = -1e450 and gave -inf (reverse mode was right)."""
    _check_binary_chain("xlogy", XLOGY_PAIRS)


def test_xlog1py_chain_rule_keeps_products_in_range():
    """d2/dv2 xlog1py(v, v**2) at v = 1.7e150 was 3x the truth in HyperDual (the
    partial -x / (1 + y)**2 underflowed)."""
    _check_binary_chain("xlog1py", XLOGY_PAIRS)


@pytest.mark.parametrize("name", ["rel_entr", "kl_div"])
def test_entropy_chain_rule_keeps_products_in_range(name):
    """rel_entr/kl_div of positive inner functions: x / y**2 underflowed at y = v**2,
    v = 1.7e150 (the second derivative 5x the truth); at v = 1.7e-150 the y-terms of
    kl_div(v**2 + 3, v**2) overflowed (inf where the truth is 2.1e300)."""
    _check_binary_chain(name, [("v**2", "v**2+3"), ("v**2+3", "v**2"), ("v**2", "v**2")])


def _check_binary_chain(name, pairs):
    np_fn = BINARY_REF[name][1]
    bad, checked = [], 0
    for i1, i2 in pairs:
        g1, g2 = _inner(i1)[0], _inner(i2)[0]

        def f(v, g1=g1, g2=g2):
            return np_fn(g1(v), g2(v))

        for v in VS:
            V = _mpf(v)
            inner_parts = [q(V) for j in (i1, i2) for q in _inner(j)[1:]]
            if not all(_normal(q) for q in inner_parts) or not inner_parts[0]:
                continue
            d1, c1, d2, c2 = _binary_chain_truth(name, i1, i2, V)
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                got = {
                    (1, "Dual scalar"): f(Dual(v, 1.0)).dual,
                    (1, "Dual array"): f(Dual(np.array([v]), np.array([1.0]))).dual[0],
                    (2, "HyperDual scalar"): f(HyperDual(v, 1.0, 1.0, 0.0)).eps12,
                    (2, "hyperdual.hessian"): hd.hessian(lambda p: f(p[0]), np.array([v]))[0, 0],
                }
            for (order, path), val in got.items():
                want, cond = (d1, c1) if order == 1 else (d2, c2)
                if cond is None or not TINY <= abs(want) <= BIG:
                    continue
                checked += 1
                e = _ulps(float(val), want)
                if not e <= ULPS * max(cond, 1.0):
                    bad.append(f"d{order} {name}({i1}, {i2}) at v={v!r} via {path}: "
                               f"{float(val)!r}, truth {float(want)!r} ({e:.3g} ulps, "
                               f"cond {cond:.3g})")
    assert checked
    assert not bad, f"{len(bad)} of {checked} wrong:\n" + "\n".join(bad[:12])


@pytest.mark.parametrize("v", [0.7, 1e-3, 1e-10, 1.7e-50, 1.3e-150])
def test_kl_div_of_a_tiny_pair_in_taylor_mode(v):
    """kl_div(v**2, v): Taylor mode differentiates the partial (y - x) / y as a series,
    whose quotient cancelled y_1 against y_1 q_0 and divided by y_0 = v: the second
    derivative was 1 too large at v = 1.7e-50 (8e-8 at 1e-10).  Every path, second and
    third derivatives, against mpmath."""
    from scipy import special

    def f(u):
        return special.kl_div(u * u, u)

    V = M.mpf(v)
    d2 = 2 * M.log(V) + 1  # v**2 log v - v**2 + v
    d3 = 2 / V
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        got = {"Taylor": hd.derivatives(f, v, 3)[2:],
               "reverse Taylor": rv.derivatives(f, v, 3)[2:],
               "backprop": rv.derivatives(f, v, 3, method="backprop")[2:]}
        got["HyperDual"] = [f(HyperDual(v, 1.0, 1.0, 0.0)).eps12, float(d3)]
    for path, (g2, g3) in got.items():
        assert _ulps(float(g2), d2) <= ULPS * 4, (path, g2, float(d2))
        assert _ulps(float(g3), d3) <= ULPS * 4, (path, g3, float(d3))
