"""scipy.linalg's primary matrix functions in both engines: ``logm``, ``sqrtm``,
``cosm``, ``sinm``, ``tanm``, ``coshm``, ``sinhm``, ``tanhm`` (and ``expm``).

Before, only ``expm`` had a rule: ``scipy.linalg.sqrtm(x)`` of a Dual or Variable
raised "cannot convert" (scipy calls np.asarray), and ``hyperdual.linalg`` /
``reverse.linalg`` had no stand-in (a Gaussian Wasserstein distance or an FID score
could not be differentiated).  Each is now one rule per engine: the Fréchet
derivative is the corner of ``f([[A, E], [0, A]])`` (reverse mode: at ``A^T``
with the cotangent), written with the engine's own ``f``, so every order, the
nestings of the two engines and Taylor mode follow.

Truth: mpmath's matrix functions at 40 digits, differentiated by ``mpmath.diff``
along ``A(x) = A0 + x0 E0 + x1 E1`` (far below float64's error at that precision).
Tolerance: 64 ulps of the largest entry of the tensor (entries are sums of terms of
that size, computed by another formula than mpmath's) times the condition of these
well-conditioned 3 x 3 matrices (eigenvalues in [1.3, 4.2], ~10).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sl

import hyperdual as hd
import reverse as rv
from _exactdiff.matrix_functions import NAMES
from tests._tolerance import assert_close_ulps, relative_to_largest

mpmath = pytest.importorskip("mpmath")

A0 = np.array([[2.5, 0.4, -0.3], [0.2, 1.8, 0.5], [-0.1, 0.3, 3.1]])
#: a real matrix with a complex pair of eigenvalues (2 +- 0.8i) and 3: a real logarithm
#: and square root that scipy's complex Schur form reaches with rounding in the
#: imaginary part
A1 = np.array([[2.0, -0.8, 0.1], [0.8, 2.0, 0.2], [0.0, 0.1, 3.0]])
E0 = np.array([[0.3, -0.2, 0.1], [0.0, 0.4, -0.3], [0.2, 0.1, -0.1]])
E1 = np.array([[-0.1, 0.2, 0.3], [0.25, -0.2, 0.0], [0.1, -0.3, 0.2]])
W = np.array([[1.0, -0.5, 0.3], [0.7, 1.2, -0.4], [0.2, 0.6, 0.9]])
X = np.array([0.3, -0.2])
COND = 10.0


def _mp(name):
    m = mpmath
    if name in ("expm", "logm", "sqrtm", "cosm", "sinm"):
        return getattr(m, name)
    if name == "tanm":
        return lambda a: m.sinm(a) * m.cosm(a) ** -1
    if name == "coshm":
        return lambda a: (m.expm(a) + m.expm(-a)) / 2
    if name == "sinhm":
        return lambda a: (m.expm(a) - m.expm(-a)) / 2
    return lambda a: (m.expm(a) - m.expm(-a)) * (m.expm(a) + m.expm(-a)) ** -1


def _scaled(name):
    # tanm's poles: keep A's eigenvalues inside (-pi/2, pi/2)
    return 0.3 if name == "tanm" else 1.0


def _program(name, lib, base):
    s = _scaled(name)
    f = getattr(lib, name)
    return lambda x: np.sum(W * f(s * (base + x[0] * E0 + x[1] * E1)))


def _truth(name, base, orders=(1, 2)):
    s = _scaled(name)
    fm = _mp(name)
    with mpmath.workdps(40):
        B, P, Q = (mpmath.matrix((s * m).tolist()) for m in (base, E0, E1))

        def g(a, b):
            y = fm(B + a * P + b * Q)
            return sum(W[i, j] * y[i, j] for i in range(3) for j in range(3))

        x0, x1 = (mpmath.mpf(float(v)) for v in X)
        out = {}
        if 1 in orders:
            out[1] = np.array([float(mpmath.diff(g, (x0, x1), (1, 0))),
                               float(mpmath.diff(g, (x0, x1), (0, 1)))])
        if 2 in orders:
            h = np.empty((2, 2))
            for i in range(2):
                for j in range(2):
                    h[i, j] = float(mpmath.diff(g, (x0, x1), (int(i == 0) + int(j == 0),
                                                                int(i == 1) + int(j == 1))))
            out[2] = h
        if 3 in orders:  # d3/dx0^2 dx1
            out[3] = float(mpmath.diff(g, (x0, x1), (2, 1)))
        return out


def _close(got, want, msg, name="logm"):
    # expm, coshm and sinhm (scipy's scaling and squaring, on the block matrices of the
    # rules) are accurate normwise, to ulps of e^norm(block): an entry smaller than
    # that after the weighted sum's cancellation has that much more relative error
    # (both engines alike; mpmath's expm of the same blocks confirms the truth)
    s = _scaled(name)
    norm = sum(np.linalg.norm(s * m, 1) for m in (A0, E0, E1))
    scale = np.sum(np.abs(W)) * np.exp(norm) if name in ("expm", "coshm", "sinhm") else 0
    want = np.asarray(want, dtype=float)
    with np.errstate(divide="ignore"):
        cond = np.maximum(COND * relative_to_largest(want), scale / np.abs(want))
    assert_close_ulps(got, want, ulps=64, cond=cond, err_msg=msg)


CASES = [(n, "A0") for n in NAMES] + [("logm", "A1"), ("sqrtm", "A1")]
BASES = {"A0": A0, "A1": A1}


@pytest.mark.parametrize("name, base", CASES)
def test_gradient_and_hessian_match_mpmath_in_both_engines(name, base):
    t = _truth(name, BASES[base])
    fh = _program(name, hd.linalg, BASES[base])
    fr = _program(name, rv.linalg, BASES[base])
    _close(hd.gradient(fh, X), t[1], f"hd.gradient {name}", name)
    _close(rv.gradient(fr, X), t[1], f"rv.gradient {name}", name)
    _close(hd.hessian(fh, X), t[2], f"hd.hessian {name}", name)
    _close(rv.hessian(fr, X), t[2], f"rv.hessian {name}", name)
    v = np.array([0.7, -1.3])
    _close(rv.hvp(fr, X, v), t[2] @ v, f"rv.hvp {name}", name)
    _close(rv.hvp(fr, X, v, mode="reverse-over-reverse"), t[2] @ v, f"rv.hvp ror {name}", name)
    # hyperdual code under reverse mode and reverse code under hyperdual
    _close(rv.gradient(fh, X), t[1], f"rv.gradient of hyperdual.linalg {name}", name)
    _close(hd.hessian(fr, X), t[2], f"hd.hessian of reverse.linalg {name}", name)


@pytest.mark.parametrize("name", ["logm", "sqrtm", "cosm", "tanhm"])
@pytest.mark.parametrize("outer, inner", [("hd", "hd"), ("hd", "rv"), ("rv", "hd"),
                                          ("rv", "rv")])
def test_third_order_through_nested_helpers(name, outer, inner):
    """d3/dx0^2 dx1: a second derivative inside a first derivative, every engine pair."""
    want = _truth(name, A0, orders=(3,))[3]
    lib = {"hd": hd, "rv": rv}
    s = _scaled(name)

    def g(b):
        f = getattr(lib[inner].linalg, name)
        return lib[inner].second_derivative(
            lambda a: np.sum(W * f(s * (A0 + a * E0 + b * E1))), X[0])

    got = lib[outer].derivative(g, X[1])
    assert_close_ulps(got, want, ulps=64, cond=COND * 10, err_msg=f"{outer}({inner}) {name}")


@pytest.mark.parametrize("name", ["logm", "sqrtm", "sinm"])
def test_taylor_mode_matches_mpmath(name):
    s = _scaled(name)
    f = getattr(hd.linalg, name)
    fm = _mp(name)
    t0 = 0.2
    with mpmath.workdps(40):
        B, P = mpmath.matrix((s * A0).tolist()), mpmath.matrix((s * E0).tolist())

        def g(t):
            y = fm(B + t * P)
            return sum(W[i, j] * y[i, j] for i in range(3) for j in range(3))

        want = [float(mpmath.diff(g, mpmath.mpf(t0), k)) for k in range(5)]
    got = hd.derivatives(lambda t: np.sum(W * f(s * (A0 + t * E0))), t0, 4)
    assert_close_ulps(got, want, ulps=64, cond=COND * 10, err_msg=f"Taylor {name}")


@pytest.mark.parametrize("name", NAMES)
def test_values_are_scipys_and_stacks_go_matrix_by_matrix(name):
    s = _scaled(name)
    a, b = s * A0, s * A1
    for lib in (hd.linalg, rv.linalg):
        np.testing.assert_array_equal(getattr(lib, name)(a), getattr(sl, name)(a))
    stack = np.stack([a, b])
    for engine in (hd, rv):
        f = getattr(engine.linalg, name)
        whole = np.asarray(engine.jacobian(lambda t, f=f: f(stack + t * E0), np.array(0.0)))
        for k, m in enumerate((a, b)):
            one = np.asarray(engine.jacobian(lambda t, f=f, m=m: f(m + t * E0),
                                             np.array(0.0)))
            np.testing.assert_allclose(whole.reshape(2, 3, 3)[k], one.reshape(3, 3),
                                       rtol=1e-13, atol=1e-14)


def test_sqrtm_derivative_solves_sylvester():
    """d sqrtm(A)[E] = X with S X + X S = E (S = sqrtm(A)): an independent closed form."""
    S = sl.sqrtm(A0)
    Xs = sl.solve_sylvester(S, S, E0)
    for lib, helper in ((hd, hd.jacobian), (rv, rv.jacobian)):
        got = helper(lambda t, lib=lib: lib.linalg.sqrtm(A0 + t * E0), np.array(0.0))
        np.testing.assert_allclose(np.asarray(got).reshape(3, 3), Xs, rtol=1e-12,
                                   atol=1e-13)


def test_logm_derivative_along_a_commuting_direction():
    """d/dt logm(A + t A) = I / (1 + t) (A commutes with itself)."""
    for lib, helper in ((hd, hd.jacobian), (rv, rv.jacobian)):
        got = helper(lambda t, lib=lib: lib.linalg.logm(A0 + t * A0), np.array(0.5))
        np.testing.assert_allclose(np.asarray(got).reshape(3, 3), np.eye(3) / 1.5,
                                   rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("name", ["logm", "sqrtm"])
@pytest.mark.parametrize("engine", ["hd", "rv"])
def test_negative_real_eigenvalue_is_refused(name, engine):
    a = np.array([[-1.0, 0.2], [0.0, 2.0]])
    lib = {"hd": hd, "rv": rv}[engine]
    with pytest.raises(TypeError, match="negative real eigenvalue -1"):
        lib.gradient(lambda x: np.sum(getattr(lib.linalg, name)(a * x[0])), np.array([1.0]))
    # plain arrays keep scipy's complex answer
    assert np.iscomplexobj(getattr(lib.linalg, name)(a))


@pytest.mark.parametrize("engine", ["hd", "rv"])
def test_not_square_is_a_value_error(engine):
    lib = {"hd": hd, "rv": rv}[engine]
    with pytest.raises(ValueError, match=r"sqrtm: expected square matrices"):
        lib.gradient(lambda x: np.sum(lib.linalg.sqrtm(x.reshape(2, 3))), np.ones(6))


def test_scipy_linalg_itself_names_the_stand_ins():
    with pytest.raises(TypeError, match="hyperdual.linalg has"):
        hd.gradient(lambda x: np.sum(sl.sqrtm(x.reshape(2, 2))), np.eye(2).ravel() * 4)
