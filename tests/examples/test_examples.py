"""Every script in examples/ runs (quick mode) and its key numbers match closed forms.

Scripts are discovered with a glob, so a new example is run without editing
this file; the ones with known results get their numbers checked.  Figures go
to a temporary directory (``EXACTDIFF_FIGURE_DIR`` for the examples that read
it; any figure path inside ``examples/figures`` is redirected for the others),
so running the tests never rewrites the committed PNGs.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import rosen_hess_prod  # noqa: F401  (the hvp example's reference)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
FIGURES = EXAMPLES / "figures"
SCRIPTS = sorted(p for p in EXAMPLES.glob("*.py")
                 if p.name != "make_figures.py" and not p.name.startswith("_"))
#: the examples that write figures through EXACTDIFF_FIGURE_DIR, with their PNG
OWN_FIGURES = {
    "newton": "newton.png",
    "double_backprop": "double_backprop.png",
    "higher_order": "higher_order.png",
    "hvp": "hvp.png",
    "finite_differences": "finite_differences.png",
    "gradient_field": "gradient_field.png",
    "sparse_pde": "sparse_pde.png",
    "scipy_linalg": "scipy_linalg.png",
    "statistics_mle": "statistics_mle.png",
}


def _load(path: Path):
    if str(EXAMPLES) not in sys.path:  # as when run as a script: examples/_figures.py
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"_example_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _redirect(value, tmp: Path):
    """A path inside examples/figures, moved to tmp (anything else unchanged)."""
    if isinstance(value, (str, Path)) and str(value):
        try:
            rel = Path(value).resolve().relative_to(FIGURES.resolve())
        except (ValueError, OSError):
            return value
        new = tmp / rel
        return str(new) if isinstance(value, str) else new
    return value


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """Agg backend, figures into tmp_path."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("EXACTDIFF_FIGURE_DIR", str(tmp_path))
    return tmp_path


def run_example(path: Path, tmp: Path, monkeypatch) -> dict:
    module = _load(path)
    for name, value in list(vars(module).items()):
        new = _redirect(value, tmp)
        if new is not value:
            monkeypatch.setattr(module, name, new)
    params = inspect.signature(module.main).parameters
    kwargs = {}
    if "quick" in params:
        kwargs["quick"] = True
    for name, p in params.items():
        if p.default is not inspect.Parameter.empty:
            new = _redirect(p.default, tmp)
            if new is not p.default:
                kwargs[name] = new
    return module.main(**kwargs)


# ------------------------------------------------------------ checks per example


def check_newton(r):
    for key in ("x_newton_reverse", "x_newton_hyperdual", "x_newton_helper"):
        assert abs(r[key] - 1.0) < 1e-10, (key, r[key])
    assert r["f2_at_x0"] == 44.0 and r["f2_at_x0_hyperdual"] == 44.0  # 12x^2 - 4 at 2
    assert r["newton_path"][0] == 2.0 and r["newton_steps"] <= 8
    assert abs(r["x_gradient_descent"] - 1.0) < 1e-8
    assert r["gd_steps"] > 10 * r["newton_steps"]  # linear vs quadratic convergence


def check_double_backprop(r):
    assert r["dy_dx"] == 4.0 and r["z"] == 68.0
    assert r["dz_dx"] == 100.0  # 24x^2 + 2x at x = 2
    assert r["penalty"] == pytest.approx(r["penalty_numpy"], rel=1e-12)
    assert r["max_abs_err_vs_fd"] < 1e-6  # central differences, eps = 1e-6
    assert r["grad_b2"] == 0.0  # grad_x D does not depend on the output bias
    assert r["penalty_history"][-1] < 0.5 * r["penalty_history"][0]


def check_higher_order(r):
    errors = r["max_errors"]
    assert len(errors) == 6
    assert max(errors[:3]) < 1e-12, errors  # 1 - t^2, -2t(1 - t^2), -2(1 - t^2)(1 - 3t^2)
    assert max(errors[3:]) < 1e-10, errors  # values up to ~50 at order 6
    t = np.tanh(r["x"])
    np.testing.assert_allclose(r["derivatives"][0], 1 - t**2, rtol=0, atol=1e-15)


def check_hvp(r):
    failures = r["failures"]
    for row in r["rows"]:
        for method, err in row["errors"].items():
            assert err < 1e-10, (row["n"], method, err)
    assert [row["n"] for row in r["rows"]] == [10, 100]
    for method in ("reverse-over-reverse", "hyperdual.hvp", "reverse.hessian @ v"):
        assert not any(method in k for k in failures), failures
    if any("forward-over-reverse" in k for k in failures):
        pytest.xfail(f"reverse.hvp(mode='forward-over-reverse') failed: {failures}")
    assert all("forward-over-reverse" in row["errors"] for row in r["rows"])


def check_finite_differences(r):
    assert r["dual_error"] < 1e-14
    assert r["hyperdual_f1_error"] < 1e-14
    assert r["hyperdual_f2_error"] < 1e-14
    assert r["best_central_error"] > 1e-12  # no step size reaches machine precision
    assert r["best_forward_error"] > r["best_central_error"]
    assert r["best_central_error"] < 1e-9  # ...but the V's bottom is where theory says
    assert r["forward_errors"][0] > 1e-2 and r["forward_errors"][-1] > 1e-2  # both arms
    for row in r["cost_rows"]:
        assert row["evals"] == row["n"] + 1
        assert row["err_forward_fd"] < 1e-5 and row["err_central_fd"] < 1e-7
        assert row["err_hyperdual"] < 1e-14


def check_gradient_field(r):
    grid = r["grid"]
    np.testing.assert_array_equal(r["gradient_reverse"], 2 * grid)
    np.testing.assert_array_equal(r["gradient_forward"], 2 * grid)
    assert r["max_error_double_well"] < 1e-12


def check_quickstart(r):
    assert r["max_exact_difference"] < 1e-13
    assert 1e-13 < r["min_central_difference"]
    assert all(d < 1e-6 for k, d in r["table"].items() if "central" in k)
    assert r["dual_cube"] == (8.0, 12.0)
    assert r["double_backprop"] == (24.0, 44.0)


def check_dual_basics(r):
    assert r["d1"] == 24.0 and r["d2"] == 44.0


def check_computation_graph(r):
    assert tuple(r["grads"]) == (3.0, 6.0, 9.0)  # J = 3(a + bc) at a=5, b=3, c=2


def check_implicit_sensitivity(r):
    assert r["err_exact"] < 1e-13  # dy*/dK through the solver vs the closed form
    assert r["err_second"] < 1e-12
    assert 1e-12 < r["err_fd"] < 1e-6  # central differences: a step-sized error
    # the figure goes to --out (default $EXACTDIFF_FIGURE_DIR or the temporary
    # directory), never to the committed examples/figures
    if r["figure"] is not None:
        assert r["figure"].stat().st_size > 1000 and FIGURES not in r["figure"].parents


def check_sparse_pde(r):
    # the 5-point stencil: 5 nonzeros per interior row (fewer at the edges), and a
    # handful of colours whatever the grid size
    k = int(round(r["n"] ** 0.5))
    assert r["nnz"] == 5 * r["n"] - 4 * k
    assert r["ncolours"] <= 8
    assert max(r["residuals"].values()) < 1e-8
    np.testing.assert_allclose(r["u_sparse"], r["u_fd"], rtol=1e-6, atol=1e-8)
    assert r["jacobian_difference"] < 1e-9  # sparse and dense exact Jacobians (entries ~1e3)


def check_book_cnn_rnn(r):
    # double backprop through conv2d and max pooling against central differences of the
    # exact gradient (h = 1e-5: truncation and rounding are far below 1e-6 here)
    assert r["hvp_relative_difference"] < 1e-6
    assert r["cnn_losses"][-1] < 0.8 * r["cnn_losses"][0]
    assert r["lstm_losses"][-1] < r["lstm_losses"][0]


def check_scipy_linalg(r):
    assert r["bures_at_min"] < 1e-12  # the gradient vanishes at the minimum S2 = S1
    assert r["bures_engines"] < 1e-13
    assert 1e-13 < r["bures_fd"] < 1e-7  # central differences: a step-sized error
    assert r["err_gramian"] < 1e-13  # against W_ij = b_i b_j / (k (d_i + d_j))
    assert r["err_modes"] < 1e-13  # against Rayleigh's quotient v^T dK v


def check_statistics_mle(r):
    # Newton with exact derivatives reaches the optimum: gradient zero to rounding
    # (sums of ~n terms of size 1), both engines at the same point, and a
    # log-likelihood no worse than scipy's derivative-free fit from the same start
    assert r["gradient"] < 1e-10
    assert r["engines"] < 1e-10
    assert r["nll_ours"] <= r["nll_scipy"] + 1e-9
    np.testing.assert_allclose(r["params"], r["scipy_params"], rtol=1e-4)


CHECKS = {name[len("check_"):]: fn for name, fn in globals().items() if name.startswith("check_")}


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_example_runs_quick(path, sandbox, monkeypatch, capsys):
    result = run_example(path, sandbox, monkeypatch)
    out = capsys.readouterr().out
    assert out.strip(), f"{path.name} printed nothing"
    check = CHECKS.get(path.stem)
    if check is not None:
        assert isinstance(result, dict)
        check(result)
    if path.stem in OWN_FIGURES:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            assert result["figure"] is None
            assert "install matplotlib (pip install .[plot]) to get the plot" in out
        else:
            assert result["figure"] == sandbox / OWN_FIGURES[path.stem]
            assert result["figure"].stat().st_size > 1000


def test_every_example_is_discovered():
    names = {p.stem for p in SCRIPTS}
    assert set(OWN_FIGURES) | {"quickstart"} <= names
    # every example with known results is still there (a rename would skip its checks)
    assert set(CHECKS) <= names


def test_without_matplotlib_prints_how_to_get_the_plot(sandbox, monkeypatch, capsys):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    result = _load(EXAMPLES / "newton.py").main(quick=True)
    assert result["figure"] is None
    assert "install matplotlib (pip install .[plot]) to get the plot" in capsys.readouterr().out
    assert not list(sandbox.glob("*.png"))


def test_quickstart_command_line():
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, str(EXAMPLES / "quickstart.py")], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "the exact paths agree to" in proc.stdout
    assert "Dual(2.0, 1.0) ** 3 = Dual(8.0, 12.0)" in proc.stdout
    assert "dy/dx = 24.0, d2y/dx2 = 44.0" in proc.stdout
    assert len(proc.stdout.splitlines()) <= 40
    assert not proc.stderr.strip(), proc.stderr  # no warnings on the first screen


def test_make_figures_regenerates_into_the_figure_dir(sandbox, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    module = _load(EXAMPLES / "make_figures.py")
    assert module.main(["--quick", "gradient_field.py"]) == 0
    out = capsys.readouterr().out
    assert "gradient_field.py" in out and "newton.py" not in out
    assert [p.name for p in sandbox.glob("*.png")] == ["gradient_field.png"]


@pytest.mark.parametrize("png", sorted(OWN_FIGURES.values()))
def test_committed_figures_are_small(png):
    path = FIGURES / png
    assert path.is_file(), f"{png} missing: run python examples/make_figures.py"
    assert path.stat().st_size < 150_000


# ------------------------------------------- examples leave the repository clean


def _git_status() -> str | None:
    """``git status`` of what an example could write: examples/ and any image or dot file.

    (Limited to those paths so that other test runs sharing the checkout, such as
    tox environments running in parallel, cannot make this test flaky.)
    """
    try:
        proc = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--",
                               "examples", "*.png", "*.svg", "*.pdf", "*.dot"],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None


def test_default_figure_dir_is_outside_the_repository(monkeypatch, tmp_path):
    monkeypatch.delenv("EXACTDIFF_FIGURE_DIR", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    figures = _load(EXAMPLES / "_figures.py")
    assert figures.figure_dir() == tmp_path / "exactdiff-figures"
    assert ROOT not in figures.figure_dir().parents


def test_mean_time_averages_repeats():
    figures = _load(EXAMPLES / "_figures.py")
    calls = []
    result, seconds = figures.mean_time(lambda: calls.append(1) or 7, min_runs=4, budget=0.0)
    assert result == 7 and len(calls) == 4 and seconds >= 0.0


def test_running_every_example_leaves_git_status_clean(tmp_path):
    """Each example as a user runs it (a subprocess, quick mode), with and without --out.

    Figures go to ``--out`` or to the temporary directory (``TMPDIR`` points at
    tmp_path here); the committed ``examples/figures`` and everything else in
    the checkout stay untouched.  Needs matplotlib to write figures at all
    (``tox -e examples`` installs it).
    """
    pytest.importorskip("matplotlib")
    before = _git_status()
    if before is None:
        pytest.skip("not a git checkout")
    committed = {p.name: p.read_bytes() for p in FIGURES.glob("*.png")}
    env = {**os.environ, "MPLBACKEND": "Agg", "TMPDIR": str(tmp_path / "tmp")}
    env.pop("EXACTDIFF_FIGURE_DIR", None)
    (tmp_path / "tmp").mkdir()
    for path in SCRIPTS:
        for extra in ([], ["--out", str(tmp_path / "out")]):
            if extra and path.stem in ("quickstart", "dual_basics"):
                continue  # no figures, no --out
            proc = subprocess.run([sys.executable, str(path), "--quick", *extra], cwd=ROOT,
                                  env=env, capture_output=True, text=True, timeout=300)
            assert proc.returncode == 0, (path.name, proc.stderr[-2000:])
    written = {p.name for p in (tmp_path / "out").glob("*.png")}
    assert set(OWN_FIGURES.values()) <= written, written
    assert set(OWN_FIGURES.values()) <= {
        p.name for p in (tmp_path / "tmp" / "exactdiff-figures").glob("*.png")}
    assert _git_status() == before
    assert {p.name: p.read_bytes() for p in FIGURES.glob("*.png")} == committed
