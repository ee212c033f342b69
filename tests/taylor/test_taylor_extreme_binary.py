"""Binary Taylor rules on curves of extreme scale, to order 8, against exact series
arithmetic in mpmath.

xlogy, rel_entr, kl_div and x**y with both operands moving multiply one operand's
series by that of a logarithm of the other, whose coefficients (powers of
y_k / y_0) under- or overflow where the products do not: the second derivative of
xlogy(v, v) at v = 1.7e200 came out twice the truth, at 1.7e-300 (and that of
v**v) -inf for a finite truth, v**(v**2 + 3) at 1.7e-150 gave 0 for 3 v**2, 3 v and
1, kl_div/rel_entr(v**2 + 3, v**2) there nan.

Truth: the operands' Taylor coefficients as hyperdual forms them (floats, so the
rounding of the inner functions is not counted), pushed through the closed form as
truncated power series in mpmath (exponents unbounded) at 60 + 330 K digits: the
series cancel across the whole range of their terms (v**(0.5 v + 2) at 1.7e-300:
terms of 1e1198 leave 1e299).  Bound:
``ULPS`` ulps times the condition number of the coefficient with respect to the
operands' coefficients (relative perturbations of each, summed in absolute value),
where the truth is a normal float; where it overflows, inf of its sign.
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
TINY, BIG = np.finfo(float).tiny, np.finfo(float).max
ULPS = 8
K = 8


# --- truncated power series with mpf coefficients ---------------------------------------
def _mul(a, b):
    return [M.fsum(a[j] * b[k - j] for j in range(k + 1)) for k in range(len(a))]


def _div(a, b):
    q = []
    for k in range(len(a)):
        q.append((a[k] - M.fsum(b[j] * q[k - j] for j in range(1, k + 1))) / b[0])
    return q


def _log(a):
    out = [M.log(a[0])]
    r = [v / a[0] for v in a]  # log(a_0) + log(1 + (a - a_0) / a_0)
    for k in range(1, len(a)):
        out.append(r[k] - M.fsum(j * out[j] * r[k - j] for j in range(1, k)) / k)
    return out


def _exp(a):
    out = [M.exp(a[0])]
    for k in range(1, len(a)):
        out.append(M.fsum(j * a[j] * out[k - j] for j in range(1, k + 1)) / k)
    return out


def _sqrt(a):
    out = [M.sqrt(a[0])]
    for k in range(1, len(a)):
        out.append((a[k] - M.fsum(out[j] * out[k - j] for j in range(1, k))) / (2 * out[0]))
    return out


def _sub(a, b):
    return [p - q for p, q in zip(a, b)]


TRUTH = {
    "xlogy": lambda a, b: _mul(a, _log(b)),
    "rel_entr": lambda a, b: _mul(a, _log(_div(a, b))),
    "kl_div": lambda a, b: _sub(_mul(a, _log(_div(a, b))), _sub(a, b)),
    "power": lambda a, b: _exp(_mul(b, _log(a))),
    "hypot": lambda a, b: _sqrt([p + q for p, q in zip(_mul(a, a), _mul(b, b))]),
}
FLOAT = {"xlogy": special.xlogy, "rel_entr": special.rel_entr, "kl_div": special.kl_div,
         "power": np.power, "hypot": np.hypot}

# (rule, inner x, inner y)
CASES = [
    ("xlogy", "v", "v"),
    ("xlogy", "v", "v**2"),
    ("xlogy", "v**2 + 3", "v"),
    ("power", "v", "v"),
    ("power", "v", "v**2 + 3"),
    ("power", "v", "0.5 v + 2"),
    ("power", "v**2", "v"),
    ("rel_entr", "v**2 + 3", "v**2"),
    ("rel_entr", "v", "v**2"),
    ("kl_div", "v**2 + 3", "v**2"),
    ("kl_div", "v", "v**2"),
]
INNER = {"v": lambda v: v, "v**2": lambda v: v * v, "v**2 + 3": lambda v: v * v + 3.0,
         "0.5 v + 2": lambda v: 0.5 * v + 2.0, "1e200 v": lambda v: 1e200 * v,
         "3e-200 v": lambda v: 3e-200 * v, "exp": np.exp, "sin": np.sin,
         "1 + v": lambda v: 1.0 + v, "expm1": np.expm1, "1": lambda v: 1.0 + 0.0 * v}
# hypot(x, y) = abs(b) sqrt(1 + (s / b)**2) (b the larger operand) in wide floats where
# the operands' ratios spread or their values are far apart, the polar form elsewhere:
# hypot(v, v**2) at 1e-20 was 370 ulps off, its second derivative at 1.7e-50 was 0;
# hypot(1e200 v, exp(v)) at -1.7e-50 had inf/nan coefficients from order 4 on
HYPOT = [("hypot", "v", "v**2"), ("hypot", "1e200 v", "exp"), ("hypot", "v**2", "1e200 v"),
         ("hypot", "sin", "3e-200 v"), ("hypot", "v", "1"), ("hypot", "1 + v", "expm1"),
         ("hypot", "v", "v")]
CASES += HYPOT
POINTS = [1.7e200, 1.7e-300, 1.7e-150, 1.3e100, 1.3e-100, 1.7e300]
HYPOT_POINTS = [-1.3, 0.3, 1e-20, -1.7e-50, 1.7e100, 1.7e-300]


def _truth(rule, A, B):
    """[(c_k, cond_k)] for k = 0..K: the exact coefficients of the rule on the float
    coefficients A, B, and their condition numbers (relative perturbations of each
    coefficient of A and B, by a step of 1e-60, summed in absolute value)."""
    with mp.workdps(60 + 330 * K):
        a = [M.mpf(v) for v in A]
        b = [M.mpf(v) for v in B]
        base = TRUTH[rule](a, b)
        h = M.mpf(10) ** -60
        sens = [M.mpf(0)] * len(base)
        for which in (0, 1):
            for i in range(len(a)):
                if (a, b)[which][i] == 0:
                    continue
                pa, pb = list(a), list(b)
                (pa, pb)[which][i] *= 1 + h
                moved = TRUTH[rule](pa, pb)
                sens = [s + abs(m - c) / h for s, m, c in zip(sens, moved, base)]
        return [(c, max(M.mpf(1), s / abs(c)) if c != 0 else None)
                for c, s in zip(base, sens)]


@pytest.mark.parametrize("path", ["scalar", "array"])
@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_logarithmic_binary_rules_in_range(case, path):
    rule, ix, iy = case
    fx, fy, fn = INNER[ix], INNER[iy], FLOAT[rule]
    bad, checked = [], 0
    for v in HYPOT_POINTS if rule == "hypot" else POINTS:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            A = hd.taylor(fx, v, K)
            B = hd.taylor(fy, v, K)
            if not (np.all(np.isfinite(A)) and np.all(np.isfinite(B))):
                continue
            if rule == "hypot":
                if A[0] == 0 and B[0] == 0:
                    continue
            elif B[0] <= 0 or (rule != "xlogy" and A[0] <= 0):
                continue
            if path == "array":
                got = hd.taylor(lambda t: fn(fx(t), fy(t)), np.array([v, 1.5]), K)[:, 0]
            else:
                got = hd.taylor(lambda t: fn(fx(t), fy(t)), v, K)
        for k, (want, cond) in enumerate(_truth(rule, A, B)):
            if k == 0 or want == 0:
                continue
            g = float(got[k])
            what = f"c{k} {rule}({ix}, {iy}) at v={v!r}"
            if abs(want) > M.mpf(BIG) * (1 + 4 * ULPS * EPS * cond):
                checked += 1
                if not (math.isinf(g) and (g > 0) == (want > 0)):
                    bad.append(f"{what}: {g!r}, truth {M.nstr(want, 5)} overflows")
                continue
            if not TINY <= abs(want) <= BIG or cond > 1e10:
                continue
            checked += 1
            e = float(abs((M.mpf(g) - want) / want)) / EPS if math.isfinite(g) else math.inf
            if not e <= ULPS * float(cond):
                bad.append(f"{what}: {g!r}, truth {M.nstr(want, 17)} ({e:.3g} ulps, cond "
                           f"{float(cond):.3g})")
    assert checked
    assert not bad, f"{len(bad)} of {checked} wrong:\n" + "\n".join(bad[:12])


def test_the_reported_cases():
    """The reproductions of the report, as derivatives (truths in closed form)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        v = 1.7e200
        d = hd.derivatives(lambda u: special.xlogy(u, u), v, 4)
        assert abs(d[2] - 1 / v) <= 2 * EPS / v  # it was 2 / v
        v = 1.7e-300
        for f in (lambda u: special.xlogy(u, u), lambda u: u ** u):
            d = hd.derivatives(f, v, 4)
            assert abs(d[2] - 1 / v) <= 4 * EPS / v  # it was -inf (u**u: v**v ~ 1)
            assert d[3] == -np.inf and d[4] == np.inf  # -1/v**2, 2/v**3 overflow
        v = 1.7e-150
        d = hd.derivatives(lambda u: u ** (u ** 2 + 3), v, 3)
        np.testing.assert_allclose(d[1:], [3 * v * v, 6 * v, 6.0], rtol=4 * EPS)  # were 0
        for f in (special.kl_div, special.rel_entr):
            d = hd.derivatives(lambda u, f=f: f(u ** 2 + 3, u ** 2), v, 2)
            # d2 = 6 / v**2 + ... (it was nan)
            assert abs(d[2] - 6 / v ** 2) <= 8 * EPS * 6 / v ** 2, d
        # hypot(u, u**2) = u sqrt(1 + u**2): 1 + 3 u**2 / 2, 3 u, 3, -15 u ... (u > 0)
        for v in (1e-20, 1.7e-50):
            d = hd.derivatives(lambda u: np.hypot(u, u * u), v, 4)
            np.testing.assert_allclose(d[2:], [3 * v, 3.0, -15 * v], rtol=4 * EPS)
