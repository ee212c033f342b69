"""An element a selection does not pick has no say, even where its derivative is inf.

``max``/``min`` (and ``ptp``, ``norm(ord=inf)`` built on them), ``median``/
``quantile``/``percentile``, ``maximum``/``minimum`` and ``clip`` give the
elements they do not select the weight 0.  Forward mode multiplied that weight
by the element's tangent, so an infinite tangent of an unselected element
(``sqrt'(0)``) made ``0 * inf = nan``: ``hyperdual.gradient`` of
``max(sqrt(x))`` at ``[0, 4, 1]`` was ``[nan, 0.25, 0]`` while reverse mode (whose
zero cotangent is guarded) gave the truth ``[0, 0.25, 0]``; the same for
``sum(clip(sqrt(x), 0.5, 3))`` and ``median(sqrt(x))``.  Nested forward mode
(a Dual whose parts are Duals: ``hyperdual.jacobian`` of ``hyperdual.gradient``,
``derivative`` of ``derivative``) also weighted the *value*, so the masked
entries that ``min(..., where=m, initial=...)`` fills with ``inf`` made the value
nan and the second derivative 0: ``hd.jacobian(lambda y: hd.gradient(f, y), x)``
of ``f = min(x**3, where=[1, 1, 0], initial=10)`` at ``[-2, 1, 0.5]`` had
``H[0, 0] = 0`` (truth ``6 x0 = -12``).

Every value below is a closed form (one or two correctly rounded operations), so
the results must match to a few ulps, in every path of both engines.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from tests._tolerance import assert_close_ulps

X = np.array([0.0, 4.0, 1.0])

# f, gradient at X, Hessian row 1 at X (sqrt(x1) picked: d2/dx1^2 sqrt = -x1**-1.5 / 4)
CASES = {
    "max": (lambda x: np.max(np.sqrt(x)), [0.0, 0.25, 0.0], [0.0, -1 / 32, 0.0]),
    "min": (lambda x: np.min(-np.sqrt(x)), [0.0, -0.25, 0.0], [0.0, 1 / 32, 0.0]),
    "max_axis": (lambda x: np.sum(np.max(np.sqrt(x).reshape(3, 1) * np.ones(2), axis=0)),
                 [0.0, 0.5, 0.0], [0.0, -1 / 16, 0.0]),
    "norm_inf": (lambda x: np.linalg.norm(np.sqrt(x), np.inf), [0.0, 0.25, 0.0],
                 [0.0, -1 / 32, 0.0]),
    "median": (lambda x: np.median(np.sqrt(x)), [0.0, 0.0, 0.5], [0.0, 0.0, 0.0]),
    # sorted sqrt: [0, 1, 2]; q = 0.9 -> 1 + 0.8 (2 - 1): weights 0.2 on x2, 0.8 on x1
    "quantile": (lambda x: np.quantile(np.sqrt(x), 0.9), [0.0, 0.2, 0.1],
                 [0.0, -0.8 / 32, 0.0]),
    "percentile_lower": (lambda x: np.percentile(np.sqrt(x), 50, method="lower"),
                         [0.0, 0.0, 0.5], [0.0, 0.0, 0.0]),
    "clip": (lambda x: np.sum(np.clip(np.sqrt(x), 0.5, 3.0)), [0.0, 0.25, 0.5],
             [0.0, -1 / 32, 0.0]),
    "maximum": (lambda x: np.sum(np.maximum(np.sqrt(x), 0.5)), [0.0, 0.25, 0.5],
                [0.0, -1 / 32, 0.0]),
    "minimum": (lambda x: np.sum(np.minimum(-np.sqrt(x), x - 1)), [1.0, -0.25, -0.5],
                [0.0, 1 / 32, 0.0]),
}

GRADIENTS = {
    "hd.gradient": lambda f, x: hd.gradient(f, x),
    "rv.gradient": lambda f, x: rv.gradient(f, x),
    "hd.vjp": lambda f, x: hd.vjp(f, x, 1.0)[1],
    "hd.jvp": lambda f, x: np.array([hd.jvp(f, x, e)[1] for e in np.eye(x.size)]),
}

HESSIAN_ROWS = {
    "hd.hessian": lambda f, x: hd.hessian(f, x)[1],
    "rv.hessian": lambda f, x: rv.hessian(f, x)[1],
    "hd.hvp": lambda f, x: hd.hvp(f, x, np.eye(x.size)[1]),
    "rv.hvp": lambda f, x: rv.hvp(f, x, np.eye(x.size)[1]),
    "hd.jacobian(hd.gradient)": lambda f, x: hd.jacobian(lambda y: hd.gradient(f, y), x)[1],
    "rv.jacobian(hd.gradient)": lambda f, x: rv.jacobian(lambda y: hd.gradient(f, y), x)[1],
    "hd.jacobian(rv.gradient)": lambda f, x: hd.jacobian(lambda y: rv.gradient(f, y), x)[1],
}


def _run(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # sqrt'(0) = inf warns
        return np.asarray(fn(*args), dtype=float)


@pytest.mark.parametrize("path", sorted(GRADIENTS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_unselected_infinite_tangent_gives_zero_gradient(case, path):
    f, grad, _ = CASES[case]
    assert_close_ulps(_run(GRADIENTS[path], f, X), grad, err_msg=f"{case} via {path}")


@pytest.mark.parametrize("path", sorted(HESSIAN_ROWS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_unselected_infinite_tangent_hessian_row(case, path):
    f, _, row = CASES[case]
    assert_close_ulps(_run(HESSIAN_ROWS[path], f, X), row, err_msg=f"{case} via {path}")


def test_ptp_keeps_the_selected_infinite_derivative():
    # the minimum sqrt(0) is selected: its derivative is -inf (sqrt'(0) = inf), the
    # unselected middle element still gets 0, in both engines
    def f(x):
        return np.ptp(np.sqrt(x))

    for path in ("hd.gradient", "rv.gradient"):
        assert_close_ulps(_run(GRADIENTS[path], f, X), [-np.inf, 0.25, 0.0], err_msg=path)


MASK = np.array([True, True, False])
XW = np.array([-2.0, 1.0, 0.5])
WHERE_CASES = {
    # min over the masked entries, -8 at x0: f = x0**3
    "min_where": (lambda x: np.min(x ** 3, where=MASK, initial=10.0), -8.0, -12.0),
    "amin_where_axis": (lambda x: np.amin(x ** 3, axis=0, where=MASK, initial=10.0), -8.0, -12.0),
    # max over the masked entries, 1 at x1 (the masked x2 filled with -inf): f = x1**3
    "max_where": (lambda x: np.max(-x ** 3, where=MASK, initial=-10.0), 8.0, 12.0),
}
NESTED = {
    "hd.hessian": lambda f, x: hd.hessian(f, x)[0, 0],
    "hd.jacobian(hd.gradient)": lambda f, x: hd.jacobian(lambda y: hd.gradient(f, y), x)[0, 0],
    "rv.jacobian(hd.gradient)": lambda f, x: rv.jacobian(lambda y: hd.gradient(f, y), x)[0, 0],
    "hd.jacobian(rv.gradient)": lambda f, x: hd.jacobian(lambda y: rv.gradient(f, y), x)[0, 0],
    "rv.hessian": lambda f, x: rv.hessian(f, x)[0, 0],
    "hd.derivative(hd.derivative)": lambda f, x: hd.derivative(
        lambda t: hd.derivative(lambda s: f(x + (s + t) * np.eye(3)[0]), 0.0), 0.0),
}


@pytest.mark.parametrize("path", sorted(NESTED))
@pytest.mark.parametrize("case", sorted(WHERE_CASES))
def test_nested_reduction_with_where_mask(case, path):
    f, _, h00 = WHERE_CASES[case]
    assert_close_ulps(_run(NESTED[path], f, XW), h00, err_msg=f"{case} via {path}")


@pytest.mark.parametrize("case", sorted(WHERE_CASES))
def test_nested_reduction_value_is_not_nan(case):
    # the value seen inside a nested differentiation is the value, not 0 * inf
    f, value, _ = WHERE_CASES[case]
    seen = []

    def inner(s, t):
        y = f(XW + (s + t) * np.eye(3)[0])
        v = y.real
        seen.append(float(v.real if isinstance(v, hd.Dual) else v))
        return y

    _run(hd.derivative, lambda t: hd.derivative(lambda s: inner(s, t), 0.0), 0.0)
    assert_close_ulps(seen, [value] * len(seen), err_msg=case)
