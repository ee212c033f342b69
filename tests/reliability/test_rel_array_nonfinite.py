"""Session 12's reductions where an entry is NaN or infinite (issue 12: no silently
wrong derivative), and their edge shapes.

* ``np.logaddexp.reduce`` / ``accumulate`` fold ``logaddexp``, whose partials
  expit(a - b) were NaN where a and b are the same infinity: the gradient of
  logaddexp.reduce([-inf, -inf, 1, 0.5]) was [nan, nan, 0.62, 0.38] in hyperdual and
  its Hessian NaN in both engines (truth: the softmax, 0 at the -inf entries, as
  logsumexp gives).  The partials at a == b == +-inf are now those of every a == b
  (1/2 each), the second partials 0 (reverse mode's constant there), in both engines.
* Taylor numbers' ``np.maximum`` / ``np.minimum`` picked the other operand where one
  was NaN (np.maximum(nan, -5) gave -5; numpy NaN), so ``np.max(x, where=..,
  initial=..)`` of a NaN slice was finite and wrong in Taylor mode.
* Taylor ``np.max(x, axis=())`` raised IndexError (numpy: x itself).
* ``np.nanmean`` of float32 returned float64 (numpy: float32): its count was float64 in
  every engine, and Taylor numbers' ``np.where(mask, 0.0, x)`` (nansum's) made the
  Python number a float64 series.
* ``np.ediff1d(x, to_end=[1.0, x[2]])`` and ``np.polyint(p, 2, k=[x[0], 3.0])`` (lists
  holding differentiated values, which numpy accepts) raised TypeError.

Truth: closed forms in mpmath at 50 digits (the softmax and its Jacobian), numpy's
values.
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from hyperdual import Taylor
from reverse import Variable

M = pytest.importorskip("mpmath")
EPS = np.finfo(float).eps
ENGINES = [hd, rv]
INF = np.inf


def _softmax_truth(x, base=None):
    """gradient and Hessian of log(sum(exp(x))) (base 2: log2(sum(2**x))) at x, by
    mpmath at 50 digits; -inf entries have weight 0."""
    with M.workdps(50):
        k = M.log(2) if base == 2 else M.mpf(1)
        e = [M.mpf(0) if v == -INF else M.exp(k * M.mpf(float(v))) for v in x]
        z = sum(e)
        p = [w / z for w in e]
        H = [[k * (p[i] * ((1 if i == j else 0) - p[j])) for j in range(len(x))]
             for i in range(len(x))]
        return p, H


def _close(got, want, ulps=16):
    got = np.asarray(got, dtype=float).ravel()
    want = [w for row in want for w in (row if isinstance(row, list) else [row])]
    for g, w in zip(got, want):
        if w == 0:
            assert g == 0, (got, want)
        else:
            assert abs(M.mpf(float(g)) - w) <= ulps * EPS * abs(w), (got, [float(v) for v in want])


POINTS = [[-INF, -INF, 1.0, 0.5], [0.3, -INF, -INF, -INF], [-INF, 2.0, -INF, -1.0],
          [-INF, -INF, -INF, 0.0]]


@pytest.mark.parametrize("x", POINTS)
@pytest.mark.parametrize("eng", ENGINES, ids=["hyperdual", "reverse"])
def test_logaddexp_reduce_with_minus_infinities(eng, x):
    p, H = _softmax_truth(x)
    xa = np.array(x)
    _close(eng.gradient(np.logaddexp.reduce, xa), p)
    _close(eng.gradient(lambda v: np.logaddexp.accumulate(v)[-1], xa), p)
    _close(eng.hessian(np.logaddexp.reduce, xa), H)
    # base 2
    p2, H2 = _softmax_truth(x, base=2)
    _close(eng.gradient(np.logaddexp2.reduce, xa), p2)
    _close(eng.hessian(np.logaddexp2.reduce, xa), H2)


@pytest.mark.parametrize("x", POINTS[:2])
def test_logaddexp_reduce_nested_and_taylor(x):
    """hd∘rv, rv∘hd, rv∘rv Hessians and Taylor numbers along a direction."""
    p, H = _softmax_truth(x)
    xa = np.array(x)
    for outer in ENGINES:
        for inner in ENGINES:
            _close(outer.jacobian(lambda v, i=inner: i.gradient(np.logaddexp.reduce, v), xa), H)
    u = np.array([0.5, -1.0, 2.0, 0.25])
    d = hd.derivatives(lambda t: np.logaddexp.reduce(xa + t * u), 0.0, order=2)
    with M.workdps(50):
        want1 = sum(pi * ui for pi, ui in zip(p, u))
        want2 = sum(H[i][j] * u[i] * u[j] for i in range(4) for j in range(4))
    _close(d[1:], [want1, want2])


@pytest.mark.parametrize("eng", ENGINES, ids=["hyperdual", "reverse"])
def test_logaddexp_of_two_equal_infinities(eng):
    """The primitive itself: partials 1/2 each, second partials 0, in both engines."""
    for x in ([-INF, -INF], [INF, INF]):
        g = eng.gradient(lambda v: np.logaddexp(v[0], v[1]), np.array(x))
        np.testing.assert_array_equal(g, [0.5, 0.5])
    H = eng.hessian(lambda v: np.logaddexp(v[0], v[1]), np.array([-INF, -INF]))
    np.testing.assert_array_equal(H, np.zeros((2, 2)))


def _taylor(x):
    return Taylor(np.stack([x, np.ones_like(x), np.zeros_like(x)]))


@pytest.mark.parametrize("ufunc", [np.maximum, np.minimum])
def test_taylor_maximum_minimum_propagate_nan(ufunc):
    x = np.array([np.nan, 1.0, 3.0])
    y = x[::-1].copy()
    for got, want in ((ufunc(_taylor(x), -5.0), ufunc(x, -5.0)),
                      (ufunc(-5.0, _taylor(x)), ufunc(-5.0, x)),
                      (ufunc(_taylor(x), y), ufunc(x, y)),
                      (ufunc(x, _taylor(y)), ufunc(x, y))):
        np.testing.assert_array_equal(got.coef[0], want)
    # the where=/initial= path of np.max / np.min, and nanmax's
    m = np.array([[0.7, 1.1, 0.4, np.nan], [0.3, 1.9, 2.0, 1.7]])
    wh = np.array([True, False, True, True])
    for f in (lambda v: np.max(v, axis=1, where=wh, initial=-5.0),
              lambda v: np.min(v, axis=1, where=wh, initial=5.0),
              lambda v: np.maximum.reduce(v, axis=1, where=wh, initial=-5.0)):
        np.testing.assert_array_equal(f(_taylor(m)).coef[0], f(m))
        np.testing.assert_array_equal(f(hd.Dual(m, np.ones_like(m))).real, f(m))
        np.testing.assert_array_equal(f(Variable(m)).data, f(m))


@pytest.mark.parametrize("f", [np.max, np.min, np.nanmax, np.amin])
def test_taylor_extremum_over_no_axis_is_the_input(f):
    x = np.array([[0.3, 1.2], [-0.4, 2.0]])
    got = f(_taylor(x), axis=())
    np.testing.assert_array_equal(got.coef[0], f(x, axis=()))
    np.testing.assert_array_equal(got.coef[1], np.ones_like(x))


def test_nanmean_keeps_float32():
    x = np.array([[1.0, np.nan, 2.5], [0.5, 0.25, np.nan]], dtype=np.float32)
    want = np.nanmean(x, axis=1)
    for got in (np.nanmean(Variable(x), axis=1).data,
                np.nanmean(hd.Dual(x, np.ones_like(x)), axis=1).real,
                np.nanmean(_taylor(x), axis=1).coef[0]):
        assert got.dtype == want.dtype == np.float32
        np.testing.assert_array_equal(got, want)


# --- lists holding differentiated values (numpy accepts the lists) ---------------------
@pytest.mark.parametrize("eng", ENGINES, ids=["hyperdual", "reverse"])
def test_ediff1d_and_polyint_take_lists_of_differentiated_values(eng):
    """np.ediff1d(to_end=[1.0, x[2]]) and np.polyint(k=[x[0], 3.0]) raised the
    "cannot convert" TypeError; one k for m > 1 integrations raised ValueError."""
    v = np.array([0.5, -1.2, 2.0, 0.3])
    J = eng.jacobian(lambda x: np.ediff1d(x, to_begin=x[0] ** 2, to_end=[1.0, x[2]]), v)
    want = np.zeros((6, 4))
    want[0, 0] = 2 * v[0]
    for i in range(3):
        want[1 + i, i], want[1 + i, i + 1] = -1.0, 1.0
    want[5, 2] = 1.0
    np.testing.assert_array_equal(J, want)
    for k, last in (([1], 1.0), ([1, None], 0.0)):  # k=[x0] serves both integrations
        J = eng.jacobian(lambda x, k=k: np.polyint(x[1:], 2, k=[x[0]] if k == [1] else
                                                   [x[0], 3.0]), v)
        want = np.zeros((5, 4))
        want[0, 1], want[1, 2], want[2, 3] = 1 / 12, 1 / 6, 1 / 2
        want[3, 0], want[4, 0] = 1.0, last
        np.testing.assert_allclose(J, want, rtol=EPS)
    np.testing.assert_allclose(np.polyint(Variable(v[1:]), 2, k=[v[0]]).data,
                               np.polyint(v[1:], 2, k=[v[0]]), rtol=EPS)
