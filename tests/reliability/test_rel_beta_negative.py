"""beta and betaln where an argument or their sum lies in (-1, 0) (issue 12, found by a
random sweep against mpmath).

Their derivatives are differences of digamma (trigamma) values, psi(a) - psi(a + b),
formed without cancellation by a shift and an asymptotic series only where a and
a + b were positive; elsewhere the direct difference lost digits next to a pole
(6e-8 relative error in the gradient, 3e-7 in the Hessian at (6.8e-10, -0.514)).
beta's mixed second partial B_ab took its stable divided-difference form only where
a + b > 0: at (-1.8e-9, -0.0195) it cancelled from 1e8 to the truth 2.458 and gave
-3707.6 in both engines.  Both forms hold wherever a, b and a + b are > -1 (and
nonzero).  Truth: mpmath's derivatives of Gamma(a) Gamma(b) / Gamma(a + b) at 60
digits.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from scipy import special

import hyperdual as hd
import reverse as rv
from _exactdiff.special import beta_second_partials

EPS = np.finfo(float).eps


def _B(x, y):
    return mpmath.gamma(x) * mpmath.gamma(y) / mpmath.gamma(x + y)


def _Bln(x, y):
    return mpmath.log(abs(_B(x, y)))


def _truth(fn, a, b, orders):
    with mpmath.workdps(60):  # not mp.dps = 60: other modules' truths read the global
        A, Bb = mpmath.mpf(a), mpmath.mpf(b)
        return [mpmath.diff(fn, (A, Bb), k) for k in orders]


def _beta_truth(a, b):
    return _truth(_B, a, b, ((2, 0), (1, 1), (0, 2)))


# a, b in (-1, 0) or of mixed sign with a + b in (-1, 0): B_ab ~ 2.5 from terms ~1e8
BETA_POINTS = [(-1.7897898527905821e-09, -0.01947366164713464),
               (1.3920974480682235e-07, -6.562361738545596e-06),
               (-0.08914137371061348, 3.26187265517454e-06),
               (-0.005803769064794877, -5.58839787233617e-08),
               (-0.3, 0.2), (0.5, -0.7), (-0.5, -0.4)]


@pytest.mark.parametrize("a, b", BETA_POINTS)
def test_beta_mixed_partial_where_a_plus_b_is_negative(a, b):
    bab = beta_second_partials(a, b)[1]
    t = _beta_truth(a, b)[1]
    assert abs((mpmath.mpf(float(bab)) - t) / t) <= 64 * EPS, (float(bab), float(t))


def test_beta_hessian_both_engines_near_the_pole():
    a, b = BETA_POINTS[0]
    t = float(_beta_truth(a, b)[1])

    def f(x):
        return special.beta(x[0], x[1])

    p = np.array([a, b])
    e1 = np.array([0.0, 1.0])
    got = [hd.hessian(f, p)[0, 1], rv.hessian(f, p)[0, 1], hd.hvp(f, p, e1)[0],
           rv.hvp(f, p, e1)[0], rv.hvp(f, p, e1, mode="reverse-over-reverse")[0]]
    for v in got:
        assert abs(v - t) <= 64 * EPS * abs(t), (got, t)


NEGATIVE = [(6.842431778440843e-10, -0.5141291755521826), (-0.3, 0.2),
            (-8.829485133875119e-06, 3.2960868274279683e-06), (-0.7, 1e-7), (0.4, -0.9)]


@pytest.mark.parametrize("name", ["beta", "betaln"])
@pytest.mark.parametrize("a, b", NEGATIVE)
def test_gradient_and_hessian_with_an_argument_in_minus_one_zero(name, a, b):
    f = {"beta": lambda x: special.beta(x[0], x[1]),
         "betaln": lambda x: special.betaln(x[0], x[1])}[name]
    fn = _B if name == "beta" else _Bln
    tg = _truth(fn, a, b, ((1, 0), (0, 1)))
    th = _truth(fn, a, b, ((2, 0), (1, 1), (0, 2)))
    th = [[th[0], th[1]], [th[1], th[2]]]
    p = np.array([a, b])
    got = {"hyperdual.gradient": hd.gradient(f, p), "reverse.gradient": rv.gradient(f, p)}
    for m in (hd, rv):
        H = m.hessian(f, p)
        for i in range(2):
            for j in range(2):
                got[f"{m.__name__}.hessian[{i}, {j}]"] = H[i, j]
    for k in range(2):
        got[f"reverse.gradient[{k}]"] = got["reverse.gradient"][k]
        got[f"hyperdual.gradient[{k}]"] = got["hyperdual.gradient"][k]
    del got["reverse.gradient"], got["hyperdual.gradient"]
    for what, v in got.items():
        idx = [int(c) for c in what if c.isdigit()]
        t = tg[idx[0]] if len(idx) == 1 else th[idx[0]][idx[1]]
        err = abs((mpmath.mpf(float(v)) - t) / t)
        assert err <= 64 * EPS, f"{name} {what} at ({a}, {b}): {float(v)!r}, truth {float(t)!r}"
