"""Hostile input fuzzed with hypothesis, fed to every public constructor and helper.

Each call either returns the right answer (f = sum(x**2): gradient 2x,
Hessian 2I, hvp 2v) or raises TypeError/ValueError.  numpy's AxisError
subclasses both ValueError and IndexError: it counts as a ValueError here.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hyperdual as hd
import reverse as rv
from tests._tolerance import assert_close_ulps

SET = settings(deadline=None, max_examples=150, suppress_health_check=list(HealthCheck))

floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [1e300, -1e300, 1e-300, 0.0, -0.0])
arrays = st.one_of(
    st.lists(floats, max_size=4).map(np.array),
    st.lists(floats, min_size=1, max_size=3).map(lambda v: np.array(v, dtype=np.float32)),
    st.lists(st.integers(-5, 5), max_size=3).map(np.array),
    st.lists(st.booleans(), max_size=3).map(np.array),
    floats.map(np.array), floats.map(lambda v: np.array([v])),
    st.just(np.zeros((0,))), st.just(np.zeros((2, 0))),
)
junk = st.one_of(
    st.none(), st.text(max_size=3), st.binary(max_size=3), st.dictionaries(st.integers(),
    st.integers(), max_size=2), st.sets(st.integers(), max_size=2), st.builds(object),
    st.complex_numbers(max_magnitude=10), st.just([[1.0], [1.0, 2.0]]), st.just([[[]]]),
    st.lists(st.one_of(floats, st.text(max_size=1)), max_size=3),
    st.just(np.array([1j])), st.just(np.array(["a"])), st.just(np.array([None], dtype=object)),
)
anything = st.one_of(floats, arrays, junk, st.integers(-3, 3), st.booleans())


def f(x):
    return np.sum(x ** 2)


def ok_or_clean_error(call, check):
    try:
        out = call()
    except (TypeError, ValueError) as exc:  # AxisError is a ValueError
        assert str(exc), "error without a message"
        return
    check(out)


def _x64(x):
    return np.asarray(x, dtype=np.result_type(np.asarray(x).dtype, np.float32)
                      if np.asarray(x).dtype.kind == "f" else np.float64)


def same(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    if not np.all(np.isfinite(b)):
        return  # inf elsewhere in x: see test_inf_in_one_element_poisons_hyperdual_gradient
    big = ~np.isfinite(b) | (np.abs(b) > 1e300)
    np.testing.assert_allclose(a[~big], b[~big], rtol=1e-6, atol=0)


@SET
@given(x=anything)
def test_gradient_hessian_both_engines(x):
    try:
        finite = bool(np.all(np.isfinite(np.asarray(x, dtype=np.float64))))
    except (TypeError, ValueError):
        finite = True
    # numpy's formulas meet inf * 0 at inf/NaN points: there only shapes are checked
    chk = same if finite else (lambda a, b: np.shape(a) == np.shape(b) or 1 / 0)
    for m in (hd, rv):
        ok_or_clean_error(lambda m=m: m.gradient(f, x), lambda g: chk(g, 2 * _x64(x)))
        ok_or_clean_error(lambda m=m: m.value_and_gradient(f, x),
                          lambda r: chk(r[1], 2 * _x64(x)))
        ok_or_clean_error(lambda m=m: m.jacobian(lambda z: z * 3.0, x),
                          lambda j: np.asarray(j).shape == np.shape(x) * 2)
        ok_or_clean_error(lambda m=m: m.derivative(lambda z: z * z, x),
                          lambda d: chk(d, 2 * _x64(x)))
        ok_or_clean_error(lambda m=m: m.second_derivative(lambda z: z * z, x),
                          lambda d: chk(d, np.full(np.shape(x), 2.0)))
        if isinstance(x, np.ndarray) and x.size <= 4:
            ok_or_clean_error(lambda m=m: m.hessian(f, x),
                              lambda h: chk(np.reshape(h, (np.size(x),) * 2),
                                             2 * np.eye(np.size(x))))


@SET
@given(x=anything, v=anything)
def test_hvp_all_modes(x, v):
    def check(r):
        # v is taken in x's dtype (derivatives follow x: float32 x rounds v to float32)
        vv = _x64(v)
        if getattr(x, "dtype", None) == np.float32:
            with np.errstate(all="ignore"):
                vv = vv.astype(np.float32)
        same(r, 2 * vv)

    ok_or_clean_error(lambda: hd.hvp(f, x, v), check)
    for mode in ("forward-over-reverse", "reverse-over-reverse"):
        ok_or_clean_error(lambda mode=mode: rv.hvp(f, x, v, mode=mode), check)
    ok_or_clean_error(lambda: rv.hvp(f, x, v, mode=x), check)


@SET
@given(a=anything, b=anything)
def test_constructors(a, b):
    def dual_ok(d):
        assert d.shape == np.broadcast_shapes(np.shape(a), np.shape(b))

    ok_or_clean_error(lambda: hd.Dual(a, b), dual_ok)
    ok_or_clean_error(lambda: hd.HyperDual(a, b, a, b), lambda d: None)
    # Variable(None) is the documented data-less placeholder (lazy layer parameters)
    def var_ok(v):
        assert v.data is None if a is None else v.shape == np.shape(a)

    ok_or_clean_error(lambda: rv.Variable(a), var_ok)
    ok_or_clean_error(lambda: rv.Parameter(a, name=None), var_ok)


@settings(deadline=None, max_examples=60, suppress_health_check=list(HealthCheck))
@given(x=anything, eps=st.one_of(floats, junk))
def test_numerical_tools_and_newton(x, eps):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            ok_or_clean_error(lambda: rv.numerical_grad(f, x), lambda g: None)
            ok_or_clean_error(lambda: rv.numerical_grad(f, x, eps), lambda g: None)
            ok_or_clean_error(lambda: rv.gradient_check(f, x, raise_on_failure=False),
                              lambda r: None)
            if isinstance(x, (float, np.ndarray)) and np.size(x) <= 3:
                ok_or_clean_error(lambda: rv.newton(f, x, max_iter=3), lambda p: None)


@SET
@given(idx=anything, vals=anything)
def test_scatter_add_and_layers(idx, vals):
    ok_or_clean_error(lambda: hd.scatter_add(np.zeros(3), idx, vals), lambda r: None)
    ok_or_clean_error(lambda: rv.Linear(2)(idx), lambda y: None)
    ok_or_clean_error(lambda: rv.MLP((3, 1))(vals), lambda y: None)


# An infinite entry must not poison the other entries' derivatives (0 * inf in a
# product rule): each case is (f, x, exact gradient), written from calculus.
_INF = np.inf
_POISON_CASES = [
    (lambda x: np.sum(x ** 2), [0.0, _INF], [0.0, _INF]),
    (lambda x: np.sum(x * x), [0.0, _INF], [0.0, _INF]),
    (lambda x: np.sum(x * 3.0), [2.0, _INF], [3.0, 3.0]),
    (lambda x: x[0] * x[1] + x[2] ** 2, [1.0, 2.0, _INF], [2.0, 1.0, _INF]),
    (lambda x: np.sum(x / 2.0), [1.0, _INF], [0.5, 0.5]),
    (lambda x: x[0] / x[1] + x[2], [1.0, 2.0, _INF], [0.5, -0.25, 1.0]),
    (lambda x: np.sum(np.exp(x)), [0.0, 1000.0], [1.0, _INF]),
]


@pytest.mark.parametrize("m", [hd, rv], ids=["hyperdual", "reverse"])
@pytest.mark.parametrize("case", range(len(_POISON_CASES)))
def test_infinite_entry_does_not_poison_the_others(m, case):
    fn, x, want = _POISON_CASES[case]
    with np.errstate(all="ignore"):
        g = m.gradient(fn, np.array(x))
    np.testing.assert_array_equal(g, want)


_HUGE = 10 ** 400  # a Python int no float64 can hold


@pytest.mark.parametrize("call, arg", [
    (lambda: hd.Dual(_HUGE), "real"),
    (lambda: hd.Dual(1.0, _HUGE), "dual"),
    (lambda: hd.HyperDual(0.0, 0.0, _HUGE), "eps2"),
    (lambda: hd.gradient(f, _HUGE), "x"),
    (lambda: hd.derivative(lambda x: x * x, _HUGE), "x"),
    (lambda: hd.hvp(f, np.ones(2), [1.0, _HUGE]), None),
    (lambda: rv.gradient(f, _HUGE), None),
    (lambda: rv.Variable(_HUGE), None),
    (lambda: rv.hvp(f, np.ones(2), [_HUGE, 1.0]), None),
])
def test_int_too_large_for_float64_is_a_clean_error(call, arg):
    """Not OverflowError: a TypeError/ValueError naming the argument."""
    with pytest.raises((TypeError, ValueError)) as info:
        call()
    if arg is not None:
        assert f"{arg} =" in str(info.value)


@pytest.mark.parametrize("m, own", [(hd, "hyperdual has"), (rv, "reverse.functions has")],
                         ids=["hyperdual", "reverse"])
def test_scipy_polygamma_names_the_engines_own(m, own):
    """scipy.special.polygamma converts its argument with np.asarray: the error says
    so and points to the engine's polygamma (which works to any order)."""
    import scipy.special as sc

    with pytest.raises(TypeError, match="polygamma") as info:
        m.derivative(lambda x: sc.polygamma(1, x), 2.0)
    assert own in str(info.value) and str(info.value).rstrip(".").endswith("polygamma")
    # and the engine's own gives psi''(2) = -2 zeta(3, 2)
    want = -2 * (1.2020569031595942 - 1.0)
    assert abs(m.derivative(lambda x: m.polygamma(1, x) if m is hd else
                            rv.functions.polygamma(1, x), 2.0) - want) <= 8 * np.spacing(abs(want))


_ENGINES = [hd, rv]
_HELPERS = {
    "gradient": lambda m, f: m.gradient(f, np.array([0.5, 2.0])),
    "hessian": lambda m, f: m.hessian(f, np.array([0.5, 2.0])),
    "hvp": lambda m, f: m.hvp(f, np.array([0.5, 2.0]), np.array([1.0, -1.0])),
    "value_and_gradient": lambda m, f: m.value_and_gradient(f, np.array([0.5, 2.0])),
    "jacobian": lambda m, f: m.jacobian(f, np.array([0.5, 2.0])),
    "derivative_tensor": lambda m, f: m.derivative_tensor(f, np.array([0.5, 2.0]), 2),
    "derivatives": lambda m, f: m.derivatives(lambda s: f(np.array([1.0, 2.0]) * s), 0.5, 2),
}


@pytest.mark.parametrize("m", _ENGINES, ids=["hyperdual", "reverse"])
@pytest.mark.parametrize("helper", sorted(_HELPERS))
def test_f_returning_a_generator_is_a_type_error(m, helper):
    """A generator (f returns ``(v for v in x)``, not a list) is not a number: hyperdual
    helpers gave a zero derivative."""
    with pytest.raises(TypeError, match="generator"):
        _HELPERS[helper](m, lambda v: (t for t in v))


@pytest.mark.parametrize("m", _ENGINES, ids=["hyperdual", "reverse"])
def test_f_returning_a_list_of_values_is_stacked_in_both_engines(m):
    """jacobian/jvp/derivatives of an f returning a list (of engine values and constants)
    stack it as reverse mode did; hyperdual refused it as 'cannot convert a Dual'."""
    f = lambda v: [np.sin(v[0]), v[0] * v[1], 2.0]  # noqa: E731
    x = np.array([0.5, 2.0])
    want = np.array([[np.cos(0.5), 0.0], [2.0, 0.5], [0.0, 0.0]])
    # cos(0.5) from the engine's and the test's own numpy call: a few ulps, not a flat rtol
    assert_close_ulps(m.jacobian(f, x), want, ulps=4)
    assert_close_ulps(m.jvp(f, x, np.array([1.0, 0.0]))[1], want[:, 0], ulps=4)
    np.testing.assert_allclose(m.derivatives(lambda s: (s * s, 3.0), 2.0, 2),
                               [[4.0, 3.0], [4.0, 0.0], [2.0, 0.0]])
    with pytest.raises(ValueError, match="scalar"):
        m.gradient(f, x)


@pytest.mark.parametrize("m", _ENGINES, ids=["hyperdual", "reverse"])
def test_masked_arrays_are_refused_not_unmasked(m):
    """A numpy masked array's mask was dropped silently by reverse (the gradient of
    sum(x**2) at [1, --] was [2, 4]) and crashed hyperdual with 'Only length-1 arrays';
    both now say what to do."""
    x = np.ma.array([1.0, 2.0], mask=[0, 1])
    for call in (lambda: m.gradient(lambda v: np.sum(v ** 2), x),
                 lambda: m.jvp(np.sin, np.ones(2), x),
                 lambda: m.derivative_tensor(lambda v: np.sum(v ** 3), x, 2)):
        with pytest.raises(TypeError, match="masked array"):
            call()
