"""A seeded fast subset of ``scripts/redteam_arrays.py``: array functions people
write (var/std with ddof/axis/keepdims, einsum traces, sort/median/quantile,
cumprod through zeros, interp, small-matrix linalg, joins, fancy indexing,
reductions with ``where=``/``initial=`` ...) under first-, second- and
third-order helpers of both engines and their nestings.

Truth: the same numpy code run on object arrays of mpmath numbers (an mpmath
formula where numpy has no object loop), differentiated by ``mpmath.diff`` at
50 digits.  Tolerance: 64 ulps times 16 of the largest entry of the truth (the
array functions' condition is that of the whole array), see the script."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

_SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "redteam_arrays.py"
_spec = importlib.util.spec_from_file_location("redteam_arrays", _SCRIPT)
R = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(R)

# one case of each family; the paths cover every helper kind and nesting
CASES = ["var_ddof1", "std_keepdims", "sum_where_initial", "max_initial",
         "einsum_chain", "einsum_ellipsis", "median_even", "quantile_axis",
         "cumprod_two_zeros", "interp_x", "polyval", "inv_sum", "eigvalsh",
         "cholesky", "pad_reflect", "select", "fancy_repeat_idx",
         "matmul_broadcast", "cov", "multiply_accumulate"]
PATHS = ["hd.gradient", "rv.vjp", "hd.jvp", "hd.hessian", "rv.hvp(r-o-r)",
         "hd.jac(rv.grad)", "rv.jac(hd.grad)", "hd.dirderivs", "rv.derivs(backprop)",
         "rv.d(hd.d2)"]


def _assert_paths_agree(paths, names, tr, v):
    """Run each named helper path and judge it against the mpmath truth ``tr``."""
    bad = []
    for pname in names:
        call, kind = paths[pname]
        with np.errstate(all="ignore"):
            got = call()
        status, msg = R.judge(got, R.expected(kind, tr, v), R._floor(kind, tr))
        if status != "ok":
            bad.append(f"{pname}: {status} {msg}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", CASES)
def test_array_function_derivatives_against_mpmath(name):
    f, n, kind = R.CASES[name]
    rng = np.random.default_rng(1818 + CASES.index(name))
    x, v = R._point(rng, n, kind), rng.normal(size=n)
    tr = R.truth(f, x, v)
    paths = R.paths(f, x, v)
    _assert_paths_agree(paths, PATHS, tr, v)


def test_add_at_is_refused_clearly():
    # np.add.at works in place on a plain buffer: both engines name it
    f, _, _ = R.CASES["add_at"]
    for engine in ("hd", "rv"):
        with pytest.raises(TypeError, match="add.at is not supported"):
            R.paths(f, np.linspace(-1, 1, 6), np.ones(6))[f"{engine}.gradient"][0]()


def _std_hessian_truth(x, ddof):
    """(P - u u^T) / (|d| sqrt(n - ddof)) at 50 digits: d = x - mean(x), u = d / |d|,
    P = I - 1 1^T / n (std = |d| / sqrt(n - ddof), and P u = u)."""
    import mpmath as mp

    mp.mp.dps = 50
    xs = [mp.mpf(float(a)) for a in x]
    n = len(xs)
    m = sum(xs) / n
    d = [a - m for a in xs]
    nd = mp.sqrt(sum(t * t for t in d))
    return np.array([[float(((i == j) - mp.mpf(1) / n - d[i] * d[j] / nd**2)
                            / (nd * mp.sqrt(n - ddof))) for j in range(n)]
                     for i in range(n)])


@pytest.mark.parametrize("engine", ["hd", "rv"])
@pytest.mark.xfail(strict=True, reason=(
    "np.std = sqrt(var): its second derivative forms |d|^2 |P t|^2 - (d . P t)^2 (d the "
    "centred data), which cancels where d is nearly parallel to a centred direction: at "
    "x = (0, 1e-9, 1) H22 is 3.5e-19, both engines give +-5.6e-17 or 0, H02 is off by "
    "5e-8 relative (README limit; the exact form sums det(1, x, t) over triples)"))
def test_std_hessian_where_the_centred_vector_is_nearly_one_direction(engine):
    import hyperdual as hd
    import reverse as rv

    x = np.array([0.0, 1e-9, 1.0])
    for ddof in (0, 1):
        got = {"hd": hd, "rv": rv}[engine].hessian(lambda y, ddof=ddof: np.std(y, ddof=ddof), x)
        truth = _std_hessian_truth(x, ddof)
        # entrywise: each entry is well conditioned in x (a smooth function of the
        # differences), 64 ulps
        np.testing.assert_allclose(got, truth, rtol=64 * 2.2e-16, atol=0)


A3 = np.array([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0], [1.5, 0.7, -0.4]])
DET_PATHS = ["hd.gradient", "rv.gradient", "rv.vjp", "hd.hessian", "rv.hessian", "hd.hvp",
             "rv.hvp(f-o-r)", "rv.hvp(r-o-r)", "hd.jac(rv.grad)", "rv.jac(hd.grad)",
             "hd.jac(hd.grad)", "rv.jac(rv.grad)"]


@pytest.mark.parametrize("scale", [1e-150, 1e-120, 1e110])
@pytest.mark.parametrize("pname", DET_PATHS)
def test_det_derivatives_where_its_value_leaves_the_range(scale, pname):
    # det of entries ~1e-150 is 1e-450 (0 in float64): its gradient (cofactors,
    # 1e-300) and Hessian (entries, 1e-150) are normal floats; det(a) a^-T gave 0
    # for both in every path (and inf * a^-T where det overflows at 1e110)
    f = (lambda x: R._det(x.reshape(3, 3)))  # noqa: E731 (det itself, not its square)
    x, v = (A3 * scale).ravel(), np.linspace(-1.0, 1.0, 9) * scale
    tr = R.truth(f, x, v, scale)
    call, kind = R.paths(f, x, v)[pname]
    with np.errstate(all="ignore"):
        got = np.asarray(call(), dtype=np.float64)
    want = R.expected(kind, tr, v)
    # 64 ulps of the largest entry times a condition number: the rule forms the
    # cofactors through det's LU of A and, on nested numbers, of its 2 x 2 minors
    # (cond(A) 2.7 times the minors' largest, 5.5)
    minors = [np.delete(np.delete(A3, i, 0), j, 1) for i in range(3) for j in range(3)]
    cond = np.linalg.cond(A3) * max(np.linalg.cond(m) for m in minors)
    np.testing.assert_allclose(got, want, rtol=0,
                               atol=64 * cond * 2.2e-16 * np.max(np.abs(want)))


STD_CASES = {
    "std": lambda x: np.std(x),
    "std_axis_ddof": lambda x: np.sum(np.std(x.reshape(2, 3), axis=1, ddof=1) * [1.0, 2.0]),
    "std_keepdims": lambda x: np.std(x.reshape(3, 2), axis=0, keepdims=True)[0, 1],
}
STD_PATHS = ["hd.gradient", "rv.gradient", "rv.vjp", "hd.jvp", "hd.hessian", "rv.hessian",
             "rv.hvp(r-o-r)", "hd.jac(rv.grad)", "rv.jac(hd.grad)", "hd.dirderivs",
             "rv.derivs(backprop)"]


@pytest.mark.parametrize("scale", [1e-300, 1e-160, 1e200])
@pytest.mark.parametrize("name", list(STD_CASES))
def test_std_where_the_squared_deviations_leave_the_range(name, scale):
    # data of 1e-300: var = 1e-600 is 0 in float64, so std was 0 with derivative 0
    # (std's convention where the variance is 0); truth 1e-300 and O(1). At 1e200 the
    # squares overflow (std inf, gradient nan or wrong)
    f = STD_CASES[name]
    rng = np.random.default_rng(18)
    x, v = R._point(rng, 6, "plain") * scale, rng.normal(size=6) * scale
    tr = R.truth(f, x, v, scale)
    paths = R.paths(f, x, v)
    _assert_paths_agree(paths, STD_PATHS, tr, v)


_MASK = np.array([True, True, False, True, True, True])


def _with_nan(x, at):
    # a constant NaN among the data (nanstd leaves it out; derivative 0 for the rest)
    return np.concatenate([x[:at], np.array([np.nan]), x[at:]])


# name -> (f at data scale s, mpmath formula of the same at unit scale); the constant
# mean= is s * 0.3, so f(s y) = s f1(y) (std is homogeneous in the data and the mean)
STD_MASKED_CASES = {
    "nanstd": (lambda s: lambda x: np.nanstd(_with_nan(x, 2)),
               lambda xs: _std_mp(xs)),
    "nanstd_axis_ddof": (
        lambda s: lambda x: np.sum(np.nanstd(np.concatenate(
            [_with_nan(x[:3], 1), _with_nan(x[3:], 3)]).reshape(2, 4), axis=1, ddof=1)
            * [1.0, 2.0]),
        lambda xs: _std_mp(xs[:3], 1) + 2 * _std_mp(xs[3:], 1)),
    "std_where": (lambda s: lambda x: np.std(x, where=_MASK),
                  lambda xs: _std_mp([a for a, k in zip(xs, _MASK) if k])),
    "std_mean_traced": (lambda s: lambda x: np.std(x, mean=np.mean(x, keepdims=True)),
                        lambda xs: _std_mp(xs)),
    "std_mean_const": (lambda s: lambda x: np.std(x, mean=np.array(0.3 * s), ddof=1),
                       lambda xs: _std_mp(xs, 1, 0.3)),
    "nanstd_where_mean": (
        lambda s: lambda x: np.nanstd(_with_nan(x, 4), where=np.insert(_MASK, 4, True),
                                      mean=np.array(-0.2 * s)),
        lambda xs: _std_mp([a for a, k in zip(xs, _MASK) if k], 0, -0.2)),
}


def _std_mp(xs, ddof=0, mean=None):
    """std of ``xs`` (mpf) about their mean or a given one, divided by n - ddof."""
    import mpmath as mp

    m = sum(xs) / len(xs) if mean is None else mp.mpf(mean)
    return mp.sqrt(sum((a - m) ** 2 for a in xs) / (len(xs) - ddof))


def _unit_truth(formula, y, w):
    # mpmath at 50 digits through a plain-object function: R.truth calls f on an
    # object array of mpf, which the formula reads as a list
    return R.truth(lambda arr: formula(list(arr)), y, w)


@pytest.mark.parametrize("scale", [1e-300, 1e-160, 1e200])
@pytest.mark.parametrize("name", list(STD_MASKED_CASES))
def test_nanstd_and_std_where_mean_where_the_squares_leave_the_range(name, scale):
    # d5867fe rescaled np.std by a power of two where var's value under/overflows, but
    # not nanstd nor std with where=/mean=: data of 1e-300 gave std 0 with derivative 0
    # (truth O(1)). std is homogeneous of degree 1: at s y its gradient is that at y,
    # its Hessian that at y over s, its value and directional derivatives along s w
    # s times those at y along w
    if "mean" in name and np.lib.NumpyVersion(np.__version__) < "2.0.0":
        pytest.skip("numpy < 2 has no mean= keyword for std/nanstd")
    make, formula = STD_MASKED_CASES[name]
    f = make(scale)
    rng = np.random.default_rng(1818)
    y, w = R._point(rng, 6, "plain"), rng.normal(size=6)
    val, grad, hess, d3 = _unit_truth(formula, y, w)
    tr = (val * scale, grad, hess / scale, d3 * scale)
    x, v = y * scale, w * scale
    paths = R.paths(f, x, v)
    _assert_paths_agree(paths, STD_PATHS, tr, v)
