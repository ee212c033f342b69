"""python -m hyperdual: --version, expressions starting with '-' in both orders, warnings."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import hyperdual
from hyperdual.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys):
    code, out, err = run(capsys, "--version")
    assert code == 0 and not err
    assert out.strip() == f"python -m hyperdual (exactdiff) {hyperdual.__version__}"
    proc = subprocess.run([sys.executable, "-m", "hyperdual", "--version"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and hyperdual.__version__ in proc.stdout


@pytest.mark.parametrize("argv", [
    ["--", "-x**2", "--at", "x=1"],           # the order the help shows first
    ["--at", "x=1", "--", "-x**2"],           # options first
    ["--", "-x**2", "--at=x=1"],
    ["--json", "--", "-x**2", "--at", "x=1"],
])
def test_leading_minus_expression_in_both_orders(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    # -x**2 at 1: value -1, f' = -2x = -2, f'' = -2 (closed form)
    if "--json" in argv:
        assert '"value": -1.0' in out
    else:
        assert "f(x)   = -1.0" in out and "f'(x)  = -2.0" in out and "f''(x) = -2.0" in out


def test_leading_minus_with_several_options(capsys):
    code, out, err = run(capsys, "--", "-x*y", "--at", "x=2", "y=3", "--check")
    assert code == 0, err
    assert "-3" in out and "-2" in out  # gradient (-y, -x) = (-3, -2)


def test_help_shows_both_orders(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert 'python -m hyperdual -- "-x**2" --at x=1' in out
    assert 'python -m hyperdual --at x=1 -- "-x**2"' in out


def test_an_expression_after_dashdash_alone_is_still_the_expression(capsys):
    code, out, err = run(capsys, "--at", "x=2", "--", "-x")
    assert code == 0, err
    assert "f'(x)  = -1.0" in out


@pytest.mark.parametrize("argv", [
    ["log(x)", "--at", "x=-1"],
    ["sqrt(x)*y", "--at", "x=0", "y=1", "--check"],
    ["x**0.5", "--at", "x=-1", "--check"],
    ["1/x", "--at", "x=0", "--check"],
])
def test_warnings_are_one_clean_line_each(argv):
    proc = subprocess.run([sys.executable, "-m", "hyperdual", *argv], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines, "expected a warning"
    for line in lines:
        assert line.startswith("warning: "), line
        assert ".py" not in line and "Warning:" not in line and "File " not in line, line


def test_stray_warning_is_formatted_without_source_path(capsys, monkeypatch):
    import hyperdual.cli as cli

    def noisy(args, stdout, stderr):
        warnings.warn("something odd", RuntimeWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(cli, "_run", noisy)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        code = cli.main(["x", "--at", "x=1"])
    err = capsys.readouterr().err
    assert code == 0
    assert err == "warning: something odd\n"
