"""Scan the elementwise rules at special points (integers, 0, +-1/2, tiny and large
numbers) for derivatives that are nan, inf or wrong where the truth is an ordinary
float: the rules of ``tests/reliability/_sympy_fuzz.py`` (numpy and scipy.special, one
and two arguments), first and second derivatives in both engines, against sympy's
closed forms evaluated by mpmath's numerical differentiation at 50 digits.

Usage::

    PYTHONPATH=$PWD python3 scripts/scan_special_points.py [--binary] [--points 0 -1 ...]

prints one line per flagged entry.  Points where the function has a kink or jump (the
one-sided first derivatives differ) and truths that are not finite are skipped; the
mpmath reference is numerical, so a flagged entry at a huge or tiny point (1e200,
1e-300) can be mpmath's step, not ours: check it by hand.  Found this way (session 27):
rgamma' nan at 0, -1, -2 ...; poch's second derivative -inf near z = 0; beta's
derivatives nan where a + b is 0, -1 ... (negative arguments, left open).
"""

from __future__ import annotations

import argparse
import itertools
import pathlib
import sys
import warnings

import mpmath as mp
import numpy as np
import sympy as sy

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "reliability"))

import _sympy_fuzz as fz  # noqa: E402

import hyperdual as hd  # noqa: E402
import reverse as rv  # noqa: E402

UNARY_POINTS = [0.0, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 0.5, -0.5, 1.5, 1e-300, -1e-300,
                1e-8, 0.999999, 1.000001, 30.0]
BINARY_POINTS = [0.0, 1.0, -1.0, 2.0, 0.5, -0.5, 1e-8, 30.0]


def _smooth(fl, point, orders) -> bool:
    """The one-sided first partials agree (no kink or jump at the point)."""
    for o in orders:
        left = mp.diff(fl, point, o, direction=-1)
        right = mp.diff(fl, point, o, direction=1)
        if abs(left - right) > 1e-10 * (1 + abs(left)):
            return False
    return True


def _real(values):
    if any(isinstance(v, mp.mpc) and abs(mp.im(v)) > 1e-30 for v in values):
        return None
    out = [float(mp.re(v)) for v in values]
    return out if all(np.isfinite(out)) and max(map(abs, out)) < 1e250 else None


def _flag(name, where, eng, got, want) -> int:
    scale = max(map(abs, want))
    bad = [(i, g, w) for i, (g, w) in enumerate(zip(got, want))
           if not np.isfinite(g) or abs(g - w) > 1e-9 * abs(w) + 1e-12 * scale]
    if bad:
        print(f"{name:11s} {where:18s} {eng.__name__:9s} "
              + "; ".join(f"entry {i}: got {g:.10g}, truth {w:.10g}" for i, g, w in bad))
    return len(bad)


def scan_unary(points) -> int:
    x = sy.Symbol("x", real=True)
    flagged = 0
    for name, (sf, nf, _dom) in sorted(fz.UNARY.items()):
        fl = sy.lambdify(x, sf(x), modules=[fz._MP_MODULES[0], "mpmath"])
        for p in points:
            try:
                point = mp.mpf(p)
                if not isinstance(fl(point), mp.mpf):
                    continue  # outside the real domain (numpy: nan)
                want = _real([mp.diff(fl, point, k) for k in (1, 2)])
                if want is None or not _smooth(fl, point, (1,)):
                    continue
            except (ValueError, ZeroDivisionError, TypeError, mp.libmp.NoConvergence):
                continue
            for eng in (hd, rv):
                try:
                    got = [float(eng.derivative(nf, p)), float(eng.second_derivative(nf, p))]
                except Exception as exc:  # noqa: BLE001 - reported, not raised
                    print(f"{name:11s} x={p:<16g} {eng.__name__:9s} {type(exc).__name__}: "
                          f"{str(exc)[:80]}")
                    flagged += 1
                    continue
                flagged += _flag(name, f"x={p:g}", eng, got, want)
    return flagged


def scan_binary(points) -> int:
    a, b = sy.symbols("a b", real=True)
    flagged = 0
    for name, (sf, nf, _dom) in sorted(fz.BINARY.items()):
        fl = sy.lambdify((a, b), sf(a, b), modules=[fz._MP_MODULES[0], "mpmath"])
        for pa, pb in itertools.product(points, points):
            if name == "fmod" and pb != 0 and pa / pb < 0:
                continue  # (the model's stair is floor; fmod truncates: a negative quotient)
            point = (mp.mpf(pa), mp.mpf(pb))
            try:
                if not isinstance(fl(*point), mp.mpf) or not _smooth(fl, point,
                                                                     ((1, 0), (0, 1))):
                    continue
                orders = [(1, 0), (0, 1), (2, 0), (1, 1), (1, 1), (0, 2)]
                want = _real([mp.diff(fl, point, o) for o in orders])
                if want is None:
                    continue
            except (ValueError, ZeroDivisionError, TypeError, mp.libmp.NoConvergence):
                continue
            f = lambda v, nf=nf: nf(v[0], v[1])  # noqa: E731
            for eng in (hd, rv):
                x = np.array([pa, pb])
                got = list(np.ravel(eng.gradient(f, x))) + list(np.ravel(eng.hessian(f, x)))
                flagged += _flag(name, f"({pa:g}, {pb:g})", eng, got, want)
    return flagged


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", action="store_true", help="the two-argument rules instead")
    ap.add_argument("--points", type=float, nargs="*", help="points to scan (each argument)")
    args = ap.parse_args(argv)
    mp.mp.dps = 50
    warnings.simplefilter("ignore")
    with np.errstate(all="ignore"):
        if args.binary:
            n = scan_binary(args.points or BINARY_POINTS)
        else:
            n = scan_unary(args.points or UNARY_POINTS)
    print(f"{n} flagged entries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
