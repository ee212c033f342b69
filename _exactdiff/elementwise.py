"""Elementwise functions built from other rules: ``fmax``, ``fmin``,
``nan_to_num``, ``modf``, ``frexp``, ``ldexp``, ``nextafter``, ``spacing``, ``angle``,
``scipy.special.gammasgn`` of real input and ``scipy.special.huber``, and the partials
of ``pseudo_huber``.

Written with numpy calls on whatever they are given, so both engines share one
definition (registered by :mod:`hyperdual.rules.elementwise` and
:mod:`reverse.rules.elementwise`) and every order follows from the primitives.

Conventions
-----------
* ``fmax``/``fmin`` are ``maximum``/``minimum`` where neither operand is NaN
  (so ties follow their convention), and the other operand where one is NaN.
* ``nan_to_num`` passes finite entries through (derivative 1) and replaces the
  others by constants (derivative 0).
* ``modf``'s integral part and ``frexp``'s exponent are piecewise constant (plain
  arrays); the fractional part has derivative 1, the mantissa ``2**-exponent``,
  ``ldexp(x, n)`` ``2**n`` (``n`` a constant integer).
* ``nextafter(x1, x2)`` is ``x1`` plus a piecewise constant step (derivative 1 in
  ``x1``, 0 in ``x2``); ``spacing`` is piecewise constant (a plain array).
* ``angle`` of a real number (0 or pi) and ``gammasgn`` (the sign of Gamma) are
  piecewise constant: their results are plain arrays (derivative 0), like
  the results of ``sign``-like value functions.
* ``huber(delta, r)`` takes its inner branch ``r**2 / 2`` at ``abs(r) == delta``
  (scipy's definition; the first derivatives of the two branches agree there);
  ``huber`` and ``pseudo_huber`` are the constant inf for ``delta < 0`` (scipy's
  value) and ``pseudo_huber`` the constant 0 at ``delta == 0`` (its partials
  here are the rules' of both engines; its value is scipy's).

Examples
--------
>>> import numpy as np
>>> fmax(np.array([1.0, np.nan]), np.array([2.0, 3.0]))
array([2., 3.])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special as sp

from . import fprange
from ._common import fpe_ignored, is_traced, value
from .arrays import is_foreign_array, may_hold, plain_array


def fmax(a: Any, b: Any) -> Any:
    """``np.fmax``: ``maximum`` that ignores a NaN operand."""
    va, vb = plain_array(value(a)), plain_array(value(b))
    return np.where(np.isnan(vb), a, np.where(np.isnan(va), b, np.maximum(a, b)))


def fmin(a: Any, b: Any) -> Any:
    """``np.fmin``: ``minimum`` that ignores a NaN operand."""
    va, vb = plain_array(value(a)), plain_array(value(b))
    return np.where(np.isnan(vb), a, np.where(np.isnan(va), b, np.minimum(a, b)))


def nan_to_num(x: Any, copy: bool = True, nan: float = 0.0, posinf: Any = None,
               neginf: Any = None) -> Any:
    """``np.nan_to_num``: finite entries pass through, the others become constants."""
    v = plain_array(value(x))
    if is_foreign_array(v) and v.dtype.kind == "f":
        # (dask's nan_to_num takes no nan=/posinf=/neginf=): numpy's fill values
        fi = np.finfo(v.dtype)
        pos, neg = fi.max if posinf is None else posinf, fi.min if neginf is None else neginf
        fill = np.where(np.isnan(v), nan, np.where(v > 0, pos, neg)).astype(v.dtype)
    else:
        fill = np.nan_to_num(v, nan=nan, posinf=posinf, neginf=neginf)
    return np.where(np.isfinite(v), x, fill)


def modf(x: Any) -> tuple[Any, Any]:
    """``np.modf``: (fractional part, integral part).  The integral part is piecewise
    constant (a plain array: derivative 0), the fractional part ``x`` minus it
    (derivative 1); at +-inf numpy's (+-0, +-inf), constants."""
    v = plain_array(value(x))
    frac, whole = np.modf(v)
    inf = np.isinf(v)
    if may_hold(inf):
        return np.where(inf, frac, x - np.where(inf, 0.0, whole)), whole
    return x - whole, whole


def _times_power_of_two(x: Any, n: Any, dt: Any) -> Any:
    """``x * 2**n`` for integer ``n`` as three factors, each a float of ``dt`` (2**n
    alone leaves the range for ``|n| > 1023`` where the product need not: 5e-324 *
    2**2000 is 2**926)."""
    # beyond +-2200 every finite x gives 0 or inf, as the factors (at most 2**734) do
    n = np.clip(n, -2200, 2200)
    a = n // 3
    b = (n - a) // 2
    one = np.ones((), dtype=dt)
    return ((x * np.ldexp(one, a)) * np.ldexp(one, b)) * np.ldexp(one, n - a - b)


def frexp(x: Any) -> tuple[Any, Any]:
    """``np.frexp``: (mantissa, exponent) with ``x = mantissa * 2**exponent``.  The
    exponent is piecewise constant (a plain integer array); the mantissa is
    ``x * 2**-exponent``, derivative ``2**-exponent`` (both factors are exact powers of
    two, so its value is numpy's)."""
    v = plain_array(value(x))
    mant, expo = np.frexp(v)
    return _times_power_of_two(x, -expo, mant.dtype), expo


def ldexp(x: Any, n: Any) -> Any:
    """``np.ldexp``: ``x * 2**n`` for a constant integer ``n`` (derivative ``2**n``; an
    exponent with a derivative has none: ``TypeError``).  The value is numpy's (a
    subnormal result rounded once, by a constant correction)."""
    if is_traced(n):
        raise TypeError("numpy.ldexp: the exponent n must be a constant integer array, "
                        "not a differentiated value (hyperdual and reverse)")
    n = np.asarray(n)
    if n.dtype.kind == "f":  # (reverse hands constants over as floats: integral ones pass)
        if not np.all(np.isfinite(n) & (n == np.trunc(n))):
            raise TypeError("numpy.ldexp: the exponent n must be an integer")
        n = n.astype(np.int64)
    v = plain_array(value(x))
    exact = np.ldexp(v, n)  # numpy's checks of n (an integer dtype) and its value
    out = _times_power_of_two(x, n, exact.dtype)
    with fpe_ignored():
        off = exact - plain_array(value(out))
    fix = np.isfinite(off) & (off != 0)
    if may_hold(fix):  # two roundings into the subnormals: numpy's one rounding
        out = out + np.where(fix, off, 0.0).astype(exact.dtype)
    return out


def _float64_if_widened(v: Any) -> Any:
    """In a helper's long double redo (:func:`fprange.widened`) the values stand for
    float64 ones: the ulp functions then take numpy's float64 ulps, not long double's."""
    if (fprange.WIDE is not None and getattr(v, "dtype", None) == fprange.WIDE
            and fprange.widening()):
        return v.astype(np.float64)
    return v


def nextafter(x1: Any, x2: Any) -> Any:
    """``np.nextafter``: ``x1`` plus a step of one ulp towards ``x2``, piecewise constant
    (derivative 1 in ``x1``, 0 in ``x2``, as ``floor``'s is 0 between its jumps); the
    step ``nextafter(x1, x2) - x1`` is exact, so the value is numpy's.  Where ``x1`` or
    the result is not finite, numpy's value, a constant."""
    v1, v2 = plain_array(value(x1)), plain_array(value(x2))
    out = np.nextafter(_float64_if_widened(v1), _float64_if_widened(v2))
    if not is_traced(x1):
        return out
    with fpe_ignored():
        step = out - v1
    finite = np.isfinite(step)
    return np.where(finite, x1 + np.where(finite, step, 0.0), out)


def spacing(x: Any) -> Any:
    """``np.spacing``: the ulp of ``x``, piecewise constant (a plain array)."""
    return np.spacing(_float64_if_widened(plain_array(value(x))))


def angle(z: Any, deg: bool = False) -> Any:
    """``np.angle`` of real input: 0 or pi (180), a constant."""
    return np.angle(plain_array(value(z)), deg=deg)


def gammasgn(x: Any) -> Any:
    """``scipy.special.gammasgn``: the sign of Gamma, a constant."""
    return sp.gammasgn(plain_array(value(x)))


def huber(delta: Any, r: Any) -> Any:
    """``scipy.special.huber``: ``r**2 / 2`` where ``abs(r) <= delta``, else
    ``delta * (abs(r) - delta / 2)``; inf where ``delta < 0``."""
    vd, vr = plain_array(value(delta)), plain_array(value(r))
    with fpe_ignored():  # (the branch not taken may overflow)
        inner = np.abs(vr) <= vd
        out = np.where(inner, 0.5 * r * r, delta * (np.abs(r) - 0.5 * delta))
    neg = vd < 0
    return np.where(neg, np.inf, out) if may_hold(neg) else out



def pseudo_huber_parts(delta: Any, r: Any) -> tuple[Any, ...]:
    """(bad, near, safe delta, u, w, t) for the partials of ``pseudo_huber(delta, r)``:
    with ``q = r / delta`` and ``s = hypot(1, q)``, ``u = q / s``, ``w = 1 / s`` and
    ``t = q / (1 + s)``, each at most 1 in size.  Where ``abs(r) <= delta`` (near)
    they are formed from q; beyond, from ``p = delta / r`` (``u = sign(r) / h``,
    ``w = abs(p) / h``, ``t = sign(r) / (abs(p) + h)`` with ``h = hypot(1, p)``), so
    neither q nor p overflows (delta = 1e-200, r = 1e250) and their derivatives do
    not cancel (``delta / hypot(delta, r)`` differentiated in delta cancelled to 0
    at (1e-200, 1e-250); ``delta**2 (s - 1)`` cancels for small q and, as a
    composition, divides by ``delta**3``).  ``bad``: the entries with
    ``delta <= 0``, where pseudo_huber is a constant (inf, or 0 at ``delta == 0``);
    the formulas run on delta = 1 there and the callers put 0."""
    vd = plain_array(value(delta))
    bad = vd <= 0
    if may_hold(bad):
        delta = np.where(bad, 1.0, delta)
        vd = np.where(bad, 1.0, vd)
    vr = plain_array(value(r))
    near = np.abs(vr) <= vd
    if not may_hold(~near):
        return (bad, near, delta) + _ph_near(delta, r)
    if not may_hold(near):
        return (bad, near, delta) + _ph_far(delta, r, vr)
    # both kinds: each formula on safe values where the other is taken
    a = _ph_near(delta, np.where(near, r, 0.0))
    b = _ph_far(np.where(near, 0.0, delta), np.where(near, 1.0, r), np.where(near, 1.0, vr))
    return (bad, near, delta) + tuple(np.where(near, x, y) for x, y in zip(a, b))


def _ph_near(delta: Any, r: Any) -> tuple[Any, Any, Any]:
    q = r / delta
    s = np.hypot(1.0, q)
    return q / s, 1.0 / s, q / (1.0 + s)


def _ph_far(delta: Any, r: Any, vr: Any) -> tuple[Any, Any, Any]:
    p = delta / r
    h = np.hypot(1.0, p)
    sg = np.sign(vr)  # (a constant: r's sign does not move)
    ap = p * sg
    return sg / h, ap / h, sg / (ap + h)


def pseudo_huber_first(delta: Any, r: Any) -> tuple[Any, Any]:
    """(d/d delta, d/dr) of ``pseudo_huber``: ``delta q**4 / (s (1 + s)**2)``
    written ``r u t**2``, and ``r / s`` as ``r w`` (near) or ``delta u`` (see
    :func:`pseudo_huber_parts`)."""
    bad, near, delta, u, w, t = pseudo_huber_parts(delta, r)
    dd = r * u * (t * t)
    dr = r * w if not may_hold(~near) else delta * u if not may_hold(near) else \
        np.where(near, r * w, delta * u)
    if may_hold(bad):
        dd, dr = np.where(bad, 0.0, dd), np.where(bad, 0.0, dr)
    return dd, dr


def pseudo_huber_second(delta: Any, r: Any) -> tuple[Any, Any, Any]:
    """(d2/d delta2, d2/d delta dr, d2/dr2) of ``pseudo_huber``:
    ``-q**4 (2 s + 1) / (s**3 (1 + s)**2)`` as ``-u**2 t**2 (2 + 1/s)``,
    ``(q / s)**3`` and ``(1 / s)**3``."""
    bad, near, delta, u, w, t = pseudo_huber_parts(delta, r)
    out = (-((u * u) * (t * t)) * (2.0 + w), u * u * u, w * w * w)
    if may_hold(bad):
        out = tuple(np.where(bad, 0.0, v) for v in out)
    return out
