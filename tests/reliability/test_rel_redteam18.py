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


@pytest.mark.parametrize("name", CASES)
def test_array_function_derivatives_against_mpmath(name):
    f, n, kind = R.CASES[name]
    rng = np.random.default_rng(1818 + CASES.index(name))
    x, v = R._point(rng, n, kind), rng.normal(size=n)
    tr = R.truth(f, x, v)
    floor = max(abs(tr[0]), np.max(np.abs(tr[1])), np.max(np.abs(tr[2]))) * 1e-3
    paths = R.paths(f, x, v)
    bad = []
    for pname in PATHS:
        call, kind_ = paths[pname]
        with np.errstate(all="ignore"):
            got = call()
        status, msg = R.judge(got, R.expected(kind_, tr, v), floor)
        if status != "ok":
            bad.append(f"{pname}: {status} {msg}")
    assert not bad, "\n".join(bad)


def test_add_at_is_refused_clearly():
    # np.add.at works in place on a plain buffer: both engines name it
    f, _, _ = R.CASES["add_at"]
    for engine in ("hd", "rv"):
        with pytest.raises(TypeError, match="add.at is not supported"):
            R.paths(f, np.linspace(-1, 1, 6), np.ones(6))[f"{engine}.gradient"][0]()
