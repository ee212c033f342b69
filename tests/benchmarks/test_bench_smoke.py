"""Smoke test of the benchmark suite: every figure runs at tiny sizes.

No timing assertions: only that each figure returns finite, positive numbers.
"""

from __future__ import annotations

import math

import pytest

pytest.importorskip("scipy")

from benchmarks import figures, problems, report, timing  # noqa: E402
from benchmarks.__main__ import main  # noqa: E402

TINY = timing.Timing(repeats=1, min_time=0.0, budget=0.0, min_pairs=1, warmup=0)


@pytest.fixture(autouse=True, scope="module")
def _frozen_heap():
    """Cheap gc.collect() between batches, as in ``python -m benchmarks``; undone after."""
    import gc

    timing.freeze_heap()
    yield
    gc.unfreeze()


def _ctx() -> figures.Ctx:
    return figures.Ctx(timing=TINY, quick=True, peers=[])


def _check(section: report.Section) -> None:
    assert section.rows
    for row in section.rows:
        v = row.value
        assert math.isfinite(v) and v > 0, (row.figure, v)
        assert row.figure in report.render([section])


def test_paired_ratio_is_finite_and_positive():
    r = timing.paired(lambda: sum(range(50)), lambda: sum(range(10)), TINY)
    assert math.isfinite(r.median) and r.median > 0 and r.pairs == 1


def test_scalar_dual():
    _check(figures.fig_scalar_dual(_ctx(), steps=2))


def test_reverse_overhead():
    _check(figures.fig_reverse_overhead(_ctx(), steps=2, widths=(5, 10), mem_nodes=30))


def test_gradient_and_hvp():
    _check(figures.fig_gradient(_ctx(), sizes=(20,)))
    _check(figures.fig_hvp(_ctx(), sizes=(20,)))


def test_hessian_and_forward_gradient():
    _check(figures.fig_hessian(_ctx(), sizes=(3,)))
    _check(figures.fig_forward_gradient(_ctx(), sizes=(3,), vs_numdual=False))


def test_lbfgs():
    _check(figures.fig_lbfgs(_ctx(), n=4, starts=("alternating",)))


def test_problems_match_scipy():
    import numpy as np
    from scipy.optimize import rosen, rosen_hess

    x = problems.rosen_point(5)
    assert math.isclose(problems.rosen(x), rosen(x), rel_tol=1e-12)
    assert math.isclose(problems.rosen_loop(list(x)), rosen(x), rel_tol=1e-12)
    assert np.allclose(problems.central_hessian(problems.rosen, x), rosen_hess(x), rtol=1e-5)


def test_cli_rejects_unknown_figure(capsys):
    with pytest.raises(SystemExit):
        main(["--only", "99", "--quiet"])


def test_malloc_sensitivity(monkeypatch):
    # the real mallopt would change this pytest process for good: pretend it worked
    monkeypatch.setattr(figures, "_tune_glibc_malloc", lambda: True)
    _check(figures.fig_malloc(_ctx(), n=20))


def test_gaussian_likelihood():
    _check(figures.fig_gaussian(_ctx(), sizes=(3, 4), hessian_max=3))


def test_taylor_mode():
    from benchmarks.taylor_mode import fig_taylor

    section = fig_taylor(_ctx(), steps=2, order=3, backprop_order=2, orders=(2, 3),
                         stack_dirs=(3,), stack_n=4, stack_order=2)
    # (the fitted exponent of a 1-pair tiny run may be any sign: only finite)
    assert math.isfinite(section.rows[-1].value)
    section.rows = section.rows[:-1]
    _check(section)


def test_sparse_derivatives():
    from benchmarks.sparse_derivatives import fig_sparse

    _check(fig_sparse(_ctx(), n=50, n_dense=20, n_big=200, jax_sizes=(20,)))
