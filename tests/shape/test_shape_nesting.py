"""Shape and sorting functions inside nested derivatives, every engine pair:
the inner helper's result must carry the outer perturbation."""

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv

rng = np.random.default_rng(5)
X = rng.standard_normal(6)

FUNCS = {
    "sort": np.sort,
    "tile": lambda z: np.tile(z, 2),
    "pad-reflect": lambda z: np.pad(z, 2, mode="reflect"),
    "convolve": lambda z: np.convolve(z, z[:3]),
    "interp": lambda z: np.interp(z, np.linspace(-3, 3, 7), np.cos(np.linspace(-3, 3, 7))),
    "insert": lambda z: np.insert(z[1:], 2, z[0]),
    "gradient": np.gradient,
    "diag-triu": lambda z: np.triu(np.diag(z), -1) @ z,
}

ENGINES = {"hyperdual": hd, "reverse": rv}


def _outer(f, inner, outer):
    def g(x):
        # d/dy sum(sin(f(x * y))) at y = 1.5, times the first element of x
        d = inner.derivative(lambda y: np.sum(np.sin(f(x * y))), 1.5)
        return x[0] * d
    return outer.gradient(g, X)


@pytest.mark.parametrize("name", list(FUNCS))
def test_nested_in_every_engine_pair(name):
    f = FUNCS[name]
    ref = _outer(f, hd, hd)
    h = 1e-6
    num = np.array([(_outer_value(f, X + h * e) - _outer_value(f, X - h * e)) / (2 * h)
                    for e in np.eye(X.size)])
    np.testing.assert_allclose(ref, num, rtol=1e-6, atol=1e-6)
    for inner in ENGINES:
        for outer in ENGINES:
            assert _pair_nests(inner, outer), (inner, outer)
            got = _outer(f, ENGINES[inner], ENGINES[outer])
            np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12,
                                       err_msg=f"{inner} in {outer}")


def _outer_value(f, x):
    return x[0] * hd.derivative(lambda y: np.sum(np.sin(f(x * y))), 1.5)


def _pair_nests(inner, outer):
    """Whether this engine pair nests at all (plain arithmetic, no shape function)."""
    x = np.array([1.0, 2.0])
    try:
        got = ENGINES[outer].gradient(
            lambda x: ENGINES[inner].derivative(lambda y: np.sum(y * x * x), 1.5), x)
    except TypeError:
        return False
    return np.allclose(got, 2 * x)


@pytest.mark.parametrize("name", list(FUNCS))
def test_taylor_numbers_agree_with_hyperdual(name):
    # third-order Taylor coefficients of t -> sum(sin(f(x + t v))) against
    # nested hyperdual (second order) and the Taylor second derivative itself
    f = FUNCS[name]
    v = np.linspace(-1.0, 1.0, X.size)

    def h(t):
        return np.sum(np.sin(f(X + t * v)))

    d = hd.derivatives(h, 0.3, 3)
    assert np.isclose(d[1], hd.derivative(h, 0.3), rtol=1e-12, atol=1e-12)
    assert np.isclose(d[2], hd.second_derivative(h, 0.3), rtol=1e-11, atol=1e-11)
    d3 = hd.derivative(lambda t: hd.second_derivative(h, t), 0.3)
    assert np.isclose(d[3], d3, rtol=1e-10, atol=1e-10)
