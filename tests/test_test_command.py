"""The test command's plan: scripts/test.py's start order and tox.ini's tiers."""

import configparser
import doctest
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _script():
    spec = importlib.util.spec_from_file_location("_test_command", ROOT / "scripts" / "test.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _tox():
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(ROOT / "tox.ini")
    return cp


def test_run_order_starts_the_longest_known_runs_first():
    mod = _script()
    assert doctest.testmod(mod).failed == 0
    # two workers: the 20-minute runs start together, the 6-minute ones follow
    known = {"py310": 360.0, "py312": 1200.0, "noavx512": 1250.0, "lint": 1.0}
    assert mod.run_order(list(known), known) == ["noavx512", "py312", "py310", "lint"]
    # one environment without a recorded time: tox.ini's order, untouched
    assert mod.run_order(["py310", "py312", "docs"], known) == ["py310", "py312", "docs"]


def test_tiers_full_in_py312_numerics_in_noavx512_quick_elsewhere():
    cp = _tox()
    envs = _script()._env_list(cp)
    assert envs[:2] == ["py312", "noavx512"], "the long runs start first"

    def commands(env):
        section = f"testenv:{env}"
        return cp.get(section, "commands", fallback=None) or cp.get("testenv", "commands")

    for env in envs:
        if not re.fullmatch(r"py3\d+|floor|noavx512", env):
            continue
        cmd = commands(env)
        if env == "py312":
            assert "-m" not in cmd.split(), f"{env} must run every test: {cmd}"
        elif env == "noavx512":
            # every sweep of the numerics (ulps against mpmath) without AVX-512
            assert '-m "not structure"' in cmd, cmd
        else:
            assert '-m "not slow"' in cmd, f"{env} is the quick tier: {cmd}"
    # the markers the tiers leave out are registered (pytest runs with --strict-markers)
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'"slow: ', pyproject) and re.search(r'"structure: ', pyproject)
    assert "--strict-markers" in pyproject


def test_every_structure_sweep_is_slow():
    # noavx512 leaves out "structure", the quick tier "slow": a structure test that is
    # not slow would run in the quick tier but not in noavx512, which is no tier
    import subprocess
    import sys

    def collect(expr):
        return subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
             "-m", expr, "tests"], cwd=ROOT, capture_output=True, text=True)

    found = collect("structure")
    assert found.returncode == 0 and "test_rel_computed_zero.py" in found.stdout
    stray = collect("structure and not slow")
    assert stray.returncode == 5, stray.stdout[-500:]  # (5: no test selected)
