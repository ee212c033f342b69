"""Custom derivative rules: one JVP written in plain numpy serves every mode and order.

``custom_jvp`` wraps a function whose derivative you know (or whose body the
engines cannot trace: ``scipy.integrate.quad``, a compiled kernel, an
iterative solver).  The wrapped function is always called on plain floats and
arrays; the derivative parts come from the JVP rule, which is written in plain
numpy and is therefore differentiated itself by whichever engine runs it.

How each mode uses the one rule
-------------------------------
* ``Dual`` (tag t): the rule runs on the real parts and the dual parts.
* ``HyperDual`` (second order): ``a + b ε1 + c ε2 + d ε1ε2`` is the Dual
  ``(a + c ε2) + (b + d ε2) ε1``; the rule runs on ``ε2``-Duals (primal
  ``a + c ε2``, tangent ``b + d ε2``), so it differentiates itself once more.
* Direction stacks (``gradient``/``jacobian``/``hessian``): one rule call per
  direction, because a user's rule need not broadcast over a leading axis.
* ``Taylor`` (order K): the rule runs on the argument truncated to order
  K - 1 and its derivative series; its tangent output is the series of
  ``y'``, integrated once (the ODE trick, ``hyperdual/_taylor_custom.py``).
  The rule's own call of the function recurses one order down, so the rule
  must be written with differentiable numpy operations.
* Nesting: parts of an older perturbation flow through the rule unchanged;
  the recursion ends at plain floats.
* ``reverse`` (any order, ``create_graph``, forward-over-reverse): a reverse
  ``Function`` whose backward uses the VJP rule when given (``defvjp``), else
  the transpose of the JVP rule, one JVP per input element (so ``n`` rule
  calls for an input of ``n`` numbers: give a VJP for large inputs).  The
  bridge lives in ``reverse`` (it registers itself here): forward mode never
  imports reverse.

Examples
--------
>>> import numpy as np
>>> import hyperdual
>>> @custom_jvp
... def softplus(x):
...     return np.logaddexp(0.0, x)
>>> @softplus.defjvp
... def softplus_jvp(primals, tangents):
...     (x,), (t,) = primals, tangents
...     return softplus(x), t * hyperdual.expit(x)
>>> hyperdual.derivative(softplus, 0.0)
0.5
>>> hyperdual.second_derivative(softplus, 0.0)
0.25
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._number import Dual, HyperDual, _Number, _shape, _tidy, _zeroed

__all__ = ["custom_jvp", "check_rule", "register_engine"]

#: (owns(arg) -> bool, call(custom, args) -> result): engines other than
#: forward mode (``reverse`` registers one for its Variables on import).
_ENGINES: list[tuple[Callable[[Any], bool], Callable[..., Any]]] = []


def register_engine(owns: Callable[[Any], bool], call: Callable[..., Any]) -> None:
    """Let another engine run custom rules on its own numbers.

    ``owns(arg)`` says whether an argument belongs to the engine; then
    ``call(custom, args)`` evaluates ``custom`` (a :class:`custom_jvp`) on the
    full positional ``args``.  ``reverse`` registers its ``Variable`` here.

    Parameters
    ----------
    owns : callable
        ``owns(arg) -> bool``: True for the engine's own numbers.
    call : callable
        ``call(custom, args)``: the result of ``custom`` on ``args`` (a tuple),
        at least one of which the engine owns.

    Examples
    --------
    >>> n = len(_ENGINES)
    >>> register_engine(lambda a: False, lambda custom, args: None)
    >>> len(_ENGINES) == n + 1
    True
    >>> del _ENGINES[-1]
    """
    _ENGINES.append((owns, call))


_PLAIN = (float, int, np.ndarray, np.generic)


def _zero_tangent(p: Any) -> Any:
    """A plain zero shaped like the value of ``p``."""
    shape = _shape(p)
    if not shape:
        return 0.0
    return np.zeros(shape, dtype=np.result_type(_real(p)))


def _real(p: Any) -> Any:
    while isinstance(p, _Number):
        p = p.real
    return p


def _is_differentiable(a: Any) -> bool:
    """Numbers and float arrays get tangents; strings, callables, None ... pass through."""
    if isinstance(a, _Number) or isinstance(a, bool):
        return isinstance(a, _Number)
    if isinstance(a, (float, int, np.floating, np.integer)):
        return True
    if isinstance(a, np.ndarray):
        return a.dtype.kind in "fiu"
    return any(owns(a) for owns, _ in _ENGINES)


def _split(y: Any, tag: int) -> tuple[Any, Any]:
    """(value, ε part) of a rule output with respect to the Dual of ``tag``."""
    if isinstance(y, Dual) and y.tag == tag:
        return y.real, y.dual
    return y, None


class custom_jvp:  # noqa: N801  (a decorator, named like JAX's)
    """Give a function a custom derivative rule (a JVP), used by every mode and order.

    Parameters
    ----------
    fun : callable
        The primal function.  When differentiated it is called on plain floats
        and arrays only, so it may use anything (scipy, compiled code).  It
        must not close over values that are being differentiated: pass them
        as arguments.
    nondiff_argnums : sequence of int
        Positions of arguments that are not differentiated (ints, strings,
        callables, data); they are passed first to the rules, as in JAX.
        Arguments that are not numbers (str, None, callables) pass through
        unchanged even if not listed; their tangent is None.

    Notes
    -----
    The JVP rule, set by :meth:`defjvp`, is called as
    ``rule(*nondiff_args, primals, tangents)`` with tuples of the other
    arguments and their tangents (same shapes), and returns
    ``(fun(*args), J @ tangents)``.  It must be written with numpy functions
    (or other custom functions), because every engine evaluates it on its own
    numbers: that is how second and higher derivatives follow from it.

    The optional VJP rule (:meth:`defvjp`) is called as
    ``vjp(*nondiff_args, primals, out, cotangent)`` and returns one
    cotangent per differentiable argument (a tuple, or a single value for one
    argument).  Without it, reverse mode transposes the JVP by calling it
    once per input element, which costs ``n`` JVPs for ``n`` input numbers.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.special as sc
    >>> import hyperdual
    >>> @custom_jvp
    ... def ellipk(m):
    ...     return sc.ellipk(m)       # not traceable: called on floats only
    >>> @custom_jvp
    ... def ellipe(m):
    ...     return sc.ellipe(m)
    >>> @ellipk.defjvp
    ... def _(primals, tangents):
    ...     (m,), (t,) = primals, tangents
    ...     k, e = ellipk(m), ellipe(m)
    ...     return k, t * (e - (1 - m) * k) / (2 * m * (1 - m))
    >>> @ellipe.defjvp
    ... def _(primals, tangents):
    ...     (m,), (t,) = primals, tangents
    ...     e = ellipe(m)
    ...     return e, t * (e - ellipk(m)) / (2 * m)
    >>> round(hyperdual.derivative(ellipk, 0.5), 10)      # mpmath: 0.8472130848
    0.8472130848
    >>> round(hyperdual.second_derivative(ellipk, 0.5), 10)  # mpmath: 1.8540746773
    1.8540746773
    """

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = ()) -> None:
        if not callable(fun):
            raise TypeError(f"custom_jvp: fun must be callable, got {type(fun).__name__}")
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(sorted(int(i) for i in nondiff_argnums))
        self.jvp: Callable[..., Any] | None = None
        self.vjp: Callable[..., Any] | None = None
        self._name = getattr(fun, "__qualname__", None) or repr(fun)
        # the library's own rules (hyperdual.rules.special) are linear in tangents that
        # broadcast against the values: a Dual's direction stack goes through them in one
        # call.  A user's rule need not broadcast, so it is called once per direction.
        self._broadcasts = False
        # ... and elementwise (each output entry depends on the same entry of every
        # input): a zero tangent there is a zero output tangent, also next to an infinite
        # derivative (gammainc(0.5, x) at x = 0), see _kept_zero_tangents
        self._elementwise = False

    def __repr__(self) -> str:
        return f"<custom_jvp {self._name}>"

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        # used as a method: bind like a function
        return self if obj is None else functools.partial(self, obj)

    def defjvp(self, jvp: Callable[..., Any]) -> Callable[..., Any]:
        """Set the JVP rule (usable as a decorator); returns ``jvp``.

        Parameters
        ----------
        jvp : callable
            ``jvp(*nondiff_args, primals, tangents) -> (primal_out, tangent_out)``
            with ``primals`` and ``tangents`` tuples of the differentiated
            arguments; written in plain numpy (it is differentiated again for
            higher orders).

        Returns
        -------
        callable
            ``jvp`` itself, so the decorated name stays the rule.

        Examples
        --------
        >>> import numpy as np
        >>> f = custom_jvp(lambda x: x ** 2)
        >>> _ = f.defjvp(lambda p, t: (f(p[0]), 2 * p[0] * t[0]))
        >>> import hyperdual; hyperdual.derivative(f, 3.0)
        6.0
        """
        if not callable(jvp):
            raise TypeError(f"custom_jvp {self._name}: the JVP rule must be callable")
        self.jvp = jvp
        return jvp

    def defvjp(self, vjp: Callable[..., Any]) -> Callable[..., Any]:
        """Set the optional VJP rule used by reverse mode (usable as a decorator).

        Without one, reverse mode transposes the JVP rule; a VJP rule saves that
        work.  It must agree with the JVP rule (:func:`check_rule` compares them).

        Parameters
        ----------
        vjp : callable
            ``vjp(*nondiff_args, primals, out, g)``: the cotangent of each
            differentiated argument (a tuple, or one value for one argument)
            from the output ``out`` and its cotangent ``g``; plain numpy.

        Returns
        -------
        callable
            ``vjp`` itself.

        Examples
        --------
        >>> f = custom_jvp(lambda x: x ** 2)
        >>> _ = f.defvjp(lambda p, out, g: 2 * p[0] * g)
        >>> f.vjp is not None
        True
        """
        if not callable(vjp):
            raise TypeError(f"custom_jvp {self._name}: the VJP rule must be callable")
        self.vjp = vjp
        return vjp

    # -- calling ------------------------------------------------------------------
    def _bind(self, args: tuple, kwargs: dict) -> tuple:
        if not kwargs:
            return args
        bound = inspect.signature(self.fun).bind(*args, **kwargs)
        bound.apply_defaults()
        if bound.kwargs:
            raise TypeError(f"custom_jvp {self._name}: keyword-only arguments are not supported")
        return tuple(bound.args)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        args = self._bind(args, kwargs)
        nondiff = self.nondiff_argnums
        newest = None
        for i, a in enumerate(args):
            if type(a) in _PLAIN or i in nondiff:
                continue
            for owns, call in _ENGINES:
                if owns(a):
                    return call(self, args)
            if isinstance(a, _Number) and (newest is None or a.tag > newest.tag):
                newest = a
        if newest is None:
            return self.fun(*args)
        return self._forward(args, newest)

    def split_args(self, args: tuple) -> tuple[tuple, list[int]]:
        """Split a call's arguments by ``nondiff_argnums`` (used by the engines).

        Parameters
        ----------
        args : tuple
            The positional arguments of one call.

        Returns
        -------
        nondiff : tuple
            The non-differentiated arguments, in order.
        positions : list of int
            Indices in ``args`` of the differentiated arguments.

        Raises
        ------
        ValueError
            If ``nondiff_argnums`` names an argument the call does not have.

        Examples
        --------
        >>> f = custom_jvp(lambda n, x: x ** n, nondiff_argnums=(0,))
        >>> f.split_args((3, 2.0))
        ((3,), [1])
        """
        nd = self.nondiff_argnums
        for i in nd:
            if not -len(args) <= i < len(args):
                raise ValueError(f"custom_jvp {self._name}: nondiff_argnums has {i}, but it "
                                 f"was called with {len(args)} arguments")
        nd = {i % len(args) for i in nd}
        return tuple(args[i] for i in sorted(nd)), [i for i in range(len(args)) if i not in nd]

    def call_jvp(self, nondiff: tuple, primals: Sequence, tangents: Sequence) -> tuple[Any, Any]:
        """Run the JVP rule and check what it returns (used by the engines).

        Parameters
        ----------
        nondiff : tuple
            The non-differentiated arguments (see :meth:`split_args`).
        primals, tangents : sequence
            Values and tangents of the differentiated arguments.

        Returns
        -------
        primal_out, tangent_out
            What the rule returned, after checking it is a pair with one
            output whose tangent has the output's shape.

        Raises
        ------
        TypeError
            Without a JVP rule, or when the rule returns something else than
            a pair with one output.
        ValueError
            When the tangent's shape is not the output's.

        Examples
        --------
        >>> import numpy as np
        >>> f = custom_jvp(lambda x: np.sin(x))
        >>> _ = f.defjvp(lambda p, t: (f(p[0]), np.cos(p[0]) * t[0]))
        >>> f.call_jvp((), (np.array([0.0]),), (np.array([2.0]),))
        (array([0.]), array([2.]))
        """
        if self.jvp is None:
            raise TypeError(f"custom_jvp {self._name}: no JVP rule; define one with "
                            f"@{getattr(self.fun, '__name__', 'f')}.defjvp")
        res = self.jvp(*nondiff, tuple(primals), tuple(tangents))
        if not (isinstance(res, tuple) and len(res) == 2):
            raise TypeError(f"custom_jvp {self._name}: the JVP rule must return a pair "
                            f"(primal_out, tangent_out), got {type(res).__name__}")
        out, tout = res
        if isinstance(out, (tuple, list)):
            raise TypeError(f"custom_jvp {self._name}: only functions with one output "
                            "(a number or an array) are supported")
        so, st = _shape(out), _shape(tout)
        if st != so and not (st == () and _is_zero(tout)):
            raise ValueError(f"custom_jvp {self._name}: the JVP rule returned a tangent of "
                             f"shape {st}, but the primal output has shape {so}")
        return out, tout

    def _forward(self, args: tuple, newest: _Number) -> Any:
        tag = newest.tag
        cls = type(newest)
        if getattr(cls, "_KIND", None) == "Taylor":  # every order by the ODE trick
            from ._taylor_custom import forward_taylor

            return forward_taylor(self, args, newest)
        if cls not in (Dual, HyperDual):
            raise TypeError(f"custom_jvp {self._name}: hyperdual number type {cls.__name__} "
                            "is not supported by custom rules")
        nondiff, pos = self.split_args(args)
        parts, nd = [], 0
        for i in pos:
            a = args[i]
            if isinstance(a, _Number) and a.tag == tag:
                if type(a) is not cls:
                    raise TypeError(f"custom_jvp {self._name}: arguments mix "
                                    f"{cls.__name__} and {type(a).__name__} of one tag")
                parts.append(a._parts())
                nd = max(nd, a.nd)
            elif _is_differentiable(a) or isinstance(a, _Number):
                parts.append(None)  # a constant to this perturbation
            else:
                parts.append(False)  # passes through, tangent None
        if nd == 0:
            return self._forward_one(args, pos, nondiff, parts, cls, tag)
        if self._broadcasts and cls is Dual and all(
                p is False or (all(_is_plain_part(q) for q in p) if p
                               else _is_plain_part(args[i])) for i, p in zip(pos, parts)):
            return self._forward_stacked(args, pos, nondiff, parts, tag, nd)
        # Direction stacks: one rule call per direction (a rule need not broadcast).
        # each part keeps its own direction axes (a Hessian seeds ε1 with (k, 1)
        # and ε2 with (1, n) directions); the loop runs over their broadcast
        leads = [()] * cls._NPARTS
        for p in parts:
            if p:
                for m, q in enumerate(p[1:], 1):
                    leads[m] = np.broadcast_shapes(leads[m], _shape(q)[:nd])
        lead = np.broadcast_shapes(*leads[1:])
        outs = []
        for idx in np.ndindex(*lead):
            sub = []
            for p in parts:
                if not p:
                    sub.append(p)
                    continue
                vs = _shape(p[0])
                sub.append((p[0],) + tuple(_direction(q, idx, lead, nd, vs) for q in p[1:]))
            outs.append(self._forward_one(args, pos, nondiff, sub, cls, tag, guard=False))
        first = outs[0]
        if not (isinstance(first, cls) and first.tag == tag):
            return first  # did not depend on this perturbation
        stacked = [first.real]
        for m in range(1, len(first._parts())):
            ps = [o._parts()[m] if isinstance(o, cls) and o.tag == tag else 0.0 for o in outs]
            vs = _shape(first.real)
            ps = [np.broadcast_to(q, vs) if not isinstance(q, _Number) else q for q in ps]
            full = np.reshape(np.stack(ps), lead + vs)
            # constant along the axes this part has no directions on: keep size 1
            keep = tuple(slice(None) if n == lead[a] else slice(0, 1)
                         for a, n in enumerate(leads[m] if len(leads[m]) == nd else lead))
            stacked.append(full[keep] if keep and any(k != slice(None) for k in keep)
                           else full)
        if self._elementwise:  # (on the stack: the audit's probes are on its axis 0)
            stacked = _kept_zero_tangents(parts, stacked, nd)
        return cls._build(tuple(stacked), tag, nd)

    def _forward_stacked(self, args: tuple, pos: list[int], nondiff: tuple, parts: list,
                         tag: int, nd: int) -> Any:
        """A Dual direction stack in one call of a rule that broadcasts: each tangent's
        direction axes are put before the output's value axes (value shapes broadcast
        right-aligned), the rule's tangent has shape directions + output shape."""
        shapes = [_shape(p[0]) for p in parts if p]
        shapes += [np.shape(a) for i, a in enumerate(args)
                   if (i not in pos or parts[pos.index(i)] is None) and _is_plain_part(a)]
        ndim = len(np.broadcast_shapes(*shapes))
        primals, tangents, leads = [], [], []
        for i, p in zip(pos, parts):
            a = args[i]
            if p is False:
                primals.append(a)
                tangents.append(None)
            elif p is None:
                primals.append(a)
                tangents.append(_zero_tangent(a))
            else:
                r, e = p
                vs, lead = _shape(r), _shape(e)[:nd]
                primals.append(r)
                tangents.append(np.reshape(e, lead + (1,) * (ndim - len(vs)) + vs))
                leads.append(lead)
        out, tout = self.jvp(*nondiff, tuple(primals), tuple(tangents))
        _check_escape(out, tout, tag, self._name)
        want = np.broadcast_shapes(*leads) + _shape(out)
        if _shape(tout) != want:
            try:
                tout = np.array(np.broadcast_to(tout, want))
            except ValueError:
                raise ValueError(f"custom_jvp {self._name}: the JVP rule returned a tangent "
                                 f"of shape {_shape(tout)} for directions and output "
                                 f"{want}") from None
        outs = [_clean(out), _clean(tout)]
        if self._elementwise:
            outs = _kept_zero_tangents(parts, outs, nd)
        return Dual._build(tuple(outs), tag, nd)

    def _forward_one(self, args: tuple, pos: list[int], nondiff: tuple, parts: list,
                     cls: type, tag: int, guard: bool = True) -> Any:
        """The rule on one direction (nd = 0): a Dual or HyperDual of ``tag``.
        ``guard``: keep zero tangents (an elementwise rule; the direction loop
        guards its stack instead)."""
        primals, tangents = [], []
        hyper = cls is HyperDual
        for i, p in zip(pos, parts):
            a = args[i]
            if p is False:
                primals.append(a)
                tangents.append(None)
            elif p is None:
                primals.append(a)
                tangents.append(_zero_tangent(a))
            elif hyper:
                r, e1, e2, e12 = p
                primals.append(Dual._build((r, e2), tag, 0))
                tangents.append(Dual._build((e1, e12), tag, 0))
            else:
                primals.append(p[0])
                tangents.append(p[1])
        out, tout = self.call_jvp(nondiff, primals, tangents)
        _check_escape(out, tout, tag, self._name)
        if not hyper:
            outs = [_clean(out), _clean(_fill(tout, out))]
        else:
            o_r, o_e2 = _split(out, tag)
            t_r, t_e12 = _split(tout, tag)
            zero = _fill(0.0, o_r)
            outs = [_clean(q) for q in (o_r, _fill(t_r, o_r), zero if o_e2 is None else o_e2,
                                        zero if t_e12 is None else t_e12)]
        if guard and self._elementwise:
            outs = _kept_zero_tangents(parts, outs, 0)
        return cls._build(tuple(outs), tag, 0)


def _kept_zero_tangents(parts: Sequence, outs: list, nd: int) -> list:
    """An elementwise rule's output parts, 0 where the input parts they are made of are 0.

    The rule's ``t * d`` is nan there when the derivative d is infinite: a Jacobian
    of ``gammainc(0.5, x)`` at x = (0, 1) had nan for d f0/d x1 (truth 0), and its
    Hessian beside a smooth variable nan for the smooth entry, where forward mode's
    own rules keep such zeros (``_number._guard``).  ``parts``: the inputs' parts,
    each shaped directions (``nd`` axes) + its value shape (``None``: a constant;
    ``False``: not differentiable); ``outs``: the output's, the same way.  An ε part
    of the output is 0 where that part is 0 in every input; ε1ε2 where ε12 is and
    ε1 or ε2 is (its terms are f'' ε1 ε2 and f' ε12).  The zeros are counted
    (``_number._zeroed``), so an audited helper turns a computed zero (the tangent
    of ``x**2`` at 0) next to the infinite derivative into nan again.
    """
    if all(_finite_part(q) for q in outs[1:]):
        return outs
    ndim = len(_shape(outs[0]))
    zeros: list[Any] = [None] * len(outs)
    for p in parts:
        if not p:
            continue  # a constant (tangent 0) or not differentiable: no condition
        vs = _shape(p[0])
        for m, q in enumerate(p[1:], 1):
            if isinstance(q, _Number):
                return outs  # a nested number's zeros are not looked for
            z = np.equal(q, 0)
            k = np.ndim(z)
            if k:
                # direction axes (a part may hold only the trailing ones, or none: it
                # broadcasts right-aligned), then the value axes aligned to the output's
                s = _shape(z)
                lead, val = s[:max(0, k - len(vs))], s[max(0, k - len(vs)):]
                if len(lead) > nd or len(val) > ndim:
                    return outs  # (not the layout expected: keep the rule's values)
                z = np.reshape(z, (1,) * (nd - len(lead)) + lead
                               + (1,) * (ndim - len(val)) + val)
            zeros[m] = z if zeros[m] is None else np.logical_and(zeros[m], z)
    if len(outs) == 4 and zeros[3] is not None:
        either = zeros[1] if zeros[2] is None else (
            zeros[2] if zeros[1] is None else np.logical_or(zeros[1], zeros[2]))
        zeros[3] = None if either is None else np.logical_and(zeros[3], either)
    kept = list(outs)
    for m in range(1, len(outs)):
        z, q = zeros[m], outs[m]
        if z is None or _finite_part(q):
            continue
        try:
            wider = np.broadcast_shapes(_shape(z), _shape(q)) != _shape(q)
        except ValueError:
            wider = True
        if wider:
            continue  # (a mask wider than the part: not this part's zeros)
        kept[m] = _zeroed(q, z, stacked=nd > 0)
    return kept


def _finite_part(q: Any) -> bool:
    """Whether a plain part is finite throughout (lazy parts and numbers: not known)."""
    return _is_plain_part(q) and bool(np.all(np.isfinite(q)))


def _clean(p: Any) -> Any:
    """Parts as the engine keeps them: Python floats for float64 scalars, not np.float64."""
    if isinstance(p, _Number):
        return p
    if isinstance(p, (int, np.integer)) and not isinstance(p, bool):
        return float(p)
    return _tidy(p)


def _is_zero(t: Any) -> bool:
    return not isinstance(t, _Number) and np.ndim(t) == 0 and t == 0


def _is_plain_part(q: Any) -> bool:
    """A numpy array or a float (not an engine number, not a lazy array)."""
    return type(q) is np.ndarray or isinstance(q, (float, int, np.floating, np.integer))


def _fill(t: Any, like: Any) -> Any:
    """Tangent ``t`` broadcast to the shape of ``like`` (a scalar zero tangent is allowed)."""
    shape = _shape(like)
    if _shape(t) == shape:
        return t
    return np.zeros(shape, dtype=np.result_type(_real(like)))


def _direction(q: Any, idx: tuple, lead: tuple, nd: int, vs: tuple) -> Any:
    """Direction ``idx`` of a stacked part ``q`` (lead axes broadcast)."""
    s = _shape(q)
    if isinstance(q, _Number):
        full = np.broadcast_to(q, lead + vs) if s != lead + vs else q
        return full[idx]
    full = np.broadcast_to(q, lead + vs)
    return full[idx]


def _check_escape(out: Any, tout: Any, tag: int, name: str) -> None:
    for v in (out, tout):
        if isinstance(v, _Number) and v.tag > tag or (
                isinstance(v, _Number) and v.tag == tag and not isinstance(v, Dual)):
            raise TypeError(
                f"custom_jvp {name}: the rule returned a number of the perturbation being "
                "differentiated; does the function close over a differentiated value? "
                "Pass it as an argument instead")


# -----------------------------------------------------------------------------
# check_rule: a custom rule against central differences and the other mode
# -----------------------------------------------------------------------------


def check_rule(f: custom_jvp, x: Any, *args: Any, rtol: float = 1e-6, atol: float = 1e-6,
               order: int = 2) -> dict[str, float]:
    """Check a custom rule at ``x``: first and second order, against central differences.

    Compares, for ``g(x) = f(x, *args)``:

    * the Jacobian from the JVP rule (``hyperdual.jacobian``) with central
      differences of ``f`` itself (called on floats, so independent of the rule);
    * if a VJP rule is set, ``uᵀJ`` from it with ``uᵀ`` times that Jacobian;
    * if ``reverse`` is loaded, ``reverse.jacobian`` (the reverse bridge);
    * for ``order=2``, the second derivatives ``∂²(w·g)`` from HyperDual numbers
      with central differences of the exact first derivatives (and with
      ``reverse.hessian`` when reverse is loaded).

    Parameters
    ----------
    f : custom_jvp
        The function with its rule(s).
    x : array_like
        The point (the first argument of ``f``).
    *args
        Further arguments of ``f``, held fixed.
    rtol, atol : float
        A comparison fails when its largest error, divided by the scale
        ``max(1, max |reference|)``, exceeds ``atol + rtol``.
    order : {1, 2}
        2 also checks second derivatives.

    Returns
    -------
    dict of str to float
        The largest scaled error of each comparison made:
        ``"jacobian_vs_central"``, ``"vjp_vs_jacobian"`` (with a VJP rule),
        ``"reverse_jacobian_vs_forward"`` (reverse loaded),
        ``"hessian_vs_central"`` and ``"reverse_hessian_vs_forward"``
        (``order=2``).

    Raises
    ------
    AssertionError
        Naming ``f`` and the comparison that failed, with both values.

    Examples
    --------
    >>> import numpy as np
    >>> f = custom_jvp(lambda x: np.sin(x))
    >>> _ = f.defjvp(lambda p, t: (f(p[0]), np.cos(p[0]) * t[0]))
    >>> errors = check_rule(f, np.array([0.1, 0.2]))
    >>> "jacobian_vs_central" in errors and max(errors.values()) < 1e-8
    True

    A rule wrong by a factor 2 is caught:

    >>> g = custom_jvp(lambda x: np.sin(x))
    >>> _ = g.defjvp(lambda p, t: (g(p[0]), 2 * np.cos(p[0]) * t[0]))
    >>> check_rule(g, np.array([0.1, 0.2]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    AssertionError: check_rule(<lambda>): jacobian_vs_central differ by 0.995 ...
    """
    import sys

    from . import helpers as H

    name = getattr(f, "_name", repr(f))
    x = np.asarray(x, dtype=np.float64)

    def g(z):
        return f(z, *args)

    def plain(z):
        fun = getattr(f, "fun", f)
        return np.asarray(fun(z, *args), dtype=np.float64)

    errors: dict[str, float] = {}

    def record(key: str, ref: Any, val: Any) -> None:
        ref, val = np.asarray(ref, float), np.asarray(val, float)
        scale = max(1.0, float(np.max(np.abs(ref)))) if ref.size else 1.0
        err = float(np.max(np.abs(ref - val))) / scale if ref.size else 0.0
        errors[key] = err
        if not err <= atol + rtol:
            raise AssertionError(f"check_rule({name}): {key} differ by {err:.3g} (relative "
                                 f"to max(1, |reference|)); reference {ref!r}, rule {val!r}")

    J = np.asarray(H.jacobian(g, x))
    record("jacobian_vs_central", _central(plain, x), J)
    y = plain(x)
    rng = np.random.default_rng(0)
    u = rng.normal(size=y.shape)
    if getattr(f, "vjp", None) is not None:
        nondiff, pos = f.split_args((x,) + args)
        primals = tuple(((x,) + args)[i] for i in pos)
        ct = f.vjp(*nondiff, primals, y, u if y.shape else float(u))
        ct0 = ct[0] if isinstance(ct, tuple) else ct
        record("vjp_vs_jacobian", np.tensordot(u, J, axes=y.ndim), ct0)
    rev = sys.modules.get("reverse")
    if rev is not None and hasattr(rev, "jacobian"):
        record("reverse_jacobian_vs_forward", J, rev.jacobian(g, x))
    if order >= 2:
        w = u

        def scalar(z):
            return np.sum(np.asarray(w) * g(z)) if y.shape else w * g(z)

        Hs = np.asarray(H.hessian(scalar, x))
        grad = lambda z: np.asarray(H.gradient(scalar, z))  # noqa: E731
        record("hessian_vs_central", _central(grad, x), Hs)
        if rev is not None and hasattr(rev, "hessian"):
            record("reverse_hessian_vs_forward", Hs, rev.hessian(scalar, x))
    return errors


def _central(fun: Callable[[np.ndarray], Any], x: np.ndarray) -> np.ndarray:
    """Central differences, shape ``fun(x).shape + x.shape`` (step eps**(1/3) scaled)."""
    y0 = np.asarray(fun(x), float)
    out = np.zeros(y0.shape + x.shape)
    for idx in np.ndindex(*x.shape):
        h = np.finfo(float).eps ** (1 / 3) * max(1.0, abs(float(x[idx])))
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        out[(Ellipsis,) + idx] = (np.asarray(fun(xp), float) - np.asarray(fun(xm), float)) / (
            float(xp[idx]) - float(xm[idx]))
    return out

