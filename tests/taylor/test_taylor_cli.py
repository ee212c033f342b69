"""``python -m hyperdual --order K``: every derivative of a one-variable expression."""

import json
import math
import os
import subprocess
import sys

from hyperdual.cli import main


def test_order_text(capsys):
    assert main(["log(1+x)", "--at", "x=0.5", "--order", "5"]) == 0
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if "=" in ln and ln.startswith("f")]
    values = [float(ln.split("=")[-1]) for ln in lines[1:]]  # (lines[0] is the expression)
    # d^k log(1+x) = (-1)^(k-1) (k-1)! / (1+x)^k
    ref = [math.log(1.5)] + [(-1) ** (k - 1) * math.factorial(k - 1) / 1.5 ** k
                             for k in range(1, 6)]
    assert len(values) == 6
    for v, r in zip(values, ref):
        assert abs(v - r) <= 1e-14 * abs(r)


def test_order_json(capsys):
    assert main(["sin(x)*exp(x)", "--at", "x=0", "--order", "4", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    # (sin x e^x)^(k) at 0 = 2^(k/2) sin(k pi/4)
    assert data["derivatives"] == [0.0, 1.0, 2.0, 2.0, 0.0] or all(
        abs(v - 2 ** (k / 2) * math.sin(k * math.pi / 4)) < 1e-14
        for k, v in enumerate(data["derivatives"]))


def test_order_refusals(capsys):
    assert main(["x*y", "--at", "x=0", "y=1", "--order", "3"]) == 2
    assert "exactly one variable" in capsys.readouterr().err
    assert main(["x", "--at", "x=0", "--order", "-1"]) == 2
    assert main(["x", "--at", "x=0", "--order", "two"]) == 2


def test_order_subprocess():
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-m", "hyperdual", "exp(2*x)", "--at", "x=0",
                          "--order", "3", "--json"], capture_output=True, text=True, env=env,
                         check=True).stdout
    assert json.loads(out)["derivatives"] == [1.0, 2.0, 4.0, 8.0]


def test_example_numbers(tmp_path, monkeypatch):
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("EXACTDIFF_FIGURE_DIR", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.syspath_prepend(str(root / "examples"))
    spec = importlib.util.spec_from_file_location("_taylor_example",
                                                  root / "examples" / "taylor_mode.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    r = mod.main(quick=True)
    assert r["coef_error"] == 0.0  # 1/(1+x^2) = sum (-1)^m x^(2m): exact coefficients
    assert r["agree"] < 1e-12      # Taylor mode, backprop and nested duals agree


def test_custom_rules_work_in_taylor_mode():
    # softplus' = expit, softplus'' = expit (1 - expit), and the third is 0 at x = 0
    import numpy as np

    import hyperdual

    @hyperdual.custom_jvp
    def softplus(x):
        return np.logaddexp(0.0, x)

    @softplus.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return softplus(x), t * hyperdual.expit(x)

    np.testing.assert_allclose(hyperdual.derivatives(softplus, 0.0, 3),
                               [np.log(2.0), 0.5, 0.25, 0.0], atol=1e-16)
