"""The Hessian of the vector 2-norm where one entry carries nearly all of it.

``d2/dx_k dx_l norm(x) = (delta_kl - u_k u_l) / norm(x)`` with ``u = x / norm(x)``.  Formed
as written (the composition ``sqrt(sum(x * x))``, or the closed form ``a.b - (u.a)(u.b)``),
the diagonal entry ``1 - u_k^2`` of the dominant entry cancels: hyperdual gave
``hessian(np.linalg.norm, [1e-9, 1.0])[1, 1] = 0`` (truth 1e-18, relative error 1) while
``np.hypot``'s own rule was right.  hyperdual's norm rule now forms it from exclusive sums
``sum_{j != k} u_j^2`` (no subtraction); reverse mode, which differentiated the
composition (forward-over-reverse and reverse-over-reverse alike), has a rule of its
own: the gradient is the Function ``UnitVector`` whose derivative ``P c / n`` is formed
from the same sums (on Dual data too).

The truth: the closed form above evaluated by mpmath at 50 digits from the exact inputs.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from tests._tolerance import assert_close_ulps

POINTS = [
    (1e-9, 1.0),
    (1e-20, 1.0),
    (3.0, 4.0, 1e-10),
    (1e-8, -2.0, 3e-9),
    (1e-300, 1e-160),  # also beyond the range where the sum of squares underflows
    (1e200, 1e150),
    (3.0, 4.0),
    (0.5, -1.5, 2.5, 1e-3),
]


def _truth(x):
    # the same closed form as sum_{k != i} x_k^2 / n^3 on the diagonal and
    # -x_i x_j / n^3 off it: no cancellation for 50 digits to lose
    with mp.workdps(50):
        xs = [mp.mpf(float(v)) for v in x]
        n3 = mp.sqrt(sum(v * v for v in xs)) ** 3
        return np.array([[float(sum(v * v for k, v in enumerate(xs) if k != i) / n3 if i == j
                                else -xs[i] * xs[j] / n3)
                          for j in range(len(xs))] for i in range(len(xs))])


def _hd_hessian(x):
    return hd.hessian(np.linalg.norm, x)


def _hd_columns(x):  # forward Hessian-vector products, one column each
    return np.stack([hd.hvp(np.linalg.norm, x, e) for e in np.eye(len(x))], axis=1)


def _rv_hessian(x):
    return rv.hessian(np.linalg.norm, x)


def _rv_rv(x):
    return rv.jacobian(lambda y: rv.gradient(np.linalg.norm, y), x)


def _rv_hvp_columns(x):
    return np.stack([rv.hvp(np.linalg.norm, x, e) for e in np.eye(len(x))], axis=1)


HELPERS = {"hd.hessian": _hd_hessian, "hd.hvp": _hd_columns, "rv.hessian": _rv_hessian,
           "rv.hvp": _rv_hvp_columns, "rv-over-rv": _rv_rv}
CASES = [pytest.param(f, p, id=f"{name}-{p}") for p in POINTS for name, f in HELPERS.items()]


@pytest.mark.parametrize(("helper", "point"), CASES)
def test_norm_hessian_entries_to_a_few_ulps(helper, point):
    x = np.array(point, dtype=np.float64)
    # u_k u_l / n from correctly rounded parts: a few roundings; the exclusive sums add
    # one rounding per entry (all terms positive), so a few ulps times the length
    assert_close_ulps(helper(x), _truth(x), ulps=4.0, cond=len(x))


def test_norm_hessian_matches_hypot_rule_in_two_dimensions():
    # an independent rule in the same engine: np.hypot's closed-form Hessian
    for p in [(1e-9, 1.0), (1e-20, 1.0), (1e-300, 1e-160), (1e200, 1e150), (-7.0, 1e-12)]:
        x = np.array(p)
        assert_close_ulps(hd.hessian(np.linalg.norm, x),
                          hd.hessian(lambda v: np.hypot(v[0], v[1]), x), ulps=4.0)


@pytest.mark.parametrize("name", sorted(HELPERS))
def test_norm_over_an_axis_hessian_per_row(name):
    # rows of a matrix, one norm each (axis=1), summed: a block-diagonal Hessian
    rows = np.array([[1e-9, 1.0, 0.0], [3.0, -4.0, 1e-12]])

    def f(v):
        return np.sum(np.linalg.norm(np.reshape(v, (2, 3)), axis=1))

    want = np.zeros((6, 6))
    want[:3, :3], want[3:, 3:] = _truth(rows[0]), _truth(rows[1])
    helper = HELPERS[name]
    if name in ("hd.hvp", "rv.hvp"):
        mod = hd if name == "hd.hvp" else rv
        got = np.stack([mod.hvp(f, rows.ravel(), e) for e in np.eye(6)], axis=1)
    else:
        got = {"hd.hessian": hd.hessian, "rv.hessian": rv.hessian,
               "rv-over-rv": lambda g, x: rv.jacobian(lambda y: rv.gradient(g, y), x)}[name](
                   f, rows.ravel())
    assert helper is not None
    assert_close_ulps(got, want, ulps=4.0, cond=3)


@pytest.mark.parametrize("mod", [hd, rv], ids=["hd", "rv"])
def test_norm_at_zero_keeps_the_safe_norm_convention(mod):
    # gradient 0 and Hessian 0 at the zero vector (README, conventions), not nan
    assert np.array_equal(mod.gradient(np.linalg.norm, np.zeros(3)), np.zeros(3))
    assert np.array_equal(mod.hessian(np.linalg.norm, np.zeros(3)), np.zeros((3, 3)))


#: beyond the range: the coefficients w_k = e_k / scale (1e160 for a unit direction at
#: 1e-160) overflowed in their products until Taylor's time was scaled by 2**lam
TAYLOR_FAR = [(1e-300, -1e-150, 1e-200), (1e300, 1e-300), (-1e250, 1e240, 3e249),
              (1e-170, 2e-170), (1e250, 1e250, -1e250)]
_SQUARE_UNDERFLOW = pytest.mark.xfail(strict=True, reason=(
    "left (README): the other entry's squared unit coordinate (1e-165)**2 underflows in "
    "the exclusive sums (0, truth 1e-190)"))
TAYLOR_CASES = [pytest.param(p, k, id=f"{k}-{p}") for p in POINTS + TAYLOR_FAR
                for k in (2, 3, 4)] + [
    pytest.param((1e-305, 1e-140), k, id=f"{k}-(1e-305, 1e-140)", marks=_SQUARE_UNDERFLOW)
    for k in (2, 3, 4)]


@pytest.mark.parametrize(("point", "order"), TAYLOR_CASES)
def test_norm_taylor_along_the_dominant_coordinate(point, order):
    # Taylor mode rounded sum(x * x) = 1 + 1e-18 to 1: the second and third derivatives
    # of norm([1e-9, 1 + t]) were 0.  Truth: sympy's exact derivative of
    # sqrt(c + (x_k + t)^2), c the other entries' squares, at 50 digits
    import sympy as sp

    x = np.array(point, dtype=np.float64)
    k = int(np.argmax(np.abs(x)))
    e = np.eye(len(x))[k]
    t = sp.Symbol("t", real=True)
    c = sum(sp.Rational(float(v)) ** 2 for i, v in enumerate(x) if i != k)
    want = float(sp.diff(sp.sqrt(c + (sp.Rational(float(x[k])) + t) ** 2), t, order)
                 .subs(t, 0).evalf(50))
    got = hd.nth_derivative(lambda s: np.linalg.norm(x + s * e), 0.0, order)
    # the recurrence's terms are products of correctly rounded parts, O(order^2) of them
    assert_close_ulps(got, want, ulps=4.0, cond=order * order * len(x))
