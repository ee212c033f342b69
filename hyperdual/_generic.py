"""Elementary functions that accept floats, numpy arrays and dual numbers alike.

Each function of the rule table is exposed here under its name
(``sin``, ``exp``, ...).  On a Python float it calls the ``math`` version
(no 0-d array round trip: this is the fast scalar path), on an array the numpy
ufunc, and on a :class:`~hyperdual.Dual` or :class:`~hyperdual.HyperDual` it
applies the rule's derivatives.  The rule table refers to these functions for
its derivatives, which is what makes nested differentiation work.

The functions are installed by :func:`install` once the rule table exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from _exactdiff._common import fpe_ignored as _fpe_ignored
from _exactdiff.arrays import is_foreign_array as _is_foreign_array
from _exactdiff.arrays import is_lazy as _is_lazy
from _exactdiff.fprange import ufunc_in_wide as _ufunc_in_wide

if TYPE_CHECKING:  # the functions are made at import time by install()

    def __getattr__(name: str) -> Any: ...

_NUMBER_TYPES: tuple = ()  # filled in by _number: (Dual, HyperDual)

__all__: list[str] = []


def _is_number(x) -> bool:
    return isinstance(x, _NUMBER_TYPES)


def _make_unary(rule):
    ufunc, scalar = rule.ufunc, rule.scalar

    def fn(x):
        t = type(x)
        if t in _NUMBER_TYPES:
            return x._unary(rule)
        if t is float:
            if scalar is not None:
                try:
                    return scalar(x)
                except (ValueError, ZeroDivisionError, OverflowError):
                    pass  # numpy gives inf/nan with its warning instead of raising
            return float(ufunc(x))
        if t is int or t is bool:
            return fn(float(x))
        if isinstance(x, (np.ndarray, np.generic)):
            return _ufunc_in_wide(ufunc, x)  # (ufunc(x) but in a long double redo)
        if _is_number(x):
            return x._unary(rule)
        if hasattr(x, "__array_ufunc__") and not isinstance(x, (list, tuple, str)):
            return ufunc(x)  # e.g. a reverse.Variable: let its own protocol answer
        from ._number import _as_part

        return ufunc(_as_part(x, "x"))

    fn.__name__ = rule.name
    fn.__qualname__ = rule.name
    fn.__doc__ = (
        f"Elementwise ``{rule.name}`` of a float, an array, a Dual or a HyperDual.\n\n"
        f"Dual and HyperDual arguments get exact first and second derivatives from the\n"
        f"rule table. {rule.note}\n" + _doc_sections(rule, ("x",))
    )
    return fn


#: a point in each function's domain for the generated examples (default 0.5)
_EXAMPLE_POINT = {"arccosh": "1.5"}


def _doc_sections(rule, args: tuple[str, ...]) -> str:
    """Parameters, Returns and a doctest for a generated function's docstring.

    The example calls the numpy (or scipy.special) ufunc on a Dual, the way the
    function is normally reached; internal rules without one get no example.
    """
    name, ufunc = rule.name, rule.ufunc
    uname = getattr(ufunc, "__name__", None)
    if uname and getattr(np, uname, None) is ufunc:
        setup, call = ">>> import numpy as np\n", f"np.{uname}"
    else:
        setup, call = "", ""
        try:
            import scipy.special as sc

            if uname and getattr(sc, uname, None) is ufunc:
                setup, call = ">>> import scipy.special\n", f"scipy.special.{uname}"
        except ImportError:  # pragma: no cover - scipy is a dependency
            pass
    params = "".join(f"{a} : float, array_like, Dual or HyperDual\n    Argument.\n"
                     for a in args)
    first = _EXAMPLE_POINT.get(name, "0.5")
    plain = ", ".join([first] + ["1.5"] * (len(args) - 1))
    dual = ", ".join([f"hyperdual.Dual({first}, 1.0)"] + ["1.5"] * (len(args) - 1))
    sections = (
        f"\nParameters\n----------\n{params}\n"
        "Returns\n-------\nfloat, ndarray, Dual or HyperDual\n"
        f"    ``{name}`` elementwise; a Dual or HyperDual (with its derivative parts)\n"
        "    when an argument is one, else what numpy returns (a float for floats).\n"
    )
    if not call:
        return sections
    return sections + (
        f"\nExamples\n--------\n>>> import hyperdual\n{setup}"
        f">>> y = {call}({dual})\n"
        f">>> v = {call}({plain})  # the real part is the plain value\n"
        ">>> bool(abs(y.real - v) <= 4e-16 * abs(v))\nTrue\n"
    )


def _make_binary(rule):
    ufunc, scalar = rule.ufunc, rule.scalar

    def fn(x, y):
        tx, ty = type(x), type(y)
        if tx in _NUMBER_TYPES or ty in _NUMBER_TYPES or _is_number(x) or _is_number(y):
            from ._number import _binary

            return _binary(rule, x, y)
        if (tx is float or tx is int) and (ty is float or ty is int):
            if scalar is not None:
                try:
                    return float(scalar(float(x), float(y)))
                except (ValueError, ZeroDivisionError, OverflowError):
                    pass
            return float(ufunc(float(x), float(y)))
        return _ufunc_in_wide(ufunc, x, y)

    fn.__name__ = rule.name
    fn.__qualname__ = rule.name
    fn.__doc__ = (
        f"Elementwise ``{rule.name}`` of floats, arrays, Duals or HyperDuals.\n\n{rule.note}\n"
        + _doc_sections(rule, ("x", "y"))
    )
    return fn


def install(unary: dict, binary: dict) -> None:
    """Create the generic function for every rule of the table."""
    g = globals()
    for name, rule in unary.items():
        g[name] = _make_unary(rule)
        __all__.append(name)
    for name, rule in binary.items():
        g[name] = _make_binary(rule)
        __all__.append(name)


# --- small value helpers used by the rule table ------------------------------------
def real_value(x):
    """The real part, through every level of nesting."""
    while _is_number(x):
        x = x.real
    return x


def zeros_like_value(x):
    """A structural zero shaped like the real value of ``x`` (a float for scalars)."""
    r = real_value(x)
    if isinstance(r, np.ndarray) and r.ndim > 0:
        return np.zeros(r.shape, dtype=r.dtype)
    return 0.0


def is_constant(x) -> bool:
    return not _is_number(x)


def select_value(cond, a, b):
    """``np.where`` on plain (real) conditions, returning a float for scalars."""
    if isinstance(cond, (bool, np.bool_)):
        return a if cond else b
    out = np.where(cond, a, b)
    # (a 0-d dask array stays lazy: float() would compute it)
    return float(out) if out.ndim == 0 and not _is_lazy(out) else out


def where_value(cond, a, b):
    """Choose ``a`` where ``cond`` (a plain condition) holds, else ``b`` (may be a Dual)."""
    cond = real_value(cond) if _is_number(cond) else cond
    if isinstance(cond, (bool, np.bool_)):
        return a if cond else b
    lazy = _is_foreign_array(cond)  # dask: neither inspected nor converted (no compute)
    if not lazy:
        cond = np.asarray(cond)
        if not cond.any():
            return b
    if _is_number(b) or _is_number(a):
        return np.where(cond, a, b)  # dispatches to the number's where
    with _fpe_ignored():
        out = np.where(cond, a, b)
    return float(out) if out.ndim == 0 and not lazy else out


def log_or_zero(x):
    """log(x), with 0 where x == 0 (used for d/dy x**y, flat at x = 0)."""
    r = real_value(x)
    if isinstance(r, np.ndarray):
        if np.any(r == 0):
            safe = where_value(r == 0, 1.0, x)
            return where_value(r == 0, 0.0, log(safe))  # noqa: F821 (installed)
        return log(x)  # noqa: F821
    if r == 0:
        return 0.0
    return log(x)  # noqa: F821
