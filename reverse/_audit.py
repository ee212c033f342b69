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
Not audited (the guard's 0 stays, as before): passes on data that are not
plain float arrays (Dual data of forward-over-reverse, dask), releasing passes
(they drop the values the replay needs), and graphs whose replay does not
reproduce the recorded values (a function drawing random numbers).  A zero
kept by a contraction's guard (``_keep_zero_bilinear``) is taken as clean.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from . import core
from .core import PendingScatter, Variable, _LeafAlias

#: Zeros the audit found computed (not clean) so far: a caller compares the
#: count before and after its audit (another thread's count costs it a merge).
DIRTY = [0]


def _real(v: Any) -> Any:
    return v.real if core._is_dual(v) else v


def _plain(v: Any) -> bool:
    """Plain float data (what the replay can seed a Dual with)."""
    if type(v) is np.ndarray or isinstance(v, np.generic):
        return v.dtype.kind == "f"
    return type(v) is float


def _build(hd: Any, like: Any, real: Any, tangent: Any) -> Any:
    """A Dual of ``like``'s tag from new parts (0-d parts as ``like`` had them)."""
    if type(like.real) is float:
        real, tangent = float(real), float(tangent)
    return hd.Dual._build((real, tangent), like.tag, like.nd)


def audited_keep_zero(gy: Any, gx: Any) -> Any:
    """``_keep_zero`` in the audit pass: ``gx = gy * partial`` on Dual data.

    Where ``gy``'s real part is 0 and ``gx``'s is inf or nan: 0 (tangent 0) if
    ``gy``'s tangent is finite (a clean zero), nan if it is not (counted in
    :data:`DIRTY`)."""
    import hyperdual as hd

    if getattr(gx, "nd", 0) or core._is_dual(gx.real):
        return gx  # not the audit's own Dual (nested data): as the guard does not know
    r = np.asarray(gx.real)
    with np.errstate(invalid="ignore"):
        dec = np.logical_and(np.equal(_real(gy), 0), ~np.isfinite(r))
    if not dec.any():
        return gx
    if core._is_dual(gy) and not getattr(gy, "nd", 0) and not core._is_dual(gy.dual):
        clean = np.logical_and(dec, np.isfinite(gy.dual))
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

    if getattr(out, "nd", 0) or core._is_dual(out.real):
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


def audit(y: Variable, seed: Any, target: Variable | None,
          results: list[tuple[Variable, Any]]) -> list[tuple[Variable, Any]]:
    """``results`` of a guarded pass from ``y`` (to ``target``, or to every leaf),
    with nan where the audit finds that a kept zero was computed (see the module
    docstring).  Returns ``results`` as they are where the audit does not apply."""
    try:
        import hyperdual as hd
    except Exception:  # pragma: no cover - hyperdual ships with reverse
        return results
    seed_data = seed.data if isinstance(seed, Variable) else seed
    if not (_plain(seed_data) and _plain(y.data)):
        return results
    nodes = _nodes(y, target)
    if not nodes:
        return results
    tag = hd.new_tag()
    vals: dict[int, Any] = {}

    def val(x: Any) -> Any:
        if not isinstance(x, Variable):
            return x
        if type(x) is _LeafAlias:
            leaf = x.target()
            x = x if leaf is None else leaf
        v = vals.get(id(x))
        if v is not None:
            return v
        moving = x is target if target is not None else x.creator is None
        if moving:
            d = np.asarray(x.data)
            # an inf or nan entry does not move: there every derivative is a limit
            # convention of the rules (1 / (1 + x*x) at inf), not a singular point
            with np.errstate(invalid="ignore"):
                seed = np.isfinite(d).astype(d.dtype)
            v = vals[id(x)] = hd.Dual._build((d, seed), tag, 0)
            return v
        return x.data

    before = DIRTY[0]
    with np.errstate(all="ignore"), core.no_grad():
        token = core.AUDIT_ZEROS.set(True)
        guard = core.GUARD_ZEROS.set(True)
        try:
            for f in nodes:
                out = f.output()
                if out is None:
                    continue
                if not _plain(out.data):
                    return results
                xs = [val(x) for x in f._inputs]
                if not any(core._is_dual(v) for v in xs):
                    continue
                r = copy.copy(f).forward(*xs)
                if isinstance(r, np.generic):
                    r = np.array(r)
                if not np.array_equal(np.asarray(_real(r)), out.data, equal_nan=True):
                    return results  # the replay is not the recorded pass
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
                    store[id(x)] = gx if prev is None else core._accumulate(prev, gx, owned)
        except (TypeError, ValueError, NotImplementedError, AttributeError):
            return results  # a rule without Dual data support: the guard's 0 stays
        finally:
            core.GUARD_ZEROS.reset(guard)
            core.AUDIT_ZEROS.reset(token)
    if DIRTY[0] == before:
        return results
    merged = []
    for x, g in results:
        a = leaf_grads.get(id(x))
        if a is not None:
            if type(a) is PendingScatter:
                a = a.materialize()
            g = _poisoned(g, np.asarray(_real(a)), y)
        merged.append((x, g))
    return merged


def _poisoned(g: Any, audited: Any, y: Variable) -> Any:
    """``g`` with nan where the audit's gradient is nan and ``g`` is not (on a graph:
    a nan that depends on ``y``, so that differentiating ``g`` again, as a nested
    or second-order helper does, gives nan there too, never the 0 of the guard's
    selection)."""
    v = g.data if isinstance(g, Variable) else g
    if not _plain(v):
        return g
    v = np.asarray(v)
    with np.errstate(invalid="ignore"):
        mask = np.broadcast_to(np.isnan(audited), v.shape) & ~np.isnan(v)
    if not mask.any():
        return g
    if isinstance(g, Variable):
        from .rules.selection import Where

        with core.using_config("enable_backprop", True):
            return Where(mask)(y.sum() * np.array(np.nan, dtype=v.dtype), g)
    out = np.where(mask, np.array(np.nan, dtype=v.dtype), v)
    return out if type(g) is np.ndarray or out.ndim else out[()].astype(v.dtype)
