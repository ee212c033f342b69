"""Taylor coefficients to order 8 of the special functions whose first-order rules
are closed forms that cancel when differentiated again (issue 12 section 3 for the
Taylor numbers of issue 16).

The ODE trick differentiates the rule table's f' on Taylor numbers; for erfcx,
i0e, i1e, i0 and i1 the closed forms of f' cancel more at every order (the 6th
derivative of i0e at 10 was off by a relative 1.7e-11, the 8th of erfcx at 0.5 by
5e-10, the 8th of i1 at 1 by 3e-11).  Their Taylor rules now compose derivatives
that do not cancel (hyperdual._taylor_special).  Truth: mpmath's Taylor
coefficients at 40 and 60 digits (a point is used only where the two agree to
1e-30); bound: ``ULPS`` ulps times the condition number of the k-th derivative,
max(1, abs(x f^(k+1)(x) / f^(k)(x))), on the scalar path and on a coefficient array.
log_ndtr (Taylor tables and continued fractions in its rules) and sinc (integrals
of s**m e^(i s t) by parts) are held to the same bound.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import special

import hyperdual as hd

M = pytest.importorskip("mpmath")
mp = M.mp

EPS = np.finfo(float).eps
ULPS = 8
K = 8

FUNCTIONS = {
    "erfcx": (special.erfcx, lambda x: M.exp(x * x) * M.erfc(x)),
    "i0e": (special.i0e, lambda x: M.exp(-abs(x)) * M.besseli(0, x)),
    "i1e": (special.i1e, lambda x: M.exp(-abs(x)) * M.besseli(1, x)),
    "i0": (special.i0, lambda x: M.besseli(0, x)),
    "i1": (special.i1, lambda x: M.besseli(1, x)),
    "log_ndtr": (special.log_ndtr, lambda x: M.log(M.ncdf(x))),
    "sinc": (np.sinc, lambda x: M.sinc(M.pi * x)),
}
# small, moderate, large and negative arguments; the switch points of the rules
# (erfcx: 0.4 forward recurrence / continued fraction; Bessel: Kummer's series /
# the asymptotic series from 20 to 29 by order)
POINTS = {
    "erfcx": [-5.0, -0.3, 1e-3, 0.3, 0.5, 1.0, 2.0, 10.0, 1e4],
    "i0e": [-21.0, -1.0, 1e-3, 0.3, 5.0, 10.0, 19.0, 25.0, 35.0, 1e4],
    "i1e": [-21.0, -1.0, 1e-3, 0.3, 5.0, 10.0, 19.0, 25.0, 35.0, 1e4],
    "i0": [-10.0, -1.0, 1e-3, 0.3, 1.0, 5.0, 30.0],
    "i1": [-10.0, -1.0, 1e-3, 0.3, 1.0, 5.0, 30.0],
    "log_ndtr": [-13990.0, -100.0, -10.0, -3.9, -0.3, 0.3, 1.9, 3.0, 9.5],
    # integration by parts up or down by abs(pi x) against the order (the switch at
    # abs(pi x) = 2K + 8 to Leibniz's sum): the ODE trick was 455 x cond ulps off at 0.5
    "sinc": [-3.7, -0.5, 0.0, 1e-3, 0.3, 0.5, 1.0, 2.5, 7.3, 10.0, 1e4],
}

_TRUTH: dict = {}


def _truth(name, x):
    """[f^(k)(x) for k = 0 .. K + 1] in mpmath, None where the two precisions differ."""
    key = (name, x)
    if key not in _TRUTH:
        f = FUNCTIONS[name][1]
        runs = []
        for dps in (40, 60):
            with mp.workdps(dps):
                t = M.taylor(f, M.mpf(x), K + 1)
                runs.append([c * M.factorial(k) for k, c in enumerate(t)])
        a, b = runs
        _TRUTH[key] = [q if abs(p - q) <= M.mpf(10) ** -30 * abs(q) else None
                       for p, q in zip(a, b)]
    return _TRUTH[key]


@pytest.mark.parametrize("path", ["scalar", "array"])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_taylor_special_functions_to_order_8(name, path):
    fn = FUNCTIONS[name][0]
    bad, checked = [], 0
    tiny, big = M.mpf(np.finfo(float).tiny), M.mpf(np.finfo(float).max)
    for x in POINTS[name]:
        t = _truth(name, x)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            if path == "array":
                got = hd.derivatives(fn, np.array([x, 0.5 * x]), order=K)[:, 0]
            else:
                got = hd.derivatives(fn, x, order=K)
        for k in range(1, K + 1):
            want, nxt = t[k], t[k + 1]
            if want is None or nxt is None or want == 0 or not tiny <= abs(want) <= big:
                continue
            cond = max(1.0, float(abs(M.mpf(x) * nxt / want)))
            g = float(got[k])
            e = float(abs((M.mpf(g) - want) / want)) / EPS if math.isfinite(g) else math.inf
            checked += 1
            if not e <= ULPS * cond:
                bad.append(f"d{k} {name} at {x!r}: {g!r}, truth {M.nstr(want, 17)} "
                           f"({e:.3g} ulps, cond {cond:.3g})")
    assert checked >= 5 * len(POINTS[name])
    assert not bad, f"{len(bad)} of {checked} wrong:\n" + "\n".join(bad[:12])


BESSEL_AT_ZERO = {"i0": (0, False), "i1": (1, False), "i0e": (0, True), "i1e": (1, True)}


@pytest.mark.parametrize("path", ["scalar", "array"])
@pytest.mark.parametrize("name", sorted(BESSEL_AT_ZERO))
def test_taylor_bessel_at_zero_exact_to_order_12(name, path):
    """At x = 0 the Bessel rules take exact coefficients (they fell back to the ODE
    trick for the scaled ones: a relative 2.5e-16 at order 12, and seconds at order
    16).  Truth: I_nu's Taylor coefficients at 0 and, for e^-abs(x) I_nu, those of the
    one-sided e^-x I_nu(x) where the sides agree (m + nu even), 0 where they differ by
    sign (i0e'(0) = 0 and i1e''(0) = 0, as the first- and second-order rules give);
    along u = 3 v the k-th coefficient scales by 3**k (exact: compose's products)."""
    nu, scaled = BESSEL_AT_ZERO[name]
    fn = FUNCTIONS[name][0]
    K12 = 12
    with mp.workdps(50):
        if scaled:
            t = M.taylor(lambda x: M.exp(-x) * M.besseli(nu, x), 0, K12)
            t = [c if (k + nu) % 2 == 0 else 0 for k, c in enumerate(t)]
        else:
            t = M.taylor(lambda x: M.besseli(nu, x), 0, K12)
        want = [c * M.factorial(k) for k, c in enumerate(t)]
    for scale in (1.0, 3.0):
        def f(v, scale=scale):
            return fn(scale * v)

        if path == "array":
            got = hd.derivatives(f, np.array([0.0, 0.5]), order=K12)[:, 0]
        else:
            got = hd.derivatives(f, 0.0, order=K12)
        for k in range(K12 + 1):
            w = want[k] * M.mpf(scale) ** k
            if w == 0:
                assert got[k] == 0, (name, scale, k, got[k])
            else:
                # the coefficient and k! each rounded once, the 3**k powers exact products
                assert abs((M.mpf(float(got[k])) - w) / w) <= 4 * EPS, (name, scale, k, got[k])
    # the first- and second-order rules agree
    assert hd.derivative(fn, 0.0) == float(want[1])  # 0 or 1/2, exact
    d2 = hd.second_derivative(fn, 0.0)
    assert abs(d2 - float(want[2])) <= 2 * EPS * abs(float(want[2]))
