"""Derivatives of any order: the Taylor-mode helpers' names, in reverse mode.

``hyperdual``'s Taylor mode (one forward pass of truncated power series) is the
engine for derivatives of high order along one variable or direction, and
``method="taylor"`` (the default) hands these helpers to it.  The other
method, ``"backprop"``, differentiates K times by recording each backward pass
as a graph (``create_graph``); it costs a factor of 2-3 per order, and it is
what runs when the call is nested in an outer reverse-mode trace (x is a
Variable of an outer trace, f closes over one, or another reverse helper is
evaluating f): each pass is this call's own trace (``core.grad_wrt``), so
Variables of the outer trace are constants to it, and the results are
Variables of the outer trace that it differentiates through.  A hyperdual
Taylor helper that meets a Variable hands its call over here the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from _exactdiff import fprange as _fp
from hyperdual.taylor_helpers import _in_x_dtype

from . import _audit
from . import core as _core
from . import functions as F
from .core import Variable, grad_wrt, reaches_other_leaves, using_config
from .helpers import (
    _check_elementwise,
    _evaluate,
    _input,
    _nest_exponent,
    _nested,
    _ones,
    _out,
    _prepare,
    _retiring,
    _unscaled,
)

__all__ = ["derivatives", "taylor", "nth_derivative", "directional_derivatives",
           "derivative_tensor"]

_METHODS = ("taylor", "backprop")


def _check(f: Any, order: Any, method: str, fname: str) -> int:
    if not callable(f):
        raise TypeError(f"reverse.{fname}: f must be callable, got {type(f).__name__}")
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 0:
        raise ValueError(f"reverse.{fname}: order must be an integer >= 0, got {order!r}")
    if method not in _METHODS:
        raise ValueError(f"reverse.{fname}: method must be 'taylor' or 'backprop', "
                         f"got {method!r}")
    return int(order)


def _via_hyperdual(fname: str, *args: Any) -> Any:
    """hyperdual's Taylor helper ``fname`` on ``args``; its own complaints about
    the arguments (``hyperdual.<fname>: ...``, ``hyperdual: x must be ...``) are
    raised again under the name the user called, ``reverse.<fname>``."""
    import hyperdual

    try:
        return getattr(hyperdual, fname)(*args)
    except (TypeError, ValueError) as e:
        msg = str(e)
        if type(e) in (TypeError, ValueError):
            for prefix in (f"hyperdual.{fname}:", "hyperdual:"):
                if msg.startswith(prefix):
                    raise type(e)(f"reverse.{fname}:{msg[len(prefix):]}") from e
        raise


def _zeros(v: Variable) -> Variable:
    return Variable(np.zeros_like(v.data) if isinstance(v.data, np.ndarray) else v.data * 0.0)


def _chain(y: Variable, xv: Variable, K: int, seeds: tuple = ()) -> list:
    """[y, dy/dx, ..., d^K y/dx^K] (elementwise in x), each pass recorded as a graph.
    ``seeds``: the exponents k of the first passes' seeds 2**k (the range retries of
    :func:`_in_range`; entry j is then 2**(k_1 + ... + k_j) times the truth)."""
    outs = [y]
    cur = y
    dirty = _audit.DIRTY[0], _core.KEPT[0]
    for j in range(K):
        g = None
        if cur.creator is not None or cur is xv:
            seed = _ones(cur)
            if j < len(seeds) and seeds[j]:
                seed = _fp.scaled_seed(seed, seeds[j])
            # (elementwise: an audit's nan on its own entry, as second_derivative's)
            token = _audit.ELEMENTWISE.set(xv if tuple(cur.shape) == tuple(xv.shape)
                                           else None)
            try:
                g, _ = grad_wrt(cur, xv, seed, True)
            finally:
                _audit.ELEMENTWISE.reset(token)
        if g is None:  # structurally zero from here on
            g = _zeros(xv)
        if (_audit.DIRTY[0], _core.KEPT[0]) != dirty:
            # (only after the guard kept a zero next to an inf or nan partial: a nan
            # of f itself keeps the structural zeros of the orders after it,
            # sqrt(x0 - 1) x1 along x1)
            g = _nan_onwards(cur, g, xv, y, first=not j)
        outs.append(g)
        cur = g
    return outs


def _nan_onwards(cur: Variable, g: Any, xv: Variable, y: Variable, first: bool = False
                 ) -> Any:
    """The derivative ``g`` of the order ``cur`` (>= 1), nan wherever ``cur`` is.
    ``first``: ``g`` is the first derivative (``cur`` is f), nan where the audit of
    its pass made it nan at a finite f, along the outer leaves too (as
    ``reverse.helpers._nan_valued_on_input`` does for ``derivative``: the gradient by
    x of ``derivatives(lambda t: sqrt(t**2)**2 + t * x[1], 0, 1)[1]`` was [0, 0],
    truth [0, 1]); only on an outer trace.

    A derivative that is nan (an audit's computed zero, ``0 * inf``) leaves the
    function unknown there, and the next pass differentiates a graph whose value is
    nan there: its number means nothing (the third derivative of ``cbrt(x**3)`` at 0
    was inf, truth 0, after a nan second one).  The nan is ``cur * nan``, so that
    the passes after it see a nan there too, and so does an outer trace: the leaves
    of other traces that the chain reaches (f closes over them) add ``exp(leaf) *
    nan`` (d/ds of the second derivative of ``sqrt(t**2)**2 s`` at 0 was 0, truth 2:
    the nan order's own derivative with respect to s was a zero weight's 0).  On
    Dual data of an outer forward trace: nan in every part, in the directions that
    f's graph moves (``reverse._audit.graph_lanes``)."""
    _primal = _audit._primal
    c = _primal(cur.data)
    v = _primal(g.data if isinstance(g, Variable) else g)
    c, v = (np.float64(a) if type(a) is float else a for a in (c, v))  # (a Dual's part)
    if not (isinstance(c, (np.ndarray, np.floating)) and isinstance(v, (np.ndarray, np.floating))
            and c.dtype.kind == "f" and v.dtype.kind == "f" and np.shape(c) == np.shape(v)):
        return g  # (another array library, a Taylor number: as it is)
    # (the outer leaves f's own graph reaches, not only cur's: a guard's Where in
    # cur's graph, the nan of an earlier order, cuts the walk from cur, so the
    # gradient by x of nth_derivative(lambda t: t**2 x[1] + sqrt(t**2)**2, 0, 2)
    # was [0, 0], truth [0, 2])
    outer = isinstance(g, Variable) and (reaches_other_leaves(cur, xv)
                                         or reaches_other_leaves(y, xv))
    gd = g.data if isinstance(g, Variable) else g
    with np.errstate(invalid="ignore"):
        # (on an outer trace a nan order is redone too: its nan may not move with
        # the outer variables, and on an outer forward trace's Dual data its value's
        # nan can carry a zero tangent)
        if first:
            if not (outer or _core._is_dual(gd)):
                return g  # (its nan is the audit's already, and nothing outer to reach)
            mask = np.isnan(v) & ~np.isnan(c)
        else:
            mask = np.isnan(c) if outer or _core._is_dual(gd) else np.isnan(c) & ~np.isnan(v)
        # (where f itself is not finite, its nan is f's own: the orders after it keep
        # their structural zeros, sqrt(x0 - 1) x1 along x1)
        value = _primal(y.data)
        if np.shape(value) == np.shape(c):
            mask &= np.isfinite(value)
    if not mask.any():
        return g
    from .rules.selection import Where

    with using_config("enable_backprop", True):
        dep = cur
        if outer:
            leaves = _audit.outer_leaves(cur, xv)
            forward = _audit.outer_leaves(y, xv)
            if forward is not None:
                leaves = forward if leaves is None else leaves + forward
            if leaves is not None:
                dep = dep + np.exp(leaves)
        out = Where(mask)(dep * np.array(np.nan, dtype=c.dtype), g)
    if _core._is_dual(out.data):
        # every part nan (nan times a zero tangent is a kept 0: d/ds of the second
        # derivative of sqrt(t**2)**2 s at 0 under hyperdual was 0, truth 2)
        out.data = _audit._nan_at(out.data, mask, _audit.graph_lanes(y))
    return out


def _nested_chain(y: Variable, xv: Variable, K: int, data: Any, graph: bool) -> list:
    """:func:`_chain` of a call that runs on an outer trace's numbers (nested in
    another helper's f, or f closing over an outer trace's Variables or Duals):
    counted as a nested helper call, its first pass seeded with 2**k and the
    orders scaled back by 2**-k inside the outer trace
    (``_exactdiff.fprange.nested_call``), so that the outer helper's retries
    reach the adjoints of these passes (d/da of a * nth_derivative(log10(x**2),
    1e150, 2, method="backprop") had the wrong sign: -4e-601 * 2e150 underflowed
    in the second pass).  Otherwise the plain chain."""
    k = _nest_exponent(graph, data, y) if K else None
    if not k:
        return _chain(y, xv, K)
    outs = _chain(y, xv, K, (k,))
    return outs[:1] + [_unscaled(o, k) for o in outs[1:]]


def _finish(outs: list, graph: bool, scalar: bool) -> Any:
    """Stack the orders: a Variable of the outer trace, or plain numbers."""
    # f(x) of one entry but of another shape than x (shape (1,) of a scalar x): the
    # derivatives come in x's shape; give every order f(x)'s shape, as Taylor mode
    # does (np.stack raised "all input arrays must have the same shape")
    shape = tuple(np.shape(outs[0].data if isinstance(outs[0], Variable) else outs[0]))
    if graph:
        outs = [o if isinstance(o, Variable) else Variable(o) for o in outs]
        return F.stack([o if tuple(o.shape) == shape else F.reshape(o, shape) for o in outs])
    datas = [o.data if isinstance(o, Variable) else o for o in outs]
    datas = [np.asarray(d) if isinstance(d, (np.ndarray, np.generic, float)) else d
             for d in datas]
    return np.stack([d if tuple(np.shape(d)) == shape else np.reshape(d, shape)
                     for d in datas])


def _graph(data: Any, y: Variable, xv: Variable) -> bool:
    return _nested(data) or reaches_other_leaves(y, xv)


class _Graph(Exception):
    """f reaches leaves other than x, or numbers of an outer trace (f closes over
    them): the plain chain's path."""


def _in_range(f: Callable[[Any], Any], data: np.ndarray, K: int, fname: str,
              top_only: bool) -> Any:
    """The orders 0..K of ``method="backprop"`` at a float64 point, called on its own
    (a list of arrays; the last alone with ``top_only``), kept in range as
    reverse's first- and second-order helpers keep theirs: the K-th order runs
    through ``_exactdiff.fprange.second_order``, the first pass's seed scaled by
    2**kt and the second's by 2**ks (the only seed for K = 1), which redoes the
    chain where an adjoint under- or overflowed (d2/dx2 x / (x*x + 1) at -1e100
    was 4e-300, truth -2e-300).  Where the first try was clean (the usual case)
    its lower orders are taken as they are; otherwise they are redone the same
    way, one order less each.  Raises :class:`_Graph` where f closes over an
    outer trace's Variables or Duals."""
    runs: list = []

    def run(kt: int, ks: int) -> Any:
        xv = _input(data)
        y = _evaluate(f, xv, kt)  # (the helper calls nested in f take 2**kt too)
        _check_elementwise(y, xv, fname)
        if reaches_other_leaves(y, xv):
            raise _Graph
        outs = _chain(y, xv, K, (kt + ks,) if K == 1 else (kt, ks))
        datas = [o.data if isinstance(o, Variable) else o for o in outs]
        if any(type(d) is not np.ndarray for d in datas):
            raise _Graph  # an outer trace's numbers (f closes over a Dual)
        runs.append(datas)
        return datas[-1]

    top = _fp.second_order(run, True, separate=K >= 2, one_seed=K == 1)
    if top_only:
        return [top]
    if len(runs) == 1:  # the first try was clean: every order is as it came
        return runs[0]
    lower = _in_range(f, data, K - 1, fname, False) if K > 1 else runs[0][:1]
    return lower + [top]


def _range_kept(data: Any, K: int) -> bool:
    """Whether the backprop chain at ``data`` runs through :func:`_in_range`: a
    float64 point of a call on its own, and at least one derivative."""
    return K >= 1 and not _nested(data) and type(data) is np.ndarray \
        and data.dtype == np.float64


@_retiring
def derivatives(f: Callable[[Any], Any], x: Any, order: int = 2, *,
                method: str = "taylor") -> Any:
    """``[f(x), f'(x), ..., f^(order)(x)]`` of a function of one variable.

    ``method="taylor"`` (default) runs ``hyperdual``'s Taylor mode: one forward
    pass at O(K²) per operation, the engine to use for derivatives of high
    order along one variable.  ``method="backprop"`` differentiates K times by
    ``create_graph`` double backprop (each round builds the next graph, so the
    cost grows by a factor of about 2-3 per order); it is kept as an
    independent cross-check, and it is what runs inside an outer reverse-mode
    trace (then the result is a Variable of that trace).  For an array ``x`` f
    must act elementwise.

    Parameters
    ----------
    f : callable
        Function of one variable (elementwise for an array ``x``).
    x : float or array_like
        The point.
    order : int
        Highest derivative wanted (>= 0).
    method : {"taylor", "backprop"}
        Taylor mode through ``hyperdual`` (fast) or repeated double backprop.

    Returns
    -------
    numpy.ndarray
        Shape ``(order + 1,) + f(x).shape``: entry k is the k-th derivative
        (a Variable of the outer trace when nested in one).

    Examples
    --------
    >>> import numpy as np
    >>> import reverse
    >>> reverse.derivatives(lambda x: x ** 3, 2.0, 3)
    array([ 8., 12., 12.,  6.])
    >>> reverse.derivatives(lambda x: x ** 3, 2.0, 3, method="backprop")
    array([ 8., 12., 12.,  6.])
    """
    K = _check(f, order, method, "derivatives")
    if method == "taylor" and not _nested(x):
        return _via_hyperdual("derivatives", f, x, K)
    data, scalar = _prepare(x, "derivatives")
    if _range_kept(data, K):
        try:
            outs = _in_range(f, data, K, "derivatives", False)
        except _Graph:
            pass
        else:
            out = _in_x_dtype(_finish(outs, False, scalar), data)
            # entries still inf or nan: one pass in long double (as reverse's helpers)
            return _fp.widened(out, lambda *a: derivatives(f, *a, method="backprop"),
                               (x, K), {})
    xv = _input(data)
    y = _evaluate(f, xv)
    _check_elementwise(y, xv, "derivatives")
    graph = _graph(data, y, xv)
    return _in_x_dtype(_finish(_nested_chain(y, xv, K, data, graph), graph, scalar), data)


@_retiring
def taylor(f: Callable[[Any], Any], x: Any, order: int, *, method: str = "taylor") -> Any:
    """Normalised Taylor coefficients ``f^(k)(x) / k!``, k = 0..order.

    See :func:`derivatives` for ``method``.

    Parameters
    ----------
    f : callable
        Function written with plain numpy.
    x : float or array_like
        The point (or a Variable of an outer trace).
    order : int
        K, the highest coefficient (>= 0).
    method : {"taylor", "backprop"}
        Taylor mode through ``hyperdual`` (default) or recorded backward passes.

    Returns
    -------
    numpy.ndarray
        Shape ``(order + 1,) + f(x).shape`` (a Variable inside an outer trace).

    Examples
    --------
    >>> import numpy as np
    >>> import reverse
    >>> reverse.taylor(np.exp, 0.0, 3, method="backprop")
    array([1.        , 1.        , 0.5       , 0.16666667])
    """
    K = _check(f, order, method, "taylor")
    if method == "taylor" and not _nested(x):
        return _via_hyperdual("taylor", f, x, K)
    d = derivatives(f, x, K, method="backprop")
    # the weights in d's dtype: x's (a float32 x keeps float32 coefficients)
    w = np.array([1.0 / math.factorial(k) for k in range(K + 1)],
                 dtype=d.dtype if isinstance(d, np.ndarray) else np.float64)
    return d * w.reshape(w.shape + (1,) * (len(d.shape) - 1))


@_retiring
def nth_derivative(f: Callable[[Any], Any], x: Any, n: int, *, method: str = "taylor") -> Any:
    """The n-th derivative ``f^(n)(x)``; see :func:`derivatives` for ``method``.

    Parameters
    ----------
    f : callable
        Function written with plain numpy.
    x : float or array_like
        The point (or a Variable of an outer trace).
    n : int
        The order of the derivative (>= 0).
    method : {"taylor", "backprop"}
        Taylor mode through ``hyperdual`` (default) or recorded backward passes.

    Returns
    -------
    float or numpy.ndarray
        ``f^(n)(x)`` (a Variable inside an outer trace).

    Examples
    --------
    >>> import reverse
    >>> reverse.nth_derivative(lambda x: x ** 5, 1.0, 5, method="backprop")
    120.0
    """
    n = _check(f, n, method, "nth_derivative")
    if method == "taylor" and not _nested(x):
        return _via_hyperdual("nth_derivative", f, x, n)
    data, scalar = _prepare(x, "nth_derivative")
    if _range_kept(data, n):
        try:
            top = _in_range(f, data, n, "nth_derivative", True)[0]
        except _Graph:
            pass
        else:
            out = _in_x_dtype(_out(top, scalar), data)
            return _fp.widened(out, lambda *a: nth_derivative(f, *a, method="backprop"),
                               (x, n), {})
    xv = _input(data)
    y = _evaluate(f, xv)
    _check_elementwise(y, xv, "nth_derivative")
    graph = _graph(data, y, xv)
    out = _nested_chain(y, xv, n, data, graph)[-1]
    if graph:
        return out
    return _in_x_dtype(_out(out.data, scalar, xv), data)


@_retiring
def directional_derivatives(f: Callable[[Any], Any], x: Any, v: Any, order: int, *,
                            method: str = "taylor") -> Any:
    """``d^k/dt^k f(x + t v)`` at t = 0 for k = 0..order.

    Returns an array of shape ``(order + 1,) + f(x).shape`` (a Variable inside
    an outer trace); ``v`` of shape ``(m,) + x.shape`` is a stack of m
    directions (result ``(m, order + 1) + f(x).shape``); see :func:`derivatives`
    for ``method``.

    Parameters
    ----------
    f : callable
        Any function of an array written with plain numpy.
    x : array_like
        The point (or a Variable of an outer trace).
    v : array_like
        The direction, shape ``x.shape``, or m directions, shape ``(m,) + x.shape``.
    order : int
        K, the highest derivative (>= 0).
    method : {"taylor", "backprop"}
        Taylor mode through ``hyperdual`` (default) or recorded backward passes.

    Returns
    -------
    numpy.ndarray
        ``(order + 1,) + f(x).shape``, or ``(m, order + 1) + f(x).shape``.

    Examples
    --------
    >>> import numpy as np
    >>> import reverse
    >>> f = lambda x: x[0] ** 2 * x[1]
    >>> reverse.directional_derivatives(f, np.array([1.0, 2.0]), np.array([1.0, 1.0]), 3,
    ...                                 method="backprop")
    array([2., 5., 8., 6.])
    """
    K = _check(f, order, method, "directional_derivatives")
    if method == "taylor" and not (_nested(x) or isinstance(v, Variable)):
        return _via_hyperdual("directional_derivatives", f, x, v, K)
    data, _ = _prepare(x, "directional_derivatives")
    vdata = v if isinstance(v, Variable) else _prepare(v, "directional_derivatives")[0]
    xs = tuple(np.shape(data.data if isinstance(data, Variable) else data))
    vs = tuple(np.shape(vdata.data if isinstance(vdata, Variable) else vdata))
    if vs != xs:
        if len(vs) == len(xs) + 1 and vs[1:] == xs:  # a stack of directions
            rs = [directional_derivatives(f, x, vdata[i], K, method="backprop")
                  for i in range(vs[0])]
            return F.stack(rs) if any(isinstance(r, Variable) for r in rs) else np.stack(rs)
        raise ValueError(f"reverse.directional_derivatives: v has shape {vs}, x has shape "
                         f"{xs} (v must have x's shape, or (m,) + x's shape)")
    tv = _input(np.array(0.0))
    y = _evaluate(lambda t: f(data + t * vdata), tv)
    graph = _nested(data) or isinstance(vdata, Variable) or reaches_other_leaves(y, tv)
    if y.shape == ():
        return _in_x_dtype(_finish(_chain(y, tv, K), graph, True), data)
    # one chain per output element (the derivative w.r.t. the scalar t of each)
    flat = F.reshape(y, (-1,))
    cols = [_chain(flat[i], tv, K) for i in range(int(np.prod(y.shape)))]
    orders = [F.reshape(F.stack([c[k] for c in cols]), y.shape) for k in range(K + 1)]
    return _in_x_dtype(_finish(orders, graph, False), data)


@_retiring
def derivative_tensor(f: Callable[[Any], Any], x: Any, order: int, *,
                      method: str = "taylor") -> Any:
    """All partial derivatives of order ``order`` of a scalar f at x (a symmetric tensor).

    From directional derivatives along binom(n + d - 1, d) directions and the
    interpolation formula of Griewank, Utke and Walther (2000), as
    ``hyperdual.derivative_tensor``; see :func:`derivatives` for ``method``.

    Parameters
    ----------
    f : callable
        Scalar function of a 1-d array written with plain numpy.
    x : array_like, shape (n,)
        The point (or a Variable of an outer trace).
    order : int
        d, the order of the partial derivatives (>= 0).
    method : {"taylor", "backprop"}
        Taylor mode through ``hyperdual`` (default) or recorded backward passes.

    Returns
    -------
    numpy.ndarray
        Shape ``(n,) * order``.

    Examples
    --------
    >>> import numpy as np
    >>> import reverse
    >>> T = reverse.derivative_tensor(lambda x: x[0] ** 2 * x[1], np.array([1.0, 2.0]), 3,
    ...                               method="backprop")
    >>> float(T[0, 0, 1]), float(T[1, 1, 1])
    (2.0, 0.0)
    """
    d = _check(f, order, method, "derivative_tensor")
    if method == "taylor" and not _nested(x):
        return _via_hyperdual("derivative_tensor", f, x, d)
    from hyperdual.taylor_helpers import (
        isolate_nonfinite,
        nested_partial,
        tensor_from_directions,
    )

    firsts: dict = {}  # direction -> its first derivative (the idle variables)

    def coefficient(v):  # the d-th normalised Taylor coefficient along v
        c = directional_derivatives(f, x, v, d, method="backprop")
        if tuple(c.shape) != (d + 1,):
            raise ValueError("reverse.derivative_tensor: f must return a scalar")
        firsts[tuple(int(t) for t in v)] = c[1]
        return c[d] / math.factorial(d)

    data, _ = _prepare(x, "derivative_tensor")
    shape = tuple(np.shape(data.data if isinstance(data, Variable) else data))
    if shape == ():
        return nth_derivative(f, x, d, method="backprop")
    if len(shape) != 1:
        raise ValueError("reverse.derivative_tensor: x must be 1-d (ravel it first)")
    if d == 0:
        return f(x)
    from .helpers import hessian, jvp

    def partial(axes):
        return nested_partial(f, data, axes, jvp)

    def block(prefix):  # the Hessian of the mixed partial along prefix
        return hessian(lambda y: nested_partial(f, y, prefix, jvp), data)

    # entries the interpolation cancels away are recomputed by partial, too
    out = tensor_from_directions(coefficient, shape[0], d, partial=partial, firsts=firsts,
                                 block=block)
    if type(out) is np.ndarray and out.dtype.kind == "f":
        # a nan made by the interpolation next to an infinite partial: nested jvp's
        out = isolate_nonfinite(out, partial)
    return _in_x_dtype(out, data.data if isinstance(data, Variable) else data)
