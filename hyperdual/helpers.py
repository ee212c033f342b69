"""Derivative helpers built on Dual and HyperDual numbers (forward mode).

All helpers take a function written with plain numpy and a point ``x`` (a
float, a 0-d or an n-d array).  They return floats for scalar results and
numpy arrays otherwise; called on a function that is itself being
differentiated, they return numbers that carry the outer perturbation.

Gradients and Jacobians take one vectorised pass: the dual part carries a
leading axis of directions (one per input element), processed in blocks so
memory stays bounded.  Hessians do the same with HyperDual parts (directions
on ε1 and on ε2).
"""

from __future__ import annotations

import contextvars
import functools
import math
import numbers
from collections.abc import Callable

import numpy as np

from _exactdiff import arrays as _arrays
from _exactdiff import fprange as _fp
from _exactdiff import messages as _msg
from _exactdiff._common import filled_view as _filled_view
from _exactdiff._common import in_dtype
from _exactdiff._common import zero_weighted as _zero_weighted
from _exactdiff.arrays import is_foreign_array as _is_foreign

from . import _generic as g
from . import _number
from ._number import Dual, HyperDual, _as_part, _Number, _shape, _tidy, new_tag, retired
from .rules.products import register_unit_seed

__all__ = [
    "derivative",
    "second_derivative",
    "gradient",
    "jacobian",
    "hessian",
    "hvp",
    "value_and_gradient",
    "jvp",
    "vjp",
]

# Elements per intermediate part above which the direction stack is split into
# blocks (a block of k directions costs k times the memory of the value).
_BLOCK_ELEMENTS = 1 << 22


# ---------------------------------------------------------------------------------
# Nesting.  Each helper call seeds its own tag (``_seed_tag``), retired when the
# call returns, so a number of that tag met later is known to have escaped.
# A helper given a value of another engine (a reverse ``Variable``: x itself,
# or f's output because f closes over one) hands the whole call to that
# engine's helper of the same name, which records it in the outer graph: a
# Variable must never become a part of a Dual.
# ---------------------------------------------------------------------------------
_CALL_TAGS: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "hyperdual_call_tags", default=None)


def _seed_tag():
    """A fresh tag for this helper call (retired when the call returns)."""
    tag = new_tag()
    tags = _CALL_TAGS.get()
    if tags is not None:
        tags.append(tag)
    return tag


class _Delegate(Exception):
    """f returned a value of another engine: the call goes to that engine."""

    def __init__(self, engine):
        super().__init__(engine)
        self.engine = engine


def _engine_of(v):
    """The helpers module of the engine whose value ``v`` is (None for ours/plain)."""
    hook = getattr(type(v), "__exactdiff_helpers__", None)
    if hook is None and isinstance(v, (list, tuple)):
        for item in v:
            hook = getattr(type(item), "__exactdiff_helpers__", None)
            if hook is not None:
                break
    return hook() if hook is not None else None


class _CallScope:
    """One helper call's scope: the tags it seeds (``_seed_tag``) are retired on exit."""

    __slots__ = ("token",)

    def __enter__(self):
        self.token = _CALL_TAGS.set([])

    def __exit__(self, *exc):
        for tag in _CALL_TAGS.get():
            tag.retired = True
        _CALL_TAGS.reset(self.token)


def _nests(impl):
    """Decorator of the public helpers: tag retirement and hand-over to another engine."""
    name = impl.__name__

    which = _RANGED.get(name)
    which_ranged = name in _RANGED

    @functools.wraps(impl)
    def helper(f, *args, **kwargs):
        unsettled = _fp.UNSETTLED[0]
        if which_ranged and not kwargs and args and _plain(args[0]):
            # watched: a tangent that underflowed is otherwise a silent 0 (d/du
            # log(1/u) at 1e200 was -0, truth -1e-200: 1/u's tangent -1e-400
            # flushed); such a call is redone with its seed scaled
            before = _NESTED[0]
            out, under = _fp.forward_pass(dispatch, f, *args)
            if under and _NESTED[0] == before:  # (a nested call: _ranged's already)
                out = _forward_in_range(impl, name, f, args, out)
        else:
            out = dispatch(f, *args, **kwargs)
        if kwargs or not args or not _plain(args[0]) and type(args[0]) not in (list, tuple):
            return out
        # an inf or nan entry: redone with a wider exponent (_exactdiff.fprange.widened)
        return _fp.widened(out, functools.partial(helper, f), args, kwargs, which,
                           doubt=_fp.UNSETTLED[0] != unsettled)

    def dispatch(f, *args, **kwargs):
        for a in args:
            if type(a) is _ndarray or type(a) is float:
                continue  # the usual point: no other engine's value
            engine = _engine_of(a)
            if engine is not None:
                return getattr(engine, name)(f, *args)
            if a is args[0] and isinstance(a, _Number) and name in _RANGED and not kwargs:
                return _nested_in(impl, name, f, args)
        if name in _RANGED and args and type(args[0]) in (list, tuple):
            try:
                p = np.asarray(args[0])
            except (ValueError, TypeError):  # ragged, or engine values: _as_part says which
                p = None
            if p is not None and p.dtype == np.float64:  # a list point: kept in range as an array
                args = (p,) + tuple(args[1:])
        with _CallScope():
            before = _NESTED[0]
            kept = _number.KEPT[0]
            try:
                if name in _AUDITED and not kwargs and args and _plain(args[0]):
                    # a first pass that a nested helper call ends at once (the
                    # call is then redone watched: _ranged); the second-order
                    # helpers run theirs whole (nested calls in them are rarer than
                    # the arming costs: 3% of a small second_derivative) and are
                    # redone below where one ran
                    out = _fp.armed(0, impl, f, *args)
                    if out is _fp.RESTART:
                        out = _ranged(impl, name, f, args, kwargs, None)
                        if _number.KEPT[0] != kept and not _AUDITING.get():
                            # a zero kept in the outer trace's arithmetic inside the
                            # nested call (cbrt(t**3) times an inner variable)
                            return _audited(impl, name, f, args, kwargs, out, True)
                        return out
                else:
                    out = impl(f, *args, **kwargs)
            except _Delegate as d:
                return getattr(d.engine, name)(f, *args)
            if _NESTED[0] != before and name in _RANGED and not kwargs:
                # (kwargs: value_and_gradient called by gradient, or a redo)
                out = _ranged(impl, name, f, args, kwargs, out)
                if name in _AUDITED and _number.KEPT[0] != kept and not _AUDITING.get():
                    # a zero kept in the outer trace's arithmetic inside the nested
                    # call (cbrt(t**3) times an inner variable): audited as any other
                    return _audited(impl, name, f, args, kwargs, out, True)
                if name in _AUDITED_SECOND and _number.KEPT[0] != kept \
                        and not _AUDITING.get():
                    # (the Hessian of reverse.gradient(f, y) @ w: a zero kept in the
                    # nested pass's arithmetic on this call's numbers)
                    return _audited_second(name, f, args, out, nested=True)
                return out
            if name in _AUDITED and _number.KEPT[0] != kept and not kwargs \
                    and not _AUDITING.get():  # (kwargs: gradient's own value_and_gradient)
                return _audited(impl, name, f, args, kwargs, out)
            if name in _AUDITED_SECOND and _number.KEPT[0] != kept and not kwargs \
                    and not _AUDITING.get():
                return _audited_second(name, f, args, out)
            return out

    return helper


#: First-order helpers audited where their call kept a zero tangent next to an
#: inf/nan derivative (which of the results is the derivative, as _RANGED)
_AUDITED = {"derivative": None, "gradient": None, "jacobian": None,
            "value_and_gradient": 1, "jvp": 1, "vjp": 1}
#: The probe lane of the audit redo's result where it is an outer trace's number
#: (derivative, jvp; see _audited), else None: its outer parts tell which outer
#: directions reach the entries the probe reaches
_PROBE_PART: list = [None]
#: True while a helper redoes its call for the audit (see _audited)
_AUDITING: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "hyperdual_auditing", default=False)


def _probe(seed, x0):
    """The nan probe of ``seed``: nan where it moves a finite entry of ``x0`` (an inf
    or nan entry is not probed: its derivatives are the rules' limit conventions,
    as reverse's audit leaves them)."""
    with np.errstate(invalid="ignore"):
        return np.where((seed != 0) & np.isfinite(x0), np.nan, 0.0)


def _audited(impl, name, f, args, kwargs, out, ranged=False):
    """``out`` of a first-order helper whose call kept a zero tangent next to an
    inf or nan derivative, with nan where that zero was computed, not structural.

    The call is redone once with each direction followed by a probe: a direction
    seeded with nan where the real one is nonzero.  A probe is nan wherever the
    value depends on its direction (nan propagates through every rule; only
    structural zeros stop it: a where mask, a constant zero weight) and 0 where
    it does not, so during the redo a zero tangent is kept next to an inf
    derivative only where its probe is 0 as well (``_number._structural``);
    elsewhere ``0 * inf`` is nan, in the entries it reaches.  d/dx ``cbrt(x**3)``
    at 0: the tangent ``3 x**2 = 0`` of ``x**3`` is computed (its probe is nan),
    so the result is nan (the truth is 1), not 0.  Plain float64 points, and the
    long double redo of one (_exactdiff.fprange.widened, which takes only the
    entries finite there: audited, a computed zero stays nan); the result only
    gains nan entries.  ``ranged``: ``out`` came from :func:`_ranged`'s passes with
    scaled seeds, and so does the redo (unscaled, its nan where the call's own first
    pass overflowed would be taken for computed zeros: d/dv of
    reverse.second_derivative of digamma(exp(v)) at -500 was nan, truth 1.4e217)."""
    if not args or not (_plain(args[0]) or _fp.widening()):
        return out
    token = _AUDITING.set(True)
    _PROBE_PART[0] = _JAC_PROBE[0] = None
    try:
        if ranged and _plain(args[0]):  # (the long double redo needs no scaling)
            again = _ranged(impl, name, f, args, kwargs, None)
        else:
            with _CallScope():
                again = impl(f, *args, **kwargs)
    except Exception:
        return out  # (f fails on the doubled stack: the first result stays)
    finally:
        _AUDITING.reset(token)
    probe, _PROBE_PART[0] = _PROBE_PART[0], None
    which = _AUDITED[name]
    got, new = (out, again) if which is None else (out[which], again[which])
    with np.errstate(invalid="ignore"):
        mask = np.asarray(np.isnan(new) & ~np.isnan(got), dtype=bool)
        if isinstance(got, _Number):
            # a value of an outer pass that is nan already: nan in the directions
            # that reach it too (d/ds of d/da of d/dt sqrt(t)**2 s was inf, truth 0)
            both = np.asarray(np.isnan(new) & np.isnan(got), dtype=bool)
            if np.any(both):
                _fp.AUDIT_NAN[0] += 1
                got = _poisoned_moving(got, both, probe)
                out = got if which is None else (out[0], got)
    if not np.any(mask):
        return out
    _fp.AUDIT_NAN[0] += 1
    if type(got) is float or type(got) is np.float64 or type(got) is np.ndarray:
        merged = np.where(mask, np.nan, got)
        if type(got) is not np.ndarray:
            merged = type(got)(merged[()])
    else:
        # a value of an outer pass (nesting): times nan, so that its derivative
        # there is nan as well
        merged = got * np.where(mask, np.nan, 1.0)
    return merged if which is None else (out[0], merged)


#: Second-order helpers audited the same way (see _audited_second)
_AUDITED_SECOND = frozenset(("second_derivative", "hessian", "hvp"))
#: Beyond this many variables hessian and hvp are not audited: their redo, like the
#: call, costs O(n**2), two to four times over (hvp of a 20000-entry x with a nan
#: entry took minutes)
_AUDIT_SECOND_MAX_N = 2048


def _poisoned(v, mask):
    """``v`` (a number of an outer pass, or a plain array) with every part nan where
    ``mask``: its derivatives in the outer pass are nan there too (``v * nan`` keeps a
    zero tangent 0)."""
    if isinstance(v, _Number):
        return _number._map_parts(v, lambda p, nd: _poisoned(p, mask))
    return np.where(mask, np.nan, v)


def _poisoned_moving(v, mask, probe=None, unknown_moves=False):
    """``v`` (a number of an outer pass) nan where ``mask`` in its value and in every
    direction whose part there is not 0: a direction with a 0 part does not reach
    the entry (the gradient of ``derivative(lambda y: cbrt(y**3) * x[0], 0.0) +
    x[1]**2`` keeps x1's 4), one with a finite or infinite part does and its
    derivative of a nan value is not known (Dual(nan, inf) from ``0 * inf`` in the
    arithmetic of nested numbers).  ``probe``: the audit redo's probe lane of ``v``
    (a number of the same structure, or None), whose nonzero parts are directions
    that reach the entry too: a zero partial of the pass (``4 t**3`` at 0, a literal
    0 to hyperdual) dropped the term of ``v``'s own (d/ds of hyperdual.derivative of
    reverse.derivative of ``sqrt(t**4) * s`` at 0 was 0, truth 2), not the probe's.
    ``unknown_moves``: a part the probe does not match (another shape or structure)
    is nan in every direction, not only where its own part is not 0."""
    def rec(p, value, q, nd=0):
        if isinstance(p, _Number):
            if not p._NPARTS:
                return p  # (a Taylor number: as it is)
            parts = p._parts()
            qs = q._parts() if _same_kind(q, p) else (None,) * len(parts)
            new = (rec(parts[0], value, qs[0]),) + tuple(
                rec(r, False, t, p.nd) for r, t in zip(parts[1:], qs[1:]))
            return type(p)._build(new, p.tag, p.nd)
        a = np.asarray(p)
        if a.dtype.kind != "f":
            return p
        with np.errstate(invalid="ignore"):
            if value:
                m = mask
            else:
                moving = a != 0
                if q is not None and not isinstance(q, _Number) and np.shape(q) == a.shape:
                    moving = moving | (np.asarray(q) != 0)
                elif unknown_moves:
                    moving = True
                k = _number._probed_k(a.shape[0]) if nd == 1 and a.ndim else 0
                if k and np.ndim(moving):
                    # an outer pass's audit redo (its directions followed by their nan
                    # probes): a direction moves the entry where its probe does, which
                    # a kept zero of the outer arithmetic cannot hide (the gradient of
                    # nth_derivative(lambda t: cbrt((t x1)**6) x0, 0, 2) was [nan, 0],
                    # truth [8, 16])
                    moving = np.array(np.broadcast_to(moving, a.shape))
                    moving[:k] |= moving[k:]
                m = mask & moving
        out = np.where(m, np.array(np.nan, dtype=a.dtype), a)
        return out if isinstance(p, np.ndarray) or out.ndim else type(p)(out[()])

    return rec(v, True, probe)


def _same_kind(q, p) -> bool:
    """Whether ``q`` is a number of ``p``'s kind, tag and direction axes (so that their
    parts correspond one to one)."""
    return isinstance(q, _Number) and type(q) is type(p) and q.tag == p.tag \
        and getattr(q, "nd", None) == getattr(p, "nd", None) and bool(q._NPARTS)


def _zip_leaves(fn, nums):
    """``fn`` of the float arrays at the same place in each of ``nums`` (numbers of
    one structure, or plain arrays), built into that structure again; None where the
    structures differ (the caller then knows nothing of the outer directions)."""
    first = nums[0]
    if isinstance(first, _Number):
        if not all(_same_kind(n, first) for n in nums):
            return None
        parts = [n._parts() for n in nums]
        out = [_zip_leaves(fn, [p[i] for p in parts]) for i in range(len(parts[0]))]
        if any(o is None for o in out):
            return None
        return type(first)._build(out, first.tag, first.nd)
    if any(isinstance(n, _Number) for n in nums):
        return None
    return fn([np.asarray(n) for n in nums])


def _at_lanes(reach, vnd, fn):
    """``reach`` (see :func:`_probed_eps12`) with ``fn`` applied to each leaf with
    its value axes (``vnd`` of them, last) moved to the front: ``fn`` then sees the
    (k, m) lane axes last.  None stays None."""
    if reach is None or vnd is None:
        return None

    def leaf(ls):
        a = ls[0]
        if vnd:
            a = np.moveaxis(a, range(a.ndim - vnd, a.ndim), range(vnd))
            r = fn(a)
            return np.moveaxis(r, range(vnd), range(r.ndim - vnd, r.ndim))
        return fn(a)

    return _zip_leaves(leaf, [reach])


def _joined(reaches, vnd, fn):
    """The reach leaves of the blocks ``reaches`` (rows of the (k, m) lanes; f
    scalar, ``vnd`` 0) concatenated along the k axis, then ``fn`` applied; None when
    any block is."""
    if vnd != 0 or any(r is None for r in reaches):
        return None
    return _zip_leaves(lambda ls: fn(np.concatenate(ls, axis=-2)), reaches)


def _forward_reach(f, x0):
    """The outer pass's directions that reach f's derivatives at the plain point
    ``x0`` at all, or None: f run once on a HyperDual of a fresh tag whose ε1 and ε2
    directions (every entry of x0 at once) are each followed by their nan probe, as
    the second-order audit's redo (:func:`_probed_eps12`); a probe's parts are nan
    wherever f's derivatives depend on x0 (only a structural zero stops it), and the
    ε parts (the probes' or the directions') in the outer directions are not 0 where
    those directions move them.  Second order: an outer variable inside a singular
    function's argument reaches its first-order terms only through a computed zero
    of the outer arithmetic (d/dx1 of the ε part of ``cbrt((t x1)**3)**2`` at t = 0),
    its mixed terms directly.  A number of f's value's structure whose leaves,
    shaped as the outer direction axes, are 1 for a direction that reaches it."""
    if isinstance(x0, _Number) or _is_foreign(x0):
        return None
    try:
        x = np.asarray(x0, dtype=np.float64) if isinstance(x0, (int, float, list, tuple)) \
            else x0
        if not isinstance(x, (np.ndarray, np.floating)) or x.dtype.kind != "f" \
                or not np.isfinite(x).all():
            return None
        shape = np.shape(x)
        one = np.ones((1,) + shape, dtype=x.dtype)
        with np.errstate(all="ignore"):
            y, tag = _run_probed(f, x, shape, one, one, "second_derivative")
        if not (isinstance(y, _Number) and y.tag == tag and isinstance(y, HyperDual)):
            return None
        parts = y._parts()[1:]
        if not all(isinstance(p, _Number) for p in parts):
            return None
        vnd = np.ndim(g.real_value(parts[2])) - 2  # (its value: the (2, 2) lanes, f's)

        def moved(arrays):
            out = None
            for a in arrays:
                ax = a.ndim - vnd - 2
                if ax < 0:
                    return None
                with np.errstate(invalid="ignore"):
                    b = np.not_equal(a, 0)  # (nan too)
                b = np.any(b, axis=tuple(range(ax, b.ndim)))
                if out is not None and np.shape(out) != np.shape(b):
                    return None
                out = b if out is None else out | b
            return out.astype(np.float64)

        return _zip_leaves(moved, list(parts))
    except Exception:  # noqa: BLE001 - (f fails on the probed HyperDual: not known)
        return None


def _poisoned_reached(v, mask, f, x0):
    """``v`` (a result on an outer pass's numbers) nan where ``mask`` in its value
    and in the outer directions that reach f's derivatives at ``x0`` at all
    (:func:`_forward_reach`); in every direction where that is not known.  The
    others keep their parts: x1's 4 in the gradient of ``nth_derivative(lambda t:
    h(t) x0, 0, 2) + x1**2`` where the second derivative is nan."""
    reach = _forward_reach(f, x0)
    if reach is None or not _same_kind(reach, v):
        return _poisoned(v, mask)

    def spread(ls):
        a, r = ls
        lead = r.ndim
        try:
            return np.broadcast_to(r.reshape(r.shape + (1,) * (a.ndim - lead)), a.shape)
        except ValueError:
            return None

    q = _zip_leaves(spread, [v, reach])
    if q is None:
        return _poisoned(v, mask)
    return _poisoned_moving(v, mask, q, unknown_moves=True)


def _nan_in_parts(v):
    """Where ``v`` (a plain array, or a number of an outer pass) is nan in any part:
    boolean, of v's value shape (a nan outer derivative counts as a nan entry)."""
    if not isinstance(v, _Number):
        return np.isnan(v)
    if not v._NPARTS:  # Taylor numbers: one coefficient array, the order axis first
        return np.any(_nan_in_parts(v.coef), axis=0)
    parts = v._parts()
    found = _nan_in_parts(parts[0])
    for p in parts[1:]:
        found = found | np.any(_nan_in_parts(p), axis=tuple(range(v.nd)))
    return found


def _run_probed(f, x0, shape, d1, d2, helper):
    """``(y, tag)``: f run once on a HyperDual of a fresh tag at ``x0`` whose ε1 lanes
    are the directions ``d1`` (k of them) followed by their nan probes and whose ε2
    lanes are ``d2`` (m) followed by theirs, under the audit (the probe lanes told
    apart by their counts k and m): the one pass :func:`_probed_eps12` and
    :func:`_forward_reach` read."""
    k, m = d1.shape[0], d2.shape[0]
    dt = _dtype(x0)
    e1 = np.concatenate([d1, _probe(d1, x0).astype(dt)]).reshape((2 * k, 1) + shape)
    e2 = np.concatenate([d2, _probe(d2, x0).astype(dt)]).reshape((1, 2 * m) + shape)
    e12 = np.zeros((2 * k, 2 * m) + shape, dtype=dt)
    tag = _seed_tag()
    token, probes, probes2 = _AUDITING.set(True), _number.audit_k(k), _number.audit_m(m)
    try:
        with _CallScope():
            y = _call(f, HyperDual._build((x0, e1, e2, e12), tag, 2), helper)
    finally:
        _number.AUDIT_M.reset(probes2)
        _number.AUDIT_K.reset(probes)
        _AUDITING.reset(token)
    return y, tag


def _probed_eps12(f, x0, shape, d1, d2, helper, nested=False):
    """Where the ε1ε2 parts of ``f`` at ``x0`` are nan with the directions ``d1`` (k
    lanes) on ε1 and ``d2`` (m lanes) on ε2, each followed by their nan probes: the
    real lanes, boolean of shape ``(k, m) +`` f's value shape (see
    :func:`_audited_second`; a part of an outer pass's numbers counts as nan where
    any of its own parts is).  The ε2 probes reach the real ε1 lanes' zero tests
    through the mixed terms: in ``f''(u) u1 u2`` of ``(x**1.5)**(2/3)`` at 0 both
    tangents ``1.5 sqrt(x)`` are computed zeros, and without a probe beside ``u2``
    the term was dropped as a structural zero (the second derivative was inf,
    truth 0; now nan).

    Returns ``(found, reach)``: ``reach`` is None, or where f's value is an outer
    pass's number (nesting), a number of that structure whose leaves, of shape
    ``(k, m) +`` the value shape behind the outer direction axes, are 1 where a
    part of a real lane or of its probes is not 0: the outer directions that reach
    the real lanes' entries (see :func:`_poisoned_moving`)."""
    k, m = d1.shape[0], d2.shape[0]
    m2 = 2 * m
    dt = _dtype(x0)
    y, tag = _run_probed(f, x0, shape, d1, d2, helper)
    part = _part_of(y, tag, HyperDual, 3, (2 * k, m2) + _value_shape(y), dt, x0)
    nan = np.asarray(_nan_in_parts(part))
    nan = np.broadcast_to(nan, (2 * k, m2) + nan.shape[2:])
    found = nan[:k, :m]
    if nested and np.isfinite(x0).all():
        # f ran a nested helper: an entry whose value is nan at a finite point (a
        # 0 * inf of the inner pass) has no second derivatives along the directions
        # whose probes reach it: its ε1ε2 parts are products of the inner pass's
        # factors, where a zero weight can keep a finite number (the Hessian of
        # reverse.gradient(lambda x: np.sqrt(x[0])**2 * x[1], y) @ w at (0, 1) had an
        # inf, truth 0).  (Not for other f: a sum with one nan term keeps the other
        # terms' second derivatives, sum(x**1.5) at [1, -1, 2])
        with np.errstate(invalid="ignore"):
            value = np.isnan(np.asarray(g.real_value(
                _part_of(y, tag, HyperDual, 0, _value_shape(y), dt, x0))))
        if value.any():
            found = found | (value & (nan[k:, :m] | nan[:k, m:] | nan[k:, m:]))
    reach = None
    if isinstance(part, _Number):
        vnd = nan.ndim - 2  # (the value axes: last; the outer direction axes first)

        def moved(a):
            a = a[0]
            ax = a.ndim - vnd - 2
            if ax < 0 or a.shape[ax:ax + 2] != (2 * k, m2):
                return None  # (a broadcast part: not told apart)
            lead = (slice(None),) * ax
            with np.errstate(invalid="ignore"):
                b = np.not_equal(a, 0)  # (nan too)
            b = b[lead + (slice(k, None), slice(None, m))] | b[lead + (slice(None, k),
                                                                    slice(m, None))] \
                | b[lead + (slice(k, None), slice(m, None))] \
                | b[lead + (slice(None, k), slice(None, m))]
            return b.astype(a.dtype if a.dtype.kind == "f" else np.float64)

        reach = _zip_leaves(moved, [part])
    return found, reach


def _audited_second(name, f, args, out, nested=False):
    """``out`` of ``second_derivative``, ``hessian`` or ``hvp`` whose call kept a zero
    tangent next to an inf or nan derivative, with nan where that zero was computed.

    The second-order terms are the bilinear form ``H(e1, e2)`` of the directions on
    ε1 and ε2.  The call is redone with the ε1 directions followed by their nan
    probes (as :func:`_audited` does for first order; ``_number._structural`` keeps a
    zero only where its probe is 0 too), which finds the zeros computed along the
    ε1 paths; a zero computed along an ε2 path (``cbrt(x0**3)``'s tangent in
    direction x0 times the tangent of ``x1``: ``H[1, 0]`` of ``cbrt(x0**3) * x1``)
    is found by the redo with the roles swapped, which for the Hessian is its
    transpose.  So an entry is nan where either probe is: the Hessian of
    ``cbrt(x0**3) * x1`` at (0, 1) is ``[[nan, nan], [nan, 0]]`` (it was all 0; the
    truth is ``[[0, 1], [1, 0]]``), symmetric, as ``H(e_i, e_j) = H(e_j, e_i)``.
    Plain float64 points (and their long double redo), x of at most
    ``_AUDIT_SECOND_MAX_N`` entries for hessian and hvp; the result only gains nan
    entries; a call that fails on the probed numbers keeps its result.  ``nested``:
    f ran a nested helper (see :func:`_probed_eps12`'s ``nested``)."""
    if not args or not (_plain(args[0]) or _fp.widening()):
        return out
    try:
        x0, shape = _point(args[0])
        if type(x0) is not _ndarray and type(x0) is not float and not isinstance(
                x0, np.floating):
            return out
        dt = _dtype(x0)
        n = int(np.prod(shape, dtype=np.int64))
        if n > _AUDIT_SECOND_MAX_N and name != "second_derivative":
            return out  # (the redo costs two to four times the call: bounded)
        with np.errstate(all="ignore"):
            vnd = None  # (the number of value axes of the reach leaves, below)
            if name == "second_derivative":  # elementwise: one lane each way
                one = np.ones((1,) + shape, dtype=dt)
                found, reach = _probed_eps12(f, x0, shape, one, one, name, nested)
                found, vnd = found[0, 0], found.ndim - 2
                reach = _at_lanes(reach, vnd, lambda b: b[..., 0, 0])
            else:
                def units(start, k):  # unit directions start..start+k-1, (k,) + shape
                    e = np.zeros((k, n), dtype=dt)
                    e[np.arange(k), np.arange(start, start + k)] = 1.0
                    return e.reshape((k,) + shape)

                if name == "hessian":
                    # (blocks of rows: a block's eps12 holds 4 k n entries per value entry)
                    step = _block_size(n, 4 * n * max(n, 1))
                    eye = units(0, n)
                    rows = [_probed_eps12(f, x0, shape, units(i, min(step, n - i)), eye, name,
                                          nested)
                            for i in range(0, max(n, 1), step)]
                    nan = np.concatenate([r[0] for r in rows]).reshape(n, n)
                    found = (nan | nan.T).reshape(shape + shape)
                    vnd = 0 if nan.size == n * n else None  # (f scalar)
                    reach = _joined([r[1] for r in rows], vnd, lambda b: np.maximum(
                        b, np.swapaxes(b, -1, -2)).reshape(b.shape[:-2] + shape + shape))
                else:
                    v = args[1]
                    if isinstance(v, _Number) or _is_foreign(v):
                        return out
                    v = np.asarray(v, dtype=dt).reshape((1,) + shape)
                    # v on eps1 and blocks of unit directions on eps2, then the roles
                    # swapped; each block's eps12 holds 4 k n entries
                    step = _block_size(n, 4 * max(n, 1))
                    along, back = [], []
                    for i in range(0, max(n, 1), step):
                        e = units(i, min(step, n - i))
                        a = _probed_eps12(f, x0, shape, v, e, name, nested)
                        b = _probed_eps12(f, x0, shape, e, v, name, nested)
                        along.append((a[0][0], _at_lanes(a[1], a[0].ndim - 2,
                                                         lambda r: r[..., 0, :])))
                        back.append((b[0][:, 0], _at_lanes(b[1], b[0].ndim - 2,
                                                           lambda r: r[..., :, 0])))
                    found = (np.concatenate([a[0] for a in along])
                             | np.concatenate([b[0] for b in back])).reshape(shape)
                    vnd = 0 if found.size == n else None  # (f scalar)
                    reach = None if vnd is None else _zip_leaves(
                        lambda ls: np.maximum(
                            np.concatenate(ls[:len(along)], axis=-1),
                            np.concatenate(ls[len(along):], axis=-1),
                        ).reshape(ls[0].shape[:-1] + shape),
                        [a[1] for a in along] + [b[1] for b in back]) \
                        if all(r[1] is not None for r in along + back) else None
            if isinstance(out, _Number):
                # on an outer pass's numbers (d/ds of hessian(lambda x: np.sqrt(x**4) * s,
                # 0.0) was 0, truth 2): every part nan where found or where the value is
                # nan already, as the outer derivative of such an entry is unknown (as
                # reverse.helpers._nan_valued_poisoned)
                mask = np.asarray(found | np.isnan(g.real_value(out)), dtype=bool)
                if not mask.any():
                    return out
                _fp.AUDIT_NAN[0] += 1
                if reach is None or not _same_kind(reach, out):
                    return _poisoned(out, mask)
                # (not in an outer direction that reaches none of the entry's terms:
                # x1's 4 in the gradient of second_derivative(lambda t: h(t) x0, 0) +
                # x1**2 with h''(0) nan; as _audited does for first order)
                return _poisoned_moving(out, mask, reach, unknown_moves=True)
            got = np.asarray(out)
            mask = np.asarray(found & ~np.isnan(got), dtype=bool)
    except Exception:
        return out  # (f fails on the probed numbers: the first result stays)
    if not mask.any():
        return out
    _fp.AUDIT_NAN[0] += 1
    merged = np.where(mask, np.array(np.nan, dtype=got.dtype), got)
    return merged if type(out) is np.ndarray else type(out)(merged[()])


_NESTED = _fp.NESTED


def _plain(x) -> bool:
    """A float64 point (the points _ranged keeps in range)."""
    t = type(x)
    return t is float or t is np.float64 or (t is _ndarray and x.dtype == np.float64)

#: Helpers whose f may call a helper of the other engine on this call's Duals:
#: their result is then a second derivative, or a third (the second-order
#: helpers, whose ``_scale`` seeds eps1 alone; which of the results is the
#: derivative: the whole result, or the second of a pair)
_RANGED = {"derivative": None, "gradient": None, "jacobian": None, "value_and_gradient": 1,
           "jvp": 1, "vjp": 1, "second_derivative": None, "hessian": None, "hvp": None}


def _nested_in(impl, name, f, args):
    """A call on an outer call's Duals (hyperdual.gradient inside hyperdual.jacobian):
    counted, and seeded with 2**k where the outer call retries (see _ranged).

    A call whose own f runs further helpers (the middle of three nested calls) is
    redone with its own seed unscaled, the retry's 2**k left to those helpers: its
    tangents times 2**k can overflow where theirs are what the retry must reach
    (hyperdual.derivative of hyperdual.derivative of reverse.derivative of
    arctan(exp(v)) at 400: e**400 2**600 overflowed, and the result was 0)."""
    k = _fp.nested_call()
    with _CallScope():
        if not k:
            return impl(f, *args)
        before = _NESTED[0]
        out = impl(f, *args, _scale=k)
    if _NESTED[0] != before:
        with _CallScope():
            return impl(f, *args)
    which = _RANGED[name]
    if which is None:
        return out * 2.0 ** -k
    return out[0], out[1] * 2.0 ** -k


def _ranged(impl, name, f, args, kwargs, out):
    """``out`` of a helper whose f ran a helper of the other engine on this call's
    Duals (reverse.gradient inside hyperdual.jacobian): that inner pass's
    adjoints ``f''(u) u'`` can leave the float range where the second
    derivative is normal, so the call is redone with the seeds of both scaled
    by powers of two and the result scaled back (``_exactdiff.fprange``;
    plain float64 points only)."""
    x = args[0]
    if type(x) is np.float64:
        x = float(x)
        args = (x,) + tuple(args[1:])
    if not _plain(x):
        return out
    which = _RANGED[name]
    values = []

    def run(kt, ks):
        token = _fp.NEST_SCALE.set(kt)
        try:
            with _CallScope():
                r = impl(f, *args, _scale=ks, **kwargs)
        finally:
            _fp.NEST_SCALE.reset(token)
        if which is None:
            return r
        values.append(r[0])  # (the same at every scale: the seeds scale tangents)
        return r[which]

    got = _fp.second_order(run, True, cotangent_kept=True)
    return got if which is None else (values[0], got)


#: The helpers whose result is the eps1 eps2 part (two seeds of their own)
_SECOND_ORDER = frozenset(("second_derivative", "hessian", "hvp"))


def _forward_in_range(impl, name, f, args, out):
    """``out``, a helper's result at a float64 point whose watched pass saw an
    underflow, redone with the seed scaled by powers of two where that changes it
    (``_exactdiff.fprange.second_order``, one seed: a pass at ``2**k`` gives
    ``2**k`` times the truth unless a tangent leaves the range; for the
    second-order helpers eps1 by ``2**kt`` and eps2 by ``2**ks``, two seeds: d2/du2
    ``log(u**-3)`` at 1e100 needs both, as u**-3's parts -3e-400 and -3e-400 flush
    alike).  Where f's own operations underflow (exp(-800)), one pass at 2**600
    that agrees settles it."""
    which = _RANGED[name]
    second = name in _SECOND_ORDER

    def run(kt, ks):
        with _CallScope():
            if second:
                r = impl(f, *args, _scale=kt, _scale2=ks)
            else:
                r = impl(f, *args, _scale=kt + ks)
        return r if which is None else r[which]

    got = _fp.second_order(run, True, one_seed=not second, separate=second,
                           first=out if which is None else out[which])
    return got if which is None else (out[0], got)


_NOT_VALUES = (str, bytes, dict, set)
_ndarray = np.ndarray


def _call(f, arg, helper: str):
    """``f(arg)``, checked: a value of another engine hands the call over, and
    something that is not a number (None from a forgotten return, a string, a
    dict, a function) is a TypeError, never a zero derivative."""
    y = _msg.call(f, arg)  # (a[i] = x[j]: the reason in the error's own text)
    if isinstance(y, _Number) or type(y) is float or isinstance(y, np.ndarray):
        return y
    engine = _engine_of(y)
    if engine is not None:
        raise _Delegate(engine)
    if isinstance(y, (list, tuple)) and any(isinstance(v, _Number) for v in y):
        return np.stack(list(y))  # as reverse mode does: a sequence of values is stacked
    if (y is None or isinstance(y, _NOT_VALUES) or callable(y)
            or not isinstance(y, (numbers.Number, np.generic, list, tuple))
            and not _is_foreign(y) and not hasattr(y, "__array__")):
        raise TypeError(
            f"hyperdual.{helper}: f returned {type(y).__name__} {y!r:.60}, not a number "
            "or an array (a forgotten `return`?)"
        )
    return y


def _check_live(v):
    if isinstance(v, _Number) and retired(v.tag):
        raise ValueError(
            f"hyperdual: f used a {type(v).__name__} of a helper call that has already "
            "returned (an escaped perturbation: a number saved inside one derivative and "
            "used after it); use its .real value instead"
        )


def _point(x, name: str = "x"):
    if type(x) is _ndarray and x.ndim and x.dtype.kind == "f":
        return x, x.shape  # the usual point, as _as_part would return it
    if isinstance(x, _Number):
        return x, x.shape
    p = _as_part(x, name)
    return p, _shape(p)


def _result(v, dtype=None):
    """A helper's result as the user gets it: 0-d arrays as scalars, a float64 0-d
    value as a Python float.  With ``dtype`` (x's, for derivatives with respect to
    x) a floating result of another precision is cast to it: a derivative with
    respect to x has x's dtype whatever precision f computes in, as in reverse mode
    and JAX's grad/jacobian/hessian/vjp (jvp's tangent and f's value keep f's)."""
    v = in_dtype(v, dtype)
    if type(v) is _ndarray:
        return _tidy(v) if v.ndim == 0 else v
    if type(v) is float:
        return v
    if isinstance(v, _Number) or _is_foreign(v):  # a dask result stays lazy
        return v
    return _tidy(v) if np.ndim(v) == 0 else np.asarray(v)


def _value_shape(y) -> tuple:
    if type(y) is Dual or type(y) is HyperDual:
        r = y.real
        if type(r) is _ndarray:
            return r.shape
        if type(r) is float:
            return ()
    return np.shape(g.real_value(y))


def _require_scalar(y, helper: str):
    shape = _value_shape(y)
    if shape != ():
        raise ValueError(
            f"hyperdual.{helper}: f must return a scalar, but it returned shape {shape}; "
            "use hyperdual.jacobian for vector-valued functions"
        )


def _part_of(y, tag: int, cls, m: int, zero_shape: tuple, dtype=np.float64, like=None):
    """Part ``m`` of ``y`` for perturbation ``tag``; zero if f did not depend on it."""
    if isinstance(y, _Number) and y.tag == tag:
        if not isinstance(y, cls):
            raise TypeError(f"hyperdual: f returned a {type(y).__name__} of the helper's tag")
        part = y._parts()[m]
        _check_live(part)
        return part
    _check_live(y)
    if isinstance(y, _Number) and y.tag > tag:
        raise ValueError(
            "hyperdual: f returned a number carrying a perturbation that is newer than "
            "this call's (a derivative escaped its own helper)"
        )
    if like is not None and _is_foreign(like):  # zeros in x's library, lazily
        return np.zeros_like(like, dtype=dtype, shape=zero_shape)
    if zero_shape:
        return np.zeros(zero_shape, dtype=dtype)
    return 0.0 if dtype == np.float64 else dtype.type(0.0)


def _dtype(x0):
    """dtype of the point's value: derivative seeds and results follow it."""
    if type(x0) is _ndarray:
        return x0.dtype
    if _is_foreign(x0):
        return np.dtype(x0.dtype)
    return np.result_type(g.real_value(x0))


def _value_of(y, tag: int):
    if isinstance(y, _Number) and y.tag == tag:
        return y.real
    return y


def _check_callable(f, helper):
    if not callable(f):
        raise TypeError(f"hyperdual.{helper}: f must be callable, got {type(f).__name__}")


def _elementwise_seed(x0, shape, helper):
    """An array x means "f acts elementwise": seed every element with 1."""
    if _is_foreign(x0):  # in x's library and chunking
        return _arrays.ones_like(x0, _dtype(x0))
    return 1.0 if shape == () else np.ones(shape, dtype=_dtype(x0))


def _check_elementwise(y, shape, helper):
    ys = _value_shape(y)
    if shape != () and ys != shape:
        raise ValueError(
            f"hyperdual.{helper}: for an array x, f must act elementwise (output shape "
            f"{shape}), but it returned shape {ys}; use hyperdual.jacobian"
        )


@_nests
def derivative(f: Callable, x, *, _scale: int | None = None) -> float | np.ndarray:
    """Exact first derivative ``f'(x)`` of a function of one real variable.

    Parameters
    ----------
    f : callable
        Written with plain numpy or ``hyperdual`` functions.  For a scalar
        ``x`` it may return a scalar or an array (the derivative then has that
        shape); for an array ``x`` it must act elementwise, and the result is
        ``f'`` at every element (use :func:`jacobian` for anything else).
    x : float, 0-d or n-d array
        The point.

    Returns
    -------
    float or ndarray
        ``f'(x)``: a float for scalar ``x`` and scalar ``f``, else an array.

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdual import derivative
    >>> derivative(lambda x: x ** 3, 2.0)
    12.0
    >>> derivative(np.sin, np.array([0.0, np.pi]))
    array([ 1., -1.])
    """
    _check_callable(f, "derivative")
    x0, shape = _point(x)
    tag = _seed_tag()
    if _AUDITING.get():  # (see _audited) the direction and its nan probe, stacked
        seed = _elementwise_seed(x0, shape, "derivative")
        if _scale is not None:  # (an audit of a ranged call: at its retry's scale)
            seed = np.ldexp(seed, _scale)
        stack = np.stack(np.broadcast_arrays(seed, _probe(seed, x0)))
        token = _number.audit_k(1)
        try:
            y = _call(f, Dual._build((x0, stack.astype(_dtype(x0))), tag, 1), "derivative")
        finally:
            _number.AUDIT_K.reset(token)
        _check_elementwise(y, shape, "derivative")
        ys = _value_shape(y)
        part = _part_of(y, tag, Dual, 1, (2,) + ys, _dtype(x0), x0)
        if isinstance(part, _Number):
            _PROBE_PART[0] = np.broadcast_to(part, (2,) + ys)[1]
        return _result(np.broadcast_to(part, (2,) + ys)[0])
    if _scale is not None:  # (see _ranged) a stack of one direction, scaled
        y = _call(f, Dual._build((x0, np.full((1,) + shape, 2.0 ** _scale)), tag, 1),
                  "derivative")
        _check_elementwise(y, shape, "derivative")
        ys = _value_shape(y)
        part = _part_of(y, tag, Dual, 1, (1,) + ys, _dtype(x0), x0)
        return _result(np.broadcast_to(part, (1,) + ys)[0], _dtype(x0))
    y = _call(f, Dual._build((x0, _elementwise_seed(x0, shape, "derivative")), tag, 0),
              "derivative")
    _check_elementwise(y, shape, "derivative")
    return _result(_part_of(y, tag, Dual, 1, _value_shape(y), _dtype(x0), x0), _dtype(x0))


@_nests
def second_derivative(f: Callable, x, *, _scale: int | None = None,
                      _scale2: int | None = None) -> float | np.ndarray:
    """Exact second derivative ``f''(x)`` (one HyperDual evaluation).

    For an array ``x``, ``f`` must act elementwise (as in :func:`derivative`).

    Parameters
    ----------
    f : callable
        Written with plain numpy or ``hyperdual`` functions; ``R -> R``, or elementwise on arrays.
    x : float or array_like
        The point (a Python float, a 0-d or an n-d array).

    Returns
    -------
    float or ndarray
        ``f''(x)``: a float for scalar ``x``, else an array.

    Examples
    --------
    >>> from hyperdual import second_derivative
    >>> second_derivative(lambda x: x ** 4 - 2 * x ** 2, 2.0)
    44.0
    """
    _check_callable(f, "second_derivative")
    x0, shape = _point(x)
    tag = _seed_tag()
    one = _elementwise_seed(x0, shape, "second_derivative")
    if _is_foreign(x0):
        zero = _arrays.zeros_like(x0, _dtype(x0))
    else:
        zero = 0.0 if shape == () else np.zeros(shape, dtype=_dtype(x0))
    # (_scale: eps1 alone carries 2**_scale, so the result is 2**_scale times f'',
    # see _ranged)
    # (_scale2: eps2 carries 2**_scale2 too, see _forward_in_range)
    one1 = one if _scale is None else one * 2.0 ** _scale
    one2 = one if _scale2 is None else one * 2.0 ** _scale2
    y = _call(f, HyperDual._build((x0, one1, one2, zero), tag, 0), "second_derivative")
    _check_elementwise(y, shape, "second_derivative")
    return _result(_part_of(y, tag, HyperDual, 3, _value_shape(y), _dtype(x0), x0),
                   _dtype(x0))


def _eye_block(start: int, k: int, n: int, shape: tuple, lead: tuple, dtype=np.float64,
               like=None, scale=None):
    if like is not None and _is_foreign(like):  # in x's library and chunking
        return _arrays.eye_block_like(like, start, k, lead, dtype)
    unit = lead == (k,) and len(shape) == 1 and scale is None  # a registered block
    if unit and k * n <= _SEED_CACHE_ELEMENTS:
        kept = _SEED_CACHE[0]
        if kept is not None and kept[0] == (start, k, n, dtype):
            return kept[1]
    seed = np.zeros((k, n), dtype=dtype)
    # row i holds its 1 at column start + i: flat position start + i (n + 1), a slice
    seed.reshape(-1)[start:start + k * (n + 1):n + 1] = 1.0 if scale is None else 2.0 ** scale
    seed = seed.reshape(lead + shape)
    if seed.shape == (k, n) and scale is None:
        register_unit_seed(seed, start)  # a block of a 1-d x's gradient/Jacobian: A @ seed
        if unit and k * n <= _SEED_CACHE_ELEMENTS:
            _SEED_CACHE[0] = ((start, k, n, dtype), seed)
    return seed


#: The last small unit block of ``_eye_block`` (read-only, registered), given
#: again to the next call that asks for the same one: a gradient at n = 100
#: (an optimizer's many calls) builds its 100 x 100 seed once, not per call
#: (~5 us of ~90).  Blocks up to 512 KB are kept.
_SEED_CACHE: list = [None]
_SEED_CACHE_ELEMENTS = 1 << 16


def _block_size(n: int, per: int) -> int:
    return max(1, min(max(n, 1), _BLOCK_ELEMENTS // max(per, 1)))


def _zeros_lead(x0, lead: tuple, dtype):
    if _is_foreign(x0):  # a broadcast view of zeros in x's library and chunking
        return _arrays.zeros_lead(x0, lead, dtype)
    return _filled_view(np.zeros((), dtype=dtype), lead + tuple(_shape(x0)))


def _forward_jac(f, x0, shape, helper, scalar_only, scale=None):
    """Run f on Dual blocks of unit directions (times 2**scale); returns (value,
    derivative parts)."""
    n = math.prod(shape) if type(x0) is _ndarray else int(np.prod(shape, dtype=np.int64))
    tag = _seed_tag()
    dt = _dtype(x0)
    blocks, probes, value = [], [], None
    step = _block_size(n, n)
    for start in range(0, max(n, 1), step):
        k = min(step, n - start)
        seed = _eye_block(start, k, n, shape, (k,), dt, x0, scale)
        if _AUDITING.get():
            # (see _audited) directions k..2k-1 are nan-seeded probes of 0..k-1
            probe = _probe(seed, x0).astype(dt)
            token = _number.audit_k(k)
            try:
                y = _call(f, Dual._build((x0, np.concatenate([seed, probe])), tag, 1), helper)
            finally:
                _number.AUDIT_K.reset(token)
            ys = _value_shape(y)
            if scalar_only and ys != ():
                _require_scalar(y, helper)
            part = _part_of(y, tag, Dual, 1, (2 * k,) + ys, dt, x0)
            blocks.append(np.broadcast_to(part, (2 * k,) + ys)[:k])
            if isinstance(part, _Number):  # (an outer trace's: see _PROBE_PART)
                probes.append(np.broadcast_to(part, (2 * k,) + ys)[k:])
            value = _value_of(y, tag)
            continue
        y = _call(f, Dual._build((x0, seed), tag, 1), helper)
        ys = _value_shape(y)
        if scalar_only and ys != ():
            _require_scalar(y, helper)
        blocks.append(_part_of(y, tag, Dual, 1, (k,) + ys, dt, x0))
        value = _value_of(y, tag)
    d = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=0)
    if probes and len(probes) == len(blocks):
        # the probe lanes as d, for the helper to shape as it shapes d (_probe_as)
        _JAC_PROBE[0] = probes[0] if len(probes) == 1 else np.concatenate(probes, axis=0)
    return value, d, n


#: The probe lanes of _forward_jac's audit redo where they are an outer trace's
#: numbers (shaped as its d), until the helper shapes them as its result (_probe_as)
_JAC_PROBE: list = [None]


def _probe_as(shape_like):
    """Sets :data:`_PROBE_PART` to ``shape_like`` of the probe lanes that
    _forward_jac's audit redo left (the helper's own shaping of its d)."""
    probe, _JAC_PROBE[0] = _JAC_PROBE[0], None
    if probe is not None:
        try:
            _PROBE_PART[0] = shape_like(probe)
        except Exception:  # noqa: BLE001 - (only a hint of the audit: none)
            _PROBE_PART[0] = None


@_nests
def gradient(f: Callable, x, *, _scale: int | None = None) -> float | np.ndarray:
    """Exact gradient of a scalar function, shape ``x.shape``.

    One vectorised forward pass: the dual part holds all ``n`` unit directions.

    Parameters
    ----------
    f : callable
        Written with plain numpy or ``hyperdual`` functions; returns a scalar.
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
    >>> from hyperdual import gradient
    >>> gradient(lambda x: np.sum(x ** 2), np.array([1.0, 2.0, 3.0]))
    array([2., 4., 6.])
    """
    return value_and_gradient(f, x, _helper="gradient", _scale=_scale)[1]


@_nests
def value_and_gradient(f: Callable, x, *, _helper: str = "value_and_gradient",
                       _scale: int | None = None):
    """``(f(x), gradient(f, x))`` from one forward pass.

    Parameters
    ----------
    f : callable
        Written with plain numpy or ``hyperdual`` functions; returns a scalar.
    x : float or array_like
        The point (a Python float, a 0-d or an n-d array).

    Returns
    -------
    (float, float or ndarray)
        The value ``f(x)`` and the gradient, shaped like ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdual import value_and_gradient
    >>> value_and_gradient(lambda x: x[0] * x[1], np.array([2.0, 3.0]))
    (6.0, array([3., 2.]))
    """
    _check_callable(f, _helper)
    x0, shape = _point(x)
    value, d, n = _forward_jac(f, x0, shape, _helper, True, _scale)
    grad = np.reshape(d, shape) if shape else d[0]
    _probe_as(lambda p: np.reshape(p, shape) if shape else p[0])
    if _is_foreign(grad):  # the direction axis was one chunk: chunk it like x
        grad = _arrays.match_chunks(grad, x0)
    return _result(value), _result(grad, _dtype(x0))


@_nests
def jacobian(f: Callable, x, *, _scale: int | None = None) -> np.ndarray:
    """Exact Jacobian, shape ``f(x).shape + x.shape``.

    Parameters
    ----------
    f : callable
        Written with plain numpy or ``hyperdual`` functions; any output shape.
    x : float or array_like
        The point (a Python float, a 0-d or an n-d array).

    Returns
    -------
    ndarray
        ``J[i..., j...] = d f(x)[i...] / d x[j...]``, shape ``f(x).shape + x.shape``.

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdual import jacobian
    >>> jacobian(lambda x: np.array([1.0, 2.0]) * x[0] * x[1], np.array([3.0, 4.0]))
    array([[4., 3.],
           [8., 6.]])
    """
    _check_callable(f, "jacobian")
    x0, shape = _point(x)
    value, d, n = _forward_jac(f, x0, shape, "jacobian", False, _scale)
    ys = _value_shape(value)
    # d has the direction axis first: (n,) + ys  ->  ys + shape
    out = np.moveaxis(d, 0, -1) if ys else d
    _probe_as(lambda p: np.reshape(np.moveaxis(p, 0, -1) if ys else p, ys + shape))
    return _result(np.reshape(out, ys + shape), _dtype(x0))


_ROUTE_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def _sparse():
    if _SPARSE:  # (an import statement costs ~1 us per call even when done)
        return _SPARSE[0]
    from . import sparse  # (imports this module)

    _SPARSE.append(sparse)
    return sparse


_SPARSE: list = []


@_nests
def hessian(f: Callable, x, *, _scale: int | None = None,
            _scale2: int | None = None) -> float | np.ndarray:
    """Exact Hessian of a scalar function, shape ``x.shape + x.shape``.

    HyperDual parts carry the unit directions on ε1 and on ε2, so ``eps12``
    of the result is the whole Hessian after one pass (split in blocks of
    rows for large ``n``).  From 40 variables on, a plain float array ``x``
    first tries the sparse route: the pattern of ``f`` is detected
    (:func:`hessian_sparsity`) and star-coloured, and one pass carries one
    direction per colour on ε1 (plus a random one that checks the result), so
    a banded Hessian costs a few Hessian-vector products instead of ``n``.
    The result is the same dense array; functions the detection refuses
    (a branch on the value of ``x``, a conversion to float), dense patterns
    and any failed check take the dense stacks.

    Parameters
    ----------
    f : callable
        Written with plain numpy or ``hyperdual`` functions; returns a scalar.
    x : float or array_like
        The point (a Python float, a 0-d or an n-d array).

    Returns
    -------
    float or ndarray
        The Hessian, shape ``x.shape + x.shape`` (a float for scalar ``x``).

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdual import hessian
    >>> hessian(lambda x: x[0] ** 2 * x[1], np.array([1.0, 2.0]))
    array([[4., 2.],
           [2., 0.]])
    """
    _check_callable(f, "hessian")
    x0, shape = _point(x)
    n = math.prod(shape) if type(x0) is _ndarray else int(np.prod(shape, dtype=np.int64))
    dt = _dtype(x0)
    if n >= _sparse()._ROUTE_MIN_N and type(x0) is np.ndarray and dt in _ROUTE_DTYPES \
            and _scale is None and _scale2 is None:
        h = _sparse()._dense_hessian_by_colours(f, x0, shape, dt)
        if h is not None:
            return h
    tag = _seed_tag()
    rows = []
    step = _block_size(n, n * max(n, 1))
    e2 = _eye_block(0, n, n, shape, (1, n), dt, x0, _scale2)
    for start in range(0, max(n, 1), step):
        k = min(step, n - start)
        e1 = _eye_block(start, k, n, shape, (k, 1), dt, x0, _scale)
        e12 = _zeros_lead(x0, (k, n), dt)
        y = _call(f, HyperDual._build((x0, e1, e2, e12), tag, 2), "hessian")
        if _value_shape(y) != ():
            _require_scalar(y, "hessian")
        rows.append(_part_of(y, tag, HyperDual, 3, (k, n), dt, x0))
    h = rows[0] if len(rows) == 1 else np.concatenate(rows, axis=0)
    return _result(np.reshape(h, shape + shape) if shape else h[0, 0], dt)


@_nests
def hvp(f: Callable, x, v, *, _scale: int | None = None,
        _scale2: int | None = None) -> float | np.ndarray:
    """Exact Hessian-vector product ``H(x) @ v``, shape ``x.shape``.

    ε1 carries ``v``, ε2 the unit directions, so ``eps12`` is ``H v`` without
    forming ``H`` from separate passes.

    Parameters
    ----------
    f : callable
        Written with plain numpy or ``hyperdual`` functions; returns a scalar.
    x : float or array_like
        The point (a Python float, a 0-d or an n-d array).
    v : float or array_like
        The direction, with ``x``'s shape.

    Returns
    -------
    float or ndarray
        ``H(x) @ v``, shaped like ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdual import hvp
    >>> hvp(lambda x: x[0] ** 2 * x[1], np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    array([4., 2.])
    """
    _check_callable(f, "hvp")
    x0, shape = _point(x)
    v0 = _as_part(v, "v") if not isinstance(v, _Number) else v
    if _shape(v0) != shape:
        raise ValueError(f"hyperdual.hvp: v has shape {_shape(v0)}, expected x's shape {shape}")
    n = int(np.prod(shape, dtype=np.int64))
    tag = _seed_tag()
    dt = _dtype(x0)
    cols = []
    step = _block_size(n, n)
    if _is_foreign(v0):  # dask, CuPy: kept lazy, in its library (chunked like x)
        v0 = _arrays.match_chunks(v0 if v0.dtype == dt else v0.astype(dt), x0)
    elif not isinstance(v0, _Number):
        v0 = np.asarray(v0, dtype=dt)  # derivative parts follow x's dtype
    e1 = np.reshape(v0 if _scale is None else v0 * 2.0 ** _scale,  # type: ignore[operator]
                    (1, 1) + shape)  # (the base _Number declares no __mul__; Dual, HyperDual do)
    for start in range(0, max(n, 1), step):
        k = min(step, n - start)
        e2 = _eye_block(start, k, n, shape, (1, k), dt, x0, _scale2)
        e12 = _zeros_lead(x0, (1, k), dt)
        y = _call(f, HyperDual._build((x0, np.broadcast_to(e1, (1, 1) + shape), e2, e12),
                                    tag, 2), "hvp")
        _require_scalar(y, "hvp")
        cols.append(_part_of(y, tag, HyperDual, 3, (1, k), dt, x0))
    hv = cols[0] if len(cols) == 1 else np.concatenate(cols, axis=1)
    hv = np.reshape(hv, shape) if shape else hv[0, 0]
    if _is_foreign(hv):  # the direction axis was one chunk: chunk it like x
        hv = _arrays.match_chunks(hv, x0)
    return _result(hv, dt)


# ----------------------------------------------------------------------------
# jvp / vjp: directional derivatives (the common functional API)
# ----------------------------------------------------------------------------


def _direction(v, shape: tuple, helper: str, what: str, like: str):
    """A tangent/cotangent: float (array) or a nested number, of the given shape."""
    v0 = v if isinstance(v, _Number) else _as_part(v, what)
    if _shape(v0) != shape:
        raise ValueError(
            f"hyperdual.{helper}: {what} has shape {_shape(v0)}, expected {like} {shape}"
        )
    return v0


@_nests
def jvp(f: Callable, x, v, *, _scale: int | None = None) -> tuple:
    """``(f(x), J(x) @ v)``: the value and the directional derivative along ``v``.

    One forward pass on a :class:`Dual` whose dual part is ``v``: the cheap
    direction in forward mode (cost of about two evaluations of ``f``,
    whatever the sizes of ``x`` and ``f(x)``).

    Parameters
    ----------
    f : callable
        Any function of one argument, written with plain numpy.
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
    >>> from hyperdual import jvp
    >>> jvp(lambda x: np.stack([x[0] * x[1], np.sin(x[0])]), np.array([0.0, 2.0]),
    ...     np.array([1.0, 0.0]))
    (array([0., 0.]), array([2., 1.]))
    """
    _check_callable(f, "jvp")
    x0, shape = _point(x)
    v0 = _direction(v, shape, "jvp", "v", "x's shape")
    dt = _dtype(x0)
    if _is_foreign(v0):  # dask, CuPy: kept lazy, in its library (chunked like x)
        v0 = _arrays.match_chunks(v0 if v0.dtype == dt else v0.astype(dt), x0)
    elif not isinstance(v0, _Number):
        v0 = np.asarray(v0, dtype=dt) if shape else float(v0)
    tag = _seed_tag()
    if _AUDITING.get() and not isinstance(v0, _Number) and not _is_foreign(v0):
        # (see _audited) the direction and its nan probe, stacked
        seed = np.broadcast_to(np.asarray(v0, dtype=dt), shape)
        if _scale is not None:  # (an audit of a ranged call: at its retry's scale)
            seed = np.ldexp(seed, _scale)
        stack = np.stack([seed, _probe(seed, x0).astype(dt)])
        token = _number.audit_k(1)
        try:
            y = _call(f, Dual._build((x0, stack), tag, 1), "jvp")
        finally:
            _number.AUDIT_K.reset(token)
        ys = _value_shape(y)
        part = _part_of(y, tag, Dual, 1, (2,) + ys, dt, x0)
        if isinstance(part, _Number):
            _PROBE_PART[0] = np.broadcast_to(part, (2,) + ys)[1]
        return _result(_value_of(y, tag)), _result(np.broadcast_to(part, (2,) + ys)[0])
    if _scale is not None and not isinstance(v0, _Number):  # (see _ranged) scaled, stacked
        y = _call(f, Dual._build((x0, np.ldexp(np.reshape(v0, (1,) + shape), _scale)), tag,
                                 1), "jvp")
        ys = _value_shape(y)
        part = _part_of(y, tag, Dual, 1, (1,) + ys, dt, x0)
        return _result(_value_of(y, tag)), _result(np.broadcast_to(part, (1,) + ys)[0])
    y = _call(f, Dual._build((x0, v0), tag, 0), "jvp")
    ys = _value_shape(y)
    return _result(_value_of(y, tag)), _result(_part_of(y, tag, Dual, 1, ys, dt, x0))


@_nests
def vjp(f: Callable, x, u, *, _scale: int | None = None) -> tuple:
    """``(f(x), u @ J(x))``: the value and the vector-Jacobian product.

    Forward mode has no cheap transpose: this takes the Jacobian by one
    vectorised pass of direction stacks (the cost of ``n = x.size`` JVPs,
    in blocks for large ``n``) and contracts it with ``u``.  Prefer
    ``reverse.vjp`` (one backward pass) when ``x`` is large.

    Parameters
    ----------
    f : callable
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
    >>> from hyperdual import vjp
    >>> vjp(lambda x: np.stack([x[0] * x[1], np.sin(x[0])]), np.array([0.0, 2.0]),
    ...     np.array([1.0, 1.0]))
    (array([0., 0.]), array([3., 0.]))
    """
    _check_callable(f, "vjp")
    x0, shape = _point(x)
    value, d, n = _forward_jac(f, x0, shape, "vjp", False, _scale)
    ys = _value_shape(value)
    u0 = _direction(u, ys, "vjp", "u", "f(x)'s shape")
    if _is_foreign(u0):  # dask, CuPy: kept lazy, in its library
        u0 = u0 if u0.dtype == _dtype(x0) else u0.astype(_dtype(x0))
    elif not isinstance(u0, _Number) and ys:
        u0 = np.asarray(u0, dtype=_dtype(x0))
    # d holds the direction axis first: (n,) + ys; contract the ys axes with u
    # u is a constant weight: its exact zeros contribute exactly 0, also next to an
    # inf or nan entry of J (the constant-zero convention; reverse.vjp's seed alike)

    def contracted(p):  # (the probe lanes of d contracted with u as d is below)
        if ys:
            p = np.sum(p * np.reshape(u0, (1,) + ys), axis=tuple(range(1, 1 + len(ys))))
        else:
            p = p * u0
        return np.reshape(p, shape) if shape else p[0]

    _probe_as(contracted)
    if ys:
        w = np.reshape(u0, (1,) + ys)
        prod = d * w
        if type(prod) is np.ndarray and type(d) is np.ndarray:
            prod = _zero_weighted(prod, w)
        out = np.sum(prod, axis=tuple(range(1, 1 + len(ys))))
    else:
        out = d * u0
        if type(out) is np.ndarray and type(d) is np.ndarray:
            out = _zero_weighted(out, u0)
    if not isinstance(out, _Number) and not isinstance(d, _Number) and np.ndim(out) == 0:
        out = np.reshape(out, (1,))
    return _result(value), _result(np.reshape(out, shape) if shape else out[0], _dtype(x0))
