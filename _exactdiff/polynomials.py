"""numpy's polynomial helpers of coefficient arrays (highest power first) for both
engines: ``np.polyadd``, ``np.polysub``, ``np.polymul``, ``np.polydiv``, ``np.polyder``,
``np.polyint`` and ``np.polyfit`` (``np.polyval`` is in :mod:`_exactdiff.shape`).

Written with numpy calls on whatever they are given (arrays, Duals, HyperDuals,
Taylor numbers, reverse Variables), so derivatives of every order and nesting follow
from the primitives.  ``polyfit`` is numpy's least squares with scaled Vandermonde
columns through the engines' ``np.linalg.lstsq``: differentiable in ``y``, ``x`` and
``w``; ``full=True`` and ``cov=True`` (numpy's diagnostics) raise ``TypeError``.

Examples
--------
>>> import numpy as np
>>> polymul(np.array([1.0, 1.0]), np.array([1.0, -1.0]))
array([ 1.,  0., -1.])
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ._common import float_dtype, is_traced, plain, shape_of, unsupported, value

__all__ = ["POLYNOMIALS"]


def _coefficients(p: Any, name: str) -> Any:
    if not is_traced(p):
        p = np.atleast_1d(np.asarray(p))
        if p.dtype.kind != "f":  # (float32 coefficients stay float32, as numpy's)
            p = p.astype(float)
    s = shape_of(p)
    if len(s) == 0:
        p = np.reshape(p, (1,))
    elif len(s) > 1:
        raise ValueError(f"numpy.{name}: the coefficients must be one-dimensional")
    return p


def _pad_front(p: Any, n: int) -> Any:
    m = shape_of(p)[0]
    return p if m == n else np.concatenate([np.zeros(n - m, dtype=float_dtype(p)), p])


def polyadd(a1: Any, a2: Any) -> Any:
    """``np.polyadd``: the sum of two coefficient arrays (the shorter padded in front)."""
    a, b = _coefficients(a1, "polyadd"), _coefficients(a2, "polyadd")
    n = max(shape_of(a)[0], shape_of(b)[0])
    return _pad_front(a, n) + _pad_front(b, n)


def polysub(a1: Any, a2: Any) -> Any:
    """``np.polysub``: the difference of two coefficient arrays."""
    a, b = _coefficients(a1, "polysub"), _coefficients(a2, "polysub")
    n = max(shape_of(a)[0], shape_of(b)[0])
    return _pad_front(a, n) - _pad_front(b, n)


def _trim(p: Any) -> Any:
    """Leading zero coefficients dropped (numpy's poly1d; all zeros keep the last)."""
    nz = np.flatnonzero(np.asarray(value(p)))
    start = int(nz[0]) if nz.size else shape_of(p)[0] - 1
    return p[start:] if start else p


def polymul(a1: Any, a2: Any) -> Any:
    """``np.polymul``: the product, the full convolution of the coefficients (leading
    zeros of each factor dropped first, as numpy does)."""
    return np.convolve(_trim(_coefficients(a1, "polymul")),
                       _trim(_coefficients(a2, "polymul")))


def polyder(p: Any, m: int = 1) -> Any:
    """``np.polyder``: the m-th derivative's coefficients."""
    m = operator.index(plain(m, "polyder", "m"))
    if m < 0:
        raise ValueError("Order of derivative must be positive (see polyint)")
    p = _coefficients(p, "polyder")
    for _ in range(m):
        n = max(shape_of(p)[0] - 1, 0)
        p = p[:-1] * np.arange(n, 0, -1, dtype=float)  # (a constant: empty, as numpy's)
    return p


def polyint(p: Any, m: int = 1, k: Any = None) -> Any:
    """``np.polyint``: the m-th antiderivative's coefficients; the integration
    constants ``k`` (scalar or m values, first integration first) may be
    differentiated too."""
    m = operator.index(plain(m, "polyint", "m"))
    if m < 0:
        raise ValueError("Order of integral must be positive (see polyder)")
    if k is None:
        ks: list = [0.0] * m
    elif not isinstance(k, (list, tuple)) and len(shape_of(k)) == 0:
        ks = [k] * m
    else:
        # (a list may hold differentiated values: its length, not np.shape, which
        # converts it; one value serves every integration, as numpy's)
        nk = len(k) if isinstance(k, (list, tuple)) else shape_of(k)[0]
        if nk == 1 and m > 1:
            ks = [k[0]] * m
        elif nk < m:
            raise ValueError("k must be a scalar or a rank-1 array of length 1 or >m.")
        else:
            ks = [k[i] for i in range(m)]
    p = _coefficients(p, "polyint")
    for i in range(m):
        n = shape_of(p)[0]
        const = np.reshape(ks[i], (1,)) if is_traced(ks[i]) else np.array([float(ks[i])])
        p = np.concatenate([p / np.arange(n, 0, -1, dtype=float), const])
    return p


def polyfit(x: Any, y: Any, deg: int, rcond: Any = None, full: bool = False, w: Any = None,
            cov: Any = False) -> Any:
    """``np.polyfit``: least-squares coefficients (highest power first) by numpy's
    method, through the engines' ``lstsq``."""
    if full or cov:
        raise unsupported("numpy.polyfit(full=True / cov=True) is not supported for "
                          "derivatives (numpy's fit diagnostics); use the coefficients",
                          x, y)
    deg = operator.index(plain(deg, "polyfit", "deg"))
    if deg < 0:
        raise ValueError("expected deg >= 0")
    sx, sy = shape_of(x), shape_of(y)
    if len(sx) != 1:
        raise TypeError("expected 1D vector for x")
    if sx[0] == 0:
        raise TypeError("expected non-empty vector for x")
    if len(sy) < 1 or len(sy) > 2:
        raise TypeError("expected 1D or 2D array for y")
    if sx[0] != sy[0]:
        raise TypeError("expected x and y to have same length")
    if rcond is None:
        rcond = sx[0] * np.finfo(float).eps
    if not is_traced(x):
        x = np.asarray(x, dtype=float)
    if not is_traced(y):
        y = np.asarray(y, dtype=float)
    lhs = np.vander(x, deg + 1)
    rhs = y
    if w is not None:
        if len(shape_of(w)) != 1 or shape_of(w)[0] != sx[0]:
            raise TypeError("expected a 1-d w of the length of x")
        lhs = lhs * np.reshape(w, (-1, 1))
        rhs = rhs * (np.reshape(w, (-1, 1)) if len(sy) == 2 else w)
    # numpy scales the columns to unit norm before the solve (its conditioning)
    scale = np.sqrt(np.sum(lhs * lhs, axis=0))
    c = np.linalg.lstsq(lhs / scale, rhs, rcond=rcond)[0]
    return (c.T / scale).T


def poly(seq_of_zeros: Any) -> Any:
    """``np.poly``: the monic polynomial with the given (real) roots, a product of
    factors (x - r) as numpy forms it; a square matrix gives its characteristic
    polynomial through its eigenvalues (real ones: the engines' eig rules)."""
    shape = shape_of(seq_of_zeros)
    z = seq_of_zeros if is_traced(seq_of_zeros) else np.asarray(seq_of_zeros, dtype=float)
    if len(shape) == 2 and shape[0] == shape[1] and shape[0] != 0:
        z = np.linalg.eigvals(z)
    elif len(shape) == 0:
        z = np.reshape(z, (1,))
    elif len(shape) != 1:
        raise ValueError("input must be 1d or non-empty square 2d array.")
    a: Any = np.ones((1,), dtype=float_dtype(z))
    for k in range(shape_of(z)[0]):
        a = np.convolve(a, np.concatenate([np.ones((1,), dtype=float_dtype(z)), -z[k:k + 1]]))
    return a


def polydiv(u: Any, v: Any) -> tuple[Any, Any]:
    """``np.polydiv``: quotient and remainder by numpy's long division, step for step
    (so the values are numpy's); the remainder's leading coefficients numpy drops
    (``allclose(r[0], 0)``) are dropped here too, decided on the values.

    >>> q, r = polydiv(np.array([1.0, 0.0, -1.0]), np.array([1.0, 1.0]))
    >>> q, r
    (array([ 1., -1.]), array([0.]))
    """
    if isinstance(u, np.poly1d) or isinstance(v, np.poly1d):
        raise unsupported("numpy.polydiv of numpy.poly1d objects is not supported for "
                          "derivatives; pass the coefficient arrays", u, v)
    a, b = _coefficients(u, "polydiv"), _coefficients(v, "polydiv")
    r_plain = np.polydiv(np.asarray(value(a), dtype=float), np.asarray(value(b), dtype=float))[1]
    m, n = shape_of(a)[0] - 1, shape_of(b)[0] - 1
    scale = 1.0 / b[0]
    r = a + 0.0 * scale  # (the common type of both: a plain u over a differentiated v)
    dt = float_dtype(r)  # (float32 coefficients stay float32, as numpy's)
    steps = []
    for k in range(m - n + 1):
        d = scale * r[k]
        steps.append(d)
        # numpy's r[k:k + n + 1] -= d * v as a whole-array update (x - 0 is exact)
        r = r - np.concatenate([np.zeros(k, dtype=dt), d * b, np.zeros(m - n - k, dtype=dt)])
    q = np.stack(steps) if steps else np.zeros(1, dtype=dt) + 0.0 * scale
    return q, r[m + 1 - r_plain.shape[0]:]


POLYNOMIALS = {np.poly: poly, np.polyadd: polyadd, np.polysub: polysub, np.polymul: polymul,
               np.polydiv: polydiv, np.polyder: polyder, np.polyint: polyint,
               np.polyfit: polyfit}
