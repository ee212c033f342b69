"""A derivative calculator on the command line: ``python -m hyperdual``.

Give an expression in plain math notation and a point; the calculator prints
the value and the exact first and second derivatives (forward mode, dual and
hyper-dual numbers: no step size, no truncation error).  With several
variables it prints the gradient and the Hessian.

Example (shell)::

    $ python -m hyperdual "x**4 - 2*x**2" --at x=2
    f(x) = x**4 - 2*x**2
    at x = 2.0

    f(x)   = 8.0
    f'(x)  = 24.0
    f''(x) = 44.0

``--check`` compares with reverse mode (when available) and with central
differences; ``--json`` prints machine-readable output; ``--help`` lists the
allowed functions.  From Python, call :func:`main` with an argument list:

>>> from hyperdual.cli import main
>>> main(["x**2", "--at", "x=3"])  # doctest: +ELLIPSIS
f(x) = x**2
at x = 3.0
...
f'(x)  = 6.0
f''(x) = 2.0
0

Safety
------
The expression is parsed with :mod:`ast` and evaluated by walking a whitelist
of node types (numbers, variable names, ``+ - * / **``, unary ``+ -`` and
calls of the functions in :data:`FUNCTIONS`).  Everything else is refused
before anything is evaluated, with exit code 2; ``eval``/``exec``/``compile``
are never called on user text.  Length, node count, nesting depth and literal
exponents are bounded so that no input can hang the calculator.
"""

from __future__ import annotations

import argparse
import ast
import json
import keyword
import math
import sys
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import hyperdual as hd

from ._version import __version__

__all__ = [
    "main",
    "parse_expression",
    "parse_point",
    "Expression",
    "ExpressionError",
    "FUNCTIONS",
    "CONSTANTS",
    "DEFAULT_EXPRESSION",
    "DEFAULT_POINT",
]

#: Functions of one argument allowed in expressions, mapped to hyperdual's
#: elementary functions (which accept floats, Duals, HyperDuals and arrays).
UNARY_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    name: getattr(hd, name)
    for name in (
        "sin", "cos", "tan", "arcsin", "arccos", "arctan",
        "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh",
        "exp", "expm1", "exp2", "log", "log1p", "log2", "log10",
        "sqrt", "cbrt", "abs", "erf",
    )
}
#: Functions of exactly two arguments allowed in expressions.
BINARY_FUNCTIONS: dict[str, Callable[[Any, Any], Any]] = {
    name: getattr(hd, name) for name in ("arctan2", "hypot", "maximum", "minimum")
}
#: Every callable name with its number of arguments.
FUNCTIONS: dict[str, int] = {
    **{name: 1 for name in UNARY_FUNCTIONS},
    **{name: 2 for name in BINARY_FUNCTIONS},
}
#: Named constants.
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

DEFAULT_EXPRESSION = "x**4 - 2*x**2"
DEFAULT_POINT = ("x=2",)

#: Limits that keep every input cheap to parse and evaluate.
MAX_LENGTH = 2000
MAX_NODES = 2000
MAX_DEPTH = 500
MAX_EXPONENT = 1000.0
MAX_VARIABLES = 32  # the Hessian and its --check cost grow with the square of this

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_REFUSED = 2

_ALLOWED_BINOPS: dict[type, str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
}
_ALLOWED_UNARYOPS: dict[type, str] = {ast.UAdd: "+", ast.USub: "-"}

# Friendly names of refused constructs (anything not listed falls back to the class name).
_REFUSED_NAMES: dict[type, str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscript/indexing",
    ast.Slice: "slice",
    ast.Lambda: "lambda",
    ast.ListComp: "list comprehension",
    ast.SetComp: "set comprehension",
    ast.DictComp: "dict comprehension",
    ast.GeneratorExp: "generator expression",
    ast.Compare: "comparison",
    ast.BoolOp: "boolean operator (and/or)",
    ast.NamedExpr: "assignment expression (:=)",
    ast.JoinedStr: "f-string",
    ast.FormattedValue: "f-string",
    ast.IfExp: "conditional expression (if/else)",
    ast.Tuple: "tuple",
    ast.List: "list",
    ast.Dict: "dict",
    ast.Set: "set",
    ast.Starred: "starred argument (*args)",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield from",
    ast.keyword: "keyword argument",
}
_OPERATOR_SYMBOLS: dict[type, str] = {
    ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
    ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&", ast.Invert: "~", ast.Not: "not",
}
_STATEMENT_NAMES: dict[type, str] = {
    ast.Import: "import statement",
    ast.ImportFrom: "import statement",
    ast.Assign: "assignment",
    ast.AugAssign: "assignment",
    ast.AnnAssign: "assignment",
    ast.FunctionDef: "function definition",
    ast.AsyncFunctionDef: "function definition",
    ast.ClassDef: "class definition",
    ast.Delete: "del statement",
    ast.For: "for loop",
    ast.While: "while loop",
    ast.If: "if statement",
    ast.With: "with statement",
    ast.Try: "try statement",
    ast.Raise: "raise statement",
    ast.Global: "global statement",
    ast.Nonlocal: "nonlocal statement",
    ast.Assert: "assert statement",
    ast.Return: "return statement",
    ast.Pass: "pass statement",
}


class ExpressionError(ValueError):
    """An expression or a point was refused; the message says what and why.

    A ``ValueError``; the command line prints its message and exits with 2.

    Examples
    --------
    >>> try:
    ...     parse_expression("__import__('os')")
    ... except ExpressionError as err:
    ...     print(err)  # doctest: +ELLIPSIS
    refused call of unknown function '__import__': allowed functions are sin, cos, ...
    """


class _UsageError(Exception):
    """Raised by the argument parser instead of exiting the process."""


# ------------------------------------------------------------------ parsing ---
def _snippet(text: str, limit: int = 60) -> str:
    """``repr`` of ``text`` (escapes control characters), shortened to ``limit``."""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return repr(text)


def _source(node: ast.AST, source: str) -> str:
    seg = ast.get_source_segment(source, node)
    return _snippet(seg if seg is not None else type(node).__name__)


def _normalize_name(name: str) -> str:
    # Python identifiers are NFKC-normalised by the parser; do the same for --at.
    return unicodedata.normalize("NFKC", name)


def _strip_unary(node: ast.AST) -> ast.AST:
    while isinstance(node, ast.UnaryOp) and type(node.op) in _ALLOWED_UNARYOPS:
        node = node.operand
    return node


def _literal_value(node: ast.AST) -> float | None:
    """The value of a (signed) numeric literal, else None."""
    sign = 1.0
    while isinstance(node, ast.UnaryOp) and type(node.op) in _ALLOWED_UNARYOPS:
        if isinstance(node.op, ast.USub):
            sign = -sign
        node = node.operand
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        try:
            return sign * float(node.value)
        except OverflowError:
            return math.inf
    return None


def _refuse_node(node: ast.AST, source: str) -> ExpressionError:
    t = type(node)
    where = _source(node, source)
    if isinstance(node, ast.Constant):
        v = node.value
        kind = {
            str: "string literal", bytes: "bytes literal", complex: "complex number literal",
            bool: "boolean literal", type(None): "None", type(...): "Ellipsis",
        }.get(type(v), f"{type(v).__name__} literal")
        return ExpressionError(f"refused {kind} {where}: only real numbers are allowed")
    if t in _OPERATOR_SYMBOLS:
        return ExpressionError(
            f"refused operator {_OPERATOR_SYMBOLS[t]!r}: allowed operators are "
            "+ - * / ** and unary + -"
        )
    name = _REFUSED_NAMES.get(t, f"{t.__name__} node")
    return ExpressionError(f"refused {name} {where}: it is not allowed in expressions")


@dataclass(frozen=True)
class Expression:
    """A validated expression, compiled to a postfix program for a stack machine.

    Build one with :func:`parse_expression`; call :meth:`evaluate` with a
    mapping from variable names to numbers (floats, Duals, HyperDuals or any
    object with numpy's protocols, e.g. a ``reverse.Variable``).

    Parameters
    ----------
    source : str
        The expression as written (stripped).
    variables : tuple of str
        Its free variables, in order of first appearance.
    program : tuple of (str, object)
        The postfix program (operation, argument) run by :meth:`evaluate`.

    Examples
    --------
    >>> expr = parse_expression("x**2 * y")
    >>> expr
    Expression(source='x**2 * y', variables=('x', 'y'))
    >>> expr.evaluate({"x": 3.0, "y": 2.0})
    18.0
    """

    source: str
    variables: tuple[str, ...]  # free variables in order of first appearance
    program: tuple[tuple[str, Any], ...] = field(repr=False)

    def evaluate(self, env: dict[str, Any]) -> Any:
        """Evaluate on the values in ``env`` (iteratively: no recursion).

        Parameters
        ----------
        env : dict of str to number
            A value for each name in :attr:`variables`: floats, Duals,
            HyperDuals, Variables.

        Returns
        -------
        number
            The expression's value, of the type the values give (a Dual
            carries the derivative).

        Examples
        --------
        d/dx (x**2 y) = 2 x y = 12 at (3, 2):

        >>> from hyperdual import Dual
        >>> parse_expression("x**2 * y").evaluate({"x": Dual(3.0, 1.0), "y": 2.0})
        Dual(18.0, 12.0)
        """
        stack: list[Any] = []
        push, pop = stack.append, stack.pop
        for op, arg in self.program:
            if op == "const":
                push(arg)
            elif op == "var":
                push(env[arg])
            elif op == "neg":
                x = pop()
                push(-x)
            elif op == "call1":
                push(UNARY_FUNCTIONS[arg](pop()))
            elif op == "call2":
                b = pop()
                push(BINARY_FUNCTIONS[arg](pop(), b))
            else:  # binary operator
                b = pop()
                push(_arith(op, pop(), b))
        return stack[-1]


def _is_plain(x: Any) -> bool:
    return type(x) in (float, int) or isinstance(x, np.floating)


def _arith(op: str, a: Any, b: Any) -> Any:
    """``a op b``; on plain numbers with numpy's float semantics (inf/nan + warning)."""
    if _is_plain(a) and _is_plain(b):
        x, y = np.float64(a), np.float64(b)
        if op == "+":
            r = x + y
        elif op == "-":
            r = x - y
        elif op == "*":
            r = x * y
        elif op == "/":
            r = x / y
        else:
            r = x**y
        return float(r)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b
    return a**b


def _check_node(node: ast.AST, source: str) -> None:
    """Refuse ``node`` unless it is one of the whitelisted forms."""
    if isinstance(node, ast.Expression):
        return
    if isinstance(node, ast.Constant):
        if type(node.value) not in (int, float):
            raise _refuse_node(node, source)
        if type(node.value) is int:
            try:
                float(node.value)
            except OverflowError:
                raise ExpressionError(
                    f"refused number literal {_source(node, source)}: too large for a float"
                ) from None
        return
    if isinstance(node, ast.Name):
        name = node.id
        if "__" in name:
            raise ExpressionError(f"refused dunder name {name!r}: names may not contain '__'")
        if name in FUNCTIONS:
            raise ExpressionError(
                f"refused bare function name {name!r}: call it, e.g. {name}(x)"
            )
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _ALLOWED_BINOPS:
            raise _refuse_node(node.op, source)
        if isinstance(node.op, ast.Pow):
            exponent = _literal_value(node.right)
            if exponent is not None and abs(exponent) > MAX_EXPONENT:
                raise ExpressionError(
                    f"refused huge exponent in {_source(node, source)}: literal exponents "
                    f"must be at most {MAX_EXPONENT:g} in magnitude"
                )
            for sub in ast.walk(_strip_unary(node.right)):
                if isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.Pow):
                    raise ExpressionError(
                        f"refused power tower {_source(node, source)}: an exponent may not "
                        "itself contain ** (write the exponent's value instead)"
                    )
        return
    if isinstance(node, ast.UnaryOp):
        if type(node.op) not in _ALLOWED_UNARYOPS:
            raise _refuse_node(node.op, source)
        return
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute):
            raise ExpressionError(
                f"refused attribute access {_source(func, source)}: only plain function "
                "names may be called"
            )
        if not isinstance(func, ast.Name):
            raise ExpressionError(
                f"refused call of {_source(func, source)}: only the allowed function names "
                "may be called"
            )
        if func.id not in FUNCTIONS:
            raise ExpressionError(
                f"refused call of unknown function {func.id!r}: allowed functions are "
                + ", ".join(FUNCTIONS)
            )
        if node.keywords:
            raise ExpressionError(
                f"refused keyword argument in {_source(node, source)}: "
                "pass arguments by position"
            )
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise _refuse_node(arg, source)
        want = FUNCTIONS[func.id]
        if len(node.args) != want:
            plural = "argument" if want == 1 else "arguments"
            raise ExpressionError(
                f"{func.id}() takes exactly {want} {plural}, got {len(node.args)} "
                f"in {_source(node, source)}"
            )
        return
    raise _refuse_node(node, source)


def _syntax_message(text: str, err: SyntaxError) -> str:
    """Explain a parse failure; name the statement if the text is a statement."""
    try:
        module = ast.parse(text, mode="exec")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        module = None
    if module is not None and module.body:
        stmt = module.body[0]
        if not isinstance(stmt, ast.Expr):
            kind = _STATEMENT_NAMES.get(type(stmt), f"{type(stmt).__name__} statement")
            return f"refused {kind}: give a single expression, e.g. {DEFAULT_EXPRESSION!r}"
    detail = err.msg or "invalid syntax"
    pos = f" at column {err.offset}" if err.offset else ""
    return f"could not parse the expression{pos}: {detail}"


def parse_expression(text: str) -> Expression:
    """Validate ``text`` against the whitelist and compile it.

    Parameters
    ----------
    text : str
        The expression: numbers, names, ``+ - * / **``, parentheses and calls
        of the whitelisted functions (see ``python -m hyperdual --help``).

    Returns
    -------
    Expression
        The compiled expression, ready to evaluate.

    Raises
    ------
    ExpressionError
        With a message naming what was refused.  Nothing is ever evaluated
        before the whole expression has passed.

    Examples
    --------
    >>> parse_expression("sin(x)*exp(y)").variables
    ('x', 'y')
    >>> parse_expression("x.__class__")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hyperdual.cli.ExpressionError: refused attribute access 'x.__class__': ...
    """
    if not isinstance(text, str):
        raise ExpressionError(f"the expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"refused expression of {len(text)} characters: the limit is {MAX_LENGTH}"
        )
    if not text.strip():
        raise ExpressionError("the expression is empty")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise ExpressionError(_syntax_message(text.strip(), err)) from None
    except (ValueError, MemoryError, RecursionError) as err:  # null bytes, surrogates, ...
        raise ExpressionError(f"could not parse the expression: {err}") from None
    source = text.strip()

    # Pass 1 (iterative): whitelist every node, bound size and depth.
    count = 0
    todo: list[tuple[ast.AST, int]] = [(tree, 0)]
    while todo:
        node, depth = todo.pop()
        if isinstance(node, (ast.expr_context, ast.operator, ast.unaryop)):
            continue  # contexts and operators are checked with their BinOp/UnaryOp
        count += 1
        if count > MAX_NODES:
            raise ExpressionError(f"refused expression: more than {MAX_NODES} terms")
        if depth > MAX_DEPTH:
            raise ExpressionError(f"refused expression: nested deeper than {MAX_DEPTH} levels")
        _check_node(node, source)
        if isinstance(node, ast.Call):
            children: list[ast.AST] = list(node.args)  # the function name is checked above
        else:
            children = list(ast.iter_child_nodes(node))
        for child in reversed(children):  # pre-order, left to right: first problem reported
            # A left operand continues a flat chain (a + b + c + ...): no deeper nesting.
            flat = isinstance(node, ast.BinOp) and child is node.left
            todo.append((child, depth if flat else depth + 1))

    # Pass 2 (iterative): compile to postfix.
    program: list[tuple[str, Any]] = []
    variables: list[str] = []
    work: list[tuple[ast.AST, bool]] = [(tree.body, False)]
    while work:
        node, expanded = work.pop()
        if isinstance(node, ast.Constant):
            program.append(("const", float(node.value)))
        elif isinstance(node, ast.Name):
            if node.id in CONSTANTS:
                program.append(("const", CONSTANTS[node.id]))
            else:
                program.append(("var", node.id))
                if node.id not in variables:
                    variables.append(node.id)
        elif expanded:
            if isinstance(node, ast.BinOp):
                program.append((_ALLOWED_BINOPS[type(node.op)], None))
            elif isinstance(node, ast.UnaryOp):
                if isinstance(node.op, ast.USub):
                    program.append(("neg", None))
            else:
                assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                kind = "call1" if FUNCTIONS[node.func.id] == 1 else "call2"
                program.append((kind, node.func.id))
        else:
            work.append((node, True))
            if isinstance(node, ast.BinOp):
                operands = [node.left, node.right]
            elif isinstance(node, ast.UnaryOp):
                operands = [node.operand]
            else:
                operands = list(node.args)  # type: ignore[attr-defined]
            for sub in reversed(operands):
                work.append((sub, False))
    return Expression(source=source, variables=tuple(variables), program=tuple(program))


def parse_point(items: Sequence[str]) -> dict[str, float]:
    """Parse ``name=value`` items; values are constant expressions (``2``, ``pi/4``).

    Parameters
    ----------
    items : sequence of str
        The ``--at`` arguments; an item may hold several comma-separated pairs.

    Returns
    -------
    dict of str to float
        Variable name to value, in the order given.

    Raises
    ------
    ExpressionError
        For a malformed pair, a name that is a function or a constant, a
        repeated name, or a value that is not a constant expression.

    Examples
    --------
    >>> parse_point(["x=1", "y=-2.5"])
    {'x': 1.0, 'y': -2.5}
    """
    point: dict[str, float] = {}
    for item in items:
        for part in item.split(","):
            part = part.strip()
            if not part:
                continue
            if "=" not in part:
                raise ExpressionError(
                    f"invalid --at item {_snippet(part)}: expected name=value, e.g. x=2"
                )
            raw_name, raw_value = part.split("=", 1)
            name = _normalize_name(raw_name.strip())
            if not name.isidentifier() or keyword.iskeyword(name):
                raise ExpressionError(
                    f"invalid variable name {_snippet(raw_name.strip())} in --at: "
                    "use a name like x, y or x1"
                )
            if "__" in name:
                raise ExpressionError(f"invalid variable name {name!r}: names may not contain '__'")
            if name in FUNCTIONS or name in CONSTANTS:
                what = "a function" if name in FUNCTIONS else "a constant"
                raise ExpressionError(f"invalid variable name {name!r}: it is {what}")
            if name in point:
                raise ExpressionError(f"variable {name!r} is given twice in --at")
            value = _constant_value(raw_value.strip(), name)
            point[name] = value
    return point


def _constant_value(text: str, name: str) -> float:
    if not text:
        raise ExpressionError(f"no value given for {name!r} in --at (write {name}=2)")
    try:
        expr = parse_expression(text)
    except ExpressionError as err:
        raise ExpressionError(f"invalid value for {name!r} in --at: {err}") from None
    if expr.variables:
        raise ExpressionError(
            f"invalid value {_snippet(text)} for {name!r} in --at: expected a number "
            f"(or a constant expression like pi/4), found name {expr.variables[0]!r}"
        )
    with np.errstate(all="ignore"):
        value = float(expr.evaluate({}))
    if not math.isfinite(value):
        raise ExpressionError(f"invalid value for {name!r} in --at: {value} is not finite")
    return value


# ---------------------------------------------------------------- computing ---
@dataclass
class _Result:
    names: list[str]
    point: list[float]
    value: float
    gradient: np.ndarray
    hessian: np.ndarray
    warnings: list[str]
    check: dict[str, Any] | None = None


class _Warnings:
    """Collect numpy/hyperdual warnings as messages (deduplicated, in order)."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        if message not in self.messages:
            self.messages.append(message)

    def run(self, what: str, fn: Callable[[], Any], shape: tuple[int, ...]) -> Any:
        """``fn()`` with warnings recorded; arithmetic errors become nan plus a warning."""
        with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn"):
            warnings.simplefilter("always")
            try:
                out = fn()
            except (ArithmeticError, ValueError) as err:
                self.add(f"{what}: {type(err).__name__}: {err}; reported as nan")
                out = np.full(shape, np.nan)
        for w in caught:
            self.add(f"{what}: {w.message}")
        arr = np.asarray(out)
        if np.iscomplexobj(arr):
            self.add(f"{what}: a complex intermediate result (e.g. a negative base to a "
                     "fractional power); reported as nan")
            arr = np.where(arr.imag != 0, np.nan, arr.real)
        return np.asarray(arr, dtype=float).reshape(shape)


def _compute(expr: Expression, point: dict[str, float]) -> _Result:
    names = list(point)
    x0 = np.array([point[n] for n in names], dtype=float)
    n = len(names)
    log = _Warnings()
    for name in names:
        if name not in expr.variables:
            log.add(f"variable {name!r} does not appear in the expression (its derivative is 0)")

    def f_vec(v: Any) -> Any:
        return expr.evaluate({name: v[i] for i, name in enumerate(names)})

    value = float(log.run("value", lambda: expr.evaluate(dict(point)), ()))
    if n == 0:
        grad, hess = np.zeros(0), np.zeros((0, 0))
    elif n == 1:
        name = names[0]

        def f1(t: Any) -> Any:
            return expr.evaluate({name: t})

        grad = log.run("first derivative", lambda: hd.derivative(f1, float(x0[0])), (1,))
        hess = log.run(
            "second derivative", lambda: hd.second_derivative(f1, float(x0[0])), (1, 1)
        )
    else:
        grad = log.run("gradient", lambda: hd.gradient(f_vec, x0), (n,))
        hess = log.run("hessian", lambda: hd.hessian(f_vec, x0), (n, n))
    return _Result(names, [float(v) for v in x0], value, grad, hess, log.messages)


def _plain_f(expr: Expression, names: list[str]) -> Callable[[np.ndarray], float]:
    def f(v: np.ndarray) -> float:
        return float(expr.evaluate({name: float(v[i]) for i, name in enumerate(names)}))

    return f


def _central_differences(f: Callable[[np.ndarray], float], x0: np.ndarray):
    """Gradient and Hessian of ``f`` by central differences (steps scaled to x)."""
    n = x0.size
    eps = np.finfo(float).eps
    h1 = eps ** (1 / 3) * np.maximum(1.0, np.abs(x0))
    h2 = eps ** (1 / 4) * np.maximum(1.0, np.abs(x0))
    grad = np.empty(n)
    hess = np.empty((n, n))
    f0 = f(x0)
    for i in range(n):
        e = np.zeros(n)
        e[i] = h1[i]
        grad[i] = (f(x0 + e) - f(x0 - e)) / (2 * h1[i])
        e[i] = h2[i]
        hess[i, i] = (f(x0 + e) - 2 * f0 + f(x0 - e)) / h2[i] ** 2
        for j in range(i):
            ei = np.zeros(n)
            ej = np.zeros(n)
            ei[i], ej[j] = h2[i], h2[j]
            hess[i, j] = hess[j, i] = (
                f(x0 + ei + ej) - f(x0 + ei - ej) - f(x0 - ei + ej) + f(x0 - ei - ej)
            ) / (4 * h2[i] * h2[j])
    return grad, hess, float(h1.max()), float(h2.max())


#: Tolerances of the --check verdict: |other - exact| <= rtol * max(1, |exact|).
CHECK_RTOL = {"reverse": (1e-10, 1e-10), "central": (1e-6, 1e-4)}


def _compare(kind: str, exact: _Result, grad: np.ndarray, hess: np.ndarray) -> dict[str, Any]:
    with np.errstate(invalid="ignore"):  # inf - inf: the verdict below says "not finite"
        dg = np.asarray(grad, dtype=float).reshape(exact.gradient.shape) - exact.gradient
        dh = np.asarray(hess, dtype=float).reshape(exact.hessian.shape) - exact.hessian
    rg, rh = CHECK_RTOL[kind]
    scale_g = np.maximum(1.0, np.abs(exact.gradient))
    scale_h = np.maximum(1.0, np.abs(exact.hessian))
    finite = bool(np.all(np.isfinite(exact.gradient)) and np.all(np.isfinite(exact.hessian)))
    agree = bool(
        finite
        and np.all(np.abs(dg) <= rg * scale_g)
        and np.all(np.abs(dh) <= rh * scale_h)
    )
    return {
        "available": True,
        "gradient": np.asarray(grad, dtype=float).reshape(exact.gradient.shape),
        "hessian": np.asarray(hess, dtype=float).reshape(exact.hessian.shape),
        "gradient_diff": dg,
        "hessian_diff": dh,
        "max_abs_diff_gradient": float(np.max(np.abs(dg))) if dg.size else 0.0,
        "max_abs_diff_hessian": float(np.max(np.abs(dh))) if dh.size else 0.0,
        "rtol": [rg, rh],
        "agree": agree if finite else None,
    }


def _reverse_check(expr: Expression, exact: _Result) -> dict[str, Any]:
    try:
        import reverse  # optional, imported on demand
    except Exception as err:  # any import failure means "unavailable"
        return {"available": False, "reason": f"import reverse failed: {err}"}
    if not (callable(getattr(reverse, "gradient", None))
            and callable(getattr(reverse, "hessian", None))):
        return {"available": False, "reason": "reverse has no gradient()/hessian() yet"}
    names = exact.names
    x0 = np.array(exact.point, dtype=float)

    def f(v: Any) -> Any:
        return expr.evaluate({name: v[i] for i, name in enumerate(names)})

    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            grad = reverse.gradient(f, x0)
            hess = reverse.hessian(f, x0)
        grad = np.asarray(getattr(grad, "data", grad), dtype=float)
        hess = np.asarray(getattr(hess, "data", hess), dtype=float)
        return _compare("reverse", exact, grad, hess)
    except Exception as err:  # report, do not crash: the check is informational
        return {"available": False, "reason": f"reverse mode failed: {type(err).__name__}: {err}"}


def _check(expr: Expression, exact: _Result) -> dict[str, Any]:
    x0 = np.array(exact.point, dtype=float)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        grad, hess, h1, h2 = _central_differences(_plain_f(expr, exact.names), x0)
    central = _compare("central", exact, grad, hess)
    central["step_gradient"] = h1
    central["step_hessian"] = h2
    return {"reverse": _reverse_check(expr, exact), "central_differences": central}


# ----------------------------------------------------------------- printing ---
def _fmt(v: float) -> str:
    return repr(float(v))


def _fmt_diff(v: float) -> str:
    return f"{float(v):.2e}"


def _text(expr: Expression, res: _Result) -> str:
    lines = []
    names = res.names
    lines.append(f"f({', '.join(names)}) = {expr.source}")
    if names:
        lines.append("at " + ", ".join(f"{n} = {_fmt(v)}" for n, v in zip(names, res.point)))
    lines.append("")
    if len(names) == 0:
        lines.append(f"value = {_fmt(res.value)}")
    elif len(names) == 1:
        x = names[0]
        lines.append(f"f({x})   = {_fmt(res.value)}")
        lines.append(f"f'({x})  = {_fmt(res.gradient[0])}")
        lines.append(f"f''({x}) = {_fmt(res.hessian[0, 0])}")
    else:
        lines.append(f"f = {_fmt(res.value)}")
        lines.append("")
        lines.append("gradient")
        width = max(len(n) for n in names)
        for n, g in zip(names, res.gradient):
            lines.append(f"  df/d{n:<{width}} = {_fmt(g)}")
        lines.append("")
        lines.append(f"hessian (rows and columns in the order {', '.join(names)})")
        cells = [[_fmt(v) for v in row] for row in res.hessian]
        colw = [max(len(names[j]), *(len(r[j]) for r in cells)) for j in range(len(names))]
        lines.append("  " + " " * width + "  " + "  ".join(
            f"{n:>{w}}" for n, w in zip(names, colw)))
        for n, row in zip(names, cells):
            lines.append(f"  {n:<{width}}  " + "  ".join(
                f"{c:>{w}}" for c, w in zip(row, colw)))
    if res.check is not None:
        lines.append("")
        lines.extend(_check_text(res))
    return "\n".join(lines)


def _check_text(res: _Result) -> list[str]:
    single = len(res.names) == 1
    out = ["check (difference = other method - exact forward mode)"]
    assert res.check is not None
    labels = (("reverse", "reverse mode"), ("central_differences", "central differences"))
    for key, label in labels:
        c = res.check[key]
        if not c["available"]:
            out.append(f"  {label}: unavailable ({c['reason']})")
            continue
        extra = ""
        if key == "central_differences":
            extra = f" (steps {c['step_gradient']:.1e} / {c['step_hessian']:.1e})"
        if not res.names:
            out.append(f"  {label}{extra}: nothing to compare (no variables)")
            continue
        out.append(f"  {label}{extra}:")
        if single:
            out.append(f"    f'  = {_fmt(c['gradient'][0]):<24} diff "
                       f"{_fmt_diff(c['gradient_diff'][0])}")
            out.append(f"    f'' = {_fmt(c['hessian'][0, 0]):<24} diff "
                       f"{_fmt_diff(c['hessian_diff'][0, 0])}")
        else:
            out.append(f"    gradient  max |diff| = {_fmt_diff(c['max_abs_diff_gradient'])}")
            out.append(f"    hessian   max |diff| = {_fmt_diff(c['max_abs_diff_hessian'])}")
        rg, rh = c["rtol"]
        if c["agree"] is None:
            verdict = "no verdict (the exact result is not finite)"
        elif c["agree"]:
            verdict = f"agrees (rtol {rg:g} first, {rh:g} second derivatives)"
        else:
            verdict = f"DISAGREES beyond rtol {rg:g} first, {rh:g} second derivatives"
        out.append(f"    {verdict}")
    return out


def _json_number(v: float) -> float | str:
    v = float(v)
    if math.isfinite(v):
        return v
    return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")


def _json_value(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return _json_value(v.tolist())
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    if isinstance(v, dict):
        return {k: _json_value(x) for k, x in v.items()}
    if isinstance(v, (float, np.floating)):
        return _json_number(v)
    return v


def _json(expr: Expression, res: _Result) -> str:
    data: dict[str, Any] = {
        "expression": expr.source,
        "variables": res.names,
        "point": dict(zip(res.names, res.point)),
        "value": res.value,
    }
    if len(res.names) == 1:
        data["derivative"] = res.gradient[0]
        data["second_derivative"] = res.hessian[0, 0]
    data["gradient"] = res.gradient
    data["hessian"] = res.hessian
    data["warnings"] = res.warnings
    if res.check is not None:
        data["check"] = res.check
    return json.dumps(_json_value(data), indent=2)


# ---------------------------------------------------------------- the parser ---
class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


def _function_list() -> str:
    unary = ", ".join(UNARY_FUNCTIONS)
    binary = ", ".join(f"{n}(a, b)" for n in BINARY_FUNCTIONS)
    return f"  one argument:  {unary}\n  two arguments: {binary}"


def build_parser() -> argparse.ArgumentParser:
    """The ``argparse`` parser of ``python -m hyperdual`` (its help is generated)."""
    import textwrap

    functions = "\n".join(
        textwrap.fill(line, width=78, subsequent_indent=" " * 17)
        for line in _function_list().splitlines()
    )
    epilog = f"""\
expressions:
  numbers (e.g. 2, 0.5, 1e-3), variable names, + - * / ** (power),
  unary + and -, parentheses, the constants {", ".join(CONSTANTS)}, and calls of
{functions}

  Anything else is refused with exit code 2 and never evaluated: attribute
  access, indexing, other names called, keyword arguments, strings, complex
  numbers, comparisons, and/or, lambdas, comprehensions, statements.
  Limits: {MAX_LENGTH} characters, {MAX_NODES} terms, nesting depth {MAX_DEPTH},
  literal exponents up to {MAX_EXPONENT:g} in magnitude, {MAX_VARIABLES} variables, no power towers
  (an exponent containing **).  An expression starting with '-' follows
  '--', before or after the options:
    python -m hyperdual -- "-x**2" --at x=1
    python -m hyperdual --at x=1 -- "-x**2"

output:
  one variable:  value, f' and f'' (exact, from dual / hyper-dual numbers)
  several:       value, gradient and Hessian, variables in --at order
  Domain errors follow numpy (log(-1) gives nan) with a warning line on
  stderr; exit code 0.  In --json, non-finite numbers are the strings
  "nan", "inf", "-inf".

exit codes:
  0 success, 1 internal error, 2 refused expression or invalid arguments

examples:
  python -m hyperdual                      (worked example, explained)
  python -m hyperdual "x**4 - 2*x**2" --at x=2
  python -m hyperdual "sin(x)*exp(y)" --at x=1 y=2 --check
  python -m hyperdual "hypot(x, y)" --at x=3,y=4 --json
  python -m hyperdual "sin(x)" --at x=pi/4
"""
    parser = _Parser(
        prog="python -m hyperdual",
        description=textwrap.fill(
            "Exact derivatives on the command line: the value, first and second "
            "derivative (or gradient and Hessian) of an expression at a point, "
            "computed with hyper-dual numbers.", width=78
        ),
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "expression", nargs="?", default=None,
        help=f"the function, e.g. {DEFAULT_EXPRESSION!r} (default: a worked example)",
    )
    parser.add_argument(
        "--at", nargs="+", action="extend", default=None, metavar="NAME=VALUE",
        help="the point: one NAME=VALUE per variable (or comma separated); the order "
             "sets the order of gradient and Hessian; values may be constant "
             "expressions such as pi/4",
    )
    parser.add_argument(
        "--check", action="store_true",
        help="cross-validate with reverse mode (when available) and with central "
             "differences, and print the differences",
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s (exactdiff) {__version__}")
    parser.add_argument(
        "--order", type=_order_arg, default=None, metavar="K",
        help=f"one variable only: print every derivative f, f', ..., f^(K) "
             f"(Taylor mode, K <= {MAX_ORDER})",
    )
    return parser


_OPTIONS = ("--at", "--check", "--json", "--help", "-h", "--version", "--order")


def _move_options_before_dashdash(argv: list[str]) -> list[str]:
    """``-- "-x**2" --at x=1`` -> ``--at x=1 -- "-x**2"``.

    After ``--`` argparse takes everything as positional, so options written
    after the expression (as in ``python -m hyperdual -- "-x**2" --at x=1``)
    would be refused.  The first item after ``--`` is the expression; options
    that follow it are moved in front of ``--``.
    """
    if "--" not in argv:
        return argv
    i = argv.index("--")
    before, after = argv[:i], argv[i + 1:]
    if len(after) < 2 or after[1].split("=", 1)[0] not in _OPTIONS:
        return argv
    return before + after[1:] + ["--", after[0]]


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str,
                      lineno: int, file: Any = None, line: str | None = None) -> None:
    """Show a warning as ``warning: <message>``, never with Python's source path."""
    print(f"warning: {message}", file=sys.stderr)


MAX_ORDER = 100  # 100! is 9e157: within float range; cost grows as K^2


def _order_arg(text: str) -> int:
    try:
        k = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--order must be an integer, got {text!r}") from None
    if not 0 <= k <= MAX_ORDER:
        raise argparse.ArgumentTypeError(f"--order must be between 0 and {MAX_ORDER}, got {k}")
    return k


def _order_output(expr: Expression, point: dict[str, float], order: int, as_json: bool,
                  stdout: Any, stderr: Any) -> int:
    """``--order K``: all derivatives up to K of a one-variable expression (Taylor mode)."""
    if len(point) != 1:
        raise ExpressionError(
            f"--order needs exactly one variable in --at (got {len(point)}); for several "
            "variables use hyperdual.derivative_tensor from Python"
        )
    (name, x0), = point.items()
    log = _Warnings()
    d = log.run("derivatives", lambda: hd.derivatives(
        lambda t: expr.evaluate({name: t}), float(x0), order), (order + 1,))
    if as_json:
        print(json.dumps({"expression": expr.source, "at": {name: x0}, "order": order,
                          "derivatives": [_json_number(float(v)) for v in d],
                          "warnings": log.messages}), file=stdout)
    else:
        print(f"f({name}) = {expr.source}\nat {name} = {x0!r}\n", file=stdout)
        for k, v in enumerate(d):
            label = "f" if k == 0 else ("f" + "'" * k if k <= 3 else f"f^({k})")
            print(f"{label + '(' + name + ')':<10} = {_fmt(float(v))}", file=stdout)
        for message in log.messages:
            print(f"warning: {message}", file=stderr)
    return EXIT_OK


_EXAMPLE_INTRO = f"""\
hyperdual derivative calculator: a worked example
(run `python -m hyperdual --help` for usage)

f(x) = {DEFAULT_EXPRESSION} at x = 2.  By hand:
  f(x)   = x^4 - 2x^2  ->  16 - 8  =  8
  f'(x)  = 4x^3 - 4x   ->  32 - 8  = 24
  f''(x) = 12x^2 - 4   ->  48 - 4  = 44
The calculator gets the same numbers exactly (no step size) by evaluating f
once on a hyper-dual number x = 2 + e1 + e2 (e1^2 = e2^2 = 0): the result's
real part is f, its e1 part f' and its e1e2 part f''.
"""


def _run(args: argparse.Namespace, stdout: Any, stderr: Any) -> int:
    if args.expression is None and args.at and "=" not in args.at[-1]:
        # `--at x=1 "x**2"`: argparse gives the expression to --at (nargs="+").
        args.expression = args.at.pop()
    example = args.expression is None
    text = DEFAULT_EXPRESSION if example else args.expression
    at = list(args.at) if args.at is not None else (list(DEFAULT_POINT) if example else [])
    expr = parse_expression(text)
    point = parse_point(at)
    if len(point) > MAX_VARIABLES:
        raise ExpressionError(
            f"refused {len(point)} variables in --at: the limit is {MAX_VARIABLES}"
        )
    missing = [v for v in expr.variables if v not in point]
    if missing:
        hint = " ".join(f"{v}=..." for v in missing)
        raise ExpressionError(
            f"no value for variable{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(v) for v in missing)}: give {'them' if len(missing) > 1 else 'it'}"
            f" with --at {hint}"
        )
    if args.order is not None:
        return _order_output(expr, point, args.order, args.json, stdout, stderr)
    res = _compute(expr, point)
    if args.check:
        res.check = _check(expr, res)
    if args.json:
        print(_json(expr, res), file=stdout)
    else:
        if example and not args.check:
            print(_EXAMPLE_INTRO, file=stdout)
        print(_text(expr, res), file=stdout)
        for message in res.warnings:
            print(f"warning: {message}", file=stderr)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run the calculator on ``argv`` (default ``sys.argv[1:]``); return the exit code.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments without the program name.

    Returns
    -------
    int
        0 on success, 2 if the expression or the arguments were refused,
        1 on an unexpected internal error.

    Examples
    --------
    >>> main(["x**3", "--at", "x=2"])
    f(x) = x**3
    at x = 2.0
    <BLANKLINE>
    f(x)   = 8.0
    f'(x)  = 12.0
    f''(x) = 12.0
    0

    An expression starting with "-" goes after ``--``, before or after ``--at``:

    >>> main(["--", "-x**2", "--at", "x=1"])
    f(x) = -x**2
    at x = 1.0
    <BLANKLINE>
    f(x)   = -1.0
    f'(x)  = -2.0
    f''(x) = -2.0
    0
    """
    with warnings.catch_warnings():
        # any warning not already collected (e.g. from --check) is one clean line
        warnings.showwarning = _one_line_warning
        return _main(list(sys.argv[1:] if argv is None else argv))


def _main(argv: list[str]) -> int:
    stdout, stderr = sys.stdout, sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(_move_options_before_dashdash(argv))
    except _UsageError as err:
        parser.print_usage(stderr)
        print(f"error: {err}", file=stderr)
        return EXIT_REFUSED
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    try:
        return _run(args, stdout, stderr)
    except ExpressionError as err:
        print(f"error: {err}", file=stderr)
        return EXIT_REFUSED
    except BrokenPipeError:
        raise  # the reader went away (`| head`): handled by __main__
    except Exception as err:  # a bug, reported as such rather than a traceback
        print(f"internal error: {type(err).__name__}: {err}", file=stderr)
        return EXIT_ERROR
