"""Taylor mode at zeros of high multiplicity: derivatives against sympy's limits.

Each case is ``outer(inner(t))`` at t = 1 where ``inner`` vanishes there to order 1 to
6 and ``outer`` is singular at 0 (a branch point, a pole, a logarithm) or is a product
of such factors.  The truth of every derivative up to order K (2, 3, 5) is sympy's
limit from both sides (nan where they differ or are infinite); an entry counts as wrong
where both engines' ``derivatives`` give a finite number other than the truth (nan, or
inf where the truth is nan, is allowed: issue 12's class 2).  Prints the wrong entries
and their count.  Takes a few minutes (sympy's limits).

Usage: ``python scripts/sweep_taylor_singular_zeros.py``
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import sympy as sp

import hyperdual as hd
import reverse as rv

T = sp.symbols("t", real=True)
S = T - 1

INNER = {
    "s": (lambda u: u - 1.0, S),
    "s^2": (lambda u: (u - 1.0) ** 2, S**2),
    "s^3": (lambda u: (u - 1.0) ** 3, S**3),
    "s^4": (lambda u: (u - 1.0) ** 4, S**4),
    "s^6": (lambda u: (u - 1.0) ** 6, S**6),
    "sin(s)^4": (lambda u: np.sin(u - 1.0) ** 4, sp.sin(S) ** 4),
}
OUTER = {
    "sqrt": (np.sqrt, sp.sqrt),
    "cbrt": (np.cbrt, sp.cbrt),
    "log": (np.log, sp.log),
    "v**-0.5": (lambda v: v**-0.5, lambda v: v ** sp.Rational(-1, 2)),
    "v**0.75": (lambda v: v**0.75, lambda v: v ** sp.Rational(3, 4)),
    "arcsin(1-v)": (lambda v: np.arcsin(1 - v), lambda v: sp.asin(1 - v)),
    "arccos(1-v)": (lambda v: np.arccos(1 - v), lambda v: sp.acos(1 - v)),
    "arccosh(1+v)": (lambda v: np.arccosh(1 + v), lambda v: sp.acosh(1 + v)),
    "arctanh(1-v)": (lambda v: np.arctanh(1 - v), lambda v: sp.atanh(1 - v)),
    "1/v": (lambda v: 1 / v, lambda v: 1 / v),
    "sqrt(abs(v))": (lambda v: np.sqrt(np.abs(v)), lambda v: sp.sqrt(sp.Abs(v))),
    "v log v": (lambda v: v * np.log(v), lambda v: v * sp.log(v)),
    "hypot(v, 0)": (lambda v: np.hypot(v, 0.0), sp.Abs),
    "sqrt(v) sqrt(v)": (lambda v: np.sqrt(v) * np.sqrt(v), lambda v: v),
    "cbrt(v)**3": (lambda v: np.cbrt(v) * np.cbrt(v) * np.cbrt(v), lambda v: v),
    "cbrt(v) v": (lambda v: np.cbrt(v) * v, lambda v: sp.cbrt(v) * v),
    "sqrt(v) v v": (lambda v: np.sqrt(v) * (v * v), lambda v: sp.sqrt(v) * v * v),
    "exp(sqrt v) sqrt v": (lambda v: np.exp(np.sqrt(v)) * np.sqrt(v),
                           lambda v: sp.exp(sp.sqrt(v)) * sp.sqrt(v)),
}


def _truth(expr, k: int) -> float:
    d = sp.diff(expr, T, k)
    try:
        right, left = sp.limit(d, T, 1, dir="+"), sp.limit(d, T, 1, dir="-")
        return float(right) if right == left and right.is_finite else math.nan
    except Exception:  # noqa: BLE001 - sympy gives up (or a complex limit): no truth
        return math.nan


def main() -> int:
    warnings.simplefilter("ignore")
    np.seterr(all="ignore")
    wrong = total = 0
    for iname, (fi, ei) in INNER.items():
        for oname, (fo, eo) in OUTER.items():
            expr = eo(ei)
            for K in (2, 3, 5):
                truth = [_truth(expr, k) for k in range(K + 1)]
                for eng in (hd, rv):
                    got = eng.derivatives(lambda u, fo=fo, fi=fi: fo(fi(u)), 1.0, K)
                    for k, (g, t) in enumerate(zip(got, truth)):
                        total += 1
                        if np.isnan(g) or (np.isinf(g) and math.isnan(t)):
                            continue
                        if math.isnan(t) or not math.isclose(g, t, rel_tol=1e-12,
                                                             abs_tol=1e-12):
                            wrong += 1
                            print(f"WRONG {eng.__name__} {oname}({iname}) K={K} order {k}:"
                                  f" {g!r}, truth {t!r}")
    print(f"{wrong} wrong of {total} entries")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
