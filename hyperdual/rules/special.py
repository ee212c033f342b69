"""Forward-mode rules for scipy.special functions with a constant parameter:
Bessel functions of any order (``jv``/``jn``, ``yv``, ``yn``, ``iv``, ``ive``,
``kv``, ``kve``, ``j0``, ``j1``, ``y0``, ``y1``, ``k0``, ``k1``), ``rgamma``,
the regularised incomplete gamma and beta functions ``gammainc``,
``gammaincc``, ``betainc`` (differentiated in ``x``), and ``gammasgn``.

Each is a :class:`hyperdual.custom_jvp` whose JVP is written with the same
functions (``jv' = (j_{v-1} - j_{v+1}) / 2`` ...), so the rule differentiates
itself: HyperDuals, direction stacks, nesting and reverse mode (which
registers the same objects, :mod:`reverse.rules.special`) all follow from it.
The order ``v`` (and ``a``, ``b`` of the incomplete functions) is a constant:
a differentiated value there raises ``TypeError`` rather than dropping its
derivative.

Examples
--------
>>> import numpy as np, scipy.special as sp
>>> from hyperdual import derivative
>>> bool(np.isclose(derivative(lambda x: sp.jv(1.5, x), 2.0),
...                 (sp.jv(0.5, 2.0) - sp.jv(2.5, 2.0)) / 2))
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.special as sp

from _exactdiff import elementwise as _e
from _exactdiff._common import is_traced

from .._number import implements
from ..custom import custom_jvp

# dispatch targets only: hyperdual exports nothing from here
__all__: list[str] = []

#: scipy ufunc -> (custom function, number of constant leading parameters)
SPECIAL: dict[Any, tuple[custom_jvp, int]] = {}


def _rule(ufunc: Any, nparams: int, deriv: Callable[..., Any]) -> custom_jvp:
    """A custom_jvp for ``ufunc(*params, x)`` with ``d/dx = deriv(*params, x)``."""
    f = custom_jvp(lambda *args: ufunc(*args), nondiff_argnums=tuple(range(nparams)))
    f.__name__ = f.__qualname__ = ufunc.__name__

    @f.defjvp
    def _jvp(*args: Any) -> Any:
        params, (primals, tangents) = args[:nparams], args[nparams:]
        (x,), (t,) = primals, tangents
        return f(*params, x), t * deriv(*params, x)

    @f.defvjp
    def _vjp(*args: Any) -> Any:
        params, (primals, _out, g) = args[:nparams], args[nparams:]
        return g * deriv(*params, primals[0])

    SPECIAL[ufunc] = (f, nparams)
    return f


def call(ufunc: Any, engine: str, *args: Any) -> Any:
    """Evaluate a rule of :data:`SPECIAL`; its parameters must be constants."""
    f, nparams = SPECIAL[ufunc]
    if len(args) != nparams + 1:
        raise TypeError(f"{engine}: scipy.special.{ufunc.__name__} takes {nparams + 1} "
                        f"arguments, got {len(args)}")
    for p in args[:nparams]:
        if is_traced(p):
            raise TypeError(
                f"{engine}: scipy.special.{ufunc.__name__}: the derivative with respect to "
                "its parameters (order, shape) is not supported; only the last argument "
                "may be differentiated")
    return f(*args)


def _half(f: Any, v: Any, x: Any, sign: float) -> Any:
    return 0.5 * (f(v - 1.0, x) + sign * f(v + 1.0, x))


jv = _rule(sp.jv, 1, lambda v, x: _half(jv, v, x, -1.0))
yv = _rule(sp.yv, 1, lambda v, x: _half(yv, v, x, -1.0))
iv = _rule(sp.iv, 1, lambda v, x: _half(iv, v, x, 1.0))
kv = _rule(sp.kv, 1, lambda v, x: -_half(kv, v, x, 1.0))
# scaled: ive = iv e^{-|x|}, kve = kv e^{x}
ive = _rule(sp.ive, 1, lambda v, x: _half(ive, v, x, 1.0) - np.sign(x) * ive(v, x))
kve = _rule(sp.kve, 1, lambda v, x: kve(v, x) - _half(kve, v, x, 1.0))
yn = _rule(sp.yn, 1, lambda n, x: _half(yv, np.asarray(n, dtype=float), x, -1.0))
j0 = _rule(sp.j0, 0, lambda x: -j1(x))
j1 = _rule(sp.j1, 0, lambda x: 0.5 * (j0(x) - jv(2.0, x)))
y0 = _rule(sp.y0, 0, lambda x: -y1(x))
y1 = _rule(sp.y1, 0, lambda x: 0.5 * (y0(x) - yv(2.0, x)))
k0 = _rule(sp.k0, 0, lambda x: -k1(x))
k1 = _rule(sp.k1, 0, lambda x: -0.5 * (k0(x) + kv(2.0, x)))
rgamma = _rule(sp.rgamma, 0, lambda x: -rgamma(x) * sp.digamma(x))
# d/dx P(a, x) = x^(a-1) e^-x / Gamma(a); Q = 1 - P
gammainc = _rule(sp.gammainc, 1,
                 lambda a, x: np.exp((a - 1.0) * np.log(x) - x - sp.gammaln(a)))
gammaincc = _rule(sp.gammaincc, 1,
                  lambda a, x: -np.exp((a - 1.0) * np.log(x) - x - sp.gammaln(a)))
# d/dx I_x(a, b) = x^(a-1) (1-x)^(b-1) / B(a, b)
betainc = _rule(sp.betainc, 2, lambda a, b, x: np.exp(
    (a - 1.0) * np.log(x) + (b - 1.0) * np.log1p(-x) - sp.betaln(a, b)))


def _register(ufunc: Any) -> None:
    def impl(*args: Any) -> Any:
        return call(ufunc, "hyperdual", *args)
    implements(ufunc)(impl)


for _uf in SPECIAL:
    _register(_uf)
implements(sp.gammasgn)(_e.gammasgn)
