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

__all__ = ["scipy_derivatives", "value_and_jac", "least_squares_jac", "METHOD_KEYS"]

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


class _Reused:
    """A SparseHessian/SparseJacobian of ``f(., *args)`` made at the first x and reused
    (the pattern and colouring hold for every x; a new ``args`` makes a new one)."""

    def __init__(self, cls: type, f: Callable) -> None:
        self.cls, self.f, self.args, self.obj = cls, f, None, None

    def __call__(self, x, *args):
        if self.obj is None or self.args is not args and self.args != args:
            f = self.f
            self.obj = self.cls(lambda z: f(z, *args), x)
            self.args = args
        return self.obj(x)


def _callables(f: Callable, method: str | None, prefer: str, gradient: Callable,
               hessian: Callable, hvp: Callable, sparse_hessian: type | None = None,
               **hvp_kwargs) -> dict[str, Callable]:
    """scipy's ``jac``/``hess``/``hessp`` from one engine's helpers (shared by both engines).

    With ``sparse_hessian`` (a SparseHessian class) ``hess`` returns a
    ``scipy.sparse.csr_matrix`` (trust-constr accepts it).
    """
    keys = _keys_for(method, prefer)
    if sparse_hessian is not None:
        reused = _Reused(sparse_hessian, f)

        def sparse_hess(x, *args):
            return reused(_vector(x), *args)

    def jac(x, *args):
        return _vector(gradient(lambda z: f(z, *args), _vector(x)))

    def hess(x, *args):
        return _vector(hessian(lambda z: f(z, *args), _vector(x)))

    def hessp(x, p, *args):
        return _vector(hvp(lambda z: f(z, *args), _vector(x), _vector(p), **hvp_kwargs))

    table = {"jac": jac, "hess": hess if sparse_hessian is None else sparse_hess,
             "hessp": hessp}
    return {k: table[k] for k in keys}


def _least_squares_jac(f: Callable, jacobian: Callable, sparse_jacobian: type | None
                       ) -> Callable:
    """``jac(x, *args)`` for ``scipy.optimize.least_squares`` from one engine."""
    if sparse_jacobian is not None:
        reused = _Reused(sparse_jacobian, f)

        def jac_sparse(x, *args):
            return reused(_vector(x), *args)

        return jac_sparse

    def jac(x, *args):
        return np.atleast_2d(_vector(jacobian(lambda z: f(z, *args), _vector(x))))

    return jac


def _value_and_jac(f: Callable, value_and_gradient: Callable) -> Callable:
    """``fun(x, *args) -> (f(x), gradient)`` from one engine's ``value_and_gradient``."""

    def fun(x, *args):
        value, grad = value_and_gradient(lambda z: f(z, *args), _vector(x))
        return float(value), _vector(grad)

    return fun


def scipy_derivatives(f: Callable, method: str | None = None, *,
                      prefer: str = "hessp", sparse: bool = False) -> dict[str, Callable]:
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
    sparse : bool
        ``hess`` returns a ``scipy.sparse.csr_matrix`` computed by
        :class:`hyperdual.SparseHessian` (pattern and colouring found at the
        first x, reused after); for trust-constr.

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
    from . import sparse as sparse_mod

    return _callables(f, method, prefer, helpers.gradient, helpers.hessian, helpers.hvp,
                      sparse_mod.SparseHessian if sparse else None)


def least_squares_jac(f: Callable, *, sparse: bool = False) -> Callable:
    """Exact ``jac`` for ``scipy.optimize.least_squares`` of residuals ``f(x, *args)``.

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> (m,)`` residuals written with plain numpy.
    sparse : bool
        Return ``scipy.sparse.csr_matrix`` Jacobians (:class:`hyperdual.SparseJacobian`:
        pattern and colouring found at the first x); use with ``tr_solver="lsmr"``.

    Returns
    -------
    callable
        ``jac(x, *args)`` -> ``(m, n)`` ndarray or CSR matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import least_squares
    >>> from hyperdual import least_squares_jac
    >>> res = least_squares(lambda x: x ** 2 - np.arange(1.0, 4.0), np.ones(3),
    ...                     jac=least_squares_jac(lambda x: x ** 2 - np.arange(1.0, 4.0),
    ...                                           sparse=True), tr_solver="lsmr")
    >>> bool(np.allclose(res.x ** 2, [1.0, 2.0, 3.0]))
    True
    """
    from . import helpers
    from . import sparse as sparse_mod

    return _least_squares_jac(f, helpers.jacobian, sparse_mod.SparseJacobian if sparse else None)


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
