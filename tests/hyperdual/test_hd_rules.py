"""Every rule of hyperdual's table against closed forms written here from calculus.

Each unary rule is checked for value, first and second derivative at several
points of its domain (including points near the domain's edges), through the
three entry points (numpy dispatch, ``hyperdual.<name>``, the helpers), with
scalar and array parts.  Binary rules are checked through their partial
derivatives and the mixed second derivatives of a 2-vector function.
"""

import math
import warnings

import numpy as np
import pytest
from scipy import special

import hyperdual
from hyperdual import Dual, HyperDual, _generic, _rules
from tests._tolerance import assert_close_ulps

RTOL = 1e-12
ATOL = 1e-300

LN2 = math.log(2.0)
LN10 = math.log(10.0)
SQPI = math.sqrt(math.pi)


def close(actual, desired, rtol=RTOL, atol=ATOL, err_msg=""):
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=atol, err_msg=err_msg)


def _om(x):  # 1 - x**2 without cancellation near |x| = 1
    return (1.0 - x) * (1.0 + x)


def _xm(x):  # x**2 - 1 without cancellation near x = 1
    return (x - 1.0) * (x + 1.0)


def _expit_d1(x):
    e = np.exp(-np.abs(x))
    return e / (1.0 + e) ** 2  # symmetric in x


def _expit_d2(x):
    e = np.exp(-x)
    return e * (e - 1.0) / (1.0 + e) ** 3


# name -> (f, f', f'', points).  Written from calculus, not from the code.
UNARY_TABLE = {
    "sin": (np.sin, np.cos, lambda x: -np.sin(x), [-2.5, 0.0, 0.3, 1.0, 4.0]),
    "cos": (np.cos, lambda x: -np.sin(x), lambda x: -np.cos(x), [-2.5, 0.0, 0.3, 1.0, 4.0]),
    "tan": (np.tan, lambda x: 1.0 / np.cos(x) ** 2,
            lambda x: 2.0 * np.sin(x) / np.cos(x) ** 3, [-1.2, 0.0, 0.7, 1.5]),
    "arcsin": (np.arcsin, lambda x: 1.0 / np.sqrt(_om(x)), lambda x: x / _om(x) ** 1.5,
               [-(1 - 1e-6), -0.5, 0.0, 0.3, 0.999, 1 - 1e-6]),
    "arccos": (np.arccos, lambda x: -1.0 / np.sqrt(_om(x)), lambda x: -x / _om(x) ** 1.5,
               [-(1 - 1e-6), -0.5, 0.0, 0.3, 1 - 1e-6]),
    "arctan": (np.arctan, lambda x: 1.0 / (1.0 + x * x),
               lambda x: -2.0 * x / (1.0 + x * x) ** 2, [-30.0, -1.0, 0.0, 0.5, 4.0]),
    "sinh": (np.sinh, np.cosh, np.sinh, [-3.0, 0.0, 0.4, 2.0]),
    "cosh": (np.cosh, np.sinh, np.cosh, [-3.0, 0.0, 0.4, 2.0]),
    "tanh": (np.tanh, lambda x: 1.0 / np.cosh(x) ** 2,
             lambda x: -2.0 * np.sinh(x) / np.cosh(x) ** 3, [-2.0, -0.3, 0.0, 0.8, 3.0]),
    "arcsinh": (np.arcsinh, lambda x: 1.0 / np.sqrt(1.0 + x * x),
                lambda x: -x / (1.0 + x * x) ** 1.5, [-5.0, 0.0, 0.5, 100.0]),
    "arccosh": (np.arccosh, lambda x: 1.0 / np.sqrt(_xm(x)), lambda x: -x / _xm(x) ** 1.5,
                [1 + 1e-6, 1.5, 10.0]),
    "arctanh": (np.arctanh, lambda x: 1.0 / _om(x), lambda x: 2.0 * x / _om(x) ** 2,
                [-(1 - 1e-6), -0.5, 0.0, 0.2, 0.9, 1 - 1e-6]),
    "exp": (np.exp, np.exp, np.exp, [-30.0, -1.0, 0.0, 1.0, 20.0]),
    "expm1": (np.expm1, np.exp, np.exp, [-30.0, -1e-9, 0.0, 1e-9, 2.0]),
    "exp2": (np.exp2, lambda x: LN2 * 2.0 ** x, lambda x: LN2 ** 2 * 2.0 ** x,
             [-10.0, 0.0, 0.5, 3.0]),
    "log": (np.log, lambda x: 1.0 / x, lambda x: -1.0 / x ** 2, [1e-8, 0.3, 1.0, 7.5, 1e6]),
    "log1p": (np.log1p, lambda x: 1.0 / (1.0 + x), lambda x: -1.0 / (1.0 + x) ** 2,
              [-1 + 1e-8, -0.5, 0.0, 1e-10, 3.0]),
    "log2": (np.log2, lambda x: 1.0 / (x * LN2), lambda x: -1.0 / (x * x * LN2),
             [1e-8, 0.5, 8.0]),
    "log10": (np.log10, lambda x: 1.0 / (x * LN10), lambda x: -1.0 / (x * x * LN10),
              [1e-8, 0.5, 1000.0]),
    "sqrt": (np.sqrt, lambda x: 0.5 / np.sqrt(x), lambda x: -0.25 * x ** -1.5,
             [1e-10, 1e-4, 0.25, 2.0, 1e4]),
    "cbrt": (np.cbrt, lambda x: 1.0 / (3.0 * np.cbrt(x) ** 2),
             lambda x: -2.0 / (9.0 * x * np.cbrt(x) ** 2), [-8.0, -1e-3, 0.5, 27.0]),
    "square": (np.square, lambda x: 2.0 * x, lambda x: 2.0 + 0.0 * x, [-3.0, 0.0, 0.5, 7.0]),
    "reciprocal": (lambda x: 1.0 / x, lambda x: -1.0 / x ** 2, lambda x: 2.0 / x ** 3,
                   [-3.0, 1e-4, 0.5, 2.0]),
    "negative": (lambda x: -x, lambda x: -1.0 + 0.0 * x, lambda x: 0.0 * x, [-2.0, 0.0, 3.5]),
    "positive": (lambda x: x, lambda x: 1.0 + 0.0 * x, lambda x: 0.0 * x, [-2.0, 0.0, 3.5]),
    "absolute": (np.abs, lambda x: np.where(x > 0, 1.0, -1.0), lambda x: 0.0 * x,
                 [-2.0, -1e-9, 0.5, 3.0]),
    "sign": (np.sign, lambda x: 0.0 * x, lambda x: 0.0 * x, [-2.3, 0.4, 1.7]),
    "floor": (np.floor, lambda x: 0.0 * x, lambda x: 0.0 * x, [-2.3, 0.4, 1.7]),
    "ceil": (np.ceil, lambda x: 0.0 * x, lambda x: 0.0 * x, [-2.3, 0.4, 1.7]),
    "trunc": (np.trunc, lambda x: 0.0 * x, lambda x: 0.0 * x, [-2.3, 0.4, 1.7]),
    "rint": (np.rint, lambda x: 0.0 * x, lambda x: 0.0 * x, [-2.3, 0.4, 1.7]),
    "erf": (special.erf, lambda x: 2.0 / SQPI * np.exp(-x * x),
            lambda x: -4.0 * x / SQPI * np.exp(-x * x), [-3.0, -0.5, 0.0, 1.2, 4.0]),
    "erfc": (special.erfc, lambda x: -2.0 / SQPI * np.exp(-x * x),
             lambda x: 4.0 * x / SQPI * np.exp(-x * x), [-3.0, -0.5, 0.0, 1.2, 4.0]),
    "expit": (lambda x: 1.0 / (1.0 + np.exp(-x)), _expit_d1, _expit_d2,
              [-5.0, -0.5, 0.0, 1.2, 4.0]),
    "log_expit": (special.log_expit, lambda x: special.expit(-x),
                  lambda x: -special.expit(x) * special.expit(-x), [-40.0, -0.5, 0.0, 1.2, 40.0]),
    "gammaln": (special.gammaln, special.psi, lambda x: special.polygamma(1, x),
                [0.1, 1.0, 2.5, 10.0]),
    "digamma": (special.psi, lambda x: special.polygamma(1, x),
                lambda x: special.polygamma(2, x), [0.3, 1.0, 4.2]),
    "polygamma1": (lambda x: special.polygamma(1, x), lambda x: special.polygamma(2, x),
                   lambda x: special.polygamma(3, x), [0.3, 1.0, 4.2]),
    "polygamma2": (lambda x: special.polygamma(2, x), lambda x: special.polygamma(3, x),
                   None, [0.3, 1.0, 4.2]),
    "polygamma3": (lambda x: special.polygamma(3, x), None, None, [0.3, 1.0, 4.2]),
}

# How a user reaches each rule through numpy's (or scipy's) own functions.
NUMPY_ENTRY = {
    "erf": special.erf, "erfc": special.erfc, "expit": special.expit,
    "gammaln": special.gammaln, "digamma": special.psi,
}


# Elementwise leftovers (breadth): closed forms from calculus, written with scipy.
def _sinc_d1(x):
    t = np.pi * x
    return np.pi * (t * np.cos(t) - np.sin(t)) / t ** 2


def _sinc_d2(x):
    t = np.pi * x
    return np.pi ** 2 * ((2 - t * t) * np.sin(t) - 2 * t * np.cos(t)) / t ** 3


def _phi(x):
    return np.exp(-x * x / 2) / np.sqrt(2 * np.pi)


_DEG = np.pi / 180
UNARY_TABLE.update({
    "fabs": (np.fabs, lambda x: np.where(x > 0, 1.0, -1.0), lambda x: 0.0 * x,
             [-2.0, -1e-9, 0.5, 3.0]),
    "deg2rad": (np.deg2rad, lambda x: _DEG + 0.0 * x, lambda x: 0.0 * x, [-30.0, 0.0, 2.0]),
    "radians": (np.radians, lambda x: _DEG + 0.0 * x, lambda x: 0.0 * x, [-30.0, 0.0, 2.0]),
    "rad2deg": (np.rad2deg, lambda x: 1 / _DEG + 0.0 * x, lambda x: 0.0 * x, [-3.0, 0.0, 2.0]),
    "degrees": (np.degrees, lambda x: 1 / _DEG + 0.0 * x, lambda x: 0.0 * x, [-3.0, 0.0, 2.0]),
    "sinc": (np.sinc, _sinc_d1, _sinc_d2, [-2.7, -0.4, 0.35, 1.5, 6.25]),
    "gamma": (special.gamma, lambda x: special.gamma(x) * special.psi(x),
              lambda x: special.gamma(x) * (special.psi(x) ** 2 + special.polygamma(1, x)),
              [-1.5, 0.3, 1.0, 4.5, 20.0]),
    "loggamma": (special.loggamma, special.psi, lambda x: special.polygamma(1, x),
                 [0.3, 1.0, 4.5, 100.0]),
    "erfinv": (special.erfinv, lambda x: SQPI / 2 * np.exp(special.erfinv(x) ** 2),
               lambda x: SQPI ** 2 / 2 * special.erfinv(x) * np.exp(2 * special.erfinv(x) ** 2),
               [-0.9, -0.2, 0.0, 0.5, 0.99]),
    "erfcinv": (special.erfcinv, lambda x: -SQPI / 2 * np.exp(special.erfcinv(x) ** 2),
                lambda x: SQPI ** 2 / 2 * special.erfcinv(x)
                * np.exp(2 * special.erfcinv(x) ** 2), [0.05, 0.5, 1.0, 1.5, 1.9]),
    "erfcx": (special.erfcx, lambda x: 2 * x * special.erfcx(x) - 2 / SQPI,
              lambda x: (2 + 4 * x * x) * special.erfcx(x) - 4 * x / SQPI,
              [-2.0, 0.0, 0.7, 1.5]),
    "ndtr": (special.ndtr, _phi, lambda x: -x * _phi(x), [-4.0, -0.5, 0.0, 1.3]),
    "log_ndtr": (special.log_ndtr, lambda x: _phi(x) / special.ndtr(x),
                 lambda x: -(_phi(x) / special.ndtr(x)) * (x + _phi(x) / special.ndtr(x)),
                 [-3.0, -0.5, 0.0, 1.3, 4.0]),
    "ndtri": (special.ndtri, lambda p: 1 / _phi(special.ndtri(p)),
              lambda p: special.ndtri(p) / _phi(special.ndtri(p)) ** 2,
              [0.01, 0.3, 0.5, 0.8, 0.999]),
    "i0": (special.i0, special.i1, lambda x: special.i0(x) - special.i1(x) / x,
           [-3.0, 0.5, 2.5, 10.0]),
    "i1": (special.i1, lambda x: special.i0(x) - special.i1(x) / x,
           lambda x: special.i1(x) - special.i0(x) / x + 2 * special.i1(x) / x ** 2,
           [-3.0, 0.5, 2.5, 10.0]),
    "i0e": (special.i0e, lambda x: np.exp(-np.abs(x)) * (special.i1(x)
                                                         - np.sign(x) * special.i0(x)),
            lambda x: np.exp(-np.abs(x)) * (2 * special.i0(x) - special.i1(x) / x
                                            - 2 * np.sign(x) * special.i1(x)),
            [-3.0, 0.5, 2.5, 10.0]),
    "i1e": (special.i1e,
            lambda x: np.exp(-np.abs(x)) * (special.i0(x) - special.i1(x) / x
                                            - np.sign(x) * special.i1(x)),
            lambda x: np.exp(-np.abs(x)) * (
                special.i1(x) - special.i0(x) / x + 2 * special.i1(x) / x ** 2
                - 2 * np.sign(x) * (special.i0(x) - special.i1(x) / x) + special.i1(x)),
            [-3.0, 0.5, 2.5, 10.0]),
    "entr": (special.entr, lambda x: -(np.log(x) + 1), lambda x: -1 / x, [0.1, 1.0, 3.0]),
    "logit": (special.logit, lambda p: 1 / (p * (1 - p)),
              lambda p: (2 * p - 1) / (p * (1 - p)) ** 2, [0.01, 0.3, 0.5, 0.9]),
})
NUMPY_ENTRY.update({n: getattr(special, n) for n in (
    "gamma", "loggamma", "erfinv", "erfcinv", "erfcx", "ndtr", "log_ndtr", "ndtri", "i0",
    "i1", "i0e", "i1e", "entr", "logit")})
NUMPY_ENTRY["sinc"] = np.sinc


def numpy_entry(name):
    if name in NUMPY_ENTRY:
        return NUMPY_ENTRY[name]
    fn = getattr(np, name, None)
    return fn if isinstance(fn, np.ufunc) else None


def generic_entry(name):
    """``hyperdual.<name>`` (falls back to the internal generic for unexported rules)."""
    fn = getattr(hyperdual, name, None)
    return fn if fn is not None else getattr(_generic, name)


def test_table_covers_every_rule():
    assert set(UNARY_TABLE) == set(_rules.UNARY), "add new rules to UNARY_TABLE"
    assert set(BINARY_TABLE) == set(_rules.BINARY), "add new rules to BINARY_TABLE"


def test_exported_names():
    exported = {n for n in _rules.UNARY if hasattr(hyperdual, n)}
    # Every rule except the polygamma helpers and `positive` is reachable by name.
    assert set(_rules.UNARY) - exported <= {"polygamma1", "polygamma2", "polygamma3",
                                            "positive"}
    for n in ("abs", "divide", "add", "subtract", "multiply", "power", "arctan2", "hypot",
              "maximum", "minimum", "xlogy"):
        assert callable(getattr(hyperdual, n))


def _entries(name):
    hows = ["hyperdual"]
    if numpy_entry(name) is not None:
        hows.insert(0, "numpy")
    return hows


def _cases(order, with_entry):
    for name, (_f, d1, d2, pts) in UNARY_TABLE.items():
        if (d1 if order == 1 else d2) is None:
            continue
        for x in pts:
            if not with_entry:
                yield pytest.param(name, x, id=f"{name}-{x!r}")
                continue
            for how in _entries(name):
                yield pytest.param(name, x, how, id=f"{name}-{x!r}-{how}")


def _first_order_cases():
    return list(_cases(1, False))


def _second_order_cases():
    return list(_cases(2, False))


def _entry(name, how):
    return numpy_entry(name) if how == "numpy" else generic_entry(name)


@pytest.mark.parametrize("name,x,how", list(_cases(1, True)))
def test_unary_dual_scalar(name, x, how):
    f, d1, _, _ = UNARY_TABLE[name]
    fn = _entry(name, how)
    t = 0.7
    y = fn(Dual(x, t))
    assert isinstance(y, Dual)
    close(y.real, f(np.float64(x)))
    close(y.dual, d1(np.float64(x)) * t)
    # the value path of the same function on a plain float agrees
    close(fn(x), f(np.float64(x)))


@pytest.mark.parametrize("name,x,how", list(_cases(2, True)))
def test_unary_hyperdual_scalar(name, x, how):
    f, d1, d2, _ = UNARY_TABLE[name]
    fn = _entry(name, how)
    a, b, c = 0.5, -1.5, 0.25
    y = fn(HyperDual(x, a, b, c))
    assert isinstance(y, HyperDual)
    x64 = np.float64(x)
    close(y.real, f(x64))
    close(y.eps1, d1(x64) * a)
    close(y.eps2, d1(x64) * b)
    # eps12 = f'(x) c + f''(x) a b; compare the two terms' sum with a tolerance
    # scaled by the terms (they may cancel)
    want = d1(x64) * c + d2(x64) * a * b
    scale = abs(d1(x64) * c) + abs(d2(x64) * a * b)
    assert abs(y.eps12 - want) <= RTOL * scale + ATOL


@pytest.mark.parametrize("name,x", _first_order_cases())
def test_unary_derivative_helper(name, x):
    _, d1, _, _ = UNARY_TABLE[name]
    fn = generic_entry(name)
    got = hyperdual.derivative(fn, x)
    assert isinstance(got, float)
    close(got, d1(np.float64(x)))
    np_fn = numpy_entry(name)
    if np_fn is not None:
        close(hyperdual.derivative(np_fn, x), d1(np.float64(x)))


@pytest.mark.parametrize("name,x", _second_order_cases())
def test_unary_second_derivative_helper(name, x):
    _, _, d2, _ = UNARY_TABLE[name]
    fn = generic_entry(name)
    got = hyperdual.second_derivative(fn, x)
    assert isinstance(got, float)
    close(got, d2(np.float64(x)), atol=1e-300)
    np_fn = numpy_entry(name)
    if np_fn is not None:
        close(hyperdual.second_derivative(np_fn, x), d2(np.float64(x)))


@pytest.mark.parametrize("name,how", [(n, h) for n, v in UNARY_TABLE.items()
                                      if v[2] is not None for h in _entries(n)])
def test_unary_array_parts(name, how):
    f, d1, d2, pts = UNARY_TABLE[name]
    fn = _entry(name, how)
    x = np.array(pts, dtype=float)
    rng = np.random.default_rng(len(name))
    t = rng.uniform(-2, 2, x.shape)
    y = fn(Dual(x, t))
    assert isinstance(y.real, np.ndarray) and y.real.shape == x.shape
    close(y.real, f(x))
    close(y.dual, d1(x) * t)
    # 2-d arrays with HyperDual parts
    x2 = np.stack([x, x[::-1]])
    a, b, c = (rng.uniform(-2, 2, x2.shape) for _ in range(3))
    z = fn(HyperDual(x2, a, b, c))
    close(z.real, f(x2))
    close(z.eps1, d1(x2) * a)
    close(z.eps2, d1(x2) * b)
    want = d1(x2) * c + d2(x2) * a * b
    scale = np.abs(d1(x2) * c) + np.abs(d2(x2) * a * b)
    assert np.all(np.abs(z.eps12 - want) <= RTOL * scale + ATOL)


@pytest.mark.parametrize("name", ["sin", "log", "arcsin", "sqrt", "expit"])
def test_unary_broadcast_between_parts(name):
    f, d1, d2, pts = UNARY_TABLE[name]
    x0 = pts[1]
    fn = generic_entry(name)
    # scalar real, array tangent: the real part is broadcast
    t = np.array([1.0, -2.0, 0.5])
    y = fn(Dual(x0, t))
    assert y.shape == (3,)
    close(y.real, np.full(3, f(np.float64(x0))))
    close(y.dual, d1(np.float64(x0)) * t)
    # column real, row tangent -> (3, 2)
    x = np.array(pts[:3], dtype=float)[:, None]
    t2 = np.array([[1.0, 3.0]])
    y = fn(Dual(x, t2))
    assert y.shape == (3, 2)
    close(y.dual, d1(x) * t2)
    z = fn(HyperDual(x, t2, 1.0, np.zeros((1, 2))))
    close(z.eps12, d2(x) * t2 + np.zeros((3, 2)))


def test_polygamma_has_no_order_limit():
    from scipy import special

    z = _generic.polygamma2(HyperDual(1.0, 1.0, 1.0, 0.0))
    assert z.eps12 == special.polygamma(4, 1.0)
    assert _generic.polygamma3(Dual(1.0, 1.0)).dual == special.polygamma(4, 1.0)


@pytest.mark.parametrize("name", sorted(n for n, r in _rules.UNARY.items()
                                        if r.dscalar is not None and r.scalar is not None))
def test_scalar_derivative_equals_table_derivative(name):
    rule = _rules.UNARY[name]
    for x in UNARY_TABLE[name][3]:
        assert_close_ulps(rule.dscalar(float(x)), rule.df(float(x)), ulps=8)
        assert_close_ulps(rule.d2scalar(float(x)), rule.d2f(float(x)), ulps=8)


# --- documented conventions at non-differentiable points and domain edges ----------
def test_abs_at_zero_has_derivative_zero():
    assert np.abs(Dual(0.0, 1.0)).dual == 0.0
    assert hyperdual.derivative(abs, 0.0) == 0.0
    assert hyperdual.derivative(np.abs, 0.0) == 0.0
    assert hyperdual.second_derivative(np.abs, 0.0) == 0.0


@pytest.mark.parametrize("parts", ["float", "array"])
def test_sqrt_at_zero_is_inf_with_warning(parts):
    x = 0.0 if parts == "float" else np.zeros(2)
    with pytest.warns(RuntimeWarning):
        y = np.sqrt(Dual(x, 1.0))
    assert np.all(y.real == 0.0)
    assert np.all(np.isposinf(y.dual))


@pytest.mark.parametrize("parts", ["float", "array"])
def test_log_at_zero_is_inf_with_warning(parts):
    x = 0.0 if parts == "float" else np.zeros(2)
    with pytest.warns(RuntimeWarning):
        y = hyperdual.log(Dual(x, 1.0))
    assert np.all(np.isneginf(y.real))
    assert np.all(np.isposinf(y.dual))


def test_arcsin_at_one_is_inf():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        y = np.arcsin(Dual(1.0, 1.0))
        z = np.arcsin(HyperDual(1.0, 1.0, 1.0, 0.0))
    assert y.real == math.pi / 2
    assert np.isposinf(y.dual)
    assert np.isposinf(z.eps1)


@pytest.mark.parametrize("name,x", [("arcsin", 2.0), ("arccos", -1.5), ("arccosh", 0.5),
                                    ("log", -1.0), ("sqrt", -4.0)])
def test_outside_domain_is_real_nan(name, x):
    fn = generic_entry(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        z = fn(HyperDual(x, 1.0, 1.0, 0.0))
        d = fn(Dual(x, 1.0))
    for p in (*z._parts(), d.real, d.dual):
        assert not isinstance(p, complex) and np.isrealobj(p), (name, p)
    assert np.isnan(z.real) and np.isnan(d.real)


# --- binary rules -------------------------------------------------------------------
def _max_partials(x, y):
    if x > y:
        return 1.0, 0.0
    if x < y:
        return 0.0, 1.0
    return 0.5, 0.5


# name -> (f, grad(x, y) -> (fx, fy), hess(x, y) -> (fxx, fxy, fyy), points)
BINARY_TABLE = {
    "add": (lambda x, y: x + y, lambda x, y: (1.0, 1.0), lambda x, y: (0.0, 0.0, 0.0),
            [(1.5, -2.0), (0.0, 3.0)]),
    "subtract": (lambda x, y: x - y, lambda x, y: (1.0, -1.0), lambda x, y: (0.0, 0.0, 0.0),
                 [(1.5, -2.0), (0.0, 3.0)]),
    "multiply": (lambda x, y: x * y, lambda x, y: (y, x), lambda x, y: (0.0, 1.0, 0.0),
                 [(1.5, -2.0), (0.0, 3.0), (-0.3, 0.7)]),
    "true_divide": (lambda x, y: x / y, lambda x, y: (1.0 / y, -x / y ** 2),
                    lambda x, y: (0.0, -1.0 / y ** 2, 2.0 * x / y ** 3),
                    [(1.5, -2.0), (0.0, 3.0), (-0.3, 1e-3)]),
    "power": (lambda x, y: x ** y,
              lambda x, y: (y * x ** (y - 1), x ** y * math.log(x)),
              lambda x, y: (y * (y - 1) * x ** (y - 2),
                            x ** (y - 1) * (1.0 + y * math.log(x)),
                            x ** y * math.log(x) ** 2),
              [(1.5, 2.0), (0.3, -1.5), (2.0, 0.5), (1e-3, 3.0), (7.0, 0.0)]),
    "arctan2": (math.atan2,
                lambda a, b: (b / (a * a + b * b), -a / (a * a + b * b)),
                lambda a, b: (-2 * a * b / (a * a + b * b) ** 2,
                              (a * a - b * b) / (a * a + b * b) ** 2,
                              2 * a * b / (a * a + b * b) ** 2),
                [(1.0, 2.0), (-0.5, -3.0), (2.0, -1e-3), (0.0, 1.0)]),
    "hypot": (math.hypot,
              lambda a, b: (a / math.hypot(a, b), b / math.hypot(a, b)),
              lambda a, b: (b * b / math.hypot(a, b) ** 3, -a * b / math.hypot(a, b) ** 3,
                            a * a / math.hypot(a, b) ** 3),
              [(3.0, 4.0), (-1.0, 0.5), (1e-5, 2.0)]),
    "maximum": (max, _max_partials, lambda x, y: (0.0, 0.0, 0.0),
                [(1.0, 2.0), (3.0, -1.0), (1.5, 1.5)]),
    "minimum": (min, lambda x, y: _max_partials(y, x)[::-1] if x != y else (0.5, 0.5),
                lambda x, y: (0.0, 0.0, 0.0), [(1.0, 2.0), (3.0, -1.0), (1.5, 1.5)]),
    "xlogy": (lambda x, y: x * math.log(y), lambda x, y: (math.log(y), x / y),
              lambda x, y: (0.0, 1.0 / y, -x / y ** 2), [(2.0, 3.0), (-0.5, 0.2), (0.0, 5.0)]),
}


def _min_partials(x, y):
    if x < y:
        return 1.0, 0.0
    if x > y:
        return 0.0, 1.0
    return 0.5, 0.5


BINARY_TABLE["minimum"] = (min, _min_partials, lambda x, y: (0.0, 0.0, 0.0),
                           [(1.0, 2.0), (3.0, -1.0), (1.5, 1.5)])

# Binary leftovers (breadth): closed forms from calculus.
def _expit(z):
    return 1.0 / (1.0 + math.exp(-z))


def _lae_hess(x, y, c=1.0):
    s = _expit(c * (x - y))
    h = c * s * (1 - s)
    return (h, -h, h)


def _psi(x):
    return float(special.psi(x))


def _pg1(x):
    return float(special.polygamma(1, x))


def _beta_grad(a, b):
    B = special.beta(a, b)
    return (B * (_psi(a) - _psi(a + b)), B * (_psi(b) - _psi(a + b)))


def _beta_hess(a, b):
    B = special.beta(a, b)
    da, db = _psi(a) - _psi(a + b), _psi(b) - _psi(a + b)
    return (B * (da * da + _pg1(a) - _pg1(a + b)), B * (da * db - _pg1(a + b)),
            B * (db * db + _pg1(b) - _pg1(a + b)))


BINARY_TABLE.update({
    "remainder": (lambda x, y: x % y, lambda x, y: (1.0, -math.floor(x / y)),
                  lambda x, y: (0.0, 0.0, 0.0), [(5.3, 2.0), (-1.25, 0.5), (0.7, -0.3)]),
    "fmod": (math.fmod, lambda x, y: (1.0, -math.trunc(x / y)), lambda x, y: (0.0, 0.0, 0.0),
             [(5.3, 2.0), (-1.25, 0.4), (0.7, -0.3)]),
    "floor_divide": (lambda x, y: x // y, lambda x, y: (0.0, 0.0), lambda x, y: (0.0, 0.0, 0.0),
                     [(5.3, 2.0), (-1.25, 0.4)]),
    "heaviside": (lambda x, h: float(np.heaviside(x, h)),
                  lambda x, h: (0.0, 1.0 if x == 0 else 0.0), lambda x, h: (0.0, 0.0, 0.0),
                  [(-1.0, 0.5), (0.0, 0.3), (2.0, 0.5)]),
    "copysign": (math.copysign, lambda x, y: (math.copysign(1.0, x) * math.copysign(1.0, y),
                                               0.0),
                 lambda x, y: (0.0, 0.0, 0.0), [(1.5, -2.0), (-0.5, 3.0), (-2.0, -1.0)]),
    "float_power": BINARY_TABLE["power"],
    "logaddexp": (np.logaddexp, lambda x, y: (_expit(x - y), _expit(y - x)), _lae_hess,
                  [(0.3, -1.2), (5.0, 5.0), (-700.0, -701.0), (40.0, -40.0)]),
    "logaddexp2": (np.logaddexp2, lambda x, y: (_expit(LN2 * (x - y)), _expit(LN2 * (y - x))),
                   lambda x, y: _lae_hess(x, y, LN2), [(0.3, -1.2), (5.0, 5.0), (-3.0, 2.5)]),
    "xlog1py": (lambda x, y: x * math.log1p(y), lambda x, y: (math.log1p(y), x / (1 + y)),
                lambda x, y: (0.0, 1 / (1 + y), -x / (1 + y) ** 2),
                [(2.0, 3.0), (-0.5, -0.2), (0.0, 5.0)]),
    "rel_entr": (lambda x, y: x * math.log(x / y), lambda x, y: (math.log(x / y) + 1, -x / y),
                 lambda x, y: (1 / x, -1 / y, x / y ** 2), [(2.0, 3.0), (0.5, 0.2), (1.0, 1.0)]),
    "kl_div": (lambda x, y: x * math.log(x / y) - x + y,
               lambda x, y: (math.log(x / y), 1 - x / y),
               lambda x, y: (1 / x, -1 / y, x / y ** 2), [(2.0, 3.0), (0.5, 0.2), (1.0, 1.0)]),
    "beta": (special.beta, _beta_grad, _beta_hess, [(2.0, 3.0), (0.5, 0.2), (4.5, 1.5)]),
    # delta**2 (sqrt(1 + q**2) - 1), q = r / delta: d/dd = 2 delta (s - 1) - delta q**2 / s,
    # d/dr = r / s; second: 2 (s - 1) - q**2 / s - q**4 / s**3, q**3 / s**3, 1 / s**3
    "pseudo_huber": (special.pseudo_huber,
                     lambda d, r: (2 * d * (math.hypot(1, r / d) - 1)
                                   - d * (r / d) ** 2 / math.hypot(1, r / d),
                                   r / math.hypot(1, r / d)),
                     lambda d, r: (2 * (math.hypot(1, r / d) - 1)
                                   - (r / d) ** 2 / math.hypot(1, r / d)
                                   - (r / d) ** 4 / math.hypot(1, r / d) ** 3,
                                   (r / d) ** 3 / math.hypot(1, r / d) ** 3,
                                   1 / math.hypot(1, r / d) ** 3),
                     [(1.0, 0.5), (2.0, -5.0), (0.3, 0.7)]),
    "betaln": (special.betaln,
               lambda a, b: (_psi(a) - _psi(a + b), _psi(b) - _psi(a + b)),
               lambda a, b: (_pg1(a) - _pg1(a + b), -_pg1(a + b), _pg1(b) - _pg1(a + b)),
               [(2.0, 3.0), (0.5, 0.2), (4.5, 1.5)]),
})


OPERATORS = {
    "add": lambda a, b: a + b,
    "subtract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b,
    "true_divide": lambda a, b: a / b,
    "power": lambda a, b: a ** b,
}
NUMPY_BINARY = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply,
    "true_divide": np.divide, "power": np.power, "arctan2": np.arctan2, "hypot": np.hypot,
    "maximum": np.maximum, "minimum": np.minimum, "xlogy": special.xlogy,
    **{n: getattr(np, n) for n in ("remainder", "fmod", "floor_divide", "heaviside", "copysign",
                                    "float_power", "logaddexp", "logaddexp2")},
    **{n: getattr(special, n) for n in ("xlog1py", "rel_entr", "kl_div", "beta", "betaln",
                                        "pseudo_huber")},
}
HD_BINARY = {
    "add": hyperdual.add, "subtract": hyperdual.subtract, "multiply": hyperdual.multiply,
    "true_divide": hyperdual.divide, "power": hyperdual.power, "arctan2": hyperdual.arctan2,
    "hypot": hyperdual.hypot, "maximum": hyperdual.maximum, "minimum": hyperdual.minimum,
    "xlogy": hyperdual.xlogy,
    **{n: getattr(hyperdual, n) for n in (
        "remainder", "fmod", "floor_divide", "heaviside", "copysign", "float_power", "logaddexp",
        "logaddexp2", "xlog1py", "rel_entr", "kl_div", "beta", "betaln", "pseudo_huber")},
}


def _binary_entries(name):
    out = [("numpy", NUMPY_BINARY[name]), ("hyperdual", HD_BINARY[name])]
    if name in OPERATORS:
        out.append(("operator", OPERATORS[name]))
    return out


def _binary_cases():
    for name, (_, _, _, pts) in BINARY_TABLE.items():
        for x, y in pts:
            yield pytest.param(name, x, y, id=f"{name}-{x!r}-{y!r}")


@pytest.mark.parametrize("name,x,y", list(_binary_cases()))
def test_binary_partials(name, x, y):
    f, grad, _, _ = BINARY_TABLE[name]
    fx, fy = grad(x, y)
    for how, fn in _binary_entries(name):
        # vary x only, y only, both (with different tangents)
        r = fn(Dual(x, 1.0), y)
        close(r.real, f(x, y), atol=1e-15)
        assert _near(r.dual, fx), (how, "d/dx", r.dual, fx)
        r = fn(x, Dual(y, 1.0))
        close(r.real, f(x, y), atol=1e-15)
        assert _near(r.dual, fy), (how, "d/dy", r.dual, fy)
        r = fn(Dual(x, 0.25), Dual(y, -2.0))
        assert _near(r.dual, 0.25 * fx - 2.0 * fy, scale=abs(0.25 * fx) + abs(2 * fy)), how


def _near(a, b, scale=None, rtol=RTOL, atol=1e-15):
    scale = abs(b) if scale is None else scale
    return abs(a - b) <= rtol * scale + atol


@pytest.mark.parametrize("name,x,y", list(_binary_cases()))
def test_binary_hessian_and_gradient(name, x, y):
    f, grad, hess, _ = BINARY_TABLE[name]
    fx, fy = grad(x, y)
    fxx, fxy, fyy = hess(x, y)
    want_h = np.array([[fxx, fxy], [fxy, fyy]])
    for how, fn in _binary_entries(name):
        def g(v, fn=fn):
            return fn(v[0], v[1])

        p = np.array([x, y])
        close(hyperdual.gradient(g, p), [fx, fy], atol=1e-15)
        h = hyperdual.hessian(g, p)
        assert h.shape == (2, 2)
        close(h, want_h, atol=1e-12 * max(1.0, np.abs(want_h).max()), err_msg=how)
        # one direction at a time, user-built HyperDuals (the independent path)
        for i in range(2):
            for j in range(2):
                e_i, e_j = np.eye(2)[i], np.eye(2)[j]
                z = g(HyperDual(p, e_i, e_j, np.zeros(2)))
                assert _near(z.eps12, want_h[i, j], atol=1e-12 * max(1, abs(want_h).max()))


def test_binary_hyperdual_both_operands_general_formula():
    # eps12 of f(X, Y) with X = x + a1 e1 + a2 e2 + a12 e1e2, Y likewise:
    # f_x a12 + f_y b12 + f_xx a1 a2 + f_xy (a1 b2 + b1 a2) + f_yy b1 b2
    x, y = 0.7, 1.9
    a1, a2, a12, b1, b2, b12 = 0.3, -1.1, 0.5, 2.0, 0.4, -0.7
    for name in ("multiply", "true_divide", "power", "arctan2", "hypot", "xlogy"):
        f, grad, hess, _ = BINARY_TABLE[name]
        fx, fy = grad(x, y)
        fxx, fxy, fyy = hess(x, y)
        z = HD_BINARY[name](HyperDual(x, a1, a2, a12), HyperDual(y, b1, b2, b12))
        close(z.real, f(x, y))
        close(z.eps1, fx * a1 + fy * b1)
        close(z.eps2, fx * a2 + fy * b2)
        close(z.eps12, fx * a12 + fy * b12 + fxx * a1 * a2 + fxy * (a1 * b2 + b1 * a2)
              + fyy * b1 * b2)


@pytest.mark.parametrize("name", list(BINARY_TABLE))
def test_binary_array_parts_with_broadcasting(name):
    f, grad, _, pts = BINARY_TABLE[name]
    xs = np.array([p[0] for p in pts])[:, None]  # (k, 1)
    ys = np.array([p[1] for p in pts])[:, None]
    tx = np.array([[1.0, 0.0, 0.5]])  # (1, 3): three tangent combinations
    ty = np.array([[0.0, 1.0, -2.0]])
    for how, fn in _binary_entries(name):
        r = fn(Dual(xs, tx), Dual(ys, ty))
        assert r.shape == (len(pts), 3), how
        for k, (x, y) in enumerate(pts):
            fx, fy = grad(x, y)
            for j in range(3):
                assert _near(r.real[k, j], f(x, y)), how
                want = fx * tx[0, j] + fy * ty[0, j]
                assert _near(r.dual[k, j], want,
                             scale=abs(fx * tx[0, j]) + abs(fy * ty[0, j])), (how, k, j)
