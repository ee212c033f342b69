"""Every way the project has to differentiate a function, and how to compare them.

A *path* computes one *quantity* of a catalog entry at a point:

``value``  f(x) (plain numpy vs the value returned by ``value_and_gradient``)
``grad``   gradient (``f'`` for scalars), shape ``x.shape``
``hess``   Hessian (``f''`` for scalars), shape ``x.shape + x.shape``
``hvp``    Hessian-vector product ``H v``, shape ``x.shape``
``jac``    Jacobian of a vector-valued function, ``f(x).shape + x.shape``
``jvp``    ``J v`` (``jvp``/``linearize``), shape ``f(x).shape``
``vjp``    ``uᵀ J`` for the fixed cotangent :func:`cotangent`, shape ``x.shape``

Exact paths (closed forms, both engines, scipy's Rosenbrock derivatives) must
agree to ``EXACT_RTOL`` in the norm documented in :func:`compare`.  Central
differences are approximate; their tolerance is derived from the step in
:func:`fd_tolerance`.

A path that needs a ``reverse`` helper which does not exist yet (or raises
``NotImplementedError``) raises :class:`PathUnavailable`; the tests turn that
into an ``xfail`` carrying the reason, never a silent skip.

Examples
--------
>>> import numpy as np
>>> from catalog import by_name
>>> e = by_name("booth")
>>> x = np.array([0.5, -1.0])
>>> compare("booth", x, "closed", e.grad(x), "hyperdual.gradient", gradient_path(e, x))
>>> compare("booth", x, "closed", e.grad(x), "bad", e.grad(x) + 1e-3)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
AssertionError: booth: paths 'closed' and 'bad' disagree at x = [ 0.5 -1. ]: ...
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.optimize

import hyperdual

EPS = float(np.finfo(float).eps)
#: Exact paths: max|a - b| <= EXACT_RTOL * max(1, max|reference|).
EXACT_RTOL = 1e-10


class PathUnavailable(Exception):
    """A path cannot run yet (a ``reverse`` helper is missing or not implemented)."""


# ---------------------------------------------------------------------------
# reverse access: missing helpers become PathUnavailable, never a silent skip
# ---------------------------------------------------------------------------


def reverse_helper(name: str) -> Callable:
    """``reverse.<name>``, or :class:`PathUnavailable` saying why it cannot be used."""
    try:
        reverse = importlib.import_module("reverse")
    except Exception as exc:  # a half-written package must not break the hyperdual paths
        raise PathUnavailable(f"reverse cannot be imported: {exc!r}") from exc
    fn = getattr(reverse, name, None)
    if fn is None:
        if getattr(reverse, "__file__", None) is None:
            raise PathUnavailable(
                f"'reverse' was imported as a namespace package from {list(reverse.__path__)} "
                "(no reverse/__init__.py, or a stale editable install made before it "
                "existed: re-run 'pip install -e .')")
        raise PathUnavailable(f"reverse has no public '{name}' yet")
    return fn


def call_reverse(name: str, *args, **kwargs):
    """Call ``reverse.<name>(*args, **kwargs)``; ``NotImplementedError`` -> PathUnavailable."""
    fn = reverse_helper(name)
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as exc:
        extra = f" (mode={kwargs['mode']!r})" if "mode" in kwargs else ""
        raise PathUnavailable(f"reverse.{name}{extra} raised NotImplementedError: {exc}") from exc


def reverse_scipy_derivatives(f: Callable) -> dict:
    """``reverse.scipy_adapter.scipy_derivatives(f)`` (the module exists before it is exported)."""
    try:
        mod = importlib.import_module("reverse.scipy_adapter")
    except Exception as exc:
        raise PathUnavailable(f"reverse.scipy_adapter cannot be imported: {exc!r}") from exc
    d = mod.scipy_derivatives(f)

    def guarded(fn):
        def call(*args):
            try:
                return fn(*args)
            except (NotImplementedError, ImportError, AttributeError) as exc:
                raise PathUnavailable(f"reverse.scipy_derivatives: {exc!r}") from exc
        return call

    return {k: guarded(fn) for k, fn in d.items()}


# ---------------------------------------------------------------------------
# Central differences and their tolerances
# ---------------------------------------------------------------------------
#
# Derivation.  For a step h the central difference
#     D_h = (f(x + h) - f(x - h)) / (2 h)
# satisfies, by Taylor's theorem with f three times differentiable,
#     D_h - f'(x) = h^2 / 6 * f'''(xi)                       (truncation)
# and, if each evaluation of f carries an absolute rounding error of at most
# delta ~ eps * F (F = size of f and of its intermediate terms),
#     |rounding error of D_h| <= 2 delta / (2 h) = eps * F / h.
# The sum h^2 M3 / 6 + eps F / h is minimal for h ~ (3 eps F / M3)^(1/3), so we
# take h = eps^(1/3) * max(1, |x_i|) (relative to the scale of x) and bound the
# error by
#     tol = C (h^2 * S + eps * F / h),   C = 1e2,
# where S = fd_scale * max(1, |f|, |f'|, ...) stands in for the unknown third
# derivative / 6 (an entry whose higher derivatives are much larger than its
# lower ones raises ``fd_scale``), and C = 1e2 absorbs the constants, the
# rounding of cancelling intermediate terms and x +- h not being exact.  The
# step actually taken is (x + h) - (x - h), so representation error in x + h
# does not enter.  With h ~ 6e-6 this gives tolerances ~ 1e-8 relative, far
# looser than the exact paths' 1e-10 yet tight enough that a wrong derivative
# (any O(1) mistake) fails.  Hessians use the same formula applied to central
# differences of an *exact* gradient (F = |g|, S from |g|, |H|).

FD_C = 1e2


def fd_step(x) -> np.ndarray:
    """Per-component step ``eps**(1/3) * max(1, |x_i|)``."""
    return EPS ** (1 / 3) * np.maximum(1.0, np.abs(np.asarray(x, float)))


def fd_tolerance(h, F: float, S: float) -> np.ndarray:
    """Absolute tolerance ``C (h^2 S + eps F / h)`` (see the derivation above)."""
    h = np.asarray(h, float)
    return FD_C * (h * h * S + EPS * F / h)


def central_jacobian(fun: Callable, x, widen: float = 1.0):
    """Central differences of ``fun`` along each coordinate.

    Returns ``(derivative, steps)`` with derivative of shape
    ``fun(x).shape + x.shape`` and the per-coordinate steps actually used
    (:func:`fd_step` times ``widen``).
    """
    x = np.asarray(x, float)
    flat = x.ravel()
    hs = fd_step(flat) * widen
    cols, used = [], []
    for i in range(flat.size):
        xp, xm = flat.copy(), flat.copy()
        xp[i] += hs[i]
        xm[i] -= hs[i]
        step = xp[i] - xm[i]
        used.append(step / 2)
        yp = np.asarray(fun(xp.reshape(x.shape)), float)
        ym = np.asarray(fun(xm.reshape(x.shape)), float)
        cols.append((yp - ym) / step)
    d = np.stack(cols, axis=-1) if cols else np.zeros(np.shape(fun(x)) + (0,))
    return d.reshape(d.shape[:-1] + x.shape), np.array(used).reshape(x.shape)


def truncation_estimate(fun: Callable, x, d) -> np.ndarray:
    """The truncation error of ``d = central_jacobian(fun, x)[0]`` measured, not
    modelled: with the step doubled the error term h**2 D3/6 grows fourfold, so
    ``|D(2h) - D(h)| / 3`` estimates it (Richardson).  :func:`fd_atol` models the
    third derivative by the scale of the reference; where it is far larger (a
    quartic-like function near its flat point: d4f = 3.4e3 beside f'' = 2.9 for
    log1p(log1p(c x)**2)**2 at x = 0.035) the model is short by that factor."""
    wide, _ = central_jacobian(fun, x, widen=2.0)
    return np.abs(wide - d) / 3.0


def central_directional(fun: Callable, x, v):
    """Central difference of ``fun`` along ``v``: ``(fun(x + h v) - fun(x - h v)) / 2h``."""
    x, v = np.asarray(x, float), np.asarray(v, float)
    vmax = float(np.max(np.abs(v))) if v.size else 0.0
    if vmax == 0.0:
        return np.zeros_like(np.asarray(fun(x), float)), 0.0
    h = EPS ** (1 / 3) * max(1.0, float(np.max(np.abs(x)))) / vmax
    yp = np.asarray(fun(x + h * v), float)
    ym = np.asarray(fun(x - h * v), float)
    return (yp - ym) / (2 * h), h * vmax


# ---------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Path:
    """One way of computing a quantity.

    ``run(entry, x, v)`` returns the quantity; ``applies(entry)`` says whether
    the path exists for that entry; ``exact`` paths are held to ``EXACT_RTOL``.
    """

    name: str
    quantity: str
    run: Callable
    applies: Callable = lambda e: True
    exact: bool = True


def _is(kind):
    return lambda e: e.kind == kind


def _scalar_fn(e):
    return e.kind in ("scalar", "R^n->R")


def _vec_only(e):
    """scipy adapters: 1-d x only (scipy flattens x0)."""
    return e.kind == "R^n->R" and "matrix" not in e.tags


def _hdot(H, v):
    """H contracted with v over all of v's axes (H has shape x.shape + x.shape)."""
    return np.tensordot(H, v, axes=np.ndim(v))


def exact_gradient(e) -> Callable:
    """An exact gradient for central differences of gradients: closed form, else hyperdual."""
    if e.grad is not None:
        return e.grad
    return lambda x: hyperdual.gradient(e.f, x)


def gradient_path(e, x):
    """hyperdual.gradient (used in the module doctest)."""
    return hyperdual.gradient(e.f, x)


def _fd_grad(e, x, v):
    d, _ = central_jacobian(e.f, x)
    return d


def _fd_hess(e, x, v):
    d, _ = central_jacobian(exact_gradient(e), x)
    return d


def _fd_hvp(e, x, v):
    d, _ = central_directional(exact_gradient(e), x, v)
    return d


def _fd_jac(e, x, v):
    d, _ = central_jacobian(e.f, x)
    return d


def cotangent(e, x):
    """A fixed cotangent ``u`` shaped like ``f(x)`` (for the vjp paths)."""
    shape = np.shape(np.asarray(e.f(x), float))
    u = np.cos(1.0 + np.arange(int(np.prod(shape, dtype=int)))).reshape(shape)
    return float(u) if shape == () else u


def _closed_jvp(e, x, v):
    if e.kind == "vector":
        return _hdot(e.jac(x), v)
    return float(np.sum(np.asarray(e.grad(x)) * v))


def _closed_vjp(e, x, v):
    u = cotangent(e, x)
    if e.kind == "vector":
        return np.tensordot(u, e.jac(x), axes=np.ndim(u))
    return u * np.asarray(e.grad(x)) if np.ndim(x) else u * float(e.grad(x))


def _has_closed_first(e):
    return bool(e.jac) if e.kind == "vector" else _scalar_fn(e) and bool(e.grad)


def _first_order(e):
    return e.kind == "vector" or _scalar_fn(e)


def _linearized(e, x, v):
    value, fn = call_reverse("linearize", e.f, x)
    return fn(v)


def _rosen(name):
    fn = getattr(scipy.optimize, name)
    return fn


PATHS: list[Path] = [
    # --- values -----------------------------------------------------------------
    Path("numpy", "value", lambda e, x, v: e.f(x), _scalar_fn),
    Path("hyperdual.value_and_gradient", "value",
         lambda e, x, v: hyperdual.value_and_gradient(e.f, x)[0], _scalar_fn),
    Path("reverse.value_and_gradient", "value",
         lambda e, x, v: call_reverse("value_and_gradient", e.f, x)[0], _scalar_fn),
    # --- gradients --------------------------------------------------------------
    Path("closed", "grad", lambda e, x, v: e.grad(x), lambda e: _scalar_fn(e) and e.grad),
    Path("scipy.rosen_der", "grad", lambda e, x, v: _rosen("rosen_der")(x),
         lambda e: e.scipy_rosen),
    Path("hyperdual.gradient", "grad", lambda e, x, v: hyperdual.gradient(e.f, x), _scalar_fn),
    Path("hyperdual.derivative", "grad", lambda e, x, v: hyperdual.derivative(e.f, x),
         _is("scalar")),
    Path("hyperdual.value_and_gradient", "grad",
         lambda e, x, v: hyperdual.value_and_gradient(e.f, x)[1], _scalar_fn),
    Path("hyperdual.scipy_derivatives.jac", "grad",
         lambda e, x, v: hyperdual.scipy_derivatives(e.f)["jac"](x), _vec_only),
    Path("reverse.gradient", "grad", lambda e, x, v: call_reverse("gradient", e.f, x),
         _scalar_fn),
    Path("reverse.derivative", "grad", lambda e, x, v: call_reverse("derivative", e.f, x),
         _is("scalar")),
    Path("reverse.value_and_gradient", "grad",
         lambda e, x, v: call_reverse("value_and_gradient", e.f, x)[1], _scalar_fn),
    Path("reverse.scipy_derivatives.jac", "grad",
         lambda e, x, v: reverse_scipy_derivatives(e.f)["jac"](x), _vec_only),
    Path("central_differences(f)", "grad", _fd_grad, _scalar_fn, exact=False),
    # --- Hessians ---------------------------------------------------------------
    Path("closed", "hess", lambda e, x, v: e.hess(x),
         lambda e: _scalar_fn(e) and e.hess and e.hessian_paths),
    Path("scipy.rosen_hess", "hess", lambda e, x, v: _rosen("rosen_hess")(x),
         lambda e: e.scipy_rosen),
    Path("hyperdual.hessian", "hess", lambda e, x, v: hyperdual.hessian(e.f, x),
         lambda e: _scalar_fn(e) and e.hessian_paths),
    Path("hyperdual.second_derivative", "hess",
         lambda e, x, v: hyperdual.second_derivative(e.f, x), _is("scalar")),
    Path("hyperdual.scipy_derivatives.hess", "hess",
         lambda e, x, v: hyperdual.scipy_derivatives(e.f)["hess"](x),
         lambda e: _vec_only(e) and e.hessian_paths),
    Path("reverse.hessian", "hess", lambda e, x, v: call_reverse("hessian", e.f, x),
         lambda e: _scalar_fn(e) and e.hessian_paths),
    Path("reverse.second_derivative", "hess",
         lambda e, x, v: call_reverse("second_derivative", e.f, x), _is("scalar")),
    Path("reverse.scipy_derivatives.hess", "hess",
         lambda e, x, v: reverse_scipy_derivatives(e.f)["hess"](x),
         lambda e: _vec_only(e) and e.hessian_paths),
    Path("central_differences(exact grad)", "hess", _fd_hess,
         lambda e: _scalar_fn(e) and e.hessian_paths, exact=False),
    # --- Hessian-vector products -----------------------------------------------------
    Path("closed", "hvp", lambda e, x, v: _hdot(e.hess(x), v),
         lambda e: _scalar_fn(e) and e.hess),
    Path("scipy.rosen_hess_prod", "hvp", lambda e, x, v: _rosen("rosen_hess_prod")(x, v),
         lambda e: e.scipy_rosen),
    Path("hyperdual.hvp", "hvp", lambda e, x, v: hyperdual.hvp(e.f, x, v), _scalar_fn),
    Path("hyperdual.hessian @ v", "hvp", lambda e, x, v: _hdot(hyperdual.hessian(e.f, x), v),
         lambda e: _scalar_fn(e) and e.hessian_paths),
    Path("hyperdual.scipy_derivatives.hessp", "hvp",
         lambda e, x, v: hyperdual.scipy_derivatives(e.f)["hessp"](x, v), _vec_only),
    Path("reverse.hvp[forward-over-reverse]", "hvp",
         lambda e, x, v: call_reverse("hvp", e.f, x, v), _scalar_fn),
    Path("reverse.hvp[reverse-over-reverse]", "hvp",
         lambda e, x, v: call_reverse("hvp", e.f, x, v, mode="reverse-over-reverse"),
         _scalar_fn),
    Path("reverse.scipy_derivatives.hessp", "hvp",
         lambda e, x, v: reverse_scipy_derivatives(e.f)["hessp"](x, v), _vec_only),
    Path("central_differences(exact grad, v)", "hvp", _fd_hvp, _scalar_fn, exact=False),
    # --- Jacobians ---------------------------------------------------------------
    Path("closed", "jac", lambda e, x, v: e.jac(x), lambda e: e.kind == "vector" and e.jac),
    Path("hyperdual.jacobian", "jac", lambda e, x, v: hyperdual.jacobian(e.f, x),
         _is("vector")),
    Path("reverse.jacobian", "jac", lambda e, x, v: call_reverse("jacobian", e.f, x),
         _is("vector")),
    Path("central_differences(f)", "jac", _fd_jac, _is("vector"), exact=False),
    # --- jvp / vjp (the functional API of both engines) ----------------------------
    Path("closed", "jvp", _closed_jvp, _has_closed_first),
    Path("hyperdual.jvp", "jvp", lambda e, x, v: hyperdual.jvp(e.f, x, v)[1], _first_order),
    Path("reverse.jvp", "jvp", lambda e, x, v: call_reverse("jvp", e.f, x, v)[1],
         _first_order),
    Path("reverse.linearize", "jvp", _linearized, _first_order),
    Path("closed", "vjp", _closed_vjp, _has_closed_first),
    Path("hyperdual.vjp", "vjp", lambda e, x, v: hyperdual.vjp(e.f, x, cotangent(e, x))[1],
         _first_order),
    Path("reverse.vjp", "vjp", lambda e, x, v: call_reverse("vjp", e.f, x, cotangent(e, x))[1],
         _first_order),
]

QUANTITIES = ("value", "grad", "hess", "hvp", "jac", "jvp", "vjp")


def paths_for(e, quantity: str) -> list[Path]:
    """Applicable paths for ``e`` and ``quantity``; the reference (first) is exact."""
    return [p for p in PATHS if p.quantity == quantity and p.applies(e)]


def path_pairs(e) -> list[tuple[str, Path, Path]]:
    """``(quantity, reference, other)`` for every other applicable path.

    The reference is the first applicable path in :data:`PATHS` order: the
    closed form (or numpy for values) where one exists, then scipy's Rosenbrock
    derivatives, then ``hyperdual``.  Every other path is compared with it (a
    star, so a failing test names exactly one suspicious path).
    """
    out = []
    for q in QUANTITIES:
        ps = paths_for(e, q)
        for p in ps[1:]:
            out.append((q, ps[0], p))
    return out


# ---------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------


def _fmt(x) -> str:
    return np.array2string(np.asarray(x, float), precision=17, max_line_width=200,
                           threshold=12)


def compare(fname: str, x, name_a: str, a, name_b: str, b, atol=None, rtol: float = EXACT_RTOL):
    """Raise ``AssertionError`` unless ``a`` (the reference) and ``b`` agree.

    The test is ``max|a - b| <= rtol * max(1, max|a|)`` elementwise over the
    whole quantity: relative to the reference's largest entry, absolute when
    that is below 1 (so entries that are exactly 0 in one path and 1e-17 in
    another pass, and an error is always judged against the quantity's scale,
    not an individual tiny entry).  If ``atol`` (an array broadcasting
    against ``a``) is given it replaces that bound elementwise (central
    differences).  The message names the function, the point, both paths and
    the max absolute and relative error.
    """
    a_arr = np.asarray(a, float)
    b_arr = np.asarray(b, float)
    where = f"{fname}: paths {name_a!r} and {name_b!r} disagree at x = {_fmt(x)}"
    if a_arr.shape != b_arr.shape:
        raise AssertionError(f"{where}: shapes {a_arr.shape} vs {b_arr.shape}")
    if a_arr.size == 0:
        return
    bad_nan = np.isnan(a_arr) != np.isnan(b_arr)
    diff = np.abs(a_arr - b_arr)
    diff = np.where(np.isnan(a_arr) & np.isnan(b_arr), 0.0, diff)
    scale = max(1.0, float(np.nanmax(np.abs(a_arr))))
    bound = rtol * scale if atol is None else np.broadcast_to(np.asarray(atol, float), diff.shape)
    ok = (diff <= bound) & ~bad_nan
    if not np.all(ok):
        max_abs = float(np.nanmax(diff)) if not np.all(np.isnan(diff)) else float("nan")
        rel = np.max(diff / np.maximum(np.abs(a_arr), np.finfo(float).tiny))
        allowed = (f"rtol {rtol:.0e}" if atol is None
                   else f"fd tolerance, min {float(np.min(bound)):.3e}")
        raise AssertionError(
            f"{where}: max abs error {max_abs:.3e}, max rel error {rel:.3e}, "
            f"max abs / max(1, |ref|) = {max_abs / scale:.3e} "
            f"(allowed: {allowed}); "
            f"{name_a} = {_fmt(a_arr)}, {name_b} = {_fmt(b_arr)}"
        )


def fd_atol(e, quantity: str, x, v, ref) -> np.ndarray:
    """Tolerance for a central-difference path (see the derivation above)."""
    x = np.asarray(x, float)
    ref = np.asarray(ref, float)
    big = float(np.max(np.abs(ref))) if ref.size else 0.0
    if quantity == "grad":
        fx = abs(float(e.f(x)))
        F = max(1.0, fx)
        S = e.fd_scale * max(1.0, fx, big)
        return fd_tolerance(fd_step(x), F, S)
    if quantity == "jac":
        fx = float(np.max(np.abs(np.asarray(e.f(x), float))))
        F = max(1.0, fx)
        S = e.fd_scale * max(1.0, fx, big)
        return fd_tolerance(fd_step(x), F, S)  # broadcasts over the last axes (x's shape)
    g = np.asarray(exact_gradient(e)(x), float)
    G = max(1.0, float(np.max(np.abs(g))) if g.size else 0.0)
    if quantity == "hess":
        S = e.fd_scale * max(G, big)
        return fd_tolerance(fd_step(x), G, S)  # column j uses step h_j
    # hvp: one step along v; H v scales with |v|, and so do the higher terms
    vmax = float(np.max(np.abs(v))) if np.size(v) else 0.0
    if vmax == 0.0:
        return np.zeros_like(ref)
    # the step along v is t = h / |v|_inf, so x moves by at most h in any
    # coordinate: truncation ~ t^2 |D^3 g[v, v]| ~ h^2 S |v|, rounding ~ eps G |v| / h
    h = EPS ** (1 / 3) * max(1.0, float(np.max(np.abs(x))))
    S = e.fd_scale * max(G, big / vmax)
    return fd_tolerance(h, G * vmax, S * vmax) * np.ones_like(ref)
