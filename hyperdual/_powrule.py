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
import math

import numpy as np
from numpy.polynomial import Polynomial

from _exactdiff._common import fpe_ignored as _fpe_ignored
from _exactdiff.arrays import is_foreign_array as _is_foreign

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


def plain_power_is_precise(y, order: int) -> bool:
    """Whether ``y (y - 1) .. x**(y - order)`` with a plain scalar exponent ``y``
    is as precise as ``P_order,0``: ``y - k`` exact for k <= order (else its
    rounding is amplified by |log x|, up to 700) and the falling factorial not
    tiny (else ``x**(y - order)`` may overflow where the product does not).
    The engines' constant-exponent fast paths ask this and otherwise use
    :func:`pow_partial`.  Costs a few float operations on a Python number.
    """
    c = 1.0
    for k in range(1, order + 1):
        e = y - k
        bv = e - y  # TwoSum: the rounding error of y - k is exactly this lo
        if (y - (e - bv)) + (-k - bv) != 0:
            return False
        c *= y - (k - 1)
    return not (0.0 < abs(c) < 2.0 ** -40)


def _power_shifted(x, y, i: int, skip, lazy: bool = False):
    """``x ** (y - i)`` (x, y float arrays) where it is not in ``skip``.

    ``y - i`` is rounded (by up to half an ulp of i when |y| < i), and
    ``x ** (y - i)`` amplifies that by ``|log x|``, up to 700: ``x**(y - 2)`` at
    x = 1e-100, y = 1e-3 would be off by ~200 ulps where the truth's condition
    number is 2.  The rounding error ``lo`` of ``y - i`` is exact (TwoSum) and
    its factor ``x**lo = exp(lo log|x|)`` is put back.

    Where ``x**(y - i)`` over- or underflows but the product with the polynomial
    factor need not (x = 3e-200, y = 4e-200: ``x**(y - 2)`` is 1e399 while
    ``P_20`` is -4.4e199), the caller multiplies the factors returned here one
    at a time: ``(factor, k)`` with ``x**(y - i) = factor**k``, ``k`` a power of 2
    (so ``(y - i) / k`` is exact) and each factor far from overflow.
    """
    e = y - i
    bv = e - y  # TwoSum(y, -i): e + lo == y - i exactly
    av = e - bv
    lo = (y - av) + (-i - bv)
    with _fpe_ignored():
        base = np.where(skip, np.ones((), x.dtype), x)
        p = np.power(base, e)
        if lazy or np.any(lo != 0):
            lx = np.log(np.abs(base))
            p = p * np.exp(np.where(np.isfinite(lx), lo * lx, 0.0))
        else:
            lx = None
        if lazy:  # dask: the over/underflow rescue below sizes itself from the data
            return p, None, None
        fin = np.finfo(p.dtype)
        bad = (np.isinf(p) | (np.abs(p) < fin.tiny)) & ~skip & (x != 0) & np.isfinite(x)
        if not np.any(bad):
            return p, None, None
        if lx is None:
            lx = np.log(np.abs(base))
        # beyond |log x**(y - i)| = 3 log(max) no normal polynomial factor brings
        # the product back into range: leave those inf / 0
        bad &= np.abs(e * lx) < 3 * np.log(fin.max)
        if not np.any(bad):
            return p, None, None
        ax = np.abs(np.where(bad, x, np.ones((), x.dtype)))
        eb = np.where(bad, e, np.zeros((), e.dtype))
        mag = np.max(np.abs(eb * np.log(ax)))
        k = 2
        while mag / k > 0.25 * np.log(fin.max):  # each factor at most ~1e77
            k *= 2
        factor = np.power(ax, eb / k)
        if np.any(lo != 0):
            factor = factor * np.exp(np.where(bad, lo * lx, 0.0) / k)
        # a negative x (integer y: x**(y - i) is nan otherwise) has sign (-1)**(y - i)
        odd = bad & (x < 0) & (np.remainder(np.where(bad, y, 0.0) - i, 2.0) == 1)
        return p, bad, (factor, k, odd)


def pow_partial_value(i: int, j: int, x, y, tangent=None):
    """``P_ij(x, y)`` for plain floats or float arrays (numpy broadcasting); with
    ``tangent``, the product ``P_ij(x, y) tangent`` formed in range (the power's
    factors meet it one at a time: ``x**(y - i)`` alone may underflow where the product does
    not, as d2/dv2 (v**2)**(1/3) at v = 1.7e120 through forward-over-reverse).

    Examples
    --------
    >>> pow_partial_value(1, 0, 2.0, 3.0)  # 3 * 2**2
    12.0
    >>> pow_partial_value(1, 1, 0.0, 1.0)  # the convention at x = 0
    1.0
    """
    scalar = type(x) is float and type(y) is float and (
        tangent is None or type(tangent) is float)
    lazy = False
    if not scalar and (_is_foreign(x) or _is_foreign(y)):
        # dask, CuPy: kept in their library (np.asarray would compute a dask array),
        # and no np.any on the data below
        lazy = True
        dts = [np.dtype(v.dtype) for v in (x, y) if hasattr(v, "dtype")]
    else:
        # Python floats are weak (NEP 50): a float32 operand keeps float32
        dts = [v.dtype for v in (x, y) if isinstance(v, (np.ndarray, np.generic))]
    dt = np.result_type(*dts) if dts else np.dtype(np.float64)
    if dt.kind != "f":
        dt = np.dtype(np.float64)
    x = _as_dtype(x, dt)
    y = _as_dtype(y, dt)
    q = polynomials(i, j)
    zero = x == 0
    if len(q) > 1:
        # log only when a y-derivative asks for it: (-2)**y has d/dx but no real log
        lx = np.log(np.where(zero, np.ones((), x.dtype), x))
        s = _poly_value(q[-1], y)
        for k in range(len(q) - 2, -1, -1):
            s = s * lx + _poly_value(q[k], y)
    elif i > 0:
        # the falling factorial y (y - 1) ... (y - i + 1) as a product: each factor
        # is exact near its root, where the expanded polynomial cancels
        s = y
        for t in range(1, i):
            s = s * (y - t)
    else:
        s = _poly_value(q[0], y)
    s = _as_dtype(s, dt)
    exact_zero = s == 0
    # 0**(y - i) may be inf where the polynomial factor is 0: the term is 0 there
    # (x**0, x**1 are polynomials)
    p, bad, rescue = _power_shifted(x, y, i, exact_zero & zero, lazy)
    if tangent is not None:
        s = s * tangent
    out = p * s
    if bad is not None:
        factor, k, odd = rescue
        r = np.where(bad, s, np.zeros((), s.dtype))
        with _fpe_ignored():
            # all factors lie on one side of 1: the partial products move
            # monotonically from s to the result, in range when both ends are
            for _ in range(k):
                r = r * factor
        out = np.where(bad, np.where(odd, -r, r), out)
    if lazy or np.any(exact_zero):
        out = np.where(exact_zero, np.zeros((), out.dtype), out)
    if scalar or out.ndim == 0:
        return float(out) if scalar else out[()]
    return out


def _as_dtype(v, dt):
    if _is_foreign(v):
        return v if v.dtype == dt else v.astype(dt)
    return np.asarray(v, dtype=dt)


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

    def scaled(x, y, key, t1, t2=None, cache=None):
        # a constant exponent (scaled_when): the partials in x times the tangents
        if key == (1, 0):
            return pow_partial_value(i + 1, j, x, y, t1)
        if key == (2, 0):
            return pow_partial_value(i + 2, j, x, y, t1) * t2
        return None

    def scaled_when(x, y, vx, vy):
        # beyond the band where the plain partials stay within ~1e+-100
        return (not vy and (type(y) is float or type(y) is np.float64)
                and not in_band(x, y - i, 2))

    name = f"pow_partial_{i}_{j}"
    rule = Binary(name, functools.partial(pow_partial_value, i, j), None, partials,
                  "a partial derivative of x**y (see hyperdual._powrule)", scaled=scaled,
                  scaled_when=scaled_when)
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


# --- a constant exponent: c_k x**(c - k) t1 .. tk without leaving the float range ---
def _frexp_product(factors, shift=0):
    """prod(factors) * 2**shift through mantissas and exponents (np.frexp /
    np.ldexp): no intermediate under- or overflows where the result is an ordinary
    float (one rounding per factor, one more where the result is subnormal)."""
    m, e = 1.0, shift
    for f in factors:
        fm, fe = np.frexp(f)
        m, e = m * fm, e + fe
    return np.ldexp(m, e)


def _frexp_power(m, n: float):
    """``m**n`` as ``(mantissa, exponent)`` (``mantissa * 2**exponent``) for the
    mantissas ``m`` of np.frexp (abs(m) in [0.5, 1), or 0, inf, nan) and an
    integer-valued float ``n``, with no under- or overflow: ``abs(m)**(n / q)``
    with q a power of two (``n / q`` is exact) keeps within 2**+-1000, and q
    squarings, each renormalised by np.frexp, raise it to ``n`` (q ulps at most;
    the power's condition number is abs(n) >= 500 q)."""
    q = 1
    while abs(n) / q > 1000.0:
        q *= 2
    a = np.abs(m)
    f = np.power(a, n / q)
    fm, fe = np.frexp(f)
    fe = np.asarray(fe, dtype=np.int64)
    while q > 1:
        fm, e2 = np.frexp(fm * fm)
        fe = 2 * fe + e2
        q //= 2
    if n % 2 == 1:
        fm = np.where(m < 0, -fm, fm)
    return fm, fe


def in_band(x, c: float, k: int = 2) -> bool:
    """Whether every nonzero abs(x) lies where x**(c - j), j = 0 .. k, stays within
    about 1e+-100 (then the plain partials times ordinary tangents stay in range,
    as the unary rules' ``safe`` ranges).  Costs a min and a max of abs(x)."""
    e = 100.0 / max(max(abs(c - j) for j in range(k + 1)), 1.0)
    lo, hi = 10.0 ** -e, 10.0 ** e
    if type(x) is float or type(x) is np.float64:
        a = abs(x)
        return a == 0.0 or lo <= a <= hi
    if type(x) is not np.ndarray or x.size == 0:
        return True
    with np.errstate(invalid="ignore"):
        a = np.abs(x)
        small, big = float(a.min()), float(a.max())
        if small == 0.0:
            nz = a[a != 0]
            if not nz.size:
                return True
            small = float(nz.min())
    return lo <= small and big <= hi


def _finite(p) -> bool:
    if type(p) is float or type(p) is np.float64:
        return p - p == 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        s = np.add.reduce(p, axis=None)
    return s - s == 0.0


def pow_term(c: float, k: int, x, ts, d):
    """``c (c - 1) .. (c - k + 1) x**(c - k) t1 .. tk`` for a plain constant ``c``
    and plain data (floats or arrays): the k-th derivative of ``x**c`` times k
    tangents (forward mode) or a cotangent and k - 1 tangents (reverse mode).

    ``d`` is that derivative as the plain partials give it (their conventions at
    x = 0 and for non-finite x, and their precision for inexact exponents).  Where
    every x lies in the band of :func:`in_band` and the plain product
    ``d t1 t2 ..`` is finite, that product.  Otherwise one product of mantissas and
    exponents: with ``c = n0 + f0`` (n0 = trunc(c), so f0 is exact and
    ``x**f0`` an ordinary float) and ``x = m 2**e``,
    ``x**(c - k) = x**f0 m**(n0 - k) 2**(e (n0 - k))``, so no power of x has to be an
    ordinary float alone (d2/dxdy (x y)**-0.5 at (1.7e-200, 3) is 2.2e298 while
    (x y)**-2.5 overflows; (1e100 v)**3 at v = 1.7e-300 has derivative 8.7e-300
    while u**2 underflows).

    Examples
    --------
    x**-0.5 at x = 2**-660: x**-2.5 = 2**1650 overflows, its product with a tangent
    2**-700 is 0.75 * 2**950 (the plain partial, inf, is not used):

    >>> pow_term(-0.5, 2, 2.0 ** -660, (2.0 ** -700, 1.0), float("inf")) == 0.75 * 2.0 ** 950
    True
    """
    with np.errstate(all="ignore"):
        # (an overflow here is no overflow of the result: out of the band, the
        # product below decides, which the second-order watch sees)
        p = d
        for t in ts:
            p = p * t
        if in_band(x, c, k) and _finite(p):
            return p
    with _fpe_ignored():
        coef = 1.0
        for i in range(k):
            coef *= c - i
        n0 = float(math.trunc(c))
        f0 = c - n0
        m, ex = np.frexp(x)
        # m**(n0 - k) itself as a mantissa and an exponent: 0.5**1099 underflows
        # (d/dx x**1100 at 2 was 0, truth inf; d/dx x**-1100 at 2 was -inf, truth -0)
        pm, pe = _frexp_power(m, n0 - k)
        factors = (coef, pm) + ((np.power(x, f0),) if f0 else ()) + tuple(ts)
        out = _frexp_product(factors, ex * int(n0 - k) + pe)
        edge = (x == 0) | ~np.isfinite(x)
        if np.any(edge):
            out = np.where(edge, p, out)
        # (frexp of the Python-float coefficient is an np.float64, which is not weak:
        # float32 data keeps the plain product's dtype)
        pdt = getattr(p, "dtype", None)
        if pdt is not None and pdt.kind == "f" and getattr(out, "dtype", pdt) != pdt:
            out = np.asarray(out).astype(pdt)
    if type(x) is float and all(type(t) is float for t in ts):
        return float(out)
    return out
