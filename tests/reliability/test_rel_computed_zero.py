"""A kept zero that is computed, not structural, must not give a wrong finite number.

Both engines keep a zero tangent/cotangent zero next to an inf or nan partial (the
"NaN and inf" paragraph of the README's Conventions).  That is right where the zero
is structural (the value does not move along that input: a seed, a ``where`` mask,
a constant zero weight) or clean (an O(h) factor against an o(1/h) partial: the
product rule), and wrong where the zero is computed from a value whose own
derivative is infinite.  The truths, by hand:

* ``s2(x) = sqrt(x)**2`` and ``ss(x) = sqrt(x) * sqrt(x)`` equal ``x`` for x >= 0
  (and are nan for x < 0), so at 0 the one-sided derivative is 1 and the second
  derivative 0.  Reverse mode: the cotangent of the sqrt node is ``2 sqrt(x) = 0``
  (resp. the other factor ``sqrt(x) = 0``), whose derivative is ``1/sqrt(x) = inf``:
  a computed zero, and the guard's ``0 * sqrt'(0) = 0`` was the silent wrong 0.
  Accepted: 1 (the truth) or nan ("undecidable here"), never 0.
* ``c3(x) = cbrt(x**3) = x`` for every real x: derivative 1, second derivative 0.
  Forward mode's tangent of ``x**3`` is ``3 x**2 = 0`` at 0 (computed), next to
  ``cbrt'(0) = inf``: it gave 0; now nan (a probe direction seeded with nan shows
  that ``x**3`` depends on x, so its zero tangent is not structural).
* Sums and stacks: ``F(x) = h(x0) + x1**2`` has gradient ``[h'(x0), 2 x1]``; at
  (0, 1) that is ``[1, 2]`` for h in (s2, ss, c3); ``J`` of ``[h(x0), 3 x1]`` is
  ``[[1, 0], [0, 3]]``; the Hessian of F is ``[[h''(0), 0], [0, 2]] = [[0, 0],
  [0, 2]]`` (only the entry of h may be nan).
* Nesting: ``d/dx [d/dy (s2(y) * x)]`` at y = 0, x = 1: the inner derivative is
  ``x * s2'(0) = x`` (one-sided), so the outer is 1.
* ``x0 * sqrt(x1)`` at (0, 0): f = 0 on the line x0 = 0, so ``d/dx1 = 0`` and
  ``d2/dx1**2 = 0``; ``d/dx0 = sqrt(x1) = 0``; ``d2/dx0 dx1 = 1/(2 sqrt(x1)) = inf``.

What must stay (structural or clean zeros, their truth by hand):

* ``where(x > 0, sqrt(x), x**2)`` at -1: derivative ``2x = -2``, at 0: ``2x = 0``.
* ``sqrt(x0) + x1**2`` at (0, 1): ``[inf, 2]``; ``jacobian(sqrt, [0, 4]) =
  [[inf, 0], [0, 1/4]]``.
* ``sin(x) * sqrt(x)`` at 0: ``(x + O(x**3)) sqrt(x) = x**1.5 + ...``: derivative 0.
* ``0.0 * sqrt(x)``, ``0.0 / (1 + sqrt(x))``: identically 0, derivative 0.
* ``u - u`` with ``u = sqrt(x)`` (one node, used twice): identically 0, derivative 0
  (reverse: the cotangent ``1 - 1`` is a constant zero).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv

ENGINES = {"hyperdual": hd, "reverse": rv}


def s2(x):
    return np.sqrt(x) ** 2


def ss(x):
    return np.sqrt(x) * np.sqrt(x)


def c3(x):
    return np.cbrt(x ** 3)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _truth_or_nan(got, truth, where=None):
    """Every entry of ``got`` is its truth exactly, or nan where ``where`` allows
    (default: everywhere); never another finite number."""
    got = np.asarray(got, dtype=float)
    truth = np.broadcast_to(np.asarray(truth, dtype=float), got.shape)
    may = np.ones(got.shape, bool) if where is None else np.broadcast_to(where, got.shape)
    ok = (got == truth) | (np.isnan(truth) & np.isnan(got)) | (may & np.isnan(got))
    assert ok.all(), f"{got} (truth {truth}, nan allowed at {may})"


# --- reverse mode: the zero-cotangent guard's silent 0 ---------------------------
def _first_order_helpers(m, h):
    """derivative, gradient, value_and_gradient and jacobian of engine ``m`` on h at
    0 (truth 1 or nan) beside entries that keep no zero (their truths exactly)."""
    _truth_or_nan(m.derivative(h, 0.0), 1.0)
    _truth_or_nan(m.derivative(h, np.array([0.0, 4.0])), [1.0, 1.0], [True, False])
    F = lambda x: h(x[0]) + x[1] ** 2  # noqa: E731
    x = np.array([0.0, 1.0])
    _truth_or_nan(m.gradient(F, x), [1.0, 2.0], [True, False])
    value, g = m.value_and_gradient(F, x)
    assert value == 1.0
    _truth_or_nan(g, [1.0, 2.0], [True, False])
    J = m.jacobian(lambda x: np.stack([h(x[0]), 3 * x[1]]), x)
    _truth_or_nan(J, [[1.0, 0.0], [0.0, 3.0]], [[True, False], [False, False]])
    return x


@pytest.mark.parametrize("h", [s2, ss], ids=["sqrt(x)**2", "sqrt(x)*sqrt(x)"])
def test_reverse_first_order_helpers(h):
    x = _first_order_helpers(rv, h)
    _, u = rv.vjp(lambda x: np.stack([h(x[0]), 3 * x[1]]), x, np.array([1.0, 0.0]))
    _truth_or_nan(u, [1.0, 0.0], [True, False])


@pytest.mark.parametrize("h", [s2, ss], ids=["sqrt(x)**2", "sqrt(x)*sqrt(x)"])
def test_reverse_backward_method(h):
    x = rv.Variable(np.array(0.0))
    h(x).backward()
    _truth_or_nan(x.grad.data, 1.0)


@pytest.mark.parametrize("eng", ENGINES.values(), ids=ENGINES.keys())
@pytest.mark.parametrize("h", [s2, ss], ids=["sqrt(x)**2", "sqrt(x)*sqrt(x)"])
def test_second_order_helpers(eng, h):
    _truth_or_nan(eng.second_derivative(h, 0.0), 0.0)
    H = eng.hessian(lambda x: h(x[0]) + x[1] ** 2, np.array([0.0, 1.0]))
    _truth_or_nan(H, [[0.0, 0.0], [0.0, 2.0]], [[True, False], [False, False]])


def test_reverse_nested_in_reverse():
    got = rv.derivative(lambda x: rv.derivative(lambda y: s2(y) * x, 0.0), 1.0)
    _truth_or_nan(got, 1.0)
    g = rv.gradient(lambda x: rv.derivative(lambda y: s2(y) * x[0], 0.0) + x[1],
                    np.array([1.0, 2.0]))
    _truth_or_nan(g, [1.0, 1.0], [True, False])


def test_hyperdual_nested_in_reverse():
    _truth_or_nan(rv.derivative(lambda x: hd.derivative(lambda y: s2(y) * x, 0.0), 1.0), 1.0)


def test_reverse_nested_in_hyperdual():
    # the audit replays the inner pass on the real parts of the outer Duals
    _truth_or_nan(hd.derivative(lambda x: rv.derivative(lambda y: s2(y) * x, 0.0), 1.0), 1.0)


NESTINGS = {f"{a}-in-{b}": (ENGINES[b], ENGINES[a]) for a in ENGINES for b in ENGINES}


@pytest.mark.parametrize("outer, inner", NESTINGS.values(), ids=NESTINGS.keys())
@pytest.mark.parametrize("h", [s2, ss, c3], ids=["sqrt(x)**2", "sqrt*sqrt", "cbrt(x**3)"])
def test_every_nesting_as_unnested(outer, inner, h):
    """d/dx [d/dy (h(y) x)] at y = 0, x = 1 is h'(0) = 1 (one-sided for sqrt); the
    un-nested d/dy h(y) is nan in both engines (a computed zero), so every nesting
    must be nan too (accepted: 1 or nan, never 0), in each helper shape."""
    for eng in ENGINES.values():
        _truth_or_nan(eng.derivative(h, 0.0), 1.0)
    _truth_or_nan(outer.derivative(lambda x: inner.derivative(lambda y: h(y) * x, 0.0), 1.0),
                  1.0)
    # d/dx [d/dy (h(y) x + x**2)] = h'(0) + 2 x: 3 at x = 1
    _truth_or_nan(outer.derivative(lambda x: inner.derivative(
        lambda y: h(y) * x + x ** 2, 0.0), 1.0), 3.0)
    # gradient of d/dy (h(y) x0) + x1**2: [h'(0), 2 x1] = [1, 4] at x = (1, 2); the
    # x1 entry keeps its truth wherever the nan stays in its own entries (reverse
    # inside hyperdual makes every outer part of a nan-valued result nan: Duals do
    # not tell the directions apart, and the outer derivative of an entry that does
    # not exist is not known)
    g = outer.gradient(lambda x: inner.derivative(lambda y: h(y) * x[0], 0.0) + x[1] ** 2,
                       np.array([1.0, 2.0]))
    may = [True, outer is hd and inner is rv]
    _truth_or_nan(g, [1.0, 4.0], may)
    # Jacobian of the inner gradient of h(y0) x0 + y1 x1 at y = (0, 1): [[1, 0], [0, 1]]
    J = outer.jacobian(lambda x: inner.gradient(lambda y: h(y[0]) * x[0] + y[1] * x[1],
                                                np.array([0.0, 1.0])), np.array([1.0, 2.0]))
    _truth_or_nan(J, [[1.0, 0.0], [0.0, 1.0]], [[True, h is not c3], [False, False]])


# --- forward mode: cbrt(x**3) ------------------------------------------------------
def test_reverse_cbrt_of_cube():
    _truth_or_nan(rv.derivative(c3, 0.0), 1.0)
    _truth_or_nan(rv.gradient(lambda x: c3(x[0]) + x[1] ** 2, np.array([0.0, 1.0])),
                  [1.0, 2.0], [True, False])


@pytest.mark.parametrize("h", [c3, s2, ss], ids=["cbrt(x**3)", "sqrt(x)**2", "sqrt*sqrt"])
def test_hyperdual_first_order_helpers(h):
    _first_order_helpers(hd, h)


def test_cbrt_of_cube_second_order_and_nested():
    for eng in ENGINES.values():
        _truth_or_nan(eng.second_derivative(c3, 0.0), 0.0)
        H = eng.hessian(lambda x: c3(x[0]) + x[1] ** 2, np.array([0.0, 1.0]))
        _truth_or_nan(H, [[0.0, 0.0], [0.0, 2.0]], [[True, False], [False, False]])
    # d/dx [d/dy (cbrt(y**3) * x)] at y = 0, x = 1: the inner derivative is x
    _truth_or_nan(hd.derivative(lambda x: hd.derivative(lambda y: c3(y) * x, 0.0), 1.0), 1.0)


def test_cbrt_of_cube_reverse_in_reverse():
    # the inner pass's cotangent inf times the partial 3 y**2 = 0 is nan, and its
    # derivative along that cotangent is nan too (reverse._audit.mirrored_graph), not
    # the 0 the outer pass's guard gives a constant zero weight
    _truth_or_nan(rv.derivative(lambda x: rv.derivative(lambda y: c3(y) * x, 0.0), 1.0), 1.0)


# --- rv.hessian: double backprop of x0 * sqrt(x1) ---------------------------------
def test_product_with_sqrt_hessian_hyperdual():
    H = hd.hessian(lambda x: x[0] * np.sqrt(x[1]), np.array([0.0, 0.0]))
    _truth_or_nan(H, [[0.0, np.inf], [np.inf, 0.0]], False)


def test_product_with_sqrt_hessian_reverse():
    # forward-over-reverse: the cotangent x0 of the sqrt node is 0 with a finite
    # tangent, next to sqrt'(0) = inf: its product rule is the O(h) one (t sqrt'(x1),
    # the real part 0), not 0 * inf = nan (reverse._audit.split_clean)
    f = lambda x: x[0] * np.sqrt(x[1])  # noqa: E731
    x = np.array([0.0, 0.0])
    H = [[0.0, np.inf], [np.inf, 0.0]]
    _truth_or_nan(rv.hessian(f, x), H, False)
    for i in range(2):
        v = np.eye(2)[i]
        _truth_or_nan(rv.hvp(f, x, v), H[i], False)
        _truth_or_nan(hd.hvp(f, x, v), H[i], False)
    _truth_or_nan(rv.hvp(f, x, np.eye(2)[0], mode="reverse-over-reverse"), H[0], False)


@pytest.mark.parametrize("x0", [0.0, 1.0])
def test_product_with_sqrt_hessian_reverse_over_reverse(x0):
    # double backprop: the guard's kept zero (the cotangent x0 = 0 of the sqrt node,
    # times sqrt'(0) = inf) was recorded as a cut whose derivative d/dx0 is 0; the
    # audit finds that cotangent clean (finite derivative 1) and moving, and the node
    # is redone split: its derivative is x0' sqrt'(x1) = inf
    # (reverse._audit.split_recorded).  H = [[0, inf], [inf, sqrt''(0) x0]]
    f = lambda x: x[0] * np.sqrt(x[1])  # noqa: E731
    x = np.array([x0, 0.0])
    H = [[0.0, np.inf], [np.inf, 0.0 if x0 == 0 else -np.inf]]
    for i in range(2):
        _truth_or_nan(rv.hvp(f, x, np.eye(2)[i], mode="reverse-over-reverse"), H[i], False)


NESTED_HESSIANS = {
    f"{a}-in-{b}": (lambda f, x, a=a, b=b: ENGINES[b].jacobian(
        lambda y: ENGINES[a].gradient(f, y), x)) for a in ENGINES for b in ENGINES}


@pytest.mark.parametrize("path", NESTED_HESSIANS.values(), ids=NESTED_HESSIANS.keys())
@pytest.mark.parametrize("x0", [0.0, 1.0])
def test_product_with_sqrt_hessian_every_nesting(path, x0):
    # the Jacobian of the gradient in all four engine nestings, as the un-nested
    # Hessians (reverse outside gave H[1, 0] = 0 at x0 = 0: the recorded cut)
    f = lambda x: x[0] * np.sqrt(x[1])  # noqa: E731
    x = np.array([x0, 0.0])
    H = [[0.0, np.inf], [np.inf, 0.0 if x0 == 0 else -np.inf]]
    for eng in ENGINES.values():
        _truth_or_nan(eng.hessian(f, x), H, False)
    _truth_or_nan(path(f, x), H, False)


@pytest.mark.parametrize("outer, inner", NESTINGS.values(), ids=NESTINGS.keys())
def test_clean_zero_cotangent_of_an_outer_variable(outer, inner):
    # d/da [d/dy (a sqrt(y) + a y)] at y = 0 is sqrt'(0) + 1 = inf for any a; at a = 0
    # the inner cotangent a of the sqrt node is a clean zero that moves with a, an
    # outer variable (reverse outside recorded it as a cut: 1; the audit now also
    # replays the pass with the outer leaves moving)
    got = outer.derivative(lambda a: inner.derivative(
        lambda y: a * np.sqrt(y) + a * y, 0.0), 0.0)
    _truth_or_nan(got, np.inf)


def test_product_with_sqrt_hessian_every_reverse_path():
    # the same Hessian by reverse.hessian's forward-over-reverse paths (direction
    # stack, one direction at a time), its gradient, and inside an outer helper
    from reverse import helpers as rh

    f = lambda x: x[0] * np.sqrt(x[1])  # noqa: E731
    x = np.array([0.0, 0.0])
    H = [[0.0, np.inf], [np.inf, 0.0]]
    for stacked in (True, False):
        g, got = rh._hessian_forward_over_reverse(hd, f, x, False, "hessian", stacked=stacked)
        _truth_or_nan(g, [0.0, 0.0], False)
        _truth_or_nan(got, H, False)
    g, got = rh._hessian_reverse_over_reverse(f, x, False, "hessian")
    _truth_or_nan(g, [0.0, 0.0], False)
    _truth_or_nan(got, H, False)
    # d/dt of H(t)[1] for f + t x0 x1 (H[1] = [inf + t, 0] ... H[1, 1] = 0 for every t)
    for outer in ENGINES.values():
        got = outer.derivative(lambda t: rv.hessian(
            lambda x: f(x) + t * x[0] * x[1], x)[1, 1], 1.0)
        _truth_or_nan(got, 0.0, False)
    # a scalar: d2/dx2 of sin(x) sqrt(x) at 0 is inf (README)
    for eng in ENGINES.values():
        assert eng.hessian(lambda x: np.sin(x) * np.sqrt(x), 0.0) == np.inf


def test_product_with_sqrt_hessian_reverse_never_finite_wrong():
    H = rv.hessian(lambda x: x[0] * np.sqrt(x[1]), np.array([0.0, 0.0]))
    _truth_or_nan(H, [[0.0, np.inf], [np.inf, 0.0]], [[False, False], [False, True]])


# --- second-order helpers: a zero tangent computed inside the Dual arithmetic -------
#: f(x0, x1) = h(x0) * x1 with h(x0) = x0 (for x0 >= 0): the Hessian at (0, 1) is
#: [[0, 1], [1, 0]] (one-sided in x0 for sqrt).  cbrt(x0**3): the tangent 3 x0**2 of
#: x0**3 is a computed 0 next to cbrt'(0) = inf; sqrt(x0)**2: 2 sqrt(x0) times
#: sqrt'(0) = inf.  Accepted: the truth or nan, never another number; and the same
#: nan pattern at (i, j) as at (j, i).
SECOND_ORDER = {"cbrt(x0**3)*x1": lambda x: c3(x[0]) * x[1],
                "sqrt(x0)**2*x1": lambda x: s2(x[0]) * x[1]}
MIXED = np.array([[0.0, 1.0], [1.0, 0.0]])


def _symmetric_nan(H):
    nan = np.isnan(np.asarray(H, dtype=float))
    assert np.array_equal(nan, nan.T), H


@pytest.mark.parametrize("f", SECOND_ORDER.values(), ids=SECOND_ORDER.keys())
def test_second_order_helpers_computed_zero(f):
    from reverse import helpers as rh

    x = np.array([0.0, 1.0])
    paths = {"hd.hessian": hd.hessian(f, x), "rv.hessian": rv.hessian(f, x)}
    for stacked in (True, False):
        paths[f"fwd-rev stacked={stacked}"] = rh._hessian_forward_over_reverse(
            hd, f, x, False, "hessian", stacked=stacked)[1]
    paths["rev-rev"] = rh._hessian_reverse_over_reverse(f, x, False, "hessian")[1]
    for H in paths.values():
        _truth_or_nan(H, MIXED)
        _symmetric_nan(H)
    for i in range(2):
        v = np.eye(2)[i]
        for got in (hd.hvp(f, x, v), rv.hvp(f, x, v),
                    rv.hvp(f, x, v, mode="reverse-over-reverse")):
            _truth_or_nan(got, MIXED[i])


@pytest.mark.parametrize("eng", ENGINES.values(), ids=ENGINES.keys())
@pytest.mark.parametrize("h", [s2, c3], ids=["sqrt(x)**2", "cbrt(x**3)"])
def test_second_derivative_computed_zero(eng, h):
    # h(t) (1 + t) = t + t**2 for t >= 0: f'' = 2 (hyperdual gave 0 for cbrt)
    _truth_or_nan(eng.second_derivative(lambda t: h(t) * (1.0 + t), 0.0), 2.0)
    _truth_or_nan(eng.hessian(lambda t: h(t) * (1.0 + t), 0.0), 2.0)


@pytest.mark.parametrize("outer, inner, name", [
    pytest.param(a, b, name, id=f"{b}-in-{a}-{name}")
    for a in ENGINES for b in ENGINES for name in SECOND_ORDER])
def test_second_order_computed_zero_nested(outer, inner, name):
    f = SECOND_ORDER[name]
    J = ENGINES[outer].jacobian(lambda y: ENGINES[inner].gradient(f, y), np.array([0.0, 1.0]))
    _truth_or_nan(J, MIXED)


def test_reverse_in_hyperdual_nan_stays_in_its_direction():
    # gradient of d/dy (sqrt(y)**2 x0) + x1**2 at (1, 2): [1, 4] (x0's entry may be
    # nan, as in the other three nestings); hyperdual-in-reverse gives [nan, nan]
    g = hd.gradient(lambda x: rv.derivative(lambda y: s2(y) * x[0], 0.0) + x[1] ** 2,
                    np.array([1.0, 2.0]))
    _truth_or_nan(g, [1.0, 4.0], [True, False])


# --- what must stay: structural and clean zeros -----------------------------------
@pytest.mark.parametrize("eng", ENGINES.values(), ids=ENGINES.keys())
def test_structural_and_clean_zeros_stay(eng):
    safe = lambda x: np.where(x > 0, np.sqrt(x), x ** 2)  # noqa: E731
    assert eng.derivative(safe, -1.0) == -2.0
    assert eng.derivative(safe, 0.0) == 0.0
    _truth_or_nan(eng.gradient(lambda x: np.sum(safe(x)), np.array([-1.0, 0.0, 4.0])),
                  [-2.0, 0.0, 0.25], False)
    _truth_or_nan(eng.gradient(lambda x: np.sqrt(x[0]) + x[1] ** 2, np.array([0.0, 1.0])),
                  [np.inf, 2.0], False)
    _truth_or_nan(eng.jacobian(np.sqrt, np.array([0.0, 4.0])), [[np.inf, 0.0], [0.0, 0.25]],
                  False)
    _truth_or_nan(eng.gradient(lambda x: x[0] * np.sqrt(x[1]), np.array([0.0, 0.0])),
                  [0.0, 0.0], False)
    assert eng.derivative(lambda x: np.sin(x) * np.sqrt(x), 0.0) == 0.0
    assert eng.derivative(lambda x: 0.0 * np.sqrt(x), 0.0) == 0.0
    assert eng.derivative(lambda x: 0.0 / (1.0 + np.sqrt(x)), 0.0) == 0.0


@pytest.mark.parametrize("eng", ENGINES.values(), ids=ENGINES.keys())
def test_quotient_with_zero_numerator_is_clean(eng):
    # f = x0 / (1 + sqrt(x1)): df/dx0 = 1 / (1 + sqrt(x1)) = 1 and df/dx1 =
    # -x0 / (2 sqrt(x1) (1 + sqrt(x1))**2) = 0 on the line x0 = 0 (f is 0 there)
    f = lambda x: x[0] / (1.0 + np.sqrt(x[1]))  # noqa: E731
    _truth_or_nan(eng.gradient(f, np.array([0.0, 0.0])), [1.0, 0.0], False)
    _truth_or_nan(eng.jacobian(lambda x: np.stack([f(x), x[0]]), np.array([0.0, 0.0])),
                  [[1.0, 0.0], [1.0, 0.0]], False)


def test_reverse_constant_cancellation_stays_zero():
    # one sqrt node used twice: its cotangent 1 - 1 is a constant 0 (f is 0)
    assert rv.derivative(lambda x: (lambda u: u - u)(np.sqrt(x)), 0.0) == 0.0


# --- releasing passes, jvp and vjp -----------------------------------------------
@pytest.mark.parametrize("h", [s2, ss, c3], ids=["sqrt(x)**2", "sqrt*sqrt", "cbrt(x**3)"])
def test_reverse_releasing_pass(h):
    # 2**15 entries: the first-order helpers' pass drops values on its way (a
    # releasing pass); the audit recomputes them.  d/dx_i h(x_i) = 1 (nan allowed at
    # the 0 entry only)
    x = np.ones(2 ** 15)
    x[0] = 0.0
    may = np.zeros(x.shape, bool)
    may[0] = True
    _truth_or_nan(rv.gradient(lambda x: np.sum(h(x)), x), 1.0, may)
    _truth_or_nan(rv.value_and_gradient(lambda x: np.sum(h(x)), x)[1], 1.0, may)
    _truth_or_nan(rv.derivative(h, x), 1.0, may)


def test_reverse_releasing_pass_keeps_clean_zeros():
    # sum(x[:-1] sqrt(x[1:])) at 0: every partial is an O(h) factor times sqrt or
    # sqrt'(0) = inf: 0; where(x > 0, sqrt(x), x**2): 2x at x <= 0
    n = 2 ** 15
    g = rv.gradient(lambda x: np.sum(x[:-1] * np.sqrt(x[1:])), np.zeros(n))
    _truth_or_nan(g, 0.0, False)
    x = -np.arange(n, dtype=float) / n
    g = rv.gradient(lambda x: np.sum(np.where(x > 0, np.sqrt(x), x ** 2)), x)
    _truth_or_nan(g, 2 * x, False)


@pytest.mark.parametrize("mode", ["forward-over-reverse", "reverse-over-reverse"])
@pytest.mark.parametrize("name", SECOND_ORDER)
def test_reverse_releasing_hvp_audits_computed_zero(mode, name):
    # 2**15 pairs (x0, x1) = (0, 1): the passes release values on their way, and the
    # second-order audit must still run where a zero was kept.  The Hessian is
    # block diagonal with MIXED blocks, so H @ ones = 1 (nan allowed: the h entry)
    n = 2 ** 15
    x = np.tile([0.0, 1.0], n)
    h = SECOND_ORDER[name]
    f = lambda x: np.sum(h(np.stack([x[0::2], x[1::2]])))  # noqa: E731
    _truth_or_nan(rv.hvp(f, x, np.ones(2 * n), mode=mode), 1.0)


@pytest.mark.parametrize("mode", ["forward-over-reverse", "reverse-over-reverse"])
def test_reverse_releasing_hvp_audits_only_kept_zeros(monkeypatch, mode):
    # a large x whose passes keep no zero: the second-order audits must not run
    # (every releasing pass is guarded, and counting those redid every large HVP:
    # Rosenbrock at n = 10**5 took 5x as long)
    from reverse import helpers as rh

    def fail(*args, **kwargs):
        raise AssertionError("audit ran on a pass that kept no zero")

    monkeypatch.setattr(rh, "_audited_hvp", fail)
    monkeypatch.setattr(rh, "_other_order", fail)
    monkeypatch.setattr(rh, "_symmetric_nan", fail)
    x = np.linspace(-1.0, 1.5, 2 ** 16)
    v = np.cos(x)

    def f(x):
        return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    hv = rv.hvp(f, x, v, mode=mode)
    # the Rosenbrock Hessian-vector product by hand (tridiagonal H)
    a, b = x[:-1], x[1:]
    want = np.zeros_like(x)
    want[:-1] += (1200 * a ** 2 - 400 * b + 2) * v[:-1] - 400 * a * v[1:]
    want[1:] += 200 * v[1:] - 400 * a * v[:-1]
    np.testing.assert_allclose(hv, want, rtol=1e-12, atol=1e-12 * np.max(np.abs(want)))


@pytest.mark.parametrize("eng", ENGINES.values(), ids=ENGINES.keys())
@pytest.mark.parametrize("h", [s2, ss, c3], ids=["sqrt(x)**2", "sqrt*sqrt", "cbrt(x**3)"])
def test_jvp_and_vjp(eng, h):
    # J of [h(x0), 3 x1] at (0, 1) is [[1, 0], [0, 3]] (only J[0, 0] may be nan);
    # the entries of jvp/vjp that J[0, 0] reaches may be nan (reverse's jvp poisons
    # the whole product of an audited entry: its seed u is one Variable)
    F = lambda x: np.stack([h(x[0]), 3 * x[1]])  # noqa: E731
    x = np.array([0.0, 1.0])
    _truth_or_nan(eng.jvp(F, x, np.array([1.0, 0.0]))[1], [1.0, 0.0],
                  [True, eng is rv and h is not c3])
    _truth_or_nan(eng.vjp(F, x, np.array([1.0, 0.0]))[1], [1.0, 0.0], [True, False])
    _truth_or_nan(eng.jvp(h, 0.0, 1.0)[1], 1.0)
    _truth_or_nan(eng.vjp(h, 0.0, 1.0)[1], 1.0)


@pytest.mark.parametrize("eng", ENGINES.values(), ids=ENGINES.keys())
def test_jvp_keeps_structural_and_clean_zeros(eng):
    _truth_or_nan(eng.jvp(np.sqrt, np.array([0.0, 4.0]), np.array([0.0, 1.0]))[1],
                  [0.0, 0.25], False)
    _truth_or_nan(eng.jvp(np.sqrt, np.array([0.0, 4.0]), np.array([1.0, 1.0]))[1],
                  [np.inf, 0.25], False)
    # u's zero is a constant weight: u @ J = [0 * inf, 1 * 0.25] = [0, 0.25] (hyperdual
    # gave nan: its contraction of J with u did not keep the zero weight's 0)
    _truth_or_nan(eng.vjp(np.sqrt, np.array([0.0, 4.0]), np.array([0.0, 1.0]))[1],
                  [0.0, 0.25], False)
    _truth_or_nan(eng.vjp(np.sqrt, 0.0, 0.0)[1], 0.0, False)
    _truth_or_nan(eng.jvp(lambda x: x[0] * np.sqrt(x[1]), np.array([0.0, 0.0]),
                          np.array([1.0, 1.0]))[1], 0.0, False)
    safe = lambda x: np.where(x > 0, np.sqrt(x), x ** 2)  # noqa: E731
    _truth_or_nan(eng.jvp(safe, np.array([-1.0, 0.0]), np.array([1.0, 1.0]))[1],
                  [-2.0, 0.0], False)
    _truth_or_nan(eng.vjp(lambda x: np.sum(safe(x)), np.array([-1.0, 0.0]), 1.0)[1],
                  [-2.0, 0.0], False)


# --- a sweep: computed zeros through the nestings --------------------------------
#: h with a computed zero at 0 next to an infinite derivative, and its derivatives
#: there by hand (one-sided for x >= 0): cbrt(x**3) = x; sqrt(x)**2 = x;
#: (x**1.5)**(2/3) = x (1.5 sqrt(x) = 0 next to (2/3) u**(-1/3) = inf);
#: sqrt(x**4) = x**2 (4 x**3 = 0 next to sqrt'(0)); sqrt(x**2)**2 = x**2 (2 x = 0
#: next to sqrt'(0)).  (abs is left out: its derivative at 0 is its own convention.)
SWEEP = {
    "cbrt(x**3)": (c3, 1.0, 0.0),
    "sqrt(x)**2": (s2, 1.0, 0.0),
    "(x**1.5)**(2/3)": (lambda x: (x ** 1.5) ** (2.0 / 3.0), 1.0, 0.0),
    "sqrt(x**4)": (lambda x: np.sqrt(x ** 4), 0.0, 2.0),
    "sqrt(x**2)**2": (lambda x: np.sqrt(x ** 2) ** 2, 0.0, 2.0),
}
#: (outer, inner, function, check) combinations that still give a needless nan
#: (README, Conventions): with reverse outside, a nan at a structural zero of a
#: nested Hessian (H[0, 1]; nan is allowed only where the truth needs it).  (J[0, 1]
#: of the Jacobian of the gradient of sqrt(x0)**2 x1 + x1**2, reverse inside
#: hyperdual, was 0, truth 1: hyperdual._number._probes_follow)
_SWEEP_LEFT = {
    ("reverse", "hyperdual", "sqrt(x)**2", "hessian-derivative"),
    ("reverse", "reverse", "sqrt(x)**2", "hessian-derivative"),
    ("reverse", "hyperdual", "sqrt(x**2)**2", "hessian-derivative"),
    ("reverse", "reverse", "sqrt(x**2)**2", "hessian-derivative"),
}


def _sweep_params(check):
    return [pytest.param(a, b, name, id=f"{b}-in-{a}-{name}", marks=[pytest.mark.xfail(
        strict=True, reason="a computed zero inside nested helpers that the audits "
        "do not reach (README, Conventions)")] if (a, b, name, check) in _SWEEP_LEFT else [])
        for a in ENGINES for b in ENGINES for name in SWEEP]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("outer, inner, name", _sweep_params("jacobian-gradient"))
def test_sweep_jacobian_of_gradient(outer, inner, name):
    # F = h(x0) x1 + x1**2 at (0, 1): the Hessian [[h'', h'], [h', 2]] (nan allowed)
    h, d1, d2 = SWEEP[name]
    F = lambda x: h(x[0]) * x[1] + x[1] ** 2  # noqa: E731
    J = ENGINES[outer].jacobian(lambda y: ENGINES[inner].gradient(F, y),
                                np.array([0.0, 1.0]))
    _truth_or_nan(J, [[d2, d1], [d1, 2.0]])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("outer, inner, name", _sweep_params("derivative-derivative"))
def test_sweep_derivative_of_derivative(outer, inner, name):
    h, d1, d2 = SWEEP[name]
    A, B = ENGINES[outer], ENGINES[inner]
    # d/da [d/db (h(b) a + a**2)] at b = 0, a = 1 is h'(0); d/da [h'(a)] at 0 is h''(0)
    _truth_or_nan(A.derivative(lambda a: B.derivative(lambda b: h(b) * a + a * a, 0.0), 1.0),
                  d1)
    _truth_or_nan(A.derivative(lambda a: B.derivative(h, a), 0.0), d2)
    # d/da [d/db (h(b) + b a**2)] = 2a
    _truth_or_nan(A.derivative(lambda a: B.derivative(lambda b: h(b) + b * a * a, 0.0), 1.0),
                  2.0)


@pytest.mark.slow
@pytest.mark.structure
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("outer, inner, name", _sweep_params("hessian-derivative"))
def test_sweep_hessian_inside_derivative(outer, inner, name):
    # d/ds of the Hessian of h(x0) s + s x1**2 at (0, 1): [[h'', 0], [0, 2]] (the
    # off-diagonal zeros are structural: they stay 0 with hyperdual inside; reverse's
    # forward-over-reverse on the outer numbers s finds H[1, 0] nan, the direction
    # x1 meeting the nan of row 0's computed zero, and the outer derivative of a nan
    # entry is nan)
    h, d1, d2 = SWEEP[name]
    H = ENGINES[outer].derivative(lambda s: ENGINES[inner].hessian(
        lambda x: h(x[0]) * s + s * x[1] ** 2, np.array([0.0, 1.0])), 1.0)
    _truth_or_nan(H, [[d2, 0.0], [0.0, 2.0]], [[True, False], [inner == "reverse", True]])


@pytest.mark.slow
@pytest.mark.structure
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("outer, inner, name", _sweep_params("gradient-inside"))
def test_sweep_helpers_of_an_inner_gradient(outer, inner, name):
    # F = h(x0) x1 + x1**2 at (0, 1), g = grad F = [h'(x0) x1, h(x0) + 2 x1]; every
    # outer helper of g (the third derivatives of h are 0 for every h of the sweep).
    # The inner pass runs on the outer helper's own numbers (Dual, HyperDual, Taylor
    # or Variable): hyperdual outside kept J[0, 1] = 0 (truth 1) and the Hessian of
    # g @ w had an inf (truth 0) or 0 (truth 2), a taylor of g_0 along x1 had the
    # value 0 (truth 1), with reverse inside; hyperdual.second_derivative of it raised
    # AttributeError; d/ds of the tensor of F s with reverse outside had T[0, 0] = 0
    h, d1, d2 = SWEEP[name]
    A, B = ENGINES[outer], ENGINES[inner]
    F = lambda x: h(x[0]) * x[1] + x[1] ** 2  # noqa: E731
    w, x, e1 = np.array([1.0, 2.0]), np.array([0.0, 1.0]), np.array([0.0, 1.0])
    G = lambda y: B.gradient(F, y) @ w  # noqa: E731  (h'(x0) x1 + 2 h(x0) + 4 x1)
    along_x1 = lambda t: B.gradient(F, np.stack([0.0 * t, 1.0 + t]))  # noqa: E731
    _truth_or_nan(A.hessian(G, x), [[2 * d2, d2], [d2, 0.0]])
    _truth_or_nan(A.hvp(G, x, e1), [d2, 0.0])
    _truth_or_nan(A.jvp(lambda y: B.gradient(F, y), x, e1)[1], [d1, 2.0])
    _truth_or_nan(A.jacobian(lambda y: B.gradient(F, y), x), [[d2, d1], [d1, 2.0]])
    _truth_or_nan(A.derivative(along_x1, 0.0), [d1, 2.0])
    _truth_or_nan(A.taylor(lambda t: along_x1(t)[0], 0.0, 2), [d1, d1, 0.0])
    _truth_or_nan(A.second_derivative(lambda t: B.gradient(F, np.stack([t, 1.0 + 0 * t]))
                                      @ w, 0.0), 0.0)
    _truth_or_nan(A.derivative(lambda s: B.derivative_tensor(lambda y: F(y) * s, x, 2), 1.0),
                  [[d2, d1], [d1, 2.0]])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("how", ["hyperdual", "reverse", "reverse-backprop"])
@pytest.mark.parametrize("name", SWEEP)
def test_derivative_tensor_at_a_computed_zero(how, name):
    # the tensors of F = h(x0) x1 at (0, 1), orders 1 to 3: [h', h] = [d1, 0],
    # (the Taylor passes took the series of x**1.5 truncated at order 1, [0, 0], for
    # a constant: d/dx0 of (x0**1.5)**(2/3) x1 was 0, truth 1, in both engines)
    # [[h'' x1, h'], [h', 0]] and d3/dx0^2dx1 = h'' (the third derivatives of h are
    # 0).  The Taylor passes along (2, 0) of sqrt(x0**4) x1 took the series 16 t**4
    # of order 2 for a constant (T[0, 0] was 0, truth 2: derivative_tensor had no
    # audit); reverse's backprop chain gave the third derivative of cbrt(x**3) inf
    # (truth 0) after a nan second one
    h, d1, d2 = SWEEP[name]
    F = lambda x: h(x[0]) * x[1]  # noqa: E731
    x = np.array([0.0, 1.0])
    kw = {"method": "backprop"} if how == "reverse-backprop" else {}
    eng = hd if how == "hyperdual" else rv
    T3 = np.zeros((2, 2, 2))
    T3[0, 0, 1] = T3[0, 1, 0] = T3[1, 0, 0] = d2
    for order, truth in ((1, [d1, 0.0]), (2, [[d2, d1], [d1, 0.0]]), (3, T3)):
        T = eng.derivative_tensor(F, x, order, **kw)
        _truth_or_nan(T, truth)
        assert T[(1,) * order] == 0.0  # (x1 alone meets no computed zero: exact)
    # h at the array point [0, 1], elementwise: the entry at 1 keeps its truth (h is
    # x or x**2 for x >= 0)
    square = d2 == 2.0
    at_one = [2.0, 2.0, 0.0] if square else [1.0, 0.0, 0.0]
    for k, truth in ((1, d1), (2, d2), (3, 0.0)):
        got = eng.nth_derivative(h, np.array([0.0, 1.0]), k, **kw)
        _truth_or_nan(got[0], truth)
        assert abs(got[1] - at_one[k - 1]) <= 64 * np.finfo(float).eps, (k, got)



@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("eng", ["hyperdual", "reverse"])
def test_taylor_fractional_power_of_a_truncated_series(eng):
    # x**1.5 of the series t to order 1 is [0, 0]: its truncation, not a constant
    # ((x**1.5)**(2/3) = x had the first coefficient 0, truth 1; sqrt(x**1.5) =
    # x**0.75 had 0, truth inf).  A structural constant stays one: (0 * x)**1.5
    E = ENGINES[eng]
    _truth_or_nan(E.nth_derivative(lambda x: (x ** 1.5) ** (2.0 / 3.0), 0.0, 1), 1.0)
    _truth_or_nan(E.taylor(lambda x: np.sqrt(x ** 1.5), 0.0, 1), [0.0, np.inf], [False, True])
    _truth_or_nan(E.taylor(lambda x: ((x * x) ** 1.5) ** (2.0 / 3.0), 0.0, 3),
                  [0.0, 0.0, 1.0, 0.0], [False, True, True, True])
    assert E.nth_derivative(lambda x: np.sqrt((0.0 * x) ** 1.5) + 3 * x, 0.0, 1) == 3.0
    # away from 0 every coefficient is the truth: (x**1.5)**(2/3) = x at 2
    np.testing.assert_allclose(E.taylor(lambda x: (x ** 1.5) ** (2.0 / 3.0), 2.0, 2),
                               [2.0, 1.0, 0.0], rtol=0, atol=8 * np.finfo(float).eps)


#: hyperdual outside hyperdual's middle helper of reverse's inner one: x1's entry of
#: the gradient of middle(x0) + x1**2 is nan for sqrt(t**2)**2 (truth 4: a needless nan,
#: README, Conventions; the middle value's nan is in both outer directions already)
_HD_OVER_REVERSE_LEFT = {("hyperdual", "hyperdual", "reverse")}


def _left(*key):
    return [pytest.mark.xfail(strict=True, reason="hyperdual outside hyperdual's helper "
                              "of reverse's: a needless nan in x1 (README, Conventions)")] \
        if key in _HD_OVER_REVERSE_LEFT else []


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("e1, e2, e3, name", [
    (a, b, c, n) for n in SWEEP for a in ENGINES for b in ENGINES for c in ENGINES])
def test_three_helpers_nested(e1, e2, e3, name):
    # d/ds of d/da of d/dt h(t) s at t = a, a = 0, s = 1: h''(0).  The middle helper's
    # value is an audit's nan (or h''(0) s); the outer derivative of it was 0 (truth
    # 2 for sqrt(t**2)**2) in six of the eight nestings: with reverse outside the
    # middle helper ran at a plain point with f closing over the outer variable s (its
    # nan had no path to s); with hyperdual outside the nan kept a zero tangent
    h, d1, d2 = SWEEP[name]
    A, B, C = ENGINES[e1], ENGINES[e2], ENGINES[e3]
    middle = lambda s: B.derivative(lambda a: C.derivative(lambda t: h(t) * s, a), 0.0)  # noqa: E731
    _truth_or_nan(middle(1.0), d2)
    _truth_or_nan(A.derivative(middle, 1.0), d2)
    # the first derivative of the middle function's f keeps its own truth (h'(0) s)
    _truth_or_nan(A.derivative(lambda s: C.derivative(lambda t: h(t) * s, 0.0), 1.0), d1)



def _middle_helpers(B, C, h, s):
    """Helpers of engine ``B`` of an inner derivative by ``C``, each giving
    d/dy [h'(y) s] at y = 0, that is h''(0) s."""
    x = np.array([0.0])
    inner = lambda y: C.gradient(lambda t: h(t[0]) * s, y)  # noqa: E731  ([h'(y0) s])
    return {
        "derivative": lambda: B.derivative(
            lambda a: C.derivative(lambda t: h(t) * s, a), 0.0),
        "gradient": lambda: B.gradient(lambda y: inner(y)[0], x)[0],
        "jacobian": lambda: B.jacobian(inner, x)[0, 0],
        "jvp": lambda: B.jvp(lambda y: inner(y)[0], x, np.array([1.0]))[1],
        "vjp": lambda: B.vjp(inner, x, np.array([1.0]))[1][0],
        "value_and_gradient": lambda: B.value_and_gradient(lambda y: inner(y)[0], x)[1][0],
    }


@pytest.mark.slow
@pytest.mark.structure
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("e1, e2, e3", [
    (a, b, c) for a in ENGINES for b in ENGINES for c in ENGINES])
def test_helpers_of_an_inner_derivative_closing_over_an_outer_variable(e1, e2, e3):
    # d/ds of middle(y -> d/dt h(t) s at y) at s = 1: h''(0).  The inner value h'(0) s
    # is an audit's nan for some h; jvp, vjp and value_and_gradient kept the outer
    # derivative of their nan result 0 (f's own value nan was taken for a nan of f
    # itself, which keeps its structural zeros); with reverse outside the inner's nan
    # depended on x alone, so the jvp's tangent (a derivative by x) lost s
    A, B, C = ENGINES[e1], ENGINES[e2], ENGINES[e3]
    for h, _, d2 in SWEEP.values():
        for helper in _middle_helpers(B, C, h, 1.0):
            def middle(s, h=h, helper=helper):
                return _middle_helpers(B, C, h, s)[helper]()
            _truth_or_nan(middle(1.0), d2)
            _truth_or_nan(A.derivative(middle, 1.0), d2)

@pytest.mark.slow
@pytest.mark.structure
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("e1, e2, e3", [
    pytest.param(a, b, c, marks=_left(a, b, c)) for a in ENGINES for b in ENGINES
    for c in ENGINES])
def test_an_outer_direction_the_middle_pass_does_not_move_keeps_its_derivative(e1, e2, e3):
    # the gradient of middle(x0) + x1**2 at (1, 2): [h''(0), 4].  The nan that a
    # middle helper's audit puts on its result goes to the outer directions its pass
    # moves (x0), not to x1: with hyperdual outside and reverse in the middle the
    # poison was a plain nan (d/dx0 0, truth 2 for sqrt(t**4), sqrt(t**2)**2), and
    # made nan in every outer direction it was [nan, nan]
    A, B, C = ENGINES[e1], ENGINES[e2], ENGINES[e3]
    x = np.array([1.0, 2.0])
    for h, _, d2 in SWEEP.values():
        for helper in _middle_helpers(B, C, h, 1.0):
            def f(x, h=h, helper=helper):
                return _middle_helpers(B, C, h, x[0])[helper]() + x[1] ** 2
            g = A.gradient(f, x)
            _truth_or_nan(g, [d2, 4.0], [True, False])


#: the second-order helpers of both engines on h(t) s at t = 0 (the value h''(0) s)
_SECOND_ORDER_OF_H = {
    "rv.second_derivative": lambda h, s: rv.second_derivative(lambda t: h(t) * s, 0.0),
    "rv.hessian": lambda h, s: rv.hessian(lambda t: h(t[0]) * s, np.array([0.0]))[0, 0],
    "rv.hvp": lambda h, s: rv.hvp(lambda t: h(t[0]) * s, np.array([0.0]),
                                  np.array([1.0]))[0],
    "rv.hvp-reverse": lambda h, s: rv.hvp(lambda t: h(t[0]) * s, np.array([0.0]),
                                          np.array([1.0]), mode="reverse-over-reverse")[0],
    "rv.nth_derivative": lambda h, s: rv.nth_derivative(lambda t: h(t) * s, 0.0, 2),
    "rv.nth_derivative-backprop": lambda h, s: rv.nth_derivative(
        lambda t: h(t) * s, 0.0, 2, method="backprop"),
    "rv.derivative_tensor": lambda h, s: rv.derivative_tensor(
        lambda t: h(t[0]) * s, np.array([0.0]), 2)[0, 0],
    "hd.second_derivative": lambda h, s: hd.second_derivative(lambda t: h(t) * s, 0.0),
    "hd.hessian": lambda h, s: hd.hessian(lambda t: h(t[0]) * s, np.array([0.0]))[0, 0],
    "hd.hvp": lambda h, s: hd.hvp(lambda t: h(t[0]) * s, np.array([0.0]),
                                  np.array([1.0]))[0],
    "hd.nth_derivative": lambda h, s: hd.nth_derivative(lambda t: h(t) * s, 0.0, 2),
    "hd.derivative_tensor": lambda h, s: hd.derivative_tensor(
        lambda t: h(t[0]) * s, np.array([0.0]), 2)[0, 0],
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("outer", ENGINES)
@pytest.mark.parametrize("helper", _SECOND_ORDER_OF_H)
@pytest.mark.parametrize("name", SWEEP)
def test_second_order_helper_closing_over_an_outer_variable(outer, helper, name):
    # d/ds of helper(h(t) s) at 0 is h''(0).  With hyperdual outside, reverse's
    # passes run on the outer Duals that f closes over: the audit of a recorded
    # pass left a Variable holding Dual data as it was (d/ds of the second
    # derivative of sqrt(t**2)**2 s was 0, truth 2), the HVP's audit failed on
    # nested Duals (0), the backprop chain's nan kept a zero tangent (0)
    h, d1, d2 = SWEEP[name]
    call = _SECOND_ORDER_OF_H[helper]
    _truth_or_nan(call(h, 1.0), d2)
    _truth_or_nan(ENGINES[outer].derivative(lambda s: call(h, s), 1.0), d2)
    # the gradient of helper(h(t) x0) + x1**2 at (1, 2): [h''(0), 4].  With reverse
    # outside, x0 is a node (x[0]) and the poison of rv.second_derivative's nan went
    # through d.sum(), whose nan the guards' Where nodes in d's graph cut: [0, 4]
    # (truth [2, 4] for sqrt(t**2)**2, sqrt(t**4))
    # x1's 4 exact: with hyperdual outside the nan of the result was in every outer
    # direction, x1's too ([nan, nan]); it is now in those f moves at all
    g = ENGINES[outer].gradient(lambda x: call(h, x[0]) + x[1] ** 2, np.array([1.0, 2.0]))
    _truth_or_nan(g, [d2, 4.0], [True, False])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", SWEEP)
def test_reverse_second_order_in_long_double(name):
    # f computing in long double (an outer helper's redo does, and so may f): the
    # audit's replay divided Python floats and raised ZeroDivisionError
    # (second_derivative), or the HVP's audit swallowed it and kept 0 (truth 2)
    h, d1, d2 = SWEEP[name]
    s = np.longdouble(1.0)
    _truth_or_nan(rv.second_derivative(lambda t: h(t) * s, 0.0), d2)
    _truth_or_nan(rv.hvp(lambda t: h(t[0]) * s, np.array([0.0]), np.array([1.0])), [d2])
    _truth_or_nan(rv.hessian(lambda t: h(t[0]) * s, np.array([0.0])), [[d2]])

#: h with a computed zero tangent next to an infinite partial at 0, and h''(0):
#: sqrt(x**4) = x**2 (4 x**3 = 0 next to sqrt'(0) = inf; reverse's forward-over-reverse
#: hessian gave 0: reverse.helpers._audited_hessian); (x**1.5)**(2/3) = x (both
#: tangents 1.5 sqrt(x) of f''(u) u1 u2 are computed zeros; hyperdual gave inf: the
#: audit had no probe beside the ε2 tangent, hyperdual._number.AUDIT_M);
#: sqrt(x**2)**2 = x**2 (reverse's second_derivative and double-backprop hvp gave 0 at
#: a scalar x: the audit skipped 0-d results, _exactdiff.fprange.scaled_seed); h''(1)
SECOND_AT_ZERO = {"sqrt(x**4)": (lambda x: np.sqrt(x ** 4), 2.0, 2.0),
                  "(x**1.5)**(2/3)": (lambda x: (x ** 1.5) ** (2.0 / 3.0), 0.0, 0.0),
                  "sqrt(x**2)**2": (lambda x: np.sqrt(x ** 2) ** 2, 2.0, 2.0),
                  # (one-sided; the array case keeps the entry at 1 exact: reverse's
                  # audit of an elementwise f puts each nan on its own entry)
                  "sqrt(x)**2": (s2, 0.0, 0.0)}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", SECOND_AT_ZERO)
@pytest.mark.parametrize("eng", ENGINES.values(), ids=ENGINES.keys())
def test_second_order_helpers_at_a_computed_zero(eng, name):
    h, d2, d2_at_1 = SECOND_AT_ZERO[name]
    _truth_or_nan(eng.hessian(h, 0.0), d2)
    _truth_or_nan(eng.second_derivative(h, 0.0), d2)
    _truth_or_nan(eng.second_derivative(h, np.array([0.0, 1.0])), [d2, d2_at_1],
                  [True, False])
    _truth_or_nan(eng.hvp(h, 0.0, 1.0), d2)
    _truth_or_nan(eng.hvp(h, 0.0, 1.0, **({"mode": "reverse-over-reverse"}
                                          if eng is rv else {})), d2)
    # in a Hessian of two variables: [[d2, 0], [0, 2]], the x1 row and column exact
    H = eng.hessian(lambda x: h(x[0]) + x[1] ** 2, np.array([0.0, 1.0]))
    _truth_or_nan(H, [[d2, 0.0], [0.0, 2.0]], [[True, False], [False, False]])


@pytest.mark.slow
@pytest.mark.structure
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("outer, inner", NESTINGS.values(), ids=NESTINGS.keys())
@pytest.mark.parametrize("name", SWEEP)
def test_nested_hessian_entry_of_a_computed_zero(outer, inner, name):
    # d/ds of H[0, 0] of h(x0) s + s x1**2 at (0, 1) is h''(0): nan allowed, never
    # another number (with reverse outside it was 0 for sqrt(x**2)**2, truth 2: the
    # outer derivative of an entry whose value is nan; reverse.helpers._nan_valued_poisoned)
    h, d1, d2 = SWEEP[name]
    H = outer.derivative(lambda s: inner.hessian(
        lambda x: h(x[0]) * s + s * x[1] ** 2, np.array([0.0, 1.0])), 1.0)
    _truth_or_nan(H[0, 0], d2)
    _truth_or_nan(H[1, 1], 2.0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("outer, inner", NESTINGS.values(), ids=NESTINGS.keys())
@pytest.mark.parametrize("helper", ["hessian", "second_derivative", "hvp"])
def test_second_order_helper_on_outer_numbers(outer, inner, helper):
    # d/ds of the second derivative of sqrt(x**4) s = x**2 s at x = 0 is 2; the
    # inner result is nan (a computed zero), so its outer derivative is nan too (with
    # hyperdual outside it was 0: the inner audit skipped results carrying outer
    # numbers, and a nan value kept a 0 outer tangent), and the same for the value s**2 H
    inner_call = {"hessian": lambda f: inner.hessian(f, 0.0),
                  "second_derivative": lambda f: inner.second_derivative(f, 0.0),
                  "hvp": lambda f: inner.hvp(f, 0.0, 1.0)}[helper]
    _truth_or_nan(outer.derivative(lambda s: inner_call(lambda x: np.sqrt(x ** 4) * s),
                                   1.0), 2.0)
    _truth_or_nan(outer.derivative(lambda s: inner_call(lambda x: np.sqrt(x ** 4) * s) * s,
                                   1.5), 6.0)
    # sqrt(x)**2 s = x s (one-sided): second derivative 0, d/ds 0 (it was inf with
    # reverse inside hyperdual)
    _truth_or_nan(outer.derivative(lambda s: inner_call(lambda x: np.sqrt(x) ** 2 * s),
                                   1.0), 0.0)


# --- a sweep of computed zeros through the four nestings -----------------------------
#: h(y) = y for y >= 0 (every real y for the cube-root forms): h'(0) = 1 (one-sided for
#: sqrt), and each engine's d/dy h at 0 meets a computed zero (a kept 0 next to inf).
SWEEP_ONE_SIDED = {"cbrt(y**3)": c3, "sqrt(y)**2": s2, "sqrt(y)*sqrt(y)": ss,
         "cbrt(y)**3": lambda y: np.cbrt(y) ** 3,
         "cbrt(y)*cbrt(y)*cbrt(y)": lambda y: np.cbrt(y) * np.cbrt(y) * np.cbrt(y)}


@pytest.mark.parametrize("outer, inner", NESTINGS.values(), ids=NESTINGS.keys())
@pytest.mark.parametrize("h", SWEEP_ONE_SIDED.values(), ids=SWEEP_ONE_SIDED.keys())
def test_nested_sweep_never_finite_wrong(outer, inner, h):
    # d/dx [d/dy h(y) x**2] at x = 1.5 is 2 x h'(0) = 3
    _truth_or_nan(outer.derivative(lambda x: inner.derivative(
        lambda y: h(y) * x ** 2, 0.0), 1.5), 3.0)
    # gradient of d/dy (h(y) x0 + y x1) + x1**2 x0 = h'(0) x0 + x1 + x1**2 x0 at (1, 2):
    # [h'(0) + x1**2, 1 + 2 x0 x1] = [5, 5] (x1 reaches the inner pass: nan allowed)
    g = outer.gradient(lambda x: inner.derivative(
        lambda y: h(y) * x[0] + y * x[1], 0.0) + x[1] ** 2 * x[0], np.array([1.0, 2.0]))
    _truth_or_nan(g, [5.0, 5.0])
    # gradient of d/dy (h(y) x0) + x1**2 x0 (x1 does not reach the inner pass): [5, 4]
    g = outer.gradient(lambda x: inner.derivative(
        lambda y: h(y) * x[0], 0.0) + x[1] ** 2 * x[0], np.array([1.0, 2.0]))
    _truth_or_nan(g, [5.0, 4.0], [True, False])


#: f(t; x0, x1) = form(h, t, x0, x1) with h(t) = t**2 written so that an audit or a
#: Taylor rule makes h''(0) nan; the gradient of f_tt(0) + x1**2 at (x0, x1) = (1, 2)
#: in closed form (h = t**2)
_FORMS_OF_X = {
    "h(t) x0 + t**2 x1": (lambda h, t, a, b: h(t) * a + t ** 2 * b, [2.0, 6.0]),
    "h(t x1) x0": (lambda h, t, a, b: h(t * b) * a, [8.0, 12.0]),
    "h(x0 t) x1**2": (lambda h, t, a, b: h(a * t) * b ** 2, [16.0, 12.0]),
    "sin(h(t) x1) x0": (lambda h, t, a, b: np.sin(h(t) * b) * a, [4.0, 6.0]),
    "h(t + x1 - 2) x0": (lambda h, t, a, b: h(t + b - 2.0) * a, [2.0, 4.0]),
}


def _second_order_of(B):
    """f_tt(0) of a function f of t by the second-order and Taylor helpers of ``B``."""
    out = {
        "second_derivative": lambda F: B.second_derivative(F, 0.0),
        "hessian": lambda F: B.hessian(lambda t: F(t[0]), np.array([0.0]))[0, 0],
        "hessian2": lambda F: B.hessian(lambda t: F(t[0]) + t[1] ** 2 * t[0],
                                        np.array([0.0, 1.0]))[0, 0],
        "hvp": lambda F: B.hvp(lambda t: F(t[0]), np.array([0.0]), np.array([1.0]))[0],
        "nth_derivative": lambda F: B.nth_derivative(F, 0.0, 2),
        "derivative_tensor": lambda F: B.derivative_tensor(
            lambda t: F(t[0]), np.array([0.0]), 2)[0, 0],
    }
    if B is rv:
        out["nth_derivative-backprop"] = lambda F: rv.nth_derivative(
            F, 0.0, 2, method="backprop")
    return out


def _wrong_with_both_outer_variables(A, helpers, cases):
    """The gradient by engine ``A`` of ``helper(t -> form(h, t, x0, x1)) + x1**2`` at
    (1, 2) for every helper and case ``(h name, h, form name, form, truth)``: the
    entries that are neither their truth nor nan, described."""
    x = np.array([1.0, 2.0])
    bad = []
    for hn, h, fn, form, truth in cases:
        for name, helper in helpers.items():
            def G(x, form=form, h=h, helper=helper):
                return helper(lambda t: form(h, t, x[0], x[1])) + x[1] ** 2
            got = np.asarray(A.gradient(G, x), dtype=float)
            ok = np.isnan(got) | np.isclose(got, truth, rtol=1e-13, atol=0)
            if not ok.all():
                bad.append(f"{name} of {fn} with h = {hn}: {got}, truth {truth}")
    return bad


@pytest.mark.slow
@pytest.mark.structure
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("outer", ENGINES)
@pytest.mark.parametrize("middle", ENGINES)
def test_second_order_helpers_of_a_function_of_both_outer_variables(outer, middle):
    # the gradient of helper(t -> f(t; x0, x1)) + x1**2, where f_tt(0) is nan (h a
    # computed zero next to an infinite partial): every entry its truth or nan.  With
    # hyperdual outside, a Taylor rule's plain nan (cbrt of a series whose first terms
    # vanish) kept a zero outer part: [nan, 4] for h(t x1) x0 with h = cbrt(t**6)
    # (truth [8, 12]); with reverse outside, the Taylor helpers' nan order depended on
    # the outer leaves through the earlier orders only, which a guard cut: [nan, 4]
    # for h(t) x0 + t**2 x1 with h = sqrt(t**2)**2 (truth [2, 6])
    # (cbrt(t**3)**2 under hyperdual: reach by a first-order probe missed x1, whose
    # ε part's x1 part is a kept zero of the outer arithmetic: [nan, 4], truth [8, 12])
    hs = {"sqrt(t**2)**2": lambda t: np.sqrt(t ** 2) ** 2, "cbrt(t**6)": lambda t: np.cbrt(t ** 6),
          "cbrt(t**3)**2": lambda t: np.cbrt(t ** 3) ** 2}
    cases = [(hn, h, fn, form, truth) for hn, h in hs.items()
             for fn, (form, truth) in _FORMS_OF_X.items()]
    bad = _wrong_with_both_outer_variables(ENGINES[outer], _second_order_of(ENGINES[middle]),
                                           cases)
    assert not bad, "\n".join(bad)


#: f(t; x0, x1) with h(t) = t written as cbrt(t**3), or t**2 as cbrt(t**3)**2 (h'(0)
#: a computed 0 times cbrt'(0) = inf: nan); the gradient of f_t(0) + x1**2 at (1, 2)
#: in closed form, for h = t and for h = t**2
_FIRST_FORMS_OF_X = {
    "h(t) x0 + t x1": (lambda h, t, a, b: h(t) * a + t * b, [1.0, 5.0], [0.0, 5.0]),
    "h(t x1) x0": (lambda h, t, a, b: h(t * b) * a, [2.0, 5.0], [0.0, 4.0]),
    "h(x0 t) x1**2": (lambda h, t, a, b: h(a * t) * b ** 2, [4.0, 8.0], [0.0, 4.0]),
    "sin(h(t) x1) x0": (lambda h, t, a, b: np.sin(h(t) * b) * a, [2.0, 5.0], [0.0, 4.0]),
    "h(t + x1 - 2) x0": (lambda h, t, a, b: h(t + b - 2.0) * a, [1.0, 4.0], [0.0, 6.0]),
    "exp(h(t) x0) x1": (lambda h, t, a, b: np.exp(h(t) * a) * b, [2.0, 5.0], [0.0, 4.0]),
}


def _first_order_of(B):
    """f_t(0) of a function f of t by the first-order helpers of ``B`` (and the
    first coefficient of its Taylor helpers)."""
    z, one = np.array([0.0]), np.array([1.0])
    extra = {"linearize": lambda F: rv.linearize(F, 0.0)[1](1.0)} if B is rv else {}
    return extra | {
        "derivative": lambda F: B.derivative(F, 0.0),
        "gradient": lambda F: B.gradient(lambda t: F(t[0]), z)[0],
        "gradient2": lambda F: B.gradient(lambda t: F(t[0]) + t[1] ** 2,
                                          np.array([0.0, 1.0]))[0],
        "jacobian": lambda F: B.jacobian(lambda t: np.stack([F(t[0]), 2.0 * t[0]]), z)[0, 0],
        "jvp": lambda F: B.jvp(lambda t: F(t[0]), z, one)[1],
        "jvp-scalar": lambda F: B.jvp(F, 0.0, 1.0)[1],
        "vjp": lambda F: B.vjp(lambda t: F(t[0]), z, 1.0)[1][0],
        "value_and_gradient": lambda F: B.value_and_gradient(lambda t: F(t[0]), z)[1][0],
        "taylor": lambda F: B.taylor(F, 0.0, 1)[1],
        "derivatives": lambda F: B.derivatives(F, 0.0, 2)[1],
    }


@pytest.mark.slow
@pytest.mark.structure
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("outer", ENGINES)
@pytest.mark.parametrize("middle", ENGINES)
def test_first_order_helpers_of_a_function_of_both_outer_variables(outer, middle):
    # as the test above, first order: every entry its truth or nan.  With hyperdual
    # outside, reverse.jvp's double-vjp met u's plain 0 times an infinite Dual partial,
    # a constant zero weight's 0 to the Dual arithmetic that no guard saw: the tangent
    # of jvp(lambda t: cbrt(t**3) * s, 0.0, 1.0) was Dual(0, 0) (the gradient of
    # jvp(h(t) x0 + t x1) + x1**2 was [0, 5], truth [1, 5]; linearize's the same);
    # reverse's Taylor helpers there gave [nan, 4] for h(t x1) x0 (truth [2, 5]).
    # With reverse outside, the first order of reverse's Taylor helpers (and
    # linearize) at an audit's nan did not depend on the outer leaves: [0, 4] for
    # h(t) x0 + t x1 with h = cbrt(t**3)**2 (truth [0, 5])
    hs = {"cbrt(t**3)": lambda t: np.cbrt(t ** 3), "cbrt(t**3)**2": lambda t: np.cbrt(t ** 3) ** 2}
    cases = [(hn, h, fn, form, truth) for fn, (form, *truths) in _FIRST_FORMS_OF_X.items()
             for (hn, h), truth in zip(hs.items(), truths)]
    bad = _wrong_with_both_outer_variables(ENGINES[outer], _first_order_of(ENGINES[middle]),
                                           cases)
    assert not bad, "\n".join(bad)
