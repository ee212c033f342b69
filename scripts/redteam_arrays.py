# ruff: noqa: E501  (the case table keeps one case per line)
"""Red-team the array functions people write (not the elementwise rule table that
``scripts/fuzz_derivatives.py`` covers) under every helper of both engines.

Usage::

    PYTHONPATH=$PWD python scripts/redteam_arrays.py [--seed 1818] [--points 2]
        [-k NAME] [--paths SUBSTR] [-v]

Each case is a scalar function ``f(x)`` of a small vector written in plain numpy
(var/std with ddof/axis/keepdims, einsum with traces and ellipsis, sort/argsort/
partition/median/percentile/quantile, cumsum/cumprod through zeros, diff, interp,
polyval, small-matrix linalg, joins, pads, rolls, where/select/piecewise, fancy
indexing, ``np.add.at``, reductions with ``where=``/``initial=``, matmul
broadcasting ...), composed with a smooth elementwise function so that second
and third derivatives are not trivially zero.

Truth: the same ``f`` evaluated on numpy object arrays of mpmath numbers at 50
digits (numpy's own algorithms then run in mpmath arithmetic), or an mpmath
formula where numpy has no object loop (linalg, interp), differentiated by
``mpmath.diff`` (which raises its working precision for the step).

Paths: first order (gradient, value_and_gradient, jvp, vjp of both engines),
second order (hessian, hvp in every mode, the four nestings jacobian(gradient)),
third order along a direction (Taylor ``directional_derivatives`` of both
engines, backprop ``derivatives``, the four nestings derivative(second_derivative)).

A result is *wrong* when a finite entry differs from the truth by more than
``64 eps * 16 * max|truth|`` (norm-wise: the array functions' own condition is
that of the whole array), *crash* when a path raises, *nan* when it returns a
non-finite value where the truth is finite.  The summary prints counts per
function x path; ``-v`` prints each failure.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections import defaultdict

import mpmath as mp
import numpy as np

import hyperdual as hd
import reverse as rv

EPS = float(np.finfo(np.float64).eps)


def _ew(name, mpname=None):
    """An elementwise function that runs numpy's ufunc on engine numbers and
    mpmath's function on object arrays / mpf scalars (the truth)."""
    npf = getattr(np, name)
    mpfun = getattr(mp, mpname or name)
    vec = np.frompyfunc(mpfun, 1, 1)

    def f(a):
        if isinstance(a, np.ndarray) and a.dtype == object:
            return vec(a)
        if isinstance(a, mp.mpf):
            return mpfun(a)
        return npf(a)
    return f


sin, cos, exp, log, tanh, sqrt = (_ew(n) for n in ("sin", "cos", "exp", "log", "tanh", "sqrt"))


def _is_mp(x):
    return isinstance(x, np.ndarray) and x.dtype == object


def _mpmat(a):
    return mp.matrix([[a[i, j] for j in range(a.shape[1])] for i in range(a.shape[0])])


# ---------------------------------------------------------------- mpmath linalg
def _det(a):
    return mp.det(_mpmat(a)) if _is_mp(a) else np.linalg.det(a)


def _inv(a):
    if _is_mp(a):
        m = mp.inverse(_mpmat(a))
        return np.array([[m[i, j] for j in range(m.cols)] for i in range(m.rows)], dtype=object)
    return np.linalg.inv(a)


def _solve(a, b):
    return _inv(a) @ b if _is_mp(a) else np.linalg.solve(a, b)


def _eigvalsh(a):
    if _is_mp(a):
        e, _ = mp.eigsy(_mpmat(a))
        return np.array(sorted(e[i] for i in range(e.rows)), dtype=object)
    return np.linalg.eigvalsh(a)


def _svdvals(a):
    if _is_mp(a):
        s = mp.svd_r(_mpmat(a), compute_uv=False)
        return np.array(sorted((s[i] for i in range(s.rows)), reverse=True), dtype=object)
    return np.linalg.svd(a, compute_uv=False)


def _slogdet(a):
    if _is_mp(a):
        return mp.log(abs(mp.det(_mpmat(a))))
    return np.linalg.slogdet(a)[1]


def _interp(t, xp, fp):
    if _is_mp(fp) or _is_mp(t):
        out = []
        for ti in np.atleast_1d(t):
            k = max(i for i in range(len(xp) - 1) if xp[i] <= ti) if ti >= xp[0] else 0
            k = min(k, len(xp) - 2)
            w = (ti - xp[k]) / (xp[k + 1] - xp[k])
            out.append(fp[k] + w * (fp[k + 1] - fp[k]))
        return np.array(out, dtype=object)
    return np.interp(t, xp, fp)


def _cholesky_sum(a):
    if _is_mp(a):
        L = mp.cholesky(_mpmat(a))
        return sum(L[i, j] * (i + 2 * j + 1) for i in range(L.rows) for j in range(L.cols))
    L = np.linalg.cholesky(a)
    w = np.arange(a.shape[0])[:, None] + 2 * np.arange(a.shape[1])[None, :] + 1
    return np.sum(L * w)


def _spd(x):
    m = x[:9].reshape(3, 3)
    return m @ m.T + 3 * np.eye(3)


W6 = np.array([0.7, -1.3, 0.4, 2.1, -0.6, 1.1])
XP = np.array([-2.0, -0.5, 0.3, 1.0, 2.5])


def _mask():
    return np.array([True, False, True, True, False, True])


def _add_at(x):
    # the way people write it: a zeros_like buffer of x's kind, updated in place
    z = np.array([mp.mpf(0)] * 4, dtype=object) if _is_mp(x) else np.zeros_like(x[:4])
    idx = np.array([0, 2, 0, 3, 2, 0])
    np.add.at(z, idx, sin(x))
    return np.sum(z * z * np.arange(1, 5))


def _pad_reflect(x):
    return np.sum(np.pad(sin(x), 2, mode="reflect") ** 2 * np.arange(10))


def _select(x):
    s = sin(x)
    return np.sum(np.select([x < -0.5, x < 0.5], [s ** 2, s * x], default=exp(x * 0.3)) * W6)


def _piecewise(x):
    if _is_mp(x):
        out = np.array([a ** 3 if a < 0 else mp.sin(a) for a in x], dtype=object)
    else:
        out = np.piecewise(x, [x < 0, x >= 0], [lambda a: a ** 3, lambda a: np.sin(a)])
    return np.sum(out * W6)


# name -> (f, n, kind of point)
CASES = {
    "var_ddof1": (lambda x: np.var(sin(x), ddof=1), 6, "plain"),
    "std_axis1_ddof1": (lambda x: np.sum(np.std(exp(x.reshape(2, 3) * 0.5), axis=1, ddof=1) * [1.0, 2.0]), 6, "plain"),
    "std_keepdims": (lambda x: np.sum(np.std(x.reshape(3, 2), axis=0, keepdims=True) * x.reshape(3, 2)), 6, "plain"),
    "mean_where": (lambda x: (np.mean(sin(x), where=_mask()) if not _is_mp(x) else np.mean(sin(x[_mask()]))) ** 2, 6, "plain"),
    "sum_where_initial": (lambda x: np.sum(x * x, where=_mask(), initial=0.5) ** 1.5, 6, "plain"),
    "prod_where": (lambda x: np.prod(sin(x), where=_mask()) if not _is_mp(x) else np.prod(sin(x[_mask()])), 6, "plain"),
    "max_initial": (lambda x: np.max(x ** 2, initial=-1.0) * np.min(x, initial=5.0), 6, "plain"),
    "maximum_reduce": (lambda x: np.maximum.reduce(sin(x)) + np.minimum.reduce(x ** 3), 6, "plain"),
    "einsum_trace": (lambda x: np.einsum("ii", x[:9].reshape(3, 3) @ x[:9].reshape(3, 3)), 9, "plain"),
    "einsum_chain": (lambda x: np.einsum("ij,jk,ki->", *(x[:9].reshape(3, 3),) * 3), 9, "plain"),
    "einsum_ellipsis": (lambda x: np.sum(sin(np.einsum("...i,...i->...", x.reshape(2, 3), x.reshape(2, 3)))), 6, "plain"),
    "einsum_diag": (lambda x: np.sum(np.einsum("ii->i", x[:9].reshape(3, 3)) ** 3), 9, "plain"),
    "einsum_outer_sum": (lambda x: np.einsum("i,j,ij->", x[:3], sin(x[3:6]), x[:9].reshape(3, 3)), 9, "plain"),
    "sort_weighted": (lambda x: np.sum(W6 * np.sort(sin(x))), 6, "plain"),
    "argsort_take": (lambda x: np.sum(W6 * np.take_along_axis(x ** 3, np.argsort(x), axis=0)), 6, "plain"),
    "partition": (lambda x: np.sum(np.partition(x ** 2, 2)[:3] * [1.0, 2.0, 3.0]), 6, "plain"),
    "median_even": (lambda x: np.median(sin(x)) ** 2, 6, "plain"),
    "median_axis": (lambda x: np.sum(np.median(x.reshape(2, 3) ** 3, axis=1) * [1.0, -2.0]), 6, "plain"),
    "percentile30": (lambda x: np.percentile(x ** 3, 30) * x[0], 6, "plain"),
    "quantile_axis": (lambda x: np.sum(np.quantile(exp(x.reshape(3, 2)), 0.7, axis=0) * [1.0, 3.0]), 6, "plain"),
    "cumsum": (lambda x: np.sum(sin(np.cumsum(x)) * W6), 6, "plain"),
    "cumprod": (lambda x: np.sum(np.cumprod(x) * W6), 6, "plain"),
    "cumprod_zero": (lambda x: np.sum(np.cumprod(x) * W6), 6, "zero"),
    "cumprod_two_zeros": (lambda x: np.sum(np.cumprod(x) * W6), 6, "zeros"),
    "prod_zero": (lambda x: np.prod(x) * x[1], 6, "zero"),
    "prod_two_zeros": (lambda x: np.prod(x) + np.prod(x[:3]), 6, "zeros"),
    "diff2": (lambda x: np.sum(np.diff(sin(x), n=2) ** 2), 6, "plain"),
    "interp_fp": (lambda x: np.sum(_interp(np.array([-1.0, 0.1, 0.7, 2.0]), XP, sin(x[:5])) ** 2), 6, "plain"),
    "interp_x": (lambda x: np.sum(_interp(x * 0.5, XP, np.array([0.3, -1.0, 2.0, 0.5, 1.5]))), 6, "plain"),
    "polyval": (lambda x: np.sum(np.polyval(x[:3], x[3:]) ** 2), 6, "plain"),
    "det": (lambda x: _det(x[:9].reshape(3, 3)) ** 2, 9, "plain"),
    "det_homogeneous": (lambda x: _det(x[:9].reshape(3, 3)), 9, "plain"),  # for --scale 1e-150
    "inv_sum": (lambda x: np.sum(_inv(x[:9].reshape(3, 3) + 2 * np.eye(3)) * np.arange(9.0).reshape(3, 3)), 9, "plain"),
    "solve": (lambda x: np.sum(_solve(x[:9].reshape(3, 3) + 2 * np.eye(3), np.array([1.0, -2.0, 0.5])) ** 2), 9, "plain"),
    "slogdet": (lambda x: _slogdet(x[:9].reshape(3, 3) + 2 * np.eye(3)), 9, "plain"),
    "eigvalsh": (lambda x: np.sum(_eigvalsh(_spd(x)) * [1.0, 2.0, 3.0]), 9, "plain"),
    "svdvals": (lambda x: np.sum(_svdvals(x[:6].reshape(2, 3)) * [1.0, 2.0]), 6, "plain"),
    "cholesky": (lambda x: _cholesky_sum(_spd(x)), 9, "plain"),
    "concatenate": (lambda x: np.sum(sin(np.concatenate([x[:2], x[3:] ** 2, x[:1]])) * W6), 6, "plain"),
    "stack": (lambda x: np.sum(np.stack([x, sin(x)], axis=1) ** 2 * np.array([[1.0], [2.0], [3.0], [4.0], [5.0], [6.0]])), 6, "plain"),
    "pad_modes": (lambda x: np.sum(np.pad(sin(x), (2, 1), mode="edge") ** 2 * np.arange(9)) + np.sum(np.pad(x, 1) ** 3), 6, "plain"),
    "pad_reflect": (_pad_reflect, 6, "plain"),
    "roll": (lambda x: np.sum(np.roll(sin(x), 2) * x * W6), 6, "plain"),
    "tile_repeat": (lambda x: np.sum(np.tile(x[:3], 2) * np.repeat(sin(x[3:]), 2) * W6), 6, "plain"),
    "where": (lambda x: np.sum(np.where(x > 0, x ** 2, sin(x)) * W6), 6, "plain"),
    "select": (_select, 6, "plain"),
    "piecewise": (_piecewise, 6, "plain"),
    "fancy_repeat_idx": (lambda x: np.sum(x[[0, 0, 2, 5, 2]] ** 3 * [1.0, 2.0, 3.0, 4.0, 5.0]), 6, "plain"),
    "bool_mask_idx": (lambda x: np.sum(sin(x[x > 0.0]) ** 2), 6, "plain"),
    "add_at": (_add_at, 6, "plain"),
    "matmul_broadcast": (lambda x: np.sum(sin(x.reshape(2, 3)[:, None, :] @ x.reshape(2, 3, 1))), 6, "plain"),
    "dot_scalar": (lambda x: np.sum(np.dot(x[0], x) ** 2) + np.dot(x, x[1]).sum(), 6, "plain"),
    "outer_trace": (lambda x: np.trace(np.outer(x, sin(x)) @ np.outer(x, x)), 6, "plain"),
    "cross": (lambda x: np.sum(np.cross(x[:3], sin(x[3:])) ** 2), 6, "plain"),
    "tensordot": (lambda x: np.sum(np.tensordot(x.reshape(2, 3), sin(x.reshape(2, 3)), axes=([0], [0])) ** 2), 6, "plain"),
    "kron": (lambda x: np.sum(np.kron(x[:2], sin(x[2:5])) ** 2 * np.arange(6)), 6, "plain"),
    "cov": (lambda x: np.sum((np.cov(x.reshape(2, 3)) if not _is_mp(x) else (lambda d: d @ d.T / 2)(x.reshape(2, 3) - np.mean(x.reshape(2, 3), axis=1, keepdims=True))) * np.array([[1.0, 2.0], [3.0, 4.0]])), 6, "plain"),
    "average_weights": (lambda x: np.average(x[:3], weights=exp(x[3:])), 6, "plain"),
    "trapezoid": (lambda x: (np.trapezoid if hasattr(np, "trapezoid") else np.trapz)(sin(x), x), 6, "plain"),
    "clip_array": (lambda x: np.sum(np.clip(x, -0.5, 0.8) ** 2 * W6), 6, "plain"),
    "linalg_norm_ord1": (lambda x: np.linalg.norm(x.reshape(2, 3) if not _is_mp(x) else x.reshape(2, 3), 1) if not _is_mp(x) else max(sum(abs(c) for c in col) for col in x.reshape(2, 3).T), 6, "plain"),
    "norm_fro": (lambda x: np.linalg.norm(x.reshape(2, 3)) ** 3 if not _is_mp(x) else mp.sqrt(sum(a * a for a in x)) ** 3, 6, "plain"),
    "matrix_power": (lambda x: np.sum(np.linalg.matrix_power(x[:9].reshape(3, 3), 3) * np.arange(9).reshape(3, 3)) if not _is_mp(x) else np.sum((lambda m: m @ m @ m)(x[:9].reshape(3, 3)) * np.arange(9).reshape(3, 3)), 9, "plain"),
    "logaddexp_reduce": (lambda x: np.logaddexp.reduce(x) if not _is_mp(x) else mp.log(sum(mp.exp(a) for a in x)), 6, "plain"),
    "hypot_reduce": (lambda x: np.hypot.reduce(x) if not _is_mp(x) else mp.sqrt(sum(a * a for a in x)), 6, "plain"),
    "multiply_accumulate": (lambda x: np.sum(np.multiply.accumulate(x) * W6), 6, "zero"),
    "maximum_accumulate": (lambda x: np.sum(np.maximum.accumulate(x ** 3) * W6), 6, "plain"),
    "ptp": (lambda x: np.ptp(sin(x)) ** 2, 6, "plain"),
    "nanmean": (lambda x: np.nanmean(x ** 2) ** 2, 6, "plain"),
    "nansum": (lambda x: np.nansum(sin(x)) ** 3, 6, "plain"),
    "sum_axis_tuple": (lambda x: np.sum(np.sum(sin(x.reshape(1, 2, 3)), axis=(0, 2)) ** 2), 6, "plain"),
    "prod_axis": (lambda x: np.sum(np.prod(x.reshape(2, 3), axis=1) ** 2), 6, "plain"),
    "mean_keepdims": (lambda x: np.sum((x.reshape(2, 3) - np.mean(x.reshape(2, 3), axis=1, keepdims=True)) ** 3), 6, "plain"),
    "flip_triu": (lambda x: np.sum(np.triu(np.flip(x[:9].reshape(3, 3), 0)) ** 3), 9, "plain"),
    "diag_vector": (lambda x: np.sum(np.diag(x[:3]) @ x[:9].reshape(3, 3) ** 2), 9, "plain"),
    "swap_moveaxis": (lambda x: np.sum(np.moveaxis(x.reshape(1, 2, 3), 2, 0)[1] ** 3 * [1.0, 2.0]), 6, "plain"),
}


def _point(rng, n, kind):
    x = rng.uniform(-1.5, 1.5, n)
    # keep entries apart so selections have no ties within the difference step
    while np.min(np.diff(np.sort(np.abs(x)))) < 0.05 or np.min(np.abs(x)) < 0.05:
        x = rng.uniform(-1.5, 1.5, n)
    if kind == "zero":
        x[2] = 0.0
    elif kind == "zeros":
        x[1] = 0.0
        x[4] = 0.0
    return x


def _mp_f(f, x):
    def g(*args):
        val = f(np.array([mp.mpf(a) for a in args], dtype=object))
        return mp.mpf(val) if not isinstance(val, np.ndarray) else mp.mpf(val.item())
    return g


def truth(f, x, v, scale=1.0):
    """Value, gradient, Hessian and d^k/dt^k f(x + t v), k <= 3, at 50 digits.
    x and v are ``scale`` times y and w: mpmath differentiates g(y) = f(scale y)
    (its step is absolute) and the chain rule divides by powers of ``scale``."""
    # mpmath.diff's step is absolute: at x ~ 1e-100 the Hessian terms lie 1e-200
    # below the value, so the working precision grows with the scale's exponent
    mp.mp.dps = 50 + 3 * int(abs(np.log10(scale)))
    sc = mp.mpf(scale)
    f0 = _mp_f(f, x)
    g = lambda *ys: f0(*[sc * a for a in ys])  # noqa: E731
    xs = [mp.mpf(float(a)) / sc for a in x]
    v = [mp.mpf(float(b)) / sc for b in v]
    n = len(xs)
    val = g(*xs)
    grad = []
    hess = [[None] * n for _ in range(n)]
    for i in range(n):
        o = [0] * n
        o[i] = 1
        grad.append(mp.diff(g, xs, tuple(o)))
        for j in range(i, n):
            o2 = [0] * n
            o2[i] += 1
            o2[j] += 1
            hess[i][j] = hess[j][i] = mp.diff(g, xs, tuple(o2))
    line = lambda t: g(*[a + t * b for a, b in zip(xs, v)])  # noqa: E731
    d3 = mp.diff(line, 0, 3)
    return (float(val), np.array([float(a / sc) for a in grad]),
            np.array([[float(a / sc**2) for a in r] for r in hess]), float(d3))


def paths(f, x, v):
    """name -> (callable returning an array, which truth it compares with)."""
    line = lambda t: f(x + t * v)  # noqa: E731
    ps = {
        "hd.gradient": (lambda: hd.gradient(f, x), "grad"),
        "rv.gradient": (lambda: rv.gradient(f, x), "grad"),
        "hd.value_and_gradient": (lambda: hd.value_and_gradient(f, x)[1], "grad"),
        "rv.value_and_gradient": (lambda: rv.value_and_gradient(f, x)[1], "grad"),
        "hd.jvp": (lambda: hd.jvp(f, x, v)[1], "dir1"),
        "rv.jvp": (lambda: rv.jvp(f, x, v)[1], "dir1"),
        "hd.vjp": (lambda: hd.vjp(f, x, 1.0)[1], "grad"),
        "rv.vjp": (lambda: rv.vjp(f, x, 1.0)[1], "grad"),
        "hd.hessian": (lambda: hd.hessian(f, x), "hess"),
        "rv.hessian": (lambda: rv.hessian(f, x), "hess"),
        "hd.hvp": (lambda: hd.hvp(f, x, v), "hvp"),
        "rv.hvp(f-o-r)": (lambda: rv.hvp(f, x, v), "hvp"),
        "rv.hvp(r-o-r)": (lambda: rv.hvp(f, x, v, mode="reverse-over-reverse"), "hvp"),
        "hd.jac(hd.grad)": (lambda: hd.jacobian(lambda y: hd.gradient(f, y), x), "hess"),
        "hd.jac(rv.grad)": (lambda: hd.jacobian(lambda y: rv.gradient(f, y), x), "hess"),
        "rv.jac(hd.grad)": (lambda: rv.jacobian(lambda y: hd.gradient(f, y), x), "hess"),
        "rv.jac(rv.grad)": (lambda: rv.jacobian(lambda y: rv.gradient(f, y), x), "hess"),
        "hd.dirderivs": (lambda: hd.directional_derivatives(f, x, v, 3), "dirs"),
        "rv.dirderivs": (lambda: rv.directional_derivatives(f, x, v, 3), "dirs"),
        "rv.derivs(backprop)": (lambda: rv.derivatives(line, 0.0, 3, method="backprop"), "dirs"),
        "hd.d(hd.d2)": (lambda: hd.derivative(lambda s: hd.second_derivative(lambda t: line(s + t), 0.0), 0.0), "dir3"),
        "hd.d(rv.d2)": (lambda: hd.derivative(lambda s: rv.second_derivative(lambda t: line(s + t), 0.0), 0.0), "dir3"),
        "rv.d(hd.d2)": (lambda: rv.derivative(lambda s: hd.second_derivative(lambda t: line(s + t), 0.0), 0.0), "dir3"),
        "rv.d(rv.d2)": (lambda: rv.derivative(lambda s: rv.second_derivative(lambda t: line(s + t), 0.0), 0.0), "dir3"),
    }
    return ps


def expected(kind, tr, v):
    val, grad, hess, d3 = tr
    return {"grad": grad, "dir1": grad @ v, "hess": hess, "hvp": hess @ v,
            "dirs": np.array([val, grad @ v, v @ hess @ v, d3]), "dir3": d3}[kind]


def _floor(kind, tr):
    """1e-3 of the size of the truth's own order (a gradient is not judged on the
    Hessian's scale: at det of 1e-150 entries it is 1e-300 beside 1e-150)."""
    val, grad, hess, d3 = tr
    size = {"grad": np.max(np.abs(grad)), "dir1": np.max(np.abs(grad)),
            "hess": np.max(np.abs(hess)), "hvp": np.max(np.abs(hess)),
            "dirs": max(abs(val), np.max(np.abs(grad)), np.max(np.abs(hess)), abs(d3)),
            "dir3": max(abs(d3), np.max(np.abs(hess)))}[kind]
    # mpmath.diff's own error (~1e-45 of the function's lower orders at 50 digits)
    # is the truth's resolution: a piecewise-linear f's Hessian comes out 1e-63, not 0
    resolution = 1e-40 * max(abs(val), np.max(np.abs(grad)))
    return max(1e-3 * size, resolution)


def judge(got, want, floor):
    """``floor``: the size of the value, gradient and Hessian, below which a
    difference is rounding of terms of that size (a truth of 0 from cancelling terms)."""
    got = np.asarray(got, dtype=np.float64)
    if got.shape != np.shape(want):
        return "wrong", f"shape {got.shape} != {np.shape(want)}"
    if not np.all(np.isfinite(got)):
        return "nan", f"non-finite {got}"
    scale = np.max(np.abs(want)) if np.size(want) else 0.0
    err = np.max(np.abs(got - want)) if np.size(want) else 0.0
    if err > 64 * 16 * EPS * max(scale, floor, 1e-300):
        return "wrong", f"max err {err:.3g} (scale {scale:.3g})\n got {got}\n want {want}"
    return "ok", ""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1818)
    ap.add_argument("--points", type=int, default=1, help="random points per case")
    ap.add_argument("-k", default="", help="only cases whose name contains this")
    ap.add_argument("--paths", default="", help="only paths whose name contains this")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="points and directions times this (e.g. 1e-150, 1e150)")
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    counts = defaultdict(lambda: defaultdict(int))
    for name, (f, n, kind) in CASES.items():
        pts = [(_point(rng, n, kind) * args.scale, rng.normal(size=n) * args.scale)
               for _ in range(args.points)]
        if args.k and args.k not in name:
            continue
        for x, v in pts:
            try:
                tr = truth(f, x, v, args.scale)
            except Exception as e:  # the harness, not the library
                print(f"[truth failed] {name}: {e!r}")
                continue
            for pname, (call, kind_) in paths(f, x, v).items():
                if args.paths and args.paths not in pname:
                    continue
                try:
                    with np.errstate(all="ignore"):
                        got = call()
                    floor = _floor(kind_, tr)
                    status, msg = judge(got, expected(kind_, tr, v), floor)
                except Exception as e:
                    # a clear refusal (the engines' TypeError naming what is not supported)
                    refused = ((isinstance(e, TypeError) and "not supported" in str(e))
                               or type(e).__name__ == "DegenerateDerivativeError")
                    status, msg = ("refused" if refused else "crash"), f"{type(e).__name__}: {e}"
                    if args.v:
                        msg += "\n" + "".join(traceback.format_exc(limit=-3))
                counts[name][status] += 1
                if status != "ok":
                    counts[name][pname + ":" + status] += 1
                    if args.v:
                        print(f"[{status}] {name} {pname} x={x.tolist()}\n  {msg}")
    total = defaultdict(int)
    for name, c in counts.items():
        bad = {k: c[k] for k in c if ":" in k}
        for s in ("ok", "wrong", "nan", "crash", "refused"):
            total[s] += c[s]
        if bad:
            print(f"{name}: " + ", ".join(f"{k}={n}" for k, n in sorted(bad.items())))
    print("TOTAL " + " ".join(f"{s}={total[s]}" for s in ("ok", "wrong", "nan", "crash", "refused")))
    return 1 if total["wrong"] + total["nan"] + total["crash"] else 0


if __name__ == "__main__":
    sys.exit(main())
