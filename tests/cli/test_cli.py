"""Tests of the command line ``python -m hyperdual`` (hyperdual/cli.py).

Good inputs are compared with derivatives worked out by hand; hostile inputs
must be refused with exit code 2 and a message, never evaluated.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
import subprocess
import sys
import types

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperdual import cli
from hyperdual.cli import ExpressionError, main, parse_expression, parse_point
from tests._tolerance import assert_close_ulps

E2 = math.exp(2.0)
S1, C1 = math.sin(1.0), math.cos(1.0)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv: str) -> dict:
    code, out, err = run(capsys, "--json", *argv)
    assert code == 0, err
    return json.loads(out)


def line_value(out: str, prefix: str) -> float:
    pattern = re.compile(rf"^\s*{re.escape(prefix)}\s*=\s*(\S+)\s*$")
    for line in out.splitlines():
        m = pattern.match(line)
        if m:
            try:
                return float(m.group(1))
            except ValueError:
                continue  # the header line "f(x) = <expression>"
    raise AssertionError(f"no line starting with {prefix!r} in:\n{out}")


# ---------------------------------------------------------------- good input ---
def test_polynomial_one_variable(capsys):
    code, out, err = run(capsys, "x**4 - 2*x**2", "--at", "x=2")
    assert code == 0, err
    assert line_value(out, "f(x)") == 8.0
    assert line_value(out, "f'(x)") == 24.0
    assert line_value(out, "f''(x)") == 44.0


def test_polynomial_json(capsys):
    data = run_json(capsys, "x**4 - 2*x**2", "--at", "x=2")
    assert data["variables"] == ["x"]
    assert data["point"] == {"x": 2.0}
    assert (data["value"], data["derivative"], data["second_derivative"]) == (8.0, 24.0, 44.0)
    assert data["gradient"] == [24.0]
    assert data["hessian"] == [[44.0]]
    assert data["warnings"] == []


def test_two_variables_gradient_and_hessian(capsys):
    data = run_json(capsys, "sin(x)*exp(y)", "--at", "x=1", "y=2")
    assert data["variables"] == ["x", "y"]
    np.testing.assert_allclose(data["value"], S1 * E2, rtol=1e-12)
    np.testing.assert_allclose(data["gradient"], [C1 * E2, S1 * E2], rtol=1e-12)
    np.testing.assert_allclose(
        data["hessian"], [[-S1 * E2, C1 * E2], [C1 * E2, S1 * E2]], rtol=1e-12
    )
    assert "derivative" not in data


def test_variable_order_follows_at(capsys):
    data = run_json(capsys, "sin(x)*exp(y)", "--at", "y=2", "x=1")
    assert data["variables"] == ["y", "x"]
    np.testing.assert_allclose(data["gradient"], [S1 * E2, C1 * E2], rtol=1e-12)
    np.testing.assert_allclose(
        data["hessian"], [[S1 * E2, C1 * E2], [C1 * E2, -S1 * E2]], rtol=1e-12
    )


def test_two_variables_text(capsys):
    code, out, _ = run(capsys, "sin(x)*exp(y)", "--at", "x=1", "y=2")
    assert code == 0
    assert "gradient" in out and "hessian" in out
    np.testing.assert_allclose(line_value(out, "df/dx"), C1 * E2, rtol=1e-12)
    np.testing.assert_allclose(line_value(out, "df/dy"), S1 * E2, rtol=1e-12)


def test_three_variables_and_comma_syntax(capsys):
    # f = x*y*z + hypot(x, y): gradient (yz + x/r, xz + y/r, xy) at (3, 4, 2), r = 5
    data = run_json(capsys, "x*y*z + hypot(x, y)", "--at", "x=3,y=4", "z=2")
    np.testing.assert_allclose(data["value"], 24 + 5, rtol=1e-12)
    np.testing.assert_allclose(data["gradient"], [8 + 3 / 5, 6 + 4 / 5, 12], rtol=1e-12)
    r3 = 125.0
    expected = [[16 / r3, 2 - 12 / r3, 4], [2 - 12 / r3, 9 / r3, 3], [4, 3, 0]]
    np.testing.assert_allclose(data["hessian"], expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    ("expr", "x", "value", "d1", "d2"),
    [
        ("exp(x)", 0.0, 1.0, 1.0, 1.0),
        ("log(x)", 2.0, math.log(2), 0.5, -0.25),
        ("sqrt(x)", 4.0, 2.0, 0.25, -1 / 32),
        ("1/x", 2.0, 0.5, -0.25, 0.25),
        ("arctan(x)", 1.0, math.pi / 4, 0.5, -0.5),
        ("tanh(x)", 0.0, 0.0, 1.0, 0.0),
        ("cbrt(x)", 8.0, 2.0, 1 / 12, -1 / 144),
        ("exp2(x)", 3.0, 8.0, 8 * math.log(2), 8 * math.log(2) ** 2),
        ("log10(x)", 100.0, 2.0, 1 / (100 * math.log(10)), -1 / (1e4 * math.log(10))),
        ("erf(x)", 0.0, 0.0, 2 / math.sqrt(math.pi), 0.0),
        ("arctan2(x, 1)", 1.0, math.pi / 4, 0.5, -0.5),
        ("maximum(x, 3) + minimum(x, 3)", 1.0, 4.0, 1.0, 0.0),
        ("abs(x)", -2.0, 2.0, -1.0, 0.0),
        ("-x**2 + +x", 3.0, -6.0, -5.0, -2.0),
        ("2**x", 3.0, 8.0, 8 * math.log(2), 8 * math.log(2) ** 2),
        ("x**x", 2.0, 4.0, 4 * (math.log(2) + 1), 4 * (math.log(2) + 1) ** 2 + 2),
        ("sin(pi*x) + e", 0.5, 1.0 + math.e, 0.0, -math.pi**2),
    ],
)
def test_closed_forms(capsys, expr, x, value, d1, d2):
    data = run_json(capsys, expr, "--at", f"x={x!r}")
    np.testing.assert_allclose(data["value"], value, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(data["derivative"], d1, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(data["second_derivative"], d2, rtol=1e-12, atol=1e-15)


def test_point_values_may_be_constant_expressions(capsys):
    data = run_json(capsys, "sin(x)", "--at", "x=pi/4")
    assert_close_ulps(data["point"]["x"], math.pi / 4)
    np.testing.assert_allclose(data["derivative"], math.sqrt(0.5), rtol=1e-12)


def test_expression_after_at(capsys):
    code, out, _ = run(capsys, "--at", "x=2", "x**3")
    assert code == 0
    assert line_value(out, "f'(x)") == 12.0


def test_leading_minus_after_double_dash(capsys):
    code, out, _ = run(capsys, "--at", "x=3", "--", "-x**2")
    assert code == 0
    assert line_value(out, "f'(x)") == -6.0


def test_constant_expression_without_variables(capsys):
    data = run_json(capsys, "2*pi")
    assert data["variables"] == [] and data["gradient"] == [] and data["hessian"] == []
    assert_close_ulps(data["value"], 2 * math.pi)


def test_unused_variable_gets_zero_derivative_and_warning(capsys):
    code, out, err = run(capsys, "x**2", "--at", "x=3", "z=1")
    assert code == 0
    assert "'z' does not appear" in err
    assert line_value(out, "df/dz") == 0.0


def test_domain_error_gives_nan_and_exit_0(capsys):
    code, out, err = run(capsys, "log(x)", "--at", "x=-1")
    assert code == 0
    assert math.isnan(line_value(out, "f(x)"))
    assert "warning" in err and "invalid value" in err
    data = run_json(capsys, "log(x)", "--at", "x=-1")
    assert data["value"] == "nan"
    assert data["warnings"]


def test_overflow_is_inf_not_a_crash(capsys):
    data = run_json(capsys, "exp(x) * x**1000", "--at", "x=1000")
    assert data["value"] == "inf"
    assert any("overflow" in w for w in data["warnings"])


def test_no_arguments_shows_worked_example(capsys):
    code, out, err = run(capsys)
    assert code == 0, err
    assert "worked example" in out
    assert cli.DEFAULT_EXPRESSION in out
    assert "f''(x) = 44.0" in out and "f'(x)  = 24.0" in out
    assert "hyper-dual" in out  # it explains where the numbers come from


def test_default_expression_with_json(capsys):
    data = run_json(capsys)
    assert (data["value"], data["derivative"], data["second_derivative"]) == (8.0, 24.0, 44.0)


def test_help_lists_whitelisted_functions(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for name in cli.FUNCTIONS:
        assert name in out
    assert "--check" in out and "--json" in out and "--at" in out


# ---------------------------------------------------------------------- check ---
def test_check_text(capsys):
    code, out, err = run(capsys, "x**4 - 2*x**2", "--at", "x=2", "--check")
    assert code == 0, err
    assert "central differences" in out
    assert "reverse mode" in out
    assert "diff" in out
    assert "agrees" in out


def test_check_json_differences_are_small(capsys):
    data = run_json(capsys, "sin(x)*exp(y)", "--at", "x=1", "y=2", "--check")
    central = data["check"]["central_differences"]
    assert central["available"] is True
    assert central["agree"] is True
    assert central["max_abs_diff_gradient"] < 1e-6
    assert central["max_abs_diff_hessian"] < 1e-3
    np.testing.assert_allclose(central["gradient"], data["gradient"], rtol=1e-6)
    rev = data["check"]["reverse"]
    if rev["available"]:
        np.testing.assert_allclose(rev["gradient"], data["gradient"], rtol=1e-10)
        np.testing.assert_allclose(rev["hessian"], data["hessian"], rtol=1e-10)
        assert rev["agree"] is True
    else:
        assert rev["reason"]


def test_check_says_when_reverse_is_unavailable(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "reverse", None)  # makes `import reverse` fail
    code, out, _ = run(capsys, "x**2", "--at", "x=3", "--check")
    assert code == 0
    assert "reverse mode: unavailable" in out
    assert "central differences" in out


def test_check_reports_failing_reverse_mode(capsys, monkeypatch):
    def broken(f, x):
        raise TypeError("not finished")

    fake = types.SimpleNamespace(gradient=broken, hessian=broken)
    monkeypatch.setitem(sys.modules, "reverse", fake)
    data = run_json(capsys, "x**2", "--at", "x=3", "--check")
    assert data["check"]["reverse"]["available"] is False
    assert "not finished" in data["check"]["reverse"]["reason"]


def test_check_flags_disagreement(capsys, monkeypatch):
    fake = types.SimpleNamespace(
        gradient=lambda f, x: np.array([7.0]), hessian=lambda f, x: np.array([[2.0]])
    )
    monkeypatch.setitem(sys.modules, "reverse", fake)
    code, out, _ = run(capsys, "x**2", "--at", "x=3", "--check")
    assert code == 0  # the check is informational
    assert "DISAGREES" in out
    assert "diff 1.00e+00" in out


# -------------------------------------------------------------- hostile input ---
HOSTILE = {
    "__import__('os').system('echo hi')": "attribute",
    "__import__('os')": "__import__",
    "x.__class__": "attribute",
    "().__class__.__bases__": "attribute",
    "open('f')": "open",
    "lambda: 1": "lambda",
    "[x for x in ()]": "comprehension",
    "(x for x in ())": "generator",
    "x[0]": "subscript",
    "'a'": "string",
    "b'a'": "bytes",
    "9**9**9": "power tower",
    "x**100000": "exponent",
    "x**-100000": "exponent",
    "1j": "complex",
    "foo(x)": "foo",
    "sin(x, x)": "exactly 1 argument",
    "arctan2(x)": "exactly 2 arguments",
    "sin(x=1)": "keyword",
    "sin(*x)": "starred",
    "sin": "function name",
    "import os": "import",
    "x = 1": "assignment",
    "x < 1": "comparison",
    "x and 1": "boolean",
    "not x": "not",
    "x if x else 1": "conditional",
    "(y := 1)": ":=",
    "f'{x}'": "f-string",
    "x % 2": "%",
    "x // 2": "//",
    "x @ x": "@",
    "~x": "~",
    "True": "boolean",
    "None": "None",
    "(1, 2)": "tuple",
    "{1: 2}": "dict",
    "__x__ + 1": "dunder",
    "(sin)(x)(x)": "call",
    "x +": "could not parse",
    "": "empty",
    "\x00": "could not parse",
    "x\ud800": "could not parse",
    "1" * 400: "too large",
}


@pytest.mark.parametrize(("expr", "fragment"), list(HOSTILE.items()), ids=repr)
def test_hostile_expression_refused(capsys, expr, fragment):
    code, out, err = run(capsys, "--at", "x=1", "--", expr)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ")
    assert fragment.lower() in err.lower()


def test_hostile_expression_is_never_evaluated(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for expr in ("__import__('os').system('touch pwned')", "open('pwned', 'w')"):
        code, _, _ = run(capsys, expr)
        assert code == 2
    assert not (tmp_path / "pwned").exists()


def test_very_long_expression_refused(capsys):
    expr = "x+" * 50_000 + "x"  # 100k characters
    code, _, err = run(capsys, "--at", "x=1", "--", expr)
    assert code == 2
    assert "characters" in err and str(cli.MAX_LENGTH) in err


def test_deeply_nested_parentheses_refused(capsys):
    expr = "(" * 500 + "x" + ")" * 500
    code, _, err = run(capsys, "--at", "x=1", "--", expr)
    assert code == 2
    assert "nested" in err


def test_deep_unary_chain_is_bounded(capsys):
    expr = "-" * (cli.MAX_DEPTH + 10) + "x"
    code, _, err = run(capsys, "--at", "x=1", "--", expr)
    assert code == 2
    assert "nested deeper" in err


def test_long_flat_sum_is_fine(capsys):
    expr = "+".join(["x"] * 900)  # deep left-leaning tree, but no recursion in evaluation
    data = run_json(capsys, "--at", "x=1", "--", expr)
    assert (data["value"], data["derivative"], data["second_derivative"]) == (900.0, 900.0, 0.0)


def test_too_many_terms_refused(monkeypatch):
    monkeypatch.setattr(cli, "MAX_LENGTH", 10**6)  # so the node limit is what trips
    with pytest.raises(ExpressionError, match="terms"):
        parse_expression("+".join(["1"] * (cli.MAX_NODES + 1)))


def test_allowed_exponents(capsys):
    data = run_json(capsys, "x**1000 + (x**2)**3 + x**(1/2)", "--at", "x=1")
    np.testing.assert_allclose(data["derivative"], 1000 + 6 + 0.5, rtol=1e-12)


def test_too_many_variables_refused(capsys):
    items = [f"v{i}=1" for i in range(cli.MAX_VARIABLES + 1)]
    code, _, err = run(capsys, "v0", "--at", *items)
    assert code == 2
    assert "variables" in err


def test_unknown_variable(capsys):
    code, _, err = run(capsys, "x + y", "--at", "x=1")
    assert code == 2
    assert "'y'" in err and "--at" in err


def test_missing_at(capsys):
    code, _, err = run(capsys, "x**2")
    assert code == 2
    assert "no value for variable 'x'" in err


@pytest.mark.parametrize(
    ("items", "fragment"),
    [
        (["x2"], "expected name=value"),
        (["x=abc"], "invalid value"),
        (["x=1", "x=2"], "twice"),
        (["1x=2"], "invalid variable name"),
        (["x-y=2"], "invalid variable name"),
        (["if=2"], "invalid variable name"),
        (["sin=2"], "function"),
        (["pi=3"], "constant"),
        (["x="], "no value"),
        (["x=1e400"], "not finite"),
        (["x=__import__('os')"], "__import__"),
        (["__class__=1"], "__"),
    ],
)
def test_invalid_at(capsys, items, fragment):
    code, out, err = run(capsys, "x", "--at", *items)
    assert code == 2
    assert out == ""
    assert fragment in err


def test_unknown_option_exits_2(capsys):
    code, _, err = run(capsys, "x", "--at", "x=1", "--frobnicate")
    assert code == 2
    assert "unrecognized arguments" in err


# --------------------------------------------------------------- the parser ---
def test_parse_expression_variables_in_order():
    expr = parse_expression("y*sin(x) + y + z**2")
    assert expr.variables == ("y", "x", "z")


def test_parse_point():
    assert parse_point(["x=1,y=-2.5", "z = pi"]) == {"x": 1.0, "y": -2.5, "z": math.pi}


def test_evaluate_uses_numpy_semantics_on_floats():
    with np.errstate(all="ignore"):
        assert parse_expression("1/x").evaluate({"x": 0.0}) == math.inf
        assert math.isnan(parse_expression("x**0.5").evaluate({"x": -1.0}))


# -------------------------------------------------------------- end to end ---
def test_python_dash_m_end_to_end():
    proc = subprocess.run(
        [sys.executable, "-m", "hyperdual", "x**2", "--at", "x=3"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "f(x)   = 9.0" in proc.stdout
    assert "f'(x)  = 6.0" in proc.stdout
    assert "f''(x) = 2.0" in proc.stdout


def test_python_dash_m_refusal_end_to_end():
    proc = subprocess.run(
        [sys.executable, "-m", "hyperdual", "__import__('os').system('echo hi')"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 2
    assert "hi" not in proc.stdout
    assert "refused" in proc.stderr


# ------------------------------------------------------------------ fuzzing ---
def call(argv: list[str]) -> tuple[int, str, str]:
    """Run main with fresh buffers (capsys is not reset between hypothesis examples)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _check_outcome(code: int, out: str, err: str) -> None:
    assert code in (0, 2), (code, err)
    if code == 0:
        assert out
    else:
        assert "error" in err and out == ""


TOKENS = [
    "x", "y", "1", "2.5", "1e3", "0", "pi", "e", "+", "-", "*", "/", "**", "(", ")", ",",
    " ", "sin(", "log(", "sqrt(", "arctan2(", "hypot(", "abs(", "exp(", "maximum(",
    ".", "[", "]", "'", "__", "import", "lambda", ":", "=", "j", "foo(", "%", "<",
]


@settings(max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_fuzz_random_text(text):
    code, out, err = call(["--at", "x=0.5", "y=1.5", "--", text])
    _check_outcome(code, out, err)


@settings(max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=30).map("".join))
def test_fuzz_token_soup(text):
    code, out, err = call(["--at", "x=0.5", "y=1.5", "--json", "--", text])
    _check_outcome(code, out, err)
    if code == 0:
        json.loads(out)


@st.composite
def expressions(draw, depth: int = 0) -> str:
    leaves = st.sampled_from(["x", "y", "2", "0.5", "3", "pi", "0", "1e3"])
    if depth > 4 or draw(st.booleans()):
        return draw(leaves)
    kind = draw(st.sampled_from(["bin", "un", "call1", "call2"]))
    if kind == "bin":
        op = draw(st.sampled_from(["+", "-", "*", "/", "**"]))
        a = draw(expressions(depth + 1))
        b = draw(leaves) if op == "**" else draw(expressions(depth + 1))
        return f"({a}){op}({b})"
    if kind == "un":
        return f"-({draw(expressions(depth + 1))})"
    if kind == "call1":
        name = draw(st.sampled_from(list(cli.UNARY_FUNCTIONS)))
        return f"{name}({draw(expressions(depth + 1))})"
    name = draw(st.sampled_from(list(cli.BINARY_FUNCTIONS)))
    return f"{name}({draw(expressions(depth + 1))}, {draw(expressions(depth + 1))})"


@settings(max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(expressions())
def test_fuzz_valid_expressions_evaluate(text):
    code, out, err = call(["--at", "x=0.5", "y=1.5", "--json", "--", text])
    assert code == 0, err
    data = json.loads(out)
    assert len(data["gradient"]) == 2
    assert len(data["hessian"]) == 2
