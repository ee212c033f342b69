"""Implicit differentiation: ``root``, ``fixed_point``, ``minimize``, ``root_scalar``.

Each wrapper solves its problem with scipy on plain floats (the parameters'
values), then carries the derivatives with respect to the parameters by
*chord corrections on the engine's numbers*:

    x <- x - J0⁻¹ f(x, params)

where ``J0 = ∂f/∂x`` at the float solution (a plain matrix) and ``f`` is
evaluated on the parameters as given (``Dual``, ``HyperDual``, nested numbers,
``reverse.Variable``).  At the solution the real part does not move; each
correction makes the derivative parts exact to one more order (the error
``x - x(params)`` is multiplied by ``I - J0⁻¹ J(x)``, which has no real part).
So ``k`` corrections give derivatives exact to order ``k``: the number of
corrections is the order the parameters carry (1 per Dual level, 2 per
HyperDual level), or the ``order`` you pass.  Only evaluations of ``f`` on the
engine's numbers are needed, so every forward-mode number and nesting works.
With reverse ``Variable`` parameters the solution is instead one node of the
graph whose backward pass is the implicit function theorem,
``dx/dp = -(∂f/∂x)⁻¹ ∂f/∂p`` at the solution, written with differentiable
operations on that node's own output, so derivatives of every order are exact
(:mod:`reverse.implicit`).  ``f`` itself must be written with numpy (it is
evaluated on the engine's numbers); the solver it is handed to may be anything.

The functions take the same arguments in ``hyperdual`` and ``reverse``.

Examples
--------
>>> import numpy as np
>>> import hyperdual
>>> f = lambda x, a: x ** 2 - a          # the root is sqrt(a)
>>> root(f, 1.0, 4.0)
2.0
>>> hyperdual.derivative(lambda a: root(f, 1.0, a), 4.0)          # 1 / (2 sqrt(a))
0.25
>>> hyperdual.second_derivative(lambda a: root(f, 1.0, a), 4.0)   # -a**-1.5 / 4
-0.03125
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._number import Dual, HyperDual, _Number
from ._taylor import Taylor

__all__ = ["REVERSE_ORDER", "fixed_point", "minimize", "root", "root_scalar"]

#: Kept for compatibility: reverse ``Variable`` parameters no longer take chord
#: corrections (their solution node is exact at every order), so nothing depends
#: on this number any more.
REVERSE_ORDER = 6


def _is_variable(a: Any) -> bool:
    # by module name: forward mode never imports reverse
    return type(a).__module__.startswith("reverse") and hasattr(a, "creator")


def _order(a: Any) -> int:
    """Perturbation order carried by ``a`` (0 for plain numbers)."""
    if _is_variable(a):
        return REVERSE_ORDER + _order(a.data)
    if isinstance(a, Taylor):  # K coefficients: K chord corrections, plus nested orders
        return a.order + _order(a.coef)
    if isinstance(a, _Number):
        own = 1 if isinstance(a, Dual) else 2 if isinstance(a, HyperDual) else 3
        return own + max(_order(p) for p in a._parts())
    return 0


def _plain(a: Any) -> Any:
    """The float value of a parameter (engine numbers stripped)."""
    if _is_variable(a):
        a = a.data
    while isinstance(a, _Number):
        a = a.real
    return a


def _float_point(x: Any) -> tuple[np.ndarray, tuple]:
    x = np.array(_plain(x), dtype=np.float64)
    return x, x.shape


def _jac0(f: Callable, x: np.ndarray, params: tuple, name: str) -> np.ndarray:
    """∂f/∂x at plain floats, as an (n, n) matrix (forward mode, exact)."""
    from .helpers import jacobian

    n = x.size
    J = np.asarray(jacobian(lambda z: f(z, *params), x), dtype=np.float64).reshape(n, n)
    if not np.all(np.isfinite(J)):
        raise ValueError(f"hyperdual.{name}: the Jacobian of f at the solution is not finite")
    return J


def _polish(f: Callable, x: np.ndarray, params: tuple, name: str, steps: int = 30
            ) -> tuple[np.ndarray, np.ndarray]:
    """Newton steps on floats until the step is at rounding level (the solver's
    tolerance may be loose, or a user's solver rough); returns (x, J)."""
    shape = x.shape
    J = _jac0(f, x, params, name)
    small = 0
    for _ in range(steps):
        r = np.asarray(f(x, *params), dtype=np.float64).reshape(-1)
        try:
            dx = np.linalg.solve(J, r)
        except np.linalg.LinAlgError:
            break
        xn = x - dx.reshape(shape)
        if not np.all(np.isfinite(xn)):
            break
        x = xn
        J = _jac0(f, x, params, name)
        if np.all(np.abs(dx) <= 4 * np.finfo(float).eps * np.maximum(1.0, np.abs(x.reshape(-1)))):
            small += 1
            if small == 2:  # converged: one more step changed nothing visible
                break
    return x, J


#: Set by ``reverse.implicit``: builds the solution as one reverse-mode Function
#: whose backward is the implicit function theorem (exact at every order).
_VARIABLE_SOLUTION: Callable | None = None


def register_variable_solution(build: Callable) -> None:
    """Hook for reverse mode (forward mode never imports it)."""
    global _VARIABLE_SOLUTION
    _VARIABLE_SOLUTION = build


def _corrected(f: Callable, x: np.ndarray, J: np.ndarray, params: tuple, order: int | None,
               name: str) -> Any:
    """Chord corrections carrying the parameters' perturbations (see the module doc)."""
    if _VARIABLE_SOLUTION is not None and any(_is_variable(p) for p in params):
        return _VARIABLE_SOLUTION(f, x, J, params, name)
    steps = max(_order(p) for p in params) if params else 0
    if order is not None:
        steps = max(steps, int(order))
    scalar = x.shape == ()
    if steps == 0:
        return float(x) if scalar else x
    try:
        Jinv = np.linalg.inv(J)
    except np.linalg.LinAlgError:
        raise np.linalg.LinAlgError(
            f"hyperdual.{name}: ∂f/∂x is singular at the solution, so the solution is not a "
            "differentiable function of the parameters there") from None
    shape, n = x.shape, x.size
    z: Any = float(x) if scalar else x
    for _ in range(steps):
        r = f(z, *params)
        if scalar:
            z = z - Jinv[0, 0] * r
        else:
            z = z - np.reshape(Jinv @ np.reshape(r, (n,)), shape)
    return z


def _differentiable(a: Any) -> bool:
    """Whether ``a`` carries an engine's perturbations (a Variable, Dual, HyperDual,
    Taylor, or an object array holding one)."""
    if _is_variable(a) or isinstance(a, (_Number, Taylor)):
        return True
    if isinstance(a, (list, tuple)) or isinstance(a, np.ndarray) and a.dtype == object:
        return any(_differentiable(v) for v in np.ravel(np.asarray(a, dtype=object)))
    return False


def _check_closure(value: Any, name: str) -> None:
    """Refuse a function that closes over a differentiable value of the enclosing
    computation: at plain x and plain parameters its value still carries
    derivatives.  The solution node (reverse) and the chord corrections (hyperdual)
    differentiate through ``*params`` only, so such a value must be passed there;
    dropping its derivative would be a silently wrong result."""
    if _differentiable(value):
        kind = "Variable" if _is_variable(value) else type(value).__name__
        raise TypeError(
            f"{name}: the function returned a {kind} at a plain x and plain params: it "
            "closes over a differentiable value of the enclosing computation, whose "
            "derivative the implicit function theorem here cannot see. Pass that value "
            "through *params instead: the function takes it as an argument, f(x, a), "
            f"and the call passes it, {name}(f, ..., a)")


def _check_residual(f: Callable, x0: Any, params: tuple, name: str) -> None:
    value = f(x0, *params)
    _check_closure(value, name)
    r = np.shape(_plain(value))
    if r != np.shape(x0):
        raise ValueError(f"hyperdual.{name}: f(x, *params) must have x's shape {np.shape(x0)}, "
                         f"got {r}")


def root(f: Callable, x0: Any, *params: Any, solver: Any = None, tol: float = 1e-12,
         order: int | None = None) -> Any:
    """``x(params)`` with ``f(x, *params) = 0``, differentiable in ``params`` to every order.

    Parameters
    ----------
    f : callable
        ``f(x, *params)``, written with numpy, same shape as ``x``.
    x0 : float or array
        Starting point of the solver.
    *params
        Parameters (floats, arrays or any engine's numbers).
    solver : None, str or callable
        None: ``scipy.optimize.root`` with the exact Jacobian; a string: that
        ``method`` of ``scipy.optimize.root``; a callable ``solver(fun, x0)``
        returning the solution of ``fun(x) = 0`` (on floats).
    tol : float
        Solver tolerance (the result is then polished by Newton steps).
    order : int, optional
        Minimum number of chord corrections (the derivative order that is
        exact); by default the order the parameters carry (see the module doc).

    Returns
    -------
    float or numpy.ndarray or engine number
        The solution: a float/array for plain parameters, else the engine's
        number (a Dual, HyperDual or Variable) carrying its derivatives.

    Raises
    ------
    RuntimeError
        If the solver does not converge.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> kepler = lambda E, e, M: E - e * np.sin(E) - M
    >>> E = root(kepler, 1.0, 0.5, 1.0)
    >>> bool(abs(E - 0.5 * np.sin(E) - 1.0) < 1e-15)
    True
    >>> dE = hyperdual.derivative(lambda e: root(kepler, 1.0, e, 1.0), 0.5)
    >>> bool(np.isclose(dE, np.sin(E) / (1 - 0.5 * np.cos(E)), rtol=1e-14))
    True
    """
    p0 = tuple(_plain(p) for p in params)
    x, shape = _float_point(x0)
    _check_residual(f, x, p0, "root")

    def fun(z):
        return np.asarray(f(np.reshape(z, shape), *p0), dtype=np.float64).reshape(-1)

    if callable(solver):
        xs = np.asarray(solver(lambda z: f(z, *p0), x.copy()), dtype=np.float64).reshape(shape)
    else:
        import scipy.optimize

        def jac(z):
            return _jac0(f, np.reshape(z, shape), p0, "root")

        res = scipy.optimize.root(fun, x.reshape(-1), jac=jac, tol=tol,
                                  method=solver or "hybr")
        xs = np.reshape(res.x, shape)
        if not res.success and not np.all(np.abs(fun(xs)) <= 1e3 * tol):
            raise RuntimeError(f"hyperdual.root: the solver did not converge: {res.message}")
    xs, J = _polish(f, xs, p0, "root")
    if not np.all(np.abs(fun(xs)) <= max(1e3 * tol, 1e-8)):
        raise RuntimeError("hyperdual.root: no root found (residual "
                           f"{float(np.max(np.abs(fun(xs)))):.3g} at the solver's answer)")
    return _corrected(f, xs, J, params, order, "root")


def fixed_point(g: Callable, x0: Any, *params: Any, solver: Any = None, tol: float = 1e-12,
                order: int | None = None) -> Any:
    """``x(params)`` with ``x = g(x, *params)``, differentiable in ``params`` to every order.

    Solved as the root of ``x - g(x, *params)`` (see :func:`root`), so the
    iteration need not converge: any solver of that root will do.

    Parameters
    ----------
    g : callable
        ``g(x, *params)``, written with numpy, same shape as ``x``.
    x0 : float or array
        Starting point of the solver.
    *params
        Parameters (floats, arrays or any engine's numbers).
    solver : None, str or callable
        As in :func:`root` (applied to ``x - g(x, *params)``).
    tol : float
        Solver tolerance (the result is then polished by Newton steps).
    order : int, optional
        Minimum number of chord corrections, as in :func:`root`.

    Returns
    -------
    float or numpy.ndarray or engine number
        The fixed point, carrying the parameters' perturbations.

    Raises
    ------
    RuntimeError
        If the solver does not converge.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> x = fixed_point(lambda x, a: np.cos(a * x), 0.5, 1.0)     # the Dottie number
    >>> round(x, 12)
    0.739085133215
    >>> d = hyperdual.derivative(lambda a: fixed_point(lambda x, b: np.cos(b * x), 0.5, a), 1.0)
    >>> bool(np.isclose(d, -x * np.sin(x) / (1 + np.sin(x)), rtol=1e-14))
    True
    """
    _check_closure(g(_float_point(x0)[0], *(_plain(p) for p in params)), "fixed_point")
    return root(lambda x, *p: x - g(x, *p), x0, *params, solver=solver, tol=tol, order=order)


def minimize(f: Callable, x0: Any, *params: Any, method: str | None = None, tol: float = 1e-12,
             order: int | None = None) -> Any:
    """``argmin_x f(x, *params)``, differentiable in ``params`` to every order.

    Minimised by ``scipy.optimize.minimize`` on floats with exact gradients
    and Hessians; the derivatives follow from the stationarity condition
    ``∇ₓf(x, params) = 0`` (:func:`root` on the gradient, which is taken
    with ``hyperdual.gradient``, nested inside whatever differentiates the
    parameters).  The minimiser must be a nondegenerate (Hessian invertible).

    Parameters
    ----------
    f : callable
        Scalar objective ``f(x, *params)`` written with numpy.
    x0 : float or array
        Starting point.
    *params
        Parameters (floats, arrays or any engine's numbers).
    method : str, optional
        ``scipy.optimize.minimize`` method (default ``"trust-exact"``, which
        uses the exact Hessian).
    tol : float
        Optimizer tolerance (the result is then polished by Newton steps on
        the gradient).
    order : int, optional
        Minimum number of chord corrections, as in :func:`root`.

    Returns
    -------
    float or numpy.ndarray or engine number
        The minimiser, with the shape of ``x0``, carrying the parameters'
        perturbations.

    Raises
    ------
    RuntimeError
        If the optimizer does not reach a stationary point.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> f = lambda x, a: np.sum((x - a) ** 2) + np.sum(x ** 4)
    >>> x = minimize(f, np.zeros(2), np.array([1.0, 2.0]))
    >>> bool(np.allclose(2 * (x - [1, 2]) + 4 * x ** 3, 0, atol=1e-12))
    True
    """
    import scipy.optimize

    from .helpers import gradient, hessian

    p0 = tuple(_plain(p) for p in params)
    x, shape = _float_point(x0)
    _check_closure(f(x, *p0), "minimize")

    def fun(z):
        return float(_plain(f(np.reshape(z, shape), *p0)))

    def jac(z):
        return np.reshape(gradient(lambda w: f(w, *p0), np.reshape(z, shape)), -1)

    def hess(z):
        n = z.size
        return np.reshape(hessian(lambda w: f(w, *p0), np.reshape(z, shape)), (n, n))

    res = scipy.optimize.minimize(fun, x.reshape(-1), jac=jac, hess=hess,
                                  method=method or "trust-exact", tol=tol)
    xs = np.reshape(res.x, shape)

    def stationarity(z, *p):
        return gradient(lambda w: f(w, *p), z)

    xs, J = _polish(stationarity, xs, p0, "minimize")
    if not np.all(np.abs(stationarity(xs, *p0)) <= max(1e3 * tol, 1e-8)):
        raise RuntimeError(f"hyperdual.minimize: the minimiser did not converge: {res.message}")
    if any(_is_variable(p) for p in params):
        probe = stationarity(xs, *params)
        if not _is_variable(probe):
            raise NotImplementedError(
                "minimize: the stationarity condition needs hyperdual.gradient nested inside "
                "reverse mode, which did not return a Variable here (nested helpers across "
                "engines); use hyperdual parameters, or root() on your own gradient")
    return _corrected(stationarity, xs, J, params, order, "minimize")


def root_scalar(f: Callable, bracket: tuple[float, float], *params: Any, tol: float = 1e-14,
                order: int | None = None) -> Any:
    """The root of scalar ``f(x, *params)`` in ``bracket``, differentiable in ``params``.

    Brent's method (``scipy.optimize.brentq``) on floats; derivatives as in
    :func:`root`.

    Parameters
    ----------
    f : callable
        Scalar ``f(x, *params)`` written with numpy.
    bracket : (float, float)
        An interval on whose ends ``f`` has opposite signs.
    *params
        Parameters (floats or any engine's numbers).
    tol : float
        Absolute tolerance of Brent's method (then polished by Newton steps).
    order : int, optional
        Minimum number of chord corrections, as in :func:`root`.

    Returns
    -------
    float or engine number
        The root, carrying the parameters' perturbations.

    Examples
    --------
    ``x**3 = a`` gives ``dx/da = 1 / (3 a**(2/3)) = 1/12`` at a = 8:

    >>> import numpy as np
    >>> import hyperdual
    >>> r = root_scalar(lambda x, a: x ** 3 - a, (0.0, 3.0), 8.0)
    >>> r
    2.0
    >>> hyperdual.derivative(lambda a: root_scalar(lambda x, b: x ** 3 - b, (0.0, 3.0), a), 8.0)
    0.08333333333333333
    """
    import scipy.optimize

    p0 = tuple(_plain(p) for p in params)
    lo, hi = (float(b) for b in bracket)
    _check_closure(f(lo, *p0), "root_scalar")

    def fun(z):
        return float(_plain(f(z, *p0)))

    xs = scipy.optimize.brentq(fun, lo, hi, xtol=tol, rtol=4 * np.finfo(float).eps)
    xs, J = _polish(f, np.array(xs), p0, "root_scalar")
    return _corrected(f, xs, J, params, order, "root_scalar")

