"""scipy.special.huber and pseudo_huber in both engines and Taylor mode (issue #12: no
rule, every helper raised TypeError).  Truth: closed forms evaluated in mpmath at 50
digits (pseudo_huber's checked against mpmath's numerical derivatives at ordinary
points), over delta and r from 1e-200 to 1e250 (pseudo_huber's partials in terms of
q = r/delta: a composition divided by delta**3 and lost its Hessian at 1e200)."""

import itertools

import mpmath as mp
import numpy as np
import pytest
from scipy import special

import hyperdual as hd
import reverse as rv
from tests._tolerance import assert_close_ulps

ENGINES = [hd, rv]


def _ph_closed(d, r):
    """[d/dd, d/dr, d2/dd2, d2/dddr, d2/dr2] of delta**2 (sqrt(1 + (r/delta)**2) - 1)."""
    with mp.workdps(50):
        d, r = mp.mpf(d), mp.mpf(r)
        q = r / d
        s = mp.sqrt(1 + q * q)
        return [d * q ** 4 / (s * (s + 1) ** 2), r / s,
                -q ** 4 * (2 * s + 1) / (s ** 3 * (s + 1) ** 2), q ** 3 / s ** 3, 1 / s ** 3]


def test_pseudo_huber_closed_forms_are_its_derivatives():
    def ph(d, r):
        return d * d * (mp.sqrt(1 + (r / d) ** 2) - 1)

    with mp.workdps(50):
        for d, r in [(0.3, 0.7), (2.0, -5.0), (1.0, 0.5)]:
            D, R = mp.mpf(d), mp.mpf(r)
            num = [mp.diff(ph, (D, R), n) for n in [(1, 0), (0, 1), (2, 0), (1, 1), (0, 2)]]
            for a, b in zip(num, _ph_closed(d, r)):
                assert abs(a - b) <= mp.mpf(10) ** -30 * (1 + abs(b))


PH_POINTS = list(itertools.product([1e-200, 1e-5, 0.3, 1.0, 7.0, 1e8, 1e200],
                                   [-1e250, -1e10, -3.0, -1e-7, 1e-250, 0.5, 2.0, 1e6, 1e200]))


@pytest.mark.parametrize("m", ENGINES, ids=["hyperdual", "reverse"])
def test_pseudo_huber_gradient_and_hessian(m):
    def f(v):
        return special.pseudo_huber(v[0], v[1])

    for d, r in PH_POINTS:
        t = [float(v) for v in _ph_closed(d, r)]
        p = np.array([d, r])
        assert_close_ulps(m.gradient(f, p), t[:2], ulps=16, err_msg=f"{(d, r)}")
        assert_close_ulps(m.hessian(f, p), [[t[2], t[3]], [t[3], t[4]]], ulps=32,
                          err_msg=f"{(d, r)}")


@pytest.mark.parametrize("m", ENGINES, ids=["hyperdual", "reverse"])
def test_pseudo_huber_on_arrays_mixing_both_forms(m):
    d, r = (np.array(v) for v in zip(*PH_POINTS))
    n = len(d)
    want = np.array([[float(v) for v in _ph_closed(a, b)[:2]] for a, b in PH_POINTS])
    got = m.gradient(lambda v: np.sum(special.pseudo_huber(v[:n], v[n:])),
                     np.concatenate([d, r]))
    assert_close_ulps(got, np.concatenate([want[:, 0], want[:, 1]]), ulps=16)


def test_pseudo_huber_taylor_orders():
    # d^k/dr^k of sqrt(1 + r**2) - 1 at delta = 1 (r = 0.5: the 4th is exactly 0)
    r = np.array([0.5, 3.0, -1e-3])
    with mp.workdps(50):
        want = np.array([[float(mp.diff(lambda x: mp.sqrt(1 + x * x) - 1, mp.mpf(v), k))
                          for v in r] for k in range(4)])
    for got in (hd.derivatives(lambda x: special.pseudo_huber(1.0, x), r, 3),
                rv.derivatives(lambda x: special.pseudo_huber(1.0, x), r, 3),
                rv.derivatives(lambda x: special.pseudo_huber(1.0, x), r, 3,
                               method="backprop")):
        assert_close_ulps(got, want, ulps=64)


@pytest.mark.parametrize("m", ENGINES, ids=["hyperdual", "reverse"])
def test_huber_branches(m):
    """r**2/2 inside |r| <= delta (scipy's boundary), delta (|r| - delta/2) outside."""
    def f(v):
        return special.huber(v[0], v[1])

    for d, r in [(1.0, 0.5), (1.0, -3.0), (1e200, -1e250), (1e-200, 1e-250), (2.0, 2.0),
                 (1e100, 3e99)]:
        inner = abs(r) <= d
        g = [0.0, r] if inner else [abs(r) - d, d * np.sign(r)]
        h = [[0.0, 0.0], [0.0, 1.0]] if inner else [[-1.0, np.sign(r)], [np.sign(r), 0.0]]
        p = np.array([d, r])
        assert_close_ulps(m.gradient(f, p), g, ulps=2, err_msg=f"{(d, r)}")
        assert_close_ulps(m.hessian(f, p), h, ulps=0, err_msg=f"{(d, r)}")
    np.testing.assert_array_equal(hd.derivatives(lambda x: special.huber(1.0, x), 3.0, 2),
                                  [2.5, 1.0, 0.0])


@pytest.mark.parametrize("m", ENGINES, ids=["hyperdual", "reverse"])
def test_nonpositive_delta_is_a_constant(m):
    # scipy: inf for delta < 0, pseudo_huber 0 at delta == 0; derivative 0 (no NaN
    # from r / 0 behind the constant, no warning)
    with np.errstate(all="raise"):
        for fn in (special.huber, special.pseudo_huber):
            np.testing.assert_array_equal(
                m.gradient(lambda v, fn=fn: np.sum(fn(v[:2], v[2:])),
                           np.array([-1.0, 0.0, 2.0, 2.0]))[2:], [0.0, 0.0])
