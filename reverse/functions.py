"""The rule table of the reverse engine: every differentiable operation, once.

Each operation is a :class:`~reverse.core.Function` whose ``forward`` works on
raw data (ndarrays, or ``hyperdual`` numbers for forward-over-reverse) and whose
``backward(gy, y, *xs)`` is written with numpy functions and operators only.
On raw arrays that backward computes numbers (the fast default); on Variables
(``create_graph=True``) the same numpy calls dispatch back into this table, so
gradients can be differentiated again to any order.

The operations are reachable three ways: through numpy (``np.sin(x)``,
``np.sum(x, axis=0)``, ``a @ x``), through operators on Variables, and through
the functions of this module (``reverse.functions.sin(x)``), which also accept
plain arrays and always return a Variable.

Conventions at non-differentiable points
----------------------------------------
* ``abs'(0) = 0`` (the derivative is ``sign(x)``), ``sign' = 0``, and
  ``floor``/``ceil``/``trunc``/``rint`` have derivative 0.
* ``sqrt'(0) = inf`` with numpy's divide-by-zero warning; ``0 ** 0 = 1``.
* A zero cotangent stays zero through every elementwise rule even where the
  local derivative or an operand is infinite (see ``_keep_zero``), so one
  singular entry does not turn a Jacobian's or Hessian's other entries to NaN.
* ``x ** n`` for a constant ``n``: the derivative of ``x ** 0`` is 0 and that of
  ``x ** 1`` is 1 everywhere (no ``0 * inf`` NaN at ``x = 0``, at any order).
  For ``a ** b`` with a differentiated exponent the partials are the family
  ``PowPartial(i, j)`` (any order, symmetric mixed partials); ``log a`` is taken
  as 0 at ``a = 0`` in every derivative by ``b`` (so ``d/db`` is 0 there, as in
  JAX), which makes the Hessian ``[[0, inf], [inf, 0]]`` at (0, 0) and
  ``[[0, 1], [1, 0]]`` at (0, 1), as in ``hyperdual``.
* ``maximum``/``minimum`` at ties split the gradient 0.5/0.5 between the two
  operands (as JAX does); ``max``/``min`` reductions share it equally among all
  tied maximal elements (as JAX does).
* ``clip`` is ``minimum(maximum(x, lo), hi)``: the gradient goes to ``x``
  inside the bounds, to the active bound outside, and is split 0.5/0.5 at a
  bound (a tie), as in JAX and in ``hyperdual``.
* ``relu'(0) = 0``.
* ``prod``: exact at every order, zeros included (with a zero entry the
  backward multiplies the other entries by exclusive cumulative products).

Examples
--------
>>> import numpy as np
>>> from reverse import Variable
>>> x = Variable(np.array([1.0, 2.0]))
>>> y = np.sum(np.exp(x) * 2.0)
>>> y.backward()
>>> bool(np.allclose(x.grad.data, 2 * np.exp([1.0, 2.0])))
True
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from _exactdiff import arrays as _arrays
from _exactdiff.arrays import is_foreign_array as _is_foreign

from . import core
from .core import (
    FUNCTIONS,
    UFUNCS,
    VALUE_UFUNCS,
    Function,
    Variable,
    _const,
    _value,
    as_array,
)
from .utils import (
    expand_to,
    is_basic_index,
    reduce_shape,
    scatter_add,
    sum_to,
)
from .utils import (
    logsumexp as _lse,
)

try:  # scipy is a dependency, but keep the core usable if it is broken
    import scipy.special as _sp
except ImportError:  # pragma: no cover
    _sp = None

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

__all__: list[str] = []


def _export(*names: str) -> None:
    __all__.extend(names)


def _arg(x: Any, fname: str) -> Any:
    """Validate an operand of a public function: a Variable or a constant."""
    if isinstance(x, Variable):
        return x
    c = _const(x)
    if c is None:
        as_array(x)  # raises the descriptive TypeError for strings, objects ...
        raise TypeError(f"reverse.functions.{fname}: unsupported operand {type(x).__name__}")
    return c


def _zeros(x: Any) -> np.ndarray:
    # x's float dtype: a float64 zero added to a float32 gradient would promote it
    if type(x) is not np.ndarray and _is_foreign(x):  # in x's library and chunking
        return _arrays.zeros_like(x, core._seed_dtype(x))
    return np.zeros(x.shape, dtype=core._seed_dtype(x))


def _mask(cond: Any, like: Any = None) -> np.ndarray:
    mask = np.where(cond, 1.0, 0.0)
    return mask if like is None else mask.astype(core._seed_dtype(like), copy=False)


def _is_scalar(obj: Any) -> bool:
    return getattr(obj, "shape", ()) == ()


_guard_zeros = core.GUARD_ZEROS.get


def _keep_zero(gy: Any, gx: Any) -> Any:
    """``gx = gy * (a local derivative)``, zero wherever ``gy`` is zero.

    A Jacobian row or a Hessian column seeds zero cotangents into outputs that
    do not matter for it; where the local derivative is inf (sqrt'(0), or an
    infinite operand of a product) ``0 * inf`` would turn those unrelated
    entries into NaN.  hyperdual keeps zero tangents zero the same way.  Only
    non-finite entries are touched, with one mask on both paths (raw arrays and
    Variables), so they agree exactly; a finite ``gx`` costs one ``vdot`` check.
    With Dual data (forward-over-reverse) a cotangent counts as zero where all
    its parts are zero.
    Off in a backward pass's first try (``core.GUARD_ZEROS``): see
    ``core._run_backward``.
    """
    if not _guard_zeros():
        return gx
    v = gx.data if isinstance(gx, Variable) else gx
    if type(v) is np.ndarray:
        if v.dtype.kind != "f" or math.isfinite(np.vdot(v, v) if v.ndim else v):
            return gx
    elif isinstance(v, np.floating) or type(v) is float:
        if math.isfinite(v):
            return gx
    elif core._is_dual(v):
        # Forward-over-reverse: a cotangent is zero when all its parts are (a
        # cotangent whose real part is 0 but whose tangent is not still matters).
        bad = ~_all_parts(v, np.isfinite)
        if not bad.any():
            return gx
        mask = np.logical_and(_all_parts(gy.data if isinstance(gy, Variable) else gy,
                                         lambda a: np.equal(a, 0)), bad)
        if not mask.any():
            return gx
        if isinstance(gx, Variable):
            return Where(mask)(0.0, gx)
        return np.where(mask, 0.0, v)
    else:
        return gx
    g = _value(gy)
    mask = np.logical_and(np.equal(g, 0), ~np.isfinite(v))
    if not mask.any():
        return gx
    zero = np.zeros((), dtype=np.result_type(v))
    if isinstance(gx, Variable):
        return Where(mask)(zero, gx)
    out = np.where(mask, zero, v)
    return out if out.ndim else out[()]


def _all_parts(v: Any, pred: Any) -> Any:
    """Where ``pred`` holds for every part of ``v`` (a Dual, nested or with
    direction axes, or plain data): a boolean array of the value's shape."""
    if not core._is_dual(v):
        return np.asarray(pred(np.asarray(v)), dtype=bool)
    coef = getattr(v, "coef", None)
    if coef is not None:  # a Taylor number: coefficients along the first axis
        return np.all(pred(coef), axis=0)
    parts = v._parts()
    nd = v.nd
    mask = _all_parts(parts[0], pred)
    for p in parts[1:]:
        pm = _all_parts(p, pred)
        if nd:
            pm = np.all(pm, axis=tuple(range(nd)))
        mask = mask & pm
    return mask


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
        t = np.exp(np.where(x >= 0, -2.0, 2.0) * x)
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


def _exp_minus_square(x: Any) -> Any:
    """exp(-x**2) to full precision: exp amplifies the rounding of x * x by x**2
    (676 ulps at x = 26).  With x = hi + lo, hi the leading 26 bits of x (a
    constant, hi * hi exact): exp(-hi**2) * exp(-(2 hi + lo) lo)."""
    r = np.asarray(_value(x), dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        c = r * 134217729.0  # 2**27 + 1: Veltkamp splitting
        hi = np.where(np.abs(r) < 1e150, c - (c - r), r)
    lo = x - hi
    with np.errstate(invalid="ignore"):
        return np.exp(-(hi * hi)) * np.exp(-((2.0 * hi + lo) * lo))


def _digamma_grad(gy: Any, y: Any, x: Any) -> Any:
    return gy * _polygamma(1, x)


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
    ("Arctan", np.arctan, lambda gy, y, x: gy * _square(1.0 / np.hypot(1.0, x)), ("arctan",),
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
    ("Absolute", np.absolute, lambda gy, y, x: gy * np.sign(x), ("absolute", "abs"),
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


#: Rules whose local derivative is a finite constant or a sign: no 0 * inf to guard.
_FINITE_DERIVATIVE = {"Negative", "Positive", "Deg2rad", "Rad2deg", "Absolute", "Sign",
                      "Floor", "Ceil", "Trunc", "Rint"}


def _guarded(grad: Any) -> Any:
    def backward(gy: Any, y: Any, x: Any) -> Any:
        return _keep_zero(gy, grad(gy, y, x))

    return backward


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
    globals()[cls_name] = cls
    _UNARY_CLASSES[cls_name] = cls
    _export(cls_name)

    def fn(x: Any) -> Variable:
        return cls()(_arg(x, names[0]))

    fn.__name__ = fn.__qualname__ = names[0]
    fn.__doc__ = _UNARY_DOC.format(np_name=getattr(ufunc, "__name__", names[0]),
                                   closed=closed, x0=x0, name=names[0])
    for name in names:
        globals()[name] = fn
        _export(name)
    UFUNCS[ufunc] = fn
    core.UNARY_UFUNCS[ufunc] = cls


for _entry in _UNARY:
    _make_unary(*_entry)


class Polygamma(Function):
    """``polygamma(n, x)``: the n-th derivative of digamma (n is a constant).

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
        return _keep_zero(gy, gy * _polygamma(self.n + 1, x))


def _polygamma(n: int, x: Any) -> Any:
    if isinstance(x, Variable):
        return Polygamma(n)(x)
    if core._is_dual(x):  # forward-over-reverse: hyperdual's rule of any order
        from hyperdual._polygamma import polygamma as hd_polygamma

        return hd_polygamma(n, x)
    return _sp.polygamma(n, x)


def polygamma(n: int, x: Any) -> Variable:
    """``scipy.special.polygamma(n, x)`` for a constant order ``n``, recorded in the graph.

    Its derivative is ``polygamma(n + 1, x)``, to any order.

    Examples
    --------
    >>> from reverse import derivative
    >>> round(derivative(lambda x: polygamma(1, x), 1.0), 10)  # -2 zeta(3)
    -2.4041138063
    """
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise ValueError(f"reverse.polygamma: n must be a non-negative integer, got {n!r}")
    return Polygamma(int(n))(_arg(x, "polygamma"))


_export("Polygamma", "PowPartial", "polygamma")


# ----------------------------------------------------------------------------
# Elementwise functions of two arguments (broadcasting, constants allowed)
# ----------------------------------------------------------------------------


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

Examples
--------
>>> from reverse import Variable
>>> a = Variable([1.0, 2.0])
>>> y = {name}(a, 3.0)
>>> y.sum().backward()
>>> a.grad.shape
(2,)
'''


def _make_binary(cls: type, ufunc: Any, names: tuple[str, ...]) -> None:
    def fn(a: Any, b: Any) -> Variable:
        return cls()(_arg(a, names[0]), _arg(b, names[0]))

    fn.__name__ = fn.__qualname__ = names[0]
    fn.__doc__ = _BINARY_DOC.format(name=names[0], np_name=ufunc.__name__)
    for name in names:
        globals()[name] = fn
    _export(cls.__name__, *names)
    UFUNCS[ufunc] = fn


for _cls, _uf, _names in _BINARY:
    _make_binary(_cls, _uf, _names)

# float_power computes in float64, which Variables are anyway.
UFUNCS[np.float_power] = UFUNCS[np.power]
UFUNCS[np.fabs] = UFUNCS[np.absolute]
core.UNARY_UFUNCS[np.fabs] = core.UNARY_UFUNCS[np.absolute]

VALUE_UFUNCS.update({
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.isfinite, np.isinf, np.isnan, np.signbit, np.logical_and, np.logical_or,
    np.logical_not, np.logical_xor,
})


# ----------------------------------------------------------------------------
# Linear algebra
# ----------------------------------------------------------------------------


def _swap_last(x: Any) -> Any:
    nd = len(x.shape)
    axes = list(range(nd))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return np.transpose(x, axes)


class MatMul(Function):
    """``a @ b`` with numpy's rules for 1-d operands and batch broadcasting.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> MatMul()(Variable(np.eye(2)), np.array([1.0, 2.0]))
    variable([1. 2.])
    """

    __slots__ = ()

    @staticmethod
    def forward(a: Any, b: Any) -> Any:
        return np.matmul(a, b)

    def backward(self, gy: Any, y: Any, a: Any, b: Any) -> Any:
        ia, ib = self._inputs
        wa, wb = isinstance(ia, Variable), isinstance(ib, Variable)
        a_shape, b_shape = a.shape, b.shape
        if len(a_shape) == 1 and len(b_shape) == 1:
            return (gy * b if wa else None), (gy * a if wb else None)
        # Promote 1-d operands to matrices the way matmul does, then undo it.
        if len(a_shape) == 1:
            a = np.reshape(a, (1,) + a_shape)
            gy = np.reshape(gy, gy.shape[:-1] + (1, gy.shape[-1]))
        if len(b_shape) == 1:
            b = np.reshape(b, b_shape + (1,))
            gy = np.reshape(gy, gy.shape + (1,))
        ga = gb = None
        if wa:
            ga = np.matmul(gy, _swap_last(b))
            ga = np.reshape(sum_to(ga, a.shape), a_shape)
        if wb:
            gb = np.matmul(_swap_last(a), gy)
            gb = np.reshape(sum_to(gb, b.shape), b_shape)
        return ga, gb


def matmul(a: Any, b: Any) -> Variable:
    """Matrix product ``a @ b`` (numpy semantics), recorded in the graph.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> W = Variable(np.ones((2, 3)))
    >>> y = matmul(np.array([1.0, 2.0]), W)
    >>> y.sum().backward()
    >>> W.grad.data
    array([[1., 1., 1.],
           [2., 2., 2.]])
    """
    return MatMul()(_arg(a, "matmul"), _arg(b, "matmul"))


UFUNCS[np.matmul] = matmul


def dot(a: Any, b: Any) -> Variable:
    """``np.dot`` for operands of at most 2 dimensions (0-d means multiply).

    Examples
    --------
    >>> from reverse import Variable
    >>> dot(Variable([1.0, 2.0]), [3.0, 4.0])
    variable(11.)
    """
    a, b = _arg(a, "dot"), _arg(b, "dot")
    na, nb = len(np.shape(_value(a))), len(np.shape(_value(b)))
    if na == 0 or nb == 0:
        return Multiply()(a, b)
    if na > 2 or nb > 2:
        raise TypeError("reverse: np.dot of arrays with more than 2 dimensions is not "
                        "supported; use np.matmul or np.tensordot-free reshapes")
    return MatMul()(a, b)


def outer(a: Any, b: Any) -> Variable:
    """Outer product of the flattened operands.

    Examples
    --------
    >>> from reverse import Variable
    >>> outer(Variable([1.0, 2.0]), [1.0, 0.0, -1.0]).shape
    (2, 3)
    """
    a, b = _arg(a, "outer"), _arg(b, "outer")
    return Multiply()(reshape(a, (-1, 1)), reshape(b, (1, -1)))


def linear(x: Any, W: Any, b: Any = None) -> Variable:
    """Affine map ``x @ W + b`` (a dense layer without activation).

    Parameters
    ----------
    x : Variable or array_like, shape (N, I)
        Inputs, one row per sample.
    W : Variable or array_like, shape (I, O)
        Weights.
    b : Variable or array_like, shape (O,), optional
        Bias (None: no bias).

    Returns
    -------
    Variable
        ``x @ W + b``, shape (N, O).

    Examples
    --------
    >>> import numpy as np
    >>> y = linear(np.ones((4, 3)), np.ones((3, 2)), np.zeros(2))
    >>> y.shape
    (4, 2)
    """
    y = matmul(x, W)
    if b is not None:
        y = y + _arg(b, "linear")
    return y


_export("MatMul", "matmul", "dot", "outer", "linear")


# ----------------------------------------------------------------------------
# Reductions
# ----------------------------------------------------------------------------


def _check_axis(axis: Any) -> Any:
    if isinstance(axis, list):
        axis = tuple(axis)
    return axis


class Sum(Function):
    """Sum over ``axis``; the gradient is broadcast back.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> Sum(0, False)(Variable(np.ones((2, 3))))
    variable([2. 2. 2.])
    """

    __slots__ = ("axis", "keepdims")

    def __init__(self, axis: Any = None, keepdims: bool = False) -> None:
        self.axis = _check_axis(axis)
        self.keepdims = bool(keepdims)

    def forward(self, x: Any) -> Any:
        if type(x) is np.ndarray and x.dtype.kind == "f":
            # what np.sum runs, without its ~2 us Python wrapper
            return np.add.reduce(x, axis=self.axis, keepdims=self.keepdims)
        return np.sum(x, axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        shape = x.shape
        # a 0-d gy (a full sum) broadcasts as it is: no reshape (~1.5 us)
        if not self.keepdims and shape and getattr(gy, "ndim", 1):
            gy = np.reshape(gy, reduce_shape(shape, self.axis))
        return expand_to(gy, shape)


class Prod(Function):
    """Product over ``axis`` (zero-safe first derivative, see module notes).

    Examples
    --------
    >>> from reverse import Variable
    >>> Prod()(Variable([2.0, 3.0]))
    variable(6.)
    """

    __slots__ = ("axis", "keepdims")

    def __init__(self, axis: Any = None, keepdims: bool = False) -> None:
        self.axis = _check_axis(axis)
        self.keepdims = bool(keepdims)

    def forward(self, x: Any) -> Any:
        return np.prod(x, axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        kd = reduce_shape(x.shape, self.axis)
        gy = np.reshape(gy, kd)
        if not np.any(_value(x) == 0):
            # y / x: exact at every order wherever no entry is zero
            return gy * (np.reshape(y, kd) / x)
        # With a zero entry: the product of the others as exclusive cumulative
        # products from both sides, built of slices, products and concatenations
        # only, so every order of derivative is exact (and Hessians symmetric).
        return gy * _prod_others(x, self.axis)


def _exclusive_cumprod(z: Any) -> Any:
    """prod(z[..., :k]) for every k, along the last axis (a log-step scan)."""
    n = z.shape[-1]
    c, d = z, 1
    while d < n:
        c = np.concatenate([c[..., :d], c[..., d:] * c[..., :-d]], axis=-1)
        d *= 2
    ones = np.ones(z.shape[:-1] + (1,), dtype=core._seed_dtype(z))
    return np.concatenate([ones, c[..., :-1]], axis=-1)


def _prod_others(x: Any, axis: Any) -> Any:
    """For each entry, the product of the other entries of its reduced slice."""
    shape = tuple(x.shape)
    nd = len(shape)
    if axis is None:
        axes = tuple(range(nd))
    else:
        axes = tuple(sorted({a % nd for a in (axis if isinstance(axis, tuple) else (axis,))}))
    keep = [a for a in range(nd) if a not in axes]
    perm = keep + list(axes)
    moved = x if perm == list(range(nd)) else np.transpose(x, perm)
    kshape = tuple(shape[a] for a in keep)
    z = np.reshape(moved, kshape + (math.prod(shape[a] for a in axes),))
    others = _exclusive_cumprod(z) * _exclusive_cumprod(z[..., ::-1])[..., ::-1]
    others = np.reshape(others, tuple(shape[a] for a in perm))
    if perm == list(range(nd)):
        return others
    return np.transpose(others, tuple(np.argsort(perm)))


class Max(Function):
    """Maximum over ``axis``; ties share the gradient equally (JAX).

    Examples
    --------
    >>> from reverse import Variable
    >>> Max()(Variable([1.0, 3.0, 2.0]))
    variable(3.)
    """

    __slots__ = ("axis", "keepdims")
    _reduce = staticmethod(np.max)

    def __init__(self, axis: Any = None, keepdims: bool = False) -> None:
        self.axis = _check_axis(axis)
        self.keepdims = bool(keepdims)

    def forward(self, x: Any) -> Any:
        return self._reduce(x, axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        kd = reduce_shape(x.shape, self.axis)
        hit = _value(x) == np.reshape(_value(y), kd)
        weight = hit / np.sum(hit, axis=self.axis, keepdims=True)
        # (a float64 weight would promote a float32 gradient)
        return np.reshape(gy, kd) * weight.astype(core._seed_dtype(x), copy=False)


class Min(Max):
    """Minimum over ``axis``; ties share the gradient equally (JAX).

    Examples
    --------
    >>> from reverse import Variable
    >>> Min()(Variable([1.0, 3.0, 2.0]))
    variable(1.)
    """

    __slots__ = ()
    _reduce = staticmethod(np.min)


def _reject(fname: str, **kwargs: Any) -> None:
    for key, val in kwargs.items():
        if val is not None and val is not np._NoValue:
            raise TypeError(f"reverse: np.{fname}(..., {key}=...) is not supported "
                            "(reverse-mode autodiff)")


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:  # noqa: A001
    """Sum of elements over ``axis`` (all by default).

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> x = Variable(np.arange(6.0).reshape(2, 3))
    >>> y = sum(x, axis=1)
    >>> y
    variable([ 3. 12.])
    """
    return Sum(axis, keepdims)(_arg(x, "sum"))


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """Product of elements over ``axis``.

    Examples
    --------
    >>> prod([2.0, 3.0, 4.0])
    variable(24.)
    """
    return Prod(axis, keepdims)(_arg(x, "prod"))


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """Arithmetic mean over ``axis``.

    Examples
    --------
    >>> mean([1.0, 2.0, 6.0])
    variable(3.)
    """
    x = _arg(x, "mean")
    shape = np.shape(_value(x))
    axis = _check_axis(axis)
    n = math.prod(shape) if axis is None else math.prod(
        shape[a] for a in (axis if isinstance(axis, tuple) else (axis,)))
    total = Sum(axis, keepdims)(x)
    return total * (1.0 / n) if n else total / 0.0


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:  # noqa: A001
    """Maximum over ``axis``; tied maxima share the gradient equally.

    Examples
    --------
    >>> from reverse import Variable
    >>> x = Variable([1.0, 3.0, 3.0])
    >>> max(x).backward()
    >>> x.grad
    variable([0.  0.5 0.5])
    """
    return Max(axis, keepdims)(_arg(x, "max"))


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:  # noqa: A001
    """Minimum over ``axis``; tied minima share the gradient equally.

    Examples
    --------
    >>> min([[1.0, 5.0], [0.0, 2.0]], axis=1)
    variable([1. 0.])
    """
    return Min(axis, keepdims)(_arg(x, "min"))


def _np_reduction(fn: Any, fname: str) -> Any:
    def impl(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
             keepdims: Any = False, **kwargs: Any) -> Variable:
        _reject(fname, dtype=dtype, out=out, **kwargs)
        return fn(a, axis=axis, keepdims=bool(keepdims) if keepdims is not np._NoValue
                  else False)
    return impl


def _np_extremum(fn: Any, fname: str) -> Any:
    def impl(a: Any, axis: Any = None, out: Any = None, keepdims: Any = False,
             **kwargs: Any) -> Variable:
        _reject(fname, out=out, **kwargs)
        return fn(a, axis=axis, keepdims=bool(keepdims) if keepdims is not np._NoValue
                  else False)
    return impl


FUNCTIONS[np.sum] = _np_reduction(sum, "sum")
FUNCTIONS[np.prod] = _np_reduction(prod, "prod")
FUNCTIONS[np.mean] = _np_reduction(mean, "mean")
for _f, _name in ((max, "max"), (min, "min")):
    for _np_f in {getattr(np, _name), getattr(np, "a" + _name, None)} - {None}:
        FUNCTIONS[_np_f] = _np_extremum(_f, _name)

_export("Sum", "Prod", "Max", "Min", "sum", "prod", "mean", "max", "min")


# ----------------------------------------------------------------------------
# Shapes and indexing
# ----------------------------------------------------------------------------


class Reshape(Function):
    """Reshape (the gradient is reshaped back).

    Examples
    --------
    >>> from reverse import Variable
    >>> Reshape((2, 1))(Variable([1.0, 2.0])).shape
    (2, 1)
    """

    __slots__ = ("shape",)

    def __init__(self, shape: Any) -> None:
        self.shape = shape

    def forward(self, x: Any) -> Any:
        return np.reshape(x, self.shape)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        return np.reshape(gy, x.shape)


class Transpose(Function):
    """Permute axes (``axes=None`` reverses them).

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> Transpose(None)(Variable(np.ones((2, 3)))).shape
    (3, 2)
    """

    __slots__ = ("axes",)

    def __init__(self, axes: Any = None) -> None:
        self.axes = None if axes is None else tuple(int(a) for a in axes)

    def forward(self, x: Any) -> Any:
        return np.transpose(x, self.axes)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        if self.axes is None:
            return np.transpose(gy)
        nd = len(self.axes)
        inverse = tuple(np.argsort([a % nd for a in self.axes]))
        return np.transpose(gy, inverse)


class BroadcastTo(Function):
    """Broadcast to ``shape``; the gradient is summed back (``sum_to``).

    Examples
    --------
    >>> from reverse import Variable
    >>> BroadcastTo((2, 3))(Variable([1.0, 2.0, 3.0])).shape
    (2, 3)
    """

    __slots__ = ("shape",)

    def __init__(self, shape: Any) -> None:
        self.shape = tuple(shape) if isinstance(shape, (tuple, list)) else (int(shape),)

    def forward(self, x: Any) -> Any:
        return np.broadcast_to(x, self.shape)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        return sum_to(gy, x.shape)


class GetItem(Function):
    """``x[index]``; the gradient is scattered back (repeated indices accumulate).

    Examples
    --------
    >>> from reverse import Variable
    >>> GetItem(1)(Variable([1.0, 2.0]))
    variable(2.)
    """

    __slots__ = ("index",)

    def __init__(self, index: Any) -> None:
        self.index = index

    def forward(self, x: Any) -> Any:
        return x[self.index]

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        if isinstance(gy, Variable):
            return scatter_add(gy, self.index, x.shape)
        return core.PendingScatter(self.index, gy, x.shape, is_basic_index(self.index))


class Concatenate(Function):
    """Join along an existing axis; the gradient is sliced back.

    Examples
    --------
    >>> from reverse import Variable
    >>> Concatenate(0)(Variable([1.0]), [2.0, 3.0])
    variable([1. 2. 3.])
    """

    __slots__ = ("axis",)

    def __init__(self, axis: int = 0) -> None:
        self.axis = axis

    def forward(self, *xs: Any) -> Any:
        return np.concatenate(xs, axis=self.axis)

    def backward(self, gy: Any, y: Any, *xs: Any) -> Any:
        axis = self.axis % len(gy.shape)
        grads = []
        start = 0
        for inp, x in zip(self._inputs, xs):
            stop = start + x.shape[axis]
            if isinstance(inp, Variable):
                grads.append(gy[(slice(None),) * axis + (slice(start, stop),)])
            else:
                grads.append(None)
            start = stop
        return tuple(grads)


def _as_operand_array(x: Any) -> Any:
    """A constant Python number or numpy scalar as a 0-d array (it needs a shape)."""
    if isinstance(x, Variable) or core._is_dual(x) or isinstance(x, np.ndarray):
        return x
    return np.asarray(x, dtype=np.float64 if isinstance(x, (int, float, bool)) else None)


def _index_arg(index: Any) -> Any:
    items = index if isinstance(index, tuple) else (index,)
    for item in items:
        if isinstance(item, Variable):
            raise TypeError("reverse: cannot index with a Variable; use .data for the "
                            "(non-differentiable) index values")
    return index


def reshape(x: Any, shape: Any) -> Variable:
    """Reshape to ``shape`` (``-1`` allowed).

    Examples
    --------
    >>> reshape([1.0, 2.0, 3.0, 4.0], (2, 2)).shape
    (2, 2)
    """
    x = _arg(x, "reshape")
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    shape = tuple(shape)
    if isinstance(x, Variable) and x.shape == shape:
        return x
    return Reshape(shape)(x)


def transpose(x: Any, axes: Any = None) -> Variable:
    """Permute axes (reverse them by default).

    Examples
    --------
    >>> import numpy as np
    >>> transpose(np.ones((2, 3, 4)), (1, 0, 2)).shape
    (3, 2, 4)
    """
    return Transpose(axes)(_arg(x, "transpose"))


def broadcast_to(x: Any, shape: Any) -> Variable:
    """Broadcast to ``shape``.

    Examples
    --------
    >>> broadcast_to(1.0, (2, 2)).shape
    (2, 2)
    """
    x = _arg(x, "broadcast_to")
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if isinstance(x, Variable) and x.shape == shape:
        return x
    return BroadcastTo(shape)(x)


def getitem(x: Any, index: Any) -> Variable:
    """``x[index]`` with slices, integers, integer/boolean arrays, None, Ellipsis.

    Examples
    --------
    >>> from reverse import Variable
    >>> x = Variable([1.0, 2.0, 3.0])
    >>> getitem(x, [0, 0, 2]).sum().backward()
    >>> x.grad
    variable([2. 0. 1.])
    """
    return GetItem(_index_arg(index))(_arg(x, "getitem"))


def concatenate(xs: Any, axis: int | None = 0) -> Variable:
    """Join a sequence along ``axis`` (``axis=None`` flattens first).

    Examples
    --------
    >>> from reverse import Variable
    >>> concatenate([Variable([1.0]), [2.0]])
    variable([1. 2.])
    """
    xs = [_as_operand_array(_arg(x, "concatenate")) for x in xs]
    if axis is None:
        xs = [reshape(x, (-1,)) for x in xs]
        axis = 0
    return Concatenate(int(axis))(*xs)


def stack(xs: Any, axis: int = 0) -> Variable:
    """Join a sequence along a new axis.

    Examples
    --------
    >>> from reverse import Variable
    >>> stack([Variable([1.0, 2.0]), [3.0, 4.0]], axis=1).shape
    (2, 2)
    """
    xs = [_as_operand_array(_arg(x, "stack")) for x in xs]
    if not xs:
        raise ValueError("stack: need at least one array")
    shape = np.shape(_value(xs[0]))
    ax = axis % (len(shape) + 1)
    new = shape[:ax] + (1,) + shape[ax:]
    return Concatenate(ax)(*[reshape(x, new) for x in xs])


def squeeze(x: Any, axis: Any = None) -> Variable:
    """Remove axes of length one.

    Examples
    --------
    >>> squeeze([[1.0, 2.0]]).shape
    (2,)
    """
    x = _arg(x, "squeeze")
    shape = np.shape(_value(x))
    if axis is None:
        new = tuple(n for n in shape if n != 1)
    else:
        axes = {a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}
        for a in axes:
            if shape[a] != 1:
                raise ValueError("cannot select an axis to squeeze out which has size "
                                 "not equal to one")
        new = tuple(n for i, n in enumerate(shape) if i not in axes)
    return reshape(x, new)


def expand_dims(x: Any, axis: Any) -> Variable:
    """Insert axes of length one at ``axis``.

    Examples
    --------
    >>> expand_dims([1.0, 2.0], 0).shape
    (1, 2)
    """
    x = _arg(x, "expand_dims")
    shape = list(np.shape(_value(x)))
    axes = axis if isinstance(axis, tuple) else (axis,)
    nd = len(shape) + len(axes)
    for a in sorted(a % nd for a in axes):
        shape.insert(a, 1)
    return reshape(x, tuple(shape))


def _np_reshape(a: Any, shape: Any = None, order: str = "C", *, newshape: Any = None,
                copy: Any = None) -> Variable:
    if order != "C":
        raise TypeError("reverse: np.reshape supports order='C' only")
    return reshape(a, newshape if shape is None else shape)


def _np_transpose(a: Any, axes: Any = None) -> Variable:
    return transpose(a, axes)


def _np_swapaxes(a: Any, axis1: int, axis2: int) -> Variable:
    a = _arg(a, "swapaxes")
    axes = list(range(len(np.shape(_value(a)))))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(a, axes)


def _np_broadcast_to(array: Any, shape: Any, subok: bool = False) -> Variable:
    return broadcast_to(array, shape)


def _np_concatenate(arrays: Any, axis: Any = 0, out: Any = None, **kwargs: Any) -> Variable:
    _reject("concatenate", out=out, **kwargs)
    return concatenate(arrays, axis)


def _np_stack(arrays: Any, axis: int = 0, out: Any = None, **kwargs: Any) -> Variable:
    _reject("stack", out=out, **kwargs)
    return stack(arrays, axis)


def _np_ravel(a: Any, order: str = "C") -> Variable:
    if order != "C":
        raise TypeError("reverse: np.ravel supports order='C' only")
    return reshape(a, (-1,))


def _np_diff(a: Any, n: int = 1, axis: int = -1, **kwargs: Any) -> Variable:
    _reject("diff", **kwargs)
    a = _arg(a, "diff")
    nd = len(np.shape(_value(a)))
    ax = axis % nd
    hi = (slice(None),) * ax + (slice(1, None),)
    lo = (slice(None),) * ax + (slice(None, -1),)
    for _ in range(n):
        a = getitem(a, hi) - getitem(a, lo)
    return a


def _np_dot(a: Any, b: Any, out: Any = None) -> Variable:
    _reject("dot", out=out)
    return dot(a, b)


def _np_outer(a: Any, b: Any, out: Any = None) -> Variable:
    _reject("outer", out=out)
    return outer(a, b)


def _np_copy(a: Any, *args: Any, **kwargs: Any) -> Variable:
    return _UNARY_CLASSES["Positive"]()(_arg(a, "copy"))


FUNCTIONS.update({
    np.reshape: _np_reshape,
    np.transpose: _np_transpose,
    np.swapaxes: _np_swapaxes,
    np.broadcast_to: _np_broadcast_to,
    np.concatenate: _np_concatenate,
    np.stack: _np_stack,
    np.squeeze: squeeze,
    np.expand_dims: expand_dims,
    np.ravel: _np_ravel,
    np.diff: _np_diff,
    np.dot: _np_dot,
    np.outer: _np_outer,
    np.copy: _np_copy,
})

_export("Reshape", "Transpose", "BroadcastTo", "GetItem", "Concatenate", "reshape",
        "transpose", "broadcast_to", "getitem", "concatenate", "stack", "squeeze",
        "expand_dims", "sum_to")


# ----------------------------------------------------------------------------
# Selection: where, clip
# ----------------------------------------------------------------------------


class Where(Function):
    """``where(cond, a, b)`` with a constant condition.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> Where(np.array([True, False]))(Variable([1.0, 2.0]), 0.0)
    variable([1. 0.])
    """

    __slots__ = ("cond",)

    def __init__(self, cond: Any) -> None:
        self.cond = cond

    def forward(self, a: Any, b: Any) -> Any:
        return np.where(self.cond, a, b)

    def backward(self, gy: Any, y: Any, a: Any, b: Any) -> Any:
        ia, ib = self._inputs
        return (sum_to(np.where(self.cond, gy, 0.0), a.shape) if isinstance(ia, Variable)
                else None,
                sum_to(np.where(self.cond, 0.0, gy), b.shape) if isinstance(ib, Variable)
                else None)


def where(cond: Any, a: Any = None, b: Any = None) -> Any:
    """Choose ``a`` where ``cond`` holds, else ``b`` (``cond`` is not differentiated).

    With only ``cond`` given this is ``np.nonzero`` on its values.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> x = Variable([-1.0, 2.0])
    >>> where(x > 0, x, 0.0)
    variable([0. 2.])
    """
    cond = _value(cond)
    if a is None and b is None:
        return np.where(cond)
    return Where(np.asarray(cond, dtype=bool))(_arg(a, "where"), _arg(b, "where"))


class Clip(Function):
    """``clip(x, lo, hi)``; ``lo``/``hi`` may be None, constants or Variables.

    Examples
    --------
    >>> from reverse import Variable
    >>> Clip()(Variable([-2.0, 0.5, 2.0]), -1.0, 1.0)
    variable([-1.   0.5  1. ])
    """

    __slots__ = ()

    @staticmethod
    def forward(x: Any, lo: Any, hi: Any) -> Any:
        return np.clip(x, lo, hi)

    def backward(self, gy: Any, y: Any, x: Any, lo: Any, hi: Any) -> Any:
        # clip is minimum(maximum(x, lo), hi); each of the two splits ties 0.5/0.5
        # as Maximum/Minimum do (JAX's convention), and hyperdual.clip agrees.
        ix, ilo, ihi = self._inputs
        xv = _value(x)
        a, m = 1.0, xv
        if lo is not None:
            lv = _value(lo)
            a = np.where(xv > lv, 1.0, np.where(xv == lv, 0.5, 0.0))
            m = np.maximum(xv, lv)
        b = 1.0
        if hi is not None:
            hv = _value(hi)
            b = np.where(m < hv, 1.0, np.where(m == hv, 0.5, 0.0))
        dt = np.result_type(xv, *[_value(v) for v in (lo, hi) if v is not None])
        if dt.kind == "f":  # float32 gradients stay float32
            a, b = np.asarray(a, dtype=dt), np.asarray(b, dtype=dt)
        return (sum_to(gy * (a * b), x.shape) if isinstance(ix, Variable) else None,
                sum_to(gy * ((1.0 - a) * b), lo.shape) if isinstance(ilo, Variable) else None,
                sum_to(gy * (1.0 - b), hi.shape) if isinstance(ihi, Variable) else None)


def clip(x: Any, x_min: Any = None, x_max: Any = None) -> Variable:
    """Limit values to ``[x_min, x_max]`` (either bound may be None).

    The gradient goes to ``x`` strictly inside ``[x_min, x_max]`` and to the
    bound where it is active; at a boundary (a tie) it is split 0.5/0.5, as
    ``minimum(maximum(x, x_min), x_max)`` gives in JAX and in ``hyperdual``.

    Examples
    --------
    >>> from reverse import Variable
    >>> x = Variable([-2.0, 0.5, 1.0])
    >>> clip(x, -1.0, 1.0).sum().backward()
    >>> x.grad
    variable([0.  1.  0.5])
    """
    x = _arg(x, "clip")
    lo = None if x_min is None else _arg(x_min, "clip")
    hi = None if x_max is None else _arg(x_max, "clip")
    if lo is None and hi is None:
        raise ValueError("clip: at least one of x_min and x_max must be given")
    return Clip()(x, lo, hi)


def _np_clip(a: Any, a_min: Any = np._NoValue, a_max: Any = np._NoValue, out: Any = None,
             *, min: Any = np._NoValue, max: Any = np._NoValue,  # noqa: A002
             **kwargs: Any) -> Variable:
    _reject("clip", out=out, **kwargs)
    lo = a_min if a_min is not np._NoValue else min
    hi = a_max if a_max is not np._NoValue else max
    lo = None if lo is np._NoValue else lo
    hi = None if hi is np._NoValue else hi
    return clip(a, lo, hi)


FUNCTIONS[np.where] = where
FUNCTIONS[np.clip] = _np_clip
_export("Where", "Clip", "where", "clip")


# ----------------------------------------------------------------------------
# Neural-network functions
# ----------------------------------------------------------------------------


class Relu(Function):
    """``max(x, 0)`` with ``relu'(0) = 0``.

    Examples
    --------
    >>> from reverse import Variable
    >>> Relu()(Variable([-1.0, 2.0]))
    variable([0. 2.])
    """

    __slots__ = ()

    @staticmethod
    def forward(x: Any) -> Any:
        return np.maximum(x, 0.0)

    @staticmethod
    def backward(gy: Any, y: Any, x: Any) -> Any:
        return gy * _mask(_value(x) > 0, x)


class Sigmoid(Function):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, computed stably through tanh.

    Examples
    --------
    >>> from reverse import Variable
    >>> Sigmoid()(Variable(0.0))
    variable(0.5)
    """

    __slots__ = ()

    @staticmethod
    def forward(x: Any) -> Any:
        return np.tanh(x * 0.5) * 0.5 + 0.5

    @staticmethod
    def backward(gy: Any, y: Any, x: Any) -> Any:
        return gy * y * (1 - y)


def _softmax(x: Any, axis: Any) -> Any:
    return np.exp(x - _lse(x, axis=axis, keepdims=True))


class Softmax(Function):
    """Softmax along ``axis`` (shifted by the maximum for stability).

    Examples
    --------
    >>> from reverse import Variable
    >>> Softmax(-1)(Variable([0.0, 0.0]))
    variable([0.5 0.5])
    """

    __slots__ = ("axis",)

    def __init__(self, axis: Any = -1) -> None:
        self.axis = _check_axis(axis)

    def forward(self, x: Any) -> Any:
        return _softmax(x, self.axis)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        gx = y * gy
        return gx - y * np.sum(gx, axis=self.axis, keepdims=True)


class LogSoftmax(Function):
    """``x - logsumexp(x)`` along ``axis``.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> y = LogSoftmax(-1)(Variable([1000.0, 1000.0]))
    >>> bool(np.allclose(y.data, np.log(0.5)))
    True
    """

    __slots__ = ("axis",)

    def __init__(self, axis: Any = -1) -> None:
        self.axis = _check_axis(axis)

    def forward(self, x: Any) -> Any:
        return x - _lse(x, axis=self.axis, keepdims=True)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        return gy - np.exp(y) * np.sum(gy, axis=self.axis, keepdims=True)


class SoftmaxCrossEntropy(Function):
    """Mean cross entropy of ``softmax(x)`` (rows of ``x``) against targets ``t``.

    ``t`` is either integer class labels of shape (N,) or target probabilities
    of the same shape as ``x``.  The gradient is ``(softmax(x) - onehot(t)) / N``.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> SoftmaxCrossEntropy(np.array([0]))(Variable([[0.0, 0.0]]))
    variable(0.69314718)
    """

    __slots__ = ("t", "labels")

    def __init__(self, t: Any) -> None:
        self.t = t
        self.labels = t.ndim == 1

    def forward(self, x: Any) -> Any:
        n = x.shape[0]
        logp = x - _lse(x, axis=1, keepdims=True)
        if self.labels:
            return -np.sum(logp[np.arange(n), self.t]) / n
        return -np.sum(self.t * logp) / n

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        n, c = x.shape
        target = np.eye(c)[self.t] if self.labels else self.t
        return (_softmax(x, 1) - target) * (gy / n)


def _targets(t: Any, x_shape: tuple[int, ...]) -> np.ndarray:
    if isinstance(t, Variable):
        t = t.data
    t = np.asarray(t)
    if len(x_shape) != 2:
        raise ValueError(f"softmax_cross_entropy: logits must be 2-d (N, C), got shape {x_shape}")
    n, c = x_shape
    if t.shape == (n,):
        if t.dtype.kind == "f":
            if not np.all(t == np.round(t)):
                raise ValueError("softmax_cross_entropy: float labels must be whole numbers")
            t = t.astype(np.intp)
        elif t.dtype.kind not in "iu":
            raise TypeError(f"softmax_cross_entropy: labels must be integers, got {t.dtype}")
        if t.size and (t.min() < 0 or t.max() >= c):
            raise ValueError(f"softmax_cross_entropy: labels must lie in [0, {c}), "
                             f"got min {t.min()} max {t.max()}")
        return t
    if t.shape == (n, c) and t.dtype.kind in "fiub":
        return t.astype(np.float64)
    raise ValueError(f"softmax_cross_entropy: targets must have shape ({n},) (labels) or "
                     f"({n}, {c}) (probabilities), got {t.shape}")


def relu(x: Any) -> Variable:
    """Rectified linear unit ``max(x, 0)``; ``relu'(0) = 0``.

    Parameters
    ----------
    x : Variable or array_like
        Input.

    Returns
    -------
    Variable
        ``max(x, 0)``, with ``x``'s shape.

    Examples
    --------
    >>> relu([-1.0, 0.0, 2.0])
    variable([0. 0. 2.])
    """
    return Relu()(_arg(x, "relu"))


def sigmoid(x: Any) -> Variable:
    """Logistic sigmoid, stable for large ``|x|``.

    Parameters
    ----------
    x : Variable or array_like
        Input.

    Returns
    -------
    Variable
        ``1 / (1 + exp(-x))``, with ``x``'s shape.

    Examples
    --------
    >>> sigmoid([0.0, 1000.0])
    variable([0.5 1. ])
    """
    return Sigmoid()(_arg(x, "sigmoid"))


def softmax(x: Any, axis: Any = -1) -> Variable:
    """Softmax along ``axis`` (default: the last axis).

    For a batch of logits of shape (N, C), as in the book's DeZero, the
    default is the book's ``axis=1``; unlike ``axis=1`` it also works on a
    single vector of logits (and follows numpy/JAX for more axes).

    Parameters
    ----------
    x : Variable or array_like
        Logits.
    axis : int or tuple of int, optional
        Axis (or axes) along which the result sums to one.

    Returns
    -------
    Variable
        ``exp(x) / sum(exp(x), axis)``, computed stably, with ``x``'s shape.

    Examples
    --------
    >>> softmax([[1.0, 1.0, 1.0, 1.0]])
    variable([[0.25 0.25 0.25 0.25]])
    """
    return Softmax(axis)(_arg(x, "softmax"))


def log_softmax(x: Any, axis: Any = -1) -> Variable:
    """Log of the softmax along ``axis``, stable for large logits.

    Parameters
    ----------
    x : Variable or array_like
        Logits.
    axis : int or tuple of int, optional
        Axis (or axes) of the softmax (default: the last).

    Returns
    -------
    Variable
        ``x - logsumexp(x, axis)``, with ``x``'s shape.

    Examples
    --------
    >>> import numpy as np
    >>> y = log_softmax([0.0, 0.0])
    >>> bool(np.allclose(y.data, -np.log(2)))
    True
    """
    return LogSoftmax(axis)(_arg(x, "log_softmax"))


def softmax_cross_entropy(x: Any, t: Any) -> Variable:
    """Mean softmax cross entropy of logits ``x`` (N, C) against ``t``.

    ``t``: integer labels (N,) or target probabilities (N, C).  Stable for large
    logits; the gradient is ``(softmax(x) - onehot(t)) / N``.

    Parameters
    ----------
    x : Variable or array_like, shape (N, C)
        Logits, one row per sample.
    t : array_like
        Integer labels, shape (N,), or target probabilities, shape (N, C).

    Returns
    -------
    Variable
        0-d, the mean cross entropy over the N samples.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> x = Variable(np.array([[1000.0, 0.0], [0.0, 1000.0]]))
    >>> loss = softmax_cross_entropy(x, np.array([0, 1]))
    >>> loss
    variable(0.)
    >>> loss.backward()
    >>> x.grad
    variable([[0. 0.]
              [0. 0.]])
    """
    x = _arg(x, "softmax_cross_entropy")
    return SoftmaxCrossEntropy(_targets(t, tuple(x.shape)))(x)


def mean_squared_error(a: Any, b: Any) -> Variable:
    """Mean over all elements of ``(a - b) ** 2``.

    (DeZero divides by ``len(a)``; for targets of shape (N,) or (N, 1) that is
    the same number.)

    Parameters
    ----------
    a, b : Variable or array_like
        Predictions and targets (broadcast together).

    Returns
    -------
    Variable
        0-d, ``mean((a - b) ** 2)``.

    Examples
    --------
    >>> mean_squared_error([1.0, 2.0], [1.0, 4.0])
    variable(2.)
    """
    d = _arg(a, "mean_squared_error") - _arg(b, "mean_squared_error")
    if not isinstance(d, Variable):
        d = Variable(d)
    return Sum()(d * d) * (1.0 / builtins.max(1, d.size))


def dropout(x: Any, ratio: float | None = None, rng: Any = None, *,
            dropout_ratio: float | None = None) -> Variable:
    """Inverted dropout: in training, zero each element with probability ``ratio``.

    Surviving elements are scaled by ``1 / (1 - ratio)``; with
    ``Config.train`` False (``reverse.test_mode()``) ``x`` passes unchanged.

    Parameters
    ----------
    x : Variable or array_like
        Input.
    ratio : float, optional
        Probability of zeroing an element, in [0, 1); default 0.5.
    rng : numpy Generator, RandomState or int, optional
        Source of the mask.  By default numpy's global random state, so
        ``np.random.seed(n)`` makes the masks reproducible (as in the book).
    dropout_ratio : float, optional
        The book's name for ``ratio`` (give one of the two).

    Returns
    -------
    Variable
        ``x * mask / (1 - ratio)`` in training, ``x`` itself in test mode.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import test_mode
    >>> y = dropout(np.ones(1000), 0.5, rng=np.random.default_rng(0))
    >>> 0.4 < float(np.mean(y.data == 0)) < 0.6
    True
    >>> with test_mode():
    ...     dropout([1.0, 2.0], dropout_ratio=0.3)
    variable([1. 2.])
    """
    if ratio is not None and dropout_ratio is not None:
        raise TypeError("dropout: give ratio or dropout_ratio (the book's name), not both")
    ratio = 0.5 if ratio is None and dropout_ratio is None else (
        ratio if ratio is not None else dropout_ratio)
    x = _arg(x, "dropout")
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"dropout: ratio must be in [0, 1), got {ratio}")
    if not isinstance(x, Variable):
        x = Variable(x)
    if not core.Config.train:
        return x
    if rng is None:
        rng = np.random  # the global state: np.random.seed applies
    elif isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        rng = np.random.default_rng(rng)
    elif not isinstance(rng, (np.random.Generator, np.random.RandomState)):
        raise TypeError(f"dropout: rng must be a numpy Generator, RandomState, an int or "
                        f"None, got {type(rng).__name__}")
    keep = rng.random(x.shape) >= ratio
    return x * (keep * (1.0 / (1.0 - ratio)))


class LeakyRelu(Function):
    """``x`` where ``x > 0``, ``slope * x`` elsewhere; the derivative at 0 is ``slope``.

    The backward multiplies by a constant mask, so every order of derivative
    works (the second derivative is 0 away from the kink).

    Examples
    --------
    >>> from reverse import Variable
    >>> LeakyRelu(0.1)(Variable([-2.0, 3.0]))
    variable([-0.2  3. ])
    """

    __slots__ = ("slope",)

    def __init__(self, slope: float = 0.2) -> None:
        self.slope = slope

    def forward(self, x: Any) -> Any:
        return np.where(x > 0, x, x * self.slope)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        v = _value(x)
        mask = np.where(v > 0, 1.0, self.slope).astype(core._seed_dtype(x), copy=False)
        return gy * mask


def leaky_relu(x: Any, slope: float = 0.2) -> Variable:
    """Leaky rectified linear unit: ``x`` for ``x > 0``, else ``slope * x``.

    Parameters
    ----------
    x : Variable or array_like
        Input.
    slope : float
        Slope for ``x <= 0`` (default 0.2, the book's DeZero default).

    Returns
    -------
    Variable
        Same shape as ``x``; its derivative is 1 for ``x > 0`` and ``slope``
        for ``x <= 0``.

    Examples
    --------
    >>> from reverse import Variable
    >>> x = Variable([-1.0, 2.0])
    >>> y = leaky_relu(x)
    >>> y
    variable([-0.2  2. ])
    >>> y.backward()
    >>> x.grad
    variable([0.2 1. ])
    """
    if isinstance(slope, bool) or not isinstance(slope, (int, float, np.integer, np.floating)):
        raise TypeError(f"leaky_relu: slope must be a real number, got {type(slope).__name__}")
    return LeakyRelu(float(slope))(_arg(x, "leaky_relu"))


def accuracy(y: Any, t: Any) -> Variable:
    """Fraction of rows of ``y`` whose largest entry is at the label ``t``.

    Not differentiable (it counts); the result is a 0-d Variable without a
    graph, as in the book's DeZero.

    Parameters
    ----------
    y : Variable or array_like, shape (N, C)
        Scores or probabilities, one row per sample.
    t : Variable or array_like of int, shape (N,)
        Class labels.

    Returns
    -------
    Variable
        0-d, the fraction of correct predictions in [0, 1].

    Examples
    --------
    >>> accuracy([[0.2, 0.8], [0.9, 0.1], [0.3, 0.7]], [1, 0, 0])
    variable(0.66666667)
    """
    yv = np.asarray(_value(y) if isinstance(y, Variable) else as_array(y))
    tv = np.asarray(t.data if isinstance(t, Variable) else t)
    if yv.ndim != 2 or tv.shape != yv.shape[:1]:
        raise ValueError(f"accuracy: y must have shape (N, C) and t shape (N,), got "
                         f"{yv.shape} and {tv.shape}")
    pred = np.argmax(yv, axis=1)
    return Variable(np.mean(pred == tv) if tv.size else np.float64(np.nan))


_export("Relu", "Sigmoid", "Softmax", "LogSoftmax", "SoftmaxCrossEntropy", "LeakyRelu",
        "relu", "sigmoid", "softmax", "log_softmax", "softmax_cross_entropy",
        "mean_squared_error", "dropout", "leaky_relu", "accuracy")


# ----------------------------------------------------------------------------
# Internal: Anchor (see core._run_backward)
# ----------------------------------------------------------------------------


class AsType(Function):
    """Cast to a float dtype; the gradient is cast back to the input's dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> AsType(np.float32)(Variable([1.0])).dtype
    dtype('float32')
    """

    __slots__ = ("dtype",)

    def __init__(self, dtype: Any) -> None:
        self.dtype = np.dtype(dtype)

    def forward(self, x: Any) -> Any:
        return x.astype(self.dtype)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        dt = core._seed_dtype(x)
        return gy if gy.dtype == dt else gy.astype(dt)


class Anchor(Function):
    """Return ``g`` unchanged while depending (with derivative 0) on ``x``.

    Examples
    --------
    >>> from reverse import Variable
    >>> Anchor()(2.0, Variable(1.0))
    variable(2.)
    """

    __slots__ = ()

    @staticmethod
    def forward(g: Any, x: Any) -> Any:
        return g

    def backward(self, gy: Any, y: Any, g: Any, x: Any) -> Any:
        return gy, _zeros(x)


# ----------------------------------------------------------------------------
# Non-differentiable numpy functions: computed on the values
# ----------------------------------------------------------------------------


def _on_values(func: Any) -> Any:
    def impl(*args: Any, **kwargs: Any) -> Any:
        args = tuple(_value(a) if isinstance(a, Variable) else a for a in args)
        return func(*args, **kwargs)
    return impl


for _f in (np.shape, np.ndim, np.size, np.zeros_like, np.ones_like, np.empty_like,
           np.full_like, np.isclose, np.allclose, np.array_equal, np.argmax, np.argmin,
           np.argsort, np.nonzero, np.count_nonzero, np.any, np.all, np.result_type):
    FUNCTIONS[_f] = _on_values(_f)


# ----------------------------------------------------------------------------
# Operators on Variable
# ----------------------------------------------------------------------------


def _install_operators() -> None:
    def binary(cls: type) -> tuple[Any, Any]:
        def op(self: Variable, other: Any) -> Any:
            if not isinstance(other, Variable):
                other = _const(other)
                if other is None:
                    return NotImplemented
            return cls()(self, other)

        def rop(self: Variable, other: Any) -> Any:
            other = _const(other)
            if other is None:
                return NotImplemented
            return cls()(other, self)

        return op, rop

    for cls, name in ((Add, "add"), (Subtract, "sub"), (Multiply, "mul"),
                      (Divide, "truediv"), (Power, "pow"), (MatMul, "matmul")):
        op, rop = binary(cls)
        op.__name__, rop.__name__ = f"__{name}__", f"__r{name}__"
        setattr(Variable, f"__{name}__", op)
        setattr(Variable, f"__r{name}__", rop)

    for name, cls_name in (("neg", "Negative"), ("pos", "Positive"), ("abs", "Absolute")):
        cls = _UNARY_CLASSES[cls_name]
        setattr(Variable, f"__{name}__", lambda self, cls=cls: cls()(self))
    Variable.__getitem__ = lambda self, index: GetItem(_index_arg(index))(self)

    def compare(ufunc: Any) -> Any:
        def op(self: Variable, other: Any) -> Any:
            if not isinstance(other, Variable):
                other = _const(other)
                if other is None:
                    return NotImplemented
            return ufunc(_value(self), _value(other))
        return op

    for name, uf in (("lt", np.less), ("le", np.less_equal), ("gt", np.greater),
                     ("ge", np.greater_equal), ("eq", np.equal), ("ne", np.not_equal)):
        setattr(Variable, f"__{name}__", compare(uf))

    def _max(self: Variable, axis: Any = None, keepdims: bool = False) -> Variable:
        """Maximum over ``axis`` (see :func:`reverse.functions.max`)."""
        return max(self, axis, keepdims)

    def _min(self: Variable, axis: Any = None, keepdims: bool = False) -> Variable:
        """Minimum over ``axis`` (see :func:`reverse.functions.min`)."""
        return min(self, axis, keepdims)

    def _mean(self: Variable, axis: Any = None, keepdims: bool = False) -> Variable:
        """Mean over ``axis`` (see :func:`reverse.functions.mean`)."""
        return mean(self, axis, keepdims)

    Variable.max, Variable.min, Variable.mean = _max, _min, _mean

    # more ndarray methods: each the numpy function of the same name (same rules)
    def _astype(self: Variable, dtype: Any, copy: bool = True) -> Variable:
        """Cast to the float ``dtype`` (differentiable); an integer dtype raises TypeError."""
        dt = np.dtype(dtype)
        if dt.kind != "f":
            raise TypeError(f"reverse: astype({dt}) of a Variable would drop its gradient; "
                            "only float dtypes are accepted (use .data for the values)")
        return AsType(dt)(self)

    def _item(self: Variable, *args: Any) -> Variable:
        """The element as a 0-d Variable (it stays in the graph)."""
        if not args:
            if self.size != 1:
                raise ValueError("can only convert an array of size 1 to a Python scalar")
            return reshape(self, ())
        if len(args) == 1 and not isinstance(args[0], tuple):
            return reshape(self, (-1,))[args[0]]
        return self[args[0] if len(args) == 1 else args]

    methods = {
        "squeeze": lambda self, axis=None: squeeze(self, axis),
        "ravel": lambda self: reshape(self, (-1,)),
        "flatten": lambda self: reshape(self, (-1,)),
        "copy": lambda self: _UNARY_CLASSES["Positive"]()(self),
        "prod": lambda self, axis=None, keepdims=False: prod(self, axis, keepdims),
        "var": lambda self, *a, **k: np.var(self, *a, **k),
        "std": lambda self, *a, **k: np.std(self, *a, **k),
        "cumsum": lambda self, axis=None: np.cumsum(self, axis=axis),
        "clip": lambda self, min=None, max=None: clip(self, min, max),  # noqa: A002
        "swapaxes": lambda self, a1, a2: np.swapaxes(self, a1, a2),
        "diagonal": lambda self, offset=0, axis1=0, axis2=1: np.diagonal(self, offset,
                                                                          axis1, axis2),
        "trace": lambda self, offset=0, axis1=0, axis2=1: np.trace(self, offset, axis1, axis2),
        "dot": lambda self, other: dot(self, other),
        "astype": _astype,
        "item": _item,
    }
    for name, fn in methods.items():
        if not hasattr(Variable, name):
            setattr(Variable, name, fn)

    # copy.copy / copy.deepcopy of a Variable: np.positive, a new array in the graph
    core._OPS.copy = lambda x, deep: _UNARY_CLASSES["Positive"]()(x)
    core._OPS.transpose = transpose
    core._OPS.reshape = reshape
    core._OPS.sum = sum
    core._OPS.anchor = lambda g, x: Anchor()(g, x)
    core._OPS.scatter = scatter_add


_install_operators()
