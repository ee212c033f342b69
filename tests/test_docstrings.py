"""Public functions document every parameter and the return value, with a doctest.

Checked for the common API of both packages (DESIGN.md's list) and the names
added for the book's readers; ``help(reverse.hvp)`` must explain f, x, v,
mode and what comes back.
"""

from __future__ import annotations

import inspect
import re

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
