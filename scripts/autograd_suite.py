"""Run the derivative checks of HIPS autograd's own test suite through both engines.

Usage::

    python scripts/autograd_suite.py /path/to/autograd-checkout [-k NAME] [-v]
        [--files test_numpy.py ...] [--json out.json]

The checkout must hold autograd's ``tests/`` folder; autograd itself must be
importable (it is the truth).  Nothing of autograd is part of this repository
and this script is not part of the pytest suite.

How it works.  Every test file is imported twice: once as written (autograd
flavour) and once with plain numpy put where ``autograd.numpy`` /
``autograd.scipy`` were (plain flavour).  ``check_grads``, ``grad`` and the other
differential operators are replaced by adapters:

* autograd flavour: each top-level call records its arguments and autograd's
  own derivatives at that point (reverse mode, which autograd implements for
  everything): ``u·J`` (first order, reverse), ``J·v`` (first order, forward, by
  the transpose of the VJP), ``∇ₓ ⟨u, J w⟩`` (second order, reverse) and
  ``D²f[v, w]`` (second order, forward).  ``u``, ``v``, ``w`` are random and
  seeded per call; numpy's global random state is left untouched, so both
  flavours draw the same test arguments.
* plain flavour, once per engine: the same call computes the same quantities in
  ``hyperdual`` (Dual for first order, HyperDual with ε1 = v, ε2 = w for second
  order) or in ``reverse`` (Variable, backward with ``create_graph=True`` and a
  second backward pass), and ``grad``/``jacobian``/``hessian``... call the
  engine's helpers (nested calls nest the helpers).

Each check ends in one of: pass, wrong (a number disagrees with autograd),
unsupported (a clear TypeError: function not supported by the engine), crash
(any other exception), unreachable (numpy's dispatch protocols cannot reach the
function: an engine value was converted by ``np.asarray``/``np.array`` outside
the engine, as ``np.array([...])``, ``np.r_``, ``scipy.stats`` do; the engine's
error names the alternative), or n/a (complex numbers, which the engines do not
support by design; autograd-only API; autograd itself fails).  The pass rate is
pass / (all - unreachable - n/a).
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import importlib.util
import inspect
import itertools
import json
import os
import sys
import traceback
import types
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as onp

REPO = Path(__file__).resolve().parent.parent
ENGINE_DIRS = tuple(str(REPO / d) + os.sep for d in ("hyperdual", "reverse", "_exactdiff"))

DEFAULT_FILES = (
    "test_numpy.py", "test_linalg.py", "test_systematic.py", "test_scipy.py",
    "test_wrappers.py", "test_scalar_ops.py", "test_binary_ops.py", "test_graphs.py",
    "test_jacobian.py", "test_direct.py", "test_builtins.py", "test_truediv.py",
    "test_logic.py", "test_list.py", "test_tuple.py", "test_dict.py", "test_misc.py",
    "test_fft.py", "test_complex.py",
)
ENGINES = ("hyperdual", "reverse")
STATUSES = ("pass", "wrong", "unsupported", "crash", "unreachable", "n/a")


class NotApplicable(Exception):
    """The check uses something that has no plain-numpy meaning (complex, autograd API)."""


# --------------------------------------------------------------------------- trees

def leaves(t: Any) -> list:
    if isinstance(t, (tuple, list)):
        return [leaf for item in t for leaf in leaves(item)]
    if isinstance(t, dict):
        return [leaf for k in sorted(t) for leaf in leaves(t[k])]
    return [t]


def rebuild(t: Any, it) -> Any:
    """Rebuild the structure of ``t`` from the iterator ``it`` of leaves."""
    if isinstance(t, (tuple, list)):
        return type(t)(rebuild(item, it) for item in t) if not hasattr(t, "_fields") \
            else tuple(rebuild(item, it) for item in t)
    if isinstance(t, dict):
        return {k: rebuild(t[k], it) for k in sorted(t)}
    return next(it)


def is_complex(t: Any) -> bool:
    return any(onp.iscomplexobj(leaf) for leaf in leaves(t) if not callable(leaf))


def fingerprint(args: tuple, kwargs: dict) -> list:
    """The numeric leaves of a call's arguments: both flavours must see the same ones."""
    out = []
    for leaf in leaves(list(args) + [kwargs]):
        if isinstance(leaf, (bool, int, float, complex, onp.ndarray, onp.generic)):
            out.append(onp.array(leaf))
    return out


def same_call(fp: list, rec: dict) -> bool:
    return len(fp) == len(rec["x"]) and all(
        a.shape == b.shape and onp.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        for a, b in zip(fp, rec["x"]))


def random_like(t: Any, rng: onp.random.RandomState) -> Any:
    def one(leaf):
        if isinstance(leaf, (float, int)) and not isinstance(leaf, bool):
            return float(rng.randn())
        if isinstance(leaf, onp.generic):  # autograd's VJPs call .astype on such seeds
            return onp.float64(rng.randn()).astype(leaf.dtype if leaf.dtype.kind == "f" else float)
        a = onp.asarray(leaf)
        return onp.asarray(rng.randn(*a.shape)).astype(a.dtype if a.dtype.kind == "f" else float)
    return rebuild(t, iter([one(leaf) for leaf in leaves(t)]))


# --------------------------------------------------------------------------- results

class Results:
    def __init__(self) -> None:
        self.rows: list[dict] = []  # one per (test, call, engine, order)

    def add(self, test: str, call: int, kind: str, engine: str, order: int,
            status: str, detail: str = "") -> None:
        self.rows.append(dict(test=test, call=call, kind=kind, engine=engine, order=order,
                              status=status, detail=detail))


STATE: dict[str, Any] = {}
DEPTH = contextvars.ContextVar("depth", default=0)


@contextlib.contextmanager
def deeper():
    token = DEPTH.set(DEPTH.get() + 1)
    try:
        yield
    finally:
        DEPTH.reset(token)


def close(ours: Any, truth: Any) -> tuple[bool, str]:
    """Agreement of two trees of arrays to a tolerance autograd's own checks would accept."""
    lo, lt = leaves(ours), leaves(truth)
    if len(lo) != len(lt):
        # a list argument's gradient: autograd gives a list, the engines an array
        flat_o = [onp.ravel(onp.asarray(a, dtype=float)) for a in lo if a is not None]
        flat_t = [onp.ravel(onp.asarray(t, dtype=float)) for t in lt]
        if sum(a.size for a in flat_o) != sum(t.size for t in flat_t):
            return False, f"structure differs: {len(lo)} leaves vs {len(lt)}"
        lo, lt = [onp.concatenate(flat_o)], [onp.concatenate(flat_t)]
    for a, t in zip(lo, lt):
        a = onp.asarray(a, dtype=float) if a is not None else onp.zeros_like(t)
        t = onp.asarray(t, dtype=float)
        if a.shape != t.shape and a.size != t.size:
            return False, f"shape {a.shape} vs {t.shape}"
        a = a.reshape(t.shape)
        if not onp.array_equal(onp.isnan(a), onp.isnan(t)):
            return False, "nan pattern differs"
        fin = onp.isfinite(t)
        if not onp.array_equal(a[~fin & ~onp.isnan(t)], t[~fin & ~onp.isnan(t)]):
            return False, "infinities differ"
        if not fin.any():
            continue
        scale = max(onp.max(onp.abs(t[fin])), onp.max(onp.abs(a[fin])), 1e-300)
        err = onp.max(onp.abs(a[fin] - t[fin]))
        eps = 1e-4 if STATE.get("low_precision") else 1e-7
        if not err <= eps * scale + 1e-12:
            return False, f"max error {err:.3g} at scale {scale:.3g}"
    return True, ""


# the helpers' clear refusals of inputs they do not take (tuples/lists/dicts of
# arrays as x, f returning a (1, 1) array to gradient)
_HELPER_REFUSALS = ("x must be", "cannot use dict", "cannot convert list", "cannot convert tuple",
                    "must return a scalar")


def classify(exc: BaseException, tests_dir: str) -> tuple[str, str]:
    """Sort an exception raised by our engine into unreachable / unsupported / crash / n/a."""
    msg = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    if isinstance(exc, NotApplicable):
        return "n/a", msg
    frames = traceback.extract_tb(exc.__traceback__)
    # frames below the deepest frame of autograd's test code: what the library did
    last_test = max((i for i, f in enumerate(frames) if f.filename.startswith(tests_dir)),
                    default=-1)
    below = frames[last_test + 1:]
    engine = [f for f in below if f.filename.startswith(ENGINE_DIRS)]
    if isinstance(exc, TypeError) and engine and all(f.name == "__array__" for f in engine) \
            and below[-1].name == "__array__":
        return "unreachable", msg
    if isinstance(exc, TypeError) and ("'complex'" in str(exc) or "complex arrays" in str(exc)):
        return "n/a", "complex numbers: " + msg  # the engines are real-only by design
    if isinstance(exc, TypeError) and "unexpected keyword argument" in str(exc) and not engine:
        return "n/a", "autograd-only signature: " + msg
    if isinstance(exc, (TypeError, ValueError)) and any(
            s in str(exc) for s in _HELPER_REFUSALS):
        return "unsupported", "helper input: " + msg  # pytree x, size-1 non-scalar f
    if isinstance(exc, TypeError) and "not supported" in str(exc):
        return "unsupported", msg
    if isinstance(exc, (AttributeError, ImportError)) and (
            "module 'numpy" in str(exc) or "module 'scipy" in str(exc)
            or any(f.filename.startswith(tests_dir) for f in frames[-1:])):
        return "n/a", msg  # an autograd-only name used by the test itself
    where = next((f"{Path(f.filename).name}:{f.lineno}" for f in reversed(frames)), "")
    return "crash", f"{msg} [{where}]"


# --------------------------------------------------------------------------- autograd side

def _ag():
    import autograd
    import autograd.numpy as anp
    return autograd, anp


def ag_vdot(a: Any, b: Any):
    """<a, b> with ``a`` possibly one of autograd's boxed tuples: walk ``b``'s structure."""
    _, anp = _ag()
    if isinstance(b, (tuple, list)):
        total = 0.0
        for k in range(len(b)):
            total = total + ag_vdot(a[k], b[k])
        return total
    if isinstance(b, dict):
        total = 0.0
        for k in sorted(b):
            total = total + ag_vdot(a[k], b[k])
        return total
    return anp.sum(a * b)


def autograd_truth(fx: Callable, x: Any, u: Any, v: Any, w: Any, order: int) -> dict:
    from autograd.differential_operators import grad, make_vjp  # not the patched names
    vjp_fn, y = make_vjp(fx)(x)
    out = {"value": y, "rev1": vjp_fn(u)}
    out["fwd1"] = grad(lambda uu: ag_vdot(vjp_fn(uu), v))(u)
    if order >= 2:
        def second(uu):
            return grad(lambda xx: ag_vdot(make_vjp(fx)(xx)[0](uu), w))(x)
        out["rev2"] = second(u)
        out["fwd2"] = grad(lambda uu: ag_vdot(second(uu), v))(u)
    return out


def to_numpy(t: Any) -> Any:
    return rebuild(t, iter([onp.array(leaf) if not isinstance(leaf, float) else leaf
                            for leaf in leaves(t)]))


# --------------------------------------------------------------------------- engines

def _args_with(args: tuple, argnum, x) -> tuple:
    args = list(args)
    if isinstance(argnum, int):
        args[argnum] = x
    else:
        for i, xi in zip(argnum, x):
            args[i] = xi
    return tuple(args)


def _engine_leaf(leaf: Any, make: Callable) -> Any:
    return make(leaf)


def hyperdual_derivatives(fx: Callable, x: Any, v: Any, w: Any, order: int) -> dict:
    from hyperdual import Dual, HyperDual
    if order == 1:
        xs = rebuild(x, iter([Dual(a, b) for a, b in zip(leaves(x), leaves(v))]))
        y = fx(xs)
        vals, d1 = [], []
        for leaf in leaves(y):
            if isinstance(leaf, Dual):
                vals.append(leaf.real)
                d1.append(leaf.dual)
            else:
                vals.append(leaf)
                d1.append(onp.zeros_like(onp.asarray(leaf, dtype=float)))
        return {"value": vals, "fwd1": d1}
    xs = rebuild(x, iter([HyperDual(a, b, c, onp.zeros_like(onp.asarray(a, dtype=float)))
                          for a, b, c in zip(leaves(x), leaves(v), leaves(w))]))
    y = fx(xs)
    vals, d1, d2 = [], [], []
    for leaf in leaves(y):
        if isinstance(leaf, HyperDual):
            vals.append(leaf.real)
            d1.append(leaf.eps1)
            d2.append(leaf.eps12)
        else:
            z = onp.zeros_like(onp.asarray(leaf, dtype=float))
            vals.append(leaf)
            d1.append(z)
            d2.append(z)
    return {"value": vals, "fwd1": d1, "fwd2": d2}


def reverse_derivatives(fx: Callable, x: Any, u: Any, w: Any, order: int) -> dict:
    from reverse import Variable
    xl = leaves(x)
    xvs = [Variable(onp.asarray(a, dtype=onp.asarray(a).dtype if onp.asarray(a).dtype.kind == "f"
                                 else float)) for a in xl]
    y = fx(rebuild(x, iter(xvs)))
    loss = None
    vals = []
    for leaf, uk in zip(leaves(y), leaves(u)):
        vals.append(leaf.data if isinstance(leaf, Variable) else leaf)
        if isinstance(leaf, Variable):
            term = onp.sum(leaf * uk)
            loss = term if loss is None else loss + term
    out: dict = {"value": vals}
    if loss is None:
        out["rev1"] = [onp.zeros_like(onp.asarray(a, dtype=float)) for a in xl]
        out["rev2"] = out["rev1"]
        return out
    loss.backward(create_graph=order >= 2)
    grads = [xv.grad for xv in xvs]
    out["rev1"] = [g.data if g is not None else onp.zeros_like(xv.data)
                   for g, xv in zip(grads, xvs)]
    if order >= 2:
        second = None
        for g, wk in zip(grads, leaves(w)):
            if g is None:
                continue
            term = onp.sum(g * wk)
            second = term if second is None else second + term
        for xv in xvs:
            xv.clear_grad()
        if second is not None and isinstance(second, Variable):
            second.backward()
        out["rev2"] = [xv.grad.data if xv.grad is not None else onp.zeros_like(xv.data)
                       for xv in xvs]
    return out


def engine_operator(engine: str, name: str) -> Callable:
    """The engine's helper playing autograd's differential operator ``name``."""
    mod = __import__(engine)

    def ones(f, x):  # autograd's elementwise_grad: the VJP with a seed of ones
        return mod.vjp(f, x, onp.ones_like(onp.asarray(_value(f(x)), dtype=float)))[1]
    table = {
        "grad": lambda f, x: mod.gradient(f, x),
        "deriv": lambda f, x: mod.derivative(f, x),
        "elementwise_grad": ones,
        "jacobian": lambda f, x: mod.jacobian(f, x),
        "hessian": lambda f, x: mod.hessian(f, x),
        "value_and_grad": lambda f, x: mod.value_and_gradient(f, x),
    }
    return table[name]


def _value(y: Any) -> Any:
    for attr in ("real", "data"):
        if hasattr(y, attr) and not isinstance(y, (onp.ndarray, float, onp.generic)):
            return _value(getattr(y, attr))
    return y


# --------------------------------------------------------------------------- adapters

def _call_index() -> int:
    STATE["call"] += 1
    return STATE["call"]


def make_check_grads(flavour: str) -> Callable:
    def check_grads(fun, argnum=0, modes=None, order=2):
        def nary(*args, **kwargs):
            if DEPTH.get() > 0:
                return None
            i = _call_index()
            x = args[argnum] if isinstance(argnum, int) else tuple(args[k] for k in argnum)

            def fx(xx):
                return fun(*_args_with(args, argnum, xx), **kwargs)
            rng = onp.random.RandomState(1000 + i)
            v, w = random_like(x, rng), random_like(x, rng)
            if flavour == "autograd":
                rec = {"kind": "check_grads", "order": order, "x": fingerprint(args, kwargs)}
                try:
                    with deeper(), warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        y = fx(x)
                        u = random_like(y, rng)
                        if is_complex(x) or is_complex(y):
                            raise NotApplicable("complex numbers")
                        rec["truth"] = to_numpy(autograd_truth(fx, x, u, v, w, order))
                        rec["u"] = u
                except Exception as exc:  # noqa: BLE001
                    rec["error"] = f"autograd: {type(exc).__name__}: {exc}"[:200]
                    if os.environ.get("AUTOGRAD_SUITE_DEBUG"):
                        traceback.print_exc()
                STATE["records"][i] = rec
                return None
            u = STATE["records"].get(i, {}).get("u")

            def compute(engine, o):
                return ours_check(engine, fx, x, u, v, w, o)
            check_against_record(i, "check_grads", fingerprint(args, kwargs), compute)
            return None
        return nary
    return check_grads


def ours_check(engine: str, fx, x, u, v, w, order: int) -> dict:
    if engine == "hyperdual":
        return hyperdual_derivatives(fx, x, v, w, order)
    return reverse_derivatives(fx, x, u, w, order)


def check_against_record(i: int, kind: str, fp: list, compute: Callable) -> None:
    rec = STATE["records"].get(i)
    res: Results = STATE["results"]
    test, engine = STATE["test"], STATE["engine"]
    if rec is None or rec["kind"] != kind:
        res.add(test, i, kind, engine, 1, "n/a", "calls differ between flavours")
        return
    orders = list(range(1, rec["order"] + 1))
    if "error" in rec:
        for o in orders:
            res.add(test, i, kind, engine, o, "n/a", rec["error"])
        return
    if not same_call(fp, rec):
        for o in orders:
            res.add(test, i, kind, engine, o, "n/a", "arguments differ between flavours")
        return
    truth = rec["truth"]
    STATE["low_precision"] = any(a.dtype.itemsize < 8 for a in fp if a.dtype.kind == "f")
    for o in orders:
        try:
            with deeper(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ours = compute(STATE["engine"], o)
        except Exception as exc:  # noqa: BLE001
            res.add(test, i, kind, engine, o, *classify(exc, STATE["tests_dir"]))
            continue
        keys = (["value", "fwd1"] if o == 1 else ["fwd1", "fwd2"]) if engine == "hyperdual" \
            else (["value", "rev1"] if o == 1 else ["rev2"])
        bad = []
        for k in keys:
            t = truth["value"] if k == "value" else truth[k]
            ok, why = close(ours[k], t)
            if not ok:
                bad.append(f"{k}: {why}")
        res.add(test, i, kind, engine, o, "wrong" if bad else "pass", "; ".join(bad))


def make_operator(flavour: str, name: str, real: Callable | None) -> Callable:
    """grad / jacobian / hessian / ... : record autograd's value or call the engine's helper."""
    def operator(fun, argnum=0, *op_args, **op_kwargs):
        if op_args or op_kwargs or not isinstance(argnum, int):
            def unsupported(*a, **k):
                raise NotApplicable(f"autograd.{name} with extra arguments")
            return unsupported

        def nary(*args, **kwargs):
            def unary(xx):
                return fun(*_args_with(args, argnum, xx), **kwargs)
            x = args[argnum]
            top = DEPTH.get() == 0
            if flavour == "autograd":
                if not top:
                    STATE["max_depth"] = max(STATE.get("max_depth", 0), DEPTH.get())
                    with deeper():
                        return real(fun, argnum)(*args, **kwargs)
                i = _call_index()
                rec = {"kind": name, "order": 1, "x": fingerprint(args, kwargs)}
                STATE["records"][i] = rec
                STATE["max_depth"] = 0
                try:
                    with deeper(), warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        value = real(fun, argnum)(*args, **kwargs)
                    if is_complex(x) or is_complex(value):
                        raise NotApplicable("complex numbers")
                    rec["truth"] = {"value": to_numpy(value)}
                    rec["order"] = 1 + STATE["max_depth"]
                except Exception as exc:  # noqa: BLE001
                    rec["error"] = f"autograd: {type(exc).__name__}: {exc}"[:200]
                    value = None
                return value
            helper = engine_operator(STATE["engine"], name)
            if not top:
                with deeper():
                    return helper(unary, x)
            i = _call_index()
            error = None
            try:
                with deeper(), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    value = helper(unary, x)
            except Exception as exc:  # noqa: BLE001
                error, value = exc, None
            _check_operator(i, name, fingerprint(args, kwargs), x, value, error)
            if error is not None:
                raise error
            return value
        return nary
    return operator


def _check_operator(i: int, kind: str, fp: list, x: Any, value: Any,
                    error: Exception | None) -> None:
    """One grad/jacobian/... call, counted at its nesting order (grad(grad(f)) is second)."""
    rec = STATE["records"].get(i)
    res: Results = STATE["results"]
    test, engine = STATE["test"], STATE["engine"]
    order = rec["order"] if rec is not None else 1
    if rec is None or rec["kind"] != kind:
        res.add(test, i, kind, engine, order, "n/a", "calls differ between flavours")
    elif "error" in rec:
        res.add(test, i, kind, engine, order, "n/a", rec["error"])
    elif not same_call(fp, rec):
        res.add(test, i, kind, engine, order, "n/a", "arguments differ between flavours")
    elif error is not None:
        res.add(test, i, kind, engine, order, *classify(error, STATE["tests_dir"]))
    else:
        STATE["low_precision"] = any(a.dtype.itemsize < 8 for a in fp if a.dtype.kind == "f")
        ok, why = close(leaves(value), leaves(rec["truth"]["value"]))
        res.add(test, i, kind, engine, order, "pass" if ok else "wrong", why)


# --------------------------------------------------------------------------- plain namespace

class Proxy(types.ModuleType):
    """A module that answers from ``base`` and then from ``extra``."""

    def __init__(self, name: str, base: Any, **extra: Any) -> None:
        super().__init__(name)
        self.__dict__["_base"] = base
        self.__dict__.update(extra)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.__dict__["_base"], attr)


class Stubs(types.ModuleType):
    """autograd-only API: importable, raises NotApplicable when used."""

    def __init__(self, name: str, **known: Any) -> None:
        super().__init__(name)
        self.__dict__.update(known)
        self.__path__ = []

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)

        def stub(*a, **k):
            raise NotApplicable(f"{self.__name__}.{attr} has no plain-numpy meaning")
        stub.__name__ = attr
        return stub


#: --standins: the plain flavour imports this project's scipy stand-ins where the tests
#: import autograd.scipy.stats / .linalg / .special.logsumexp (the code a user writes
#: against scipy, with the import swapped), instead of scipy itself
STANDINS = [False]


def plain_modules(check_grads: Callable, operators: dict) -> dict[str, types.ModuleType]:
    import builtins

    import scipy
    import scipy.integrate
    import scipy.linalg
    import scipy.signal
    import scipy.special
    import scipy.stats

    if STANDINS[0]:
        import hyperdual
        from hyperdual import linalg as hl
        from hyperdual import stats as hstats

        stand_linalg = Proxy("autograd.scipy.linalg", scipy.linalg, **{
            n: getattr(hl, n) for n in hl.__all__ if n != "DegenerateDerivativeError"})
        stand_special = Proxy("autograd.scipy.special", scipy.special,
                              logsumexp=hyperdual.logsumexp, polygamma=hyperdual.polygamma,
                              multigammaln=hyperdual.multigammaln)
        scipy_stats: Any = hstats
        from hyperdual import signal as hsignal

        stand_signal = Proxy("autograd.scipy.signal", scipy.signal, convolve=hsignal.convolve)
    else:
        stand_linalg, stand_special, scipy_stats = scipy.linalg, scipy.special, scipy.stats
        stand_signal = scipy.signal

    # autograd.numpy.linalg's helpers, written in plain numpy
    linalg = Proxy("autograd.numpy.linalg", onp.linalg,
                   _dot=lambda a, b: onp.einsum("...ij,...jk->...ik", a, b),
                   T=lambda a: onp.swapaxes(a, -1, -2))
    np_mod = Proxy("autograd.numpy", onp, linalg=linalg, random=onp.random)
    misc = Proxy("autograd.scipy.misc", stand_special)
    sp = Proxy("autograd.scipy", scipy, special=stand_special, stats=scipy_stats,
               linalg=stand_linalg, signal=stand_signal, integrate=scipy.integrate, misc=misc)

    def check_equivalent(a, b):
        assert onp.allclose(_value(a), _value(b))

    def scalar_close(a, b):
        return abs(a - b) < 1e-6 or abs(a - b) / abs(a + b) < 1e-6

    def combo_check(fun, *args, **kwargs):
        def _combo(*cargs, **ckwargs):
            kv = [[(k, x) for x in xs] for k, xs in ckwargs.items()]
            for _args in itertools.product(*cargs):
                for _kwargs in itertools.product(*kv):
                    check_grads(fun, *args, **kwargs)(*_args, **dict(_kwargs))
        return _combo

    test_util = Stubs("autograd.test_util", check_grads=check_grads, combo_check=combo_check,
                      check_equivalent=check_equivalent, scalar_close=scalar_close)
    # autograd.isinstance / autograd.builtins.isinstance answer for boxed values:
    # no plain-numpy meaning, so they stay stubs (NotApplicable)
    top = Stubs("autograd", numpy=np_mod, scipy=sp, test_util=test_util,
                tuple=builtins.tuple, list=builtins.list, dict=builtins.dict,
                type=builtins.type, **operators)
    mods = {"autograd": top, "autograd.numpy": np_mod, "autograd.numpy.random": onp.random,
            "autograd.numpy.linalg": linalg, "autograd.numpy.fft": onp.fft,
            "autograd.scipy": sp, "autograd.scipy.special": stand_special,
            "autograd.scipy.stats": scipy_stats, "autograd.scipy.linalg": stand_linalg,
            "autograd.scipy.signal": stand_signal, "autograd.scipy.integrate": scipy.integrate,
            "autograd.scipy.misc": misc, "autograd.test_util": test_util}
    for dist in ("norm", "t", "gamma", "beta", "poisson", "chi2", "dirichlet",
                 "multivariate_normal"):
        mods[f"autograd.scipy.stats.{dist}"] = getattr(scipy_stats, dist)
    for sub in ("extend", "core", "tracer", "misc", "builtins", "wrap_util",
                "differential_operators", "misc.fixed_points", "misc.flatten", "util"):
        mods[f"autograd.{sub}"] = Stubs(f"autograd.{sub}",
                                        tuple=builtins.tuple, list=builtins.list,
                                        dict=builtins.dict)
        setattr(top, sub.split(".")[0], mods[f"autograd.{sub.split('.')[0]}"]) \
            if "." not in sub else None
    return mods


OPERATORS = ("grad", "deriv", "elementwise_grad", "jacobian", "hessian", "value_and_grad")


@contextlib.contextmanager
def flavour_modules(flavour: str, tests_dir: str):
    """Install the flavour's autograd modules (and fresh helper modules) for one import."""
    saved = {k: v for k, v in sys.modules.items() if k == "autograd" or k.startswith("autograd.")}
    local = ("numpy_utils", "test_binary_ops")
    for name in local:
        sys.modules.pop(name, None)
    patched = []
    try:
        if flavour == "autograd":
            import autograd
            import autograd.test_util as tu
            for mod, attr, new in [(tu, "check_grads", make_check_grads("autograd"))] + [
                    (autograd, op, make_operator("autograd", op, getattr(autograd, op)))
                    for op in OPERATORS]:
                patched.append((mod, attr, getattr(mod, attr)))
                setattr(mod, attr, new)
            # autograd's combo_check closes over its module's check_grads: patched above
        else:
            ops = {op: make_operator("plain", op, None) for op in OPERATORS}
            for k in list(saved):
                del sys.modules[k]
            sys.modules.update(plain_modules(make_check_grads("plain"), ops))
        yield
    finally:
        for mod, attr, old in patched:
            setattr(mod, attr, old)
        for k in [k for k in sys.modules if k == "autograd" or k.startswith("autograd.")]:
            del sys.modules[k]
        sys.modules.update(saved)
        for name in local:
            sys.modules.pop(name, None)


def load(path: Path, flavour: str) -> types.ModuleType:
    with flavour_modules(flavour, str(path.parent)):
        onp.random.seed(0)
        spec = importlib.util.spec_from_file_location(f"_ag_{flavour}_{path.stem}", path)
        mod = importlib.util.module_from_spec(spec)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec.loader.exec_module(mod)
        return mod


def expand(fn: Callable) -> list[tuple[str, dict]]:
    """pytest.mark.parametrize cases of a test function (other fixtures: none)."""
    cases: list[dict] = [{}]
    for mark in getattr(fn, "pytestmark", []):
        if mark.name != "parametrize":
            continue
        names, values = mark.args[0], list(mark.args[1])
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        new = []
        for case in cases:
            for val in values:
                vals = val if len(names) > 1 else (val,)
                new.append({**case, **dict(zip(names, vals))})
        cases = new
    params = inspect.signature(fn).parameters
    out = []
    for case in cases:
        if set(params) - set(case):
            return []
        label = ",".join(f"{k}={v!r}" for k, v in case.items())
        out.append((f"[{label}]" if label else "", case))
    return out


def pytest_failed() -> type:
    """pytest.fail / pytest.raises raise an exception outside the Exception tree."""
    try:
        from _pytest.outcomes import OutcomeException
    except ImportError:  # pragma: no cover
        return Exception
    return OutcomeException


def run_file(path: Path, results: Results, select: str | None) -> None:
    STATE["tests_dir"] = str(path.parent)
    try:
        mods = {"autograd": load(path, "autograd"), "plain": load(path, "plain")}
    except Exception as exc:  # noqa: BLE001
        results.add(path.name, 0, "import", "-", 0, "n/a", f"import failed: {exc}"[:200])
        return
    names = [n for n, f in vars(mods["autograd"]).items()
             if n.startswith("test_") and callable(f)]
    for name in names:
        for label, case in expand(getattr(mods["autograd"], name)):
            test = f"{path.stem}::{name}{label}"
            if select and select not in test:
                continue
            STATE.update(test=test, records={}, call=0)
            # a fresh import per run: module-level random states start equal in every run
            mods["autograd"] = load(path, "autograd")
            with flavour_modules("autograd", str(path.parent)):
                onp.random.seed(42)
                with contextlib.suppress(Exception, pytest_failed()), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    getattr(mods["autograd"], name)(**case)
            if not STATE["records"]:
                continue
            for engine in ENGINES:
                STATE.update(engine=engine, call=0)
                stopped = ("crash", "the test stopped before this call")
                mods["plain"] = load(path, "plain")
                with flavour_modules("plain", str(path.parent)):
                    onp.random.seed(42)
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            getattr(mods["plain"], name)(**case)
                    except (Exception, pytest_failed()) as exc:  # noqa: BLE001
                        why = classify(exc, STATE["tests_dir"])
                        stopped = (why[0], "the test stopped before this call: " + why[1])
                seen = {r["call"] for r in results.rows
                        if r["test"] == test and r["engine"] == engine}
                for i, rec in STATE["records"].items():
                    if i not in seen:  # the plain run stopped before this call
                        for o in range(1, rec["order"] + 1):
                            results.add(test, i, rec["kind"], engine, o, *stopped)


# --------------------------------------------------------------------------- report

def summarise(results: Results) -> str:
    lines = []
    rows = [r for r in results.rows if r["engine"] in ENGINES]
    for engine in ENGINES:
        for order in (1, 2):
            sel = [r for r in rows if r["engine"] == engine and
                   (r["order"] == order if order == 1 else r["order"] >= 2)]
            counts = {s: sum(r["status"] == s for r in sel) for s in STATUSES}
            reach = len(sel) - counts["unreachable"] - counts["n/a"]
            pct = 100.0 * counts["pass"] / reach if reach else float("nan")
            lines.append((engine, "1st" if order == 1 else "2nd+", counts, reach, pct))
    head = f"{'engine':10} {'order':5} " + " ".join(f"{s:>11}" for s in STATUSES) + \
        f" {'reachable':>9} {'pass %':>7}"
    out = [head, "-" * len(head)]
    for engine, order, counts, reach, pct in lines:
        out.append(f"{engine:10} {order:5} " + " ".join(f"{counts[s]:>11}" for s in STATUSES)
                   + f" {reach:>9} {pct:>6.1f}%")
    # per test function: passes if every reachable check passes in that engine
    tests = sorted({r["test"] for r in rows})
    out.append("")
    for engine in ENGINES:
        ok = n = 0
        for t in tests:
            st = [r["status"] for r in rows if r["test"] == t and r["engine"] == engine]
            st = [s for s in st if s not in ("unreachable", "n/a")]
            if st:
                n += 1
                ok += all(s == "pass" for s in st)
        out.append(f"{engine}: {ok} of {n} test functions pass every reachable check "
                   f"({100.0 * ok / max(n, 1):.1f}%)")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("autograd", type=Path, help="path to an autograd checkout (holding tests/)")
    ap.add_argument("--files", nargs="*", default=list(DEFAULT_FILES))
    ap.add_argument("-k", dest="select", default=None, help="only tests whose id contains this")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every failing check")
    ap.add_argument("--json", type=Path, default=None, help="write every check's row here")
    ap.add_argument("--standins", action="store_true",
                    help="import hyperdual.stats / .linalg / .signal.convolve / .logsumexp / "
                         ".polygamma / .multigammaln where the tests import autograd.scipy's "
                         "(scipy's names)")
    opts = ap.parse_args(argv)
    STANDINS[0] = opts.standins
    tests_dir = opts.autograd / "tests"
    sys.path.insert(0, str(tests_dir))
    sys.path.insert(0, str(REPO))
    onp.seterr(all="ignore")
    import autograd  # noqa: F401  (the truth; imported once, before any flavour swaps)
    import autograd.numpy.linalg  # noqa: F401
    import autograd.scipy.integrate  # noqa: F401
    import autograd.scipy.linalg  # noqa: F401
    import autograd.scipy.signal  # noqa: F401
    import autograd.scipy.special  # noqa: F401
    import autograd.scipy.stats  # noqa: F401
    import autograd.test_util  # noqa: F401
    results = Results()
    STATE["results"] = results
    for name in opts.files:
        path = tests_dir / name
        if path.exists():
            run_file(path, results, opts.select)
    if opts.verbose:
        for r in results.rows:
            if r["status"] not in ("pass", "n/a"):
                print(f"{r['status']:11} {r['engine']:9} o{r['order']} {r['test']}#{r['call']} "
                      f"{r['kind']}: {r['detail'][:160]}")
        print()
    print(summarise(results))
    if opts.json:
        opts.json.write_text(json.dumps(results.rows, indent=0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
