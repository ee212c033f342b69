"""Random compositions of the elementwise numpy and scipy.special functions, every
derivative helper of both engines and their nestings, against sympy's exact
derivatives evaluated with mpmath at 50 digits.

Shared by ``tests/reliability/test_rel_sympy_fuzz.py`` (a seeded subset) and
``scripts/fuzz_derivatives.py`` (thousands of cases, offline).

An expression of two variables ``x0, x1`` composes 2-5 operations drawn from
``UNARY``/``BINARY``; a point is drawn at moderate magnitude and kept only where
every operation's argument lies inside its domain with a margin (no pole, branch
cut, kink or tie within 0.05) and the float64 program is accurate.

The tolerance is a few ulps times a condition number computed with mpmath, never
flat.  Every node ``k`` of the program (each operation and each occurrence of a
variable) is evaluated as ``f_k(u (1 + a_k)) (1 + d_k)``: ``d_k`` models the
relative rounding of the node's value and of everything the differentiation
multiplies into it, ``a_k`` the backward error of a special function's
implementation (its derivative rule's error near a zero of f'), and a separate
``d`` per occurrence of a variable models the cancellation between the
contributions of different occurrences (``atan2(x1, x1)``).  With ``D`` the exact
derivative entry and ``S = |D| + sum_k w_k (|dD/dd_k| + |dD/da_k|)`` (the
sensitivities by a 1e-25 step at 50 digits; ``w_k`` is 1 for numpy's functions,
8-32 for scipy.special's, ``ACCURACY``), a computed entry is wrong when
``|got - D| > ULPS * eps * max(S, N)``, N the largest entry of the same tensor
(normwise: a rule's own formula rounds its partials, which no node perturbation
models).  ``S / |D|`` is the condition number of the entry under rounding of
every intermediate value.
"""

from __future__ import annotations

import math
import random
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import mpmath as M
import numpy as np
import sympy as sp
from scipy import special as sc

import hyperdual as hd
import reverse as rv

EPS = float(np.finfo(float).eps)
TINY = float(np.finfo(float).tiny)  # the smallest normal float64
M.mp.dps = 50
ULPS = 64.0
X = sp.symbols("x0 x1", real=True)
H = sp.Rational(1, 2)


class _Stair(sp.Function):
    """A locally constant integer (floor/trunc/round of a quotient): derivative 0."""

    def fdiff(self, argindex=1):
        return sp.S.Zero


def _mp_stair(v):
    return M.floor(v)


def _far_from_int(v, margin=0.05):
    return abs(v - M.nint(v)) > margin


# name -> (sympy form, numpy form, domain(mp args) -> bool)
UNARY: dict[str, tuple[Callable, Callable, Callable]] = {
    "sin": (sp.sin, np.sin, lambda a: abs(a) < 50),
    "cos": (sp.cos, np.cos, lambda a: abs(a) < 50),
    "tan": (sp.tan, np.tan, lambda a: abs(M.cos(a)) > 0.15 and abs(a) < 50),
    "arcsin": (sp.asin, np.arcsin, lambda a: abs(a) < 0.93),
    "arccos": (sp.acos, np.arccos, lambda a: abs(a) < 0.93),
    "arctan": (sp.atan, np.arctan, lambda a: True),
    "sinh": (sp.sinh, np.sinh, lambda a: abs(a) < 20),
    "cosh": (sp.cosh, np.cosh, lambda a: abs(a) < 20),
    "tanh": (sp.tanh, np.tanh, lambda a: True),
    "arcsinh": (sp.asinh, np.arcsinh, lambda a: True),
    "arccosh": (sp.acosh, np.arccosh, lambda a: a > 1.07),
    "arctanh": (sp.atanh, np.arctanh, lambda a: abs(a) < 0.93),
    "exp": (sp.exp, np.exp, lambda a: abs(a) < 20),
    "exp2": (lambda e: 2**e, np.exp2, lambda a: abs(a) < 25),
    "expm1": (lambda e: sp.exp(e) - 1, np.expm1, lambda a: abs(a) < 20),
    "log": (sp.log, np.log, lambda a: a > 0.05),
    "log2": (lambda e: sp.log(e, 2), np.log2, lambda a: a > 0.05),
    "log10": (lambda e: sp.log(e, 10), np.log10, lambda a: a > 0.05),
    "log1p": (lambda e: sp.log(1 + e), np.log1p, lambda a: a > -0.93),
    "sqrt": (sp.sqrt, np.sqrt, lambda a: a > 0.05),
    "cbrt": (lambda e: sp.sign(e) * sp.Abs(e) ** sp.Rational(1, 3), np.cbrt,
             lambda a: abs(a) > 0.05),
    "square": (lambda e: e**2, np.square, lambda a: True),
    "reciprocal": (lambda e: 1 / e, np.reciprocal, lambda a: abs(a) > 0.05),
    "abs": (sp.Abs, np.abs, lambda a: abs(a) > 0.05),
    "negative": (lambda e: -e, np.negative, lambda a: True),
    "rad2deg": (lambda e: e * 180 / sp.pi, np.rad2deg, lambda a: True),
    "pow3": (lambda e: e**3, lambda v: v**3, lambda a: True),
    "pow-2": (lambda e: e**-2, lambda v: v**-2, lambda a: abs(a) > 0.05),
    "pow1.5": (lambda e: e ** sp.Rational(3, 2), lambda v: v**1.5, lambda a: a > 0.05),
    "pow-0.5": (lambda e: e ** sp.Rational(-1, 2), lambda v: v**-0.5, lambda a: a > 0.05),
    "sinc": (lambda e: sp.sin(sp.pi * e) / (sp.pi * e), np.sinc, lambda a: abs(a) > 0.05),
    "np.i0": (lambda e: sp.besseli(0, e), np.i0, lambda a: abs(a) < 30),
    "erf": (sp.erf, sc.erf, lambda a: True),
    "erfc": (sp.erfc, sc.erfc, lambda a: a < 20),
    "erfcx": (lambda e: sp.exp(e**2) * sp.erfc(e), sc.erfcx, lambda a: a > -5),
    "erfinv": (sp.erfinv, sc.erfinv, lambda a: abs(a) < 0.93),
    "erfcinv": (sp.erfcinv, sc.erfcinv, lambda a: 0.07 < a < 1.93),
    "expit": (lambda e: 1 / (1 + sp.exp(-e)), sc.expit, lambda a: True),
    "logit": (lambda e: sp.log(e / (1 - e)), sc.logit, lambda a: 0.05 < a < 0.95),
    "ndtr": (lambda e: (1 + sp.erf(e / sp.sqrt(2))) / 2, sc.ndtr, lambda a: True),
    "log_ndtr": (lambda e: sp.log(sp.erfc(-e / sp.sqrt(2)) / 2), sc.log_ndtr,
                 lambda a: a < 30),
    "ndtri": (lambda e: sp.sqrt(2) * sp.erfinv(2 * e - 1), sc.ndtri,
              lambda a: 0.05 < a < 0.95),
    "gamma": (sp.gamma, sc.gamma, lambda a: a < 25 and (a > 0.05 or _far_from_int(a))),
    "rgamma": (lambda e: 1 / sp.gamma(e), sc.rgamma,
               lambda a: a < 25 and (a > 0.05 or _far_from_int(a))),
    "gammaln": (sp.loggamma, sc.gammaln, lambda a: 0.05 < a),
    "loggamma": (sp.loggamma, sc.loggamma, lambda a: 0.05 < a),
    "digamma": (lambda e: sp.polygamma(0, e), sc.digamma,
                lambda a: a > 0.05 or _far_from_int(a)),
    "polygamma1": (lambda e: sp.polygamma(1, e), lambda v: hd.polygamma(1, v),
                   lambda a: a > 0.05),
    "entr": (lambda e: -e * sp.log(e), sc.entr, lambda a: a > 0.05),
    "i0": (lambda e: sp.besseli(0, e), sc.i0, lambda a: abs(a) < 30),
    "i1": (lambda e: sp.besseli(1, e), sc.i1, lambda a: abs(a) < 30),
    "i0e": (lambda e: sp.exp(-sp.Abs(e)) * sp.besseli(0, e), sc.i0e,
            lambda a: 0.05 < abs(a) < 40),
    "i1e": (lambda e: sp.exp(-sp.Abs(e)) * sp.besseli(1, e), sc.i1e,
            lambda a: 0.05 < abs(a) < 40),
    "j0": (lambda e: sp.besselj(0, e), sc.j0, lambda a: abs(a) < 30),
    "j1": (lambda e: sp.besselj(1, e), sc.j1, lambda a: abs(a) < 30),
    "y0": (lambda e: sp.bessely(0, e), sc.y0, lambda a: 0.05 < a < 30),
    "y1": (lambda e: sp.bessely(1, e), sc.y1, lambda a: 0.05 < a < 30),
    "k0": (lambda e: sp.besselk(0, e), sc.k0, lambda a: 0.05 < a < 30),
    "k1": (lambda e: sp.besselk(1, e), sc.k1, lambda a: 0.05 < a < 30),
    "jv1.5": (lambda e: sp.besselj(sp.Rational(3, 2), e), lambda v: sc.jv(1.5, v),
              lambda a: 0.05 < a < 30),
    "yv0.5": (lambda e: sp.bessely(H, e), lambda v: sc.yv(0.5, v), lambda a: 0.05 < a < 30),
    "iv2": (lambda e: sp.besseli(2, e), lambda v: sc.iv(2.0, v), lambda a: abs(a) < 30),
    "kv1.5": (lambda e: sp.besselk(sp.Rational(3, 2), e), lambda v: sc.kv(1.5, v),
              lambda a: 0.05 < a < 30),
    "yn2": (lambda e: sp.bessely(2, e), lambda v: sc.yn(2, v), lambda a: 0.05 < a < 30),
    "kve1": (lambda e: sp.exp(e) * sp.besselk(1, e), lambda v: sc.kve(1.0, v),
             lambda a: 0.05 < a < 40),
    "ive0.5": (lambda e: sp.exp(-sp.Abs(e)) * sp.besseli(H, e), lambda v: sc.ive(0.5, v),
               lambda a: 0.05 < a < 40),
    "gammainc": (lambda e: sp.lowergamma(sp.Rational(3, 2), e) / sp.gamma(sp.Rational(3, 2)),
                 lambda v: sc.gammainc(1.5, v), lambda a: 0.05 < a < 30),
    "gammaincc": (lambda e: sp.uppergamma(sp.Rational(5, 2), e) / sp.gamma(sp.Rational(5, 2)),
                  lambda v: sc.gammaincc(2.5, v), lambda a: 0.05 < a < 30),
    # the closed-form custom_jvp rules of hyperdual/rules/special.py (SPECIAL_UNARY:
    # drawn only when asked, so a seed draws what it drew before they were added)
    "expi": (sp.Ei, sc.expi, lambda a: 0.05 < abs(a) < 30),
    "exp1": (lambda e: sp.expint(1, e), sc.exp1, lambda a: 0.05 < a < 30),
    "expn2": (lambda e: sp.expint(2, e), lambda v: sc.expn(2, v), lambda a: 0.05 < a < 30),
    "erfi": (sp.erfi, sc.erfi, lambda a: abs(a) < 5),
    "ellipk": (sp.elliptic_k, sc.ellipk, lambda a: -30 < a < 0.93),
    "ellipe": (sp.elliptic_e, sc.ellipe, lambda a: -30 < a < 0.93),
    "ellipkm1": (lambda e: sp.elliptic_k(1 - e), sc.ellipkm1, lambda a: 0.07 < a < 30),
    "spence": (lambda e: sp.polylog(2, 1 - e), sc.spence, lambda a: 0.05 < a < 30),
    "exp10": (lambda e: 10**e, sc.exp10, lambda a: abs(a) < 10),
    "cosm1": (lambda e: sp.cos(e) - 1, sc.cosm1, lambda a: abs(a) < 50),
    "sindg": (lambda e: sp.sin(sp.pi * e / 180), sc.sindg, lambda a: abs(a) < 5000),
    "cosdg": (lambda e: sp.cos(sp.pi * e / 180), sc.cosdg, lambda a: abs(a) < 5000),
    "wrightomega": (lambda e: sp.LambertW(sp.exp(e)), sc.wrightomega, lambda a: abs(a) < 30),
    "hyp0f1": (lambda e: sp.hyper([], [sp.Rational(5, 2)], e), lambda v: sc.hyp0f1(2.5, v),
               lambda a: abs(a) < 30),
    "hyp1f1": (lambda e: sp.hyper([sp.Rational(3, 2)], [sp.Rational(5, 2)], e),
               lambda v: sc.hyp1f1(1.5, 2.5, v), lambda a: abs(a) < 20),
    "hyp2f1": (lambda e: sp.hyper([H, sp.Rational(3, 2)], [sp.Rational(5, 2)], e),
               lambda v: sc.hyp2f1(0.5, 1.5, 2.5, v), lambda a: -5 < a < 0.9),
    "chebyt2.5": (lambda e: sp.cos(sp.Rational(5, 2) * sp.acos(e)),
                  lambda v: sc.eval_chebyt(2.5, v), lambda a: abs(a) < 0.93),
    "legendre3": (lambda e: sp.legendre(3, e), lambda v: sc.eval_legendre(3, v),
                  lambda a: abs(a) < 30),
    "poch1.5": (lambda e: sp.gamma(e + sp.Rational(3, 2)) / sp.gamma(e),
                lambda v: sc.poch(v, 1.5), lambda a: 0.05 < a < 25),
}

SPECIAL_UNARY = ("expi", "exp1", "expn2", "erfi", "ellipk", "ellipe", "ellipkm1", "spence",
                 "exp10", "cosm1", "sindg", "cosdg", "wrightomega", "hyp0f1", "hyp1f1",
                 "hyp2f1", "chebyt2.5", "legendre3", "poch1.5")
DEFAULT_UNARY = tuple(n for n in UNARY if n not in SPECIAL_UNARY)

BINARY: dict[str, tuple[Callable, Callable, Callable]] = {
    "add": (lambda a, b: a + b, np.add, lambda a, b: True),
    "sub": (lambda a, b: a - b, np.subtract, lambda a, b: True),
    "mul": (lambda a, b: a * b, np.multiply, lambda a, b: True),
    "div": (lambda a, b: a / b, np.divide, lambda a, b: abs(b) > 0.05),
    "power": (lambda a, b: a**b, np.power, lambda a, b: a > 0.05 and abs(b * M.log(a)) < 20),
    "float_power": (lambda a, b: a**b, np.float_power,
                    lambda a, b: a > 0.05 and abs(b * M.log(a)) < 20),
    "hypot": (lambda a, b: sp.sqrt(a**2 + b**2), np.hypot,
              lambda a, b: abs(a) + abs(b) > 0.05),
    "arctan2": (sp.atan2, np.arctan2,
                lambda a, b: abs(a) + abs(b) > 0.05 and (b > 0 or abs(a) > 0.05)),
    "logaddexp": (lambda a, b: sp.log(sp.exp(a) + sp.exp(b)), np.logaddexp,
                  lambda a, b: True),
    "logaddexp2": (lambda a, b: sp.log(2**a + 2**b, 2), np.logaddexp2, lambda a, b: True),
    "maximum": (sp.Max, np.maximum, lambda a, b: abs(a - b) > 0.05),
    "minimum": (sp.Min, np.minimum, lambda a, b: abs(a - b) > 0.05),
    "fmax": (sp.Max, np.fmax, lambda a, b: abs(a - b) > 0.05),
    "fmin": (sp.Min, np.fmin, lambda a, b: abs(a - b) > 0.05),
    "copysign": (lambda a, b: sp.Abs(a) * sp.sign(b), np.copysign,
                 lambda a, b: abs(a) > 0.05 and abs(b) > 0.05),
    "fmod": (lambda a, b: a - b * _Stair(a / b), np.fmod,
             lambda a, b: abs(b) > 0.05 and a / b > 0.05 and _far_from_int(a / b)),
    "remainder": (lambda a, b: a - b * _Stair(a / b), np.remainder,
                  lambda a, b: abs(b) > 0.05 and _far_from_int(a / b)),
    "beta": (sp.beta, sc.beta, lambda a, b: a > 0.05 and b > 0.05 and a + b < 40),
    "betaln": (lambda a, b: sp.log(sp.beta(a, b)), sc.betaln,
               lambda a, b: a > 0.05 and b > 0.05),
    "xlogy": (lambda a, b: a * sp.log(b), sc.xlogy, lambda a, b: b > 0.05),
    "xlog1py": (lambda a, b: a * sp.log(1 + b), sc.xlog1py, lambda a, b: b > -0.93),
    "rel_entr": (lambda a, b: a * sp.log(a / b), sc.rel_entr,
                 lambda a, b: a > 0.05 and b > 0.05),
    "kl_div": (lambda a, b: a * sp.log(a / b) - a + b, sc.kl_div,
               lambda a, b: a > 0.05 and b > 0.05),
}

# The relative accuracy of scipy's implementations, in ulps (cephes/AMOS/Boost are
# accurate to a few ulps of the value or its argument, the Bessel and incomplete
# gamma families to some tens): it weighs the node's perturbation symbols.
ACCURACY = {name: 8.0 for name in (
    "erfinv", "erfcinv", "ndtri", "gamma", "rgamma", "gammaln", "loggamma", "digamma",
    "polygamma1", "beta", "betaln", "np.i0", "erfcx", "log_ndtr", "sinc")}
ACCURACY.update({name: 32.0 for name in (
    "i0", "i1", "i0e", "i1e", "j0", "j1", "y0", "y1", "k0", "k1", "jv1.5", "yv0.5", "iv2",
    "kv1.5", "yn2", "kve1", "ive0.5", "gammainc", "gammaincc", "expi", "exp1", "expn2",
    "erfi", "ellipk", "ellipe", "ellipkm1", "spence", "wrightomega", "hyp0f1", "hyp1f1",
    "hyp2f1", "chebyt2.5", "poch1.5")})

# mpmath has no erfcinv; sign's derivative (DiracDelta) is 0 away from the kink
_MP_MODULES = [{"_Stair": _mp_stair, "erfcinv": lambda v: M.erfinv(1 - v),
                "DiracDelta": lambda *v: 0}, "mpmath"]
_A, _B = sp.symbols("a b", real=True)
_MP_OPS: dict[str, Callable] = {}


def _mp_op(kind: str, name: str) -> Callable:
    """The mpmath evaluation of one operation (its sympy form lambdified)."""
    key = kind + name
    if key not in _MP_OPS:
        s = UNARY[name][0](_A) if kind == "u" else BINARY[name][0](_A, _B)
        _MP_OPS[key] = sp.lambdify([_A, _B], s, _MP_MODULES)
    return _MP_OPS[key]


@dataclass
class Node:
    kind: str  # "x" (variable), "c" (constant), "u", "b"
    name: str = ""
    index: int = 0
    const: float = 0.0
    children: list = field(default_factory=list)


def random_expression(rng: random.Random, n_ops: int, unary=None, binary=None) -> Node:
    """A random tree with exactly ``n_ops`` operations (unary or binary)."""
    unary = sorted(unary or DEFAULT_UNARY)
    binary = sorted(binary or BINARY)

    def build(k: int) -> Node:
        if k == 0:
            if rng.random() < 0.85:
                return Node("x", index=rng.randrange(2))
            return Node("c", const=rng.choice([0.5, 1.5, 2.0, 3.0, 0.25, -1.5]))
        if k == 1 or rng.random() < 0.5:
            return Node("u", rng.choice(unary), children=[build(k - 1)])
        left = rng.randint(0, k - 1)
        return Node("b", rng.choice(binary), children=[build(left), build(k - 1 - left)])

    return build(n_ops)


def describe(node: Node) -> str:
    if node.kind == "x":
        return f"x{node.index}"
    if node.kind == "c":
        return repr(node.const)
    return f"{node.name}({', '.join(describe(c) for c in node.children)})"


def numpy_function(node: Node) -> Callable:
    """The program as plain numpy, a function of ``v = [x0, x1]``."""
    if node.kind == "x":
        return lambda v, i=node.index: v[i]
    if node.kind == "c":
        return lambda v, c=node.const: c
    fs = [numpy_function(c) for c in node.children]
    op = UNARY[node.name][1] if node.kind == "u" else BINARY[node.name][1]
    if node.kind == "u":
        return lambda v, f=fs[0], op=op: op(f(v))
    return lambda v, f=fs[0], g=fs[1], op=op: op(f(v), g(v))


def check_domain(node: Node, point) -> tuple[bool, object]:
    """(inside every operation's domain, mp value) at ``point`` (mp numbers)."""
    if node.kind == "x":
        return True, point[node.index]
    if node.kind == "c":
        return True, M.mpf(node.const)
    vals = []
    for c in node.children:
        ok, v = check_domain(c, point)
        if not ok:
            return False, None
        vals.append(v)
    try:
        if node.kind == "u":
            if not UNARY[node.name][2](vals[0]):
                return False, None
            out = _mp_op("u", node.name)(vals[0], 0)
        else:
            if not BINARY[node.name][2](*vals):
                return False, None
            out = _mp_op("b", node.name)(*vals)
    except (ValueError, ZeroDivisionError, TypeError, OverflowError):
        return False, None
    if isinstance(out, M.mpc) or not M.isfinite(out) or abs(out) > 1e30:
        return False, None
    return True, out


def symbolic(node: Node, syms: list) -> sp.Expr:
    """The sympy form with every node wrapped as ``f(u (1 + a)) (1 + d)``; the
    perturbation symbols are appended to ``syms``."""
    if node.kind == "c":
        return sp.nsimplify(node.const)
    weight = ACCURACY.get(node.name, 1.0)
    d = sp.Symbol(f"d{len(syms)}", real=True)
    syms.append((d, weight))
    if node.kind == "x":
        return X[node.index] * (1 + d)
    args = []
    for c in node.children:
        e = symbolic(c, syms)
        a = sp.Symbol(f"d{len(syms)}", real=True)
        syms.append((a, weight))
        args.append(e * (1 + a))
    form = UNARY[node.name][0] if node.kind == "u" else BINARY[node.name][0]
    return form(*args) * (1 + d)


@dataclass
class Case:
    """One expression with its exact derivative tensors (lambdified)."""

    node: Node
    f: Callable
    expr: sp.Expr
    syms: list
    lam: Callable  # (x0, x1, *syms) -> [f, grad(2), hess(3), third(4)]

    #: the working precision :meth:`truth` settled on at the last point
    dps: int = 50

    def truth(self, p) -> list:
        """[value, grad (2), hess (3), third (4)] at the float point ``p``.

        sympy's derivative formulas cancel where the function saturates (tanh' is
        1 - tanh**2, which is exactly 0 at 50 digits once tanh(u) = 1 - 2e-99), so the
        evaluation is repeated at twice the digits until two agree to 30 digits in
        every entry (at most 1600 digits)."""
        P = [M.mpf(float(v)) for v in p]
        zero = [M.mpf(0)] * len(self.syms)
        dps = 50
        with M.workdps(dps):
            base = self.lam(*P, *zero)
        while dps < 1600:
            with M.workdps(2 * dps):
                more = self.lam(*P, *zero)
            if all(_agree(a, b) for a, b in zip(base, more)):
                break
            dps, base = 2 * dps, more
        self.dps = dps
        return base

    def scale(self, p, base) -> list:
        """``S = |D| + sum_k w_k |dD/dd_k|`` for every entry of :meth:`truth` (the
        sensitivities by a step of half the digits :meth:`truth` used; ``w_k`` the
        node's accuracy)."""
        P = [M.mpf(float(v)) for v in p]
        zero = [M.mpf(0)] * len(self.syms)
        step = M.mpf(10) ** (-(self.dps // 2))
        scale = [abs(b) for b in base]
        for k in range(len(self.syms)):
            pert = list(zero)
            pert[k] = step
            with M.workdps(self.dps):
                moved = self.lam(*P, *pert)
            w = self.syms[k][1]
            for j, (m, b) in enumerate(zip(moved, base)):
                scale[j] += w * abs((m - b) / step)
        return scale


def _agree(a, b) -> bool:
    """Two evaluations of one truth entry at different precisions agree to 30 digits
    (complex parts of a real function compared by their real parts)."""
    a, b = (v.real if isinstance(v, M.mpc) else v for v in (a, b))
    if not (M.isfinite(a) and M.isfinite(b)):
        return a == b or (M.isnan(a) and M.isnan(b))
    return abs(a - b) <= M.mpf("1e-30") * max(abs(a), abs(b))


def _unpack(flat):
    """flat [f, g0, g1, h00, h01, h11, t000, t001, t011, t111] -> arrays."""
    f = flat[0]
    g = np.array(flat[1:3], dtype=object)
    h = np.empty((2, 2), dtype=object)
    h[0, 0], h[0, 1], h[1, 1] = flat[3:6]
    h[1, 0] = h[0, 1]
    t = np.empty((2, 2, 2), dtype=object)
    for idx in np.ndindex(2, 2, 2):
        t[idx] = flat[6 + sum(idx)]
    return f, g, h, t


def make_case(node: Node) -> Case:
    syms: list = []
    expr = symbolic(node, syms)
    plain = expr.subs({s: 0 for s, _ in syms})
    if not plain.free_symbols & set(X):
        raise ValueError("constant expression")
    g = [sp.diff(expr, s) for s in X]
    h = [sp.diff(g[0], X[0]), sp.diff(g[0], X[1]), sp.diff(g[1], X[1])]
    t = [sp.diff(h[0], X[0]), sp.diff(h[0], X[1]), sp.diff(h[1], X[1]), sp.diff(h[2], X[1])]
    lam = sp.lambdify([*X, *(s for s, _ in syms)], [expr, *g, *h, *t], _MP_MODULES)
    return Case(node, numpy_function(node), expr, syms, lam)


SCALES = (1.0, 1.0, 1.0, 0.3, 3.0)


def draw_point(rng: random.Random, case: Case, tries: int = 30, scales=SCALES):
    """A float point inside every operation's domain where the float64 program
    is accurate, or None (coordinates uniform in [-2, 2] times one of ``scales``)."""
    for _ in range(tries):
        scale = rng.choice(scales)
        p = np.array([round(rng.uniform(-2, 2) * scale, 6) for _ in range(2)])
        ok, val = check_domain(case.node, [M.mpf(float(v)) for v in p])
        if not ok or abs(val) < 1e-6:
            continue
        with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
            warnings.simplefilter("ignore")
            try:
                fv = float(case.f(p))
            except (FloatingPointError, ValueError, TypeError):
                continue
        if abs(fv - val) > 1e-9 * abs(val):
            continue
        return p
    return None


# ---------------------------------------------------------------- the paths

U = np.array([0.75, -0.5])
V = np.array([0.25, 1.25])
ENG = {"hd": hd, "rv": rv}


def _line(f, p, u):
    return lambda t: f(p + t * u)


def paths(f, p) -> dict:
    """name -> (order, contraction, callable returning the computed entries).
    contraction "full" compares the whole tensor; "v"/"uv"/"uuv" ... contract
    the truth with the directions."""
    out: dict = {}
    for a, A in ENG.items():
        out[f"{a}.gradient"] = (1, "", lambda A=A: A.gradient(f, p))
        out[f"{a}.value_and_gradient"] = (1, "", lambda A=A: A.value_and_gradient(f, p)[1])
        out[f"{a}.jvp"] = (1, "v", lambda A=A: A.jvp(f, p, V)[1])
        out[f"{a}.vjp"] = (1, "", lambda A=A: A.vjp(f, p, 1.0)[1])
        out[f"{a}.derivative"] = (1, "u", lambda A=A: A.derivative(_line(f, p, U), 0.0))
        out[f"{a}.hessian"] = (2, "", lambda A=A: A.hessian(f, p))
        out[f"{a}.second_derivative"] = (
            2, "uu", lambda A=A: A.second_derivative(_line(f, p, U), 0.0))
        out[f"{a}.derivatives3"] = (3, "uuu", lambda A=A: A.derivatives(_line(f, p, U), 0.0, 3)[3])
        out[f"{a}.taylor3"] = (3, "uuu", lambda A=A: 6 * A.taylor(_line(f, p, U), 0.0, 3)[3])
        out[f"{a}.derivative_tensor3"] = (3, "", lambda A=A: A.derivative_tensor(f, p, 3))
    out["hd.hvp"] = (2, "v", lambda: hd.hvp(f, p, V))
    out["rv.hvp_for"] = (2, "v", lambda: rv.hvp(f, p, V))
    out["rv.hvp_ror"] = (2, "v", lambda: rv.hvp(f, p, V, mode="reverse-over-reverse"))
    out["rv.derivatives3_backprop"] = (
        3, "uuu", lambda: rv.derivatives(_line(f, p, U), 0.0, 3, method="backprop")[3])
    out["rv.derivative_tensor3_backprop"] = (
        3, "", lambda: rv.derivative_tensor(f, p, 3, method="backprop"))
    out["hd.nth_derivative3"] = (3, "uuu", lambda: hd.nth_derivative(_line(f, p, U), 0.0, 3))
    for a, A in ENG.items():
        for b, B in ENG.items():
            out[f"{a}.jacobian({b}.gradient)"] = (
                2, "", lambda A=A, B=B: A.jacobian(lambda q: B.gradient(f, q), p))
            out[f"{a}.derivative({b}.derivative)"] = (
                2, "uv", lambda A=A, B=B: A.derivative(
                    lambda s: B.derivative(lambda t: f(p + s * U + t * V), 0.0), 0.0))
            out[f"{a}.jacobian({b}.hessian)"] = (
                3, "", lambda A=A, B=B: A.jacobian(lambda q: B.hessian(f, q), p))
            out[f"{a}.derivative({b}.second_derivative)"] = (
                3, "uvv", lambda A=A, B=B: A.derivative(
                    lambda s: B.second_derivative(lambda t: f(p + s * U + t * V), 0.0), 0.0))
            out[f"{a}.gradient({b}.jvp)"] = (
                2, "v", lambda A=A, B=B: A.gradient(lambda q: B.jvp(f, q, V)[1], p))
            out[f"{a}.jacobian({b}.hvp)"] = (
                3, "v", lambda A=A, B=B: A.jacobian(lambda q: B.hvp(f, q, V), p))
            out[f"{a}.hessian({b}.derivative)"] = (
                3, "u", lambda A=A, B=B: A.hessian(
                    lambda q: B.derivative(lambda t: f(q + t * U), 0.0), p))
    for a, A in ENG.items():  # three nested helpers, one per engine choice
        for b, B in ENG.items():
            for c, C in ENG.items():
                out[f"{a}.derivative({b}.derivative({c}.derivative))"] = (
                    3, "uvu", lambda A=A, B=B, C=C: A.derivative(
                        lambda r: B.derivative(
                            lambda s: C.derivative(
                                lambda t: f(p + r * U + s * V + t * U), 0.0), 0.0), 0.0))
    out["rv.jacobian(rv.hvp_ror)"] = (
        3, "v", lambda: rv.jacobian(lambda q: rv.hvp(f, q, V, mode="reverse-over-reverse"), p))
    return out


def contract(tensor, how: str):
    """Contract the last axes of an object array with the directions, one per letter
    of ``how`` (the last letter first): "u"/"v" are U/V, "U"/"V" their absolute values."""
    t = tensor
    if how.isupper():
        t = np.vectorize(abs, otypes=[object])(t)
    for ch in reversed(how):
        w = {"u": U, "v": V, "U": np.abs(U), "V": np.abs(V)}[ch]
        t = np.tensordot(t, np.array([M.mpf(float(c)) for c in w], dtype=object),
                         axes=([-1], [0]))
    return t


@dataclass
class Failure:
    path: str
    expr: str
    point: list
    index: tuple
    got: float
    truth: float
    allowed: float
    ratio: float

    def __str__(self) -> str:
        return (f"{self.path}{list(self.index)} of {self.expr} at {self.point}: got "
                f"{self.got!r}, truth {self.truth!r} (error {self.ratio:.3g} x allowed "
                f"{self.allowed:.3g})")


def check(case: Case, p, only=None, stats: dict | None = None) -> list[Failure]:
    """Every path at ``p``; the failures.  ``stats`` counts checked entries per path.

    An entry within ``ULPS`` ulps of the truth passes at once; the condition
    number (``Case.scale``, one evaluation per perturbation symbol) is computed
    only for the others, and the allowance is at least ``ULPS`` ulps of the
    largest entry of the same tensor (normwise: a rule's own formula rounds its
    partials).  A tensor that is exactly 0 (f does not depend on the variables)
    must be computed as exactly 0."""
    base = case.truth(p)
    _, g, h, t = _unpack(base)
    truth = {1: g, 2: h, 3: t}
    scales: list = []

    def scale_of(order, how, shape):
        if not scales:
            scales.append(_unpack(case.scale(p, base))[1:])
        ss = scales[0][order - 1]
        # the scale of a contraction: contract the absolute scales with |u|, |v|
        sc_ = contract(ss, how.upper()) if how else ss
        return np.asarray(sc_, dtype=object).reshape(shape)

    fails = []
    desc = describe(case.node)
    for name, (order, how, run) in paths(case.f, p).items():
        if only is not None and name not in only:
            continue
        exact = contract(truth[order], how)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                got = np.asarray(run(), dtype=float)
            except TimeoutError:  # the sweep's time limit per case
                raise
            except Exception as e:  # noqa: BLE001 - every exception is a finding
                if isinstance(e, TypeError) and "not supported" in str(e):
                    if stats is not None:
                        key = "unsupported " + name
                        stats[key] = stats.get(key, 0) + 1
                    continue
                fails.append(Failure(name, desc, p.tolist(), (), math.nan, math.nan, 0.0,
                                     math.inf))
                fails[-1].path += f" raised {type(e).__name__}: {str(e)[:200]}"
                continue
        if got.size != np.size(exact):
            fails.append(Failure(name + " wrong shape", desc, p.tolist(), (), math.nan,
                                 math.nan, 0.0, math.inf))
            continue
        exact = np.asarray(exact, dtype=object).reshape(got.shape)
        sc_ = None
        for idx in np.ndindex(got.shape):
            tv = exact[idx]
            if isinstance(tv, M.mpc):
                tv = tv.real
            if abs(tv) > 1e300:
                continue
            gv = float(got[idx])
            err = abs(M.mpf(gv) - tv) if math.isfinite(gv) else M.inf
            if stats is not None:
                stats[name] = stats.get(name, 0) + 1
            if err <= ULPS * EPS * abs(tv):
                continue
            if abs(tv) < TINY and err <= TINY:
                # a truth below the normal floats: 0 or a subnormal of either sign is
                # its float (the README's promise holds where the truth is normal)
                continue
            if sc_ is None:
                sc_ = scale_of(order, how, got.shape)
                # normwise floor: the largest entry of the same (contracted) tensor;
                # a rule's own formula rounds its partials (rel_entr's d3/da2 db is
                # 0, computed -2e-16 next to d3/da3 = 387)
                full = contract(truth[order], how.upper()) if how else truth[order]
                norm = max(abs(e) for e in np.ravel(np.asarray(full, dtype=object)))
            allowed = ULPS * EPS * max(sc_[idx], norm)
            if not err <= allowed:
                fails.append(Failure(name, desc, p.tolist(), idx, gv, float(tv),
                                     float(allowed),
                                     float(err / allowed) if allowed else math.inf))
    return fails


def op_names(node: Node) -> list[str]:
    """The operations of a tree (for counting what a sweep covered)."""
    if node.kind in "xc":
        return []
    return [node.name] + [n for c in node.children for n in op_names(c)]
