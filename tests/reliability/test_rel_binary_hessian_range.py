"""Hessians of arctan2(a, b), hypot(a, b) and a / b at tiny and huge scales
(issue 12, section 3), every path of both engines against mpmath at 50 digits.

The second partials are ratios of powers of a, b and h = hypot(a, b) (arctan2's
are 1/h**2 in size, hypot's 1/h, a/b's 1/b**2 and a/b**3): the formulas through
a graph or hyperdual's arithmetic left the float range in intermediate terms
(reverse.hessian of arctan2 at (1e-300, 1e-300) was [[-inf, inf], [-inf, inf]],
the mixed partial truly 0; reverse-over-reverse gave nan; d2/db2 a/b at
(-1.7e300, 1e200) was half the truth).

The convention, the same in both engines: an entry whose truth is a normal float
(or 0) is within ``ULPS`` ulps times its condition number; an entry whose truth
overflows the float range is inf with the truth's sign, the same inf at (i, j)
and (j, i); an entry whose truth underflows is 0 or subnormal.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv

# a sweep: the full tier (py312, noavx512), not the quick one (-m 'not slow')
pytestmark = pytest.mark.slow

M = pytest.importorskip("mpmath")

TINY, BIG, EPS = np.finfo(float).tiny, np.finfo(float).max, np.finfo(float).eps
ULPS = 8


def _truth(name, A, B):
    if name == "arctan2":
        h2 = A * A + B * B
        m = (A * A - B * B) / h2 ** 2
        return [[-2 * A * B / h2 ** 2, m], [m, 2 * A * B / h2 ** 2]]
    if name == "hypot":
        h3 = M.sqrt(A * A + B * B) ** 3
        return [[B * B / h3, -A * B / h3], [-A * B / h3, A * A / h3]]
    return [[M.mpf(0), -1 / B ** 2], [-1 / B ** 2, 2 * A / B ** 3]]


def _cond(name, A, B, i, j, E):
    """Relative condition of entry (i, j) in (a, b), by central differences."""
    if E == 0:
        return 1.0
    d = M.mpf(10) ** -20
    da = (_truth(name, A * (1 + d), B)[i][j] - _truth(name, A * (1 - d), B)[i][j]) / (2 * d)
    db = (_truth(name, A, B * (1 + d))[i][j] - _truth(name, A, B * (1 - d))[i][j]) / (2 * d)
    return max(1.0, float((abs(da) + abs(db)) / abs(E)))


FUNCTIONS = {"arctan2": lambda p: np.arctan2(p[0], p[1]),
             "hypot": lambda p: np.hypot(p[0], p[1]),
             "divide": lambda p: p[0] / p[1]}
SCALES = [1e-300, 1e-200, 1e-160, 1e-100, 1.0, 1e100, 1e160, 1e300]
VALUES = sorted({s * m for s in SCALES for m in (1.0, -1.7)} | {0.0})


def _paths(f, p):
    eye = np.eye(2)
    return {
        "reverse.hessian": rv.hessian(f, p),
        "reverse.hvp reverse-over-reverse": np.array(
            [rv.hvp(f, p, e, mode="reverse-over-reverse") for e in eye]),
        "reverse.hvp forward-over-reverse": np.array(
            [rv.hvp(f, p, e, mode="forward-over-reverse") for e in eye]),
        "hyperdual.hessian": hd.hessian(f, p),
    }


def _wrong(got, E, cond):
    if abs(E) > BIG:
        return got != (math.inf if E > 0 else -math.inf)
    if E == 0:
        return got != 0
    if abs(E) < TINY:
        return not abs(got) < 4 * TINY
    return not (math.isfinite(got) and float(abs((got - E) / E)) / EPS <= ULPS * cond())


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_hessian_across_scales_matches_mpmath(name):
    f = FUNCTIONS[name]
    bad, checked = [], 0
    with M.workdps(50):
        for a in VALUES:
            for b in VALUES:
                if (name != "hypot" and b == 0) or (a == 0 and b == 0):
                    continue
                A, B = M.mpf(a), M.mpf(b)
                T = _truth(name, A, B)
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore", RuntimeWarning)
                    got = _paths(f, np.array([a, b]))
                for path, G in got.items():
                    for i in range(2):
                        for j in range(2):
                            checked += 1
                            g = float(G[i][j])
                            cond = functools.partial(_cond, name, A, B, i, j, T[i][j])
                            if _wrong(g, T[i][j], cond):
                                bad.append(f"{name}({a!r}, {b!r})[{i}, {j}] via {path}: "
                                           f"{g!r}, truth {float(T[i][j])!r}")
    assert checked
    assert not bad, f"{len(bad)} of {checked} wrong:\n" + "\n".join(bad[:12])


def test_arctan2_hessian_at_1e_minus_300_is_symmetric_and_agrees():
    # the truth: -2ab/h**4 = -5e599, (a**2 - b**2)/h**4 = 0, 2ab/h**4 = 5e599
    f = FUNCTIONS["arctan2"]
    p = np.array([1e-300, 1e-300])
    want = np.array([[-np.inf, 0.0], [0.0, np.inf]])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for path, H in _paths(f, p).items():
            assert np.array_equal(H, want), (path, H)
        g = rv.gradient(f, p)
    assert np.allclose(g, [5e299, -5e299], rtol=4 * EPS, atol=0)


@pytest.mark.parametrize("name", ["arctan2", "hypot"])
@pytest.mark.parametrize("point", [(0.3, 0.7), (-2.0, 0.5), (1e-3, -4.0)])
def test_third_derivatives_through_the_partial_rules(name, point):
    """The partials are Functions of their own: their backward stays differentiable
    (reverse over reverse over reverse, and forward over the reverse Hessian),
    checked against hyperdual's third derivatives."""
    f = FUNCTIONS[name]
    p = np.array(point)
    want = hd.jacobian(lambda v: hd.hessian(f, v), p)
    got_rr = rv.jacobian(lambda v: rv.hessian(f, v), p)
    got_hr = hd.jacobian(lambda v: rv.hessian(f, v), p)
    scale = np.max(np.abs(want))
    for got in (got_rr, got_hr):
        assert np.allclose(got, want, rtol=0, atol=64 * EPS * scale)
    assert np.allclose(got_rr, np.transpose(got_rr, (1, 0, 2)), rtol=0, atol=8 * EPS * scale)


@pytest.mark.parametrize("name", ["arctan2", "hypot"])
def test_broadcast_and_stacked_directions(name):
    """An array against a scalar (the scalar's cotangent is summed) and a Hessian
    of many entries (stacked directions of forward-over-reverse) equal hyperdual's."""
    fn = {"arctan2": np.arctan2, "hypot": np.hypot}[name]

    def f(v):
        return np.sum(fn(v[:-1], v[-1]) * v[:-1])

    p = np.array([0.3, -1.2, 2.5, 1e-3, 0.8])
    want = hd.hessian(f, p)
    scale = np.max(np.abs(want))
    for got in (rv.hessian(f, p), np.array([rv.hvp(f, p, e, mode="reverse-over-reverse")
                                             for e in np.eye(p.size)])):
        assert np.allclose(got, want, rtol=0, atol=16 * EPS * scale)
