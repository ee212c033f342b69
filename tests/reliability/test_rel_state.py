"""Saved state: atomic weight files under SIGKILL; pickling of Dual/HyperDual/Variable.

Variable pickling (decision): a leaf Variable (or Parameter) pickles as its
data and name (exactly; its grad is not kept); a Variable with a graph
raises a TypeError naming the problem (pickle its .data instead).
"""

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from reverse import MLP, Variable

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SAVER = textwrap.dedent("""
    import sys
    import numpy as np
    from reverse import MLP
    path = sys.argv[1]
    model = MLP((512, 512, 512, 10))
    model(np.zeros((1, 64)))
    k = 0
    while True:
        k += 1
        for p in model.params():
            p.data[...] = k
        model.save_weights(path)
        print(k, flush=True)
""")


def _weights(model):
    return [p.data.copy() for p in model.params()]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_save_killed_mid_write_leaves_old_or_new_weights(tmp_path):
    path = str(tmp_path / "w.npz")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    kills = 0
    for delay in (0.35, 0.5, 0.62, 0.8):
        proc = subprocess.Popen([sys.executable, "-c", SAVER, path], stdout=subprocess.PIPE,
                                env=env, text=True)
        try:
            line = proc.stdout.readline()  # at least one complete save
            assert line.strip(), "saver did not start"
            time.sleep(delay)
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(30)
            proc.stdout.close()
        kills += 1
        model = MLP((512, 512, 512, 10))
        model(np.zeros((1, 64)))
        model.load_weights(path)  # must load: never a half-written file under this name
        ws = _weights(model)
        k = ws[0].flat[0]
        assert k >= 1 and all(np.all(w == k) for w in ws), "mixed or partial weights"
        leftovers = [f for f in os.listdir(tmp_path) if f != "w.npz"]
        for f in leftovers:  # temporary files of the killed save may remain; never the real name
            os.unlink(tmp_path / f)
    assert kills == 4


# ---------------------------------------------------------------- pickling
def _parts_equal(a, b):
    assert type(a) is type(b)
    assert a.tag == b.tag and a.nd == b.nd
    for p, q in zip(a._parts(), b._parts()):
        if isinstance(p, (hd.Dual, hd.HyperDual)):
            _parts_equal(p, q)
        else:
            assert type(p) is type(q)
            assert np.asarray(p).dtype == np.asarray(q).dtype
            assert np.asarray(p).tobytes() == np.asarray(q).tobytes()


def _roundtrip(x):
    return pickle.loads(pickle.dumps(x, protocol=pickle.HIGHEST_PROTOCOL))


@pytest.mark.parametrize("make", [
    lambda: hd.Dual(1.5, -0.25),
    lambda: hd.Dual(np.nan, np.inf),
    lambda: hd.Dual(np.arange(6.0).reshape(2, 3), 1.0),
    lambda: hd.Dual(np.ones(3, dtype=np.float32), 2.0),
    lambda: hd.HyperDual(0.1, 0.2, 0.3, 0.4),
    lambda: hd.HyperDual(np.linspace(0, 1, 4), 1.0, np.ones(4), 0.0),
    lambda: hd.Dual(hd.Dual(2.0, 1.0, tag=3), hd.Dual(0.5, 0.0, tag=3), tag=7),
    lambda: hd.Dual._build((np.ones(3), np.eye(3)), 11, 1),
    lambda: hd.HyperDual._build((np.ones(2), np.ones((2, 1, 2)), np.ones((1, 3, 2)),
                                 np.zeros((2, 3, 2))), 12, 2),
])
def test_dual_and_hyperdual_pickle_exactly(make):
    x = make()
    y = _roundtrip(x)
    _parts_equal(x, y)
    # the unpickled number computes exactly like the original
    _parts_equal(np.sin(x) * x, np.sin(y) * y)


@pytest.mark.parametrize("make", [
    lambda: hd.Taylor([1.5, -0.25, 0.0, 3.0]),
    lambda: hd.Taylor(np.arange(6.0).reshape(3, 2), tag=5),
    lambda: np.sin(hd.Taylor([0.3, 1.0, 0.0])),  # a scalar list-path result
])
def test_taylor_pickles_exactly(make):
    x = make()
    y = _roundtrip(x)
    assert type(y) is hd.Taylor and y.tag == x.tag
    assert y.coef.tobytes() == x.coef.tobytes() and y.coef.shape == x.coef.shape
    assert (np.exp(y) * y).coef.tobytes() == (np.exp(x) * x).coef.tobytes()


def test_variable_pickles_leaf_data_exactly():
    v = Variable(np.array([1.0, -2.5], dtype=np.float32), name="w")
    w = _roundtrip(v)
    assert type(w) is Variable and w.name == "w" and w.creator is None
    assert w.data.dtype == np.float32 and w.data.tobytes() == v.data.tobytes()
    y = np.sum(w * w)
    y.backward()
    np.testing.assert_array_equal(w.grad.data, 2 * v.data)


def test_parameter_pickles_and_nonleaf_variable_is_refused_clearly():
    p = rv.Parameter(np.arange(3.0))
    q = _roundtrip(p)
    assert type(q) is rv.Parameter and np.array_equal(q.data, p.data)
    x = Variable(np.array(2.0))
    y = x * 3.0
    with pytest.raises(TypeError, match="cannot pickle a Variable that has a graph"):
        _roundtrip(y)
