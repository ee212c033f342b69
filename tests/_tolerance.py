"""Tolerances for comparing two floating-point evaluations of the same quantity.

Two correct implementations of one function (``math.sinh`` and numpy's SIMD
``np.sinh``, scipy 1.11's ``erf`` and ``math.erf``, a scalar fast path and an
array path) may differ by a few units in the last place (ulps), and a
computation with cancelling terms amplifies that by its condition number.  A
flat relative tolerance of 1e-15 therefore fails on some CPUs (AVX-512) and not on others.
The tolerance here is always ``ulps * cond * spacing(|expected|)``: a few ulps
of the expected value times the condition number of the computation.

``shadow_condition`` estimates that condition number for a computation that
can be run in float32 as well (the same algorithm in a precision with 2**29
times larger rounding errors shows how much the rounding is amplified).
"""

from __future__ import annotations

import numpy as np

EPS = float(np.finfo(np.float64).eps)
EPS32 = float(np.finfo(np.float32).eps)


def ulp_tolerance(expected, ulps: float = 4.0, cond=1.0):
    """``ulps * cond * spacing(|expected|)`` elementwise (never below the
    smallest subnormal, so an exact 0 still allows the smallest difference)."""
    expected = np.abs(np.asarray(expected, dtype=np.float64))
    return ulps * np.maximum(np.asarray(cond, dtype=np.float64), 1.0) * np.spacing(expected)


def ulps_error(actual, expected):
    """The error of ``actual`` in ulps of ``expected`` (0 where both agree exactly,
    including matching infinities and NaNs)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        same = (actual == expected) | (np.isnan(actual) & np.isnan(expected))
        err = np.abs(actual - expected) / np.spacing(np.abs(expected))
    return np.where(same, 0.0, np.where(np.isnan(err), np.inf, err))


def assert_close_ulps(actual, expected, ulps: float = 4.0, cond=1.0, err_msg: str = ""):
    """Assert ``|actual - expected| <= ulps * cond * spacing(|expected|)`` elementwise.

    NaNs must match NaNs and infinities must match exactly.  ``cond`` (scalar
    or array, clipped below at 1) is the condition number of the computation
    that produced the two values from correctly rounded ingredients.
    """
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    actual, expected = np.broadcast_arrays(actual, expected)
    err = ulps_error(actual, expected)
    allowed = ulps * np.maximum(np.asarray(cond, dtype=np.float64), 1.0)
    bad = ~(err <= allowed)
    if np.any(bad):
        i = np.flatnonzero(bad.ravel())[0]
        a, e = actual.ravel()[i], expected.ravel()[i]
        c = np.broadcast_to(np.asarray(cond, dtype=np.float64), actual.shape).ravel()[i]
        raise AssertionError(
            f"{err_msg}{': ' if err_msg else ''}{int(bad.sum())} of {bad.size} values "
            f"differ by more than {ulps} ulps x condition number; first: actual "
            f"{a!r}, expected {e!r}, error {err.ravel()[i]:.3g} ulps, cond {c:.3g}"
        )


def shadow_condition(value64, value32):
    """Estimate the condition number of a computation from its float32 shadow.

    ``value32`` is the same computation carried out in float32 (same
    algorithm, rounding errors ``EPS32 / EPS = 2**29`` times larger).  The
    relative difference to the float64 result, in float32 ulps, is how much
    the computation amplifies its rounding errors (and the rounding of its
    input).  The estimate saturates at about ``1 / EPS32`` where float32
    loses every digit; where float32 overflows or gives NaN it is taken as
    saturated (``1 / EPS32``).
    """
    v64 = np.asarray(value64, dtype=np.float64)
    v32 = np.asarray(value32, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        rel = np.abs(v32 - v64) / (EPS32 * np.abs(v64))
    rel = np.where(v32 == v64, 1.0, rel)
    return np.where(np.isfinite(rel), np.maximum(rel, 1.0), 1.0 / EPS32)


class _Noisy(np.ndarray):
    """An array whose every ufunc result is perturbed by a random relative
    amount of up to ``_Noisy.ulps`` ulps (Monte Carlo arithmetic)."""

    ulps = 4.0
    rng = np.random.default_rng(0)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        plain = [i.view(np.ndarray) if isinstance(i, _Noisy) else i for i in inputs]
        given = kwargs.get("out")
        if given is not None and all(o is None for o in given):
            given = None
        if given is not None:  # out=: plain views (a _Noisy there recursed), noise in place
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, _Noisy) else o
                                  for o in given)
        out = getattr(ufunc, method)(*plain, **kwargs)
        if given is not None:
            if method == "__call__" and len(given) == 1 and given[0].dtype.kind == "f":
                target = given[0].view(np.ndarray)
                noise = _Noisy.rng.uniform(-1.0, 1.0, target.shape) * (_Noisy.ulps * EPS)
                with np.errstate(all="ignore"):
                    target += target * noise
            return given[0] if len(given) == 1 else given
        if method != "__call__" or not isinstance(out, (np.ndarray, np.floating)):
            return out
        out = np.asarray(out)
        if out.dtype.kind != "f":
            return out
        noise = _Noisy.rng.uniform(-1.0, 1.0, out.shape) * (_Noisy.ulps * EPS)
        with np.errstate(all="ignore"):
            return (out + out * noise).view(_Noisy)


def relative_to_largest(expected):
    """``max|expected| / |expected|`` elementwise (at least 1): the condition of entries
    of a vector whose errors are of the size of its largest entry (a gradient or
    Hessian computed by sums of terms of that size, by two different formulas)."""
    e = np.abs(np.asarray(expected, dtype=np.float64))
    top = np.max(e[np.isfinite(e)], initial=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(e > 0, np.maximum(top / e, 1.0), 1.0)


def noisy_condition(fn, *arrays, runs: int = 4, seed: int = 0):
    """Estimate the condition number of ``fn(*arrays)`` by Monte Carlo arithmetic.

    ``fn`` is run ``runs`` times on copies of ``arrays`` whose every numpy ufunc
    result (arithmetic, ``np.sin``, scipy.special, ...) is perturbed by a random
    relative amount of up to 4 ulps.  The largest deviation from the clean
    result, in units of 4 ulps of it, is how much the computation amplifies
    rounding errors: its condition number (at least 1).  ``fn`` returns one
    array or a sequence of arrays; the estimate has the same structure.
    """
    clean = fn(*arrays)
    single = not isinstance(clean, (list, tuple))
    clean = [np.asarray(c, dtype=np.float64) for c in ([clean] if single else clean)]
    conds = [np.ones(c.shape) for c in clean]
    _Noisy.rng = np.random.default_rng(seed)
    for _ in range(runs):
        out = fn(*[np.array(a, dtype=np.float64).view(_Noisy) for a in arrays])
        out = [out] if single else out
        for k, (o, c) in enumerate(zip(out, clean)):
            o = np.asarray(np.asarray(o).view(np.ndarray) if isinstance(o, _Noisy) else o,
                           dtype=np.float64)
            with np.errstate(all="ignore"):
                dev = np.abs(o - c) / (_Noisy.ulps * np.spacing(np.abs(c)))
            dev = np.where(o == c, 1.0, dev)
            conds[k] = np.maximum(conds[k], np.where(np.isnan(dev), 1.0, dev))
    return conds[0] if single else conds
