"""sort and partition (derivative follows the permutation, ties by the stable
order), and the non-differentiable helpers that accept every engine's values."""

import numpy as np
import pytest
from _shape_harness import check

import hyperdual as hd
import reverse as rv
from hyperdual import Dual, HyperDual

rng = np.random.default_rng(3)
V1 = rng.standard_normal(7)
M = rng.standard_normal((3, 4))
T3 = rng.standard_normal((2, 3, 4))

CASES = {
    "sort": (lambda x: np.sort(x), V1),
    "sort-axis0": (lambda x: np.sort(x, axis=0), M),
    "sort-neg-axis": (lambda x: np.sort(x, axis=-2), T3),
    "sort-none": (lambda x: np.sort(x, axis=None), M),
    "sort-kind": (lambda x: np.sort(x, kind="mergesort"), M),
    "sort-then-nonlinear": (lambda x: np.sort(x ** 3 - x), V1),
    "partition": (lambda x: np.partition(x, 3), V1),
    "partition-kths": (lambda x: np.partition(x, (0, 2), axis=0), M),
    "partition-none": (lambda x: np.partition(x, -2, axis=None), T3),
    "top-k-by-argsort": (lambda x: x[np.argsort(x)[-3:]], V1),
    "argmax-pick": (lambda x: x[np.argmax(x, axis=0), np.arange(4)], M),
    "searchsorted-bins": (lambda x: x[np.searchsorted(np.sort(x), 0.0):], np.sort(V1)),
    "nonzero-mask": (lambda x: x[np.nonzero(x > 0)], M),
}


@pytest.mark.parametrize("name", list(CASES))
def test_sorting(name):
    f, x = CASES[name]
    check(f, x)


@pytest.mark.parametrize("name", ["sort-neg-axis", "partition-kths"])
def test_sorting_third_order(name):
    f, x = CASES[name]
    check(f, x, third=True, float32=False)


def test_sort_ties_follow_the_stable_order():
    # tied values keep their input order: output i carries the derivative of
    # the i-th input among the tied ones (numpy's stable argsort, as JAX does)
    x = np.array([2.0, 1.0, 2.0, 1.0])
    expected = np.eye(4)[[1, 3, 0, 2]]
    np.testing.assert_array_equal(hd.jacobian(np.sort, x), expected)
    np.testing.assert_array_equal(rv.jacobian(np.sort, x), expected)
    y = np.sort(Dual(x, np.array([10.0, 20.0, 30.0, 40.0])))
    np.testing.assert_array_equal(y.dual, [20.0, 40.0, 10.0, 30.0])


def test_sort_nan_goes_last_with_its_derivative():
    y = np.sort(Dual(np.array([np.nan, 1.0, 0.0]), np.array([1.0, 2.0, 3.0])))
    np.testing.assert_array_equal(y.real, [0.0, 1.0, np.nan])
    np.testing.assert_array_equal(y.dual, [3.0, 2.0, 1.0])


def test_partition_kth_element_is_numpys():
    x = rng.standard_normal(9)
    for kth in (0, 4, -1):
        y = np.partition(Dual(x, np.arange(9.0)), kth)
        assert y.real[kth] == np.partition(x, kth)[kth]
        assert y.dual[kth] == np.arange(9.0)[np.argpartition(x, kth)[kth]]


def _engines(x):
    n = np.ones(np.shape(x))
    return [Dual(x, n), HyperDual(x, n, n, n), rv.Variable(x),
            rv.Variable(Dual(x, n)), Dual(Dual(x, n, tag=hd.new_tag()), n, tag=hd.new_tag())]


VALUE_FUNCS = {
    "argsort": lambda a: np.argsort(a, axis=0),
    "argsort-none": lambda a: np.argsort(a, axis=None),
    "argpartition": lambda a: np.argpartition(a, 1, axis=-1),
    "argmax": lambda a: np.argmax(a, axis=1),
    "argmin": lambda a: np.argmin(a),
    "nonzero": lambda a: np.nonzero(a > 0),
    "flatnonzero": lambda a: np.flatnonzero(a > 0),
    "argwhere": lambda a: np.argwhere(a > 0),
    "count_nonzero": lambda a: np.count_nonzero(a > 0, axis=0),
    "searchsorted": lambda a: np.searchsorted(np.sort(np.ravel(a)), a[0], side="right"),
    "searchsorted-a": lambda a: np.searchsorted(np.sort(np.ravel(a)), [0.0, 0.5]),
    "lexsort": lambda a: np.lexsort((a[0], a[1])),
    "digitize": lambda a: np.digitize(a, [-1.0, 0.0, 1.0]),
    "isnan": lambda a: np.isnan(a),
    "isfinite": lambda a: np.isfinite(a),
    "isinf": lambda a: np.isinf(a),
    "comparisons": lambda a: (a > 0) & (a <= 1.0) | (a == a[0, 0]) | (a != 0),
    "isclose": lambda a: np.isclose(a, a[0]),
    "allclose": lambda a: np.allclose(a, a),
    "array_equal": lambda a: np.array_equal(a, a),
    "any-all": lambda a: (np.any(a > 0), np.all(a > -5, axis=0)),
    "where-1arg": lambda a: np.where(a > 0),
    "shape-size-ndim": lambda a: (np.shape(a), np.size(a), np.ndim(a)),
}


@pytest.mark.parametrize("name", list(VALUE_FUNCS))
def test_value_functions_accept_every_engine(name):
    f = VALUE_FUNCS[name]
    x = rng.standard_normal((3, 4))
    x[1, 2] = 0.0
    want = f(x)
    for e in _engines(x):
        got = f(e)
        for g, w in zip(*(v if isinstance(v, tuple) else (v,) for v in (got, want))):
            assert type(np.asarray(g)) is np.ndarray
            np.testing.assert_array_equal(g, w)
            assert np.asarray(g).dtype == np.asarray(w).dtype


@pytest.mark.parametrize("build", [lambda v: np.array([v, v]), lambda v: np.r_[v, v],
                                   lambda v: np.c_[v, v], lambda v: np.asarray(v)],
                         ids=["array", "r_", "c_", "asarray"])
def test_unreachable_constructors_raise_a_clear_type_error(build):
    for e in _engines(np.array([1.0, 2.0])) + [Dual(1.0, 1.0), rv.Variable(1.0)]:
        with pytest.raises(TypeError, match=r"np\.stack"):
            build(e)


@pytest.mark.parametrize("call,name", [
    (lambda x: np.pad(x, 1, mode="mean"), "pad"),
    (lambda x: np.pad(x, 1, mode="reflect", reflect_type="odd"), "pad"),
    (lambda x: np.interp(x, [0.0, 1.0], [0.0, 1.0], period=2.0), "interp"),
    (lambda x: np.take(x, [0], out=np.empty(1)), "take"),
    (lambda x: np.take(np.arange(3.0), x), ""),  # numpy converts indices: __array__ refuses
    (lambda x: np.repeat(np.arange(3.0), x), ""),
    (lambda x: np.sort(x, order="a"), "sort"),
])
def test_unsupported_forms_raise_type_error_naming_engine_and_function(call, name):
    for e, engine in ((Dual(np.arange(3.0), 1.0), "hyperdual"),
                      (rv.Variable(np.arange(3.0)), "reverse")):
        with pytest.raises(TypeError, match=engine) as info:
            call(e)
        assert name in str(info.value)
