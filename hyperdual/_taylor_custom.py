"""``custom_jvp`` rules on Taylor numbers: every order from the one JVP rule.

For ``y(t) = f(x(t))`` the rule gives ``y'(t) = jvp(x(t), x'(t))``.  Run on
the argument truncated to order K - 1 (a Taylor of the same tag) with the
tangent ``x'(t)`` (the series of the derivative, also order K - 1), the rule's
tangent output is the series of ``y'`` to order K - 1, and ``y_k = y'_{k-1} / k``
(the ODE trick of :func:`hyperdual._taylor.ode`).  The rule's own call of ``f``
on the truncated argument recurses one order down, so order K costs K nested
rule calls on Taylor numbers of decreasing order: the rule must be written with
differentiable numpy operations (as the first- and second-order modes require
too); ``f`` itself is only ever called on plain values (coefficient 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._number import _Number
from ._taylor import Taylor, _const_coef, _constant_stays_constant, _deriv, _integrate, _truncate


def forward_taylor(rule: Any, args: tuple, newest: Taylor) -> Taylor:
    """``rule(*args)`` where ``newest`` (a Taylor) carries the newest tag."""
    from .custom import _is_differentiable, _zero_tangent

    tag, K = newest.tag, newest.order
    nondiff, pos = rule.split_args(args)
    for i in pos:
        a = args[i]
        if isinstance(a, _Number) and a.tag == tag:
            if not isinstance(a, Taylor):
                raise TypeError(f"custom_jvp {rule._name}: arguments mix Taylor and "
                                f"{type(a).__name__} of one tag")
            if a.order != K:
                raise ValueError(f"custom_jvp {rule._name}: Taylor arguments of orders "
                                 f"{K} and {a.order} with one tag")
    if K == 0:
        plain = [a.coef[0] if isinstance(a, Taylor) and a.tag == tag else a for a in args]
        value = rule(*plain)
        return Taylor._make(_const_coef(value, 0), tag)
    primals, tangents = [], []
    for i in pos:
        a = args[i]
        if isinstance(a, Taylor) and a.tag == tag:
            primals.append(_truncate(a, K - 1))
            tangents.append(_deriv(a))
        elif _is_differentiable(a):
            primals.append(a)
            tangents.append(_zero_tangent(a))
        else:
            primals.append(a)
            tangents.append(None)
    out, tout = rule.call_jvp(nondiff, primals, tangents)
    value = out.coef[0] if isinstance(out, Taylor) and out.tag == tag else out
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = float(value) if value.dtype == np.float64 else value
    if not (isinstance(tout, Taylor) and tout.tag == tag):
        if isinstance(tout, _Number) and tout.tag > tag:
            raise ValueError(f"custom_jvp {rule._name}: the JVP rule returned a number of a "
                             "newer perturbation (an escaped derivative)")
        tout = Taylor._make(_const_coef(tout, K - 1), tag)
    out = _integrate(tout, value, tag)
    if getattr(rule, "_elementwise", False):
        # where no argument moves, the series is constant even beside an infinite
        # derivative (gammainc(0.5, x) at x = 0: the tangent series was 0 * inf = nan);
        # counted and audited as the library's own rules (_taylor._kept_constant)
        coefs = [args[i].coef for i in pos
                 if isinstance(args[i], Taylor) and args[i].tag == tag]
        try:
            out = _constant_stays_constant(out, coefs)
        except ValueError:  # (shapes that do not broadcast: keep the rule's values)
            pass
    return out
