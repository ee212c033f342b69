"""Run the book's own DeZero test suite (or its step scripts) against ``reverse``.

Usage::

    git clone https://github.com/oreilly-japan/deep-learning-from-scratch-3 /tmp/dls3
    python scripts/run_book_suite.py /tmp/dls3            # its tests/ (pytest)
    python scripts/run_book_suite.py /tmp/dls3 --steps    # steps/step01-60.py, shortened

A temporary ``dezero`` package re-exports ``reverse``'s names under the book's module
layout (``dezero.functions``, ``layers``, ``models``, ``optimizers``, ``datasets``,
``dataloaders``, ``utils``), so the book's files run unchanged.  The suite compares
with Chainer where it can (``pip install chainer`` needs numpy < 2); without Chainer
those comparisons are skipped.  ``--steps`` cuts epochs and iterations to 1-3 and
reports the scripts that fail.  Not part of the test command (it needs the book's
repository); the session notes record its results.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SHIM = {
    "__init__.py": """
from reverse import (Variable, Function, Parameter, Config, Layer, Model, DataLoader,
                     SeqDataLoader, as_variable, as_array, no_grad, using_config,
                     test_mode, datasets, optimizers)
from . import functions, layers, models, dataloaders, utils
is_simple_core = False
""",
    "functions.py": "from reverse.functions import *  # noqa\n"
                    "from reverse.functions import sum, max, min, abs  # noqa\n",
    "layers.py": "from reverse.layers import *  # noqa\n",
    "models.py": "from reverse import MLP, Model, Sequential  # noqa\n",
    "dataloaders.py": "from reverse import DataLoader, SeqDataLoader  # noqa\n",
    "utils.py": '''
import numpy as np
from reverse import Variable, plot_dot_graph as _plot
from reverse.functions import sum_to  # noqa


def plot_dot_graph(output, verbose=True, to_file="graph.png"):
    try:
        return _plot(output, to_file, verbose)
    except Exception as e:  # Graphviz missing: the .dot text is still written
        print("plot_dot_graph:", type(e).__name__, e)


def _data(a):
    return a.data if isinstance(a, Variable) else a


def numerical_grad(f, x, *args, **kwargs):
    eps = 1e-4
    x = np.array(_data(x), dtype=np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        y1 = _data(f(x.copy(), *args, **kwargs))
        x[idx] = old - eps
        y2 = _data(f(x.copy(), *args, **kwargs))
        x[idx] = old
        grad[idx] = np.sum(y1 - y2) / (2 * eps)
    return grad


def gradient_check(f, x, *args, rtol=1e-4, atol=1e-5, **kwargs):
    """The book's check: backprop of sum(f(x)) against central differences."""
    v = Variable(np.array(_data(x), dtype=np.float64))
    y = f(v, *args, **kwargs)
    y.backward()
    num = numerical_grad(f, v.data, *args, **kwargs)
    return v.grad.data.shape == num.shape and np.allclose(v.grad.data, num, atol=atol,
                                                          rtol=rtol)


def array_equal(a, b):
    return np.array_equal(_data(a), _data(b))


def array_allclose(a, b, rtol=1e-4, atol=1e-5):
    return np.allclose(_data(a), _data(b), atol=atol, rtol=rtol)
''',
}

#: the book's chainer reference, skipped where Chainer is not installed
CHAINER_STUB = '''
import pytest


def __getattr__(name):
    def missing(*args, **kwargs):
        pytest.skip("Chainer (the suite's reference) is not installed")
    return missing
'''


def make_shim(tmp: Path) -> None:
    pkg = tmp / "dezero"
    pkg.mkdir()
    for name, text in SHIM.items():
        (pkg / name).write_text(text.lstrip())
    try:
        import chainer  # noqa: F401
    except ImportError:
        stub = tmp / "chainer"
        stub.mkdir()
        (stub / "__init__.py").write_text("from . import functions, links  # noqa\n")
        (stub / "functions.py").write_text(CHAINER_STUB)
        (stub / "links.py").write_text(CHAINER_STUB)


def run_tests(book: Path, env: dict, tmp: Path, extra: list[str]) -> int:
    tests = book / "tests"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests),
           "--ignore", str(tests / "gpu"), "--ignore", str(tests / "test_vgg16.py"),
           "--ignore", str(tests / "test_resnet.py"), *extra]
    return subprocess.call(cmd, env=env, cwd=str(tmp))


def run_steps(book: Path, env: dict, tmp: Path) -> int:
    failed = []
    steps = sorted((book / "steps").glob("step*.py"))
    for path in steps:
        text = path.read_text()
        text = re.sub(r"^max_epoch = .*$", "max_epoch = 1", text, flags=re.M)
        text = re.sub(r"^(iters|max_iter) = \d+", r"\1 = 3", text, flags=re.M)
        short = tmp / path.name
        short.write_text(text)
        proc = subprocess.run([sys.executable, str(short)], env=env, cwd=str(tmp),
                              capture_output=True, text=True, timeout=300)
        if proc.returncode:
            last = (proc.stderr.strip().splitlines() or ["?"])[-1]
            failed.append(path.name)
            print(f"{path.name}: {last[:160]}")
    print(f"{len(steps) - len(failed)} of {len(steps)} step scripts ran")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("book", type=Path, help="a checkout of deep-learning-from-scratch-3")
    p.add_argument("--steps", action="store_true", help="run steps/*.py instead of tests/")
    args, extra = p.parse_known_args(argv)
    if not (args.book / "dezero").is_dir():
        p.error(f"{args.book} is not a checkout of deep-learning-from-scratch-3")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        make_shim(tmp)
        env = dict(os.environ, MPLBACKEND="Agg",
                   PYTHONPATH=os.pathsep.join([str(tmp), str(ROOT)]))
        if args.steps:
            return run_steps(args.book, env, tmp)
        return run_tests(args.book, env, tmp, extra)


if __name__ == "__main__":
    raise SystemExit(main())
