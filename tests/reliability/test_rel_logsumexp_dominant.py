"""Second derivatives of logsumexp (and the Jacobian of softmax) where one entry dominates.

``d2/da_i^2 logsumexp(a) = s_i (1 - s_i)`` with ``s = softmax(a)``.  At a = (0, -40, -45)
the truth for i = 0 is ``s_0 (s_1 + s_2)`` = 4.28e-18, but both engines differentiate
the composition ``log(sum(exp(a - m))) + m`` and ``s_0 - s_0^2`` cancelled to 0 (relative
error 1).  The shared logsumexp now writes it ``a_k + log1p(T)``, ``T = sum_{j != k}
exp(a_j - a_k)``, wherever T <= 1 (the shifted form elsewhere, where it is the accurate
one), in both engines and every order; the softmax, whose ``exp(x - logsumexp(x))`` had
the same ``1 - s_k``, is ``(e_k + exp(a - a_k)) / (1 + T)`` there.

The truth: ``s_i sum_{j != i} s_j`` and ``-s_i s_j`` by mpmath at 50 digits.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
import reverse.functions as F
from tests._tolerance import assert_close_ulps


def _truth(x):
    with mp.workdps(50):
        e = [mp.exp(mp.mpf(float(v))) for v in x]
        s = [v / sum(e) for v in e]
        n = len(s)
        return np.array([[float(s[i] * sum(s[k] for k in range(n) if k != i) if i == j
                                else -s[i] * s[j]) for j in range(n)] for i in range(n)])


HELPERS = {
    "hd.hessian(logsumexp)": lambda x: hd.hessian(hd.logsumexp, x),
    "rv.hessian(logsumexp)": lambda x: rv.hessian(hd.logsumexp, x),
    "rv-over-rv(logsumexp)": lambda x: rv.jacobian(lambda y: rv.gradient(hd.logsumexp, y), x),
    "hd.jacobian(softmax)": lambda x: hd.jacobian(hd.softmax, x),
    "rv.jacobian(softmax)": lambda x: rv.jacobian(hd.softmax, x),
    # the Jacobian of log_softmax is I - 1 s^T: its diagonal 1 - s_i = sum_{j != i} s_j
    "hd.jacobian(log_softmax) * s": lambda x: hd.jacobian(hd.log_softmax, x) * _s(x)[:, None],
    "rv.jacobian(log_softmax) * s": lambda x: rv.jacobian(hd.log_softmax, x) * _s(x)[:, None],
    # reverse.functions' own rules (the neural-network Functions): their backward formulas
    "rv.jacobian(F.softmax)": lambda x: rv.jacobian(F.softmax, x),
    "rv.jacobian(F.log_softmax) * s": lambda x: rv.jacobian(F.log_softmax, x) * _s(x)[:, None],
}


def _s(x):  # softmax by mpmath, correctly rounded: turns I - 1 s^T into the Hessian
    with mp.workdps(50):
        e = [mp.exp(mp.mpf(float(v))) for v in x]
        return np.array([float(v / sum(e)) for v in e])
POINTS = [(0.0, -40.0, -45.0), (0.3, -0.2, 1.1), (-3.0, -20.0, -3.7), (2.0, 2.0, 2.0),
          (700.0, 0.0), (1e-300, -1e-300, 0.5)]
CASES = [pytest.param(p, f, id=f"{name}-{p}") for p in POINTS for name, f in HELPERS.items()]


@pytest.mark.parametrize(("point", "helper"), CASES)
def test_logsumexp_second_derivatives_to_a_few_ulps(point, helper):
    x = np.array(point)
    assert_close_ulps(helper(x), _truth(x), ulps=8.0, cond=len(x))


@pytest.mark.parametrize("mod", [hd, rv], ids=["hd", "rv"])
def test_logsumexp_over_an_axis_and_third_order(mod):
    # rows with and without a dominant entry, one logsumexp each
    rows = np.array([[0.0, -40.0, -45.0], [0.3, -0.2, 1.1]])

    def f(v):
        return np.sum(hd.logsumexp(np.reshape(v, (2, 3)), axis=1))

    want = np.zeros((6, 6))
    want[:3, :3], want[3:, 3:] = _truth(rows[0]), _truth(rows[1])
    assert_close_ulps(mod.hessian(f, rows.ravel()), want, ulps=8.0, cond=3)
    # Taylor mode: d3/da0^3 = s0 (1 - s0) (1 - 2 s0), 1 - s0 = T s0, by mpmath
    with mp.workdps(50):
        t = mp.exp(-40) + mp.exp(-45)
        s0 = 1 / (1 + t)
        want3 = float(s0 * (t * s0) * (1 - 2 * s0))
    a = np.array([0.0, -40.0, -45.0])
    got3 = hd.nth_derivative(lambda u: hd.logsumexp(a + u * np.eye(3)[0]), 0.0, 3)
    assert_close_ulps(got3, want3, ulps=16.0)


def test_softmax_cross_entropy_gradient_at_a_dominant_label():
    # d/dx_k of -log s_k (mean over the batch) is -(1 - s_k) / n: reverse's rule formed
    # s_k - 1 and gave 0 where the label's logit dominates (truth -2.1e-18)
    x = np.array([[0.0, -40.0, -45.0], [0.3, -0.2, 1.1]])
    t = np.array([0, 2])
    got = rv.gradient(lambda v: F.softmax_cross_entropy(np.reshape(v, (2, 3)), t), x.ravel())
    want = []
    for row, label in zip(x, t):
        s = _s(row)
        h = _truth(row)  # s_i (1 - s_i) on the diagonal: 1 - s_i = h_ii / s_i
        want += [(-(h[i, i] / s[i]) if i == label else s[i]) / 2 for i in range(3)]
    assert_close_ulps(got, np.array(want), ulps=8.0, cond=3)


def _soft_truth(x, t):
    """d/dx of -mean_rows sum_j t_j log softmax(x)_j, at 50 digits: s_j sum(t) - t_j."""
    with mp.workdps(50):
        out = []
        for row, trow in zip(x, t):
            e = [mp.exp(mp.mpf(float(v))) for v in row]
            z = sum(e)
            st = sum(mp.mpf(float(v)) for v in trow)
            out.append([float((ej / z * st - mp.mpf(float(tj))) / len(x))
                        for ej, tj in zip(e, trow)])
        return np.array(out)


@pytest.mark.parametrize("scale", [1.0, 2.0, 0.3], ids=["normalised", "sum 2", "sum 0.3"])
def test_softmax_cross_entropy_gradient_with_soft_targets(scale):
    # soft targets: the gradient is s sum(t) - t per row; the rule formed s - t, the
    # truth only where a row of t sums to 1 (t = [1, 1] at (0.3, -0.2): -0.378/-0.622
    # where the truth is 0.245/-0.245).  Also near t = s, where s - t cancels (the
    # truth is conditioned by (s + t) / |s - t|).
    x = np.array([[0.3, -0.2, 1.1], [0.0, -40.0, -45.0], [2.0, 2.0, -1.0]])
    s = np.exp(x - x.max(1, keepdims=True))
    s /= s.sum(1, keepdims=True)
    t = np.array([[0.2, 0.5, 0.3], [0.998, 0.001, 0.001], s[2] * (1 + 1e-9)]) * scale
    want = _soft_truth(x, t)
    cond = (s * t.sum(1, keepdims=True) + t) / len(x) / np.maximum(np.abs(want), 1e-300)
    for m in (rv, hd):
        got = m.gradient(lambda v: F.softmax_cross_entropy(np.reshape(v, (3, 3)), t),
                         x.ravel())
        assert_close_ulps(np.reshape(got, (3, 3)), want, ulps=16.0, cond=cond)
