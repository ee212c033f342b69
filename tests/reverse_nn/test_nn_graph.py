"""Graph export: dot text contents, deep chains, rendering with and without Graphviz."""

from __future__ import annotations

import os
import re
import stat
import sys

import numpy as np
import pytest

import reverse.graph as G
from reverse.core import Variable
from reverse.graph import GraphvizNotFoundError, plot_dot_graph, to_dot


def small_graph():
    x = Variable(np.ones((2, 3)), name="x")
    w = Variable(np.ones((3, 4), dtype=np.float32), name="weight")
    y = np.sum(np.tanh(x @ w) * 2.0)
    y.name = "loss"
    return y


def test_dot_has_names_shapes_dtypes_functions_and_edges():
    text = to_dot(small_graph())
    assert text.startswith("digraph g {") and text.rstrip().endswith("}")
    for piece in ["x: (2, 3) float64", "weight: (3, 4) float32", "loss: () float64",
                  "(2, 4) float64", '"MatMul"', '"Tanh"', '"Multiply"', '"Sum"', '"2"']:
        assert piece in text, piece
    nodes = re.findall(r"^  (\w+) \[", text, flags=re.M)
    assert len(nodes) == len(set(nodes))
    edges = re.findall(r"^  (\w+) -> (\w+);", text, flags=re.M)
    assert set(a for e in edges for a in e) <= set(nodes)
    # 4 functions; each has one out-edge; inputs: MatMul 2, Tanh 1, Multiply 2, Sum 1.
    assert sum(1 for n in nodes if n.startswith("f")) == 4
    assert len(edges) == 4 + 6


def test_dot_is_deterministic_and_nonverbose():
    assert to_dot(small_graph()) == to_dot(small_graph())
    text = to_dot(small_graph(), verbose=False)
    assert "float" not in text and '"x"' in text


def test_shared_nodes_appear_once_and_leaf():
    x = Variable(1.0, name="x")
    a = x * 2
    y = a * a + a
    text = to_dot(y)
    assert len(re.findall(r'label="x:', text)) == 1
    assert text.count('"Multiply"') == 2 and text.count('"Add"') == 1
    leaf = to_dot(Variable(np.zeros(3), name="lonely"))
    assert "lonely: (3,) float64" in leaf and "->" not in leaf


def test_labels_are_escaped():
    x = Variable(1.0, name='we"ird\\name\nx')
    text = to_dot(x + 1)
    assert r'we\"ird\\name\nx' in text


def test_ten_thousand_node_chain_without_recursion():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # any recursion over the chain would fail
    try:
        x = Variable(np.array(0.5), name="x")
        y = x
        for _ in range(10_000):
            y = np.sin(y)
        text = to_dot(y)
    finally:
        sys.setrecursionlimit(limit)
    assert text.count('"Sin"') == 10_000
    assert text.count("->") == 20_000


def test_to_dot_rejects_non_variables():
    with pytest.raises(TypeError, match="Variable"):
        to_dot(np.ones(3))


def test_plot_without_graphviz_says_how(tmp_path, monkeypatch):
    monkeypatch.setattr(G.shutil, "which", lambda name: None)
    with pytest.raises(GraphvizNotFoundError) as info:
        plot_dot_graph(small_graph(), tmp_path / "g.png")
    msg = str(info.value)
    assert "apt-get install graphviz" in msg and "g.dot" in msg
    assert (tmp_path / "g.dot").read_text().startswith("digraph g {")
    assert not (tmp_path / "g.png").exists()


@pytest.mark.skipif(os.name != "posix", reason="fake dot is a shell script")
def test_plot_with_a_dot_program(tmp_path, monkeypatch):
    # A stand-in for Graphviz that records its arguments and writes the output.
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "$@" > "$(dirname "$0")/args"\n'
                    'printf "PNG" > "$4"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(fake.parent) + os.pathsep + os.environ.get("PATH", ""))
    out = plot_dot_graph(small_graph(), tmp_path / "out" / "g.png")
    assert out == str(tmp_path / "out" / "g.png")
    assert (tmp_path / "out" / "g.png").read_bytes() == b"PNG"
    args = (fake.parent / "args").read_text().split()
    assert args[0] == "-Tpng" and args[1].endswith("g.dot")


@pytest.mark.skipif(os.name != "posix", reason="fake dot is a shell script")
def test_plot_reports_dot_failure(tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "syntax error in line 1" >&2\nexit 1\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(fake.parent) + os.pathsep + os.environ.get("PATH", ""))
    with pytest.raises(RuntimeError, match="syntax error"):
        plot_dot_graph(small_graph(), tmp_path / "g.svg")
