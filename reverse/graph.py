"""Export the graph behind a Variable as Graphviz ``dot`` text (and render it).

:func:`to_dot` walks the creators iteratively (no recursion, each node once),
so graphs of any depth export.  :func:`plot_dot_graph` writes the ``.dot`` file
and renders it with the Graphviz ``dot`` program when that is installed.

Examples
--------
>>> from reverse import Variable
>>> x = Variable(2.0, name="x")
>>> y = x * x
>>> y.name = "y"
>>> print(to_dot(y, verbose=False))
digraph g {
  v0 [label="y", color=orange, style=filled];
  f0 [label="Multiply", color=lightblue, style=filled, shape=box];
  v1 [label="x", color=orange, style=filled];
  f0 -> v0;
  v1 -> f0;
  v1 -> f0;
}
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

import numpy as np

from .core import Variable

__all__ = ["GraphvizNotFoundError", "plot_dot_graph", "to_dot"]

_INSTALL_HINT = ("install Graphviz to render it (e.g. `apt-get install graphviz`, "
                 "`dnf install graphviz` or `brew install graphviz`)")


class GraphvizNotFoundError(RuntimeError):
    """The Graphviz ``dot`` program is not on PATH.

    Examples
    --------
    >>> issubclass(GraphvizNotFoundError, RuntimeError)
    True
    """


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\r", ""))


def _describe(data: Any) -> str:
    shape = getattr(data, "shape", None)
    dtype = getattr(data, "dtype", None)
    parts = []
    if shape is not None:
        parts.append(str(tuple(shape)))
    if dtype is not None:
        parts.append(str(dtype))
    if type(data).__module__.startswith("hyperdual"):
        parts.append(type(data).__name__)
    return " ".join(parts)


def _var_label(v: Variable, verbose: bool) -> str:
    name = "" if v.name is None else v.name
    if verbose and v.data is not None:
        desc = _describe(v.data)
        if name:
            return f"{name}: {desc}" if desc else name
        return desc
    return name


def _const_label(c: Any, verbose: bool) -> str:
    arr = np.asarray(c) if isinstance(c, (int, float, bool, np.generic, np.ndarray)) else None
    if arr is not None and arr.ndim == 0:
        return f"{arr.item():g}" if arr.dtype.kind in "fiub" else repr(c)
    if arr is not None:
        return f"const {_describe(arr)}" if verbose else "const"
    return type(c).__name__


def to_dot(y: Variable, verbose: bool = True) -> str:
    """Graphviz ``dot`` text of the computation graph that produced ``y``.

    Variables are orange ellipses labelled with their name and, if
    ``verbose``, their shape and dtype; functions are blue boxes with their
    class name; constants (non-Variable inputs) are grey plain-text nodes
    showing their value (scalars) or shape.  Edges run from inputs to
    functions and from functions to their outputs.  Node ids (``v0``, ``f0``,
    ``c0`` ...) are assigned in traversal order, so the text is deterministic.

    The walk is iterative (an explicit stack), visiting each function once, so
    chains of any depth export without ``RecursionError``.

    Parameters
    ----------
    y : Variable
        The output whose graph to export.
    verbose : bool
        Add shapes and dtypes to variable labels.

    Returns
    -------
    str
        The ``digraph`` text.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> a = Variable(np.ones((2, 3)), name="a")
    >>> text = to_dot(np.sum(np.sin(a)))
    >>> "a: (2, 3) float64" in text and "Sin" in text and "Sum" in text
    True
    """
    if not isinstance(y, Variable):
        raise TypeError(f"to_dot: expected a reverse.Variable, got {type(y).__name__}")
    var_ids: dict[int, str] = {}
    lines: list[str] = []
    edges: list[str] = []
    n_const = 0

    def var_node(v: Variable) -> str:
        key = var_ids.get(id(v))
        if key is None:
            key = var_ids[id(v)] = f"v{len(var_ids)}"
            label = _escape(_var_label(v, verbose))
            lines.append(f'  {key} [label="{label}", color=orange, style=filled];')
        return key

    var_node(y)
    seen: set[int] = set()
    stack = [] if y.creator is None else [y.creator]
    n_func = 0
    while stack:
        f = stack.pop()
        if id(f) in seen:
            continue
        seen.add(id(f))
        fkey = f"f{n_func}"
        n_func += 1
        lines.append(f'  {fkey} [label="{_escape(f.name)}", color=lightblue, style=filled, '
                     "shape=box];")
        out = f.output()
        if out is not None:
            edges.append(f"  {fkey} -> {var_node(out)};")
        for x in f.inputs:
            if isinstance(x, Variable):
                edges.append(f"  {var_node(x)} -> {fkey};")
                if x.creator is not None and id(x.creator) not in seen:
                    stack.append(x.creator)
            else:
                ckey = f"c{n_const}"
                n_const += 1
                lines.append(f'  {ckey} [label="{_escape(_const_label(x, verbose))}", '
                             "color=gray, shape=plaintext];")
                edges.append(f"  {ckey} -> {fkey};")
    return "digraph g {\n" + "\n".join(lines + edges) + "\n}"


def plot_dot_graph(y: Variable, to_file: str | os.PathLike[str] = "graph.png",
                   verbose: bool = True, timeout: float = 60.0) -> str:
    """Write the graph of ``y`` as ``.dot`` next to ``to_file`` and render it with Graphviz.

    The format follows the extension of ``to_file`` (``png``, ``svg``, ``pdf``
    ...).  The ``.dot`` file (``to_file`` with its extension replaced) is
    always written, so the text is kept even without Graphviz.

    Parameters
    ----------
    y : Variable
        The output whose graph to draw.
    to_file : str or path
        Image path; its extension selects the format.
    verbose : bool
        Add shapes and dtypes to variable labels.
    timeout : float
        Seconds to wait for Graphviz.

    Returns
    -------
    str
        The path of the rendered image.

    Raises
    ------
    GraphvizNotFoundError
        If the ``dot`` program is not on PATH (the message says how to install
        it and where the ``.dot`` text was written).
    RuntimeError
        If ``dot`` fails or times out.

    Examples
    --------
    >>> import os, shutil, tempfile
    >>> from reverse import Variable
    >>> y = Variable(1.0, name="x") * 2
    >>> with tempfile.TemporaryDirectory() as d:
    ...     try:
    ...         out = plot_dot_graph(y, os.path.join(d, "g.png"))
    ...     except GraphvizNotFoundError as exc:
    ...         out = "install" in str(exc)
    ...     ok = os.path.exists(os.path.join(d, "g.dot"))
    >>> ok
    True
    """
    to_file = os.fspath(to_file)
    root, ext = os.path.splitext(to_file)
    fmt = ext[1:].lower() or "png"
    if not ext:
        to_file = to_file + ".png"
    dot_file = root + ".dot"
    directory = os.path.dirname(os.path.abspath(to_file))
    os.makedirs(directory, exist_ok=True)
    with open(dot_file, "w", encoding="utf-8") as fh:
        fh.write(to_dot(y, verbose=verbose))
        fh.write("\n")
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFoundError(
            f"the Graphviz 'dot' program is not on PATH; the graph was written as dot text "
            f"to {dot_file!r}; {_INSTALL_HINT}, then run: dot -T{fmt} {dot_file} -o {to_file}"
        )
    try:
        proc = subprocess.run([exe, f"-T{fmt}", dot_file, "-o", to_file], capture_output=True,
                              text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"plot_dot_graph: dot timed out after {timeout} s") from exc
    if proc.returncode != 0:
        raise RuntimeError(f"plot_dot_graph: dot failed (exit {proc.returncode}): "
                           f"{proc.stderr.strip()}")
    return to_file
