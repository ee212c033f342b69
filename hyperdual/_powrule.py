"""The partial derivatives of ``x ** y``, as a family of elementwise functions.

``pow_partial(i, j, x, y)`` is ``d^(i+j) (x ** y) / dx^i dy^j``.  Each member is
an elementwise function whose own partials are the next members
(``d/dx P_ij = P_(i+1)j``, ``d/dy P_ij = P_i(j+1)``), so a power whose exponent
carries a derivative is exact at every order and under any nesting, and its
mixed partials are symmetric by construction.  No special case looks at a real
part only: the closed form below is evaluated on plain numbers, and a Dual
argument goes through the chain rule with the next members of the family.

Closed form: ``P_ij = x**(y - i) * sum_k q_k(y) * L(x)**k`` with polynomials
``q_k`` in ``y`` and ``L(x) = log(x)``.  Convention at ``x = 0`` (JAX's for
``d/dy x**y``, extended to every order): ``L(0) = 0``, and a term whose
polynomial factor is exactly 0 is 0 even where ``x**(y - i)`` is infinite.  So
``x**0``, ``x**1`` and ``x**2`` have their exact derivatives at 0, and the
Hessian of ``x**y`` is ``[[0, inf], [inf, 0]]`` at (0, 0) and ``[[0, 1], [1, 0]]``
at (0, 1), in both engines.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.polynomial import Polynomial

_Y = Polynomial([0.0, 1.0])


@functools.cache
def polynomials(i: int, j: int) -> tuple:
    """The polynomials ``q_0 .. q_j`` (in y) of ``P_ij`` (see the module docstring)."""
    if i == 0 and j == 0:
        return (Polynomial([1.0]),)
    if i > 0:
        q = polynomials(i - 1, j)  # d/dx of x**(y-i+1) q_k L**k
        out = []
        for k in range(len(q)):
            term = (_Y - (i - 1)) * q[k]
            if k + 1 < len(q):
                term = term + (k + 1) * q[k + 1]
            out.append(term)
        return tuple(out)
    q = polynomials(0, j - 1)  # d/dy of x**y q_k L**k: q_k' L**k + q_k L**(k+1)
    out = [q[0].deriv()]
    for k in range(1, len(q) + 1):
        term = q[k - 1]
        if k < len(q):
            term = term + q[k].deriv()
        out.append(term)
    return tuple(out)


def _poly_value(p: Polynomial, y):
    c = p.coef
    if len(c) == 1:
        return c[0] + 0.0 * y
    out = c[-1] * y + c[-2]
    for a in c[-3::-1]:
        out = out * y + a
    return out


def pow_partial_value(i: int, j: int, x, y):
    """``P_ij(x, y)`` for plain floats or float arrays (numpy broadcasting).

    Examples
    --------
    >>> pow_partial_value(1, 0, 2.0, 3.0)  # 3 * 2**2
    12.0
    >>> pow_partial_value(1, 1, 0.0, 1.0)  # the convention at x = 0
    1.0
    """
    scalar = type(x) is float and type(y) is float
    # Python floats are weak (NEP 50): a float32 operand keeps float32
    dts = [v.dtype for v in (x, y) if isinstance(v, (np.ndarray, np.generic))]
    dt = np.result_type(*dts) if dts else np.dtype(np.float64)
    if dt.kind != "f":
        dt = np.dtype(np.float64)
    x = np.asarray(x, dtype=dt)
    y = np.asarray(y, dtype=dt)
    q = polynomials(i, j)
    zero = x == 0
    if len(q) > 1:
        # log only when a y-derivative asks for it: (-2)**y has d/dx but no real log
        lx = np.log(np.where(zero, np.ones((), x.dtype), x))
        s = _poly_value(q[-1], y)
        for k in range(len(q) - 2, -1, -1):
            s = s * lx + _poly_value(q[k], y)
    else:
        s = _poly_value(q[0], y)
    s = np.asarray(s, dtype=np.result_type(x, y))
    exact_zero = s == 0
    if np.any(exact_zero):
        # 0**(y - i) may be inf there: the term is 0 (x**0, x**1 are polynomials)
        base = np.where(exact_zero & zero, np.ones((), x.dtype), x)
        out = np.where(exact_zero, np.zeros((), s.dtype), np.power(base, y - i) * s)
    else:
        out = np.power(x, y - i) * s
    if scalar or out.ndim == 0:
        return float(out) if scalar else out[()]
    return out


# --- the generic functions and their rules (hyperdual) ------------------------------
_RULES: dict = {}


def pow_rule(i: int, j: int):
    """The binary rule of ``P_ij``: its partials are ``P_(i+1)j``, ``P_i(j+1)`` ..."""
    rule = _RULES.get((i, j))
    if rule is not None:
        return rule
    from . import _generic as g
    from ._rules import Binary

    def partials(x, y, order, vx, vy):
        out = {(1, 0): pow_partial(i + 1, j, x, y), (0, 1): pow_partial(i, j + 1, x, y)}
        if order > 1:
            out[(2, 0)] = pow_partial(i + 2, j, x, y)
            out[(1, 1)] = pow_partial(i + 1, j + 1, x, y)
            out[(0, 2)] = pow_partial(i, j + 2, x, y)
        return out

    name = f"pow_partial_{i}_{j}"
    rule = Binary(name, functools.partial(pow_partial_value, i, j), None, partials,
                  "a partial derivative of x**y (see hyperdual._powrule)")
    _RULES[(i, j)] = rule
    setattr(g, name, functools.partial(pow_partial, i, j))
    return rule


def pow_partial(i: int, j: int, x, y):
    """``d^(i+j) (x**y) / dx^i dy^j`` of floats, arrays, Duals or HyperDuals.

    Examples
    --------
    >>> from hyperdual import Dual
    >>> pow_partial(1, 0, Dual(2.0, 1.0), 3.0)  # 3 x**2 and its derivative 6 x
    Dual(12.0, 12.0)
    """
    from . import _generic as g

    if g._is_number(x) or g._is_number(y):
        from ._number import _binary

        return _binary(pow_rule(i, j), x, y)
    return pow_partial_value(i, j, x, y)
