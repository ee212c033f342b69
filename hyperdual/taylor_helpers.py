"""Higher-order derivative helpers on Taylor numbers (Taylor mode).

One forward pass of K-th order Taylor arithmetic gives f, f', ..., f^(K) of a
function of one variable at O(K²) per operation; derivatives along a
direction of a multivariate f come the same way, and mixed partial
derivatives of order d follow from d-th directional derivatives along
binom(n + d - 1, d) directions by exact interpolation (Griewank, Utke and
Walther, *Evaluating higher derivative tensors by forward propagation of
univariate Taylor series*, Math. Comp. 2000).

Which engine for what: for all derivatives of order K of a scalar function
along one direction, Taylor mode (these helpers) is the fast and accurate
choice; for gradients and Hessians of many variables use reverse mode
(``reverse.gradient``/``reverse.hessian``) or ``hyperdual.hessian``;
repeated ``create_graph`` backprop costs a multiple per order and is kept
for cross-checking (``reverse.derivatives`` delegates here).
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings
from collections.abc import Callable

import numpy as np

from _exactdiff import messages as _msg
from _exactdiff._common import float_dtype, in_dtype
from _exactdiff.arrays import plain_array

from . import _generic as g
from . import _taylor as _tt
from . import _taylor_stack as _st
from ._number import _as_part, _Number, _shape, _tidy, new_tag, retired
from ._taylor import Taylor, _const_coef, factorials, variable
from ._taylor_scalar import SCALE as _SCALE
from ._taylor_scalar import Line as _Line
from .helpers import (
    _CALL_TAGS,
    _Delegate,
    _engine_of,
    _poisoned,
    _poisoned_reached,
    _probe,
    _seed_tag,
)

_new = object.__new__

__all__ = [
    "taylor",
    "derivatives",
    "nth_derivative",
    "directional_derivatives",
    "derivative_tensor",
]


def _nests(impl):
    """Tag retirement and hand-over, as hyperdual.helpers' decorator: a reverse Variable
    met as an argument, or returned by f (f closes over one: Taylor mode inside a
    reverse-mode differentiation), hands the call to reverse's helper of the same name,
    which differentiates by recorded backward passes inside the outer trace."""
    name = impl.__name__

    @functools.wraps(impl)
    def helper(f, *args, **kwargs):
        for a in args:
            if type(a) is float or type(a) is int:  # the common case, asked first
                continue
            engine = _engine_of(a)
            if engine is not None:
                return getattr(engine, name)(f, *args, method="backprop", **kwargs)
        token = _CALL_TAGS.set([])  # _CallScope, inlined: the tags seeded retire on exit
        try:
            out = impl(f, *args, **kwargs)
            if isinstance(out, _Number):
                out = _nan_valued_reached(out, f, args)
            return out
        except _Delegate as d:
            return getattr(d.engine, name)(f, *args, method="backprop", **kwargs)
        finally:
            for tag in _CALL_TAGS.get():
                tag.retired = True
            _CALL_TAGS.reset(token)

    return helper


def _nan_valued_reached(out, f, args):
    """``out``, a result on an outer pass's numbers (f closes over them) at a plain
    finite point, nan in the outer directions that reach f where its value is nan:
    the outer derivative of an entry that does not exist is unknown.  A Taylor rule
    at a singular point (``cbrt`` of a series whose first terms vanish) gives a
    plain nan coefficient, whose outer parts were a kept 0: d/ds of
    ``nth_derivative(lambda t: np.cbrt((t * s)**6), 0.0, 2)`` at s = 2 was 0 (truth
    8).  A direction ``v`` on the outer pass's numbers: every outer direction."""
    if not out._NPARTS or not args:
        return out
    x = args[0]
    if isinstance(x, _Number) or not isinstance(x, (float, int, np.ndarray, np.floating)):
        return out
    with np.errstate(invalid="ignore"):
        if not np.isfinite(x).all():
            return out
        mask = np.asarray(np.isnan(g.real_value(out)))
    if mask.dtype != bool or not mask.any():
        return out
    if any(isinstance(a, _Number) for a in args[1:]):
        return _poisoned(out, mask)
    return _poisoned_reached(out, mask, f, x)


def _check(f, order, helper):
    if not callable(f):
        raise TypeError(f"hyperdual.{helper}: f must be callable, got {type(f).__name__}")
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 0:
        raise ValueError(f"hyperdual.{helper}: order must be an integer >= 0, got {order!r}")
    return int(order)


def _check_live(v):
    """A number of a helper call that has returned (saved by a closure and used later)
    is refused, as the Dual helpers do, instead of coming back inside the result."""
    while isinstance(v, _Number):
        if retired(v.tag):
            raise ValueError(
                f"hyperdual: f used a {type(v).__name__} of a helper call that has already "
                "returned (an escaped perturbation: a number saved inside one derivative "
                "and used after it); use its .real value instead")
        v = v.real


def _coefficients(y, tag: int, K: int):
    """The coefficient array of f's output for this call's tag (zeros if f ignored it)."""
    if isinstance(y, (list, tuple)) and any(isinstance(v, _Number) for v in y):
        y = np.stack(list(y))  # a sequence of values is stacked (as the other helpers do)
    if isinstance(y, Taylor) and y.tag == tag:
        _check_live(y.coef)
        return y.coef
    if isinstance(y, _Number) and y.tag > tag:
        raise ValueError(
            "hyperdual: f returned a number carrying a perturbation newer than this "
            "call's (a derivative escaped its own helper)"
        )
    if isinstance(y, _Number) and y.tag == tag:
        raise TypeError(f"hyperdual: f returned a {type(y).__name__} of the helper's tag")
    _check_live(y)
    engine = _engine_of(y)
    if engine is not None:  # f closes over a value of another engine: hand the call over
        raise _Delegate(engine)
    if not isinstance(y, _Number):
        y = _as_part(y, "f(x)")
    return _const_coef(y, K)


def _in_x_dtype(c, x):
    """Derivatives with respect to x in x's dtype (the dtype rule of every helper,
    :func:`_exactdiff._common.in_dtype`): f may compute in another precision, and
    the ODE-trick rules compute their series in float64."""
    if isinstance(x, _Number) or isinstance(c, _Number):
        return c
    return in_dtype(c, float_dtype(x))


def _result(c):
    if isinstance(c, _Number):
        return c
    return plain_array(c)  # (another library's array stays itself: dask stays lazy)


def _probed_pass(f, x, V, K):
    """The normalised coefficients along the k directions ``V`` (shape ``(k,) +
    x.shape``) from one stacked pass that carries each direction's nan-seeded probe
    beside it (:func:`hyperdual._taylor._kept_constant`), shape ``(k, K + 1) +``
    f's value shape, or None where f leaves the stack or fails on it."""
    x0 = np.asarray(x)
    if x0.dtype.kind not in "fiu" or V.dtype.kind not in "fiu":
        return None
    k = V.shape[0]
    probes = _probe(V, x0)
    token = _CALL_TAGS.set([])
    try:
        tag = _seed_tag()
        audit = _tt.AUDIT.set(_tt.AUDIT.get() + ((tag, k),))
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # (the first pass warned already)
                c = _st.stacked_directional(f, x0, np.concatenate([V, probes]), K, tag)
        finally:
            _tt.AUDIT.reset(audit)
    except Exception:  # noqa: BLE001 - the caller takes any failure as "cannot tell"
        return None
    finally:
        for t in _CALL_TAGS.get():
            t.retired = True
        _CALL_TAGS.reset(token)
    return c[:k]


def _plain_result(v) -> bool:
    return type(v) is float or type(v) is np.float64 or (
        type(v) is np.ndarray and v.dtype.kind == "f")


def _audited(f, x, V, K, out, pick, axis=0, point=None):
    """``out`` of a Taylor-mode helper whose call took a series as constant at a point
    where a rule is singular (``hyperdual._taylor.KEPT`` moved), with nan where that
    series was not constant but computed (a zero of order above K).

    The call is redone once as a direction stack: each direction of ``V`` followed by
    its probe, seeded with nan where the direction moves a finite entry of x.  During
    the redo a series is kept constant only where its probe's is constant too (see
    :func:`hyperdual._taylor._kept_constant`), so ``sqrt((t - 1)**4)`` at 1 gives nan
    from order 1 on (the truth is 0, 0, 2, 0; without the audit 0, 0, 0, 0) while
    ``sqrt(0 * t)`` keeps its zeros.  ``pick`` takes the redo's coefficients (shape
    ``(k, K + 1) +`` f's value shape) to ``out``'s layout.  Where the redo cannot tell
    (f leaves the stack; a nested call, whose point or result is a number of an outer
    engine) every order >= 1 (along ``axis`` of ``out``; None: all of it) is nan.  The
    result only gains nan entries; on an outer pass's numbers, in the outer
    directions that reach f at all (``hyperdual.helpers._poisoned_reached``;
    ``point``: x where the redo is told not to run)."""
    if K < 1 or (not isinstance(out, _Number) and _engine_of(out) is not None):
        return out  # (a call handed over to another engine: its result is that engine's)
    plain = _plain_result(out)
    c = None
    if plain and not isinstance(x, _Number) and (
            type(x) is float or type(x) is int
            or isinstance(x, (np.ndarray, np.floating, list, tuple))):
        c = _probed_pass(f, x, V, K)
    shape = np.shape(out) if plain else np.shape(g.real_value(out))
    if c is None:
        mask = np.ones(shape, dtype=bool)
        if axis is not None:
            mask[(slice(None),) * axis + (0,)] = False
    else:
        with np.errstate(invalid="ignore"):
            mask = np.isnan(pick(c)) & ~np.isnan(out)
        if np.shape(mask) != shape:  # (a layout the redo does not share: cannot tell)
            return _audited(f, None, V, K, out, pick, axis, x)
    if plain:
        mask &= ~np.isnan(out)
        if not np.any(mask):
            return out
        merged = np.where(mask, np.nan, out)
        return merged if type(out) is np.ndarray else type(out)(merged[()])
    return _poisoned_reached(out, mask, f, x if point is None else point)


def _one_direction(x):
    """The seed direction of derivatives/taylor at x, as a stack of one."""
    return np.ones((1,) + np.shape(x))


@_nests
def taylor(f: Callable, x, order: int):
    """Normalised Taylor coefficients ``f^(k)(x) / k!``, k = 0..order, in one pass.

    Parameters
    ----------
    f : callable
        A function of one variable written with plain numpy; for an array
        ``x`` it must act elementwise.
    x : float or array_like
        The expansion point (an array means "every element").
    order : int
        K, the highest coefficient.

    Returns
    -------
    ndarray, shape (K + 1,) + f(x).shape
        (Inside an outer differentiation: a number of the outer engine.)

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdual import taylor
    >>> taylor(np.exp, 0.0, 4)
    array([1.        , 1.        , 0.5       , 0.16666667, 0.04166667])
    >>> taylor(lambda x: 1 / (1 - x), 0.5, 3)
    array([ 2.,  4.,  8., 16.])
    """
    K = _check(f, order, "taylor")
    kept = _tt.KEPT[0]
    X = variable(x, K, tag=_seed_tag())
    y = _msg.call(f, X)
    out = _in_x_dtype(_result(_coefficients(y, X.tag, K)), x)
    if _tt.KEPT[0] != kept:
        out = _audited(f, x, _one_direction(x), K, out, lambda c: c[0])
    return out


@functools.lru_cache(maxsize=64)
def _fact_list(K):
    return factorials(K).tolist()


def _factorials(K, nres, like=None):
    fact = factorials(K)
    dt = getattr(like, "dtype", None)
    if dt is not None and dt == np.float32:  # float32 coefficients stay float32
        fact = fact.astype(dt)
    return fact.reshape(fact.shape + (1,) * nres)


class _SeedTail(dict):
    """K -> [1.0, 0.0, ..., 0.0] (K entries): the seed's coefficients after its value."""

    def __missing__(self, K):
        tail = self[K] = [1.0] + [0.0] * (K - 1)
        return tail


_SEED_TAIL = _SeedTail()


def _scalar_fast(f, x, K: int, n):
    """Taylor mode's scalar hot path: f along the seed ``x + t`` of order K >= 1 (x a
    Python float or int, f callable) on the list path, with the call scope of
    :func:`_nests` and the list seed of :func:`variable` inlined; the general helpers
    share its semantics (the tags seeded retire on return; f returning a value of
    another engine hands the call to that engine's ``derivatives``).

    Returns every derivative (n None, as :func:`derivatives`) or the n-th (as
    :func:`nth_derivative`)."""
    tags = []
    token = _CALL_TAGS.set(tags)
    try:
        tag = new_tag()
        tags.append(tag)
        X = _new(Taylor)
        X._l = _Line([float(x)] + _SEED_TAIL[K])
        X.tag = tag
        y = _msg.call(f, X)
        if type(y) is Taylor and y.tag is tag:
            ly = y._l
            if ly is not None:  # Python float products overflow to inf, never raise
                if n is None:
                    return np.fromiter(_SCALE[K](ly), float, K + 1)
                return ly[n] * _fact_list(K)[n]
        d = _in_x_dtype(_derivatives_of(y, tag, K), x)
    except _Delegate as e:
        d = e.engine.derivatives(f, x, K, method="backprop")
    finally:
        for t in tags:
            t.retired = True
        _CALL_TAGS.reset(token)
    if n is None:
        return d
    out = d[n]
    return _tidy(out) if not isinstance(out, _Number) else out


def derivatives(f: Callable, x, order: int = 2):
    """``[f(x), f'(x), ..., f^(K)(x)]``: every derivative up to ``order`` in one pass.

    Taylor mode: O(K²) work per operation of f (Griewank & Walther ch. 13).
    Overflowing derivatives are inf, never a silent 0.

    Parameters
    ----------
    f : callable
        Function of one variable (elementwise for an array ``x``).
    x : float or array_like
    order : int, default 2

    Returns
    -------
    ndarray, shape (order + 1,) + f(x).shape

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdual import derivatives
    >>> derivatives(np.sin, 0.0, order=4)
    array([ 0.,  1.,  0., -1.,  0.])
    >>> derivatives(lambda x: x ** 3, 2.0, order=4)
    array([ 8., 12., 12.,  6.,  0.])
    """
    kept = _tt.KEPT[0]
    tx = type(x)
    if (tx is float or tx is int) and type(order) is int and order > 0 and callable(f):
        out = _scalar_fast(f, x, order, None)
    else:
        out = _derivatives(f, x, order)
    if _tt.KEPT[0] != kept:
        out = _audited(f, x, _one_direction(x), int(order), out, lambda c: c[0])
    if isinstance(out, _Number):  # (f closes over an outer pass's numbers)
        out = _nan_valued_reached(out, f, (x,))
    return out


def _derivatives_of(y, tag, K):
    """``k! y_k``: the derivatives from f's output y for the call's tag."""
    if type(y) is Taylor and y._l is not None and y.tag == tag:
        return np.fromiter(_SCALE[K](y._l), float, K + 1)
    c = _result(_coefficients(y, tag, K))
    nres = len(_shape(c)) - 1
    with np.errstate(over="ignore"):
        return _result(_factorials(K, nres, c) * c)


def _derivatives_general(f, x, order):
    K = _check(f, order, "derivatives")
    X = variable(x, K, tag=_seed_tag())
    return _in_x_dtype(_derivatives_of(_msg.call(f, X), X.tag, K), x)


_derivatives_general.__name__ = "derivatives"  # the name _nests hands over by
_derivatives = _nests(_derivatives_general)


def nth_derivative(f: Callable, x, n: int):
    """The n-th derivative ``f^(n)(x)`` (Taylor mode, one pass of order n).

    Parameters
    ----------
    f : callable
        Function of one variable (elementwise for an array ``x``).
    x : float or array_like
        The point.
    n : int
        The order (>= 0; 0 gives ``f(x)``).

    Returns
    -------
    float or numpy.ndarray
        ``f^(n)(x)``, shaped like ``f(x)`` (inside another differentiation, a
        number of the outer engine).

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdual import nth_derivative
    >>> nth_derivative(np.exp, 1.0, 8)
    2.718281828459045
    >>> nth_derivative(lambda x: x ** 5, 1.0, 5)
    120.0
    """
    tx = type(x)
    if (tx is float or tx is int) and type(n) is int and n > 0 and callable(f):
        kept = _tt.KEPT[0]
        out = _scalar_fast(f, x, n, n)
        if _tt.KEPT[0] != kept:  # (the general path audits in derivatives)
            out = _audited(f, x, _one_direction(x), n, out, lambda c: c[0, n], None)
        if isinstance(out, _Number):  # (f closes over an outer pass's numbers)
            out = _nan_valued_reached(out, f, (x,))
        return out
    return _nth_derivative(f, x, n)


def _nth_general(f, x, n):
    n = _check(f, n, "nth_derivative")
    d = derivatives(f, x, n)
    out = d[n]
    return _tidy(out) if not isinstance(out, _Number) else out


_nth_general.__name__ = "nth_derivative"  # the name _nests hands over by
_nth_derivative = _nests(_nth_general)


@_nests
def directional_derivatives(f: Callable, x, v, order: int):
    """``d^k/dt^k f(x + t v)`` at t = 0 for k = 0..order (one Taylor pass).

    Parameters
    ----------
    f : callable
        Any function of an array (need not act elementwise).
    x : array_like
        The point.
    v : array_like, shape x.shape or (m,) + x.shape
        The direction, or a stack of m directions.  A stack is carried through
        f in one pass (coefficient arrays with a direction axis) when f uses
        arithmetic, numpy's elementwise functions, reductions, reshapes,
        indexing, ``where``, ``clip``, ``concatenate``/``stack`` and ``matmul``/``dot``;
        anything else (other numpy functions, numbers of another engine in f)
        falls back to one Taylor pass per direction, with the same result.
    order : int

    Returns
    -------
    ndarray, shape (order + 1,) + f(x).shape, or (m, order + 1) + f(x).shape
        for a stack of directions.

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdual import directional_derivatives
    >>> f = lambda x: x[0] ** 2 * x[1]
    >>> directional_derivatives(f, np.array([1.0, 2.0]), np.array([1.0, 1.0]), 3)
    array([2., 5., 8., 6.])
    >>> directional_derivatives(f, np.array([1.0, 2.0]), np.eye(2), 2)  # d/dx0, d/dx1
    array([[2., 4., 4.],
           [2., 1., 0.]])
    """
    K = _check(f, order, "directional_derivatives")
    x0 = x if isinstance(x, _Number) else _as_part(x, "x")
    v0 = v if isinstance(v, _Number) else _as_part(v, "v")
    kept = _tt.KEPT[0]
    out = _directional_derivatives(f, x0, v0, K)
    if _tt.KEPT[0] != kept:
        V = np.asarray(g.real_value(v0))
        one = V.shape == np.shape(g.real_value(x0))
        if isinstance(v0, _Number):  # (nested: the redo cannot carry it, see _audited)
            x0 = None
        if one:
            out = _audited(f, x0, V[None], K, out, lambda c: c[0])
        else:
            out = _audited(f, x0, V, K, out, lambda c: c, 1)
    return out


def _directional_derivatives(f, x0, v0, K):
    xs, vs = np.shape(g.real_value(x0)), np.shape(g.real_value(v0))
    if vs != xs:
        if len(vs) == len(xs) + 1 and vs[1:] == xs:  # a stack of directions
            c = _stacked(f, x0, v0, K)
            if c is not None:
                c = _in_x_dtype(c, x0)
                with np.errstate(over="ignore"):
                    return _factorials(K, c.ndim - 2, c) * c
            return np.stack([_directional(f, x0, v0[i], K) for i in range(vs[0])])
        raise ValueError(
            f"hyperdual.directional_derivatives: v has shape {vs}, x has shape {xs} "
            "(v must have x's shape, or (m,) + x's shape for m directions)"
        )
    return _directional(f, x0, v0, K)


def _stacked(f, x0, V, K):
    """Normalised coefficients along every row of V from one pass carrying all of them
    (shape (m, K + 1) + f(x).shape), or None: x or V are numbers of an outer engine, or
    f does something the stack does not carry (then one pass per direction)."""
    if isinstance(x0, _Number) or isinstance(V, _Number) or V.shape[0] < 2 \
            or np.result_type(x0, V).kind not in "fiu":
        return None
    try:
        return _st.stacked_directional(f, np.asarray(x0), np.asarray(V), K, _seed_tag())
    except Exception:  # noqa: BLE001 - any failure: the per-direction passes decide
        return None


def _directional(f, x0, v0, K):
    X = variable(x0, K, v0, tag=_seed_tag())
    c = _in_x_dtype(_coefficients(_msg.call(f, X), X.tag, K), x0)
    nres = len(_shape(c)) - 1
    with np.errstate(over="ignore"):
        return _result(_factorials(K, nres, c) * c)


def _multi_indices(n: int, d: int):
    """All multi-indices i in N^n with |i| = d (lexicographic)."""
    for combo in itertools.combinations_with_replacement(range(n), d):
        i = [0] * n
        for c in combo:
            i[c] += 1
        yield tuple(i)


def _fsum(terms):
    """math.fsum, or the plain sum where a term is not finite (fsum raises there)."""
    try:
        return math.fsum(terms)
    except (OverflowError, ValueError):
        return sum(terms)


def _gbinom(a, k: int):
    """Generalised binomial coefficient binom(a, k) (exact for a Fraction a)."""
    out = 1
    for m in range(k):
        out *= (a - m) / (m + 1)
    return out


@functools.lru_cache(maxsize=4096)
def _gamma_coeff(i, j, d):
    """Griewank-Utke-Walther interpolation weight: the partial derivative of
    multi-index ``i`` is sum_j gamma(i, j) times the d-th normalised Taylor
    coefficient along the direction ``j`` (|i| = |j| = d):

    gamma(i, j) = sum over 0 < k <= i of
    (-1)^{|i - k|} binom(i, k) binom(d k / |k|, j) (|k| / d)^d.

    A rational number, summed exactly (fractions) and rounded once: float sums of
    its terms were off by a few ulps, which the interpolation amplifies.
    """
    from fractions import Fraction

    total = Fraction(0)
    for k in itertools.product(*[range(m + 1) for m in i]):
        s = sum(k)
        if s == 0:
            continue
        c = 1
        for im, km in zip(i, k):
            c *= math.comb(im, km)
        b = Fraction(1)
        for km, jm in zip(k, j):
            b *= _gbinom(Fraction(d * km, s), jm)
            if not b:
                break
        if b:
            term = c * b * Fraction(s, d) ** d
            total += -term if (d - s) % 2 else term
    return float(total)


@functools.cache
def _entry_weights(counts: tuple, d: int) -> tuple:
    """The nonzero interpolation weights of an entry whose nonzero multi-index counts
    are ``counts``: pairs (direction counts on the same support, gamma).

    gamma(i, j) is 0 unless j's support lies in i's (binom(0, j_m) = 0 for j_m > 0),
    and coordinates outside i's support contribute factors of 1, so the weights depend
    only on the 2**(d-1) compositions of d: computing them per entry of the full
    n-variable index (n = 10, d = 3: 48,400 pairs of fractions) took seconds."""
    out = []
    for j in _multi_indices(len(counts), d):
        gam = _gamma_coeff(counts, j, d)
        if gam != 0.0:
            out.append((j, gam))
    return tuple(out)


def nested_partial(f, x0, axes, jvp):
    """The mixed partial of f at x0 along the unit vectors of ``axes`` by nested jvp's
    (``jvp(f, x, v) -> (f(x), df(x) v)``, an engine's own: Dual numbers for hyperdual,
    recorded graphs for reverse).  A direction that does not move a variable keeps
    its zero tangent, also against an infinite derivative of another."""
    n = np.shape(x0)[0]

    def part(m):
        if m == len(axes):
            return f
        inner = part(m + 1)
        e = np.zeros(n)
        e[axes[m]] = 1.0
        return lambda y: jvp(inner, y, e)[1]

    return part(0)(x0)


#: an interpolated entry whose terms are this many times larger than it is recomputed
_CANCELLED = 64.0


def _cancelled(terms, total) -> bool:
    """True if the finite ``total`` of the float ``terms`` lost digits to cancellation."""
    if not math.isfinite(total):
        return False
    mag = math.fsum(abs(t) for t in terms)
    return math.isfinite(mag) and mag > _CANCELLED * abs(total)


def _idle(firsts, n: int, d: int) -> tuple:
    """The variables m whose first-order coefficient along d e_m is exactly 0 in
    ``firsts`` (order d >= 2 only)."""
    if not firsts or d < 2:
        return ()
    pure = [tuple(d if k == m else 0 for k in range(n)) for m in range(n)]
    return tuple(m for m, i in enumerate(pure)
                 if i in firsts and type(firsts[i]) in (float, np.float64)
                 and firsts[i] == 0.0)


def _redo(partial, j, total):
    """The entry of counts ``j`` by ``partial``, or ``total`` if that is not a finite
    float: nested jvp's meet 0 * inf at a singular point (a zero constant times
    sqrt'(0)) where the interpolation's finite sum does not, and a function the Taylor
    pass took may be one the nested pass refuses."""
    try:
        redo = float(_tidy(g.real_value(partial(_axes_of(j)))))
    except (TypeError, ValueError, NotImplementedError):
        return total
    return redo if math.isfinite(redo) else total


#: entries sharing d - 2 leading axes that are recomputed by one Hessian
_BLOCK_FROM = 3


def _recomputed(redo, out, partial, block, d) -> dict:
    """The entries ``redo`` (counts) recomputed by nested jvp's: grouped by their d - 2
    smallest axes into Hessians by ``block`` where a group has :data:`_BLOCK_FROM` or
    more entries, one ``partial`` each otherwise, or where the Hessian's entry is not
    a finite float (a Hessian pass meets 0 * inf where nested jvp's keep a zero
    tangent: :func:`nested_partial`)."""
    groups: dict = {}
    for j in redo:
        axes = _axes_of(j)
        groups.setdefault(axes[:d - 2], []).append((j, axes[d - 2:]))
    done = {}
    for prefix, members in groups.items():
        H = None
        if block is not None and len(members) >= _BLOCK_FROM:
            try:
                with np.errstate(all="ignore"):
                    H = np.asarray(_tidy(g.real_value(block(prefix))))
            except (TypeError, ValueError, NotImplementedError):
                H = None
            if H is not None and (H.dtype.kind != "f" or H.ndim != 2):
                H = None
        for j, (a, b) in members:
            value = float(H[a, b]) if H is not None else math.nan
            done[j] = value if math.isfinite(value) else _redo(partial, j, out[j])
    return done


def _axes_of(j) -> tuple:
    """The sorted axes of the multi-index of counts ``j``: (1, 0, 2) -> (0, 2, 2)."""
    return tuple(k for k, c in enumerate(j) for _ in range(c))


def isolate_nonfinite(out, partial):
    """Entries of a float tensor that the interpolation made nan, recomputed by
    ``partial(axes)`` (the mixed partial along the sorted ``axes``, by nested jvp's:
    :func:`nested_partial`).  The interpolation combines
    the directions within an entry's support, so an infinite partial (d2/dx2^2
    sqrt(x2) at x2 = 0) made its neighbours (d2/dx0dx2 there, finite) inf - inf = nan;
    nested jvp's keep them (as hessian does).  A tensor nan everywhere is
    recomputed too (x**y at (0, 0): every direction of reverse's backprop passes
    met log 0, and its tensor was all nan, truth [[0, inf], [inf, 0]] by the
    convention); where f itself is nan that costs one nested partial per entry.
    Shared by both engines' ``derivative_tensor``."""
    bad = np.isnan(out)
    if not bad.any():
        return out
    return _recomputed_at(out, bad, partial)


def _recomputed_at(out, mask, partial, failed: tuple = ()):
    """A copy of the float tensor ``out`` whose entries at ``mask`` are recomputed by
    ``partial(axes)`` (one call per set of sorted axes; ``failed``: the exception
    types that give nan there instead of propagating)."""
    out = out.copy()
    done: dict = {}
    for pos in zip(*np.nonzero(mask)):
        key = tuple(sorted(int(p) for p in pos))
        if key not in done:
            try:
                with np.errstate(all="ignore"):
                    done[key] = float(_tidy(g.real_value(partial(key))))
            except failed:
                done[key] = math.nan
        out[pos] = done[key]
    return out


@_nests
def derivative_tensor(f: Callable, x, order: int):
    """All partial derivatives of order ``order`` of a scalar f at x, as a symmetric tensor.

    Computed from order-d Taylor passes along the binom(n + d - 1, d)
    directions ``sum_m i_m e_m`` (``|i| = d``) and the exact interpolation formula
    of Griewank, Utke and Walther (2000), as ADOL-C's ``tensor_eval`` does;
    each pass is one univariate Taylor propagation.  Meant for small n
    (the tensor has n**d entries).

    Parameters
    ----------
    f : callable
        Scalar function of a 1-d array x (or of a float: then the result is
        the order-th derivative).
    x : array_like, shape (n,)
    order : int
        d >= 0 (d = 1 the gradient, d = 2 the Hessian).

    Returns
    -------
    ndarray, shape (n,) * order

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdual import derivative_tensor
    >>> T = derivative_tensor(lambda x: x[0] ** 2 * x[1], np.array([1.0, 2.0]), 3)
    >>> np.allclose([T[0, 0, 1], T[0, 1, 0], T[1, 1, 1]], [2.0, 2.0, 0.0], atol=1e-14)
    True
    """
    d = _check(f, order, "derivative_tensor")
    x0 = x if isinstance(x, _Number) else _as_part(x, "x")
    shape = np.shape(g.real_value(x0))
    if shape == ():
        return nth_derivative(f, x0, d)
    if len(shape) != 1:
        raise ValueError("hyperdual.derivative_tensor: x must be 1-d (ravel it first)")
    n = shape[0]
    if d == 0:
        return _msg.call(f, x0)
    firsts: dict = {}  # direction -> its first-order coefficient (the idle variables)
    dirs: dict = {}  # direction -> its d-th coefficient (for the audit)
    kept_along: set = set()  # directions whose own pass took a series as constant

    def coefficient(v):  # the d-th normalised Taylor coefficient along v
        X = variable(x0, d, v, tag=_seed_tag())
        before = _tt.KEPT[0]
        c = _coefficients(_msg.call(f, X), X.tag, d)
        if np.shape(g.real_value(c))[1:] != ():
            raise ValueError("hyperdual.derivative_tensor: f must return a scalar")
        key = tuple(int(t) for t in v)
        firsts[key], dirs[key] = c[1], c[d]
        if _tt.KEPT[0] != before:
            kept_along.add(key)
        return c[d]

    def many(V):  # all directions in one stacked pass (None: one pass each)
        c = _stacked(f, x0, V, d)
        if c is None or c.shape[2:] != ():
            return None
        for k, v in enumerate(V):
            key = tuple(int(t) for t in v)
            firsts[key], dirs[key] = c[k, 1], c[k, d]
        return c[:, d]

    from .helpers import hessian, jvp

    def partial(axes):
        return nested_partial(f, x0, axes, jvp)

    def block(prefix):  # the Hessian of the mixed partial along prefix
        return hessian(lambda y: nested_partial(f, y, prefix, jvp), x0)

    kept = _tt.KEPT[0]
    out = tensor_from_directions(coefficient, n, d, many,
                                 None if isinstance(x0, _Number) else partial, firsts,
                                 block)
    if not isinstance(x0, _Number):
        if type(out) is np.ndarray and out.dtype.kind == "f":
            out = isolate_nonfinite(out, partial)
        if _tt.KEPT[0] != kept:
            out = _audited_tensor(f, x0, n, d, dirs, out, kept_along, partial)
    return _in_x_dtype(out, x0)


def _audited_tensor(f, x0, n: int, d: int, dirs: dict, out, kept_along: set, partial):
    """``out`` of :func:`derivative_tensor` whose Taylor passes took a series as
    constant at a singular point (``hyperdual._taylor.KEPT`` moved), with nan in
    every entry that the interpolation takes from a direction whose coefficient was
    computed, not constant (:func:`_probed_pass`): d2/dx0^2 of ``sqrt(x0**4) x1`` at
    (0, 1) was 0 (truth 2; the series ``16 t**4`` of order 2 looked constant), the
    gradient of ``cbrt(x0**3) x1`` there [0, 0] (truth [1, 0]).  The entries the
    interpolation made nan already (recomputed by nested jvp's) are left as they
    are.  Where the probed pass cannot run (f leaves the stack: ``np.inner``, or
    closes over numbers of an outer trace, which the stack does not carry), the
    entries taken from a direction whose own pass took a series as constant
    (``kept_along``; every entry where the stacked pass kept one) are recomputed
    by ``partial`` (nested jvp's, whose own audits apply; a constant zero weight's
    series along the directions that do not move its variable is kept there too,
    and is structural), or are nan in every part on an outer trace's numbers."""
    idx = list(_multi_indices(n, d))
    real = g.real_value(out)
    if type(real) is not np.ndarray or real.dtype.kind != "f" or real.shape != (n,) * d:
        return out  # (another array library's tensor: left as it came)

    def interpolated(coef):
        table = dict(zip(idx, (float(g.real_value(v)) for v in coef)))
        return tensor_from_directions(lambda v: table[tuple(int(t) for t in v)], n, d,
                                      lambda V: np.array([table[i] for i in idx]))

    c = _probed_pass(f, x0, np.array(idx, dtype=float), d)
    redo = False
    with np.errstate(all="ignore"):
        if c is None or np.shape(g.real_value(c))[2:] != () or any(i not in dirs for i in idx):
            redo = True
            if kept_along and all(i in dirs for i in idx):
                mask = np.isnan(interpolated([np.nan if i in kept_along else 0.0
                                              for i in idx]))
            else:  # (the stacked pass kept one, and cannot tell which)
                mask = np.ones(real.shape, dtype=bool)
        else:
            mask = np.isnan(interpolated(c[:, d])) & ~np.isnan(
                interpolated([dirs[i] for i in idx]))
    mask &= ~np.isnan(real)
    if not mask.any():
        return out
    if isinstance(out, _Number):
        return _poisoned_reached(out, mask, f, x0)
    if not redo:
        return np.where(mask, np.nan, out)
    return _recomputed_at(out, mask, partial, (TypeError, ValueError, NotImplementedError))


def tensor_from_directions(coefficient: Callable, n: int, d: int, many=None,
                           partial=None, firsts=None, block=None):
    """The symmetric tensor of d-th partials of a scalar function of n variables, from
    ``coefficient(v)``: the d-th normalised Taylor coefficient along the direction v
    (an array of n non-negative integers summing to d), by the Griewank-Utke-Walther
    interpolation.  Entries may be numbers of an outer engine (they are combined with
    ``*`` and ``+`` and stacked with ``np.stack``, which both engines dispatch).
    ``many(V)``, if given, may answer for all directions (the rows of V) at once, or
    return None.

    The interpolation is a signed sum over directions, each rounded relative to its
    own size: an entry far below the directions it is combined from (d2/dx0dx1 = 1
    next to d2/dx0^2 = 2e20) keeps none of its digits (it came out -1).  Where the
    sum of the terms' magnitudes exceeds the entry by more than ``_CANCELLED`` (or
    the entry is 0 from nonzero terms), a float entry is recomputed by
    ``partial(axes)`` (the mixed partial along the sorted ``axes``, by nested
    jvp's: :func:`nested_partial`), which has no such sum, if ``partial`` is given
    (and its value is finite).  So is every nonzero entry along an idle variable: one
    whose first-order coefficient along d e_m is exactly 0 in ``firsts`` (a dict the
    coefficient functions fill, direction -> that coefficient), usually a variable f
    does not use: the interpolation leaves the rounding noise of the other entries
    there, where nested jvp's give an exact 0.  ``block(prefix)``, if given, is the
    Hessian of the mixed partial along the sorted axes ``prefix`` (d - 2 of them):
    it recomputes every entry extending a prefix that :data:`_BLOCK_FROM` or more
    entries need in one call (n = 10, d = 3: one Hessian for up to 10 nested
    passes)."""
    idx = list(_multi_indices(n, d))
    got = many(np.array(idx, dtype=float)) if many is not None and len(idx) > 1 else None
    if got is not None:
        dirs = {i: float(got[k]) for k, i in enumerate(idx)}
    else:
        dirs = {i: coefficient(np.asarray(i, dtype=float)) for i in idx}
    out = {}
    plain = all(type(v) is float or type(v) is np.float64 for v in dirs.values())
    idle = _idle(firsts, n, d) if plain and partial is not None else ()
    redo = []
    for j in idx:
        total = None
        terms = []
        support = [m for m in range(n) if j[m]]
        for sub, gam in _entry_weights(tuple(j[m] for m in support), d):
            full = [0] * n
            for m, c in zip(support, sub):
                full[m] = c
            i = tuple(full)
            if plain:
                terms.append(gam * dirs[i])
                continue
            term = gam * dirs[i]
            total = term if total is None else total + term
        if plain:  # one rounding of the sum of the rounded products
            with np.errstate(all="ignore"):
                total = _fsum(terms) if terms else None
                if partial is not None and terms and (
                        _cancelled(terms, total)
                        or (total != 0.0 and any(j[m] for m in idle))):
                    redo.append(j)
        out[j] = total if total is not None else 0.0 * dirs[idx[0]]
    if redo:
        out.update(_recomputed(redo, out, partial, block, d))
    # scatter into the symmetric tensor: entry (a1..ad) has multi-index counts j
    entries = []
    for pos in itertools.product(range(n), repeat=d):
        j = [0] * n
        for p in pos:
            j[p] += 1
        entries.append(out[tuple(j)])
    if all(isinstance(e, (float, int, np.floating)) or (isinstance(e, np.ndarray)
                                                         and e.ndim == 0) for e in entries):
        return np.reshape(np.array(entries, dtype=float), (n,) * d)
    return np.reshape(np.stack(entries), (n,) * d)
