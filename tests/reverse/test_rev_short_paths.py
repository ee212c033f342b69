"""The short paths of the per-call fixed costs give the numbers of the general ones.

Each is checked against the path it short-cuts (the same numbers, bit for bit)
or against the other engine / a closed form:

* the indexing scatters of a forward-over-reverse pass (``reverse.hessian``,
  ``reverse.hvp`` at small n) accumulate Dual cotangents in place into the
  pass's own buffer (``hyperdual.rules.indexing.scatter_add_into``);
* ``np.sum(x)`` of a Dual/HyperDual and of a Variable skip the where=/initial=
  layer; a slice of a Dual indexes its parts directly;
* ``hyperdual.gradient``'s unit seed block is written by one strided slice.
"""

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from hyperdual import Dual, HyperDual
from hyperdual.helpers import _eye_block
from hyperdual.rules.indexing import scatter_add, scatter_add_into

RNG = np.random.default_rng(11)


def overlapping(x):
    # several basic slices of x reach the same entries: their scatters accumulate
    return (np.sum(x[1:] ** 2 * x[:-1]) + np.sum(x[::2] ** 3) + np.sum(x[2:5] * x[3:6])
            + x[4] ** 4 + np.sum(x[:-1] * 3.0))


def overlapping_hessian(x):
    """The closed form of overlapping's Hessian."""
    n = x.size
    h = np.zeros((n, n))
    for i in range(n - 1):  # x[i+1]**2 x[i]
        h[i + 1, i + 1] += 2 * x[i]
        h[i, i + 1] += 2 * x[i + 1]
        h[i + 1, i] += 2 * x[i + 1]
    for i in range(0, n, 2):
        h[i, i] += 6 * x[i]
    for i in range(2, 5):  # x[i] x[i+1]
        h[i, i + 1] += 1.0
        h[i + 1, i] += 1.0
    h[4, 4] += 12 * x[4] ** 2
    return h


@pytest.mark.parametrize("n", [7, 10])
def test_hessian_of_overlapping_slices_matches_closed_form_and_forward_mode(n):
    x = RNG.uniform(-1.5, 1.5, n)
    truth = overlapping_hessian(x)
    got = rv.hessian(overlapping, x)
    # entries are sums of at most 3 products of O(1) numbers: a few ulps of the scale
    tol = 8 * np.finfo(float).eps * np.max(np.abs(truth))
    np.testing.assert_allclose(got, truth, rtol=0, atol=tol)
    np.testing.assert_allclose(got, hd.hessian(overlapping, x), rtol=0, atol=tol)
    v = RNG.uniform(-1.0, 1.0, n)
    np.testing.assert_allclose(rv.hvp(overlapping, x, v), truth @ v, rtol=0,
                               atol=8 * tol * np.max(np.abs(v)) * n)


def test_hessian_of_overlapping_slices_keeps_float32():
    x = RNG.uniform(-1.5, 1.5, 8).astype(np.float32)
    got = rv.hessian(overlapping, x)
    assert got.dtype == np.float32
    truth = overlapping_hessian(x.astype(np.float64))
    tol = 8 * np.finfo(np.float32).eps * np.max(np.abs(truth))
    np.testing.assert_allclose(got, truth, rtol=0, atol=tol)


def _dual(shape, k, dtype=np.float64, tag=None):
    tag = hd.new_tag() if tag is None else tag
    return Dual._build((RNG.standard_normal(shape).astype(dtype),
                        RNG.standard_normal((k,) + shape).astype(dtype)), tag, 1)


def test_scatter_add_into_equals_the_sum_of_scatters():
    tag = hd.new_tag()
    a, b = _dual((4,), 3, tag=tag), _dual((3,), 3, tag=tag)
    buf = scatter_add((6,), slice(1, 5), a)
    want = buf + scatter_add((6,), slice(0, 6, 2), b)
    assert scatter_add_into(buf, slice(0, 6, 2), b)
    for got_part, want_part in zip(buf._parts(), want._parts()):
        np.testing.assert_array_equal(got_part, want_part)


def test_scatter_add_into_refuses_what_it_cannot_add_in_place():
    tag = hd.new_tag()
    buf = scatter_add((5,), slice(0, 4), _dual((4,), 2, tag=tag))
    before = [p.copy() for p in buf._parts()]
    refused = [
        _dual((4,), 2),                                  # another tag
        _dual((4,), 2, np.float32, tag=tag),             # another dtype
        _dual((4,), 3, tag=tag),                         # another direction count
        Dual._build((np.ones(4), np.ones(4)), tag, 0),   # no direction axis
    ]
    for values in refused:
        assert not scatter_add_into(buf, slice(1, 5), values)
    for got, want in zip(buf._parts(), before):
        np.testing.assert_array_equal(got, want)  # nothing was written


@pytest.mark.parametrize("make", [
    lambda: _dual((5,), 3),
    lambda: _dual((2, 3), 4, np.float32),
    lambda: Dual._build((np.array(2.5), np.arange(3.0)), hd.new_tag(), 1),
    lambda: HyperDual._build((np.arange(4.0), np.ones((2, 1, 4)), np.ones((1, 3, 4)),
                              np.zeros((2, 3, 4))), hd.new_tag(), 2),
], ids=["stack", "2-d float32", "0-d value", "hyperdual"])
def test_sum_short_path_equals_the_general_sum(make):
    x = make()
    short, general = np.sum(x), np.sum(x, axis=None, keepdims=False)
    assert type(short) is type(general) and short.nd == general.nd
    for a, b in zip(short._parts(), general._parts()):
        assert type(a) is type(b)
        np.testing.assert_array_equal(a, b)
        assert np.asarray(a).dtype == np.asarray(b).dtype


def test_slice_short_path_equals_the_general_index():
    x = _dual((6,), 3)
    for s in (slice(1, None), slice(None, -1), slice(None, None, 2), slice(4, 1, -1)):
        short, general = x[s], x[(s,)]  # a tuple takes the general path
        for a, b in zip(short._parts(), general._parts()):
            np.testing.assert_array_equal(a, b)


def test_variable_sum_short_path_equals_the_general_sum():
    x = rv.Variable(RNG.standard_normal((3, 4)))
    short = np.sum(x)
    general = np.sum(x, axis=None)
    assert short.data == general.data
    short.backward()
    np.testing.assert_array_equal(x.grad.data, np.ones((3, 4)))


@pytest.mark.parametrize("n, start, k", [(5, 0, 5), (7, 2, 3), (4, 3, 1), (1, 0, 1)])
def test_unit_seed_block_is_rows_of_the_identity(n, start, k):
    seed = _eye_block(start, k, n, (n,), (k,))
    np.testing.assert_array_equal(seed, np.eye(n)[start:start + k])
