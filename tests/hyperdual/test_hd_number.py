"""Dual and HyperDual as numbers: construction, validation, arithmetic, powers,
comparisons, containers, repr.  Expected values are written from calculus."""

import math
import warnings

import numpy as np
import pytest

import hyperdual
import reverse
from hyperdual import Dual, HyperDual
from tests._tolerance import assert_close_ulps


def close(a, b, rtol=1e-12, atol=1e-15):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def parts_equal(a, b):
    for p, q in zip(a._parts(), b._parts()):
        np.testing.assert_array_equal(p, q)


# --- construction and validation ---------------------------------------------------
def test_scalar_parts_are_python_floats():
    d = Dual(2.0, 3.0)
    assert type(d.real) is float and type(d.dual) is float
    assert d.shape == () and d.ndim == 0
    z = HyperDual(1.0, 2.0, 3.0, 4.0)
    assert [type(p) for p in z._parts()] == [float] * 4


def test_ints_and_bools_become_float64():
    d = Dual(1, True)
    assert type(d.real) is float and d.real == 1.0 and d.dual == 1.0
    d = Dual(np.int64(3), np.int32(2))
    assert type(d.real) is float and d.real == 3.0 and d.dual == 2.0
    d = Dual(np.array([1, 2]), np.array([True, False]))
    assert d.real.dtype == np.float64 and d.dual.dtype == np.float64
    np.testing.assert_array_equal(d.dual, [1.0, 0.0])
    z = HyperDual([1, 2], 0, 1, False)
    assert all(np.asarray(p).dtype == np.float64 for p in z._parts())


def test_float32_stays_float32():
    d = Dual(np.ones(3, np.float32), np.full(3, 2.0, np.float32))
    assert d.real.dtype == np.float32 and d.dual.dtype == np.float32
    d = Dual(np.float32(1.5), np.float32(2.0))
    assert np.result_type(d.real) == np.float32
    assert d.dtype == np.float32


@pytest.mark.parametrize("real,dual,shape", [
    (np.arange(3.0), 1.0, (3,)),
    (2.0, np.array([1.0, -1.0]), (2,)),
    (np.arange(3.0)[:, None], np.array([[1.0, 2.0]]), (3, 2)),
    ([1.0, 2.0], [[1.0], [2.0], [3.0]], (3, 2)),
])
def test_parts_broadcast_on_construction(real, dual, shape):
    d = Dual(real, dual)
    assert d.shape == shape
    assert np.shape(d.real) == shape and np.shape(d.dual) == shape
    np.testing.assert_array_equal(d.real, np.broadcast_to(np.asarray(real, float), shape))
    np.testing.assert_array_equal(d.dual, np.broadcast_to(np.asarray(dual, float), shape))


def test_hyperdual_parts_broadcast_on_construction():
    z = HyperDual(np.arange(3.0)[:, None], 1.0, np.array([1.0, 2.0]), 0.0)
    assert z.shape == (3, 2)
    for p in z._parts():
        assert np.shape(p) == (3, 2)
    np.testing.assert_array_equal(z.eps2, [[1.0, 2.0]] * 3)


def _object_array():
    a = np.empty(2, dtype=object)
    a[0], a[1] = Dual(1.0, 1.0), Dual(2.0, 1.0)
    return a


BAD_TYPES = [
    "1.5", b"1.5", object(), [[1.0, 2.0], [3.0]], 1j, np.complex128(1.0),
    np.array([1.0 + 2j]), {"a": 1.0}, None, np.array(["1.0"]),
    _object_array(),
]


@pytest.mark.parametrize("bad", BAD_TYPES, ids=lambda v: type(v).__name__)
@pytest.mark.parametrize("where", ["real", "dual"])
def test_bad_part_types_raise_type_error(bad, where):
    with pytest.raises(TypeError, match="hyperdual"):
        Dual(bad, 1.0) if where == "real" else Dual(1.0, bad)


@pytest.mark.parametrize("bad", BAD_TYPES[:5], ids=lambda v: type(v).__name__)
def test_bad_hyperdual_parts_raise_type_error(bad):
    for i in range(4):
        parts = [1.0, 0.0, 0.0, 0.0]
        parts[i] = bad
        with pytest.raises(TypeError):
            HyperDual(*parts)


def test_incompatible_shapes_raise_value_error():
    with pytest.raises(ValueError, match="broadcast"):
        Dual(np.ones(2), np.ones(3))
    with pytest.raises(ValueError):
        Dual(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError):
        HyperDual(np.ones(2), 0.0, 0.0, np.ones(4))


def test_no_object_arrays_of_duals():
    xs = [Dual(1.0, 1.0), Dual(2.0, 0.5)]
    with pytest.raises(TypeError):
        np.array(xs)
    s = np.stack(xs)
    assert isinstance(s, Dual)
    assert s.real.dtype == np.float64 and s.dual.dtype == np.float64
    np.testing.assert_array_equal(s.dual, [1.0, 0.5])
    # mixed array/number arithmetic never yields an object array
    for y in (np.arange(3.0) * Dual(2.0, 1.0), Dual(2.0, 1.0) + np.arange(3.0),
              np.ones((2, 2)) @ Dual(np.ones(2), 1.0), np.sin(np.arange(2.0)) * s):
        assert isinstance(y, Dual)
        assert y.real.dtype.kind == "f" and y.dual.dtype.kind == "f"


def test_conversions_that_drop_derivatives_raise():
    d = Dual(np.arange(3.0), 1.0)
    with pytest.raises(TypeError, match="hyperdual"):
        np.asarray(d)
    with pytest.raises(TypeError):
        np.array(d)
    with pytest.raises(TypeError):
        np.asarray(Dual(1.0, 1.0))
    with pytest.raises(TypeError):
        np.asarray(HyperDual(1.0, 1.0, 1.0, 0.0))
    with pytest.raises(TypeError, match="hyperdual"):
        float(Dual(1.0, 2.0))
    with pytest.raises(TypeError):
        float(HyperDual(1.0, 2.0, 0.0, 0.0))
    with pytest.raises(TypeError):
        int(Dual(1.0, 2.0))
    with pytest.raises(TypeError):
        math.sin(Dual(1.0, 2.0))


# --- arithmetic with constants on both sides ----------------------------------------
X, T = 1.7, -0.6
SCALARS = [2, 2.5, np.float64(2.5), np.int64(3), np.float32(0.5)]


@pytest.mark.parametrize("c", SCALARS, ids=lambda v: type(v).__name__)
def test_arithmetic_with_scalars_both_sides(c):
    d = Dual(X, T)
    cf = float(c)
    cases = [
        (d + c, X + cf, T), (c + d, X + cf, T),
        (d - c, X - cf, T), (c - d, cf - X, -T),
        (d * c, X * cf, T * cf), (c * d, X * cf, T * cf),
        (d / c, X / cf, T / cf), (c / d, cf / X, -cf * T / X ** 2),
    ]
    tol = 1e-6 if isinstance(c, np.float32) else 1e-14
    for y, want_r, want_d in cases:
        assert isinstance(y, Dual), (type(c), y)
        close(y.real, want_r, rtol=tol)
        close(y.dual, want_d, rtol=tol)


def test_numpy_scalar_left_operand_gives_dual():
    y = np.float64(2.0) * Dual(3.0, 1.0)
    assert isinstance(y, Dual)
    assert y.real == 6.0 and y.dual == 2.0
    y = np.float64(2.0) / Dual(4.0, 1.0)
    assert isinstance(y, Dual) and y.real == 0.5 and y.dual == -2.0 / 16.0
    y = np.float64(5.0) - HyperDual(2.0, 1.0, 1.0, 0.0)
    assert isinstance(y, HyperDual) and y.real == 3.0 and y.eps1 == -1.0
    y = Dual(3.0, 1.0) * np.float32(2.0)
    assert isinstance(y, Dual) and y.real == 6.0 and y.dual == 2.0


def test_unary_operators():
    d = Dual(-1.5, 2.0)
    parts_equal(-d, Dual(1.5, -2.0))
    parts_equal(+d, d)
    parts_equal(abs(d), Dual(1.5, -2.0))
    z = abs(HyperDual(-2.0, 1.0, 3.0, 5.0))
    assert z._parts() == (2.0, -1.0, -3.0, -5.0)


def test_arithmetic_with_arrays_both_sides():
    rng = np.random.default_rng(0)
    x, t = rng.normal(size=3), rng.normal(size=3)
    a = rng.uniform(1, 2, size=3)
    d = Dual(x, t)
    cases = [
        (a * d, a * x, a * t), (d * a, a * x, a * t),
        (a + d, a + x, t), (d - a, x - a, t), (a - d, a - x, -t),
        (d / a, x / a, t / a), (a / d, a / x, -a * t / x ** 2),
    ]
    for y, want_r, want_d in cases:
        assert isinstance(y, Dual)
        close(y.real, want_r)
        close(y.dual, want_d)
    # broadcasting a (2, 1) array against a (3,) Dual
    b = np.array([[1.0], [-2.0]])
    y = b * d
    assert y.shape == (2, 3)
    close(y.dual, b * t)
    # matmul both ways
    A = rng.normal(size=(2, 3))
    y = A @ d
    assert isinstance(y, Dual) and y.shape == (2,)
    close(y.real, A @ x)
    close(y.dual, A @ t)
    B = rng.normal(size=(3, 4))
    y = d @ B
    close(y.real, x @ B)
    close(y.dual, t @ B)
    y = d @ a
    close(y.real, x @ a)
    close(y.dual, t @ a)


def test_dual_times_dual_product_rule():
    d1, d2 = Dual(1.5, 2.0), Dual(-0.5, 3.0)
    close((d1 * d2).dual, 2.0 * -0.5 + 1.5 * 3.0)
    close((d1 / d2).dual, (2.0 * -0.5 - 1.5 * 3.0) / 0.25)
    close((d1 - d2).dual, -1.0)
    z1, z2 = HyperDual(1.5, 1.0, 0.0, 0.0), HyperDual(-0.5, 0.0, 1.0, 0.0)
    z = z1 * z2  # f(x, y) = x y: eps12 = f_xy = 1
    assert z.eps12 == 1.0 and z.eps1 == -0.5 and z.eps2 == 1.5


# --- powers ---------------------------------------------------------------------------
def test_dual_to_float_power():
    x, t, p = 1.3, 0.7, 2.5
    y = Dual(x, t) ** p
    close(y.real, x ** p)
    close(y.dual, p * x ** (p - 1) * t)
    z = HyperDual(x, 1.0, 1.0, 0.0) ** p
    close(z.eps12, p * (p - 1) * x ** (p - 2))


def test_float_to_dual_power():
    b, y0 = 2.0, 3.0
    for base in (b, np.float64(b), 2):
        r = base ** Dual(y0, 1.0)
        assert isinstance(r, Dual)
        close(r.real, 8.0)
        close(r.dual, 8.0 * math.log(2.0))
    z = 2.0 ** HyperDual(y0, 1.0, 1.0, 0.0)
    close(z.eps12, 8.0 * math.log(2.0) ** 2)
    r = np.array([2.0, 3.0]) ** Dual(2.0, 1.0)
    close(r.dual, [4.0 * math.log(2.0), 9.0 * math.log(3.0)])


def test_dual_to_dual_power():
    x, y = 1.3, 0.4
    r = Dual(x, 1.0) ** Dual(y, 1.0)
    close(r.real, x ** y)
    close(r.dual, y * x ** (y - 1) + x ** y * math.log(x))
    # mixed second derivative of x**y through HyperDual (eps1 on x, eps2 on y)
    z = HyperDual(x, 1.0, 0.0, 0.0) ** HyperDual(y, 0.0, 1.0, 0.0)
    close(z.eps12, x ** (y - 1) * (1 + y * math.log(x)))


@pytest.mark.parametrize("n", [3, 3.0, np.float64(3), np.int64(3)], ids=repr)
def test_negative_base_integer_exponent(n):
    y = Dual(-2.0, 1.0) ** n
    assert y.real == -8.0 and y.dual == 12.0
    z = HyperDual(-2.0, 1.0, 1.0, 0.0) ** n
    assert z._parts() == (-8.0, 12.0, 12.0, -12.0)
    z = np.power(HyperDual(-2.0, 1.0, 1.0, 0.0), n)
    assert z._parts() == (-8.0, 12.0, 12.0, -12.0)
    assert hyperdual.derivative(lambda x: x ** n, -2.0) == 12.0
    assert hyperdual.second_derivative(lambda x: x ** n, -2.0) == -12.0
    z = Dual(np.array([-2.0, -1.0]), 1.0) ** n
    np.testing.assert_array_equal(z.dual, [12.0, 3.0])


POWER_ENTRIES = {
    "operator": lambda x, n: x ** n,
    "np.power": np.power,
    "hyperdual.power": hyperdual.power,
}
EXPONENTS = [0, 1, 2, 0.0, 1.0, 2.0, np.float64(0), np.float64(1), np.int64(2)]


@pytest.mark.parametrize("entry", list(POWER_ENTRIES))
@pytest.mark.parametrize("n", EXPONENTS, ids=lambda v: f"{type(v).__name__}{v}")
def test_small_integer_powers_at_zero(entry, n):
    """x**0, x**1 and x**2 at x = 0: exact, finite, without warnings."""
    pw = POWER_ENTRIES[entry]
    k = int(n)
    want = {0: (1.0, 0.0, 0.0), 1: (0.0, 1.0, 0.0), 2: (0.0, 0.0, 2.0)}[k]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = pw(Dual(0.0, 1.0), n)
        z = pw(HyperDual(0.0, 1.0, 1.0, 0.0), n)
        za = pw(HyperDual(np.zeros(3), 1.0, 1.0, 0.0), n)
        d1 = hyperdual.derivative(lambda x: pw(x, n), 0.0)
        d2 = hyperdual.second_derivative(lambda x: pw(x, n), 0.0)
    assert (y.real, y.dual) == want[:2]
    assert z._parts() == (want[0], want[1], want[1], want[2])
    for p, w in zip(za._parts(), (want[0], want[1], want[1], want[2])):
        np.testing.assert_array_equal(p, np.full(3, w))
    assert (d1, d2) == want[1:]


def test_array_exponent_with_zero_base():
    n = np.array([0.0, 1.0, 2.0, 3.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = HyperDual(np.zeros(4), 1.0, 1.0, 0.0) ** n
    np.testing.assert_array_equal(z.real, [1.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(z.eps1, [0.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(z.eps12, [0.0, 0.0, 2.0, 0.0])


def test_zero_to_the_zero():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = Dual(0.0, 1.0) ** 0
        assert (y.real, y.dual) == (1.0, 0.0)
        y = 0.0 ** Dual(0.0, 1.0)  # d/dy 0**y taken as 0 (documented)
        assert (y.real, y.dual) == (1.0, 0.0)
    y = Dual(0.0, 1.0) ** Dual(0.0, 1.0)
    assert y.real == 1.0
    assert y.dual == 0.0  # as JAX: d/dx x**y is 0 where y == 0, d/dy is 0 where x == 0


def test_power_through_helpers_closed_form():
    # d/dx x**x = x**x (1 + log x); d2 = x**x ((1 + log x)**2 + 1/x)
    x = 1.7
    close(hyperdual.derivative(lambda t: t ** t, x), x ** x * (1 + math.log(x)))
    close(hyperdual.second_derivative(lambda t: t ** t, x),
          x ** x * ((1 + math.log(x)) ** 2 + 1 / x))


def test_division_by_zero_follows_numpy():
    with pytest.warns(RuntimeWarning):
        y = Dual(1.0, 1.0) / 0.0
    assert np.isposinf(y.real)
    with pytest.warns(RuntimeWarning):
        y = 1.0 / Dual(0.0, 1.0)
    assert np.isposinf(y.real) and np.isneginf(y.dual)


# --- comparisons, hashing, containers ------------------------------------------------
def test_comparisons_use_real_part():
    d = Dual(1.0, 100.0)
    assert d < 2 and d <= 1.0 and d > 0 and d >= np.float64(1.0)
    assert 2 > d and 0 < d
    assert not (np.float64(2.0) < d)
    assert d == 1.0 and d == Dual(1.0, -5.0)
    assert d != Dual(2.0, 100.0)
    np.testing.assert_array_equal(Dual(np.array([-1.0, 2.0]), 1.0) > 0, [False, True])
    np.testing.assert_array_equal(np.array([0.0, 3.0]) < Dual(np.array([1.0, 2.0]), 1.0),
                                  [True, False])
    assert HyperDual(3.0, 1.0, 1.0, 1.0) > HyperDual(2.0, 9.0, 9.0, 9.0)


def test_branches_on_comparisons():
    def f(x):
        if x > 0:
            return x * x
        return -3.0 * x

    assert hyperdual.derivative(f, 2.0) == 4.0
    assert hyperdual.derivative(f, -2.0) == -3.0
    assert hyperdual.second_derivative(f, 2.0) == 2.0


def test_unhashable():
    assert Dual.__hash__ is None and HyperDual.__hash__ is None
    with pytest.raises(TypeError):
        hash(Dual(1.0, 1.0))
    with pytest.raises(TypeError):
        {HyperDual(1.0, 0.0, 0.0, 0.0)}


def test_new_axes_on_a_scalar_number():
    # x[None] / x[..., None] of a 0-d Dual or HyperDual (its parts are Python floats:
    # this raised "'float' object is not subscriptable"), as numpy does for np.float64
    for x in (Dual(2.0, 3.0), HyperDual(2.0, 3.0, 5.0, 7.0)):
        for index in (None, (Ellipsis, None), (None, Ellipsis, None)):
            y = x[index]
            assert y.shape == np.float64(2.0)[index].shape
            np.testing.assert_array_equal(y.real, np.full(y.shape, 2.0))
        with pytest.raises(IndexError):
            x[0]
    c = np.array([0.5, 1.0, 2.0])
    got = hyperdual.derivative(lambda x: np.sum(np.exp(-x[..., None] * c)), 1.5)
    assert_close_ulps(got, -np.sum(c * np.exp(-1.5 * c)), 4)


def test_indexing_slicing_len_iteration():
    r = np.arange(12.0).reshape(3, 4)
    t = np.arange(12.0).reshape(3, 4) * 10
    d = Dual(r, t)
    assert len(d) == 3 and d.shape == (3, 4) and d.ndim == 2 and d.size == 12
    e = d[1]
    np.testing.assert_array_equal(e.real, r[1])
    np.testing.assert_array_equal(e.dual, t[1])
    e = d[:, ::2]
    np.testing.assert_array_equal(e.dual, t[:, ::2])
    e = d[2, 3]
    assert e.real == 11.0 and e.dual == 110.0 and e.shape == ()
    e = d[[0, 2], [1, 3]]
    np.testing.assert_array_equal(e.dual, t[[0, 2], [1, 3]])
    e = d[r > 5]
    np.testing.assert_array_equal(e.dual, t[r > 5])
    e = d[None, ..., -1]
    assert e.shape == (1, 3)
    np.testing.assert_array_equal(e.dual, t[None, ..., -1])
    rows = list(d)
    assert len(rows) == 3
    for k, row in enumerate(rows):
        np.testing.assert_array_equal(row.real, r[k])
        np.testing.assert_array_equal(row.dual, t[k])
    with pytest.raises(TypeError):
        len(Dual(1.0, 1.0))
    with pytest.raises(TypeError):
        d[Dual(0.0, 1.0)]


def test_shape_methods():
    r = np.arange(6.0).reshape(2, 3)
    t = -r
    d = Dual(r, t)
    e = d.reshape(3, 2)
    np.testing.assert_array_equal(e.dual, t.reshape(3, 2))
    e = d.reshape((6,))
    np.testing.assert_array_equal(e.real, r.ravel())
    e = d.reshape(-1, 1)
    assert e.shape == (6, 1)
    np.testing.assert_array_equal(d.T.dual, t.T)
    np.testing.assert_array_equal(d.transpose(1, 0).real, r.T)
    s = d.sum()
    assert s.real == r.sum() and s.dual == t.sum()
    s = d.sum(axis=0)
    np.testing.assert_array_equal(s.dual, t.sum(axis=0))
    s = d.sum(axis=1, keepdims=True)
    np.testing.assert_array_equal(s.dual, t.sum(axis=1, keepdims=True))
    z = HyperDual(r, 1.0, 2.0, t)
    np.testing.assert_array_equal(z.T.eps12, t.T)
    np.testing.assert_array_equal(z.reshape(3, 2).eps2, np.full((3, 2), 2.0))


# --- repr -----------------------------------------------------------------------------
@pytest.mark.parametrize("d", [
    Dual(2.0, 1.0), Dual(0.1, 1 / 3), Dual(-0.0, 1e-300), Dual(1e308, -2.5e-7),
    HyperDual(0.1, 0.2, 1 / 3, -7e-200), HyperDual(2.0, 1.0, 1.0, 0.0),
], ids=repr)
def test_repr_round_trips_for_scalars(d):
    text = repr(d)
    assert text.startswith(type(d).__name__ + "(")
    back = eval(text, {"Dual": Dual, "HyperDual": HyperDual})
    assert type(back) is type(d)
    for p, q in zip(back._parts(), d._parts()):
        assert p == q and math.copysign(1.0, p) == math.copysign(1.0, q)


def test_repr_readable():
    assert repr(Dual(2.0, 1.0) ** 3) == "Dual(8.0, 12.0)"
    assert repr(HyperDual(3.0, 1.0, 1.0, 0.0) ** 2) == "HyperDual(9.0, 6.0, 6.0, 2.0)"
    text = repr(Dual(np.array([1.0, 2.0]), np.array([0.5, 0.0])))
    assert text.startswith("Dual(array([") and "0.5" in text


# --- list and tuple operands, as numpy reads them ---------------------------------------
_LIST_OPERANDS = {
    "x @ list": lambda x: np.sum(np.stack([x, x ** 2], axis=1) @ [1.0, 2.0]),
    "list @ x": lambda x: [1.0, 2.0, 3.0] @ np.outer(x, x) @ [0.5, -1.0, 2.0],
    "x ** list": lambda x: np.sum((x + 2.0) ** [1.0, 2.0, 3.0]),
    "list ** x": lambda x: np.sum([2.0, 3.0, 1.5] ** x),
    "x ** tuple": lambda x: np.sum((x + 2.0) ** (0.5, 2.0, 3.0)),
}


@pytest.mark.parametrize("name", _LIST_OPERANDS)
def test_list_operands_of_matmul_and_power(name):
    # numpy reads a list operand as an array (arr @ [1.0, 2.0], arr ** [1, 2]); the
    # Dual's @ and ** returned NotImplemented for lists (TypeError: unsupported
    # operand) while + - * / took them. Truth: the same f with the list as an array,
    # where no list meets an engine value, by reverse and by closed forms
    f = _LIST_OPERANDS[name]
    x = np.array([0.3, -0.7, 1.1])
    a = np.array
    truths = {
        "x @ list": 1.0 + 4.0 * x,
        "list @ x": (a([1.0, 2.0, 3.0]) * (a([0.5, -1.0, 2.0]) @ x)
                     + a([0.5, -1.0, 2.0]) * (a([1.0, 2.0, 3.0]) @ x)),
        "x ** list": a([1.0, 2.0, 3.0]) * (x + 2.0) ** a([0.0, 1.0, 2.0]),
        "list ** x": np.log([2.0, 3.0, 1.5]) * a([2.0, 3.0, 1.5]) ** x,
        "x ** tuple": a([0.5, 2.0, 3.0]) * (x + 2.0) ** a([-0.5, 1.0, 2.0]),
    }
    assert_close_ulps(hyperdual.gradient(f, x), truths[name], 8)
    # the other engine (which reads lists through numpy): a few roundings apart
    np.testing.assert_allclose(hyperdual.hessian(f, x), reverse.hessian(f, x),
                               rtol=1e-13, atol=1e-13)
