"""Taylor mode on the chain-rule range sweep of test_rel_chain_range (issue 12
section 3 applied to the Taylor numbers of issue 16).

Every unary rule with a Taylor rule is composed with the inner functions that
make its argument ``u`` huge or tiny (``v**2 + 3``, ``v**2``, ``1e100 v``,
``1e-100 v``, ``1/v`` at ``v`` across 1e+-10 ... 1e+-300) and differentiated by
``hyperdual.derivatives`` on a scalar (the list fast path), on an array (the
coefficient arrays) and by a direction stack (``directional_derivatives`` with
two directions).  The Taylor rules derive most functions by the ODE trick
``y' = f'(x) x'``; formed as the series of ``f'(x)`` times that of ``x'``,
``f'(u)`` alone leaves the float range where the coefficients do not (the
second derivative of arcsinh(v**2 + 3) at v = 1.3e150 came out with the wrong
sign, that of erfcinv(v**2) at v = 1.3e-120 as inf).

* Orders 1 and 2 on the whole sweep (truth: the closed forms of
  test_rel_precision at 50 digits through the chain rule in mpmath), with
  Taylor numbers of order K = k and K = 4: where the truth is a normal float,
  within ``ULPS`` ulps times its condition number (as in test_rel_chain_range).
* Orders 3 and 4 on a subset of points (truth: Faa di Bruno's formula with the
  third to fifth derivatives of f by mpmath.diff on the closed-form f'' at 60
  digits, on a step relative to u and on mpmath's own step; a point is used
  only where the two agree to 1e-25), same bound; the condition number counts
  the cancellation of the formula's terms and the sensitivity to v.
* Wherever the truth overflows (beyond the float range by more than the
  rounding the bound allows), the coefficient must be inf of the truth's sign:
  never a finite number, a silent 0 or nan.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pytest

import hyperdual as hd
import tests.reliability.test_rel_chain_range as cr

# a sweep: the full tier (py312, noavx512), not the quick one (-m 'not slow')
pytestmark = pytest.mark.slow

M = pytest.importorskip("mpmath")
mp = M.mp

TINY, BIG, ULPS = cr.TINY, cr.BIG, cr.ULPS
EPS = np.finfo(float).eps


def _supported(name) -> bool:
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            cr._fn(name)(hd.Taylor([0.5, 1.0]))
    except TypeError:
        return False
    return True


RULES = [n for n in cr.RULES if _supported(n)]

# third and fourth derivatives: a subset of points (mpmath.diff per point)
EXPONENTS_HIGH = [10, 100, 150, 200, 300]
VS_HIGH = sorted({s * m * 10.0 ** (sg * e) for e in EXPONENTS_HIGH for sg in (1, -1)
                  for s, m in ((1, 1.7), (-1, 1.3))})
# erfcinv and ndtri by closed forms (mpmath.diff of their f'' ran a root finding per
# step: ~40 s for a handful of points), so every rule is swept at orders 3-4
INVERSES = {"erfcinv", "ndtri"}
RULES_HIGH = list(RULES)
# the modified Bessel functions by closed forms instead of mpmath.diff (minutes per
# rule): I_nu^(m) = 2**-m sum_j binom(m, j) I_(nu - m + 2j), and for e^-abs(u) I_nu
# the Leibniz sum with e^-u (it cancels like u**-m: the working digits grow with log u)
BESSEL = {"i0": (0, False), "i1": (1, False), "i0e": (0, True), "i1e": (1, True)}


def _bessel_derivs(nu, scaled, u, nmax=5):
    """f, f', ..., f^(nmax) of I_nu (or e^-abs(u) I_nu) at u != 0 in mpmath."""
    au = abs(u)
    lg = max(0, int(M.log10(au))) if au > 1 else 0
    with mp.workdps(60 + (nmax + 1) * lg + 10):
        au = +au
        bi = {n: M.besseli(n, au) for n in range(0, nu + nmax + 1)}
        d = [sum(M.binomial(m, j) * bi[abs(nu - m + 2 * j)] for j in range(m + 1)) / 2 ** m
             for m in range(nmax + 1)]
        if scaled:
            w = M.exp(-au)
            d = [w * sum(M.binomial(m, j) * (-1) ** (m - j) * d[j] for j in range(m + 1))
                 for m in range(nmax + 1)]
        out = [q if (u > 0 or (nu + m) % 2 == 0) else -q for m, q in enumerate(d)]
    return [+q for q in out]


def _inner_derivs(inner, V):
    """u, u', u'', u''', u'''' of an inner function (mpmath)."""
    _, U, U1, U2 = cr._inner(inner)
    if inner == "1/v":
        return [U(V), U1(V), U2(V), -6 / V ** 4, 24 / V ** 5, -120 / V ** 6]
    zero = M.mpf(0)
    return [U(V), U1(V), U2(V), zero, zero, zero]


def _faa(fs, us, k):
    """The terms of d^k/dv^k f(u(v)) (k <= 5) from f^(m)(u) = fs[m], u^(j) = us[j]."""
    f1, f2, f3, f4, f5 = fs[1:6]
    u1, u2, u3, u4, u5 = us[1:6]
    if k == 1:
        return [f1 * u1]
    if k == 2:
        return [f2 * u1 ** 2, f1 * u2]
    if k == 3:
        return [f3 * u1 ** 3, 3 * f2 * u1 * u2, f1 * u3]
    if k == 4:
        return [f4 * u1 ** 4, 6 * f3 * u1 ** 2 * u2, 3 * f2 * u2 ** 2, 4 * f2 * u1 * u3,
                f1 * u4]
    return [f5 * u1 ** 5, 10 * f4 * u1 ** 3 * u2, 15 * f3 * u1 * u2 ** 2,
            10 * f3 * u1 ** 2 * u3, 10 * f2 * u2 * u3, 5 * f2 * u1 * u4, f1 * u5]


def _inverse_derivs(name, u, nmax=5):
    """f, f', ..., f^(nmax) of erfcinv or ndtri in closed form: with y = f(u) (root
    finding, once) and y' = c e^(a y**2), y^(n) = c**n e^(n a y**2) P_n(y) with
    P_1 = 1, P_(n+1) = P_n' + 2 n a y P_n (erfcinv: c = -sqrt(pi)/2, a = 1; ndtri:
    c = sqrt(2 pi), a = 1/2)."""
    with mp.workdps(60):
        y = cr.REF[name][0](u)
        c, a = ((-M.sqrt(M.pi) / 2, M.mpf(1)) if name == "erfcinv"
                else (M.sqrt(2 * M.pi), M.mpf(1) / 2))
        out = [y]
        P = [M.mpf(1)]  # coefficients of P_n in powers of y
        for n in range(1, nmax + 1):
            out.append(c ** n * M.exp(n * a * y * y) * M.polyval(P[::-1], y))
            dP = [k * P[k] for k in range(1, len(P))] + [M.mpf(0), M.mpf(0)]
            nxt = [M.mpf(0)] + [2 * n * a * q for q in P]  # 2 n a y P_n
            P = [p + q for p, q in zip(dP, nxt)]
    return out


def _f_derivs(name, u, relative):
    """f, f', f'' (closed forms) and f''', f'''', f''''' (mpmath.diff of f'')."""
    if name in BESSEL:
        return _bessel_derivs(*BESSEL[name], u)
    if name in INVERSES:
        return _inverse_derivs(name, u)
    ref = cr.REF[name]
    out = [ref[0](u), ref[1](u), ref[2](u)]
    with mp.workdps(60):
        for n in (1, 2, 3):
            if relative:
                d = M.diff(lambda t: ref[2](u * (1 + t)), 0, n) / u ** n
            else:
                d = M.diff(ref[2], u, n)
            out.append(d)
    return out


@functools.cache
def _truth_high(name, inner, v):
    """None, or {k: (D_k, cond_k)} for k = 3, 4 (cond None where D_k is 0)."""
    out = None
    V = cr._mpf(v)
    try:
        us = _inner_derivs(inner, V)
        u = us[0]
        # the coefficients u_k = u^(k) / k! the Taylor number of order 4 carries (1/v's
        # u_3 = -1/v**4 overflows from v = 1e-77 on, where d3 may not)
        ok = cr._normal(u) and all(cr._normal(q / M.factorial(k))
                                   for k, q in enumerate(us[1:5], 1)) and us[1] != 0
        if ok and name in cr.PERIODIC and abs(u) > 1e15:
            ok = False
        if ok and name in cr.GAMMA_FAMILY and u < -1e4:
            ok = False
        if ok:
            fa = _f_derivs(name, u, True)
            fb = _f_derivs(name, u, False)
            ok = all(not isinstance(q, M.mpc) and M.isfinite(q) for q in fa + fb)
            ok = ok and abs(fa[0]) <= BIG
        if ok:
            out = {}
            for k in (3, 4):
                ta, tb = _faa(fa, us, k), _faa(fb, us, k)
                da, db = sum(ta), sum(tb)
                if abs(da - db) > M.mpf("1e-25") * max(abs(da), abs(db)) or da == 0:
                    continue  # the two numerical references disagree: not used
                na = _faa(fa, us, k + 1)
                cond = max(1.0, float(sum(abs(t) for t in ta) / abs(da)),
                           float(abs(V * sum(na) / da)))
                out[k] = (da, cond)
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        out = None
    return out


def _derivs(f, v, K, path):
    """The derivatives [f, f', ..., f^(K)] at v by Taylor mode (floats)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        if path == "array":
            d = hd.derivatives(f, np.array([v, 0.5 * v]), order=K)[:, 0]
        elif path == "stack":  # two directions of a one-variable function, one pass
            d = hd.directional_derivatives(lambda p: f(p[0]), np.array([v]),
                                           np.array([[1.0], [0.5]]), K)[0]
        else:
            d = hd.derivatives(f, v, order=K)
    return [float(q) for q in d]


# the scalar fast path (lists of floats), coefficient arrays, direction stacks
PATHS = ["scalar", "array", "stack"]


def _check(bad, what, got, want, cond):
    """Append a failure message unless ``got`` is right for the truth ``want``."""
    big = abs(want) > M.mpf(BIG) * (1 + 4 * ULPS * cond * EPS)
    if big:
        if not (math.isinf(got) and (got > 0) == (want > 0)):
            bad.append(f"{what}: {got!r}, truth {M.nstr(want, 5)} overflows (want "
                       f"{'+' if want > 0 else '-'}inf)")
        return
    if not TINY <= abs(want) <= BIG:
        return
    e = cr._ulps(got, want)
    if not e <= ULPS * cond:
        bad.append(f"{what}: {got!r}, truth {float(want)!r} ({e:.3g} ulps, cond {cond:.3g})")


def _low_truth(name, inner, v):
    """{k: (D_k, cond or None)} for k = 1, 2 (None where D_k is 0), or None."""
    t = cr._truth(name, inner, v)
    if t is None:
        return None
    d1, c1, d2, c2, _, _ = t
    out = {}
    for k, d, c in ((1, d1, c1), (2, d2, c2)):
        if d == 0:
            continue
        if c is None:
            if abs(d) <= BIG:  # a term of d2 overflows: no condition number
                continue
            if not _overflow_confirmed(name, inner, v, k, d):
                continue
            c = 1.0  # beyond the float range by far more than its rounding
        out[k] = (d, c)
    return out


def _overflow_confirmed(name, inner, v, k, d):
    """The k-th derivative recomputed at 800 digits agrees with ``d`` (to 1e-10): a
    few closed forms cancel beyond their working digits at extreme arguments (the
    Mills ratio in log_ndtr'' at -1.3e150), where the float range check of
    test_rel_chain_range never looks."""
    parts = cr._composite(name, inner)
    try:
        with mp.workdps(800):
            _, u1, u2, f1, f2 = parts(cr._mpf(v))
            d8 = f1 * u1 if k == 1 else f2 * u1 * u1 + f1 * u2
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        return False
    return abs(d8 - d) <= M.mpf("1e-10") * abs(d8)


def _swept(name, vs, truth):
    """(inner, f, v, t) for each inner function and each v of ``vs`` where
    ``t = truth(name, inner, v)`` has something to check; f(v) = name(inner(v))."""
    for inner, f in cr._composed(name):
        for v in vs:
            t = truth(name, inner, v)
            if t:
                yield inner, f, v, t


def sweep_low(name):
    bad, checked = [], 0
    for inner, f, v, t in _swept(name, cr.VS, _low_truth):
        for path in PATHS:
            for K in (1, 2, 4):
                d = _derivs(f, v, K, path)
                for k, (want, cond) in t.items():
                    if k > K:
                        continue
                    checked += 1
                    if callable(cond):
                        cond = cond()
                        t[k] = (want, cond)
                    _check(bad, f"d{k} {name}({inner}) at v={v!r} via {path} K={K}",
                           d[k], want, cond)
    return bad, checked


def sweep_high(name):
    bad, checked = [], 0
    for inner, f, v, t in _swept(name, VS_HIGH, _truth_high):
        for path in PATHS:
            d = _derivs(f, v, 4, path)
            for k, (want, cond) in t.items():
                checked += 1
                _check(bad, f"d{k} {name}({inner}) at v={v!r} via {path} K=4", d[k],
                       want, cond)
    return bad, checked


@pytest.mark.parametrize("name", RULES)
def test_taylor_chain_rule_keeps_coefficients_in_range(name):
    bad, checked = sweep_low(name)
    assert checked
    assert not bad, f"{len(bad)} of {checked} wrong:\n" + "\n".join(bad[:12])


@pytest.mark.parametrize("name", RULES_HIGH)
def test_taylor_third_and_fourth_coefficients_in_range(name):
    bad, checked = sweep_high(name)
    assert not bad, f"{len(bad)} of {checked} wrong:\n" + "\n".join(bad[:12])


def test_every_rule_of_the_sweep_has_a_taylor_rule():
    """Every rule of the chain-rule sweep is swept here (np.sinc, a Python function
    listed by taylor_supported, raised TypeError before it was registered)."""
    assert [n for n in cr.RULES if n not in RULES] == []


# x**c at order 8 along u = c_in v at extreme v: the k-th derivative is
# c (c - 1) .. (c - k + 1) u**(c - k) c_in**k (mpmath at 50 digits from the float u
# the inner product rounds to; its own rounding counts in the condition abs(c - k))
POWER_EXPONENTS = [-2.0, -0.5, 1.5, 2.0, 3.0, 5.0]
POWER_CURVES = [(c_in, s * m * 10.0 ** (sg * e)) for c_in in (1e100, 1e-100)
                for e in (100, 150, 200, 300) for sg in (1, -1)
                for s, m in ((1, 1.7), (-1, 1.3))]


@pytest.mark.parametrize("c", POWER_EXPONENTS)
def test_taylor_power_order_8_in_range(c):
    bad, checked = [], 0
    C = M.mpf(c)
    for c_in, v in POWER_CURVES:
        u = c_in * v
        if u == 0 or not math.isfinite(u) or (u < 0 and not c.is_integer()):
            continue
        for path in PATHS:
            d = _derivs(lambda w, c_in=c_in: (w * c_in) ** c, v, 8, path)
            fall = M.mpf(1)
            for k in range(1, 9):
                fall *= C - (k - 1)
                if fall == 0:
                    want = M.mpf(0)
                else:
                    want = fall * M.mpf(u) ** (C - k) * M.mpf(c_in) ** k
                cond = max(1.0, abs(c - k))
                if want == 0:
                    ok = d[k] == 0
                    if not ok:
                        bad.append(f"d{k} ({c_in:g} v)**{c} at v={v!r} via {path}: {d[k]!r}, "
                                   "truth 0")
                    continue
                checked += 1
                _check(bad, f"d{k} ({c_in:g} v)**{c} at v={v!r} via {path}", d[k], want, cond)
    assert checked
    assert not bad, f"{len(bad)} of {checked} wrong:\n" + "\n".join(bad[:12])
