"""Reverse-mode rules of the elementwise functions of two arguments: ``+ - * /``,
``**`` (``Power`` and the partials family ``PowPartial``), ``arctan2``,
``hypot``, ``maximum``/``minimum`` and ``xlogy``.

Operands broadcast and either may be a constant; each backward sums the
gradient back to its operand's shape (``sum_to``).  ``_make_binary`` makes the
public function (``reverse.functions.add``) and registers the ufunc;
:mod:`reverse.rules.elementwise` adds its two-argument scipy.special functions
through it.  The comparison ufuncs are registered as value-only.

Examples
--------
>>> from reverse import Variable
>>> a, b = Variable(3.0), Variable(4.0)
>>> y = hypot(a, b)
>>> y.backward()
>>> a.grad, b.grad
(variable(0.6), variable(0.8))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from _exactdiff._common import WATCH_UNDERFLOW as _WATCH
from _exactdiff._common import fpe_ignored as _fpe_ignored
from _exactdiff.arrays import is_foreign_array as _is_foreign

from .. import core
from ..core import UFUNCS, VALUE_UFUNCS, Function, Variable, _value
from ..utils import sum_to
from ._util import _arg, _as_dtype, _keep_constant_zero, _keep_zero, zero_weighted_denominator

try:  # scipy is a dependency, but keep the core usable if it is broken
    import scipy.special as _sp
except ImportError:  # pragma: no cover
    _sp = None

__all__: list[str] = ["PowPartial", "BinaryGrad"]


def _is_scalar(obj: Any) -> bool:
    return getattr(obj, "shape", ()) == ()


def _dtype_or_weak(v: Any) -> Any:
    """v's dtype (read, never by np.asarray: dask stays lazy), a Python float as
    itself (weak in np.result_type), anything else float64."""
    dt = getattr(v, "dtype", None)
    if dt is not None:
        return dt
    return v if isinstance(v, float) else np.float64


def _unit(a: Any, b: Any) -> Any:
    """a / hypot(a, b), written as sign(a) / hypot(1, b/a) where |a| >= |b| and
    (a/b) sign(b) / hypot(1, a/b) elsewhere: the derivatives of a / h through
    the graph, 1/h - (a/h)**2/h, cancel where |b| << |a| (the true b**2/h**3 is
    tiny); these forms differentiate to products only."""
    av, bv = _value(a), _value(b)
    first = np.abs(av) >= np.abs(bv)
    # the signs in the operands' float dtype: np.sign of a Python float is a float64
    # scalar, which made hypot(1.0, x)'s derivative float64 for a float32 x
    dt = np.result_type(*(_dtype_or_weak(v) for v in (av, bv)))
    # each form sees harmless operands (1) where the other is taken: b / a of the
    # unused form at a = 0 was inf, and its derivative -b / a**2 on the recorded
    # graph met the where's zero cotangent as 0 * inf = nan at third order
    # (d3/dx3 hypot(0, x) was nan in every reverse-outer path, truth 0)
    if np.ndim(first) == 0:
        a_big, b_small = (a, 1.0) if first else (1.0, b)
    else:
        a_big, b_small = np.where(first, a, 1.0), np.where(first, 1.0, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        big = _as_dtype(np.sign(av), dt) / np.hypot(1.0, b / a_big)
        q = a / b_small
        small = q * _as_dtype(np.sign(bv), dt) / np.hypot(1.0, q)
    return np.where(first, big, small)


class Add(Function):
    """``a + b``.

    Examples
    --------
    >>> from reverse import Variable
    >>> Add()(Variable(1.0), 2.0)
    variable(3.)
    """

    __slots__ = ()
    _value_inputs = "none"  # only shapes (core._sweep_call)
    _value_output = False

    @staticmethod
    def forward(a: Any, b: Any) -> Any:
        if core._POOLING:
            out = core.pooled_out(a, b)
            if out is not None:
                return np.add(a, b, out=out)
        return a + b

    def backward(self, gy: Any, y: Any, a: Any, b: Any) -> Any:
        ia, ib = self._inputs
        return (sum_to(gy, a.shape) if isinstance(ia, Variable) else None,
                sum_to(gy, b.shape) if isinstance(ib, Variable) else None)


class Subtract(Function):
    """``a - b``.

    Examples
    --------
    >>> from reverse import Variable
    >>> Subtract()(Variable(1.0), 2.0)
    variable(-1.)
    """

    __slots__ = ()
    _value_inputs = "none"  # only shapes (core._sweep_call)
    _value_output = False

    @staticmethod
    def forward(a: Any, b: Any) -> Any:
        if core._POOLING:
            out = core.pooled_out(a, b)
            if out is not None:
                return np.subtract(a, b, out=out)
        return a - b

    def backward(self, gy: Any, y: Any, a: Any, b: Any) -> Any:
        ia, ib = self._inputs
        gb = None
        if isinstance(ib, Variable):
            g1 = _one_value(gy) if type(gy) is np.ndarray and gy.base is not None and _recording() \
                else None
            if g1 is None:
                out = core.pooled_out(gy) if core._POOLING else None
                g1 = -gy if out is None else np.negative(gy, out=out)
            else:
                g1 = np.broadcast_to(-g1, gy.shape)
            gb = sum_to(g1, b.shape)
        return (sum_to(gy, a.shape) if isinstance(ia, Variable) else None, gb)


def _recording() -> bool:
    """Whether this backward pass records a graph (reverse-over-reverse's first pass)."""
    return core._get_config().enable_backprop


def _one_value(g: Any) -> Any:
    """``g``'s first element as a ``(1, ..., 1)`` array when ``g`` is one number
    broadcast (all strides 0: Sum's backward on a large array), else None.

    A formula with a constant on it then costs one element, and its result is
    broadcast again (``c * sum(x)``'s cotangent ``c`` is no array of n copies
    of ``c``).  Numpy promotes a 1-element array as the whole one.  Used where
    a pass records a graph: there such a product is a constant the graph keeps
    until the second pass (reverse-over-reverse of the Rosenbrock function at
    n = 10**5: 15.9 -> 10.9 arrays of 800 KB faulted in per call with glibc).
    In a plain pass it would only save one transient array, and measured, the
    allocator then returned memory to the kernel at worse moments (gradient
    6.9 -> 7.9 arrays faulted in per call, forward-over-reverse 16.9 -> 18.9).
    """
    if type(g) is np.ndarray and g.base is not None and g.ndim and not any(g.strides):
        return g[(slice(0, 1),) * g.ndim]
    return None


def _plain_scalar(c: Any) -> bool:
    t = type(c)
    return t is float or t is int or (t is np.ndarray and not c.ndim) or isinstance(
        c, np.generic)


def _product_grad(gy: Any, c: Any) -> Any:
    """``gy * c`` zero-guarded; one element of work for a broadcast ``gy`` and a scalar ``c``."""
    if _plain_scalar(c):
        g1 = _one_value(gy)
        if g1 is not None:
            return np.broadcast_to(_keep_zero(g1, g1 * c), gy.shape)
    return _keep_zero(gy, gy * c)


class Multiply(Function):
    """``a * b``.

    Examples
    --------
    >>> from reverse import Variable
    >>> Multiply()(Variable(3.0), 2.0)
    variable(6.)
    """

    __slots__ = ()
    _value_inputs = "other"  # gy * b for a, gy * a for b (core._sweep_call)
    _value_output = False

    @staticmethod
    def forward(a: Any, b: Any) -> Any:
        if core._POOLING:
            out = core.pooled_out(a, b)
            if out is not None:
                return np.multiply(a, b, out=out)
        return a * b

    def backward(self, gy: Any, y: Any, a: Any, b: Any) -> Any:
        ia, ib = self._inputs
        va, vb = isinstance(ia, Variable), isinstance(ib, Variable)
        if type(gy) is np.ndarray and gy.base is not None and _recording():
            ga = _product_grad(gy, b) if va else None
            gb = _product_grad(gy, a) if vb else None
        elif core._POOLING:
            ga = _keep_zero(gy, _times(gy, b)) if va else None
            gb = _keep_zero(gy, _times(gy, a)) if vb else None
        else:
            ga = _keep_zero(gy, gy * b) if va else None
            gb = _keep_zero(gy, gy * a) if vb else None
        # times a constant of the graph (t * 0.0): its zeros are structural
        if va and not vb:
            ga = _keep_constant_zero(ga, b)
        elif vb and not va:
            gb = _keep_constant_zero(gb, a)
        return (sum_to(ga, a.shape) if va else None, sum_to(gb, b.shape) if vb else None)


def _times(gy: Any, c: Any) -> Any:
    """gy * c, into a pooled buffer in a large trace (``core.pooled_out``)."""
    out = core.pooled_out(gy, c)
    return gy * c if out is None else np.multiply(gy, c, out=out)


class Divide(Function):
    """``a / b``.

    Examples
    --------
    >>> from reverse import Variable
    >>> Divide()(Variable(3.0), 2.0)
    variable(1.5)
    """

    __slots__ = ()

    @staticmethod
    def forward(a: Any, b: Any) -> Any:
        return a / b

    def backward(self, gy: Any, y: Any, a: Any, b: Any) -> Any:
        ia, ib = self._inputs
        # d(a/b)/db = -(a/b)/b: gy times the output over b, not a / b**2.  As
        # (gy y) / b, not (gy / b) y: in a second pass a small cotangent over a
        # large b underflows (d2/db2 a/b at (-1.7e300, 1e200) was half the truth)
        if not isinstance(ib, Variable):
            return sum_to(_keep_zero(gy, gy / b), a.shape), None
        gb = _keep_zero(gy, -((gy * y) / b))
        if not isinstance(ia, Variable):
            # -gy a / b**2: a constant numerator's exact zeros are structural (the
            # constant-zero convention), where y = a / b is 0 only as a value (in
            # forward-over-reverse 0.0 / (1 + sqrt(x)) at 0: y's 0 times b's inf
            # tangent was nan)
            return None, sum_to(_keep_zero(a, gb), b.shape)
        return sum_to(_keep_zero(gy, gy / b), a.shape), sum_to(gb, b.shape)


def _const_power_grad(gy: Any, a: Any, n: Any) -> Any:
    """gy * d(a**n)/da for a constant exponent, with the n = 0 guard.

    Only n = 0 needs a guard: 0 * a**-1 is NaN at a = 0.  The derivative of
    ``a ** 1`` is ``1 * a ** 0`` whose own derivative goes through this guard
    again, so x**1 and x**0 are clean at every order.
    """
    if type(n) is int or type(n) is float or _is_scalar(n):
        if n == 0:
            return np.zeros(np.broadcast_shapes(gy.shape, a.shape))
        if n == 1:
            return gy
        if n == 2:
            if type(a) is np.ndarray and type(gy) is np.ndarray and a.shape == gy.shape:
                # In place on the fresh temporary: one array allocated instead
                # of two (~10% of the Rosenbrock gradient at n = 10**5..10**6).
                out = core.pooled_out(a) if core._POOLING else None
                t = a * 2.0 if out is None else np.multiply(a, 2.0, out=out)
                t *= gy
                return t
            return gy * (2 * a)
        from hyperdual._powrule import plain_power_is_precise

        if isinstance(a, Variable) or isinstance(gy, Variable):
            # double backprop: the derivative's own derivatives in range (PowTerm)
            return PowTerm(float(_value(n)), 1)(a, gy)
        if core._is_dual(a) and (core._is_dual(a.real) or a._NPARTS != 2):
            out = _nested_const_power_grad(gy, a, float(_value(n)))
            if out is not None:
                return out
        if not plain_power_is_precise(n, 1):
            # n - 1 inexact (0.3, 1e-8: |log a| amplifies its rounding) or n tiny
            # (a**(n - 2) overflows in the next order): the P_ij family
            return gy * _pow_partial(1, 0, a, n)
        if _WATCH.get():
            # under the range watch (a retry with scaled seeds): the product formed
            # in range where a**(n - 1) alone overflows (d/dv (v**2)**-0.5 at
            # 1e-120 is -1e240 while (1e-240)**-1.5 is inf)
            if not (core._is_dual(a) or core._is_dual(gy)):
                return _pow_term_value(float(_value(n)), 1, a, (gy,))
            out = _dual_const_power_grad(gy, a, float(_value(n)))
            if out is not None:
                return out
        return gy * (n * a ** (n - 1))
    zero = n == 0
    coef = np.where(zero, 0.0, n)
    return gy * (coef * a ** (np.where(zero, 1.0, n) - 1))


def _nested_const_power_grad(gy: Any, a: Any, n: float) -> Any:
    """``gy n a**(n - 1)`` on nested Dual or HyperDual data far from 1 (a reverse
    helper inside forward-mode helpers), as ``(gy a**n) n / a``: the partial
    ``a**(n - 1)`` alone leaves the range where the product with the cotangent
    does not, and no seed scaling reaches it (d3/dv3 ``exp(v)**-0.5`` at 500
    through two hyperdual helpers outside reverse.derivative was 0, truth
    -3.3e-110: ``a**-1.5`` = e**-750 underflowed), while the product's
    intermediates move with the seeds that the range watch scales.  None where
    that does not apply (hyperdual._number._relative_exponent: inside the band,
    a zero or non-finite value, a value ``a**n`` that itself leaves the range)."""
    from hyperdual._number import _relative_exponent

    if _relative_exponent(a, n) is None:
        return None
    return (gy * a ** n) * n / a


def _dual_const_power_grad(gy: Any, a: Any, n: float) -> Any:
    """``gy n a**(n - 1)`` on Dual data of one perturbation (forward-over-reverse),
    part by part, each a product formed in range by ``hyperdual._powrule.pow_term``:
    the real part ``g n r**(n - 1)``, the dual part ``g n (n - 1) r**(n - 2) t`` plus
    ``g' n r**(n - 1)`` (Hessian of (v**2)**-0.5 at 1e-120: u**-2.5 = 1e600 alone
    overflowed, and the sum of the parts was nan, where the retries of the range
    watch bring each product in range).  None for other data (nested
    perturbations, HyperDual, lazy arrays): the plain arithmetic then."""
    from hyperdual import _number as hn
    from hyperdual._powrule import pow_term

    def parts(v: Any) -> tuple | None:
        if type(v) is hn.Dual:
            r, t = v.real, v.dual
            return (r, t) if type(r) in (float, np.ndarray) and type(t) in (
                float, np.ndarray) else None
        return (v, None) if type(v) in (float, np.ndarray, np.float64) else None

    pa, pg = parts(a), parts(gy)
    if pa is None or pg is None:
        return None
    (r, t), (g0, g1) = pa, pg
    if t is None and g1 is None:
        return None
    tag, nd = (a.tag, a.nd) if t is not None else (gy.tag, gy.nd)
    if t is not None and g1 is not None and (gy.tag != a.tag or gy.nd != a.nd):
        return None
    with np.errstate(all="ignore"):
        d1 = n * np.power(r, n - 1)
        d2 = n * (n - 1) * np.power(r, n - 2) if t is not None else None
    # (a zero cotangent or tangent keeps its product 0 where the partial is not
    # finite, as hyperdual's arithmetic does: _guard)
    real = hn._guard(pow_term(n, 1, r, (g0,), d1), g0)
    dual = hn._guard(pow_term(n, 2, r, (g0, t), d2), g0, t) if t is not None else None
    if g1 is not None:
        term = hn._guard(pow_term(n, 1, r, (g1,), d1), g1)
        dual = term if dual is None else dual + term
    return hn.Dual._build((real, dual), tag, nd)


class Power(Function):
    """``a ** b`` (either operand may be a constant).

    Examples
    --------
    >>> from reverse import Variable
    >>> Power()(Variable(3.0), 2)
    variable(9.)
    """

    __slots__ = ()
    _value_output = False  # the partials read the base and exponent only

    @staticmethod
    def forward(a: Any, b: Any) -> Any:
        if core._POOLING and (type(b) is int or type(b) is float) and b == 2:
            out = core.pooled_out(a)
            if out is not None:
                return np.square(a, out=out)  # what numpy's a ** 2 computes
        return a ** b

    def backward(self, gy: Any, y: Any, a: Any, b: Any) -> Any:
        ia, ib = self._inputs
        ga = gb = None
        tb = type(b)
        if tb is int or tb is float or not isinstance(ib, Variable) and not core._is_dual(b):
            # a plain constant exponent: its value is the whole number
            if isinstance(ia, Variable):
                ga = sum_to(_keep_zero(gy, _const_power_grad(gy, a, b)), a.shape)
            return ga, gb
        # The exponent carries a derivative (a Variable, or Dual data of an outer
        # forward pass): the partials are the P_ij family (hyperdual._powrule),
        # whose own derivatives are the next members, so every order is exact
        # and mixed partials are symmetric; d/db is 0 at a = 0 (JAX's convention).
        if isinstance(ia, Variable):
            ga = sum_to(_keep_zero(gy, gy * _pow_partial(1, 0, a, b)), a.shape)
        if isinstance(ib, Variable):
            gb = sum_to(_keep_zero(gy, gy * _pow_partial(0, 1, a, b)), b.shape)
        return ga, gb


class PowTerm(Function):
    """``c (c - 1) .. (c - k + 1) a**(c - k) t1 .. tm`` for a plain constant ``c``:
    the k-th derivative of ``a**c`` times a cotangent and tangents.

    Its partials are members of the family (by ``a``: k + 1; by a ``t``: the same k
    without that factor), so double backprop through a constant power stays in it,
    and each member is formed without leaving the float range where the product
    is an ordinary float (:func:`hyperdual._powrule.pow_term`): the second pass
    never forms ``a**(c - 2)`` alone (d2/dv2 ((1/v)**-2) = 2 came out -4 at
    v = 1.7e-100, where ``u**-4`` underflows).

    Parameters
    ----------
    c : float
        The exponent (a constant).
    k : int
        The order of the derivative of ``a**c``.

    Examples
    --------
    >>> from reverse import Variable
    >>> PowTerm(3.0, 1)(Variable(2.0), 5.0)  # 3 * 2**2 * 5
    variable(60.)
    """

    __slots__ = ("c", "k")

    def __init__(self, c: float, k: int) -> None:
        self.c, self.k = c, k

    def forward(self, a: Any, *ts: Any) -> Any:
        return _pow_term_value(self.c, self.k, a, ts)

    def backward(self, gy: Any, y: Any, a: Any, *ts: Any) -> Any:
        ins = self._inputs
        c, k = self.c, self.k
        out = [sum_to(_keep_zero(gy, _pow_term(c, k + 1, a, gy, *ts)), np.shape(a))
               if isinstance(ins[0], Variable) else None]
        for i, t in enumerate(ts):
            if isinstance(ins[i + 1], Variable):
                rest = ts[:i] + ts[i + 1:]
                out.append(sum_to(_keep_zero(gy, _pow_term(c, k, a, gy, *rest)), np.shape(t)))
            else:
                out.append(None)
        return tuple(out)


def _pow_term(c: float, k: int, a: Any, *ts: Any) -> Any:
    """PowTerm on a graph (any operand a Variable), else its value."""
    if isinstance(a, Variable) or any(isinstance(t, Variable) for t in ts):
        return PowTerm(c, k)(a, *ts)
    return _pow_term_value(c, k, a, ts)


def _pow_term_value(c: float, k: int, a: Any, ts: tuple) -> Any:
    from hyperdual._powrule import (
        plain_power_is_precise,
        pow_partial,
        pow_partial_value,
        pow_term,
    )

    plain = not (core._is_dual(a) or any(core._is_dual(t) for t in ts) or _is_foreign(a)
                 or any(_is_foreign(t) for t in ts))
    if plain_power_is_precise(c, k):  # c - k exact: the falling factorial times a**(c - k)
        coef = 1.0
        for i in range(k):
            coef *= c - i
        # (plain data: an overflow of a**(c - k) alone is left to pow_term's scaled
        # product, unseen by the second-order watch)
        with np.errstate(divide="ignore", invalid="ignore",
                         **({"over": "ignore"} if plain else {})):
            d = coef * a ** (c - k) if coef else a * 0.0
    else:
        d = pow_partial_value(k, 0, a, c) if plain else pow_partial(k, 0, a, c)
    if plain:
        return pow_term(c, k, a, ts, d)
    if k and core._is_dual(a):
        from hyperdual._number import _relative_exponent

        if _relative_exponent(a, c) is not None:
            # Dual data far from 1: a**(c - k) alone leaves the range where the
            # product does not (d/dv of second_derivative((v**2)**-0.5) at 1e75
            # through hyperdual.derivative was twice the truth: u**-2.5 = 1e-375):
            # a**c times each factor divided by a, one at a time (the falling
            # factorial is a coefficient here, not an exponent: an inexact c - i
            # is not amplified by log a)
            return _power_times_factors(a, c, k, ts)
    if k and all(c != i for i in range(k)) and _far_plain_base(a, d):
        # a plain base whose a**(c - k) left the normal range beside Dual cotangents
        # or tangents (forward-over-reverse of a helper whose f closes over the outer
        # variable: d/dv (v**2)**-0.5 at 1e-120 inside reverse.hessian formed
        # c u**-1.5 = inf alone, -inf at every seed scale, truth -1e240): the same
        # product a**c times each factor over a, one at a time
        return _power_times_factors(a, c, k, ts)
    for t in ts:  # forward-over-reverse (Duals), lazy data: the plain products
        d = d * t
    return d


def _power_times_factors(a: Any, c: Any, k: int, ts: Any) -> Any:
    """c (c - 1) ... (c - k + 1) a**(c - k) times the factors ``ts``, formed as a**c times
    each factor divided by a, one at a time: a**(c - k) alone may leave the normal
    range where the product does not (the falling factorial is a coefficient here,
    not an exponent: an inexact c - i is not amplified by log a)."""
    out = a ** c
    for i in range(k):
        out = out * (c - i)
    for j in range(k):
        out = out * (ts[j] / a) if j < len(ts) else out / a
    for t in ts[k:]:
        out = out * t
    return out


def _far_plain_base(a: Any, d: Any) -> bool:
    """A plain float64 base a (finite, nonzero) whose power partial d is not a
    normal float where a**c is."""
    if not (type(a) is float or type(a) is np.ndarray and a.dtype == np.float64
            or type(a) is np.float64) or core._is_dual(d):
        return False
    with np.errstate(all="ignore"):
        ad, aa = np.abs(np.asarray(d)), np.abs(np.asarray(a))
        bad = ~np.isfinite(ad) | (ad < np.finfo(np.float64).tiny)
        return bool(np.any(bad & np.isfinite(aa) & (aa > 0)))


class PowPartial(Function):
    """``d^(i+j) (a ** b) / da^i db^j``; its partials are the next members.

    Parameters
    ----------
    i, j : int
        How many times ``a ** b`` is differentiated by ``a`` and by ``b``.

    Examples
    --------
    >>> from reverse import Variable
    >>> PowPartial(1, 0)(Variable(2.0), 3.0)  # 3 * 2**2
    variable(12.)
    """

    __slots__ = ("i", "j")

    def __init__(self, i: int, j: int) -> None:
        self.i, self.j = i, j

    def forward(self, a: Any, b: Any) -> Any:
        return _pow_partial(self.i, self.j, a, b)

    def backward(self, gy: Any, y: Any, a: Any, b: Any) -> Any:
        ia, ib = self._inputs
        i, j = self.i, self.j
        return (sum_to(_keep_zero(gy, gy * _pow_partial(i + 1, j, a, b)), np.shape(a))
                if isinstance(ia, Variable) else None,
                sum_to(_keep_zero(gy, gy * _pow_partial(i, j + 1, a, b)), np.shape(b))
                if isinstance(ib, Variable) else None)


def _pow_partial(i: int, j: int, a: Any, b: Any) -> Any:
    if isinstance(a, Variable) or isinstance(b, Variable):
        return PowPartial(i, j)(a, b)
    if core._is_dual(a) or core._is_dual(b):
        from hyperdual._powrule import pow_partial

        return pow_partial(i, j, a, b)
    from hyperdual._powrule import pow_partial_value

    return pow_partial_value(i, j, a, b)


class Arctan2(Function):
    """``arctan2(a, b)``, the angle of the point (b, a).

    Examples
    --------
    >>> from reverse import Variable
    >>> Arctan2()(Variable(1.0), 1.0)
    variable(0.78539816)
    """

    __slots__ = ()

    @staticmethod
    def forward(a: Any, b: Any) -> Any:
        return np.arctan2(a, b)

    def backward(self, gy: Any, y: Any, a: Any, b: Any) -> Any:
        ia, ib = self._inputs
        return (sum_to(_keep_zero(gy, _binary_grad("arctan2", 0, gy, a, b)), np.shape(a))
                if isinstance(ia, Variable) else None,
                sum_to(_keep_zero(gy, _binary_grad("arctan2", 1, gy, a, b)), np.shape(b))
                if isinstance(ib, Variable) else None)


# arctan2's and hypot's partials times a cotangent, and their second partials
# times two, formed as products of the unit vector (a, b) / h and cotangents over
# h (h = hypot(a, b)): no intermediate leaves the float range where the product
# does not (b / (a**2 + b**2) overflows at 1e154, b / h**2 at h = 1e-300 is
# 5e299), and arctan2's mixed partial (a**2 - b**2) / h**4 is a product with the
# exact factor a - b, so it is 0 (not inf - inf) at a = b however small h is.
# The Hessians are symmetric by construction.
def _arctan2_first(k: int, gy: Any, a: Any, b: Any) -> Any:
    h = np.hypot(a, b)
    return (b / h) * (gy / h) if k == 0 else -((a / h) * (gy / h))


def _arctan2_second(i: int, j: int, c: Any, gy: Any, a: Any, b: Any) -> Any:
    """gy c d^2 arctan2 / da^i db^j (i + j = 2)."""
    h = np.hypot(a, b)
    ch, gh = c / h, gy / h
    if i == 1:
        return (((a - b) / h) * ch) * (((a + b) / h) * gh)
    v = ((a / h) * ch) * ((b / h) * gh)
    return -2.0 * v if i == 2 else 2.0 * v


def _hypot_first(k: int, gy: Any, a: Any, b: Any) -> Any:
    # gy * (a / h): a / h is in [-1, 1], (gy / h) * a under/overflows first
    return gy * (_unit(a, b) if k == 0 else _unit(b, a))


def _hypot_second(i: int, j: int, c: Any, gy: Any, a: Any, b: Any) -> Any:
    """gy c d^2 hypot / da^i db^j: b**2 / h**3, -a b / h**3, a**2 / h**3."""
    h = np.hypot(a, b)
    ua, ub = _unit(a, b), _unit(b, a)
    ch = c / h
    if i == 2:
        return (ub * ch) * (ub * gy)
    if i == 1:
        return -((ua * ch) * (ub * gy))
    return (ua * ch) * (ua * gy)


_GRAD_RULES = {"arctan2": (_arctan2_first, _arctan2_second),
               "hypot": (_hypot_first, _hypot_second)}


class BinaryGrad(Function):
    """``gy * df(a, b)/da`` (k = 0) or ``gy * df/db`` (k = 1) for f = arctan2 or
    hypot, a rule of its own.

    Its backward forms the second partials times the cotangent as scaled
    products: differentiating a formula for the partial through the graph adds
    terms that overflow or underflow separately (inf - inf for arctan2's mixed
    partial at a = b = 1e-300, where it is 0; hypot's b**2 / h**3 at (1e-100,
    1e-300) was 0).  On Dual data (forward-over-reverse) the tangent is formed
    from the same products.

    Parameters
    ----------
    name : str
        ``"arctan2"`` or ``"hypot"``.
    k : int
        0 for the partial in ``a``, 1 for the partial in ``b``.

    Examples
    --------
    >>> from reverse import Variable
    >>> BinaryGrad("arctan2", 0)(Variable(1.0), 3.0, 4.0)  # 4 / 25
    variable(0.16)
    """

    __slots__ = ("name", "k")

    def __init__(self, name: str, k: int) -> None:
        self.name, self.k = name, k

    def forward(self, gy: Any, a: Any, b: Any) -> Any:
        return _binary_grad_data(self.name, self.k, gy, a, b)

    def backward(self, c: Any, y: Any, gy: Any, a: Any, b: Any) -> Any:
        ig, ia, ib = self._inputs
        k, second = self.k, _GRAD_RULES[self.name][1]
        return (sum_to(_keep_zero(c, _binary_grad(self.name, k, c, a, b)), np.shape(gy))
                if isinstance(ig, Variable) else None,
                sum_to(_keep_zero(c, second(2 - k, k, c, gy, a, b)), np.shape(a))
                if isinstance(ia, Variable) else None,
                sum_to(_keep_zero(c, second(1 - k, 1 + k, c, gy, a, b)), np.shape(b))
                if isinstance(ib, Variable) else None)


def _binary_grad(name: str, k: int, gy: Any, a: Any, b: Any) -> Any:
    if isinstance(gy, Variable) or isinstance(a, Variable) or isinstance(b, Variable):
        return BinaryGrad(name, k)(gy, a, b)
    return _binary_grad_data(name, k, gy, a, b)


def _binary_grad_data(name: str, k: int, gy: Any, a: Any, b: Any) -> Any:
    first, second = _GRAD_RULES[name]
    if core._is_dual(gy) or core._is_dual(a) or core._is_dual(b):
        out = _dual_jvp((gy, a, b), lambda g, a, b: first(k, g, a, b), (
            lambda g, a, b, t: first(k, t, a, b),
            lambda g, a, b, t: second(2 - k, k, t, g, a, b),
            lambda g, a, b, t: second(1 - k, 1 + k, t, g, a, b)))
        if out is not None:
            return out
    return first(k, gy, a, b)  # plain data (or nested numbers: the formula)


def _dual_jvp(args: tuple, value: Any, terms: tuple) -> Any:
    """The Dual ``value(*reals)`` with tangent ``sum_i terms[i](*reals, t_i)``.

    For an elementwise function whose partials times a tangent are formed by
    ``terms`` (each linear in its tangent): forward-over-reverse then carries
    the rule's own scaled products instead of differentiating a formula by
    hyperdual's arithmetic (whose separate terms may overflow where their sum
    does not).  A zero tangent contributes zero even where a partial is inf.
    None for data this does not cover (HyperDuals, nested Duals, mixed tags):
    the caller then evaluates the formula.
    """
    from hyperdual import _number as hn

    tag = nd = None
    reals, tans = [], []
    for v in args:
        if core._is_dual(v):
            if type(v) is not hn.Dual or isinstance(v.real, hn._Number) \
                    or isinstance(v.dual, hn._Number):
                return None
            if tag is None:
                tag, nd = v.tag, v.nd
            elif v.tag != tag or v.nd != nd:
                return None
            reals.append(v.real)
            tans.append(v.dual)
        else:
            if isinstance(v, hn._Number):
                return None
            reals.append(v)
            tans.append(None)
    floats = all(type(r) is float for r in reals)
    # Python floats as numpy scalars (1/0 is inf, not ZeroDivisionError) of the other
    # operands' float dtype: next to float32 data they stay float32, as a weak scalar
    others = [r for r in reals if type(r) is not float]
    dt = np.result_type(*others) if others else np.dtype(np.float64)
    if dt.kind != "f":
        dt = np.dtype(np.float64)
    reals = [dt.type(r) if type(r) is float else r for r in reals]
    nres = max(np.ndim(r) for r in reals)
    with _fpe_ignored():
        out = value(*reals)
        tan = None
        for term, t in zip(terms, tans):
            if t is None:
                continue
            t = hn._lift(t, nd, nres)
            part = np.where(t == 0, 0.0, term(*reals, t))
            tan = part if tan is None else tan + part
    shape = np.shape(tan)[:nd] + np.shape(out) if nd else np.shape(out)
    if np.shape(tan) != shape:
        tan = np.array(np.broadcast_to(tan, shape))
    if floats:
        out = float(out)
        if not shape:
            tan = float(tan)
    return hn.Dual._build((out, tan), tag, nd)


class Hypot(Function):
    """``hypot(a, b) = sqrt(a**2 + b**2)``.

    Examples
    --------
    >>> from reverse import Variable
    >>> Hypot()(Variable(3.0), 4.0)
    variable(5.)
    """

    __slots__ = ()

    @staticmethod
    def forward(a: Any, b: Any) -> Any:
        return np.hypot(a, b)

    def backward(self, gy: Any, y: Any, a: Any, b: Any) -> Any:
        ia, ib = self._inputs
        return (sum_to(_keep_zero(gy, _binary_grad("hypot", 0, gy, a, b)), np.shape(a))
                if isinstance(ia, Variable) else None,
                sum_to(_keep_zero(gy, _binary_grad("hypot", 1, gy, a, b)), np.shape(b))
                if isinstance(ib, Variable) else None)


class Maximum(Function):
    """Elementwise ``maximum(a, b)``; ties split the gradient 0.5/0.5 (JAX).

    Examples
    --------
    >>> from reverse import Variable
    >>> Maximum()(Variable(1.0), 2.0)
    variable(2.)
    """

    __slots__ = ()
    _pick = staticmethod(np.greater)

    @staticmethod
    def forward(a: Any, b: Any) -> Any:
        return np.maximum(a, b)

    def backward(self, gy: Any, y: Any, a: Any, b: Any) -> Any:
        ia, ib = self._inputs
        av, bv = _value(a), _value(b)
        wa = np.where(self._pick(av, bv), 1.0, np.where(av == bv, 0.5, 0.0))
        dt = np.result_type(av, bv)
        if dt.kind == "f":
            wa = wa.astype(dt, copy=False)  # float32 gradients stay float32
        return (sum_to(gy * wa, a.shape) if isinstance(ia, Variable) else None,
                sum_to(gy * (1.0 - wa), b.shape) if isinstance(ib, Variable) else None)


class Minimum(Maximum):
    """Elementwise ``minimum(a, b)``; ties split the gradient 0.5/0.5 (JAX).

    Examples
    --------
    >>> from reverse import Variable
    >>> Minimum()(Variable(1.0), 2.0)
    variable(1.)
    """

    __slots__ = ()
    _pick = staticmethod(np.less)

    @staticmethod
    def forward(a: Any, b: Any) -> Any:
        return np.minimum(a, b)


class Xlogy(Function):
    """``xlogy(a, b) = a * log(b)``, 0 where ``a == 0`` (scipy.special.xlogy).

    Examples
    --------
    >>> from reverse import Variable
    >>> Xlogy()(Variable(0.0), 0.0)
    variable(0.)
    """

    __slots__ = ()

    @staticmethod
    def forward(a: Any, b: Any) -> Any:
        return _sp.xlogy(a, b)

    def backward(self, gy: Any, y: Any, a: Any, b: Any) -> Any:
        ia, ib = self._inputs
        wa = isinstance(ia, Variable)
        if isinstance(ib, Variable):
            gb = sum_to(_keep_zero(gy, gy * a / zero_weighted_denominator(a, b, wa)),
                        b.shape)
        else:
            gb = None
        return (sum_to(_keep_zero(gy, gy * np.log(b)), a.shape) if wa else None), gb


_BINARY = [
    (Add, np.add, ("add",)),
    (Subtract, np.subtract, ("subtract",)),
    (Multiply, np.multiply, ("multiply",)),
    (Divide, np.divide, ("divide", "true_divide")),
    (Power, np.power, ("power",)),
    (Arctan2, np.arctan2, ("arctan2",)),
    (Hypot, np.hypot, ("hypot",)),
    (Maximum, np.maximum, ("maximum",)),
    (Minimum, np.minimum, ("minimum",)),
]
if _sp is not None:
    _BINARY.append((Xlogy, _sp.xlogy, ("xlogy",)))

_BINARY_DOC = '''``{name}(a, b)`` elementwise with broadcasting, recorded in the graph.

Either operand may be a Variable or a constant (array_like); numpy's
``np.{np_name}`` on a Variable reaches the same rule.

Parameters
----------
a, b : Variable or array_like
    The operands, broadcast against each other; constants are not
    differentiated.

Returns
-------
Variable
    ``{name}(a, b)`` elementwise, shape of the broadcast operands.

Examples
--------
The gradient with respect to each operand agrees with central differences:

>>> import numpy as np
>>> from reverse import Variable, gradient_check
>>> a, b = np.array([0.7, 1.9]), np.array([1.3, 0.8])
>>> y = {name}(Variable(a), b)
>>> y.shape
(2,)
>>> bool(gradient_check(lambda a: {name}(a, b).sum(), a))
True
>>> bool(gradient_check(lambda b: {name}(a, b).sum(), b))
True
'''


def _make_binary(cls: type, ufunc: Any, names: tuple[str, ...]) -> None:
    def fn(a: Any, b: Any) -> Variable:
        return cls()(_arg(a, names[0]), _arg(b, names[0]))

    fn.__name__ = fn.__qualname__ = names[0]
    fn.__doc__ = _BINARY_DOC.format(name=names[0], np_name=ufunc.__name__)
    for name in names:
        globals()[name] = fn
    # the function is this module's; the class stays its own module's (elementwise
    # adds its classes to its own __all__)
    __all__.extend((cls.__name__, *names) if cls.__module__ == __name__ else names)
    UFUNCS[ufunc] = fn


for _cls, _uf, _names in _BINARY:
    _make_binary(_cls, _uf, _names)

# float_power computes in float64, which Variables are anyway.
UFUNCS[np.float_power] = UFUNCS[np.power]

VALUE_UFUNCS.update({
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.isfinite, np.isinf, np.isnan, np.signbit, np.logical_and, np.logical_or,
    np.logical_not, np.logical_xor,
})
