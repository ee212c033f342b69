"""The range watch under every numpy error mode (issue 12, far range).

reverse's first-order helpers watch numpy's floating-point flags in their first
pass (``_exactdiff.fprange.first_pass``), and every helper that redoes a pass
with scaled seeds watches underflow (``fprange.second_order``).  Both used to
switch themselves off under ``np.errstate`` modes other than 'ignore' and 'warn'
(the first) or where underflow was not ignored or overflow was 'call'ed (the
second): under ``errstate(under="raise")`` ``reverse.gradient`` of
``sum(arctan(x**2))`` at [1.7e100] raised FloatingPointError from an adjoint of
its own (truth 4.07e-301), and ``reverse.hessian`` of ``sum(log10(x**2))`` at
[1e150, -2e150] likewise (truth diag(-8.7e-301, -2.2e-301)).

Now every mode is watched, and what the user sees of f's own operations is what
numpy shows without the library: their 'raise' raises FloatingPointError worded as
numpy words it, at their own operation; their 'call' handler receives numpy's
(kind, flag); their 'log' object numpy's line; 'print' writes numpy's line to
stderr; each once per event of f (a redo does not handle f's events again).  An
event of reverse's own backward pass is the watch's business: an underflow of an
adjoint is never raised or passed on, and other kinds are given as the mode says
only where the redone result still has an inf or nan entry (sqrt'(0) = inf still
raises under ``errstate(divide="raise")``).  The error state is restored after.
"""

from __future__ import annotations

import numpy as np
import pytest

import reverse as rv

M = pytest.importorskip("mpmath")

EPS = float(np.finfo(float).eps)
MODES = ["raise", "call", "log", "print"]


def _arctan_truth():
    with M.workdps(50):
        x = M.mpf(1.7e100)
        return float(2 * x / (1 + x ** 4))


def _f_quiet(v):
    """No floating-point event in f itself; an adjoint underflows."""
    return np.sum(np.arctan(v ** 2))


def _f_loud(v):
    """f's own underflow (exp(-800)) beside the adjoint's."""
    return np.sum(np.exp(-800.0 * (v / v)) + np.arctan(v ** 2))


FIRST_ORDER = {
    "gradient": lambda f, x: rv.gradient(f, x),
    "value_and_gradient": lambda f, x: rv.value_and_gradient(f, x)[1],
    "jacobian": lambda f, x: rv.jacobian(lambda v: np.stack([f(v)]), x)[0],
    "vjp": lambda f, x: rv.vjp(f, x, 1.0)[1],
    "derivative": lambda f, x: np.array([rv.derivative(lambda t: f(np.stack([t])), x[0])]),
}


class _Log:
    def __init__(self):
        self.lines = []

    def write(self, line):
        self.lines.append(line)


def _state(mode, sink):
    """errstate keywords for ``mode`` on every kind, recording into ``sink``."""
    kw = {"all": mode}
    if mode == "call":
        kw["call"] = lambda kind, flag: sink.append((kind, flag))
    elif mode == "log":
        log = _Log()
        log.lines = sink
        kw["call"] = log
    return kw


def _numpy_events(f, x, mode, capfd):
    """What numpy itself shows of f(x) under ``mode`` (a list, or the exception)."""
    sink = []
    try:
        with np.errstate(**_state(mode, sink)):
            f(x)
    except FloatingPointError as e:
        return ("raise", str(e))
    if mode == "print":
        return capfd.readouterr().err.splitlines()
    return sink


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("helper", sorted(FIRST_ORDER))
def test_first_order_helpers_watch_under_every_mode(helper, mode, capfd):
    x = np.array([1.7e100])
    want = _arctan_truth()
    before = (np.geterr(), np.geterrcall())
    for f in (_f_quiet, _f_loud):
        capfd.readouterr()
        expected = _numpy_events(f, x, mode, capfd)
        sink = []
        try:
            with np.errstate(**_state(mode, sink)):
                got = FIRST_ORDER[helper](f, x)
        except FloatingPointError as e:
            assert expected == ("raise", str(e)), (f.__name__, expected, e)
            continue
        assert not (isinstance(expected, tuple) and expected[0] == "raise"), (
            f"{f.__name__}: numpy raised {expected[1]!r}, the helper did not")
        seen = capfd.readouterr().err.splitlines() if mode == "print" else sink
        assert seen == expected, (f.__name__, seen, expected)
        assert abs(float(got[0]) - want) <= 16 * EPS * want, (f.__name__, got, want)
        assert (np.geterr(), np.geterrcall()) == before


def _log10_truth(x):
    with M.workdps(50):
        return [float(-2 / (M.log(10) * M.mpf(v) ** 2)) for v in x]


SECOND_ORDER = {
    "hessian": lambda f, x: rv.hessian(f, x),
    "hvp": lambda f, x: np.stack([rv.hvp(f, x, e) for e in np.eye(2)]),
    "hvp rr": lambda f, x: np.stack([rv.hvp(f, x, e, mode="reverse-over-reverse")
                                     for e in np.eye(2)]),
}


@pytest.mark.parametrize("state", [{"under": "raise"}, {"all": "raise"},
                                   {"over": "call", "under": "call"}, {"all": "log"},
                                   {"under": "print"}], ids=str)
@pytest.mark.parametrize("helper", sorted(SECOND_ORDER))
def test_second_order_helpers_watch_under_every_mode(helper, state):
    """d2/dx2 log10(x**2) at 1e150: the adjoint f''(u) u' underflows at seed 1 (the
    wrong sign, before the watch); under these modes the helpers ran unwatched."""
    x = np.array([1e150, -2e150])
    f = lambda p: np.sum(np.log10(p ** 2))  # noqa: E731
    kw = dict(state)
    seen = []
    if "call" in state.values():
        kw["call"] = lambda kind, flag: seen.append(kind)
    elif "log" in state.values():
        kw["call"] = _Log()
    with np.errstate(**kw):
        H = SECOND_ORDER[helper](f, x)
    want = _log10_truth(x)
    for i in range(2):
        assert abs(H[i, i] - want[i]) <= 16 * EPS * abs(want[i]), (H, want)
    assert H[0, 1] == 0 and H[1, 0] == 0
    assert seen == []  # f itself raises no floating-point event here


def test_f_own_events_still_raise_in_second_order_helpers():
    f = lambda p: np.sum(np.log10(p ** 2) + np.exp(-800.0 * (p / p)))  # noqa: E731
    x = np.array([1e150, -2e150])
    for helper in SECOND_ORDER.values():
        with np.errstate(under="raise"), pytest.raises(FloatingPointError,
                                                       match="underflow encountered in exp"):
            helper(f, x)
    assert np.geterr()["under"] == "ignore"


def test_a_backward_pass_event_that_stays_is_given_as_the_mode_says():
    """sqrt'(0) = inf: divide by zero in the backward pass, in the result too."""
    f = lambda v: np.sum(np.sqrt(v))  # noqa: E731
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError,
                                                    match="divide by zero"):
        rv.gradient(f, np.array([0.0, 1.0]))
    seen = []
    with np.errstate(divide="call", call=lambda kind, flag: seen.append((kind, flag))):
        g = rv.gradient(f, np.array([0.0, 1.0]))
    assert g[0] == np.inf and g[1] == 0.5
    assert seen and all(s == ("divide by zero", 1) for s in seen)
