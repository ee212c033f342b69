"""``polygamma(n, x)`` for every order n, as one family of elementwise rules.

The rule of ``polygamma(n, .)`` has derivative ``polygamma(n + 1, .)`` and second
derivative ``polygamma(n + 2, .)``; the rules are made on first use, so nested
derivatives of gammaln, digamma and polygamma have no highest order.
"""

from __future__ import annotations

import functools

from _exactdiff.special import polygamma as _sp_polygamma

from . import _generic as g


@functools.cache
def polygamma_rule(n: int):
    """The unary rule of ``polygamma(n, .)`` (made once per n)."""
    from ._rules import UNARY, Unary

    name = f"polygamma{n}"
    if name in UNARY:  # the table's own orders 1..3
        return UNARY[name]
    rule = Unary(name, functools.partial(_sp_polygamma, n), None,
                 functools.partial(polygamma, n + 1), functools.partial(polygamma, n + 2),
                 "the n-th derivative of digamma", None, None)
    object.__setattr__(rule, "dscalar", rule.df)
    object.__setattr__(rule, "d2scalar", rule.d2f)
    setattr(g, name, g._make_unary(rule))
    return rule


def polygamma(n, x):
    """``scipy.special.polygamma(n, x)`` of a float, an array, a Dual or a HyperDual.

    ``n`` is a non-negative integer (a constant); the derivative of
    ``polygamma(n, x)`` is ``polygamma(n + 1, x)``, to any order.

    Parameters
    ----------
    n : int
        Order of the derivative of digamma (0 is digamma itself).
    x : float or array_like or Dual or HyperDual
        The argument.

    Returns
    -------
    float or numpy.ndarray or Dual or HyperDual
        The n-th derivative of digamma at ``x``, of ``x``'s kind.

    Raises
    ------
    ValueError
        If ``n`` is not a non-negative integer.

    Examples
    --------
    >>> from hyperdual import Dual
    >>> y = polygamma(1, Dual(1.0, 1.0))
    >>> round(y.real, 12), round(y.dual, 12)  # pi**2 / 6, -2 zeta(3)
    (1.644934066848, -2.404113806319)
    """
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise ValueError(f"hyperdual.polygamma: n must be a non-negative integer, got {n!r}")
    n = int(n)
    if n == 0:
        return g.digamma(x)  # noqa: F821 - installed by _generic.install
    return getattr(g, polygamma_rule(n).name)(x)
