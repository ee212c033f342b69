"""Issue 12, sections 2 and 4: rules that were wrong at special points, and crashes.

Every example of the issue is a test here, plus property tests that sweep the
class (random points, every order reachable by nesting, both engines).
Truth comes from closed forms, mpmath, or the other engine.
"""

import math

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from hyperdual._powrule import pow_partial_value
from reverse import Variable

mpmath = pytest.importorskip("mpmath")


def _rv_third(f, x0):
    """f'''(x0) by reverse mode alone: create_graph backward three times."""
    x = Variable(np.array(x0))
    f(x).backward(create_graph=True)
    g = x.grad
    x.clear_grad()
    g.backward(create_graph=True)
    g2 = x.grad
    x.clear_grad()
    g2.backward()
    return float(x.grad.data)


# --- x ** y with a perturbed exponent ----------------------------------------------
def test_third_derivative_of_exp_x_to_the_x():
    f = lambda x: np.exp(x) ** x  # noqa: E731
    truth = 20 * math.e
    assert hd.derivative(lambda x: hd.second_derivative(f, x), 1.0) == pytest.approx(
        truth, rel=1e-14)
    assert hd.derivative(lambda x: rv.second_derivative(f, x), 1.0) == pytest.approx(
        truth, rel=1e-14)
    assert _rv_third(f, 1.0) == pytest.approx(truth, rel=1e-14)


def test_mixed_derivative_of_power_at_zero_exponent():
    """d/dy d/dx x**y at (2, 0) = x**(y-1) (1 + y log x) = 0.5."""
    assert hd.derivative(lambda y: hd.derivative(lambda x: x ** y, 2.0), 0.0) == 0.5
    assert hd.derivative(lambda x: hd.derivative(lambda y: x ** y, 0.0), 2.0) == 0.5
    assert hd.derivative(lambda y: rv.derivative(lambda x: x ** y, 2.0), 0.0) == 0.5
    for m in (hd, rv):
        H = m.hessian(lambda v: v[0] ** v[1], np.array([2.0, 0.0]))
        assert H[0, 1] == H[1, 0] == 0.5


def _third_tensors(f, x):
    return {
        "hd(hd.hessian)": hd.jacobian(lambda v: hd.hessian(f, v), x),
        "hd(rv.hessian)": hd.jacobian(lambda v: rv.hessian(f, v), x),
        "hd(rv.hessian ror)": hd.jacobian(
            lambda v: np.stack([rv.hvp(f, v, e, mode="reverse-over-reverse")
                                for e in np.eye(len(x))]), x),
    }


@pytest.mark.parametrize("seed", range(6))
def test_third_derivative_tensors_of_power_are_symmetric_and_agree(seed):
    rng = np.random.default_rng(seed)
    x = np.array([rng.uniform(0.05, 2.5), rng.uniform(-2.0, 3.0)])
    f = lambda v: (v[0] + 0.1) ** v[1]  # noqa: E731
    a, b = x[0] + 0.1, x[1]
    mp = mpmath.mp
    mp.dps = 40
    truth = np.empty((2, 2, 2))
    for i, j, k in np.ndindex(2, 2, 2):
        n = (i == 0) + (j == 0) + (k == 0)
        truth[i, j, k] = float(mpmath.diff(lambda s, t: s ** t, (mp.mpf(a), mp.mpf(b)),
                                           (n, 3 - n)))
    for name, T in _third_tensors(f, x).items():
        for perm in ((1, 0, 2), (0, 2, 1), (2, 1, 0)):
            np.testing.assert_allclose(T, T.transpose(perm), rtol=1e-13, atol=1e-13,
                                       err_msg=name)
        np.testing.assert_allclose(T, truth, rtol=1e-11, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("i,j", [(i, j) for i in range(4) for j in range(4)])
def test_power_partial_family_against_mpmath(i, j):
    mp = mpmath.mp
    mp.dps = 40
    rng = np.random.default_rng(10 * i + j)
    for _ in range(5):
        x, y = rng.uniform(0.1, 4.0), rng.uniform(-3.0, 3.0)
        truth = float(mpmath.diff(lambda s, t: s ** t, (mp.mpf(x), mp.mpf(y)), (i, j)))
        got = pow_partial_value(i, j, x, y)
        assert got == pytest.approx(truth, rel=1e-11, abs=1e-13), (x, y)


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_integer_exponent_as_a_perturbed_number_at_every_order(n):
    """x**y with y a Dual equal to an integer: every x-derivative still exact at 0 and 1.5."""
    for x0 in (0.0, 1.5):
        for order in range(4):
            def f(x):
                y = hd.Dual(float(n), 0.0)  # an exponent that is a number of its own
                return x ** y
            g = f
            for _ in range(order):
                g = (lambda h: (lambda x: hd.derivative(h, x)))(g)
            got = g(x0)
            got = got.real if isinstance(got, hd.Dual) else got
            truth = (math.perm(n, order) * x0 ** (n - order)) if order <= n else 0.0
            assert got == truth, (n, x0, order)


# --- np.prod with zero entries -------------------------------------------------------
def test_reverse_hessian_of_prod_with_a_zero():
    x = np.array([0.0, 2.0, 3.0])
    H = rv.hessian(np.prod, x)
    np.testing.assert_array_equal(H, [[0.0, 3.0, 2.0], [3.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    np.testing.assert_array_equal(H, hd.hessian(np.prod, x))
    for e in np.eye(3):
        np.testing.assert_array_equal(
            rv.hvp(np.prod, x, e, mode="reverse-over-reverse"), H @ e)


@pytest.mark.parametrize("seed", range(8))
def test_prod_with_zeros_every_order_both_engines(seed):
    rng = np.random.default_rng(seed)
    shape = [(4,), (2, 3), (3, 2, 2)][seed % 3]
    x = rng.uniform(-2.0, 2.0, shape)
    x[rng.random(shape) < 0.4] = 0.0
    axis = [None, 0, -1, (0, -1)][seed % 4] if len(shape) > 1 else None
    f = lambda v: np.sum(np.sin(np.prod(v.reshape(shape), axis=axis)))  # noqa: E731
    v = x.ravel()
    Hr, Hf = rv.hessian(f, v), hd.hessian(f, v)
    np.testing.assert_allclose(Hr, Hf, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(Hr, Hr.T, rtol=1e-13, atol=1e-13)
    # third order: forward over both engines' Hessians
    Tr = hd.jacobian(lambda u: rv.hessian(f, u), v)
    Tf = hd.jacobian(lambda u: hd.hessian(f, u), v)
    np.testing.assert_allclose(Tr, Tf, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("scale", [1e-150, 1e-100, 1e100, 1e150])
def test_prod_whose_value_under_or_overflows_every_order_both_engines(scale):
    """prod of four entries of 1e+-150: the value is 0 (or inf) but the Hessian's entries
    (products of two others, 1e+-300) are normal floats.  Reverse mode took y / x
    there and gave Hessians of zeros (nan and inf at 1e150); now the exclusive
    products, as with a zero entry, exact against the closed form."""
    x = scale * np.array([1.0, -2.0, 3.0, 1.5])
    H = np.array([[np.prod(np.delete(x, [i, j])) if i != j else 0.0 for j in range(4)]
                  for i in range(4)])  # two factors of size ~scale: exact to an ulp or two
    with np.errstate(all="ignore"):  # the value (and the gradient) under/overflows
        paths = (rv.hessian(np.prod, x), hd.hessian(np.prod, x),
                 np.stack([rv.hvp(np.prod, x, e, mode="reverse-over-reverse")
                           for e in np.eye(4)]),
                 np.stack([rv.hvp(np.prod, x, e) for e in np.eye(4)]),
                 rv.jacobian(lambda v: rv.gradient(np.prod, v), x),
                 hd.jacobian(lambda v: rv.gradient(np.prod, v), x))
    for got in paths:
        np.testing.assert_allclose(got, H, rtol=4 * 2 ** -52, atol=0)
    # float32 underflows sooner: prod of three 1e-20s
    x32 = np.array([3e-20, -2e-20, 1e-20], dtype=np.float32)
    with np.errstate(all="ignore"):
        H32 = rv.hessian(np.prod, x32)
    assert H32.dtype == np.float32
    np.testing.assert_allclose(H32, hd.hessian(np.prod, x32), rtol=1e-6)
    assert H32[0, 1] != 0


# --- the zero-cotangent guard with Dual data (forward-over-reverse) ------------------
_SAFE_WHERE = {
    "sqrt|square": (lambda x: np.where(x > 0, np.sqrt(x), x ** 2), lambda x: 2.0),
    "log|linear": (lambda x: np.where(x > 0, np.log(x), 3.0 * x), lambda x: 0.0),
    # at 0 the constant branch is chosen: derivatives 0 there (as in JAX)
    "sinc": (lambda x: np.where(x != 0, np.sin(x) / np.where(x != 0, x, 1.0), 1.0),
             lambda x: 0.0),
    "arcsin|cube": (lambda x: np.where(np.abs(x) < 1, np.arcsin(x), x ** 3),
                    lambda x: 6.0 * x),
}


@pytest.mark.parametrize("name", sorted(_SAFE_WHERE))
def test_safe_where_second_derivative_in_every_mode(name):
    f, d2 = _SAFE_WHERE[name]
    x0 = {"sqrt|square": -1.0, "log|linear": -2.0, "sinc": 0.0, "arcsin|cube": 2.0}[name]
    g = lambda v: np.sum(f(v))  # noqa: E731
    x = np.array([x0, x0])
    truth = np.diag([d2(x0)] * 2)
    with np.errstate(all="ignore"):
        got = {
            "rv.hessian": rv.hessian(g, x),
            "hd.hessian": hd.hessian(g, x),
            "rv.hvp f-o-r": np.stack([rv.hvp(g, x, e) for e in np.eye(2)]),
            "rv.hvp r-o-r": np.stack([rv.hvp(g, x, e, mode="reverse-over-reverse")
                                      for e in np.eye(2)]),
            "hd(rv.gradient)": hd.jacobian(lambda v: rv.gradient(g, v), x),
            "rv.second_derivative": np.diag(rv.second_derivative(f, x)),
        }
    for how, H in got.items():
        np.testing.assert_allclose(H, truth, rtol=1e-14, atol=1e-15, err_msg=how)


def test_safe_where_with_a_real_nan_still_nan_in_forward_over_reverse():
    """The guard only zeroes where the cotangent is zero in every part."""
    with np.errstate(all="ignore"):
        H = rv.hessian(lambda v: np.sum(np.sqrt(v)), np.array([-1.0, 4.0]))
    assert np.isnan(H[0, 0]) and H[1, 1] == pytest.approx(-1.0 / 32)
    assert H[0, 1] == 0.0 and H[1, 0] == 0.0


# --- polygamma: a rule of its own, any order, both engines ----------------------------
def _nested(helper_mod, f, k):
    g = f
    for _ in range(k):
        g = (lambda h: (lambda x: helper_mod.derivative(h, x)))(g)
    return g


@pytest.mark.parametrize("k", range(1, 7))
@pytest.mark.parametrize("start", ["gammaln", "digamma", "polygamma2"])
def test_polygamma_family_any_order_both_engines(start, k):
    from scipy import special

    import reverse.functions as RF

    n0 = {"gammaln": -1, "digamma": 0, "polygamma2": 2}[start]
    f_hd = {"gammaln": special.gammaln, "digamma": special.digamma,
            "polygamma2": lambda x: hd.polygamma(2, x)}[start]
    f_rv = {"gammaln": special.gammaln, "digamma": special.digamma,
            "polygamma2": lambda x: RF.polygamma(2, x)}[start]
    mp = mpmath.mp
    mp.dps = 30
    for x0 in (0.7, 2.5, 11.0):
        truth = float(mpmath.polygamma(n0 + k, x0))
        for name, got in (("hd", _nested(hd, f_hd, k)(x0)), ("rv", _nested(rv, f_rv, k)(x0))):
            assert got == pytest.approx(truth, rel=1e-12), (name, x0)


def test_polygamma_under_forward_over_reverse_and_mixed_nesting():
    from scipy import special

    x = np.array([2.5, 0.7])
    truth2 = np.diag([float(mpmath.polygamma(1, v)) for v in x])
    g = lambda v: np.sum(special.gammaln(v))  # noqa: E731
    np.testing.assert_allclose(rv.hessian(g, x), truth2, rtol=1e-13)
    for e in np.eye(2):
        np.testing.assert_allclose(rv.hvp(g, x, e), truth2 @ e, rtol=1e-13)
    third = hd.derivative(lambda v: rv.second_derivative(special.digamma, v), 2.5)
    assert third == pytest.approx(float(mpmath.polygamma(3, 2.5)), rel=1e-12)


def test_polygamma_order_must_be_a_nonnegative_integer():
    import reverse.functions as RF

    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="non-negative integer"):
            hd.polygamma(bad, 1.0)
        with pytest.raises(ValueError, match="non-negative integer"):
            RF.polygamma(bad, 1.0)


# --- reverse.hessian does not hide an error of the forward-over-reverse path ----------
def test_reverse_hessian_raises_what_forward_over_reverse_raises():
    from reverse import Function

    class NeedsFloats(Function):
        """A rule that (wrongly) converts its input: fails on Dual data."""

        def forward(self, x):
            return np.asarray(x, dtype=float) ** 2

        def backward(self, gy, y, x):
            return gy * 2.0 * x

    f = lambda v: np.sum(NeedsFloats()(v))  # noqa: E731
    x = np.array([1.0, 2.0])
    with pytest.raises(TypeError):
        rv.hvp(f, x, np.ones(2))
    with pytest.raises(TypeError):
        rv.hessian(f, x)


# --- copies, mixed stacks, 0-d reductions, methods, big ints, inner -------------------
def test_copy_and_deepcopy_inside_f_are_differentiable_identities():
    import copy

    x = np.array([1.0, 2.0])
    for cp in (copy.copy, copy.deepcopy):
        for m in (hd, rv):
            np.testing.assert_array_equal(m.gradient(lambda v, cp=cp: np.sum(cp(v) ** 2), x), 2 * x)
    d = hd.Dual(1.0, 1.0, tag=7)
    assert copy.copy(d).tag == 7 and copy.deepcopy(d).tag == 7


@pytest.mark.parametrize("cp", ["copy", "deepcopy"])
def test_copy_of_a_taylor_inside_f_keeps_every_coefficient(cp):
    """d^k/dx^k of x * copy(x)**2 = x**3 at 0.7: 0.343, 1.47, 4.2, 6, 0 (scalar list path
    and array coefficients alike); a copy of a Taylor used to raise TypeError."""
    import copy

    c = getattr(copy, cp)
    want = [0.7 ** 3, 3 * 0.7 ** 2, 6 * 0.7, 6.0, 0.0]
    got = hd.derivatives(lambda t: t * c(t) ** 2, 0.7, 4)
    np.testing.assert_allclose(got, want, rtol=8 * np.finfo(float).eps, atol=0)
    v = np.array([0.7, -1.5])
    got = hd.directional_derivatives(lambda t: np.sum(t * c(t) ** 2), v, np.ones(2), 3)
    want = [np.sum(v ** 3), np.sum(3 * v ** 2), np.sum(6 * v), 12.0]
    np.testing.assert_allclose(got, want, rtol=8 * np.finfo(float).eps, atol=0)
    t = hd.Taylor(np.array([[1.0, 2.0], [3.0, 4.0]]), tag=9)
    u = c(t)
    assert u.tag == 9 and np.array_equal(u.coef, t.coef)


def test_deepcopy_of_a_parameter_is_an_independent_leaf():
    import copy

    from reverse import Parameter

    p = Parameter(np.ones(2), name="w")
    q = copy.deepcopy(p)
    assert type(q) is Parameter and q.creator is None and q.data is not p.data


def test_reverse_stack_with_a_python_number():
    f = lambda x: np.sum(np.stack([3.0, x[0], x[1]]) ** 2)  # noqa: E731
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(rv.gradient(f, x), [2.0, 4.0])
    np.testing.assert_array_equal(hd.gradient(f, x), [2.0, 4.0])
    g = lambda x: np.sum(np.concatenate([[3.0], x, 1.0 * np.ones(1)]) * 2)  # noqa: E731
    np.testing.assert_array_equal(rv.gradient(g, x), [2.0, 2.0])


@pytest.mark.parametrize("m", [hd, rv])
def test_max_min_of_a_0d_input(m):
    assert m.derivative(lambda x: np.max(x) * 3.0, 1.0) == 3.0
    assert m.derivative(lambda x: np.min(x) * 3.0, 1.0) == 3.0


@pytest.mark.parametrize("m", [hd, rv])
def test_ndarray_methods(m):
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    fs = {
        "squeeze": lambda v: v.reshape(1, 4).squeeze()[1],
        "ravel": lambda v: v.ravel()[3] * v.flatten()[0],
        "copy": lambda v: v.copy()[0, 1],
        "max": lambda v: v.max() + v.min(),
        "prod": lambda v: v.prod(),
        "mean": lambda v: v.mean(),
        "astype": lambda v: v.astype(np.float64).sum(),
        "swapaxes": lambda v: v.swapaxes(0, 1)[0, 1],
        "diagonal": lambda v: v.diagonal().sum() + v.trace(),
        "item": lambda v: v.item(1) * v[0, 0].item(),
        "dot": lambda v: v[0].dot(v[1]),
    }
    for name, f in fs.items():
        np.testing.assert_allclose(m.gradient(f, x), hd.gradient(f, x), err_msg=name)
        assert np.isfinite(m.gradient(f, x)).all(), name
    with pytest.raises(TypeError, match="astype"):
        m.gradient(lambda v: v.astype(int).sum(), x)


@pytest.mark.parametrize("m", [hd, rv])
def test_tolist_gives_differentiable_elements(m):
    # ndarray.tolist would give Python floats (a silent 0 derivative); the engines'
    # values give their own 0-d elements
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    f = lambda v: sum(e * e for row in v.tolist() for e in row)  # noqa: E731
    np.testing.assert_array_equal(m.gradient(f, x), 2 * x)
    assert m.derivative(lambda t: t.tolist() * 3.0, 2.0) == 3.0  # 0-d: the value itself


@pytest.mark.parametrize("m", [hd, rv])
@pytest.mark.parametrize("name", ["flat", "view", "strides", "tobytes", "real", "data"])
def test_plain_array_attributes_are_named(m, name):
    """The memory/buffer attributes of an ndarray: an AttributeError naming the engine,
    the attribute and the way out (a bare one before); a Dual's .real is its value."""
    captured = {}

    def f(v):
        try:
            getattr(v, name)
        except AttributeError as e:
            captured["e"] = e
        return np.sum(v)

    m.gradient(f, np.ones(2))
    if (m, name) in ((hd, "real"), (rv, "data")):
        assert "e" not in captured  # DESIGN.md: a Dual's .real, a Variable's .data
        return
    msg = str(captured["e"])
    assert f".{name}" in msg and ("reverse" if m is rv else "hyperdual") in msg
    assert "np.real(x)" in msg if name == "real" else "value" in msg


def test_value_classes_have_no_getattr_hook():
    """The named AttributeErrors above come from descriptors, not ``__getattr__``: a
    class with ``__getattr__`` takes CPython's slow attribute hook for every lookup
    (the scalar Dual chain of benchmark figure 1 ran 1.5x slower with it)."""
    from hyperdual._taylor import Taylor

    for cls in (hd.Dual, hd.HyperDual, Taylor, rv.Variable):
        assert not hasattr(cls, "__getattr__"), cls
    # an instance's own attributes of those names still win (HyperDual's parts)
    assert rv.Variable(np.array([1.0, 2.0])).data.tolist() == [1.0, 2.0]
    assert hd.HyperDual(1.5, 1.0, 0.0, 0.0).real == 1.5
    with pytest.raises(AttributeError, match="no attribute 'nosuch'"):
        _ = rv.Variable(1.0).nosuch


def test_reverse_big_int_input():
    assert rv.derivative(lambda x: x * 2, 2 ** 70) == 2.0
    with pytest.raises(ValueError, match="too large"):
        rv.derivative(lambda x: x * 2, 10 ** 400)


def test_hyperdual_inner_with_a_scalar_scales():
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(hd.jacobian(lambda v: np.inner(v, 3.0), x), 3 * np.eye(2))
    np.testing.assert_array_equal(hd.jacobian(lambda v: np.inner(3.0, v), x), 3 * np.eye(2))
