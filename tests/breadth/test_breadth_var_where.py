"""``where=`` of ``np.var``, ``np.std``, ``np.nanvar``, ``np.nanstd``, ``np.nanmean`` and
``np.nansum`` in both engines (and Taylor numbers), to every order.

Only the selected entries count, in the mean, the squared deviations and the divisor
``n - ddof``; the others get derivative 0.  Values against numpy; gradients and Hessians
in both engines against each other and central differences (``check_both_engines``);
the variance along a line ``x + t v`` is the quadratic ``var(x) + 2 t S_xv / (n - ddof)
+ t**2 S_vv / (n - ddof)``, which the Taylor coefficients must give exactly.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from tests._tolerance import assert_close_ulps
from tests.breadth.breadth_checks import _plain, check_both_engines, scalarize

A = np.array([[0.3, -1.2, 2.5, 0.7], [1.7, 0.9, -0.4, 1.1], [0.2, 1.4, -0.8, 2.2]])
W = np.array([[True, False, True, True], [False, True, True, False],
              [True, True, True, True]])
ANAN = np.where(np.array([[False, False, False, True], [False, False, False, False],
                          [False, True, False, False]]), np.nan, A)

CASES = {
    "var": lambda a: np.var(a, where=W),
    "var_axis1_ddof1": lambda a: np.var(a, axis=1, ddof=1, where=W),
    "var_axis0_keepdims": lambda a: np.var(a, axis=0, keepdims=True, where=W),
    "var_row_mask": lambda a: np.var(a, axis=1, where=W[0]),  # broadcast to every row
    "std_axis1": lambda a: np.std(a, axis=1, where=W),
    "std_method": lambda a: a.std(axis=0, where=W),
    "var_method_ddof": lambda a: a.var(axis=1, where=W, ddof=1),
}
NANCASES = {
    "nanvar": lambda a: np.nanvar(a, axis=1, where=W),
    "nanstd_ddof1": lambda a: np.nanstd(a, axis=1, ddof=1, where=W),
    "nanmean": lambda a: np.nanmean(a, axis=0, where=W),
    "nansum": lambda a: np.nansum(a, where=W),
    "nanmean_all": lambda a: np.nanmean(a, where=W),
}


ENGINES = {"Dual": lambda x: hd.Dual(x, np.ones_like(x)),
           "HyperDual": lambda x: hd.HyperDual(x, np.ones_like(x), np.ones_like(x), 0.0),
           "Taylor": lambda x: hd.Taylor(np.stack([x, np.ones_like(x), np.zeros_like(x)])),
           "reverse": rv.Variable}


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("name", sorted(CASES) + sorted(NANCASES))
def test_values_are_numpys(engine, name):
    f, a = (CASES[name], A) if name in CASES else (NANCASES[name], ANAN)
    want = f(a)
    got = np.asarray(_plain(f(ENGINES[engine](a))))
    assert got.shape == np.shape(want)
    # the same sums up to their order: a few ulps of the squares' size
    eps = np.finfo(float).eps
    np.testing.assert_allclose(got, want, rtol=16 * eps, atol=16 * eps * np.max(A ** 2))


@pytest.mark.parametrize("name", sorted(CASES))
def test_derivatives_both_engines(name):
    check_both_engines(scalarize(CASES[name]), A)


@pytest.mark.parametrize("name", sorted(NANCASES))
def test_nan_derivatives_both_engines(name):
    # the NaN entries stay NaN in the input; the derivative there is 0 in both engines,
    # and elsewhere that of the same function of the finite entries only
    f = NANCASES[name]
    nan = np.isnan(ANAN)
    for grad in (hd.gradient, rv.gradient):
        g = grad(scalarize(f), ANAN)
        assert np.all(g[nan] == 0) and np.all(np.isfinite(g))

    def filled(a):  # the NaN entries replaced by constants: the same function elsewhere
        return scalarize(f)(np.where(nan, np.nan, a))

    check_both_engines(filled, np.where(nan, 0.0, ANAN))


def test_gradient_closed_form():
    # d var / d a_i = 2 (a_i - m) / (n - ddof) on the selected entries of its row, else 0
    ddof = 1
    for grad in (hd.gradient, rv.gradient):
        J = hd.jacobian(lambda a: np.var(a, axis=1, ddof=ddof, where=W), A)
        for r in range(3):
            sel = W[r]
            m = A[r, sel].mean()
            want = np.zeros_like(A)
            want[r, sel] = 2 * (A[r, sel] - m) / (sel.sum() - ddof)
            np.testing.assert_allclose(J[r], want, rtol=8 * np.finfo(float).eps,
                                       atol=8 * np.finfo(float).eps)
        g = grad(lambda a: np.var(a, axis=1, ddof=ddof, where=W)[0], A)
        np.testing.assert_allclose(g, J[0], rtol=8 * np.finfo(float).eps, atol=1e-300)


def test_taylor_series_along_a_line_is_the_quadratic():
    v = np.random.default_rng(3).standard_normal(A.shape)
    ddof = 1
    t = hd.Taylor(np.stack([A, v, np.zeros_like(A), np.zeros_like(A), np.zeros_like(A)]))
    c = np.var(t, axis=1, ddof=ddof, where=W).coef
    for r in range(3):
        sel = W[r]
        x, u = A[r, sel], v[r, sel]
        den = sel.sum() - ddof
        want = [np.var(x, ddof=ddof), 2 * np.sum((x - x.mean()) * (u - u.mean())) / den,
                np.sum((u - u.mean()) ** 2) / den, 0.0, 0.0]
        scale = max(1.0, float(np.max(np.abs(want))))
        np.testing.assert_allclose(c[:, r], want, rtol=32 * np.finfo(float).eps,
                                   atol=32 * np.finfo(float).eps * scale)


def test_nested_forward_over_reverse_hessian():
    f = scalarize(lambda a: np.std(a, axis=1, where=W))
    flat = lambda x: f(x.reshape(A.shape))  # noqa: E731
    H = hd.hessian(flat, A.ravel())
    Hn = hd.jacobian(lambda x: rv.gradient(flat, x), A.ravel())
    np.testing.assert_allclose(Hn, H, rtol=1e-12, atol=1e-12 * np.max(np.abs(H)))


def test_empty_or_short_slices_are_numpys_with_its_warning():
    w = np.array([[True, False, False, False], [False, False, False, False],
                  [True, True, True, True]])
    for engine in ENGINES.values():
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            want = np.var(A, axis=1, ddof=1, where=w)
        with pytest.warns(RuntimeWarning, match="Degrees of freedom"):
            got = np.var(engine(A), axis=1, ddof=1, where=w)
        np.testing.assert_array_equal(np.isnan(_plain(got)), np.isnan(want))
        # a mean and a sum of 4 squares, summed in another order: ulps times n
        assert_close_ulps(_plain(got)[2], want[2], ulps=8, cond=4)
    with pytest.warns(RuntimeWarning, match="Degrees of freedom"):
        y = np.var(rv.Variable(A[0]), ddof=5)
    assert np.isinf(y.data)


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_refusals(engine):
    x = ENGINES[engine](A)
    with pytest.raises(TypeError, match="where"):
        np.var(x, where=x)  # a differentiated mask
    if np.lib.NumpyVersion(np.__version__) < "2.0.0":
        with pytest.raises(TypeError, match="mean"):  # numpy 1.x: np.var has no mean=
            np.var(x, mean=np.mean(A, keepdims=True))
    # numpy 2's mean= is supported: test_breadth_redteam9.test_var_std_mean_keyword
