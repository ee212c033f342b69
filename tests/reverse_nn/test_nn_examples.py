"""The runnable examples: spiral training and the J = 3(a + bc) computation graph."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples")


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"_nn_example_{name}",
                                                  os.path.join(EXAMPLES, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def train_spiral():
    return load("train_spiral")


def test_train_spiral_quick_loss_falls(train_spiral, capsys):
    start = time.perf_counter()
    result = train_spiral.main(quick=True, figure=None)
    elapsed = time.perf_counter() - start
    loss = result["loss"]
    assert len(loss) == train_spiral.QUICK_EPOCHS == result["epochs"]
    assert loss[-1] < loss[0]
    assert loss[-1] < 0.6 * loss[0]
    out = capsys.readouterr().out
    assert out.count("loss ") == len(loss) and "[####" in out
    assert "training accuracy" in out
    assert elapsed < 5.0


def test_train_spiral_figure_or_hint(train_spiral, capsys, tmp_path):
    path = tmp_path / "figures" / "spiral.png"
    result = train_spiral.main(epochs=2, figure=str(path))
    out = capsys.readouterr().out
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert result["figure"] is None and "pip install .[plot]" in out
        assert not path.exists()
    else:
        assert result["figure"] == str(path) and path.read_bytes()[:4] == b"\x89PNG"
        assert "decision boundary saved" in out


def test_train_spiral_full_run_reaches_95_percent(train_spiral):
    result = train_spiral.main(epochs=150, verbose=False, figure=None)
    assert result["accuracy"] >= 0.95
    assert result["loss"][-1] < 0.2
    assert result["seconds"] < 20.0


def test_train_spiral_is_reproducible(train_spiral):
    a = train_spiral.main(epochs=3, verbose=False, figure=None)
    b = train_spiral.main(epochs=3, verbose=False, figure=None)
    assert a["loss"] == b["loss"] and a["accuracy"] == b["accuracy"]


def test_train_spiral_cli(tmp_path):
    proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, "train_spiral.py"),
                           "--quick", "--epochs", "4", "--no-figure"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "epoch 4/4" in proc.stdout and "training accuracy" in proc.stdout


def test_computation_graph_example(capsys, tmp_path, monkeypatch):
    module = load("computation_graph")
    monkeypatch.setattr(module.shutil, "which", lambda name: None)
    result = module.main(out_dir=str(tmp_path))
    assert result["grads"] == (3.0, 6.0, 9.0) == result["chain"]
    assert result["J"] == 33.0
    assert result["local"] == {"dJ/dv": 3.0, "dv/da": 1.0, "dv/du": 1.0, "du/db": 2.0,
                               "du/dc": 3.0}
    out = capsys.readouterr().out
    assert "(dJ/da, dJ/db, dJ/dc) = (3, 6, 9)" in out
    assert "digraph g {" in out and "apt-get install graphviz" in out
    for name in ("a: () float64", "b: ()", "c: ()", "J: ()", '"Multiply"', '"Add"'):
        assert name in result["dot"]
    assert result["png"] is None and os.listdir(tmp_path) == []
