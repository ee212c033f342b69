"""dtype rules, the same in both engines.

- ints and bools promote to float64 (values and derivatives);
- float32 stays float32 through both engines: Dual / HyperDual parts,
  Variable data and grad, and every helper's result for a float32 ``x``
  (scalar results are ``np.float32`` scalars, arrays have dtype float32);
- float64 stays float64 (scalar results are Python floats);
- where f computes in another precision than x, a derivative with respect to x
  has x's dtype (jvp's tangent and f's value keep f's);
- complex input is refused with a ``TypeError`` that says so.
"""

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from reverse import Parameter, Variable

F32 = np.float32


def sq(x):
    return np.sum(x ** 2)


def fancy(x):
    return np.sum(np.sin(x) * x + np.exp(x / 3) + 2.0 * x ** 3 - x / 2)


def _dtype(r):
    return np.result_type(r)


# ---------------------------------------------------------------- constructors
@pytest.mark.parametrize("dual", [1.0, 1, True, np.float64(1.0), np.ones(3), [1.0, 2.0, 3.0]])
def test_dual_parts_follow_float32_value(dual):
    d = hd.Dual(np.array([1.0, 2.0, 3.0], dtype=F32), dual)
    assert d.real.dtype == F32 and d.dual.dtype == F32
    np.testing.assert_array_equal(d.dual, np.broadcast_to(np.asarray(dual, float), (3,)))


def test_dual_float32_scalar_and_float64_value():
    d = hd.Dual(F32(2.0), 1.0)
    assert _dtype(d.real) == F32 and _dtype(d.dual) == F32
    d = hd.Dual(2.0, np.float32(1.0))  # the value is float64: so are its derivatives
    assert type(d.real) is float and type(d.dual) is float


def test_hyperdual_parts_follow_float32_value():
    h = hd.HyperDual(np.ones(2, dtype=F32), 1.0, np.ones(2), 0)
    assert all(_dtype(p) == F32 for p in h._parts())
    y = np.sin(h) * 3 + h ** 2 / 2.0 - 1
    assert all(_dtype(p) == F32 for p in y._parts())


@pytest.mark.parametrize("make", [lambda a: hd.Dual(a, 1.0), lambda a: hd.HyperDual(a, 1, 1, 0),
                                  lambda a: Variable(a).data, lambda a: Parameter(a).data])
@pytest.mark.parametrize("data", [np.array([1, 2]), np.array([True, False]), 3, True,
                                  [1, 2], np.int32(4), np.uint8(7)])
def test_ints_and_bools_promote_to_float64(make, data):
    out = make(data)
    parts = out._parts() if isinstance(out, (hd.Dual, hd.HyperDual)) else (out,)
    assert all(_dtype(p) == np.float64 for p in parts)


@pytest.mark.parametrize("bad", [1 + 2j, np.complex64(1), np.array([1j, 2]), [1j], np.array(1j)])
def test_complex_is_refused_by_both_engines(bad):
    for make in (hd.Dual, lambda b: hd.Dual(1.0, b), hd.HyperDual, Variable, Parameter):
        with pytest.raises(TypeError, match="complex"):
            make(bad)
    for helper in (hd.gradient, rv.gradient, hd.derivative, rv.derivative):
        with pytest.raises(TypeError, match="complex"):
            helper(np.sin, bad)


def test_float32_operations_with_python_scalars_stay_float32():
    d = hd.Dual(np.ones(2, dtype=F32), 1.0)
    for y in (d * 2, 2 * d, d + 1, d / 3, 3 / d, d ** 3, d ** 0.5, 2.0 ** d, np.sin(d * 1.5),
              np.maximum(d, 0.5), np.clip(d, 0, 2), np.where(d > 0, d, 0.0)):
        assert y.real.dtype == F32 and y.dual.dtype == F32, y


# ---------------------------------------------------------------- Variable
def test_variable_float32_data_and_grads_at_every_order():
    x = Variable(np.array([0.5, 1.5], dtype=F32))
    y = fancy(x) + np.sum(np.maximum(x, 1.0)) + np.sum(np.abs(x)) + np.sum(np.sign(x))
    assert y.dtype == F32
    y.backward(create_graph=True)
    gx = x.grad
    assert gx.dtype == F32
    x.clear_grad()
    np.sum(gx).backward()
    assert x.grad.dtype == F32


def test_relu_and_sum_to_keep_float32():
    x = Variable(np.array([[-1.0, 2.0]], dtype=F32))
    y = np.sum(rv.functions.relu(x) * np.ones((3, 2), dtype=F32))
    y.backward(create_graph=True)
    assert x.grad.dtype == F32
    g = x.grad
    x.clear_grad()
    np.sum(g * g).backward()
    assert x.grad.dtype == F32


# ---------------------------------------------------------------- helpers
def _helpers():
    x = np.array([0.5, 1.0, 2.0])
    v = np.array([1.0, -1.0, 0.5])
    out = []
    for m in (hd, rv):
        out += [
            (f"{m.__name__}.gradient", lambda m=m, a=x: m.gradient(fancy, a)),
            (f"{m.__name__}.value_and_gradient", lambda m=m, a=x: m.value_and_gradient(fancy, a)),
            (f"{m.__name__}.jacobian", lambda m=m, a=x: m.jacobian(lambda z: np.sin(z) * z, a)),
            (f"{m.__name__}.hessian", lambda m=m, a=x: m.hessian(fancy, a)),
            (f"{m.__name__}.derivative", lambda m=m, a=x: m.derivative(np.sin, a)),
            (f"{m.__name__}.second_derivative",
             lambda m=m, a=x: m.second_derivative(lambda z: z ** 3, a)),
            (f"{m.__name__}.derivative(scalar)", lambda m=m, a=x: m.derivative(np.sin, a[1])),
            (f"{m.__name__}.second_derivative(scalar)",
             lambda m=m, a=x: m.second_derivative(np.sin, a[1])),
        ]
    out.append(("hyperdual.hvp", lambda a=x, b=v: hd.hvp(fancy, a, b)))
    for mode in ("forward-over-reverse", "reverse-over-reverse"):
        out.append((f"reverse.hvp[{mode}]", lambda a=x, b=v, mo=mode: rv.hvp(fancy, a, b, mode=mo)))
    return out


HELPERS = _helpers()


@pytest.mark.parametrize("name,call", HELPERS, ids=[h[0] for h in HELPERS])
def test_helpers_keep_float32_and_float64(name, call):
    """Run each helper on float64 x, then on the same x cast to float32."""
    import inspect

    r64 = call()
    defaults = inspect.signature(call).parameters
    kw = {k: (p.default.astype(F32) if isinstance(p.default, np.ndarray) else p.default)
          for k, p in defaults.items() if k in ("a", "b")}
    r32 = call(**kw)
    for a64, a32 in zip(r64 if isinstance(r64, tuple) else (r64,),
                        r32 if isinstance(r32, tuple) else (r32,)):
        if np.ndim(a64) == 0:
            assert type(a64) is float, (name, type(a64))
            assert type(a32) is np.float32, (name, type(a32))
        else:
            assert a64.dtype == np.float64 and a32.dtype == F32, (name, a32.dtype)
        np.testing.assert_allclose(a32, a64, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("m", [hd, rv])
def test_constant_function_zero_derivatives_follow_dtype(m):
    x = np.ones(3, dtype=F32)
    assert m.gradient(lambda z: 1.0, x).dtype == F32
    assert m.hessian(lambda z: 1.0, x).dtype == F32
    assert m.gradient(lambda z: 1.0, np.ones(3)).dtype == np.float64


@pytest.mark.parametrize("m", [hd, rv])
def test_int_and_bool_points_give_float64(m):
    np.testing.assert_array_equal(m.gradient(sq, np.array([1, 2])), [2.0, 4.0])
    assert m.gradient(sq, np.array([1, 2])).dtype == np.float64
    assert m.gradient(sq, np.array([True, False])).dtype == np.float64
    assert type(m.derivative(lambda z: z ** 2, 3)) is float


# numpy 1.x promotes a 0-d float32 array meeting a Python number to float64
# (numpy 2 keeps float32): scalar nodes (mean's 1/n, sqrt's 2 * y, a norm)
# must not turn a float32 computation float64 on either numpy.
SCALAR_PATHS = {
    "mean": np.mean,
    "sqrt(mean(x*x))": lambda v: np.sqrt(np.mean(v * v)),
    "std": np.std,
    "var": np.var,
    "norm": np.linalg.norm,
    "average": np.average,
    "sum(x**0.5)/3": lambda v: np.sum(v ** 0.5) / 3,
    "2*max": lambda v: 2 * np.max(v),
    "exp(sum)": lambda v: np.exp(np.sum(v) * 0.1),
}


@pytest.mark.parametrize("m", [hd, rv], ids=lambda m: m.__name__)
@pytest.mark.parametrize("name", sorted(SCALAR_PATHS))
def test_scalar_nodes_keep_float32(m, name):
    f = SCALAR_PATHS[name]
    x = np.array([1.0, 2.0, 4.0], dtype=F32)
    val, grad = m.value_and_gradient(f, x)
    hess = m.hessian(f, x)
    assert np.asarray(val).dtype == F32, (name, type(val))
    assert grad.dtype == F32 and hess.dtype == F32, (name, grad.dtype, hess.dtype)
    hv = m.hvp(f, x, np.ones(3, dtype=F32))
    assert hv.dtype == F32, (name, hv.dtype)
    if m is rv:
        hv2 = rv.hvp(f, x, np.ones(3, dtype=F32), mode="reverse-over-reverse")
        assert hv2.dtype == F32, (name, hv2.dtype)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(grad, m.gradient(f, x64), rtol=1e-5)


def _unary_rules():
    from hyperdual._rules import UNARY

    out = []
    import reverse.functions as F

    for name in sorted(UNARY):
        f = UNARY[name].ufunc
        if name.startswith("polygamma"):  # scipy's polygamma is no ufunc: the engines'
            n = int(name[-1])

            def f(z, n=n):
                return (F.polygamma(n, z) if isinstance(z, Variable) else hd.polygamma(n, z))
        for p in (0.3, 0.7, 1.5):
            with np.errstate(all="ignore"):
                if np.isfinite(f(np.float64(p))):
                    out.append((name, f, p))
                    break
    return out


UNARY_RULES = _unary_rules()


@pytest.mark.parametrize("name,f,p", UNARY_RULES, ids=[r[0] for r in UNARY_RULES])
def test_every_unary_rule_keeps_float32_at_every_order(name, f, p):
    """Rules that computed a derivative in float64 whatever the input (tanh' and expit'
    through sech2's np.where(x >= 0, -2.0, 2.0) * x, erf'/erfc' through the float64
    splitting of exp(-x**2), polygamma through scipy's float64 composition, hypot(1, x)'s
    np.sign of a Python float in arcsinh'/arctan'') made float32 results float64."""
    x0, x1 = F32(p), np.array([p, p / 2], dtype=F32)
    v = np.ones(2, dtype=F32)

    def s(z):
        return np.sum(f(z))

    with np.errstate(all="ignore"):
        results = {
            "derivative": (hd.derivative(f, x0), rv.derivative(f, x0), hd.derivative(f, x1),
                           rv.derivative(f, x1)),
            "second_derivative": (hd.second_derivative(f, x0), rv.second_derivative(f, x0),
                                  rv.second_derivative(f, x1)),
            "hessian": (hd.hessian(s, x1), rv.hessian(s, x1)),
            "hvp": (hd.hvp(s, x1, v), rv.hvp(s, x1, v),
                    rv.hvp(s, x1, v, mode="reverse-over-reverse")),
        }
        if f"numpy.{name}" in hd.taylor_supported() \
                or f"scipy.special.{name}" in hd.taylor_supported():
            results["taylor helpers"] = (
                hd.derivatives(f, x1, 3), rv.derivatives(f, x1, 3),
                rv.derivatives(f, x1, 3, method="backprop"),
                hd.derivative_tensor(s, x1, 3), rv.derivative_tensor(s, x1, 3, method="backprop"))
    # numpy 1.x's value-based casting makes some functions of a float32 *scalar* float64
    # (np.sinc: np.float32 * pi); there an engine may follow numpy's own value's dtype
    scalar_ok = {np.dtype(F32), np.asarray(f(x0)).dtype}
    scalar_results = {("derivative", 0), ("derivative", 1), ("second_derivative", 0),
                      ("second_derivative", 1)}
    for helper, rs in results.items():
        for i, r in enumerate(rs):
            ok = scalar_ok if (helper, i) in scalar_results else {np.dtype(F32)}
            assert _dtype(r) in ok, f"{name}: {helper} #{i} is {_dtype(r)}"


# ------------------------------------------- f computing in another precision than x
# A derivative with respect to x has x's dtype, whatever precision f computes in
# (JAX's grad/jacobian/hessian/vjp); jvp's tangent and f's value keep f's dtype
# (JAX's jvp).  The engines used to differ: hyperdual returned f's dtype.
def _cube_sum(dt):
    return lambda v: np.sum(v.astype(dt) ** 3)


def _cube(dt):
    return lambda v: v.astype(dt) ** 3


WRT_X = {
    "derivative": lambda m, dt, x: m.derivative(_cube(dt), x),
    "second_derivative": lambda m, dt, x: m.second_derivative(_cube(dt), x),
    "gradient": lambda m, dt, x: m.gradient(_cube_sum(dt), x),
    "value_and_gradient": lambda m, dt, x: m.value_and_gradient(_cube_sum(dt), x)[1],
    "jacobian": lambda m, dt, x: m.jacobian(_cube(dt), x),
    "hessian": lambda m, dt, x: m.hessian(_cube_sum(dt), x),
    "hvp": lambda m, dt, x: m.hvp(_cube_sum(dt), x, np.ones_like(x)),
    "vjp": lambda m, dt, x: m.vjp(_cube(dt), x, np.ones(np.shape(x), dt))[1],
    "derivatives": lambda m, dt, x: m.derivatives(_cube(dt), x, 3),
    "nth_derivative": lambda m, dt, x: m.nth_derivative(_cube(dt), x, 2),
    "taylor": lambda m, dt, x: m.taylor(_cube(dt), x, 3),
    "directional_derivatives": lambda m, dt, x: m.directional_derivatives(
        _cube_sum(dt), x, np.ones_like(x), 3),
    "derivative_tensor": lambda m, dt, x: m.derivative_tensor(
        _cube_sum(dt), np.atleast_1d(x), 2),
}
BACKPROP = ("derivatives", "nth_derivative", "taylor", "directional_derivatives",
            "derivative_tensor")


def _truth(name, x):
    """Closed forms for f = x**3 (sum of cubes), computed in float64."""
    x = np.asarray(x, dtype=np.float64)
    d = {"derivative": 3 * x**2, "second_derivative": 6 * x, "gradient": 3 * x**2,
         "value_and_gradient": 3 * x**2, "vjp": 3 * x**2,
         "jacobian": np.diag(3 * x**2) if x.ndim else 3 * x**2,
         "hessian": np.diag(6 * x) if x.ndim else 6 * x,
         "hvp": 6 * x,
         "derivatives": np.stack([x**3, 3 * x**2, 6 * x, 6 + 0 * x]),
         "nth_derivative": 6 * x,
         "taylor": np.stack([x**3, 3 * x**2, 3 * x, 1 + 0 * x]),
         "directional_derivatives": np.array([np.sum(x**3), np.sum(3 * x**2),
                                              np.sum(6 * x), 6.0 * x.size]),
         "derivative_tensor": np.diag(6 * np.atleast_1d(x))}
    return d[name]


@pytest.mark.parametrize("shape", ["scalar", "array"])
@pytest.mark.parametrize("x_dt, f_dt", [(np.float64, F32), (F32, np.float64)])
@pytest.mark.parametrize("engine", ["hyperdual", "reverse", "reverse-backprop"])
@pytest.mark.parametrize("name", list(WRT_X))
def test_derivatives_with_respect_to_x_have_xs_dtype(name, engine, x_dt, f_dt, shape):
    if engine == "reverse-backprop" and name not in BACKPROP:
        pytest.skip("method= is a Taylor-helper argument")
    x = np.array([0.5, 1.5], dtype=x_dt) if shape == "array" else np.asarray(1.5, dtype=x_dt)
    if name in ("derivatives", "nth_derivative", "taylor") and shape == "scalar":
        x = x_dt(1.5)  # a scalar point of the dtype
    m = hd if engine == "hyperdual" else rv
    call = WRT_X[name]
    if engine == "reverse-backprop":
        fn = getattr(rv, name)
        out = {"derivatives": lambda: fn(_cube(f_dt), x, 3, method="backprop"),
               "nth_derivative": lambda: fn(_cube(f_dt), x, 2, method="backprop"),
               "taylor": lambda: fn(_cube(f_dt), x, 3, method="backprop"),
               "directional_derivatives": lambda: fn(_cube_sum(f_dt), x, np.ones_like(x), 3,
                                                     method="backprop"),
               "derivative_tensor": lambda: fn(_cube_sum(f_dt), np.atleast_1d(x), 2,
                                               method="backprop")}[name]()
    else:
        out = call(m, f_dt, x)
    assert np.result_type(out) == x_dt, (name, engine, type(out), np.result_type(out))
    if x_dt == np.float64 and np.ndim(out) == 0:
        assert type(out) is float  # float64 scalars come back as Python floats
    # the values: exact in f's precision, so within float32's rounding of the truth
    np.testing.assert_allclose(np.asarray(out, np.float64), _truth(name, x),
                               rtol=8 * np.finfo(F32).eps)


@pytest.mark.parametrize("engine", [hd, rv], ids=["hyperdual", "reverse"])
def test_a_float64_constant_meeting_a_float32_x(engine):
    # numpy promotes A @ x to float64 (A is float64): the derivatives with respect to
    # the float32 x are float32 all the same, with A's entries rounded to float32
    A = np.array([[1.0 / 3.0, 2.0], [-0.7, 0.1]])
    x = np.array([0.25, -1.5], dtype=F32)
    J = engine.jacobian(lambda v: A @ v, x)
    assert J.dtype == F32 and np.array_equal(J, A.astype(F32))
    g = engine.gradient(lambda v: np.sum(A @ v), x)
    assert g.dtype == F32
    np.testing.assert_allclose(g, A.sum(axis=0), rtol=2 * np.finfo(F32).eps)
    H = engine.hessian(lambda v: v @ A @ v, x)
    assert H.dtype == F32
    np.testing.assert_allclose(H, A + A.T, rtol=2 * np.finfo(F32).eps)


# ------------------------- f that computes in float64 from a float32 x (redteam17a)
# numpy's float64 scalars and 0-d arrays are strong under NEP 50: float32 * np.float64(2)
# is float64.  hyperdual read them as (weak) Python floats, so its value stayed float32
# where numpy's and reverse's were float64; a float32 tangent stayed float32 next to a
# value that a float64 array had promoted (x + ones(3)); reverse's jvp tangent had x's
# dtype.  The truth here is numpy's own dtype of f(x).
MIXED = {
    "np.float64 * sum": lambda v: np.float64(2.0) * np.sum(v),
    "sum + np.float64": lambda v: np.sum(v) + np.ones(1)[0],
    "0-d float64 array": lambda v: np.sum(v) * np.array(2.0),
    "np.float64 - x": lambda v: np.float64(1.0) - v,
    "x / np.float64": lambda v: v / np.float64(3.0),
    "x + ones": lambda v: v + np.ones(3),
    "ones - x": lambda v: np.ones(3) - v,
    "maximum with np.float64": lambda v: np.maximum(v[0], np.float64(0.1)),
    "where with np.float64": lambda v: np.where(v > 0.5, v, np.float64(1.0)),
    "concatenate": lambda v: np.concatenate([v, np.ones(2)]),
    "stack with a float": lambda v: np.stack([v[0], 1.0]),
    # (not 2.0: numpy 2.2's fast scalar power kept float32 for x ** np.float64(2.0),
    # 0.5, 1, -1, where numpy 2.4 gives float64; 3.0 takes numpy's general path in both)
    "x ** np.float64": lambda v: v ** np.float64(3.0),
    "float32 only": lambda v: 2.0 * v,
}


_NUMPY1_SCALAR_CASES = {"np.float64 * sum", "sum + np.float64", "maximum with np.float64"}


@pytest.mark.parametrize("name", list(MIXED))
def test_value_and_tangent_take_the_dtype_numpy_gives_f(name):
    if name in _NUMPY1_SCALAR_CASES and np.lib.NumpyVersion(np.__version__) < "2.0.0":
        # numpy 1's value-based casting (before NEP 50) promotes np.float64 scalars
        # against 0-d float32 data differently from the array path reverse records
        # (reverse's result stays float32 there; the derivative's numbers are checked
        # below on every numpy): the dtype convention is numpy 2's
        pytest.skip("numpy < 2: value-based casting of np.float64 scalars (pre NEP 50)")
    f = MIXED[name]
    x = np.array([0.3, 0.6, 0.9], dtype=F32)
    want = np.asarray(f(x)).dtype
    for m in (hd, rv):
        value, tangent = m.jvp(f, x, np.ones(3, dtype=F32))
        assert _dtype(value) == want and _dtype(tangent) == want, (m.__name__, name)
        j = m.jacobian(f, x)
        assert _dtype(j) == F32, (m.__name__, name)  # a derivative w.r.t. x: x's dtype
    # the numbers themselves: the Jacobian against central differences in float64
    num = rv.numerical_grad(lambda z: np.asarray(f(z), dtype=np.float64), x.astype(float))
    for m in (hd, rv):
        np.testing.assert_allclose(m.jacobian(f, x), num, rtol=1e-5, atol=1e-6)
    # the parts of a Dual agree with each other
    d = f(hd.Dual(x, np.ones(3, dtype=F32)))
    assert _dtype(d.real) == _dtype(d.dual) == want, name
