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

# One adapter serves both engines; only the helpers passed in differ.
from hyperdual.scipy_adapter import METHOD_KEYS, _callables, _least_squares_jac, _value_and_jac

from .helpers import gradient, hessian, hvp, jacobian, value_and_gradient
from .sparse import SparseHessian, SparseJacobian

__all__ = ["scipy_derivatives", "value_and_jac", "least_squares_jac", "METHOD_KEYS"]


def scipy_derivatives(f: Callable, method: str | None = None, *, prefer: str = "hessp",
                      hvp_mode: str | None = None, sparse: bool = False) -> dict[str, Callable]:
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
    sparse : bool
        ``hess`` returns a ``scipy.sparse.csr_matrix`` computed by
        :class:`reverse.SparseHessian` (pattern and star colouring found at the
        first x; each call is one forward-over-reverse pass over the colours).

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
    mode = {} if hvp_mode is None else {"mode": hvp_mode}
    return _callables(f, method, prefer, gradient, hessian, hvp,
                      SparseHessian if sparse else None, **mode)


def least_squares_jac(f: Callable, *, sparse: bool = False) -> Callable:
    """Exact ``jac`` for ``scipy.optimize.least_squares`` (reverse mode).

    Parameters
    ----------
    f : callable
        ``f(x, *args) -> (m,)`` residuals written with plain numpy.
    sparse : bool
        Return ``scipy.sparse.csr_matrix`` Jacobians (:class:`reverse.SparseJacobian`:
        one backward pass per row colour); use with ``tr_solver="lsmr"``.

    Returns
    -------
    callable
        ``jac(x, *args)`` -> ``(m, n)`` ndarray or CSR matrix.

    Examples
    --------
    >>> import numpy as np
    >>> jac = least_squares_jac(lambda x: x[1:] - x[:-1] ** 2, sparse=True)
    >>> jac(np.array([1.0, 2.0, 3.0])).toarray()
    array([[-2.,  1.,  0.],
           [ 0., -4.,  1.]])
    """
    return _least_squares_jac(f, jacobian, SparseJacobian if sparse else None)


def value_and_jac(f: Callable) -> Callable:
    """``fun(x, *args) -> (f(x), gradient)`` from one backward pass, for ``jac=True``.

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
    >>> from reverse.scipy_adapter import value_and_jac
    >>> def rosen(x):
    ...     return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    >>> res = minimize(value_and_jac(rosen), np.array([-1.2, 1.0]), jac=True,
    ...                method="L-BFGS-B")
    >>> bool(np.allclose(res.x, 1.0, atol=1e-4))
    True
    """
    return _value_and_jac(f, value_and_gradient)
