"""Public functions document every parameter and the return value, with a doctest.

Checked for the common API of both packages (DESIGN.md's list) and the names
added for the book's readers; ``help(reverse.hvp)`` must explain f, x, v,
mode and what comes back.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import textwrap

import pytest

import hyperdual
import reverse
import reverse.datasets
import reverse.functions as F

COMMON = ["derivative", "second_derivative", "gradient", "jacobian", "hessian", "hvp",
          "value_and_gradient", "jvp", "vjp"]
TARGETS = ([(hyperdual, n) for n in COMMON] + [(reverse, n) for n in COMMON]
           + [(F, n) for n in ("accuracy", "leaky_relu", "dropout", "softmax")]
           + [(reverse.datasets, n) for n in ("get_spiral", "spiral")])


def _section(doc: str, title: str) -> str:
    m = re.search(rf"^{title}\n-+\n(.*?)(?=^\w[\w ]*\n-+\n|\Z)", doc, re.S | re.M)
    return m.group(1) if m else ""


@pytest.mark.parametrize("module,name", TARGETS,
                         ids=[f"{m.__name__}.{n}" for m, n in TARGETS])
def test_parameters_returns_and_example(module, name):
    obj = getattr(module, name, None)
    if obj is None:
        pytest.skip(f"{module.__name__}.{name} not present")
    doc = inspect.getdoc(obj) or ""
    params = _section(doc, "Parameters")
    for p in inspect.signature(obj).parameters.values():
        if p.name.startswith("_") or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        assert re.search(rf"^{re.escape(p.name)}\b|, {re.escape(p.name)}\b", params, re.M), (
            f"{module.__name__}.{name}: parameter {p.name!r} not documented")
    assert _section(doc, "Returns").strip(), f"{module.__name__}.{name}: no Returns section"
    assert ">>> " in _section(doc, "Examples"), f"{module.__name__}.{name}: no doctest"


def test_help_of_reverse_hvp_explains_everything():
    text = inspect.getdoc(reverse.hvp)
    params = _section(text, "Parameters")
    for name in ("f :", "x :", "v :", "mode :"):
        assert name in params
    assert "H(x) @ v" in _section(text, "Returns")


# ------------------------------------------------------------ every public name
# The API reference (docs/conf.py) has one page per public module: the package
# and every submodule whose dotted name has no part starting with "_".  Each
# callable those pages show, and each public method of a public class, must
# document its parameters, what it returns and carry an Examples doctest.

PACKAGES = ("hyperdual", "reverse")


def _public_modules() -> list[str]:
    names = []
    for package in PACKAGES:
        pkg = importlib.import_module(package)
        names.append(package)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=package + "."):
            parts = info.name.split(".")
            if any(p.startswith("_") for p in parts):
                continue
            names.append(info.name)
    return names


def _public_names(module) -> list[str]:
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [n for n, v in vars(module).items()
            if not n.startswith("_") and getattr(v, "__module__", None) == module.__name__]


def _ours(obj) -> bool:
    return (getattr(obj, "__module__", None) or "").split(".")[0] in (
        "hyperdual", "reverse", "_exactdiff")


METHODS: set[str] = set()


def _callables() -> list[tuple[str, object]]:
    """(qualified name, object) of each public callable, each object once."""
    seen: set[int] = set()
    found = []
    for modname in _public_modules():
        module = importlib.import_module(modname)
        for name in _public_names(module):
            obj = getattr(module, name)
            if not callable(obj) or id(obj) in seen:
                continue
            if inspect.ismodule(obj) or not (_ours(obj) or _wrapped_ours(obj)):
                continue
            seen.add(id(obj))
            found.append((f"{modname}.{name}", obj))
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if attr.startswith("_"):
                        continue
                    func = getattr(member, "__func__", member)
                    if inspect.isfunction(func) and id(func) not in seen:
                        seen.add(id(func))
                        found.append((f"{modname}.{name}.{attr}", getattr(obj, attr)))
                        METHODS.add(f"{modname}.{name}.{attr}")
    return found


def _wrapped_ours(obj) -> bool:
    inner = getattr(obj, "__wrapped__", None)
    return inner is not None and _ours(inner)


def _returns_value(func) -> bool:
    """Whether the function's own body has ``return <value>`` or ``yield``."""
    func = inspect.unwrap(getattr(func, "__func__", func))
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        return True
    tree = ast.parse(source).body[0]
    todo = list(ast.iter_child_nodes(tree))
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue  # a nested function's returns are its own
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(node, ast.Return) and node.value is not None and not (
                isinstance(node.value, ast.Constant) and node.value.value is None):
            return True
        todo.extend(ast.iter_child_nodes(node))
    return False


PUBLIC = _callables()


def _inherited_doc(qualname: str, obj) -> str | None:
    """The docstring of the base-class method ``obj`` overrides without one of its own.

    A ``Function`` subclass's ``forward``/``backward`` implement the protocol
    that ``Function.forward``/``Function.backward`` document (as Sphinx's
    inherited docstrings show them); their parameter names are the subclass's.
    """
    if (getattr(obj, "__doc__", None) or "").strip():
        return None
    modname, cls_name, attr = qualname.rsplit(".", 2)
    cls = getattr(importlib.import_module(modname), cls_name, None)
    for base in getattr(cls, "__mro__", ())[1:]:
        member = base.__dict__.get(attr)
        if member is not None and (getattr(member, "__doc__", None) or "").strip():
            return inspect.getdoc(member)
    return None


def _problems(qualname: str, obj) -> list[str]:
    inherited = _inherited_doc(qualname, obj) if qualname in METHODS else None
    doc = inherited or inspect.getdoc(obj) or ""
    if not doc.strip():
        return ["no docstring"]
    problems = []
    is_class = inspect.isclass(obj)
    try:
        sig = None if inherited else inspect.signature(obj)
    except (TypeError, ValueError):
        sig = None
    if sig is not None:
        params = [p for p in sig.parameters.values()
                  if p.name not in ("self", "cls") and not p.name.startswith("_")]
        section = _section(doc, "Parameters")
        for p in params:
            name = p.name
            if not re.search(rf"^\**{re.escape(name)}\b|, \**{re.escape(name)}\b", section, re.M):
                problems.append(f"parameter {name!r} not in a Parameters section")
    if not is_class and _returns_value(obj):
        if not (_section(doc, "Returns").strip() or _section(doc, "Yields").strip()):
            problems.append("no Returns section")
    if ">>> " not in _section(doc, "Examples"):
        problems.append("no doctest in an Examples section")
    return problems


def test_public_names_are_found():
    names = {q for q, _ in PUBLIC}
    # a name exported by the package is listed under the package
    for expected in ("reverse.Variable.backward", "reverse.using_config", "hyperdual.Dual",
                     "reverse.functions.add", "reverse.Linear.forward", "reverse.Function.backward",
                     "hyperdual.nth_derivative", "hyperdual.linalg.expm", "reverse.sum_to"):
        assert expected in names
    assert len(PUBLIC) > 400


@pytest.mark.parametrize("qualname,obj", PUBLIC, ids=[q for q, _ in PUBLIC])
def test_public_callable_is_documented(qualname, obj):
    problems = _problems(qualname, obj)
    assert not problems, f"{qualname}: " + "; ".join(problems)


def test_public_doctests_run_in_the_suite():
    """Every public docstring's examples are collected by ``--doctest-modules``.

    pytest collects doctests from the objects each module file defines; a
    function made by a factory in one module and exported from another (the
    rule families) must still be found somewhere, or its examples never run.
    """
    import doctest
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    collected = set()
    finder = doctest.DocTestFinder()
    for package in ("hyperdual", "reverse", "_exactdiff"):
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__main__":
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            for test in finder.find(importlib.import_module(name)):
                if test.examples:
                    collected.add(test.docstring)
    missing = [q for q, obj in PUBLIC
               if ">>>" in (getattr(obj, "__doc__", None) or "")
               and obj.__doc__ not in collected]
    assert not missing, f"examples that no doctest collection runs: {missing}"
