"""Exact reverse-mode derivatives in the form ``scipy.optimize.minimize`` takes.

``scipy_derivatives(f)`` returns ``{"jac": ..., "hess": ..., "hessp": ...}``,
callables with scipy's signatures built from :func:`reverse.gradient`,
:func:`reverse.hessian` and :func:`reverse.hvp` (forward-over-reverse by
default: a Hessian-vector product for a small constant times the cost of a
gradient); ``value_and_jac(f)`` gives ``(f(x), grad)`` from one backward pass
for ``jac=True``.

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


def _helpers():
    # Imported at call time: this module may be imported by reverse/__init__.py
    # before the helpers are.
    from . import gradient, hessian, hvp, value_and_gradient

    return gradient, hessian, hvp, value_and_gradient


def scipy_derivatives(f: Callable, method: str | None = None, *, prefer: str = "hessp",
                      hvp_mode: str | None = None) -> dict[str, Callable]:
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
    hvp_mode : str, optional
        ``mode`` passed to :func:`reverse.hvp` (``"forward-over-reverse"``,
        its default, or ``"reverse-over-reverse"``).

    Returns
    -------
    dict
        Subset of ``{"jac": jac(x, *args) -> (n,), "hess": hess(x, *args) -> (n, n),
        "hessp": hessp(x, p, *args) -> (n,)}``.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import minimize
    >>> from reverse.scipy_adapter import scipy_derivatives
    >>> def rosen(x):  # plain numpy (scipy's own rosen converts its input to an array)
    ...     return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    >>> d = scipy_derivatives(rosen, method="trust-krylov")
    >>> sorted(d)
    ['hessp', 'jac']
    >>> res = minimize(rosen, np.array([-1.2, 1.0]), method="trust-krylov", **d)
    >>> bool(np.allclose(res.x, 1.0, atol=1e-3))
    True
    >>> d["hessp"](np.array([1.0, 1.0]), np.array([1.0, 0.0]))
    array([ 802., -400.])
    """
    keys = _keys_for(method, prefer)
    mode = {} if hvp_mode is None else {"mode": hvp_mode}

    def jac(x, *args):
        return _vector(_helpers()[0](lambda z: f(z, *args), _vector(x)))

    def hess(x, *args):
        return _vector(_helpers()[1](lambda z: f(z, *args), _vector(x)))

    def hessp(x, p, *args):
        return _vector(_helpers()[2](lambda z: f(z, *args), _vector(x), _vector(p), **mode))

    table = {"jac": jac, "hess": hess, "hessp": hessp}
    return {k: table[k] for k in keys}


def value_and_jac(f: Callable) -> Callable:
    """``fun(x, *args) -> (f(x), gradient)`` from one backward pass, for ``jac=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import minimize
    >>> from reverse.scipy_adapter import value_and_jac
    >>> def rosen(x):
    ...     return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    >>> res = minimize(value_and_jac(rosen), np.array([-1.2, 1.0]), jac=True,
    ...                method="L-BFGS-B")
    >>> bool(np.allclose(res.x, 1.0, atol=1e-4))
    True
    """

    def fun(x, *args):
        value, grad = _helpers()[3](lambda z: f(z, *args), _vector(x))
        return float(value), _vector(grad)

    return fun
