"""Random expressions of (x0, x1, y0, y1): every inner helper (over y) inside every
outer helper (over x), in the four engine combinations, against sympy's exact
derivatives evaluated with mpmath at 50 digits.  tests/nesting/test_nesting_matrix.py
checks one fixed function per helper pair; this draws the functions at random from
the elementwise catalog of tests/reliability/test_rel_random_expressions.py (copied
here in part), so a rule that nests wrongly somewhere is met.  ``EXACTDIFF_SWEEP=N``
draws N expressions per seed.
"""

from __future__ import annotations

import math
import os
import random
import warnings

import mpmath as M
import numpy as np
import pytest
import sympy as sp
from scipy import special

import hyperdual as hd
import reverse as rv

HALF = sp.Rational(1, 2)


class R:
    """The catalog: name -> (sympy form, numpy form), arguments kept in the domain."""

    UNARY = {
        "sin": (sp.sin, np.sin),
        "exp": (sp.exp, np.exp),
        "tanh": (sp.tanh, np.tanh),
        "arctan": (sp.atan, np.arctan),
        "arcsinh": (sp.asinh, np.arcsinh),
        "erf": (sp.erf, special.erf),
        "expit": (lambda e: 1 / (1 + sp.exp(-e)), special.expit),
        "square": (lambda e: e**2, np.square),
        "expm1": (lambda e: sp.exp(e) - 1, np.expm1),
        "log": (lambda e: sp.log(e**2 + 2), lambda v: np.log(v * v + 2)),
        "sqrt": (lambda e: sp.sqrt(e**2 + 1), lambda v: np.sqrt(v * v + 1.0)),
        "gammaln": (lambda e: sp.loggamma(e**2 + HALF), lambda v: special.gammaln(v * v + 0.5)),
        "log_ndtr": (lambda e: sp.log((1 + sp.erf(e / sp.sqrt(2))) / 2), special.log_ndtr),
        "cbrt": (lambda e: (e**2 + 1) ** sp.Rational(1, 3), lambda v: np.cbrt(v * v + 1)),
    }
    BINARY = {
        "add": (lambda a, b: a + b, lambda a, b: a + b),
        "mul": (lambda a, b: a * b, lambda a, b: a * b),
        "div": (lambda a, b: a / (b**2 + 1), lambda a, b: a / (b * b + 1)),
        "hypot": (
            lambda a, b: sp.sqrt(a**2 + b**2 + 1),
            lambda a, b: np.hypot(np.hypot(a, b), 1.0),
        ),
        "arctan2": (sp.atan2, np.arctan2),
        "pow": (lambda a, b: (a**2 + 2) ** (b / 2), lambda a, b: (a * a + 2) ** (b / 2)),
        "logaddexp": (lambda a, b: sp.log(sp.exp(a) + sp.exp(b)), np.logaddexp),
    }


M.mp.dps = 50
X0, X1, Y0, Y1 = sp.symbols("x0 x1 y0 y1")
SYMS = [X0, X1, Y0, Y1]
ENG = {"hd": hd, "rv": rv}


def expression(rng, depth):
    if depth == 0 or rng.random() < 0.2:
        if rng.random() < 0.85:
            i = rng.randrange(4)
            return SYMS[i], (lambda x, y, i=i: (x[0], x[1], y[0], y[1])[i])
        c = rng.choice([0.5, 1.5, 2.0, 3.0])
        return sp.nsimplify(c), (lambda x, y, c=c: c)
    if rng.random() < 0.5:
        s, n = R.UNARY[rng.choice(sorted(R.UNARY))]
        e, f = expression(rng, depth - 1)
        return s(e), (lambda x, y, f=f, n=n: n(f(x, y)))
    s, n = R.BINARY[rng.choice(sorted(R.BINARY))]
    e1, f1 = expression(rng, depth - 1)
    e2, f2 = expression(rng, depth - 1)
    return s(e1, e2), (lambda x, y, f1=f1, f2=f2, n=n: n(f1(x, y), f2(x, y)))


YV = (0.3, -0.8)
V = (0.5, -1.5)
U = (1.25, -0.5)
W = (1.0, -0.7, 0.4, 1.3, 0.9, -1.1, 0.6, -0.8)


def inner_cases(e1, f1, e2, f2):
    """name -> (call(I, x) -> array-like, sympy list of exprs in x after y substitution)."""
    sv = {Y0: sp.Float(YV[0], 50), Y1: sp.Float(YV[1], 50)}
    yv = np.array(YV)
    v, u = np.array(V), np.array(U)

    def sc(x):  # scalar-y function
        return lambda s: f1(x, (s, YV[1]))

    def vec(x):
        return lambda y: f1(x, y)

    def vv(x):
        return lambda y: np.stack([f1(x, y), f2(x, y)])

    d = sp.diff
    Y = [Y0, Y1]
    c = {
        "derivative": (lambda I, x: I.derivative(sc(x), YV[0]), [d(e1, Y0).subs(sv)]),
        "second_derivative": (
            lambda I, x: I.second_derivative(sc(x), YV[0]),
            [d(e1, Y0, 2).subs(sv)],
        ),
        "gradient": (lambda I, x: I.gradient(vec(x), yv), [d(e1, a).subs(sv) for a in Y]),
        "value_and_gradient": (
            lambda I, x: cat(I.value_and_gradient(vec(x), yv)),
            [e1.subs(sv)] + [d(e1, a).subs(sv) for a in Y],
        ),
        "jacobian": (
            lambda I, x: I.jacobian(vv(x), yv),
            [d(e, a).subs(sv) for e in (e1, e2) for a in Y],
        ),
        "hessian": (
            lambda I, x: I.hessian(vec(x), yv),
            [d(e1, a, b).subs(sv) for a in Y for b in Y],
        ),
        "hvp": (
            lambda I, x: I.hvp(vec(x), yv, v),
            [sum(d(e1, a, b) * w for b, w in zip(Y, V)).subs(sv) for a in Y],
        ),
        "hvp_ror": (
            lambda I, x: (
                I.hvp(vec(x), yv, v, mode="reverse-over-reverse")
                if I is rv
                else I.hvp(vec(x), yv, v)
            ),
            [sum(d(e1, a, b) * w for b, w in zip(Y, V)).subs(sv) for a in Y],
        ),
        "jvp": (
            lambda I, x: cat(I.jvp(vv(x), yv, v)),
            [e.subs(sv) for e in (e1, e2)]
            + [sum(d(e, a) * w for a, w in zip(Y, V)).subs(sv) for e in (e1, e2)],
        ),
        "vjp": (
            lambda I, x: cat(I.vjp(vv(x), yv, u)),
            [e.subs(sv) for e in (e1, e2)]
            + [sum(d(e, a) * w for e, w in zip((e1, e2), U)).subs(sv) for a in Y],
        ),
        "derivatives": (
            lambda I, x: I.derivatives(sc(x), YV[0], 3),
            [d(e1, Y0, k).subs(sv) if k else e1.subs(sv) for k in range(4)],
        ),
        "nth_derivative": (lambda I, x: I.nth_derivative(sc(x), YV[0], 3), [d(e1, Y0, 3).subs(sv)]),
    }
    return c


def cat(pair):
    a, b = pair
    return np.concatenate([np.reshape(a * np.ones(1), (-1,)), np.reshape(b, (-1,))])


def reduce_(r):
    flat = np.reshape(r, (-1,))
    return np.sum(flat * np.array(W[: flat.shape[0]]))


XP = (0.7, -0.4)
XS = 0.45
T = sp.Symbol("t")


def outer_cases():
    x = np.array(XP)
    v = np.array(V)
    return {
        "derivative": lambda O, F: O.derivative(lambda s: F(pair(s)), XS),
        "second_derivative": lambda O, F: O.second_derivative(lambda s: F(pair(s)), XS),
        "nth_derivative": lambda O, F: O.nth_derivative(lambda s: F(pair(s)), XS, 3),
        "gradient": lambda O, F: O.gradient(F, x),
        "value_and_gradient": lambda O, F: O.value_and_gradient(F, x)[1],
        "hessian": lambda O, F: O.hessian(F, x),
        "hvp": lambda O, F: O.hvp(F, x, v),
        "hvp_ror": lambda O, F: (
            O.hvp(F, x, v, mode="reverse-over-reverse") if O is rv else O.hvp(F, x, v)
        ),
        "jacobian": lambda O, F: O.jacobian(lambda z: np.stack([F(z), z[0] * F(z)]), x),
        "jvp": lambda O, F: O.jvp(F, x, v)[1],
        "vjp": lambda O, F: O.vjp(F, x, 1.5)[1],
    }


def pair(s):
    return np.stack([s, 2 * s]) if not isinstance(s, float) else np.array([s, 2 * s])


def outer_truth(name, Fs):
    sub = {X0: sp.Float(XP[0], 50), X1: sp.Float(XP[1], 50)}
    if name in ("derivative", "second_derivative", "nth_derivative"):
        k = {"derivative": 1, "second_derivative": 2, "nth_derivative": 3}[name]
        g = Fs.subs({X0: T, X1: 2 * T})
        return [sp.diff(g, T, k).subs(T, sp.Float(XS, 50))]
    xs = [X0, X1]
    if name in ("gradient", "value_and_gradient"):
        return [sp.diff(Fs, a).subs(sub) for a in xs]
    if name == "hessian":
        return [sp.diff(Fs, a, b).subs(sub) for a in xs for b in xs]
    if name in ("hvp", "hvp_ror"):
        return [sum(sp.diff(Fs, a, b) * w for b, w in zip(xs, V)).subs(sub) for a in xs]
    if name == "jacobian":
        return [sp.diff(e, a).subs(sub) for e in (Fs, X0 * Fs) for a in xs]
    if name == "jvp":
        return [sum(sp.diff(Fs, a) * w for a, w in zip(xs, V)).subs(sub)]
    if name == "vjp":
        return [1.5 * sp.diff(Fs, a).subs(sub) for a in xs]
    raise KeyError(name)


def _with_x_and_y(g1, g2):
    def f1(x, y):
        return g1(x, y) * (1 + x[0] / 3) + y[0] * x[1]

    def f2(x, y):
        return g2(x, y) + x[0] * y[1]

    return f1, f2


def run(seed, count, outers=None, inners=None, tol=1e-9):
    rng = random.Random(seed)
    bad = []
    checked = 0
    OUT = outer_cases()
    for k in range(count):
        e1, f1 = expression(rng, rng.randint(1, 2))
        e2, f2 = expression(rng, rng.randint(1, 2))
        # make sure both depend on x and y
        e1 = e1 * (1 + X0 / 3) + Y0 * X1
        f1, f2 = _with_x_and_y(f1, f2)
        e2 = e2 + X0 * Y1
        IN = inner_cases(e1, f1, e2, f2)
        for iname, (icall, isym) in IN.items():
            if inners and iname not in inners:
                continue
            Fs = sum(e * w for e, w in zip(isym, W)) * (X0 + 2 * X1)
            for oname, ocall in OUT.items():
                if outers and oname not in outers:
                    continue
                try:
                    truth = [complex(M.mpmathify(sp.N(t, 50))) for t in outer_truth(oname, Fs)]
                except Exception:
                    continue
                if any(abs(t.imag) > 0 or not math.isfinite(t.real) for t in truth):
                    continue
                truth = np.array([t.real for t in truth])
                for on, O in ENG.items():
                    for inn, I in ENG.items():

                        def F(x, I=I, icall=icall):
                            return reduce_(icall(I, x)) * (x[0] + 2 * x[1])

                        try:
                            with warnings.catch_warnings(), np.errstate(all="ignore"):
                                warnings.simplefilter("ignore")
                                got = np.reshape(np.asarray(ocall(O, F), dtype=float), (-1,))
                        except Exception as exc:
                            bad.append(
                                (
                                    k,
                                    on,
                                    inn,
                                    oname,
                                    iname,
                                    "EXC " + repr(exc)[:200],
                                    str(e1),
                                    str(e2),
                                )
                            )
                            continue
                        checked += 1
                        scale = np.max(np.abs(truth)) + 1e-300
                        err = np.max(np.abs(got - truth)) / scale
                        if not err <= tol:
                            bad.append(
                                (
                                    k,
                                    on,
                                    inn,
                                    oname,
                                    iname,
                                    f"err {err:.3g} got {got} truth {truth}",
                                    str(e1),
                                    str(e2),
                                )
                            )
    return checked, bad


@pytest.mark.parametrize("seed", [1, 2])
def test_random_expressions_every_helper_inside_every_helper(seed):
    count = int(os.environ.get("EXACTDIFF_SWEEP", "1"))
    checked, bad = run(seed, count)
    assert checked > 100, f"seed {seed}: only {checked} values checked"
    assert not bad, f"{len(bad)} wrong:\n" + "\n".join(map(str, bad[:10]))
