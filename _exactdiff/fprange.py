"""Second-order results kept in the float range by seeds scaled with powers of two.

A second derivative formed by an engine passes through single floats that are
products of the seeds with ``f''(u) u'``: reverse's adjoint of ``u`` in the
second pass, or the dual part of a first pass run on Dual data.  That float
can under/overflow where the final ``f''(u) u'**2 + f'(u) u''`` is an ordinary
float (d2/dx2 log10(x**2) at 1e150: ``-4e-601 * 2e150`` underflowed and the
result had the wrong sign).  Every such intermediate is linear in the seeds,
so the computation is redone with the seeds scaled by powers of two and the
result scaled back (:func:`second_order`).

Two kinds of callers: the second-order helpers of ``reverse`` (one helper call
owns both seeds), and a first-order helper of either engine whose ``f`` called
another helper on its perturbed data (nesting: ``reverse.jacobian`` of
``reverse.gradient``).  The inner helper counts itself (:func:`nested_call`,
which returns the exponent its seed is to carry) and multiplies its result by
the inverse power of two inside the outer trace, so the value that ``f`` sees
is unchanged while the outer pass meets the scaled adjoints; the outer helper,
seeing the count move during its call, redoes itself through
:func:`second_order` with its own seed scaled as well.  A helper call on its
own runs its first pass :func:`armed`: the first nested call ends that pass at
once (:class:`NestedRestart`), so a nested computation costs the watched pass
and not an unwatched one before it.

Examples
--------
>>> import numpy as np
>>> second_order(lambda kt, ks: np.ldexp(np.array([1.5]), kt + ks), True)
array([1.5])
"""

from __future__ import annotations

import contextvars
import math
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ._common import IN_BACKWARD, NUMPY1, WATCH_UNDERFLOW, finite_array

#: The seed exponent that an outer helper's retry asks of the helper calls nested
#: in its f (see :func:`nested_call`); 0 outside such a retry.
NEST_SCALE: contextvars.ContextVar[int] = contextvars.ContextVar(
    "exactdiff_nest_scale", default=0)

#: Helper calls so far that ran on an outer trace's data (a counter, compared by
#: the outer helper before and after its call; another thread's count only costs
#: a redo that gives the same result).
NESTED = [0]

#: Helper results that an audit made nan (a counter, both engines): a helper whose f
#: ran one takes f's nan value for that audit's, not a nan of f itself (whose
#: derivatives keep their structural zeros), when it poisons its own result.
AUDIT_NAN = [0]


#: The reverse-evaluation depth from which a nested helper call ends the first
#: pass of an armed outer call (None: no call is armed in this context).
_ARMED: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "exactdiff_nest_armed", default=None)

#: What :func:`armed` returns when a nested helper call ended the pass.
RESTART = object()


class NestedRestart(BaseException):
    """Raised by a nested helper call inside an armed first pass; caught by the
    outer call that armed it.  (A BaseException, so that an ``except Exception``
    in the user's f does not swallow it.)"""


def nested_call(depth: float = math.inf) -> int:
    """Count a helper call nested in another one; the exponent k of its seed 2**k.

    ``depth``: the caller's reverse-evaluation depth (hyperdual's calls: inf).
    Inside an :func:`armed` pass at that depth, raises :class:`NestedRestart`.

    Examples
    --------
    >>> nested_call()
    0
    """
    NESTED[0] += 1
    level = _ARMED.get()
    if level is not None and depth >= level:
        raise NestedRestart
    return NEST_SCALE.get()


def armed(level: float, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, the first pass of a helper call on its own, or
    :data:`RESTART` if a helper call nested in it (at reverse depth >= ``level``)
    ended it: the caller then goes straight to its watched :func:`second_order`.
    Inside another armed call, ``fn`` just runs (the outer call restarts).

    Examples
    --------
    >>> armed(0, lambda: nested_call()) is RESTART
    True
    >>> armed(0, lambda: 3.0)
    3.0
    """
    if _ARMED.get() is not None:
        return fn(*args, **kwargs)
    token = _ARMED.set(level)
    try:
        return fn(*args, **kwargs)
    except NestedRestart:
        return RESTART
    finally:
        _ARMED.reset(token)


try:  # numpy >= 2: the floating-point error state is a context variable
    from numpy._core.umath import _extobj_contextvar as _EXTOBJ
    from numpy._core.umath import _make_extobj
except ImportError:  # numpy 1.x: an error object per thread
    _EXTOBJ = None
    from numpy.core.umath import geterrobj as _geterrobj  # type: ignore[attr-defined]
    from numpy.core.umath import seterrobj as _seterrobj  # type: ignore[attr-defined]

def _state() -> Any:
    """numpy's error state object in this context (numpy 2: the context variable's
    value, compared by identity; numpy 1.x: the thread's error object, a list)."""
    # (numpy 1.x: a copy, since np.seterr changes the thread's list in place)
    return _EXTOBJ.get() if _EXTOBJ is not None else list(_geterrobj())


#: What :func:`_user_changes` gives for a call handler that f left unchanged
_SAME = object()


def _user_changes(inner: Any) -> tuple[dict, Any] | None:
    """What f set with ``np.seterr`` / ``np.seterrcall`` during a pass run under the
    library's error state ``inner`` (still in force): the modes that differ from
    ``inner``'s, and the call handler (or :data:`_SAME`); None where f changed
    nothing (the usual case: one identity test on numpy 2).  A ``np.errstate``
    block of f's own has ended inside the pass and changes nothing."""
    now = _state()
    if now is inner or _EXTOBJ is None and now == inner:
        return None
    modes, call = np.geterr(), np.geterrcall()
    if _EXTOBJ is not None:
        token = _EXTOBJ.set(inner)
        try:
            inner_modes, inner_call = np.geterr(), np.geterrcall()
        finally:
            _EXTOBJ.reset(token)
    else:
        _seterrobj(list(inner))
        try:
            inner_modes, inner_call = np.geterr(), np.geterrcall()
        finally:
            _seterrobj(now)
    changed = {k: v for k, v in modes.items() if v != inner_modes[k]}
    return changed, (call if call is not inner_call else _SAME)


def _keep_user_changes(changes: tuple[dict, Any] | None) -> None:
    """Apply f's own ``np.seterr`` / ``np.seterrcall`` (:func:`_user_changes`) to the
    error state restored after a pass: as numpy would have left them, had f been
    called directly."""
    if changes is None:
        return
    modes, call = changes
    if modes:
        np.seterr(**modes)
    if call is not _SAME:
        np.seterrcall(call)


class _PassState:
    """``np.errstate(**kwargs)`` around a pass of the user's f, which keeps on exit
    what f itself set with ``np.seterr`` or ``np.seterrcall`` (a plain errstate
    restores the state it found, so a user's ``np.seterr(divide='ignore')`` inside f
    was undone after the library's watched pass; numpy keeps it)."""

    __slots__ = ("kwargs", "cm", "inner")

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs

    def __enter__(self) -> None:
        self.cm = np.errstate(**self.kwargs)
        self.cm.__enter__()
        self.inner = _state()

    def __exit__(self, *exc: Any) -> None:
        changes = _user_changes(self.inner)
        self.cm.__exit__(*exc)
        _keep_user_changes(changes)


#: Floating-point events of reverse's backward passes seen by :func:`first_pass`
#: (a counter, compared before and after a pass: another thread's events only
#: cost a redo that gives the same result).
BACKWARD_EVENTS = [0]

#: Underflows outside reverse's backward passes seen by :func:`first_pass` (a
#: counter too): a forward-mode pass's tangents, or f's own operations.
FORWARD_UNDERFLOWS = [0]

#: The warnings that :class:`_Relay` held back in this context's first pass (see
#: :class:`Flagged`): (message, filename, lineno, module globals), or None.
_HELD: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "exactdiff_held_warnings", default=None)


class Flagged:
    """What :func:`first_pass` returns where reverse's backward pass raised a
    floating-point flag (under- or overflow, invalid, divide): the helper redoes
    the call watched, then :meth:`warn` gives the events of the backward pass
    that the first pass held back, where the redone result still has an inf or
    nan entry (sqrt'(0) is inf: divide by zero, as numpy's formula says; an
    adjoint that overflowed at seed 1 but not in the redo warns of nothing), each
    as the user's error mode for its kind says (a RuntimeWarning, a
    FloatingPointError, their 'call' or 'log' handler, a line on stderr)."""

    __slots__ = ("held",)

    def __init__(self, held: list | None) -> None:
        self.held = held

    def warn(self, result: Any) -> None:
        """Issue the held events if ``result`` (a float, an array, or a tuple whose
        last item is one) has an entry that is not finite."""
        if not self.held:
            return
        if type(result) is tuple:
            result = result[-1]
        if type(result) is float:
            if math.isfinite(result):
                return
        elif type(result) is not np.ndarray or result.dtype.kind != "f" or finite_array(
                result):
            return  # (finite, or not a float array: nothing to say)
        for message, filename, lineno, module_globals, mode, handler in self.held:
            if mode == "warn":
                registry = module_globals.setdefault("__warningregistry__", {})
                warnings.warn_explicit(message, RuntimeWarning, filename, lineno,
                                       module_globals.get("__name__"), registry,
                                       module_globals)
            else:
                _as_numpy_would(mode, message, handler)

#: numpy's default error handling (what np.geterr() gives in a fresh process)
_DEFAULT_MODES = {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}


#: numpy's words for the floating-point errors (their first), by errstate key
_WORDS = {"divide": "divide", "overflow": "over", "underflow": "under", "invalid": "invalid"}

#: numpy's flag bits of the floating-point errors (what a 'call' handler receives)
_FLAG_BITS = {"divide": 1, "over": 2, "under": 4, "invalid": 8}


def _as_numpy_would(mode: str, message: str, handler: Any) -> None:
    """Handle the floating-point event ``message`` ('divide by zero encountered in
    divide') as numpy's error mode ``mode`` does, other than 'ignore' and 'warn':
    'raise' raises FloatingPointError(message), 'print' writes 'Warning: message' to
    stderr, 'call' calls ``handler(kind, flag)`` ('divide by zero', 1; numpy passes
    every flag the ufunc raised, here the bit of this one), 'log' calls
    ``handler.write('Warning: message\n')``."""
    if mode == "raise":
        raise FloatingPointError(message)
    if mode == "print":
        print(f"Warning: {message}", file=sys.stderr)
    elif mode == "call" and callable(handler):
        handler(message.split(" encountered", 1)[0],
                _FLAG_BITS.get(_WORDS.get(message.split(" ", 1)[0], ""), 0))
    elif mode == "log" and handler is not None:
        handler.write(f"Warning: {message}\n")


class _Relay:
    """The target of numpy's 'log' mode (``write``, which names the ufunc) and
    'call' mode (``__call__``) in a watched first pass: an event of reverse's
    backward pass is counted (:data:`BACKWARD_EVENTS`) and, unless the user's mode
    for its kind ignores it, held (:class:`Flagged`); any other one is handled as
    the user's settings ``modes`` (numpy's default, or their ``np.errstate``)
    handle it: ignored, a RuntimeWarning worded as numpy words it, or as their
    'raise', 'print', 'call' or 'log' mode does (:func:`_as_numpy_would`), so
    that their raise still raises at their own operations."""

    __slots__ = ("previous", "modes")

    def __init__(self, previous: Any, modes: dict | None = None) -> None:
        self.previous = previous  # the user's np.seterrcall (their 'call'/'log' handler)
        self.modes = _DEFAULT_MODES if modes is None else modes

    def write(self, message: str) -> None:
        text = message[9:].rstrip("\n")
        mode = self.modes.get(_WORDS.get(text.split(" ", 1)[0], ""), "warn")
        if IN_BACKWARD.get():
            BACKWARD_EVENTS[0] += 1
            if mode != "ignore":  # held (Flagged)
                frame = sys._getframe(1)
                held = _HELD.get()
                if held is None:
                    held = []
                    _HELD.set(held)
                held.append((text, frame.f_code.co_filename, frame.f_lineno,
                             frame.f_globals, mode, self.previous))
        else:
            if text.startswith("underflow"):
                FORWARD_UNDERFLOWS[0] += 1
            if mode == "warn":
                warnings.warn(text, RuntimeWarning, stacklevel=2)
            elif mode != "ignore":
                _as_numpy_would(mode, text, self.previous)

    def __call__(self, kind: str, flag: int) -> None:
        if IN_BACKWARD.get():
            BACKWARD_EVENTS[0] += 1
            return
        if kind == "underflow":
            FORWARD_UNDERFLOWS[0] += 1
        if callable(self.previous):
            self.previous(kind, flag)
        elif self.previous is not None:
            self.previous.write(f"Warning: {kind} encountered\n")


#: numpy's error modes, all of which the first pass's relay handles as numpy does
_MODES = frozenset(("ignore", "warn", "raise", "call", "print", "log"))


def _watchable(modes: dict) -> bool:
    """Whether the first pass can watch under the user's settings ``modes``: every
    mode numpy has (the relay handles f's own events as each mode says, and the
    backward pass's as :class:`Flagged` does).  (Under 'raise', 'call', 'print'
    and 'log' the pass used to run unwatched: reverse.gradient of
    sum(arctan(x**2)) at [1.7e100] raised FloatingPointError under
    errstate(under='raise') from an adjoint of its own, truth 4.07e-301.)"""
    return all(modes[k] in _MODES for k in ("divide", "over", "under", "invalid"))


#: (numpy's error state, the first pass's one on top of it, or None): the last
#: pair :func:`_watched_state` computed (numpy >= 2: compared by identity).
_STATE: list = [None, None]


def _watched_state(current: Any) -> Any:
    """numpy's error state ``current`` with every kind logged to a :class:`_Relay`,
    or None where the user's settings cannot be watched (:func:`_watchable`: then
    the first pass runs as they say; no mode of numpy's is such).  Under
    ``np.errstate(all="ignore")`` the pass used to run unwatched:
    reverse.gradient of sum(arctan(x**2)) at [1.7e100] was [0.] there (truth
    4.07e-301)."""
    watched = None
    modes = np.geterr()
    if _watchable(modes):
        watched = _make_extobj(all="log", call=_Relay(np.geterrcall(), modes))
    _STATE[:] = [current, watched]  # (another thread's pair only costs a recompute)
    return watched


#: numpy 1.x: the error mask of numpy's default settings, and of all kinds logged
_DEFAULT_MASK = 1 + (1 << 3) + (1 << 9)  # divide, over, invalid: warn; under: ignore
_LOG_MASK = 5 + (5 << 3) + (5 << 6) + (5 << 9)


def first_pass(fn: Callable[..., Any], *args: Any, level: float | None = None,
               forward: list | None = None) -> Any:
    """``fn(*args)``, the first pass of a first-order reverse helper called on its
    own at a float64 point, with the floating-point flags of its backward pass
    watched: a :class:`Flagged` if one was raised (an adjoint under- or
    overflowed: the helper then redoes the call through :func:`second_order`,
    which scales its seed; an entry flushed to 0 by an underflow is otherwise a
    silent 0), else the result.  The backward pass's warnings are held back
    until the redo shows whether its result still has an inf or nan entry (a
    warning about an adjoint of a result that the redo gets right would
    mislead); ``f``'s own operations are handled as the user's error settings
    say (numpy's wording, the ufunc named; their 'raise' raises at their own
    operation, their 'call' or 'log' handler is called).  ``level``: the pass is
    :func:`armed` at that depth.  ``forward``: a list whose item 0 is set to
    whether anything outside a backward pass underflowed (:func:`forward_pass`;
    the result is then returned as it is, never a Flagged).  Costs two
    context-variable switches.

    Examples
    --------
    >>> first_pass(lambda: 3.0)
    3.0
    """
    if _EXTOBJ is not None:
        current = _EXTOBJ.get()
        state = _STATE
        watched = state[1] if current is state[0] else _watched_state(current)
        if watched is None:
            return fn(*args) if level is None else armed(level, fn, *args)
        before = BACKWARD_EVENTS[0]
        under = FORWARD_UNDERFLOWS[0]
        token = _EXTOBJ.set(watched)
        # armed (see armed), in this frame: the pass costs one call less
        arm = None if level is None or _ARMED.get() is not None else _ARMED.set(level)
        try:
            r = fn(*args)
        except NestedRestart:
            if arm is None:
                raise
            r = RESTART
        finally:
            if arm is not None:
                _ARMED.reset(arm)
            changes = None if _EXTOBJ.get() is watched else _user_changes(watched)
            _EXTOBJ.reset(token)
            _keep_user_changes(changes)  # (f's own np.seterr stays, as numpy's would)
    else:
        obj = _geterrobj()
        modes = np.geterr()
        if obj[1] != _DEFAULT_MASK and not _watchable(modes):
            return fn(*args) if level is None else armed(level, fn, *args)
        before = BACKWARD_EVENTS[0]
        under = FORWARD_UNDERFLOWS[0]
        inner = [obj[0], _LOG_MASK, _Relay(obj[2], modes)]
        _seterrobj(inner)
        inner = list(inner)  # (np.seterr in f changes the list set in place)
        try:
            r = fn(*args) if level is None else armed(level, fn, *args)
        finally:
            changes = _user_changes(inner)
            _seterrobj(obj)
            _keep_user_changes(changes)
    if forward is not None:
        forward[0] = FORWARD_UNDERFLOWS[0] != under
    if BACKWARD_EVENTS[0] != before:
        held = _HELD.get()
        if held is not None:
            _HELD.set(None)
        if forward is not None:
            Flagged(held).warn(r)  # (a reverse helper nested in a forward pass)
        elif r is not RESTART:
            return Flagged(held)
    return r


def forward_pass(fn: Callable[..., Any], *args: Any) -> tuple[Any, bool]:
    """``(fn(*args), whether an underflow was seen)``: a forward-mode helper's
    pass at a float64 point with numpy's flags watched (:func:`first_pass`), f's
    own operations handled as the user's error settings say.  A tangent that
    underflowed is a silent 0 otherwise (d/du log(1/u) at 1e200 was -0, truth
    -1e-200: 1/u's tangent -1e-400 flushed; d2/du2 of it at 1e150 had the wrong
    sign: 1/u's second part 2e-450 flushed).

    Examples
    --------
    >>> forward_pass(lambda x: x * 1e-300, np.array([1e-300]))[1]
    True
    >>> forward_pass(lambda x: x * 2.0, np.array([1e-300]))
    (array([2.e-300]), False)
    """
    box = [False]
    r = first_pass(fn, *args, forward=box)
    return r, box[0]


def out_of_range(r: Any) -> bool:
    """Whether ``r``, a first-order result, is a float or float64 array with an
    inf or nan entry, or a float that is 0 or subnormal: then the helper redoes
    itself through :func:`second_order` with its seed scaled (an adjoint that
    overflowed at seed 1 may be in range at 2**-400; one that underflowed, at
    2**600), which costs one watched pass where nothing under- or overflowed (a
    derivative that is exactly 0).  An array's zeros are not redone (they are
    common: a ReLU's gradient), so an array entry flushed to 0 by an underflow
    stays 0.  Other results (an outer trace's values, other dtypes, lazy arrays)
    are never redone.  One float test, or one reduction of the array.

    Examples
    --------
    >>> out_of_range(1.0), out_of_range(float("-inf")), out_of_range(np.array([1.0, np.nan]))
    (False, True, True)
    >>> out_of_range(0.0), out_of_range(np.array([0.0, 1.0]))
    (True, False)
    """
    t = type(r)
    if t is float:
        return r - r != 0.0 or abs(r) < _TINY
    if t is np.ndarray and r.dtype == np.float64:
        return not finite_array(r)
    return False


def scaled_seed(seed: Any, k: int) -> Any:
    """``seed * 2**k`` (exact); the seed itself for k = 0.

    Examples
    --------
    >>> scaled_seed(np.array([1.0, -3.0]), 4)
    array([ 16., -48.])
    """
    if k == 0:
        return seed
    if type(seed) is np.ndarray and seed.ndim == 0:
        # a 0-d array stays one (np.ldexp returns a numpy scalar): the seed's type
        # decides the paths taken, as for k = 0 (reverse.hvp's audit of a scalar x
        # was skipped on the scaled retry, and sqrt(x**2)**2 at 0 gave 0, truth 2)
        return np.asarray(np.ldexp(seed, k))
    if isinstance(seed, (np.ndarray, np.generic, float, int)):
        return np.ldexp(seed, k)
    return seed * (2.0 ** k)  # a number of an outer trace (Variable, Dual): recorded


#: Seed exponents (cotangent 2**kt, direction 2**ks) that second_order retries
#: with: up where an adjoint underflowed, down where one overflowed.  (800, 0)
#: confirms (1000, 0) where only seeds that large reach a result and both still
#: raise a flag (a pass alone is not taken over an underflowing first one: the
#: third derivative of arctan(exp(v)) at 600 through three nested reverse
#: helpers, 2.65e-261, was 0; 2**700 .. 2**1020 all give it)
_RETRY_UP = ((600, 0), (0, 600), (300, 300), (500, 500), (800, 0), (1000, 0))
_RETRY_DOWN = ((0, -400), (-400, 0), (0, -500), (-250, -250), (-300, -300), (-400, -400),
               (-600, -600), (-700, 0), (-1000, 0))
#: Further down, for callers whose two seeds are separate floats (``separate``):
#: adjoints such as 1/u**2 at u = 1e-240 need a cotangent below 2**-570, and a
#: truth beyond the float range is then seen at two scales (+-inf, not nan).
_RETRY_FAR = ((-700, -500), (-800, -600))

def _errstate_reader() -> Callable[[], tuple[dict, Any]]:
    """A function returning ``(np.geterr(), np.geterrcall())``: numpy 2 keeps both in
    one context variable, read by one private call where it answers as the two
    public ones do (they cost ~3 us together, a few % of a small Hessian)."""
    def public() -> tuple[dict, Any]:
        return np.geterr(), np.geterrcall()

    try:
        from numpy._core._multiarray_umath import _get_extobj_dict  # numpy >= 2
    except ImportError:
        return public

    def private() -> tuple[dict, Any]:
        d = _get_extobj_dict()
        return d, d["call"]

    try:
        mode, call = private()
        if {k: mode[k] for k in ("divide", "over", "under", "invalid")} == np.geterr() \
                and call is np.geterrcall():
            return private
    except Exception:  # noqa: BLE001 - a private function: any failure takes the public ones
        pass
    return public


_errstate_now = _errstate_reader()

_EPS = float(np.finfo(np.float64).eps)
_TINY = float(np.finfo(np.float64).tiny)


#: numpy's names of the floating-point errors, by their errstate key
_KINDS = {"overflow": "over", "invalid value": "invalid", "divide by zero": "divide",
          "underflow": "under"}


class _Watch:
    """The target of numpy's 'log' mode (``write``, whose message names the
    ufunc: every kind, in :func:`second_order`'s passes) and 'call' mode
    (``__call__``: the library's quiet blocks, which inherit it, and where only
    under- and overflow are reported).  Underflow, and an overflow in the quiet
    blocks or in a retry, are added to ``flags``.  In the first pass
    (``first``) every other event is handled as the user's settings ``modes``
    handle it (a RuntimeWarning worded as numpy words it, their 'raise',
    'print', 'call' or 'log' mode: :func:`_as_numpy_would`), except that in
    reverse's backward pass its own adjoints' underflow is the watch's business
    only and a kind the user is warned of is quiet (warnings as errors must not
    stop a call whose result is right)."""

    __slots__ = ("flags", "modes", "previous", "first", "quiet")

    def __init__(self, flags: set, modes: dict, previous: Any, quiet: bool = False) -> None:
        self.flags, self.modes, self.previous = flags, modes, previous
        self.first = True
        self.quiet = quiet  # f's events were handled already (first_pass's relay)

    def _relay(self, kind: str) -> None:
        # a nested helper's watch: an outer helper's watch must see its range events
        # too, as it would without this one (a retry of the outer call whose inner
        # pass underflowed is not clean: an hd.derivative of an rv.derivative of
        # cbrt(y**3) * x took a scaled-down retry's 0 for its nan)
        outer = self.previous
        if type(outer) is _Watch and (kind == "underflow" or kind == "overflow"
                                      and not outer.first):
            outer.flags.add(kind)
            outer._relay(kind)

    def write(self, message: str) -> None:
        kind, _, name = message[9:].rstrip("\n").partition(" encountered in ")
        if kind == "underflow":
            self.flags.add(kind)
        if kind == "underflow" or kind == "overflow":
            self._relay(kind)
        if not self.first:  # a retry: under- and overflow are logged, nothing else
            if kind == "overflow":
                self.flags.add(kind)
            return
        mode = self.modes.get(_KINDS.get(kind, ""), "warn")
        if mode == "ignore" or self.quiet or IN_BACKWARD.get() and (
                mode == "warn" or kind == "underflow"):
            return
        text = f"{kind} encountered in {name}" if name else f"{kind} encountered"
        if mode == "warn":
            warnings.warn(text, RuntimeWarning, stacklevel=2)
        else:
            _as_numpy_would(mode, text, self.previous)

    def __call__(self, kind: str, flag: int) -> None:
        if kind == "underflow" or kind == "overflow":  # (the library's quiet blocks)
            self.flags.add(kind)
            self._relay(kind)


def _float_result(r: Any) -> bool:
    return type(r) is float or (type(r) is np.ndarray and r.dtype == np.float64)


#: Calls of :func:`second_order` at a float64 point whose first pass underflowed and
#: whose retries settled nothing (no pass without a flag, no two neighbouring scales
#: agreeing): a helper that sees it change redoes itself in long double
#: (:func:`widened`'s ``doubt``)
UNSETTLED = [0]


#: The seeds that a scalar result of 0 without a flag is retried at, largest first: a
#: product of Python floats that underflowed at seed 1 may still underflow, unseen, at
#: 2**600 (r r with r = e**-600 is 2**-1730)
_ZERO_RETRY = ((1000, 0), (600, 0), (0, 600), (500, 500))


def _unflagged_zero(run: Callable[[int, int], Any], r0: float, cotangent_kept: bool,
                    watch: Any) -> float:
    """A scalar second-order result that is 0 or subnormal with no flag raised (a
    scalar call's numbers are Python floats, which underflow silently): retried with
    the seeds scaled up, as :func:`out_of_range` has a first derivative redone; the
    first retry without a flag whose result is a normal float is the answer (scaled
    back); one that is 0 again without a flag confirms ``r0`` (a derivative that is
    exactly 0 costs one pass more); otherwise ``r0`` stands."""
    flags = watch.flags
    for kt, ks in _ZERO_RETRY:
        flags.clear()
        token = WATCH_UNDERFLOW.set(True)
        try:
            with _PassState(all="ignore", under="log", over="log", call=watch):
                r = run(kt, ks)
        finally:
            WATCH_UNDERFLOW.reset(token)
        if type(r) is not float and not (type(r) is np.ndarray and r.ndim == 0):
            return r0
        raw = float(r)
        if raw == 0.0 and not flags:
            # 0 again at 2**1000 (or the next scale) without a flag: a derivative that
            # is 0 (the common case; one pass more, as out_of_range costs)
            return r0
        if flags or not math.isfinite(raw) or abs(raw) < _TINY:
            continue
        back = math.ldexp(raw, -(ks if cotangent_kept else kt + ks))
        if back != 0.0:
            return back
    return r0


def second_order(run: Callable[[int, int], Any], plain: bool, cotangent_kept: bool = False,
                 separate: bool = False, one_seed: bool = False, reported: bool = False,
                 first: Any = None) -> Any:
    """``run(0, 0)``, a second-order result (Hessian, H v, f'', a nested first
    derivative), kept in range.

    ``run(kt, ks)`` is the computation with the first pass's seed (cotangent)
    scaled by ``2**kt`` and the second's (direction) by ``2**ks``: its result is
    exactly ``2**(kt + ks)`` times the truth unless some intermediate leaves the
    range.  So the pass runs once as usual, watching numpy's underflow flag (and
    the overflow flag inside the library's own quiet blocks) under any of the
    user's ``np.errstate`` modes, whose effect on f's own operations the watch
    keeps (:class:`_Watch`: their 'raise' raises there, their 'call' handler is
    called; an underflow of reverse's own adjoints is the watch's).  Where something
    underflowed or an entry is inf or nan, the pass is redone with the seeds
    scaled up (or down) and the result scaled back: the first retry with no flag
    and finite entries is the answer.  Otherwise each entry is taken from the
    pass that did not overflow and had the largest seeds where it is finite and
    a pass at another scale gave the same (an underflow loses terms, an overflow
    shows; where the first pass did not underflow, a retry that did is not
    used), so a genuine inf, nan or 0 stays one, and an underflow that scaling
    leaves unchanged (f's own exp(-800)) keeps the first result.  A normal
    entry of a first pass that underflowed which no two passes at different
    scales confirm and a retry contradicts is nan: the underflow may have
    dropped a term, and a finite number of the wrong sign must not pass
    silently.  ``plain``: the input is a float64 array
    (an outer trace's Variables, Duals and lazy arrays take the one pass).
    ``cotangent_kept``: ``run``'s result is ``2**ks`` times the truth (a forward
    outer helper: the nested helper scales its cotangent 2**kt back itself);
    otherwise it may be one seed of ``2**(kt + ks)`` (a reverse outer helper),
    so pairs whose sum leaves the float range are not tried.  ``separate``: each
    seed is a float of its own (reverse's second-order helpers), so pairs down
    to 2**-1800 are tried too.  An entry that is beyond the float range (a
    retry without overflow gives a finite result that overflows when scaled
    back) is +-inf once a pass at another scale agrees: never nan where the
    truth is an overflow, and never a finite number.  ``reported``: a first-order
    helper's redo after :func:`first_pass` flagged its call, which handled f's
    own floating-point events already (they are not handled twice: a user's
    'call' handler is called once per event of f).  ``first``: the result of a
    first pass that :func:`forward_pass` ran and saw underflow (not run again).

    Examples
    --------
    >>> second_order(lambda kt, ks: 2.0 * 2.0 ** (kt + ks), True)
    2.0
    """
    if not plain:
        return run(0, 0)
    mode, previous = _errstate_now()
    flags: set = set()
    # every kind logged to the watch, which handles f's own events as the user's
    # settings say (their raise raises at their own operation, their 'call' handler
    # is called), and reverse's backward pass's as its own business (see _Watch)
    watch = _Watch(flags, mode, previous, reported)
    if first is not None:
        r0 = first
        flags.add("underflow")
    else:
        token = WATCH_UNDERFLOW.set(True)
        try:
            with _PassState(all="log", call=watch):
                r0 = run(0, 0)
        finally:
            WATCH_UNDERFLOW.reset(token)
    watch.first = False
    if type(r0) is float:  # (the common case, checked cheaply)
        finite = math.isfinite(r0)
        if finite and not flags and abs(r0) < _TINY:
            # a scalar call's numbers are Python floats, whose products underflow
            # without a flag (hd.second_derivative of reverse.derivative of
            # arctan(exp(t)) at 400: (gy r) r with r = e**-400 was 0, truth e**-400)
            return _unflagged_zero(run, r0, cotangent_kept, watch)
    elif type(r0) is np.ndarray and r0.dtype == np.float64:
        finite = finite_array(r0)
    else:
        return r0
    if finite and not flags:
        return r0
    a0 = np.asarray(r0)
    tries: list = []
    if "underflow" in flags:
        with np.errstate(all="ignore"):
            mag = np.abs(np.where(np.isfinite(a0), a0, 0.0))
            big = np.max(mag, initial=0.0)
            # an array's smallest nonzero entry, brought to 1 as far as its largest
            # allows: a term it lost may be far below the largest entry's scale
            # (gradient of sum(v / (1 + v**2)**2) at [1e75, 0.5]: the -4e-300 that
            # the quotient rule's -(gy y) / b lost at seed 1 was lost at 2**600 too)
            small = np.min(np.where(mag > 0, mag, np.inf), initial=np.inf)
        if big > 0:
            k = -int(np.frexp(big)[1])
            if np.isfinite(small) and small < big:
                k_small = min(-int(np.frexp(small)[1]), 1020 + k)
                if 32 < k_small <= 1000 and k_small > k:
                    tries.append((k_small, 0))
            if 32 < k <= 1000:
                tries.append((k, 0))
        tries += [t for t in _RETRY_UP if t not in tries]
    if not finite or "overflow" in flags:
        tries += _RETRY_DOWN
        if separate:
            tries += _RETRY_FAR
    # where the first pass did not underflow, a retry that did is no better than a
    # non-finite first result (scaled down too far, it loses the very terms that
    # overflowed: a finite number of the wrong sign, where inf at least has the
    # truth's sign)
    allow_under = "underflow" in flags
    with np.errstate(all="ignore"):
        tiny_entry = allow_under and bool(np.any(np.abs(a0) < _TINY))
    runs = [(a0, "overflow" in flags, 0, 0, False)]
    agree: set = set()
    clean: list = []
    raws: list = []  # (raw result, its exponent, scaled back) of the passes without a flag
    signs: list = []  # every retry's raw result (a sign that contradicts is a veto)
    done = {0}
    # where the first pass underflowed, the window of seed exponents that keep
    # every adjoint in range (_narrow): lo, the largest that underflowed; hi, the
    # smallest whose result is not finite; the passes left to try; the new results
    # seen; the scales tried to confirm one (a forward outer helper's passes keep
    # the cotangent's scale: not searched)
    window = ({"lo": 0, "hi": None, "left": 12, "seen": [], "probes": set(), "a0": a0,
               "candidate": None}
              if allow_under and finite and not cotangent_kept else None)
    bisected: set = set()  # the seeds that _narrow tried
    i = 0
    while i < len(tries):
        kt, ks = tries[i]
        i += 1
        if one_seed:
            if kt + ks in done:
                continue
            done.add(kt + ks)
        far = not cotangent_kept and not -1000 <= kt + ks <= 1000
        if far and not separate:
            continue
        flags.clear()
        token = WATCH_UNDERFLOW.set(True)
        try:
            with _PassState(all="ignore", under="log", over="log", call=watch):
                r = run(kt, ks)
        finally:
            WATCH_UNDERFLOW.reset(token)
        if not _float_result(r):
            return r0
        raw = np.asarray(r)
        e = ks if cotangent_kept else kt + ks
        with np.errstate(all="ignore"):
            back = np.ldexp(raw, -e)
        signs.append(raw)
        if far:
            # so far down, an underflow can go unseen (Python floats): these
            # passes only witness an entry beyond the range (_beyond_range)
            if not flags:
                raws.append((raw, e, back))
                if _settled(a0, raws, signs):
                    break
            continue
        if window is not None and kt >= 0 and ks >= 0:
            found = _narrow(window, kt + ks, flags, raw, back, tries, i, bisected)
            if found is not None:
                # two passes at neighbouring scales agree on a result that the
                # smaller seeds did not reach (a flag there is a rule's own quiet
                # intermediate: the result is finite and confirmed)
                return float(found) if type(r0) is float else found
        if not flags and np.isfinite(back).all():
            # (an inf after scaling back is left to the selection below: only a
            # confirmed pass may replace the first result's nan or inf)
            if kt + ks > 0 or not allow_under or any(
                    np.all(np.abs(back - other) <= 4 * _EPS * np.abs(back))
                    for other, total in clean if total != kt + ks):
                return float(back) if type(r0) is float else back
            # scaled down where the first pass underflowed, a product can
            # underflow unseen (Python floats, scipy's special functions raise no
            # flag): accepted once another scale agrees
            clean.append((back, kt + ks))
        if (finite and kt >= 0 and ks >= 0 and np.array_equal(back, a0)
                and (kt + ks >= 1000 or not tiny_entry) and (kt, ks) not in bisected):
            # an underflow that did not touch the result: once scaling each seed
            # up leaves it unchanged, no retry will change it.  Not for a 0 (or
            # subnormal) entry short of the largest scale: an adjoint 2**-1990 is
            # flushed at 2**600 as at 1 (d/du 1/(1/u) at 1e-300 was 0, truth 1:
            # -1/v**2 = -1e-600 at v = 1e300 is in range only at a seed 2**1000),
            # nor for a probe of _narrow's (a smaller step: d2/du2 (1/u)**-3 at
            # 1e150 lost 1/u's flushed second part at 1 and at 2**300 alike)
            agree.add("cotangent" if kt else "direction")
            if len(agree) == 2 or one_seed:
                if tiny_entry:
                    # (the 0 entry may still be an adjoint that 2**1000 does not
                    # bring into range: d/du (1/u)**-2 at 1e-250, 2e-750 times the
                    # seed, was 0, truth 2e-250)
                    UNSETTLED[0] += 1
                return r0
        if (kt, ks) in bisected and not np.all(np.isfinite(back) & (back != 0)):
            pass  # a probe of the window that flushed (or overflowed) is no witness
        elif allow_under or "underflow" not in flags:
            # (flushed: scaled down and underflowed, so an entry may be a lost 0)
            runs.append((back, "overflow" in flags, kt, ks,
                         kt + ks < 0 and "underflow" in flags))
        if not flags:
            raws.append((raw, e, back))
            if not finite and _settled(a0, raws, signs):
                break
    else:
        if separate and not finite:
            _search_beyond(run, watch, flags, a0, raws, signs)
    if allow_under:
        # no retry settled what the first pass's underflow did: the helper redoes
        # the call in long double where that is wider (widened's doubt); the
        # result below is the answer where it is not
        UNSETTLED[0] += 1
    if window is not None and window["candidate"] is not None:
        # (two passes that underflowed agree on it: with separate seeds, (800, 0)
        # and (799, 0) agreed on 4 times d2/du2 log(u**-3) at 1e100, where
        # (500, 500) was right)
        found = window["candidate"][1]
        return float(found) if type(r0) is float else found
    # per entry: a finite value that a pass at another scale confirms (a pass
    # can go wrong unseen where Python floats carry a scalar), then no overflow,
    # then the largest seeds; none: the first result (or nan, below)
    best = a0.copy()
    if allow_under:
        # a normal entry of an underflowing first pass that a retry without
        # overflow contradicts (a finite value not within rounding, or an inf of
        # the other sign) is nan (0 and subnormals stay: a truth that underflows
        # is one)
        with np.errstate(all="ignore"):
            doubt = np.zeros(a0.shape, dtype=bool)
            for back, over, _, _, flushed in runs[1:]:
                if not over and not flushed:
                    doubt |= np.where(np.isfinite(back),
                                      np.abs(back - a0) > 4 * _EPS * np.abs(a0),
                                      np.isinf(back) & (np.sign(back) != np.sign(a0)))
            best[doubt & np.isfinite(a0) & (np.abs(a0) >= _TINY)] = np.nan
    rank = np.full(a0.shape, -np.inf)
    for i, (back, over, kt, ks, flushed) in enumerate(runs):
        with np.errstate(all="ignore"):
            confirmed = np.zeros(a0.shape, dtype=bool)
            for j, (other, _, kt2, ks2, _) in enumerate(runs):
                if j != i and (kt2 + ks2 != kt + ks or cotangent_kept and ks2 != ks):
                    confirmed |= np.abs(back - other) <= 4 * _EPS * np.abs(back)
        score = (0.0 if over else 1e6) + 1e3 * (kt + ks) + min(kt, ks)
        take = np.isfinite(back) & confirmed & (score > rank)
        if kt + ks < 0:
            # a pass scaled down is there for the entries that overflowed: where it
            # underflowed, or its entry is 0, it does not replace a finite nonzero
            # first result (two such passes agree on the 0 of terms that both
            # flushed: d2/dv2 of hyperdual.derivative of exp(v)**(1/3) at -500
            # came out 0, where the first pass's overflow was harmless); and its 0
            # where it underflowed replaces nothing (where the first result is not
            # finite either: such passes agreed on 0 for d/dv of
            # hyperdual.derivative of reverse.derivative of digamma(exp(v)) at -700,
            # truth 1e304)
            take &= ~(np.isfinite(a0) & (a0 != 0) & ((back == 0) | flushed)
                      | (back == 0) & flushed)
        best = np.where(take, back, best)
        rank = np.where(take, score, rank)
    if raws:
        best = _beyond_range(best, a0, raws, signs)
    return float(best) if type(r0) is float else best


def _narrow(window: dict, s: int, flags: set, raw: np.ndarray, back: np.ndarray,
            tries: list, i: int, bisected: set) -> np.ndarray | None:
    """Look for the seeds that keep every adjoint in range where the first pass
    underflowed: bisect the window between a pass at ``2**lo`` that underflowed
    and one at ``2**hi`` whose result is not finite (the midpoint is tried next,
    inserted in ``tries`` at ``i``), and confirm a pass that gave something new
    (finite, no zero entry, not the first result) by the scale next to it.  The
    window can be narrow: d/du ``(1/u)**-0.5`` at 1e-300 has the adjoints 5e-451
    (of v = 1/u = 1e300) and 5e149 times the seed, in range together only for
    seeds 2**493 .. 2**528, while 2**600 overflows and 1 underflows (it was a
    silent 0, truth 5e149); d2/du2 ``(1/u)**-3`` at 1e150: 1 and 2**300 lose 1/u's
    second part alike, 2**525 overflows, 2**487 is right and 2**486 agrees.
    Returns, once two such passes at different scales, neither of which
    underflowed, agree, their result: the answer, though an overflow flag was
    raised (a rule's own quiet intermediates raise it), and though the first pass
    and another agree on the result without the term that both lost; otherwise
    None (two that agree but underflowed are kept as ``window["candidate"]``,
    the answer where the search ends without a cleaner one)."""
    # by the result, not the flags alone: a rule's own intermediates may underflow
    # in a pass whose result overflowed (Power's plain partial a**(n - 1) before
    # its scaled product), or overflow in one whose result is right
    if not np.isfinite(raw).all():
        window["hi"] = s if window["hi"] is None else min(window["hi"], s)
    else:
        under = "underflow" in flags
        if under:
            window["lo"] = max(window["lo"], s)
        with np.errstate(all="ignore"):
            new = np.all(back != 0) and not np.all(
                np.abs(back - window["a0"]) <= 4 * _EPS * np.abs(back))
            if new:
                for t, other, other_under in window["seen"]:
                    if t != s and np.all(np.abs(back - other) <= 4 * _EPS * np.abs(back)):
                        if not (under or other_under):
                            return back
                        # both underflowed somewhere (a rule's own intermediates
                        # do): a candidate, taken where the search finds nothing
                        # cleaner; two such passes can agree on a result that a
                        # subnormal part left with 30 bits (d2/du2 (1/u)**-3 at
                        # 1e150: 2**450 and 2**449, 6e-10 off, while 2**487 and
                        # 2**486 raise no underflow and are right)
                        cand = window["candidate"]
                        if cand is None or s > cand[0]:
                            window["candidate"] = (s, back)
                        break
        if new:
            window["seen"].append((s, back, under))
            probe = (s - 1, 0)
            if window["left"] > 0 and s not in window["probes"] and probe not in bisected:
                window["left"] -= 1
                window["probes"].add(s - 1)
                tries.insert(i, probe)
                bisected.add(probe)
                return None
    lo, hi = window["lo"], window["hi"]
    if hi is not None and hi - lo > 1 and window["left"] > 0:
        mid = (lo + hi) // 2
        window["left"] -= 1
        tries.insert(i, (mid, 0))
        bisected.add((mid, 0))
    return None


#: :func:`_search_beyond`'s range of t, the pair of seed exponents being (2t, t)
_SEARCH_LOW, _SEARCH_HIGH = -537, -250


def _search_beyond(run: Callable[[int, int], Any], watch: Any, flags: set, a0: np.ndarray,
                   raws: list, signs: list) -> None:
    """Where the retries of a caller with separate seeds left an entry not finite
    and not shown beyond the range: a bisection for seeds (2**(2t), 2**t) at
    which the pass raises no flag (an overflow: t lower; an underflow: higher;
    both: no such t), then one at t - 1 to confirm, both added to ``raws`` as
    witnesses (:func:`_beyond_range`).  The window can be narrow: d2/dv2
    1/v**2 at 1.7e-150 (truth 7e599) needs the first seed within 2**-1074 and
    2**-970, the second within 2**-512 and 2**-424, their sum within
    2**-1514 and 2**-1466.  About nine passes, on this path only."""
    lo, hi = _SEARCH_LOW, _SEARCH_HIGH
    found = None
    t = (lo + hi) // 2
    while True:
        flags.clear()
        token = WATCH_UNDERFLOW.set(True)
        try:
            with _PassState(all="ignore", under="log", over="log", call=watch):
                r = run(2 * t, t)
        finally:
            WATCH_UNDERFLOW.reset(token)
        if not _float_result(r):
            return
        raw = np.asarray(r)
        signs.append(raw)
        over, under = "overflow" in flags, "underflow" in flags
        if over and under:
            return
        if not over and not under:
            with np.errstate(all="ignore"):
                raws.append((raw, 3 * t, np.ldexp(raw, -3 * t)))
            if found is not None or _settled(a0, raws, signs):
                return
            found = t
            t -= 1
            continue
        if found is not None:
            return
        if over:
            hi = t
        else:
            lo = t
        if hi - lo <= 1:
            return
        t = (lo + hi) // 2


def _settled(a0: np.ndarray, raws: list, signs: list) -> bool:
    """Whether every entry of the first result is beyond the float range by the
    passes so far (:func:`_beyond_range`): further retries, scaled further
    down, would only add passes that underflow (whose sign is no witness, but
    a veto: d2/dv2 1/v**2 at 1e-100 was nan once retries at 2**-1500 were
    tried after two clean ones at 2**-800 and 2**-1200 had agreed)."""
    if len(raws) < 2:
        return False
    return not np.isnan(_beyond_range(np.full(a0.shape, np.nan), a0, raws, signs)).any()


def _beyond_range(best: np.ndarray, a0: np.ndarray, raws: list, signs: list) -> np.ndarray:
    """``best`` with +-inf where the first result is not finite and the passes
    without a flag agree on a finite raw result that is beyond the float range
    scaled back: two of them at different scales, none of them contradicts
    (compared at the smaller scale), and no retry at all has a finite result of
    the other sign.  (Passes that underflowed are no witnesses: two of them at
    scales with one seed in common agreed on the wrong sign; and where Python
    floats carry a scalar, an underflow raises no flag: three passes at 2**-1800
    and below agreed on the wrong sign, which flagged passes contradicted.)"""
    with np.errstate(all="ignore"):
        for i, (raw, e, back) in enumerate(raws):
            cand = ~np.isfinite(a0) & np.isinf(back) & np.isfinite(raw) & (raw != 0)
            if not cand.any():
                continue
            seen = np.zeros(a0.shape, dtype=bool)
            veto = np.zeros(a0.shape, dtype=bool)
            for other in signs:
                veto |= np.isfinite(other) & (other != 0) & (np.sign(other) != np.sign(raw))
            for j, (raw2, e2, _) in enumerate(raws):
                if j == i:
                    continue
                x, y = (raw, np.ldexp(raw2, e - e2)) if e <= e2 else (np.ldexp(raw, e2 - e),
                                                                       raw2)
                near = np.abs(x - y) <= 4 * _EPS * np.abs(x)
                veto |= np.isfinite(raw2) & ~near
                if e2 != e:
                    seen |= near
            ok = cand & seen & ~veto
            if ok.any():
                best = np.where(ok, back, best)
            return best
    return best


# --- one pass more with a wider exponent ---------------------------------------------
#: numpy's long double where its exponent range is wider than float64's (x87 extended
#: on x86-64, IEEE quad on aarch64 Linux: up to 2**16384); None where it is float64
#: itself (Windows, macOS on Apple silicon) or IBM double-double (ppc64le), whose
#: range is float64's.
WIDE: Any = np.longdouble if np.finfo(np.longdouble).maxexp > 1024 else None

#: Whether :func:`widened` redoes a call in doubt (:data:`UNSETTLED`): long double is
#: wider here and numpy promotes by type (a long double scalar widens what it meets)
WIDENS_DOUBT = WIDE is not None and not NUMPY1

#: Set while a helper call redoes itself in WIDE (:func:`widened`): the helpers it
#: calls then take their one pass.
_WIDENING: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "exactdiff_widening", default=False)


def widening() -> bool:
    """True while a helper call redoes itself in :data:`WIDE` (:func:`widened`)."""
    return _WIDENING.get()


_FLOAT64_MAX = float(np.finfo(np.float64).max)


def ufunc_in_wide(ufunc: Any, *args: Any) -> Any:
    """``ufunc(*args)``, and while a call redoes itself in :data:`WIDE`
    (:func:`widened`), for a ufunc without a long double loop (scipy.special's
    erfcx, i0e, ...): the ufunc in float64 on arguments that float64 holds
    exactly enough (zero, or a normal float in magnitude; inf, nan), its result
    back in WIDE.

    The redo is there for intermediates beyond float64's range; a function of
    a float64-sized argument is as good in float64 as the first pass had it, and
    only its argument and result pass through the wide arithmetic (erfcx(e**500)
    in the third derivative of erfcx(exp(v)) by three nested helpers, whose
    other terms span e**-1000 .. e**1500).  An argument beyond float64's normal
    range keeps the TypeError (the redo fails, the float64 result stands):
    erfcx(1e-5000) would be erfcx(0) and wrong.

    Examples
    --------
    >>> import numpy as np
    >>> float(ufunc_in_wide(np.exp, 0.0))
    1.0
    """
    try:
        return ufunc(*args)
    except TypeError:
        if WIDE is None or not _WIDENING.get():
            raise
        wide = [isinstance(a, (np.ndarray, np.generic)) and a.dtype == WIDE for a in args]
        if not any(wide):
            raise
        narrow = []
        all_zero = True
        for a, w in zip(args, wide):
            with np.errstate(all="ignore"):
                m = np.abs(np.asarray(a))
                all_zero = all_zero & (m == 0)
                if w and not np.all((m == 0) | ((m >= _TINY) & (m <= _FLOAT64_MAX))):
                    raise  # beyond float64's normal range (or inf, nan): not here
            narrow.append(np.asarray(a, dtype=np.float64) if w else a)
        r = ufunc(*narrow)
        out = r if type(r) is tuple else (r,)
        for x in out:
            # a result beyond float64's normal range may be a truth that float64
            # could not hold (erfc(30) is 0 there, 1e-393 in long double): refused,
            # as a zero except of all-zero arguments (erf(0))
            with np.errstate(all="ignore"):
                m = np.abs(np.asarray(x, dtype=np.float64))
                if not np.all(((m >= _TINY) & (m <= _FLOAT64_MAX)) | ((m == 0) & all_zero)):
                    raise
        wide_out = tuple(np.asarray(x).astype(WIDE) for x in out)
        return wide_out if type(r) is tuple else wide_out[0]


def _widen_arg(a: Any) -> Any:
    """A float64 point or direction in :data:`WIDE` (0-d for a scalar); others as given."""
    t = type(a)
    if t is float or t is np.float64:
        return np.array(a, dtype=WIDE)
    if t is np.ndarray and a.dtype == np.float64:
        return a.astype(WIDE)
    if t is list or t is tuple:
        try:
            p = np.asarray(a)
        except (ValueError, TypeError):
            return a
        return p.astype(WIDE) if p.dtype == np.float64 else a
    return a


def widened(result: Any, call: Callable[..., Any], args: tuple, kwargs: dict,
            which: int | None = None, doubt: bool = False) -> Any:
    """``result`` of a helper call at a float64 point, where it has an inf or nan
    entry, with the entries that ``call`` redone in :data:`WIDE` gives finite,
    rounded to float64 (+-inf where beyond the float range).

    The retries of :func:`second_order` scale seeds by powers of two, which
    cannot help where the terms of one derivative span more than the float
    range: d2/dv2 1/v**2 at 1.2e-154 forms ``f''(u) u'**2`` and ``f'(u) u''``
    with f''(u) = 2/u**3 ~ 2**3066 beside seeds of at most 2**1023 (inf - inf:
    nan, the truth 6/v**4 overflows: +inf); the third derivative of
    ``logit(v**2)`` through three nested helpers at 1e-100 keeps terms of
    2**1000 and 2**-1100 (inf, the truth 4e300).  In long double's range
    (2**+-16384) every such term is an ordinary number, so one pass there gives
    the truth to long double's rounding; its rounding to float64 is within an
    ulp of the truth where that is a normal float, and +-inf with its sign where
    the truth overflows.  Only entries that are finite in WIDE are taken (an
    inf there overflowed even there, or is a genuine one that the float64
    result has already); the rest, and everything where the pass fails (a
    function without a long double loop raises TypeError) or does not come back
    in WIDE, keep ``result``.  ``which``: the item of a tuple result that is the
    derivative (the value stays numpy's float64 one).  ``doubt``: the call's
    retries settled nothing where its first pass underflowed
    (:data:`UNSETTLED`), so its finite entries may have lost a term: every
    entry that is finite in WIDE is taken (d/du ``(1/u)**-2`` at 1e-250: the
    adjoint of v = 1/u is 2e-750 times any float64 seed, the result was 0,
    truth 2e-250; d2/du2 ``log(u**-3)`` at 1e100 lost the term g''(v) v'**2,
    9e-800 times 1e600, under any pair of seeds); not on numpy 1.x, whose
    value-based casting computes a long double scalar times a float64 array in
    float64.  One pass more, only where a result has an inf or nan entry or is in
    doubt; nothing where WIDE is float64's range.

    Examples
    --------
    >>> widened(1.0, None, (2.0,), {})  # finite: as it is
    1.0
    >>> r = widened(float("nan"), lambda x: (x * 1e300) * 1e300, (1.0,), {})
    >>> r == (float("inf") if WIDE is not None else r) or r != r
    True
    """
    d = result if which is None else result[which] if type(result) is tuple else None
    t = type(d)
    # (numpy 1.x casts by value: a 0-d long double meeting a float64 array computes in
    # float64, so a wide pass may lose the very term in doubt, and it is taken for
    # inf and nan entries only: hd.derivative of a * rv.hessian(log10(x[0]**2)) at
    # x = 1e150 came out of the wrong sign there)
    doubt = doubt and not NUMPY1
    if t is float:
        if d - d == 0.0 and not doubt:
            return result
    elif t is np.ndarray and d.dtype == np.float64:
        if not doubt and finite_array(d):
            return result
    else:
        return result
    if WIDE is None or _WIDENING.get():
        return result
    wide_args = tuple(_widen_arg(a) for a in args)
    if all(w is a for w, a in zip(wide_args, args)):
        return result  # (no float64 argument: an integer point, say)
    token = _WIDENING.set(True)
    try:
        with _PassState(all="ignore"):
            r = call(*wide_args, **kwargs)
    except Exception:  # noqa: BLE001 - no long double path (a scipy function without
        return result   # a long double loop): the float64 result stands
    finally:
        _WIDENING.reset(token)
    if which is not None:
        if type(r) is not tuple or len(r) <= which:
            return result
        r = r[which]
    if not isinstance(r, (np.ndarray, np.generic)) or r.dtype != WIDE or np.shape(r) != np.shape(d):
        return result
    with np.errstate(all="ignore"):
        wide = np.asarray(r)
        narrow = wide.astype(np.float64)
        take = np.isfinite(wide) & (~np.isfinite(d) | doubt)
    if not take.any():
        return result
    if t is float:
        d = float(narrow)
    else:
        d = np.where(take, narrow, d)
    if which is None:
        return d
    return result[:which] + (d,) + result[which + 1:]
