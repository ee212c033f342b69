"""Elementwise functions built from other rules: ``fmax``, ``fmin``,
``nan_to_num``, ``angle`` and ``scipy.special.gammasgn`` of real input.

Written with numpy calls on whatever they are given, so both engines share one
definition (registered by :mod:`hyperdual.rules.elementwise` and
:mod:`reverse.rules.elementwise`) and every order follows from the primitives.

Conventions
-----------
* ``fmax``/``fmin`` are ``maximum``/``minimum`` where neither operand is NaN
  (so ties follow their convention), and the other operand where one is NaN.
* ``nan_to_num`` passes finite entries through (derivative 1) and replaces the
  others by constants (derivative 0).
* ``angle`` of a real number (0 or pi) and ``gammasgn`` (the sign of Gamma) are
  piecewise constant: their results are plain arrays (derivative 0), like
  the results of ``sign``-like value functions.

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

from ._common import value


def fmax(a: Any, b: Any) -> Any:
    """``np.fmax``: ``maximum`` that ignores a NaN operand."""
    va, vb = np.asarray(value(a)), np.asarray(value(b))
    return np.where(np.isnan(vb), a, np.where(np.isnan(va), b, np.maximum(a, b)))


def fmin(a: Any, b: Any) -> Any:
    """``np.fmin``: ``minimum`` that ignores a NaN operand."""
    va, vb = np.asarray(value(a)), np.asarray(value(b))
    return np.where(np.isnan(vb), a, np.where(np.isnan(va), b, np.minimum(a, b)))


def nan_to_num(x: Any, copy: bool = True, nan: float = 0.0, posinf: Any = None,
               neginf: Any = None) -> Any:
    """``np.nan_to_num``: finite entries pass through, the others become constants."""
    v = np.asarray(value(x))
    fill = np.nan_to_num(v, nan=nan, posinf=posinf, neginf=neginf)
    return np.where(np.isfinite(v), x, fill)


def angle(z: Any, deg: bool = False) -> Any:
    """``np.angle`` of real input: 0 or pi (180), a constant."""
    return np.angle(np.asarray(value(z)), deg=deg)


def gammasgn(x: Any) -> Any:
    """``scipy.special.gammasgn``: the sign of Gamma, a constant."""
    return sp.gammasgn(np.asarray(value(x)))
