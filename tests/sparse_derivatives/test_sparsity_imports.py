"""Sparsity patterns do not depend on which engine was imported first.

``_exactdiff.sparsity`` once learned the shared selection rules (``np.pad``,
``np.tile``, ``np.diff`` ...) only when ``hyperdual.sparse`` registered them, so
the tracer imported on its own fell back to the conservative all-dense rule.
Each check runs in a fresh interpreter that imports one module first, and
compares with the exact pattern of the dense Jacobian (selections and linear
maps: the pattern is exact, not only a superset).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hyperdual

ROOT = Path(__file__).resolve().parents[2]

#: name -> (source of f, n): each f is a selection or a linear map of x
CASES = {
    "pad": ("lambda x: np.pad(x, (1, 2))", 4),
    "pad_edge": ("lambda x: np.pad(x, 1, mode='edge')", 4),
    "tile": ("lambda x: np.tile(x[:2], 3) * x[3]", 4),
    "diff": ("lambda x: np.diff(x, 2)", 5),
    "roll_flip": ("lambda x: np.flip(np.roll(x, 1))", 4),
    "take": ("lambda x: np.take(x, [3, 0, 0])", 4),
    "convolve": ("lambda x: np.convolve(x, [1.0, -2.0, 1.0], mode='valid')", 5),
}

SCRIPT = """
import json, sys
import numpy as np
import {first}
from _exactdiff.sparsity import jacobian_sparsity
cases = json.loads(sys.argv[1])
out = {{name: jacobian_sparsity(eval(src), np.arange(1.0, n + 1.0)).toarray().tolist()
        for name, (src, n) in cases.items()}}
loaded = sorted(m for m in ("hyperdual", "reverse") if m in sys.modules)
print(json.dumps({{"patterns": out, "loaded": loaded}}))
"""


def _patterns_after(first: str) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    proc = subprocess.run([sys.executable, "-c", SCRIPT.format(first=first), json.dumps(CASES)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _truth(src: str, n: int) -> np.ndarray:
    f = eval(src)  # noqa: S307 - the test's own table
    x = np.random.default_rng(0).uniform(1.0, 2.0, n)
    return hyperdual.jacobian(f, x) != 0


@pytest.mark.parametrize("first", ["_exactdiff.sparsity", "reverse", "hyperdual"])
def test_selection_patterns_do_not_depend_on_import_order(first):
    got = _patterns_after(first)
    if first == "_exactdiff.sparsity":
        assert got["loaded"] == []  # the tracer alone: no engine was imported
    for name, (src, n) in CASES.items():
        pattern = np.array(got["patterns"][name], dtype=bool)
        np.testing.assert_array_equal(pattern, _truth(src, n), err_msg=f"{name} after {first}")
