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

from .. import core
from ..core import UFUNCS, VALUE_UFUNCS, Function, Variable, _value
from ..utils import sum_to
from ._util import _arg, _keep_zero

try:  # scipy is a dependency, but keep the core usable if it is broken
    import scipy.special as _sp
except ImportError:  # pragma: no cover
    _sp = None

__all__: list[str] = ["PowPartial"]


def _is_scalar(obj: Any) -> bool:
    return getattr(obj, "shape", ()) == ()


def _unit(a: Any, b: Any) -> Any:
    """a / hypot(a, b), written as sign(a) / hypot(1, b/a) where |a| >= |b| and
    (a/b) sign(b) / hypot(1, a/b) elsewhere: the derivatives of a / h through
    the graph, 1/h - (a/h)**2/h, cancel where |b| << |a| (the true b**2/h**3 is
    tiny); these forms differentiate to products only."""
    av, bv = _value(a), _value(b)
    first = np.abs(av) >= np.abs(bv)
    with np.errstate(divide="ignore", invalid="ignore"):
        big = np.sign(av) / np.hypot(1.0, b / a)
        q = a / b
        small = q * np.sign(bv) / np.hypot(1.0, q)
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

    @staticmethod
    def forward(a: Any, b: Any) -> Any:
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

    @staticmethod
    def forward(a: Any, b: Any) -> Any:
        return a - b

    def backward(self, gy: Any, y: Any, a: Any, b: Any) -> Any:
        ia, ib = self._inputs
        return (sum_to(gy, a.shape) if isinstance(ia, Variable) else None,
                sum_to(-gy, b.shape) if isinstance(ib, Variable) else None)


class Multiply(Function):
    """``a * b``.

    Examples
    --------
    >>> from reverse import Variable
    >>> Multiply()(Variable(3.0), 2.0)
    variable(6.)
    """

    __slots__ = ()

    @staticmethod
    def forward(a: Any, b: Any) -> Any:
        return a * b

    def backward(self, gy: Any, y: Any, a: Any, b: Any) -> Any:
        ia, ib = self._inputs
        return (sum_to(_keep_zero(gy, gy * b), a.shape) if isinstance(ia, Variable) else None,
                sum_to(_keep_zero(gy, gy * a), b.shape) if isinstance(ib, Variable) else None)


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
        ga = _keep_zero(gy, gy / b)
        # d(a/b)/db = -(a/b)/b: reuse gy/b and the output instead of a / b**2.
        return (sum_to(ga, a.shape) if isinstance(ia, Variable) else None,
                sum_to(_keep_zero(gy, -(ga * y)), b.shape) if isinstance(ib, Variable)
                else None)


def _const_power_grad(gy: Any, a: Any, n: Any) -> Any:
    """gy * d(a**n)/da for a constant exponent, with the n = 0 guard.

    Only n = 0 needs a guard: 0 * a**-1 is NaN at a = 0.  The derivative of
    ``a ** 1`` is ``1 * a ** 0`` whose own derivative goes through this guard
    again, so x**1 and x**0 are clean at every order.
    """
    if _is_scalar(n):
        if n == 0:
            return np.zeros(np.broadcast_shapes(gy.shape, a.shape))
        if n == 1:
            return gy
        if n == 2:
            if type(a) is np.ndarray and type(gy) is np.ndarray and a.shape == gy.shape:
                # In place on the fresh temporary: one array allocated instead
                # of two (~10% of the Rosenbrock gradient at n = 10**5..10**6).
                t = a * 2.0
                t *= gy
                return t
            return gy * (2 * a)
        from hyperdual._powrule import plain_power_is_precise

        if not plain_power_is_precise(n, 1):
            # n - 1 inexact (0.3, 1e-8: |log a| amplifies its rounding) or n tiny
            # (a**(n - 2) overflows in the next order): the P_ij family
            return gy * _pow_partial(1, 0, a, n)
        return gy * (n * a ** (n - 1))
    zero = n == 0
    coef = np.where(zero, 0.0, n)
    return gy * (coef * a ** (np.where(zero, 1.0, n) - 1))


class Power(Function):
    """``a ** b`` (either operand may be a constant).

    Examples
    --------
    >>> from reverse import Variable
    >>> Power()(Variable(3.0), 2)
    variable(9.)
    """

    __slots__ = ()

    @staticmethod
    def forward(a: Any, b: Any) -> Any:
        return a ** b

    def backward(self, gy: Any, y: Any, a: Any, b: Any) -> Any:
        ia, ib = self._inputs
        ga = gb = None
        if not isinstance(ib, Variable) and not core._is_dual(b):
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
        # b / (a**2 + b**2) as (b / h) / h with h = hypot(a, b): a**2 + b**2
        # overflows at 1e154 and underflows at 1e-154
        h = np.hypot(a, b)
        return (sum_to(_keep_zero(gy, gy * _unit(b, a) / h), a.shape) if isinstance(ia, Variable)
                else None,
                sum_to(_keep_zero(gy, -(gy * _unit(a, b) / h)), b.shape)
                if isinstance(ib, Variable) else None)


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
        # gy * (a / y): a / y is in [-1, 1], (gy / y) * a under/overflows first
        return (sum_to(_keep_zero(gy, gy * _unit(a, b)), a.shape) if isinstance(ia, Variable)
                else None,
                sum_to(_keep_zero(gy, gy * _unit(b, a)), b.shape) if isinstance(ib, Variable)
                else None)


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
        return (sum_to(_keep_zero(gy, gy * np.log(b)), a.shape) if isinstance(ia, Variable)
                else None,
                sum_to(_keep_zero(gy, gy * a / b), b.shape) if isinstance(ib, Variable)
                else None)


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
