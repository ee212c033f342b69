"""Exact forward-mode derivatives in the form ``scipy.optimize.minimize`` takes.

``scipy_derivatives(f)`` returns ``{"jac": ..., "hess": ..., "hessp": ...}``,
callables with scipy's signatures built from :func:`hyperdual.gradient`,
:func:`hyperdual.hessian` and :func:`hyperdual.hvp`; ``value_and_jac(f)``
returns one callable giving ``(f(x), grad)`` for ``jac=True``.

Which keys a method uses (scipy warns with ``RuntimeWarning`` about keys a
method ignores, so pass ``method=`` to get only those)::

    Nelder-Mead, Powell, COBYLA, COBYQA          (none)
    CG, BFGS, L-BFGS-B, TNC, SLSQP               jac
    Newton-CG, trust-ncg, trust-krylov,
    trust-constr                                 jac + hessp (or hess, prefer="hess")
    dogleg, trust-exact                          jac + hess

Without ``method`` all three are returned; scipy's Newton-CG and trust
methods then use ``hess`` and ignore ``hessp``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["scipy_derivatives", "value_and_jac", "METHOD_KEYS"]

#: Derivative keys each ``scipy.optimize.minimize`` method uses (lower-case names).
METHOD_KEYS: dict[str, tuple[str, ...]] = {
    "nelder-mead": (), "powell": (), "cobyla": (), "cobyqa": (),
    "cg": ("jac",), "bfgs": ("jac",), "l-bfgs-b": ("jac",), "tnc": ("jac",),
    "slsqp": ("jac",),
    "newton-cg": ("jac", "hessp"), "trust-ncg": ("jac", "hessp"),
    "trust-krylov": ("jac", "hessp"), "trust-constr": ("jac", "hessp"),
    "dogleg": ("jac", "hess"), "trust-exact": ("jac", "hess"),
}


def _keys_for(method: str | None, prefer: str) -> tuple[str, ...]:
    if not isinstance(prefer, str) or prefer not in ("hessp", "hess"):
        raise ValueError(f"prefer must be 'hessp' or 'hess', got {prefer!r}")
    if method is None:
        return ("jac", "hess", "hessp")
    keys = METHOD_KEYS.get(method.lower()) if isinstance(method, str) else None
    if keys is None:
        raise ValueError(
            f"unknown scipy.optimize.minimize method {method!r}; known: "
            f"{', '.join(sorted(METHOD_KEYS))} (or pass method=None for all keys)"
        )
    if prefer == "hess":
        keys = tuple("hess" if k == "hessp" else k for k in keys)
    return keys


def _vector(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _callables(f: Callable, method: str | None, prefer: str, gradient: Callable,
               hessian: Callable, hvp: Callable, **hvp_kwargs) -> dict[str, Callable]:
    """scipy's ``jac``/``hess``/``hessp`` from one engine's helpers (shared by both engines)."""
    keys = _keys_for(method, prefer)

    def jac(x, *args):
        return _vector(gradient(lambda z: f(z, *args), _vector(x)))

    def hess(x, *args):
        return _vector(hessian(lambda z: f(z, *args), _vector(x)))

    def hessp(x, p, *args):
        return _vector(hvp(lambda z: f(z, *args), _vector(x), _vector(p), **hvp_kwargs))

    table = {"jac": jac, "hess": hess, "hessp": hessp}
    return {k: table[k] for k in keys}


def _value_and_jac(f: Callable, value_and_gradient: Callable) -> Callable:
    """``fun(x, *args) -> (f(x), gradient)`` from one engine's ``value_and_gradient``."""

    def fun(x, *args):
        value, grad = value_and_gradient(lambda z: f(z, *args), _vector(x))
        return float(value), _vector(grad)

    return fun


def scipy_derivatives(f: Callable, method: str | None = None, *,
                      prefer: str = "hessp") -> dict[str, Callable]:
    """Exact ``jac`` / ``hess`` / ``hessp`` callables for ``scipy.optimize.minimize``.

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> float`` written with plain numpy; ``args`` are the
        ``args=`` passed to ``minimize`` and are held constant.
    method : str, optional
        A ``minimize`` method name; only the keys it uses are returned (see
        the module docstring).  None returns all three.
    prefer : {"hessp", "hess"}
        For methods accepting either, which one to supply.

    Returns
    -------
    dict
        Subset of ``{"jac": jac(x, *args) -> (n,), "hess": hess(x, *args) -> (n, n),
        "hessp": hessp(x, p, *args) -> (n,)}``.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import minimize
    >>> from hyperdual import scipy_derivatives
    >>> def rosen(x):  # plain numpy (scipy's own rosen converts its input to an array)
    ...     return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    >>> d = scipy_derivatives(rosen, method="Newton-CG")
    >>> sorted(d)
    ['hessp', 'jac']
    >>> res = minimize(rosen, np.array([-1.2, 1.0]), method="Newton-CG", **d,
    ...                options={"xtol": 1e-10})
    >>> bool(np.allclose(res.x, 1.0, atol=1e-8))
    True
    >>> d["hessp"](np.array([1.0, 1.0]), np.array([1.0, 0.0]))
    array([ 802., -400.])
    """
    from . import helpers

    return _callables(f, method, prefer, helpers.gradient, helpers.hessian, helpers.hvp)


def value_and_jac(f: Callable) -> Callable:
    """``fun(x, *args) -> (f(x), gradient)`` from one forward pass, for ``jac=True``.

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> float`` written with plain numpy.

    Returns
    -------
    callable
        ``fun(x, *args) -> (float, ndarray)``: the value and the gradient.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import minimize
    >>> from hyperdual import value_and_jac
    >>> def rosen(x):
    ...     return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    >>> res = minimize(value_and_jac(rosen), np.array([-1.2, 1.0]), jac=True,
    ...                method="L-BFGS-B")
    >>> bool(np.allclose(res.x, 1.0, atol=1e-4))
    True
    """
    from . import helpers

    return _value_and_jac(f, helpers.value_and_gradient)
