"""Reverse-mode rules of the elementwise functions of one argument.

The table ``_UNARY`` lists each function once: the ``Function`` class name,
the numpy/scipy ufunc, its backward ``(gy, y, x) -> gx``, the public name(s),
the closed form of f' (for the generated doctest) and a test point.
``_make_unary`` turns an entry into a ``Function`` class and a public function
(``reverse.functions.sin``), and registers the ufunc, so ``np.sin(x)`` on a
Variable reaches the same rule.  :mod:`reverse.rules.elementwise` adds the
scipy.special entries through the same ``_make_unary``; the generated classes
and functions of both live in this module's namespace.  ``polygamma(n, x)``,
whose order is a constant, is its own ``Function``.  The precision rules the
formulas follow are in the comment above the table.

Examples
--------
>>> import numpy as np
>>> from reverse import derivative
>>> d = derivative(np.tanh, 20.0)  # 1 - tanh(20)**2 would be 0.0
>>> bool(np.isclose(d, 4 * np.exp(-40.0), rtol=1e-15))
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from _exactdiff._common import fpe_ignored as _fpe_ignored
from _exactdiff.arrays import is_foreign_array as _is_foreign
from _exactdiff.arrays import may_hold as _may_hold
from _exactdiff.arrays import plain_array
from _exactdiff.special import polygamma as _sp_polygamma

from .. import core
from ..core import FUNCTIONS, UFUNCS, Function, Variable, _value
from ._util import _arg, _as_dtype, _keep_zero, _zeros

try:  # scipy is a dependency, but keep the core usable if it is broken
    import scipy.special as _sp
except ImportError:  # pragma: no cover
    _sp = None

__all__: list[str] = []

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


# ----------------------------------------------------------------------------
# Elementwise functions of one argument: (class name, numpy/scipy ufunc,
# backward(gy, y, x), public name(s), closed form of f' for the doctest, x0).
# ----------------------------------------------------------------------------

# Derivative formulas are written so that they stay precise when differentiated
# again (double backprop differentiates them through the graph, forward-over-
# reverse through hyperdual's arithmetic): chains of products and quotients of
# precise primitives, no difference of nearly equal terms, and each factor
# scaled so that no intermediate under/overflows where the result is normal.

def _square(v: Any) -> Any:
    return v * v


class Sech2(Function):
    """``sech(x)**2``, the derivative of tanh, as a rule of its own.

    1 - tanh(x)**2 is 0 from x = 20 on, cosh(x)**2 overflows from 355 on, and
    any formula for it differentiated through the graph cancels or underflows
    somewhere; its own rule, ``sech2' = -2 tanh sech2``, is precise at every
    order.  Computed as 4 t / (1 + t)**2 with t = exp(-2|x|) (hyperdual's
    ``sech2`` rule on Dual data, for forward-over-reverse).

    Examples
    --------
    >>> from reverse import Variable
    >>> Sech2()(Variable(0.0))
    variable(1.)
    """

    __slots__ = ()

    @staticmethod
    def forward(x: Any) -> Any:
        if core._is_dual(x):
            from hyperdual import _generic  # the data is a hyperdual number: loaded

            return _generic.sech2(x)
        t = np.exp(np.where(x >= 0, -2.0 * x, 2.0 * x))  # (x's dtype: float32 stays)
        return 4.0 * t / ((1.0 + t) * (1.0 + t))

    @staticmethod
    def backward(gy: Any, y: Any, x: Any) -> Any:
        return gy * (-2.0 * np.tanh(x)) * y


def _sech2(x: Any) -> Any:
    return Sech2()(x) if isinstance(x, Variable) else Sech2.forward(x)


def _expit_prime(x: Any) -> Any:
    """expit'(x) = sech(x/2)**2 / 4 (expit(x)(1 - expit(x)) is 0 from x = 37 on)."""
    return 0.25 * _sech2(0.5 * x)


class OneMinusSquare(Function):
    """``1 - x**2`` with the derivative ``-2x`` as a rule of its own.

    (1 - x)(1 + x) is exact near |x| = 1, but its derivative through the
    product rule, (1 - x) - (1 + x), cancels near 0, where 1 - x*x is exact to
    an ulp; the value takes the form that is exact for each element (on Dual
    data too, for forward-over-reverse) and the backward is -2x directly, with
    no ``where`` in the graph (a where would turn the inf of arcsin'' at 1 to
    nan).

    Examples
    --------
    >>> from reverse import Variable
    >>> OneMinusSquare()(Variable(0.5))
    variable(0.75)
    """

    __slots__ = ()

    @staticmethod
    def forward(x: Any) -> Any:
        small = np.abs(_value(x)) < 0.5
        return np.where(small, 1.0 - x * x, (1.0 - x) * (1.0 + x))

    @staticmethod
    def backward(gy: Any, y: Any, x: Any) -> Any:
        return gy * (-2.0 * x)


def _one_minus_square(x: Any) -> Any:
    return OneMinusSquare()(x) if isinstance(x, Variable) else OneMinusSquare.forward(x)


def _exp_minus_square(x: Any) -> Any:
    """exp(-x**2) to full precision: exp amplifies the rounding of x * x by x**2
    (676 ulps at x = 26).  With x = hi + lo, hi the leading 26 bits of x (a
    constant, hi * hi exact): exp(-hi**2) * exp(-(2 hi + lo) lo)."""
    r = _as_dtype(_value(x), np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        c = r * 134217729.0  # 2**27 + 1: Veltkamp splitting
        # beyond abs(x) = 40, exp(-x**2) is 0: hi = x (lo = 0), since the split's
        # exp(-(2 hi + lo) lo) overflows there (0 * inf: nan for erf(1/v) at -1.3e-10)
        hi = np.where(np.abs(r) < 40.0, c - (c - r), r)
    dt = getattr(_value(x), "dtype", np.float64)  # (no np.asarray: dask stays lazy)
    if dt == np.float32:  # float32 x has 24 bits: hi == x exactly, and float32 stays
        hi = _as_dtype(hi, dt)
    lo = x - hi
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        head = np.exp(-(hi * hi))  # (a constant: hi is)
    zero = head == 0
    # (a scalar answer only: a lazy dask array has no truth value without computing)
    if isinstance(zero, (bool, np.bool_)) or type(zero) is np.ndarray and zero.ndim == 0:
        if zero:
            # beyond abs(x) = 27, exp(-x**2) is 0 to every order: the product with
            # the derivatives of exp(-(2 hi + lo) lo), which overflow from
            # abs(x) = 1e154 on (4 x**2 in a third derivative), was 0 * inf = nan
            # (the third derivative of erf(exp(v)) at v = 360, truth 0)
            return x * 0.0
    if type(zero) is np.ndarray and zero.ndim and zero.any():
        lo = np.where(zero, 0.0, lo)  # (there: a constant 0 times a constant 1)
    with np.errstate(invalid="ignore"):
        return head * np.exp(-((2.0 * hi + lo) * lo))


def _exp_minus_half_square(x: Any) -> Any:
    """exp(-x**2 / 2), a constant 0 where it underflows at every order (abs(x) > 40:
    its derivatives are polynomials in x times it, whose x**k overflow from
    abs(x) = 1e154 on; 0 * inf was nan in ndtr's third derivative at exp(360))."""
    v = _value(x)
    if _is_foreign(v):  # (lazy data: asking would compute it)
        return np.exp(-0.5 * (x * x))
    with np.errstate(invalid="ignore"):
        far = np.abs(np.asarray(v)) > 40.0
    if not far.any():
        return np.exp(-0.5 * (x * x))
    if far.ndim == 0:
        return x * 0.0
    x = np.where(far, 0.0, x)  # (there: exp(0) times a constant 0)
    return np.where(far, 0.0, 1.0) * np.exp(-0.5 * (x * x))


def _arctan_grad(gy: Any, y: Any, x: Any) -> Any:
    r = 1.0 / np.hypot(1.0, x)
    # (gy r) r, on every path (so that the graph's product and the plain one agree):
    # in range where r * r alone underflows (arctan'(1.7e200)) with a cotangent
    # scaled up by the range watch, and in jvp's transposed graph, whose second
    # pass carries v through it (jvp of arctan(x**2) at 1.7e100 was 0, truth 4e-301)
    return (gy * r) * r


def _digamma_grad(gy: Any, y: Any, x: Any) -> Any:
    return _polygamma_times(1, x, gy)  # psi'(x) alone overflows for abs(x) < 1e-154


_UNARY: list[tuple[str, Any, Any, tuple[str, ...], str, float]] = [
    ("Sin", np.sin, lambda gy, y, x: gy * np.cos(x), ("sin",), "np.cos(x)", 0.5),
    ("Cos", np.cos, lambda gy, y, x: -(gy * np.sin(x)), ("cos",), "-np.sin(x)", 0.5),
    ("Tan", np.tan, lambda gy, y, x: gy * (1 + y * y), ("tan",), "1 / np.cos(x) ** 2", 0.5),
    ("Arcsin", np.arcsin, lambda gy, y, x: gy / np.sqrt(_one_minus_square(x)), ("arcsin",),
     "1 / np.sqrt(1 - x ** 2)", 0.5),
    ("Arccos", np.arccos, lambda gy, y, x: -gy / np.sqrt(_one_minus_square(x)), ("arccos",),
     "-1 / np.sqrt(1 - x ** 2)", 0.5),
    # (1 / hypot(1, x))**2: its derivative through the graph stays normal up to
    # x = 1e102 (that of 1 / (1 + x * x) underflows from 1e77 on)
    ("Arctan", np.arctan, _arctan_grad, ("arctan",),
     "1 / (1 + x ** 2)", 0.5),
    ("Sinh", np.sinh, lambda gy, y, x: gy * np.cosh(x), ("sinh",), "np.cosh(x)", 0.5),
    ("Cosh", np.cosh, lambda gy, y, x: gy * np.sinh(x), ("cosh",), "np.sinh(x)", 0.5),
    # sech(x)**2, not 1 - tanh**2 (which is 0 from x = 20 on: cancellation)
    ("Tanh", np.tanh, lambda gy, y, x: gy * _sech2(x), ("tanh",),
     "1 / np.cosh(x) ** 2", 0.5),
    # 1/hypot(1, x): x * x + 1 overflows for |x| > 1e154
    ("Arcsinh", np.arcsinh, lambda gy, y, x: gy / np.hypot(1.0, x), ("arcsinh",),
     "1 / np.sqrt(x ** 2 + 1)", 0.5),
    # sqrt(x - 1) sqrt(x + 1): x * x - 1 overflows for x > 1e154 and cancels near 1
    ("Arccosh", np.arccosh, lambda gy, y, x: gy / (np.sqrt(x - 1) * np.sqrt(x + 1)),
     ("arccosh",),
     "1 / np.sqrt(x ** 2 - 1)", 1.5),
    ("Arctanh", np.arctanh, lambda gy, y, x: gy / _one_minus_square(x), ("arctanh",),
     "1 / (1 - x ** 2)", 0.5),
    ("Exp", np.exp, lambda gy, y, x: gy * y, ("exp",), "np.exp(x)", 0.5),
    # exp(x), not expm1(x) + 1 (0 from x = -37 on: the 1 swallows it)
    ("Expm1", np.expm1, lambda gy, y, x: gy * np.exp(x), ("expm1",), "np.exp(x)", 0.5),
    ("Exp2", np.exp2, lambda gy, y, x: gy * y * _LN2, ("exp2",), "np.log(2) * 2 ** x", 0.5),
    ("Log", np.log, lambda gy, y, x: gy / x, ("log",), "1 / x", 0.5),
    ("Log1p", np.log1p, lambda gy, y, x: gy / (1 + x), ("log1p",), "1 / (1 + x)", 0.5),
    # (gy / x) / ln 2: x * ln 2 is subnormal for x < 3e-308 where 1/(x ln 2) is normal
    ("Log2", np.log2, lambda gy, y, x: gy / x / _LN2, ("log2",), "1 / (x * np.log(2))", 0.5),
    ("Log10", np.log10, lambda gy, y, x: gy / x / _LN10, ("log10",),
     "1 / (x * np.log(10))", 0.5),
    # sqrt'(0) = 1 / (2 * 0) = inf, with numpy's divide warning (the convention).
    ("Sqrt", np.sqrt, lambda gy, y, x: gy / (2 * y), ("sqrt",), "0.5 / np.sqrt(x)", 0.5),
    ("Cbrt", np.cbrt, lambda gy, y, x: gy / (3 * y * y), ("cbrt",), "x ** (-2 / 3) / 3", 0.5),
    ("Square", np.square, lambda gy, y, x: gy * (2 * x), ("square",), "2 * x", 0.5),
    ("Reciprocal", np.reciprocal, lambda gy, y, x: -(gy * y * y), ("reciprocal",),
     "-1 / x ** 2", 0.5),
    ("Absolute", np.absolute, lambda gy, y, x: gy * _abs_partial(x), ("absolute", "abs"),
     "np.sign(x)", -0.5),
    ("Negative", np.negative, lambda gy, y, x: -gy, ("negative",), "-1.0", 0.5),
    ("Positive", np.positive, lambda gy, y, x: gy, ("positive",), "1.0", 0.5),
    ("Deg2rad", np.deg2rad, lambda gy, y, x: gy * (math.pi / 180), ("deg2rad", "radians"),
     "np.pi / 180", 0.5),
    ("Rad2deg", np.rad2deg, lambda gy, y, x: gy * (180 / math.pi), ("rad2deg", "degrees"),
     "180 / np.pi", 0.5),
    # Piecewise constant: derivative 0 (as numpy/JAX agree), never None.
    ("Sign", np.sign, lambda gy, y, x: _zeros(x), ("sign",), "0.0", 0.5),
    ("Floor", np.floor, lambda gy, y, x: _zeros(x), ("floor",), "0.0", 0.5),
    ("Ceil", np.ceil, lambda gy, y, x: _zeros(x), ("ceil",), "0.0", 0.5),
    ("Trunc", np.trunc, lambda gy, y, x: _zeros(x), ("trunc",), "0.0", 0.5),
    ("Rint", np.rint, lambda gy, y, x: _zeros(x), ("rint",), "0.0", 0.4),
]
if _sp is not None:
    _UNARY += [
        ("Erf", _sp.erf, lambda gy, y, x: gy * _TWO_OVER_SQRT_PI * _exp_minus_square(x),
         ("erf",),
         "2 / np.sqrt(np.pi) * np.exp(-x ** 2)", 0.5),
        ("Erfc", _sp.erfc, lambda gy, y, x: -(gy * _TWO_OVER_SQRT_PI * _exp_minus_square(x)),
         ("erfc",), "-2 / np.sqrt(np.pi) * np.exp(-x ** 2)", 0.5),
        # 1 / (4 cosh(x/2)**2), not y (1 - y) (0 from x = 37 on: cancellation); the
        # form expit(x) expit(-x) would cancel when differentiated again near 0
        ("Expit", _sp.expit, lambda gy, y, x: gy * _expit_prime(x), ("expit",),
         "np.exp(-x) / (1 + np.exp(-x)) ** 2", 0.5),
        # log_expit' = expit(-x) (1 - expit(x) is 0 from x = 37 on); its derivative is
        # Expit's rule again, -sech(x/2)**2 / 4 to full relative precision
        ("LogExpit", _sp.log_expit, lambda gy, y, x: gy * _sp.expit(-x), ("log_expit",),
         "1 / (1 + np.exp(x))", 0.5),
        ("Gammaln", _sp.gammaln, lambda gy, y, x: gy * _polygamma(0, x), ("gammaln",),
         "__import__('scipy.special').special.digamma(x)", 2.5),
        ("Digamma", _sp.digamma, _digamma_grad, ("digamma",),
         "__import__('scipy.special').special.polygamma(1, x)", 2.5),
    ]

_UNARY_CLASSES: dict[str, type] = {}

_CLASS_DOC = '''Function node of :func:`{name}` (derivative ``{closed}``).

Examples
--------
>>> from reverse import Variable
>>> x = Variable([{x0}])
>>> y = {cls}()(x)
>>> y.sum().backward()
>>> x.grad.shape
(1,)
'''

_UNARY_DOC = '''Elementwise ``{np_name}`` of a Variable or array, recorded in the graph.

Its derivative is ``{closed}``.  ``{np_name}`` applied through numpy
(``np.{np_name}(x)``) reaches the same rule.

Parameters
----------
x : Variable or array_like

Returns
-------
Variable

Examples
--------
>>> import numpy as np
>>> from reverse import derivative
>>> x = {x0}
>>> bool(np.isclose(derivative({name}, x), {closed}))
True
'''


def _abs_partial(x: Any) -> Any:
    # sign(x); in the audit of kept zeros (Dual data of its own), nan tangents where
    # x is 0 and moves (reverse._audit.kink_sign)
    if type(x) is np.ndarray or type(x) is float or not core.AUDIT_ZEROS.get():
        return np.sign(x)
    from .._audit import kink_sign

    return kink_sign(x) if core._is_dual(x) else np.sign(x)


#: Rules whose local derivative is a finite constant (or zeros): no 0 * inf to guard.
#: (Absolute's sign(x) is nan at a NaN x: guarded, so a zero cotangent stays 0.)
_FINITE_DERIVATIVE = {"Negative", "Positive", "Deg2rad", "Rad2deg", "Sign",
                      "Floor", "Ceil", "Trunc", "Rint"}


def _guarded(grad: Any) -> Any:
    def backward(gy: Any, y: Any, x: Any) -> Any:
        return _keep_zero(gy, grad(gy, y, x))

    return backward


def _negative(x: Any) -> Any:
    # -x, into a buffer of the pool's in a large trace (core.pooled_out: a fresh
    # array page-faults its memory in); the same bits as np.negative(x).  (No
    # docstring: Negative.forward shows Function.forward's, as every rule's does.)
    if core._POOLING:
        out = core.pooled_out(x)
        if out is not None:
            return np.negative(x, out=out)
    return np.negative(x)


def _negative_grad(gy: Any, y: Any, x: Any) -> Any:
    return _negative(gy) if type(gy) is np.ndarray else -gy


def _make_unary(cls_name: str, ufunc: Any, grad: Any, names: tuple[str, ...],
                closed: str, x0: float) -> None:
    if cls_name not in _FINITE_DERIVATIVE:
        grad = _guarded(grad)
    cls = type(cls_name, (Function,), {
        "__slots__": (),
        # staticmethods: calling the ufunc/formula directly saves a Python frame
        # per node (about 0.1 us of a ~5 us scalar node).
        "forward": staticmethod(ufunc),
        "backward": staticmethod(grad),
        "__doc__": _CLASS_DOC.format(name=names[0], cls=cls_name, closed=closed, x0=x0),
        "__module__": __name__,
    })
    if cls_name in ("Negative", "Positive"):  # -gy, gy: no values (core._sweep_call)
        cls._value_inputs = "none"
        cls._value_output = False
    if cls_name == "Negative":  # into a pooled buffer in a large trace, both ways
        cls.forward = staticmethod(_negative)
        cls.backward = staticmethod(_negative_grad)
    globals()[cls_name] = cls
    _UNARY_CLASSES[cls_name] = cls
    __all__.append(cls_name)

    def fn(x: Any) -> Variable:
        return cls()(_arg(x, names[0]))

    fn.__name__ = fn.__qualname__ = names[0]
    fn.__doc__ = _UNARY_DOC.format(np_name=getattr(ufunc, "__name__", names[0]),
                                   closed=closed, x0=x0, name=names[0])
    for name in names:
        globals()[name] = fn
        __all__.append(name)
    UFUNCS[ufunc] = fn
    core.UNARY_UFUNCS[ufunc] = cls


for _entry in _UNARY:
    _make_unary(*_entry)

UFUNCS[np.fabs] = UFUNCS[np.absolute]
core.UNARY_UFUNCS[np.fabs] = core.UNARY_UFUNCS[np.absolute]


class Polygamma(Function):
    """``polygamma(n, x)``: the n-th derivative of digamma (n is a constant).

    Parameters
    ----------
    n : int
        The order (a non-negative integer constant).

    Examples
    --------
    >>> from reverse import Variable
    >>> y = Polygamma(1)(Variable(1.0))
    >>> round(float(y.data), 6)  # pi**2 / 6
    1.644934
    """

    __slots__ = ("n",)

    def __init__(self, n: int) -> None:
        self.n = int(n)

    def forward(self, x: Any) -> Any:
        return _polygamma(self.n, x)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        # polygamma(n + 1) as a Function too: every order, and Dual data, work
        return _keep_zero(gy, _polygamma_times(self.n + 1, x, gy))


def _polygamma_times(m: int, x: Any, gy: Any) -> Any:
    """``gy * polygamma(m, x)`` (m >= 1) with no intermediate leaving the float range.

    polygamma(m, x) alone overflows near its pole at 0 (about m! / x**(m + 1)) and
    underflows for large x (about (m - 1)! / x**m) where the product with the
    cotangent is an ordinary float (the second derivative of gammaln(v**2) at
    v = 1.7e-100).  Near 0: m! gy / x**(m + 1) + gy polygamma(m, 1 + x) (exact
    recurrence), the pole's factor formed by repeated division; beyond 1e30 the
    leading term (m - 1)! gy / x**m, whose next term is below 1e-30 relatively.
    Both stay differentiable (graphs, Dual data).
    """
    r = plain_array(_value(x))
    lazy = _is_foreign(r)  # dask: the masks are applied, never asked (that computes)
    if r.dtype.kind == "c":
        return gy * _polygamma(m, x)
    with np.errstate(invalid="ignore"):
        near0 = np.abs(r) < 1e-8
        far = r > 1e30
    if not (_may_hold(near0) or _may_hold(far)):  # the usual case: the plain product
        return gy * _polygamma(m, x)
    sign = 1.0 if m % 2 else -1.0

    # below 1e-19 the regular part polygamma(m, 1 + x) (at most zeta(m + 1) m!) is
    # under 2**-60 of the pole's m! / abs(x)**(m + 1): it is left out, so that its
    # products with a scaled cotangent, which underflow, do not count as an
    # underflow of the result (the range watch's retries of d2/dv2 digamma(v**2)
    # at 1e-120, whose truth -6e480 is beyond the range, were all flagged and gave nan)
    regular = lazy or not bool(np.all(np.abs(r[near0]) < 1e-19))

    def pole(x: Any) -> Any:
        w = gy
        for _ in range(m + 1):
            w = w / x
        p = (sign * math.factorial(m)) * w
        return p + gy * _polygamma(m, 1.0 + x) if regular else p

    def tail(x: Any) -> Any:
        w = gy
        for _ in range(m):
            w = w / x
        return (sign * math.factorial(m - 1)) * w

    with _fpe_ignored():
        if np.ndim(near0) == 0:
            return pole(x) if near0 else tail(x)
        out = gy * _polygamma(m, x)
        if _may_hold(near0):
            out = np.where(near0, pole(x), out)
        if _may_hold(far):
            out = np.where(far, tail(x), out)
    return out


def _polygamma(n: int, x: Any) -> Any:
    if isinstance(x, Variable):
        return Polygamma(n)(x)
    if core._is_dual(x):  # forward-over-reverse: hyperdual's rule of any order
        from hyperdual._polygamma import polygamma as hd_polygamma

        return hd_polygamma(n, x)
    return _sp_polygamma(n, x)


def polygamma(n: int, x: Any) -> Variable:
    """``scipy.special.polygamma(n, x)`` for a constant order ``n``, recorded in the graph.

    Its derivative is ``polygamma(n + 1, x)``, to any order.

    Parameters
    ----------
    n : int
        Order of the derivative of digamma (0 is digamma).
    x : Variable or array_like
        The argument.

    Returns
    -------
    Variable
        ``polygamma(n, x)`` elementwise.

    Examples
    --------
    >>> from reverse import derivative
    >>> round(derivative(lambda x: polygamma(1, x), 1.0), 10)  # -2 zeta(3)
    -2.4041138063
    """
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise ValueError(f"reverse.polygamma: n must be a non-negative integer, got {n!r}")
    return Polygamma(int(n))(_arg(x, "polygamma"))


__all__ += ["Polygamma", "polygamma"]
# hyperdual.polygamma (and its rules' values) on a Variable, e.g. reverse mode around
# hyperdual code, reach the shared plain function, which hands the Variable to us
FUNCTIONS[_sp_polygamma] = polygamma
