"""The audit of reverse mode's zero-cotangent guard: a kept 0 that is computed, not
structural, becomes nan instead of a silently wrong finite number.

The guard (``reverse.rules._util._keep_zero``) takes a cotangent of exactly 0
times an inf or nan local partial as 0.  That is the truth where the zero is
structural or *clean*: the output does not depend on that node along any path
(a Jacobian row's seed, a ``where`` mask, a constant zero weight), or the
cotangent is an O(h) function of the input (``x0`` in ``x0 * sqrt(x1)``: the
path contributes ``O(h) * o(1/h) -> 0``, the product rule of session 13).  It
is wrong where the cotangent is zero only because a value with an infinite
derivative is zero there: d/dx ``sqrt(x)**2`` at 0 has cotangent ``2 sqrt(x) =
0`` at the sqrt node, whose own derivative is inf; the guard gave 0, the truth
is 1.

A cotangent is clean when its derivative with respect to the input is finite
(then it is O(h) near the point).  So the audit redoes the backward pass
once, forward-over-reverse: the recorded graph is replayed on ``Dual`` data
whose tangent is 1 in every finite entry of the moving input (an inf or nan
entry stays put: the derivatives there are the rules' limit conventions, not a
singular point of a finite input; an inf tangent can only
cancel into nan, never into a finite number, so one direction finds every
infinite one), and the backward pass then computes each cotangent with its
derivative.  Where the guard meets a zero cotangent next to an inf/nan partial,
the audit keeps the 0 if the cotangent's tangent is finite and gives nan if it
is not (inf: not O(h); nan: forward mode could not decide either).  The pass's
real parts are the guarded pass's numbers; the entries of the gradient that a
nan of the audit reaches become nan.

Cost: none where no zero was kept next to an inf or nan partial (the guarded
pass itself runs only where the first pass had a nan, ``core._run_backward``);
otherwise one replay of the graph and one backward pass on Dual data.
A releasing pass (it dropped the values of the nodes it visited) is audited
on the values the replay recomputes, from the whole graph.  A pass on Dual data
of an outer forward trace (reverse inside a hyperdual helper) is audited on the
real parts (its own input is plain data), and an entry found computed is nan in
every part of the result there.
Not audited (the guard's 0 stays, as before): the forward-over-reverse passes
of ``hessian``/``hvp`` (Dual data of their own input: :func:`split_clean`
applies the O(h) product rule there instead), dask data, and graphs whose
replay does not reproduce the recorded values (a function drawing random
numbers).  A zero kept by a contraction's guard (``_keep_zero_bilinear``) is
taken as clean.

Also here: the product rule of a clean zero cotangent on Dual data
(:func:`split_clean`) and on a recorded pass (:func:`split_recorded`: the audit
tells the guarded pass which nodes met a clean zero cotangent that moves, and a
recorded pass is redone with those nodes split, so double backprop
differentiates the kept zero as ``a' b`` instead of cutting it), and the nan of
a zero partial next to an infinite cotangent along the paths that reach it
(:func:`mirrored`, :func:`mirrored_graph`).
"""

from __future__ import annotations

import contextvars
import copy
import weakref
from typing import Any

import numpy as np

from . import core
from .core import PendingScatter, Variable, _LeafAlias

#: Zeros the audit found computed (not clean) so far: a caller compares the
#: count before and after its audit (another thread's count costs it a merge).
DIRTY = [0]
#: During the audit's backward pass: ``[node, found]``, the Function whose backward
#: runs and a dict ``id(node) -> (node, mask)`` where :func:`audited_keep_zero`
#: puts the clean zero cotangents that move (real part 0, finite nonzero tangent)
#: next to an inf or nan partial.  A recorded pass redoes those nodes split
#: (:func:`split_recorded`).  Per context, as the guard's own switches.
_LIVE: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "reverse_audit_live", default=None)


#: The Variables that reverse's own forward-over-reverse passes seed with Dual data
#: (``hessian``, ``hvp``, ``sparse_hessian``): their passes are not audited here
#: (:func:`split_clean` applies there).  Any other input holding Dual data is an
#: outer trace's value (a reverse helper inside a hyperdual one, ``x`` itself
#: carrying the outer perturbation): its pass is audited on the real parts.
OWN_DUAL_INPUTS: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def _own_input(x: Any) -> bool:
    return OWN_DUAL_INPUTS.get(id(x)) is x


def _real(v: Any) -> Any:
    return v.real if core._is_dual(v) else v


def _plain(v: Any) -> bool:
    """Plain float data (what the replay can seed a Dual with)."""
    if type(v) is np.ndarray or isinstance(v, np.generic):
        return v.dtype.kind == "f"
    return type(v) is float


#: True during the probed replay (:func:`audit`): its Duals carry two lanes, the
#: moving direction and its nan probe (hyperdual's ``_number.audit_k(1)``)
_PROBED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "reverse_audit_probed", default=False)


def _build(hd: Any, like: Any, real: Any, tangent: Any) -> Any:
    """A Dual of ``like``'s tag from new parts (0-d parts as ``like`` had them)."""
    if type(like.real) is float and not like.nd:
        real, tangent = float(real), float(tangent)
    return hd.Dual._build((real, tangent), like.tag, like.nd)


def _own_lanes(v: Any) -> int | None:
    """The direction axes of a Dual of the replay's own (0; 1 in the probed replay),
    None for another number (nested data: an outer trace's)."""
    nd = getattr(v, "nd", 0)
    if core._is_dual(v.real) or nd != (1 if _PROBED.get() else 0):
        return None
    return nd


def _direction(tangent: Any, nd: int) -> Any:
    """The moving direction's tangent (lane 0 of the probed replay's two)."""
    return np.asarray(tangent)[0] if nd else tangent


def kink_sign(x: Any) -> Any:
    """``np.sign(x)`` of the replay's Dual ``x`` (Absolute's partial), its tangent nan
    where x is 0 and moves: sign jumps there, so the zero adjoint ``gy sign(0)`` is no
    structural zero, and a later infinite partial times it is no 0 (sign's own
    derivative 0 said it was: the gradient of abs(sqrt(u)) at 0 was 0, truth inf, and
    of abs(sqrt(u))**2 0, truth 1; hyperdual, whose tangents run the other way, gave
    nan)."""
    import hyperdual as hd

    s = np.sign(x)
    nd = _own_lanes(x)
    if nd is None or not core._is_dual(s) or _own_lanes(s) != nd:
        return s
    t = np.asarray(x.dual)
    with np.errstate(invalid="ignore"):
        moves = np.not_equal(t, 0)  # (a nan probe too)
        jump = np.equal(np.asarray(x.real), 0) & (moves.any(axis=0) if nd else moves)
    if not np.any(jump):
        return s
    return _build(hd, s, s.real, np.where(jump, np.nan, np.asarray(s.dual)))


def audited_keep_zero(gy: Any, gx: Any) -> Any:
    """``_keep_zero`` in the audit pass: ``gx = gy * partial`` on Dual data.

    Where ``gy``'s real part is 0 and ``gx``'s is inf or nan: 0 (tangent 0) if
    ``gy``'s tangent is finite (a clean zero), nan if it is not (counted in
    :data:`DIRTY`)."""
    import hyperdual as hd

    if _own_lanes(gx) is None:
        return gx  # not the audit's own Dual (nested data): as the guard does not know
    r = np.asarray(gx.real)
    with np.errstate(invalid="ignore"):
        dec = np.logical_and(np.equal(_real(gy), 0), ~np.isfinite(r))
    if not dec.any():
        return gx
    nd = _own_lanes(gy) if core._is_dual(gy) else None
    if nd is not None and not core._is_dual(gy.dual):
        # (the probed replay: the direction's lane, whose zero tangents hyperdual kept
        # only where the probe's are zero too)
        tangent = _direction(gy.dual, nd)
        clean = np.logical_and(dec, np.isfinite(tangent))
        state = _LIVE.get()
        if state is not None and state[0] is not None:
            node, found = state
            # an O(h) cotangent that moves: its derivative times the partial is
            # the product rule's a' b (what a recorded pass's cut would drop)
            with np.errstate(invalid="ignore"):
                moving = np.logical_and(clean, np.not_equal(tangent, 0))
            if moving.any():
                prev = found.get(id(node))
                found[id(node)] = (node, moving if prev is None else prev[1] | moving)
    else:
        clean = dec  # gy does not move (a seed, a constant): structural
    dirty = np.logical_and(dec, ~clean)
    if dirty.any():
        DIRTY[0] += 1
    nan = np.array(np.nan, dtype=r.dtype)
    zero = np.zeros((), dtype=r.dtype)
    real = np.where(clean, zero, np.where(dirty, nan, r))
    tangent = np.where(clean, zero, np.where(dirty, nan, gx.dual))
    return _build(hd, gx, real, tangent)


def audited_bilinear(out: Any, bil: Any, gy: Any, x: Any, const: bool) -> Any:
    """``_keep_zero_bilinear`` in the audit pass: the guard of the real parts (its
    zeros taken as clean), so that the audit's real parts are the guarded pass's."""
    import hyperdual as hd
    from _exactdiff.contractions import zero_safe

    if _own_lanes(out) is None:
        return out
    r = np.asarray(out.real)
    if r.dtype.kind != "f" or np.all(np.isfinite(r)):
        return out
    g, xv = np.asarray(_real(gy)), np.asarray(_real(x))
    with np.errstate(all="ignore"):
        safe = np.asarray(zero_safe(bil, g, xv, True, const), dtype=r.dtype)
        mask = ~((safe == r) | (np.isnan(safe) & np.isnan(r)))
    if not mask.any():
        return out
    real = np.where(mask, safe, r)
    tangent = np.where(mask, np.zeros((), dtype=r.dtype), out.dual)
    return _build(hd, out, real, tangent)


def _nodes(y: Variable, target: Variable | None) -> list | None:
    """The functions of ``y``'s graph that the pass visits, oldest first."""
    if target is not None:
        found: list = []
        core._toward(y, target, found)
        nodes = found
    else:
        nodes, seen, stack = [], set(), [y.creator]
        while stack:
            f = stack.pop()
            if f is None or id(f) in seen:
                continue
            seen.add(id(f))
            nodes.append(f)
            for x in f._inputs:
                if isinstance(x, Variable) and type(x) is not _LeafAlias:
                    stack.append(x.creator)
    nodes.sort(key=lambda f: f.generation)
    return nodes


def outer_leaves(y: Variable, skip: Variable | None) -> Any:
    """The sum of the leaf entries that ``y``'s graph reaches, over its leaves other
    than ``skip`` (None if there are none).  ``exp`` of it (plus the helper's own
    input) depends on each of them at every order and in every mixed derivative,
    never through a zero weight: ``exp(...) * nan`` makes an entry nan for every
    outer derivative, where ``y * nan`` can still give a nan-valued node a zero
    weight's 0 (its own derivative by an outer variable, taken through a product
    with a computed zero), and a sum of separate terms loses the outer variables in
    a derivative by the input (the tangent of a jvp).  An entry is reached where a
    nan seeded at ``y`` arrives (only structural zeros stop it: ``x[1]`` of a leaf
    ``x`` that f indexes at 0 is not, and keeps its derivatives)."""
    if y.creator is None:
        return None
    seed = np.full(np.shape(_primal(y.data)), np.nan)
    with np.errstate(all="ignore"), core.no_grad():
        try:
            results = core._walk_backward(y, seed, False, False)
        except Exception:  # noqa: BLE001 - cannot tell which entries: every one
            results = None
    total = None
    pairs: list = []
    if results is None:
        seen: set[int] = set()
        for f in _nodes(y, None) or ():
            for x in f._inputs:
                if isinstance(x, Variable) and x.creator is None and id(x) not in seen:
                    seen.add(id(x))
                    pairs.append((x, None))
    else:
        pairs = list(results)
    for x, g in pairs:
        if x is skip or (type(x) is _LeafAlias and x.target() is skip):
            continue
        if g is None:
            t = x.sum()
        else:
            if type(g) is PendingScatter:
                g = g.materialize()
            with np.errstate(invalid="ignore"):
                hit = np.broadcast_to(np.isnan(np.asarray(_primal(g))), np.shape(x.data))
            if not hit.any():
                continue
            t = x.sum() if hit.all() else x[np.nonzero(hit)].sum()
        total = t if total is None else total + t
    return total


def audit(y: Variable, seed: Any, target: Variable | None,
          results: list[tuple[Variable, Any]],
          released: bool = False, redo: Any = None) -> list[tuple[Variable, Any]]:
    """``results`` of a guarded pass from ``y`` (to ``target``, or to every leaf),
    with nan where the audit finds that a kept zero was computed (see the module
    docstring).  Returns ``results`` as they are where the audit does not apply.
    ``released``: the pass dropped the values of the nodes it visited (a releasing
    pass, ``core._walk_backward``); the replay recomputes them, from the whole graph.
    ``redo`` (a recorded pass): called with the nodes where a clean zero cotangent
    that moves met an inf or nan partial (``{id(node): (node, mask)}``), it returns
    the pass's results with those nodes split (:func:`split_recorded`)."""
    try:
        import hyperdual as hd
    except Exception:  # pragma: no cover - hyperdual ships with reverse
        return results
    seed_data = seed.data if isinstance(seed, Variable) else seed
    # Dual data of an outer forward trace (reverse inside a hyperdual helper): the
    # replay runs on their real parts, the helper's own input moving
    strip = not (_plain(seed_data) and _plain(y.data))
    if strip:
        if target is None or _own_input(target) or not _plain(_primal(target.data)):
            return results  # forward-over-reverse (its own Dual input), or no input
        seed_data = _primal(seed_data)
        if not (_plain(seed_data) and _plain(_primal(y.data))):
            return results
    prim = _primal if strip else _same
    if released and target is not None and target.creator is not None:
        return results  # (the whole graph would run on past the target)
    nodes = _nodes(y, None if released else target)
    if not nodes:
        return results
    live: dict[int, Any] = {}

    def replay(move_all: bool, probed: bool = False) -> dict[int, Any] | None:
        """The pass replayed forward-over-reverse: the target's gradient (None where
        the replay does not apply).  ``move_all``: every leaf moves, not the target
        alone (for the clean zeros that move with an outer variable: ``live``).
        ``probed``: the moving direction followed by its nan probe, under hyperdual's
        audit of kept zeros (see below)."""
        tag = hd.new_tag()
        vals: dict[int, Any] = {}

        def val(x: Any) -> Any:
            if not isinstance(x, Variable):
                return prim(x)
            if type(x) is _LeafAlias:
                leaf = x.target()
                x = x if leaf is None else leaf
            v = vals.get(id(x))
            if v is not None:
                return v
            moving = x is target if target is not None else x.creator is None
            if move_all and x.creator is None and _plain(x.data):
                moving = True
            if moving:
                d = np.asarray(prim(x.data))
                # an inf or nan entry does not move: there every derivative is a limit
                # convention of the rules (1 / (1 + x*x) at inf), not a singular point
                with np.errstate(invalid="ignore"):
                    seed = np.isfinite(d).astype(d.dtype)
                if probed:
                    lanes = np.stack([seed, hd.helpers._probe(seed, d).astype(d.dtype)])
                    v = vals[id(x)] = hd.Dual._build((d, lanes), tag, 1)
                else:
                    v = vals[id(x)] = hd.Dual._build((d, seed), tag, 0)
                return v
            return prim(x.data)

        state = [None, live]
        with np.errstate(all="ignore"), core.no_grad():
            token = core.AUDIT_ZEROS.set(True)
            guard = core.GUARD_ZEROS.set(True)
            live_token = _LIVE.set(state if redo is not None else None)
            probe_tokens = (_PROBED.set(True), hd._number.audit_k(1)) if probed else None
            try:
                for f in nodes:
                    out = f.output()
                    if out is None:
                        continue
                    recorded = prim(out.data)
                    if recorded is None and released:  # dropped by the pass: recomputed
                        xs = [val(x) for x in f._inputs]
                        if any(v is None for v in xs):
                            return None
                        r = copy.copy(f).forward(*xs)
                        vals[id(out)] = np.array(r) if isinstance(r, np.generic) else r
                        continue
                    if not _plain(recorded):
                        return None
                    xs = [val(x) for x in f._inputs]
                    if not any(core._is_dual(v) for v in xs):
                        if strip:
                            vals[id(out)] = recorded
                        continue
                    r = copy.copy(f).forward(*xs)
                    if isinstance(r, np.generic):
                        r = np.array(r)
                    if not np.array_equal(np.asarray(_real(r)), recorded, equal_nan=True):
                        return None  # the replay is not the recorded pass
                    vals[id(out)] = r
                grads: dict[int, Any] = {id(y): seed_data}
                leaf_grads: dict[int, Any] = {}
                owned: set[int] = set()
                for f in reversed(nodes):
                    out = f.output()
                    gy = None if out is None else grads.pop(id(out), None)
                    if gy is None:
                        continue
                    if type(gy) is PendingScatter:
                        gy = gy.materialize()
                    inputs = f._inputs
                    state[0] = f
                    gxs = f.backward(gy, val(out), *[val(x) for x in inputs])
                    if type(gxs) is not tuple:
                        gxs = (gxs,)
                    for x, gx in zip(inputs, gxs):
                        if gx is None or not isinstance(x, Variable):
                            continue
                        if type(x) is _LeafAlias:
                            x = x.target()
                            if x is None:
                                continue
                        leaf = x is target if target is not None else x.creator is None
                        store = leaf_grads if leaf else grads
                        if not leaf and x.creator is None:
                            continue  # a leaf other than the target: a constant here
                        prev = store.get(id(x))
                        store[id(x)] = gx if prev is None else core._accumulate(
                            prev, gx, owned)
            except (TypeError, ValueError, NotImplementedError, AttributeError):
                return None  # a rule without Dual data support: the guard's 0 stays
            finally:
                if probe_tokens is not None:
                    hd._number.AUDIT_K.reset(probe_tokens[1])
                    _PROBED.reset(probe_tokens[0])
                _LIVE.reset(live_token)
                core.GUARD_ZEROS.reset(guard)
                core.AUDIT_ZEROS.reset(token)
        return leaf_grads

    before = DIRTY[0]
    kept = hd._number.KEPT[0]
    leaf_grads = replay(False)
    if leaf_grads is None:
        return results
    if hd._number.KEPT[0] != kept:
        # The replay's own Dual arithmetic kept a zero tangent next to an inf partial,
        # so a cotangent it found clean may have a computed zero for its derivative:
        # 2 sqrt(x**2) at 0 (d/dx of sqrt(x**2)**2) has tangent (1 / sqrt(u)) * 2x =
        # inf * 0, kept as 0, and the guard's 0 was taken as clean (the second
        # derivative by double backprop was 0, truth 2).  Redone with a nan probe
        # beside the direction, as hyperdual's audits do: such a tangent is nan.
        live.clear()
        probed = replay(False, probed=True)
        if probed is not None:
            leaf_grads = probed
    if redo is not None and target is not None and any(
            _other_leaf(x, target) for f in nodes for x in f._inputs):
        # a recorded pass reaching other leaves (an outer trace's variables): a
        # cotangent that moves with them alone is clean and moving too (d/da of
        # d/dy a sqrt(y) at a = 0); that replay's nan are not this pass's
        dirty = DIRTY[0]
        replay(True)
        DIRTY[0] = dirty
    if live:
        results = redo(live)
    lanes = _outer_lanes(nodes, seed) if strip else None
    if strip:
        results = _nan_beside_nan(results, leaf_grads, lanes, y, seed)
    if DIRTY[0] == before:
        return results
    # an elementwise helper's own pass, reaching no other leaf: each nan on its entry
    local = target is not None and ELEMENTWISE.get() is target and not any(
        _other_leaf(x, target) for f in nodes for x in f._inputs)
    merged = []
    for x, g in results:
        a = leaf_grads.get(id(x))
        if a is not None:
            if type(a) is PendingScatter:
                a = a.materialize()
            g = _poisoned(g, np.asarray(_real(a)), y, seed, lanes, x if local else None)
        merged.append((x, g))
    return merged


def _nan_beside_nan(results: list, leaf_grads: dict, lanes: tuple | None, y: Variable,
                    seed: Any) -> list:
    """``results`` of a pass on an outer forward trace's Duals, nan in the directions
    that the pass moves (``lanes``) where a result's value is nan already and so is
    the audit's: the pass kept a zero there (its arithmetic met a plain zero, to
    hyperdual a constant, that is a computed partial of this pass: ``4 t**3`` at 0),
    and the outer derivative of an entry that does not exist is unknown too.  d/ds
    under hyperdual of reverse.derivative of d/dt ``sqrt(t**4) * s`` at 0 was 0
    (truth 2).  A direction that no value of the pass moves keeps its part (x1's 4
    in the gradient of ``derivative(lambda y: cbrt(y**3) * x[0], 0.0) + x[1]**2``)."""
    if lanes is None:
        return results
    merged = []
    for x, g in results:
        a = leaf_grads.get(id(x))
        v = g.data if isinstance(g, Variable) else g
        if a is not None and core._is_dual(v):
            if type(a) is PendingScatter:
                a = a.materialize()
            p = np.asarray(_primal(v))
            with np.errstate(invalid="ignore"):
                both = np.broadcast_to(np.isnan(np.asarray(_real(a))), p.shape) & np.isnan(p)
            if both.any():
                if isinstance(g, Variable):
                    # (a recorded pass: nan along y's paths there, as _poisoned puts it)
                    g = _poisoned(g, np.where(both, np.nan, 0.0), y, seed, lanes)
                else:
                    g = _nan_at(g, both, lanes)
        merged.append((x, g))
    return merged


def graph_lanes(y: Variable) -> tuple | None:
    """:func:`_outer_lanes` of the whole graph of ``y`` (None where it has none, or
    ``y`` holds no outer forward trace's Dual)."""
    if not core._is_dual(y.data):
        return None
    nodes = _nodes(y, None) if y.creator is not None else None
    return _outer_lanes(nodes, y) if nodes else None


def _outer_lanes(nodes: list, seed: Any) -> tuple | None:
    """The directions of the outer forward trace that the pass's data move (a
    reverse pass on Dual data of a hyperdual helper outside): ``(tag, nd, moving)``,
    ``moving`` a bool per direction (one for ``nd`` 0).  A direction that no value of
    the graph moves cannot move the pass's results: there a computed zero's nan
    need not go (``d/dy (sqrt(y)**2 x0) + x1**2``: the inner pass sees x0 alone, so
    x1's entry of the outer gradient keeps its 4).  None where that is not one
    level of outer Duals with plain parts, or a value was dropped (a releasing pass)."""
    found: list = [None, None, None]

    def see(v: Any) -> bool:
        if isinstance(v, Variable):
            v = v.data
            if v is None:
                return False
        if not core._is_dual(v):
            return True
        if getattr(v, "coef", None) is not None or getattr(v, "nd", 0) > 1 \
                or core._is_dual(v.real) or core._is_dual(v.dual):
            return False
        if found[0] is None:
            found[0], found[1] = v.tag, v.nd
        elif found[0] is not v.tag or found[1] != v.nd:
            return False
        d = np.asarray(v.dual)
        if d.dtype.kind != "f":
            return False
        with np.errstate(invalid="ignore"):
            m = np.not_equal(d, 0)  # (nan too)
        m = m.reshape(m.shape[0], -1).any(axis=1) if v.nd else np.asarray(m.any())
        found[2] = m if found[2] is None else np.broadcast_to(found[2], m.shape) | m
        return True

    if not see(seed):
        return None
    for f in nodes:
        out = f.output()
        if out is None or not see(out):
            return None
        for x in f._inputs:
            if type(x) is _LeafAlias:
                x = x.target()
            if x is not None and not see(x):
                return None
    if found[0] is None or found[2] is None:
        return None
    return found[0], found[1], found[2]


def _other_leaf(x: Any, target: Variable) -> bool:
    """Whether ``x`` (an input of a node) is a leaf Variable other than ``target``."""
    if type(x) is _LeafAlias:
        x = x.target()
    return isinstance(x, Variable) and x is not target and x.creator is None


def _same(v: Any) -> Any:
    return v


def _primal(v: Any) -> Any:
    """``v`` without the perturbations of outer forward traces (its real part; a
    Taylor number's constant coefficient)."""
    while core._is_dual(v):
        coef = getattr(v, "coef", None)
        v = v.real if coef is None else coef[0]
    return v


def _nan_at(v: Any, mask: Any, lanes: tuple | None = None) -> Any:
    """``v`` (a Dual of outer traces, or its parts) nan in every part where ``mask``
    (in the directions ``lanes`` says the pass's data move, see :func:`_outer_lanes`)."""
    if lanes is not None and core._is_dual(v) and v.tag is lanes[0] and v.nd == lanes[1] \
            and not core._is_dual(v.real) and not core._is_dual(v.dual):
        real = _nan_at(v.real, mask)
        d = np.asarray(v.dual)
        moving = lanes[2]
        if v.nd:
            if moving.shape[0] != d.shape[0]:
                return _nan_at(v, mask)
            moving = moving.reshape((-1,) + (1,) * (d.ndim - 1))
        sel = np.logical_and(moving, mask)
        dual = np.where(sel, np.array(np.nan, dtype=d.dtype), d)
        dual = float(dual) if type(v.dual) is float else dual
        return type(v)._build((real, dual), v.tag, v.nd)
    coef = getattr(v, "coef", None)
    if coef is not None and core._is_dual(v):  # a Taylor number: every coefficient
        return type(v)._make(_nan_at(coef, np.broadcast_to(mask, np.shape(coef)[1:])),
                             v.tag)
    if core._is_dual(v):
        return type(v)._build(tuple(_nan_at(p, mask) for p in v._parts()), v.tag, v.nd)
    a = np.asarray(v)
    out = np.where(mask, np.array(np.nan, dtype=a.dtype), a)
    return float(out) if type(v) is float else out


def nan_factor(v: Any, lanes: tuple | None = None) -> Any:
    """The nan that poisons a graph value whose data ``v`` is an outer forward trace's
    Dual: nan in the value and in every direction (those ``lanes`` says the pass
    moves, see :func:`_outer_lanes`; 0 in the others), of ``v``'s shape.  A plain nan
    there has a derivative by the helper's input that is a plain nan too, so the
    outer trace's tangent of that derivative is a kept 0 (d/ds under hyperdual of
    reverse.derivative of d/dt ``sqrt(t**2)**2 * s`` at 0 was 0, truth 2).  Plain
    ``v``: a plain nan."""
    def zeros(p: Any) -> Any:
        if core._is_dual(p):
            coef = getattr(p, "coef", None)
            if coef is not None:
                return type(p)._make(np.zeros_like(coef), p.tag)
            return type(p)._build(tuple(zeros(q) for q in p._parts()), p.tag, p.nd)
        a = np.asarray(p)
        return np.zeros(a.shape, dtype=a.dtype if a.dtype.kind == "f" else np.float64)

    if not core._is_dual(v):
        a = np.asarray(v)
        return np.array(np.nan, dtype=a.dtype if a.dtype.kind == "f" else np.float64)
    try:
        z = zeros(v)
        return _nan_at(z, np.ones(np.shape(_primal(z)), dtype=bool), lanes)
    except (TypeError, ValueError, AttributeError):  # (parts of another kind)
        return np.array(np.nan)


#: The input of an elementwise helper (reverse.second_derivative) while it records
#: its gradient: entry i of that gradient depends on x[i] alone, so a nan the audit
#: puts there is made to depend on x[i] alone too (:func:`_poisoned`'s ``leaf``).
#: Another pass (a helper run by a backward formula) has another target.
ELEMENTWISE: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "reverse_audit_elementwise", default=None)


def _poisoned(g: Any, audited: Any, y: Variable, seed: Any = None,
              lanes: tuple | None = None, leaf: Any = None) -> Any:
    """``g`` with nan where the audit's gradient is nan and ``g`` is not (on a graph:
    a nan that depends on ``y``, so that differentiating ``g`` again, as a nested
    or second-order helper does, gives nan there too, never the 0 of the guard's
    selection).  ``leaf``: the input whose gradient ``g`` is, given for an
    elementwise f whose graph reaches no other leaf (:data:`ELEMENTWISE`); the nan
    then depends on that input's own entries only (entry i of ``g`` on ``x[i]``),
    so that a second pass keeps the other entries (the second derivative of
    ``sqrt(x**2)**2`` at ``[0, 1]`` is ``[nan, 2]``; through ``y.sum()`` it was nan
    everywhere).  Not for other f: there entry i may depend on ``x[j]`` (d/dx1 of
    the x0 entry of the gradient of ``sqrt(x0)**2 * x1`` must be nan as well)."""
    v = g.data if isinstance(g, Variable) else g
    if core._is_dual(v) and not isinstance(g, Variable):
        # a value of an outer forward trace: nan in every part there (its tangents
        # cannot tell a direction that moves the computed zero from one that does not)
        p = np.asarray(_primal(v))
        with np.errstate(invalid="ignore"):
            mask = np.broadcast_to(np.isnan(audited), p.shape) & ~np.isnan(p)
        return _nan_at(v, mask, lanes) if mask.any() else g
    outer = isinstance(g, Variable) and core._is_dual(v)
    if outer:
        # a graph on an outer forward trace's Dual data (f closes over its numbers, as
        # in d/ds of d/da of d/dt sqrt(t**2)**2 s under hyperdual): nan there too
        # (returned as it was, the nested value was Dual(0, 0), truth 2 + 2 ds)
        v = _primal(v)
    if not _plain(v):
        return g
    v = np.asarray(v)
    with np.errstate(invalid="ignore"):
        mask = np.broadcast_to(np.isnan(audited), v.shape)
        if not outer:
            mask = mask & ~np.isnan(v)
    if not mask.any():
        return g
    if isinstance(g, Variable):
        from .rules.selection import Where

        # nan along y's paths (the guard's Where cut g's own there) and along those
        # of a seed that is a Variable (reverse.jvp's u, which y does not reach)
        with core.using_config("enable_backprop", True):
            if isinstance(leaf, Variable) and tuple(leaf.shape) == v.shape \
                    and not isinstance(seed, Variable):
                dep = leaf
            else:
                dep = y.sum() + seed.sum() if isinstance(seed, Variable) else y.sum()
            factor = nan_factor(g.data, lanes) if outer else np.array(np.nan, dtype=v.dtype)
            out = Where(mask)(dep * factor, g)
        if outer and core._is_dual(out.data):
            out.data = _nan_at(out.data, mask, lanes)  # (every part: not a kept 0 * nan)
        return out
    out = np.where(mask, np.array(np.nan, dtype=v.dtype), v)
    return out if type(g) is np.ndarray or out.ndim else out[()].astype(v.dtype)


# --- forward-over-reverse: a clean zero cotangent on Dual data -----------------
#: Guarded Dual passes where ``_keep_zero`` met a clean zero cotangent (real part
#: 0, finite tangent not all 0) next to an inf or nan partial (a counter, as
#: ``core.KEPT``): the node's backward is then redone by :func:`split_clean`.
SPLITS = [0]


def note_clean(gy: Any, bad: Any) -> None:
    """Count a clean zero cotangent of ``gy`` (Dual data of one perturbation)
    where ``bad`` (the non-finite entries of ``gy * partial``) holds."""
    if not core._is_dual(gy) or getattr(gy, "nd", 0) > 1 or core._is_dual(gy.real) \
            or getattr(gy, "coef", None) is not None or getattr(gy, "_NPARTS", 0) != 2:
        return  # (a HyperDual, of a second-order hyperdual helper outside: no split)
    clean = _clean_entries(gy)
    if clean is not None and np.logical_and(clean, bad).any():
        SPLITS[0] += 1


def _clean_entries(gy: Any) -> Any:
    """Where ``gy`` (a Dual, ``nd`` 0 or 1) is 0 with a finite tangent, not 0 in
    every direction: an O(h) cotangent (None if its parts are not float arrays)."""
    r, t = np.asarray(gy.real), np.asarray(gy.dual)
    if r.dtype.kind != "f" or t.dtype.kind != "f":
        return None
    if gy.nd:
        from hyperdual import _number

        # a stack audited by hyperdual (a reverse pass inside its redo): the real
        # lanes alone, the nan of a probe lane says that the cotangent moves, not
        # that it is not O(h)
        k = _number._probed_k(t.shape[0])
        t = t[:k] if k else t
    with np.errstate(invalid="ignore"):
        finite, zero = np.isfinite(t), np.equal(t, 0)
        if gy.nd:
            finite, zero = finite.all(axis=0), zero.all(axis=0)
        return np.equal(r, 0) & finite & ~zero


def split_clean(f: Any, gy: Any, y: Any, xs: list, gxs: tuple) -> tuple:
    """``f``'s backward on Dual data redone where a clean zero cotangent met an inf
    or nan partial (forward-over-reverse: ``reverse.hessian``, ``reverse.hvp``).

    The backward is linear in the cotangent, so with ``gy = r + e t`` (``e`` the
    perturbation) split as ``gy = g_rest + e t_clean`` (``t_clean`` the tangents of
    the clean entries, ``g_rest`` zero there) the result is ``B(g_rest) + e
    B_real(t_clean)``: ``B_real`` the backward on the real parts of ``y`` and the
    inputs, one direction at a time.  That is the product rule with the O(h)
    convention forward mode applies to a product ``a b`` whose factor ``a`` is 0
    with a finite derivative (``a' b``; ``a b'`` is 0): here ``a`` is the cotangent
    and ``b`` the partial.  The real part there is 0 (the audit's clean zero) and
    the tangent is ``t p(x)`` (zero-kept where ``t`` is 0), instead of the nan of
    ``0 * inf`` in the real part and of ``0 * p'`` in the tangent: d2/dx1**2 of
    ``x0 * sqrt(x1)`` at (0, 0) is 0 (the truth; hyperdual's), not nan.
    Returns ``gxs`` as they are where the split does not apply.
    """
    import hyperdual as hd

    tag, nd = gy.tag, gy.nd

    def real(v: Any) -> Any:
        if not core._is_dual(v):
            return v
        if v.tag != tag or v.nd != nd or core._is_dual(v.real):
            raise TypeError("another perturbation")
        return v.real

    kept = core.KEPT[0]
    try:
        clean = _clean_entries(gy)
        if clean is None or not clean.any():
            return gxs
        t = np.asarray(gy.dual)
        zero = np.zeros((), dtype=t.dtype)
        r_rest, t_rest = np.where(clean, zero, gy.real), np.where(clean, zero, t)
        # (Python float parts stay floats: the rules' scalar paths expect them)
        rest = hd.Dual._build((float(r_rest) if type(gy.real) is float else r_rest,
                               float(t_rest) if type(gy.dual) is float else t_rest), tag, nd)
        ga = f.backward(rest, y, *xs)
        if type(ga) is not tuple:
            ga = (ga,)
        # (real parts as numpy scalars: the rules' formulas on a Python float 0.0 raise
        # ZeroDivisionError, 0.0 ** -0.5 in Pow's, where numpy's value is inf)
        yr, xr = _numpy_float(real(y)), [_numpy_float(real(x)) for x in xs]
        tc = np.where(clean, t, zero)
        gbs = []
        for ti in ([tc] if not nd else list(tc)):
            gb = f.backward(ti, yr, *xr)
            gbs.append(gb if type(gb) is tuple else (gb,))
        out = []
        for j, a in enumerate(ga):
            if type(a) is PendingScatter:
                a = a.materialize()
            bs = [gb[j] for gb in gbs]
            if any(b is None for b in bs):
                out.append(a)
                continue
            bs = [np.asarray(b.materialize() if type(b) is PendingScatter else b) for b in bs]
            b = bs[0] if not nd else np.stack(np.broadcast_arrays(*bs))
            lift = hd.Dual._build((np.zeros(bs[0].shape, dtype=b.dtype), b), tag, nd)
            out.append(lift if a is None else a + lift)
        return tuple(out)
    except (TypeError, ValueError, NotImplementedError, AttributeError):
        return gxs
    finally:
        core.KEPT[0] = kept  # the real-data pass's kept zeros are not the audit's


def _numpy_float(v: Any) -> Any:
    return np.float64(v) if type(v) is float else v


# --- a computed zero partial next to an infinite cotangent ----------------------
def _mirror_mask(g: Any, v: Any) -> Any:
    """Where the cotangent ``g`` is +-inf and ``g * partial`` is nan: the partial
    is 0 there (a constant zero weight gives 0, ``_times``/``zero_weighted``) or nan."""
    with np.errstate(invalid="ignore"):
        return np.logical_and(np.isinf(g), np.isnan(v))


def mirrored(gy: Any, gx: Any) -> Any:
    """``gx = gy * partial`` on Dual data, nan in every direction where ``gy`` moves
    at an entry where ``gy`` is infinite and ``gx`` nan.

    The partial there is a value at the pass's point (``3 y**2`` of ``y**3`` at 0), a
    computed zero of the inner input: the real part ``inf * 0`` is nan, and its
    tangent ``inf' * 0`` must be nan too, not the 0 of a constant zero weight
    (d/dx of d/dy ``cbrt(y**3) * x`` at y = 0: the inner derivative is nan, so is
    the outer one).  Directions where ``gy`` does not move keep their tangent."""
    if not (core._is_dual(gy) and core._is_dual(gx)) or gy.tag != gx.tag \
            or gy.nd != gx.nd or gx.nd > 1 or core._is_dual(gx.real) \
            or core._is_dual(gy.real) or getattr(gx, "coef", None) is not None \
            or getattr(gx, "_NPARTS", 0) != 2 or getattr(gy, "_NPARTS", 0) != 2:
        return gx  # (a HyperDual of a second-order hyperdual helper outside: as it is)
    try:
        m = _mirror_mask(np.asarray(gy.real), np.asarray(gx.real))
        if not m.any():
            return gx
        d = np.asarray(gx.dual)
        moves = np.not_equal(gy.dual, 0)
        dual = np.where(np.logical_and(m, moves), np.array(np.nan, dtype=d.dtype), d)
    except (TypeError, ValueError):
        return gx
    if type(gx.dual) is float:
        dual = float(dual)
    return type(gx)._build((gx.real, dual), gx.tag, gx.nd)


def mirrored_graph(g: Any, v: Any, gx: Variable) -> Variable:
    """``gx`` (recorded: a nested pass) times 1, or nan where the cotangent ``g`` is
    infinite and ``gx`` nan (see :func:`mirrored`): the nan value keeps its value,
    and its derivatives along the paths it has are nan instead of the 0 that the
    outer pass's guard would take for a constant zero weight.  Only in a pass whose
    graph reaches leaves other than its input (nesting: an outer trace's variables,
    to which the partial is a constant), whose seed is a Variable (reverse.jvp's
    u), or whose input is itself a node of an outer trace (a helper nested in
    another one's f, on its variable: ``helpers._input``'s identity node).  There
    the outer pass differentiates the partial too, and along the cotangent it meets
    the computed zero partial as a cotangent next to the inf factor: its guard
    kept that 0, and the audit took it for a clean one (``3 y**2`` has the finite
    derivative ``6 y``), so d/dx1 of d/dy0 ``cbrt(y0**3) * y1**2`` at (0, 1) was 0
    (truth 2; the inner value is nan).  A second-order helper's own recorded pass
    (its input a leaf) differentiates the partial itself (reverse-over-reverse
    Hessian of ``sqrt(x0 * x1)`` at 0, as hyperdual's; its helper checks its nan
    pattern, ``helpers._symmetric_nan``); nested, that Jacobian of the (nan)
    gradient is nan."""
    m = _mirror_mask(g, v)
    if not m.any():
        return gx
    state = core.PASSING[0]
    if state is None or state[1] is None:
        return gx
    if state[2] is None:  # (a seed that is a Variable: reverse.jvp's u, a variable too;
        # an input with a creator: the identity node of an outer Variable)
        state[2] = isinstance(core.SEEDING[0], Variable) or state[1].creator is not None \
            or core.reaches_other_leaves(state[0], state[1])
    if not state[2]:
        return gx
    w = np.where(m, np.array(np.nan, dtype=v.dtype), np.ones((), dtype=v.dtype))
    with core.using_config("enable_backprop", True):
        return gx * w


# --- a recorded pass: the product rule of a clean zero cotangent that moves --------
class _Straight(core.Function):
    """``g`` with ``values`` where ``mask`` holds; its derivative passes through
    unchanged (the identity), where ``Where`` would cut it.

    Used by :func:`split_recorded` only, on a backward formula evaluated at constant
    data: there ``g = gy * p`` is linear in the cotangent ``gy``, whose value is 0 at
    ``mask``, so ``g``'s value is 0 (the guard's) while its derivative is ``p`` times
    that of ``gy`` (``0 * inf`` would make the value nan)."""

    __slots__ = ("mask", "values")

    def __init__(self, mask: Any, values: Any) -> None:
        self.mask = mask
        self.values = values

    def forward(self, g: Any) -> Any:
        return np.where(self.mask, self.values, g)

    def backward(self, gy: Any, y: Any, g: Any) -> Any:
        return gy


def straight(mask: Any, values: Any, g: Variable) -> Variable:
    """``g`` with ``values`` at ``mask``, its derivative unchanged (see :class:`_Straight`)."""
    return _Straight(mask, values)(g)


def split_recorded(f: Any, gy: Any, y: Variable, inputs: tuple, mask: Any,
                   gxs: tuple) -> tuple:
    """``f``'s recorded backward redone with the cotangent split at ``mask``, the
    entries where the audit found ``gy`` a clean zero that moves next to an inf or
    nan partial (double backprop: ``reverse.hvp(..., mode='reverse-over-reverse')``,
    a reverse helper inside another one).

    The guard records ``0 * p`` there as a cut (``Where``), whose derivative is 0.
    The product rule with the O(h) convention (forward mode's for a product ``a b``
    whose factor ``a`` is 0 with a finite derivative: ``a' b``, with ``a b'`` taken
    as 0) gives ``gy' p`` instead: ``H[1, 0]`` of ``x0 * sqrt(x1)`` at (0, 0) is
    ``d/dx0 (x0 sqrt'(x1)) = inf``, not 0.  The backward is linear in the cotangent,
    so ``B(gy) = B(gy_rest) + B(gy_m)``: ``gy_rest`` is ``gy`` with a constant 0 at
    ``mask`` (the guard's cut there: ``a b'`` is 0), and ``B(gy_m)`` is the backward
    at the pass's values taken as constants, recorded in ``gy_m`` (``gy`` at
    ``mask``, 0 elsewhere) alone, whose guard keeps the value 0 but passes the
    derivative (:func:`straight`).  Zeros the audit found structural (the cotangent
    does not move: a seed, a ``where`` mask, a constant zero weight) are not split.
    Returns ``gxs`` as they are where the split does not apply.
    """
    from .rules.selection import Where

    g = gy.data if isinstance(gy, Variable) else None
    if g is None or not _plain(g):
        return gxs
    try:
        m = np.broadcast_to(mask, np.shape(g))
        zero = np.zeros((), dtype=np.asarray(g).dtype)
        with core.using_config("enable_backprop", True):
            rest = Where(m)(zero, gy)
            ga = f.backward(rest, y, *inputs)
            ga = ga if type(ga) is tuple else (ga,)
            moving = Where(m)(gy, zero)
            token = core.STRAIGHT_ZEROS.set(True)
            try:
                gb = f.backward(moving, y.data, *[
                    x.data if isinstance(x, Variable) else x for x in inputs])
            finally:
                core.STRAIGHT_ZEROS.reset(token)
            gb = gb if type(gb) is tuple else (gb,)
            out = []
            for a, b in zip(ga, gb):
                if type(a) is PendingScatter:
                    a = a.materialize()
                if type(b) is PendingScatter:
                    b = b.materialize()
                if b is None or not isinstance(b, Variable):
                    out.append(a)  # (the moving part adds nothing to this input)
                else:
                    out.append(b if a is None else a + b)
        return tuple(out)
    except (TypeError, ValueError, NotImplementedError, AttributeError):
        return gxs
