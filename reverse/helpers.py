"""Functional helpers: derivatives of plain numpy functions by reverse mode.

The names and signatures are shared with ``hyperdual`` (forward mode).  ``x``
may be a Python float or an array; results are floats for scalar in/scalar out
and ndarrays otherwise.  A derivative that is structurally zero comes back as
zeros, never None.  ``x`` may also be a ``hyperdual`` number (when a helper runs
inside a function that forward mode is differentiating); it is then kept
unconverted and the result carries the outer perturbation.

The helpers own the graphs they record.  On large inputs (x, with the parts of
a Dual counted, of 2**15 numbers or more) their backward pass drops each
intermediate value as soon as nothing needs it any more, which keeps peak
memory, and page faults, down; a Variable that ``f`` keeps somewhere (a list,
a closure) is left whole, with everything it depends on.  On plain arrays,
such a call's elementwise arithmetic writes into buffers of a pool that the
arrays it frees go back to (up to 32 MB kept between calls,
``reverse.core.clear_pool`` frees them), instead of asking the allocator for
memory that glibc has just handed back to the kernel and would page-fault in
again (for x of up to 4 MB; larger arrays get huge pages from the kernel).

Examples
--------
>>> import numpy as np
>>> gradient(lambda x: np.sum(x ** 2), np.array([1.0, 2.0]))
array([2., 4.])
>>> second_derivative(lambda x: 3 * x + 1, 2.0)
0.0
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import math
import sys
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from _exactdiff import arrays as _arrays
from _exactdiff import fprange as _fp
from _exactdiff import messages as _msg
from _exactdiff._common import WATCH_UNDERFLOW as _WATCH
from _exactdiff._common import finite_array, float_dtype, in_dtype
from _exactdiff.arrays import is_foreign_array as _is_foreign
from _exactdiff.fprange import scaled_seed as _scaled_seed

from . import _audit
from . import functions as F
from .core import (
    GUARD_ZEROS,
    GUARDED,
    KEPT,
    RETIRED_INPUTS,
    Variable,
    _is_dual,
    _seed_dtype,
    _toward,
    _unit_seed,
    as_array,
    get_config,
    grad_wrt,
    pools,
    reaches_other_leaves,
    recycle_value,
    sweeping,
    using_config,
)

__all__ = [
    "GradientCheckError",
    "GradientCheckResult",
    "derivative",
    "derivatives",
    "derivative_tensor",
    "directional_derivatives",
    "nth_derivative",
    "taylor",
    "gradient",
    "gradient_check",
    "hessian",
    "hvp",
    "jacobian",
    "jvp",
    "linearize",
    "newton",
    "numerical_grad",
    "second_derivative",
    "value_and_gradient",
    "vjp",
]

_MODES = ("forward-over-reverse", "reverse-over-reverse")


def _prepare(x: Any, fname: str) -> tuple[Any, bool]:
    """Input data for a helper (or a Variable of an outer trace) and whether it is a scalar."""
    if isinstance(x, Variable):
        return x, tuple(x.shape) == ()
    data = as_array(x)
    return data, tuple(data.shape) == ()


# ----------------------------------------------------------------------------
# Traces.  Each helper call is its own trace: its input is a Variable of its
# own (``_input``), and its backward passes (``core.grad_wrt``) compute the
# gradient with respect to that input alone, writing no ``.grad`` anywhere.
# Variables of an outer trace that ``f`` closes over are therefore constants
# to the inner pass.  When the inner result may depend on them, the inner
# pass is recorded as a graph (as ``create_graph=True`` does), so the result
# is a Variable of the outer trace and the outer pass differentiates through
# it: that is nesting without perturbation confusion.  A nested call is
# recognised three ways: x is itself a Variable, the call happens while
# another reverse helper is evaluating its f (``_DEPTH``), or the inner pass
# meets a leaf other than its own input (then it is redone with a graph).
# ----------------------------------------------------------------------------

#: Number of reverse helper calls evaluating their ``f`` in this context.
_DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("reverse_helper_depth", default=0)


def _nested(x: Any) -> bool:
    return isinstance(x, Variable) or _DEPTH.get() > 0


def _check_callable(f: Any, helper: str) -> None:
    if not callable(f):
        raise TypeError(f"reverse.{helper}: f must be callable, got {type(f).__name__}")


#: The fresh input leaves made by the public helper calls running in this context
#: (retired into ``core.RETIRED_INPUTS`` when their call returns); None outside them.
_CALL_INPUTS: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "reverse_call_inputs", default=None)


def _input(data: Any) -> Variable:
    """The helper's own input: a fresh leaf, or an identity node on an outer Variable."""
    if isinstance(data, Variable):
        with using_config("enable_backprop", True):
            node: Variable = np.positive(data)  # type: ignore[assignment]
            return node  # an identity node of the outer graph
    xv = Variable(data)
    inputs = _CALL_INPUTS.get()
    if inputs is not None:
        # (weakly: a leaf kept alive counts as a live leaf of the graphs that alias it)
        inputs.append(weakref.ref(xv))
    return xv


def _evaluate(f: Callable[[Variable], Any], xv: Variable, kt: int = 0) -> Variable:
    """Run ``f`` (recording its graph even inside ``no_grad``); a result that does
    not involve ``x`` becomes a constant Variable.  ``kt``: the seed exponent of
    the helper calls nested in f (an outer retry's, see _exactdiff.fprange)."""
    depth = _DEPTH.set(_DEPTH.get() + 1)
    backprop = None if get_config().enable_backprop else _enable_backprop()
    # (within 2**+-1000: the nested calls scale their results back by 2**-kt, and
    # a retry's far seeds, down to 2**-1800, have no power of two to undo them)
    scale = _fp.NEST_SCALE.set(max(-1000, min(kt, 1000))) if kt else None
    try:
        y = _msg.call(f, xv)  # (a[i] = x[j]: the reason in the error's own text)
    finally:
        if scale is not None:
            _fp.NEST_SCALE.reset(scale)
        if backprop is not None:
            backprop.__exit__(None, None, None)
        _DEPTH.reset(depth)
    if isinstance(y, Variable):
        return y
    if isinstance(y, (list, tuple)) and any(isinstance(v, Variable) for v in y):
        return F.stack(list(y))
    if y is None or isinstance(y, (str, bytes, dict)) or callable(y):
        raise TypeError(
            f"reverse: f returned {type(y).__name__} {y!r:.60}; it must return a number "
            "or an array (a forgotten `return`?)"
        )
    return Variable(y)


def _nest_exponent(nested: bool, data: Any, y: Variable) -> int | None:
    """None for a call on its own; for a call nested in another helper's f (on an
    outer trace's Variables or Duals), counted, the exponent k of its seed 2**k
    (0 unless the outer helper retries with scaled seeds: _exactdiff.fprange)."""
    if nested or (type(data) is not np.ndarray and _is_dual(data)) or (
            type(y.data) is not np.ndarray and _is_dual(y.data)):
        return _fp.nested_call(_DEPTH.get())
    return None


def _unscaled(g: Any, k: int | None) -> Any:
    """A nested call's result seeded with 2**k, times 2**-k (in the outer trace)."""
    return g if not k or g is None else _scaled_seed(g, -k)


def _first(data: Any, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, a first-order helper's first pass.  For a call on its own at
    a float64 point: armed (see _exactdiff.fprange.armed), so that a helper nested
    in f ends it at once (then ``_fp.RESTART``), and with the floating-point flags
    of its backward pass watched (``_fp.FLAGGED`` where one was raised, see
    _exactdiff.fprange.first_pass)."""
    if _DEPTH.get() == 0 and type(data) is np.ndarray and data.dtype == np.float64:
        return _fp.first_pass(fn, *args, level=1)
    return fn(*args)


def _armed(data: Any, fn: Callable[..., Any], *args: Any) -> Any:
    """:func:`_first` without the watch of the flags (jvp's first pass: its
    backward pass, with a cotangent of zeros, records the graph that the watched
    second pass runs)."""
    if _DEPTH.get() == 0 and type(data) is np.ndarray and data.dtype == np.float64:
        return _fp.armed(1, fn, *args)
    return fn(*args)


def _first_or_none(data: Any, fn: Callable[..., Any], *args: Any) -> Any:
    """:func:`_first`: its result (a tuple), ``_fp.RESTART``, a ``_fp.Flagged``
    where its backward pass raised a floating-point flag, or None where it raised
    a warning of reverse's own adjoints as an error (warnings as errors).  The
    helper redoes the last two watched (an adjoint that underflowed to 0 is
    otherwise a silent 0 entry of an array result)."""
    try:
        return _first(data, fn, *args)
    except RuntimeWarning as exc:
        if not _adjoint_warning(exc, data):
            raise
        return None


def _value_and_second_order(pass_: Callable[[int, int], tuple], data: Any) -> tuple:
    """``(value, derivative)`` of ``pass_(kt, ks) = (value, derivative, k)`` with the
    derivative kept in range (_second_order); the value is the same at every scale
    (the seeds scale adjoints only)."""
    values = []

    def run(kt: int, ks: int) -> Any:
        value, d, _ = pass_(kt, ks)
        values.append(value)
        return d

    d = _second_order(run, data)
    return values[0], d


def _value_in_range(pass_: Callable[[int], tuple], data: Any, first: Any = None) -> tuple:
    """``(value, derivative)`` of ``pass_(e) = (value, derivative, k)``, the
    derivative kept in range by :func:`_in_range` (the value is the same at every
    scale: the seed scales adjoints only)."""
    values = []

    def run(e: int) -> Any:
        value, d, _ = pass_(e)
        values.append(value)
        return d

    d = _in_range(run, data, first)
    return values[0], d


def _redo(before: int, inner: int | None) -> bool:
    """Whether a helper call on its own saw a helper nested in its f (then it
    redoes itself with the seeds of both kept in range: _exactdiff.fprange)."""
    return inner is None and _fp.NESTED[0] != before and _DEPTH.get() == 0


def _plain_point(data: Any) -> bool:
    return type(data) is np.ndarray and data.dtype == np.float64


def _adjoint_warning(exc: RuntimeWarning, data: Any) -> bool:
    """Whether ``exc``, raised by a helper's unwatched first pass (warnings as
    errors), is a floating-point warning of the pass's own adjoints (reverse.core
    marks those) in a call on its own at a float64 point: the call is then redone
    watched (:func:`_in_range`), which keeps the pass's own adjoints quiet, as the
    second-order helpers do, while f's own operations still warn."""
    return (getattr(exc, "exactdiff_backward", False) and _DEPTH.get() == 0
            and _plain_point(data))


def _in_range(run: Callable[[int], Any], data: Any, first: Any = None) -> Any:
    """``run(0)``, a first-order result of a helper call on its own at a float64
    point, redone where its first pass gave an inf or nan entry (or an adjoint of
    it warned, as an error): ``run(e)`` seeds the backward pass with 2**e, so its
    result is 2**e times the truth unless an adjoint leaves the range.  The watch
    of the second-order helpers (``_exactdiff.fprange.second_order``) redoes the
    pass with seeds scaled down and takes a retry without a floating-point flag
    scaled back (d/dv (v**2)**-0.5 at 1e-120: -1e240, not -inf), and +-inf only
    where two such retries at different scales agree on a result beyond the
    range; otherwise the first result stays (sqrt'(0) is inf).  ``first``: what
    the first pass gave; a ``_fp.Flagged`` issues the warnings it held back
    where the result has an inf or nan entry."""
    r = _fp.second_order(lambda kt, ks: run(kt + ks), _plain_point(data), one_seed=True,
                         reported=type(first) is _fp.Flagged)
    if type(first) is _fp.Flagged:
        first.warn(r)
    return r


def _enable_backprop() -> Any:
    cm = using_config("enable_backprop", True)
    cm.__enter__()
    return cm


def _grad(y: Variable, xv: Variable, seed: Any, graph: bool,
          release: bool = False) -> tuple[Any, bool]:
    """(gradient of y w.r.t. the helper's input xv, whether it was recorded as a graph)."""
    if not graph:
        if release and reaches_other_leaves(y, xv):
            graph = True
        else:
            g, others = grad_wrt(y, xv, seed, False, release)
            if not others:
                return g, False
            graph = True  # f closes over Variables of an outer graph: redo, recorded
    return grad_wrt(y, xv, seed, True)[0], True


def _require_scalar(y: Variable, fname: str) -> None:
    # shape (1,) is not a scalar either (as in JAX and hyperdual): one convention
    if tuple(y.shape) != ():
        raise ValueError(
            f"reverse.{fname}: f must return a scalar, got shape {tuple(y.shape)}; "
            "use jacobian(f, x) for vector-valued functions"
        )


def _zeros_like_input(xv: Variable) -> np.ndarray:
    data = xv.data
    if type(data) is not np.ndarray and _is_foreign(data):  # lazy zeros in its chunking
        return _arrays.zeros_like(data, _seed_dtype(data))
    return np.zeros(xv.shape, dtype=_seed_dtype(data))


#: From this many float64 numbers per intermediate on (256 KB), a helper's
#: single backward pass releases intermediate values as it goes
#: (``core._backward_pass``).  Smaller arrays stay below glibc's mmap/trim
#: thresholds, so malloc recycles them anyway, and there the guard that a
#: releasing pass runs costs 10-20%.  Measured on the Rosenbrock gradient:
#: 1.2x slower at n = 25,000, 2.5x faster at 32,768 (``_should_release`` counts
#: a Dual's real and dual parts, so a forward-over-reverse HVP turns at half).
_RELEASE_MIN_SIZE = 1 << 15


#: Releasing and hollowing (``core.sweeping``) decide from reference counts,
#: calibrated at import, on the interpreters the test matrix runs: CPython
#: 3.10-3.13 with the GIL.  Elsewhere (another implementation, a free-threaded
#: build, a newer CPython whose evaluation stack may borrow references) a count
#: could come out low and free a value still in use, so both stay off there:
#: that costs memory traffic on large x, never a wrong number.
_REFCOUNTS_TRUSTED = (
    sys.implementation.name == "cpython"
    and (3, 10) <= sys.version_info[:2] <= (3, 13)
    and getattr(sys, "_is_gil_enabled", lambda: True)()
)


def _should_release(data: Any, parts: int = 1) -> bool:
    """Whether a helper's one-off backward pass from x of this data should release."""
    return _REFCOUNTS_TRUSTED and math.prod(getattr(data, "shape", ())) * parts >= _RELEASE_MIN_SIZE


def _ones(y: Variable) -> np.ndarray:
    """The seed of a backward pass from ``y``, in ``y``'s float dtype."""
    return _unit_seed(y.data)


def _scalar(value: Any) -> Any:
    """float for float64 scalars; other float dtypes (float32) stay numpy scalars."""
    arr = np.asarray(value)
    if arr.dtype == np.float64 or arr.dtype.kind != "f":
        return float(arr.reshape(()))
    return arr.reshape(())[()]


def _out(value: Any, scalar: bool, xv: Variable | None = None) -> Any:
    """A helper's result: float/ndarray, or (nested) a Variable or Dual of the outer trace."""
    if value is None:
        assert xv is not None, "a structurally zero result needs the helper's input"
        value = _zeros_like_input(xv)
    if isinstance(value, (np.ndarray, np.generic)):
        return _scalar(value) if scalar else np.asarray(value)
    if xv is not None and _is_foreign(value):  # dask: lazy, chunked like the input
        return _arrays.match_chunks(value, xv.data)
    _check_live(value)
    return value  # a Variable of an outer trace, or a hyperdual number: keep it


def _check_live(value: Any) -> None:
    """A hyperdual number in a result must carry a live perturbation: one saved inside
    a hyperdual helper call that has returned (a closure called later) is refused, as
    hyperdual's own helpers do, instead of coming back as a Dual of a dead call."""
    v = value.data if isinstance(value, Variable) else value
    while _is_dual(v):
        if getattr(getattr(v, "tag", None), "retired", False):
            raise ValueError(
                f"reverse: f used a {type(v).__name__} of a hyperdual helper call that has "
                "already returned (an escaped perturbation: a number saved inside one "
                "derivative and used after it); use its .real value instead")
        v = v.real


#: The second-order helpers: their result on an outer hyperdual pass's numbers is
#: nan in every part where its value is (_nan_valued_poisoned)
_SECOND_ORDER = frozenset(("second_derivative", "hessian", "hvp"))


def _forward_lanes(f: Callable[[Any], Any], args: tuple, fname: str) -> tuple | None:
    """The outer hyperdual pass's directions that f's forward graph at ``args[0]``
    moves (``reverse._audit.graph_lanes``), for a second-order helper whose result
    carries that pass's numbers: every derivative of f by x is a function of the
    forward values alone (the helper's seeds and directions are plain), so the
    other directions cannot reach it.  One more forward call of f, made only where
    the result has a nan to place.  None (every direction) when a direction ``v``
    of hvp is itself such a number, or the forward call does not give a graph."""
    if not args or any(_is_dual(a) or isinstance(a, Variable) for a in args[1:]):
        return None
    try:
        data, _ = _prepare(args[0], fname)
        y = _evaluate(f, _input(data))
        return _audit.graph_lanes(y)
    except Exception:  # noqa: BLE001 - (f fails again: every direction, as before)
        return None


def _nan_valued_poisoned(d: Any, lanes_of: Callable[[], tuple | None] | None = None) -> Any:
    """``d``, a second derivative carrying an outer hyperdual pass's numbers, with every
    part nan where its value is nan: the outer derivative of an entry that does not
    exist is unknown too.  A kept zero tangent could leave it finite: d/ds of
    ``reverse.second_derivative(lambda x: np.sqrt(x**4) * s, 0.0)`` under
    ``hyperdual.derivative`` was ``Dual(nan, 0.0)``, so d/ds was 0 (truth 2).  (The
    first-order helpers have their own audit, ``reverse._audit``, which keeps a nan in
    the outer directions it comes from.)  ``lanes_of``: for a Dual ``d``, gives the outer
    directions f moves at all (:func:`_forward_lanes`), the others keep their parts
    (x1's 4 in the gradient of ``second_derivative(lambda t: h(t) x0, 0) + x1**2``)."""
    v = d.data if isinstance(d, Variable) else d
    while _is_dual(v):
        v = v.real
    if not isinstance(v, (np.ndarray, np.generic, float)):
        return d  # (lazy data: no mask without a compute)
    a = np.asarray(v)
    with np.errstate(invalid="ignore"):
        mask = np.isnan(a)
    if not mask.any():
        return d
    if isinstance(d, Variable):
        # a value of an outer graph: nan along every path of d there (Where keeps d's
        # own derivative elsewhere), in an exp of the outer leaf entries d reaches:
        # d.sum() alone passes the guards' Where nodes inside d's graph, which cut
        # the nan (the gradient by x of second_derivative(lambda t: sqrt(t**2)**2 *
        # x[0], 0.0) was 0, truth 2; its derivative by a leaf s was nan)
        from .rules.selection import Where

        with using_config("enable_backprop", True):
            others = _audit.outer_leaves(d, None)
            dep = d.sum() if others is None else d.sum() + np.exp(others)
            lanes = _audit.graph_lanes(d)
            factor = _audit.nan_factor(d.data, lanes)
            return Where(mask)(dep * factor, d)
    found = lanes_of() if lanes_of is not None else None
    if found is not None:
        return _audit._nan_at(d, mask, found)
    from hyperdual.helpers import _poisoned  # (d is hyperdual's: it is imported)
    return _poisoned(d, mask)


def _finite_value(v: Any) -> bool:
    """Whether the value a helper returned (jvp, vjp, value_and_gradient) is finite:
    where f itself is nan its derivatives keep their structural zeros."""
    v = v.data if isinstance(v, Variable) else v
    while _is_dual(v):
        v = v.real  # (an outer forward trace's number: its value)
    if not isinstance(v, (np.ndarray, np.floating, float)):
        return False  # (lazy data, which a test would compute: as it is)
    return bool(np.all(np.isfinite(v)))


def _nan_valued_on_input(d: Variable, x: Any, elementwise: bool) -> Variable:
    """``d``, a first derivative at a Variable ``x`` of an outer graph (a helper nested
    on an outer variable), nan along ``x``'s paths where its value is nan at a finite
    ``x``: the outer derivative of an entry that does not exist is unknown too.  The
    nan of the inner pass's audit can be a constant of the outer graph: d/dy of
    ``reverse.jvp(lambda x: np.sqrt(x**2)**2, y, 1.0)[1]`` at 0 was 0 (truth 2; the
    jvp's second pass differentiates the audit's nan with respect to its u, which
    leaves a constant).  ``elementwise`` (derivative): entry i on ``x[i]`` alone."""
    v = _audit._primal(d.data)  # (Dual data of an outer forward trace: its value)
    xv = _audit._primal(x.data) if isinstance(x, Variable) else x
    if isinstance(v, float):
        v = np.float64(v)
    if isinstance(xv, (list, tuple, float, int)):
        try:
            xv = np.asarray(xv, dtype=float)
        except (TypeError, ValueError):
            return d  # (a list of another engine's numbers: as it is)
    if not (isinstance(v, (np.ndarray, np.floating)) and isinstance(xv, (np.ndarray, np.floating))
            and v.dtype.kind == "f" and xv.dtype.kind in "fiu" and np.isfinite(xv).all()):
        return d  # (lazy data, or an inf/nan input: as it is)
    with np.errstate(invalid="ignore"):
        mask = np.isnan(v)
    if not mask.any():
        return d
    from .rules.selection import Where

    with using_config("enable_backprop", True):
        if isinstance(x, Variable):
            # (exp: a nan that depends on x at every order, as a double-backprop HVP
            # of the result needs; x.sum() * nan has a constant derivative, whose own
            # is 0)
            own = x if elementwise and tuple(x.shape) == tuple(d.shape) else x.sum()
            # and on the other outer variables f closes over, in one exp (so that the
            # derivatives by x keep them: d/ds of the jvp of y -> gradient(h(t) s, y)
            # at 0 had the tangent nan and its d/ds 0, truth 2, for sqrt(t**2)**2)
            others = _audit.outer_leaves(d, x)
            dep = np.exp(own if others is None else own + others)
        else:
            # x is a plain point and f closes over an outer trace's variables: the
            # d/ds of d/da of d/dt ``sqrt(t**2)**2 * s`` at a = 0 was 0, truth 2
            others = _audit.outer_leaves(d, None)
            if others is None:
                return d
            dep = np.exp(others)
        # (nan in the outer forward trace's directions that d's graph moves: x1's 4 in
        # the gradient of derivative(lambda a: derivative(lambda t: h(t) x0, a), 0) + x1**2)
        lanes = _audit.graph_lanes(d)
        out = Where(mask)(dep * _audit.nan_factor(d.data, lanes), d)
    if _is_dual(out.data):
        out.data = _audit._nan_at(out.data, mask, lanes)  # (not nan * a zero tangent)
    return out


def _value_out(y: Variable, graph: bool = False) -> Any:
    if graph:
        return y  # the value depends on the outer trace too
    data = y.data
    if type(data) is np.ndarray and data.shape == () and data.dtype == np.float64:
        return float(data)  # the usual case, without _scalar's conversions
    if isinstance(data, (np.ndarray, np.generic)):
        return _scalar(data) if data.shape == () else np.asarray(data)
    _check_live(data)
    return data


def _retire(token: contextvars.Token) -> None:
    """Retire the own inputs of the helper call that set ``token`` on
    ``_CALL_INPUTS``: one that escaped (saved by f and used in a later call) is
    a constant there (core.RETIRED_INPUTS)."""
    for ref in _CALL_INPUTS.get() or ():
        xv = ref()
        if xv is not None:
            RETIRED_INPUTS[id(xv)] = xv
    _CALL_INPUTS.reset(token)


def _retiring(impl: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator of a public helper whose own inputs are retired when it returns
    (what :func:`_public` does, for helpers that keep their own dtype and range
    handling: reverse.taylor_helpers)."""

    @functools.wraps(impl)
    def helper(*args: Any, **kwargs: Any) -> Any:
        token = _CALL_INPUTS.set([])
        try:
            return impl(*args, **kwargs)
        finally:
            _retire(token)

    return helper


def _public(which: int | None = None, typed: bool = True
            ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator of the public helpers (one wrapper: a frame and a check per call
    fewer than the two it replaces).

    ``typed``: the derivative gets x's dtype whatever precision f computes in
    (``_exactdiff._common.in_dtype``; a float64 constant meeting a float32 x in
    ``A @ x`` gives float64 cotangents).  Then a result at a float64 point with
    an inf or nan entry is redone with a wider exponent
    (``_exactdiff.fprange.widened``: where the terms of a derivative span more
    than the float range, no seed scaling helps).  ``which``: the item of a tuple
    result that is the derivative.  The usual case (x and the derivative of one
    float dtype, every entry finite) is decided by type tests and one
    finiteness check."""

    def wrap(impl: Callable[..., Any]) -> Callable[..., Any]:
        second = impl.__name__ in _SECOND_ORDER

        @functools.wraps(impl)
        def helper(f: Any, *args: Any, **kwargs: Any) -> Any:
            x: Any = args[0] if args else kwargs.get("x")
            # (a nested helper on an outer Variable: its nan values, see below)
            guarded = (KEPT[0], _audit.DIRTY[0])
            audited = _fp.AUDIT_NAN[0]
            unsettled = _fp.UNSETTLED[0]
            token = _CALL_INPUTS.set([])
            try:
                r = impl(f, *args, **kwargs)
            finally:
                _retire(token)
            # (where its pass kept a zero next to an inf or nan partial: a nan of f
            # itself keeps its structural zeros, but not one that an audit of a
            # helper nested in f put there)
            if not second and (KEPT[0], _audit.DIRTY[0]) != guarded \
                    and (which is None or _fp.AUDIT_NAN[0] != audited or _finite_value(r[0])):
                d = r if which is None else r[which]
                if isinstance(d, Variable):
                    # (on an outer graph: x's or f's closure's)
                    d2 = _nan_valued_on_input(d, x, impl.__name__ == "derivative")
                else:
                    d2 = d
                if d2 is not d:
                    _fp.AUDIT_NAN[0] += 1
                    r = d2 if which is None else r[:which] + (d2,) + r[which + 1:]
            if typed:
                d = r if which is None else r[which]
                tx, td = type(x), type(d)
                if not (tx is td and (tx is float or tx is np.ndarray and x.dtype == d.dtype)
                        or td is float and tx is np.ndarray and x.dtype == np.float64):
                    dt = getattr(x, "dtype", None)  # (dask: no compute for its dtype)
                    if not isinstance(dt, np.dtype):
                        dt = float_dtype(x)
                    d = in_dtype(d, dt if dt.kind == "f" else np.dtype(np.float64))
                    r = d if which is None else r[:which] + (d,) + r[which + 1:]
                    td = type(d)
                # a finite derivative is returned as it is (what widened decides
                # first), unless the range retries left it in doubt
                doubt = _fp.UNSETTLED[0] != unsettled
                if td is float:
                    if d - d == 0.0 and not doubt:
                        return r
                elif td is np.ndarray and d.dtype == np.float64:
                    if not doubt and finite_array(d):
                        return r
                else:
                    if second and (_is_dual(d) or isinstance(d, Variable)):
                        d2 = _nan_valued_poisoned(d, functools.partial(
                            _forward_lanes, f, args, impl.__name__))
                        if d2 is not d:
                            _fp.AUDIT_NAN[0] += 1
                            r = d2 if which is None else r[:which] + (d2,) + r[which + 1:]
                    return r
            if _DEPTH.get() or isinstance(x, Variable) or _is_dual(x) or (kwargs and any(
                    k.startswith("_") for k in kwargs)):
                return r
            return _fp.widened(r, functools.partial(helper, f), args, kwargs, which,
                               doubt=_fp.UNSETTLED[0] != unsettled)

        return helper

    return wrap


@_public()
def derivative(f: Callable[[Any], Any], x: Any) -> Any:
    """First derivative of ``f: R -> R`` at ``x``.

    For an array ``x``, ``f`` must act elementwise and the result is ``f'(x)``
    elementwise (for anything else use :func:`jacobian`).  For a scalar ``x``,
    ``f`` may return an array: the result is the derivative of each output.

    Parameters
    ----------
    f : callable
        Function of one argument written with plain numpy; ``R -> R``, or elementwise on arrays.
    x : float or array_like
        The point (a Python float, a 0-d or an n-d array).

    Returns
    -------
    float or ndarray
        ``f'(x)``: a float for scalar ``x``, else an array of ``x``'s shape
        (for a scalar ``x`` and an array-valued ``f``, one per output).

    Examples
    --------
    >>> import numpy as np
    >>> derivative(np.sin, 0.0)
    1.0
    >>> derivative(lambda x: x ** 4 - 2 * x ** 2, 2.0)
    24.0
    """
    _check_callable(f, "derivative")
    data, scalar = _prepare(x, "derivative")
    before = _fp.NESTED[0]
    r = _first_or_none(data, _derivative, f, x, data, scalar)
    if r is _fp.RESTART or type(r) is tuple and _redo(before, r[1]):
        return _second_order(lambda kt, ks: _derivative(f, x, data, scalar, kt, ks)[0], data)
    if type(r) is not tuple or r[1] is None and _fp.out_of_range(r[0]) and _plain_point(data):
        return _in_range(lambda e: _derivative(f, x, data, scalar, 0, e)[0], data, r)
    return r[0]


def _derivative(f: Callable[[Any], Any], x: Any, data: Any, scalar: bool, kt: int = 0,
                ks: int = 0) -> tuple[Any, int | None]:
    """(f'(x) times 2**(kt + ks), the nested call's seed exponent or None)."""
    nested = _nested(data)
    xv = _input(data)
    y = _evaluate(f, xv, kt)
    if scalar and y.ndim:  # (shape (1,) too: one derivative per output, as hyperdual)
        # scalar x, array output: dy/dx of every output, as hyperdual.derivative
        return jacobian(f, x), 0
    _check_elementwise(y, xv, "derivative")
    k = _nest_exponent(nested, data, y)
    e = kt + ks if k is None else k
    g, _ = _grad(y, xv, _scaled_seed(_ones(y), e), nested,
                 not nested and _should_release(data))
    return _out(_unscaled(g, k), scalar, xv), k


class _ScalarToArray(Exception):
    """f maps the scalar x to an array (second_derivative takes its jacobian route)."""


def _check_elementwise(y: Variable, xv: Variable, fname: str) -> None:
    if tuple(y.shape) != tuple(xv.shape) and y.size != 1:
        raise ValueError(
            f"reverse.{fname}: f must map a scalar to a scalar (or act elementwise), got "
            f"output shape {tuple(y.shape)} for input shape {tuple(xv.shape)}; use "
            "jacobian(f, x)"
        )


@_public()
def second_derivative(f: Callable[[Any], Any], x: Any) -> Any:
    """Second derivative of ``f: R -> R`` at ``x`` (double backprop).

    Parameters
    ----------
    f : callable
        Function of one argument written with plain numpy; ``R -> R``, or elementwise on arrays.
    x : float or array_like
        The point (a Python float, a 0-d or an n-d array).

    Returns
    -------
    float or ndarray
        ``f''(x)``: a float for scalar ``x``, else an array of ``x``'s shape
        (for a scalar ``x`` and an array-valued ``f``, one per output).

    Examples
    --------
    >>> second_derivative(lambda x: x ** 4 - 2 * x ** 2, 2.0)
    44.0
    """
    _check_callable(f, "second_derivative")
    data, scalar = _prepare(x, "second_derivative")

    def run(kt: int, ks: int) -> Any:
        xv, gx, nested = _gradient_graph(f, data, "second_derivative", elementwise=True,
                                         kt=kt)
        if gx is None:
            return _out(None, scalar, xv)
        g, _ = _grad(gx, xv, _scaled_seed(_ones(gx), ks), nested,
                     not nested and _should_release(data))
        return _out(g, scalar, xv)

    try:
        return _second_order(run, data, separate=True)
    except _ScalarToArray:
        # scalar x, array output: d2y/dx2 of every output, as hyperdual.second_derivative
        return jacobian(lambda t: jacobian(f, t), x)


@_public()
def gradient(f: Callable[[Any], Any], x: Any) -> Any:
    """Gradient of a scalar function ``f: R^n -> R``; shape ``x.shape``.

    Parameters
    ----------
    f : callable
        Function of one argument written with plain numpy; returns a scalar.
    x : float or array_like
        The point (a Python float, a 0-d or an n-d array).

    Returns
    -------
    float or ndarray
        The gradient, shaped like ``x`` (a float for scalar ``x``).

    Raises
    ------
    ValueError
        If ``f(x)`` is not a scalar (use :func:`jacobian`).

    Examples
    --------
    >>> import numpy as np
    >>> gradient(lambda x: np.sum(x * x), np.array([1.0, -2.0]))
    array([ 2., -4.])
    """
    _check_callable(f, "gradient")
    # value_and_gradient's own body: this call's wrapper gives the dtype and redoes
    # an inf or nan result (one wrapper and one finiteness check, not two)
    return _value_and_gradient_body(f, x, _fname="gradient")[1]


@_public(1)
def value_and_gradient(f: Callable[[Any], Any], x: Any, *, _fname: str = "value_and_gradient"
                       ) -> tuple[Any, Any]:
    """``(f(x), gradient(f, x))`` from one forward and one backward pass.

    Parameters
    ----------
    f : callable
        Function of one argument written with plain numpy; returns a scalar.
    x : float or array_like
        The point (a Python float, a 0-d or an n-d array).

    Returns
    -------
    (float, float or ndarray)
        The value ``f(x)`` and the gradient, shaped like ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> value_and_gradient(lambda x: np.sum(x ** 3), np.array([1.0, 2.0]))
    (9.0, array([ 3., 12.]))
    """
    _check_callable(f, _fname)
    data, scalar = _prepare(x, _fname)
    before = _fp.NESTED[0]
    r = _first_or_none(data, _value_and_gradient, f, data, scalar, _fname)
    if r is _fp.RESTART or type(r) is tuple and _redo(before, r[2]):
        return _value_and_second_order(
            lambda kt, ks: _value_and_gradient(f, data, scalar, _fname, kt, ks), data)
    if type(r) is not tuple or r[2] is None and _fp.out_of_range(r[1]) and _plain_point(data):
        return _value_in_range(
            lambda e: _value_and_gradient(f, data, scalar, _fname, 0, e), data, r)
    return r[0], r[1]


#: value_and_gradient without its wrapper (_public), for gradient's
_value_and_gradient_body = inspect.unwrap(value_and_gradient)


def _value_and_gradient(f: Callable[[Any], Any], data: Any, scalar: bool, fname: str,
                        kt: int = 0, ks: int = 0) -> tuple[Any, Any, int | None]:
    nested = _nested(data)
    xv = _input(data)
    release = not nested and _should_release(data)
    with sweeping(release, pools(data)):
        y = _evaluate(f, xv, kt)
    _require_scalar(y, fname)
    k = _nest_exponent(nested, data, y)
    e = kt + ks if k is None else k
    g, graph = _grad(y, xv, _scaled_seed(_ones(y), e), nested, release)
    return _value_out(y, graph), _out(_unscaled(g, k), scalar, xv), k


@_public()
def jacobian(f: Callable[[Any], Any], x: Any) -> Any:
    """Jacobian of ``f: R^n -> R^m``; shape ``f(x).shape + x.shape``.

    One backward pass per output element, sharing one forward pass.

    Parameters
    ----------
    f : callable
        Function of one argument written with plain numpy; any output shape.
    x : float or array_like
        The point (a Python float, a 0-d or an n-d array).

    Returns
    -------
    ndarray
        ``J[i..., j...] = d f(x)[i...] / d x[j...]``, shape ``f(x).shape + x.shape``.

    Examples
    --------
    >>> import numpy as np
    >>> jacobian(lambda x: x[::-1] * 2, np.array([1.0, 2.0]))
    array([[0., 2.],
           [2., 0.]])
    """
    _check_callable(f, "jacobian")
    data, scalar = _prepare(x, "jacobian")
    before = _fp.NESTED[0]
    r = _first_or_none(data, _jacobian, f, data, scalar)
    if r is _fp.RESTART or type(r) is tuple and _redo(before, r[1]):
        return _second_order(lambda kt, ks: _jacobian(f, data, scalar, kt, ks)[0], data)
    if type(r) is not tuple or r[1] is None and _fp.out_of_range(r[0]) and _plain_point(data):
        return _in_range(lambda e: _jacobian(f, data, scalar, 0, e)[0], data, r)
    return r[0]


def _jacobian(f: Callable[[Any], Any], data: Any, scalar: bool, kt: int = 0,
              ks: int = 0) -> tuple[Any, int | None]:
    graph = _nested(data)
    xv = _input(data)
    y = _evaluate(f, xv, kt)
    k = _nest_exponent(graph, data, y)
    e = kt + ks if k is None else k
    yshape = tuple(y.shape)
    m = y.size
    rows = []
    for i in range(m):
        seed = np.zeros(m, dtype=_seed_dtype(y.data))
        seed[i] = 2.0 ** e
        g, used_graph = _grad(y, xv, seed.reshape(yshape), graph)
        if used_graph and not graph:  # f depends on an outer graph: start over, recorded
            return _jacobian_rows(y, xv, yshape, scalar, True, e, k), k
        rows.append(_out(_unscaled(g, k), False, xv))
    return _stack_rows(rows, yshape, xv, scalar, graph), k


def _jacobian_rows(y: Variable, xv: Variable, yshape: tuple, scalar: bool, graph: bool,
                   e: int = 0, k: int | None = None) -> Any:
    m = y.size
    rows = []
    for i in range(m):
        seed = np.zeros(m, dtype=_seed_dtype(y.data))
        seed[i] = 2.0 ** e
        g = _grad(y, xv, seed.reshape(yshape), graph)[0]
        rows.append(_out(_unscaled(g, k), False, xv))
    return _stack_rows(rows, yshape, xv, scalar, graph)


def _stack_rows(rows: list, yshape: tuple, xv: Variable, scalar: bool, graph: bool) -> Any:
    xshape = tuple(xv.shape)
    if scalar and yshape == ():
        return _out(rows[0], True, xv)
    if not rows:
        return np.zeros(yshape + xshape, dtype=_seed_dtype(xv.data))
    if graph or any(isinstance(r, Variable) for r in rows):
        return F.reshape(F.stack(rows), yshape + xshape)
    return np.reshape(np.stack(rows), yshape + xshape)


def _second_order(run: Callable[[int, int], Any], data: Any, separate: bool = False) -> Any:
    """``run(0, 0)`` kept in range (``_exactdiff.fprange.second_order``) for plain
    float64 inputs; lazy arrays and other dtypes take the one pass.
    ``separate``: ``run`` seeds with 2**kt and 2**ks apart (not one seed 2**(kt + ks)).

    On an outer trace's Variables or Duals (a second-order helper nested in
    another helper's f) the call is counted as a nested one and its cotangent
    seeded with 2**k (``_exactdiff.fprange.nested_call``), the result scaled
    back inside the outer trace: the outer helper then redoes itself with both
    seeds scaled, as for a nested first-order helper (d/dv of
    second_derivative(log10(v**2)) at 1e100 had the wrong sign: the term
    f3(u) u1**3 underflowed).
    """
    if isinstance(data, Variable) or _is_dual(data) or separate and _DEPTH.get():
        # (inside another reverse helper's f the call records its passes as a
        # graph whatever x is, so its result is a Variable, which the watch below
        # cannot retry: d/da of a * second_derivative(log10(x**2), 1e150) had the
        # wrong sign)
        k = _fp.nested_call(_DEPTH.get())
        return _unscaled(run(k, 0), k)
    plain = type(data) is np.ndarray and data.dtype == np.float64
    r = _fp.second_order(run, plain, separate=separate)
    if separate and plain and (isinstance(r, Variable) or _is_dual(r)):
        # f closes over an outer trace's numbers (hyperdual.derivative of
        # second_derivative(lambda x: a * log10(x**2), 1e150)): the result lives in
        # that trace, so the outer helper keeps it in range as for a call on its
        # numbers, by its own retries seeding this call with 2**k
        k = _fp.nested_call(_DEPTH.get())
        if k:
            return _unscaled(run(k, 0), k)
    return r


def _gradient_graph(f: Callable[[Any], Any], data: Any, fname: str,
                    elementwise: bool = False, kt: int = 0) -> tuple[Variable, Any, bool]:
    """The helper's input, the gradient recorded as a graph (None if f does not
    depend on x), and whether the call is nested in an outer graph.  ``kt``: the
    backward pass is seeded with 2**kt instead of 1 (see _second_order)."""
    nested = _nested(data)
    xv = _input(data)
    # (the helper calls nested in f take 2**kt as well: the retries of this
    # call's range watch then reach their adjoints too)
    y = _evaluate(f, xv, kt)
    if elementwise:
        if y.ndim and xv.ndim == 0:
            raise _ScalarToArray
        _check_elementwise(y, xv, fname)
    else:
        _require_scalar(y, fname)
    token = _audit.ELEMENTWISE.set(xv if elementwise else None)
    try:
        gx, others = grad_wrt(y, xv, _scaled_seed(_ones(y), kt), True)
    finally:
        _audit.ELEMENTWISE.reset(token)
    return xv, gx, nested or others


@_public()
def hessian(f: Callable[[Any], Any], x: Any) -> Any:
    """Hessian of a scalar ``f``; shape ``x.shape + x.shape`` ((n, n) for 1-d x).

    Forward-over-reverse when ``hyperdual`` is available: one backward pass on
    data that are ``Dual`` numbers carrying a stack of unit directions (in
    blocks for large n) gives whole rows at once.  Otherwise (or when ``x`` is
    itself a ``Dual``, or inside another differentiation) reverse-over-reverse:
    one graph of the gradient, then one backward pass of it per input element.

    Parameters
    ----------
    f : callable
        Function of one argument written with plain numpy; returns a scalar.
    x : float or array_like
        The point (a Python float, a 0-d or an n-d array).

    Returns
    -------
    float or ndarray
        The Hessian, shape ``x.shape + x.shape`` (a float for scalar ``x``).

    Examples
    --------
    >>> import numpy as np
    >>> hessian(lambda x: x[0] ** 2 * x[1], np.array([1.0, 3.0]))
    array([[6., 2.],
           [2., 0.]])
    """
    _check_callable(f, "hessian")
    data, scalar = _prepare(x, "hessian")
    return _hessian(f, data, scalar, "hessian")[1]


def _hessian(f: Callable[[Any], Any], data: Any, scalar: bool, fname: str) -> tuple[Any, Any]:
    """(gradient, Hessian) of scalar ``f`` at ``data``, by the fastest exact path."""
    first: list = []

    def run(kt: int, ks: int) -> Any:
        grad, H = _hessian_once(f, data, scalar, fname, kt, ks)
        if not first:
            # the gradient of the first pass (seeded with 2**kt where nested)
            first.append(_unscaled(grad, kt))
        return H

    H = _second_order(run, data, separate=True)
    return first[0], H


def _hessian_once(f: Callable[[Any], Any], data: Any, scalar: bool, fname: str,
                  kt: int = 0, ks: int = 0) -> tuple[Any, Any]:
    if not _is_dual(data) and not _nested(data):
        hd = _hyperdual_stacks()
        if hd is not None:
            try:
                result = _hessian_forward_over_reverse(hd, f, data, scalar, fname, kt=kt,
                                                       ks=ks)
            except (TypeError, ValueError, NotImplementedError):
                # Direction stacks do not reach every operation (an inner
                # hyperdual helper given a stacked Dual, scattering into an empty
                # slice): the same forward-over-reverse one direction at a time.
                # An error there is f's own or a rule missing for Dual data, and
                # it is raised, not hidden by another mode.
                result = _hessian_forward_over_reverse(hd, f, data, scalar, fname,
                                                       stacked=False, kt=kt, ks=ks)
            if result is not None:
                return result
    return _hessian_reverse_over_reverse(f, data, scalar, fname, kt=kt, ks=ks)


#: Elements per Dual part in one direction block of the forward-over-reverse
#: Hessian (bounds memory: every recorded intermediate holds block * size).
_HESSIAN_BLOCK_ELEMENTS = 1 << 18


def _own_dual_input(data: Any) -> Variable:
    """The input Variable of one of reverse's own forward-over-reverse passes (Dual
    data of a fresh tag): its guarded pass is not audited as a pass on an outer
    trace's values would be (``reverse._audit.OWN_DUAL_INPUTS``)."""
    xv = Variable(data)
    _audit.OWN_DUAL_INPUTS[id(xv)] = xv
    return xv


def _hyperdual_stacks() -> Any:
    """hyperdual, if it imports and offers direction stacks (Dual._build, new_tag)."""
    if _HYPERDUAL:  # found once: it stays imported (~1.5 us of a Hessian at n = 10)
        return _HYPERDUAL[0]
    try:
        import hyperdual
    except Exception:
        return None
    if hasattr(hyperdual, "new_tag") and hasattr(hyperdual.Dual, "_build"):
        _HYPERDUAL.append(hyperdual)
        return hyperdual
    return None


_HYPERDUAL: list = []


def _hessian_forward_over_reverse(hd: Any, f: Callable[[Any], Any], data: Any, scalar: bool,
                                  fname: str, stacked: bool = True, kt: int = 0,
                                  ks: int = 0) -> tuple[Any, Any] | None:
    """None when f turns out to depend on an outer graph (the caller then records).

    ``stacked=False`` seeds one plain Dual per direction instead of a direction stack.
    ``kt``, ``ks``: the cotangent seed is 2**kt and the directions 2**ks e_i (the
    results are scaled by them; see _second_order).
    """
    shape = tuple(data.shape)
    n = math.prod(shape)
    watch = _kept_marks(hd)
    block = max(1, min(n, _HESSIAN_BLOCK_ELEMENTS // max(n, 1))) if stacked else 1
    eye = np.zeros(n * n, dtype=_seed_dtype(data))
    eye[::n + 1] = 1.0  # np.eye's values without its Python wrapper (~2 us at n = 10)
    eye = _scaled_seed(eye, ks).reshape((n,) + shape)
    rows = []
    grad = None
    for start in range(0, max(n, 1), block):
        tag = hd.new_tag()
        # Dual whose dual part has a leading direction axis: direction i is e_i,
        # so the dual part of the gradient is the block of Hessian rows.
        if stacked:
            xv = _own_dual_input(hd.Dual._build((data, eye[start:start + block]), tag, 1))
        else:
            xv = _own_dual_input(
                hd.Dual._build((data, eye[start] if n else np.zeros(shape)), tag, 0))
        y = _evaluate(f, xv, kt)
        _require_scalar(y, fname)
        k = min(block, n - start)
        g, others = grad_wrt(y, xv, _scaled_seed(_ones(y), kt), False,
                             _should_release(data, 1 + k))
        if others:
            return None
        if g is None:
            g = _zeros_like_input(Variable(data))
        if _is_dual(g) and getattr(g, "tag", None) == tag:
            grad = g.real
            d = g.dual if stacked else np.reshape(g.dual, (1,) + np.shape(g.dual))
            rows.append(d if np.shape(d) == (k,) + shape else np.broadcast_to(d, (k,) + shape))
        else:  # the gradient does not depend on x: zero Hessian block
            grad = g
            rows.append(np.zeros((k,) + shape, dtype=_seed_dtype(data)))
    if len(rows) == 1 and type(rows[0]) is np.ndarray and rows[0].base is None:
        H = rows[0].reshape(shape + shape)  # a fresh array of this call: no copy needed
    else:
        empty = np.zeros((0,), dtype=_seed_dtype(data))
        H = np.reshape(np.concatenate(rows) if rows else empty, shape + shape)
    if _kept_marks(hd) != watch:
        H = _symmetric_nan(_audited_hessian(hd, f, data, eye, H, kt), n)
    if scalar:
        return _out(grad, True), _out(H, True)
    assert grad is not None  # the loop above ran at least once
    if np.shape(grad) != shape:
        grad = np.broadcast_to(grad, shape)
    if _is_dual(grad):  # it carries an outer forward pass's perturbation: keep it
        _check_live(grad)
        return grad, H
    return _out(np.array(grad), False), H


#: Beyond this many variables a forward-over-reverse Hessian that kept a zero is
#: not redone with probes (the redo doubles the call's O(n**2) work; as
#: hyperdual.helpers._AUDIT_SECOND_MAX_N)
_AUDIT_HESSIAN_MAX_N = 2048


def _audited_hessian(hd: Any, f: Callable[[Any], Any], data: Any, eye: Any, H: Any,
                     kt: int) -> Any:
    """``H`` of a forward-over-reverse Hessian whose pass kept a zero next to an inf or
    nan derivative, with nan in the rows where that zero was computed.

    The pass is redone once with the directions ``eye`` (as seeded, scaled) followed by
    their nan probes, under hyperdual's ``_number.audit_k``: a zero tangent is kept only
    where its probe is 0 too (``_number._structural``), so a zero computed inside the
    Dual arithmetic (the tangent ``4 x**3`` of ``x**4`` at 0 in ``sqrt(x**4)``) meets
    the infinite derivative and gives nan.  ``rv.hessian(lambda x: np.sqrt(x**4), 0.0)``
    was 0 (truth 2; ``hyperdual.hessian`` and ``rv.hvp`` give nan).  The other order of
    the mixed derivatives is the transpose (:func:`_symmetric_nan`).  Plain float
    points of at most ``_AUDIT_HESSIAN_MAX_N`` entries; only nan entries are added; a
    redo that fails (f refuses the doubled stack) leaves ``H`` as it was."""
    n = eye.shape[0]
    number = hd._number
    outer = isinstance(H, number._Number)  # f closes over an outer hyperdual pass's numbers
    if (not outer and (type(H) is not np.ndarray or H.dtype.kind != "f")
            or n > _AUDIT_HESSIAN_MAX_N or type(data) not in (np.ndarray, float, np.float64)):
        return H
    shape = tuple(np.shape(data))
    try:
        probes = hd.helpers._probe(eye, data).astype(eye.dtype)
        tag = hd.new_tag()
        token = number.audit_k(n)
        try:
            xv = _own_dual_input(hd.Dual._build((data, np.concatenate([eye, probes])), tag, 1))
            y = _evaluate(f, xv, kt)
            g, others = grad_wrt(y, xv, _scaled_seed(_ones(y), kt), False)
        finally:
            number.AUDIT_K.reset(token)
        if others or not _is_dual(g) or getattr(g, "tag", None) != tag:
            return H
        nan = np.asarray(hd.helpers._nan_in_parts(g.dual))
        found = np.broadcast_to(nan, (2 * n,) + shape)[:n].reshape(np.shape(H))
        nan = np.asarray(hd.helpers._nan_in_parts(H))
    except Exception:
        return H  # (f fails on the probed pass: the first result stays)
    if outer:
        # every part nan, also where some part already is (a nan entry whose outer
        # derivative is a kept 0): the outer derivative of such an entry is unknown
        # (in the outer directions f moves at all: see _forward_lanes)
        mask = found | nan
        if not mask.any():
            return H
        lanes = _forward_lanes(f, (data,), "hessian")
        return hd.helpers._poisoned(H, mask) if lanes is None else _audit._nan_at(H, mask, lanes)
    mask = found & ~nan
    if not mask.any():
        return H
    return np.where(mask, np.array(np.nan, dtype=H.dtype), H)


def _kept_marks(hd: Any) -> tuple[int, int]:
    """The counters of zero cotangents kept by the backward guard and of zero
    tangents kept by Dual arithmetic: a second-order pass that changed them kept a
    zero next to an inf or nan derivative (``_symmetric_nan``, ``_audited_hvp``).
    Not ``GUARDED``: a releasing pass (large x) always runs guarded, so that
    counter moved on every call and the audits redid every large HVP (Rosenbrock
    at n = 10**5: 32 ms a call instead of 6)."""
    number = getattr(hd, "_number", None)
    return KEPT[0], (number.KEPT[0] if number is not None else 0)


def _symmetric_nan(H: Any, n: int) -> Any:
    """``H`` (shape ``x.shape * 2``) with nan at (i, j) wherever (j, i) is nan.

    Where a pass kept a zero next to an inf or nan derivative, one order of the
    mixed derivative can be found computed (nan) while the other kept the zero
    (forward-over-reverse of ``sqrt(x0)**2 * x1`` at (0, 1): d/dx1 of df/dx0 is nan,
    d/dx0 of df/dx1 = sqrt(x0)**2 was the Dual arithmetic's 0 * inf kept as 0;
    the truth is 1 for both).  The Hessian of f is symmetric wherever it exists, so
    the finite one of the two is not to be trusted: both are nan, as in hyperdual
    (``hyperdual.helpers._audited_second``).  Plain float arrays only."""
    if type(H) is not np.ndarray or H.dtype.kind != "f" or n < 2:
        return H
    sq = H.reshape(n, n)
    nan = np.isnan(sq)
    mask = nan.T & ~nan
    if not mask.any():
        return H
    return np.where(mask, np.array(np.nan, dtype=H.dtype), sq).reshape(H.shape)


def _audited_hvp(f: Callable[[Any], Any], hyperdual: Any, data: Any, vdata: Any,
                 hv: Any, kt: int) -> Any:
    """``hv`` of a forward-over-reverse HVP whose pass kept a zero next to an inf or
    nan derivative, with nan where that zero was computed.

    Two checks, as ``hyperdual.hvp``'s audit (``hyperdual.helpers._audited_second``):
    the pass redone with the direction followed by its nan probe (hyperdual's
    ``_number.AUDIT_K``: a zero tangent computed inside the Dual arithmetic, the
    tangent of ``x0**3`` in ``cbrt(x0**3) * x1``, is not kept where its probe
    moves), and the other order of the mixed derivatives, ``grad (v . grad f)``
    by double backprop (the forward pass differentiates the gradient along v; a
    zero kept along one order shows as nan along the other: ``sqrt(x0)**2 * x1``
    along e1 at (0, 1) was [0, 0], truth [1, 0]).  An entry is nan where either is
    and ``hv`` is not; everything else is ``hv``'s.  Plain float64 data only."""
    try:
        number = hyperdual._number
        probe = hyperdual.helpers._probe(vdata, data)
        tag = hyperdual.new_tag()
        token = number.audit_k(1)
        try:
            xv = _own_dual_input(hyperdual.Dual._build((data, np.stack([vdata, probe])), tag, 1))
            y = _evaluate(f, xv)
            g, others = grad_wrt(y, xv, _scaled_seed(_ones(y), kt), False)
        finally:
            number.AUDIT_K.reset(token)
        # (an outer forward trace's numbers that f closes over: their values decide)
        primal = _audit._primal
        found = np.zeros(np.shape(data), dtype=bool)
        if not others and _is_dual(g) and getattr(g, "tag", None) == tag:
            found |= np.isnan(np.broadcast_to(primal(g.dual), (2,) + np.shape(data))[0])
        with sweeping(False):
            xv2, gx, graph = _gradient_graph(f, data, "hvp", kt=kt)
        if gx is not None and not graph:
            other = _grad(gx, xv2, vdata, False)[0]
            if other is not None:
                other = other.data if isinstance(other, Variable) else other
                found |= np.isnan(np.broadcast_to(np.asarray(primal(other)), found.shape))
    except Exception:
        return hv  # (f fails on the probed or recorded pass: the first result stays)
    a = np.asarray(_audit._primal(hv))
    mask = found & ~np.isnan(a)
    if not mask.any():
        return hv
    if _is_dual(hv):
        # every part nan there: d/ds of the HVP of sqrt(t**2)**2 s at 0 under
        # hyperdual was 0, truth 2 (the probe's nan sat in the outer Dual's real part)
        # (in the outer directions f and v move at all: see _forward_lanes)
        lanes = _forward_lanes(f, (data, vdata), "hvp")
        if lanes is not None:
            return _audit._nan_at(hv, mask, lanes)
        from hyperdual.helpers import _poisoned
        return _poisoned(hv, mask)
    out = np.where(mask, np.array(np.nan, dtype=a.dtype), a)
    return out if type(hv) is np.ndarray else type(hv)(out[()])


def _hessian_reverse_over_reverse(f: Callable[[Any], Any], data: Any, scalar: bool,
                                  fname: str, kt: int = 0, ks: int = 0) -> tuple[Any, Any]:
    kept = KEPT[0]
    xv, gx, graph = _gradient_graph(f, data, fname, kt=kt)
    shape = tuple(xv.shape)
    if gx is None:
        zeros = np.zeros(shape + shape, dtype=_seed_dtype(xv.data))
        return _out(None, scalar, xv), _out(zeros, scalar)
    n = xv.size
    rows = []
    for i in range(n):
        seed = np.zeros(n, dtype=_seed_dtype(gx.data))
        seed[i] = 2.0 ** ks
        rows.append(_out(_grad(gx, xv, seed.reshape(shape), graph)[0], False, xv))
    grad = gx if graph else gx.data
    if scalar:
        return _out(grad, True), _out(rows[0], True)
    H = _stack_rows(rows, shape, xv, False, graph)
    if KEPT[0] != kept:  # (see _symmetric_nan)
        H = _symmetric_nan(H, n)
    return _out(grad, False), H


@_public()
def hvp(f: Callable[[Any], Any], x: Any, v: Any, mode: str = "forward-over-reverse") -> Any:
    """Hessian-vector product ``H(x) @ v`` of a scalar ``f``, without forming H.

    Parameters
    ----------
    f : callable
        Function of one argument written with plain numpy; returns a scalar.
    x : float or array_like
        The point.
    v : float or array_like
        The direction, with ``x``'s shape.
    mode : {"forward-over-reverse", "reverse-over-reverse"}
        ``"forward-over-reverse"`` runs reverse mode on ``hyperdual.Dual(x, v)``
        data; the dual part of the gradient is ``H v`` (needs ``hyperdual``).
        ``"reverse-over-reverse"`` backpropagates ``v . grad f`` through the
        gradient's graph (double backprop).  Inside another differentiation
        (x or v a Variable of an outer graph, or f closing over one) both
        modes compute by double backprop, recorded so the outer pass can
        differentiate the result.

    Returns
    -------
    float or ndarray
        ``H(x) @ v``, shaped like ``x``.

    Raises
    ------
    ValueError
        If ``f(x)`` is not a scalar, or ``mode`` is not one of the two.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda x: x[0] ** 2 * x[1]
    >>> hvp(f, np.array([1.0, 3.0]), np.array([1.0, 0.0]), mode="reverse-over-reverse")
    array([6., 2.])
    """
    _check_callable(f, "hvp")
    if not isinstance(mode, str):  # (an array in `in` would warn/raise in numpy)
        raise TypeError(f"reverse.hvp: mode must be a str, one of {_MODES}, got "
                        f"{type(mode).__name__}")
    if mode not in _MODES:
        raise ValueError(f"reverse.hvp: mode must be one of {_MODES}, got {mode!r}")
    data, scalar = _prepare(x, "hvp")
    vdata = v if isinstance(v, Variable) else as_array(v)
    if _is_dual(vdata) or _is_dual(data) or isinstance(vdata, Variable) or isinstance(
            data, Variable):
        pass
    elif tuple(vdata.shape) == tuple(data.shape):
        vdata = vdata.astype(data.dtype, copy=False)  # derivatives follow x's dtype
        if _is_foreign(vdata):  # dask: v chunked like x (block by block alike)
            vdata = _arrays.match_chunks(vdata, data)
    if tuple(vdata.shape) != tuple(data.shape):
        raise ValueError(f"reverse.hvp: v has shape {tuple(vdata.shape)}, x has shape "
                         f"{tuple(data.shape)}; they must match")
    plain = type(vdata) is np.ndarray

    def run(kt: int, ks: int) -> Any:
        v = _scaled_seed(vdata, ks) if plain else vdata
        kept = KEPT[0]
        if mode == "forward-over-reverse" and not (_nested(data)
                                                   or isinstance(vdata, Variable)):
            result = _hvp_forward_over_reverse(f, data, v, scalar, kt)
            if result is not None:
                return result
        with sweeping(not (_nested(data) or isinstance(vdata, Variable))
                      and _should_release(data),
                      pools(data) and type(v) is np.ndarray):
            xv, gx, graph = _gradient_graph(f, data, "hvp", kt=kt)
        if gx is None:
            return _out(None, scalar, xv)
        graph = graph or isinstance(vdata, Variable)
        # Backpropagating gx with seed v gives v^T H = (H v)^T: H is symmetric.
        release = not graph and _should_release(data)
        g, recorded = _grad(gx, xv, v, graph, release)
        if release and not recorded:
            recycle_value(gx)  # its buffer, for the next call (nothing else sees gx)
        if isinstance(g, np.floating):  # (a 0-d x: the same audit as an array's)
            g = np.asarray(g)
        if not graph and KEPT[0] != kept and type(g) is np.ndarray \
                and g.dtype.kind == "f" and type(v) is np.ndarray:
            g = _other_order(f, data, v, g, scalar, kt)
        return _out(g, scalar, xv)

    return _second_order(run, data, separate=True) if plain else run(0, 0)


def _other_order(f: Callable[[Any], Any], data: Any, v: Any, g: Any, scalar: bool,
                 kt: int) -> Any:
    """``g``, a double-backprop HVP whose passes were guarded (a zero kept next to
    an inf or nan derivative), with nan where the forward-over-reverse HVP (the
    other order of the mixed derivatives, audited: ``_audited_hvp``) is nan: the
    cotangent ``3 x0**2`` of ``cbrt(x0**3) * x1`` is a zero computed in the first
    pass that the second takes as a clean one (H[0, 1] was 0, truth 1)."""
    try:
        other = _hvp_forward_over_reverse(f, data, v, scalar, kt)
    except Exception:
        return g  # (no hyperdual, or f fails on Dual data: the first result stays)
    if other is None:
        return g
    with np.errstate(invalid="ignore"):
        mask = np.broadcast_to(np.isnan(np.asarray(other)), g.shape) & ~np.isnan(g)
    if not mask.any():
        return g
    return np.where(mask, np.array(np.nan, dtype=g.dtype), g)


#: hyperdual, once _hvp_forward_over_reverse has imported it
_HYPERDUAL_MODULE: list = []


def _hvp_forward_over_reverse(f: Callable[[Any], Any], data: Any, vdata: Any,
                              scalar: bool, kt: int = 0) -> Any:
    """H v by one backward pass over Dual data; None if f depends on an outer graph."""
    if _HYPERDUAL_MODULE:  # imported once (an import statement costs ~1 us per call)
        hyperdual = _HYPERDUAL_MODULE[0]
    else:
        try:
            import hyperdual
        except Exception as exc:  # hyperdual is a sibling package; it may be absent or broken
            raise ImportError(
                "reverse.hvp(mode='forward-over-reverse') needs the hyperdual package, which "
                f"failed to import ({exc!r}); use mode='reverse-over-reverse'"
            ) from exc
        _HYPERDUAL_MODULE.append(hyperdual)
    # Dual data flows through every forward and backward formula unconverted;
    # the gradient's real part is grad f(x) and its dual part is H v.  A fresh
    # tag keeps this perturbation apart from any outer one (x may itself be a
    # Dual when hvp runs inside a forward-mode derivative).
    tag = hyperdual.new_tag()
    # a stack of one direction: its parts stay numpy arrays even where f indexes
    # scalars out of x (a Python float's underflow is invisible to _second_order)
    stack = type(data) is np.ndarray and type(vdata) is np.ndarray and data.dtype == np.float64
    if stack:
        xv = _own_dual_input(hyperdual.Dual._build((data, vdata[None]), tag, 1))
    else:
        xv = _own_dual_input(hyperdual.Dual(data, vdata, tag=tag))
    release = _should_release(data, 2)
    watch = _kept_marks(hyperdual)
    with sweeping(release):
        y = _evaluate(f, xv, kt)
    _require_scalar(y, "hvp")
    g, others = grad_wrt(y, xv, _scaled_seed(_ones(y), kt), False, release)
    if others:
        return None
    if g is None or not _is_dual(g) or getattr(g, "tag", None) != tag:
        # H v does not depend on v
        if _is_foreign(data):  # zeros in the data's library and chunking (lazy)
            return _arrays.zeros_like(data, _seed_dtype(data))
        return _out(np.zeros(tuple(xv.shape), dtype=_seed_dtype(data)), scalar)
    hv = g.dual
    if stack:
        hv = hv[0] if np.shape(hv)[:1] == (1,) else np.broadcast_to(hv, (1,) + np.shape(data))[0]
    if _is_foreign(data):  # dask: chunked like the input
        hv = _arrays.match_chunks(hv, data)
    elif type(data) is np.ndarray and type(vdata) is np.ndarray and data.dtype.kind == "f" \
            and _kept_marks(hyperdual) != watch:  # (float64, or the long double redo)
        hv = _audited_hvp(f, hyperdual, data, vdata, hv, kt)
    return _out(hv, scalar)


# ----------------------------------------------------------------------------
# Checks against central differences
# ----------------------------------------------------------------------------


def _plain(y: Any) -> np.ndarray:
    if isinstance(y, Variable):
        y = y.data
    return np.asarray(y, dtype=np.float64)


def numerical_grad(f: Callable[[Any], Any], x: Any, eps: float = 1e-6) -> Any:
    """Central-difference derivative of ``f`` at ``x``; shape ``f(x).shape + x.shape``.

    The step for element ``i`` is relative to ``x``: ``eps * max(|x_i|, rms(x))``
    (``eps`` for ``x = 0``), so the result does not depend on the units of
    ``x``: a function of ``x ~ 1e-8`` is differenced on its own scale.  The
    error is about ``step**2 * |f'''| / 6`` (truncation) plus
    ``1e-16 * |f| / step`` (rounding), i.e. roughly 1e-10 relative for
    ``eps = 1e-6`` on smooth functions.  ``f`` is called with plain float arrays.

    Parameters
    ----------
    f : callable
        Function of one argument (any output shape).
    x : float or array_like
        The point.
    eps : float
        Relative step (see above).

    Returns
    -------
    float or ndarray
        The central-difference Jacobian, shape ``f(x).shape + x.shape``.

    Examples
    --------
    >>> import numpy as np
    >>> g = numerical_grad(lambda x: np.sum(x ** 2), np.array([1.0, 2.0]))
    >>> bool(np.allclose(g, [2.0, 4.0]))
    True
    >>> bool(np.isclose(numerical_grad(np.log, 1e-8), 1e8))
    True
    """
    _check_callable(f, "numerical_grad")
    return _central_differences(f, x, eps)[0]


#: Rounding allowance of a difference quotient, in ulps of the differenced values
#: (each evaluation of f may be off by a few ulps times its condition number).
_ROUNDING_ULPS = 64.0


def _central_differences(f: Callable[[Any], Any], x: Any, eps: float,
                         truncation: bool = False) -> tuple[Any, np.ndarray]:
    """numerical_grad and, per entry, the rounding error its step allows:
    ``_ROUNDING_ULPS * eps_mach * max(|f(x + h)|, |f(x - h)|) / (2h)``.

    With ``truncation`` the allowance also holds the step's truncation error,
    estimated (scale-free) from a second difference at step 2h: ``D(h) = f' + c h**2
    + O(h**4)``, so ``|D(2h) - D(h)|`` is about three times the error ``c h**2`` of
    ``D(h)``.  Without it a right gradient of 0 where the third derivative is not 0
    (``x**3`` at 0: ``D(h) = h**2``) failed the scale-free check."""
    x = np.array(as_array(x), dtype=np.float64)
    scalar_in = x.shape == ()
    y0 = _plain(f(x.copy()))
    out = np.zeros(y0.shape + x.shape)
    noise = np.zeros(y0.shape + x.shape)
    # the scale of x (its root mean square): an entry much smaller than the others,
    # or 0, is stepped on that scale (a step relative to a tiny entry would drown
    # in the rounding of f), a lone small x on its own
    # (formed relative to the largest entry: squares of entries beyond 1e154 or
    # below 1e-154 leave the float range, and a scale of 1 taken for an rms that
    # underflowed stepped x ~ 1e-300 by 1e-6, so f(x + h) - f(x - h) was 0 and the
    # rounding allowance passed any gradient)
    with np.errstate(over="ignore", invalid="ignore"):
        big = float(np.max(np.abs(x))) if x.size else 0.0
        scale = (big * float(np.sqrt(np.mean(np.square(x / big))))
                 if 0.0 < big < math.inf else 0.0)
    scale = scale if scale > 0 and math.isfinite(scale) else 1.0
    ulp = np.finfo(np.float64).eps
    for idx in np.ndindex(*x.shape):
        h = eps * max(abs(float(x[idx])), scale)
        xp = x.copy()
        xm = x.copy()
        xp[idx] += h
        xm[idx] -= h
        step = float(xp[idx] - xm[idx])  # the representable step, not 2h
        fp, fm = _plain(f(xp)), _plain(f(xm))
        d = (fp - fm) / step
        out[(Ellipsis,) + idx] = d
        big = np.maximum(np.abs(fp), np.abs(fm))
        trunc: Any = 0.0
        if truncation:
            xp[idx], xm[idx] = x[idx] + 2 * h, x[idx] - 2 * h
            step2 = float(xp[idx] - xm[idx])
            fp2, fm2 = _plain(f(xp)), _plain(f(xm))
            with np.errstate(invalid="ignore", over="ignore"):
                d2 = (fp2 - fm2) / step2
                big = np.maximum(big, np.maximum(np.abs(fp2), np.abs(fm2)))
                trunc = np.where(np.isfinite(d2), np.abs(d2 - d), 0.0)
        noise[(Ellipsis,) + idx] = trunc + _ROUNDING_ULPS * ulp * big / step
    if scalar_in and y0.shape == ():
        return float(out), noise
    return out, noise


class GradientCheckError(AssertionError):
    """Raised by :func:`gradient_check` when exact and numerical derivatives disagree.

    Examples
    --------
    >>> issubclass(GradientCheckError, AssertionError)
    True
    """


@dataclass
class GradientCheckResult:
    """Outcome of :func:`gradient_check`; truthy when the check passed.

    Parameters
    ----------
    ok : bool
        Whether every element was within the tolerance.
    order : int
        1 (gradient or Jacobian) or 2 (Hessian).
    max_abs_error, max_rel_error : float
        Largest ``|exact - numerical|`` and the same relative to ``|numerical|``.
    rtol, atol : float
        The tolerances the check used.
    exact, numerical : numpy.ndarray
        The reverse-mode derivative and the central-difference estimate.

    Examples
    --------
    >>> import numpy as np
    >>> r = gradient_check(lambda x: np.sum(np.sin(x)), np.array([0.1, 0.2]))
    >>> bool(r), r.order
    (True, 1)
    """

    ok: bool
    order: int
    max_abs_error: float
    max_rel_error: float
    rtol: float
    atol: float
    exact: np.ndarray = field(repr=False)
    numerical: np.ndarray = field(repr=False)

    def __bool__(self) -> bool:
        return self.ok

    def report(self) -> str:
        """Human-readable summary naming the worst element.

        Returns
        -------
        str
            One line: passed or failed, the largest errors, the tolerances and
            the index where exact and numerical derivatives differ most.

        Examples
        --------
        A gradient that is wrong by a factor 2 (x**3 claimed to have 6 x**2):

        >>> import numpy as np
        >>> from reverse import Function
        >>> class BadCube(Function):
        ...     def forward(self, x):
        ...         return x ** 3
        ...     def backward(self, gy, y, x):
        ...         return gy * 6 * x ** 2
        >>> r = gradient_check(lambda x: BadCube()(x).sum(), np.array([1.0, 2.0]),
        ...                    raise_on_failure=False)
        >>> print(r.report())  # doctest: +ELLIPSIS
        gradient_check(order=1): FAILED; ... worst at index (1,): exact 24.0 vs numerical 12.0...
        """
        err = np.abs(self.exact - self.numerical)
        worst = (tuple(int(i) for i in np.unravel_index(int(np.argmax(err)), err.shape))
                 if err.size else ())
        exact = self.exact[worst].item() if err.size else None
        numerical = self.numerical[worst].item() if err.size else None
        return (
            f"gradient_check(order={self.order}): {'ok' if self.ok else 'FAILED'}; "
            f"max abs error {self.max_abs_error:.3g}, max rel error {self.max_rel_error:.3g} "
            f"(rtol={self.rtol:g}, atol={self.atol:g}); worst at index {worst}: "
            f"exact {exact!r} vs numerical {numerical!r}"
        )


def gradient_check(f: Callable[[Any], Any], x: Any, order: int = 1, eps: float = 1e-6,
                   rtol: float = 1e-5, atol: float = 1e-5, raise_on_failure: bool = True
                   ) -> GradientCheckResult:
    """Compare exact reverse-mode derivatives with central differences.

    ``order=1`` compares :func:`jacobian` (the gradient for scalar ``f``) with
    ``numerical_grad(f)``; ``order=2`` compares :func:`hessian` with central
    differences of the exact gradient.  Every element must satisfy::

        |exact - numerical| <= rtol * |numerical| + atol * scale + rounding

    where ``scale`` is the largest ``|numerical|`` entry (the derivative's own
    scale: no absolute floor, so a gradient of size 1e-20 is checked as
    strictly as one of size 1), and ``rounding`` is what the central
    difference cannot resolve: a few ulps of the differenced values divided by
    the step (the steps are relative to ``|x|``, see :func:`numerical_grad`),
    plus its truncation error, estimated from a second difference at twice the
    step (so a right gradient of 0 where f''' is not 0, ``x**3`` at 0, passes).
    So the check is invariant under rescaling ``x`` or ``f``, and a derivative
    wrong by a factor 2 fails at any scale.

    The defaults (``eps=1e-6``, ``rtol = atol = 1e-5``) leave a margin of about
    1e5 over the truncation error of a smooth function (about 1e-10 relative);
    with a larger step scale ``rtol`` as ``eps**2``.

    Parameters
    ----------
    f : callable
        Function of one argument written with plain numpy (scalar for ``order=2``).
    x : float or array_like
        The point.
    order : {1, 2}
        First derivatives (Jacobian) or second derivatives (Hessian).
    eps : float
        Relative step of the central differences.
    rtol, atol : float
        Tolerances of the comparison (see above).
    raise_on_failure : bool
        Raise :class:`GradientCheckError` on failure (else return the result).

    Returns
    -------
    GradientCheckResult
        True in a boolean context when every element passes; holds the exact
        and numerical values and the worst errors.

    Raises
    ------
    GradientCheckError
        (an ``AssertionError``) with a report, if the check fails and
        ``raise_on_failure`` is true.

    Examples
    --------
    >>> import numpy as np
    >>> bool(gradient_check(lambda x: np.sum(np.exp(x) * x), np.array([0.5, 1.0]), order=2))
    True
    >>> bool(gradient_check(lambda x: 1e-20 * np.sum(x ** 3), np.array([1e-8, 2e-8])))
    True
    """
    _check_callable(f, "gradient_check")
    if order == 1:
        exact = np.asarray(jacobian(f, x), dtype=np.float64)
        numerical, rounding = _central_differences(f, x, eps, truncation=True)
    elif order == 2:
        exact = np.asarray(hessian(f, x), dtype=np.float64)
        numerical, rounding = _central_differences(lambda z: gradient(f, z), x, eps,
                                                   truncation=True)
    else:
        raise ValueError(f"gradient_check: order must be 1 or 2, got {order!r}")
    numerical = np.asarray(numerical, dtype=np.float64)
    rounding = np.reshape(rounding, numerical.shape)
    err = np.abs(exact - numerical)
    finite = np.abs(numerical[np.isfinite(numerical)])
    scale = float(np.max(finite)) if finite.size else 0.0
    bound = rtol * np.abs(numerical) + atol * scale + rounding
    ok = bool(np.all((err <= bound) | (exact == numerical)))
    rel = err / np.maximum(np.abs(numerical), 1e-300)
    result = GradientCheckResult(
        ok=ok, order=order,
        max_abs_error=float(np.max(err)) if err.size else 0.0,
        max_rel_error=float(np.max(rel)) if rel.size else 0.0,
        rtol=rtol, atol=atol, exact=exact, numerical=numerical,
    )
    if not ok and raise_on_failure:
        raise GradientCheckError(result.report())
    return result


# ----------------------------------------------------------------------------
# Newton's method
# ----------------------------------------------------------------------------


def newton(f: Callable[[Any], Any], x0: Any, tol: float = 1e-10, max_iter: int = 50) -> np.ndarray:
    """Minimise (or find a stationary point of) scalar ``f`` by Newton's method.

    Each step solves ``H(x) dx = -grad f(x)`` with the exact Hessian; the
    iteration stops when ``||grad f(x)|| <= tol``.  A ``RuntimeWarning`` is
    issued if that has not happened after ``max_iter`` steps.

    Parameters
    ----------
    f : callable
        Scalar function of one argument written with plain numpy.
    x0 : float or array_like
        The starting point.
    tol : float
        Stop when the gradient's norm is at most ``tol``.
    max_iter : int
        Maximum number of Newton steps.

    Returns
    -------
    ndarray
        The path of iterates, ``x0`` first: shape ``(k + 1,)`` for scalar ``x0``,
        ``(k + 1,) + x0.shape`` otherwise; the final point is ``path[-1]``.

    Raises
    ------
    numpy.linalg.LinAlgError
        If a Hessian is singular (``ValueError`` for a zero second derivative).

    Examples
    --------
    >>> path = newton(lambda x: x ** 4 - 2 * x ** 2, 2.0)
    >>> float(path[-1])
    1.0
    """
    _check_callable(f, "newton")
    x = np.array(as_array(x0), dtype=np.float64)
    scalar = x.shape == ()
    path = [x.copy()]
    gnorm = math.inf
    for _ in range(max_iter + 1):
        g, H = _hessian(f, x, scalar, "newton")
        gnorm = float(np.linalg.norm(np.ravel(g)))
        if gnorm <= tol or len(path) > max_iter:
            break
        if scalar:
            if H == 0.0:
                raise ValueError(f"newton: zero second derivative at x = {float(x)!r}")
            x = x - g / H
        else:
            n = x.size
            step = np.linalg.solve(np.reshape(H, (n, n)), np.ravel(g))
            x = x - np.reshape(step, x.shape)
        path.append(np.array(x, dtype=np.float64))
    if not gnorm <= tol:
        warnings.warn(f"newton: gradient norm {gnorm:.3g} > tol={tol:g} after "
                      f"{len(path) - 1} steps", RuntimeWarning, stacklevel=2)
    return np.array(path)


# ----------------------------------------------------------------------------
# jvp / vjp / linearize: directional derivatives (the common functional API)
# ----------------------------------------------------------------------------


def _direction(v: Any, shape: tuple, fname: str, what: str, like: str, dtype: Any) -> Any:
    """A tangent/cotangent as raw data (array or hyperdual number) of ``shape``."""
    if isinstance(v, Variable):  # a direction of an outer trace (nesting)
        data = v
    else:
        data = as_array(v)
    if tuple(data.shape) != tuple(shape):
        raise ValueError(f"reverse.{fname}: {what} has shape {tuple(data.shape)}, expected "
                         f"{like} {tuple(shape)}")
    if not _is_dual(data) and not isinstance(data, Variable) and isinstance(dtype, np.dtype):
        data = data.astype(dtype, copy=False)  # derivatives follow the value's dtype
    return data


@_public(1)
def vjp(f: Callable[[Any], Any], x: Any, u: Any) -> tuple[Any, Any]:
    """``(f(x), u @ J(x))``: the value and the vector-Jacobian product.

    One forward and one backward pass seeded with ``u``: the cheap direction
    in reverse mode (cost of a few evaluations of ``f``, whatever the size
    of ``x``).

    Parameters
    ----------
    f : callable
        Any function of one argument, written with plain numpy.
    x : float, 0-d or n-d array
    u : float or array of ``f(x)``'s shape
        The cotangent.

    Returns
    -------
    (value, cotangent)
        ``f(x)`` and ``uᵀ J``, shaped like ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> vjp(lambda x: np.stack([x[0] * x[1], np.sin(x[0])]), np.array([0.0, 2.0]),
    ...     np.array([1.0, 1.0]))
    (array([0., 0.]), array([3., 0.]))
    """
    _check_callable(f, "vjp")
    data, scalar = _prepare(x, "vjp")
    before = _fp.NESTED[0]
    if type(u) is Variable:
        value, g, _ = _vjp(f, data, scalar, u)
        return value, g
    r = _first_or_none(data, _vjp, f, data, scalar, u)
    if r is _fp.RESTART or type(r) is tuple and _redo(before, r[2]):
        return _value_and_second_order(lambda kt, ks: _vjp(f, data, scalar, u, kt, ks), data)
    if type(r) is not tuple or r[2] is None and _fp.out_of_range(r[1]) and _plain_point(data):
        return _value_in_range(lambda e: _vjp(f, data, scalar, u, 0, e), data, r)
    return r[0], r[1]


def _vjp(f: Callable[[Any], Any], data: Any, scalar: bool, u: Any, kt: int = 0,
         ks: int = 0) -> tuple[Any, Any, int | None]:
    nested = _nested(data)
    xv = _input(data)
    y = _evaluate(f, xv, kt)
    seed = _direction(u, y.shape, "vjp", "u", "f(x)'s shape", _seed_dtype(y.data))
    k = _nest_exponent(nested, data, y)
    e = kt + ks if k is None else k
    g, graph = _grad(y, xv, _scaled_seed(seed, e), nested or isinstance(seed, Variable))
    return _value_out(y, graph), _out(_unscaled(g, k), scalar, xv), k


def _transposed_graph(f: Callable[[Any], Any], data: Any, fname: str, kt: int = 0
                      ) -> tuple[Variable, Variable, Variable, Any, bool, int | None,
                                 set[int]]:
    """(x, y, u, g, nested, k, keep): the graph of ``g = uᵀ J(x)``, linear in the
    leaf ``u``; k as _nest_exponent gives it; keep: the functions of g's graph
    on the paths to u (``core._toward``).

    Backpropagating ``g`` with seed ``v`` gives ``d(gᵀv)/du = J v``: the
    double-vjp trick, a JVP from two reverse passes.
    """
    nested = _nested(data)
    xv = _input(data)
    y = _evaluate(f, xv, kt)
    k = _nest_exponent(nested, data, y)
    # u is a leaf that the second pass differentiates, not a structural zero.  The
    # pass runs with u = 0, so that its values (linear in u, and never used: the
    # second pass reads only the partials) are 0 and raise no floating-point
    # event.  But where the zero-cotangent guard (reverse.rules._util._keep_zero)
    # had to act, it took u's zero times an infinite partial as a structural 0
    # and cut the path to u there (jvp of sqrt at 0 along 1 was 0, not inf;
    # d2/dv2 logit(v**2) at 1.7e-150 by jvp of vjp was 0, not -6.9e299).  Then
    # the pass is redone with u = 1, where a cotangent is 0 only where it is 0
    # whatever u is (a constant 0 factor, a where's other branch): the guard's
    # convention.  That pass's own events (u times a huge partial) are reported
    # neither to the user nor to the range watch (_exactdiff.fprange: the first
    # pass reported those of the partials), and its values are set back to 0,
    # so that the second pass's products with them (adjoints towards x, which
    # it drops) raise none either.
    dt = _seed_dtype(y.data)
    uv = Variable(np.zeros(y.shape, dtype=dt))
    before = GUARDED[0]
    g, others = grad_wrt(y, xv, uv, True)
    found: list | None = None
    if GUARDED[0] != before or GUARD_ZEROS.get():
        uv = Variable(np.ones(y.shape, dtype=dt))
        token = _WATCH.set(False)
        try:
            with np.errstate(all="ignore"):
                g, others = grad_wrt(y, xv, uv, True)
        finally:
            _WATCH.reset(token)
        found = []
    keep = _toward(g, uv, found) if isinstance(g, Variable) else set()
    for fn in found or ():
        out = fn.output()
        if out is not None and type(out.data) is np.ndarray:
            out.data = np.zeros(out.data.shape, dtype=out.data.dtype)
    # (the pass above keeps to the paths to x, and so never meets a leaf that f
    # closes over as one of its results: a Variable the user made, s in jvp(lambda
    # t: t**2 + t * s, 0.0, 1.0), was a constant, the tangent a plain 2.0 with no
    # derivative by s)
    if not (nested or others) and isinstance(g, Variable):
        others = reaches_other_leaves(y, xv)
    return xv, y, uv, g, nested or others, k, keep


def _jvp_from(y: Variable, uv: Variable, g: Any, vdata: Any, graph: bool,
              keep: set[int]) -> Any:
    if g is None:
        return np.zeros(y.shape, dtype=_seed_dtype(y.data))
    # g's graph leads back to x as well as to u: the pass keeps to the paths to u
    # (only nesting calls for a graph)
    return grad_wrt(g, uv, vdata, graph or isinstance(vdata, Variable), keep=keep)[0]


@_public(1, typed=False)
def jvp(f: Callable[[Any], Any], x: Any, v: Any) -> tuple[Any, Any]:
    """``(f(x), J(x) @ v)``: the value and the directional derivative along ``v``.

    Reverse mode has no cheap forward direction; this uses the double-vjp
    trick: one backward pass with ``create_graph`` records ``g(u) = uᵀ J``,
    which is linear in ``u``, and backpropagating ``g`` with seed ``v`` gives
    ``J v`` (about twice the cost of :func:`vjp`).  ``hyperdual.jvp`` does it
    in one forward pass; use :func:`linearize` to reuse the graph for many ``v``.

    Parameters
    ----------
    f : callable
    x : float, 0-d or n-d array
    v : float or array of ``x``'s shape
        The tangent.

    Returns
    -------
    (value, tangent)
        ``f(x)`` and ``J v``, both shaped like ``f(x)``.

    Examples
    --------
    >>> import numpy as np
    >>> jvp(lambda x: np.stack([x[0] * x[1], np.sin(x[0])]), np.array([0.0, 2.0]),
    ...     np.array([1.0, 0.0]))
    (array([0., 0.]), array([2., 1.]))
    """
    _check_callable(f, "jvp")
    data, _ = _prepare(x, "jvp")
    before = _fp.NESTED[0]
    r = (_linearize(f, data, "jvp") if type(v) is Variable
         else _armed(data, _linearize, f, data, "jvp"))
    if r is not _fp.RESTART:
        value, fn, inner = r
        if _tangent_by_hyperdual(value, data, v):
            import hyperdual

            return hyperdual.jvp(f, x, v)
        out = fn(v)
    if r is _fp.RESTART or (_redo(before, inner) and type(v) is not Variable):
        # the second pass carries tangents (J v), which meet the nested call's
        # values, scaled by 2**kt, before it scales them back: v takes 2**ks alone
        values = []

        def run(kt: int, ks: int) -> Any:
            lin = _linearize(f, data, "jvp", kt, ks, tangent=True)
            values.append(lin[0])
            return lin[1](v)

        plain = type(data) is np.ndarray and data.dtype == np.float64
        out = _fp.second_order(run, plain, cotangent_kept=True)
        value = values[0]
    return value, out


def linearize(f: Callable[[Any], Any], x: Any, *, _fname: str = "linearize"
              ) -> tuple[Any, Callable[[Any], Any]]:
    """``(f(x), jvp_fn)`` where ``jvp_fn(v) = J(x) @ v``, reusing one recorded graph.

    ``f`` runs once; the graph of ``uᵀ J`` (linear in ``u``) is recorded once,
    and each call of ``jvp_fn`` is one backward pass through it (see :func:`jvp`).

    Parameters
    ----------
    f : callable
        Function of one array (or float) written with numpy.
    x : float or array_like
        The point of linearisation.

    Returns
    -------
    value : float or numpy.ndarray
        ``f(x)``.
    jvp_fn : callable
        ``jvp_fn(v)`` returns ``J(x) @ v`` (shape ``f(x).shape``) for a
        tangent ``v`` of ``x``'s shape; call it as often as needed.

    Examples
    --------
    >>> import numpy as np
    >>> y, f_jvp = linearize(lambda x: x ** 2, np.array([1.0, 3.0]))
    >>> y, f_jvp(np.array([1.0, 0.0])), f_jvp(np.array([0.0, 1.0]))
    (array([1., 9.]), array([2., 0.]), array([0., 6.]))
    """
    _check_callable(f, _fname)
    data, _ = _prepare(x, _fname)
    guarded, audited = (KEPT[0], _audit.DIRTY[0]), _fp.AUDIT_NAN[0]
    value, traced, _ = _linearize(f, data, _fname)

    def jvp_fn(v: Any) -> Any:
        # (a tangent on an outer graph whose pass kept a zero next to an inf or nan
        # partial: nan along the outer leaves too, as jvp's wrapper does, _public;
        # the gradient by x of linearize(lambda t: cbrt(t**3)**2 x[0] + t x[1],
        # 0.0)[1](1.0) was [0, 0], truth [0, 1])
        d = traced(v)
        if isinstance(d, Variable) and (KEPT[0], _audit.DIRTY[0]) != guarded and (
                _fp.AUDIT_NAN[0] != audited or _finite_value(value)):
            d2 = _nan_valued_on_input(d, x, False)
            if d2 is not d:
                _fp.AUDIT_NAN[0] += 1
            return d2
        return d

    if _is_dual(value) and _plain_point(data):
        # each tangent as jvp takes it (linearize(lambda t: np.cbrt(t**3) * s,
        # 0.0)[1](1.0) was Dual(0, 0), truth s)
        import hyperdual

        def forward(v: Any) -> Any:
            if _tangent_by_hyperdual(value, data, v):
                return hyperdual.jvp(f, x, v)[1]
            return traced(v)

        return value, forward
    return value, jvp_fn


def _tangent_by_hyperdual(value: Any, data: Any, v: Any) -> bool:
    """Whether jvp and linearize take the tangent ``v`` from ``hyperdual.jvp``: f's
    value is an outer hyperdual pass's number (f closes over them) at a plain point,
    and v is plain.  The double-vjp's second pass would meet plain computed zero
    partials times infinite Dual ones, which the Dual arithmetic keeps as a constant
    zero weight's 0 with no guard to see it (the tangent of
    ``jvp(lambda t: np.cbrt(t**3) * s, 0.0, 1.0)`` was Dual(0, 0), truth s);
    hyperdual's jvp nests on those numbers in one forward pass and audits its
    computed zeros."""
    return _is_dual(value) and _plain_point(data) and not (
        _is_dual(v) or isinstance(v, Variable))


def _linearize(f: Callable[[Any], Any], data: Any, fname: str, kt: int = 0,
               ks: int = 0, tangent: bool = False
               ) -> tuple[Any, Callable[[Any], Any], int | None]:
    xv, y, uv, g, nested, k, keep = _transposed_graph(f, data, fname, kt)
    value = _value_out(y, nested)
    yscalar = y.shape == ()
    e = (ks if tangent else kt + ks) if k is None else k

    # the tangent J v is f's dtype, as its value (and hyperdual's tangent) is: the pass
    # that carries v runs from x's seed, so a float32 x under an f that computes in
    # float64 (a float64 constant array) gave a float32 tangent
    dt = y.data.dtype if type(y.data) is np.ndarray and y.data.dtype.kind == "f" else None

    def once(vdata: Any, e: int) -> Any:
        jv = _jvp_from(y, uv, g, _scaled_seed(vdata, e), nested, keep)
        if dt is not None and type(jv) is np.ndarray and jv.dtype != dt:
            jv = jv.astype(dt)
        return _out(_unscaled(jv, k), yscalar, uv)

    def jvp_fn(v: Any) -> Any:
        vdata = _direction(v, xv.shape, fname, "v", "x's shape", _seed_dtype(xv.data))
        if k is not None or e or tangent or not _plain_point(data):
            return once(vdata, e)
        # a call on its own: its second pass (the one that carries v) redone with
        # v scaled where it gave an inf or nan entry (see _in_range)
        jv = None
        try:
            jv = _fp.first_pass(once, vdata, 0) if _DEPTH.get() == 0 else once(vdata, 0)
        except RuntimeWarning as exc:
            if not _adjoint_warning(exc, data):
                raise
        else:
            if type(jv) is not _fp.Flagged and (not _fp.out_of_range(jv)
                                                or type(vdata) is not np.ndarray):
                return jv
        return _in_range(lambda e2: once(vdata, e2), data, jv)

    return value, jvp_fn, k


# the Taylor-mode names (derivatives of any order) live in their own module
from .taylor_helpers import (  # noqa: E402
    derivative_tensor,
    derivatives,
    directional_derivatives,
    nth_derivative,
    taylor,
)
