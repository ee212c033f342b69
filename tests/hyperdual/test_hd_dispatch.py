"""numpy's own functions on Duals/HyperDuals (NEP 13/18 dispatch), checked against
derivatives computed by hand; unsupported functions must raise, never guess."""

import numpy as np
import pytest

import hyperdual
from hyperdual import Dual, HyperDual, gradient, hessian, jacobian

rng = np.random.default_rng(1234)
X0 = rng.normal(size=6)
V = rng.normal(size=6)
A = rng.normal(size=(4, 6))


def close(a, b, rtol=1e-12, atol=1e-13):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def line(x0=X0, v=V):
    """x0 + t v as a Dual at t = 0 (its dual part is v)."""
    return Dual(x0, v)


# --- reductions -------------------------------------------------------------------------
def test_sum_mean():
    d = line()
    close(np.sum(d).dual, V.sum())
    close(np.mean(d).dual, V.mean())
    close(np.sum(d).real, X0.sum())
    m = Dual(X0.reshape(2, 3), V.reshape(2, 3))
    close(np.sum(m, axis=0).dual, V.reshape(2, 3).sum(axis=0))
    close(np.sum(m, axis=-1, keepdims=True).dual, V.reshape(2, 3).sum(axis=-1, keepdims=True))
    close(np.mean(m, axis=1).dual, V.reshape(2, 3).mean(axis=1))
    close(np.mean(m, axis=(0, 1)).dual, V.mean())
    close(m.mean(axis=0).real, X0.reshape(2, 3).mean(axis=0))


def test_prod_product_rule():
    x = np.array([1.5, -2.0, 0.5, 3.0])
    v = np.array([1.0, 2.0, -1.0, 0.5])
    d = np.prod(Dual(x, v))
    close(d.real, np.prod(x))
    want = sum(v[i] * np.prod(np.delete(x, i)) for i in range(4))
    close(d.dual, want)
    # a zero entry: only the term that drops it survives
    x[2] = 0.0
    d = np.prod(Dual(x, v))
    close(d.dual, v[2] * np.prod(np.delete(x, 2)))
    # axis and hessian: d2/dxi dxj prod(x) = prod of the others (i != j), 0 on the diagonal
    x = np.array([1.5, -2.0, 0.5])
    h = hessian(np.prod, x)
    want = np.array([[0.0 if i == j else np.prod(np.delete(x, [i, j])) for j in range(3)]
                     for i in range(3)])
    close(h, want)
    m = Dual(np.arange(1.0, 7.0).reshape(2, 3), 1.0)
    p = np.prod(m, axis=1)
    r = np.arange(1.0, 7.0).reshape(2, 3)
    close(p.dual, [np.sum(np.prod(r[k]) / r[k]) for k in range(2)])


def test_max_min():
    x = np.array([0.5, 3.0, -1.0, 2.0])
    v = np.array([10.0, 20.0, 30.0, 40.0])
    d = Dual(x, v)
    m = np.max(d)
    assert m.real == 3.0 and m.dual == 20.0
    m = np.min(d)
    assert m.real == -1.0 and m.dual == 30.0
    m2 = Dual(x.reshape(2, 2), v.reshape(2, 2))
    close(np.max(m2, axis=1).dual, [20.0, 40.0])
    close(np.min(m2, axis=0).dual, [30.0, 40.0])
    close(np.max(m2, axis=0, keepdims=True).dual, [[10.0, 20.0]])
    g = gradient(np.max, x)
    close(g, [0.0, 1.0, 0.0, 0.0])
    g = gradient(lambda y: np.sum(np.min(y.reshape(2, 2), axis=1)), x)
    close(g, [1.0, 0.0, 1.0, 0.0])


# --- bilinear ------------------------------------------------------------------------
def test_dot_matmul_outer():
    d = line()
    # d/dt sum(A @ (x0 + t v)) = sum(A @ v)
    y = np.sum(A @ d)
    close(y.real, np.sum(A @ X0))
    close(y.dual, np.sum(A @ V))
    y = np.matmul(A, d)
    close(y.dual, A @ V)
    y = np.dot(A, d)
    close(y.dual, A @ V)
    # product rule: d/dt (x.x) = 2 x.v
    close(np.dot(d, d).dual, 2 * X0 @ V)
    close((d @ d).dual, 2 * X0 @ V)
    # both operands varying, 2-d @ 2-d
    B0, Bv = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    C0, Cv = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    y = Dual(B0, Bv) @ Dual(C0, Cv)
    close(y.real, B0 @ C0)
    close(y.dual, Bv @ C0 + B0 @ Cv)
    # batched matmul: (2, 3, 4) @ (4, 2)
    S0, Sv = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    y = np.matmul(Dual(S0, Sv), C0)
    close(y.dual, Sv @ C0)
    y = S0 @ Dual(C0, Cv)
    close(y.dual, S0 @ Cv)
    # outer
    a0, av = rng.normal(size=3), rng.normal(size=3)
    o = np.outer(Dual(a0, av), d)
    close(o.real, np.outer(a0, X0))
    close(o.dual, np.outer(av, X0) + np.outer(a0, V))
    o = np.outer(a0, d)
    close(o.dual, np.outer(a0, V))


def test_matmul_hyperdual_second_order():
    # q(x) = x^T M x along x0 + t v: second derivative 2 v^T M v... with eps1 = eps2 = v
    M = rng.normal(size=(6, 6))
    z = HyperDual(X0, V, V, 0.0)
    q = z @ (M @ z)
    close(q.real, X0 @ M @ X0)
    close(q.eps1, V @ M @ X0 + X0 @ M @ V)
    close(q.eps12, 2 * V @ M @ V)


# --- structural ----------------------------------------------------------------------------
def test_reshape_transpose_broadcast_concatenate_stack():
    r, v = X0.reshape(2, 3), V.reshape(2, 3)
    d = Dual(r, v)
    close(np.reshape(d, (3, 2)).dual, v.reshape(3, 2))
    close(np.reshape(d, -1).dual, V)
    close(np.transpose(d).dual, v.T)
    t3 = Dual(np.arange(24.0).reshape(2, 3, 4), -np.arange(24.0).reshape(2, 3, 4))
    close(np.transpose(t3, (1, 2, 0)).dual, -np.arange(24.0).reshape(2, 3, 4).transpose(1, 2, 0))
    b = np.broadcast_to(Dual(np.arange(3.0), np.ones(3)), (2, 3))
    assert b.shape == (2, 3)
    close(b.dual, np.ones((2, 3)))
    c = np.concatenate([d, np.ones((1, 3)), d * 2.0])
    assert c.shape == (5, 3)
    close(c.dual, np.concatenate([v, np.zeros((1, 3)), 2 * v]))
    c = np.concatenate([d, d], axis=1)
    close(c.dual, np.concatenate([v, v], axis=1))
    c = np.concatenate([d, np.zeros((2, 1))], axis=None)
    close(c.dual, np.concatenate([V, np.zeros(2)]))
    s = np.stack([d, np.ones((2, 3)), d], axis=1)
    assert s.shape == (2, 3, 3)
    close(s.dual, np.stack([v, np.zeros((2, 3)), v], axis=1))
    s = np.stack([Dual(1.0, 2.0), 3.0, Dual(4.0, 5.0)])
    close(s.dual, [2.0, 0.0, 5.0])


def test_where_clip_maximum():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    v = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    d = Dual(x, v)
    w = np.where(x > 0, d * d, -3.0 * d)
    close(w.dual, np.where(x > 0, 2 * x * v, -3.0 * v))
    w = np.where(d > 0, d, 7.0)
    close(w.real, np.where(x > 0, x, 7.0))
    close(w.dual, np.where(x > 0, v, 0.0))
    # clip: derivative 1 inside, 0 outside, 0.5 at a bound (ties split evenly)
    c = np.clip(d, -0.5, 0.5)
    close(c.real, np.clip(x, -0.5, 0.5))
    close(c.dual, [0.0, 0.5 * 2.0, 3.0, 0.5 * 4.0, 0.0])
    c = hyperdual.clip(d, -1.0, 1.0)
    close(c.dual, [0.0, 2.0, 3.0, 4.0, 0.0])
    m = np.maximum(d, 0.0)
    close(m.dual, [0.0, 0.0, 1.5, 4.0, 5.0])
    m = np.minimum(d, np.array([0.0, 0.0, 0.0, 0.0, 0.0]))
    close(m.dual, [1.0, 2.0, 1.5, 0.0, 0.0])


# --- the same functions inside helpers (direction stacks) -----------------------------
GRAD_CASES = {
    "sum_A_x": (lambda x: np.sum(A @ x), lambda x: A.T @ np.ones(4)),
    "x_dot_x": (lambda x: np.dot(x, x), lambda x: 2 * x),
    "mean_sq": (lambda x: np.mean(x ** 2), lambda x: 2 * x / x.size),
    "prod": (np.prod, lambda x: np.array([np.prod(np.delete(x, i)) for i in range(x.size)])),
    "outer": (lambda x: np.sum(np.outer(x, x) * W66), lambda x: (W66 + W66.T) @ x),
    "reshape_T": (lambda x: np.sum(np.transpose(np.reshape(x, (2, 3))) * W32),
                  lambda x: W32.T.ravel()),
    "broadcast": (lambda x: np.sum(np.broadcast_to(x, (3, 6)) * W36), lambda x: W36.sum(0)),
    "concat": (lambda x: np.sum(np.concatenate([x, x ** 2]) * W12),
               lambda x: W12[:6] + 2 * x * W12[6:]),
    "stack": (lambda x: np.sum(np.stack([x, np.sin(x)], axis=1) * W62),
              lambda x: W62[:, 0] + np.cos(x) * W62[:, 1]),
    "where": (lambda x: np.sum(np.where(x > 0, x ** 3, -x)),
              lambda x: np.where(x > 0, 3 * x ** 2, -1.0)),
    "clip": (lambda x: np.sum(np.clip(x, -0.5, 0.5) ** 2),
             lambda x: np.where(np.abs(x) < 0.5, 2 * x, 0.0)),
    "max": (lambda x: np.max(x * x), lambda x: np.where(np.arange(6) == np.argmax(x * x),
                                                          2 * x, 0.0)),
    "maximum": (lambda x: np.sum(np.maximum(x, 0.0) * W6),
                lambda x: np.where(x > 0, W6, 0.0)),
    "index": (lambda x: x[0] * x[3] + np.sum(x[1:3] ** 2),
              lambda x: np.array([x[3], 2 * x[1], 2 * x[2], x[0], 0.0, 0.0])),
    "matvec_T": (lambda x: np.sum(np.tanh(x @ A.T)),
                 lambda x: A.T @ (1 / np.cosh(A @ x) ** 2)),
}
W66 = rng.normal(size=(6, 6))
W32 = rng.normal(size=(3, 2))
W36 = rng.normal(size=(3, 6))
W12 = rng.normal(size=12)
W62 = rng.normal(size=(6, 2))
W6 = rng.normal(size=6)


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_gradient_through_numpy_functions(name):
    f, g = GRAD_CASES[name]
    close(gradient(f, X0), g(X0))
    # same through one-direction-at-a-time Duals built by hand (tag 0)
    close([f(Dual(X0, e)).dual for e in np.eye(6)], g(X0))


def test_jacobian_through_numpy_functions():
    M = rng.normal(size=(3, 6))
    J = jacobian(lambda x: np.concatenate([M @ x, np.sin(x[:2])]), X0)
    want = np.vstack([M, np.diag(np.cos(X0[:2])) @ np.eye(6)[:2]])
    close(J, want)
    J = jacobian(lambda x: np.outer(x[:2], x[2:4]), X0)
    assert J.shape == (2, 2, 6)
    want = np.zeros((2, 2, 6))
    for i in range(2):
        for j in range(2):
            want[i, j, i] = X0[2 + j]
            want[i, j, 2 + j] = X0[i]
    close(J, want)


def test_hessian_through_numpy_functions():
    close(hessian(lambda x: np.sum(np.outer(x, x) * W66), X0), W66 + W66.T)
    close(hessian(lambda x: x @ (W66 @ x), X0), W66 + W66.T)
    close(hessian(lambda x: np.sum(np.where(x > 0, x ** 3, -x)), X0),
          np.diag(np.where(X0 > 0, 6 * X0, 0.0)))
    close(hessian(lambda x: np.mean(np.stack([x, x * x])), X0), np.eye(6) * 2 / 12)


# --- unsupported things raise TypeError naming the function and the engine -------------
UNSUPPORTED = {
    # eig/eigvals: real spectra are supported (rules.eig); a complex one is refused
    "eig": lambda d: np.linalg.eig(d @ np.array([[0.0, -1.0], [1.0, 0.0]])),
    "fft": lambda d: np.fft.fft(d),
    "rfft": lambda d: np.fft.rfft(d),
    "ifft": lambda d: np.fft.ifft(d),
    "eigvals": lambda d: np.linalg.eigvals(d @ np.array([[0.0, -1.0], [1.0, 0.0]])),
    "add.at": lambda d: np.add.at(d, [0], 1.0),
    "add.reduceat": lambda d: np.add.reduceat(d, [0], out=np.empty((1, 2))),
    "add.reduce": lambda d: np.add.reduce(d, out=np.empty(2)),
    "multiply.accumulate": lambda d: np.multiply.accumulate(d, dtype=np.int64),
    "add": lambda d: np.add(d, 1.0, out=np.empty((2, 2))),
    "sin": lambda d: np.sin(d, out=np.empty((2, 2))),
    "sum": lambda d: np.sum(d, out=np.empty(())),
    "bitwise_and": lambda d: np.bitwise_and(d, d),
    "fftn": lambda d: np.fft.fftn(d),
}


@pytest.mark.parametrize("kind", [Dual, HyperDual])
@pytest.mark.parametrize("name", list(UNSUPPORTED))
def test_unsupported_raise_type_error(name, kind):
    d = kind(np.eye(2) + 1.0, *([np.ones((2, 2))] * (kind._NPARTS - 1)))
    with pytest.raises(TypeError) as info:
        UNSUPPORTED[name](d)
    msg = str(info.value)
    assert "hyperdual" in msg
    assert name in msg


def test_unknown_operand_types_defer_to_the_other_operand():
    class Other:
        def __radd__(self, other):
            return "Other.__radd__"

        def __rmul__(self, other):
            return "Other.__rmul__"

        def __array_ufunc__(self, ufunc, method, *inputs, **kw):
            return f"Other.{ufunc.__name__}"

    d = Dual(1.0, 1.0)
    assert d + Other() == "Other.__radd__"
    assert d * Other() == "Other.__rmul__"
    assert np.multiply(d, Other()) == "Other.multiply"
    with pytest.raises(TypeError):
        d + "a"
    with pytest.raises(TypeError):
        d * [1.0, "x"]


def test_supported_functions_listed():
    names = set(hyperdual.SUPPORTED_FUNCTIONS)
    for n in ("numpy.sin", "numpy.sum", "numpy.matmul", "numpy.concatenate", "numpy.where",
              "scipy.special.erf", "numpy.power", "numpy.clip"):
        assert n in names
    assert "numpy.unique" in names and "numpy.histogram" in names
    assert "numpy.histogram2d" in names and "numpy.histogramdd" in names
    assert "numpy.polydiv" in names and "numpy.nextafter" in names
    assert "numpy.fft.fft" not in names and "numpy.fft.ifft" not in names


def test_more_hessians_through_numpy_functions():
    x = X0[:4]
    # concatenate/broadcast/iteration: each sums x_i^3 once or twice -> diag(6 x) multiples
    close(hessian(lambda y: np.sum(np.concatenate([y, 2.0 * y]) ** 3), x), np.diag(54 * x))
    close(hessian(lambda y: np.sum(np.broadcast_to(y, (2, 4)) ** 3), x), np.diag(12 * x))
    close(hessian(lambda y: sum(yi ** 3 for yi in y), x), np.diag(6 * x))
    # max picks one element: its second derivative only
    k = int(np.argmax(x ** 2))
    want = np.zeros((4, 4))
    want[k, k] = 2.0
    close(hessian(lambda y: np.max(y ** 2), x), want)
    # advanced indexing of a reshaped x
    H = hessian(lambda y: np.sum(y.reshape(2, 2)[[0, 1], [1, 0]] ** 3), x)
    close(H, np.diag(np.array([0.0, 6 * x[1], 6 * x[2], 0.0])))
    # sum(Y @ Y) for Y = x.reshape(2, 2): d2/dY_ij dY_kl sum_{a,c} sum_b Y_ab Y_bc
    #   = [j == k] + [l == i]
    want = np.zeros((2, 2, 2, 2))
    for i, j, k2, m in np.ndindex(2, 2, 2, 2):
        want[i, j, k2, m] = float(j == k2) + float(m == i)
    close(hessian(lambda y: np.sum(y.reshape(2, 2) @ y.reshape(2, 2)), x), want.reshape(4, 4))
    # 2-norm: H = (I - x x^T / |x|^2) / |x|
    r = np.linalg.norm(x)
    close(hessian(np.linalg.norm, x), (np.eye(4) - np.outer(x, x) / r ** 2) / r)
    # sum over a tuple of axes
    g = gradient(lambda y: np.sum(y.reshape(2, 2, 3), axis=(0, 2)) @ np.array([1.0, 2.0]),
                 np.ones(12))
    close(g, np.tile(np.repeat([1.0, 2.0], 3), 2))


@pytest.mark.parametrize("ufunc", [np.add, np.subtract, np.multiply, np.divide, np.power,
                                   np.arctan2, np.hypot, np.maximum, np.minimum])
def test_ufuncs_accept_list_operands_like_arrays(ufunc):
    lst = [0.5, 2.0]
    d = Dual(1.5, 1.0)
    for a, b in ((d, lst), (lst, d)):
        r = ufunc(a, b)
        s = ufunc(a if a is d else np.array(lst), b if b is d else np.array(lst))
        close(r.real, s.real)
        close(r.dual, s.dual)
